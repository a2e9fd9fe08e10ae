// What the desk knows, without any DOM: availability, the waiting queue, the agent's chats with
// their transcripts and unconfirmed messages, and their calls. Frames go in through `apply*`;
// the view reads `queue`, `chats`, `calls` and `transcript()`.
//
// Messages are kept once each: by their server `id` (a reconnect replays whole transcripts),
// and the agent's own by their `cid` until the echo confirms them.

import { parseStartMarker } from './desk_protocol.js';

/** @typedef {import('./desk_protocol.js').ChatSummary} ChatSummary */
/** @typedef {import('./desk_protocol.js').CallSummary} CallSummary */
/** @typedef {import('./desk_protocol.js').ChatMessage} ChatMessage */

/**
 * A message the agent wrote that the server has not echoed yet.
 * `queued`: waiting to go out; `sent`: written, no echo yet; `failed`: refused (see `error`).
 * @typedef {object} PendingMessage
 * @property {string} cid
 * @property {string} text
 * @property {number} order creation order across all chats (messages go out in this order)
 * @property {'queued' | 'sent' | 'failed'} status
 * @property {string} [error]
 */

/**
 * @typedef {object} ChatRecord
 * @property {ChatSummary} summary
 * @property {ChatMessage[]} messages confirmed messages, by id
 * @property {PendingMessage[]} pending the agent's unconfirmed messages, oldest first
 * @property {number} unread customer messages since the agent last looked at the chat
 * @property {string | null} endReason why it ended, once it has
 */

/**
 * One line of a transcript as the view shows it.
 * @typedef {object} TranscriptItem
 * @property {string} key `m<id>` for confirmed messages, `p<cid>` for unconfirmed ones
 * @property {'customer' | 'agent' | 'system'} from
 * @property {string} name
 * @property {string} text
 * @property {number | null} at
 * @property {number | null} id
 * @property {'sent' | 'sending' | 'failed'} status
 * @property {string | null} start the session ID when the line is a co-browse start marker
 * @property {string} [error]
 */

/**
 * What a co-browse session rides on.
 * @typedef {{kind: 'chat', id: string} | {kind: 'call', id: string}} SessionLink
 */

export class DeskState {
  /**
   * @param {{newCid?: () => string}} [options]
   */
  constructor(options = {}) {
    this.available = false;
    /** @type {ChatSummary[]} oldest first, as the server sends it */
    this.queue = [];
    /** @type {Map<string, ChatRecord>} the agent's chats, in the order they arrived */
    this.chats = new Map();
    /** @type {Map<string, CallSummary>} the agent's active calls */
    this.calls = new Map();
    /** @type {Map<string, SessionLink>} every co-browse session seen, and what it rode on */
    this.links = new Map();
    this.nextOrder = 1;
    this.newCid = options.newCid ?? randomCids();
  }

  /**
   * The `desk` frame (on every connect): availability, active chats and calls. Chats this desk
   * had as active that the server no longer lists ended while it was away.
   * @param {{available: boolean, chats: ChatSummary[], calls: CallSummary[]}} desk
   * @returns {{added: string[], endedMeanwhile: string[]}}
   */
  applyDesk(desk) {
    this.available = desk.available;
    if (!desk.available) this.queue = [];
    const listed = new Set(desk.chats.map((c) => c.chat));
    /** @type {string[]} */
    const added = [];
    for (const summary of desk.chats) {
      if (!this.chats.has(summary.chat)) added.push(summary.chat);
      this.upsertChat(summary);
    }
    /** @type {string[]} */
    const endedMeanwhile = [];
    for (const [id, chat] of this.chats) {
      if (chat.summary.state !== 'ended' && !listed.has(id)) {
        chat.summary = { ...chat.summary, state: 'ended', cobrowse: undefined };
        chat.endReason = chat.endReason ?? 'unknown';
        failPending(chat, 'Not sent: the chat ended.');
        endedMeanwhile.push(id);
      }
    }
    this.calls.clear();
    for (const call of desk.calls) this.applyCall(call);
    return { added, endedMeanwhile };
  }

  /** @param {ChatSummary[]} waiting */
  applyQueue(waiting) {
    this.queue = [...waiting].sort((a, b) => a.since - b.since || (a.chat < b.chat ? -1 : a.chat > b.chat ? 1 : 0));
  }

  /**
   * A chat changed state (accepted by this agent, or ended).
   * @param {ChatSummary} summary
   * @param {string} [reason] why it ended
   * @returns {ChatRecord | null} the chat, when it is one of this agent's
   */
  applyChatState(summary, reason) {
    if (summary.state === 'queued') return null; // not ours (yet); the queue frame lists it
    const chat = this.upsertChat(summary);
    if (summary.state === 'ended') {
      chat.endReason = reason ?? chat.endReason ?? 'unknown';
      failPending(chat, 'Not sent: the chat ended.'); // what was not sent will not be
    }
    this.queue = this.queue.filter((q) => q.chat !== summary.chat);
    return chat;
  }

