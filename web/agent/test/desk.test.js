// The desk: its state logic (queue order, one copy of each message by id and cid, start-marker
// links), and the desk in the workspace page driven through a fake socket: presence, accepting,
// sending with resends after a reconnect, refusals shown plainly, co-browse opening by itself,
// calls, announcements, and focus left where the agent is typing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
// @ts-ignore -- jsdom ships no type declarations
import { JSDOM } from 'jsdom';
import { decodeDeskFrame, encodeDeskFrame, parseStartMarker } from '../desk_protocol.js';
import { DeskState, waitingFor } from '../desk_state.js';
import { Desk } from '../desk.js';
import { Api } from '../api.js';
import { Workspace } from '../workspace.js';
import { interactionEndedText } from '../messages.js';
import { deskSeams } from './desk_fakes.js';

/** @typedef {import('../desk_protocol.js').ChatSummary} ChatSummary */

const HTML = readFileSync(new URL('../index.html', import.meta.url), 'utf8');
const T0 = 1_795_000_000_000;

/**
 * @param {string} chat
 * @param {Partial<ChatSummary>} [extra]
 * @returns {ChatSummary}
 */
function summary(chat, extra = {}) {
  return { chat, customer: 'Ana', state: 'active', since: T0, preview: 'I can’t find the form', ...extra };
}

/**
 * @param {string} chat
 * @param {number} id
 * @param {'customer' | 'agent' | 'system'} from
 * @param {string} text
 * @param {string} [cid]
 */
function msg(chat, id, from, text, cid) {
  return { chat, id, from, name: from === 'customer' ? 'Ana' : from === 'agent' ? 'Alice Agent' : 'Cobrowse', text, at: T0 + id * 1000, ...(cid ? { cid } : {}) };
}

// ------------------------------------------------------------------------------------------------
// The protocol and the state

test('the start marker is exactly {start:NNNNNNNNN}; anything else is plain text', () => {
  assert.equal(parseStartMarker('{start:482913675}'), '482913675');
  assert.equal(parseStartMarker(' {start:482913675} '), '482913675');
  assert.equal(parseStartMarker('{start:48291367}'), null, 'eight digits');
  assert.equal(parseStartMarker('see {start:482913675}'), null, 'inside a sentence');
  assert.equal(parseStartMarker('{start:482913675}x'), null);
  assert.equal(parseStartMarker('{stop:482913675}'), null);
});

test('desk frames decode as documented; unknown or malformed ones are ignored', () => {
  assert.deepEqual(decodeDeskFrame('["cobrowse",0,{"chat":"chat-5f0c","session":"482913675"}]'), { tag: 'cobrowse', body: { chat: 'chat-5f0c', session: '482913675' } });
  const desk = decodeDeskFrame('["desk",0,{"available":true,"chats":[{"chat":"chat-5f0c","customer":"Ana","state":"active","agent":"Alice Agent","since":1795000000000,"preview":"I can\'t find the form","cobrowse":"482913675"}],"calls":[{"call":"call-7","caller":"+15550199","active":true}]}]');
  assert.equal(desk?.tag, 'desk');
  assert.equal(desk?.tag === 'desk' && desk.body.chats[0].cobrowse, '482913675');
  assert.equal(decodeDeskFrame('["shout",0,{}]'), null);
  assert.equal(decodeDeskFrame('not json'), null);
  assert.equal(decodeDeskFrame('["msg",0,{"chat":"c"}]'), null, 'a message without id and text');
  assert.equal(encodeDeskFrame('say', { chat: 'chat-5f0c', cid: 'a-4', text: 'Happy to help' }), '["say",0,{"chat":"chat-5f0c","cid":"a-4","text":"Happy to help"}]');
});

test('the queue is oldest first', () => {
  const state = new DeskState({ newCid: () => 'x' });
  state.applyQueue([summary('b', { since: T0 + 5000, customer: 'Ben', state: 'queued' }), summary('a', { since: T0, state: 'queued' }), summary('c', { since: T0 + 5000, customer: 'Cy', state: 'queued' })]);
  assert.deepEqual(state.queue.map((q) => q.chat), ['a', 'b', 'c']);
  assert.equal(waitingFor(T0, T0 + 20_000), 'just now');
  assert.equal(waitingFor(T0, T0 + 3 * 60_000 + 5000), '3 min');
  assert.equal(waitingFor(T0, T0 + 65 * 60_000), '1 h 5 min');
});

