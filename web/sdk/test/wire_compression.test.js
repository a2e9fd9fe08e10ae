// Compressed frames (docs/protocol.md section 11): the codec against zlib, the order-keeping
// writer and reader, and the SDK transport negotiating and using them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { Transport } from '../transport/transport.js';
import { FrameReader, FrameWriter, SYNC_DEFLATE_MAX, agreed, canCompress, compressFrame, decompressFrame, offerFor } from '../transport/wire_compression.js';

/** A fake real socket: it has `binaryType`, so the transport offers compression on it. */
class BinarySocket {
  constructor() {
    this.binaryType = 'blob';
    /** @type {Array<string | Uint8Array>} */
    this.sent = [];
    /** @type {((event: any) => void) | null} */
    this.onopen = null;
    /** @type {((event: {data: any}) => void) | null} */
    this.onmessage = null;
    /** @type {((event: any) => void) | null} */
    this.onclose = null;
    /** @type {((event: any) => void) | null} */
    this.onerror = null;
  }
  /** @param {string | Uint8Array} data */
  send(data) {
    this.sent.push(data);
  }
  close() {}
  /** @param {unknown[]} frame */
  receive(frame) {
    this.onmessage?.({ data: JSON.stringify(frame) });
  }
  /** @param {unknown} data */
  receiveRaw(data) {
    this.onmessage?.({ data });
  }
  /** Every message as frame text, inflating binary ones with zlib (as the server would). */
  texts() {
    return this.sent.map((m) => (typeof m === 'string' ? m : inflate(m)));
  }
}

/** @param {Uint8Array} message */
function inflate(message) {
  assert.equal(message[0], 1, 'format byte 1: deflate-raw');
  return inflateRawSync(message.subarray(1)).toString('utf8');
}

/**
 * Waits until `done()` holds (compression streams finish on zlib's thread pool), or fails.
 * @param {() => boolean} done
 */
