import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Transport, socketUrl, ACK_EVERY_MS } from '../transport.js';
import { FakeSocket } from './fake_socket.js';

/** @typedef {import('../transport.js').SocketLike} SocketLike */
/** @typedef {import('../../sdk/protocol.js').Frame} Frame */

function harness() {
  /** @type {FakeSocket[]} */
  const sockets = [];
  /** @type {Array<{fn: () => void, at: number, handle: number}>} */
  let timers = [];
  let clock = 1000;
  let nextHandle = 1;
  /** @type {Frame[]} */
  const received = [];
  /** @type {string[]} */
  const statuses = [];
  /** @type {number[]} */
  const rtts = [];
  const transport = new Transport({
    url: 'ws://h/ws/v1',
    session: '123456789',
    token: 'tok',
    onFrame: (f) => received.push(f),
    onStatus: (s) => statuses.push(s),
    onRtt: (ms) => rtts.push(ms),
    connect: (url) => {
      const s = new FakeSocket(url);
      sockets.push(s);
      return /** @type {SocketLike} */ (s);
    },
    now: () => clock,
    setTimer: (fn, ms) => {
      const handle = nextHandle++;
      timers.push({ fn, at: clock + ms, handle });
      return handle;
    },
    clearTimer: (handle) => {
      timers = timers.filter((t) => t.handle !== handle);
    },
    random: () => 0.5,
  });
  /** @param {number} ms */
  const advance = (ms) => {
    clock += ms;
    for (;;) {
      const due = timers.filter((t) => t.at <= clock).sort((a, b) => a.at - b.at)[0];
      if (!due) break;
      timers = timers.filter((t) => t !== due);
      due.fn();
    }
  };
  const welcome = (ack = 0) => ['welcome', 0, { v: 1, session: '123456789', role: 'agent', state: 'active', mode: 'pointer', write_mode_allowed: true, mode_request_pending: false, ack, participants: [], heartbeat_ms: 5000, max_frame_bytes: 1 << 20 }];
  return { transport, sockets, received, statuses, rtts, advance, welcome, last: () => sockets[sockets.length - 1] };
}

/**
 * The frames a socket was sent, without control frames (hello, the first ping).
 * @param {unknown[][]} frames
 */
function sequenced(frames) {
  return frames.filter((f) => f[1] !== 0);
}

test('hello carries the version, session, token and last seen sequence', () => {
  const h = harness();
  h.transport.start();
  h.last().open();
  assert.deepEqual(h.last().frames()[0], ['hello', 0, { v: 1, session: '123456789', token: 'tok', ack: 0 }]);
});

test('frames are numbered from 1, buffered until welcome, and resent after the acked ones', () => {
  const h = harness();
  h.transport.start();
  h.transport.send('pointer', { x: 1, y: 2 });
  h.last().open();
  assert.equal(h.last().frames().length, 1, 'only hello before welcome');
  h.last().deliver(h.welcome(0));
  h.transport.send('click', { x: 3, y: 4 });
  assert.deepEqual(sequenced(h.last().frames()), [['pointer', 1, { x: 1, y: 2 }], ['click', 2, { x: 3, y: 4 }]]);
  h.last().deliver(['ack', 0, { a: 1 }]);
  h.last().drop();
  assert.equal(h.transport.status, 'reconnecting');
  h.advance(10_000);
  h.last().open();
  h.last().deliver(h.welcome(1));
  assert.deepEqual(sequenced(h.last().frames()), [['click', 2, { x: 3, y: 4 }]]);
  h.transport.send('mode_request', {});
  assert.deepEqual(h.last().frames().at(-1), ['mode_request', 3, {}]);
});

test('a welcome with a lower ack renumbers from ack + 1', () => {
  const h = harness();
  h.transport.start();
  h.last().open();
  h.last().deliver(h.welcome(0));
  h.transport.send('pointer', { x: 1, y: 1 });
  h.last().drop();
  h.advance(10_000);
  h.last().open();
  h.last().deliver(h.welcome(7));
  assert.deepEqual(sequenced(h.last().frames()), [], 'the server has seen up to 7: nothing to resend');
  h.transport.send('end', {});
  assert.deepEqual(h.last().frames().at(-1), ['end', 8, {}]);
});

test('server frames are delivered once, in order, and acknowledged', () => {
  const h = harness();
  h.transport.start();
  h.last().open();
  h.last().deliver(h.welcome(0));
  h.last().deliver(['nav', 1, { url: 'https://a/' }]);
  h.last().deliver(['nav', 1, { url: 'https://a/' }]);
  h.last().deliver(['nav', 2, { url: 'https://b/' }]);
  assert.deepEqual(h.received.filter((f) => f.tag === 'nav').map((f) => f.seq), [1, 2]);
  h.advance(ACK_EVERY_MS);
  assert.deepEqual(h.last().frames().at(-1), ['ack', 0, { a: 2 }]);
  h.last().drop();
  h.advance(10_000);
  h.last().open();
  assert.deepEqual(h.last().frames()[0], ['hello', 0, { v: 1, session: '123456789', token: 'tok', ack: 2 }]);
});

