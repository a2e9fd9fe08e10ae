// The agent's socket: hello/welcome, sequence numbers and acks in both directions, heartbeats with
// round-trip times, and reconnection with backoff that resumes where it left off.
//
// It knows nothing of the page or the UI: frames come in through `onFrame`, state through
// `onStatus`, latency through `onRtt`. Large frames travel compressed when the server agrees
// (the SDK's wire_compression.js); everything here deals in text.

import { PROTOCOL_VERSION, decodeFrame, encodeFrame, isControlTag } from '../sdk/protocol.js';
import { FrameReader, FrameWriter, agreed, offerFor } from '../sdk/transport/wire_compression.js';

/** @typedef {import('../sdk/protocol.js').Frame} Frame */
/** @typedef {import('../sdk/protocol.js').FrameTag} FrameTag */
/** @typedef {import('../sdk/protocol.js').FrameBodies} FrameBodies */
/** @typedef {import('../sdk/protocol.js').Welcome} Welcome */

/**
 * `connecting`: first attempt; `open`: welcomed; `reconnecting`: lost, trying again;
 * `closed`: over for good (ended, refused, or closed by us).
 * @typedef {'connecting' | 'open' | 'reconnecting' | 'closed'} TransportStatus
 */

/**
 * The part of WebSocket the transport uses, so tests can pass a fake.
 * @typedef {object} SocketLike
 * @property {number} readyState
 * @property {(data: any) => void} send Frame text, or the bytes of a compressed frame.
 * @property {string} [binaryType] Present on real sockets; without it compression is not offered.
 * @property {(code?: number, reason?: string) => void} close
 * @property {((ev: {data: unknown}) => void) | null} onmessage
 * @property {(() => void) | null} onopen
 * @property {((ev: {code?: number}) => void) | null} onclose
 * @property {(() => void) | null} onerror
 */

/**
 * @typedef {object} TransportOptions
 * @property {string} url Absolute ws:// or wss:// URL.
 * @property {string} session
 * @property {string} token Participant token from the join request.
 * @property {(frame: Frame) => void} onFrame Every non-control frame, in order, once; and
 *   `welcome` and `error` frames.
 * @property {(status: TransportStatus, detail?: string) => void} [onStatus]
 * @property {(ms: number) => void} [onRtt]
 * @property {(url: string) => SocketLike} [connect] Opens a socket (default: `new WebSocket`).
 * @property {SocketLike} [socket] A socket to `url` opened ahead (while the join request was
 *   under way), for the first attempt: its handshake is then done or under way. Later attempts
 *   open their own.
 * @property {() => number} [now]
 * @property {(fn: () => void, ms: number) => unknown} [setTimer]
 * @property {(handle: unknown) => void} [clearTimer]
 * @property {() => number} [random]
 * @property {boolean} [compression] Offer compression when the browser and the socket can (default true).
 */

/** Delay before the first reconnect attempt, and the cap, in milliseconds. */
export const RECONNECT_MIN_MS = 500;
export const RECONNECT_MAX_MS = 10_000;
/** Acknowledge at least this often while frames arrive, and after this many frames. */
export const ACK_EVERY_MS = 1_000;
export const ACK_EVERY_FRAMES = 32;
/** Outbound frames kept for resending until the server acknowledges them. */
export const MAX_UNACKED = 1_000;
/** Heartbeat interval until the server's welcome says otherwise. */
export const DEFAULT_HEARTBEAT_MS = 15_000;
/** The workspace measures the round trip at least this often (its latency indicator). */
export const PING_EVERY_MS = 5_000;

/** Error codes after which reconnecting cannot help. */
const FATAL_FOR_GOOD = new Set(['unauthorized', 'session_not_found', 'session_ended', 'version_mismatch', 'wrong_role', 'superseded', 'session_taken']);

export class Transport {
  /** @param {TransportOptions} options */
  constructor(options) {
    this.options = options;
    this.now = options.now ?? (() => Date.now());
    this.setTimer = options.setTimer ?? ((fn, ms) => setTimeout(fn, ms));
    this.clearTimer = options.clearTimer ?? ((handle) => clearTimeout(/** @type {any} */ (handle)));
    this.random = options.random ?? Math.random;
    /** @type {SocketLike | null} */
    this.socket = null;
    /** @type {TransportStatus} */
    this.status = 'connecting';
    /** Last server sequence received in order. */
    this.lastSeen = 0;
    /** Last server sequence acknowledged to the server. */
    this.lastAcked = 0;
    /** Next sequence number for an outbound non-control frame. */
    this.nextSeq = 1;
    /** @type {Array<{seq: number, tag: FrameTag, body: unknown}>} sent, not yet acknowledged */
    this.unacked = [];
    this.welcomed = false;
    this.attempt = 0;
    this.heartbeatMs = DEFAULT_HEARTBEAT_MS;
    this.lastReceived = 0;
    /** @type {unknown} */
    this.reconnectTimer = null;
    /** @type {unknown} */
    this.heartbeatTimer = null;
    /** @type {unknown} */
    this.ackTimer = null;
    this.stopped = false;
    /** @type {number | null} */
    this.rtt = null;
    /** The current socket's writer and reader, which compress and keep order. */
    /** @type {FrameWriter | null} */
    this.writer = null;
    /** @type {FrameReader | null} */
    this.reader = null;
    /** What this socket's hello offered. @type {string[] | undefined} */
    this.offered = undefined;
    /** @type {SocketLike | null} the socket opened ahead, until the first attempt takes it */
    this.early = options.socket ?? null;
  }

