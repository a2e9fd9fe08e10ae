// Compression on a worker: the worker's own program (run here in a VM context, as a browser
// would run it from the Blob URL) writes the same bytes as the main-thread codec, and when no
// worker can be had (the page's CSP, Trusted Types) or it fails, frames are still compressed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resolveObjectURL } from 'node:buffer';
import { inflateRawSync } from 'node:zlib';
import vm from 'node:vm';
import { WorkerCompressor } from '../transport/compression_worker.js';
import { FrameWriter, compressFrame } from '../transport/wire_compression.js';

/**
 * A Worker that runs the script behind its Blob URL in a VM context with what a browser worker
 * has for this job (Blob, CompressionStream, Response); messages cross asynchronously.
 */
class VmWorker {
  /** @type {VmWorker[]} */
  static started = [];

  /** @param {string} url */
  constructor(url) {
    VmWorker.started.push(this);
    /** @type {((event: {data: any}) => void) | null} */
    this.onmessage = null;
    /** @type {(() => void) | null} */
    this.onerror = null;
    /** @type {(() => void) | null} */
    this.onmessageerror = null;
    this.posted = 0;
    this.terminated = false;
    const blob = /** @type {Blob} */ (resolveObjectURL(url));
    /** @type {any} */
    const context = vm.createContext({
      Blob, CompressionStream, Response, TextEncoder, Uint8Array,
      postMessage: (/** @type {any} */ data) => setTimeout(() => !this.terminated && this.onmessage?.({ data })),
    });
    this.ready = blob.text().then((source) => {
      vm.runInContext(source, context);
      return context;
    });
  }

  /** @param {any} data */
  postMessage(data) {
    this.posted++;
    this.ready.then((context) => !this.terminated && context.onmessage({ data }));
  }

  terminate() {
    this.terminated = true;
  }
}

const frame = (/** @type {number} */ n) => JSON.stringify(['mut', n, { ops: Array.from({ length: 400 }, (_, i) => ['attr', i, 'class', `row ${n} ✓`]) }]);

test('the worker writes exactly what the main-thread codec writes', async () => {
  VmWorker.started = [];
  const compressor = new WorkerCompressor({ Worker: VmWorker, Blob, URL }, 0);
  const text = frame(1);
  const [fromWorker, fromMain] = await Promise.all([compressor.compress(text), compressFrame(text)]);
  assert.equal(VmWorker.started.length, 1);
  assert.equal(VmWorker.started[0].posted, 1, 'the worker did the work');
  assert.deepEqual(fromWorker, fromMain);
  assert.equal(fromWorker[0], 1, 'format byte 1: deflate-raw');
  assert.equal(inflateRawSync(fromWorker.subarray(1)).toString('utf8'), text);
  await compressor.compress(frame(2));
  assert.equal(VmWorker.started.length, 1, 'one worker for every frame');
  compressor.close();
  assert.ok(VmWorker.started[0].terminated);
});

test('where no worker may start, frames are compressed on the main thread', async () => {
  let tried = 0;
  const refused = class {
    constructor() {
      tried++;
      throw new Error('Refused to create a worker: Content Security Policy');
    }
  };
  const compressor = new WorkerCompressor({ Worker: refused, Blob, URL }, 0);
  const text = frame(3);
  assert.deepEqual(await compressor.compress(text), await compressFrame(text));
  await compressor.compress(frame(4));
  assert.equal(tried, 1, 'not tried again for every frame');
  const none = new WorkerCompressor({});
  assert.deepEqual(await none.compress(text), await compressFrame(text), 'a scope without Worker');
});

test('a worker that fails hands its frames back, and the writer still sends them in order', async () => {
  VmWorker.started = [];
  const compressor = new WorkerCompressor({ Worker: VmWorker, Blob, URL }, 0);
  /** @type {Array<string | Uint8Array>} */
  const sent = [];
  const writer = new FrameWriter((data) => sent.push(data), compressor.compress, 0);
  writer.agree({ enc: 'deflate-raw', min: 1024 });
  const texts = [frame(5), '["pointer",6,{"x":1,"y":2}]', frame(7)];
  for (const text of texts) writer.write(text);
  const worker = VmWorker.started[0];
  worker.terminate(); // it never answers...
  worker.onerror?.(); // ...and reports an error, as a worker blocked by the page's CSP does
  const deadline = Date.now() + 5000;
  while (writer.waiting > 0) {
    assert.ok(Date.now() < deadline, 'timed out');
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  assert.deepEqual(sent.map((m) => (typeof m === 'string' ? m : inflateRawSync(m.subarray(1)).toString('utf8'))), texts);
  assert.ok(sent[0] instanceof Uint8Array && sent[2] instanceof Uint8Array, 'still compressed');
  writer.write(frame(8));
  assert.equal(VmWorker.started.length, 1, 'no new worker after a failure');
});

test('a worker starts only once enough text was compressed to be worth it', async () => {
  VmWorker.started = [];
  const compressor = new WorkerCompressor({ Worker: VmWorker, Blob, URL }, 3 * frame(1).length);
  await compressor.compress(frame(1));
  await compressor.compress(frame(2));
  assert.equal(VmWorker.started.length, 0, 'small frames of a quiet session: on the main thread');
  const text = frame(3);
  assert.deepEqual(await compressor.compress(text), await compressFrame(text));
  assert.equal(VmWorker.started.length, 1);
  assert.equal(VmWorker.started[0].posted, 1);
  const big = new WorkerCompressor({ Worker: VmWorker, Blob, URL }, 1000);
  await big.compress(frame(4));
  assert.equal(VmWorker.started.length, 2, 'a frame larger than the allowance goes to a worker at once');
  compressor.close();
  big.close();
});
