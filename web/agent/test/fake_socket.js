// A stand-in for the browser's WebSocket in the workspace transport's tests. Made with
// `{ binary: true }` it has `binaryType`, as a real socket does, so the transport offers
// compression on it; without, it looks like an older socket and frames stay text.
import assert from 'node:assert/strict';
import { inflateRawSync } from 'node:zlib';

export class FakeSocket {
  /** @param {string} [url] @param {{binary?: boolean}} [options] */
  constructor(url = '', { binary = false } = {}) {
    this.url = url;
    if (binary) /** @type {any} */ (this).binaryType = 'blob';
    this.readyState = 0;
    /** @type {Array<string | Uint8Array>} */
    this.sent = [];
    /** @type {((ev: {data: unknown}) => void) | null} */
    this.onmessage = null;
    /** @type {(() => void) | null} */
    this.onopen = null;
    /** @type {((ev: {code?: number}) => void) | null} */
    this.onclose = null;
    /** @type {(() => void) | null} */
    this.onerror = null;
    this.closed = false;
  }
  /** @param {string | Uint8Array} data */
  send(data) {
    this.sent.push(data);
  }
  close() {
    this.closed = true;
    this.readyState = 3;
  }
  open() {
    this.readyState = 1;
    this.onopen?.();
  }
  /** Delivers text or bytes as they are, anything else as JSON text. @param {unknown} data */
  deliver(data) {
    this.onmessage?.({ data: typeof data === 'string' || data instanceof ArrayBuffer ? data : JSON.stringify(data) });
  }
  drop() {
    this.readyState = 3;
    this.onclose?.({ code: 1006 });
  }
  /** Every message sent, as a frame; binary ones are inflated as the server would. @returns {any[]} */
  frames() {
    return this.sent.map((m) => {
      if (typeof m === 'string') return JSON.parse(m);
      assert.equal(m[0], 1, 'format byte 1: deflate-raw');
      return JSON.parse(inflateRawSync(m.subarray(1)).toString('utf8'));
    });
  }
}
