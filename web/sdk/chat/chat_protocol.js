// The chat channel (`/ws/v1/chat` for the customer's widget, `/ws/v1/desk` for the agent's desk;
// protocol section 10), mirrored from `crates/protocol/src/chat.rs`: the shapes both sides share,
// splitting and writing frames, the start marker, and the frames the widget reads. The desk's own
// frames are typed in `web/agent/desk_protocol.js` on top of this module. Every frame on this channel carries `seq` 0: the server numbers a chat's
// messages (`id` 1, 2, 3 …) and that number is the replay cursor (`chat_hello.last`).

import { PROTOCOL_VERSION } from '../protocol.js';

/** @typedef {'queued' | 'active' | 'ended'} ChatState */
/** @typedef {'customer' | 'agent' | 'system'} Author */

/**
 * A chat as the server describes it.
 * @typedef {object} ChatSummary
 * @property {string} chat
 * @property {string} customer The customer's name as they gave it.
 * @property {ChatState} state
 * @property {string} [agent] The name of the agent who accepted it.
 * @property {number} since
 * @property {string} [preview]
 * @property {string} [cobrowse] The co-browse session riding on it, while one is live.
 */

/**
 * One message of the transcript.
 * @typedef {object} ChatMessage
 * @property {string} chat
 * @property {number} id Position in the chat, from 1.
 * @property {Author} from
 * @property {string} name
 * @property {string} text A co-browse start is the system message `{start:NNNNNNNNN}`.
 * @property {number} at When the server accepted it (ms since 1970, server clock).
 * @property {string} [cid] The sender's own ID for it, echoed back.
 */

/**
 * Frames the server sends the widget.
 * @typedef {{tag: 'chat_state', body: {chat: ChatSummary, position?: number, reason?: string}}
 *   | {tag: 'msg', body: ChatMessage}
 *   | {tag: 'error', body: {code: string, message: string, fatal: boolean}}
 *   | {tag: 'hb', body: {ts: number, reply: boolean}}} ChatInbound
 */

/**
 * Frames the widget sends, by tag.
 * @typedef {object} ChatOutbound
 * @property {{v: number, chat: string, token: string, last: number}} chat_hello
 * @property {{cid: string, text: string}} say
 * @property {{}} end_chat
 * @property {{ts: number, reply: boolean}} hb
 */

/** The answer to `POST /api/v1/chats`. */
/** @typedef {{id: string, token: string, ws_url: string}} CreatedChat */

export const CHAT_PROTOCOL_VERSION = PROTOCOL_VERSION;

/** Chat end reasons (`chat_state.reason`) in plain words for the customer. */
export const CHAT_END_TEXT = /** @type {Record<string, string>} */ ({
  customer_left: 'You ended the chat.',
  agent_ended: 'The agent ended the chat.',
  customer_away: 'The chat ended because you were away too long.',
  inactivity: 'The chat ended after a period of inactivity.',
  server_shutdown: 'The chat ended because the service restarted.',
  unavailable: 'This chat is no longer available.',
});

/** The system message that marks a co-browse start: `{start:123456789}`. */
const START_MARKER = /^\{start:(\d{9})\}$/;

/**
 * The session ID of a co-browse start marker, or null.
 * @param {string} text
 * @returns {string | null}
 */
export function startMarkerSession(text) {
  return START_MARKER.exec(text.trim())?.[1] ?? null;
}

/**
 * @param {unknown} value
 * @returns {value is Record<string, any>}
 */
export function isObject(value) {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Splits a chat-channel frame into its tag and body; null when the text is not `[tag, 0, {…}]`.
 * @param {string} text
 * @returns {{tag: string, body: Record<string, any>} | null}
 */
export function splitChatFrame(text) {
  /** @type {unknown} */
  let value;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  if (!Array.isArray(value) || value.length !== 3 || typeof value[0] !== 'string' || !isObject(value[2])) return null;
  return { tag: value[0], body: value[2] };
}

/**
 * The `error` and `hb` bodies, which both sides read the same way.
 * @param {string} tag
 * @param {Record<string, any>} body
 * @returns {{tag: 'error', body: {code: string, message: string, fatal: boolean}} | {tag: 'hb', body: {ts: number, reply: boolean}} | null}
 */
export function decodeControl(tag, body) {
  if (tag === 'error') {
    return { tag, body: { code: String(body.code ?? ''), message: String(body.message ?? ''), fatal: body.fatal === true } };
  }
  if (tag === 'hb') return { tag, body: { ts: Number(body.ts) || 0, reply: body.reply === true } };
  return null;
}

/**
 * Writes any chat-channel frame (`seq` is always 0).
 * @param {string} tag
 * @param {object} body
 * @returns {string}
 */
export function encodeChannelFrame(tag, body) {
  return JSON.stringify([tag, 0, body]);
}

/**
 * Reads a chat-channel frame; null for anything this client does not understand (unknown tags
 * are ignored, as the protocol asks).
 * @param {string} text
 * @returns {ChatInbound | null}
 */
export function decodeChatFrame(text) {
  const frame = splitChatFrame(text);
  if (!frame) return null;
  const { tag, body } = frame;
  switch (tag) {
    case 'chat_state':
      if (!isObject(body.chat) || typeof body.chat.state !== 'string') return null;
      return { tag, body: /** @type {any} */ (body) };
    case 'msg':
      if (typeof body.id !== 'number' || typeof body.text !== 'string' || typeof body.from !== 'string') return null;
      return { tag, body: /** @type {ChatMessage} */ (body) };
    default:
      return decodeControl(tag, body);
  }
}

/**
 * Writes a chat-channel frame (`seq` is always 0).
 * @template {keyof ChatOutbound} T
 * @param {T} tag
 * @param {ChatOutbound[T]} body
 * @returns {string}
 */
export function encodeChatFrame(tag, body) {
  return encodeChannelFrame(tag, body);
}
