import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Transport } from '../transport/transport.js';
import { SessionStore } from '../transport/session_store.js';
import { serverBase, websocketUrl } from '../transport/http_api.js';

class FakeSocket {
  constructor() {
    /** @type {string[]} */
    this.sent = [];
    this.closed = false;
    /** @type {((event: any) => void) | null} */
    this.onopen = null;
    /** @type {((event: {data: any}) => void) | null} */
    this.onmessage = null;
    /** @type {((event: any) => void) | null} */
    this.onclose = null;
    /** @type {((event: any) => void) | null} */
    this.onerror = null;
  }
  /** @param {string} text */
  send(text) {
    this.sent.push(text);
  }
  close() {
    this.closed = true;
  }
  /** @param {unknown[]} frame */
  receive(frame) {
    this.onmessage?.({ data: JSON.stringify(frame) });
  }
  frames() {
    return this.sent.map((t) => JSON.parse(t));
  }
}

function fakeTimers() {
  let now = 0;
  /** @type {Map<number, {at: number, fn: () => void, every?: number}>} */
  const timers = new Map();
  let next = 1;
  return {
    setTimeout: (/** @type {() => void} */ fn, /** @type {number} */ ms) => {
      timers.set(next, { at: now + ms, fn });
      return next++;
    },
    clearTimeout: (/** @type {any} */ h) => void timers.delete(h),
    setInterval: (/** @type {() => void} */ fn, /** @type {number} */ ms) => {
      timers.set(next, { at: now + ms, fn, every: ms });
      return next++;
    },
    clearInterval: (/** @type {any} */ h) => void timers.delete(h),
    now: () => now,
    /** @param {number} ms */
    advance(ms) {
      const end = now + ms;
      for (;;) {
        const due = [...timers.entries()].filter(([, t]) => t.at <= end).sort((a, b) => a[1].at - b[1].at)[0];
        if (!due) break;
        const [id, t] = due;
        now = t.at;
        if (t.every) t.at += t.every;
        else timers.delete(id);
        t.fn();
      }
      now = end;
    },
  };
}

const WELCOME = { v: 1, session: '123456789', role: 'customer', state: 'pending', mode: 'pointer', write_mode_allowed: true, mode_request_pending: false, ack: 0, snapshot_needed: true, participants: [], heartbeat_ms: 1000, max_frame_bytes: 1000000 };

function setup(overrides = {}) {
  const timers = fakeTimers();
  /** @type {FakeSocket[]} */
  const sockets = [];
  /** @type {any[]} */
  const received = [];
  /** @type {any[]} */
  const welcomes = [];
  /** @type {any[]} */
  const fatal = [];
  const transport = new Transport({
    url: 'wss://x/ws/v1',
    session: '123456789',
    token: 'tok',
    createSocket: () => {
      const s = new FakeSocket();
      sockets.push(s);
      return s;
    },
    timers,
    random: () => 0.5,
    onWelcome: (w, needSnapshot) => welcomes.push({ w, needSnapshot }),
    onFrame: (f) => received.push(f),
    onFatal: (e) => fatal.push(e),
    ...overrides,
  });
  return { transport, timers, sockets, received, welcomes, fatal };
}

test('hello first, then frames numbered from welcome.ack + 1', () => {
  const { transport, sockets, welcomes } = setup({ lastServerSeq: 7 });
  transport.connect();
  const s = sockets[0];
  s.onopen?.({});
  assert.deepEqual(s.frames()[0], ['hello', 0, { v: 1, session: '123456789', token: 'tok', ack: 7 }]);
  assert.equal(transport.send('pointer', { x: 1, y: 2 }), 0, 'not numbered before welcome');
  s.receive(['welcome', 0, { ...WELCOME, ack: 41 }]);
  assert.equal(welcomes.length, 1);
  assert.deepEqual(s.frames()[1], ['pointer', 42, { x: 1, y: 2 }]);
  assert.equal(transport.send('scroll', { id: 1, x: 0, y: 5 }), 43);
});

