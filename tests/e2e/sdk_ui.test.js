// The customer's own UI, driven by real clicks: the Start button, the session ID, notices when
// the agent or a supervisor joins, the write-mode consent dialog, the toolbar (mode, take back
// control, exit) and the ending notice; it survives hostile site CSS and is never mirrored.
// With data-ui="false" a site drives everything through the API and events, and the agent's
// pointer, click circle and highlight are still drawn.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { launchBrowser, screenshot } from './harness.js';
import { AGENT_BOB, BareAgent, openCustomer, startCobrowse, startSite, waitFor } from './sdk_support.js';

/** @type {import('./sdk_support.js').Site} */
let site;
/** @type {import('./sdk_support.js').Cobrowse} */
let server;
/** @type {import('playwright-core').Browser} */
let browser;

before(async () => {
  site = await startSite();
  server = await startCobrowse({ COBROWSE_POLICY__SITE_ORIGINS: `["${site.origin}"]` });
  site.setServer(server.base);
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
  server?.cleanup();
  await site?.close();
});

test('the customer UI: start, session ID, notices, consent, take back control, exit', async () => {
  const { context, page } = await openCustomer(browser, site.url('/ui.html'));
  const agent = new BareAgent(server.base, '');
  const observer = new BareAgent(server.base, '');
  try {
    await page.evaluate(() => {
      const w = /** @type {any} */ (window);
      w.events = [];
      for (const type of ['session_started', 'agent_joined', 'mode_changed', 'observers_changed', 'session_ended']) {
        w.Cobrowse.addEventListener(type, (/** @type {CustomEvent} */ e) => w.events.push([type, e.detail]));
      }
    });
    // The site's CSS hides and shrinks everything it can; the button still shows as designed.
    const start = page.locator('cobrowse-ui button.start');
    await start.waitFor({ state: 'visible' });
    const look = await start.evaluate((el) => {
      const style = getComputedStyle(el);
      const box = el.getBoundingClientRect();
      return { font: style.fontSize, bg: style.backgroundColor, right: innerWidth - box.right, bottom: innerHeight - box.bottom };
    });
    assert.equal(look.font, '14px');
    assert.notEqual(look.bg, 'rgb(255, 0, 0)');
    assert.ok(Math.abs(look.right - 16) < 2 && Math.abs(look.bottom - 16) < 2, `fixed at the bottom right: ${JSON.stringify(look)}`);
    await screenshot(page, 'sdk-ui-start-button');

    await start.click();
    const idText = page.locator('[data-part=id]');
    await idText.waitFor({ state: 'visible' });
    const sessionId = await page.evaluate(() => /** @type {any} */ (window).Cobrowse.sessionId);
    assert.match(sessionId, /^\d{9}$/);
    assert.equal(await idText.innerText(), `${sessionId.slice(0, 3)} ${sessionId.slice(3, 6)} ${sessionId.slice(6)}`);
    assert.equal(await idText.evaluate((el) => getComputedStyle(el).fontSize), '30px', 'large enough to read aloud');
    await screenshot(page, 'sdk-ui-session-id');

    agent.sessionId = sessionId;
    await agent.connect();
    const snapshot = await agent.waitFor((f) => f[0] === 'snapshot', 'the page');
    const sent = JSON.stringify(snapshot[2]);
    assert.ok(!sent.includes('"n":"cobrowse-ui"') && !sent.includes('Start co-browse') && !sent.includes('data-part'), 'the UI is never mirrored');
    await waitFor(async () => /joined/.test(await page.locator('[data-part=notice]').innerText()), 'the agent-joined notice');

    // A supervisor watches, then stops.
    observer.sessionId = sessionId;
    await observer.connect({ ...AGENT_BOB, watch: true });
    await waitFor(async () => /supervisor is watching this session: Bob Agent/.test(await page.locator('[data-part=observers]').innerText()), 'the observer notice');
    await screenshot(page, 'sdk-ui-observer');
    observer.send('end', {});
    await page.locator('[data-part=observers]').waitFor({ state: 'hidden' });

    // Consent: approve, then take control back from the toolbar.
    agent.send('mode_request', {});
    await page.locator('[data-part=dialog]').waitFor({ state: 'visible' });
    assert.match(await page.locator('[data-part=question]').innerText(), /Alice Agent asks to type and click/);
    await page.click('[data-part=approve]');
    await agent.waitFor((f) => f[0] === 'mode' && f[2].mode === 'write', 'write mode');
    await page.locator('[data-part=revoke]').waitFor({ state: 'visible' });
    await screenshot(page, 'sdk-ui-write-mode');
    await page.click('[data-part=revoke]');
    await agent.waitFor((f) => f[0] === 'mode' && f[2].mode === 'pointer' && f[2].by === 'customer', 'pointer mode');
    await page.locator('[data-part=revoke]').waitFor({ state: 'hidden' });
    assert.match(await page.locator('[data-part=mode]').innerText(), /Pointer/);

    // The agent's connection drops: the customer is told.
    agent.close();
    await waitFor(async () => /lost the connection/.test(await page.locator('[data-part=notice]').innerText()), 'the agent-away notice');

    // Exit ends the session for everyone and says why.
    await page.click('[data-part=exit]');
    await waitFor(async () => /You ended the co-browse session/.test(await page.locator('[data-part=notice]').innerText()), 'the ended notice');
    await screenshot(page, 'sdk-ui-ended');
    const events = await page.evaluate(() => /** @type {any} */ (window).events);
    assert.deepEqual(events.map((/** @type {any[]} */ e) => e[0]).filter((/** @type {string} */ t, /** @type {number} */ i, /** @type {string[]} */ all) => all.indexOf(t) === i),
      ['session_started', 'observers_changed', 'agent_joined', 'mode_changed', 'session_ended']);
    assert.deepEqual(events.at(-1)[1], { id: sessionId, reason: 'customer_exit' });
    await page.click('[data-part=close]');
    await start.waitFor({ state: 'visible' });
  } finally {
    agent.close();
    observer.close();
    await context.close();
  }
});

