// Raw DEFLATE (RFC 1951) written synchronously, for the small and middling frames a page sends
// while it changes. The browser's CompressionStream is asynchronous, and so is handing a frame to
// a worker: the frame leaves in a later task of its own, which on a busy core also pays for what
// the browser ran in between (docs/performance.md, "Dawn": on one core, 3 KB batches compressed
// that way cost the page about twice what the same batches sent from the task that wrote them
// did). This encoder lets such a frame go out in that task. Large frames (snapshots) still go to
// CompressionStream on a worker, whose dynamic Huffman codes pack them tighter.
//
// Memory: a 32 KiB hash table and 4 bytes per input byte of the largest frame seen (about 100 KB
// for a 24 KB frame), kept for the writer's life.
//
// The format: one final block with the fixed Huffman codes of RFC 1951 section 3.2.6, and
// LZ77 matches found greedily through hash chains over a 32 KiB window. Any inflater reads it.

/** Longest match DEFLATE can say, and the shortest. */
const MAX_MATCH = 258;
const MIN_MATCH = 3;
/** How far back a match may reach. */
const WINDOW = 32768;
const HASH_BITS = 13;
const HASH_SIZE = 1 << HASH_BITS;
const HASH_SHIFT = 32 - HASH_BITS;
/** Chain links followed per position: more finds longer matches, at a cost in time. */
const MAX_CHAIN = 16;
/** A match this long is taken without looking for a longer one. */
const GOOD_ENOUGH = 64;

/** Base length and extra bits of the length symbols 257..285. */
const LENGTH_BASE = [3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258];
const LENGTH_EXTRA = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0];
/** Base distance and extra bits of the distance codes 0..29. */
const DIST_BASE = [1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577];
const DIST_EXTRA = [0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13];

/**
 * The fixed literal/length codes, bit-reversed (DEFLATE sends Huffman codes from their most
 * significant bit into a stream filled from the least), with their lengths.
 */
const LIT_CODE = new Uint16Array(288);
const LIT_BITS = new Uint8Array(288);
/** The fixed distance codes (5 bits each), bit-reversed. */
const DIST_CODE = new Uint8Array(30);
/** Length 3..258 to its symbol's index in LENGTH_BASE; distance to its code. */
const LENGTH_INDEX = new Uint8Array(MAX_MATCH + 1);
/** Each length's symbol code and extra bits as written, and how many bits that is. */
const LENGTH_VALUE = new Uint16Array(MAX_MATCH + 1);
const LENGTH_BITS = new Uint8Array(MAX_MATCH + 1);
const DIST_INDEX_NEAR = new Uint8Array(512);
const DIST_INDEX_FAR = new Uint8Array(256);

/**
 * @param {number} code
 * @param {number} bits
 * @returns {number}
 */
function reverse(code, bits) {
  let out = 0;
  for (let i = 0; i < bits; i++) {
    out = (out << 1) | (code & 1);
    code >>= 1;
  }
  return out;
}

for (let symbol = 0; symbol < 288; symbol++) {
  let code;
  let bits;
  if (symbol < 144) [code, bits] = [0x30 + symbol, 8];
  else if (symbol < 256) [code, bits] = [0x190 + symbol - 144, 9];
  else if (symbol < 280) [code, bits] = [symbol - 256, 7];
  else [code, bits] = [0xc0 + symbol - 280, 8];
  LIT_CODE[symbol] = reverse(code, bits);
  LIT_BITS[symbol] = bits;
}
for (let code = 0; code < 30; code++) DIST_CODE[code] = reverse(code, 5);
for (let index = 0; index < LENGTH_BASE.length; index++) {
  const end = index + 1 < LENGTH_BASE.length ? LENGTH_BASE[index + 1] : MAX_MATCH + 1;
  for (let length = LENGTH_BASE[index]; length < end && length <= MAX_MATCH; length++) LENGTH_INDEX[length] = index;
}
// Length 258 has its own symbol (285), not the last of 284's range.
LENGTH_INDEX[MAX_MATCH] = LENGTH_BASE.length - 1;
for (let length = MIN_MATCH; length <= MAX_MATCH; length++) {
  const index = LENGTH_INDEX[length];
  const symbol = 257 + index;
  LENGTH_VALUE[length] = LIT_CODE[symbol] | ((length - LENGTH_BASE[index]) << LIT_BITS[symbol]);
  LENGTH_BITS[length] = LIT_BITS[symbol] + LENGTH_EXTRA[index];
}
for (let code = 0; code < 30; code++) {
  const end = code + 1 < 30 ? DIST_BASE[code + 1] : WINDOW + 1;
  for (let d = DIST_BASE[code]; d < end; d++) {
    // Distances up to 512 by themselves, the rest by their value over 128 (zlib's trick: every
    // code past 256 covers a multiple of 128).
    if (d <= 512) DIST_INDEX_NEAR[d - 1] = code;
    else DIST_INDEX_FAR[(d - 1) >> 7] = code;
  }
}

/**
 * The hash-table slot of the three bytes at `i` (a multiplicative hash: the table is small, and
 * JSON's bytes differ mostly in their low bits).
 * @param {Uint8Array} input
 * @param {number} i
 * @returns {number}
 */
