// User Timing marks for the phases of a join, from the agent's Join to the first page on screen.
// They show in a browser's performance panel and let the join-time benchmark say where the time
// goes (bench/e2e/latency.js). Only a join's own phases are marked, and each join clears the
// previous join's marks, so an all-day workspace keeps at most one join's worth. Each phase is
// marked once per join: a reconnect's welcome or a later resync snapshot is not the join's.

/** The prefix of every join mark. */
export const JOIN_MARK_PREFIX = 'cobrowse:join:';

/**
 * The phases in the order they happen.
 * - `start`: the join request is about to be sent
 * - `granted`: the server answered it with a participant token
 * - `welcome`: the socket said hello and was welcomed
 * - `snapshot`: the first snapshot frame arrived, decoded
 * - `shell`: the iframe's document is in the page's rendering mode
 * - `view`: the part of the page in the customer's viewport is in the iframe (a big page is built
 *   in two steps, see first_view.js; a page built at once is whole here)
 * - `frame`: the first animation frame after that (its style, layout and paint follow)
 * - `built`: the whole page's DOM is in the iframe, scrolled as the customer's (for a page built
 *   in two steps, after the first part was painted)
 * @typedef {'start' | 'granted' | 'welcome' | 'snapshot' | 'shell' | 'view' | 'frame' | 'built'} JoinPhase
 */

/** @type {Set<string>} phases marked since the current join started */
const marked = new Set();

/** @returns {Performance | null} */
function timeline() {
  const perf = /** @type {Performance | undefined} */ (globalThis.performance);
  return perf && typeof perf.mark === 'function' ? perf : null;
}

/**
 * Marks a phase of the current join.
 * @param {JoinPhase} phase
 */
export function markJoin(phase) {
  if (marked.has(phase)) return;
  marked.add(phase);
  try {
    timeline()?.mark(JOIN_MARK_PREFIX + phase);
  } catch {
    // Timing is advisory; a browser that refuses a mark loses nothing else.
  }
}

/** Starts a new join's timeline: the previous join's marks go. */
export function startJoinTimeline() {
  marked.clear();
  const perf = timeline();
  if (perf && typeof perf.getEntriesByType === 'function') {
    for (const entry of perf.getEntriesByType('mark')) {
      if (entry.name.startsWith(JOIN_MARK_PREFIX)) perf.clearMarks(entry.name);
    }
  }
  markJoin('start');
}

/**
 * The current join's phases, in milliseconds since `start` (phases not reached yet are absent).
 * @returns {Partial<Record<JoinPhase, number>>}
 */
export function joinPhases() {
  const perf = timeline();
  if (!perf || typeof perf.getEntriesByType !== 'function') return {};
  const marks = perf.getEntriesByType('mark').filter((entry) => entry.name.startsWith(JOIN_MARK_PREFIX));
  const start = marks.find((entry) => entry.name === `${JOIN_MARK_PREFIX}start`);
  if (!start) return {};
  /** @type {Record<string, number>} */
  const phases = {};
  for (const entry of marks) phases[entry.name.slice(JOIN_MARK_PREFIX.length)] = Math.round((entry.startTime - start.startTime) * 10) / 10;
  return /** @type {Partial<Record<JoinPhase, number>>} */ (phases);
}
