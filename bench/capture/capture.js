// Capture cost against rrweb (issue 6, item 1): in one headless Chromium, the same pages and the
// same scripted workloads (bench/capture/workloads.js) recorded by the Cobrowse SDK (a real
// session against `cobrowse demo`), by rrweb's `record` (npm `rrweb`, its defaults, each event
// JSON-serialized and sent over a WebSocket as a real deployment would) and by nothing (the
// baseline).
//
// Per phase (the full snapshot, then each mutation workload):
// - main-thread time of the recorder: CDP Profiler samples (100 µs) whose stack contains a
//   frame of the recorder's scripts (the SDK's modules; rrweb's bundle and its emit callback);
//   garbage collection is reported apart, since it cannot be attributed to a script;
// - main-thread task time over the baseline: CDP Performance.getMetrics TaskDuration of the
//   phase minus the no-recorder run's (includes GC, style and layout the recorder causes);
// - bytes emitted: every WebSocket message the page sent during the phase (CDP
//   Network.webSocketFrameSent; the SDK's acks and heartbeats left out), raw and deflated as one
//   stream (zlib level 6).
// Each page is loaded fresh for each recorder and repetition; figures are medians.
// With --repeat N, each mutation phase runs its workload N times in a row: the page's code has
// then been optimized, as it is a while into a real session, and the phase has N times the
// samples. Such a run writes capture-steady.json and .md instead, and records no streams.
// With --profiles, each phase's CPU profile is kept in bench/results/raw/profiles/ (open it in
// DevTools' Performance panel, or summarize it with bench/capture/profile_summary.js).
// Usage: node bench/capture/capture.js [--reps 3] [--only list,text] [--repeat N] [--profiles]
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import {
  startCobrowse, startSite, launchBrowser, median, round, machine, writeResults, writeConfig, sleep, ROOT, RAW,
} from '../lib/common.js';
import { page, bigBody, sdkTag, filler } from '../lib/pages.js';
import { frameLabel, indexProfile, sampleMs } from '../lib/cpu_profile.js';

/** @param {string} name @param {number} fallback */
function arg(name, fallback) {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 ? Number(process.argv[index + 1]) : fallback;
}
const REPS = arg('reps', 3);
const REPEAT = arg('repeat', 1);
const onlyIndex = process.argv.indexOf('--only');
const ONLY = onlyIndex >= 0 ? process.argv[onlyIndex + 1].split(',') : null;
const KEEP_PROFILES = process.argv.includes('--profiles');
const PROFILES = join(RAW, 'profiles');
const SAMPLING_US = 100;

/** Pages and the mutation phases run on each, in order. */
const WORKLOADS = [
  { page: 'demo', phases: ['demo-input'] },
  { page: 'big', phases: [] },
  { page: 'list', phases: ['list-append', 'list-toggle', 'list-reorder', 'list-remove'] },
  { page: 'attributes', phases: ['attribute-storm'] },
  { page: 'text', phases: ['text-storm'] },
  { page: 'cssom', phases: ['cssom-rules'] },
].filter((w) => !ONLY || ONLY.includes(w.page));

const RECORDERS = /** @type {const} */ (['ours', 'rrweb', 'none']);

/** @typedef {import('../lib/cpu_profile.js').Profile} Profile */

/**
 * Splits a CPU profile's time into the recorder's, garbage collection and the rest. `isCapture`
 * picks the part of the recorder that captures the page (for the SDK: its capture modules and
 * what they call — encoding, sending — as opposed to session set-up and its own UI).
 * @param {Profile} profile
 * @param {(url: string) => boolean} isRecorder
 * @param {(url: string) => boolean} isCapture
 */
