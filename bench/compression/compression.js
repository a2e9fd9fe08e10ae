// Wire compression (issue 6, item 5), measurement only: on the frame streams the browser
// benchmarks recorded (bench/results/raw/streams/*.jsonl: what the SDK sent, what the workspace
// received), what each option would save and cost.
//
// - permessage-deflate (RFC 7692), server side: `cobrowse-loadgen compress` deflates and
//   inflates every message as the extension would (flate2, sync flush per message), with and
//   without context takeover, at zlib levels 1 and 6.
// - permessage-deflate, browser side: Chromium runs it in its network service, off the page's
//   main thread; its cost is estimated with Node's zlib (the same algorithm) in this process.
// - CompressionStream("deflate-raw"), in the page: it has no flush, so each message needs a
//   stream of its own (no shared dictionary between messages); measured in Chromium on the
//   main thread, and DecompressionStream for the agent's side.
// - The shipped policy (docs/protocol.md section 11): frames of at least --min bytes (default
//   1024) sent as deflate-raw in binary messages, the rest as text. Bytes saved; the server's
//   CPU per compressed frame (`wire_cost`, the production codec at level 1); and in Chromium the
//   browser clients' own writer (web/sdk/transport/wire_compression.js: frames up to 24 KB
//   through the synchronous encoder, larger ones through CompressionStream) and
//   decompressFrame, as main-thread busy time (DevTools' TaskDuration) and wall time per
//   compressed frame, with the bytes the writer produced.
// Run the capture and latency benchmarks first (they record the streams).
// Usage: node bench/compression/compression.js [--min BYTES]
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { deflateRawSync, createDeflateRaw, constants } from 'node:zlib';
import { launchBrowser, machine, round, writeResults, RAW, ROOT, LOADGEN_BIN } from '../lib/common.js';

const WIRE_COST_BIN = join(ROOT, 'target', 'release', 'examples', 'wire_cost');
const WIRE_MODULE = join(ROOT, 'web', 'sdk', 'transport', 'wire_compression.js');
const DEFLATE_MODULE = join(ROOT, 'web', 'sdk', 'transport', 'deflate_sync.js');
const minArg = process.argv.indexOf('--min');
/** Frames of at least this many bytes are compressed under the shipped policy. */
const MIN_BYTES = minArg > 0 ? Number(process.argv[minArg + 1]) : 1024;

/**
 * The SDK's codec in Chromium on `texts` at the threshold policy: main-thread busy time (the
 * DevTools protocol's TaskDuration, which counts every task the page's main thread ran) and wall
 * time per compressed frame, for CompressionStream and then DecompressionStream.
 * @param {import('playwright-core').Page} page
 * @param {import('playwright-core').CDPSession} cdp
 * @param {string[]} texts
 */
async function browserPolicy(page, cdp, texts) {
  const large = texts.filter((t) => Buffer.byteLength(t) >= MIN_BYTES);
  if (large.length === 0) return { compressed_messages: 0 };
  const busy = async () => {
    const { metrics } = await cdp.send('Performance.getMetrics');
    return /** @type {number} */ (metrics.find((m) => m.name === 'TaskDuration')?.value ?? 0);
  };
  // The frames go into the page first, so that copying them in is not counted; then one warm-up
  // round trip.
  await page.evaluate(async (frames) => {
    const wire = /** @type {any} */ (window).wire;
    /** @type {any} */ (window).frames_ = frames;
    await wire.decompressFrame(await wire.write(frames[0]));
  }, large);
  const t0 = await busy();
  const deflate = await page.evaluate(async () => {
    const wire = /** @type {any} */ (window).wire;
    const started = performance.now();
    const out = [];
    for (const frame of /** @type {any} */ (window).frames_) out.push(await wire.write(frame));
    /** @type {any} */ (window).compressed = out;
    return {
      ms: performance.now() - started,
      bytes: out.reduce((sum, m) => sum + m.length, 0),
      sync: /** @type {any} */ (window).frames_.filter((/** @type {string} */ f) => f.length <= wire.syncMax).length,
    };
  });
  const t1 = await busy();
  const inflate = await page.evaluate(async () => {
    const wire = /** @type {any} */ (window).wire;
    const started = performance.now();
    for (const message of /** @type {any} */ (window).compressed) await wire.decompressFrame(message);
    return { ms: performance.now() - started };
  });
  const t2 = await busy();
  const per = (/** @type {number} */ seconds) => Math.round((seconds * 1e6) / large.length);
  return {
    compressed_messages: large.length,
    compressed_bytes: deflate.bytes,
    compressed_raw_bytes: large.reduce((sum, t) => sum + Buffer.byteLength(t), 0),
    compressed_synchronously: deflate.sync,
    compress_main_thread_us_per_frame: per(t1 - t0),
    compress_wall_us_per_frame: per(deflate.ms / 1000),
    decompress_main_thread_us_per_frame: per(t2 - t1),
    decompress_wall_us_per_frame: per(inflate.ms / 1000),
  };
}