test('unacknowledged frames are resent after a reconnect with their numbers', () => {
  const { transport, sockets, timers, welcomes } = setup();
  transport.connect();
  sockets[0].onopen?.({});
  sockets[0].receive(['welcome', 0, { ...WELCOME, snapshot_needed: false }]);
  transport.send('snapshot', /** @type {any} */ ({ url: 'u' }));
  transport.send('mut', { ops: [] });
  transport.send('mut', { ops: [['rm', 3]] });
  sockets[0].receive(['ack', 0, { a: 1 }]);
  sockets[0].onclose?.({});
  transport.send('mut', { ops: [['rm', 4]] }); // while disconnected
  timers.advance(1000);
  assert.equal(sockets.length, 2);
  sockets[1].onopen?.({});
  sockets[1].receive(['welcome', 0, { ...WELCOME, ack: 2, snapshot_needed: false }]);
  const resent = sockets[1].frames().slice(1).map((f) => f[1]);
  assert.deepEqual(resent, [3, 4]);
  assert.equal(welcomes[1].needSnapshot, false);
  assert.equal(transport.send('pointer', { x: 0, y: 0 }), 5);
});

test('a gap in what is held asks for a fresh snapshot and renumbers', () => {
  const { transport, sockets, timers, welcomes } = setup({ maxOutboxFrames: 2 });
  transport.connect();
  sockets[0].onopen?.({});
  sockets[0].receive(['welcome', 0, { ...WELCOME, snapshot_needed: false }]);
  for (let i = 0; i < 5; i++) transport.send('mut', { ops: [] });
  sockets[0].onclose?.({});
  timers.advance(1000);
  sockets[1].onopen?.({});
  sockets[1].receive(['welcome', 0, { ...WELCOME, ack: 1, snapshot_needed: false }]);
  assert.equal(welcomes[1].needSnapshot, true);
  assert.equal(sockets[1].frames().length, 1, 'only hello: stale frames are not resent');
  assert.equal(transport.send('snapshot', /** @type {any} */ ({})), 2);
});

test('server frames are acknowledged and duplicates dropped', () => {
  const { transport, sockets, timers, received } = setup({ ackEvery: 3 });
  /** @type {number[]} */
  const persisted = [];
  transport.options.onPersist = (n) => persisted.push(n);
  transport.connect();
  const s = sockets[0];
  s.onopen?.({});
  s.receive(['welcome', 0, WELCOME]);
  s.receive(['notice', 1, { code: 'agent_joined' }]);
  s.receive(['pointer', 2, { x: 1, y: 1 }]);
  s.receive(['pointer', 2, { x: 1, y: 1 }]);
  assert.equal(received.length, 2);
  assert.equal(s.frames().filter((f) => f[0] === 'ack').length, 0);
  timers.advance(200);
  assert.deepEqual(s.frames().filter((f) => f[0] === 'ack'), [['ack', 0, { a: 2 }]]);
  s.receive(['pointer', 3, { x: 1, y: 1 }]);
  s.receive(['pointer', 4, { x: 1, y: 1 }]);
  s.receive(['pointer', 5, { x: 1, y: 1 }]);
  assert.deepEqual(s.frames().filter((f) => f[0] === 'ack').at(-1), ['ack', 0, { a: 5 }]);
  assert.deepEqual(persisted, [1, 2, 3, 4, 5], 'every frame is persisted before it is applied, acked or not');
});

test('heartbeats are answered with the same ts', () => {
  const { transport, sockets } = setup();
  transport.connect();
  sockets[0].onopen?.({});
  sockets[0].receive(['welcome', 0, WELCOME]);
  sockets[0].receive(['hb', 0, { ts: 1234, reply: false }]);
  assert.deepEqual(sockets[0].frames().at(-1), ['hb', 0, { ts: 1234, reply: true }]);
  sockets[0].receive(['hb', 0, { ts: 99, reply: true }]);
  assert.equal(sockets[0].frames().filter((f) => f[0] === 'hb').length, 1);
});

test('a silent server is dropped and reconnected', () => {
  const { transport, sockets, timers } = setup();
  transport.connect();
  sockets[0].onopen?.({});
  sockets[0].receive(['welcome', 0, WELCOME]);
  timers.advance(4500);
  assert.ok(sockets[0].closed);
  assert.equal(sockets.length, 2);
});

test('terminal errors stop reconnecting', () => {
  const { transport, sockets, timers, fatal } = setup();
  transport.connect();
  sockets[0].onopen?.({});
  sockets[0].receive(['error', 0, { code: 'session_ended', message: 'over', fatal: true }]);
  sockets[0].onclose?.({});
  timers.advance(60_000);
  assert.equal(sockets.length, 1);
  assert.equal(fatal[0].code, 'session_ended');
  assert.equal(transport.state, 'closed');
});

