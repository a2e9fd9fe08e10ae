// The agent's journeys through the workspace, as the agent guides describe them, against the
// real server, with a customer context and an agent context in the system Chromium: joining by
// ID, pointer mode, write mode (request, denial, approval, revocation), acting on the page,
// navigation, restricted and masked elements, zoom, the customer leaving the site, exits by
// either side, sessions opened from a chat link, observers, and keyboard use.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { screenshot } from './harness.js';
import {
  startEnv, page, openCustomer, openAgent, join, state, inRebuilt, untilRebuilt, until, untilNotice,
  notices, customerButton, pointOf, clickRebuilt, enterWriteMode, cleanup, waitForPage, untilExplained,
} from './agent_support.js';

/** @typedef {import('./agent_support.js').Env} Env */
/** @typedef {import('./agent_support.js').FixtureSite} FixtureSite */

/**
 * The shop's form page: fields, a select, a checkbox, a textarea, the submit button (restricted
 * by default), a restricted link, masked text, a masked field and a masked image, links to a
 * second page and off the site, and enough height to scroll.
 * @param {FixtureSite} site
 */
function shopPage(site) {
  const offsite = site.origin.replace('127.0.0.1', 'localhost');
  return page(site, {
    title: 'Acme Shop — Checkout',
    head: `<style>
      body { font: 16px/1.4 sans-serif; margin: 16px; }
      label { display: block; margin-top: 6px; }
      input, select, textarea { font: inherit; width: 260px; }
      #terms { width: auto; }
      .tall { height: 1600px; background: linear-gradient(#fff, #cde); }
    </style>`,
    body: `
      <h1 id="title">Checkout</h1>
      <p>Balance: <span id="balance" data-cobrowse-mask="text">€ 12,345.67</span></p>
      <form id="order" action="/submitted" method="get">
        <label for="name">Full name</label><input id="name" name="name" autocomplete="off">
        <label for="pw">Password</label><input id="pw" name="pw" type="password">
        <label for="account">Account number</label><input id="account" name="account" data-cobrowse-mask autocomplete="off">
        <label for="plan">Plan</label><select id="plan" name="plan"><option>Basic</option><option>Plus</option><option>Premium</option></select>
        <label><input id="terms" name="terms" type="checkbox"> I accept the terms</label>
        <label for="notes">Notes</label><textarea id="notes" name="notes" rows="3"></textarea>
        <button id="submit" type="submit">Place order</button>
      </form>
      <p><button id="counter" type="button">Clicked 0 times</button></p>
      <p><img id="card" src="/card.svg" width="120" height="75" alt="Your card" data-cobrowse-mask="image"></p>
      <p><a id="next" href="/second">Your orders</a> · <a id="restricted-link" href="/second" data-cobrowse-restrict>Close account</a> · <a id="away" href="${offsite}/offsite">Partner site</a></p>
      <div class="tall" id="tall">Lots of content</div>
      <script>
        let clicks = 0;
        document.getElementById('counter').addEventListener('click', () => {
          clicks++;
          document.getElementById('counter').textContent = 'Clicked ' + clicks + ' times';
        });
      </script>`,
  });
}

/** @type {Env} */
let env;
/** Requests the site saw for the form's action. */
let submissions = 0;

before(async () => {
  env = await startEnv({
    '/shop': (site) => ({ body: shopPage(site) }),
    '/second': (site) => ({ body: page(site, { title: 'Your orders', body: '<h1 id="second-title">Your orders</h1><p><a id="back-link" href="/shop">Back to checkout</a></p>' }) }),
    '/submitted': (site) => {
      submissions++;
      return { body: page(site, { title: 'Thank you', body: '<h1 id="thanks">Thank you</h1>' }) };
    },
    '/offsite': () => ({ body: '<!DOCTYPE html><title>Partner</title><h1>Another company</h1>' }),
    '/card.svg': () => ({ type: 'image/svg+xml', body: '<svg xmlns="http://www.w3.org/2000/svg" width="120" height="75"><rect width="120" height="75" rx="8" fill="#2a6"/><text x="10" y="45" fill="#fff">4242 4242</text></svg>' }),
  });
});

after(async () => {
  await env.close();
});

