// The agent's desk: chats and calls beside the co-browse view. It wires the desk socket to the
// desk state and view, sends what the agent does, and tells the workspace when a customer starts
// co-browsing in one of the agent's chats.
//
// Requests that the server answers (accept, say, end_chat) go out one at a time: the server's
// refusals do not say which request they refuse, so the one in flight is the one refused. Its
// outcome is the echo (say), the chat's new state (accept, end_chat) or an `error`; a request
// with no outcome within REQUEST_TIMEOUT_MS stops holding up the others.

import { DeskSocket } from './desk_socket.js';
import { DESK_PATH } from './desk_protocol.js';
import { DeskState, deskErrorText, sayErrorText, chatEndedText } from './desk_state.js';
import { DeskView } from './desk_view.js';
import { ApiError } from './api.js';
import { socketUrl } from './transport.js';
import { formatSessionId } from '../sdk/protocol.js';

/** @typedef {import('./desk_protocol.js').DeskInbound} DeskInbound */
/** @typedef {import('./desk_socket.js').DeskStatus} DeskStatus */
/** @typedef {import('./desk_state.js').SessionLink} SessionLink */
/** @typedef {import('./transport.js').SocketLike} SocketLike */
/** @typedef {import('./api.js').Api} Api */

/** How long a request may wait for its outcome before the next one goes out. */
export const REQUEST_TIMEOUT_MS = 5_000;
/** After connecting, messages replayed in this long a burst are history, not news. */
export const QUIET_AFTER_CONNECT_MS = 2_000;
/** The queue's waiting times are refreshed this often. */
export const QUEUE_TICK_MS = 15_000;

/**
 * @typedef {{kind: 'say', chat: string, cid: string} | {kind: 'accept', chat: string} | {kind: 'end', chat: string}} Request
 */

/**
 * @typedef {object} DeskOptions
 * @property {Api} api
 * @property {{protocol: string, host: string}} location
 * @property {boolean} demo Offer the simulated call.
 * @property {(session: string, why: 'started' | 'resume' | 'link', link: SessionLink | null) => void} openSession
 *   The workspace joins (or shows) a co-browse session: the customer started it in a chat
 *   (`started`), the desk lists it after a reconnect (`resume`), or the agent followed a link.
 * @property {() => string | null} cobrowsing the session the workspace has open, if any
 * @property {() => void} [signedOut] the desk found the sign-in gone
 * @property {(url: string) => SocketLike} [connect]
 * @property {() => number} [now]
 * @property {(fn: () => void, ms: number) => unknown} [setTimer]
 * @property {(handle: unknown) => void} [clearTimer]
 * @property {() => number} [random]
 * @property {() => string} [newCid]
 * @property {Storage | null} [storage] keeps the agent's availability across reloads
 */

const AVAILABLE_KEY = 'cobrowse.desk.available';

