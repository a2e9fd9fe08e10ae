// The customer's chat without a page: its states, sending one message at a time until each echo,
// resending after a reconnect and after a page load (the server drops repeats by cid), dropping
// repeated messages by id, healing a gap, refusals, the end, and another tab taking over.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ChatSession } from '../chat/chat_session.js';
import { ChatStore } from '../chat/chat_store.js';
import { FakeSocket, fakeFetch, fakeTimers, memoryStorage, msg, settle, summary } from './chat_fakes.js';

/**
 * A chat session over fakes. `reload()` is a page load of the same tab: a new session on the
 * same storage, resuming what it finds there.
 * @param {{storage?: ReturnType<typeof memoryStorage>}} [options]
 */
function setup(options = {}) {
  const timers = fakeTimers();
  const storage = options.storage ?? memoryStorage();
  const fetch = fakeFetch();
  /** @type {FakeSocket[]} */
  const sockets = [];
  /** @type {Array<[string, any]>} */
  const events = [];
  let changes = 0;
  const store = new ChatStore(storage);
  const session = new ChatSession({
    store,
    base: () => 'https://cobrowse.example/',
    fetch: fetch.fn,
    createSocket: (url) => {
      const socket = new FakeSocket(url);
      sockets.push(socket);
      return socket;
    },
    timers,
    emit: (type, detail) => events.push([type, detail]),
    onChange: () => changes++,
    random: () => 0.5,
  });
  const last = () => /** @type {FakeSocket} */ (sockets.at(-1));
  /**
   * The server attaches the newest socket: it opens, and the chat's state arrives.
   * @param {string} state
   * @param {object} [extra]
   */
  const attach = (state, extra = {}) => {
    last().open();
    last().receive(['chat_state', 0, { chat: summary(state, extra), ...(state === 'queued' ? { position: 1 } : {}) }]);
  };
  return { timers, storage, fetch, sockets, events, session, store, last, attach, changes: () => changes };
}

/** @param {Array<[string, any]>} events @param {string} type */
const of = (events, type) => events.filter((e) => e[0] === type).map((e) => e[1]);

test('a chat: created over HTTP, attached with chat_hello, queued, then answered', async () => {
  const t = setup();
  const started = await t.session.start({ name: ' Ana ', message: 'I cannot find the form' });
  assert.deepEqual(started, { id: 'chat-1' });
  assert.deepEqual(t.fetch.calls[0], { url: 'https://cobrowse.example/api/v1/chats', body: { name: 'Ana', message: 'I cannot find the form' } });
  assert.equal(t.last().url, 'wss://cobrowse.example/ws/v1/chat');
  t.last().open();
  assert.deepEqual(t.last().sent, [['chat_hello', 0, { v: 1, chat: 'chat-1', token: 'chat-token', last: 0 }]]);
  t.last().receive(['chat_state', 0, { chat: summary('queued'), position: 2 }]);
  t.last().receive(msg(1, 'I cannot find the form', { from: 'customer', name: 'Ana' }));
  t.last().receive(['chat_state', 0, { chat: summary('queued'), position: 1 }]);
  t.last().receive(['chat_state', 0, { chat: summary('queued'), position: 1 }]);
  assert.equal(t.session.state, 'queued');
  assert.equal(t.session.position, 1);
  t.last().receive(['chat_state', 0, { chat: summary('active', { agent: 'Alice Agent' }) }]);
  t.last().receive(msg(2, 'Alice Agent joined the chat', { from: 'system', name: 'Cobrowse' }));
  assert.equal(t.session.state, 'active');
  assert.deepEqual(of(t.events, 'chat_started'), [{ id: 'chat-1' }]);
  assert.deepEqual(of(t.events, 'chat_state'), [
    { state: 'queued', position: 2 },
    { state: 'queued', position: 1 },
    { state: 'active', agent: 'Alice Agent' },
  ], 'each change once');
  assert.deepEqual(of(t.events, 'chat_message').map((d) => d.message.id), [1, 2]);
  // A second start while the chat is open answers with the same chat.
  assert.deepEqual(await t.session.start({ name: 'Ana' }), { id: 'chat-1' });
  assert.equal(t.fetch.calls.length, 1);
  // Heartbeats are answered.
  t.last().receive(['hb', 0, { ts: 42, reply: false }]);
  assert.deepEqual(t.last().sent.at(-1), ['hb', 0, { ts: 42, reply: true }]);
});

