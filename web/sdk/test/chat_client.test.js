// The client with the chat, in a page: the widget (name, first message, place in line, the
// agent's name, the menu), co-browse from the chat (linked, nothing to read out), the prompt when
// the server wants a chat or call first, "browse with you", and the chat continuing on the next
// page of the tab.
import { afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { makeWindow } from './dom.js';
import { CobrowseClient } from '../client.js';
import { FakeSocket, fakeFetch, memoryStorage, msg, settle, summary } from './chat_fakes.js';

/** @type {Array<() => void>} */
const teardown = [];
afterEach(() => {
  for (const fn of teardown.splice(0)) fn();
});

/**
 * A page of the site with the SDK.
 * @param {{chat?: boolean, voice?: boolean, storage?: ReturnType<typeof memoryStorage>, session?: (body: any) => {status: number, body: any}}} [options]
 */
async function page(options = {}) {
  const win = makeWindow('<!DOCTYPE html><body><p>Open an account</p></body>', { url: 'https://shop.example/' });
  /** @type {FakeSocket[]} */
  const sockets = [];
  const fetch = fakeFetch({ session: options.session });
  const storage = options.storage ?? memoryStorage();
  const client = new CobrowseClient({
    window: win,
    server: '',
    fetch: fetch.fn,
    storage,
    tabs: false,
    sliceMs: Infinity,
    chat: options.chat,
    voice: options.voice,
    createSocket: (url) => {
      const socket = new FakeSocket(url);
      sockets.push(socket);
      return socket;
    },
  });
  teardown.push(() => {
    client.chat?.detach();
    win.close();
  });
  /** @type {Array<[string, any]>} */
  const events = [];
  for (const type of ['chat_started', 'chat_message', 'chat_state', 'chat_ended', 'session_started', 'error']) {
    client.addEventListener(type, (e) => events.push([type, /** @type {CustomEvent} */ (e).detail]));
  }
  await client.init();
  await waitUntil(() => !options.chat || client.chatUi !== null);
  const root = /** @type {ShadowRoot} */ (client.ui?.root);
  /** @param {string} selector */
  const $ = (selector) => /** @type {HTMLElement} */ (root.querySelector(selector));
  const chatSockets = () => sockets.filter((s) => s.url.endsWith('/ws/v1/chat'));
  return { win, client, sockets, chatSockets, fetch, storage, events, $ };
}

/** @param {() => boolean} fn */
async function waitUntil(fn) {
  for (let i = 0; i < 200 && !fn(); i++) await settle();
  assert.ok(fn(), 'condition never met');
}

/** @param {HTMLElement} el */
const shown = (el) => {
  for (let node = /** @type {HTMLElement | null} */ (el); node; node = node.parentElement) if (node.hidden) return false;
  return true;
};

test('the widget: name and first message, waiting in line, then the agent, then a message both ways', async () => {
  const p = await page({ chat: true });
  const launcher = p.$('[data-chat=launcher]');
  assert.ok(shown(launcher));
  assert.equal(launcher.textContent, 'Chat with us');
  assert.ok(shown(p.$('button.link')), 'the browse-with-you link shows with the chat');
  launcher.click();
  assert.ok(shown(p.$('[data-chat=form]')));
  /** @type {HTMLInputElement} */ (p.$('[data-chat=name]')).value = 'Ana';
  /** @type {HTMLTextAreaElement} */ (p.$('[data-chat=first]')).value = 'I cannot find the form';
  p.$('[data-chat=form]').dispatchEvent(new p.win.Event('submit', { cancelable: true }));
  await waitUntil(() => p.chatSockets().length === 1);
  assert.deepEqual(p.fetch.calls.at(-1)?.body, { name: 'Ana', message: 'I cannot find the form' });
  const socket = p.chatSockets()[0];
  socket.open();
  socket.receive(['chat_state', 0, { chat: summary('queued'), position: 2 }]);
  socket.receive(msg(1, 'I cannot find the form', { from: 'customer', name: 'Ana' }));
  assert.equal(p.$('[data-chat=status]').textContent, 'Waiting for an agent, you are number 2 in line.');
  assert.equal(/** @type {HTMLButtonElement} */ (p.$('[data-chat=cobrowse]')).disabled, true, 'no co-browse before an agent answers');
  socket.receive(['chat_state', 0, { chat: summary('active', { agent: 'Alice Agent' }) }]);
  assert.equal(p.$('[data-chat=status]').textContent, 'You are chatting with Alice Agent.');
  assert.equal(p.$('[data-chat=title]').textContent, 'Alice Agent');
  assert.equal(/** @type {HTMLButtonElement} */ (p.$('[data-chat=cobrowse]')).disabled, false);

  const input = /** @type {HTMLTextAreaElement} */ (p.$('[data-chat=input]'));
  input.value = 'hello';
  input.dispatchEvent(new p.win.KeyboardEvent('keydown', { key: 'Enter', bubbles: true }));
  const say = socket.bodies('say')[0];
  assert.equal(say.text, 'hello');
  assert.equal(input.value, '');
  const texts = () => Array.from(p.$('[data-chat=log]').querySelectorAll('.msg')).map((el) => `${el.className}|${el.lastChild?.textContent}`);
  assert.deepEqual(texts(), ['msg customer|I cannot find the form', 'msg customer pending|hello']);
  socket.receive(msg(2, 'hello', { from: 'customer', cid: say.cid, name: 'Ana' }));
  socket.receive(msg(3, 'Hi Ana', { from: 'agent' }));
  assert.deepEqual(texts(), ['msg customer|I cannot find the form', 'msg customer|hello', 'msg agent|Hi Ana']);
  const types = p.events.map((e) => e[0]).filter((t) => t.startsWith('chat_'));
  assert.deepEqual(types, ['chat_started', 'chat_state', 'chat_message', 'chat_state', 'chat_message', 'chat_message']);
});

test('co-browse from the chat: a session linked to the chat, nothing to read out', async () => {
  const p = await page({ chat: true });
  await assert.rejects(p.client.startFromChat(), { code: 'interaction_required' });
  await p.client.startChat({ name: 'Ana' });
  const socket = p.chatSockets()[0];
  socket.open();
  socket.receive(['chat_state', 0, { chat: summary('active', { agent: 'Alice Agent' }) }]);
  p.$('[data-chat=launcher]').click();
  p.$('[data-chat=menu-button]').click();
  p.$('[data-chat=cobrowse]').click();
  await waitUntil(() => p.client.state === 'active');
  assert.deepEqual(p.fetch.calls.find((c) => c.url.endsWith('/api/v1/sessions'))?.body, { chat: { id: 'chat-1', token: 'chat-token' } });
  const part = (/** @type {string} */ name) => p.$(`[data-part="${name}"]`);
  assert.ok(shown(part('on')), '"Co-browsing is on"');
  assert.equal(shown(part('id')), false, 'no ID to read out');
  assert.equal(part('hint').textContent, 'Your agent will see this page in a moment.');
  assert.equal(/** @type {HTMLButtonElement} */ (p.$('[data-chat=cobrowse]')).textContent, 'Co-browsing is on');
  assert.equal(/** @type {HTMLButtonElement} */ (p.$('[data-chat=cobrowse]')).disabled, true);
  // The session is remembered with what it rides on, for the next page.
  assert.equal(JSON.parse(/** @type {string} */ (p.storage.getItem('cobrowse.session'))).via, 'chat');
  // Start co-browse (the floating button's start()) with an active chat links to the chat too.
  assert.deepEqual(await p.client.start(), { id: '123456789' });
});

test('with no chat or call the server answers interaction_required: the prompt, then "I\'m on a call"', async () => {
  /** @type {any[]} */
  const requests = [];
  const p = await page({
    session: (body) => {
      requests.push(body);
      if (body.channel === 'voice') {
        return { status: 201, body: { id: '482913675', token: 't', ws_url: '/ws/v1', protocol_version: 1, policy: {} } };
      }
      return { status: 422, body: { error: { code: 'interaction_required', message: 'co-browse runs alongside a chat or a call with an agent' } } };
    },
  });
  assert.equal(shown(p.$('button.link')), false, 'no browse-with-you link unless asked for');
  p.client.ui?.startButton.click();
  await waitUntil(() => shown(p.$('[data-part=prompt-text]')));
  assert.equal(p.$('[data-part=prompt-text]').textContent, 'Co-browsing works alongside a chat or a call with us');
  assert.equal(p.client.state, 'idle');
  assert.deepEqual(p.events.filter((e) => e[0] === 'error').map((e) => e[1].error.code), ['interaction_required']);

  // "Chat with us" opens the chat form, even on a page without the widget switched on.
  p.$('[data-part=prompt-chat]').click();
  await waitUntil(() => p.client.chatUi !== null && shown(p.$('[data-chat=form]')));
  assert.equal(shown(p.$('[data-part=prompt-text]')), false);

  p.client.ui?.startButton.click();
  await waitUntil(() => shown(p.$('[data-part=prompt-text]')));
  p.$('[data-part=prompt-call]').click();
  await waitUntil(() => p.client.state === 'active');
  assert.deepEqual(requests, [{}, {}, { channel: 'voice' }]);
  const part = (/** @type {string} */ name) => p.$(`[data-part="${name}"]`);
  assert.equal(part('id').textContent, '482 913 675');
  assert.ok(shown(part('id')));
  assert.equal(part('label').textContent, 'Read these digits to the agent on the phone');
  assert.equal(p.client.ui?.panel.dataset.via, 'voice');
});

test('data-voice alone: the link creates a voice session', async () => {
  const p = await page({ voice: true });
  const link = p.$('button.link');
  assert.ok(shown(link));
  assert.equal(p.$('[data-chat=launcher]'), null, 'no chat widget');
  link.click();
  await waitUntil(() => p.client.state === 'active');
  assert.deepEqual(p.fetch.calls.find((c) => c.url.endsWith('/api/v1/sessions'))?.body, { channel: 'voice' });
  assert.equal(shown(link), false, 'hidden while the session runs');
});

test('the next page of the tab continues the chat in the widget, open, with its transcript', async () => {
  const storage = memoryStorage();
  const first = await page({ chat: true, storage });
  first.$('[data-chat=launcher]').click();
  await first.client.startChat({ name: 'Ana' });
  const socket = first.chatSockets()[0];
  socket.open();
  socket.receive(['chat_state', 0, { chat: summary('active', { agent: 'Alice Agent' }) }]);
  socket.receive(msg(1, 'Hi Ana'));
  void first.client.sendChat('unconfirmed').catch(() => {});

  // A page of the site without the chat option: the chat still continues there.
  const second = await page({ storage });
  await waitUntil(() => second.client.chatUi !== null);
  assert.ok(shown(second.$('[data-chat=log]')), 'the panel is open as it was');
  const texts = Array.from(second.$('[data-chat=log]').querySelectorAll('.msg')).map((el) => el.lastChild?.textContent);
  assert.deepEqual(texts, ['Hi Ana', 'unconfirmed']);
  const again = second.chatSockets()[0];
  again.open();
  assert.equal(again.sent[0][2].last, 1);
  again.receive(['chat_state', 0, { chat: summary('active', { agent: 'Alice Agent' }) }]);
  assert.deepEqual(again.bodies('say').map((b) => b.text), ['unconfirmed']);
  assert.deepEqual(second.events.filter((e) => e[0] === 'chat_started'), []);
});
