// End-to-end latency (issue 6, item 2) and join time (item 4), in one headless Chromium: the
// customer's page (served from another origin, the SDK loaded from the Cobrowse server) and the
// agent's workspace share the browser, so both read the same clock
// (performance.timeOrigin + performance.now()).
//
// Latency: the customer's page changes its DOM every `--interval` ms, each change carrying its
// own time stamp (a text change, an attribute change, or an added list item, in turn); a
// MutationObserver on the agent's rebuilt iframe document (same-origin to the workspace,
// reached through `cobrowseAgentTestHook.rebuiltDocument()`) reads the stamp as soon as the
// change is applied there. Run at idle, then with `cobrowse-loadgen drive` loading the server
// with --load-sessions sessions of the capacity benchmark's mix.
//
// Join time: the agent presses Join on a session whose page has 6,000 elements; measured from the
// click to the first animation frame whose page contains the page's last element (DOM
// applied), and to the task after that frame (whole page painted). The workspace builds a big
// page in two steps (web/agent/first_view.js), so the customer's viewport is also timed on its
// own: from the click to the task after the first animation frame whose page holds every
// element the customer's viewport shows (all body elements, in document order, up to the last
// one whose top is above the customer's viewport bottom; counted on the customer's page).
// The workspace's own User Timing marks (web/agent/join_timing.js) split each join into phases:
// request granted, socket welcomed, snapshot decoded, iframe shell ready, viewport built, next
// animation frame, whole page built.
//
// The server is pinned to core 0; bench/e2e.sh runs this script, Chromium and the load generator
// on core 1. The idle joins run twice: with both pages in that one browser, and with the
// customer's page in a second browser on core 0, so that the agent's browser has a core to
// itself as it has on an agent's computer (on one core every hop of a join, between the pages,
// Chromium's network process and the server, waits for the core).
// Usage: node bench/e2e/latency.js [--changes 2000] [--interval 20] [--load-sessions 2500]
//        [--joins 15] [--skip-load]
// BENCH_AGENT_DIR=/path/to/web/agent serves the workspace from that directory instead of the
// binary's copy, through a front server (workspace_override.js), to compare two versions.
const AGENT_DIR = process.env.BENCH_AGENT_DIR;
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { mkdirSync, writeFileSync } from 'node:fs';
import {
  startCobrowse, startSite, launchBrowser, summarize, median, quantile, round, machine, writeResults,
  writeConfig, sleep, RAW, LOADGEN_BIN,
} from '../lib/common.js';
import { latencyPage, joinPage } from '../lib/pages.js';
import { startWorkspaceOverride } from './workspace_override.js';

/** @param {string} name @param {number} fallback */
function arg(name, fallback) {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 ? Number(process.argv[index + 1]) : fallback;
}
const CHANGES = arg('changes', 2000);
const INTERVAL = arg('interval', 20);
const LOAD_SESSIONS = arg('load-sessions', 2500);
const JOINS = arg('joins', 15);
const SKIP_LOAD = process.argv.includes('--skip-load');

/** @typedef {import('playwright-core').Page} Page */

/**
 * Signs the workspace in as alice (if needed) and joins session `id`; resolves at the click.
 * @param {Page} agent
 * @param {string} base
 * @param {string} id
 */
async function openWorkspaceAndJoin(agent, base, id) {
  await agent.goto(`${base}/agent/?testhook`);
  const username = agent.getByTestId('username');
  const sessionField = agent.getByTestId('session-id');
  await Promise.race([username.waitFor({ state: 'visible' }), sessionField.waitFor({ state: 'visible' })]);
  if (await username.isVisible()) {
    await username.fill('alice');
    await agent.getByTestId('password').fill('alice-demo');
    await agent.getByTestId('signin-btn').click();
  }
  await sessionField.waitFor({ state: 'visible' });
  await sessionField.fill(id);
}

/**
 * Starts a session on the customer page and returns its ID.
 * @param {Page} customer
 * @param {string} url
 */
async function startCustomer(customer, url) {
  await customer.goto(url);
  await customer.waitForFunction(() => /** @type {any} */ (window).Cobrowse !== undefined);
  return customer.evaluate(async () => {
    const started = await /** @type {any} */ (window).Cobrowse.start();
    return String(started.id);
  });
}