test('messages go one at a time, each confirmed by its echo; repeats by id are dropped', async () => {
  const t = setup();
  await t.session.start({ name: 'Ana' });
  t.attach('active', { agent: 'Alice Agent' });
  const first = t.session.say('one');
  const second = t.session.say('  two  ');
  const says = t.last().bodies('say');
  assert.equal(says.length, 1, 'the second waits for the first');
  assert.equal(says[0].text, 'one');
  assert.deepEqual(t.session.pending.map((p) => p.text), ['one', 'two']);
  t.last().receive(msg(1, 'one', { from: 'customer', cid: says[0].cid, name: 'Ana' }));
  assert.equal((await first).id, 1);
  const next = t.last().bodies('say');
  assert.equal(next.length, 2);
  assert.equal(next[1].text, 'two');
  assert.notEqual(next[1].cid, says[0].cid);
  t.last().receive(msg(2, 'two', { from: 'customer', cid: next[1].cid, name: 'Ana' }));
  assert.equal((await second).text, 'two');
  // The same message again (a replay overlapping what arrived) changes nothing.
  t.last().receive(msg(2, 'two', { from: 'customer', cid: next[1].cid, name: 'Ana' }));
  assert.deepEqual(t.session.messages.map((m) => m.id), [1, 2]);
  assert.deepEqual(of(t.events, 'chat_message').map((d) => d.message.id), [1, 2]);
  assert.deepEqual(t.session.pending, []);
  await assert.rejects(t.session.say('   '), { code: 'invalid_request' });
});

test('after a drop the socket reconnects from the last id and sends unconfirmed messages again', async () => {
  const t = setup();
  await t.session.start({ name: 'Ana' });
  t.attach('active', { agent: 'Alice Agent' });
  t.last().receive(msg(1, 'hello', { name: 'Alice Agent' }));
  const sent = t.session.say('are you there?');
  const cid = t.last().bodies('say')[0].cid;
  t.session.say('still here');
  t.last().drop();
  assert.equal(t.session.connectionState, 'reconnecting');
  t.timers.advance(1000);
  assert.equal(t.sockets.length, 2, 'a new socket after the backoff');
  t.last().open();
  assert.deepEqual(t.last().sent[0], ['chat_hello', 0, { v: 1, chat: 'chat-1', token: 'chat-token', last: 1 }]);
  assert.deepEqual(t.last().bodies('say'), [], 'nothing before the server attached the socket');
  t.last().receive(['chat_state', 0, { chat: summary('active', { agent: 'Alice Agent' }) }]);
  assert.deepEqual(t.last().bodies('say').map((b) => b.cid), [cid], 'the unconfirmed message again, same cid');
  // The server had it: its replay confirms it (the resend above is dropped there), then the next goes.
  t.last().receive(msg(2, 'are you there?', { from: 'customer', cid, name: 'Ana' }));
  assert.equal((await sent).id, 2);
  assert.deepEqual(t.last().bodies('say').map((b) => b.text), ['are you there?', 'still here']);
});

