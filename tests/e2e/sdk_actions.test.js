// The agent's actions on the customer's page, against the real server: only after the customer
// approves write mode in the SDK's own dialog; restricted controls (every submit control and the
// policy's selectors) and implicit submission by Enter do nothing for the agent and are reported
// back with a reason; the customer keeps full control and can still submit the form.
// The agent here is a bare WebSocket client, so every action frame is exactly the one intended.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { launchBrowser, screenshot } from './harness.js';
import { BareAgent, act, nodeIdOf, openCustomer, startCobrowse, startSharing, startSite, waitFor } from './sdk_support.js';

test('write mode: approved actions run, restricted ones and Enter in a form are refused, the customer still submits', async () => {
  const site = await startSite();
  const server = await startCobrowse({
    COBROWSE_POLICY__SITE_ORIGINS: `["${site.origin}"]`,
    COBROWSE_POLICY__RESTRICTIONS__SELECTORS: '["#danger", ".no-agent"]',
  });
  site.setServer(server.base);
  const browser = await launchBrowser();
  const agent = new BareAgent(server.base, '');
  try {
    const { page } = await openCustomer(browser, site.url('/actions.html'));
    agent.sessionId = await startSharing(page);
    await agent.connect();
    const snapshot = await agent.waitFor((f) => f[0] === 'snapshot', 'the page');
    const id = (/** @type {string} */ html) => /** @type {number} */ (nodeIdOf(snapshot[2].doc, html));
    const log = () => page.evaluate(() => /** @type {string[]} */ (/** @type {any} */ (window).log));

    // Pointer mode: the server refuses actions, nothing reaches the page.
    agent.send('action', { aid: 1, do: 'click', id: id('allowed'), x: 5, y: 5 });
    await agent.waitFor((f) => f[0] === 'error' && f[2].code === 'not_in_write_mode', 'not_in_write_mode');

    // The customer denies, then approves, in the SDK's consent dialog.
    agent.send('mode_request', {});
    await page.locator('[data-part=dialog]').waitFor({ state: 'visible' });
    await screenshot(page, 'sdk-actions-consent-dialog');
    await page.click('[data-part=deny]');
    await agent.waitFor((f) => f[0] === 'notice' && f[2].code === 'mode_denied', 'mode_denied');
    assert.equal(await page.locator('[data-part=dialog]').isVisible(), false);
    agent.send('mode_request', {});
    await page.click('[data-part=approve]');
    await agent.waitFor((f) => f[0] === 'mode' && f[2].mode === 'write', 'write mode');
    await page.locator('[data-part=revoke]').waitFor({ state: 'visible' });
    assert.match(await page.locator('[data-part=mode]').innerText(), /Write/);

    // Allowed actions run with real events.
    assert.equal(await act(agent, { do: 'click', id: id('allowed'), x: 10, y: 10 }), null);
    assert.equal(await act(agent, { do: 'input', id: id('name'), value: 'typed by the agent' }), null);
    assert.equal(await act(agent, { do: 'focus', id: id('name') }), null);
    assert.equal(await act(agent, { do: 'key', id: id('name'), key: 'Backspace' }), null);
    assert.equal(await act(agent, { do: 'check', id: id('terms'), checked: true }), null);
    assert.equal(await act(agent, { do: 'select', id: id('size'), selected: [2] }), null);
    assert.equal(await act(agent, { do: 'scroll', id: snapshot[2].doc.id, x: 0, y: 400 }), null);
    await waitFor(async () => (await page.evaluate(() => window.scrollY)) === 400, 'the page to scroll');
    const done = await log();
    for (const entry of ['click:allowed', 'input:typed by the agent', 'change:name', 'keydown:Backspace', 'input:typed by the agen', 'terms:true', 'size:L']) {
      assert.ok(done.includes(entry), `${entry} in ${JSON.stringify(done)}`);
    }
    assert.equal(await page.inputValue('#name'), 'typed by the agen');

    // Refused, each with its reason, and nothing happens on the page.
    const before = await log();
    assert.equal(await act(agent, { do: 'click', id: id('go'), x: 5, y: 5 }), 'restricted', 'submit button');
    assert.equal(await act(agent, { do: 'click', id: id('go-label'), x: 5, y: 5 }), 'restricted', 'inside a submit button');
    assert.equal(await act(agent, { do: 'click', id: id('go2'), x: 5, y: 5 }), 'restricted', 'input type=submit');
    assert.equal(await act(agent, { do: 'click', id: id('go3'), x: 5, y: 5 }), 'restricted', 'input type=image');
    assert.equal(await act(agent, { do: 'click', id: id('implicit'), x: 5, y: 5 }), 'restricted', 'a button without a type submits its form');
    assert.equal(await act(agent, { do: 'click', id: id('danger'), x: 5, y: 5 }), 'restricted', 'a configured selector');
    assert.equal(await act(agent, { do: 'click', id: id('inside-restricted'), x: 5, y: 5 }), 'restricted', 'inside a configured selector');
    assert.equal(await act(agent, { do: 'click', id: id('marked'), x: 5, y: 5 }), 'restricted', 'data-cobrowse-restrict');
    assert.equal(await act(agent, { do: 'key', id: id('name'), key: 'Enter' }), 'implicit_submit', 'Enter in a form field');
    assert.equal(await act(agent, { do: 'key', id: id('go'), key: 'Enter' }), 'restricted', 'Enter on the submit button');
    assert.equal(await act(agent, { do: 'input', id: id('card'), value: '4111' }), 'masked', 'a masked field');
    assert.equal(await act(agent, { do: 'click', id: id('away'), x: 5, y: 5 }), 'origin_not_allowed', 'a link to another site');
    assert.equal(await act(agent, { do: 'navigate', nav: 'url', url: 'https://elsewhere.example/' }), 'origin_not_allowed', 'navigation to another site');
    assert.equal(await act(agent, { do: 'click', id: 999_999, x: 5, y: 5 }), 'not_found', 'an unknown node');
    await page.waitForTimeout(300);
    assert.deepEqual(await log(), before, 'no refused action had any effect');
    assert.match(page.url(), /actions\.html$/, 'the form was not submitted');
    assert.equal(await page.inputValue('#card'), '');

    // The customer takes control back: the agent's actions stop at the server.
    await page.click('[data-part=revoke]');
    await agent.waitFor((f) => f[0] === 'mode' && f[2].mode === 'pointer' && f[2].by === 'customer', 'pointer mode');
    const from = agent.frames.length;
    agent.send('action', { aid: 77, do: 'click', id: id('allowed'), x: 5, y: 5 });
    await agent.waitFor((f) => f[0] === 'error' && f[2].code === 'not_in_write_mode', 'not_in_write_mode again', { from });
    assert.deepEqual(await log(), before);

    // The customer submits as usual; the session follows to the next page.
    await page.click('#go');
    await page.waitForURL(/thanks\.html/);
    await agent.waitFor((f) => f[0] === 'snapshot' && JSON.stringify(f[2].doc).includes('Thank you for your order'), 'the next page');
    await screenshot(page, 'sdk-actions-after-customer-submit');

    // Navigation by the agent, in write mode: back, a URL of the site, reload.
    agent.send('mode_request', {});
    await page.click('[data-part=approve]');
    await agent.waitFor((f) => f[0] === 'mode' && f[2].mode === 'write', 'write mode again', { from: agent.frames.length - 1 });
    assert.equal(await act(agent, { do: 'navigate', nav: 'back' }), null);
    await page.waitForURL(/actions\.html$/);
    assert.equal(await act(agent, { do: 'navigate', nav: 'url', url: site.url('/forms.html') }), null);
    await page.waitForURL(/forms\.html$/);
    await page.evaluate(() => { /** @type {any} */ (window).beforeReload = true; });
    assert.equal(await act(agent, { do: 'navigate', nav: 'reload' }), null);
    await page.waitForFunction(() => !(/** @type {any} */ (window).beforeReload) && /** @type {any} */ (window).Cobrowse?.state === 'active');
    assert.equal(await page.evaluate(() => /** @type {any} */ (window).Cobrowse.sessionId), agent.sessionId, 'the same session throughout');
  } finally {
    agent.close();
    await browser.close();
    await server.stop();
    server.cleanup();
    await site.close();
  }
});
