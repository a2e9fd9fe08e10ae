// The customer's chat and voice entry, end to end on the demo site (whose pages switch the chat
// widget on), with the production policy (no standalone sessions) and the agent's side played by
// a bare desk socket:
// - a chat started through the widget waits in line, is answered, and survives page loads
//   inside the site without losing or doubling a message, even when an echo or a message was
//   lost on the way (the network is cut by routing the chat socket);
// - "Start co-browse" from the chat's menu creates a linked session that asks the customer to
//   read nothing; ending co-browse leaves the chat open; ending the chat ends co-browse;
// - "Start co-browse" with no chat prompts for a chat or a call; "I'm on a call" shows the ID
//   to read aloud.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { launchBrowser, screenshot } from './harness.js';
import { DeskAgent, startCobrowse, waitFor } from './sdk_support.js';

/** @type {import('./sdk_support.js').Cobrowse} */
let server;
/** @type {import('playwright-core').Browser} */
let browser;

before(async () => {
  server = await startCobrowse({ COBROWSE_POLICY__STANDALONE_SESSIONS: 'false' });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
  server?.cleanup();
});

/**
 * A customer on the demo site, with the SDK's events recorded in `window.events`.
 * @param {import('playwright-core').BrowserContext} context
 * @param {string} path
 */
async function openDemo(context, path = '/demo/index.html') {
  const page = await context.newPage();
  page.on('pageerror', (err) => console.error('customer page error:', err.message));
  await page.addInitScript(() => {
    const w = /** @type {any} */ (window);
    w.events = [];
    const hook = () => {
      if (!w.Cobrowse) return void setTimeout(hook, 5);
      for (const type of ['chat_started', 'chat_message', 'chat_state', 'chat_ended', 'session_started', 'session_ended']) {
        w.Cobrowse.addEventListener(type, (/** @type {CustomEvent} */ e) => w.events.push([type, e.detail]));
      }
    };
    hook();
  });
  await page.goto(`${server.base}${path}`);
  await page.waitForFunction(() => /** @type {any} */ (window).Cobrowse?.initialized === true);
  return page;
}

/**
 * The texts in the widget's log, in order ("sending…" ones marked).
 * @param {import('playwright-core').Page} page
 * @returns {Promise<string[]>}
 */
function logTexts(page) {
  return page.locator('[data-chat=log] .msg').evaluateAll((els) => els.map((el) => (el.classList.contains('pending') ? 'PENDING ' : '') + (el.lastChild?.textContent ?? '')));
}

/**
 * @param {import('playwright-core').Page} page
 * @param {string} type
 * @returns {Promise<any[]>}
 */
function events(page, type) {
  return page.evaluate((t) => /** @type {any} */ (window).events.filter((/** @type {any[]} */ e) => e[0] === t).map((/** @type {any[]} */ e) => e[1]), type);
}