test('join by ID: the customer page appears; a second session is refused with agent_busy', async () => {
  const customer = await openCustomer(env, '/shop');
  const other = await openCustomer(env, '/shop');
  const agent = await openAgent(env);
  const secondTab = await openAgent(env);
  try {
    // A wrong ID is explained without asking the server.
    await agent.page.getByTestId('session-id').fill('12345');
    await agent.page.getByTestId('join-btn').click();
    await until(async () => /nine digits/.test(await agent.page.getByTestId('join-error').textContent() ?? ''), 'the ID format message');

    // The ID as the customer reads it, with spaces.
    const spaced = `${customer.id.slice(0, 3)} ${customer.id.slice(3, 6)} ${customer.id.slice(6)}`;
    await join(agent, spaced);
    const s = await state(agent);
    assert.equal(s.session, customer.id);
    assert.equal(s.mode, 'pointer', 'an agent starts in pointer mode');
    assert.equal(await inRebuilt(agent, (doc) => doc.querySelector('#title')?.textContent), 'Checkout');
    assert.equal(await agent.page.getByTestId('url-bar').inputValue(), `${env.site.origin}/shop`);
    assert.match(await agent.page.getByTestId('session-label').textContent() ?? '', new RegExp(customer.id.slice(0, 3)));
    assert.equal(await agent.page.getByTestId('join-form').isHidden(), true, 'one session at a time: no join form');
    // The frame is sandboxed without scripts and sized to the customer's viewport.
    const frame = agent.page.getByTestId('virtual-browser');
    assert.equal(await frame.getAttribute('sandbox'), 'allow-same-origin');
    assert.deepEqual(await frame.evaluate((f) => [f.style.width, f.style.height]), ['1000px', '700px']);
    // The customer hears that the agent joined.
    await until(() => customer.page.evaluate(() => /** @type {any} */ (window).Cobrowse.agentPresent), 'the customer to see the agent');
    await until(async () => (await state(agent)).rtt !== null, 'a latency figure');
    assert.match(await agent.page.getByTestId('conn-status').textContent() ?? '', /Connected · \d+ ms/);
    await screenshot(agent.page, 'agent-joined');

    // The same agent in another tab cannot take a second session.
    await secondTab.page.getByTestId('session-id').fill(other.id);
    await secondTab.page.getByTestId('join-btn').click();
    await until(async () => /already have a co-browse session/.test(await secondTab.page.getByTestId('join-error').textContent() ?? ''), 'the agent_busy message');
    await screenshot(secondTab.page, 'agent-busy');
  } finally {
    await cleanup(secondTab, other);
    await cleanup(agent, customer);
  }
});

test('pointer mode: the agent points and clicks (a red circle for the customer), nothing acts on the page', async () => {
  const customer = await openCustomer(env, '/shop');
  const agent = await openAgent(env);
  try {
    await join(agent, customer.id);
    const terms = await pointOf(agent, '#terms');
    await agent.page.mouse.move(terms.x - 30, terms.y);
    await agent.page.mouse.move(terms.x, terms.y, { steps: 4 });
    const pointer = customer.page.locator('cobrowse-ui .pointer');
    await until(async () => !(await pointer.evaluate((el) => /** @type {HTMLElement} */ (el).hidden)), 'the agent pointer on the customer side');
    await agent.page.mouse.click(terms.x, terms.y);
    const circle = customer.page.locator('cobrowse-ui .click').first();
    await circle.waitFor({ state: 'attached', timeout: 5000 });
    // The circle is where the agent clicked: on the checkbox in the customer's page.
    const [left, top] = await circle.evaluate((el) => [parseFloat(/** @type {HTMLElement} */ (el).style.left), parseFloat(/** @type {HTMLElement} */ (el).style.top)]);
    const box = await customer.page.locator('#terms').boundingBox();
    assert.ok(box && Math.abs(left - (box.x + box.width / 2)) < 4 && Math.abs(top - (box.y + box.height / 2)) < 4, `circle at ${left},${top}, checkbox at ${JSON.stringify(box)}`);
    await screenshot(customer.page, 'customer-red-circle');
    // The click did nothing: no tick, no navigation.
    await clickRebuilt(agent, '#next');
    await new Promise((resolve) => setTimeout(resolve, 400));
    assert.equal(await customer.page.isChecked('#terms'), false);
    assert.equal(new URL(customer.page.url()).pathname, '/shop');
    assert.equal(await inRebuilt(agent, (doc) => /** @type {HTMLInputElement} */ (doc.querySelector('#terms')).checked), false);
    // Keys in pointer mode do nothing either.
    await clickRebuilt(agent, '#name');
    await agent.page.keyboard.type('xyz');
    assert.equal(await customer.page.inputValue('#name'), '');
    // The customer's own pointer and clicks show in the workspace.
    await customer.page.mouse.move(300, 200);
    await customer.page.mouse.move(320, 210, { steps: 3 });
    await until(() => agent.page.getByTestId('customer-pointer').isVisible(), "the customer's pointer");
    await customer.page.mouse.click(500, 600);
    await agent.page.getByTestId('ripple-customer').first().waitFor({ state: 'attached', timeout: 5000 });
    // The highlight tool draws a stroke the customer sees.
    await agent.page.getByTestId('highlight-tool').click();
    const start = await pointOf(agent, '#title');
    await agent.page.mouse.move(start.x, start.y);
    await agent.page.mouse.down();
    await agent.page.mouse.move(start.x + 80, start.y + 10, { steps: 5 });
    await agent.page.mouse.move(start.x + 160, start.y, { steps: 5 });
    await agent.page.mouse.up();
    await customer.page.locator('cobrowse-ui svg.strokes polyline').first().waitFor({ state: 'attached', timeout: 5000 });
  } finally {
    await cleanup(agent, customer);
  }
});