  /** Opens the first connection. */
  start() {
    this.open();
  }

  /**
   * Sends a non-control frame. It is numbered, kept until acknowledged, and resent after a
   * reconnect. While disconnected it waits in the buffer.
   * @template {FrameTag} T
   * @param {T} tag
   * @param {FrameBodies[T]} body
   */
  send(tag, body) {
    if (this.stopped) return;
    if (isControlTag(tag)) {
      this.sendControl(tag, body);
      return;
    }
    const entry = { seq: this.nextSeq++, tag, body };
    this.unacked.push(entry);
    if (this.unacked.length > MAX_UNACKED) this.dropOldest();
    if (this.welcomed) this.write(entry.tag, entry.seq, entry.body);
  }

  /**
   * Sends a control frame now if connected (never buffered).
   * @template {FrameTag} T
   * @param {T} tag
   * @param {FrameBodies[T]} body
   */
  sendControl(tag, body) {
    this.write(tag, 0, body);
  }

  /**
   * Drops the whole inbound position and reconnects, so the server sends a fresh snapshot.
   * Used when the viewer can no longer trust its page.
   */
  resync() {
    if (this.stopped) return;
    this.lastSeen = 0;
    this.lastAcked = 0;
    this.socket?.close(4000, 'resync');
    this.detach();
    this.open();
  }

  /** Closes for good. */
  close() {
    this.stopped = true;
    this.early?.close();
    this.early = null;
    this.clearAllTimers();
    const socket = this.socket;
    this.detach();
    socket?.close(1000, 'closed');
    this.setStatus('closed');
  }

  // ------------------------------------------------------------------------------------------

  open() {
    this.welcomed = false;
    const early = this.early;
    this.early = null;
    /** @type {SocketLike} */
    let socket;
    if (early && (early.readyState === 0 || early.readyState === 1)) {
      socket = early;
    } else {
      early?.close();
      try {
        socket = this.options.connect ? this.options.connect(this.options.url) : /** @type {SocketLike} */ (/** @type {unknown} */ (new WebSocket(this.options.url)));
      } catch {
        this.scheduleReconnect();
        return;
      }
    }
    this.socket = socket;
    this.writer = new FrameWriter((data) => socket.send(data));
    this.reader = new FrameReader((text) => {
      if (this.socket === socket) this.receive(text);
    });
    this.offered = this.options.compression === false ? undefined : offerFor(socket);
    const sayHello = () => {
      if (this.socket !== socket) return;
      this.lastReceived = this.now();
      /** @type {import('../sdk/protocol.js').Hello} */
      const hello = { v: PROTOCOL_VERSION, session: this.options.session, token: this.options.token, ack: this.lastSeen };
      if (this.offered) hello.z = this.offered;
      this.write('hello', 0, hello);
    };
    socket.onopen = sayHello;
    socket.onmessage = (ev) => {
      if (this.socket !== socket) return;
      this.reader?.read(ev.data);
    };
    socket.onclose = () => {
      if (this.socket !== socket) return;
      this.detach();
      if (!this.stopped) this.scheduleReconnect();
    };
    socket.onerror = () => {
      // onclose follows and decides.
    };
    if (socket.readyState === 1) sayHello(); // opened ahead, and already open
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
    this.writer?.close();
    this.reader?.close();
    this.writer = null;
    this.reader = null;
    this.welcomed = false;
    if (this.heartbeatTimer !== null) this.clearTimer(this.heartbeatTimer);
    this.heartbeatTimer = null;
  }

  scheduleReconnect() {
    if (this.stopped) return;
    this.setStatus('reconnecting');
    const base = Math.min(RECONNECT_MAX_MS, RECONNECT_MIN_MS * 2 ** this.attempt);
    const delay = base / 2 + (this.random() * base) / 2;
    this.attempt++;
    this.reconnectTimer = this.setTimer(() => {
      this.reconnectTimer = null;
      this.open();
    }, delay);
  }