test('each message is kept once: replays by id, the echo of the agent’s own by cid', () => {
  let n = 0;
  const state = new DeskState({ newCid: () => `c${++n}` });
  state.applyChatState(summary('c1'));
  assert.equal(state.applyMessage(msg('c1', 2, 'customer', 'second')).added, true);
  assert.equal(state.applyMessage(msg('c1', 1, 'customer', 'first')).added, true, 'an earlier id goes before');
  assert.equal(state.applyMessage(msg('c1', 2, 'customer', 'second')).added, false, 'a replay is dropped');
  const pending = state.addPending('c1', '  Happy to help  ');
  assert.equal(pending?.text, 'Happy to help');
  assert.deepEqual(state.transcript('c1').map((i) => [i.key, i.status]), [['m1', 'sent'], ['m2', 'sent'], ['pc1', 'sending']]);
  const echo = state.applyMessage(msg('c1', 3, 'agent', 'Happy to help', 'c1'));
  assert.equal(echo.confirmed?.cid, 'c1');
  assert.deepEqual(state.transcript('c1').map((i) => i.key), ['m1', 'm2', 'm3'], 'the echo replaced the unconfirmed copy');
  assert.equal(state.applyMessage(msg('c1', 3, 'agent', 'Happy to help', 'c1')).added, false);
  assert.equal(state.addPending('c1', '   '), null, 'nothing to send');
  assert.equal(state.applyMessage(msg('other', 1, 'customer', 'not ours')).added, false);
});

test('the stored transcript fills gaps without repeating, and confirms what the desk never saw echoed', () => {
  const state = new DeskState({ newCid: () => 'c9' });
  state.applyChatState(summary('c1'));
  state.applyMessage(msg('c1', 1, 'customer', 'hello'));
  state.addPending('c1', 'on my way');
  state.requeueUnconfirmed();
  const added = state.applyTranscript('c1', [
    { message_id: 1, author: 'customer', name: 'Ana', text: 'hello', at: '2026-11-21T09:00:00Z' },
    { message_id: 2, author: 'agent', name: 'Alice Agent', text: 'on my way', at: '2026-11-21T09:00:05Z' },
    { message_id: 3, author: 'system', name: 'Cobrowse', text: '{start:482913675}', at: '2026-11-21T09:00:09Z' },
  ]);
  assert.equal(added, 2);
  assert.deepEqual(state.transcript('c1').map((i) => [i.id, i.status, i.start]), [[1, 'sent', null], [2, 'sent', null], [3, 'sent', '482913675']]);
});

test('a chat the server no longer lists after a reconnect ended meanwhile; its unsent messages fail', () => {
  const state = new DeskState({ newCid: () => 'c1' });
  state.applyDesk({ available: true, chats: [summary('c1'), summary('c2', { customer: 'Ben' })], calls: [] });
  state.addPending('c1', 'still there?');
  const { endedMeanwhile, added } = state.applyDesk({ available: false, chats: [summary('c2', { customer: 'Ben' })], calls: [{ call: 'k1', caller: '+1555', active: true, cobrowse: '111222333' }] });
  assert.deepEqual(endedMeanwhile, ['c1']);
  assert.deepEqual(added, []);
  assert.equal(state.chats.get('c1')?.summary.state, 'ended');
  assert.equal(state.transcript('c1')[0].status, 'failed');
  assert.deepEqual(state.linkOf('111222333'), { kind: 'call', id: 'k1' });
  state.applyCall({ call: 'k1', caller: '+1555', active: false });
  assert.equal(state.calls.size, 0, 'an ended call leaves the list');
});

// ------------------------------------------------------------------------------------------------
// The desk in the page

/**
 * @param {{demo?: boolean, api?: Api}} [options]
 */
