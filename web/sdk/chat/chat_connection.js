// The chat widget's socket: `chat_hello` with the last message ID it has, heartbeats answered,
// reconnection with backoff, and a watchdog for a server gone silent. Like the co-browse
// transport it knows nothing about the page; unlike it, it buffers nothing: the chat session
// keeps its unconfirmed messages itself and sends them again once the socket is attached.

import { CHAT_PROTOCOL_VERSION, decodeChatFrame, encodeChatFrame } from './chat_protocol.js';

/** @typedef {import('./chat_protocol.js').ChatInbound} ChatInbound */
/** @typedef {import('./chat_protocol.js').ChatOutbound} ChatOutbound */
/** @typedef {import('../transport/transport.js').SocketLike} SocketLike */
/** @typedef {import('../capture/throttle.js').Timers} Timers */

/**
 * `connecting`: first attempt; `open`: attached (the server sent the chat's state);
 * `reconnecting`: lost, trying again; `closed`: for good.
 * @typedef {'idle' | 'connecting' | 'open' | 'reconnecting' | 'closed'} ChatConnectionState
 */

/**
 * @typedef {object} ChatConnectionOptions
 * @property {string} url Absolute ws:// or wss:// URL of `/ws/v1/chat`.
 * @property {string} chat
 * @property {string} token
 * @property {() => number} last The last message ID the client has, read at every (re)connect.
 * @property {(url: string) => SocketLike} createSocket
 * @property {Timers} timers
 * @property {(frame: ChatInbound) => void} onFrame `chat_state`, `msg` and non-fatal `error`.
 * @property {() => void} onOpen Attached: the first `chat_state` of this socket was handled.
 * @property {(error: {code: string, message: string}) => void} onFatal Refused for good.
 * @property {(state: ChatConnectionState) => void} [onState]
 * @property {number} [silenceMs] A server silent this long is gone (default 60 s; it sends a
 *   heartbeat every 15 s by default).
 * @property {() => number} [random]
 */

/** Error codes after which reconnecting cannot help. */
const TERMINAL_CODES = new Set(['unauthorized', 'superseded', 'version_mismatch', 'hello_required', 'unknown_interaction']);

export class ChatConnection {
  /** @param {ChatConnectionOptions} options */
  constructor(options) {
    this.options = options;
    this.timers = options.timers;
    /** @type {ChatConnectionState} */
    this.state = 'idle';
    /** @type {SocketLike | null} */
    this.socket = null;
    this.attempt = 0;
    /** @type {unknown} */
    this.retryTimer = null;
    /** @type {unknown} */
    this.watchdog = null;
    this.lastHeard = 0;
    /** @type {{code: string, message: string} | null} */
    this.fatalError = null;
  }

  /** Opens the socket, and keeps reopening it until `close()`. */
  connect() {
    if (this.state === 'closed' || this.socket) return;
    this.#setState(this.state === 'idle' ? 'connecting' : 'reconnecting');
    /** @type {SocketLike} */
    let socket;
    try {
      socket = this.options.createSocket(this.options.url);
    } catch {
      this.#scheduleReconnect();
      return;
    }
    this.socket = socket;
    this.fatalError = null;
    let attached = false;
    socket.onopen = () => {
      this.lastHeard = this.timers.now();
      this.#armWatchdog();
      socket.send(encodeChatFrame('chat_hello', { v: CHAT_PROTOCOL_VERSION, chat: this.options.chat, token: this.options.token, last: this.options.last() }));
    };
    socket.onmessage = (event) => {
      if (this.socket !== socket) return;
      this.lastHeard = this.timers.now();
      const frame = decodeChatFrame(String(event.data));
      if (!frame) return;
      if (frame.tag === 'hb') {
        if (!frame.body.reply) socket.send(encodeChatFrame('hb', { ts: frame.body.ts, reply: true }));
        return;
      }
      if (frame.tag === 'error' && frame.body.fatal) {
        this.fatalError = frame.body;
        return;
      }
      const first = frame.tag === 'chat_state' && !attached;
      if (first) {
        attached = true;
        this.attempt = 0;
        this.#setState('open');
      }
      this.options.onFrame(frame);
      if (first && this.socket === socket) this.options.onOpen();
    };
    socket.onclose = () => {
      if (this.socket === socket) this.#closed();
    };
    socket.onerror = () => {};
  }

  /**
   * Sends a frame if the socket is attached. Returns whether it went out.
   * @template {keyof ChatOutbound} T
   * @param {T} tag
   * @param {ChatOutbound[T]} body
   * @returns {boolean}
   */
  send(tag, body) {
    if (this.state !== 'open' || !this.socket) return false;
    try {
      this.socket.send(encodeChatFrame(tag, body));
      return true;
    } catch {
      return false;
    }
  }

  /** Drops the socket and connects again at once (the server replays from `last`). */
  reconnect() {
    if (this.state === 'closed') return;
    const socket = this.socket;
    this.#closed(0);
    try {
      socket?.close(4000, 'resync');
    } catch {
      // already closed
    }
  }

  /** Closes for good. */
  close() {
    if (this.state === 'closed') return;
    this.#setState('closed');
    this.#clearTimers();
    const socket = this.socket;
    this.socket = null;
    if (socket) {
      socket.onclose = null;
      socket.onmessage = null;
      try {
        socket.close(1000, 'bye');
      } catch {
        // already closed
      }
    }
  }

  /** @param {number} [delayMs] Reconnect after this long instead of the backoff. */
  #closed(delayMs) {
    const socket = this.socket;
    this.socket = null;
    if (socket) {
      socket.onclose = null;
      socket.onmessage = null;
    }
    if (this.state === 'closed') return;
    if (this.watchdog !== null) this.timers.clearInterval(this.watchdog);
    this.watchdog = null;
    const fatal = this.fatalError;
    if (fatal && TERMINAL_CODES.has(fatal.code)) {
      this.close();
      this.options.onFatal(fatal);
      return;
    }
    this.#setState('reconnecting');
    this.#scheduleReconnect(delayMs);
  }

  /** @param {number} [delayMs] */
  #scheduleReconnect(delayMs) {
    if (this.retryTimer !== null || this.state === 'closed') return;
    const base = Math.min(500 * 2 ** this.attempt, 10_000);
    const random = this.options.random ?? Math.random;
    const delay = delayMs ?? Math.round(base * (0.5 + random() / 2));
    this.attempt++;
    this.retryTimer = this.timers.setTimeout(() => {
      this.retryTimer = null;
      this.connect();
    }, delay);
  }

  #armWatchdog() {
    if (this.watchdog !== null) this.timers.clearInterval(this.watchdog);
    const silence = this.options.silenceMs ?? 60_000;
    this.watchdog = this.timers.setInterval(() => {
      if (this.timers.now() - this.lastHeard <= silence) return;
      // The server went silent: drop the socket and reconnect.
      const socket = this.socket;
      this.#closed();
      try {
        socket?.close(4000, 'heartbeat timeout');
      } catch {
        // ignore
      }
    }, Math.max(1000, Math.floor(silence / 4)));
  }

  #clearTimers() {
    if (this.retryTimer !== null) this.timers.clearTimeout(this.retryTimer);
    if (this.watchdog !== null) this.timers.clearInterval(this.watchdog);
    this.retryTimer = this.watchdog = null;
  }

  /** @param {ChatConnectionState} state */
  #setState(state) {
    if (this.state === state) return;
    this.state = state;
    this.options.onState?.(state);
  }
}
