// Summarizes CPU profiles kept by `capture.js --profiles`: where the main thread's time went,
// by function, as self time (samples in the function itself) and total time (samples with the
// function anywhere on the stack, counted once per sample however deep the recursion).
// Several profiles of the same phase are added up, so the figures are sums over the files.
// Usage: node bench/capture/profile_summary.js [--top 25] [--match /sdk/] FILE.cpuprofile...
import { readFileSync } from 'node:fs';
import { frameLabel, indexProfile, sampleMs } from '../lib/cpu_profile.js';

const args = process.argv.slice(2);
/** @param {string} name @param {string} fallback */
function option(name, fallback) {
  const index = args.indexOf(`--${name}`);
  if (index < 0) return fallback;
  const value = args[index + 1];
  args.splice(index, 2);
  return value;
}
const TOP = Number(option('top', '25'));
const MATCH = option('match', '');
if (args.length === 0) {
  console.error('usage: node bench/capture/profile_summary.js [--top 25] [--match /sdk/] FILE.cpuprofile...');
  process.exit(2);
}

/** @type {Map<string, number>} */
const self = new Map();
/** @type {Map<string, number>} */
const total = new Map();
let busy = 0;
let matched = 0;

for (const file of args) {
  /** @type {import('../lib/cpu_profile.js').Profile} */
  const profile = JSON.parse(readFileSync(file, 'utf8'));
  const { byId, parent } = indexProfile(profile);
  /** @param {number} id */
  const nodeOf = (id) => /** @type {import('../lib/cpu_profile.js').ProfileNode} */ (byId.get(id));
  for (let i = 0; i < profile.samples.length; i++) {
    const ms = sampleMs(profile, i);
    const leaf = nodeOf(profile.samples[i]);
    if (leaf.callFrame.functionName === '(idle)') continue;
    busy += ms;
    /** @type {Set<string>} */
    const seen = new Set();
    let onMatch = MATCH === '';
    for (let id = /** @type {number | undefined} */ (leaf.id); id !== undefined; id = parent.get(id)) {
      const node = nodeOf(id);
      if (MATCH && node.callFrame.url.includes(MATCH)) onMatch = true;
      seen.add(frameLabel(node.callFrame));
    }
    if (!onMatch) continue;
    matched += ms;
    const own = frameLabel(leaf.callFrame);
    self.set(own, (self.get(own) ?? 0) + ms);
    for (const name of seen) total.set(name, (total.get(name) ?? 0) + ms);
  }
}

/** @param {Map<string, number>} map */
const table = (map) =>
  [...map.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, TOP)
    .map(([name, ms]) => `${ms.toFixed(2).padStart(9)} ms  ${name}`)
    .join('\n');

console.log(`busy ${busy.toFixed(2)} ms${MATCH ? `, with ${MATCH} on the stack ${matched.toFixed(2)} ms` : ''} (${args.length} profile${args.length > 1 ? 's' : ''})`);
console.log('\nself time');
console.log(table(self));
console.log('\ntotal time');
console.log(table(total));