function deskPage(options = {}) {
  const dom = new JSDOM(HTML, { url: 'https://cb.example/agent/', pretendToBeVisual: true });
  const doc = /** @type {Document} */ (dom.window.document);
  doc.getElementById('workspace-section')?.removeAttribute('hidden');
  const seams = deskSeams();
  /** @type {Array<[string, string, unknown]>} */
  const opened = [];
  let cobrowsing = /** @type {string | null} */ (null);
  const api = options.api ?? new Api(async () => /** @type {Response} */ (/** @type {unknown} */ ({ ok: true, status: 200, text: async () => '{}' })));
  const desk = new Desk(doc, {
    api,
    location: { protocol: 'https:', host: 'cb.example' },
    demo: options.demo ?? false,
    openSession: (session, why, link) => {
      opened.push([session, why, link]);
    },
    cobrowsing: () => cobrowsing,
    ...seams.options,
  });
  desk.start();
  const $ = (/** @type {string} */ testid) => /** @type {HTMLElement} */ (doc.querySelector(`[data-testid="${testid}"]`));
  const $$ = (/** @type {string} */ testid) => /** @type {HTMLElement[]} */ (Array.from(doc.querySelectorAll(`[data-testid="${testid}"]`)));
  /** Opens the socket and sends the first `desk` frame. */
  const connect = (/** @type {object} */ body = { available: false, chats: [], calls: [] }) => {
    seams.last().open();
    seams.last().deliver(['desk', 0, body]);
  };
  const window = /** @type {Window & typeof globalThis} */ (/** @type {unknown} */ (dom.window));
  return {
    dom, window, doc, desk, seams, opened, $, $$, connect,
    /** @param {string | null} id */
    setCobrowsing: (id) => {
      cobrowsing = id;
    },
    /** Types into a chat's input and presses Enter. */
    type: (/** @type {string} */ text, /** @type {number} */ index = 0) => {
      const input = /** @type {HTMLTextAreaElement} */ ($$('chat-input')[index]);
      input.focus();
      input.value = text;
      input.dispatchEvent(new window.KeyboardEvent('keydown', { key: 'Enter', bubbles: true, cancelable: true }));
      return input;
    },
  };
}

test('connecting says hello; the desk opens with the server’s state and answers heartbeats', () => {
  const p = deskPage();
  assert.equal(p.$('desk-status').textContent, 'Connecting…');
  assert.equal(p.seams.last().url, 'wss://cb.example/ws/v1/desk');
  p.seams.last().open();
  assert.deepEqual(p.seams.last().frames()[0], ['desk_hello', 0, { v: 1 }]);
  assert.equal(/** @type {HTMLInputElement} */ (p.$('desk-available')).disabled, true, 'no presence before the desk is open');
  p.seams.last().deliver(['desk', 0, { available: false, chats: [], calls: [] }]);
  assert.equal(p.$('desk-status').textContent, 'Connected');
  assert.equal(/** @type {HTMLInputElement} */ (p.$('desk-available')).disabled, false);
  p.seams.last().deliver(['hb', 0, { ts: 42, reply: false }]);
  assert.deepEqual(p.seams.last().bodies('hb'), [{ ts: 42, reply: true }]);
});

test('available: presence goes out and the waiting queue shows, oldest first, with Accept', () => {
  const p = deskPage();
  p.connect();
  const toggle = /** @type {HTMLInputElement} */ (p.$('desk-available'));
  toggle.checked = true;
  toggle.dispatchEvent(new p.window.Event('change'));
  assert.deepEqual(p.seams.last().bodies('presence'), [{ available: true }]);
  p.seams.last().deliver(['desk', 0, { available: true, chats: [], calls: [] }]);
  p.seams.last().deliver(['queue', 0, { waiting: [
    summary('c2', { customer: 'Ben', state: 'queued', since: T0 - 5 * 60_000, preview: 'Where is my card?' }),
    summary('c1', { customer: 'Ana', state: 'queued', since: T0 - 12 * 60_000, preview: 'I can’t find the form' }),
  ] }]);
  const items = p.$$('queue-item');
  assert.deepEqual(items.map((i) => i.dataset.chat), ['c1', 'c2']);
  assert.match(items[0].textContent ?? '', /Ana.*waiting 12 min.*I can’t find the form/s);
  assert.equal(items[0].querySelector('button')?.getAttribute('aria-label'), 'Accept the chat with Ana');
  assert.equal(p.$('queue-count').textContent, '(2)');
  // A chat joining the queue later is announced politely.
  p.seams.last().deliver(['queue', 0, { waiting: [summary('c1', { state: 'queued', since: T0 - 12 * 60_000 }), summary('c2', { customer: 'Ben', state: 'queued', since: T0 - 5 * 60_000 }), summary('c3', { customer: 'Cy', state: 'queued', preview: 'hello?' })] }]);
  assert.match(p.$('desk-announcer').textContent ?? '', /New chat waiting: Cy — hello\?/);
  assert.doesNotMatch(p.$('desk-announcer').textContent ?? '', /Ben/, 'the first queue is not read out chat by chat');
  // Unavailable: the queue goes away.
  toggle.checked = false;
  toggle.dispatchEvent(new p.window.Event('change'));
  assert.equal(p.$$('queue-item').length, 0);
});

