// The workspace's transport with compressed frames (docs/protocol.md section 11): it offers
// deflate-raw, inflates the server's binary frames in order, and compresses its own large frames.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Transport } from '../transport.js';
import { compressFrame } from '../../sdk/transport/wire_compression.js';
import { FakeSocket } from './fake_socket.js';

/** @typedef {import('../transport.js').SocketLike} SocketLike */
/** @typedef {import('../../sdk/protocol.js').Frame} Frame */

/** @param {() => boolean} done */
async function until(done) {
  const deadline = Date.now() + 5000;
  while (!done()) {
    assert.ok(Date.now() < deadline, 'timed out waiting for the streams');
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

const Z = { enc: 'deflate-raw', min: 1024 };
/** @param {number} ack @param {object | null} z what the server agreed; null: an older server */
const welcome = (ack = 0, z = /** @type {object | null} */ (Z)) => ['welcome', 0, { v: 1, session: '123456789', role: 'agent', state: 'active', mode: 'pointer', write_mode_allowed: true, mode_request_pending: false, ack, participants: [], heartbeat_ms: 5000, max_frame_bytes: 1 << 20, ...(z ? { z } : {}) }];

/** A snapshot body of about `bytes` bytes. @param {number} bytes */
function page(bytes) {
  const c = [];
  for (let i = 2; JSON.stringify(c).length < bytes; i++) c.push({ id: i, k: 'e', n: 'li', a: { class: 'product-row' } });
  return { url: 'https://shop.example/', title: 'Shop', charset: 'UTF-8', mode: 'standards', vp: { w: 800, h: 600, dpr: 1 }, doc: { id: 1, k: 'd', c } };
}

function harness() {
  /** @type {FakeSocket[]} */
  const sockets = [];
  /** @type {Frame[]} */
  const received = [];
  const transport = new Transport({
    url: 'ws://h/ws/v1',
    session: '123456789',
    token: 'tok',
    onFrame: (f) => received.push(f),
    connect: () => {
      const s = new FakeSocket('', { binary: true });
      sockets.push(s);
      return /** @type {SocketLike} */ (s);
    },
    setTimer: () => 0,
    clearTimer: () => {},
    random: () => 0.5,
  });
  transport.start();
  sockets[0].open();
  return { transport, sockets, received };
}

test('the workspace offers deflate-raw and sets the socket to hand over bytes', () => {
  const { sockets } = harness();
  assert.deepEqual(sockets[0].frames()[0], ['hello', 0, { v: 1, session: '123456789', token: 'tok', ack: 0, z: ['deflate-raw'] }]);
  assert.equal(/** @type {any} */ (sockets[0]).binaryType, 'arraybuffer');
});

test('compressed frames from the server are inflated and applied in order with text ones', async () => {
  const { sockets, received } = harness();
  const socket = sockets[0];
  socket.deliver(welcome());
  const body = page(4000);
  socket.deliver((await compressFrame(JSON.stringify(['snapshot', 1, body]))).buffer);
  socket.deliver(['pointer', 2, { x: 10, y: 20 }]);
  socket.deliver((await compressFrame(JSON.stringify(['mut', 3, { ops: [['text', 2, 'x'.repeat(2000)]] }]))).buffer);
  await until(() => received.length === 4);
  assert.deepEqual(received.map((f) => [f.tag, f.seq]), [['welcome', 0], ['snapshot', 1], ['pointer', 2], ['mut', 3]]);
  assert.deepEqual(received[1].body, body);
  assert.equal(sockets.length, 1, 'no gap was seen, so no reconnect');
});

test('a compressed frame that cannot be read counts as missing: the gap check reconnects', async () => {
  const { sockets, received } = harness();
  sockets[0].deliver(welcome());
  sockets[0].deliver(['pointer', 1, { x: 1, y: 1 }]);
  sockets[0].deliver(new Uint8Array([1, 0xff, 0xff]).buffer);
  sockets[0].deliver(['pointer', 3, { x: 3, y: 3 }]);
  await until(() => sockets.length === 2);
  assert.deepEqual(received.filter((f) => f.tag === 'pointer').map((f) => f.seq), [1]);
  sockets[1].open();
  assert.equal(sockets[1].frames()[0][2].ack, 1, 'the reconnect asks for a replay after the last frame applied');
});

test('large frames the agent sends go compressed, small ones as text, in order', async () => {
  const { transport, sockets } = harness();
  const socket = sockets[0];
  socket.deliver(welcome());
  const value = 'a long pasted address '.repeat(80);
  transport.send('action', { aid: 1, do: 'input', id: 8, value });
  transport.send('pointer', { x: 1, y: 2 });
  await until(() => socket.sent.length === 4);
  const frames = socket.frames().filter((f) => f[1] !== 0);
  assert.deepEqual(frames, [['action', 1, { aid: 1, do: 'input', id: 8, value }], ['pointer', 2, { x: 1, y: 2 }]]);
  const kinds = socket.sent.map((m) => typeof m);
  assert.deepEqual(kinds, ['string', 'string', 'object', 'string'], 'hello, ping, the action compressed, the pointer');
});

test('a server that does not agree gets text only', () => {
  const { transport, sockets } = harness();
  sockets[0].deliver(welcome(0, null));
  transport.send('action', { aid: 1, do: 'input', id: 8, value: 'x'.repeat(5000) });
  assert.equal(typeof sockets[0].sent.at(-1), 'string');
  assert.equal(sockets[0].frames().at(-1)[0], 'action');
});
