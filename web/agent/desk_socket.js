// The desk's socket: `desk_hello`, heartbeats both ways, and reconnection with backoff. The
// server authenticates the upgrade by the sign-in cookie, so there is no token here.
//
// It knows nothing of chats: frames come in through `onFrame`, state through `onStatus`. It does
// not buffer what it cannot send — the desk keeps its unconfirmed messages itself and resends
// them after a reconnect (their `cid` makes a resend harmless).

import { DESK_PROTOCOL_VERSION, decodeDeskFrame, encodeDeskFrame } from './desk_protocol.js';

/** @typedef {import('./desk_protocol.js').DeskInbound} DeskInbound */
/** @typedef {import('./desk_protocol.js').DeskOutbound} DeskOutbound */
/** @typedef {import('./transport.js').SocketLike} SocketLike */

/**
 * `connecting`: first attempt; `open`: the server sent `desk`; `reconnecting`: lost, trying
 * again; `closed`: over for good (closed by us, or a refusal reconnecting cannot fix).
 * @typedef {'connecting' | 'open' | 'reconnecting' | 'closed'} DeskStatus
 */

/**
 * @typedef {object} DeskSocketOptions
 * @property {string} url Absolute ws:// or wss:// URL of `/ws/v1/desk`.
 * @property {(frame: DeskInbound) => void} onFrame Every frame (heartbeats are answered here first).
 * @property {(status: DeskStatus, detail: {neverOpened: boolean, code?: string}) => void} [onStatus]
 *   `neverOpened`: the socket closed before the server said anything (a refused upgrade, such as
 *   an expired sign-in, looks like this).
 * @property {(url: string) => SocketLike} [connect] Opens a socket (default: `new WebSocket`).
 * @property {() => number} [now]
 * @property {(fn: () => void, ms: number) => unknown} [setTimer]
 * @property {(handle: unknown) => void} [clearTimer]
 * @property {() => number} [random]
 */

/** Delay before the first reconnect attempt, and the cap, in milliseconds. */
export const DESK_RECONNECT_MIN_MS = 500;
export const DESK_RECONNECT_MAX_MS = 10_000;
/** The desk sends a heartbeat this often; a server silent for three of them is gone. */
export const DESK_HEARTBEAT_MS = 15_000;

/** Refusals after which reconnecting cannot help. */
const FATAL_FOR_GOOD = new Set(['version_mismatch', 'hello_required', 'unauthenticated', 'unauthorized']);

export class DeskSocket {
  /** @param {DeskSocketOptions} options */
  constructor(options) {
    this.options = options;
    this.now = options.now ?? (() => Date.now());
    this.setTimer = options.setTimer ?? ((fn, ms) => setTimeout(fn, ms));
    this.clearTimer = options.clearTimer ?? ((handle) => clearTimeout(/** @type {any} */ (handle)));
    this.random = options.random ?? Math.random;
    /** @type {SocketLike | null} */
    this.socket = null;
    /** @type {DeskStatus} */
    this.status = 'connecting';
    /** Whether the current socket has received anything. */
    this.heard = false;
    this.attempt = 0;
    this.lastReceived = 0;
    this.stopped = false;
    /** @type {unknown} */
    this.reconnectTimer = null;
    /** @type {unknown} */
    this.heartbeatTimer = null;
  }

  start() {
    this.open();
  }

  /**
   * Sends a frame now if the desk is open. Returns whether it went out; nothing is buffered.
   * @template {keyof DeskOutbound} T
   * @param {T} tag
   * @param {DeskOutbound[T]} body
   * @returns {boolean}
   */
  send(tag, body) {
    if (this.status !== 'open') return false;
    return this.write(encodeDeskFrame(tag, body));
  }

  /** Closes for good. */
  close() {
    this.stopped = true;
    if (this.reconnectTimer !== null) this.clearTimer(this.reconnectTimer);
    this.reconnectTimer = null;
    const socket = this.socket;
    this.detach();
    socket?.close(1000, 'closed');
    this.setStatus('closed', { neverOpened: false });
  }

  /** Drops the connection and reconnects at once (after the page comes back online, say). */
  reconnectNow() {
    if (this.stopped) return;
    if (this.reconnectTimer !== null) this.clearTimer(this.reconnectTimer);
    this.reconnectTimer = null;
    const socket = this.socket;
    this.detach();
    socket?.close(4000, 'reconnect');
    this.attempt = 0;
    this.open();
  }

  // ------------------------------------------------------------------------------------------