test('accepting: chat_taken is said plainly; a won chat opens with the cursor in its input', () => {
  const p = deskPage();
  p.connect({ available: true, chats: [], calls: [] });
  p.seams.last().deliver(['queue', 0, { waiting: [summary('c1', { state: 'queued' }), summary('c2', { customer: 'Ben', state: 'queued' })] }]);
  /** @type {HTMLButtonElement} */ (p.$$('accept-chat')[0]).click();
  assert.deepEqual(p.seams.last().bodies('accept'), [{ chat: 'c1' }]);
  assert.equal(/** @type {HTMLButtonElement} */ (p.$$('accept-chat')[1]).disabled, true, 'one accept at a time');
  p.seams.last().deliver(['error', 0, { code: 'chat_taken', message: 'another agent took this chat, or it ended', fatal: false }]);
  assert.equal(p.$('desk-error').textContent, 'Another agent accepted that chat first, or it is no longer waiting.');
  assert.equal(/** @type {HTMLButtonElement} */ (p.$$('accept-chat')[1]).disabled, false);

  /** @type {HTMLButtonElement} */ (p.$$('accept-chat')[1]).click();
  p.seams.last().deliver(['chat_state', 0, { chat: summary('c2', { customer: 'Ben', agent: 'Alice Agent' }) }]);
  p.seams.last().deliver(['msg', 0, msg('c2', 1, 'customer', 'Where is my card?')]);
  p.seams.last().deliver(['msg', 0, msg('c2', 2, 'system', 'Alice Agent joined the chat')]);
  p.seams.last().deliver(['queue', 0, { waiting: [] }]);
  assert.deepEqual(p.$$('chat-tab').map((t) => t.textContent), ['Ben']);
  assert.equal(p.$$('chat-tab')[0].getAttribute('aria-selected'), 'true');
  assert.equal(p.doc.activeElement, p.$$('chat-input')[0], 'the agent can type at once');
  assert.equal(p.$$('chat-message').length, 2);
  assert.doesNotMatch(p.$('desk-announcer').textContent ?? '', /Where is my card/, 'the history that came with the accept is not news');
  assert.match(p.$('desk-announcer').textContent ?? '', /You accepted the chat with Ben/);
});

test('sending: Enter sends with a cid, shown unconfirmed until the echo; one at a time', () => {
  const p = deskPage();
  p.connect({ available: false, chats: [summary('c1')], calls: [] });
  p.seams.last().deliver(['hb', 0, { ts: 1, reply: false }]);
  const input = p.type('Happy to help');
  assert.equal(input.value, '', 'the input empties');
  p.type('One moment');
  assert.deepEqual(p.seams.last().bodies('say'), [{ chat: 'c1', cid: 'c1', text: 'Happy to help' }], 'the second waits for the first');
  assert.deepEqual(p.$$('chat-message').map((m) => m.dataset.status), ['sending', 'sending']);
  p.seams.last().deliver(['msg', 0, msg('c1', 1, 'agent', 'Happy to help', 'c1')]);
  assert.deepEqual(p.seams.last().bodies('say').map((b) => b.cid), ['c1', 'c2']);
  p.seams.last().deliver(['msg', 0, msg('c1', 2, 'agent', 'One moment', 'c2')]);
  assert.deepEqual(p.$$('chat-message').map((m) => [m.dataset.id, m.dataset.status]), [['1', 'sent'], ['2', 'sent']]);
  // Shift+Enter is a new line, not a send.
  const box = /** @type {HTMLTextAreaElement} */ (p.$$('chat-input')[0]);
  box.value = 'line one';
  box.dispatchEvent(new p.window.KeyboardEvent('keydown', { key: 'Enter', shiftKey: true, bubbles: true, cancelable: true }));
  assert.equal(p.seams.last().bodies('say').length, 2);
});

