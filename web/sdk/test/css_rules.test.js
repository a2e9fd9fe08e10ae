// CSSOM rule edits: after the whole text of a changed sheet went out once, each insertRule and
// deleteRule goes out as one rule op (cssins / cssdel), with URLs made absolute like whole
// sheets; anything a rule op cannot say sends the whole text again. A mirror that applies
// what was sent ends up with the sheet the page has.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { byId, record } from './dom.js';
import { MiniMirror, splitRules } from './mirror.js';

const PAGE = '<!DOCTYPE html><head><style id="st">.a { color: red; }</style></head><body><p>x</p></body>';

/** @param {ReturnType<typeof record>} w */
function mirrorOf(w) {
  const mirror = new MiniMirror();
  mirror.load(w.snapshot.doc);
  return mirror;
}

/** @param {CSSStyleSheet} sheet */
const rulesOf = (sheet) => Array.from(sheet.cssRules, (r) => r.cssText);

test('the first change sends the whole sheet, later ones one rule each', () => {
  const w = record(PAGE);
  const mirror = mirrorOf(w);
  const sheet = /** @type {CSSStyleSheet} */ (/** @type {HTMLStyleElement} */ (w.doc.getElementById('st')).sheet);
  const id = byId(w.snapshot.doc, 'st').id;

  sheet.insertRule('.b { color: blue; }', 1);
  w.recorder.flush();
  let ops = w.opsSince(1);
  assert.deepEqual(ops.map((op) => op[0]), ['css'], 'the mirror has only the source text yet');
  mirror.apply(ops);

  let from = w.frames.length;
  sheet.insertRule('.c { margin: 1px; }', 0);
  sheet.insertRule('.d { margin: 2px; }', sheet.cssRules.length);
  sheet.deleteRule(1);
  w.recorder.flush();
  ops = w.opsSince(from);
  assert.deepEqual(ops, [
    ['cssins', id, 0, rulesOf(sheet)[0]],
    ['cssins', id, 3, rulesOf(sheet)[2]], // .d, read when it was inserted
    ['cssdel', id, 1],
  ]);
  mirror.apply(/** @type {any} */ (ops));
  assert.deepEqual(splitRules(/** @type {any} */ (mirror.nodes.get(id)).css), rulesOf(sheet));

  // Nothing changed: nothing sent.
  from = w.frames.length;
  w.recorder.flush();
  assert.deepEqual(w.opsSince(from), []);
});

