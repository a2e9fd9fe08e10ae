import { afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { makeWindow } from './dom.js';
import { CobrowseClient } from '../client.js';

const WELCOME = { v: 1, session: '123456789', role: 'customer', state: 'pending', mode: 'pointer', write_mode_allowed: true, mode_request_pending: false, ack: 0, snapshot_needed: true, participants: [], heartbeat_ms: 0, max_frame_bytes: 4000000 };
const POLICY = { write_mode_allowed: true, masking: { fields: ['#acct'], text: [], images: [], pages: [] }, restrictions: { selectors: [] }, site_origins: [] };

/** @type {Array<() => void>} */
const teardown = [];
afterEach(() => {
  for (const fn of teardown.splice(0)) fn();
});

function setup() {
  const win = makeWindow('<!DOCTYPE html><body><form><input id="name"><input id="acct" value="DE001234"><button id="send">Send</button></form></body>', { url: 'https://shop.example/' });
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
  /** @type {string[]} */
  const requests = [];
  const fetchFn = /** @type {typeof fetch} */ (/** @type {unknown} */ (async (/** @type {string} */ url, /** @type {any} */ init) => {
    requests.push(`${init?.method ?? 'GET'} ${url}`);
    const body = url.endsWith('/api/v1/sessions') ? { id: '123456789', token: 'secret-token', ws_url: '/ws/v1', protocol_version: 1, policy: POLICY } : POLICY;
    return { ok: true, status: url.endsWith('/sessions') ? 201 : 200, json: async () => body };
  }));
  const createSocket = (/** @type {string} */ url) => {
    const socket = {
      url,
      /** @type {any[]} */
      sent: [],
      send(/** @type {string} */ t) {
        this.sent.push(JSON.parse(t));
      },
      close() {},
      /** @type {any} */ onopen: null,
      /** @type {any} */ onmessage: null,
      /** @type {any} */ onclose: null,
      /** @type {any} */ onerror: null,
      receive(/** @type {unknown[]} */ frame) {
        this.onmessage?.({ data: JSON.stringify(frame) });
      },
    };
    sockets.push(socket);
    return socket;
  };
  /** @param {Storage} [store] */
  const make = (store = storage) => new CobrowseClient({ window: win, server: '', fetch: fetchFn, createSocket, storage: store, sliceMs: Infinity });
  return { win, make, sockets, requests, map, storage };
}

test('start creates a session, says hello with the token and sends a masked snapshot', async () => {
  const { make, sockets, requests, map } = setup();
  const client = make();
  /** @type {any[]} */
  const events = [];
  for (const type of ['session_started', 'agent_joined', 'mode_changed', 'agent_left', 'session_ended']) {
    client.addEventListener(type, (e) => events.push([type, /** @type {CustomEvent} */ (e).detail]));
  }
  await client.init({ autoUi: true });
  const { id } = await client.start();
  assert.equal(id, '123456789');
  assert.equal(client.sessionId, '123456789');
  assert.deepEqual(requests, ['POST https://shop.example/api/v1/sessions']);
  assert.equal(sockets[0].url, 'wss://shop.example/ws/v1');
  assert.ok(map.get('cobrowse.session')?.includes('secret-token'));
  sockets[0].onopen();
  assert.deepEqual(sockets[0].sent[0], ['hello', 0, { v: 1, session: '123456789', token: 'secret-token', ack: 0 }]);
  sockets[0].receive(['welcome', 0, WELCOME]);
  const snapshot = sockets[0].sent[1];
  assert.equal(snapshot[0], 'snapshot');
  assert.equal(snapshot[1], 1);
  const text = JSON.stringify(snapshot);
  assert.ok(!text.includes('DE001234'), 'masked by the policy from the first snapshot');
  assert.ok(!text.includes('cobrowse-ui'), 'the SDK UI is not in the snapshot');

  sockets[0].receive(['notice', 1, { code: 'agent_joined', who: { role: 'agent', id: 'a1', name: 'Ada' } }]);
  // Pointer mode: actions are refused.
  const nameId = findId(snapshot[2].doc, 'name');
  sockets[0].receive(['action', 2, { aid: 7, do: 'input', id: nameId, value: 'hi' }]);
  assert.deepEqual(sockets[0].sent.at(-1), ['action_refused', 2, { aid: 7, reason: 'not_in_write_mode' }]);
  sockets[0].receive(['mode', 3, { mode: 'write', by: 'customer' }]);
  sockets[0].receive(['action', 4, { aid: 8, do: 'input', id: nameId, value: 'hi' }]);
  assert.equal(/** @type {HTMLInputElement} */ (client.options.window?.document.getElementById('name')).value, 'hi');
  const sendId = findId(snapshot[2].doc, 'send');
  sockets[0].receive(['action', 5, { aid: 9, do: 'click', id: sendId, x: 1, y: 1 }]);
  const refused = sockets[0].sent.filter((/** @type {any} */ f) => f[0] === 'action_refused').at(-1);
  assert.deepEqual(refused[2], { aid: 9, reason: 'restricted' });
  const seqs = sockets[0].sent.filter((/** @type {any} */ f) => f[1] > 0).map((/** @type {any} */ f) => f[1]);
  assert.deepEqual(seqs, seqs.map((/** @type {number} */ _, /** @type {number} */ i) => i + 1), 'sequences have no gaps');

  sockets[0].receive(['ended', 6, { reason: 'agent_exit' }]);
  assert.equal(client.state, 'ended');
  assert.equal(map.has('cobrowse.session'), false, 'the token is forgotten when the session ends');
  assert.deepEqual(events.map((e) => e[0]), ['session_started', 'agent_joined', 'mode_changed', 'session_ended']);
  assert.deepEqual(events.at(-1)[1], { id: '123456789', reason: 'agent_exit' });
});

test('a page load in the same tab resumes the session with the stored token and a fresh snapshot', async () => {
  const { make, sockets, requests, storage } = setup();
  const first = make();
  await first.init();
  await first.start();
  sockets[0].onopen();
  sockets[0].receive(['welcome', 0, WELCOME]);
  sockets[0].receive(['notice', 1, { code: 'agent_joined' }]);
  first.transport?.flushAck();
  // "Next page": a new client over the same storage.
  const second = make(storage);
  await second.init();
  assert.equal(second.sessionId, '123456789');
  assert.ok(requests.includes('GET https://shop.example/api/v1/sdk/config'));
  sockets[1].onopen();
  assert.deepEqual(sockets[1].sent[0], ['hello', 0, { v: 1, session: '123456789', token: 'secret-token', ack: 1 }]);
  sockets[1].receive(['welcome', 0, { ...WELCOME, ack: 1, snapshot_needed: false }]);
  assert.equal(sockets[1].sent[1][0], 'snapshot');
  assert.equal(sockets[1].sent[1][1], 2);
});

test('exit sends end', async () => {
  const { make, sockets } = setup();
  const client = make();
  await client.init();
  await client.start();
  sockets[0].onopen();
  sockets[0].receive(['welcome', 0, WELCOME]);
  const done = client.stop();
  assert.equal(sockets[0].sent.at(-1)[0], 'end');
  sockets[0].receive(['ended', 1, { reason: 'customer_exit' }]);
  await done;
  assert.equal(client.state, 'ended');
});

/**
 * @param {any} node
 * @param {string} htmlId
 * @returns {number}
 */
function findId(node, htmlId) {
  if (node.a?.id === htmlId) return node.id;
  for (const child of node.c ?? []) {
    const found = findId(child, htmlId);
    if (found) return found;
  }
  return 0;
}
