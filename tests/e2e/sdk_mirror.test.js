// The central check of the customer SDK: after scripted changes on the customer's page, the
// agent's rebuilt DOM (the real workspace, in its own browser context) equals the customer's DOM,
// both normalized and with the masks applied (sdk_support.js, canonicalPage). One session runs
// across the fixture pages of a separate "company site" origin, so every page change is also a
// full page load that resumes the session; the demo site gets its own session.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { launchBrowser, screenshot } from './harness.js';
import { AGENT_BOB, expectMirrored, openAgent, openCustomer, startCobrowse, startSharing, startSite, waitFor } from './sdk_support.js';

/** @type {import('./sdk_support.js').Site} */
let site;
/** @type {import('./sdk_support.js').Cobrowse} */
let server;
/** @type {import('playwright-core').Browser} */
let browser;

const SITE_MASK = { fields: ['#ssn', '#account-number', '[name=ssn]'], text: ['.balance', '.secret-text'], images: ['#secret-img'] };

before(async () => {
  site = await startSite();
  server = await startCobrowse({
    COBROWSE_POLICY__SITE_ORIGINS: `["${site.origin}"]`,
    COBROWSE_POLICY__MASKING__FIELDS: JSON.stringify(SITE_MASK.fields),
    COBROWSE_POLICY__MASKING__TEXT: JSON.stringify(SITE_MASK.text),
    COBROWSE_POLICY__MASKING__IMAGES: JSON.stringify(SITE_MASK.images),
  });
  site.setServer(server.base);
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
  server?.cleanup();
  await site?.close();
});

/**
 * Ends the agent's session from the workspace, so the agent is free for the next one.
 * @param {import('playwright-core').Page} agent
 */
async function agentExits(agent) {
  await agent.click('#exit-session');
  await waitFor(() => agent.evaluate(() => /** @type {any} */ (window).cobrowseAgentTestHook.state().ended), 'the agent to leave');
}

test('the demo site: typed values, checkboxes, selects, masked fields, a page load and a list change', async () => {
  const { context, page } = await openCustomer(browser, `${server.base}/demo/`);
  const id = await startSharing(page);
  const agent = await openAgent(browser, server.base, id);
  try {
    await expectMirrored(page, agent.page, { mask: SITE_MASK, what: 'demo page as loaded' });
    await page.fill('#name', 'Jane Doe');
    await page.fill('#email', 'jane@example.com');
    await page.fill('#password', 'correct horse');
    await page.fill('#account', 'DE44 5001 0517 5407 3249 31');
    await page.check('#terms');
    await page.selectOption('#plan', 'Premium');
    await page.fill('#notes', 'Two lines\nof notes');
    await expectMirrored(page, agent.page, { mask: SITE_MASK, what: 'demo form after typing' });
    await screenshot(agent.page, 'sdk-mirror-demo-agent');

    // A full page load inside the site resumes the session and sends the new page.
    await page.click('a[href="second.html"] >> nth=1');
    await page.waitForURL(/second\.html/);
    await page.click('#add');
    await page.click('#add');
    await expectMirrored(page, agent.page, { mask: SITE_MASK, what: 'demo second page with added rows' });

    await page.goto(`${server.base}/demo/shift_jis.html`);
    await expectMirrored(page, agent.page, { mask: SITE_MASK, what: 'demo Shift_JIS page' });
    const charset = await agent.page.evaluate(() => /** @type {any} */ (window).cobrowseAgentTestHook.rebuiltDocument().characterSet);
    assert.equal(charset, 'Shift_JIS');
    await screenshot(agent.page, 'sdk-mirror-demo-shift-jis-agent');
    await agentExits(agent.page);
  } finally {
    await agent.context.close();
    await context.close();
  }
});