/**
 * The customer's and the agent's browser contexts: separate windows of one browser (pages that
 * share a window are not all rendered at full rate, which is not how two people's browsers run).
 * @typedef {{ customer: import('playwright-core').BrowserContext, agent: import('playwright-core').BrowserContext }} Contexts
 */

/**
 * One latency run: returns the latencies (ms) and how many changes never arrived.
 * @param {Contexts} contexts
 * @param {string} base
 * @param {string} siteOrigin
 * @param {string} label
 */
async function latencyRun(contexts, base, siteOrigin, label) {
  const customer = await contexts.customer.newPage();
  const agent = await contexts.agent.newPage();
  const id = await startCustomer(customer, `${siteOrigin}/latency.html`);
  await openWorkspaceAndJoin(agent, base, id);
  await agent.getByTestId('join-btn').click();
  await agent.waitForFunction(() => {
    const doc = /** @type {any} */ (window).cobrowseAgentTestHook?.rebuiltDocument();
    return !!doc?.getElementById('probe');
  }, undefined, { timeout: 30_000 });

  // Record the frame streams both ways for the compression measurement.
  const frames = /** @type {{ dir: string, text: string }[]} */ ([]);
  const customerCdp = await contexts.customer.newCDPSession(customer);
  const agentCdp = await contexts.agent.newCDPSession(agent);
  await customerCdp.send('Network.enable');
  await agentCdp.send('Network.enable');
  customerCdp.on('Network.webSocketFrameSent', (e) => frames.push({ dir: 'up', text: e.response.payloadData }));
  agentCdp.on('Network.webSocketFrameReceived', (e) => frames.push({ dir: 'down', text: e.response.payloadData }));

  await agent.evaluate(() => {
    const w = /** @type {any} */ (window);
    w.__latencies = [];
    w.__seen = new Set();
    /** @param {string | null | undefined} text */
    const read = (text) => {
      const match = /S(\d+):(\d+(?:\.\d+)?)/.exec(text ?? '');
      if (!match || w.__seen.has(match[1])) return;
      w.__seen.add(match[1]);
      w.__latencies.push(performance.timeOrigin + performance.now() - Number(match[2]));
    };
    // When several changes of one node are applied in one task, the records hold only the old
    // values: the value a record set is the next record's old value, or the node's current
    // value for the last one.
    const observer = new MutationObserver((records) => {
      for (const [i, r] of records.entries()) {
        if (r.type === 'childList') {
          for (const n of r.addedNodes) read(n.textContent);
          continue;
        }
        const next = records.slice(i + 1).find((s) => s.target === r.target && s.type === r.type);
        if (next) read(next.oldValue);
        else if (r.type === 'characterData') read(/** @type {CharacterData} */ (r.target).data);
        else read(/** @type {Element} */ (r.target).getAttribute('data-stamp'));
      }
    });
    let observed = /** @type {Document | null} */ (null);
    const watch = () => {
      const doc = w.cobrowseAgentTestHook.rebuiltDocument();
      if (doc && doc !== observed) {
        observer.disconnect();
        observer.observe(doc, { subtree: true, childList: true, characterData: true, characterDataOldValue: true, attributes: true, attributeOldValue: true, attributeFilter: ['data-stamp'] });
        observed = doc;
      }
    };
    watch();
    w.__watch = setInterval(watch, 200);
  });

  const visibility = {
    customer: await customer.evaluate(() => document.visibilityState),
    agent: await agent.evaluate(() => document.visibilityState),
  };
  const started = Date.now();
  await customer.evaluate(async ({ changes, interval }) => {
    const probe = /** @type {HTMLElement} */ (document.getElementById('probe'));
    const feed = /** @type {HTMLElement} */ (document.getElementById('feed'));
    probe.textContent = 'start';
    const text = /** @type {Text} */ (probe.firstChild);
    for (let i = 0; i < changes; i++) {
      const stamp = `S${i}:${performance.timeOrigin + performance.now()}`;
      if (i % 3 === 0) text.data = stamp;
      else if (i % 3 === 1) probe.setAttribute('data-stamp', stamp);
      else {
        const item = document.createElement('li');
        item.textContent = stamp;
        feed.prepend(item);
        if (feed.childElementCount > 20) feed.lastElementChild?.remove();
      }
      await new Promise((resolve) => setTimeout(resolve, interval));
    }
  }, { changes: CHANGES, interval: INTERVAL });
  await sleep(2000);
  const latencies = /** @type {number[]} */ (await agent.evaluate(() => /** @type {any} */ (window).__latencies));
  const seconds = (Date.now() - started) / 1000;
  mkdirSync(join(RAW, 'streams'), { recursive: true });
  writeFileSync(join(RAW, 'streams', `latency-${label}.jsonl`), frames.map((f) => JSON.stringify(f)).join('\n'));
  await customer.evaluate(() => /** @type {any} */ (window).Cobrowse.stop()).catch(() => {});
  await sleep(500);
  await customer.close();
  await agent.close();
  return { latencies, missing: CHANGES - latencies.length, seconds: round(seconds, 1), visibility };
}

