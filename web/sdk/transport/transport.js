// The transport: owns one WebSocket at a time, numbers outgoing frames, keeps the ones the
// server has not acknowledged for resending after a reconnect, acknowledges what it receives,
// answers heartbeats and reconnects with backoff. It knows nothing about the DOM. Large frames
// travel compressed when the server agrees (wire_compression.js); everything here deals in text.

import { PROTOCOL_VERSION, decodeFrame, encodeFrame, isControlTag } from '../protocol.js';
import { FrameReader, FrameWriter, agreed, offerFor } from './wire_compression.js';
import { WorkerCompressor } from './compression_worker.js';

/** @typedef {import('../protocol.js').Frame} Frame */
/** @typedef {import('../protocol.js').FrameTag} FrameTag */
/** @typedef {import('../protocol.js').FrameBodies} FrameBodies */
/** @typedef {import('../protocol.js').Welcome} Welcome */
/** @typedef {import('../protocol.js').ErrorBody} ErrorBody */
/** @typedef {import('../capture/throttle.js').Timers} Timers */

/**
 * The part of a WebSocket the transport uses; tests pass a fake.
 * @typedef {object} SocketLike
 * @property {(data: any) => void} send Frame text, or the bytes of a compressed frame.
 * @property {string} [binaryType] Present on real sockets; without it compression is not offered.
 * @property {(code?: number, reason?: string) => void} close
 * @property {((event: any) => void) | null} onopen
 * @property {((event: {data: any}) => void) | null} onmessage
 * @property {((event: any) => void) | null} onclose
 * @property {((event: any) => void) | null} onerror
 */

/**
 * @typedef {object} TransportOptions
 * @property {string} url WebSocket URL.
 * @property {string} session Session ID.
 * @property {string} token Participant token.
 * @property {number} [lastServerSeq] Last server sequence seen (from a previous page).
 * @property {(url: string) => SocketLike} createSocket
 * @property {Timers} timers
 * @property {(welcome: Welcome, needSnapshot: boolean) => void} onWelcome
 * @property {(frame: Frame) => void} onFrame Sequenced frames from the server, each once.
 * @property {(error: ErrorBody) => void} [onFatal] The server refused us for good; no reconnect.
 * @property {(state: TransportState) => void} [onState]
 * @property {(lastServerSeq: number) => void} [onPersist] Called with the sequence of every frame
 *   received, before it is handed on, so a page load never has the server replay a frame this
 *   page already applied.
 * @property {(tag: FrameTag, body: any, bytes: number) => void} [onOversize] A frame larger than
 *   the server accepts: it was not numbered or sent, and the caller may send it in smaller parts.
 * @property {number} [maxOutboxFrames]
 * @property {number} [maxOutboxBytes]
 * @property {number} [ackEvery] Acknowledge after this many frames...
 * @property {number} [ackDelayMs] ...or this long after the first unacknowledged one.
 * @property {() => number} [random]
 * @property {boolean} [compression] Offer compression when the browser and the socket can (default true).
 * @property {import('./compression_worker.js').WorkerScope} [workerScope] Where the compression
 *   worker comes from (default: the global scope; tests pass their own).
 */

/** @typedef {'idle' | 'connecting' | 'open' | 'reconnecting' | 'closed'} TransportState */

/** Error codes after which reconnecting cannot help. */
const TERMINAL_CODES = new Set(['unauthorized', 'session_not_found', 'session_ended', 'version_mismatch', 'superseded', 'hello_required', 'wrong_role']);