  /**
   * @param {string} text
   */
  receive(text) {
    this.lastReceived = this.now();
    /** @type {Frame} */
    let frame;
    try {
      frame = decodeFrame(text);
    } catch {
      return; // the server only sends valid frames; a broken one is not worth dying for
    }
    switch (frame.tag) {
      case 'welcome':
        this.onWelcome(frame.body);
        this.options.onFrame(frame);
        return;
      case 'hb':
        if (frame.body.reply) {
          const rtt = Math.max(0, this.now() - frame.body.ts);
          this.rtt = rtt;
          this.options.onRtt?.(rtt);
        } else {
          this.write('hb', 0, { ts: frame.body.ts, reply: true });
        }
        return;
      case 'ack':
        this.unacked = this.unacked.filter((entry) => entry.seq > frame.body.a);
        return;
      case 'error':
        this.options.onFrame(frame);
        if (frame.body.fatal && FATAL_FOR_GOOD.has(frame.body.code)) this.close();
        return;
      case 'hello':
        return;
      default:
        break;
    }
    if (frame.seq <= this.lastSeen) return; // already applied (a replay overlap)
    // A snapshot replaces everything before it, so a jump up to one is no loss.
    if (frame.seq !== this.lastSeen + 1 && this.lastSeen !== 0 && frame.tag !== 'snapshot') {
      // Frames were lost: reconnect from the last one seen and let the server replay.
      this.socket?.close(4001, 'sequence gap');
      this.detach();
      this.open();
      return;
    }
    this.lastSeen = frame.seq;
    this.options.onFrame(frame);
    if (frame.tag === 'ended') {
      this.sendAck();
      this.close();
      return;
    }
    if (this.lastSeen - this.lastAcked >= ACK_EVERY_FRAMES) this.sendAck();
    else if (this.ackTimer === null) {
      this.ackTimer = this.setTimer(() => {
        this.ackTimer = null;
        this.sendAck();
      }, ACK_EVERY_MS);
    }
  }

  /**
   * @param {Welcome} welcome
   */
  onWelcome(welcome) {
    this.welcomed = true;
    this.attempt = 0;
    this.writer?.agree(agreed(welcome.z, this.offered));
    this.heartbeatMs = welcome.heartbeat_ms > 0 ? welcome.heartbeat_ms : DEFAULT_HEARTBEAT_MS;
    // Resend what the server has not received, renumbered to follow what it has.
    const pending = this.unacked.filter((entry) => entry.seq > welcome.ack);
    this.nextSeq = welcome.ack + 1;
    this.unacked = [];
    for (const entry of pending) {
      const renumbered = { ...entry, seq: this.nextSeq++ };
      this.unacked.push(renumbered);
      this.write(renumbered.tag, renumbered.seq, renumbered.body);
    }
    this.setStatus('open');
    // Measure the round trip at once, so the latency indicator has a figure from the start.
    this.write('hb', 0, { ts: this.now(), reply: false });
    this.scheduleHeartbeat();
  }

  scheduleHeartbeat() {
    if (this.heartbeatTimer !== null) this.clearTimer(this.heartbeatTimer);
    const every = Math.min(this.heartbeatMs, PING_EVERY_MS);
    this.heartbeatTimer = this.setTimer(() => {
      this.heartbeatTimer = null;
      if (!this.welcomed) return;
      if (this.now() - this.lastReceived > this.heartbeatMs * 3) {
        // Silent for three heartbeats: the connection is gone even if the socket has not noticed.
        this.socket?.close(4002, 'timeout');
        this.detach();
        this.scheduleReconnect();
        return;
      }
      this.write('hb', 0, { ts: this.now(), reply: false });
      this.scheduleHeartbeat();
    }, every);
  }

  sendAck() {
    if (this.ackTimer !== null) {
      this.clearTimer(this.ackTimer);
      this.ackTimer = null;
    }
    if (this.lastSeen <= this.lastAcked) return;
    if (this.write('ack', 0, { a: this.lastSeen })) this.lastAcked = this.lastSeen;
  }

  /** Keeps the buffer bounded: pointer moves go first, since a newer one supersedes them. */
  dropOldest() {
    const index = this.unacked.findIndex((entry) => entry.tag === 'pointer' || entry.tag === 'highlight' || entry.tag === 'click');
    this.unacked.splice(index >= 0 ? index : 0, 1);
  }

  /**
   * @param {string} tag
   * @param {number} seq
   * @param {unknown} body
   * @returns {boolean} whether it went out
   */
  write(tag, seq, body) {
    const socket = this.socket;
    if (!socket || socket.readyState !== 1 || !this.writer) return false;
    try {
      // A frame waiting behind a compression counts as written: the writer sends it in order
      // unless the socket goes, and then the resend after the reconnect covers it.
      this.writer.write(encodeFrame(/** @type {FrameTag} */ (tag), seq, /** @type {any} */ (body)));
      return true;
    } catch {
      return false;
    }
  }

  /**
   * @param {TransportStatus} status
   * @param {string} [detail]
   */
  setStatus(status, detail) {
    if (this.status === status) return;
    this.status = status;
    this.options.onStatus?.(status, detail);
  }

  clearAllTimers() {
    for (const key of /** @type {const} */ (['reconnectTimer', 'heartbeatTimer', 'ackTimer'])) {
      if (this[key] !== null) this.clearTimer(this[key]);
      this[key] = null;
    }
  }
}

/**
 * The absolute WebSocket URL for a path the server gave (`/ws/v1`), on the page's own host.
 * @param {string} wsUrl
 * @param {{protocol: string, host: string}} location
 * @returns {string}
 */
export function socketUrl(wsUrl, location) {
  if (/^wss?:\/\//.test(wsUrl)) return wsUrl;
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${scheme}//${location.host}${wsUrl.startsWith('/') ? '' : '/'}${wsUrl}`;
}
