// Support for the SDK's end-to-end tests: a "company site" on its own origin serving the fixture
// pages, the real server with a data directory the test can inspect, the agent (the real
// workspace, or a bare WebSocket client that sends frames by hand), frames captured from the
// customer's browser through the DevTools protocol, and the one normalizer both sides' DOMs pass
// through for the central check: the agent's rebuilt page equals the customer's page.
import { createServer } from 'node:http';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { inflateRawSync } from 'node:zlib';
import assert from 'node:assert/strict';
import { startServer } from './harness.js';

const here = dirname(fileURLToPath(import.meta.url));
/** Fixture pages; `__COBROWSE__` in them becomes the Cobrowse server's base URL. */
export const FIXTURES = join(here, 'fixtures');

/** The demo agents (an agent holds one session at a time). */
export const AGENT = { username: 'alice', password: 'alice-demo' };
export const AGENT_BOB = { username: 'bob', password: 'bob-demo' };

// ---------------------------------------------------------------------------------------------
// Waiting

/**
 * Polls `fn` until it returns a truthy value; throws with `what` after `timeoutMs`.
 * @template T
 * @param {() => Promise<T> | T} fn
 * @param {string} what
 * @param {number} [timeoutMs]
 * @returns {Promise<T>}
 */
export async function waitFor(fn, what, timeoutMs = 10_000) {
  const end = Date.now() + timeoutMs;
  /** @type {unknown} */
  let last = null;
  for (;;) {
    try {
      const value = await fn();
      if (value) return value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}${last ? `: ${last}` : ''}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

// ---------------------------------------------------------------------------------------------
// The company site

/**
 * @typedef {object} Site
 * @property {string} origin `http://127.0.0.1:PORT`
 * @property {(path: string) => string} url
 * @property {(base: string) => void} setServer Tells the pages where the Cobrowse server is.
 * @property {string[]} requests Paths requested so far, in order.
 * @property {() => Promise<void>} close
 */

const TYPES = /** @type {Record<string, string>} */ ({
  '.html': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.txt': 'text/plain; charset=utf-8',
});

/**
 * Serves the fixture pages on 127.0.0.1 (port 0): a separate origin, as a company's site is.
 * Pages named `*.sjis.html` are served as Shift_JIS. `/__slow/<ms>/<path>` delays a response.
 * @param {{dir?: string}} [options]
 * @returns {Promise<Site>}
 */
export async function startSite(options = {}) {
  const dir = options.dir ?? FIXTURES;
  let server = 'http://127.0.0.1:1';
  /** @type {string[]} */
  const requests = [];
  const http = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    requests.push(url.pathname + url.search);
    let path = decodeURIComponent(url.pathname);
    if (path.endsWith('/')) path += 'index.html';
    const file = normalize(join(dir, path));
    if (!file.startsWith(dir)) {
      res.writeHead(403).end();
      return;
    }
    let body;
    try {
      body = readFileSync(file);
    } catch {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    let type = TYPES[extname(file)] ?? 'application/octet-stream';
    if (file.endsWith('.sjis.html')) type = 'text/html; charset=Shift_JIS';
    if (type.startsWith('text/html')) {
      // Byte-wise, so legacy encodings pass through untouched (the placeholder is ASCII).
      body = Buffer.from(body.toString('latin1').replaceAll('__COBROWSE__', server), 'latin1');
    }
    res.writeHead(200, { 'content-type': type, 'cache-control': 'no-store' }).end(body);
  });
  await new Promise((resolve) => http.listen(0, '127.0.0.1', () => resolve(null)));
  const address = /** @type {import('node:net').AddressInfo} */ (http.address());
  const origin = `http://127.0.0.1:${address.port}`;
  return {
    origin,
    url: (path) => origin + (path.startsWith('/') ? path : `/${path}`),
    setServer: (base) => {
      server = base;
    },
    requests,
    close: () => new Promise((resolve) => {
      http.closeAllConnections();
      http.close(() => resolve());
    }),
  };
}

// ---------------------------------------------------------------------------------------------
// The server, with a data directory the test can read

/**
 * @typedef {object} Cobrowse
 * @property {string} base
 * @property {string} dataDir
 * @property {() => string} logs Everything the server wrote to stderr so far.
 * @property {() => Promise<number | null>} stop Stops it (SIGTERM); the data directory stays.
 * @property {() => void} cleanup Removes the data directory.
 */

/**
 * Starts `cobrowse demo` on 127.0.0.1:0 like the harness does, but keeps its data directory
 * after it stops, so a test can read what the server stored.
 * @param {Record<string, string>} [env]
 * @returns {Promise<Cobrowse>}
 */
export async function startCobrowse(env = {}) {
  return startServer(env, { keepData: true });
}

/**
 * Every file under a directory, as bytes (the SQLite database, its WAL, anything else).
 * @param {string} dir
 * @returns {Array<{path: string, bytes: Buffer}>}
 */
export function filesUnder(dir) {
  /** @type {Array<{path: string, bytes: Buffer}>} */
  const out = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...filesUnder(path));
    else out.push({ path, bytes: readFileSync(path) });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Customer and agent in the browser

/**
 * @param {import('playwright-core').Browser} browser
 * @param {string} url
 * @param {import('playwright-core').BrowserContextOptions} [options]
 */
export async function openCustomer(browser, url, options = {}) {
  const context = await browser.newContext({ viewport: { width: 1000, height: 700 }, ...options });
  const page = await context.newPage();
  page.on('pageerror', (err) => console.error('customer page error:', err.message));
  await page.goto(url);
  await page.waitForFunction(() => /** @type {any} */ (window).Cobrowse?.initialized === true);
  return { context, page };
}

/**
 * Starts sharing from the page with the JS API; returns the session ID.
 * @param {import('playwright-core').Page} page
 * @returns {Promise<string>}
 */
export async function startSharing(page) {
  return page.evaluate(async () => (await /** @type {any} */ (window).Cobrowse.start()).id);
}

/**
 * Ends the customer's session (so the agent is free for the next one), if it still runs.
 * @param {import('playwright-core').Page} page
 */
export async function endSession(page) {
  await page.evaluate(() => /** @type {any} */ (window).Cobrowse?.stop()).catch(() => {});
}

/**
 * Signs in to the real workspace as the demo agent and joins the session; resolves once the
 * customer's page is rebuilt.
 * @param {import('playwright-core').Browser} browser
 * @param {string} base
 * @param {string} sessionId
 * @param {{username: string, password: string}} [account]
 */
export async function openAgent(browser, base, sessionId, account = AGENT) {
  const context = await browser.newContext({ viewport: { width: 1300, height: 900 } });
  const page = await context.newPage();
  page.on('pageerror', (err) => console.error('agent page error:', err.message));
  await page.goto(`${base}/agent/?testhook`);
  await page.fill('#username', account.username);
  await page.fill('#password', account.password);
  await page.click('#signin-btn');
  await page.fill('#session-id', sessionId);
  await page.click('#join-btn');
  await page.waitForFunction(() => !!/** @type {any} */ (window).cobrowseAgentTestHook?.rebuiltDocument()?.body, null, { timeout: 15_000 });
  return { context, page };
}

/**
 * What the customer's SDK sends and receives on its WebSocket, captured through the Chrome
 * DevTools Protocol (the page cannot hide anything from it).
 * @param {import('playwright-core').Page} page
 */
export async function captureSocket(page) {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Network.enable');
  /** @type {string[]} */
  const sent = [];
  /** @type {string[]} */
  const received = [];
  // A binary message is a compressed frame (docs/protocol.md section 11): format byte 1, then raw
  // DEFLATE of the frame's text. It is recorded as that text, so tests see every frame.
  /** @param {{opcode: number, payloadData: string}} response */
  const text = (response) => {
    if (response.opcode !== 2) return response.payloadData;
    const bytes = Buffer.from(response.payloadData, 'base64');
    return bytes[0] === 1 ? inflateRawSync(bytes.subarray(1)).toString('utf8') : '';
  };
  cdp.on('Network.webSocketFrameSent', (event) => sent.push(text(event.response)));
  cdp.on('Network.webSocketFrameReceived', (event) => received.push(text(event.response)));
  return {
    sent,
    received,
    /**
     * Decoded sent frames with this tag.
     * @param {string} tag
     * @returns {Array<[string, number, any]>}
     */
    sentFrames(tag) {
      /** @type {Array<[string, number, any]>} */
      const out = [];
      for (const text of sent) {
        try {
          const frame = JSON.parse(text);
          if (frame[0] === tag) out.push(frame);
        } catch {
          // not a frame
        }
      }
      return out;
    },
  };
}

// ---------------------------------------------------------------------------------------------
// A bare agent: joins over HTTP and speaks the protocol by hand (Node's `ws`, no Origin header)

const require = createRequire(import.meta.url);
/** @type {any} */
const WebSocketImpl = require('ws');

export class BareAgent {
  /**
   * @param {string} base
   * @param {string} sessionId
   */
  constructor(base, sessionId) {
    this.base = base;
    this.sessionId = sessionId;
    /** @type {Array<[string, number, any]>} */
    this.frames = [];
    this.seq = 0;
    this.lastServerSeq = 0;
    /** @type {any} */
    this.socket = null;
  }

  /**
   * Signs in, joins and connects; resolves on `welcome`.
   * @param {{username?: string, password?: string, watch?: boolean}} [options]
   */
  async connect(options = {}) {
    const login = await fetch(`${this.base}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: options.username ?? AGENT.username, password: options.password ?? AGENT.password }),
    });
    assert.equal(login.status, 200, 'sign-in');
    const { token: authToken } = await login.json();
    const join = await fetch(`${this.base}/api/v1/sessions/${this.sessionId}/${options.watch ? 'watch' : 'join'}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${authToken}`, 'content-type': 'application/json' },
      body: '{}',
    });
    assert.equal(join.status, 200, `join: ${await join.clone().text()}`);
    const grant = await join.json();
    const socket = new WebSocketImpl(`${this.base.replace(/^http/, 'ws')}/ws/v1`);
    this.socket = socket;
    socket.on('message', (/** @type {Buffer} */ data) => {
      const frame = JSON.parse(String(data));
      this.frames.push(frame);
      if (frame[1] > this.lastServerSeq) this.lastServerSeq = frame[1];
      if (frame[0] === 'hb' && !frame[2].reply) socket.send(JSON.stringify(['hb', 0, { ts: frame[2].ts, reply: true }]));
    });
    await new Promise((resolve, reject) => {
      socket.once('open', resolve);
      socket.once('error', reject);
    });
    socket.send(JSON.stringify(['hello', 0, { v: 1, session: this.sessionId, token: grant.token, ack: 0 }]));
    await this.waitFor((f) => f[0] === 'welcome', 'welcome');
  }

  /**
   * Sends a sequenced frame.
   * @param {string} tag
   * @param {object} body
   */
  send(tag, body) {
    this.socket.send(JSON.stringify([tag, ++this.seq, body]));
  }

  /**
   * The first frame received (from `from` on) that matches.
   * @param {(frame: [string, number, any]) => boolean} pred
   * @param {string} what
   * @param {{from?: number, timeoutMs?: number}} [options]
   * @returns {Promise<[string, number, any]>}
   */
  async waitFor(pred, what, options = {}) {
    const found = await waitFor(() => this.frames.slice(options.from ?? 0).find(pred), `agent to receive ${what}`, options.timeoutMs ?? 10_000);
    return /** @type {[string, number, any]} */ (found);
  }

  /** The last snapshot received. */
  snapshot() {
    return this.frames.filter((f) => f[0] === 'snapshot').at(-1)?.[2] ?? null;
  }

  close() {
    this.socket?.close();
  }
}

/**
 * The node ID of the element with this `id` attribute in a serialized tree.
 * @param {any} node
 * @param {string} htmlId
 * @returns {number | null}
 */
export function nodeIdOf(node, htmlId) {
  if (!node) return null;
  if (node.a?.id === htmlId) return node.id;
  for (const child of [...(node.c ?? []), ...(node.sh ? [node.sh] : []), ...(node.fd ? [node.fd] : [])]) {
    const found = nodeIdOf(child, htmlId);
    if (found !== null) return found;
  }
  return null;
}

/**
 * Sends `action` frames from a bare agent and returns what came back for each: `null` when the
 * SDK carried it out (no refusal within a moment), else the refusal reason.
 * @param {BareAgent} agent
 * @param {object} action without `aid`
 * @returns {Promise<string | null>}
 */
export async function act(agent, action) {
  const aid = 1000 + agent.seq;
  const from = agent.frames.length;
  agent.send('action', { aid, ...action });
  try {
    const refused = await agent.waitFor((f) => f[0] === 'action_refused' && f[2].aid === aid, `refusal of ${aid}`, { from, timeoutMs: 600 });
    return refused[2].reason;
  } catch {
    return null;
  }
}

// ---------------------------------------------------------------------------------------------
// A bare desk: the agent's side of the chat channel (`/ws/v1/desk`), spoken by hand over Node's
// `ws` with a bearer token (no Origin header), for the SDK's chat tests.

export class DeskAgent {
  /** @param {string} base */
  constructor(base) {
    this.base = base;
    /** @type {Array<[string, number, any]>} */
    this.frames = [];
    /** @type {any} */
    this.socket = null;
    this.cids = 0;
  }

  /**
   * Signs in and opens the desk; resolves on the `desk` frame.
   * @param {{username: string, password: string}} [account]
   */
  async connect(account = AGENT) {
    const login = await fetch(`${this.base}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(account),
    });
    assert.equal(login.status, 200, 'sign-in');
    const { token } = await login.json();
    const socket = new WebSocketImpl(`${this.base.replace(/^http/, 'ws')}/ws/v1/desk`, { headers: { authorization: `Bearer ${token}` } });
    this.socket = socket;
    socket.on('message', (/** @type {Buffer} */ data) => {
      const frame = JSON.parse(String(data));
      this.frames.push(frame);
      if (frame[0] === 'hb' && !frame[2].reply) socket.send(JSON.stringify(['hb', 0, { ts: frame[2].ts, reply: true }]));
    });
    await new Promise((resolve, reject) => {
      socket.once('open', resolve);
      socket.once('error', reject);
    });
    this.send('desk_hello', { v: 1 });
    await this.waitFor((f) => f[0] === 'desk', 'the desk');
  }

  /**
   * @param {string} tag
   * @param {object} body
   */
  send(tag, body) {
    this.socket.send(JSON.stringify([tag, 0, body]));
  }

  /**
   * Becomes available and accepts the oldest waiting chat of `customer`; returns its ID.
   * @param {string} customer
   * @returns {Promise<string>}
   */
  async acceptChatOf(customer) {
    this.send('presence', { available: true });
    const queue = await this.waitFor((f) => f[0] === 'queue' && f[2].waiting.some((/** @type {any} */ c) => c.customer === customer), `${customer}'s chat in the queue`);
    const chat = queue[2].waiting.find((/** @type {any} */ c) => c.customer === customer).chat;
    this.send('accept', { chat });
    await this.waitFor((f) => f[0] === 'chat_state' && f[2].chat.chat === chat && f[2].chat.state === 'active', 'the accepted chat');
    return chat;
  }

  /**
   * @param {string} chat
   * @param {string} text
   */
  say(chat, text) {
    this.send('say', { chat, cid: `a-${++this.cids}`, text });
  }

  /**
   * The texts of the chat's messages received, in order, each as often as it arrived.
   * @param {string} chat
   * @returns {string[]}
   */
  texts(chat) {
    return this.frames.filter((f) => f[0] === 'msg' && f[2].chat === chat).map((f) => f[2].text);
  }

  /**
   * The first frame received (from `from` on) that matches.
   * @param {(frame: [string, number, any]) => boolean} pred
   * @param {string} what
   * @param {{from?: number, timeoutMs?: number}} [options]
   * @returns {Promise<[string, number, any]>}
   */
  async waitFor(pred, what, options = {}) {
    const found = await waitFor(() => this.frames.slice(options.from ?? 0).find(pred), `the desk to receive ${what}`, options.timeoutMs ?? 10_000);
    return /** @type {[string, number, any]} */ (found);
  }

  close() {
    this.socket?.close();
  }
}