export class Transport {
  /** @param {TransportOptions} options */
  constructor(options) {
    this.options = options;
    this.timers = options.timers;
    /** @type {TransportState} */
    this.state = 'idle';
    /** @type {SocketLike | null} */
    this.socket = null;
    this.lastServerSeq = options.lastServerSeq ?? 0;
    /** The next sequence to use; 0 until the first welcome says where to start. */
    this.nextSeq = 0;
    /** Sent (or waiting to be sent) and not yet acknowledged, oldest first. */
    /** @type {Array<{seq: number, text: string}>} */
    this.outbox = [];
    this.outboxBytes = 0;
    /** Frames produced before the first welcome, numbered when it arrives. */
    /** @type {Array<{tag: FrameTag, body: unknown}>} */
    this.unnumbered = [];
    this.unacked = 0;
    /** @type {unknown} */
    this.ackTimer = null;
    /** @type {unknown} */
    this.retryTimer = null;
    /** @type {unknown} */
    this.watchdog = null;
    this.attempt = 0;
    this.heartbeatMs = 0;
    this.maxFrameBytes = Infinity;
    this.lastHeard = 0;
    /** @type {ErrorBody | null} */
    this.fatalError = null;
    this.maxOutboxFrames = options.maxOutboxFrames ?? 5000;
    this.maxOutboxBytes = options.maxOutboxBytes ?? 32 * 1024 * 1024;
    /** The current socket's writer and reader, which compress and keep order. */
    /** @type {FrameWriter | null} */
    this.writer = null;
    /** @type {FrameReader | null} */
    this.reader = null;
    /** What this socket's hello offered. @type {string[] | undefined} */
    this.offered = undefined;
    /** Compresses large frames off the page's main thread; lives as long as the transport. */
    this.compressor = new WorkerCompressor(options.workerScope);
  }

  /** Opens the socket (and keeps reopening it until `close()`). */
  connect() {
    if (this.state === 'closed' || this.socket) return;
    this.#setState(this.state === 'idle' ? 'connecting' : 'reconnecting');
    let socket;
    try {
      socket = this.options.createSocket(this.options.url);
    } catch {
      this.#scheduleReconnect();
      return;
    }
    this.socket = socket;
    this.fatalError = null;
    const writer = new FrameWriter((data) => socket.send(data), this.compressor.compress);
    const reader = new FrameReader((text) => {
      if (this.socket === socket) this.#receive(text);
    });
    this.#dropPipes();
    this.writer = writer;
    this.reader = reader;
    this.offered = this.options.compression === false ? undefined : offerFor(socket);
    socket.onopen = () => {
      this.lastHeard = this.timers.now();
      /** @type {import('../protocol.js').Hello} */
      const hello = { v: PROTOCOL_VERSION, session: this.options.session, token: this.options.token, ack: this.lastServerSeq };
      if (this.offered) hello.z = this.offered;
      writer.write(encodeFrame('hello', 0, hello));
    };
    socket.onmessage = (event) => {
      if (this.socket === socket) reader.read(event.data);
    };
    socket.onclose = () => {
      if (this.socket === socket) this.#closed();
    };
    socket.onerror = () => {};
  }

  /**
   * Sends a frame: control frames with seq 0 and only while open; others are numbered, kept
   * until acknowledged, and sent now if the socket is open (else on reconnect).
   * @template {FrameTag} T
   * @param {T} tag
   * @param {FrameBodies[T]} body
   * @returns {number} The frame's sequence (0 for control frames or frames not yet numbered).
   */
  send(tag, body) {
    if (this.state === 'closed') return 0;
    if (isControlTag(tag)) {
      if (this.state === 'open') this.#transmit(encodeFrame(tag, 0, body));
      return 0;
    }
    if (this.nextSeq === 0) {
      this.unnumbered.push({ tag, body });
      return 0;
    }
    const seq = this.nextSeq;
    const text = encodeFrame(tag, seq, body);
    const bytes = this.#oversize(text);
    if (bytes > 0) {
      // Not numbered: the server sees no gap. The caller decides what to send instead.
      this.options.onOversize?.(tag, body, bytes);
      return -1;
    }
    this.nextSeq++;
    this.#keep(seq, text);
    if (this.state === 'open') this.#transmit(text);
    return seq;
  }