test('write mode: requested, denied, approved, revoked by the customer and given back by the agent', async () => {
  const customer = await openCustomer(env, '/shop');
  const agent = await openAgent(env);
  try {
    await join(agent, customer.id);
    const toggle = agent.page.getByTestId('write-toggle');
    assert.equal(await toggle.textContent(), 'Request write mode');
    await toggle.click();
    await until(async () => (await toggle.textContent()) === 'Waiting for the customer…', 'the waiting state');
    assert.equal(await toggle.isDisabled(), true);
    await customerButton(customer.page, 'deny').waitFor({ state: 'visible' });
    await screenshot(agent.page, 'write-requested');
    await customerButton(customer.page, 'deny').click();
    await untilNotice(agent, /declined write mode/);
    await until(async () => (await toggle.textContent()) === 'Request write mode' && !(await toggle.isDisabled()), 'the toggle back');
    assert.equal((await state(agent)).mode, 'pointer');

    await toggle.click();
    await customerButton(customer.page, 'approve').click();
    await untilNotice(agent, /approved: you are in write mode/);
    assert.equal((await state(agent)).mode, 'write');
    assert.equal(await toggle.textContent(), 'Back to pointer mode');
    assert.equal(await agent.page.getByTestId('mode-status').textContent(), 'Write mode');
    assert.equal(await agent.page.getByTestId('nav-back').isDisabled(), false);
    await screenshot(agent.page, 'write-approved');

    await customerButton(customer.page, 'revoke').click();
    await untilNotice(agent, /took back control/);
    await until(async () => (await state(agent)).mode === 'pointer', 'pointer mode after the revoke');
    assert.equal(await agent.page.getByTestId('nav-back').isDisabled(), true);
    assert.equal(await agent.page.getByTestId('url-bar').getAttribute('readonly'), '');

    await enterWriteMode(agent, customer);
    await toggle.click(); // the agent gives control back
    await until(async () => (await state(agent)).mode === 'pointer', 'pointer mode after the agent gave it back');
    await until(() => customer.page.evaluate(() => /** @type {any} */ (window).Cobrowse.mode === 'pointer'), 'the customer in pointer mode');
  } finally {
    await cleanup(agent, customer);
  }
});