function attribute(profile, isRecorder, isCapture) {
  const { byId, parent } = indexProfile(profile);
  /**
   * Whether a node or one of its callers matches.
   * @param {(url: string) => boolean} test
   */
  const onStack = (test) => {
    /** @type {Map<number, boolean>} */
    const memo = new Map();
    /** @param {number} id @returns {boolean} */
    const check = (id) => {
      const known = memo.get(id);
      if (known !== undefined) return known;
      const node = /** @type {import('../lib/cpu_profile.js').ProfileNode} */ (byId.get(id));
      const caller = parent.get(id);
      const value = test(node.callFrame.url) || (caller !== undefined ? check(caller) : false);
      memo.set(id, value);
      return value;
    };
    return check;
  };
  const inRecorder = onStack(isRecorder);
  const inCapture = onStack(isCapture);
  let recorder = 0;
  let capture = 0;
  let gc = 0;
  let busy = 0;
  /** @type {Map<string, number>} */
  const selfTime = new Map();
  const { samples } = profile;
  for (let i = 0; i < samples.length; i++) {
    const duration = sampleMs(profile, i);
    const node = /** @type {import('../lib/cpu_profile.js').ProfileNode} */ (byId.get(samples[i]));
    const name = node.callFrame.functionName;
    if (name === '(idle)') continue;
    busy += duration;
    if (name === '(garbage collector)') gc += duration;
    else if (inRecorder(samples[i])) {
      recorder += duration;
      if (inCapture(samples[i])) capture += duration;
      const where = frameLabel(node.callFrame);
      selfTime.set(where, (selfTime.get(where) ?? 0) + duration);
    }
  }
  const top = [...selfTime.entries()].sort((a, b) => b[1] - a[1]).slice(0, 8).map(([where, ms]) => ({ where, ms: round(ms) }));
  return { recorder_ms: recorder, capture_ms: capture, gc_ms: gc, busy_ms: busy, top };
}

/**
 * The page's main thread so far: the time its tasks took (wall clock, so it includes time the
 * thread waited for the core) and the CPU time the thread used (which other processes on the
 * core cannot inflate).
 * @param {import('playwright-core').CDPSession} cdp
 * @returns {Promise<{task: number, thread: number}>} ms
 */
async function mainThread(cdp) {
  const { metrics } = await cdp.send('Performance.getMetrics');
  /** @param {string} name */
  const ms = (name) => (metrics.find((m) => m.name === name)?.value ?? 0) * 1000;
  return { task: ms('TaskDuration'), thread: ms('ThreadTime') };
}