test('session store round-trips and survives bad data', () => {
  /** @type {Map<string, string>} */
  const map = new Map();
  const storage = /** @type {Storage} */ (/** @type {unknown} */ ({
    getItem: (/** @type {string} */ k) => map.get(k) ?? null,
    setItem: (/** @type {string} */ k, /** @type {string} */ v) => void map.set(k, v),
    removeItem: (/** @type {string} */ k) => void map.delete(k),
  }));
  const store = new SessionStore(storage);
  assert.equal(store.load(), null);
  store.save({ id: '123456789', token: 't', wsUrl: 'wss://x/ws/v1', lastServerSeq: 0 });
  store.saveSeq(9);
  assert.deepEqual(store.load(), { id: '123456789', token: 't', wsUrl: 'wss://x/ws/v1', lastServerSeq: 9 });
  map.set('cobrowse.session', '{nope');
  assert.equal(store.load(), null);
  store.clear();
  assert.equal(map.size, 0);
});

test('server and socket URLs', () => {
  assert.equal(serverBase('', 'https://shop.example/a/b.html'), 'https://shop.example/');
  assert.equal(serverBase('https://cb.example:8443', 'https://shop.example/'), 'https://cb.example:8443/');
  assert.equal(websocketUrl('/ws/v1', 'https://cb.example/'), 'wss://cb.example/ws/v1');
  assert.equal(websocketUrl('/ws/v1', 'http://localhost:8080/'), 'ws://localhost:8080/ws/v1');
});

test('a frame larger than the server accepts is not numbered or sent: no gap, and the caller is told', () => {
  /** @type {Array<{tag: string, bytes: number}>} */
  const oversize = [];
  const { transport, sockets } = setup({ onOversize: (/** @type {string} */ tag, /** @type {any} */ _body, /** @type {number} */ bytes) => oversize.push({ tag, bytes }) });
  transport.connect();
  sockets[0].onopen?.({});
  sockets[0].receive(['welcome', 0, { ...WELCOME, snapshot_needed: false, max_frame_bytes: 200 }]);
  assert.equal(transport.send('mut', { ops: [['text', 1, 'x'.repeat(300)]] }), -1);
  // Multi-byte text counts in UTF-8 bytes: 80 characters of 3 bytes each are too many.
  assert.equal(transport.send('mut', { ops: [['text', 1, '日'.repeat(80)]] }), -1);
  assert.deepEqual(oversize.map((o) => o.tag), ['mut', 'mut']);
  assert.ok(oversize[1].bytes > 200);
  assert.equal(transport.send('mut', { ops: [['text', 1, 'small']] }), 1, 'the next frame takes the number');
  assert.deepEqual(sockets[0].frames().map((f) => f[1]), [0, 1]);
});

test('every server frame is persisted before it is handed on', () => {
  /** @type {Array<[string, number]>} */
  const order = [];
  const { transport, sockets } = setup({
    onPersist: (/** @type {number} */ seq) => order.push(['persist', seq]),
    onFrame: (/** @type {any} */ f) => order.push(['apply', f.seq]),
  });
  transport.connect();
  sockets[0].onopen?.({});
  sockets[0].receive(['welcome', 0, WELCOME]);
  sockets[0].receive(['action', 1, { aid: 1, do: 'focus', id: 3 }]);
  sockets[0].receive(['ended', 2, { reason: 'agent_exit' }]);
  assert.deepEqual(order, [['persist', 1], ['apply', 1], ['persist', 2], ['apply', 2]]);
});

test('detach: nothing more is sent or handled, no reconnect, the socket closes after the grace', () => {
  const { transport, sockets, timers, received } = setup();
  transport.connect();
  sockets[0].onopen?.({});
  sockets[0].receive(['welcome', 0, { ...WELCOME, snapshot_needed: false }]);
  transport.detach(5000);
  assert.equal(transport.send('pointer', { x: 1, y: 1 }), 0);
  sockets[0].receive(['action', 1, { aid: 1, do: 'focus', id: 3 }]);
  assert.equal(received.length, 0);
  assert.equal(sockets[0].closed, false, 'open until the other tab takes over');
  timers.advance(5000);
  assert.equal(sockets[0].closed, true);
  timers.advance(60_000);
  assert.equal(sockets.length, 1, 'no reconnect');
});