/**
 * Node zlib with permessage-deflate's framing: one deflater per connection, a sync flush per
 * message. Returns total compressed bytes and CPU microseconds per message.
 * @param {string[]} messages
 * @param {number} level
 */
async function nodePerMessageDeflate(messages, level) {
  const deflater = createDeflateRaw({ level, flush: constants.Z_SYNC_FLUSH });
  let bytes = 0;
  const started = process.cpuUsage();
  for (const message of messages) {
    const chunks = /** @type {Buffer[]} */ ([]);
    const onData = (/** @type {Buffer} */ chunk) => chunks.push(chunk);
    deflater.on('data', onData);
    deflater.write(message);
    await new Promise((resolve) => deflater.flush(constants.Z_SYNC_FLUSH, () => resolve(undefined)));
    deflater.off('data', onData);
    bytes += Buffer.concat(chunks).length - 4;
  }
  const used = process.cpuUsage(started);
  deflater.close();
  return { bytes, us_per_message: round((used.user + used.system) / Math.max(1, messages.length)) };
}

async function main() {
  const dir = join(RAW, 'streams');
  const files = readdirSync(dir).filter((f) => f.endsWith('.jsonl')).sort();
  if (files.length === 0) throw new Error('no recorded streams: run bench/capture.sh and bench/e2e.sh first');
  const paths = files.map((f) => join(dir, f));
  const rust = JSON.parse(execFileSync('taskset', ['-c', '0', LOADGEN_BIN, 'compress', ...paths], { maxBuffer: 64 << 20 }).toString());
  const policy = JSON.parse(execFileSync('taskset', ['-c', '0', WIRE_COST_BIN, '--min', String(MIN_BYTES), ...paths], { maxBuffer: 64 << 20 }).toString());

  /** @type {Record<string, { up: string[], down: string[] }>} */
  const streams = {};
  for (const file of files) {
    const up = /** @type {string[]} */ ([]);
    const down = /** @type {string[]} */ ([]);
    for (const line of readFileSync(join(dir, file), 'utf8').split('\n')) {
      if (!line.trim()) continue;
      const { dir: direction, text } = JSON.parse(line);
      (direction === 'down' ? down : up).push(text);
    }
    streams[file] = { up, down };
  }

  // CompressionStream / DecompressionStream in Chromium, on the page's main thread.
  const browser = await launchBrowser();
  const page = await browser.newPage();
  await page.goto('about:blank');
  // The writer as the clients use it, every frame given to it compressed (min 0); the modules
  // are inlined into one script, about:blank having nothing to import them from.
  const deflateSource = readFileSync(DEFLATE_MODULE, 'utf8');
  const wireSource = readFileSync(WIRE_MODULE, 'utf8').replace(/^import \{ SyncDeflater \} from '\.\/deflate_sync\.js';$/m, '');
  if (/^import /m.test(deflateSource + wireSource)) throw new Error('the codec modules import more than this page inlines');
  await page.addScriptTag({
    type: 'module',
    content: `${deflateSource}\n${wireSource}
const written = [];
const writer = new FrameWriter((data) => written.shift()(data));
writer.agree({ enc: DEFLATE_RAW, min: 0 });
window.wire = {
  decompressFrame,
  syncMax: SYNC_DEFLATE_MAX,
  write: (text) => new Promise((resolve) => { written.push(resolve); writer.write(text); }),
};`,
  });
  await page.waitForFunction(() => !!(/** @type {any} */ (window).wire));
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Performance.enable');
  /** @type {Record<string, any>} */
  const policyBrowser = {};
  for (const [file, { up, down }] of Object.entries(streams)) {
    for (const [direction, messages] of /** @type {[string, string[]][]} */ ([['up', up], ['down', down]])) {
      if (messages.length > 0) policyBrowser[`${file}:${direction}`] = await browserPolicy(page, cdp, messages);
    }
  }
  /** @type {Record<string, any>} */
  const browserFigures = {};
  for (const [file, { up, down }] of Object.entries(streams)) {
    for (const [direction, messages] of /** @type {[string, string[]][]} */ ([['up', up], ['down', down]])) {
      if (messages.length === 0) continue;
      browserFigures[`${file}:${direction}`] = await page.evaluate(async (texts) => {
        const encoder = new TextEncoder();
        /** @param {Uint8Array<ArrayBuffer>} data @param {CompressionStream | DecompressionStream} stream */
        const run = async (data, stream) => {
          // Written straight into the stream, as the SDK does (a Blob's stream is slower).
          const writer = stream.writable.getWriter();
          writer.write(data).catch(() => {});
          writer.close().catch(() => {});
          return new Uint8Array(await new Response(stream.readable).arrayBuffer());
        };
        const inputs = texts.map((t) => encoder.encode(t));
        const compressed = [];
        // Warm up.
        for (const input of inputs.slice(0, 20)) await run(input, new CompressionStream('deflate-raw'));
        let busy = 0;
        for (const input of inputs) {
          const t0 = performance.now();
          compressed.push(await run(input, new CompressionStream('deflate-raw')));
          busy += performance.now() - t0;
        }
        let inflateBusy = 0;
        for (const data of compressed) {
          const t0 = performance.now();
          await run(data, new DecompressionStream('deflate-raw'));
          inflateBusy += performance.now() - t0;
        }
        const raw = inputs.reduce((sum, input) => sum + input.length, 0);
        const bytes = compressed.reduce((sum, c) => sum + c.length, 0);
        return {
          messages: inputs.length,
          raw_bytes: raw,
          compressed_bytes: bytes,
          ratio: Math.round((bytes / raw) * 1000) / 1000,
          // Wall time per message including the stream machinery's task hops (an upper bound
          // of main-thread time).
          compress_us_per_message: Math.round((busy * 1000) / inputs.length),
          decompress_us_per_message: Math.round((inflateBusy * 1000) / inputs.length),
        };
      }, messages);
    }
  }
  await browser.close();

  const rows = [];
  for (const [file, { up, down }] of Object.entries(streams)) {
    for (const [direction, messages] of /** @type {[string, string[]][]} */ ([['up', up], ['down', down]])) {
      if (messages.length === 0) continue;
      const raw = messages.reduce((sum, m) => sum + Buffer.byteLength(m), 0);
      const serverSide = rust.find((/** @type {any} */ r) => r.stream === file && r.dir === direction);
      const node1 = await nodePerMessageDeflate(messages, 1);
      const node6 = await nodePerMessageDeflate(messages, 6);
      const whole = deflateRawSync(Buffer.from(messages.join('\n')), { level: 6 }).length;
      rows.push({
        stream: file,
        dir: direction,
        messages: messages.length,
        raw_bytes: raw,
        mean_message_bytes: Math.round(raw / messages.length),
        whole_stream_deflated_ratio: round(whole / raw, 3),
        permessage_deflate_server: serverSide?.modes ?? [],
        permessage_deflate_browser_estimate: {
          level1: { ratio: round(node1.bytes / raw, 3), us_per_message: node1.us_per_message },
          level6: { ratio: round(node6.bytes / raw, 3), us_per_message: node6.us_per_message },
        },
        compression_stream: browserFigures[`${file}:${direction}`],
        policy: {
          min_bytes: MIN_BYTES,
          server: policy.find((/** @type {any} */ r) => r.stream === file && r.dir === direction),
          browser: policyBrowser[`${file}:${direction}`],
        },
      });
    }
  }
  const result = { machine: machine(), rows };
  writeResults('compression', result, markdown(result));
}