  /**
   * Stops taking part without closing the session: nothing more is sent, received or
   * acknowledged, and there is no reconnect. Used when another tab takes the session over: the
   * server closes this socket (superseded) once that tab connects; after `graceMs` it is closed
   * here anyway.
   * @param {number} graceMs
   */
  detach(graceMs) {
    if (this.state === 'closed') return;
    this.#setState('closed');
    this.#clearTimers();
    const socket = this.socket;
    this.socket = null;
    this.#dropPipes();
    this.compressor.close();
    this.outbox = [];
    this.outboxBytes = 0;
    if (!socket) return;
    socket.onmessage = null;
    socket.onclose = null;
    const timer = this.timers.setTimeout(() => {
      try {
        socket.close(1000, 'handed over');
      } catch {
        // already closed
      }
    }, graceMs);
    socket.onclose = () => this.timers.clearTimeout(timer);
  }

  /** Closes for good: no reconnect, nothing more is sent. */
  close() {
    if (this.state === 'closed') return;
    this.#setState('closed');
    this.#clearTimers();
    const socket = this.socket;
    this.socket = null;
    this.#dropPipes();
    this.compressor.close();
    if (socket) {
      socket.onclose = null;
      socket.onmessage = null;
      try {
        socket.close(1000, 'bye');
      } catch {
        // already closed
      }
    }
    this.outbox = [];
    this.outboxBytes = 0;
  }

  /** Acknowledges now what arrived so far. */
  flushAck() {
    if (this.ackTimer !== null) this.timers.clearTimeout(this.ackTimer);
    this.ackTimer = null;
    if (this.unacked === 0) return;
    this.unacked = 0;
    this.send('ack', { a: this.lastServerSeq });
  }