test('write mode: typing, clicking, checking, selecting and scrolling act on the customer page', async () => {
  const customer = await openCustomer(env, '/shop');
  const agent = await openAgent(env);
  try {
    await join(agent, customer.id);
    await enterWriteMode(agent, customer);
    await clickRebuilt(agent, '#name');
    await agent.page.keyboard.type('Ada Lovelace', { delay: 5 });
    await untilExplained(agent, customer, async () => (await customer.page.inputValue('#name')) === 'Ada Lovelace', 'the typed name on the customer page');
    await agent.page.keyboard.press('Backspace');
    await agent.page.keyboard.press('ArrowLeft');
    await agent.page.keyboard.press('ArrowLeft');
    await agent.page.keyboard.type('X');
    await untilExplained(agent, customer, async () => (await customer.page.inputValue('#name')) === 'Ada LovelXac', 'an edit in the middle');
    assert.equal(await inRebuilt(agent, (doc) => /** @type {HTMLInputElement} */ (doc.querySelector('#name')).value), 'Ada LovelXac');
    // Text from an input method: composed locally, sent when committed.
    await agent.page.keyboard.press('End');
    await agent.page.keyboard.insertText(' 日本');
    const cdp = await agent.context.newCDPSession(agent.page);
    await cdp.send('Input.imeSetComposition', { text: 'ご', selectionStart: 1, selectionEnd: 1 });
    await cdp.send('Input.imeSetComposition', { text: 'ごて', selectionStart: 2, selectionEnd: 2 });
    await cdp.send('Input.insertText', { text: '語' });
    await until(async () => (await customer.page.inputValue('#name')) === 'Ada LovelXac 日本語', 'composed text on the customer page');
    await cdp.detach();

    await clickRebuilt(agent, '#notes');
    await agent.page.keyboard.type('line one');
    await agent.page.keyboard.press('Enter');
    await agent.page.keyboard.type('line two');
    await until(async () => (await customer.page.inputValue('#notes')) === 'line one\nline two', 'a textarea with two lines');

    await clickRebuilt(agent, '#terms');
    await until(() => customer.page.isChecked('#terms'), 'the checkbox ticked on the customer page');
    await untilRebuilt(agent, (doc) => /** @type {HTMLInputElement} */ (doc.querySelector('#terms')).checked, 'the tick in the view');

    await clickRebuilt(agent, '#counter');
    await until(async () => (await customer.page.textContent('#counter')) === 'Clicked 1 times', "the page's own click handler ran");

    // The agent picks an option (what the select's popup does: a change event).
    await agent.page.evaluate(() => {
      const doc = /** @type {any} */ (window).cobrowseAgentTestHook.rebuiltDocument();
      const select = doc.querySelector('#plan');
      select.selectedIndex = 2;
      select.dispatchEvent(new Event('change', { bubbles: true }));
    });
    await until(async () => (await customer.page.inputValue('#plan')) === 'Premium', 'the option chosen on the customer page');

    // The agent scrolls the page; then the customer scrolls and the view follows.
    const tall = await pointOf(agent, '#title');
    await agent.page.mouse.move(tall.x, tall.y + 200);
    await agent.page.mouse.wheel(0, 400);
    await until(async () => (await customer.page.evaluate(() => window.scrollY)) > 100, 'the customer page scrolled by the agent');
    await customer.page.evaluate(() => window.scrollTo(0, 700));
    await untilRebuilt(agent, (doc) => Math.abs((doc.scrollingElement?.scrollTop ?? 0) - 700) < 2, 'the view following the customer scroll');
    await screenshot(agent.page, 'write-mode-acting');
    assert.deepEqual(agent.errors, []);
  } finally {
    await cleanup(agent, customer);
  }
});

test('navigation: back, forward, refresh and the URL bar, in write mode only', async () => {
  const customer = await openCustomer(env, '/shop');
  const agent = await openAgent(env);
  try {
    await join(agent, customer.id);
    for (const id of ['nav-back', 'nav-forward', 'nav-reload']) assert.equal(await agent.page.getByTestId(id).isDisabled(), true, `${id} in pointer mode`);
    await enterWriteMode(agent, customer);
    const urlBar = agent.page.getByTestId('url-bar');

    await clickRebuilt(agent, '#next'); // a link in the page
    await untilExplained(agent, customer, async () => new URL(customer.page.url()).pathname === '/second', 'the customer on the second page');
    await untilRebuilt(agent, (doc) => doc.querySelector('#second-title'), 'the second page in the view');
    await until(async () => (await urlBar.inputValue()) === `${env.site.origin}/second`, 'the URL bar following');

    await agent.page.getByTestId('nav-back').click();
    await untilExplained(agent, customer, async () => new URL(customer.page.url()).pathname === '/shop', 'back');
    await untilRebuilt(agent, (doc) => doc.querySelector('#title'), 'the first page again');

    await agent.page.getByTestId('nav-forward').click();
    await untilExplained(agent, customer, async () => new URL(customer.page.url()).pathname === '/second', 'forward');
    await untilRebuilt(agent, (doc) => doc.querySelector('#second-title'), 'the second page again');

    const loads = env.site.requests.filter((r) => r.path === '/second').length;
    await agent.page.getByTestId('nav-reload').click();
    await until(() => env.site.requests.filter((r) => r.path === '/second').length > loads, 'the page loaded again');
    await untilRebuilt(agent, (doc) => doc.querySelector('#second-title'), 'the reloaded page');
    // The session is still in write mode after the reload.
    await waitForPage(agent);
    assert.equal((await state(agent)).mode, 'write');

    await urlBar.fill(`${env.site.origin}/shop`);
    await urlBar.press('Enter');
    await untilExplained(agent, customer, async () => new URL(customer.page.url()).pathname === '/shop', 'the URL typed by the agent');
    await untilRebuilt(agent, (doc) => doc.querySelector('#title'), 'the typed page in the view');

    // Outside the site: the customer's browser refuses it.
    await urlBar.fill('https://elsewhere.example/');
    await urlBar.press('Enter');
    await untilNotice(agent, /outside the allowed sites/);
    assert.equal(new URL(customer.page.url()).pathname, '/shop');
    await screenshot(agent.page, 'navigation');
  } finally {
    await cleanup(agent, customer);
  }
});

