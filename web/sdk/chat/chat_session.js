// The customer's chat: its state (queued → active → ended), the transcript, and the messages the
// customer sent that the server has not confirmed yet. Nothing is lost or doubled across page
// loads and network drops:
//
// - every message the customer sends gets a `cid` and stays in `pending` (saved in this tab's
//   sessionStorage) until its echo — a `msg` carrying that `cid` — arrives; after every
//   (re)connect the unconfirmed ones go out again, and the server drops a `cid` it already has;
// - messages are sent one at a time, so a refusal (`error`, e.g. too long) belongs to the one in
//   flight;
// - the transcript is keyed by the server's message `id`: `chat_hello.last` asks only for later
//   ones, repeats are dropped, and a gap makes the socket reconnect so the server replays it.
//
// No DOM here: the widget (chat_ui.js) and the client (client.js) listen through callbacks.

import { ChatConnection } from './chat_connection.js';
import { ApiError, createChat, websocketUrl } from '../transport/http_api.js';

/** @typedef {import('./chat_protocol.js').ChatMessage} ChatMessage */
/** @typedef {import('./chat_protocol.js').ChatInbound} ChatInbound */
/** @typedef {import('./chat_store.js').ChatStore} ChatStore */
/** @typedef {import('./chat_store.js').StoredChat} StoredChat */
/** @typedef {import('./chat_store.js').PendingMessage} PendingMessage */
/** @typedef {import('./chat_connection.js').ChatConnectionState} ChatConnectionState */
/** @typedef {import('../transport/transport.js').SocketLike} SocketLike */
/** @typedef {import('../capture/throttle.js').Timers} Timers */

/**
 * `idle`: no chat; `starting`: being created; `queued`: waiting for an agent; `active`: an agent
 * answered; `ended`.
 * @typedef {'idle' | 'starting' | 'queued' | 'active' | 'ended'} ChatSessionState
 */

/**
 * Events for the site (`chat_started`, `chat_message`, `chat_state`, `chat_ended`).
 * @typedef {(type: string, detail: unknown) => void} ChatEmit
 */

/**
 * @typedef {object} ChatSessionOptions
 * @property {ChatStore} store
 * @property {() => string} base The server's base URL.
 * @property {typeof fetch} fetch
 * @property {(url: string) => SocketLike} createSocket
 * @property {Timers} timers
 * @property {ChatEmit} emit
 * @property {() => void} [onChange] Anything shown changed (the widget re-renders).
 * @property {() => number} [random]
 * @property {number} [endWaitMs] How long `end()` waits for the server's word (default 3 s).
 */

/** How long `end()` waits for the server before ending the chat on this side anyway. */
const END_WAIT_MS = 3000;

export class ChatSession {
  /** @param {ChatSessionOptions} options */
  constructor(options) {
    this.options = options;
    /** @type {ChatSessionState} */
    this.state = 'idle';
    /** @type {StoredChat | null} */
    this.chat = null;
    /** Place in the queue while queued (1 = next). */
    /** @type {number | null} */
    this.position = null;
    /** Why the chat ended, once it has. */
    /** @type {string | null} */
    this.reason = null;
    /** The co-browse session riding on the chat, as the server last said. */
    /** @type {string | null} */
    this.cobrowse = null;
    /** The chat continues in another tab (this one was superseded). */
    this.elsewhere = false;
    /** @type {ChatConnection | null} */
    this.connection = null;
    /** @type {ChatConnectionState} */
    this.connectionState = 'idle';
    /** The `cid` sent and not yet answered (echo or refusal). */
    /** @type {string | null} */
    this.inFlight = null;
    /** Callers of `say()` waiting for their message's echo, by `cid`. */
    /** @type {Map<string, {resolve: (m: ChatMessage) => void, reject: (e: Error) => void}>} */
    this.waiters = new Map();
    /** @type {Array<() => void>} */
    this.endWaiters = [];
    /** @type {unknown} */
    this.endTimer = null;
    /** The last state, position and agent told to the site. */
    this.announced = '';
    this.cidPrefix = `c-${randomPart(options.random)}`;
    this.cidCount = 0;
  }

  /** The transcript so far, oldest first. */
  get messages() {
    return this.chat?.messages ?? [];
  }

  /** The messages sent and not yet confirmed, oldest first. */
  get pending() {
    return this.chat?.pending ?? [];
  }

  /** Whether a chat is going on (queued or active). */
  get open() {
    return this.state === 'queued' || this.state === 'active';
  }