/**
 * Join time on the 6,000-element page, `JOINS` times.
 * @param {Contexts} contexts
 * @param {string} base
 * @param {string} siteOrigin
 */
async function joinRuns(contexts, base, siteOrigin) {
  const customer = await contexts.customer.newPage();
  const agent = await contexts.agent.newPage();
  const painted = [];
  const applied = [];
  const viewPainted = [];
  /** @type {Record<string, number[]>} each join phase's time since the Join, per join */
  const phases = {};
  let elements = 0;
  for (let k = 0; k < JOINS + 1; k++) {
    const id = await startCustomer(customer, `${siteOrigin}/join.html`);
    elements = await customer.evaluate(() => document.querySelectorAll('*').length);
    // How many body elements, in document order, it takes to show the customer's viewport.
    const inView = await customer.evaluate(() => {
      const all = document.body.getElementsByTagName('*');
      let count = 0;
      for (let i = 0; i < all.length; i++) if (all[i].getBoundingClientRect().top < innerHeight) count = i + 1;
      return count;
    });
    await openWorkspaceAndJoin(agent, base, id);
    const timing = /** @type {{ applied: number, painted: number, viewPainted: number }} */ (await agent.evaluate((inView) => new Promise((resolve) => {
      const w = /** @type {any} */ (window);
      const button = /** @type {HTMLElement} */ (document.querySelector('[data-testid="join-btn"]'));
      const clicked = performance.now();
      let viewPainted = -1;
      const poll = () => {
        const doc = w.cobrowseAgentTestHook.rebuiltDocument();
        if (viewPainted < 0 && doc?.body && doc.body.getElementsByTagName('*').length >= inView) {
          viewPainted = 0;
          setTimeout(() => { viewPainted = performance.now() - clicked; }, 0);
        }
        if (doc?.getElementById('last')) {
          const seen = performance.now();
          setTimeout(() => resolve({ applied: seen - clicked, painted: performance.now() - clicked, viewPainted }), 0);
        } else {
          requestAnimationFrame(poll);
        }
      };
      button.click();
      requestAnimationFrame(poll);
    }), inView));
    // Where the time went, from the workspace's own join marks (web/agent/join_timing.js).
    const marks = /** @type {Record<string, number>} */ (await agent.evaluate(() => /** @type {any} */ (window).cobrowseAgentTestHook.joinPhases?.() ?? {}));
    // The first join warms the browser's caches of the workspace; it is not counted.
    if (k > 0) {
      applied.push(timing.applied);
      painted.push(timing.painted);
      viewPainted.push(timing.viewPainted);
      for (const [name, at] of Object.entries(marks)) (phases[name] ??= []).push(at);
    }
    await customer.evaluate(() => /** @type {any} */ (window).Cobrowse.stop());
    await agent.waitForFunction(() => /** @type {any} */ (window).cobrowseAgentTestHook?.state().ended, undefined, { timeout: 10_000 }).catch(() => {});
  }
  await customer.close();
  await agent.close();
  return {
    elements,
    joins: painted.length,
    dom_applied: { p50_ms: round(median(applied)), p95_ms: round(quantile(applied, 0.95)), max_ms: round(Math.max(...applied)) },
    view_painted: { p50_ms: round(median(viewPainted)), p95_ms: round(quantile(viewPainted, 0.95)), max_ms: round(Math.max(...viewPainted)) },
    first_paint: { p50_ms: round(median(painted)), p95_ms: round(quantile(painted, 0.95)), max_ms: round(Math.max(...painted)) },
    phases_p50_ms: Object.fromEntries(Object.entries(phases).sort((a, b) => median(a[1]) - median(b[1])).map(([name, at]) => [name, round(median(at))])),
  };
}

