// Shared pieces of the browser benchmarks: the real `cobrowse` binary on port 0, a small site
// server for the customer's pages (another origin, allowed through the policy), the system
// Chromium, percentiles, and writing results (JSON + Markdown) under bench/results/.
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, mkdirSync, writeFileSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir, cpus, totalmem, loadavg, release } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const RESULTS = join(ROOT, 'bench', 'results');
export const RAW = join(RESULTS, 'raw');

/** Chromium flags for a headless run on a closed network. */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** The release binaries (built by the benchmark scripts); BENCH_COBROWSE_BIN picks another server. */
export const COBROWSE_BIN = process.env.BENCH_COBROWSE_BIN ?? join(ROOT, 'target', 'release', 'cobrowse');
export const LOADGEN_BIN = join(ROOT, 'target', 'release', 'cobrowse-loadgen');

/**
 * The environment for the server: every `COBROWSE_*` variable is a configuration key to it and
 * unknown ones stop it, so only the given ones are passed.
 * @param {Record<string, string>} extra
 */
export function serverEnv(extra) {
  /** @type {Record<string, string>} */
  const env = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (!name.startsWith('COBROWSE_') && value !== undefined) env[name] = value;
  }
  return { ...env, COBROWSE_LOG: 'warn', ...extra };
}

/**
 * @typedef {{ base: string, port: number, pid: number, stop: () => Promise<void>, logs: () => string }} Cobrowse
 */

/**
 * Starts `cobrowse demo` on 127.0.0.1:0, optionally pinned to a core, and resolves once it
 * prints its address.
 * @param {{ config?: string, env?: Record<string, string>, core?: number }} [options]
 * @returns {Promise<Cobrowse>}
 */
export async function startCobrowse(options = {}) {
  const dataDir = mkdtempSync(join(tmpdir(), 'cobrowse-bench-'));
  const args = ['demo', '--listen', '127.0.0.1:0', '--data-dir', dataDir];
  if (options.config) args.push('--config', options.config);
  const command = options.core === undefined ? COBROWSE_BIN : 'taskset';
  const argv = options.core === undefined ? args : ['-c', String(options.core), COBROWSE_BIN, ...args];
  const child = spawn(command, argv, {
    env: serverEnv(options.env ?? {}),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk) => {
    stderr += chunk;
    if (stderr.length > 1_000_000) stderr = stderr.slice(-500_000);
  });
  const base = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`cobrowse did not start:\n${stderr}`)), 30_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`cobrowse exited with ${code}:\n${stderr}`));
    });
    const lines = createInterface({ input: /** @type {import('node:stream').Readable} */ (child.stdout) });
    lines.on('line', (line) => {
      const match = /^cobrowse listening on (http:\/\/\S+)/.exec(line);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    });
  });
  const url = new URL(/** @type {string} */ (base));
  return {
    base: /** @type {string} */ (base),
    port: Number(url.port),
    pid: /** @type {number} */ (child.pid),
    logs: () => stderr,
    stop: () =>
      new Promise((resolve) => {
        const done = () => {
          rmSync(dataDir, { recursive: true, force: true });
          resolve();
        };
        if (child.exitCode !== null) return done();
        const kill = setTimeout(() => child.kill('SIGKILL'), 15_000);
        child.once('exit', () => {
          clearTimeout(kill);
          done();
        });
        child.kill('SIGTERM');
      }),
  };
}

/**
 * A site server on 127.0.0.1 (a port of its own, so a different origin from the Cobrowse
 * server). `routes` maps a path to a function returning [content type, body].
 * @param {Record<string, () => [string, string | Buffer]>} routes
 * @returns {Promise<{ origin: string, port: number, server: import('node:http').Server, close: () => Promise<void> }>}
 */
