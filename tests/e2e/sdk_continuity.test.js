// Continuity of a session across what a customer's browser does: page loads inside the site
// (never replaying an action the previous page already carried out), a visit to another site
// and the return (and the end when the return comes too late), several tabs of the site (the
// tab the customer last focused is the one shared), and the server asking for a fresh snapshot.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { launchBrowser, screenshot } from './harness.js';
import { AGENT_BOB, BareAgent, act, captureSocket, nodeIdOf, openCustomer, startCobrowse, startSharing, startSite, waitFor } from './sdk_support.js';

/** @type {import('./sdk_support.js').Site} */
let site;
/** Another company's site: not in the allowed origins. */
/** @type {import('./sdk_support.js').Site} */
let elsewhere;
/** @type {import('./sdk_support.js').Cobrowse} */
let server;
/** @type {import('playwright-core').Browser} */
let browser;

before(async () => {
  site = await startSite();
  elsewhere = await startSite();
  server = await startCobrowse({ COBROWSE_POLICY__SITE_ORIGINS: `["${site.origin}"]` });
  site.setServer(server.base);
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
  server?.cleanup();
  await site?.close();
  await elsewhere?.close();
});

/**
 * The title of the last page the agent was sent.
 * @param {BareAgent} agent
 */
function lastTitle(agent) {
  return agent.frames.filter((f) => f[0] === 'snapshot').at(-1)?.[2].title ?? null;
}

/**
 * @param {import('playwright-core').Page} page
 * @returns {Promise<string>}
 */
function stateOf(page) {
  return page.evaluate(() => /** @type {any} */ (window).Cobrowse.state);
}

test('a page load right after an action does not carry the action out again on the new page', async () => {
  const { context, page } = await openCustomer(browser, site.url('/actions.html'));
  const agent = new BareAgent(server.base, await startSharing(page));
  try {
    await agent.connect();
    const snapshot = await agent.waitFor((f) => f[0] === 'snapshot', 'the page');
    agent.send('mode_request', {});
    await page.click('[data-part=approve]');
    await agent.waitFor((f) => f[0] === 'mode' && f[2].mode === 'write', 'write mode');
    // The button loads the page again as soon as it is clicked: before the SDK acknowledges the
    // action. The new page must not get the action replayed (the same page has the same node IDs,
    // so a replayed click would click it again, and again).
    const next = /** @type {number} */ (nodeIdOf(snapshot[2].doc, 'continue'));
    for (let round = 1; round <= 2; round++) {
      const snapshots = agent.frames.filter((f) => f[0] === 'snapshot').length;
      agent.send('action', { aid: round, do: 'click', id: next, x: 5, y: 5 });
      await agent.waitFor(() => agent.frames.filter((f) => f[0] === 'snapshot').length > snapshots, 'the page loaded again');
      await page.waitForTimeout(1000);
      assert.equal(await page.evaluate(() => sessionStorage.getItem('continue-clicks')), String(round), `round ${round}: the click ran once`);
    }
    const allowed = /** @type {number} */ (nodeIdOf(snapshot[2].doc, 'allowed'));
    assert.equal(await act(agent, { do: 'click', id: allowed, x: 5, y: 5 }), null);
    assert.equal(await page.evaluate(() => sessionStorage.getItem('allowed-clicks')), '1');
    agent.send('end', {});
    await waitFor(async () => (await stateOf(page)) === 'ended', 'the end');
  } finally {
    agent.close();
    await context.close();
  }
});

test('leaving for another site pauses the session; coming back resumes it', async () => {
  const { context, page } = await openCustomer(browser, site.url('/forms.html'));
  const id = await startSharing(page);
  const agent = new BareAgent(server.base, id);
  try {
    await agent.connect();
    await agent.waitFor((f) => f[0] === 'snapshot', 'the page');
    await page.evaluate((href) => {
      const a = document.createElement('a');
      a.id = 'away';
      a.href = href;
      a.textContent = 'Another shop';
      document.body.appendChild(a);
    }, elsewhere.url('/thanks.html'));
    const from = agent.frames.length;
    await page.click('#away');
    await page.waitForURL(`${elsewhere.origin}/**`);
    await agent.waitFor((f) => f[0] === 'notice' && f[2].code === 'customer_away' && f[2].detail === 'site', 'customer_away (site)', { from });
    await page.goBack();
    await page.waitForURL(/forms\.html/);
    await agent.waitFor((f) => f[0] === 'notice' && f[2].code === 'customer_back', 'customer_back', { from });
    await agent.waitFor((f, i = agent.frames.indexOf(f)) => f[0] === 'snapshot' && i >= from, 'the page again', { from });
    assert.equal(await page.evaluate(() => /** @type {any} */ (window).Cobrowse.sessionId), id);
    assert.equal(await stateOf(page), 'active');
    await page.evaluate(() => /** @type {any} */ (window).Cobrowse.stop());
  } finally {
    agent.close();
    await context.close();
  }
});

