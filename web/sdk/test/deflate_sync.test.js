// The synchronous DEFLATE encoder against zlib's inflater: whatever it writes, zlib must read back
// byte for byte — text the SDK sends, binary noise, long runs, matches reaching across the whole
// window, and one encoder reused for many inputs (its tables carry over between calls).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { SyncDeflater } from '../transport/deflate_sync.js';

/** A deterministic generator, so a failure can be replayed. @param {number} seed */
function random(seed) {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

/** @param {SyncDeflater} deflater @param {Uint8Array} input @param {string} what */
function roundTrip(deflater, input, what) {
  const output = deflater.deflate(input);
  const back = inflateRawSync(output);
  assert.ok(Buffer.from(input).equals(back), `${what}: ${input.length} bytes did not read back`);
  return output;
}

/** A mutation frame such as a page sends. @param {number} n @param {() => number} next */
function mutationFrame(n, next) {
  const ops = [];
  for (let i = 0; i < n; i++) {
    const id = Math.floor(next() * 90000);
    ops.push(next() < 0.5 ? ['attr', id, 'class', `row state-${id % 5}`] : ['text', id, `value ${Math.floor(next() * 1e6)} updated ✓`]);
  }
  return new TextEncoder().encode(JSON.stringify(['mut', n, { ops }]));
}

test('zlib reads back everything it writes, at every size and shape', () => {
  const deflater = new SyncDeflater();
  const next = random(7);
  roundTrip(deflater, new Uint8Array(0), 'empty');
  roundTrip(deflater, new Uint8Array([42]), 'one byte');
  roundTrip(deflater, new Uint8Array([1, 2]), 'two bytes');
  roundTrip(deflater, new Uint8Array(3), 'three equal bytes');
  const zeros = roundTrip(deflater, new Uint8Array(200_000), 'a long run');
  assert.ok(zeros.length < 2000, `a run of zeros packs into ${zeros.length} bytes`);
  roundTrip(deflater, Uint8Array.from({ length: 70_000 }, () => Math.floor(next() * 256)), 'noise');
  // A 40 KB block repeated: matches at distances past the 32 KiB window must not be used.
  const block = Uint8Array.from({ length: 40_000 }, () => Math.floor(next() * 256));
  const twice = new Uint8Array(80_000);
  twice.set(block);
  twice.set(block, 40_000);
  roundTrip(deflater, twice, 'a block repeated beyond the window');
  // A block repeated within the window: the longest distances and lengths.
  const near = new Uint8Array(64_000);
  for (let i = 0; i < near.length; i++) near[i] = i < 32_768 ? Math.floor(next() * 256) : near[i - 32_768];
  const packed = roundTrip(deflater, near, 'a block repeated at the window edge');
  assert.ok(packed.length < 40_000, `the repeat was found (${packed.length} bytes)`);
  for (let length = 0; length < 600; length++) roundTrip(deflater, mutationFrame(1 + (length % 40), next).subarray(0, length), `prefix ${length}`);
  for (let n = 1; n < 2000; n += 97) roundTrip(deflater, mutationFrame(n, next), `${n} ops`);
});

test('on the frames a page sends it packs within half again of zlib', () => {
  const deflater = new SyncDeflater();
  const next = random(11);
  let ours = 0;
  let zlib = 0;
  let raw = 0;
  for (let i = 0; i < 40; i++) {
    const frame = mutationFrame(100, next);
    ours += roundTrip(deflater, frame, `frame ${i}`).length;
    zlib += deflateRawSync(frame).length;
    raw += frame.length;
  }
  console.log(`synchronous deflate: ${raw} bytes to ${ours}; zlib level 6: ${zlib}`);
  assert.ok(ours < raw / 2, `${ours} of ${raw}`);
  assert.ok(ours < zlib * 1.5, `${ours} against zlib's ${zlib}`);
});

test('one encoder gives the same output for the same input, whatever came before', () => {
  const next = random(3);
  const frame = mutationFrame(300, next);
  const fresh = new SyncDeflater().deflate(frame);
  const used = new SyncDeflater();
  for (let i = 0; i < 50; i++) used.deflate(mutationFrame(1 + i * 13, next));
  assert.deepEqual(used.deflate(frame), fresh, 'positions left by earlier inputs are not matched against');
  // The stored positions wrap long before they overflow; the output stays the same.
  used.base = 0x7fffffff - frame.length;
  assert.deepEqual(used.deflate(frame), fresh);
  assert.deepEqual(used.deflate(frame), fresh);
});

test('room is left for a format byte before the stream', () => {
  const frame = new TextEncoder().encode('["mut",1,{"ops":[["text",5,"hello hello hello"]]}]');
  const output = new SyncDeflater().deflate(frame, 1);
  assert.equal(output[0], 0);
  assert.equal(inflateRawSync(output.subarray(1)).toString('utf8'), new TextDecoder().decode(frame));
});