async function main() {
  const info = machine();
  const config = join(RAW, 'capture', 'cobrowse-capture.toml');
  writeConfig(config, 0);
  const rrwebBundle = readFileSync(join(ROOT, 'bench', 'node_modules', 'rrweb', 'dist', 'rrweb.umd.min.cjs'), 'utf8');
  const rrwebVersion = JSON.parse(readFileSync(join(ROOT, 'bench', 'node_modules', 'rrweb', 'package.json'), 'utf8')).version;
  const workloadScript = readFileSync(join(ROOT, 'bench', 'capture', 'workloads.js'), 'utf8');
  const cb = { base: '', demo: '' };
  /** @type {{ origin: string }} */
  const siteRef = { origin: '' };

  /** @param {string} recorder */
  const recorderTags = (recorder) => {
    if (recorder === 'ours') return sdkTag(cb.base);
    if (recorder === 'rrweb') return `<script src="${siteRef.origin}/rrweb.js"></script><script src="${siteRef.origin}/rrweb-harness.js"></script>`;
    return '';
  };
  /** @param {string} name @param {string} recorder */
  const pageHtml = (name, recorder) => {
    const head = `${recorderTags(recorder)}<script src="${siteRef.origin}/workloads.js"></script>`;
    switch (name) {
      case 'demo':
        return cb.demo
          .replace(/<script type="module" src="\/sdk\/cobrowse\.js"[^>]*><\/script>/, '')
          .replace('<head>', `<head><base href="${cb.base}/demo/">${head}`);
      case 'big':
        return page('6,000 elements', head, bigBody(6000));
      case 'list':
        return page('List', head, `<h1>Payments</h1><ul id="list"></ul>\n${bigBody(200)}`);
      case 'attributes':
        return page('Attributes', head, Array.from({ length: 500 }, (_, i) => `<div class="box" data-value="${i}">${filler(i, 3)}</div>`).join('\n'));
      case 'text':
        return page('Text', head, Array.from({ length: 500 }, (_, i) => `<p><span class="t">${filler(i, 3)}</span></p>`).join('\n'));
      case 'cssom': {
        const rules = Array.from({ length: 1000 }, (_, i) => `.rule-${i} .child-${i % 11}{margin:${i % 17}px;padding:${i % 5}px;color:#${(i * 2654435761 % 0xffffff).toString(16).padStart(6, '0')}}`).join('\n');
        return page('CSSOM', `<style id="sheet">${rules}</style>${head}`, bigBody(300));
      }
      default:
        throw new Error(`unknown page ${name}`);
    }
  };

  const routes = /** @type {Record<string, () => [string, string]>} */ ({
    '/rrweb.js': () => ['text/javascript', rrwebBundle],
    '/rrweb-harness.js': () => ['text/javascript', `
      // rrweb as a deployment would use it: every event JSON-serialized and sent on a WebSocket.
      window.startRrweb = (sink) => new Promise((resolve) => {
        const socket = new WebSocket(sink);
        socket.onopen = () => {
          window.__stopRrweb = rrweb.record({ emit(event) { socket.send(JSON.stringify(event)); } });
          resolve(undefined);
        };
      });`],
    '/workloads.js': () => ['text/javascript', workloadScript],
  });
  for (const w of WORKLOADS) {
    for (const recorder of RECORDERS) {
      routes[`/${w.page}-${recorder}.html`] = () => ['text/html; charset=utf-8', pageHtml(w.page, recorder)];
    }
  }
  const site = await startSite(routes);
  siteRef.origin = site.origin;
  // The rrweb runs' WebSocket sink: receives and drops.
  const { WebSocketServer } = await import(/** @type {string} */ ('ws'));
  const sink = new WebSocketServer({ server: site.server, path: '/sink' });
  sink.on('connection', (/** @type {any} */ socket) => socket.on('message', () => {}));

  const server = await startCobrowse({ config, core: 0, env: { COBROWSE_POLICY__SITE_ORIGINS: JSON.stringify([site.origin]) } });
  cb.base = server.base;
  cb.demo = await (await fetch(`${server.base}/demo/index.html`)).text();
  const browser = await launchBrowser();

  /** @type {Record<string, Record<string, Record<string, any[]>>>} */
  const raw = {};
  const streams = /** @type {Record<string, string[]>} */ ({});
  try {
    for (let rep = 0; rep < REPS; rep++) {
      for (const w of WORKLOADS) {
        for (const recorder of RECORDERS) {
          const measured = await runPage(browser, site.origin, w, recorder, cb.base, rep);
          for (const [phase, figures] of Object.entries(measured.phases)) {
            ((raw[w.page] ??= {})[phase] ??= {});
            (raw[w.page][phase][recorder] ??= []).push(figures);
          }
          if (recorder === 'ours' && rep === 0) streams[w.page] = measured.frames;
          console.log(`rep ${rep + 1}/${REPS} ${w.page} ${recorder}: ${Object.entries(measured.phases).map(([p, f]) => `${p} ${round(f.recorder_ms)} ms ${f.bytes} B${f.resyncs ? ` (${f.resyncs} resyncs)` : ''}`).join(', ')}`);
        }
      }
    }
  } finally {
    await browser.close();
    await server.stop();
    sink.close();
    await site.close();
  }
  mkdirSync(join(RAW, 'streams'), { recursive: true });
  for (const [name, frames] of Object.entries(REPEAT > 1 ? {} : streams)) {
    writeFileSync(join(RAW, 'streams', `capture-${name}.jsonl`), frames.map((text) => JSON.stringify({ dir: 'up', text })).join('\n'));
  }

  /** @type {any[]} */
  const rows = [];
  for (const w of WORKLOADS) {
    for (const phase of ['snapshot', ...w.phases]) {
      const byRecorder = raw[w.page]?.[phase];
      if (!byRecorder) continue;
      /** @param {string} recorder @param {string} key */
      const med = (recorder, key) => median((byRecorder[recorder] ?? []).map((f) => f[key]));
      const baseline = med('none', 'task_ms');
      const threadBaseline = med('none', 'thread_ms');
      /** @param {string} recorder */
      const figures = (recorder) => ({
        recorder_ms: round(med(recorder, 'recorder_ms')),
        capture_ms: round(med(recorder, 'capture_ms')),
        gc_ms: round(med(recorder, 'gc_ms')),
        task_over_baseline_ms: round(med(recorder, 'task_ms') - baseline),
        cpu_over_baseline_ms: round(med(recorder, 'thread_ms') - threadBaseline),
        longest_task_ms: round(med(recorder, 'longest_task_ms')),
        bytes: med(recorder, 'bytes'),
        deflated_bytes: med(recorder, 'deflated'),
        messages: med(recorder, 'messages'),
        // Summed, not a median: one resync in any run is worth knowing about.
        resyncs: (byRecorder[recorder] ?? []).reduce((sum, f) => sum + (f.resyncs ?? 0), 0),
        top: (byRecorder[recorder] ?? [])[0]?.top ?? [],
      });
      const ours = figures('ours');
      const rr = figures('rrweb');
      const ratio = (/** @type {number} */ a, /** @type {number} */ b) => (b > 0 ? round(a / b, 2) : null);
      rows.push({
        page: w.page,
        phase,
        ours,
        rrweb: rr,
        baseline_task_ms: round(baseline),
        baseline_cpu_ms: round(threadBaseline),
        ratio: {
          recorder_ms: ratio(ours.recorder_ms, rr.recorder_ms),
          capture_ms: ratio(ours.capture_ms, rr.capture_ms),
          recorder_plus_gc_ms: ratio(ours.recorder_ms + ours.gc_ms, rr.recorder_ms + rr.gc_ms),
          task_over_baseline_ms: ratio(ours.task_over_baseline_ms, rr.task_over_baseline_ms),
          cpu_over_baseline_ms: ratio(ours.cpu_over_baseline_ms, rr.cpu_over_baseline_ms),
          bytes: ratio(ours.bytes, rr.bytes),
          deflated_bytes: ratio(ours.deflated_bytes, rr.deflated_bytes),
        },
      });
    }
  }
  const result = {
    machine: info,
    settings: { reps: REPS, repeat: REPEAT, sampling_interval_us: SAMPLING_US, rrweb_version: rrwebVersion },
    rows,
  };
  writeResults(REPEAT > 1 ? 'capture-steady' : 'capture', result, markdown(result));
}

