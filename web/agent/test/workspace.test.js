import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
// @ts-ignore -- jsdom ships no type declarations
import { JSDOM } from 'jsdom';
import { Api, ApiError, explainJoinError } from '../api.js';
import { Workspace } from '../workspace.js';
import { noticeText, endedText } from '../messages.js';
import { deskSeams } from './desk_fakes.js';

const HTML = readFileSync(new URL('../index.html', import.meta.url), 'utf8');

test('the page has no inline script or inline event handler (the CSP forbids them)', () => {
  const doc = new JSDOM(HTML).window.document;
  for (const script of Array.from(doc.querySelectorAll('script'))) {
    assert.equal(script.textContent?.trim(), '', 'no inline script');
    assert.equal(script.getAttribute('type'), 'module');
  }
  for (const el of Array.from(doc.querySelectorAll('*'))) {
    for (const attr of Array.from(/** @type {Element} */ (el).attributes)) assert.ok(!attr.name.startsWith('on'), attr.name);
  }
  for (const input of Array.from(doc.querySelectorAll('input'))) {
    assert.ok(doc.querySelector(`label[for="${input.id}"]`), `#${input.id} has a label`);
  }
});

/**
 * @param {Record<string, (body: any) => {status: number, body: unknown}>} routes
 */
function fakeApi(routes) {
  /** @type {Array<[string, string]>} */
  const calls = [];
  const api = new Api(async (path, init) => {
    calls.push([init?.method ?? 'GET', path]);
    const route = routes[`${init?.method ?? 'GET'} ${path}`];
    const { status, body } = route ? route(init?.body ? JSON.parse(String(init.body)) : null) : { status: 404, body: { error: { code: 'not_found', message: 'no' } } };
    return /** @type {Response} */ (/** @type {unknown} */ ({ ok: status < 300, status, text: async () => JSON.stringify(body) }));
  });
  return { api, calls };
}

function page() {
  const dom = new JSDOM(HTML, { url: 'https://cb.example/agent/' });
  return /** @type {Document} */ (dom.window.document);
}

test('signing in shows the workspace; bad credentials say so', async () => {
  const doc = page();
  const { api } = fakeApi({
    'GET /api/v1/auth/me': () => ({ status: 401, body: { error: { code: 'unauthenticated', message: 'sign in' } } }),
    'POST /api/v1/auth/login': (body) =>
      body.password === 'alice-demo'
        ? { status: 200, body: { token: 't', agent: { id: 'alice', name: 'Alice Agent' } } }
        : { status: 401, body: { error: { code: 'unauthenticated', message: 'wrong' } } },
  });
  const ws = new Workspace(doc, { api, location: { protocol: 'https:', host: 'cb.example', search: '' }, desk: deskSeams().options });
  await ws.start();
  assert.equal(doc.getElementById('signin-section')?.hidden, false);
  /** @type {HTMLInputElement} */ (doc.getElementById('username')).value = 'alice';
  /** @type {HTMLInputElement} */ (doc.getElementById('password')).value = 'nope';
  await ws.signin();
  assert.equal(doc.getElementById('signin-error')?.textContent, 'Wrong username or password.');
  /** @type {HTMLInputElement} */ (doc.getElementById('password')).value = 'alice-demo';
  await ws.signin();
  assert.equal(doc.getElementById('workspace-section')?.hidden, false);
  assert.equal(doc.getElementById('agent-name')?.textContent, 'Alice Agent');
});

test('join errors are explained; a malformed ID never reaches the server', async () => {
  const doc = page();
  const { api, calls } = fakeApi({
    'GET /api/v1/auth/me': () => ({ status: 200, body: { agent: { id: 'alice', name: 'Alice Agent' } } }),
    'POST /api/v1/sessions/123456789/join': () => ({ status: 409, body: { error: { code: 'agent_busy', message: 'you already have a co-browse session' } } }),
  });
  const ws = new Workspace(doc, { api, location: { protocol: 'https:', host: 'cb.example', search: '' }, desk: deskSeams().options });
  await ws.start();
  await ws.join('12345');
  assert.match(doc.getElementById('join-error')?.textContent ?? '', /nine digits/);
  assert.equal(calls.filter(([, p]) => p.includes('/join')).length, 0);
  await ws.join('123 456 789');
  assert.deepEqual(calls.at(-1), ['POST', '/api/v1/sessions/123456789/join']);
  assert.match(doc.getElementById('join-error')?.textContent ?? '', /already have a co-browse session/);
  assert.equal(doc.getElementById('session-section')?.hidden, true);
});

test('every join error code has a clear message', () => {
  assert.match(explainJoinError(new ApiError(404, 'session_not_found', 'x')), /No session has this ID/);
  assert.match(explainJoinError(new ApiError(410, 'session_ended', 'x')), /ended/);
  assert.match(explainJoinError(new ApiError(429, 'rate_limited', 'x')), /Too many/);
  assert.match(explainJoinError(new ApiError(401, 'unauthenticated', 'x')), /Sign in again/);
  assert.match(explainJoinError(new ApiError(400, 'invalid_request', 'x')), /nine digits/);
  assert.match(explainJoinError(new Error('x')), /failed/);
});

test('notices and endings read as sentences', () => {
  assert.match(noticeText({ code: 'customer_away', detail: 'site' }) ?? '', /left the site/);
  assert.match(noticeText({ code: 'customer_back' }) ?? '', /back/);
  assert.match(noticeText({ code: 'mode_denied' }) ?? '', /declined/);
  assert.match(endedText('customer_exit'), /customer ended/);
  assert.match(endedText('inactivity_timeout'), /timed out/);
});

