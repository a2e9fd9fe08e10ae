// Support for the agent workspace's end-to-end tests (tests/e2e/agent_*.test.js): a small site
// on its own port that serves fixture pages carrying the SDK, the real `cobrowse demo` server
// allowing that site, and helpers that drive a customer context and an agent context.
//
// Nothing here sleeps to wait for readiness: every wait polls a condition with a deadline.
import { createServer } from 'node:http';
import { startServer, launchBrowser } from './harness.js';

/** @typedef {import('playwright-core').Browser} Browser */
/** @typedef {import('playwright-core').BrowserContext} BrowserContext */
/** @typedef {import('playwright-core').Page} Page */
/** @typedef {import('./harness.js').RunningServer} RunningServer */

/**
 * A fixture response: a body (string or bytes), a content type, extra headers, and an optional
 * delay before answering (to tell "loads through the proxy" from "loads directly").
 * @typedef {{body: string | Buffer, type?: string, headers?: Record<string, string>, status?: number}} Fixture
 */

/**
 * What a fixture route produces: a fixed response or a function of the request and the site.
 * @typedef {Fixture | ((ctx: {url: URL, site: FixtureSite}) => Fixture)} Route
 */

/**
 * @typedef {object} FixtureSite
 * @property {string} origin e.g. http://127.0.0.1:40123
 * @property {string} cobrowse base URL of the Cobrowse server (set once it runs)
 * @property {Map<string, Route>} routes path → route
 * @property {Array<{path: string, headers: Record<string, string | string[] | undefined>}>} requests
 *   every request the site saw, in order
 * @property {() => Promise<void>} close
 */

/**
 * Starts the fixture site on 127.0.0.1:0.
 * @param {Record<string, Route>} routes
 * @returns {Promise<FixtureSite>}
 */
export async function startSite(routes) {
  /** @type {FixtureSite} */
  const site = {
    origin: '',
    cobrowse: '',
    routes: new Map(Object.entries(routes)),
    requests: [],
    close: async () => {},
  };
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', site.origin);
    site.requests.push({ path: url.pathname + url.search, headers: req.headers });
    const route = site.routes.get(url.pathname);
    if (!route) {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('not found');
      return;
    }
    const fixture = typeof route === 'function' ? route({ url, site }) : route;
    res.writeHead(fixture.status ?? 200, {
      'content-type': fixture.type ?? 'text/html; charset=utf-8',
      'cache-control': 'no-store',
      ...(fixture.headers ?? {}),
    });
    res.end(fixture.body);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(undefined)));
  const address = /** @type {import('node:net').AddressInfo} */ (server.address());
  site.origin = `http://127.0.0.1:${address.port}`;
  site.close = () => new Promise((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });
  return site;
}

/**
 * The SDK tag for a fixture page, pointing at the Cobrowse server.
 * @param {FixtureSite} site
 * @returns {string}
 */
export function sdkTag(site) {
  return `<script type="module" src="${site.cobrowse}/sdk/cobrowse.js" data-server="${site.cobrowse}" data-auto-ui="true"></script>`;
}

/**
 * A standards-mode page with the SDK.
 * @param {FixtureSite} site
 * @param {{title?: string, head?: string, body: string, doctype?: string, charset?: string | null}} page
 * @returns {string}
 */
export function page(site, { title = 'Fixture', head = '', body, doctype = '<!DOCTYPE html>', charset = 'utf-8' }) {
  const meta = charset ? `<meta charset="${charset}">` : '';
  return `${doctype}<html lang="en"><head>${meta}<title>${title}</title>${head}${sdkTag(site)}</head><body>${body}</body></html>`;
}

/**
 * @typedef {object} Env
 * @property {RunningServer} server
 * @property {FixtureSite} site
 * @property {Browser} browser
 * @property {() => Promise<void>} close
 */

/**
 * Starts the fixture site, then the Cobrowse server allowing it, then Chromium.
 * @param {Record<string, (site: FixtureSite) => Route>} routes path → route factory (gets the site)
 * @param {Record<string, string>} [env] extra server environment
 * @returns {Promise<Env>}
 */