test('a gap reconnects from the last frame seen; a snapshot may jump', () => {
  const h = harness();
  h.transport.start();
  h.last().open();
  h.last().deliver(h.welcome(0));
  h.last().deliver(['nav', 1, { url: 'https://a/' }]);
  const first = h.last();
  first.deliver(['nav', 5, { url: 'https://c/' }]);
  assert.equal(first.closed, true);
  assert.equal(h.sockets.length, 2);
  h.last().open();
  assert.deepEqual(h.last().frames()[0][2], { v: 1, session: '123456789', token: 'tok', ack: 1 });
  h.last().deliver(h.welcome(0));
  h.last().deliver(['snapshot', 9, { url: 'https://c/', vp: { w: 1, h: 1, dpr: 1 }, doc: { id: 1, k: 'd' } }]);
  assert.equal(h.received.at(-1)?.tag, 'snapshot');
});

test('heartbeats are answered and measured, the first one at once', () => {
  const h = harness();
  h.transport.start();
  h.last().open();
  h.last().deliver(h.welcome(0));
  const first = /** @type {[string, number, {ts: number, reply: boolean}]} */ (h.last().frames().at(-1));
  assert.equal(first[0], 'hb', 'a ping right after welcome');
  assert.equal(first[2].reply, false);
  h.last().deliver(['hb', 0, { ts: 42, reply: false }]);
  assert.deepEqual(h.last().frames().at(-1), ['hb', 0, { ts: 42, reply: true }]);
  h.advance(5000);
  const ping = /** @type {[string, number, {ts: number}]} */ (h.last().frames().at(-1));
  assert.equal(ping[0], 'hb');
  h.advance(80);
  h.last().deliver(['hb', 0, { ts: ping[2].ts, reply: true }]);
  assert.deepEqual(h.rtts, [80]);
});

test('silence for three heartbeats reconnects', () => {
  const h = harness();
  h.transport.start();
  h.last().open();
  h.last().deliver(h.welcome(0));
  h.advance(5000 * 4 + 1);
  assert.equal(h.transport.status, 'reconnecting');
  h.advance(1000);
  assert.ok(h.sockets.length >= 2, 'a new socket was opened');
});

test('ended and fatal refusals stop for good', () => {
  const h = harness();
  h.transport.start();
  h.last().open();
  h.last().deliver(h.welcome(0));
  h.last().deliver(['ended', 1, { reason: 'customer_exit' }]);
  assert.equal(h.transport.status, 'closed');
  h.advance(60_000);
  assert.equal(h.sockets.length, 1);

  const g = harness();
  g.transport.start();
  g.last().open();
  g.last().deliver(['error', 0, { code: 'session_ended', message: 'over', fatal: true }]);
  assert.equal(g.transport.status, 'closed');
  assert.equal(g.received[0].tag, 'error');
});

test('socket URLs follow the page scheme', () => {
  assert.equal(socketUrl('/ws/v1', { protocol: 'https:', host: 'cb.example' }), 'wss://cb.example/ws/v1');
  assert.equal(socketUrl('/ws/v1', { protocol: 'http:', host: 'localhost:8080' }), 'ws://localhost:8080/ws/v1');
  assert.equal(socketUrl('wss://x/ws', { protocol: 'http:', host: 'y' }), 'wss://x/ws');
});

test('a socket opened ahead carries the first hello, at once when it is already open', () => {
  /** @param {FakeSocket} ahead @param {FakeSocket[]} opened */
  const transportWith = (ahead, opened) =>
    new Transport({
      url: 'ws://h/ws/v1',
      socket: /** @type {SocketLike} */ (ahead),
      session: '123456789',
      token: 'tok',
      onFrame: () => {},
      connect: (url) => {
        const s = new FakeSocket(url);
        opened.push(s);
        return /** @type {SocketLike} */ (s);
      },
    });

  const open = new FakeSocket('ws://h/ws/v1');
  open.readyState = 1;
  /** @type {FakeSocket[]} */
  const none = [];
  transportWith(open, none).start();
  assert.equal(none.length, 0, 'no second socket');
  assert.deepEqual(open.frames()[0], ['hello', 0, { v: 1, session: '123456789', token: 'tok', ack: 0 }]);

  const connecting = new FakeSocket('ws://h/ws/v1');
  const transport = transportWith(connecting, none);
  transport.start();
  assert.equal(connecting.sent.length, 0, 'hello waits for the handshake');
  connecting.open();
  assert.equal(connecting.frames()[0][0], 'hello');
  assert.equal(none.length, 0);
  transport.close();

  const closed = new FakeSocket('ws://h/ws/v1');
  closed.readyState = 3;
  /** @type {FakeSocket[]} */
  const opened = [];
  transportWith(closed, opened).start();
  assert.equal(opened.length, 1, 'a socket that closed while waiting is replaced');
  opened[0].open();
  assert.equal(opened[0].frames()[0][0], 'hello');
});
