// The parts of the SDK's full snapshot of the 6,000-element page (issue 6, items 1 and 6), timed
// in the page by performance.now, without a session, a socket or a profiler: what serializing
// costs the first time on a freshly loaded page (cold code, DOM never read from script), with the
// serializer's code already optimized on a detached copy of the page (warm code, DOM not yet
// read), with warm code after every node's attributes and text were read from script once (warm
// code, page read), and in steady state (the page serialized again and again); then the frame's
// JSON encoding and its UTF-8 bytes. `bench/capture.sh` measures the whole snapshot as a customer's
// browser runs it; this says which part of that is our code and which the first run of any code
// on a page.
//
// With --against DIR, a second copy of the SDK (for instance a worktree at another commit) is
// measured in the same browser, the two alternating, so a change to the serializer can be read
// side by side. Run it on one core, as bench/capture.sh does:
//   taskset -c 1 node bench/capture/snapshot_parts.js [--rounds 8] [--against DIR]
// Writes bench/results/snapshot-parts.json and .md.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { startSite, launchBrowser, median, round, machine, writeResults, sleep, ROOT } from '../lib/common.js';
import { page, bigBody } from '../lib/pages.js';

/** @param {string} name @param {string} fallback */
function arg(name, fallback) {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 ? process.argv[index + 1] : fallback;
}
const ROUNDS = Number(arg('rounds', '8'));
const AGAINST = arg('against', '');
/** Serializations of the same page per round; the first three are not counted as steady. */
const REPEATS = 9;

/** The SDK copies measured: the working tree's, and the one to compare with. */
const builds = /** @type {Record<string, string>} */ ({ working: join(ROOT, 'web', 'sdk') });
if (AGAINST) builds.against = join(AGAINST, 'web', 'sdk');

/**
 * Every file under `dir`, as site routes under `/${name}/`.
 * @param {string} name
 * @param {string} dir
 * @param {Record<string, () => [string, string | Buffer]>} routes
 */
function serveDir(name, dir, routes) {
  /** @param {string} at */
  const walk = (at) => {
    for (const entry of readdirSync(at)) {
      const path = join(at, entry);
      if (statSync(path).isDirectory()) walk(path);
      else if (path.endsWith('.js')) routes[`/${name}/${relative(dir, path)}`] = () => ['text/javascript', readFileSync(path)];
    }
  };
  walk(dir);
}

/**
 * Runs in the page: loads the serializer from `/${build}/`, then times it. Its policy is the one
 * `cobrowse demo` ships (crates/cobrowse/src/demo.rs), so the masking checks run as in the demo.
 * @param {{ build: string, mode: 'cold' | 'warm' | 'read', repeats: number }} options
 */
