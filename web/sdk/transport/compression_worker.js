// Compressing frames on a worker thread: deflating a 600 KB snapshot takes a main thread 12-15 ms
// here. The SDK hands a frame's text to a worker and sends the bytes that come back, the
// same bytes `compressFrame` writes (docs/protocol.md, section 11). The SDK is served from another
// origin than the page, so the worker comes from a Blob URL; where the page's CSP or Trusted
// Types forbid that, or the worker fails, frames are compressed on the main thread as before.

import { DEFLATE_RAW, FORMAT_DEFLATE_RAW, compressFrame, through } from './wire_compression.js';

/** The worker's program: deflates each text it is sent and posts back the binary message. */
const WORKER_SOURCE = `${through}
const encoder = new TextEncoder();
onmessage = async (event) => {
  const { id, text } = event.data;
  try {
    const deflated = await ${through.name}(encoder.encode(text), new CompressionStream('${DEFLATE_RAW}'));
    const message = new Uint8Array(deflated.length + 1);
    message[0] = ${FORMAT_DEFLATE_RAW};
    message.set(deflated, 1);
    postMessage({ id, message }, [message.buffer]);
  } catch {
    postMessage({ id, message: null });
  }
};`;

/**
 * The part of the global scope a worker needs; tests pass their own.
 * @typedef {{Worker?: any, Blob?: any, URL?: any}} WorkerScope
 */

/**
 * Compresses frames on one worker, started on first use, or on the main thread when there is no
 * worker to be had. One per transport; `close` ends the worker.
 */
export class WorkerCompressor {
  /**
   * @param {WorkerScope} [scope]
   * @param {number} [startAfter] Characters compressed on the main thread before a worker is
   *   worth starting (starting one costs the page a few ms): a quiet session never starts one,
   *   a large snapshot or a stream of batches does.
   */
  constructor(scope = globalThis, startAfter = 64 * 1024) {
    this.scope = scope;
    this.startAfter = startAfter;
    /** @type {any} */
    this.worker = null;
    /** False once a worker could not be started or failed: compress on the main thread. */
    this.usable = typeof scope.Worker === 'function' && typeof scope.Blob === 'function' && typeof scope.URL?.createObjectURL === 'function';
    this.nextId = 1;
    /** Texts the worker has not answered yet, each with its promise's settle functions. */
    /** @type {Map<number, {text: string, resolve: (message: Uint8Array) => void, reject: (error: unknown) => void}>} */
    this.jobs = new Map();
    /** The worker's Blob URL, revoked once the worker has run (it needs it until then). */
    this.url = '';
    /** The bound method, handed to `FrameWriter`. */
    this.compress = (/** @type {string} */ text) => this.#compress(text);
  }

  /**
   * @param {string} text
   * @returns {Promise<Uint8Array>}
   */
  #compress(text) {
    if (!this.worker && this.startAfter > text.length) {
      this.startAfter -= text.length;
      return compressFrame(text);
    }
    const worker = this.usable ? this.worker ?? this.#start() : null;
    if (!worker) return compressFrame(text);
    const id = this.nextId++;
    // The text itself, encoded to UTF-8 on the worker: copying a 600 KB snapshot's string into
    // the message cost the page 0-0.5 ms, encoding it and transferring the bytes 0.7-3.6 ms.
    return new Promise((resolve, reject) => {
      this.jobs.set(id, { text, resolve, reject });
      worker.postMessage({ id, text });
    });
  }

  /** @returns {any} the worker, or null when none can run here */
  #start() {
    const { Worker, Blob, URL } = this.scope;
    try {
      this.url = URL.createObjectURL(new Blob([WORKER_SOURCE], { type: 'text/javascript' }));
      const worker = new Worker(this.url);
      worker.onmessage = (/** @type {MessageEvent} */ event) => {
        this.#revoke();
        const { id, message } = event.data;
        const job = this.jobs.get(id);
        if (!job) return;
        this.jobs.delete(id);
        if (message) job.resolve(message);
        else compressFrame(job.text).then(job.resolve, job.reject);
      };
      // A worker the page's CSP refused, or one that broke: take its work back and stop using it.
      worker.onerror = worker.onmessageerror = () => this.#fallBack();
      this.worker = worker;
      return worker;
    } catch {
      this.#revoke();
      this.usable = false;
      return null;
    }
  }

  #revoke() {
    if (this.url) this.scope.URL.revokeObjectURL(this.url);
    this.url = '';
  }

  /** Compresses whatever the worker still had on the main thread, and everything from now on. */
  #fallBack() {
    this.#revoke();
    this.usable = false;
    this.worker?.terminate();
    this.worker = null;
    const jobs = [...this.jobs.values()];
    this.jobs.clear();
    for (const job of jobs) compressFrame(job.text).then(job.resolve, job.reject);
  }

  /** Ends the worker; frames it had not answered are dropped (the transport resends them). */
  close() {
    this.#revoke();
    this.worker?.terminate();
    this.worker = null;
    for (const job of this.jobs.values()) job.reject(new Error('closed'));
    this.jobs.clear();
  }
}