test('restricted controls are outlined green and inert for the agent; the customer can still submit', async () => {
  const customer = await openCustomer(env, '/shop');
  const agent = await openAgent(env);
  try {
    await join(agent, customer.id);
    const restricted = agent.page.getByTestId('outline-restricted');
    await until(async () => (await restricted.count()) >= 2, 'outlines on the submit button and the restricted link');
    const color = await restricted.first().evaluate((el) => getComputedStyle(el).borderTopColor);
    assert.equal(color, 'rgb(30, 158, 74)', 'green');
    // Hovering shows the alert icon.
    const submit = await pointOf(agent, '#submit');
    await agent.page.mouse.move(submit.x, submit.y);
    const hovered = agent.page.locator('.cb-outline-restricted.cb-hover .cb-alert-icon');
    await until(() => hovered.isVisible(), 'the alert icon on hover');
    await screenshot(agent.page, 'restricted-outlines');

    await enterWriteMode(agent, customer);
    const before = submissions;
    await clickRebuilt(agent, '#submit');
    await untilNotice(agent, /restricted/);
    await clickRebuilt(agent, '#restricted-link');
    // Enter in a field would submit the form: refused by the customer's browser.
    await clickRebuilt(agent, '#name');
    await agent.page.keyboard.type('Ada');
    await until(async () => (await customer.page.inputValue('#name')) === 'Ada', 'typed');
    await agent.page.keyboard.press('Enter');
    await untilNotice(agent, /reserved for the customer/);
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.equal(submissions, before, 'nothing was submitted by the agent');
    assert.equal(new URL(customer.page.url()).pathname, '/shop', 'the restricted link did not navigate');

    // The customer submits as usual.
    await customer.page.click('#submit');
    await until(() => submissions > before, 'the customer submission');
    await untilRebuilt(agent, (doc) => doc.querySelector('#thanks'), 'the thank-you page in the view');
  } finally {
    await cleanup(agent, customer);
  }
});

test('masked fields are outlined purple and show asterisks; masked images are gray boxes', async () => {
  const customer = await openCustomer(env, '/shop');
  const agent = await openAgent(env);
  try {
    await join(agent, customer.id);
    await customer.page.fill('#pw', 'hunter2');
    await customer.page.fill('#account', '12345678');
    await untilRebuilt(agent, (doc) => /** @type {HTMLInputElement} */ (doc.querySelector('#account')).value === '********', 'the masked account number');
    assert.equal(await inRebuilt(agent, (doc) => /** @type {HTMLInputElement} */ (doc.querySelector('#pw')).value), '*******');
    const balance = await inRebuilt(agent, (doc) => doc.querySelector('#balance')?.textContent ?? '');
    assert.match(balance, /^[*\s]+$/, 'masked text shows asterisks');
    assert.doesNotMatch(await inRebuilt(agent, (doc) => doc.documentElement.outerHTML), /hunter2|12345678|12,345/);
    // The image never loads in the view; a gray box stands in its place.
    assert.equal(await inRebuilt(agent, (doc) => doc.querySelector('#card')?.hasAttribute('src')), false);
    const masked = agent.page.getByTestId('outline-masked');
    await until(async () => (await masked.count()) >= 4, 'purple outlines on the password, the account, the balance and the card');
    assert.equal(await masked.first().evaluate((el) => getComputedStyle(el).borderTopColor), 'rgb(138, 63, 252)', 'purple');
    const gray = agent.page.locator('.cb-outline-masked.cb-masked-image');
    assert.equal(await gray.count(), 1, 'the card as a gray box');
    // The box keeps the size the image has for the customer.
    const size = await inRebuilt(agent, (doc) => {
      const r = /** @type {Element} */ (doc.querySelector('#card')).getBoundingClientRect();
      return [r.width, r.height];
    });
    assert.deepEqual(size, [120, 75]);
    await screenshot(agent.page, 'masked-fields');

    await enterWriteMode(agent, customer);
    await clickRebuilt(agent, '#account');
    await untilNotice(agent, /masked/);
    await agent.page.keyboard.type('999');
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(await customer.page.inputValue('#account'), '12345678', 'the agent cannot type into a masked field');
  } finally {
    await cleanup(agent, customer);
  }
});