test('data-ui="false": the site drives the session with the API; the agent\'s pointer, clicks and highlights still show', async () => {
  const { context, page } = await openCustomer(browser, site.url('/ui_off.html'));
  const agent = new BareAgent(server.base, '');
  try {
    assert.equal(await page.locator('cobrowse-ui button.start').isVisible(), false);
    await page.click('#help');
    await page.waitForFunction(() => /Your code: \d{9}/.test(/** @type {Element} */ (document.getElementById('code')).textContent ?? ''));
    assert.equal(await page.locator('cobrowse-ui .panel').isVisible(), false, 'no built-in panel');
    agent.sessionId = await page.evaluate(() => /** @type {any} */ (window).Cobrowse.sessionId);
    await agent.connect(AGENT_BOB);
    await agent.waitFor((f) => f[0] === 'snapshot', 'the page');
    agent.send('mode_request', {});
    await agent.waitFor((f) => f[0] === 'mode' && f[2].mode === 'write', 'write mode approved by the site');
    assert.equal(await page.locator('[data-part=dialog]').isVisible(), false, 'no built-in dialog');

    agent.send('pointer', { x: 200, y: 120 });
    agent.send('click', { x: 220, y: 140 });
    agent.send('highlight', { points: [[100, 100], [180, 110], [260, 120]] });
    const pointer = page.locator('cobrowse-ui .pointer');
    await pointer.waitFor({ state: 'visible' });
    assert.equal(await pointer.locator('span').innerText(), 'Bob Agent');
    await page.locator('cobrowse-ui .click').first().waitFor({ state: 'attached' });
    await page.locator('cobrowse-ui polyline').first().waitFor({ state: 'attached' });
    await screenshot(page, 'sdk-ui-agent-pointer-click-highlight');

    await page.evaluate(() => /** @type {any} */ (window).Cobrowse.stop());
    await agent.waitFor((f) => f[0] === 'ended' && f[2].reason === 'customer_exit', 'the end');
    const types = await page.evaluate(() => /** @type {any[]} */ (/** @type {any} */ (window).events).map((e) => e[0]));
    for (const type of ['session_started', 'agent_joined', 'mode_requested', 'mode_changed', 'session_ended']) assert.ok(types.includes(type), `${type} in ${types}`);
  } finally {
    agent.close();
    await context.close();
  }
});