/**
 * Starts the load generator against the server; resolves once its sessions are running.
 * @param {number} port
 * @param {number} pid
 */
async function startLoad(port, pid) {
  const child = spawn('taskset', ['-c', '1', LOADGEN_BIN, 'drive', '--addr', `127.0.0.1:${port}`, '--sessions',
    String(LOAD_SESSIONS), '--server-pid', String(pid), '--stop-on-stdin', '--warmup', '0', '--measure', '3600'], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: /** @type {import('node:stream').Readable} */ (child.stdout) });
  let result = '';
  /** @type {(value: unknown) => void} */
  let ready = () => {};
  const readyPromise = new Promise((resolve) => { ready = resolve; });
  const done = new Promise((resolve) => {
    lines.on('line', (line) => {
      if (line.startsWith('loadgen ready')) ready(undefined);
      else if (line.startsWith('{')) result = line;
    });
    child.once('exit', () => resolve(undefined));
  });
  child.once('exit', () => ready(undefined));
  await readyPromise;
  return {
    /** Ends the window and returns the generator's own figures. */
    stop: async () => {
      child.stdin?.end();
      await done;
      return result ? JSON.parse(result) : null;
    },
  };
}

async function main() {
  const info = machine();
  const config = join(RAW, 'e2e', 'cobrowse-e2e.toml');
  writeConfig(config, SKIP_LOAD ? 0 : LOAD_SESSIONS);
  /** @type {{ base: string }} */
  const cb = { base: '' };
  const site = await startSite({
    '/latency.html': () => ['text/html; charset=utf-8', latencyPage(cb.base)],
    '/join.html': () => ['text/html; charset=utf-8', joinPage(cb.base)],
  });
  const server = await startCobrowse({
    config,
    core: 0,
    env: { COBROWSE_POLICY__SITE_ORIGINS: JSON.stringify([site.origin]) },
  });
  const front = AGENT_DIR ? await startWorkspaceOverride(AGENT_DIR, server.base) : null;
  cb.base = front?.base ?? server.base;
  if (front) console.log(`workspace served from ${AGENT_DIR} through ${front.base}`);
  const browser = await launchBrowser();
  const contexts = {
    customer: await browser.newContext({ viewport: { width: 1280, height: 800 } }),
    agent: await browser.newContext({ viewport: { width: 1440, height: 900 } }),
  };
  /** @type {Record<string, any>} */
  const result = { machine: info, settings: { changes: CHANGES, interval_ms: INTERVAL, load_sessions: SKIP_LOAD ? 0 : LOAD_SESSIONS, joins: JOINS, agent_dir: AGENT_DIR ?? null } };
  try {
    console.log(`join time: ${JOINS} joins of a 6,000-element page (idle)`);
    result.join_idle = await joinRuns(contexts, cb.base, site.origin);
    console.log('  ', JSON.stringify(result.join_idle));

    // The same joins with the customer's page in a browser of its own on the server's core, as
    // it is in use (the customer's device is not the agent's): the agent's browser then has its
    // core to itself, as it would have the agent's computer.
    console.log(`join time: ${JOINS} joins, the customer's browser apart on core 0 (idle)`);
    const apart = await launchBrowser({ core: 0 });
    try {
      const customer = await apart.newContext({ viewport: { width: 1280, height: 800 } });
      result.join_apart = await joinRuns({ customer, agent: contexts.agent }, cb.base, site.origin);
    } finally {
      await apart.close();
    }
    console.log('  ', JSON.stringify(result.join_apart));

    console.log(`latency at idle: ${CHANGES} changes every ${INTERVAL} ms`);
    const idle = await latencyRun(contexts, cb.base, site.origin, 'idle');
    result.latency_idle = { ...summarize(idle.latencies), missing: idle.missing, seconds: idle.seconds, visibility: idle.visibility };
    console.log('  ', JSON.stringify(result.latency_idle));

    if (!SKIP_LOAD) {
      console.log(`starting the load generator: ${LOAD_SESSIONS} sessions`);
      const load = await startLoad(server.port, server.pid);
      await sleep(5000);
      console.log(`latency under load: ${CHANGES} changes every ${INTERVAL} ms`);
      const loaded = await latencyRun(contexts, cb.base, site.origin, 'load');
      result.join_load = await joinRuns(contexts, cb.base, site.origin);
      const generator = await load.stop();
      result.latency_load = { ...summarize(loaded.latencies), missing: loaded.missing, seconds: loaded.seconds, visibility: loaded.visibility };
      result.load = generator && {
        sessions_held: generator.sessions_held,
        frames_per_sec: generator.frames_sent_per_sec,
        relay_latency: generator.latency,
        lost: generator.loss,
        server: generator.server,
        generator_cpu_percent: generator.generator_cpu_percent,
      };
      console.log('  ', JSON.stringify(result.latency_load));
      console.log('  join under load', JSON.stringify(result.join_load));
    }
  } finally {
    await browser.close();
    await front?.close();
    await server.stop();
    await site.close();
  }
  writeResults('e2e', result, markdown(result));
}