  /**
   * Starts a chat: it enters the queue.
   * @param {{name: string, message?: string}} request
   * @param {{widget?: boolean}} [options]
   * @returns {Promise<{id: string}>}
   */
  async start(request, options = {}) {
    if (this.chat && (this.open || this.state === 'starting')) return { id: this.chat.id };
    const name = String(request?.name ?? '').trim();
    if (!name) throw new ApiError('invalid_request', 'a name, please', 0);
    this.state = 'starting';
    this.#changed();
    try {
      const base = this.options.base();
      const message = request.message ? String(request.message).trim() : '';
      const created = await createChat(this.options.fetch, base, message ? { name, message } : { name });
      /** @type {StoredChat} */
      const chat = {
        id: created.id,
        token: created.token,
        wsUrl: websocketUrl(created.ws_url, base),
        name,
        last: 0,
        state: 'queued',
        agent: null,
        messages: [],
        pending: [],
        widget: options.widget === true,
        ending: false,
      };
      this.#take(chat);
      this.options.emit('chat_started', { id: chat.id });
      return { id: chat.id };
    } catch (err) {
      this.state = 'idle';
      this.#changed();
      throw err;
    }
  }

  /**
   * Continues a chat from an earlier page of this tab.
   * @param {StoredChat} chat
   */
  resume(chat) {
    if (chat.state === 'ended') {
      this.options.store.clear();
      return;
    }
    this.#take(chat);
  }

  /**
   * Sends a message. Resolves with it once the server has it (its echo arrived); rejects when the
   * server refuses it (`limit_exceeded`, `invalid_request`) or the chat ends first.
   * @param {string} text
   * @returns {Promise<ChatMessage>}
   */
  say(text) {
    const chat = this.chat;
    const clean = String(text ?? '').trim();
    if (!chat || !this.open) return Promise.reject(new ApiError('no_chat', 'no chat is open', 0));
    if (!clean) return Promise.reject(new ApiError('invalid_request', 'a message needs some text', 0));
    const cid = `${this.cidPrefix}-${++this.cidCount}`;
    chat.pending.push({ cid, text: clean, at: this.options.timers.now() });
    this.#save();
    const promise = new Promise(/** @param {(m: ChatMessage) => void} resolve @param {(e: Error) => void} reject */ (resolve, reject) => {
      this.waiters.set(cid, { resolve, reject });
    });
    this.#pump();
    this.#changed();
    return promise;
  }

  /**
   * Ends the chat (and with it any co-browse session riding on it). Resolves once the server has
   * said so, or after a short wait: the chat then ends on this page, which keeps trying to tell
   * the server while it stays open (else the server ends it when the customer's grace runs out).
   * @returns {Promise<void>}
   */
  end() {
    const chat = this.chat;
    if (!chat || !this.open) return Promise.resolve();
    chat.ending = true;
    this.#save();
    const done = new Promise(/** @param {(v?: void) => void} resolve */ (resolve) => this.endWaiters.push(resolve));
    this.connection?.send('end_chat', {});
    if (this.endTimer === null) {
      this.endTimer = this.options.timers.setTimeout(() => {
        this.endTimer = null;
        this.#finish('customer_left', true);
      }, this.options.endWaitMs ?? END_WAIT_MS);
    }
    return done;
  }

  /** After another tab took the chat over: take it back to this tab. */
  continueHere() {
    if (!this.chat || !this.elsewhere || !this.open) return;
    this.elsewhere = false;
    this.#connect();
    this.#changed();
  }

  /** Stops the socket without ending the chat (tests, teardown). */
  detach() {
    this.connection?.close();
    this.connection = null;
  }

  // ------------------------------------------------------------------------------------------

