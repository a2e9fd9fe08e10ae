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
// Run the capture and latency benchmarks first (they record the streams).
// Usage: node bench/compression/compression.js
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { deflateRawSync, createDeflateRaw, constants } from 'node:zlib';
import { launchBrowser, machine, round, writeResults, RAW, LOADGEN_BIN } from '../lib/common.js';

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
  /** @type {Record<string, any>} */
  const browserFigures = {};
  for (const [file, { up, down }] of Object.entries(streams)) {
    for (const [direction, messages] of /** @type {[string, string[]][]} */ ([['up', up], ['down', down]])) {
      if (messages.length === 0) continue;
      browserFigures[`${file}:${direction}`] = await page.evaluate(async (texts) => {
        const encoder = new TextEncoder();
        /** @param {Uint8Array} data @param {CompressionStream | DecompressionStream} stream */
        const run = async (data, stream) => new Uint8Array(await new Response(new Blob([/** @type {BlobPart} */ (data)]).stream().pipeThrough(stream)).arrayBuffer());
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
  return lines.join('\n');
}

await main();