export class Desk {
  /**
   * @param {Document} doc
   * @param {DeskOptions} options
   */
  constructor(doc, options) {
    this.doc = doc;
    this.options = options;
    this.now = options.now ?? (() => Date.now());
    this.setTimer = options.setTimer ?? ((fn, ms) => setTimeout(fn, ms));
    this.clearTimer = options.clearTimer ?? ((handle) => clearTimeout(/** @type {any} */ (handle)));
    this.state = new DeskState({ newCid: options.newCid });
    this.view = new DeskView(doc, {
      available: (on) => this.setAvailable(on),
      accept: (chat) => this.accept(chat),
      send: (chat, text) => this.say(chat, text),
      endChat: (chat) => this.endChat(chat),
      dismiss: (chat) => {
        this.state.dismiss(chat);
        this.render();
      },
      selected: (chat) => {
        const record = this.state.chats.get(chat);
        if (record && record.unread) {
          record.unread = 0;
          this.render();
        }
      },
      openSession: (session) => this.options.openSession(session, 'link', this.state.linkOf(session)),
      simulateCall: () => void this.demoCall('start'),
      endCall: () => void this.demoCall('end'),
    });
    /** @type {DeskSocket | null} */
    this.socket = null;
    /** @type {DeskStatus} */
    this.status = 'connecting';
    /** @type {Request | null} */
    this.inflight = null;
    /** @type {unknown} */
    this.inflightTimer = null;
    /** @type {Request[]} accepts and endings waiting to go out */
    this.requests = [];
    /** @type {string | null} the chat being accepted */
    this.accepting = null;
    this.callBusy = false;
    /** The first `desk` frame of this connection has not come yet. */
    this.fresh = true;
    /** Everything replayed right after connecting is history. */
    this.quietAll = false;
    /** @type {Set<string>} chats whose history is arriving (just accepted) */
    this.quietChats = new Set();
    /** @type {unknown} */
    this.quietTimer = null;
    /** @type {string | null} */
    this.lastTag = null;
    /** @type {Set<string> | null} waiting chats already announced; null until the first queue */
    this.knownQueue = null;
    /** @type {unknown} */
    this.tick = null;
    this.rendering = false;
    this.dirty = false;
    this.stopped = false;
    /** @type {Set<string>} sessions already handed to the workspace by `resume` */
    this.resumed = new Set();
    this.storage = options.storage === undefined ? safeSessionStorage(doc) : options.storage;
    /** What the agent last chose (kept across reloads; the server forgets it when the desk drops). */
    this.wantAvailable = this.storage?.getItem(AVAILABLE_KEY) === 'true';
  }

  start() {
    if (this.socket || this.stopped) return;
    this.view.showStatus('connecting');
    this.socket = new DeskSocket({
      url: socketUrl(DESK_PATH, this.options.location),
      onFrame: (frame) => this.onFrame(frame),
      onStatus: (status, detail) => this.onStatus(status, detail),
      connect: this.options.connect,
      now: this.options.now,
      setTimer: this.options.setTimer,
      clearTimer: this.options.clearTimer,
      random: this.options.random,
    });
    this.socket.start();
    this.scheduleTick();
    this.render();
  }

  /** Closes the desk for good and forgets everything (signing out). */
  stop() {
    this.stopped = true;
    this.socket?.close();
    this.socket = null;
    for (const key of /** @type {const} */ (['tick', 'inflightTimer', 'quietTimer'])) {
      if (this[key] !== null) this.clearTimer(this[key]);
      this[key] = null;
    }
    this.state = new DeskState({ newCid: this.options.newCid });
    this.inflight = null;
    this.requests = [];
    this.accepting = null;
    this.view.destroy();
  }

  /**
   * What a co-browse session rides on, if the desk has seen it.
   * @param {string} session
   * @returns {SessionLink | null}
   */
  linkOf(session) {
    return this.state.linkOf(session);
  }

  /**
   * The workspace's co-browse session ended: the chat it rode on no longer shows it (the server
   * tells the desk of a call's change, not of a chat's).
   * @param {string} session
   */
  sessionEnded(session) {
    for (const chat of this.state.chats.values()) {
      if (chat.summary.cobrowse === session) chat.summary = { ...chat.summary, cobrowse: undefined };
    }
    this.render();
  }

  /**
   * Whether a call is still going on for this agent.
   * @param {string} call
   */
  callActive(call) {
    return this.state.calls.has(call);
  }

  // ------------------------------------------------------------------------------------------
  // What the agent does

  /** @param {boolean} available */
  setAvailable(available) {
    if (!this.socket?.send('presence', { available })) {
      this.view.showError('Not connected to the chat server. Try again in a moment.');
      this.render();
      return;
    }
    this.wantAvailable = available;
    try {
      this.storage?.setItem(AVAILABLE_KEY, String(available));
    } catch {
      // Private mode: the choice lasts until the page reloads.
    }
    this.state.available = available;
    if (!available) this.state.queue = [];
    this.knownQueue = null;
    this.view.showError('');
    this.render();
  }

  /** @param {string} chat */
  accept(chat) {
    if (this.status !== 'open') {
      this.view.showError('Not connected to the chat server. Try again in a moment.');
      return;
    }
    if (this.accepting) return;
    this.view.showError('');
    this.accepting = chat;
    this.requests.push({ kind: 'accept', chat });
    this.pump();
    this.render();
  }