/**
 * Loads one page with one recorder, takes the snapshot, runs the phases.
 * @param {import('playwright-core').Browser} browser
 * @param {string} origin
 * @param {{ page: string, phases: string[] }} workload
 * @param {string} recorder
 * @param {string} cobrowseBase
 * @param {number} rep Which repetition this is (names the kept profiles).
 */
async function runPage(browser, origin, workload, recorder, cobrowseBase, rep) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const tab = await context.newPage();
  const cdp = await context.newCDPSession(tab);
  await cdp.send('Network.enable');
  await cdp.send('Performance.enable');
  await cdp.send('Profiler.enable');
  await cdp.send('Profiler.setSamplingInterval', { interval: SAMPLING_US });
  /** Frame texts as the recorder meant them, and the bytes each took on the wire. @type {string[]} */
  const sent = [];
  /** @type {number[]} */
  const wire = [];
  let lastFrameAt = Date.now();
  cdp.on('Network.webSocketFrameSent', (event) => {
    let text = event.response.payloadData;
    let bytes = Buffer.byteLength(text);
    if (event.response.opcode === 2) {
      // A compressed frame (docs/protocol.md, section 11): DevTools gives it base64-encoded. Count
      // the bytes it really took, and keep its text for the streams and the deflated comparison.
      const message = Buffer.from(text, 'base64');
      bytes = message.length;
      text = message[0] === 1 ? inflateRawSync(message.subarray(1)).toString('utf8') : '';
    }
    if (text.startsWith('["ack",') || text.startsWith('["hb",')) return;
    sent.push(text);
    wire.push(bytes);
    lastFrameAt = Date.now();
  });
  // Resyncs the server asked for: each one makes the SDK send a whole snapshot, so a phase with
  // any measured more than its workload (the server refused or lost a frame).
  let resyncs = 0;
  cdp.on('Network.webSocketFrameReceived', (event) => {
    if (event.response.opcode === 1 && event.response.payloadData.startsWith('["resync",')) resyncs++;
  });
  await tab.goto(`${origin}/${workload.page}-${recorder}.html`);
  await tab.evaluate(() => {
    const w = /** @type {any} */ (window);
    w.__longest = 0;
    new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) w.__longest = Math.max(w.__longest, entry.duration);
    }).observe({ type: 'longtask' });
  });
  if (recorder === 'ours') await tab.waitForFunction(() => /** @type {any} */ (window).Cobrowse !== undefined);
  await tab.evaluate((name) => /** @type {any} */ (window).__workloads.setup(name), workload.page);
  await sleep(300);
  const isRecorder =
    recorder === 'ours'
      ? (/** @type {string} */ url) => url.startsWith(`${cobrowseBase}/sdk/`)
      : (/** @type {string} */ url) => url.startsWith(`${origin}/rrweb`);
  const isCapture =
    recorder === 'ours' ? (/** @type {string} */ url) => url.startsWith(`${cobrowseBase}/sdk/capture/`) : isRecorder;

  /** @type {Record<string, any>} */
  const phases = {};
  /**
   * @param {string} phase
   * @param {() => Promise<unknown>} action
   * @param {(text: string) => boolean} [done] A frame the phase is not over without: a snapshot
   *   still being written or compressed can leave 300 ms without a message, which alone would
   *   end the phase (and the profile) before the recorder finished its work.
   */
  const measure = async (phase, action, done) => {
    const first = sent.length;
    const resyncsBefore = resyncs;
    await tab.evaluate(() => { /** @type {any} */ (window).__longest = 0; });
    const before = await mainThread(cdp);
    await cdp.send('Profiler.start');
    await action();
    // Settle: the recorder has sent what it will (300 ms without a message, after the frame the
    // phase needs if any; 5 s at most).
    const deadline = Date.now() + 5000;
    await sleep(300);
    const pending = () => done !== undefined && !sent.slice(first).some(done);
    while ((pending() || Date.now() - lastFrameAt < 300) && Date.now() < deadline) await sleep(50);
    if (pending()) console.warn(`${workload.page} / ${phase} / ${recorder}: the phase's frame was not sent within 5 s`);
    const { profile } = await cdp.send('Profiler.stop');
    if (KEEP_PROFILES) {
      mkdirSync(PROFILES, { recursive: true });
      writeFileSync(join(PROFILES, `${workload.page}-${phase}-${recorder}-${rep + 1}.cpuprofile`), JSON.stringify(profile));
    }
    const after = await mainThread(cdp);
    const longest = await tab.evaluate(() => /** @type {any} */ (window).__longest);
    const frames = sent.slice(first);
    const text = frames.join('\n');
    const attributed = attribute(/** @type {Profile} */ (profile), isRecorder, isCapture);
    phases[phase] = {
      ...attributed,
      task_ms: after.task - before.task,
      thread_ms: after.thread - before.thread,
      longest_task_ms: longest,
      messages: frames.length,
      resyncs: resyncs - resyncsBefore,
      bytes: wire.slice(first).reduce((sum, n) => sum + n, 0),
      deflated: frames.length ? deflateRawSync(Buffer.from(text), { level: 6 }).length : 0,
    };
  };

  await measure('snapshot', async () => {
    if (recorder === 'ours') await tab.evaluate(() => /** @type {any} */ (window).Cobrowse.start());
    if (recorder === 'rrweb') await tab.evaluate((sink) => /** @type {any} */ (window).startRrweb(sink), `${origin.replace('http', 'ws')}/sink`);
  }, recorder === 'ours' ? (text) => text.startsWith('["snapshot",') : recorder === 'rrweb' ? (text) => text.startsWith('{"type":2,') : undefined);
  for (const phase of workload.phases) {
    await measure(phase, async () => {
      for (let time = 0; time < REPEAT; time++) await tab.evaluate((name) => /** @type {any} */ (window).__workloads.run(name), phase);
    });
  }
  if (recorder === 'ours') await tab.evaluate(() => /** @type {any} */ (window).Cobrowse.stop()).catch(() => {});
  await context.close();
  return { phases, frames: sent };
}

