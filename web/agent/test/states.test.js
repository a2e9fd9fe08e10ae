// The customer's hover and focus are mirrored by rewriting the page's state rules onto
// structural selectors; the caret is measured with wrapped lines; resources map to the proxy;
// edits are computed from beforeinput types.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rewriteSelector, usesStatePseudo, splitSelectorList, structuralPath, stateSheetText, collectStateRules } from '../states.js';
import { wrapLines } from '../caret.js';
import { proxyUrlFor } from '../api.js';
import { applyInputType, deleteWord } from '../viewer.js';
import { hostPage } from './dom.js';

test('state pseudo-classes are found outside strings and attribute selectors', () => {
  assert.equal(usesStatePseudo('a:hover'), true);
  assert.equal(usesStatePseudo('.menu:focus-within > ul'), true);
  assert.equal(usesStatePseudo('input:focus-visible'), true);
  assert.equal(usesStatePseudo('a[title=":hover"]'), false);
  assert.equal(usesStatePseudo('a[data-x=":focus"]::before'), false);
  assert.equal(usesStatePseudo('.x:hovered'), false, 'only whole names');
  assert.equal(usesStatePseudo('a::hover'), false, 'not a pseudo-element');
  assert.equal(usesStatePseudo('a:active'), false);
  assert.equal(rewriteSelector('a:hover span, b:focus', (s) => `<${s}>`), 'a<hover> span, b<focus>');
  assert.equal(rewriteSelector(':not(:hover) > i', () => 'X'), ':not(X) > i');
});

test('selector lists split at top-level commas only', () => {
  assert.deepEqual(splitSelectorList('a:hover, :is(b, c):focus , d[x="1,2"]'), ['a:hover', ':is(b, c):focus', 'd[x="1,2"]']);
});

test('structural paths name one element by child positions, and stay out of shadow trees', () => {
  const { document } = hostPage();
  document.body.innerHTML = '<div><p>a</p><p><span id="s">b</span></p></div>';
  const span = /** @type {Element} */ (document.getElementById('s'));
  const path = /** @type {string} */ (structuralPath(span));
  assert.equal(path, ':root > :nth-child(2) > :nth-child(1) > :nth-child(2) > :nth-child(1)');
  assert.equal(document.querySelector(path), span);
  const host = document.createElement('div');
  document.body.appendChild(host);
  const inner = document.createElement('b');
  host.attachShadow({ mode: 'open' }).appendChild(inner);
  assert.equal(structuralPath(inner), null);
  assert.equal(structuralPath(document.createElement('i')), null, 'detached');
});