test('fixture pages on the company site origin: every kind of change mirrors exactly', async () => {
  const { context, page } = await openCustomer(browser, site.url('/forms.html'));
  const id = await startSharing(page);
  const agent = await openAgent(browser, server.base, id, AGENT_BOB);
  const compare = (/** @type {string} */ what, timeoutMs = 10_000) => expectMirrored(page, agent.page, { mask: SITE_MASK, what, timeoutMs });
  /**
   * A full page load inside the site; the session resumes on the new page.
   * @param {string} path
   */
  const load = async (path) => {
    await page.goto(site.url(path));
    await page.waitForFunction(() => /** @type {any} */ (window).Cobrowse?.recorder?.ready === true);
  };
  try {
    // Forms: typed values, checkboxes, radios, selects, textareas, masked fields, and values
    // changed through the property only (framework style), including a clear.
    await compare('forms as loaded');
    await page.fill('#name', 'Grace Hopper');
    await page.fill('#email', 'grace@example.com');
    await page.fill('#qty', '12');
    await page.fill('#pw', 'p4ssw0rd');
    await page.fill('#ssn', '078-05-1120');
    await page.fill('#card', '4111 1111 1111 1111');
    await page.check('#gift');
    await page.check('#ship-exp');
    await page.selectOption('#size', 'L');
    await page.selectOption('#extras', ['Box', 'Ribbon']);
    await page.selectOption('#secret-choice', 'Blue');
    await page.fill('#notes', 'Leave at the door');
    await page.fill('#private-notes', 'my diary');
    await compare('forms after typing');
    await page.evaluate(() => {
      const w = /** @type {any} */ (window);
      w.frameworkSet('set through the framework');
      /** @type {HTMLInputElement} */ (document.getElementById('name')).value = '';
      /** @type {HTMLInputElement} */ (document.getElementById('gift')).checked = false;
      /** @type {HTMLSelectElement} */ (document.getElementById('size')).selectedIndex = 0;
    });
    await compare('forms after programmatic changes and a clear');
    await screenshot(agent.page, 'sdk-mirror-forms-agent');

    // Lists: add, reorder, remove, nest and move (also under a masked element).
    await load('/lists.html');
    await compare('lists as loaded');
    await page.evaluate(() => /** @type {any} */ (window).scriptedChanges.add(7));
    await compare('list after adds');
    await page.evaluate(() => /** @type {any} */ (window).scriptedChanges.reorder());
    await compare('list after reorder');
    await page.evaluate(() => /** @type {any} */ (window).scriptedChanges.remove(4));
    await compare('list after removals');
    await page.evaluate(() => /** @type {any} */ (window).scriptedChanges.nestAndMove());
    await compare('nested additions and moves, one under a masked element');
    // Storms: hundreds of changes in one task, then across several animation frames.
    await page.evaluate(() => /** @type {any} */ (window).scriptedChanges.attributeStorm(500));
    await page.evaluate(() => /** @type {any} */ (window).scriptedChanges.textStorm(800));
    await page.evaluate(async () => {
      for (let i = 0; i < 20; i++) {
        /** @type {any} */ (window).scriptedChanges.attributeStorm(17 + i);
        /** @type {any} */ (window).scriptedChanges.textStorm(13 + i);
        /** @type {any} */ (window).scriptedChanges.add(1);
        await new Promise((resolve) => requestAnimationFrame(resolve));
      }
    });
    await compare('after attribute and text storms');

    // CSSOM: insertRule, deleteRule, adopted sheets, replaceSync, sheets adopted by a shadow root.
    await load('/cssom.html');
    await compare('stylesheets as loaded');
    await page.evaluate(() => /** @type {any} */ (window).cssChanges.insert());
    await compare('after insertRule');
    await page.evaluate(() => /** @type {any} */ (window).cssChanges.remove());
    await compare('after deleteRule');
    await page.evaluate(() => /** @type {any} */ (window).cssChanges.adopt());
    await compare('after adoptedStyleSheets');
    await page.evaluate(() => /** @type {any} */ (window).cssChanges.replace());
    await compare('after replaceSync');
    await page.evaluate(() => /** @type {any} */ (window).cssChanges.shadowAdopt());
    await compare('after a shadow root adopted a sheet');
    await screenshot(agent.page, 'sdk-mirror-cssom-agent');

    // Open shadow DOM: nested roots, slots, a closed root (not mirrored), roots attached later.
    await load('/shadow.html');
    await compare('shadow DOM as loaded');
    await page.evaluate(() => /** @type {any} */ (window).shadowChanges.edit());
    await compare('after changes inside shadow roots');
    await page.evaluate(() => /** @type {any} */ (window).shadowChanges.upgrade());
    await page.evaluate(() => /** @type {any} */ (window).shadowChanges.attach());
    await compare('after shadow roots attached to mirrored elements');

    // Same-origin iframes: a src frame, a srcdoc frame, one added later, one navigated.
    await load('/frames.html');
    await compare('frames as loaded');
    await page.evaluate(() => /** @type {any} */ (window).frameChanges.editInner());
    await compare('after changes inside a frame');
    await page.evaluate(() => /** @type {any} */ (window).frameChanges.addFrame());
    await compare('after a frame was added');
    await page.evaluate(() => /** @type {any} */ (window).frameChanges.navigateFrame());
    await compare('after a frame navigated');
    await screenshot(agent.page, 'sdk-mirror-frames-agent');

    // A page in Shift_JIS.
    await load('/shift_jis.sjis.html');
    assert.equal(await page.evaluate(() => document.characterSet), 'Shift_JIS');
    await compare('the Shift_JIS page');
    await page.fill('#name-ja', '髙﨑 ソ十表');
    await compare('the Shift_JIS page after typing');
    const tricky = await agent.page.evaluate(() => /** @type {any} */ (window).cobrowseAgentTestHook.rebuiltDocument().getElementById('tricky').textContent);
    assert.equal(tricky, await page.evaluate(() => /** @type {Element} */ (document.getElementById('tricky')).textContent));
    await screenshot(agent.page, 'sdk-mirror-shift-jis-agent');

    // Custom elements, unusual names, SVG and MathML.
    await load('/exotic.html');
    await compare('custom elements, SVG and MathML');
    await page.evaluate(() => /** @type {any} */ (window).exoticChanges.add());
    await compare('after adding elements in other namespaces');

    // Rendering modes.
    await load('/quirks.html');
    const quirks = await compare('the quirks-mode page');
    assert.equal(quirks.mode, 'BackCompat');
    await load('/limited.html');
    await compare('the limited-quirks page');

    // 6,000 elements.
    await load('/big.html');
    await compare('the 6,000-element page', 20_000);
    await page.evaluate(() => {
      const main = /** @type {Element} */ (document.getElementById('main'));
      for (let i = 0; i < 50; i++) main.children[i * 7].remove();
      main.insertAdjacentHTML('afterbegin', '<div class="row"><b>new first row</b></div>');
    });
    await compare('the 6,000-element page after changes', 20_000);
    await screenshot(agent.page, 'sdk-mirror-big-agent');
  } finally {
    await agent.context.close();
    await context.close();
  }
});