test('a chat through the widget: queue, answer, and page loads lose or double nothing', async () => {
  const desk = new DeskAgent(server.base);
  await desk.connect();
  const context = await browser.newContext({ viewport: { width: 1100, height: 800 } });
  // The chat socket goes through a switch that can lose the server's echoes or the page's messages.
  const cut = { echoes: false, says: false };
  await context.routeWebSocket(/\/ws\/v1\/chat$/, (ws) => {
    const upstream = ws.connectToServer();
    ws.onMessage((text) => {
      if (cut.says && String(text).startsWith('["say"')) return;
      upstream.send(text);
    });
    upstream.onMessage((text) => {
      if (cut.echoes && String(text).startsWith('["msg"')) return;
      ws.send(text);
    });
  });
  try {
    const page = await openDemo(context);
    await page.click('[data-chat=launcher]');
    await page.fill('[data-chat=name]', 'Ana');
    await page.fill('[data-chat=first]', 'I cannot find the form');
    await page.click('[data-chat=start]');
    await waitFor(async () => /Waiting for an agent, you are number 1 in line/.test(await page.locator('[data-chat=status]').innerText()), 'the place in line');
    const [started] = await events(page, 'chat_started');
    assert.match(started.id, /^chat-/);
    assert.equal(await page.locator('[data-chat=cobrowse]').isDisabled(), true, 'no co-browse before an agent answers');

    const chat = await desk.acceptChatOf('Ana');
    assert.equal(chat, started.id);
    await waitFor(async () => /You are chatting with Alice Agent/.test(await page.locator('[data-chat=status]').innerText()), 'the agent\'s name');
    await page.fill('[data-chat=input]', 'hello from Ana');
    await page.press('[data-chat=input]', 'Enter');
    desk.say(chat, 'Hi Ana, Alice here');
    await desk.waitFor((f) => f[0] === 'msg' && f[2].text === 'hello from Ana', 'the customer\'s message');
    await waitFor(async () => (await logTexts(page)).includes('Hi Ana, Alice here'), 'the agent\'s message');
    await screenshot(page, 'sdk-chat-active');

    // The server gets a message but its echo is lost on the way back.
    cut.echoes = true;
    await page.evaluate(() => void (/** @type {any} */ (window).Cobrowse.sendChat('echo lost')));
    await desk.waitFor((f) => f[0] === 'msg' && f[2].text === 'echo lost', 'the message whose echo is lost');
    assert.ok((await logTexts(page)).includes('PENDING echo lost'), 'unconfirmed on the page');
    // Now messages to the server are lost. The agent's next message shows the page a gap in the
    // numbering: it reconnects, the server replays, and the lost echo arrives after all.
    cut.echoes = false;
    cut.says = true;
    await page.evaluate(() => void (/** @type {any} */ (window).Cobrowse.sendChat('say lost')));
    desk.say(chat, 'While you browse');
    await waitFor(async () => {
      const texts = await logTexts(page);
      return texts.includes('echo lost') && texts.includes('While you browse') && texts.at(-1) === 'PENDING say lost';
    }, 'the replay after the gap, with the unsent message still sending');
    // The next page of the site sends the message the server never got.
    cut.says = false;
    await page.click('a[href="second.html"] >> nth=0');
    await page.waitForURL(/second\.html/);
    await waitFor(async () => (await logTexts(page)).includes('say lost'), 'the unsent message sent again by the next page');
    // And a reload continues from the last message the page had.
    await page.reload();
    await page.waitForFunction(() => /** @type {any} */ (window).Cobrowse?.initialized === true);
    desk.say(chat, 'After the reload');
    await waitFor(async () => (await logTexts(page)).includes('After the reload'), 'a message after the reload');

    const expected = ['I cannot find the form', 'Alice Agent joined the chat', 'hello from Ana', 'Hi Ana, Alice here', 'echo lost', 'While you browse', 'say lost', 'After the reload'];
    const desksView = desk.texts(chat);
    assert.deepEqual(desksView.filter((t) => !t.startsWith('Alice Agent joined')), expected.filter((t) => !t.startsWith('Alice Agent joined')), 'the agent has every message once, in order');
    const shown = await logTexts(page);
    assert.deepEqual(shown, expected, 'the customer has every message once, in order, none still sending');
    // The panel stayed open across the page loads; the events on this page are only new messages.
    assert.equal(await page.locator('[data-chat=log]').isVisible(), true);
    const messages = await events(page, 'chat_message');
    assert.deepEqual(messages.map((d) => d.message.text), ['After the reload']);
    await screenshot(page, 'sdk-chat-after-reload');
  } finally {
    await context.close();
    desk.close();
  }
});