/** @param {any} result */
function markdown(result) {
  const lines = ['# Wire compression on recorded frame streams\n', `Machine: ${result.machine.summary}\n`];
  lines.push('Ratio = compressed / raw bytes (lower is better). Server µs = CPU per message on the server (flate2, one core). Browser: permessage-deflate runs in Chromium\'s network service (estimate: Node zlib, same algorithm); CompressionStream runs on the page\'s main thread, one stream per message (it cannot flush), wall time per message.\n');
  lines.push('| stream | dir | messages | mean bytes | pmd takeover L1 ratio | server deflate µs | server inflate µs | pmd no-takeover L1 ratio | pmd takeover L6 ratio | browser pmd L1 µs (est.) | CompressionStream ratio | CompressionStream µs | DecompressionStream µs |');
  lines.push('|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const r of result.rows) {
    /** @param {string} name */
    const mode = (name) => r.permessage_deflate_server.find((/** @type {any} */ m) => m.mode === name) ?? {};
    const t1 = mode('context_takeover_level1');
    const n1 = mode('no_context_takeover_level1');
    const t6 = mode('context_takeover_level6');
    const cs = r.compression_stream ?? {};
    lines.push(`| ${r.stream} | ${r.dir} | ${r.messages} | ${r.mean_message_bytes} | ${t1.ratio} | ${t1.deflate_us_per_message} | ${t1.inflate_us_per_message} | ${n1.ratio} | ${t6.ratio} | ${r.permessage_deflate_browser_estimate.level1.us_per_message} | ${cs.ratio ?? '–'} | ${cs.compress_us_per_message ?? '–'} | ${cs.decompress_us_per_message ?? '–'} |`);
  }
  lines.push('');
  lines.push(`## Shipped policy: deflate-raw for frames of at least ${result.rows[0]?.policy.min_bytes ?? MIN_BYTES} bytes\n`);
  lines.push('Bytes = all frames of the stream as text vs. as sent (small frames as text, large ones compressed). Server µs = CPU per compressed frame, production codec (flate2, level 1, one core). Browser = the clients\' writer (frames up to 24 KB through the synchronous encoder, "sync"; larger ones through CompressionStream) and decompressFrame in Chromium, per compressed frame: main-thread busy time (DevTools TaskDuration) and wall time; "browser bytes on wire" = the stream as the writer sends it.\n');
  lines.push('| stream | dir | messages | compressed | bytes as text | bytes on wire | saved | mean compressed frame | server deflate µs | server inflate µs | browser bytes on wire | saved | sync | browser compress main-thread µs | wall µs | browser decompress main-thread µs | wall µs |');
  lines.push('|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const r of result.rows) {
    const server = r.policy.server ?? {};
    const browser = r.policy.browser ?? {};
    const saved = server.raw_bytes ? `${Math.round((1 - server.wire_bytes / server.raw_bytes) * 100)} %` : '–';
    const dash = (/** @type {unknown} */ v) => (v === undefined || server.compressed_messages === 0 ? '–' : v);
    const browserWire = browser.compressed_bytes === undefined ? undefined : server.raw_bytes - browser.compressed_raw_bytes + browser.compressed_bytes;
    const browserSaved = browserWire === undefined ? undefined : `${Math.round((1 - browserWire / server.raw_bytes) * 100)} %`;
    lines.push(`| ${r.stream} | ${r.dir} | ${server.messages} | ${server.compressed_messages} | ${server.raw_bytes} | ${server.wire_bytes} | ${saved} | ${dash(server.mean_compressed_frame_bytes)} | ${dash(server.deflate_us_per_compressed_frame)} | ${dash(server.inflate_us_per_compressed_frame)} | ${dash(browserWire)} | ${dash(browserSaved)} | ${dash(browser.compressed_synchronously)} | ${dash(browser.compress_main_thread_us_per_frame)} | ${dash(browser.compress_wall_us_per_frame)} | ${dash(browser.decompress_main_thread_us_per_frame)} | ${dash(browser.decompress_wall_us_per_frame)} |`);
  }
  lines.push('');
  return lines.join('\n');
}

await main();