// ---------------------------------------------------------------------------------------------
// The normalizer

/**
 * @typedef {object} MaskExpectations CSS selectors of the server's masking policy in force.
 * @property {string[]} [fields]
 * @property {string[]} [text]
 * @property {string[]} [images]
 */

/**
 * Runs in a browser page: the canonical form of a document, as plain JSON. The customer's side
 * (`side: 'customer'`) is the page itself with what the SDK must do applied by this function's
 * own reading of the rules: masks (password fields, `data-cobrowse-mask`, the policy's
 * selectors; asterisks for text and values, image attributes dropped and the rendered size
 * kept), scripts and handlers left out, URLs made absolute. The agent's side is the rebuilt
 * document as it is. Both then drop what the mirror and the viewer legitimately drop (`on*`,
 * `srcdoc`, a frame's `src`, `xmlns`, the canvas stand-in image) and write URLs inside CSS and
 * `srcset` one way.
 * Self-contained: Playwright sends its source to the page.
 * @param {{side: 'customer' | 'agent', mask: MaskExpectations}} options
 * @returns {any}
 */
export function canonicalPage(options) {
  const w = /** @type {any} */ (window);
  const customer = options.side === 'customer';
  const doc = /** @type {Document | null} */ (customer ? document : w.cobrowseAgentTestHook.rebuiltDocument());
  if (!doc) return null;
  const T = 1;
  const V = 2;
  const I = 4;
  const TEXT_ATTRS = new Set(['title', 'alt', 'aria-label', 'aria-valuetext', 'aria-description', 'value', 'label']);
  const IMAGE_ATTRS = new Set(['src', 'srcset', 'poster', 'background', 'data', 'href', 'xlink:href', 'imagesrcset']);
  const URL_ATTRS = new Set(['href', 'src', 'action', 'formaction', 'poster', 'background', 'cite', 'longdesc', 'xlink:href', 'data', 'manifest', 'codebase', 'icon']);
  const sel = (/** @type {string[] | undefined} */ list) => (list && list.length ? list.join(', ') : null);
  const fieldSel = sel(options.mask.fields);
  const textSel = sel(options.mask.text);
  const imageSel = sel(options.mask.images);
  const stars = (/** @type {string} */ s) => s.replace(/\S/gu, '*');
  const isField = (/** @type {Element} */ el) => ['input', 'textarea', 'select'].includes(el.localName) && el.namespaceURI === 'http://www.w3.org/1999/xhtml';
  const isImage = (/** @type {Element} */ el) => ['img', 'picture', 'video', 'image', 'canvas', 'object', 'embed'].includes(el.localName) ||
    (el.localName === 'input' && (el.getAttribute('type') ?? '').toLowerCase() === 'image');
  const isScriptUrl = (/** @type {string} */ v) => /^(javascript|vbscript):/i.test(v.replace(/[\u0000-\u0020]/g, ''));
  /** @param {Element} el */
  const ownMask = (el) => {
    const field = isField(el);
    if (el.localName === 'input' && /** @type {HTMLInputElement} */ (el).type === 'password') return 'value';
    const attr = el.getAttribute('data-cobrowse-mask');
    if (attr !== null) {
      const wanted = attr.trim().toLowerCase();
      if (wanted === 'value' || wanted === 'text' || wanted === 'image') return field && wanted === 'text' ? 'value' : wanted;
      return field ? 'value' : isImage(el) ? 'image' : 'text';
    }
    if (fieldSel && el.matches(fieldSel)) return 'value';
    if (imageSel && el.matches(imageSel)) return 'image';
    if (textSel && el.matches(textSel)) return field ? 'value' : 'text';
    return null;
  };
  /** @param {Element} el @param {number} ctx */
  const maskOf = (el, ctx) => {
    const own = ownMask(el);
    if (own) return own;
    if (isField(el) && ctx & (V | T)) return 'value';
    if (isImage(el) && ctx & I) return 'image';
    return null;
  };
  /**
   * The customer's side: a URL made absolute. The agent's side: the URL the viewer was given,
   * before it routed it through the server's resource proxy.
   * @param {string} value
   * @param {string} base
   */
  const resolve = (value, base) => {
    const v = value.trim();
    if (!customer) {
      try {
        const url = new URL(v);
        if (url.origin === location.origin && url.pathname.endsWith('/proxy') && url.searchParams.has('url')) return /** @type {string} */ (url.searchParams.get('url'));
      } catch {
        // not absolute
      }
      return value;
    }
    if (v === '' || /^(data|blob|about|mailto|tel):/i.test(v)) return value;
    try {
      return new URL(v, base).href;
    } catch {
      return value;
    }
  };
  /**
   * An attribute's URL: on the customer's side resolved by the page's own document, as its links
   * are (a page in a legacy encoding puts its query in that encoding).
   * @param {string} value
   * @param {Element} el
   */
  const resolveAttr = (value, el) => {
    const v = value.trim();
    if (!customer || v === '' || /^[a-z][a-z\d+.-]*:/i.test(v)) return resolve(value, el.baseURI);
    const a = /** @type {HTMLAnchorElement} */ (el.ownerDocument.createElement('a'));
    a.setAttribute('href', v);
    return a.href;
  };
  /** @param {string} css @param {string} base */
  const cssText = (css, base) => css.replace(/url\(\s*(['"]?)(.*?)\1\s*\)/gi, (_m, _q, url) => {
    const raw = String(url).replace(/\\(["'\\])/g, '$1');
    return `url(${raw.startsWith('#') || /^data:/i.test(raw) ? raw : resolve(raw, base)})`;
  });
  /** @param {string} value @param {Element} el */
  const srcset = (value, el) => {
    const out = [];
    for (const part of value.split(/,\s+/)) {
      const [url, ...rest] = part.trim().split(/\s+/);
      if (url) out.push([resolveAttr(url.replace(/,$/, ''), el), ...rest].join(' '));
    }
    return out.join(', ');
  };
  /** @param {CSSStyleSheet | null} sheet @param {string} base */
  const rulesOf = (sheet, base) => {
    if (!sheet) return null;
    try {
      return Array.from(sheet.cssRules, (r) => cssText(r.cssText, base));
    } catch {
      return null;
    }
  };
  /** @param {Document | ShadowRoot} owner @param {string} base */
  const adopted = (owner, base) => {
    const all = Array.from(/** @type {any} */ (owner).adoptedStyleSheets ?? [], (/** @type {CSSStyleSheet} */ s) => rulesOf(s, base));
    // The viewer's own sheet (its stand-in for the browser's focus ring) is not the customer's;
    // empty sheets change nothing on either side.
    const sheets = all.filter((rules) => !rules || (rules.length > 0 && (customer || !rules.every((r) => r.startsWith('@layer cb-')))));
    return sheets.length ? sheets : undefined;
  };
  /**
   * @param {Element} el
   * @param {string | null} mask
   * @param {number} inner
   */
  const attributes = (el, mask, inner) => {
    const name = el.localName;
    const base = el.baseURI;
    const svg = el.namespaceURI === 'http://www.w3.org/2000/svg';
    /** @type {Array<[string, string]>} */
    const out = [];
    for (const attr of Array.from(el.attributes)) {
      const n = attr.name;
      let v = attr.value;
      const lower = n.toLowerCase();
      if (lower.startsWith('on') || lower === 'srcdoc' || lower === 'xmlns') continue;
      if ((name === 'iframe' || name === 'frame' || name === 'embed') && lower === 'src') continue;
      if (name === 'object' && lower === 'data') continue;
      if (name === 'base' && (lower === 'href' || lower === 'target')) continue;
      if (name === 'canvas' && lower === 'data-cobrowse-canvas') continue;
      if (customer) {
        if (mask === 'image' && IMAGE_ATTRS.has(n)) continue;
        if (mask === 'image' && TEXT_ATTRS.has(n)) v = stars(v);
        else if (mask === 'value' && n === 'value') v = '*'.repeat(v.length);
        else if (inner & T && TEXT_ATTRS.has(n)) v = stars(v);
        if (URL_ATTRS.has(n) && isScriptUrl(v)) continue;
        if (mask === 'image' && (n === 'width' || n === 'height')) continue; // replaced below
      }
      if (n === 'srcset' || n === 'imagesrcset') v = srcset(v, el);
      else if (n === 'style') v = cssText(v, base);
      else if (URL_ATTRS.has(n) && !(v.trim().startsWith('#') && (svg || n === 'href'))) v = resolveAttr(v, el);
      out.push([n, v]);
    }
    if (customer && mask === 'image') {
      const rect = el.getBoundingClientRect();
      const width = Math.round(rect.width) || Number.parseInt(el.getAttribute('width') ?? '', 10) || 0;
      const height = Math.round(rect.height) || Number.parseInt(el.getAttribute('height') ?? '', 10) || 0;
      if (width > 0) out.push(['width', String(width)]);
      if (height > 0) out.push(['height', String(height)]);
    }
    return out.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  };
  /** @param {Element} el @param {string | null} mask */
  const formState = (el, mask) => {
    const field = /** @type {any} */ (el);
    if (el.localName === 'input') {
      if (field.type === 'checkbox' || field.type === 'radio') return { ch: field.checked };
      if (field.type === 'file') return undefined;
      return { v: customer && mask ? '*'.repeat(field.value.length) : field.value };
    }
    if (el.localName === 'textarea') return { v: customer && mask ? '*'.repeat(field.value.length) : field.value };
    if (el.localName === 'select') {
      if (customer && mask) return { masked: true };
      return { sel: Array.from(/** @type {HTMLSelectElement} */ (el).options).flatMap((o, i) => (o.selected ? [i] : [])) };
    }
    return undefined;
  };
  /**
   * @param {Node} parent
   * @param {number} ctx
   * @param {boolean} style
   */
  const children = (parent, ctx, style) => {
    const out = [];
    for (let child = parent.firstChild; child; child = child.nextSibling) {
      const n = node(child, ctx, style);
      if (n) out.push(n);
    }
    return out;
  };
  /**
   * @param {Document} d
   * @param {number} ctx
   */
  const documentOf = (d, ctx) => {
    const kids = children(d, ctx, false);
    return { mode: d.compatMode, charset: d.characterSet, title: d.title, as: adopted(d, d.baseURI), c: kids };
  };
  /**
   * @param {Node} n
   * @param {number} ctx
   * @param {boolean} style Inside a `<style>`: text is CSS.
   * @returns {any}
   */
  const node = (n, ctx, style) => {
    switch (n.nodeType) {
      case 3:
      case 4: {
        const data = /** @type {CharacterData} */ (n).data;
        if (style) return { t: cssText(data, n.baseURI) };
        return { t: customer && ctx & T ? stars(data) : data };
      }
      case 8: {
        const data = /** @type {CharacterData} */ (n).data;
        return { m: customer && ctx & T ? stars(data) : data };
      }
      case 10: {
        const dt = /** @type {DocumentType} */ (n);
        return { dt: [dt.name, dt.publicId, dt.systemId] };
      }
      case 1:
        break;
      default:
        return null;
    }
    const el = /** @type {Element} */ (n);
    const name = el.localName;
    if (name === 'script' || name === 'noscript') return null;
    if (customer && el.hasAttribute('data-cobrowse-ui')) return null;
    if (!customer && el.hasAttribute('data-cobrowse-canvas')) return null;
    const mask = customer ? maskOf(el, ctx) : null;
    let inner = ctx;
    if (mask === 'text') inner |= T | V | I;
    else if (mask === 'value') inner |= V;
    else if (mask === 'image') inner |= I;
    if (mask === 'value' && (name === 'textarea' || name === 'select')) inner |= T;
    /** @type {any} */
    const out = { e: el.namespaceURI === 'http://www.w3.org/1999/xhtml' ? name : `${el.namespaceURI}|${name}`, a: attributes(el, mask, inner) };
    if (isField(el)) {
      const st = formState(el, mask);
      if (st) out.st = st;
    }
    if (name === 'style') out.rules = rulesOf(/** @type {HTMLStyleElement} */ (el).sheet, el.baseURI);
    if (name !== 'template') out.c = children(el, inner, name === 'style');
    const shadow = el.shadowRoot;
    if (shadow) out.sh = { as: adopted(shadow, el.baseURI), c: children(shadow, inner, false) };
    if (name === 'iframe' || name === 'frame') {
      let inside = null;
      try {
        inside = /** @type {HTMLIFrameElement} */ (el).contentDocument;
      } catch {
        inside = null;
      }
      const blank = !inside || !inside.documentElement || (!inside.doctype && (inside.body?.childNodes.length ?? 0) === 0 && (inside.head?.childNodes.length ?? 0) === 0);
      out.fd = blank || !inside ? null : documentOf(inside, inner);
      // A srcdoc document renders in no-quirks mode without a doctype; frame documents carry no
      // mode in protocol v1, so the viewer can only guess (quirks). Not the SDK's to fix.
      if (out.fd && customer && el.hasAttribute('srcdoc') && !inside?.doctype) out.fd.mode = { skip: 'srcdoc frames have no mode on the wire' };
    }
    return out;
  };
  return documentOf(doc, 0);
}

/**
 * The first difference between two canonical pages, as a path and the two values, or null.
 * A masked `<select>` (customer side `{masked: true}`) matches any selection; `{skip: why}` on
 * the customer's side matches anything.
 * @param {any} a The customer's side.
 * @param {any} b The agent's side.
 * @param {string} [path]
 * @returns {string | null}
 */
export function firstDifference(a, b, path = '') {
  if (a && typeof a === 'object' && (a.masked === true || typeof a.skip === 'string')) return null;
  if (a === b) return null;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null || Array.isArray(a) !== Array.isArray(b)) {
    return `${path || '/'}: customer ${JSON.stringify(a)?.slice(0, 300)} ≠ agent ${JSON.stringify(b)?.slice(0, 300)}`;
  }
  if (Array.isArray(a)) {
    for (let i = 0; i < Math.max(a.length, b.length); i++) {
      const d = firstDifference(a[i], b[i], `${path}[${i}]${label(a[i] ?? b[i])}`);
      if (d) return d;
    }
    return null;
  }
  for (const key of new Set([...Object.keys(a), ...Object.keys(b)])) {
    if (a[key] === undefined && b[key] === undefined) continue;
    const d = firstDifference(a[key], b[key], `${path}.${key}`);
    if (d) return d;
  }
  return null;
}

/** @param {any} node */
function label(node) {
  return node && typeof node === 'object' && typeof node.e === 'string' ? `<${node.e}>` : '';
}

/**
 * Waits until the agent's rebuilt page equals the customer's page (both normalized, masks
 * applied on the customer's side); fails with the first difference.
 * @param {import('playwright-core').Page} customer
 * @param {import('playwright-core').Page} agent
 * @param {{mask?: MaskExpectations, timeoutMs?: number, what?: string}} [options]
 * @returns {Promise<any>} The customer's canonical page.
 */
export async function expectMirrored(customer, agent, options = {}) {
  const mask = options.mask ?? {};
  const end = Date.now() + (options.timeoutMs ?? 10_000);
  let difference = 'nothing compared';
  for (;;) {
    const mine = await customer.evaluate(canonicalPage, { side: /** @type {const} */ ('customer'), mask });
    const theirs = await agent.evaluate(canonicalPage, { side: /** @type {const} */ ('agent'), mask });
    const d = firstDifference(mine, theirs);
    if (!d) return mine;
    difference = d;
    if (Date.now() > end) break;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  assert.fail(`${options.what ?? 'the page'}: the agent's rebuilt DOM differs from the customer's: ${difference}`);
}

/**
 * Runs `fn` with the customer's page, e.g. to change it, then checks the mirror.
 * @param {import('playwright-core').Page} customer
 * @param {import('playwright-core').Page} agent
 * @param {string} what
 * @param {(() => Promise<unknown>) | null} change
 * @param {{mask?: MaskExpectations, timeoutMs?: number}} [options]
 */
export async function changeAndCompare(customer, agent, what, change, options = {}) {
  if (change) await change();
  return expectMirrored(customer, agent, { ...options, what });
}