test('co-browse from the chat: nothing to read out; ending co-browse keeps the chat; ending the chat ends co-browse', async () => {
  const desk = new DeskAgent(server.base);
  await desk.connect();
  const context = await browser.newContext({ viewport: { width: 1100, height: 800 } });
  try {
    const page = await openDemo(context);
    await page.evaluate(() => /** @type {any} */ (window).Cobrowse.startChat({ name: 'Bea' }));
    const chat = await desk.acceptChatOf('Bea');
    await page.click('[data-chat=launcher]');
    await page.click('[data-chat=menu-button]');
    await page.click('[data-chat=cobrowse]');
    const linked = await desk.waitFor((f) => f[0] === 'cobrowse' && f[2].chat === chat, 'the co-browse frame that opens the session');
    const sessionId = linked[2].session;
    await desk.waitFor((f) => f[0] === 'msg' && f[2].text === `{start:${sessionId}}`, 'the start marker in the transcript');
    await page.locator('[data-part=on]').waitFor({ state: 'visible' });
    assert.equal(await page.locator('[data-part=id]').isVisible(), false, 'no ID to read out');
    assert.match(await page.locator('[data-part=hint]').innerText(), /agent will see this page/);
    await waitFor(async () => (await logTexts(page)).includes('Co-browsing started.'), 'the start in the customer\'s transcript');
    await screenshot(page, 'sdk-chat-cobrowse-on');

    // Ending co-browse leaves the chat going.
    await page.click('[data-part=exit]');
    await waitFor(async () => /You ended the co-browse session/.test(await page.locator('[data-part=notice]').innerText()), 'co-browse ended');
    await desk.waitFor((f) => f[0] === 'msg' && f[2].chat === chat && /Co-browse ended; the chat goes on/.test(f[2].text), 'the chat going on');
    assert.match(await page.locator('[data-chat=status]').innerText(), /You are chatting with Alice Agent/);
    await page.click('[data-part=close]');

    // Ending the chat ends the co-browse session riding on it.
    const again = await page.evaluate(() => /** @type {any} */ (window).Cobrowse.startFromChat());
    assert.match(again.id, /^\d{9}$/);
    await page.locator('[data-part=on]').waitFor({ state: 'visible' });
    desk.send('end_chat', { chat });
    await waitFor(async () => /because your chat or call ended/.test(await page.locator('[data-part=notice]').innerText()), 'co-browse ended with the chat');
    await waitFor(async () => /The agent ended the chat/.test(await page.locator('[data-chat=status]').innerText()), 'the chat\'s end in plain words');
    assert.deepEqual(await events(page, 'chat_ended'), [{ reason: 'agent_ended' }]);
    const ended = await events(page, 'session_ended');
    assert.deepEqual(ended.map((d) => d.reason), ['customer_exit', 'interaction_ended']);
    assert.equal(await page.evaluate(() => sessionStorage.getItem('cobrowse.chat')), null, 'the ended chat is forgotten');
    await screenshot(page, 'sdk-chat-ended');
  } finally {
    await context.close();
    desk.close();
  }
});

test('with no chat or call, Start co-browse prompts for one; "I\'m on a call" shows the ID to read aloud', async () => {
  const context = await browser.newContext({ viewport: { width: 1100, height: 800 } });
  try {
    const page = await openDemo(context);
    await page.click('cobrowse-ui button.start');
    const prompt = page.locator('[data-part=prompt-text]');
    await prompt.waitFor({ state: 'visible' });
    assert.equal(await prompt.innerText(), 'Co-browsing works alongside a chat or a call with us');
    await screenshot(page, 'sdk-chat-prompt');
    await page.click('[data-part=prompt-chat]');
    await page.locator('[data-chat=name]').waitFor({ state: 'visible' });
    await page.click('[data-chat=minimize]');

    await page.click('cobrowse-ui button.start');
    await page.click('[data-part=prompt-call]');
    const id = page.locator('[data-part=id]');
    await id.waitFor({ state: 'visible' });
    const sessionId = await page.evaluate(() => /** @type {any} */ (window).Cobrowse.sessionId);
    assert.match(sessionId, /^\d{9}$/);
    assert.equal(await id.innerText(), `${sessionId.slice(0, 3)} ${sessionId.slice(3, 6)} ${sessionId.slice(6)}`);
    assert.equal(await id.evaluate((el) => getComputedStyle(el).fontSize), '40px', 'large, to read aloud');
    assert.match(await page.locator('[data-part=label]').innerText(), /Read these digits to the agent on the phone/);
    await screenshot(page, 'sdk-chat-browse-with-you');
    // The API answers with the running session.
    assert.deepEqual(await page.evaluate(() => /** @type {any} */ (window).Cobrowse.browseWithYou()), { id: sessionId });
    await page.evaluate(() => /** @type {any} */ (window).Cobrowse.stop());

    // The link next to the chat launcher does the same.
    await page.click('[data-part=close]');
    await page.click('cobrowse-ui button.link');
    await waitFor(async () => /^\d{9}$/.test(await page.evaluate(() => /** @type {any} */ (window).Cobrowse.sessionId ?? '')) && (await page.evaluate(() => /** @type {any} */ (window).Cobrowse.sessionId)) !== sessionId, 'a second voice session');
    await page.evaluate(() => /** @type {any} */ (window).Cobrowse.stop());
  } finally {
    await context.close();
  }
});
