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
  // Wide enough that the desk (chats and calls) beside the view leaves the customer's 1000 px
  // viewport at 1:1 under "zoom to fit", so tests can compare positions in page pixels.
  const context = await env.browser.newContext({ viewport: options.viewport ?? { width: 1600, height: 900 } });
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

// ------------------------------------------------------------------------------------------------
// Chats and calls (tests/e2e/agent_chat*.test.js)

/**
 * A customer who talks to the agent in the built-in chat and co-browses from it, or who is on a
 * call and reads a session ID out.
 *
 * `via` says how the customer side is driven: `sdk` through the SDK's chat API
 * (`Cobrowse.startChat`, `sendChat`, `endChat`, `startFromChat`, `browseWithYou` and its
 * `chat_*` events) when the SDK has it; `protocol` otherwise — the chat over `/ws/v1/chat` from a
 * second tab, and co-browse sessions created over HTTP that the SDK on the site page resumes
 * (stored in its sessionStorage, then a reload). `AGENT_E2E_CUSTOMER=sdk|protocol` forces one.
 * @typedef {object} ChatCustomer
 * @property {BrowserContext} context
 * @property {Page} page the site page, shared with the agent
 * @property {'sdk' | 'protocol'} via
 * @property {string[]} errors uncaught page errors
 * @property {(name: string, message: string) => Promise<string>} startChat resolves to the chat ID
 * @property {(text: string) => Promise<void>} say
 * @property {() => Promise<void>} endChat
 * @property {() => Promise<string>} startFromChat "Start co-browse" in the chat; resolves to the session ID
 * @property {() => Promise<string>} browseWithYou the voice entry; resolves to the session ID to read out
 * @property {() => Promise<string[]>} received texts of the chat messages the customer has
 * @property {() => Promise<string | null>} chatEnded why the chat ended, or null while it goes on
 * @property {() => Promise<{state: string, reason: string | null}>} cobrowse the SDK's session state and end reason
 */

/**
 * Opens a fixture page (which must carry the SDK) as a chatting customer.
 * @param {Env} env
 * @param {string} path a page with the SDK
 * @param {string} blankPath a page without the SDK (hosts the chat socket in protocol mode)
 * @returns {Promise<ChatCustomer>}
 */
export async function openChatCustomer(env, path, blankPath) {
  const context = await env.browser.newContext({ viewport: { width: 1000, height: 700 } });
  const sitePage = await context.newPage();
  /** @type {string[]} */
  const errors = [];
  sitePage.on('pageerror', (err) => errors.push(err.message));
  await sitePage.goto(env.site.origin + path);
  await until(() => sitePage.evaluate(() => !!(/** @type {any} */ (window).Cobrowse)), `the SDK on ${path} (page errors: ${errors.join(' | ')})`);
  const hasApi = await sitePage.evaluate(() => {
    const c = /** @type {any} */ (window).Cobrowse;
    return ['startChat', 'sendChat', 'endChat', 'startFromChat', 'browseWithYou'].every((name) => typeof c[name] === 'function');
  });
  const forced = process.env.AGENT_E2E_CUSTOMER;
  const via = forced === 'sdk' || forced === 'protocol' ? forced : hasApi ? 'sdk' : 'protocol';
  // The SDK's co-browse events, recorded on the site page (again after each reload).
  const watchSession = () => sitePage.evaluate(() => {
    const w = /** @type {any} */ (window);
    w.__cbEnded = null;
    w.Cobrowse.addEventListener('session_ended', (/** @type {CustomEvent} */ e) => { w.__cbEnded = e.detail?.reason ?? 'unknown'; });
  });
  await watchSession();
  const cobrowse = () => sitePage.evaluate(() => ({ state: String(/** @type {any} */ (window).Cobrowse.state), reason: /** @type {any} */ (window).__cbEnded ?? null }));
  return via === 'sdk'
    ? sdkChatCustomer(context, sitePage, errors, cobrowse)
    : protocolChatCustomer(env, context, sitePage, errors, blankPath, cobrowse, watchSession);
}

/**
 * @param {BrowserContext} context
 * @param {Page} sitePage
 * @param {string[]} errors
 * @param {() => Promise<{state: string, reason: string | null}>} cobrowse
 * @returns {Promise<ChatCustomer>}
 */
async function sdkChatCustomer(context, sitePage, errors, cobrowse) {
  await sitePage.evaluate(() => {
    const w = /** @type {any} */ (window);
    w.__chat = { messages: [], ended: null };
    w.Cobrowse.addEventListener('chat_message', (/** @type {CustomEvent} */ e) => w.__chat.messages.push(e.detail?.message ?? e.detail));
    w.Cobrowse.addEventListener('chat_ended', (/** @type {CustomEvent} */ e) => { w.__chat.ended = e.detail?.reason ?? 'unknown'; });
  });
  return {
    context,
    page: sitePage,
    via: 'sdk',
    errors,
    startChat: (name, message) => sitePage.evaluate(async ([n, m]) => (await /** @type {any} */ (window).Cobrowse.startChat({ name: n, message: m })).id, [name, message]),
    say: async (text) => {
      await sitePage.evaluate(async (t) => { await /** @type {any} */ (window).Cobrowse.sendChat(t); }, text);
    },
    endChat: async () => {
      await sitePage.evaluate(async () => { await /** @type {any} */ (window).Cobrowse.endChat(); });
    },
    startFromChat: () => sitePage.evaluate(async () => (await /** @type {any} */ (window).Cobrowse.startFromChat()).id),
    browseWithYou: () => sitePage.evaluate(async () => (await /** @type {any} */ (window).Cobrowse.browseWithYou()).id),
    received: () => sitePage.evaluate(() => /** @type {any} */ (window).__chat.messages.map((/** @type {any} */ m) => String(m.text))),
    chatEnded: () => sitePage.evaluate(() => /** @type {any} */ (window).__chat.ended),
    cobrowse,
  };
}