export async function startSite(routes) {
  const server = createServer((request, response) => {
    const path = new URL(request.url ?? '/', 'http://site').pathname;
    const route = routes[path];
    if (!route) {
      response.writeHead(404).end();
      return;
    }
    const [type, body] = route();
    response.writeHead(200, { 'content-type': type, 'cache-control': 'no-store' }).end(body);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(undefined)));
  const port = /** @type {import('node:net').AddressInfo} */ (server.address()).port;
  return {
    origin: `http://127.0.0.1:${port}`,
    port,
    server,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * Launches the system Chromium, headless; with `core`, every process of it on that core only
 * (through a wrapper script, since its processes are started by the browser itself).
 * @param {{ core?: number }} [options]
 */
export async function launchBrowser(options = {}) {
  const { chromium } = await import('playwright-core');
  let executablePath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
  if (options.core !== undefined) {
    const wrapper = join(RAW, `chromium-on-core-${options.core}.sh`);
    mkdirSync(RAW, { recursive: true });
    writeFileSync(wrapper, `#!/bin/sh\nexec taskset -c ${options.core} ${executablePath} "$@"\n`, { mode: 0o755 });
    executablePath = wrapper;
  }
  return chromium.launch({ executablePath, headless: true, args: CHROMIUM_ARGS });
}

/**
 * The q-quantile (0..1) of `values` by the nearest-rank method.
 * @param {number[]} values
 * @param {number} q
 */
export function quantile(values, q) {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank];
}

/** @param {number[]} values */
export function median(values) {
  return quantile(values, 0.5);
}

/**
 * Rounds to `places` decimals.
 * @param {number} value
 * @param {number} [places]
 */
export function round(value, places = 2) {
  const f = 10 ** places;
  return Math.round(value * f) / f;
}

/**
 * p50/p95/p99/max of latencies in ms.
 * @param {number[]} values
 */
export function summarize(values) {
  return {
    count: values.length,
    p50_ms: round(quantile(values, 0.5)),
    p95_ms: round(quantile(values, 0.95)),
    p99_ms: round(quantile(values, 0.99)),
    max_ms: round(values.length ? Math.max(...values) : NaN),
  };
}

/** What the figures were measured on. */
export function machine() {
  let commit = '';
  try {
    commit = execFileSync('git', ['describe', '--always', '--dirty'], { cwd: ROOT }).toString().trim();
  } catch {
    commit = 'unknown';
  }
  let chromium = '';
  try {
    chromium = execFileSync(process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', ['--version']).toString().trim();
  } catch {
    chromium = 'unknown';
  }
  let files = '';
  try {
    files = (readFileSync('/proc/self/limits', 'utf8').split('\n').find((l) => l.startsWith('Max open files')) ?? '')
      .split(/\s+/)[3] ?? '';
  } catch {
    files = '';
  }
  const cpu = cpus()[0]?.model ?? 'unknown';
  const summary = `${cpu}, ${cpus().length} cores, ${Math.round(totalmem() / 2 ** 30)} GiB, open-file limit ${files}, Linux ${release()}, ${chromium}, Node ${process.version}, load average at start ${loadavg().map((v) => v.toFixed(2)).join(' ')}, commit ${commit}`;
  return { summary, cpu, cores: cpus().length, chromium, node: process.version, commit, load_average_at_start: loadavg() };
}

/**
 * Writes bench/results/<name>.json and <name>.md.
 * @param {string} name
 * @param {unknown} json
 * @param {string} markdown
 */
export function writeResults(name, json, markdown) {
  mkdirSync(RESULTS, { recursive: true });
  writeFileSync(join(RESULTS, `${name}.json`), `${JSON.stringify(json, null, 2)}\n`);
  writeFileSync(join(RESULTS, `${name}.md`), markdown);
  console.log(`\nWrote bench/results/${name}.json and bench/results/${name}.md`);
}

/**
 * A configuration file for `cobrowse demo` with raised limits (and optional load-test agents),
 * written by `cobrowse-loadgen config`.
 * @param {string} path
 * @param {number} agents load-test agents besides alice
 */
export function writeConfig(path, agents) {
  mkdirSync(dirname(path), { recursive: true });
  execFileSync(LOADGEN_BIN, [
    'config',
    '--agents',
    String(agents),
    '--cobrowse-bin',
    COBROWSE_BIN,
    '--extra-agent',
    'alice:alice-demo',
    '--out',
    path,
  ]);
}

/** @param {number} ms */
export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