test('zoom to fit scales the customer viewport into the area; 1:1 shows it at size with scroll bars', async () => {
  const customer = await openCustomer(env, '/shop', { viewport: { width: 1200, height: 800 } });
  const agent = await openAgent(env, { viewport: { width: 900, height: 700 } });
  try {
    await join(agent, customer.id);
    const area = agent.page.getByTestId('browser-area');
    await until(async () => (await state(agent)).scale < 1, 'a scale below 1');
    const fit = await area.evaluate((el) => ({ sw: el.scrollWidth, cw: el.clientWidth, sh: el.scrollHeight, ch: el.clientHeight }));
    assert.ok(fit.sw <= fit.cw + 1 && fit.sh <= fit.ch + 1, `fits: ${JSON.stringify(fit)}`);
    // Pointing still lands where the agent points, scaled.
    const terms = await pointOf(agent, '#terms');
    await agent.page.mouse.click(terms.x, terms.y);
    const circle = customer.page.locator('cobrowse-ui .click').first();
    await circle.waitFor({ state: 'attached', timeout: 5000 });
    const left = await circle.evaluate((el) => parseFloat(/** @type {HTMLElement} */ (el).style.left));
    const box = await customer.page.locator('#terms').boundingBox();
    assert.ok(box && Math.abs(left - (box.x + box.width / 2)) < 6, `circle at ${left}, checkbox at ${box?.x}`);
    await screenshot(agent.page, 'zoom-fit');

    await agent.page.getByTestId('zoom-actual').click();
    assert.equal((await state(agent)).scale, 1);
    assert.equal(await agent.page.getByTestId('zoom-actual').getAttribute('aria-pressed'), 'true');
    const actual = await area.evaluate((el) => ({ sw: el.scrollWidth, cw: el.clientWidth }));
    assert.ok(actual.sw > actual.cw, `scroll bars at 1:1: ${JSON.stringify(actual)}`);
    await screenshot(agent.page, 'zoom-actual');
    await agent.page.getByTestId('zoom-fit').click();
    assert.ok((await state(agent)).scale < 1);
  } finally {
    await cleanup(agent, customer);
  }
});

test('the customer leaves the site: the view pauses; they return: it resumes', async () => {
  const customer = await openCustomer(env, '/shop');
  const agent = await openAgent(env);
  try {
    await join(agent, customer.id);
    await customer.page.click('#away');
    await until(async () => new URL(customer.page.url()).hostname === 'localhost', 'the customer on the other site');
    const overlay = agent.page.getByTestId('paused-overlay');
    await overlay.waitFor({ state: 'visible', timeout: 10_000 });
    await untilNotice(agent, /left the site/);
    // The overlay covers the visible area even when the agent has scrolled the area.
    const covers = await agent.page.evaluate(() => {
      const o = /** @type {HTMLElement} */ (document.querySelector('[data-testid="paused-overlay"]')).getBoundingClientRect();
      const a = /** @type {HTMLElement} */ (document.querySelector('[data-testid="browser-area"]')).getBoundingClientRect();
      return Math.abs(o.top - a.top) < 2 && Math.abs(o.height - a.height) < 2;
    });
    assert.ok(covers, 'the overlay covers the browser area');
    await screenshot(agent.page, 'customer-left-site');

    await customer.page.goBack();
    await overlay.waitFor({ state: 'hidden', timeout: 10_000 });
    await untilNotice(agent, /customer is back/);
    await untilRebuilt(agent, (doc) => doc.querySelector('#title'), 'the page after the return');
    assert.equal((await state(agent)).ended, false);
  } finally {
    await cleanup(agent, customer);
  }
});