  /**
   * A transcript message. Repeats (same id) are dropped; the echo of the agent's own message
   * replaces its unconfirmed copy.
   * @param {ChatMessage} message
   * @returns {{added: boolean, confirmed: PendingMessage | null, chat: ChatRecord | null}}
   */
  applyMessage(message) {
    const chat = this.chats.get(message.chat);
    if (!chat) return { added: false, confirmed: null, chat: null };
    /** @type {PendingMessage | null} */
    let confirmed = null;
    if (message.from === 'agent' && message.cid) {
      const index = chat.pending.findIndex((p) => p.cid === message.cid);
      if (index >= 0) confirmed = chat.pending.splice(index, 1)[0];
    }
    const start = parseStartMarker(message.text);
    if (message.from === 'system' && start) this.links.set(start, { kind: 'chat', id: message.chat });
    if (insertById(chat.messages, message)) return { added: true, confirmed, chat };
    return { added: false, confirmed, chat };
  }

  /**
   * Lines from the stored transcript (`GET /api/v1/chats/{id}/transcript`), merged by id.
   * @param {string} chatId
   * @param {Array<{message_id: number, author: string, name: string, text: string, at: string}>} lines
   * @returns {number} how many were new
   */
  applyTranscript(chatId, lines) {
    const chat = this.chats.get(chatId);
    if (!chat) return 0;
    let added = 0;
    for (const line of lines) {
      const from = line.author === 'customer' || line.author === 'agent' ? line.author : 'system';
      const at = Date.parse(line.at);
      if (!insertById(chat.messages, { chat: chatId, id: line.message_id, from, name: line.name, text: line.text, at: Number.isNaN(at) ? 0 : at })) continue;
      added++;
      // Stored lines carry no cid: an agent line the desk never saw echoed is the message it
      // holds as unconfirmed, which did arrive after all.
      if (from === 'agent') {
        const index = chat.pending.findIndex((p) => p.text === line.text);
        if (index >= 0) chat.pending.splice(index, 1);
      }
    }
    return added;
  }

  /**
   * A call started, changed or ended. Ended calls leave the list.
   * @param {CallSummary} call
   */
  applyCall(call) {
    if (call.cobrowse) this.links.set(call.cobrowse, { kind: 'call', id: call.call });
    if (call.active) this.calls.set(call.call, call);
    else this.calls.delete(call.call);
  }

  /**
   * The customer started co-browsing in a chat.
   * @param {string} chatId
   * @param {string} session
   */
  applyCobrowse(chatId, session) {
    this.links.set(session, { kind: 'chat', id: chatId });
    const chat = this.chats.get(chatId);
    if (chat) chat.summary = { ...chat.summary, cobrowse: session };
  }

  /**
   * The agent writes a message; it waits, unconfirmed, until its echo arrives.
   * @param {string} chatId
   * @param {string} text
   * @returns {PendingMessage | null} null when there is nothing to send or the chat is not open
   */
  addPending(chatId, text) {
    const chat = this.chats.get(chatId);
    const trimmed = text.trim();
    if (!chat || chat.summary.state !== 'active' || !trimmed) return null;
    /** @type {PendingMessage} */
    const pending = { cid: this.newCid(), text: trimmed, order: this.nextOrder++, status: 'queued' };
    chat.pending.push(pending);
    return pending;
  }

  /**
   * The unconfirmed message to send next: the oldest queued one of any open chat.
   * @returns {{chat: string, pending: PendingMessage} | null}
   */
  nextToSend() {
    /** @type {{chat: string, pending: PendingMessage} | null} */
    let best = null;
    for (const [id, chat] of this.chats) {
      if (chat.summary.state !== 'active') continue;
      for (const p of chat.pending) {
        if (p.status === 'queued' && (!best || p.order < best.pending.order)) best = { chat: id, pending: p };
      }
    }
    return best;
  }

  /**
   * The connection dropped: whatever was sent without an echo goes out again after the
   * reconnect (with the same `cid`, so the server keeps it once).
   */
  requeueUnconfirmed() {
    for (const chat of this.chats.values()) {
      for (const p of chat.pending) if (p.status === 'sent') p.status = 'queued';
    }
  }

  /**
   * @param {string} cid
   * @param {string} error
   */
  markFailed(cid, error) {
    for (const chat of this.chats.values()) {
      const p = chat.pending.find((x) => x.cid === cid);
      if (p) {
        p.status = 'failed';
        p.error = error;
      }
    }
  }

  /**
   * Forgets an ended chat (the agent closed its panel).
   * @param {string} chatId
   */
  dismiss(chatId) {
    const chat = this.chats.get(chatId);
    if (chat && chat.summary.state === 'ended') this.chats.delete(chatId);
  }

  /**
   * What a session rides on, if this desk has seen it.
   * @param {string} session
   * @returns {SessionLink | null}
   */
  linkOf(session) {
    return this.links.get(session) ?? null;
  }

