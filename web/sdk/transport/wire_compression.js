// Compressed frames on the co-browse socket (docs/protocol.md, section 11), shared by the SDK's
// transport and the agent workspace's.
//
// A client offers 'deflate-raw' in hello when the browser has CompressionStream and
// DecompressionStream for it; once welcome agrees, frames of at least `min` characters go out as a
// binary message (format byte 1, then the raw DEFLATE of the frame's text) and binary messages
// from the server are inflated. Frames up to SYNC_DEFLATE_MAX characters are compressed at once
// (deflate_sync.js); larger ones, and every inflation, go through the browser's asynchronous
// streams, so a FrameWriter and a FrameReader per socket keep frames in order: a small frame
// queued behind a large one waits for it.

import { SyncDeflater } from './deflate_sync.js';

/** The one encoding this build speaks. */
export const DEFLATE_RAW = 'deflate-raw';
/** First byte of a binary message holding a raw-DEFLATE frame. */
export const FORMAT_DEFLATE_RAW = 1;

/** @typedef {import('../protocol.js').WireCompression} WireCompression */

/**
 * The part of the global scope compression needs; tests pass a scope without it.
 * @typedef {{CompressionStream?: any, DecompressionStream?: any}} CompressionScope
 */

/**
 * Whether this browser can write and read 'deflate-raw' streams.
 * @param {CompressionScope} [scope]
 * @returns {boolean}
 */
export function canCompress(scope = globalThis) {
  try {
    new scope.CompressionStream(DEFLATE_RAW);
    new scope.DecompressionStream(DEFLATE_RAW);
    return true;
  } catch {
    return false;
  }
}

/**
 * What to offer in `hello.z` on `socket`: nothing unless the socket can hand over binary messages
 * as bytes (it has `binaryType`, set here to 'arraybuffer') and the browser can compress.
 * @param {object} socket
 * @param {CompressionScope} [scope]
 * @returns {string[] | undefined}
 */
export function offerFor(socket, scope = globalThis) {
  if (!('binaryType' in socket) || !canCompress(scope)) return undefined;
  /** @type {{binaryType: string}} */ (socket).binaryType = 'arraybuffer';
  return [DEFLATE_RAW];
}

/**
 * The agreement in `welcome.z`, if it is one this client offered and understands.
 * @param {WireCompression | undefined} z
 * @param {string[] | undefined} offered
 * @returns {WireCompression | null}
 */
export function agreed(z, offered) {
  if (!offered || !z || z.enc !== DEFLATE_RAW || !offered.includes(z.enc)) return null;
  return { enc: DEFLATE_RAW, min: Number.isFinite(z.min) && z.min > 0 ? z.min : 1024 };
}

/**
 * Runs `bytes` through a (de)compression stream, written to it directly (a `Blob`'s stream is
 * several times slower). The worker runs this function's text: it uses nothing else here.
 * @param {Uint8Array<ArrayBuffer>} bytes
 * @param {CompressionStream | DecompressionStream} transform
 * @returns {Promise<Uint8Array>}
 */
export async function through(bytes, transform) {
  const writer = transform.writable.getWriter();
  // A failure shows on the readable side, which is awaited below.
  writer.write(bytes).catch(() => {});
  writer.close().catch(() => {});
  return new Uint8Array(await new Response(transform.readable).arrayBuffer());
}

/**
 * The binary message for a frame's text: the format byte, then its raw DEFLATE.
 * @param {string} text
 * @returns {Promise<Uint8Array>}
 */
export async function compressFrame(text) {
  const deflated = await through(new TextEncoder().encode(text), new CompressionStream(DEFLATE_RAW));
  const message = new Uint8Array(deflated.length + 1);
  message[0] = FORMAT_DEFLATE_RAW;
  message.set(deflated, 1);
  return message;
}

/**
 * The frame text inside a binary message.
 * @param {ArrayBuffer | ArrayBufferView | Blob} data
 * @returns {Promise<string>}
 */
export async function decompressFrame(data) {
  const bytes = await bytesOf(data);
  if (bytes[0] !== FORMAT_DEFLATE_RAW) throw new Error(`unknown compressed frame format ${bytes[0]}`);
  const inflated = await through(/** @type {Uint8Array<ArrayBuffer>} */ (bytes.subarray(1)), new DecompressionStream(DEFLATE_RAW));
  return new TextDecoder('utf-8', { fatal: true }).decode(inflated);
}

/** @param {ArrayBuffer | ArrayBufferView | Blob} data @returns {Promise<Uint8Array>} */
async function bytesOf(data) {
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return new Uint8Array(await data.arrayBuffer());
}

/**
 * Frames up to this many characters are compressed synchronously (`SyncDeflater`, about
 * 0.4 ms for the largest on a slow core) and leave in the task that wrote them; longer ones go
 * to `compress`, whose output is tighter and which the SDK runs on a worker.
 */
export const SYNC_DEFLATE_MAX = 24 * 1024;