export async function startEnv(routes, env = {}) {
  const site = await startSite({});
  // Pages are made per request, once the Cobrowse server's address is known.
  for (const [path, make] of Object.entries(routes)) {
    site.routes.set(path, (ctx) => {
      const route = make(site);
      return typeof route === 'function' ? route(ctx) : route;
    });
  }
  const server = await startServer({
    COBROWSE_POLICY__SITE_ORIGINS: JSON.stringify([site.origin]),
    // Many sessions from one agent and one address in a run: lift the per-minute limits.
    COBROWSE_LIMITS__JOINS_PER_AGENT_PER_MINUTE: '1000',
    COBROWSE_LIMITS__JOINS_PER_ADDRESS_PER_MINUTE: '1000',
    COBROWSE_LIMITS__SESSIONS_PER_ADDRESS_PER_MINUTE: '1000',
    COBROWSE_LIMITS__LOGINS_PER_ADDRESS_PER_MINUTE: '1000',
    // The fixture site is on loopback, which the resource proxy refuses unless told otherwise.
    COBROWSE_PROXY__ALLOW_PRIVATE: 'true',
    ...env,
  });
  site.cobrowse = server.base;
  const browser = await launchBrowser();
  return {
    server,
    site,
    browser,
    close: async () => {
      await browser.close().catch(() => {});
      await site.close();
      await server.stop();
    },
  };
}

/**
 * Polls `fn` until it returns a truthy value; fails with `what` after `ms`.
 * @template T
 * @param {() => Promise<T> | T} fn
 * @param {string} what
 * @param {number} [ms]
 * @returns {Promise<NonNullable<T>>}
 */