test('a return after the grace period finds the session ended, and the customer is told', async () => {
  const shortSite = await startSite();
  const short = await startCobrowse({ COBROWSE_POLICY__SITE_ORIGINS: `["${shortSite.origin}"]`, COBROWSE_TIMEOUTS__CUSTOMER_RECONNECT_GRACE: '2s' });
  shortSite.setServer(short.base);
  const { context, page } = await openCustomer(browser, shortSite.url('/forms.html'));
  const agent = new BareAgent(short.base, await startSharing(page));
  try {
    await agent.connect();
    await agent.waitFor((f) => f[0] === 'snapshot', 'the page');
    await page.goto(elsewhere.url('/thanks.html'));
    const ended = await agent.waitFor((f) => f[0] === 'ended', 'the end', { timeoutMs: 15_000 });
    assert.equal(ended[2].reason, 'customer_away');
    await page.goBack();
    await page.waitForURL(/forms\.html/);
    await waitFor(async () => (await stateOf(page)) === 'ended', 'the SDK to learn the session ended');
    assert.match(await page.locator('[data-part=notice]').innerText(), /ended/);
    assert.equal(await page.evaluate(() => sessionStorage.getItem('cobrowse.session')), null, 'the token is forgotten');
    await screenshot(page, 'sdk-continuity-ended-after-grace');
  } finally {
    agent.close();
    await context.close();
    await short.stop();
    short.cleanup();
    await shortSite.close();
  }
});

test('with several tabs of the site, the tab the customer last focused is the one shared', async () => {
  const { context, page: tabA } = await openCustomer(browser, site.url('/forms.html'));
  const agent = new BareAgent(server.base, await startSharing(tabA));
  try {
    await agent.connect(AGENT_BOB);
    await agent.waitFor((f) => f[0] === 'snapshot' && f[2].title === 'Forms', 'tab A');

    // A second tab of the site, opened by the customer: in front, it takes the session.
    const tabB = await context.newPage();
    await tabB.goto(site.url('/lists.html'));
    await tabB.bringToFront();
    await tabB.click('h1, body', { position: { x: 5, y: 5 } }).catch(() => tabB.mouse.click(5, 5));
    await waitFor(() => lastTitle(agent) === 'Lists and storms', 'tab B to be shared');
    await waitFor(async () => (await stateOf(tabA)) === 'standby' && (await stateOf(tabB)) === 'active', 'tab A to stand by');
    assert.match(await tabA.locator('[data-part=hint]').innerText(), /another tab/);
    await screenshot(tabA, 'sdk-tabs-standby');

    // Back to tab A.
    await tabA.bringToFront();
    await tabA.mouse.click(5, 5);
    await waitFor(() => lastTitle(agent) === 'Forms', 'tab A to be shared again');
    await waitFor(async () => (await stateOf(tabB)) === 'standby', 'tab B to stand by');
    // What the customer does in the shared tab reaches the agent.
    await tabA.fill('#name', 'typed in tab A');
    await agent.waitFor((f) => f[0] === 'input' && f[2].v === 'typed in tab A', 'input from tab A');

    // The shared tab closes; the other one, focused, takes the session by itself.
    await tabB.bringToFront();
    await tabB.mouse.click(5, 5);
    await waitFor(() => lastTitle(agent) === 'Lists and storms', 'tab B shared');
    await tabB.close();
    await tabA.bringToFront();
    await tabA.mouse.click(5, 5);
    await waitFor(() => lastTitle(agent) === 'Forms', 'tab A shared after tab B closed', 10_000);
    assert.equal(await stateOf(tabA), 'active');
    assert.ok(!agent.frames.some((f) => f[0] === 'ended'), 'the session never ended');
    await tabA.evaluate(() => /** @type {any} */ (window).Cobrowse.stop());
  } finally {
    agent.close();
    await context.close();
  }
});

test('when the server asks for a fresh snapshot (resync), the SDK sends one', async () => {
  const { context, page } = await openCustomer(browser, site.url('/lists.html'));
  const socket = await captureSocket(page);
  const agent = new BareAgent(server.base, await startSharing(page));
  try {
    await agent.connect();
    await agent.waitFor((f) => f[0] === 'snapshot', 'the page');
    const snapshots = socket.sentFrames('snapshot').length;
    // Frames lost in transit: the next frame skips ahead.
    await page.evaluate(() => {
      /** @type {any} */ (window).Cobrowse.transport.nextSeq += 3;
      /** @type {any} */ (window).scriptedChanges.add(2);
    });
    await waitFor(() => socket.received.some((text) => text.startsWith('["resync"')), 'the resync frame');
    await waitFor(() => socket.sentFrames('snapshot').length > snapshots, 'a fresh snapshot');
    await agent.waitFor((f) => f[0] === 'snapshot' && JSON.stringify(f[2].doc).includes('added 2'), 'the fresh page at the agent');
    await page.evaluate(() => /** @type {any} */ (window).scriptedChanges.add(1));
    await agent.waitFor((f) => f[0] === 'mut' && JSON.stringify(f[2]).includes('added 3'), 'changes after the resync');
    await page.evaluate(() => /** @type {any} */ (window).Cobrowse.stop());
  } finally {
    agent.close();
    await context.close();
  }
});
