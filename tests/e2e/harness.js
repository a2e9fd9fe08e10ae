// End-to-end harness: starts the real `cobrowse demo` binary on port 0 with a fresh data
// directory, and the system Chromium through playwright-core. Each test gets its own server.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { chromium } from 'playwright-core';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Where screenshots of key states go (ignored by git). */
export const ARTIFACTS = join(root, 'tests', 'e2e', 'artifacts');

/** Chromium flags for a headless run on a closed network (see DESIGN.md). */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-quic',
];

/**
 * @typedef {{ base: string, dataDir: string, stop: () => Promise<number | null>, logs: () => string,
 *   cleanup: () => void }} RunningServer
 */

/**
 * Starts `cobrowse demo` on 127.0.0.1:0 and resolves once it prints its address.
 * @param {Record<string, string>} [env] extra environment, e.g. COBROWSE_TIMEOUTS__PENDING
 * @param {{ keepData?: boolean }} [options] keepData: leave the data directory after `stop` so a
 *   test can read what the server stored (then call `cleanup`)
 * @returns {Promise<RunningServer>}
 */
export async function startServer(env = {}, options = {}) {
  const dataDir = mkdtempSync(join(tmpdir(), 'cobrowse-e2e-'));
  const binary = process.env.COBROWSE_BIN ?? join(root, 'target', 'debug', 'cobrowse');
  const child = spawn(binary, ['demo', '--listen', '127.0.0.1:0', '--data-dir', dataDir], {
    // COBROWSE_BIN chooses the binary; it is not a server setting, so it stays out of the
    // server's environment (where every COBROWSE_* variable is read as configuration).
    env: { ...withoutBinOverride(process.env), COBROWSE_LOG: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk) => { stderr += chunk; });
  const base = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${stderr}`)), 20_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code}:\n${stderr}`));
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
  const cleanup = () => rmSync(dataDir, { recursive: true, force: true });
  return {
    base: /** @type {string} */ (base),
    dataDir,
    logs: () => stderr,
    stop: () => new Promise((resolve) => {
      /** @param {number | null} code */
      const done = (code) => {
        if (!options.keepData) cleanup();
        resolve(code);
      };
      if (child.exitCode !== null) {
        done(child.exitCode);
        return;
      }
      child.once('exit', done);
      child.kill('SIGTERM');
    }),
    cleanup,
  };
}

/**
 * The environment without the harness's own COBROWSE_BIN.
 * @param {NodeJS.ProcessEnv} env
 * @returns {NodeJS.ProcessEnv}
 */
function withoutBinOverride(env) {
  const { COBROWSE_BIN: _binary, ...rest } = env;
  return rest;
}

/** Launches the system Chromium, headless. */
export async function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    headless: true,
    args: CHROMIUM_ARGS,
  });
}

/**
 * Saves a screenshot of a key state into tests/e2e/artifacts/.
 * @param {import('playwright-core').Page} page
 * @param {string} name
 */
export async function screenshot(page, name) {
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: false });
}