async function inPage({ build, mode, repeats }) {
  const { serializeSnapshot } = await import(`/${build}/capture/serializer.js`);
  const { MaskRules } = await import(`/${build}/capture/rules.js`);
  const { NodeRegistry } = await import(`/${build}/capture/node_registry.js`);
  const { encodeFrame } = await import(`/${build}/protocol.js`);
  const policy = {
    write_mode_allowed: true,
    masking: { fields: ['#account-number', '[name=ssn]'], text: ['.balance'], images: [], pages: [] },
    restrictions: { selectors: [] },
    site_origins: [],
  };
  /**
   * Each document keeps one registry, cleared before each snapshot, as the recorder does when it
   * sends the page again: a new registry each time would add one more property to every node.
   * @type {Map<Document, any>}
   */
  const registries = new Map();
  /** @param {any} win */
  const serialize = (win) => {
    let registry = registries.get(win.document);
    if (!registry) registries.set(win.document, (registry = new NodeRegistry()));
    registry.clear();
    const env = {
      registry,
      rules: new MaskRules(policy, win.document),
      ignore: () => false,
      modifiedSheets: new WeakSet(),
      checkedSheets: new WeakSet(),
      scrolledElements: new WeakSet(),
    };
    const started = performance.now();
    const snapshot = serializeSnapshot(win, env);
    return { ms: performance.now() - started, snapshot };
  };
  await new Promise((resolve) => setTimeout(resolve, 30));
  if (mode !== 'cold') {
    // The same code on a copy of the page in a document of its own: the page's own nodes are
    // still untouched by script afterwards.
    const copy = document.implementation.createHTMLDocument('copy');
    copy.body.innerHTML = document.body.innerHTML;
    const fake = { document: copy, location: { href: location.href }, scrollX: 0, scrollY: 0, innerWidth: 1280, innerHeight: 800, devicePixelRatio: 1, top: null };
    serialize(fake);
    await new Promise((resolve) => setTimeout(resolve, 30));
  }
  if (mode === 'read') {
    // Every node of the page once from script, as any reader of the DOM would: the engine makes
    // its wrapper objects and the strings of attributes and text here, not in the serializer.
    let length = 0;
    /** @param {Node} parent */
    const read = (parent) => {
      for (let node = parent.firstChild; node; node = node.nextSibling) {
        if (node.nodeType === 1) {
          const el = /** @type {Element} */ (node);
          for (const name of el.getAttributeNames()) length += (el.getAttribute(name) ?? '').length;
          read(el);
        } else if (node.nodeType === 3) {
          length += /** @type {Text} */ (node).data.length;
        }
      }
    };
    read(document);
    if (length === 0) throw new Error('the page read nothing');
    await new Promise((resolve) => setTimeout(resolve, 30));
  }
  /** @type {number[]} */
  const times = [];
  /** Each snapshot's JSON encoding and UTF-8 bytes: native code, so every run counts. */
  /** @type {number[]} */
  const encodeMs = [];
  /** @type {number[]} */
  const utf8Ms = [];
  let chars = 0;
  let nodes = 0;
  for (let i = 0; i < repeats; i++) {
    const { ms, snapshot } = serialize(window);
    times.push(ms);
    const started = performance.now();
    const text = encodeFrame('snapshot', 1, snapshot);
    const encoded = performance.now();
    new TextEncoder().encode(text);
    encodeMs.push(encoded - started);
    utf8Ms.push(performance.now() - encoded);
    if (i === 0) {
      chars = text.length;
      const stack = [snapshot.doc];
      while (stack.length > 0) {
        const node = stack.pop();
        nodes++;
        for (const child of node.c ?? []) stack.push(child);
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return { times, encodeMs, utf8Ms, chars, nodes };
}

async function main() {
  const info = machine();
  /** @type {Record<string, () => [string, string | Buffer]>} */
  const routes = { '/big.html': () => ['text/html; charset=utf-8', page('6,000 elements', '', bigBody(6000))] };
  for (const [name, dir] of Object.entries(builds)) serveDir(name, dir, routes);
  const site = await startSite(routes);
  const browser = await launchBrowser();
  /** @type {Record<string, {cold: number[], warm: number[], read: number[], steady: number[], encode: number[], utf8: number[], chars: number, nodes: number}>} */
  const raw = {};
  for (const name of Object.keys(builds)) raw[name] = { cold: [], warm: [], read: [], steady: [], encode: [], utf8: [], chars: 0, nodes: 0 };
  /** @type {Array<'cold' | 'warm' | 'read'>} */
  const modes = ['cold', 'warm', 'read'];
  try {
    for (let r = 0; r < ROUNDS; r++) {
      // Alternate which build goes first, and rotate which kind of page does.
      const order = r % 2 === 0 ? Object.keys(builds) : Object.keys(builds).reverse();
      for (const mode of [...modes.slice(r % 3), ...modes.slice(0, r % 3)]) {
        for (const build of order) {
          const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
          const tab = await context.newPage();
          await tab.goto(`${site.origin}/big.html`);
          await sleep(150);
          const result = await tab.evaluate(inPage, { build, mode, repeats: mode === 'cold' ? REPEATS : 1 });
          await context.close();
          const figures = raw[build];
          figures[mode].push(result.times[0]);
          if (mode === 'cold') {
            figures.steady.push(...result.times.slice(3));
            figures.encode.push(...result.encodeMs);
            figures.utf8.push(...result.utf8Ms);
            figures.chars = result.chars;
            figures.nodes = result.nodes;
          }
        }
      }
      console.log(`round ${r + 1}/${ROUNDS}: ${Object.entries(raw).map(([name, f]) => `${name} cold ${round(f.cold[f.cold.length - 1], 1)} warm ${round(f.warm[f.warm.length - 1], 1)} read ${round(f.read[f.read.length - 1], 1)} ms`).join(', ')}`);
    }
  } finally {
    await browser.close();
    await site.close();
  }
  const rows = Object.entries(raw).map(([build, f]) => ({
    build,
    sdk: builds[build],
    nodes: f.nodes,
    json_chars: f.chars,
    cold_ms: round(median(f.cold)),
    warm_code_ms: round(median(f.warm)),
    warm_code_page_read_ms: round(median(f.read)),
    steady_ms: round(median(f.steady)),
    encode_json_ms: round(median(f.encode)),
    utf8_ms: round(median(f.utf8)),
    samples: { cold: f.cold.length, warm: f.warm.length, read: f.read.length, steady: f.steady.length },
    // Every fresh page's figure, in the order run, so a reader can see the spread behind a median.
    raw_ms: { cold: f.cold.map((v) => round(v, 1)), warm: f.warm.map((v) => round(v, 1)), read: f.read.map((v) => round(v, 1)) },
  }));
  const result = { machine: info, settings: { rounds: ROUNDS, repeats: REPEATS, against: AGAINST || null }, rows };
  const lines = [
    '# The full snapshot of the 6,000-element page, in parts\n',
    `Machine: ${info.summary}. Medians of ${ROUNDS} rounds (steady: serializations 4 to ${REPEATS} of each cold page). Times by performance.now in the page; a fresh page for each figure but the steady ones.\n`,
    'Cold = the first serialization on a freshly loaded page; warm code = the same after the serializer ran on a detached copy of the page (the page itself still untouched); page read = warm code, and every node\'s attributes and text read from script once before; steady = the same page serialized again and again; encode JSON = `encodeFrame` of each snapshot of the cold pages; UTF-8 = `TextEncoder` of that text.\n',
    '| build | nodes | JSON characters | cold ms | warm code ms | warm code, page read ms | steady ms | encode JSON ms | UTF-8 ms |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...rows.map((r) => `| ${r.build} | ${r.nodes} | ${r.json_chars} | ${r.cold_ms} | ${r.warm_code_ms} | ${r.warm_code_page_read_ms} | ${r.steady_ms} | ${r.encode_json_ms} | ${r.utf8_ms} |`),
    '',
  ];
  writeResults('snapshot-parts', result, lines.join('\n'));
  console.log(lines.join('\n'));
}

await main();