/** The join runs: a row name and the result's key. */
const JOIN_RUNS = [['idle, one browser on core 1', 'join_idle'], ['idle, the customer\'s browser apart on core 0', 'join_apart'], ['under load, one browser on core 1', 'join_load']];

/** @param {Record<string, any>} r */
function markdown(r) {
  const rows = [];
  rows.push('# End-to-end latency and join time\n');
  rows.push(`Machine: ${r.machine.summary}\n`);
  rows.push(`Customer page and agent workspace in one headless Chromium; server pinned to core 0; Chromium, this script and the load generator on core 1. ${r.settings.changes} stamped DOM changes every ${r.settings.interval_ms} ms (text, attribute, added item in turn), from the change in the customer's page to the MutationObserver in the agent's rebuilt iframe.\n`);
  rows.push('| run | changes seen | missing | p50 ms | p95 ms | p99 ms | max ms |');
  rows.push('|---|---:|---:|---:|---:|---:|---:|');
  for (const [name, key] of [['idle', 'latency_idle'], [`under load (${r.settings.load_sessions} sessions)`, 'latency_load']]) {
    const l = r[key];
    if (l) rows.push(`| ${name} | ${l.count} | ${l.missing} | ${l.p50_ms} | ${l.p95_ms} | ${l.p99_ms} | ${l.max_ms} |`);
  }
  if (r.load) {
    rows.push(`\nLoad during the loaded run: ${r.load.sessions_held} sessions held, ${r.load.frames_per_sec} frames/s, relay p99 ${r.load.relay_latency.p99_ms} ms, server CPU ${r.load.server?.cpu_percent}% of its core, generator CPU ${r.load.generator_cpu_percent}%.`);
  }
  rows.push('\n## Join time (6,000-element page)\n');
  rows.push('"Viewport painted": the customer\'s viewport is on screen (the first step of a page built in two steps). "Whole page painted": the page\'s last element is on screen (`first_paint` in the JSON). "One browser on core 1": both pages and every Chromium process share one core; "apart": the customer\'s page runs in a second browser on the server\'s core, so the agent\'s browser has a core to itself.\n');
  rows.push('| run | joins | elements | viewport painted p50 ms | p95 ms | DOM applied p50 ms | p95 ms | whole page painted p50 ms | p95 ms | max ms |');
  rows.push('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const [name, key] of JOIN_RUNS) {
    const j = r[key];
    if (j) rows.push(`| ${name} | ${j.joins} | ${j.elements} | ${j.view_painted.p50_ms} | ${j.view_painted.p95_ms} | ${j.dom_applied.p50_ms} | ${j.dom_applied.p95_ms} | ${j.first_paint.p50_ms} | ${j.first_paint.p95_ms} | ${j.first_paint.max_ms} |`);
  }
  const phased = JOIN_RUNS.filter(([, key]) => r[key]?.phases_p50_ms && Object.keys(r[key].phases_p50_ms).length);
  if (phased.length) {
    rows.push('\nJoin phases, p50 ms since the Join (the workspace\'s marks: request granted, welcomed, snapshot decoded, iframe shell ready, viewport built, next animation frame, whole page built):\n');
    for (const [name, key] of phased) {
      rows.push(`- ${name}: ${Object.entries(r[key].phases_p50_ms).map(([phase, ms]) => `${phase} ${ms}`).join(' · ')}`);
    }
  }
  rows.push('');
  return rows.join('\n');
}

await main();