/** @param {any} result */
function markdown(result) {
  const lines = [];
  lines.push('# Capture cost: Cobrowse SDK against rrweb\n');
  lines.push(`Machine: ${result.machine.summary}. rrweb ${result.settings.rrweb_version} (defaults). Medians of ${result.settings.reps} runs.${result.settings.repeat > 1 ? ` Each mutation workload run ${result.settings.repeat} times in a row within its phase (steady state).` : ''}\n`);
  lines.push('Main-thread time of the recorder = CPU-profile samples (100 µs) whose stack holds the recorder\'s scripts (GC apart); "ours capture" = the part under the SDK\'s capture modules (serializing, diffing, encoding and sending, without session set-up over HTTP and the SDK\'s own UI). "Over baseline" = page task time minus the same page and workload without a recorder; "CPU over baseline" = the same for the main thread\'s CPU time (Performance.getMetrics ThreadTime), which time the thread spent waiting for the shared core does not inflate, and which counts style, layout and GC the recorder causes. Bytes = WebSocket messages sent during the phase as they went on the wire (our SDK compresses frames of 1 KB or more; rrweb sends JSON text; acks/heartbeats excluded), deflated = the phase\'s frames as text, as one zlib stream (level 6), for a like-for-like comparison. Ratio = ours / rrweb; target ≤ 0.5.\n');
  lines.push('| page | phase | ours ms | ours capture ms | rrweb ms | ratio | ours GC ms | rrweb GC ms | ours over baseline ms | rrweb over baseline ms | ours CPU over baseline ms | rrweb CPU over baseline ms | ratio | ours bytes | rrweb bytes | ratio | ours deflated | rrweb deflated | ratio |');
  lines.push('|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const r of result.rows) {
    lines.push(`| ${r.page} | ${r.phase} | ${r.ours.recorder_ms} | ${r.ours.capture_ms} | ${r.rrweb.recorder_ms} | ${r.ratio.recorder_ms ?? '–'} | ${r.ours.gc_ms} | ${r.rrweb.gc_ms} | ${r.ours.task_over_baseline_ms} | ${r.rrweb.task_over_baseline_ms} | ${r.ours.cpu_over_baseline_ms} | ${r.rrweb.cpu_over_baseline_ms} | ${r.ratio.cpu_over_baseline_ms ?? '–'} | ${r.ours.bytes} | ${r.rrweb.bytes} | ${r.ratio.bytes ?? '–'} | ${r.ours.deflated_bytes} | ${r.rrweb.deflated_bytes} | ${r.ratio.deflated_bytes ?? '–'} |`);
  }
  const resynced = result.rows.filter((/** @type {any} */ r) => r.ours.resyncs > 0);
  if (resynced.length > 0) {
    lines.push(`\n**Resyncs:** the server asked our SDK for a fresh snapshot during ${resynced.map((/** @type {any} */ r) => `${r.page} / ${r.phase} (${r.ours.resyncs})`).join(', ')} (counts over all runs); those phases measured more than their workload.`);
  }
  lines.push('\n## Where our SDK spends its time (self time, first run)\n');
  for (const r of result.rows) {
    if (!r.ours.top.length) continue;
    lines.push(`- **${r.page} / ${r.phase}**: ${r.ours.top.slice(0, 5).map((/** @type {any} */ t) => `\`${t.where}\` ${t.ms} ms`).join(', ')}`);
  }
  lines.push('');
  return lines.join('\n');
}

await main();