/**
 * @param {Env} env
 * @param {BrowserContext} context
 * @param {Page} sitePage
 * @param {string[]} errors
 * @param {string} blankPath
 * @param {() => Promise<{state: string, reason: string | null}>} cobrowse
 * @param {() => Promise<void>} watchSession
 * @returns {Promise<ChatCustomer>}
 */
async function protocolChatCustomer(env, context, sitePage, errors, blankPath, cobrowse, watchSession) {
  const chatPage = await context.newPage();
  chatPage.on('pageerror', (err) => errors.push(err.message));
  await chatPage.goto(env.site.origin + blankPath);
  const server = env.server.base;
  /**
   * Creates a session over HTTP from the site page and has the SDK there resume it.
   * @param {unknown} request
   * @returns {Promise<string>}
   */
  const sessionFromSite = async (request) => {
    const id = await sitePage.evaluate(async ([base, body]) => {
      const response = await fetch(`${base}/api/v1/sessions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      const created = await response.json();
      if (!response.ok) throw new Error(`session refused: ${JSON.stringify(created)}`);
      sessionStorage.setItem('cobrowse.session', JSON.stringify({ id: created.id, token: created.token, wsUrl: `${base.replace(/^http/, 'ws')}${created.ws_url}`, lastServerSeq: 0 }));
      return String(created.id);
    }, /** @type {[string, unknown]} */ ([server, request]));
    await sitePage.reload();
    await until(() => sitePage.evaluate(() => /** @type {any} */ (window).Cobrowse?.state === 'active'), 'the SDK to resume the session');
    await watchSession();
    return id;
  };
  return {
    context,
    page: sitePage,
    via: 'protocol',
    errors,
    startChat: (name, message) => chatPage.evaluate(async ([base, n, m]) => {
      const w = /** @type {any} */ (window);
      const response = await fetch(`${base}/api/v1/chats`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: n, message: m }) });
      const chat = await response.json();
      if (!response.ok) throw new Error(`chat refused: ${JSON.stringify(chat)}`);
      w.__chat = { id: chat.id, token: chat.token, messages: [], ended: null, next: 1 };
      const socket = new WebSocket(`${base.replace(/^http/, 'ws')}${chat.ws_url}`);
      w.__chat.socket = socket;
      socket.onopen = () => socket.send(JSON.stringify(['chat_hello', 0, { v: 1, chat: chat.id, token: chat.token, last: 0 }]));
      socket.onmessage = (ev) => {
        const [tag, , body] = JSON.parse(String(ev.data));
        if (tag === 'hb' && !body.reply) socket.send(JSON.stringify(['hb', 0, { ts: body.ts, reply: true }]));
        if (tag === 'msg' && !w.__chat.messages.some((/** @type {any} */ x) => x.id === body.id)) w.__chat.messages.push(body);
        if (tag === 'chat_state' && body.chat.state === 'ended') w.__chat.ended = body.reason ?? 'unknown';
      };
      await new Promise((resolve, reject) => {
        socket.addEventListener('open', resolve, { once: true });
        socket.addEventListener('error', reject, { once: true });
      });
      return String(chat.id);
    }, /** @type {[string, string, string]} */ ([server, name, message])),
    say: async (text) => {
      await chatPage.evaluate((t) => {
        const c = /** @type {any} */ (window).__chat;
        c.socket.send(JSON.stringify(['say', 0, { cid: `e2e-${c.next++}`, text: t }]));
      }, text);
    },
    endChat: async () => {
      await chatPage.evaluate(() => /** @type {any} */ (window).__chat.socket.send(JSON.stringify(['end_chat', 0, {}])));
    },
    startFromChat: async () => {
      const chat = await chatPage.evaluate(() => ({ id: String(/** @type {any} */ (window).__chat.id), token: String(/** @type {any} */ (window).__chat.token) }));
      return sessionFromSite({ chat });
    },
    browseWithYou: () => sessionFromSite({ channel: 'voice' }),
    received: () => chatPage.evaluate(() => /** @type {any} */ (window).__chat.messages.map((/** @type {any} */ m) => String(m.text))),
    chatEnded: () => chatPage.evaluate(() => /** @type {any} */ (window).__chat?.ended ?? null),
    cobrowse,
  };
}

/**
 * A locator inside the agent's desk.
 * @param {Agent} agent
 * @param {string} testid
 */
export function desk(agent, testid) {
  return agent.page.locator(`[data-testid="desk"] [data-testid="${testid}"]`);
}