export async function until(fn, what, ms = 10_000) {
  const deadline = Date.now() + ms;
  /** @type {unknown} */
  let lastError = null;
  for (;;) {
    try {
      const value = await fn();
      if (value) return /** @type {NonNullable<T>} */ (value);
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${what}${lastError ? `: ${lastError instanceof Error ? lastError.message : String(lastError)}` : ''}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * Like `until`, but a timeout also tells what the workspace showed (state and notices) and where
 * the customer's page was, so a failure in CI explains itself.
 * @template T
 * @param {Agent} agent
 * @param {Customer} customer
 * @param {() => Promise<T> | T} fn
 * @param {string} what
 * @returns {Promise<NonNullable<T>>}
 */
export async function untilExplained(agent, customer, fn, what) {
  try {
    return await until(fn, what);
  } catch (err) {
    const seen = await Promise.all([
      state(agent).catch(() => null),
      notices(agent).catch(() => []),
      customer.page.evaluate(() => ({ url: location.href, state: /** @type {any} */ (window).Cobrowse?.state, mode: /** @type {any} */ (window).Cobrowse?.mode })).catch(() => null),
    ]);
    throw new Error(`${err instanceof Error ? err.message : String(err)}; workspace ${JSON.stringify(seen[0])}; notices ${JSON.stringify(seen[1])}; customer ${JSON.stringify(seen[2])}; customer errors ${JSON.stringify(customer.errors)}`);
  }
}

/**
 * @typedef {object} Customer
 * @property {BrowserContext} context
 * @property {Page} page
 * @property {string} id the session ID
 * @property {string[]} errors uncaught page errors
 */

/**
 * Opens a fixture page as the customer and starts a session.
 * @param {Env} env
 * @param {string} path
 * @param {{viewport?: {width: number, height: number}, start?: boolean}} [options]
 * @returns {Promise<Customer>}
 */
export async function openCustomer(env, path, options = {}) {
  const context = await env.browser.newContext({ viewport: options.viewport ?? { width: 1000, height: 700 } });
  const customerPage = await context.newPage();
  /** @type {string[]} */
  const errors = [];
  customerPage.on('pageerror', (err) => errors.push(err.message));
  customerPage.on('console', (message) => {
    if (message.type() === 'error') errors.push(message.text());
  });
  await customerPage.goto(env.site.origin + path);
  await until(() => customerPage.evaluate(() => !!(/** @type {any} */ (window).Cobrowse)), `the SDK on ${path} (page errors: ${errors.join(' | ')})`);
  let id = '';
  if (options.start !== false) {
    id = await customerPage.evaluate(async () => (await /** @type {any} */ (window).Cobrowse.start()).id);
  }
  return { context, page: customerPage, id, errors };
}

/**
 * @typedef {object} Agent
 * @property {BrowserContext} context
 * @property {Page} page
 * @property {string[]} errors uncaught page errors and CSP violations reported on the console
 * @property {string[]} dialogs alert/confirm/prompt texts that appeared
 * @property {string[]} navigations URLs the top frame navigated to after sign-in
 */

/**
 * Opens the workspace in its own context and signs in.
 * @param {Env} env
 * @param {{user?: string, password?: string, query?: string, viewport?: {width: number, height: number}}} [options]
 * @returns {Promise<Agent>}
 */
export async function openAgent(env, options = {}) {
  const user = options.user ?? 'alice';
  const password = options.password ?? `${user}-demo`;
  const context = await env.browser.newContext({ viewport: options.viewport ?? { width: 1280, height: 900 } });
  const agentPage = await context.newPage();
  /** @type {Agent} */
  const agent = { context, page: agentPage, errors: [], dialogs: [], navigations: [] };
  agentPage.on('pageerror', (err) => agent.errors.push(err.message));
  if (process.env.AGENT_E2E_TRACE) {
    // AGENT_E2E_TRACE=1 prints the workspace's frames (without the chatty ones) while debugging.
    agentPage.on('websocket', (ws) => {
      const show = (/** @type {string} */ dir, /** @type {string | Buffer} */ payload) => {
        const text = String(payload);
        if (!/^\["(hb|ack|pointer|mut|focus)"/.test(text)) console.log(`[${user}] ${dir} ${text.slice(0, 160)}`);
      };
      ws.on('framesent', (f) => show('>', f.payload));
      ws.on('framereceived', (f) => show('<', f.payload));
    });
  }
  agentPage.on('dialog', (dialog) => {
    agent.dialogs.push(dialog.message());
    void dialog.dismiss().catch(() => {});
  });
  await agentPage.goto(`${env.server.base}/agent/?testhook${options.query ?? ''}`);
  await agentPage.getByTestId('username').fill(user);
  await agentPage.getByTestId('password').fill(password);
  await agentPage.getByTestId('signin-btn').click();
  // Signed in: the workspace shows (with the join form, or already joining from ?session=).
  await agentPage.locator('#workspace-section').waitFor({ state: 'visible' });
  agentPage.on('framenavigated', (frame) => {
    if (frame === agentPage.mainFrame()) agent.navigations.push(frame.url());
  });
  return agent;
}

/**
 * Types a session ID into the workspace and joins; waits until the customer's page is rebuilt.
 * @param {Agent} agent
 * @param {string} id
 */
export async function join(agent, id) {
  await agent.page.getByTestId('session-id').fill(id);
  await agent.page.getByTestId('join-btn').click();
  await waitForPage(agent);
}

/**
 * Waits until the workspace shows a rebuilt page with a body.
 * @param {Agent} agent
 */
export async function waitForPage(agent) {
  await agent.page.waitForFunction(() => {
    const doc = /** @type {any} */ (window).cobrowseAgentTestHook?.rebuiltDocument();
    return !!(doc && doc.body && doc.body.childNodes.length > 0);
  }, undefined, { timeout: 10_000 });
}

/**
 * Workspace state from the test hook.
 * @param {Agent} agent
 * @returns {Promise<Record<string, any>>}
 */
export function state(agent) {
  return agent.page.evaluate(() => /** @type {any} */ (window).cobrowseAgentTestHook.state());
}

/**
 * Runs a function against the rebuilt document inside the agent's page.
 * @template R
 * @param {Agent} agent
 * @param {(doc: Document, arg: any) => R} fn
 * @param {any} [arg]
 * @returns {Promise<R>}
 */
export function inRebuilt(agent, fn, arg) {
  return agent.page.evaluate(
    ([source, value]) => {
      const doc = /** @type {any} */ (window).cobrowseAgentTestHook.rebuiltDocument();
      // eslint-disable-next-line no-new-func
      return new Function('doc', 'arg', `return (${source})(doc, arg);`)(doc, value);
    },
    /** @type {[string, any]} */ ([fn.toString(), arg]),
  );
}

/**
 * Waits until `fn` over the rebuilt document returns something truthy.
 * @template R
 * @param {Agent} agent
 * @param {(doc: Document, arg: any) => R} fn
 * @param {string} what
 * @param {any} [arg]
 * @returns {Promise<R>}
 */
export function untilRebuilt(agent, fn, what, arg) {
  return until(() => inRebuilt(agent, fn, arg), what);
}

/**
 * The notices the workspace has shown so far (its live region).
 * @param {Agent} agent
 * @returns {Promise<string[]>}
 */
export function notices(agent) {
  return agent.page.getByTestId('notice').allTextContents();
}

/**
 * Waits for a notice in the workspace that matches.
 * @param {Agent} agent
 * @param {RegExp} pattern
 */
export async function untilNotice(agent, pattern) {
  await until(async () => (await notices(agent)).some((text) => pattern.test(text)), `a notice matching ${pattern}`);
}

/**
 * A button of the customer's own UI, in its shadow root.
 * @param {Page} customerPage
 * @param {'approve' | 'deny' | 'revoke' | 'exit'} part
 */
export function customerButton(customerPage, part) {
  return customerPage.locator(`cobrowse-ui[data-cobrowse-ui] [data-part="${part}"]`);
}

/**
 * A point inside the virtual browser, in the agent's page coordinates, for an element of the
 * rebuilt page found by CSS selector (its center, or an offset from its top left).
 * @param {Agent} agent
 * @param {string} selector
 * @param {{dx?: number, dy?: number}} [offset]
 * @returns {Promise<{x: number, y: number}>}
 */
export async function pointOf(agent, selector, offset = {}) {
  return agent.page.evaluate(([sel, dx, dy]) => {
    const frame = /** @type {HTMLIFrameElement} */ (document.querySelector('[data-testid="virtual-browser"]'));
    const doc = /** @type {any} */ (window).cobrowseAgentTestHook.rebuiltDocument();
    const el = doc.querySelector(sel);
    if (!el) throw new Error(`no ${sel} in the rebuilt page`);
    const box = el.getBoundingClientRect();
    const frameBox = frame.getBoundingClientRect();
    const scale = frameBox.width / frame.offsetWidth;
    const x = dx === null ? box.left + box.width / 2 : box.left + Number(dx);
    const y = dy === null ? box.top + box.height / 2 : box.top + Number(dy);
    return { x: frameBox.left + x * scale, y: frameBox.top + y * scale };
  }, /** @type {[string, number | null, number | null]} */ ([selector, offset.dx ?? null, offset.dy ?? null]));
}

/**
 * Clicks an element of the rebuilt page with the agent's real mouse.
 * @param {Agent} agent
 * @param {string} selector
 */
export async function clickRebuilt(agent, selector) {
  const { x, y } = await pointOf(agent, selector);
  await agent.page.mouse.click(x, y);
}

/**
 * Asks for write mode and has the customer approve it; waits until the workspace is in write mode.
 * @param {Agent} agent
 * @param {Customer} customer
 */
export async function enterWriteMode(agent, customer) {
  await agent.page.getByTestId('write-toggle').click();
  await customerButton(customer.page, 'approve').click();
  await until(async () => (await state(agent)).mode === 'write', 'write mode in the workspace');
}

/**
 * Ends the session from the agent's side (if one runs) and closes both contexts.
 * @param {Agent | null} agent
 * @param {Customer | null} customer
 */
export async function cleanup(agent, customer) {
  if (agent) {
    const running = await agent.page.evaluate(() => {
      const hook = /** @type {any} */ (window).cobrowseAgentTestHook;
      const s = hook?.state();
      return !!(s && s.session && !s.ended);
    }).catch(() => false);
    if (running) {
      await agent.page.getByTestId('exit-session').click().catch(() => {});
      await until(async () => (await state(agent)).ended !== false, 'the session to end', 5000).catch(() => {});
    }
    await agent.context.close().catch(() => {});
  }
  if (customer) await customer.context.close().catch(() => {});
}