test('a gap in the numbering reconnects so the server replays what is missing', async () => {
  const t = setup();
  await t.session.start({ name: 'Ana' });
  t.attach('active', { agent: 'Alice Agent' });
  t.last().receive(msg(1, 'one'));
  t.last().receive(msg(3, 'three'));
  assert.deepEqual(t.session.messages.map((m) => m.id), [1], 'not applied out of order');
  assert.equal(t.sockets[0].closed, true);
  t.timers.advance(0);
  assert.equal(t.sockets.length, 2);
  t.last().open();
  assert.equal(t.last().sent[0][2].last, 1);
  t.attach('active', { agent: 'Alice Agent' });
  t.last().receive(msg(2, 'two'));
  t.last().receive(msg(3, 'three'));
  assert.deepEqual(t.session.messages.map((m) => m.text), ['one', 'two', 'three']);
});

test('a refused message is dropped and its caller told; the next one goes', async () => {
  const t = setup();
  await t.session.start({ name: 'Ana' });
  t.attach('queued');
  const long = t.session.say('x'.repeat(3000));
  const fine = t.session.say('short');
  t.last().receive(['error', 0, { code: 'limit_exceeded', message: 'messages are at most 2000 characters', fatal: false }]);
  await assert.rejects(long, { code: 'limit_exceeded' });
  assert.deepEqual(t.last().bodies('say').map((b) => b.text.length), [3000, 5]);
  const cid = t.last().bodies('say')[1].cid;
  t.last().receive(msg(1, 'short', { from: 'customer', cid }));
  assert.equal((await fine).text, 'short');
  assert.deepEqual(of(t.events, 'chat_error'), [{ code: 'limit_exceeded', message: 'messages are at most 2000 characters' }]);
});

test('a page load continues the chat: transcript shown at once, cursor kept, unconfirmed messages sent again', async () => {
  const first = setup();
  await first.session.start({ name: 'Ana' });
  first.attach('active', { agent: 'Alice Agent' });
  first.last().receive(msg(1, 'welcome'));
  first.session.say('sent before the page unloaded').catch(() => {});
  const cid = first.last().bodies('say')[0].cid;
  first.session.say('typed right before').catch(() => {});
  // The page goes away without a word (no end, no close frame).

  const second = setup({ storage: first.storage });
  const stored = second.store.load();
  assert.ok(stored);
  assert.equal(stored.last, 1);
  second.session.resume(stored);
  assert.equal(second.session.state, 'active');
  assert.deepEqual(second.session.messages.map((m) => m.text), ['welcome'], 'the transcript before the socket is up');
  assert.deepEqual(second.session.pending.map((p) => p.text), ['sent before the page unloaded', 'typed right before']);
  assert.deepEqual(of(second.events, 'chat_started'), [], 'not a new chat');
  second.last().open();
  assert.deepEqual(second.last().sent[0], ['chat_hello', 0, { v: 1, chat: 'chat-1', token: 'chat-token', last: 1 }]);
  second.last().receive(['chat_state', 0, { chat: summary('active', { agent: 'Alice Agent' }) }]);
  assert.deepEqual(second.last().bodies('say').map((b) => b.cid), [cid], 'the same cid: the server drops it if it has it');
  second.last().receive(msg(2, 'sent before the page unloaded', { from: 'customer', cid }));
  const cid2 = second.last().bodies('say')[1].cid;
  second.last().receive(msg(3, 'typed right before', { from: 'customer', cid: cid2 }));
  assert.deepEqual(second.session.messages.map((m) => m.id), [1, 2, 3]);
  assert.deepEqual(second.session.pending, []);
  assert.deepEqual(of(second.events, 'chat_message').map((d) => d.message.id), [2, 3], 'only what is new to the site');

  // And one more page load: nothing to resend, cursor at 3.
  const third = setup({ storage: first.storage });
  third.session.resume(/** @type {any} */ (third.store.load()));
  third.last().open();
  assert.equal(third.last().sent[0][2].last, 3);
  third.attach('active', { agent: 'Alice Agent' });
  assert.deepEqual(third.last().bodies('say'), []);
});

