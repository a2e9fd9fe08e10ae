// Privacy canary: secret values typed into masked fields, secrets set by script, and text inside
// masked elements (in the page, a shadow root and a frame) never appear in any frame the
// customer's browser sends (captured through the DevTools protocol), in what the agent's
// browser receives, in the server's data directory (its SQLite database) or in its debug log.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { launchBrowser, screenshot } from './harness.js';
import { captureSocket, filesUnder, openAgent, openCustomer, startCobrowse, startSharing, startSite, waitFor } from './sdk_support.js';

/** Everything that must never leave the customer's browser. */
const TYPED = {
  '#pw': 'CANARY-TYPED-PW-8080',
  '#ssn': 'CANARY-TYPED-SSN-9191',
  '#iban': 'CANARY-TYPED-IBAN-2727',
  '#story': 'CANARY-TYPED-STORY-3838',
  '#vault-input': 'CANARY-TYPED-VAULT-4949',
};

test('masked values and texts never leave the browser: frames, agent, database, log', async () => {
  const site = await startSite();
  const server = await startCobrowse({
    COBROWSE_LOG: 'debug',
    COBROWSE_POLICY__SITE_ORIGINS: `["${site.origin}"]`,
    COBROWSE_POLICY__MASKING__FIELDS: '["#ssn"]',
    COBROWSE_POLICY__MASKING__TEXT: '[".secret-text"]',
    COBROWSE_POLICY__MASKING__IMAGES: '["#secret-img"]',
  });
  site.setServer(server.base);
  const browser = await launchBrowser();
  try {
    const { context, page } = await openCustomer(browser, site.url('/privacy.html'));
    const customer = await captureSocket(page);
    const id = await startSharing(page);
    const agent = await openAgent(browser, server.base, id);
    const agentSocket = await captureSocket(agent.page);
    await waitFor(() => customer.sentFrames('snapshot').length > 0, 'the snapshot');

    // Real typing, key by key, into every kind of masked field.
    for (const [selector, secret] of Object.entries(TYPED)) {
      await page.click(selector);
      await page.keyboard.press('Control+A');
      await page.keyboard.type(secret, { delay: 2 });
    }
    await page.selectOption('#question', { index: 1 });
    await page.selectOption('#question', { index: 0 });
    await page.click('#vault-edit');
    await page.keyboard.type(' CANARY-TYPED-EDITABLE-5656', { delay: 2 });
    // Secrets set by script: masked text changed, masked elements added, a masked image's
    // source changed, a masked field set through its property, and inside a frame and a shadow root.
    await page.evaluate(() => /** @type {any} */ (window).secretChanges.mutate());
    await page.fill('#name', 'visible name');
    await waitFor(async () => {
      const rebuilt = await agent.page.evaluate(() => /** @type {any} */ (window).cobrowseAgentTestHook.rebuiltDocument()?.getElementById('name')?.value);
      return rebuilt === 'visible name';
    }, 'the unmasked name to reach the agent');
    await page.waitForTimeout(700); // a form-state poll and an animation frame after the last change
    await screenshot(agent.page, 'sdk-privacy-agent-masked');

    // A GET form carries the masked fields into the next page's address.
    await page.click('#submit');
    await page.waitForURL(/thanks\.html\?/);
    assert.match(page.url(), /CANARY-TYPED-PW-8080/, 'the secret is in the real address');
    await waitFor(async () => (await agent.page.evaluate(() => /** @type {any} */ (window).cobrowseAgentTestHook.rebuiltDocument()?.getElementById('thanks')?.textContent)) === 'Thank you for your order', 'the next page on the agent side');
    await page.waitForTimeout(500);
    const agentUrl = await agent.page.inputValue('#url-bar');
    assert.match(agentUrl, /thanks\.html\?name=visible\+name&pw=\*+&ssn=\*+&iban=\*+&story=\*+&question=\*+/);

    // Stop: the session ends, records are written, the server shuts down cleanly.
    await page.evaluate(() => /** @type {any} */ (window).Cobrowse.stop());
    await waitFor(() => customer.sentFrames('end').length > 0, 'the end frame');
    await agent.context.close();
    await context.close();
    assert.equal(await server.stop(), 0);

    const secrets = [...Object.values(TYPED), 'CANARY-TYPED-EDITABLE-5656'];
    const placed = ['CANARY-ATTR-2205', 'CANARY-TEXTAREA-4410', 'CANARY-OPTION-7007', 'CANARY-TITLE-9902', 'CANARY-BALANCE-1234',
      'CANARY-VAULT-5150', 'CANARY-IMGSRC-3003', 'CANARY-ALT-6006', 'CANARY-COMMENT-8118', 'CANARY-ARIA-4242', 'CANARY-POLICYIMG-1717',
      'CANARY-SHADOW-2468', 'CANARY-MUTATED-1357', 'CANARY-BALANCE2-8642', 'CANARY-ADDED-9753', 'CANARY-ADDEDTITLE-1122',
      'CANARY-IMGSRC2-3113', 'CANARY-PROGRAMMATIC-6060', 'CANARY-FRAMEPW-5353', 'CANARY-SHADOW2-1212'];
    assert.ok(customer.sent.length > 20, `frames were captured (${customer.sent.length})`);
    const sent = customer.sent.join('\n');
    const received = [...customer.received, ...agentSocket.received, ...agentSocket.sent].join('\n');
    const stored = filesUnder(server.dataDir);
    assert.ok(stored.some((f) => f.bytes.length > 0), 'the server stored something');
    const log = server.logs();
    assert.ok(log.length > 0, 'the debug log is not empty');
    for (const secret of [...secrets, ...placed]) {
      assert.ok(!sent.includes(secret), `${secret} left the customer's browser`);
      assert.ok(!received.includes(secret), `${secret} reached a browser over the socket`);
      for (const file of stored) assert.ok(!file.bytes.includes(secret), `${secret} is stored in ${file.path}`);
      assert.ok(!log.includes(secret), `${secret} is in the server log`);
    }
    // The masks did go out: the masked field's asterisks, and the visible value.
    assert.ok(sent.includes('*'.repeat(TYPED['#pw'].length)));
    assert.ok(sent.includes('visible name'));
  } finally {
    await browser.close();
    await server.stop();
    server.cleanup();
    await site.close();
  }
});