function hash3(input, i) {
  return Math.imul((input[i] << 16) | (input[i + 1] << 8) | input[i + 2], 0x9e3779b1) >>> HASH_SHIFT;
}

/** Text with repeats near and far, ending on bytes too few to hash. */
const WARM_UP = Uint8Array.from('["mut",1,{"ops":[["attr",1,"class","row"],["attr",2,"class","row"]]}] ✓ abc', (c) => c.charCodeAt(0) & 0xff);

/**
 * Compresses bytes into raw DEFLATE, synchronously. One per writer: it keeps its hash tables
 * between calls, so a stream of frames does not allocate them again.
 */
export class SyncDeflater {
  constructor() {
    /** Most recent position of each 3-byte hash, stored as `base + position + 1`. */
    this.head = new Int32Array(HASH_SIZE);
    /** The position before each position with the same hash, stored the same way. */
    /** @type {Int32Array} */
    this.prev = new Int32Array(0);
    /**
     * What this call's stored positions start from: anything at or below it was left by an
     * earlier call and reads as empty, so the table is not cleared for every frame.
     */
    this.base = 0;
    // A tiny input through every path first (literals, matches, the end of the stream), so the
    // engine has type feedback for all of them when it optimizes the loop in the middle of the
    // first real frame; without it, that optimized code is thrown away at the frame's end, and
    // the next frames run unoptimized until the function is compiled again.
    this.deflate(WARM_UP);
  }

  /**
   * The raw DEFLATE of `input`, after `prefix` bytes left free at the start of the result (the
   * caller's format byte goes there).
   * @param {Uint8Array} input
   * @param {number} [prefix]
   * @returns {Uint8Array}
   */
  deflate(input, prefix = 0) {
    // One flat loop with everything in locals: this runs for every frame the page sends, often
    // before the engine has optimized it, and closures over the bit writer cost several times
    // more there.
    const n = input.length;
    // Worst case: every byte a 9-bit literal, plus the block header and end code.
    const out = new Uint8Array(prefix + Math.ceil((n * 9 + 10) / 8) + 4);
    const head = this.head;
    if (this.base > 0x7fffffff - n - 1) {
      head.fill(0);
      this.base = 0;
    }
    const base = this.base;
    this.base += n + 1;
    if (this.prev.length < n) this.prev = new Int32Array(Math.max(n, 1024));
    const prev = this.prev;

    let pos = prefix;
    // BFINAL = 1, then BTYPE = 01 (fixed Huffman codes), least significant bit first.
    let bitBuf = 0b011;
    let bitCount = 3;
    const lastHashable = n - MIN_MATCH;
    let i = 0;
    while (i < n) {
      let bestLength = 0;
      let bestDistance = 0;
      if (i <= lastHashable) {
        const hash = hash3(input, i);
        const limit = n - i < MAX_MATCH ? n - i : MAX_MATCH;
        // A stored value at or below `base` is from an earlier call: it reads as -1 or less.
        let candidate = head[hash] - base - 1;
        for (let chain = 0; candidate >= 0 && i - candidate <= WINDOW && chain < MAX_CHAIN; chain++) {
          // Only a candidate that could beat the best so far is compared in full.
          if (input[candidate + bestLength] === input[i + bestLength]) {
            let length = 0;
            while (length < limit && input[candidate + length] === input[i + length]) length++;
            if (length > bestLength) {
              bestLength = length;
              bestDistance = i - candidate;
              if (length >= GOOD_ENOUGH || length === limit) break;
            }
          }
          candidate = prev[candidate] - base - 1;
        }
        prev[i] = head[hash];
        head[hash] = base + i + 1;
      }
      if (bestLength >= MIN_MATCH) {
        bitBuf |= LENGTH_VALUE[bestLength] << bitCount;
        bitCount += LENGTH_BITS[bestLength];
        // Flushed between the two codes: up to 7 pending bits, 13 of the length and 18 of the
        // distance would not fit the 32-bit buffer together.
        while (bitCount >= 8) {
          out[pos++] = bitBuf;
          bitBuf >>>= 8;
          bitCount -= 8;
        }
        const code = bestDistance <= 512 ? DIST_INDEX_NEAR[bestDistance - 1] : DIST_INDEX_FAR[(bestDistance - 1) >> 7];
        bitBuf |= (DIST_CODE[code] | ((bestDistance - DIST_BASE[code]) << 5)) << bitCount;
        bitCount += 5 + DIST_EXTRA[code];
        // The positions the match covers join the chains too, so later text can refer to them.
        const end = i + bestLength;
        for (i++; i < end; i++) {
          if (i > lastHashable) {
            i = end;
            break;
          }
          const hash = hash3(input, i);
          prev[i] = head[hash];
          head[hash] = base + i + 1;
        }
      } else {
        const byte = input[i++];
        bitBuf |= LIT_CODE[byte] << bitCount;
        bitCount += LIT_BITS[byte];
      }
      while (bitCount >= 8) {
        out[pos++] = bitBuf;
        bitBuf >>>= 8;
        bitCount -= 8;
      }
    }
    // End of block (symbol 256: seven zero bits), then the last partial byte.
    bitCount += LIT_BITS[256];
    while (bitCount > 0) {
      out[pos++] = bitBuf;
      bitBuf >>>= 8;
      bitCount -= 8;
    }
    return out.subarray(0, pos);
  }
}