test('supervisors get a Watch button that asks to watch; the proxy is used when the server has one', async () => {
  const doc = page();
  const { api, calls } = fakeApi({
    'GET /api/v1/auth/me': () => ({ status: 200, body: { agent: { id: 'bob', name: 'Bob', supervisor: true } } }),
    'GET /proxy?url=': () => ({ status: 400, body: { error: { code: 'invalid_request', message: 'not a URL' } } }),
    'POST /api/v1/sessions/123456789/watch': () => ({ status: 403, body: { error: { code: 'wrong_role', message: 'no' } } }),
  });
  const ws = new Workspace(doc, { api, location: { protocol: 'https:', host: 'cb.example', search: '' }, desk: deskSeams().options });
  await ws.start();
  assert.equal(doc.getElementById('watch-btn')?.hidden, false);
  assert.equal(await ws.proxyReady, true);
  await ws.join('123456789', 'observer');
  assert.deepEqual(calls.at(-1), ['POST', '/api/v1/sessions/123456789/watch']);
  assert.match(doc.getElementById('join-error')?.textContent ?? '', /supervisor/);

  const plain = page();
  const other = fakeApi({ 'GET /api/v1/auth/me': () => ({ status: 200, body: { agent: { id: 'alice', name: 'Alice' } } }) });
  const agentWs = new Workspace(plain, { api: other.api, location: { protocol: 'https:', host: 'cb.example', search: '' }, desk: deskSeams().options });
  await agentWs.start();
  assert.equal(plain.getElementById('watch-btn')?.hidden, true, 'agents who are not supervisors see no Watch');
  assert.equal(await agentWs.proxyReady, false, 'no proxy (404): resources load directly');
});

test('the first join takes the viewer made while the workspace waited; a failed join leaves it waiting', async () => {
  const doc = page();
  let refuse = true;
  const { api } = fakeApi({
    'GET /api/v1/auth/me': () => ({ status: 200, body: { agent: { id: 'alice', name: 'Alice Agent' } } }),
    'POST /api/v1/sessions/123456789/join': () =>
      refuse
        ? { status: 409, body: { error: { code: 'session_taken', message: 'taken' } } }
        : { status: 200, body: { token: 'agent-token', session: '123456789', ws_url: '/ws/v1', write_mode_allowed: true, state: 'active' } },
  });
  const ws = new Workspace(doc, { api, location: { protocol: 'https:', host: 'cb.example', search: '' }, desk: deskSeams().options });
  await ws.start();
  await ws.warmViewer();
  const area = /** @type {HTMLElement} */ (doc.getElementById('browser-area'));
  const spare = ws.spare?.viewer;
  assert.ok(spare, 'a viewer waits for the first join');
  assert.deepEqual(Array.from(area.childNodes), [spare.sizer]);
  assert.equal(spare.sizer.hidden, true, 'hidden until a session shows in it');
  const shell = spare.frame.contentDocument;
  assert.equal(shell?.doctype?.name, 'html', 'its shell document is ready');

  await ws.join('123456789');
  assert.match(doc.getElementById('join-error')?.textContent ?? '', /another agent/i);
  const session = () => ws.session; // read afresh: each join changes it
  assert.equal(session(), null);
  assert.equal(ws.spare?.viewer, spare, 'the refused join gave the viewer back');
  assert.deepEqual(Array.from(area.childNodes), [spare.sizer]);
  assert.equal(spare.sizer.hidden, true);

  refuse = false;
  await ws.join('123456789');
  assert.equal(session()?.viewer, spare, 'the join took the waiting viewer');
  assert.equal(ws.spare, null);
  assert.deepEqual(Array.from(area.childNodes), [spare.sizer], 'one view of the page');
  assert.equal(spare.sizer.hidden, false);
  assert.equal(spare.frame.contentDocument, shell, 'its iframe was never moved or reloaded');
  session()?.transport.close();
});

test('a supervisor watching gets a read-only viewer of its own, not the waiting one', async () => {
  const doc = page();
  const { api } = fakeApi({
    'GET /api/v1/auth/me': () => ({ status: 200, body: { agent: { id: 'bob', name: 'Bob', supervisor: true } } }),
    'POST /api/v1/sessions/123456789/watch': () =>
      refuse
        ? { status: 403, body: { error: { code: 'wrong_role', message: 'no' } } }
        : { status: 200, body: { token: 'observer-token', session: '123456789', ws_url: '/ws/v1', write_mode_allowed: false, state: 'active' } },
  });
  let refuse = true;
  const ws = new Workspace(doc, { api, location: { protocol: 'https:', host: 'cb.example', search: '' }, desk: deskSeams().options });
  await ws.start();
  await ws.warmViewer();
  const area = /** @type {HTMLElement} */ (doc.getElementById('browser-area'));
  const first = ws.spare?.viewer;
  assert.ok(first && !first.readOnly);
  await ws.join('123456789', 'observer');
  const session = () => ws.session; // read afresh: each join changes it
  assert.equal(session(), null, 'the watch was refused');
  await ws.warmViewer();
  const spare = ws.spare?.viewer;
  assert.ok(spare, 'a viewer waits again after the refusal');
  assert.deepEqual(Array.from(area.childNodes), [spare.sizer], 'and only one');
  assert.equal(spare.sizer.hidden, true);

  refuse = false;
  await ws.join('123456789', 'observer');
  const viewer = session()?.viewer;
  assert.ok(viewer && viewer !== spare && viewer.readOnly, 'an observer never acts, so its viewer is read-only');
  assert.deepEqual(Array.from(area.childNodes), [viewer.sizer], 'the waiting viewer is gone: one view of the page');
  session()?.transport.close();
});