test('a reconnect resends unconfirmed messages with the same cid and never shows one twice', () => {
  const p = deskPage();
  p.connect({ available: false, chats: [summary('c1')], calls: [] });
  p.seams.last().deliver(['msg', 0, msg('c1', 1, 'customer', 'Hi')]);
  p.seams.last().deliver(['hb', 0, { ts: 1, reply: false }]);
  p.type('Sent before the drop');
  const first = p.seams.last();
  first.drop();
  assert.equal(p.$('desk-status').textContent, 'Reconnecting…');
  p.type('Typed while offline');
  assert.deepEqual(p.$$('chat-message').map((m) => m.dataset.status), ['sent', 'sending', 'sending']);
  p.seams.advance(1_000);
  const second = p.seams.last();
  assert.notEqual(second, first);
  second.open();
  // The server got the first message before the drop: the replay carries its echo.
  second.deliver(['desk', 0, { available: false, chats: [summary('c1')], calls: [] }]);
  second.deliver(['msg', 0, msg('c1', 1, 'customer', 'Hi')]);
  second.deliver(['msg', 0, msg('c1', 2, 'agent', 'Sent before the drop', 'c1')]);
  // Resent with its own cid, as is the one typed offline (the server keeps each cid once).
  assert.deepEqual(second.bodies('say').map((b) => b.cid), ['c1', 'c2'], 'in order, each with its own cid');
  second.deliver(['msg', 0, msg('c1', 3, 'agent', 'Typed while offline', 'c2')]);
  assert.deepEqual(p.$$('chat-message').map((m) => [m.dataset.id, m.dataset.status, m.querySelector('.cb-msg-text')?.textContent]), [['1', 'sent', 'Hi'], ['2', 'sent', 'Sent before the drop'], ['3', 'sent', 'Typed while offline']]);
  assert.equal(p.$$('chat-message').length, 3, 'nothing twice');
  assert.equal(p.$('desk-announcer').textContent, '', 'a replay is not news');
});

test('a refused message is marked with the reason; other refusals show in the desk', () => {
  const p = deskPage();
  p.connect({ available: false, chats: [summary('c1')], calls: [] });
  p.type('x'.repeat(50));
  p.seams.last().deliver(['error', 0, { code: 'limit_exceeded', message: 'messages are at most 20 characters', fatal: false }]);
  const failed = p.$$('chat-message')[0];
  assert.equal(failed.dataset.status, 'failed');
  assert.match(failed.textContent ?? '', /Not sent: messages are at most 20 characters/);
  p.seams.last().deliver(['error', 0, { code: 'wrong_role', message: 'this is not one of your chats', fatal: false }]);
  assert.equal(p.$('desk-error').textContent, 'That chat is not one of yours any more.');
});

test('{start:…} in a transcript is a link that opens that session; a cobrowse frame opens it at once', () => {
  const p = deskPage();
  p.connect({ available: false, chats: [summary('c1')], calls: [] });
  p.seams.last().deliver(['hb', 0, { ts: 1, reply: false }]);
  p.seams.last().deliver(['msg', 0, msg('c1', 4, 'system', '{start:482913675}')]);
  p.seams.last().deliver(['cobrowse', 0, { chat: 'c1', session: '482913675' }]);
  assert.deepEqual(p.opened, [['482913675', 'started', { kind: 'chat', id: 'c1' }]]);
  const link = /** @type {HTMLAnchorElement} */ (p.$('start-link'));
  assert.equal(link.textContent, 'Co-browse 482 913 675');
  assert.equal(link.getAttribute('href'), '?session=482913675');
  link.click();
  assert.deepEqual(p.opened[1], ['482913675', 'link', { kind: 'chat', id: 'c1' }]);
  assert.match(p.$('chat-state').textContent ?? '', /Co-browsing 482 913 675/);
  p.desk.sessionEnded('482913675');
  assert.equal(p.$('chat-state').textContent, 'Active', 'co-browse over, the chat goes on');
  assert.deepEqual(p.desk.linkOf('482913675'), { kind: 'chat', id: 'c1' });
  // A plain system line stays text.
  p.seams.last().deliver(['msg', 0, msg('c1', 5, 'system', 'Co-browse ended; the chat goes on.')]);
  assert.equal(p.$$('start-link').length, 1);
});

