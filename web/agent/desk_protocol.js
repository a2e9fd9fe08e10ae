// The frames of the agent's desk channel (`/ws/v1/desk`, protocol section 10), mirrored from
// `crates/protocol/src/chat.rs`: their shapes, reading and writing them, and the transcript's
// co-browse start marker. Every frame on this channel carries `seq` 0; a chat's messages are
// numbered by the server, and that number is how the desk drops repeats.
//
// Splitting and writing frames, the shared shapes and the start marker come from the chat
// channel's module in the SDK; this file adds the frames only a desk sends and reads.

import { PROTOCOL_VERSION } from '../sdk/protocol.js';
import { isObject, splitChatFrame, decodeControl, encodeChannelFrame, startMarkerSession } from '../sdk/chat/chat_protocol.js';

/** @typedef {'queued' | 'active' | 'ended'} ChatState */
/** @typedef {'customer' | 'agent' | 'system'} Author */

/**
 * A chat as the desk lists it.
 * @typedef {object} ChatSummary
 * @property {string} chat
 * @property {string} customer The customer's name as they gave it.
 * @property {ChatState} state
 * @property {string} [agent] The name of the agent who accepted it.
 * @property {number} since When it entered the queue (ms since 1970, server clock).
 * @property {string} preview The first words of the customer's first message.
 * @property {string} [cobrowse] The co-browse session riding on it, while one is live.
 */

/**
 * A phone call as the desk shows it.
 * @typedef {object} CallSummary
 * @property {string} call
 * @property {string} caller The caller reference the telephony system reported.
 * @property {boolean} active
 * @property {string} [cobrowse] The co-browse session riding on it, while one is live.
 */

/**
 * One message of a transcript.
 * @typedef {object} ChatMessage
 * @property {string} chat
 * @property {number} id Position in the chat, from 1.
 * @property {Author} from
 * @property {string} name
 * @property {string} text
 * @property {number} at When the server accepted it (ms since 1970).
 * @property {string} [cid] The sender's own ID for it, echoed back.
 */

/**
 * Frames the server sends a desk.
 * @typedef {{tag: 'desk', body: {available: boolean, chats: ChatSummary[], calls: CallSummary[]}}
 *   | {tag: 'queue', body: {waiting: ChatSummary[]}}
 *   | {tag: 'chat_state', body: {chat: ChatSummary, position?: number, reason?: string}}
 *   | {tag: 'msg', body: ChatMessage}
 *   | {tag: 'call', body: CallSummary}
 *   | {tag: 'cobrowse', body: {chat: string, session: string}}
 *   | {tag: 'error', body: {code: string, message: string, fatal: boolean}}
 *   | {tag: 'hb', body: {ts: number, reply: boolean}}} DeskInbound
 */

/**
 * Frames a desk sends, by tag.
 * @typedef {object} DeskOutbound
 * @property {{v: number}} desk_hello
 * @property {{available: boolean}} presence
 * @property {{chat: string}} accept
 * @property {{chat: string, cid: string, text: string}} say
 * @property {{chat: string}} end_chat
 * @property {{ts: number, reply: boolean}} hb
 */

export const DESK_PROTOCOL_VERSION = PROTOCOL_VERSION;

/** Path of the desk socket. */
export const DESK_PATH = '/ws/v1/desk';

const INBOUND_TAGS = new Set(['desk', 'queue', 'chat_state', 'msg', 'call', 'cobrowse', 'error', 'hb']);

/**
 * @param {unknown} value
 * @returns {value is ChatSummary}
 */
function isChatSummary(value) {
  return isObject(value) && typeof value.chat === 'string' && typeof value.customer === 'string' && typeof value.state === 'string';
}

/**
 * @param {unknown} value
 * @returns {value is CallSummary}
 */
function isCallSummary(value) {
  return isObject(value) && typeof value.call === 'string' && typeof value.active === 'boolean';
}

/**
 * Reads a desk frame. Returns null for text that is not a frame this client understands (the
 * server only sends valid frames; a newer server's extra tags are ignored, not fatal).
 * @param {string} text
 * @returns {DeskInbound | null}
 */
export function decodeDeskFrame(text) {
  const frame = splitChatFrame(text);
  if (!frame || !INBOUND_TAGS.has(frame.tag)) return null;
  const { tag, body } = frame;
  switch (tag) {
    case 'desk':
      if (typeof body.available !== 'boolean' || !Array.isArray(body.chats) || !Array.isArray(body.calls)) return null;
      return { tag, body: { available: body.available, chats: body.chats.filter(isChatSummary), calls: body.calls.filter(isCallSummary) } };
    case 'queue':
      if (!Array.isArray(body.waiting)) return null;
      return { tag, body: { waiting: body.waiting.filter(isChatSummary) } };
    case 'chat_state':
      if (!isChatSummary(body.chat)) return null;
      return { tag, body: /** @type {any} */ (body) };
    case 'msg':
      if (typeof body.chat !== 'string' || typeof body.id !== 'number' || typeof body.text !== 'string') return null;
      return { tag, body: /** @type {ChatMessage} */ (body) };
    case 'call':
      if (!isCallSummary(body)) return null;
      return { tag, body };
    case 'cobrowse':
      if (typeof body.chat !== 'string' || typeof body.session !== 'string') return null;
      return { tag, body: { chat: body.chat, session: body.session } };
    default:
      return decodeControl(tag, body);
  }
}

/**
 * Writes a desk frame (`seq` is always 0 on this channel).
 * @template {keyof DeskOutbound} T
 * @param {T} tag
 * @param {DeskOutbound[T]} body
 * @returns {string}
 */
export function encodeDeskFrame(tag, body) {
  return encodeChannelFrame(tag, body);
}

/**
 * The session ID of a transcript's co-browse start marker (`{start:482913675}`), or null when
 * the text is anything else.
 * @param {string} text
 * @returns {string | null}
 */
export function parseStartMarker(text) {
  return startMarkerSession(text);
}