/**
 * Writes frames to one socket in the order given, compressing the large ones once compression
 * is agreed. Frames that need no compression, and those compressed synchronously, go out at once
 * when nothing is waiting ahead of them. A frame whose compression fails goes out as text, which
 * the server always accepts.
 */
export class FrameWriter {
  /**
   * @param {(data: string | Uint8Array) => void} send
   * @param {(text: string) => Promise<Uint8Array>} [compress] How a frame longer than `syncMax`
   *   is compressed (the SDK's transport does it on a worker); the default works on the calling
   *   thread.
   * @param {number} [syncMax] The longest frame compressed synchronously.
   */
  constructor(send, compress = compressFrame, syncMax = SYNC_DEFLATE_MAX) {
    this.send = send;
    this.compress = compress;
    this.syncMax = syncMax;
    /** Made on the first frame it compresses: a session that sends none never allocates it. */
    /** @type {SyncDeflater | null} */
    this.deflater = null;
    /** @type {TextEncoder | null} */
    this.encoder = null;
    this.utf8 = new Uint8Array(0);
    /** @type {WireCompression | null} */
    this.compression = null;
    /** @type {Array<{data: string | Uint8Array | null}>} */
    this.queue = [];
    this.closed = false;
  }

  /**
   * Compress from now on (the welcome agreed it).
   * @param {WireCompression | null} compression
   */
  agree(compression) {
    this.compression = compression;
  }

  /**
   * @param {string} text
   * @returns {boolean} whether it went out at once (false: waiting behind a compression)
   */
  write(text) {
    if (this.closed) return false;
    const min = this.compression?.min ?? Infinity;
    const plain = text.length < min;
    const now = plain ? text : text.length <= this.syncMax ? this.#deflateNow(text) : null;
    if (now !== null && this.queue.length === 0) {
      this.send(now);
      return true;
    }
    /** @type {{data: string | Uint8Array | null}} */
    const entry = { data: now };
    this.queue.push(entry);
    if (entry.data === null) {
      this.compress(text).then(
        (message) => {
          entry.data = message;
          this.#drain();
        },
        () => {
          entry.data = text;
          this.#drain();
        },
      );
    }
    return false;
  }

  /**
   * The binary message for a frame, compressed on this thread; the text itself if that fails.
   * @param {string} text
   * @returns {string | Uint8Array}
   */
  #deflateNow(text) {
    try {
      // Encoded into a buffer kept between frames (UTF-8 takes at most 3 bytes per character).
      if (this.utf8.length < text.length * 3) this.utf8 = new Uint8Array(Math.max(text.length * 3, 4096));
      const { written } = (this.encoder ??= new TextEncoder()).encodeInto(text, this.utf8);
      const message = (this.deflater ??= new SyncDeflater()).deflate(this.utf8.subarray(0, written), 1);
      message[0] = FORMAT_DEFLATE_RAW;
      return message;
    } catch {
      return text;
    }
  }

  /** Frames not yet sent. */
  get waiting() {
    return this.queue.length;
  }

  /** Drops whatever waits: the socket is gone, and the transport resends from its own copies. */
  close() {
    this.closed = true;
    this.queue = [];
  }

  #drain() {
    while (!this.closed && this.queue.length > 0 && this.queue[0].data !== null) {
      const { data } = /** @type {{data: string | Uint8Array}} */ (this.queue.shift());
      try {
        this.send(data);
      } catch {
        this.close(); // the socket failed under us; its close event starts the reconnect
      }
    }
  }
}

/**
 * Hands on one socket's messages as frame text in the order they arrived, inflating binary ones.
 * A binary message that cannot be inflated is dropped (reported through `onBroken`); the
 * transport's sequence check notices the missing frame.
 */
export class FrameReader {
  /**
   * @param {(text: string) => void} deliver
   * @param {(error: unknown) => void} [onBroken]
   */
  constructor(deliver, onBroken) {
    this.deliver = deliver;
    this.onBroken = onBroken;
    /** @type {Array<{text: string | null, broken?: boolean}>} */
    this.queue = [];
    this.closed = false;
  }

  /** @param {unknown} data a message's `data`: text, or bytes of a compressed frame */
  read(data) {
    if (this.closed) return;
    if (typeof data === 'string' && this.queue.length === 0) {
      this.deliver(data);
      return;
    }
    /** @type {{text: string | null, broken?: boolean}} */
    const entry = { text: typeof data === 'string' ? data : null };
    this.queue.push(entry);
    if (entry.text !== null) return;
    decompressFrame(/** @type {ArrayBuffer} */ (data)).then(
      (text) => {
        entry.text = text;
        this.#drain();
      },
      (error) => {
        entry.text = '';
        entry.broken = true;
        this.onBroken?.(error);
        this.#drain();
      },
    );
  }

  /** Drops whatever waits: the socket is gone. */
  close() {
    this.closed = true;
    this.queue = [];
  }

  #drain() {
    while (!this.closed && this.queue.length > 0 && this.queue[0].text !== null) {
      const entry = /** @type {{text: string, broken?: boolean}} */ (this.queue.shift());
      if (!entry.broken) this.deliver(entry.text);
    }
  }
}