  /**
   * @param {string} chat
   * @param {string} text
   * @returns {boolean} whether the text was taken (the input empties)
   */
  say(chat, text) {
    const pending = this.state.addPending(chat, text);
    if (!pending) return false;
    this.pump();
    this.render();
    return true;
  }

  /** @param {string} chat */
  endChat(chat) {
    if (this.state.chats.get(chat)?.summary.state !== 'active') return;
    if (this.status !== 'open') {
      this.view.showError('Not connected to the chat server. Try again in a moment.');
      return;
    }
    if (this.requests.some((r) => r.kind === 'end' && r.chat === chat) || (this.inflight?.kind === 'end' && this.inflight.chat === chat)) return;
    this.requests.push({ kind: 'end', chat });
    this.pump();
  }

  /** @param {'start' | 'end'} action */
  async demoCall(action) {
    if (this.callBusy) return;
    this.callBusy = true;
    this.view.showCallError('');
    this.render();
    try {
      await this.options.api.demoCall(action);
    } catch (err) {
      this.view.showCallError(err instanceof ApiError && err.message ? sentence(err.message) : 'The simulated call did not work. Try again.');
      if (err instanceof ApiError && err.code === 'unauthenticated') this.options.signedOut?.();
    } finally {
      this.callBusy = false;
      this.render();
    }
  }

  // ------------------------------------------------------------------------------------------
  // Requests, one at a time

  pump() {
    if (this.inflight || this.status !== 'open' || !this.socket) return;
    /** @type {Request | null} */
    let next = this.requests.shift() ?? null;
    if (next) {
      const sent = next.kind === 'accept' ? this.socket.send('accept', { chat: next.chat }) : this.socket.send('end_chat', { chat: next.chat });
      if (!sent) {
        this.requests.unshift(next);
        return;
      }
    } else {
      const say = this.state.nextToSend();
      if (!say) return;
      if (!this.socket.send('say', { chat: say.chat, cid: say.pending.cid, text: say.pending.text })) return;
      say.pending.status = 'sent';
      next = { kind: 'say', chat: say.chat, cid: say.pending.cid };
    }
    this.inflight = next;
    this.inflightTimer = this.setTimer(() => {
      this.inflightTimer = null;
      if (this.inflight === next) this.settle(null);
    }, REQUEST_TIMEOUT_MS);
  }

  /**
   * The request in flight is done; an error, if given, refused it.
   * @param {{code: string, message: string} | null} error
   */
  settle(error) {
    const request = this.inflight;
    if (!request) return;
    this.inflight = null;
    if (this.inflightTimer !== null) this.clearTimer(this.inflightTimer);
    this.inflightTimer = null;
    if (request.kind === 'accept') this.accepting = null;
    if (error) {
      if (request.kind === 'say') this.state.markFailed(request.cid, sayErrorText(error.code, error.message));
      else this.view.showError(deskErrorText(error.code, error.message));
    }
    this.pump();
  }

  // ------------------------------------------------------------------------------------------
  // Frames

  /**
   * @param {DeskStatus} status
   * @param {{neverOpened: boolean, code?: string}} detail
   */
  onStatus(status, detail) {
    this.status = status;
    this.view.showStatus(status);
    if (status === 'open') {
      this.view.showError('');
      if (this.wantAvailable && !this.state.available) {
        // The server forgets availability when the desk drops (or the page reloads); the agent
        // had chosen it.
        this.socket?.send('presence', { available: true });
      }
      this.pump();
    } else {
      // Whatever was in flight is unknown now: messages go out again after the reconnect (the
      // server keeps each cid once); accepts and endings are the agent's to repeat.
      if (this.inflight?.kind === 'accept' || this.requests.some((r) => r.kind !== 'say')) {
        this.view.showError('The connection dropped before the chat server answered. Try again.');
      }
      this.inflight = null;
      if (this.inflightTimer !== null) this.clearTimer(this.inflightTimer);
      this.inflightTimer = null;
      this.requests = [];
      this.accepting = null;
      this.state.requeueUnconfirmed();
      this.fresh = true;
      if (status === 'closed' && detail.code) this.view.showError(deskErrorText(detail.code, ''));
      if (status === 'reconnecting' && detail.neverOpened) void this.checkSignedIn();
    }
    this.render();
  }