test('ending: end_chat, the server\'s word, chat_ended, storage cleared, unsent messages rejected', async () => {
  const t = setup();
  await t.session.start({ name: 'Ana' });
  t.attach('active', { agent: 'Alice Agent' });
  const unsent = t.session.say('never confirmed');
  const ended = t.session.end();
  assert.deepEqual(t.last().sent.at(-1), ['end_chat', 0, {}]);
  t.last().receive(['chat_state', 0, { chat: summary('ended', { agent: 'Alice Agent' }), reason: 'customer_left' }]);
  await ended;
  await assert.rejects(unsent, { code: 'chat_ended' });
  assert.equal(t.session.state, 'ended');
  assert.equal(t.session.reason, 'customer_left');
  assert.deepEqual(of(t.events, 'chat_ended'), [{ reason: 'customer_left' }]);
  assert.equal(t.storage.getItem('cobrowse.chat'), null);
  assert.equal(t.last().closed, true, 'no reconnect after the end');
  t.timers.advance(60_000);
  assert.equal(t.sockets.length, 1);
  await assert.rejects(t.session.say('hello?'), { code: 'no_chat' });
});

test('ending while the socket is down: ended here after a wait; the page keeps telling the server', async () => {
  const t = setup();
  await t.session.start({ name: 'Ana' });
  t.attach('queued');
  t.last().drop();
  const ended = t.session.end();
  t.timers.advance(3000);
  await ended;
  assert.equal(t.session.state, 'ended');
  assert.deepEqual(of(t.events, 'chat_ended'), [{ reason: 'customer_left' }]);
  assert.equal(t.storage.getItem('cobrowse.chat'), null);
  // The socket comes back: it says end_chat, and closes once the server confirms.
  t.timers.advance(10_000);
  const socket = t.last();
  assert.equal(t.sockets.length, 2);
  socket.open();
  socket.receive(['chat_state', 0, { chat: summary('queued'), position: 1 }]);
  assert.deepEqual(socket.sent.at(-1), ['end_chat', 0, {}]);
  assert.equal(t.session.state, 'ended', 'a late state changes nothing here');
  socket.receive(['chat_state', 0, { chat: summary('ended'), reason: 'customer_left' }]);
  assert.equal(socket.closed, true);
  t.timers.advance(60_000);
  assert.equal(t.sockets.length, 2, 'no more sockets');
  assert.deepEqual(of(t.events, 'chat_ended'), [{ reason: 'customer_left' }], 'told once');
});

test('the agent ends the chat; another tab takes it over; a chat the server forgot ends', async () => {
  const a = setup();
  await a.session.start({ name: 'Ana' });
  a.attach('active', { agent: 'Alice Agent' });
  a.last().receive(['chat_state', 0, { chat: summary('ended', { agent: 'Alice Agent' }), reason: 'agent_ended' }]);
  assert.deepEqual(of(a.events, 'chat_ended'), [{ reason: 'agent_ended' }]);
  a.session.reset();
  assert.equal(a.session.state, 'idle');

  const b = setup();
  await b.session.start({ name: 'Ana' });
  b.attach('active', { agent: 'Alice Agent' });
  b.last().receive(['error', 0, { code: 'superseded', message: 'the chat continued in another tab', fatal: true }]);
  b.last().drop();
  assert.equal(b.session.elsewhere, true);
  b.timers.advance(60_000);
  assert.equal(b.sockets.length, 1, 'no fight over the chat');
  b.session.continueHere();
  assert.equal(b.sockets.length, 2);
  assert.equal(b.session.elsewhere, false);

  const c = setup();
  await c.session.start({ name: 'Ana' });
  c.last().open();
  c.last().receive(['error', 0, { code: 'unauthorized', message: 'no chat has this ID and token', fatal: true }]);
  c.last().drop();
  assert.equal(c.session.state, 'ended');
  assert.deepEqual(of(c.events, 'chat_ended'), [{ reason: 'unavailable' }]);
  await settle();
});