  /**
   * @param {number} seq
   * @param {string} text
   */
  #keep(seq, text) {
    this.outbox.push({ seq, text });
    this.outboxBytes += text.length;
    // Bounded: the oldest frames go first. A reconnect that needs them sees the gap and
    // answers with a fresh snapshot instead.
    while (this.outbox.length > this.maxOutboxFrames || (this.outboxBytes > this.maxOutboxBytes && this.outbox.length > 1)) {
      const dropped = /** @type {{seq: number, text: string}} */ (this.outbox.shift());
      this.outboxBytes -= dropped.text.length;
    }
  }

  /**
   * The frame's size in bytes when the server would refuse it as too large, else 0.
   * @param {string} text
   * @returns {number}
   */
  #oversize(text) {
    const max = this.maxFrameBytes;
    if (text.length * 3 <= max) return 0; // UTF-8 takes at most three bytes per UTF-16 unit
    if (text.length > max) return text.length;
    const bytes = new TextEncoder().encode(text).length;
    return bytes > max ? bytes : 0;
  }

  /** @param {string} text */
  #transmit(text) {
    this.writer?.write(text);
  }

  /** Forgets the socket's writer and reader: frames still compressing are resent from the outbox. */
  #dropPipes() {
    this.writer?.close();
    this.reader?.close();
    this.writer = null;
    this.reader = null;
  }

  /** @param {string} text */
  #receive(text) {
    this.lastHeard = this.timers.now();
    /** @type {Frame} */
    let frame;
    try {
      frame = decodeFrame(text);
    } catch {
      return;
    }
    switch (frame.tag) {
      case 'welcome':
        this.#welcome(frame.body);
        return;
      case 'hb':
        if (!frame.body.reply) this.send('hb', { ts: frame.body.ts, reply: true });
        return;
      case 'ack':
        this.#acknowledged(frame.body.a);
        return;
      case 'error':
        if (frame.body.fatal) this.fatalError = frame.body;
        return;
      case 'hello':
        return;
      default:
        break;
    }
    if (frame.seq <= this.lastServerSeq) return; // replayed: already applied
    this.lastServerSeq = frame.seq;
    this.options.onPersist?.(frame.seq);
    this.unacked++;
    if (this.unacked >= (this.options.ackEvery ?? 20)) {
      this.flushAck();
    } else if (this.ackTimer === null) {
      this.ackTimer = this.timers.setTimeout(() => {
        this.ackTimer = null;
        this.flushAck();
      }, this.options.ackDelayMs ?? 200);
    }
    this.options.onFrame(frame);
  }

  /** @param {number} upTo */
  #acknowledged(upTo) {
    while (this.outbox.length > 0 && this.outbox[0].seq <= upTo) {
      const done = /** @type {{seq: number, text: string}} */ (this.outbox.shift());
      this.outboxBytes -= done.text.length;
    }
  }

  /** @param {Welcome} welcome */
  #welcome(welcome) {
    this.attempt = 0;
    this.heartbeatMs = welcome.heartbeat_ms || 0;
    this.maxFrameBytes = welcome.max_frame_bytes || Infinity;
    this.#acknowledged(welcome.ack);
    let needSnapshot = welcome.snapshot_needed === true;
    if (this.outbox.length > 0 && this.outbox[0].seq !== welcome.ack + 1) needSnapshot = true;
    if (this.nextSeq !== 0 && this.outbox.length === 0 && this.nextSeq !== welcome.ack + 1) needSnapshot = true;
    if (needSnapshot) {
      this.outbox = [];
      this.outboxBytes = 0;
    }
    if (this.outbox.length === 0) this.nextSeq = welcome.ack + 1;
    this.writer?.agree(agreed(welcome.z, this.offered));
    this.#setState('open');
    for (const { text } of this.outbox) this.#transmit(text);
    const early = this.unnumbered.splice(0);
    this.options.onWelcome(welcome, needSnapshot);
    for (const { tag, body } of early) this.send(tag, /** @type {any} */ (body));
    this.#armWatchdog();
  }

  #armWatchdog() {
    if (this.watchdog !== null) this.timers.clearInterval(this.watchdog);
    this.watchdog = null;
    if (!this.heartbeatMs) return;
    this.watchdog = this.timers.setInterval(() => {
      if (this.state === 'open' && this.timers.now() - this.lastHeard > 3 * this.heartbeatMs) {
        // The server went silent: drop the socket and reconnect.
        const socket = this.socket;
        this.#closed();
        try {
          socket?.close(4000, 'heartbeat timeout');
        } catch {
          // ignore
        }
      }
    }, this.heartbeatMs);
  }

  #closed() {
    const socket = this.socket;
    this.socket = null;
    this.#dropPipes();
    if (socket) {
      socket.onclose = null;
      socket.onmessage = null;
    }
    if (this.state === 'closed') return;
    if (this.watchdog !== null) this.timers.clearInterval(this.watchdog);
    this.watchdog = null;
    if (this.ackTimer !== null) this.timers.clearTimeout(this.ackTimer);
    this.ackTimer = null;
    const fatal = this.fatalError;
    if (fatal && TERMINAL_CODES.has(fatal.code)) {
      this.close();
      this.options.onFatal?.(fatal);
      return;
    }
    this.#setState('reconnecting');
    this.#scheduleReconnect();
  }

  #scheduleReconnect() {
    if (this.retryTimer !== null || this.state === 'closed') return;
    const base = Math.min(500 * 2 ** this.attempt, 10_000);
    const random = this.options.random ?? Math.random;
    const delay = Math.round(base * (0.5 + random() / 2));
    this.attempt++;
    this.retryTimer = this.timers.setTimeout(() => {
      this.retryTimer = null;
      this.connect();
    }, delay);
  }

  #clearTimers() {
    for (const timer of [this.ackTimer, this.retryTimer]) if (timer !== null) this.timers.clearTimeout(timer);
    if (this.watchdog !== null) this.timers.clearInterval(this.watchdog);
    this.ackTimer = this.retryTimer = this.watchdog = null;
  }

  /** @param {TransportState} state */
  #setState(state) {
    if (this.state === state) return;
    this.state = state;
    this.options.onState?.(state);
  }
}
