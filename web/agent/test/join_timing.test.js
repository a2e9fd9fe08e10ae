import { test } from 'node:test';
import assert from 'node:assert/strict';
import { JOIN_MARK_PREFIX, joinPhases, markJoin, startJoinTimeline } from '../join_timing.js';

/** @param {string} phase */
const marksOf = (phase) => performance.getEntriesByName(JOIN_MARK_PREFIX + phase, 'mark');

test('a join marks each phase once, and the next join starts a new timeline', async () => {
  startJoinTimeline();
  assert.equal(marksOf('start').length, 1);
  await new Promise((resolve) => setTimeout(resolve, 5));
  markJoin('granted');
  markJoin('granted'); // a second welcome or snapshot (a reconnect) is not the join's
  markJoin('snapshot');
  assert.equal(marksOf('granted').length, 1);
  const phases = joinPhases();
  assert.equal(phases.start, 0);
  assert.ok((phases.granted ?? -1) >= 4, `granted ${phases.granted} ms after the start`);
  assert.ok((phases.snapshot ?? -1) >= (phases.granted ?? Infinity));
  assert.equal(phases.built, undefined, 'phases not reached are absent');

  startJoinTimeline();
  assert.equal(marksOf('granted').length, 0, "the previous join's marks are gone");
  assert.equal(marksOf('start').length, 1);
  markJoin('granted');
  assert.equal(marksOf('granted').length, 1, 'a new join marks its phases again');
  assert.deepEqual(Object.keys(joinPhases()).sort(), ['granted', 'start']);
});

test('without a started join there are no phases', () => {
  for (const entry of performance.getEntriesByType('mark')) performance.clearMarks(entry.name);
  assert.deepEqual(joinPhases(), {});
});