async function until(done) {
  const deadline = Date.now() + 5000;
  while (!done()) {
    assert.ok(Date.now() < deadline, 'timed out waiting for the streams');
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

/** Gives streams that should not deliver anything a fair chance to (wrongly) do so. */
async function pause() {
  await new Promise((resolve) => setTimeout(resolve, 50));
}

const noTimers = {
  setTimeout: () => 0,
  clearTimeout: () => {},
  setInterval: () => 0,
  clearInterval: () => {},
  now: () => 0,
};

const WELCOME = { v: 1, session: '123456789', role: 'customer', state: 'pending', mode: 'pointer', write_mode_allowed: true, mode_request_pending: false, ack: 0, snapshot_needed: false, participants: [], heartbeat_ms: 0, max_frame_bytes: 1000000 };
const Z = { enc: 'deflate-raw', min: 1024 };

/** A snapshot body of about `bytes` bytes. @param {number} bytes */
function bigBody(bytes) {
  const items = [];
  for (let i = 0; JSON.stringify(items).length < bytes; i++) items.push({ id: i, k: 'e', n: 'li', a: { class: 'row' } });
  return /** @type {any} */ ({ url: 'https://shop.example/', items });
}

function setup(overrides = {}) {
  /** @type {BinarySocket[]} */
  const sockets = [];
  /** @type {any[]} */
  const received = [];
  const transport = new Transport({
    url: 'wss://x/ws/v1',
    session: '123456789',
    token: 'tok',
    createSocket: () => {
      const socket = new BinarySocket();
      sockets.push(socket);
      return socket;
    },
    timers: noTimers,
    random: () => 0.5,
    onWelcome: () => {},
    onFrame: (frame) => received.push(frame),
    ...overrides,
  });
  transport.connect();
  sockets[0].onopen?.({});
  return { transport, sockets, received };
}

test('only a browser with deflate-raw streams, on a socket that takes binary, offers compression', () => {
  assert.equal(canCompress(), true, 'Node, like Chromium, has CompressionStream("deflate-raw")');
  assert.equal(canCompress({}), false);
  assert.equal(canCompress({ CompressionStream: globalThis.CompressionStream }), false, 'both directions are needed');
  const socket = { binaryType: 'blob' };
  assert.deepEqual(offerFor(socket), ['deflate-raw']);
  assert.equal(socket.binaryType, 'arraybuffer', 'binary messages arrive as bytes');
  assert.equal(offerFor({}), undefined, 'a socket without binaryType');
  assert.equal(offerFor({ binaryType: 'blob' }, {}), undefined, 'a browser without CompressionStream');
  assert.deepEqual(agreed(/** @type {any} */ (Z), ['deflate-raw']), Z);
  assert.equal(agreed(undefined, ['deflate-raw']), null, 'the server did not agree');
  assert.equal(agreed(/** @type {any} */ (Z), undefined), null, 'we did not offer');
  assert.equal(agreed(/** @type {any} */ ({ enc: 'zstd', min: 1 }), ['deflate-raw']), null);
});

test('a compressed frame is byte 1 and raw DEFLATE that zlib reads, and zlib output reads back', async () => {
  const text = JSON.stringify(['snapshot', 1, bigBody(5000)]);
  const message = await compressFrame(text);
  assert.equal(message[0], 1);
  assert.ok(message.length < text.length / 4, `${message.length} of ${text.length}`);
  assert.equal(inflate(message), text);
  assert.equal(await decompressFrame(/** @type {ArrayBuffer} */ (message.buffer)), text, 'an ArrayBuffer, as the socket hands it');
  const fromZlib = Buffer.concat([Buffer.from([1]), deflateRawSync('["nav",4,{"title":"Überweisung ✓"}]')]);
  assert.equal(await decompressFrame(fromZlib), '["nav",4,{"title":"Überweisung ✓"}]');
  await assert.rejects(decompressFrame(Buffer.from([2, 1, 2, 3])), /format/);
  await assert.rejects(decompressFrame(Buffer.from([1, 0xff, 0xff])));
});

test('the writer keeps order: small frames wait behind a compressing one', async () => {
  /** @type {Array<string | Uint8Array>} */
  const sent = [];
  const writer = new FrameWriter((data) => sent.push(data), compressFrame, 0); // every large frame asynchronous
  assert.equal(writer.write('["hello",0,{}]'), true, 'nothing agreed: text goes out at once');
  writer.agree(/** @type {any} */ (Z));
  const big = JSON.stringify(['snapshot', 1, bigBody(4000)]);
  const bigger = JSON.stringify(['mut', 3, bigBody(20000)]);
  writer.write(big);
  writer.write('["pointer",2,{"x":1,"y":2}]');
  writer.write(bigger);
  writer.write('["ack",0,{"a":1}]');
  assert.equal(sent.length, 1, 'everything after the first large frame waits');
  assert.equal(writer.waiting, 4);
  await until(() => writer.waiting === 0);
  assert.deepEqual(
    sent.map((m) => (typeof m === 'string' ? m : inflate(m))),
    ['["hello",0,{}]', big, '["pointer",2,{"x":1,"y":2}]', bigger, '["ack",0,{"a":1}]'],
  );
  assert.deepEqual(sent.map((m) => typeof m), ['string', 'object', 'string', 'object', 'string']);
  writer.write(big);
  writer.close();
  await pause();
  assert.equal(sent.length, 5, 'a closed writer sends nothing more');
});

test('a frame up to the synchronous limit leaves compressed at once, in order with the rest', async () => {
  /** @type {Array<string | Uint8Array>} */
  const sent = [];
  const writer = new FrameWriter((data) => sent.push(data));
  writer.agree(/** @type {any} */ (Z));
  const middling = JSON.stringify(['mut', 1, bigBody(SYNC_DEFLATE_MAX - 200)]);
  assert.ok(middling.length <= SYNC_DEFLATE_MAX);
  assert.equal(writer.write(middling), true, 'sent in the calling task');
  assert.equal(sent.length, 1);
  assert.ok(sent[0] instanceof Uint8Array && sent[0].length < middling.length / 4, 'compressed');
  assert.equal(inflate(/** @type {Uint8Array} */ (sent[0])), middling);

  // Behind a frame still compressing asynchronously, a middling one waits its turn.
  const large = JSON.stringify(['snapshot', 2, bigBody(SYNC_DEFLATE_MAX + 5000)]);
  assert.equal(writer.write(large), false);
  assert.equal(writer.write(middling), false);
  assert.equal(writer.write('["pointer",3,{"x":1,"y":2}]'), false);
  assert.equal(sent.length, 1);
  await until(() => writer.waiting === 0);
  assert.deepEqual(sent.map((m) => (typeof m === 'string' ? m : inflate(m))), [middling, large, middling, '["pointer",3,{"x":1,"y":2}]']);

  // Characters outside ASCII survive the synchronous path.
  const accented = JSON.stringify(['nav', 4, { title: 'Überweisung ✓ 送金 '.repeat(200) }]);
  writer.write(accented);
  assert.equal(inflate(/** @type {Uint8Array} */ (sent.at(-1))), accented);
});

test('the reader keeps order and drops what cannot be inflated', async () => {
  /** @type {string[]} */
  const delivered = [];
  /** @type {unknown[]} */
  const broken = [];
  const reader = new FrameReader((text) => delivered.push(text), (error) => broken.push(error));
  const big = JSON.stringify(['snapshot', 5, bigBody(3000)]);
  reader.read('["mode",4,{}]');
  reader.read((await compressFrame(big)).buffer);
  reader.read('["pointer",6,{"x":1,"y":1}]');
  reader.read(new Uint8Array([1, 0xff, 0xff]).buffer);
  reader.read('["pointer",8,{"x":2,"y":2}]');
  assert.deepEqual(delivered, ['["mode",4,{}]'], 'text behind a binary message waits');
  await until(() => delivered.length === 4);
  assert.deepEqual(delivered, ['["mode",4,{}]', big, '["pointer",6,{"x":1,"y":1}]', '["pointer",8,{"x":2,"y":2}]']);
  assert.equal(broken.length, 1);
});

test('the transport offers compression, and once agreed sends large frames compressed in order', async () => {
  const { transport, sockets } = setup();
  const socket = sockets[0];
  assert.deepEqual(JSON.parse(/** @type {string} */ (socket.sent[0])), ['hello', 0, { v: 1, session: '123456789', token: 'tok', ack: 0, z: ['deflate-raw'] }]);
  socket.receive(['welcome', 0, { ...WELCOME, z: Z }]);
  const body = bigBody(6000);
  assert.equal(transport.send('snapshot', body), 1);
  assert.equal(transport.send('pointer', { x: 5, y: 6 }), 2);
  await until(() => socket.sent.length === 3);
  assert.equal(socket.sent.length, 3);
  assert.ok(socket.sent[1] instanceof Uint8Array, 'the snapshot went out as a binary message');
  assert.ok(/** @type {Uint8Array} */ (socket.sent[1]).length < 2000);
  assert.equal(typeof socket.sent[2], 'string', 'the pointer frame stayed text');
  assert.deepEqual(socket.texts().slice(1).map((t) => JSON.parse(t)), [['snapshot', 1, body], ['pointer', 2, { x: 5, y: 6 }]]);
  assert.equal(transport.outbox[0].text, socket.texts()[1], 'the outbox keeps the text it resends');
});

test('the transport inflates the server’s binary frames and applies them in order', async () => {
  const { sockets, received } = setup();
  const socket = sockets[0];
  socket.receive(['welcome', 0, { ...WELCOME, z: Z }]);
  const body = bigBody(3000);
  socket.receiveRaw((await compressFrame(JSON.stringify(['snapshot', 1, body]))).buffer);
  socket.receive(['mode', 2, { mode: 'pointer', by: 'agent' }]);
  assert.equal(received.length, 0, 'the mode frame waits for the snapshot ahead of it');
  await until(() => received.length === 2);
  assert.deepEqual(received.map((f) => [f.tag, f.seq]), [['snapshot', 1], ['mode', 2]]);
  assert.deepEqual(received[0].body, body);
});

test('without agreement, or with compression turned off, everything is text', async () => {
  const { transport, sockets } = setup();
  sockets[0].receive(['welcome', 0, WELCOME]); // an older server: no z
  transport.send('snapshot', bigBody(6000));
  assert.equal(typeof sockets[0].sent[1], 'string', 'sent at once, as text');

  const off = setup({ compression: false });
  assert.deepEqual(Object.keys(JSON.parse(/** @type {string} */ (off.sockets[0].sent[0]))[2]), ['v', 'session', 'token', 'ack'], 'no z offered');
  off.sockets[0].receive(['welcome', 0, { ...WELCOME, z: Z }]); // not offered: not used, whatever the server says
  off.transport.send('snapshot', bigBody(6000));
  assert.equal(typeof off.sockets[0].sent[1], 'string');
});

test('frames still compressing when the socket drops are resent on the next one', async () => {
  /** @type {Array<() => void>} */
  const due = [];
  const { transport, sockets } = setup({ timers: { ...noTimers, setTimeout: (/** @type {() => void} */ fn) => due.push(fn) } });
  sockets[0].receive(['welcome', 0, { ...WELCOME, z: Z }]);
  const body = bigBody(SYNC_DEFLATE_MAX + 8000); // too large to compress at once
  transport.send('snapshot', body);
  transport.send('pointer', { x: 1, y: 1 });
  sockets[0].onclose?.({}); // before the compression finished
  await pause();
  assert.equal(sockets[0].sent.length, 1, 'nothing more went to the dead socket');
  for (const fn of due.splice(0)) fn();
  assert.equal(sockets.length, 2);
  sockets[1].onopen?.({});
  sockets[1].receive(['welcome', 0, { ...WELCOME, z: Z }]);
  await until(() => sockets[1].sent.length === 3);
  assert.deepEqual(sockets[1].texts().slice(1).map((t) => JSON.parse(t)), [['snapshot', 1, body], ['pointer', 2, { x: 1, y: 1 }]]);
  assert.ok(sockets[1].sent[1] instanceof Uint8Array);
});
