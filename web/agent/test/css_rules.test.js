// cssins / cssdel in the workspace: one rule inserted or deleted through the rebuilt sheet's
// CSSOM, numbered like the customer's sheet; URLs go through the same rewriting as whole sheets;
// what cannot be applied asks for a fresh page.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rebuild, page, expectRefusals } from './dom.js';

/** @typedef {import('../../sdk/protocol.js').SerializedNode} SerializedNode */

/** A page whose head holds a <style> (40) with effective CSS, and a <p> (50). */
function styled() {
  const snapshot = page([{ id: 50, k: 'e', n: 'p', c: [{ id: 51, k: 'x', v: 'x' }] }]);
  const head = /** @type {SerializedNode} */ (snapshot.doc.c?.[1].c?.[0]);
  head.c = [{ id: 40, k: 'e', n: 'style', css: '.a { color: red; }\n.b { color: blue; }', c: [{ id: 41, k: 'x', v: '.src { color: black; }' }] }];
  const built = rebuild(snapshot, { proxy: (url) => `https://agent.example/proxy?u=${encodeURIComponent(url)}` });
  const style = /** @type {HTMLStyleElement} */ (built.rebuilder.node(40));
  const rules = () => Array.from(style.sheet?.cssRules ?? []).map((r) => r.cssText);
  return { ...built, style, rules };
}

test('a snapshot\'s effective CSS is in place before the first rule op, even at once', () => {
  const { rebuilder, rules } = styled();
  // Right after the build (no task boundary yet), a rule op still numbers against the effective CSS.
  assert.deepEqual(rebuilder.apply([['cssdel', 40, 0]]), { ok: true });
  assert.equal(rules().length, 1);
  assert.match(rules()[0], /^\.b/);
});

test('rule ops insert and delete at the customer\'s rule numbers', async () => {
  const { rebuilder, rules } = styled();
  await Promise.resolve();
  assert.deepEqual(rules().map((r) => r.split(' ')[0]), ['.a', '.b'], 'the snapshot\'s effective CSS, not the source text');
  assert.deepEqual(rebuilder.apply([['cssins', 40, 0, '.c { margin: 1px; }'], ['cssins', 40, 3, '.d { margin: 2px; }'], ['cssdel', 40, 1]]), { ok: true });
  const now = rules();
  assert.equal(now.length, 3);
  assert.match(now[0], /^\.c/);
  assert.match(now[1], /^\.b/);
  assert.match(now[2], /^\.d/);
  assert.deepEqual(rebuilder.apply([['cssdel', 40, 2], ['cssdel', 40, 0]]), { ok: true });
  assert.equal(rules().length, 1);
  assert.match(rules()[0], /^\.b/);
  assert.equal(rebuilder.node(41)?.parentNode, rebuilder.node(40), 'the source text node stays');
});

test('a rule\'s URLs are rewritten like a whole sheet\'s, and script URLs go', () => {
  const { rebuilder, rules } = styled();
  assert.deepEqual(rebuilder.apply([['cssins', 40, 0, '.bg { background-image: url("https://shop.example/bg.png"); }']]), { ok: true });
  assert.match(rules()[0], /agent\.example\/proxy\?u=https%3A%2F%2Fshop\.example%2Fbg\.png/);
  assert.deepEqual(rebuilder.apply([['cssins', 40, 0, '.x { background-image: url("javascript:alert"); }']]), { ok: true });
  assert.doesNotMatch(rules().join('\n'), /javascript/);
});

test('a rule this browser refuses keeps the numbering with a rule that matches nothing', async () => {
  const { rebuilder, rules } = styled();
  await Promise.resolve();
  // Not a rule at all here (the customer's browser took it, this one does not).
  assert.deepEqual(rebuilder.apply([['cssins', 40, 1, '::-moz-selection-only {']]), { ok: true });
  assert.equal(rules().length, 3);
  assert.equal(rules()[1].replace(/\s+/g, ''), '@medianotall{}');
  assert.deepEqual(rebuilder.apply([['cssdel', 40, 2]]), { ok: true });
  assert.match(rules()[0], /^\.a/);
  assert.equal(rules().length, 2);
});

test('rule ops that cannot apply ask for a fresh page', () => {
  const { rebuilder } = styled();
  /** @type {Array<[any, RegExp]>} */
  const cases = [
    [['cssins', 40, 3, '.z {}'], /css rule 3 of 2/],
    [['cssdel', 40, 2], /css rule 2 of 2/],
    [['cssdel', 40, -1], /index/],
    [['cssins', 40, '0', '.z {}'], /index/],
    [['cssins', 40, 0, 42], /not text/],
    [['cssins', 50, 0, '.z {}'], /css rule of <p>/],
    [['cssdel', 51, 0], /not an element/],
    [['cssdel', 999, 0], /unknown node 999/],
  ];
  expectRefusals(rebuilder, cases);
});