test('exit by the agent: the customer is told', async () => {
  const customer = await openCustomer(env, '/shop');
  const agent = await openAgent(env);
  try {
    await join(agent, customer.id);
    const ended = customer.page.evaluate(() => new Promise((resolve) => {
      /** @type {any} */ (window).Cobrowse.addEventListener('session_ended', (/** @type {CustomEvent} */ e) => resolve(e.detail.reason), { once: true });
    }));
    await agent.page.getByTestId('exit-session').click();
    assert.equal(await ended, 'agent_exit');
    const notice = customer.page.locator('cobrowse-ui [data-part="notice"]');
    await until(async () => /agent ended/.test(await notice.textContent() ?? ''), 'the notice on the customer side');
    await untilNotice(agent, /You ended the co-browse session/);
    assert.equal(await agent.page.getByTestId('join-form').isVisible(), true);
    await screenshot(customer.page, 'customer-told-agent-exit');
  } finally {
    await cleanup(agent, customer);
  }
});

test('exit by the customer: the agent is told and the view is cleared', async () => {
  const customer = await openCustomer(env, '/shop');
  const agent = await openAgent(env);
  try {
    await join(agent, customer.id);
    await customerButton(customer.page, 'exit').click();
    await untilNotice(agent, /customer ended the co-browse session/);
    await until(async () => (await state(agent)).ended === true, 'the session over in the workspace');
    assert.equal(await inRebuilt(agent, (doc) => doc.childNodes.length), 0, 'the view no longer shows the page');
    assert.equal(await agent.page.locator('#session-section').isHidden(), true);
    assert.equal(await agent.page.getByTestId('join-form').isVisible(), true);
    assert.equal(await agent.page.getByTestId('conn-status').getAttribute('data-status'), 'closed');
    await screenshot(agent.page, 'agent-told-customer-exit');
    // The agent is free for the next session.
    const next = await openCustomer(env, '/shop');
    try {
      await join(agent, next.id);
    } finally {
      await cleanup(null, next);
    }
  } finally {
    await cleanup(agent, customer);
  }
});

test('a session started from a chat opens by itself (?session=)', async () => {
  const customer = await openCustomer(env, '/shop');
  const agent = await openAgent(env, { query: `&session=${customer.id}` });
  try {
    await waitForPage(agent);
    assert.equal((await state(agent)).session, customer.id);
  } finally {
    await cleanup(agent, customer);
  }
});

test('observers: a supervisor watches read-only; the customer and the agent are told', async () => {
  const customer = await openCustomer(env, '/shop');
  const agent = await openAgent(env);
  const supervisor = await openAgent(env, { user: 'bob' });
  try {
    assert.equal(await agent.page.getByTestId('watch-btn').isHidden(), true, 'agents who are not supervisors have no Watch');
    await join(agent, customer.id);
    const seen = customer.page.evaluate(() => new Promise((resolve) => {
      /** @type {any} */ (window).Cobrowse.addEventListener('notice', (/** @type {CustomEvent} */ e) => {
        if (e.detail.code === 'observer_joined') resolve(e.detail.who?.name);
      });
    }));
    await supervisor.page.getByTestId('session-id').fill(customer.id);
    await supervisor.page.getByTestId('watch-btn').click();
    await waitForPage(supervisor);
    assert.equal(await seen, 'Bob Agent');
    await untilNotice(agent, /Bob Agent is watching/);
    const s = await state(supervisor);
    assert.equal(s.role, 'observer');
    assert.match(await supervisor.page.getByTestId('session-label').textContent() ?? '', /Watching session/);
    for (const id of ['write-toggle', 'highlight-tool', 'nav-back', 'url-bar']) {
      assert.equal(await supervisor.page.getByTestId(id).isVisible(), false, `${id} hidden for an observer`);
    }
    // The observer sees the page change and the agent's pointer.
    await customer.page.fill('#name', 'Grace');
    await untilRebuilt(supervisor, (doc) => /** @type {HTMLInputElement} */ (doc.querySelector('#name')).value === 'Grace', 'the change in the observer view');
    const p = await pointOf(agent, '#title');
    await agent.page.mouse.move(p.x, p.y);
    await agent.page.mouse.move(p.x + 20, p.y + 5, { steps: 3 });
    await until(() => supervisor.page.getByTestId('agent-pointer').isVisible(), "the agent's pointer for the observer");
    // Nothing the observer does reaches the customer.
    const q = await pointOf(supervisor, '#terms');
    await supervisor.page.mouse.move(q.x, q.y);
    await supervisor.page.mouse.click(q.x, q.y);
    await new Promise((resolve) => setTimeout(resolve, 400));
    assert.equal(await customer.page.locator('cobrowse-ui .click').count(), 0, 'no click circle from the observer');
    assert.equal(await customer.page.isChecked('#terms'), false);
    await screenshot(supervisor.page, 'observer-view');

    const left = customer.page.evaluate(() => new Promise((resolve) => {
      /** @type {any} */ (window).Cobrowse.addEventListener('notice', (/** @type {CustomEvent} */ e) => {
        if (e.detail.code === 'observer_left') resolve(true);
      });
    }));
    await supervisor.page.getByTestId('exit-session').click();
    assert.equal(await left, true);
    await untilNotice(supervisor, /stopped watching/);
    assert.equal((await state(agent)).ended, false, "the agent's session goes on");
  } finally {
    await cleanup(supervisor, null);
    await cleanup(agent, customer);
  }
});