  /** A refused upgrade: if the sign-in is gone, stop and let the workspace ask for it again. */
  async checkSignedIn() {
    try {
      const me = await this.options.api.me();
      if (me === null) this.options.signedOut?.();
    } catch {
      // The server is unreachable; keep trying to reconnect.
    }
  }

  /** @param {DeskInbound} frame */
  onFrame(frame) {
    // The burst right after connecting (desk, queue, transcripts) ends with the server's first
    // heartbeat; the history that follows an accept ends with the next queue.
    if (frame.tag !== 'msg' && !(frame.tag === 'queue' && this.lastTag === 'desk')) this.endQuiet();
    this.lastTag = frame.tag;
    switch (frame.tag) {
      case 'desk': {
        const first = this.fresh;
        this.fresh = false;
        if (first) this.beginQuiet(null);
        const { endedMeanwhile } = this.state.applyDesk(frame.body);
        if (!frame.body.available) this.knownQueue = null;
        for (const chat of endedMeanwhile) void this.fetchTranscript(chat);
        this.render();
        if (first) {
          for (const chat of frame.body.chats) if (chat.cobrowse) this.resume(chat.cobrowse);
          for (const call of frame.body.calls) if (call.cobrowse) this.resume(call.cobrowse);
        }
        return;
      }
      case 'queue': {
        const before = this.knownQueue;
        this.state.applyQueue(frame.body.waiting);
        const ids = new Set(this.state.queue.map((q) => q.chat));
        if (before && this.state.available) {
          const fresh = this.state.queue.filter((q) => !before.has(q.chat));
          for (const q of fresh) this.view.announce(`New chat waiting: ${q.customer}${q.preview ? ` — ${q.preview}` : ''}`);
        }
        this.knownQueue = ids;
        this.render();
        return;
      }
      case 'chat_state': {
        const { chat: summary, reason } = frame.body;
        const known = this.state.chats.get(summary.chat);
        const wasEnded = known?.summary.state === 'ended';
        const record = this.state.applyChatState(summary, reason);
        if (!record) return;
        if (summary.state === 'active' && !known) this.beginQuiet(summary.chat);
        if (this.inflight?.chat === summary.chat) {
          if ((this.inflight.kind === 'accept' && summary.state === 'active') || (this.inflight.kind === 'end' && summary.state === 'ended')) {
            const accepted = this.inflight.kind === 'accept';
            this.settle(null);
            if (accepted) {
              this.render();
              this.view.announce(`You accepted the chat with ${summary.customer}.`);
              // The agent pressed Accept: show the chat and put the cursor in it, unless they
              // have gone on to type somewhere else meanwhile.
              const focusFree = this.view.focusIsFree();
              this.view.select(summary.chat, false);
              if (focusFree) this.view.focusInput(summary.chat);
            }
          }
        }
        if (summary.state === 'ended' && !wasEnded) this.view.announce(`Chat with ${summary.customer} ended. ${chatEndedText(record.endReason)}`);
        this.render();
        return;
      }
      case 'msg': {
        const message = frame.body;
        const { added, confirmed, chat } = this.state.applyMessage(message);
        if (confirmed && this.inflight?.kind === 'say' && this.inflight.cid === confirmed.cid) this.settle(null);
        if (added && chat && message.from === 'customer' && !this.quietAll && !this.quietChats.has(message.chat)) {
          if (this.view.selected !== message.chat) chat.unread++;
          this.view.announce(`${message.name}: ${message.text}`);
        }
        this.render();
        return;
      }
      case 'call': {
        const before = this.state.calls.get(frame.body.call);
        this.state.applyCall(frame.body);
        if (!before && frame.body.active) this.view.announce(`Call from ${frame.body.caller || 'an unknown caller'}.`);
        else if (before && !frame.body.active) this.view.announce(`The call with ${frame.body.caller || 'the caller'} ended.`);
        this.render();
        return;
      }
      case 'cobrowse': {
        const { chat, session } = frame.body;
        this.state.applyCobrowse(chat, session);
        const name = this.state.chats.get(chat)?.summary.customer ?? 'The customer';
        this.view.announce(`${name} started co-browsing: session ${formatSessionId(session)}.`);
        this.resumed.add(session);
        this.render();
        this.options.openSession(session, 'started', { kind: 'chat', id: chat });
        return;
      }
      case 'error':
        if (this.inflight && !frame.body.fatal) this.settle(frame.body);
        else this.view.showError(deskErrorText(frame.body.code, frame.body.message));
        this.render();
        return;
      case 'hb':
        return;
      default:
        return;
    }
  }