  /** @param {StoredChat} chat */
  #take(chat) {
    this.chat = chat;
    this.state = chat.state === 'active' ? 'active' : 'queued';
    this.reason = null;
    this.elsewhere = false;
    this.#save();
    this.#connect();
    this.#changed();
  }

  #connect() {
    const chat = this.chat;
    if (!chat) return;
    this.connection?.close();
    this.inFlight = null;
    const connection = new ChatConnection({
      url: chat.wsUrl,
      chat: chat.id,
      token: chat.token,
      last: () => this.chat?.last ?? 0,
      createSocket: this.options.createSocket,
      timers: this.options.timers,
      random: this.options.random,
      onFrame: (frame) => this.#frame(frame),
      onOpen: () => this.#attached(),
      onFatal: (error) => this.#fatal(error),
      onState: (state) => {
        this.connectionState = state;
        if (state !== 'open') this.inFlight = null; // sent again after the next attach
        this.#changed();
      },
    });
    this.connection = connection;
    connection.connect();
  }

  /** The socket is attached and the replay is in: finish an end, send what waits. */
  #attached() {
    this.inFlight = null;
    if (this.chat?.ending) this.connection?.send('end_chat', {});
    this.#pump();
  }

  /** Sends the oldest unconfirmed message, if none is in flight. */
  #pump() {
    const chat = this.chat;
    const connection = this.connection;
    if (!chat || !connection || this.inFlight !== null || chat.ending) return;
    const next = chat.pending[0];
    if (!next) return;
    if (connection.send('say', { cid: next.cid, text: next.text })) this.inFlight = next.cid;
  }

  /** @param {ChatInbound} frame */
  #frame(frame) {
    switch (frame.tag) {
      case 'chat_state':
        this.#state(frame.body);
        break;
      case 'msg':
        this.#message(frame.body);
        break;
      case 'error':
        this.#refused(frame.body);
        break;
      default:
        break;
    }
  }

  /** @param {{chat: import('./chat_protocol.js').ChatSummary, position?: number, reason?: string}} body */
  #state(body) {
    const chat = this.chat;
    if (!chat) return;
    const summary = body.chat;
    if (summary.state === 'ended') {
      if (this.state === 'ended') this.detach(); // the server got the end this page kept sending
      else this.#finish(body.reason ?? 'agent_ended');
      return;
    }
    if (this.state === 'ended') return;
    this.cobrowse = summary.cobrowse ?? null;
    this.state = summary.state === 'active' ? 'active' : 'queued';
    chat.state = this.state;
    chat.agent = summary.agent ?? chat.agent;
    this.position = this.state === 'queued' ? body.position ?? null : null;
    this.#save();
    this.#announce();
    this.#changed();
  }

  /** Tells the site the state when it changed. */
  #announce() {
    /** @type {{state: string, position?: number, agent?: string}} */
    const detail = { state: this.state };
    if (this.state === 'queued' && this.position !== null) detail.position = this.position;
    if (this.state === 'active' && this.chat?.agent) detail.agent = this.chat.agent;
    const key = JSON.stringify(detail);
    if (key === this.announced) return;
    this.announced = key;
    this.options.emit('chat_state', detail);
  }

  /** @param {ChatMessage} message */
  #message(message) {
    const chat = this.chat;
    if (!chat || this.state === 'ended') return;
    if (message.id <= chat.last) return; // a repeat: already in the transcript
    if (message.id > chat.last + 1) {
      // A message is missing: the server replays everything after `last` on a new socket.
      this.connection?.reconnect();
      return;
    }
    chat.last = message.id;
    chat.messages.push(message);
    if (chat.messages.length > 400) chat.messages.splice(0, chat.messages.length - 200);
    if (message.from === 'customer' && message.cid) {
      chat.pending = chat.pending.filter((p) => p.cid !== message.cid);
      this.waiters.get(message.cid)?.resolve(message);
      this.waiters.delete(message.cid);
      if (this.inFlight === message.cid) this.inFlight = null;
    }
    this.#save();
    this.options.emit('chat_message', { message });
    this.#pump();
    this.#changed();
  }

  /**
   * A refusal: it answers the message in flight (the only frame the widget sends that the server
   * answers with an error).
   * @param {{code: string, message: string}} error
   */
  #refused(error) {
    const chat = this.chat;
    const cid = this.inFlight;
    if (!chat || cid === null) return;
    this.inFlight = null;
    chat.pending = chat.pending.filter((p) => p.cid !== cid);
    this.#save();
    this.waiters.get(cid)?.reject(new ApiError(error.code, error.message, 0));
    this.waiters.delete(cid);
    this.options.emit('chat_error', { code: error.code, message: error.message });
    this.#pump();
    this.#changed();
  }

  /** @param {{code: string, message: string}} error */
  #fatal(error) {
    this.connection = null;
    if (this.state === 'ended') return;
    if (error.code === 'superseded') {
      this.elsewhere = true;
      this.#changed();
      return;
    }
    // The server no longer knows this chat (it restarted, or the chat was swept long ago).
    this.#finish('unavailable');
  }

  /**
   * @param {string} reason
   * @param {boolean} [linger] Keep the socket (reconnecting) until the server hears `end_chat`.
   */
  #finish(reason, linger = false) {
    if (this.state === 'ended' || !this.chat) return;
    this.state = 'ended';
    this.reason = reason;
    this.position = null;
    this.cobrowse = null;
    this.elsewhere = false;
    this.chat.state = 'ended';
    if (!linger) this.detach();
    if (this.endTimer !== null) this.options.timers.clearTimeout(this.endTimer);
    this.endTimer = null;
    this.options.store.clear();
    const unsent = new ApiError('chat_ended', 'the chat ended before this message was delivered', 0);
    for (const waiter of this.waiters.values()) waiter.reject(unsent);
    this.waiters.clear();
    this.chat.pending = [];
    this.announced = '';
    this.options.emit('chat_state', { state: 'ended' });
    this.options.emit('chat_ended', { reason });
    for (const resolve of this.endWaiters.splice(0)) resolve();
    this.#changed();
  }

  /** Forgets an ended chat (the widget's "Start a new chat"). */
  reset() {
    if (this.state !== 'ended') return;
    this.detach();
    this.state = 'idle';
    this.chat = null;
    this.reason = null;
    this.#changed();
  }

  #save() {
    if (this.chat && this.state !== 'ended') this.options.store.save(this.chat);
  }

  #changed() {
    this.options.onChange?.();
  }
}

/**
 * A short random string for message IDs (unique per page; the counter makes them unique within).
 * @param {(() => number) | undefined} random
 * @returns {string}
 */
function randomPart(random) {
  const r = random ?? Math.random;
  let out = '';
  for (let i = 0; i < 10; i++) out += Math.floor(r() * 36).toString(36);
  return out;
}