test('keyboard: labelled controls in a sensible tab order, notices in a live region', async () => {
  const customer = await openCustomer(env, '/shop');
  const agent = await openAgent(env);
  try {
    // The sign-in form's fields have labels.
    const fresh = await env.browser.newContext();
    const signin = await fresh.newPage();
    await signin.goto(`${env.server.base}/agent/`);
    await signin.getByLabel('Username').fill('alice');
    await signin.getByLabel('Password').fill('wrong');
    await signin.keyboard.press('Enter');
    await until(async () => /Wrong username or password/.test(await signin.getByRole('alert').first().textContent() ?? ''), 'the sign-in error, announced');
    await fresh.close();

    assert.equal(await agent.page.getByLabel('Session ID').isVisible(), true);
    await agent.page.getByLabel('Session ID').fill(customer.id);
    await agent.page.keyboard.press('Enter');
    await waitForPage(agent);

    // Tab from the first control of the page through the others.
    const focused = () => agent.page.evaluate(() => {
      const el = /** @type {HTMLElement} */ (document.activeElement);
      if (!el || el === document.body) return '';
      // The accessible name: aria-label, a label, the text, the title (in that order).
      const labelled = el.getAttribute('aria-label') || (el.id && document.querySelector(`label[for="${el.id}"]`)?.textContent) || el.textContent?.trim() || el.getAttribute('title');
      return `${el.localName}:${(labelled ?? '').trim()}`;
    });
    await agent.page.getByTestId('signout-btn').focus();
    /** @type {string[]} */
    const order = [await focused()];
    for (let i = 0; i < 12; i++) {
      await agent.page.keyboard.press('Tab');
      const name = await focused();
      order.push(name);
      if (name.startsWith('iframe')) break;
    }
    assert.deepEqual(order, [
      'button:Sign out',
      'button:Request write mode',
      'button:Highlight',
      'button:Zoom to fit',
      'button:1:1',
      'button:Exit Session',
      "input:Address of the customer's page",
      'iframe:Customer’s page',
    ], 'every control named, in reading order; disabled navigation skipped');
    for (const name of order) assert.notEqual(name.split(':')[1], '', `${name} has a name`);

    // Keyboard only: request write mode from the toggle.
    await agent.page.getByTestId('write-toggle').focus();
    await agent.page.keyboard.press('Enter');
    await customerButton(customer.page, 'approve').click();
    await until(async () => (await state(agent)).mode === 'write', 'write mode by keyboard');
    const log = agent.page.getByRole('log', { name: 'Notices' });
    assert.equal(await log.getAttribute('aria-live'), 'polite');
    await until(async () => /approved/.test(await log.textContent() ?? ''), 'the approval in the live region');
    assert.ok((await notices(agent)).length > 0);
  } finally {
    await cleanup(agent, customer);
  }
});

test('actions carried out on the customer page are not reported as refused', async () => {
  const customer = await openCustomer(env, '/shop');
  const agent = await openAgent(env);
  try {
    await join(agent, customer.id);
    await enterWriteMode(agent, customer);
    await clickRebuilt(agent, '#counter');
    await until(async () => (await customer.page.textContent('#counter')) === 'Clicked 1 times', 'the click carried out');
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.deepEqual((await notices(agent)).filter((text) => /no longer on the page/.test(text)), []);
  } finally {
    await cleanup(agent, customer);
  }
});