  /**
   * A chat's transcript as the view shows it: confirmed messages by id, then the unconfirmed.
   * @param {string} chatId
   * @returns {TranscriptItem[]}
   */
  transcript(chatId) {
    const chat = this.chats.get(chatId);
    if (!chat) return [];
    /** @type {TranscriptItem[]} */
    const items = chat.messages.map((m) => ({
      key: `m${m.id}`,
      from: m.from,
      name: m.name,
      text: m.text,
      at: m.at,
      id: m.id,
      status: /** @type {const} */ ('sent'),
      start: m.from === 'system' ? parseStartMarker(m.text) : null,
    }));
    for (const p of chat.pending) {
      items.push({
        key: `p${p.cid}`,
        from: 'agent',
        name: '',
        text: p.text,
        at: null,
        id: null,
        status: p.status === 'failed' ? 'failed' : 'sending',
        start: null,
        error: p.error,
      });
    }
    return items;
  }

  /**
   * @param {ChatSummary} summary
   * @returns {ChatRecord}
   */
  upsertChat(summary) {
    const existing = this.chats.get(summary.chat);
    if (summary.cobrowse) this.links.set(summary.cobrowse, { kind: 'chat', id: summary.chat });
    if (existing) {
      existing.summary = summary;
      if (summary.state !== 'ended') existing.endReason = null;
      return existing;
    }
    /** @type {ChatRecord} */
    const chat = { summary, messages: [], pending: [], unread: 0, endReason: null };
    this.chats.set(summary.chat, chat);
    return chat;
  }
}

/**
 * @param {ChatRecord} chat
 * @param {string} error
 */
function failPending(chat, error) {
  for (const p of chat.pending) {
    if (p.status !== 'failed') {
      p.status = 'failed';
      p.error = error;
    }
  }
}

/**
 * Inserts a message in id order unless one with its id is there. Returns whether it was added.
 * @param {ChatMessage[]} list
 * @param {ChatMessage} message
 * @returns {boolean}
 */
function insertById(list, message) {
  let index = list.length;
  while (index > 0 && list[index - 1].id > message.id) index--;
  if (index > 0 && list[index - 1].id === message.id) return false;
  list.splice(index, 0, message);
  return true;
}

/**
 * Client message IDs that are unique across reloads and tabs: a random prefix per desk and a
 * counter.
 * @returns {() => string}
 */
export function randomCids() {
  const bytes = new Uint8Array(8);
  globalThis.crypto.getRandomValues(bytes);
  const prefix = Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
  let n = 0;
  return () => `a-${prefix}-${++n}`;
}

/**
 * How long a chat has waited, in words: "just now", "3 min", "1 h 5 min".
 * @param {number} since ms since 1970
 * @param {number} now ms since 1970
 * @returns {string}
 */
export function waitingFor(since, now) {
  const minutes = Math.floor(Math.max(0, now - since) / 60_000);
  if (minutes < 1) return 'just now';
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  const rest = minutes % 60;
  return rest ? `${hours} h ${rest} min` : `${hours} h`;
}

/**
 * Why a chat ended, as the desk shows it.
 * @param {string | null} reason
 * @returns {string}
 */
export function chatEndedText(reason) {
  switch (reason) {
    case 'customer_left':
      return 'The customer ended the chat.';
    case 'agent_ended':
      return 'You ended the chat.';
    case 'customer_away':
      return 'The customer was gone too long; the chat ended.';
    case 'server_shutdown':
      return 'The server shut down; the chat ended.';
    default:
      return 'The chat has ended.';
  }
}

/**
 * A desk refusal as a sentence for the agent.
 * @param {string} code
 * @param {string} message the server's own words
 * @returns {string}
 */
export function deskErrorText(code, message) {
  switch (code) {
    case 'chat_taken':
      return 'Another agent accepted that chat first, or it is no longer waiting.';
    case 'unknown_interaction':
      return 'That chat no longer exists.';
    case 'limit_exceeded':
      return message ? `Not possible: ${message}.` : 'A limit was reached.';
    case 'wrong_role':
      return 'That chat is not one of yours any more.';
    case 'invalid_request':
      return message ? `Not possible: ${message}.` : 'The request was not valid.';
    case 'version_mismatch':
      return 'This workspace is out of date. Reload the page.';
    default:
      return message || 'The chat server refused that.';
  }
}

/**
 * Why one of the agent's messages was refused.
 * @param {string} code
 * @param {string} message
 * @returns {string}
 */
export function sayErrorText(code, message) {
  switch (code) {
    case 'limit_exceeded':
      return `Not sent: ${message || 'the message is too long'}.`;
    case 'invalid_request':
      return 'Not sent: the message is empty.';
    case 'wrong_role':
    case 'session_ended':
      return 'Not sent: the chat has ended.';
    case 'unknown_interaction':
      return 'Not sent: the chat no longer exists.';
    default:
      return `Not sent: ${message || code}.`;
  }
}
