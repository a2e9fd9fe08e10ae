// The client over fake sockets: what it does with the server's frames (snapshot requests,
// sequenced endings, supervisors, actions), frames too large to send, masked GET-form fields in
// addresses, and the hand-over between tabs.
import { afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { makeWindow } from './dom.js';
import { CobrowseClient } from '../client.js';

const WELCOME = { v: 1, session: '123456789', role: 'customer', state: 'pending', mode: 'pointer', write_mode_allowed: true, mode_request_pending: false, ack: 0, snapshot_needed: true, participants: [], heartbeat_ms: 0, max_frame_bytes: 4000000 };
const POLICY = { write_mode_allowed: true, masking: { fields: ['#acct'], text: [], images: [], pages: [] }, restrictions: { selectors: [] }, site_origins: [] };
const PAGE = '<!DOCTYPE html><body><form id="f" action="/next" method="get"><input id="name" name="name"><input id="acct" name="acct" value="DE001234"><button id="send">Send</button></form><ul id="list"></ul></body>';

/** @type {Array<() => void>} */
const teardown = [];
afterEach(() => {
  for (const fn of teardown.splice(0)) fn();
});

/** A BroadcastChannel stand-in shared by the tabs of one test. */
function channelBus() {
  /** @type {Set<any>} */
  const members = new Set();
  /** @type {Array<() => void>} */
  const queue = [];
  return {
    create() {
      const channel = {
        /** @type {((event: {data: any}) => void) | null} */
        onmessage: null,
        /** @param {unknown} message */
        postMessage(message) {
          for (const other of members) if (other !== channel) queue.push(() => other.onmessage?.({ data: structuredClone(message) }));
        },
        close() {
          members.delete(channel);
        },
      };
      members.add(channel);
      return channel;
    },
    /** Delivers what was posted (and what that causes). */
    deliver() {
      while (queue.length > 0) /** @type {() => void} */ (queue.shift())();
    },
  };
}

/**
 * One tab: a page, its storage, its sockets.
 * @param {{bus?: ReturnType<typeof channelBus>, html?: string}} [options]
 */
function tab(options = {}) {
  const win = makeWindow(options.html ?? PAGE, { url: 'https://shop.example/' });
  teardown.push(() => win.close());
  /** @type {Map<string, string>} */
  const map = new Map();
  const storage = /** @type {Storage} */ (/** @type {unknown} */ ({
    getItem: (/** @type {string} */ k) => map.get(k) ?? null,
    setItem: (/** @type {string} */ k, /** @type {string} */ v) => void map.set(k, v),
    removeItem: (/** @type {string} */ k) => void map.delete(k),
  }));
  /** @type {any[]} */
  const sockets = [];
  const fetchFn = /** @type {typeof fetch} */ (/** @type {unknown} */ (async (/** @type {string} */ url) => {
    const body = url.endsWith('/api/v1/sessions') ? { id: '123456789', token: 'secret-token', ws_url: '/ws/v1', protocol_version: 1, policy: POLICY } : POLICY;
    return { ok: true, status: 200, json: async () => body };
  }));
  const createSocket = (/** @type {string} */ url) => {
    const socket = {
      url,
      closed: false,
      /** @type {any[]} */
      sent: [],
      send(/** @type {string} */ t) {
        this.sent.push(JSON.parse(t));
      },
      close() {
        this.closed = true;
      },
      /** @type {any} */ onopen: null,
      /** @type {any} */ onmessage: null,
      /** @type {any} */ onclose: null,
      /** @type {any} */ onerror: null,
      /** @param {unknown[]} frame */
      receive(frame) {
        this.onmessage?.({ data: JSON.stringify(frame) });
      },
      /** @param {string} tag */
      frames(tag) {
        return this.sent.filter((/** @type {any[]} */ f) => f[0] === tag);
      },
    };
    sockets.push(socket);
    return socket;
  };
  const client = new CobrowseClient({
    window: win, server: '', fetch: fetchFn, createSocket, storage, sliceMs: Infinity,
    createChannel: options.bus ? () => options.bus?.create() ?? null : () => null,
  });
  return { win, client, sockets, map };
}

/**
 * Starts sharing and answers the hello.
 * @param {ReturnType<typeof tab>} t
 * @param {object} [welcome]
 */
async function started(t, welcome = {}) {
  await t.client.init();
  await t.client.start();
  const socket = t.sockets.at(-1);
  socket.onopen();
  socket.receive(['welcome', 0, { ...WELCOME, ...welcome }]);
  return socket;
}

test('an action carried out is not reported as refused', async () => {
  const t = tab();
  const socket = await started(t, { mode: 'write' });
  const snapshot = socket.frames('snapshot')[0][2];
  const nameId = snapshot.doc.c[1].c[1].c[0].c[0].id;
  socket.receive(['action', 1, { aid: 5, do: 'input', id: nameId, value: 'typed' }]);
  assert.equal(/** @type {HTMLInputElement} */ (t.win.document.getElementById('name')).value, 'typed');
  assert.deepEqual(socket.frames('action_refused'), []);
  socket.receive(['action', 2, { aid: 6, do: 'click', id: 999, x: 0, y: 0 }]);
  assert.deepEqual(socket.frames('action_refused').map((/** @type {any[]} */ f) => f[2]), [{ aid: 6, reason: 'not_found' }]);
});

test('snapshot_needed and resync each send a fresh snapshot; ended arrives in sequence', async () => {
  const t = tab();
  const socket = await started(t);
  assert.equal(socket.frames('snapshot').length, 1);
  // The connection drops; the server has no page any more.
  socket.onclose();
  await new Promise((resolve) => setTimeout(resolve, 800));
  const again = t.sockets.at(-1);
  assert.notEqual(again, socket);
  again.onopen();
  again.receive(['welcome', 0, { ...WELCOME, ack: 1, snapshot_needed: true }]);
  assert.equal(again.frames('snapshot').length, 1, 'snapshot_needed: a snapshot');
  again.receive(['resync', 1, { reason: 'frames were lost in transit' }]);
  assert.equal(again.frames('snapshot').length, 2, 'resync: another snapshot');
  again.receive(['ended', 2, { reason: 'agent_exit' }]);
  assert.equal(t.client.state, 'ended');
  assert.equal(t.map.get('cobrowse.session'), undefined);
});

test('supervisors watching are shown and reported, from the welcome and from notices', async () => {
  const t = tab();
  /** @type {any[]} */
  const events = [];
  t.client.addEventListener('observers_changed', (e) => events.push(/** @type {CustomEvent} */ (e).detail.observers.map((/** @type {any} */ p) => p.name)));
  const bob = { role: 'observer', id: 'bob', name: 'Bob' };
  const socket = await started(t, { participants: [{ role: 'customer', id: 'customer', name: 'Customer' }, bob] });
  const ui = /** @type {any} */ (t.client.ui);
  const line = () => ui.root.querySelector('[data-part=observers]');
  assert.equal(line().hidden, false);
  assert.match(line().textContent, /supervisor is watching this session: Bob/);
  socket.receive(['notice', 1, { code: 'observer_joined', who: { role: 'observer', id: 'eve', name: 'Eve' } }]);
  assert.match(line().textContent, /Bob, Eve/);
  socket.receive(['notice', 2, { code: 'observer_left', who: bob }]);
  socket.receive(['notice', 3, { code: 'observer_left', who: { role: 'observer', id: 'eve', name: 'Eve' } }]);
  assert.equal(line().hidden, true);
  assert.deepEqual(events, [['Bob'], ['Bob', 'Eve'], ['Eve'], []]);
});

test('a batch too large for one frame goes out in several; a page too large gets a placeholder until it shrinks', async () => {
  const t = tab();
  const socket = await started(t, { max_frame_bytes: 6000 });
  const doc = t.win.document;
  const list = /** @type {HTMLElement} */ (doc.getElementById('list'));
  for (let i = 0; i < 60; i++) list.insertAdjacentHTML('beforeend', `<li>row number ${i} with some text</li>`);
  /** @type {any} */ (t.client.recorder).flush();
  const muts = socket.frames('mut');
  assert.ok(muts.length > 1, `${muts.length} frames`);
  assert.equal(muts.flatMap((/** @type {any[]} */ f) => f[2].ops).length, 60);
  const seqs = socket.sent.filter((/** @type {any[]} */ f) => f[1] > 0).map((/** @type {any[]} */ f) => f[1]);
  assert.deepEqual(seqs, seqs.map((/** @type {number} */ _, /** @type {number} */ i) => i + 1), 'no gaps');
  assert.ok(socket.sent.every((/** @type {any} */ f) => JSON.stringify(f).length <= 6000));

  // One subtree too large for any frame: a placeholder page, then the page again once small.
  t.client.tooLargeRetryMs = 50;
  const block = doc.createElement('div');
  block.innerHTML = Array.from({ length: 300 }, (_, i) => `<p>paragraph ${i}</p>`).join('');
  doc.body.appendChild(block);
  /** @type {any} */ (t.client.recorder).flush();
  const placeholder = socket.frames('snapshot').at(-1);
  assert.match(JSON.stringify(placeholder), /too large to share/);
  block.remove();
  await new Promise((resolve) => setTimeout(resolve, 120));
  const back = socket.frames('snapshot').at(-1);
  assert.ok(JSON.stringify(back).includes('row number 59'));
  assert.ok(socket.sent.every((/** @type {any} */ f) => JSON.stringify(f).length <= 6000));
});

test('masked fields submitted by a GET form are masked in the next page\'s address', async () => {
  const t = tab();
  const socket = await started(t);
  const form = /** @type {HTMLFormElement} */ (t.win.document.getElementById('f'));
  form.dispatchEvent(new t.win.Event('submit', { bubbles: true, cancelable: true }));
  assert.deepEqual(JSON.parse(t.map.get('cobrowse.session.masked-params') ?? '[]'), ['acct']);
  t.win.history.pushState({}, '', '/next?name=Ann&acct=DE001234');
  /** @type {any} */ (t.client.recorder).flush();
  const nav = socket.frames('nav').at(-1);
  assert.equal(nav[2].url, 'https://shop.example/next?name=Ann&acct=********');
});

test('tabs: the focused tab takes the session over; the other stands by and takes it back', async () => {
  const bus = channelBus();
  const a = tab({ bus });
  const socketA = await started(a);
  socketA.receive(['notice', 1, { code: 'agent_joined', who: { role: 'agent', id: 'alice', name: 'Alice' } }]);
  socketA.receive(['mode', 2, { mode: 'write', by: 'customer' }]);

  const b = tab({ bus });
  await b.client.init();
  assert.equal(b.client.state, 'idle');
  b.win.dispatchEvent(new b.win.Event('focus'));
  bus.deliver();
  assert.equal(a.client.state, 'standby');
  assert.equal(b.client.state, 'active');
  assert.deepEqual(socketA.frames('leaving').at(-1)[2], { to: 'page' });
  const socketB = b.sockets.at(-1);
  socketB.onopen();
  assert.deepEqual(socketB.sent[0], ['hello', 0, { v: 1, session: '123456789', token: 'secret-token', ack: 2 }], 'from the last frame tab A applied');
  socketB.receive(['welcome', 0, { ...WELCOME, ack: 5, snapshot_needed: false, mode: 'write' }]);
  assert.equal(socketB.frames('snapshot')[0][1], 6, 'its own page, numbered after what tab A sent');
  // Tab A no longer acts on anything.
  socketA.receive(['action', 3, { aid: 1, do: 'focus', id: 1 }]);
  assert.equal(socketA.frames('action_refused').length, 0);
  assert.match(/** @type {any} */ (a.client.ui).root.querySelector('[data-part=hint]').textContent, /another tab/);

  // Back to tab A.
  a.win.dispatchEvent(new a.win.Event('focus'));
  bus.deliver();
  assert.equal(a.client.state, 'active');
  assert.equal(b.client.state, 'standby');

  // The session ends in tab A: tab B forgets it.
  const socketA2 = a.sockets.at(-1);
  socketA2.onopen();
  socketA2.receive(['welcome', 0, { ...WELCOME, ack: 8, snapshot_needed: false }]);
  socketA2.receive(['ended', 9, { reason: 'agent_exit' }]);
  bus.deliver();
  assert.equal(b.client.state, 'ended');
  assert.equal(b.map.get('cobrowse.session'), undefined);
});

test('a tab superseded by another one that resumed the same session stands by instead of ending', async () => {
  const t = tab();
  const socket = await started(t);
  socket.receive(['error', 0, { code: 'superseded', message: 'again', fatal: true }]);
  socket.onclose();
  assert.equal(t.client.state, 'standby');
  assert.ok(t.map.get('cobrowse.session'), 'the session is kept');
});