test('after a reload the desk reopens a live co-browse of its chats, once', () => {
  const p = deskPage();
  p.connect({ available: false, chats: [summary('c1', { cobrowse: '482913675' })], calls: [] });
  assert.deepEqual(p.opened, [['482913675', 'resume', { kind: 'chat', id: 'c1' }]]);
  p.seams.last().drop();
  p.seams.advance(1_000);
  p.connect({ available: false, chats: [summary('c1', { cobrowse: '482913675' })], calls: [] });
  assert.equal(p.opened.length, 1);
});

test('ending a chat: end_chat goes out; the ended chat keeps its transcript, read-only, until closed', () => {
  const p = deskPage();
  p.connect({ available: false, chats: [summary('c1')], calls: [] });
  p.seams.last().deliver(['msg', 0, msg('c1', 1, 'customer', 'Thanks, bye')]);
  /** @type {HTMLButtonElement} */ (p.$('end-chat')).click();
  assert.deepEqual(p.seams.last().bodies('end_chat'), [{ chat: 'c1' }]);
  p.seams.last().deliver(['chat_state', 0, { chat: summary('c1', { state: 'ended' }), reason: 'agent_ended' }]);
  assert.equal(p.$('chat-state').textContent, 'You ended the chat.');
  assert.equal(/** @type {HTMLTextAreaElement} */ (p.$('chat-input')).disabled, true);
  assert.equal(p.$('end-chat').hidden, true);
  assert.equal(p.$$('chat-message').length, 1);
  assert.match(p.$('desk-announcer').textContent ?? '', /Chat with Ana ended/);
  /** @type {HTMLButtonElement} */ (p.$('close-chat')).click();
  assert.equal(p.$$('chat-panel').length, 0);
  assert.equal(p.$('no-chats').hidden, false);
});

test('several chats: tabs with unread counts, arrow keys move between them, new messages are announced', () => {
  const p = deskPage();
  p.connect({ available: false, chats: [summary('c1'), summary('c2', { customer: 'Ben' })], calls: [] });
  p.seams.last().deliver(['hb', 0, { ts: 1, reply: false }]);
  const tabs = p.$$('chat-tab');
  assert.deepEqual(tabs.map((t) => t.getAttribute('role')), ['tab', 'tab']);
  assert.equal(p.$('chat-tabs').getAttribute('role'), 'tablist');
  assert.equal(tabs[0].getAttribute('aria-selected'), 'true');
  p.seams.last().deliver(['msg', 0, msg('c2', 1, 'customer', 'Hello from Ben')]);
  assert.equal(p.$$('chat-unread')[0]?.textContent, '1');
  assert.equal(tabs[1].getAttribute('aria-label'), 'Ben, 1 unread');
  assert.match(p.$('desk-announcer').textContent ?? '', /Hello from Ben/);
  tabs[0].focus();
  tabs[0].dispatchEvent(new p.window.KeyboardEvent('keydown', { key: 'ArrowRight', bubbles: true }));
  assert.equal(p.doc.activeElement, tabs[1]);
  assert.equal(tabs[1].getAttribute('aria-selected'), 'true');
  assert.equal(p.$$('chat-unread').length, 0, 'seen');
  const panels = p.$$('chat-panel');
  assert.deepEqual(panels.map((x) => x.hidden), [true, false]);
  assert.equal(panels[1].getAttribute('aria-labelledby'), tabs[1].id);
});

test('focus stays in the chat input while messages, queue changes and co-browse arrive', () => {
  const p = deskPage();
  p.connect({ available: true, chats: [summary('c1')], calls: [] });
  p.seams.last().deliver(['hb', 0, { ts: 1, reply: false }]);
  const input = /** @type {HTMLTextAreaElement} */ (p.$('chat-input'));
  input.focus();
  input.value = 'half a sent';
  p.seams.last().deliver(['msg', 0, msg('c1', 1, 'customer', 'are you there?')]);
  p.seams.last().deliver(['queue', 0, { waiting: [summary('c9', { customer: 'Zoe', state: 'queued' })] }]);
  p.seams.last().deliver(['cobrowse', 0, { chat: 'c1', session: '482913675' }]);
  p.seams.last().deliver(['call', 0, { call: 'k1', caller: '+1 555 0100', active: true }]);
  assert.equal(p.doc.activeElement, input);
  assert.equal(input.value, 'half a sent', 'the same element, untouched');
});