test("the state sheet keeps each rule's specificity and only matches what the customer hovers or focuses", () => {
  const { document } = hostPage();
  document.head.innerHTML = `<style>
    .btn:hover { color: red; }
    .btn:focus, .other { outline: none; }
    @media (min-width: 1px) { .menu:hover .item { display: block; } }
    .field:focus-within { background: blue; }
  </style>`;
  document.body.innerHTML = '<button class="btn">b</button><div class="menu"><p class="item">i</p></div><label class="field"><input></label>';
  const rules = collectStateRules(document, null);
  assert.deepEqual(rules.map((r) => r.selector), ['.btn:hover', '.btn:focus, .other', '.menu:hover .item', '.field:focus-within']);
  assert.deepEqual(rules[2].wrappers, ['@media (min-width: 1px)']);
  const btn = /** @type {Element} */ (document.querySelector('.btn'));
  const chain = [btn, /** @type {Element} */ (document.body), /** @type {Element} */ (document.documentElement)];
  const text = stateSheetText(rules, { hover: chain, focus: null, focusVisible: false });
  assert.match(text, /^\.btn:where\(:root > :nth-child\(2\) > :nth-child\(1\), :root > :nth-child\(2\), :root\):not\(\.cb-state-never-6d1f\) \{ color: red; \}/m);
  assert.doesNotMatch(text, /\.other/, 'a rule whose state nobody is in is left out');
  assert.match(text, /@media \(min-width: 1px\) \{ \.menu:where\(/);
  // The rewritten selector matches the hovered element and nothing else.
  const selector = /** @type {string} */ (text.split(' {')[0]);
  assert.deepEqual(Array.from(document.querySelectorAll(selector)), [btn]);

  const input = /** @type {Element} */ (document.querySelector('input'));
  const focused = stateSheetText(rules, { hover: [], focus: input, focusVisible: true });
  assert.match(focused, /@layer cb-user-agent \{ :where\(.+\) \{ outline: auto 1px;/, "the browser's own ring, below page rules");
  const within = /** @type {string} */ (focused.split('\n').find((line) => line.startsWith('.field')));
  assert.deepEqual(Array.from(document.querySelectorAll(within.split(' {')[0])), [document.querySelector('.field')]);
  assert.equal(stateSheetText(rules, { hover: [], focus: null, focusVisible: false }), '');
});

test('textarea lines wrap at spaces, or inside a word longer than the line', () => {
  const measure = (/** @type {string} */ t) => t.length * 10;
  assert.deepEqual(wrapLines('hello world again', 60, measure, false), [
    { start: 0, text: 'hello ' },
    { start: 6, text: 'world ' },
    { start: 12, text: 'again' },
  ]);
  assert.deepEqual(wrapLines('abcdefgh', 30, measure, false), [
    { start: 0, text: 'abc' },
    { start: 3, text: 'def' },
    { start: 6, text: 'gh' },
  ]);
  assert.deepEqual(wrapLines('a\n\nb', 30, measure, false), [
    { start: 0, text: 'a' },
    { start: 2, text: '' },
    { start: 3, text: 'b' },
  ]);
  assert.deepEqual(wrapLines('hello world', 30, measure, true), [{ start: 0, text: 'hello world' }]);
});

test('resources go through the proxy on the workspace origin, fragments kept outside the query', () => {
  const proxy = proxyUrlFor('https://cb.example');
  assert.equal(proxy('https://shop.example/a b.png?x=1&y=2'), 'https://cb.example/proxy?url=https%3A%2F%2Fshop.example%2Fa%20b.png%3Fx%3D1%26y%3D2');
  assert.equal(proxy('https://shop.example/sprite.svg#icon'), 'https://cb.example/proxy?url=https%3A%2F%2Fshop.example%2Fsprite.svg#icon');
  assert.equal(proxy('https://cb.example/demo/style.css'), 'https://cb.example/demo/style.css', "the server's own files load directly");
  assert.match(proxy('https://cb.example.evil/x.png'), /^https:\/\/cb\.example\/proxy\?url=/);
});

test('beforeinput types become the edited value', () => {
  assert.deepEqual(applyInputType('insertText', 'x', 'abc', 1, 1, false), { value: 'axbc', caret: 2 });
  assert.deepEqual(applyInputType('insertFromPaste', 'p\nq', 'abc', 0, 3, false), { value: 'p q', caret: 3 });
  assert.deepEqual(applyInputType('insertFromPaste', 'p\nq', '', 0, 0, true), { value: 'p\nq', caret: 3 });
  assert.deepEqual(applyInputType('insertLineBreak', null, 'ab', 1, 1, true), { value: 'a\nb', caret: 2 });
  assert.equal(applyInputType('insertLineBreak', null, 'ab', 1, 1, false), null);
  assert.deepEqual(applyInputType('deleteContentBackward', null, 'abc', 3, 3, false), { value: 'ab', caret: 2 });
  assert.deepEqual(applyInputType('deleteContentForward', null, 'abc', 0, 0, false), { value: 'bc', caret: 0 });
  assert.deepEqual(applyInputType('deleteByCut', null, 'abcd', 1, 3, false), { value: 'ad', caret: 1 });
  assert.deepEqual(applyInputType('deleteSoftLineBackward', null, 'abc', 2, 2, false), { value: 'c', caret: 0 });
  assert.equal(applyInputType('historyUndo', null, 'abc', 0, 0, false), null);
  assert.deepEqual(deleteWord('one two  three', 9, 9, 'backward'), { value: 'one three', caret: 4 });
  assert.deepEqual(deleteWord('one two three', 3, 3, 'forward'), { value: 'one three', caret: 3 });
});
