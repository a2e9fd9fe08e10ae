// Hot paths of the server under load (issue 6, item 6). The release server runs pinned to core 0
// with load-test agents; `cobrowse-loadgen drive` loads it from core 1 with the capacity mix;
// `perf record -e cpu-clock` (a software clock: this machine exposes no hardware counters)
// samples the server with DWARF call graphs. The report groups self time by area (mirror apply,
// JSON parse, JSON encode, relay fan-out, WebSocket, runtime and timers, allocator, kernel) and
// lists the top functions, self and inclusive.
// Usage: node bench/profile/profile.js [--sessions 2500] [--seconds 15] [--page realistic]
import { spawn, execFileSync } from 'node:child_process';
import { createInterface } from 'node:readline';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { machine, round, writeResults, writeConfig, sleep, serverEnv, RAW, COBROWSE_BIN, LOADGEN_BIN } from '../lib/common.js';

/** @param {string} name @param {string} fallback */
function arg(name, fallback) {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 ? process.argv[index + 1] : fallback;
}
const SESSIONS = Number(arg('sessions', '2500'));
const SECONDS = Number(arg('seconds', '15'));
const PAGE = arg('page', 'realistic');
const OUT = join(RAW, 'profile');

/** Areas, first match wins (by symbol). */
const AREAS = [
  ['mirror apply / sanitize / rebuild', /cobrowse_mirror/],
  ['JSON parse (serde_json de)', /serde_json::de|serde::de|Deserialize|deserialize|cobrowse_protocol::.*parse|RawValue/],
  ['JSON encode (serde_json ser)', /serde_json::ser|Serialize|serialize|encode/],
  ['relay fan-out (route, outbox, mpsc)', /relay::|outbox|route|tokio::sync::mpsc|tokio::sync::batch_semaphore|OutStream|frame_text/],
  ['sessions (lock, lifecycle, watchdog)', /cobrowse_server::sessions|std::sync::.*[Mm]utex|futex/],
  ['WebSocket framing (tungstenite)', /tungstenite|axum::extract::ws|utf8|Utf8/],
  ['tokio runtime, timers, I/O driver', /tokio::runtime|tokio::time|mio::|tokio::io|tokio::net|epoll/],
  ['memset (zero-filling buffers; see callers)', /memset/],
  ['allocator and copies', /malloc|free|realloc|cfree|_int_|alloc::|memcpy|memmove|__memcpy|__memmove/],
  ['kernel (syscalls, TCP, scheduling)', /^\[k\]|\[kernel|entry_SYSCALL|tcp_|__x64_sys|do_syscall/],
];

/**
 * Parses `perf report --stdio --sort dso,sym` lines "  12.34%  [ 5.67%]  shared-object  [.] symbol".
 * @param {string} text
 */
function parseReport(text) {
  const rows = [];
  for (const line of text.split('\n')) {
    const match = /^\s+([\d.]+)%\s+(?:([\d.]+)%\s+)?(\S+)\s+\[(.)\]\s+(.*)$/.exec(line);
    if (!match) continue;
    const [, first, second, object, kind, symbol] = match;
    rows.push({ percent: Number(first), self: second ? Number(second) : Number(first), object, kernel: kind === 'k', symbol: symbol.trim() });
  }
  return rows;
}

async function main() {
  mkdirSync(OUT, { recursive: true });
  const config = join(OUT, 'cobrowse-profile.toml');
  writeConfig(config, SESSIONS);
  const dataDir = join(OUT, 'data');
  execFileSync('rm', ['-rf', dataDir]);
  const server = spawn('taskset', ['-c', '0', COBROWSE_BIN, 'serve', '--config', config, '--listen', '127.0.0.1:0', '--data-dir', dataDir], {
    env: serverEnv({}),
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const address = await new Promise((resolve, reject) => {
    const lines = createInterface({ input: /** @type {import('node:stream').Readable} */ (server.stdout) });
    lines.on('line', (line) => {
      const match = /^cobrowse listening on http:\/\/(\S+)/.exec(line);
      if (match) resolve(match[1]);
    });
    server.once('exit', (code) => reject(new Error(`server exited with ${code}`)));
  });
  const load = spawn('taskset', ['-c', '1', LOADGEN_BIN, 'drive', '--addr', String(address), '--sessions', String(SESSIONS), '--page', PAGE,
    '--server-pid', String(server.pid), '--stop-on-stdin', '--warmup', '0', '--measure', '3600'], { stdio: ['pipe', 'pipe', 'inherit'] });
  let loadResult = '';
  const ready = new Promise((resolve) => {
    const lines = createInterface({ input: /** @type {import('node:stream').Readable} */ (load.stdout) });
    lines.on('line', (line) => {
      if (line.startsWith('loadgen ready')) resolve(undefined);
      if (line.startsWith('{')) loadResult = line;
    });
  });
  await ready;
  await sleep(5000);
  const data = join(OUT, 'perf.data');
  console.log(`perf record: ${SECONDS} s of the server under ${SESSIONS} sessions (${PAGE} page)`);
  execFileSync('perf', ['record', '-e', 'cpu-clock', '-F', '997', '--call-graph', 'dwarf,16384', '-p', String(server.pid), '-o', data, '--', 'sleep', String(SECONDS)], { stdio: 'inherit' });
  const loadDone = new Promise((resolve) => load.once('exit', resolve));
  load.stdin?.end();
  await loadDone;
  server.kill('SIGKILL');

  const report = (/** @type {string[]} */ extra) => execFileSync('perf', ['report', '-i', data, '--stdio', '--sort', 'dso,sym', ...extra], { maxBuffer: 512 << 20 }).toString();
  const selfText = report(['--no-children', '-g', 'none', '--percent-limit', '0.2']);
  const childrenText = report(['--children', '-g', 'none', '--percent-limit', '1']);
  writeFileSync(join(OUT, 'self.txt'), selfText);
  writeFileSync(join(OUT, 'inclusive.txt'), childrenText);
  const self = parseReport(selfText);
  const inclusive = parseReport(childrenText);

  /** @type {Record<string, number>} */
  const areas = {};
  for (const row of self) {
    const label = row.kernel ? 'kernel (syscalls, TCP, scheduling)' : (AREAS.find(([, pattern]) => /** @type {RegExp} */ (pattern).test(row.symbol))?.[0] ?? 'other');
    areas[/** @type {string} */ (label)] = round((areas[/** @type {string} */ (label)] ?? 0) + row.self, 1);
  }
  // Who calls the top library functions (memset, malloc, …): the first frames above them.
  /** @type {Record<string, string[]>} */
  const callers = {};
  for (const row of self.filter((r) => !r.object.startsWith('cobrowse') && !r.kernel).slice(0, 4)) {
    const text = execFileSync('perf', ['report', '-i', data, '--stdio', '--no-children', '-S', row.symbol, '-g', 'caller,0.5,callee', '--percent-limit', '1'], { maxBuffer: 256 << 20 }).toString();
    const frames = text.split('\n').map((l) => l.replace(/^[\s|-]+/, '').trim()).filter((l) => l && !l.startsWith('#') && !l.includes('%') && !l.endsWith('(inlined)'));
    callers[row.symbol] = frames.slice(1, 7);
  }
  const generator = loadResult ? JSON.parse(loadResult) : null;
  const result = {
    machine: machine(),
    settings: { sessions: SESSIONS, seconds: SECONDS, page: PAGE, event: 'cpu-clock', frequency_hz: 997, call_graph: 'dwarf' },
    load: generator && { sessions_held: generator.sessions_held, frames_per_sec: generator.frames_sent_per_sec, latency: generator.latency, server: generator.server },
    self_by_area_percent: areas,
    top_self: self.slice(0, 30),
    library_callers: callers,
    // Inclusive time of the server's own code and the libraries on its hot path (runtime
    // plumbing that is on every stack is left out).
    top_inclusive: inclusive
      .filter((r) => !r.kernel && /cobrowse_|serde_json|tungstenite|axum::extract::ws|tokio::sync|tokio::time|hyper/.test(r.symbol))
      .slice(0, 40),
  };
  writeResults('profile', result, markdown(result));
}

/** @param {any} r */
function markdown(r) {
  const lines = ['# Server hot paths under load\n', `Machine: ${r.machine.summary}\n`];
  lines.push(`perf record -e cpu-clock -F 997 --call-graph dwarf on the release server (core 0) while ${r.settings.sessions} sessions (${r.settings.page} page) ran the capacity mix from core 1, ${r.settings.seconds} s.`);
  if (r.load) lines.push(`Load: ${r.load.sessions_held} sessions held, ${r.load.frames_per_sec} frames/s, relay p99 ${r.load.latency.p99_ms} ms, server CPU ${r.load.server?.cpu_percent}% of its core.\n`);
  lines.push('## Self time by area (% of server CPU samples)\n');
  lines.push('| area | % |');
  lines.push('|---|---:|');
  for (const [area, percent] of Object.entries(r.self_by_area_percent).sort((a, b) => b[1] - a[1])) lines.push(`| ${area} | ${percent} |`);
  lines.push('\n## Top functions, self time\n');
  lines.push('| % | object | symbol |');
  lines.push('|---:|---|---|');
  for (const row of r.top_self) lines.push(`| ${row.self} | ${row.object} | \`${row.symbol.slice(0, 140)}\` |`);
  lines.push('\n## Callers of the top library functions\n');
  for (const [symbol, frames] of Object.entries(r.library_callers)) lines.push(`- \`${symbol}\` ← ${frames.map((/** @type {string} */ f) => `\`${f.slice(0, 100)}\``).join(' ← ')}`);
  lines.push('\n## Top functions, inclusive (children) time\n');
  lines.push('| % | symbol |');
  lines.push('|---:|---|');
  for (const row of r.top_inclusive) lines.push(`| ${row.percent} | \`${row.symbol.slice(0, 140)}\` |`);
  lines.push('');
  return lines.join('\n');
}

await main();