  /**
   * A session the desk lists (after a reload or reconnect) that the workspace has not open.
   * @param {string} session
   */
  resume(session) {
    if (this.resumed.has(session) || this.options.cobrowsing() === session) return;
    this.resumed.add(session);
    this.options.openSession(session, 'resume', this.state.linkOf(session));
  }

  /**
   * Completes a chat that ended while the desk was away with its stored transcript.
   * @param {string} chat
   */
  async fetchTranscript(chat) {
    try {
      const lines = await this.options.api.transcript(chat);
      if (this.state.applyTranscript(chat, lines) > 0) this.render();
    } catch {
      // The chat shows what the desk had; nothing else to do.
    }
  }

  /** @param {string | null} chat null: everything (just connected) */
  beginQuiet(chat) {
    if (chat === null) this.quietAll = true;
    else this.quietChats.add(chat);
    if (this.quietTimer !== null) this.clearTimer(this.quietTimer);
    this.quietTimer = this.setTimer(() => {
      this.quietTimer = null;
      this.endQuiet();
    }, QUIET_AFTER_CONNECT_MS);
  }

  endQuiet() {
    this.quietAll = false;
    this.quietChats.clear();
  }

  scheduleTick() {
    this.tick = this.setTimer(() => {
      this.tick = null;
      if (!this.socket) return;
      this.render();
      this.scheduleTick();
    }, QUEUE_TICK_MS);
  }

  render() {
    if (this.stopped) return; // a new desk may own the page now
    if (this.rendering) {
      this.dirty = true;
      return;
    }
    this.rendering = true;
    try {
      do {
        this.dirty = false;
        this.view.render(this.state, {
          open: this.status === 'open',
          demo: this.options.demo,
          now: this.now(),
          accepting: this.accepting,
          callBusy: this.callBusy,
          cobrowsing: this.options.cobrowsing(),
        });
      } while (this.dirty);
    } finally {
      this.rendering = false;
    }
  }

  /** What a test needs to see. */
  testState() {
    return {
      status: this.status,
      available: this.state.available,
      queue: this.state.queue.map((q) => q.chat),
      chats: Array.from(this.state.chats.values(), (c) => ({
        chat: c.summary.chat,
        customer: c.summary.customer,
        state: c.summary.state,
        cobrowse: c.summary.cobrowse ?? null,
        messages: c.messages.length,
        pending: c.pending.length,
      })),
      calls: Array.from(this.state.calls.values()),
      selected: this.view.selected,
    };
  }
}

/**
 * @param {Document} doc
 * @returns {Storage | null}
 */
function safeSessionStorage(doc) {
  try {
    return doc.defaultView?.sessionStorage ?? null;
  } catch {
    return null;
  }
}

/**
 * The server's plain message as a sentence ("you are already on a call" → "You are already on a
 * call.").
 * @param {string} text
 * @returns {string}
 */
function sentence(text) {
  const trimmed = text.trim();
  return `${trimmed.charAt(0).toUpperCase()}${trimmed.slice(1)}${/[.!?]$/.test(trimmed) ? '' : '.'}`;
}