test('calls: the active call with its caller and co-browse; demo mode offers Simulate a call and End call', async () => {
  /** @type {unknown[]} */
  const posted = [];
  const api = new Api(async (path, init) => {
    posted.push([path, init?.body ? JSON.parse(String(init.body)) : null]);
    return /** @type {Response} */ (/** @type {unknown} */ ({ ok: true, status: 200, text: async () => '{"outcome":"applied"}' }));
  });
  const p = deskPage({ demo: true, api });
  p.connect();
  assert.equal(p.$('simulate-call').closest('[hidden]'), null, 'shown in the demo');
  /** @type {HTMLButtonElement} */ (p.$('simulate-call')).click();
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(posted, [['/api/v1/demo/calls', { action: 'start' }]]);
  p.seams.last().deliver(['call', 0, { call: 'k1', caller: '+1 555 0100 (demo)', active: true }]);
  assert.match(p.$('call').textContent ?? '', /On a call with \+1 555 0100 \(demo\)/);
  assert.equal(p.$('call-cobrowsing').hidden, true);
  assert.equal(/** @type {HTMLButtonElement} */ (p.$('simulate-call')).disabled, true, 'one call at a time');
  p.seams.last().deliver(['call', 0, { call: 'k1', caller: '+1 555 0100 (demo)', active: true, cobrowse: '123456789' }]);
  assert.equal(p.$('call-cobrowsing').hidden, false);
  assert.equal(p.$('call-cobrowsing').textContent, 'co-browsing 123 456 789');
  /** @type {HTMLButtonElement} */ (p.$('end-call')).click();
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(posted[1], ['/api/v1/demo/calls', { action: 'end' }]);
  p.seams.last().deliver(['call', 0, { call: 'k1', caller: '+1 555 0100 (demo)', active: false }]);
  assert.equal(p.$$('call').length, 0);
  assert.equal(p.$('no-calls').hidden, false);

  const plain = deskPage();
  plain.connect({ available: false, chats: [], calls: [{ call: 'k2', caller: '+1 555 0199', active: true }] });
  assert.equal(plain.$('demo-calls').hidden, true, 'no simulation outside the demo');
  assert.equal(plain.$('end-call').hidden, true, 'real calls end at the phone system');
});

test('a refused upgrade with the sign-in gone hands back to sign-in', async () => {
  let signedOut = 0;
  const dom = new JSDOM(HTML, { url: 'https://cb.example/agent/' });
  const seams = deskSeams();
  const api = new Api(async () => /** @type {Response} */ (/** @type {unknown} */ ({ ok: false, status: 401, text: async () => '{"error":{"code":"unauthenticated","message":"sign in"}}' })));
  const desk = new Desk(dom.window.document, { api, location: { protocol: 'https:', host: 'cb.example' }, demo: false, openSession: () => {}, cobrowsing: () => null, signedOut: () => signedOut++, ...seams.options });
  desk.start();
  seams.last().drop(); // closed before the server said anything
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(signedOut, 1);
  desk.stop();
  assert.equal(seams.pendingTimers(), 0, 'stopping leaves no timers behind');
});

// ------------------------------------------------------------------------------------------------
// The workspace around the desk

test('the ending notice names the chat or call the session rode on', () => {
  assert.equal(interactionEndedText('chat', false), 'The chat ended, so co-browsing ended too.');
  assert.equal(interactionEndedText('call', false), 'The call ended, so co-browsing ended too.');
  assert.match(interactionEndedText('call', true), /call goes on/);
  assert.match(interactionEndedText(null, false), /chat or call ended/);
});