test('rule text has its URLs made absolute, like whole sheets', () => {
  const w = record(PAGE);
  const sheet = /** @type {CSSStyleSheet} */ (/** @type {HTMLStyleElement} */ (w.doc.getElementById('st')).sheet);
  sheet.insertRule('.b { color: blue; }', 1);
  w.recorder.flush();
  const from = w.frames.length;
  sheet.insertRule('.bg { background: url(img/bg.png); }', 0);
  w.recorder.flush();
  const [op] = w.opsSince(from);
  assert.equal(op[0], 'cssins');
  assert.match(op[3], /url\("https:\/\/shop\.example\/dir\/img\/bg\.png"\)/);
  assert.doesNotMatch(op[3], /url\(img/);
});

test('what a rule op cannot say sends the whole text; a new sheet object starts over', () => {
  const w = record(PAGE);
  const style = /** @type {HTMLStyleElement} */ (w.doc.getElementById('st'));
  const sheet = /** @type {CSSStyleSheet} */ (style.sheet);
  const id = byId(w.snapshot.doc, 'st').id;
  sheet.insertRule('.b { color: blue; }', 1);
  w.recorder.flush();

  // A rule edit and then a replace in one flush: the whole text wins.
  let from = w.frames.length;
  sheet.insertRule('.c { color: green; }', 0);
  if (typeof sheet.replaceSync === 'function') {
    sheet.replaceSync('.only { color: black; }');
    w.recorder.flush();
    assert.deepEqual(w.opsSince(from).map((op) => op[0]), ['css']);
  } else {
    // jsdom has no replaceSync: a legacy addRule stands in for "not a rule edit".
    /** @type {any} */ (sheet).addRule?.('.x', 'color: red');
    w.recorder.flush();
  }

  // The page replaces the <style>'s text: its sheet is a new object the mirror has not seen
  // as text, so its first change goes out whole again.
  style.textContent = '.fresh { color: teal; }';
  w.recorder.flush();
  from = w.frames.length;
  /** @type {CSSStyleSheet} */ (style.sheet).insertRule('.g { color: gold; }', 0);
  w.recorder.flush();
  const ops = w.opsSince(from);
  assert.equal(ops.length, 1);
  assert.equal(ops[0][0], 'css');
  assert.equal(ops[0][1], id);
});

test('a sheet written again (snapshot, owner sent again) is not edited twice', () => {
  const w = record('<!DOCTYPE html><body><div id="box"><style id="st">.a { color: red; }</style></div></body>');
  const style = /** @type {HTMLStyleElement} */ (w.doc.getElementById('st'));
  const sheet = /** @type {CSSStyleSheet} */ (style.sheet);
  sheet.insertRule('.b { color: blue; }', 1);
  w.recorder.flush();

  // An edit, then a snapshot before any flush: the snapshot's css holds the edit already.
  sheet.insertRule('.c { color: green; }', 0);
  const snap = /** @type {any} */ (w.recorder.snapshot());
  assert.deepEqual(splitRules(byId(snap.doc, 'st').css), rulesOf(sheet));
  const mirror = new MiniMirror();
  mirror.load(snap.doc);
  let from = w.frames.length;
  w.recorder.flush();
  assert.deepEqual(w.opsSince(from), []);

  // An edit in the same flush as its container becoming masked: the container's children go
  // out again (the <style> with its current text), and no rule op follows.
  sheet.insertRule('.d { color: red; }', 0);
  /** @type {Element} */ (w.doc.getElementById('box')).setAttribute('data-cobrowse-mask', 'text');
  w.recorder.flush();
  const ops = w.opsSince(from);
  assert.ok(!ops.some((op) => op[0] === 'cssins'), JSON.stringify(ops));
  mirror.apply(ops);
  const id = byId(snap.doc, 'st').id;
  assert.deepEqual(splitRules(/** @type {any} */ (mirror.nodes.get(id)).css), rulesOf(sheet));

  // From there on, rule ops again.
  from = w.frames.length;
  sheet.deleteRule(0);
  w.recorder.flush();
  const next = w.opsSince(from);
  assert.deepEqual(next, [['cssdel', id, 0]]);
  mirror.apply(/** @type {any} */ (next));
  assert.deepEqual(splitRules(/** @type {any} */ (mirror.nodes.get(id)).css), rulesOf(sheet));

  // Moving a <style> makes the browser parse its text again: a new sheet, sent whole when it
  // next changes.
  w.doc.body.appendChild(style);
  w.recorder.flush();
  from = w.frames.length;
  /** @type {CSSStyleSheet} */ (style.sheet).insertRule('.e { color: gold; }', 0);
  w.recorder.flush();
  assert.deepEqual(w.opsSince(from).map((op) => op[0]), ['css']);
});

test('a sheet script filled before the SDK started goes out with its rules, not its empty text', () => {
  // CSS-in-JS libraries insert every rule into an empty <style>: its text says nothing.
  const w = record('<!DOCTYPE html><head><style id="js"></style><style id="st">.a { color: red; }</style></head><body><p>x</p></body>', {
    before: (win) => {
      const sheet = /** @type {CSSStyleSheet} */ (/** @type {HTMLStyleElement} */ (win.document.getElementById('js')).sheet);
      sheet.insertRule('.late { color: green; }', 0);
    },
  });
  const js = byId(w.snapshot.doc, 'js');
  assert.equal(js.css, '.late {color: green;}');
  assert.equal(byId(w.snapshot.doc, 'st').css, undefined, 'an unchanged sheet goes as its text');
  // The mirror holds its rules now, so the next edit is one rule.
  const sheet = /** @type {CSSStyleSheet} */ (/** @type {HTMLStyleElement} */ (w.doc.getElementById('js')).sheet);
  sheet.insertRule('.b { color: blue; }', 1);
  w.recorder.flush();
  assert.deepEqual(w.opsSince(1).map((op) => op[0]), ['cssins']);
});