  open() {
    if (this.stopped) return;
    this.heard = false;
    /** @type {SocketLike} */
    let socket;
    try {
      socket = this.options.connect ? this.options.connect(this.options.url) : /** @type {SocketLike} */ (/** @type {unknown} */ (new WebSocket(this.options.url)));
    } catch {
      this.scheduleReconnect(true);
      return;
    }
    this.socket = socket;
    socket.onopen = () => {
      if (this.socket !== socket) return;
      this.lastReceived = this.now();
      this.write(encodeDeskFrame('desk_hello', { v: DESK_PROTOCOL_VERSION }));
      this.scheduleHeartbeat();
    };
    socket.onmessage = (ev) => {
      if (this.socket !== socket) return;
      if (typeof ev.data === 'string') this.receive(ev.data);
    };
    socket.onclose = () => {
      if (this.socket !== socket) return;
      const heard = this.heard;
      this.detach();
      this.scheduleReconnect(!heard);
    };
    socket.onerror = () => {
      // onclose follows and decides.
    };
  }

  detach() {
    const socket = this.socket;
    if (socket) {
      socket.onopen = null;
      socket.onmessage = null;
      socket.onclose = null;
      socket.onerror = null;
    }
    this.socket = null;
    if (this.heartbeatTimer !== null) this.clearTimer(this.heartbeatTimer);
    this.heartbeatTimer = null;
  }

  /** @param {boolean} neverOpened */
  scheduleReconnect(neverOpened) {
    if (this.stopped) return;
    this.setStatus('reconnecting', { neverOpened });
    if (this.stopped) return; // the status listener may have closed us (signed out)
    const base = Math.min(DESK_RECONNECT_MAX_MS, DESK_RECONNECT_MIN_MS * 2 ** this.attempt);
    const delay = base / 2 + (this.random() * base) / 2;
    this.attempt++;
    this.reconnectTimer = this.setTimer(() => {
      this.reconnectTimer = null;
      this.open();
    }, delay);
  }

  /** @param {string} text */
  receive(text) {
    this.lastReceived = this.now();
    this.heard = true;
    const frame = decodeDeskFrame(text);
    if (!frame) return;
    switch (frame.tag) {
      case 'hb':
        if (!frame.body.reply) this.write(encodeDeskFrame('hb', { ts: frame.body.ts, reply: true }));
        this.options.onFrame(frame); // the desk reads it as "the burst after connecting is over"
        return;
      case 'desk':
        this.attempt = 0;
        // The frame's state is applied before the desk counts as open, so what waits for
        // `open` (resending unconfirmed messages) sees the server's view.
        this.options.onFrame(frame);
        this.setStatus('open', { neverOpened: false });
        return;
      case 'error':
        this.options.onFrame(frame);
        if (frame.body.fatal && FATAL_FOR_GOOD.has(frame.body.code)) {
          this.stopped = true;
          const socket = this.socket;
          this.detach();
          socket?.close(1000, 'refused');
          this.setStatus('closed', { neverOpened: false, code: frame.body.code });
        }
        return;
      default:
        this.options.onFrame(frame);
    }
  }

  scheduleHeartbeat() {
    if (this.heartbeatTimer !== null) this.clearTimer(this.heartbeatTimer);
    this.heartbeatTimer = this.setTimer(() => {
      this.heartbeatTimer = null;
      if (!this.socket) return;
      if (this.now() - this.lastReceived > DESK_HEARTBEAT_MS * 3) {
        // Silent for three heartbeats: the connection is gone even if the socket has not noticed.
        const socket = this.socket;
        this.detach();
        socket.close(4002, 'timeout');
        this.scheduleReconnect(false);
        return;
      }
      this.write(encodeDeskFrame('hb', { ts: this.now(), reply: false }));
      this.scheduleHeartbeat();
    }, DESK_HEARTBEAT_MS);
  }

  /**
   * @param {string} text
   * @returns {boolean} whether it went out
   */
  write(text) {
    const socket = this.socket;
    if (!socket || socket.readyState !== 1) return false;
    try {
      socket.send(text);
      return true;
    } catch {
      return false;
    }
  }

  /**
   * @param {DeskStatus} status
   * @param {{neverOpened: boolean, code?: string}} detail
   */
  setStatus(status, detail) {
    // A refused upgrade repeats `reconnecting`; the listener still needs to hear each one.
    if (this.status === status && !(status === 'reconnecting' && detail.neverOpened)) return;
    this.status = status;
    this.options.onStatus?.(status, detail);
  }
}