test('a co-browse started in a chat while another session is open is refused plainly, with no join', async () => {
  const dom = new JSDOM(HTML, { url: 'https://cb.example/agent/' });
  const doc = /** @type {Document} */ (dom.window.document);
  /** @type {string[]} */
  const calls = [];
  const api = new Api(async (path, init) => {
    calls.push(`${init?.method ?? 'GET'} ${path}`);
    const body = path === '/api/v1/auth/me' ? { agent: { id: 'alice', name: 'Alice Agent' }, demo: true, write_mode_allowed: true, observers_allowed: true } : {};
    return /** @type {Response} */ (/** @type {unknown} */ ({ ok: true, status: 200, text: async () => JSON.stringify(body) }));
  });
  const seams = deskSeams();
  const ws = new Workspace(doc, { api, location: { protocol: 'https:', host: 'cb.example', search: '' }, desk: seams.options });
  await ws.start();
  assert.equal(doc.getElementById('demo-calls')?.hidden, false, 'me.demo offers the simulated call');
  seams.last().open();
  seams.last().deliver(['desk', 0, { available: false, chats: [summary('c1')], calls: [] }]);
  // Pretend a session is open (the co-browse transport is tested on its own).
  ws.session = /** @type {any} */ ({ id: '111111111', role: 'agent', ended: false });
  seams.last().deliver(['cobrowse', 0, { chat: 'c1', session: '482913675' }]);
  assert.equal(calls.filter((c) => c.includes('/join')).length, 0, 'agent_busy: no second join');
  const notices = Array.from(doc.querySelectorAll('[data-testid="notice"]'), (n) => n.textContent);
  assert.match(notices.join(' | '), /Session 482 913 675 cannot open while you are in another co-browse session/);
  ws.session = null;
  ws.desk?.stop();
});

test('signing out closes the desk; after signing in again only the new desk answers the page', async () => {
  const dom = new JSDOM(HTML, { url: 'https://cb.example/agent/' });
  const doc = /** @type {Document} */ (dom.window.document);
  const agent = { id: 'alice', name: 'Alice Agent' };
  const api = new Api(async (path, init) => {
    const body = path === '/api/v1/auth/me' ? { agent, demo: false } : path === '/api/v1/auth/login' ? { token: 't', agent } : {};
    return /** @type {Response} */ (/** @type {unknown} */ ({ ok: true, status: 200, text: async () => JSON.stringify(body) }));
  });
  const seams = deskSeams();
  const ws = new Workspace(doc, { api, location: { protocol: 'https:', host: 'cb.example', search: '' }, desk: seams.options });
  await ws.start();
  const first = seams.last();
  first.open();
  first.deliver(['desk', 0, { available: false, chats: [summary('c1')], calls: [] }]);
  assert.equal(doc.querySelectorAll('[data-testid="chat-panel"]').length, 1);
  await ws.signout();
  assert.equal(first.closed, true);
  assert.equal(doc.querySelectorAll('[data-testid="chat-panel"]').length, 0, 'nothing of the last agent stays on screen');
  /** @type {HTMLInputElement} */ (doc.getElementById('username')).value = 'alice';
  /** @type {HTMLInputElement} */ (doc.getElementById('password')).value = 'alice-demo';
  await ws.signin();
  const second = seams.last();
  assert.notEqual(second, first);
  second.open();
  second.deliver(['desk', 0, { available: false, chats: [], calls: [] }]);
  const toggle = /** @type {HTMLInputElement} */ (doc.getElementById('desk-available'));
  toggle.checked = true;
  toggle.dispatchEvent(new dom.window.Event('change'));
  assert.deepEqual(second.bodies('presence'), [{ available: true }]);
  assert.equal(doc.getElementById('desk-error')?.textContent, '', 'the old desk did not answer');
  ws.desk?.stop();
});

test('availability the agent chose comes back after a reconnect or reload (the server forgets it)', () => {
  const p = deskPage();
  p.connect();
  const toggle = /** @type {HTMLInputElement} */ (p.$('desk-available'));
  toggle.checked = true;
  toggle.dispatchEvent(new p.window.Event('change'));
  p.seams.last().deliver(['desk', 0, { available: true, chats: [], calls: [] }]);
  p.seams.last().drop();
  p.seams.advance(1_000);
  p.connect({ available: false, chats: [], calls: [] });
  assert.deepEqual(p.seams.last().bodies('presence'), [{ available: true }]);
});
