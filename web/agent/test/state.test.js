// Live form state goes in as properties, never as attributes, and documents are rebuilt in the
// customer's rendering mode.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compatModeOf, shellHtml, baseUrlOf, safeCharset } from '../rebuilder.js';
import { rebuild, page, normalizeDom, normalizeSerialized } from './dom.js';

/** @typedef {import('../../sdk/protocol.js').SerializedNode} SerializedNode */

/** @type {SerializedNode[]} */
const FORM = [
  { id: 10, k: 'e', n: 'input', a: { type: 'text', name: 'q' }, st: { v: 'typed' } },
  { id: 11, k: 'e', n: 'input', a: { type: 'checkbox', name: 'agree' }, st: { ch: true } },
  { id: 12, k: 'e', n: 'input', a: { type: 'radio', name: 'r' }, st: { ch: false } },
  {
    id: 13,
    k: 'e',
    n: 'select',
    a: { name: 'size' },
    c: [
      { id: 14, k: 'e', n: 'option', c: [{ id: 15, k: 'x', v: 'S' }] },
      { id: 16, k: 'e', n: 'option', c: [{ id: 17, k: 'x', v: 'M' }] },
      { id: 18, k: 'e', n: 'option', c: [{ id: 19, k: 'x', v: 'L' }] },
    ],
    st: { sel: [2] },
  },
  { id: 20, k: 'e', n: 'textarea', c: [{ id: 21, k: 'x', v: 'default' }], st: { v: 'edited' } },
  { id: 22, k: 'e', n: 'input', a: { type: 'password' }, st: { v: '******' }, m: 'value' },
];

test('form state is set as properties and adds no attributes', () => {
  const snapshot = page(FORM);
  const { doc, rebuilder } = rebuild(snapshot);
  const text = /** @type {HTMLInputElement} */ (rebuilder.node(10));
  const box = /** @type {HTMLInputElement} */ (rebuilder.node(11));
  const select = /** @type {HTMLSelectElement} */ (rebuilder.node(13));
  const area = /** @type {HTMLTextAreaElement} */ (rebuilder.node(20));
  assert.equal(text.value, 'typed');
  assert.equal(box.checked, true);
  assert.equal(select.selectedIndex, 2);
  assert.equal(area.value, 'edited');
  assert.equal(/** @type {HTMLInputElement} */ (rebuilder.node(22)).value, '******');
  // The DOM is exactly the snapshot: no value attributes, no checked, no selected.
  assert.deepEqual(normalizeDom(doc), normalizeSerialized(snapshot.doc));
  assert.equal(text.hasAttribute('value'), false);
  assert.equal(box.hasAttribute('checked'), false);
  assert.equal(box.hasAttribute('value'), false, 'no value="on" on a toggled checkbox');
  assert.equal(select.hasAttribute('value'), false, 'no value attribute on a select');
  for (const option of Array.from(select.options)) assert.equal(option.hasAttribute('selected'), false);
});

test('input frames change live state through properties only', () => {
  const snapshot = page(FORM);
  const { doc, rebuilder } = rebuild(snapshot);
  const before = normalizeDom(doc);
  assert.deepEqual(rebuilder.applyInput({ id: 10, v: 'hello' }), { ok: true });
  assert.deepEqual(rebuilder.applyInput({ id: 11, ch: false }), { ok: true });
  assert.deepEqual(rebuilder.applyInput({ id: 12, ch: true }), { ok: true });
  assert.deepEqual(rebuilder.applyInput({ id: 13, sel: [0] }), { ok: true });
  assert.deepEqual(rebuilder.applyInput({ id: 20, v: 'again' }), { ok: true });
  assert.equal(/** @type {HTMLInputElement} */ (rebuilder.node(10)).value, 'hello');
  assert.equal(/** @type {HTMLInputElement} */ (rebuilder.node(11)).checked, false);
  assert.equal(/** @type {HTMLInputElement} */ (rebuilder.node(12)).checked, true);
  assert.equal(/** @type {HTMLSelectElement} */ (rebuilder.node(13)).selectedIndex, 0);
  assert.equal(/** @type {HTMLTextAreaElement} */ (rebuilder.node(20)).value, 'again');
  assert.deepEqual(normalizeDom(doc), before, 'no attribute changed');
  assert.deepEqual(rebuilder.forms.get(13), { sel: [0] });
  assert.equal(rebuilder.applyInput({ id: 15, v: 'x' }).ok, false, 'a text node has no state');
});

test('a multiple select takes every selected index, and an empty selection clears a single one', () => {
  const { rebuilder } = rebuild(
    page([
      {
        id: 10,
        k: 'e',
        n: 'select',
        a: { multiple: '' },
        c: [
          { id: 11, k: 'e', n: 'option', c: [{ id: 12, k: 'x', v: 'a' }] },
          { id: 13, k: 'e', n: 'option', c: [{ id: 14, k: 'x', v: 'b' }] },
          { id: 15, k: 'e', n: 'option', c: [{ id: 16, k: 'x', v: 'c' }] },
        ],
        st: { sel: [0, 2] },
      },
      { id: 20, k: 'e', n: 'select', c: [{ id: 21, k: 'e', n: 'option' }], st: { sel: [] } },
    ]),
  );
  const multi = /** @type {HTMLSelectElement} */ (rebuilder.node(10));
  assert.deepEqual(Array.from(multi.selectedOptions).map((o) => o.textContent), ['a', 'c']);
  assert.equal(/** @type {HTMLSelectElement} */ (rebuilder.node(20)).selectedIndex, -1);
});

test('an attribute op on a value after typing changes only the default, as in the customer browser', () => {
  const { rebuilder } = rebuild(page(FORM));
  const text = /** @type {HTMLInputElement} */ (rebuilder.node(10));
  rebuilder.apply([['attr', 10, 'value', 'default']]);
  assert.equal(text.getAttribute('value'), 'default');
  assert.equal(text.value, 'typed');
});

test('rendering mode: the shell doctype decides quirks or standards', () => {
  assert.equal(shellHtml('standards'), '<!DOCTYPE html>');
  assert.equal(shellHtml('quirks'), '');
  assert.match(shellHtml('limited-quirks'), /XHTML 1.0 Transitional/);

  const standards = rebuild(page([]));
  assert.equal(standards.doc.compatMode, 'CSS1Compat');
  assert.equal(standards.doc.doctype?.name, 'html');

  const quirksPage = page([{ id: 10, k: 'x', v: 'old page' }], { mode: 'quirks' });
  quirksPage.doc.c = quirksPage.doc.c?.filter((n) => n.k !== 't');
  const quirks = rebuild(quirksPage);
  assert.deepEqual(quirks.result, { ok: true });
  assert.equal(quirks.doc.compatMode, 'BackCompat');
  assert.equal(quirks.doc.doctype, null, 'no doctype is added');
  assert.deepEqual(normalizeDom(quirks.doc), normalizeSerialized(quirksPage.doc));
});

test('rendering mode comes from the snapshot, or from the presence of a doctype', () => {
  const withDoctype = page([]);
  assert.equal(compatModeOf(withDoctype), 'standards');
  const noMode = page([]);
  delete noMode.mode;
  noMode.doc.c = noMode.doc.c?.filter((n) => n.k !== 't');
  assert.equal(compatModeOf(noMode), 'quirks');
  assert.equal(compatModeOf({ ...noMode, mode: 'limited-quirks' }), 'limited-quirks');
});

test('a legacy doctype is rebuilt with its identifiers', () => {
  const snapshot = page([], { mode: 'limited-quirks' });
  const doctype = /** @type {SerializedNode} */ (snapshot.doc.c?.[0]);
  doctype.ids = ['-//W3C//DTD XHTML 1.0 Transitional//EN', 'http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd'];
  const { doc } = rebuild(snapshot);
  assert.equal(doc.doctype?.publicId, '-//W3C//DTD XHTML 1.0 Transitional//EN');
  assert.equal(doc.doctype?.systemId, 'http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd');
});

test('the charset and page facts are kept, and bad charset labels are refused', () => {
  const { rebuilder } = rebuild(page([], { charset: 'Shift_JIS', title: 'Kart' }));
  assert.deepEqual(rebuilder.page, { url: 'https://shop.example/cart/index.html', title: 'Kart', charset: 'Shift_JIS', mode: 'standards' });
  assert.equal(safeCharset('x"; evil'), 'UTF-8');
  assert.equal(safeCharset(undefined), 'UTF-8');
});

test('relative URLs honour the page base without rebuilding the base element', () => {
  const snapshot = page([{ id: 10, k: 'e', n: 'img', a: { src: 'a.png' } }]);
  const head = /** @type {SerializedNode} */ (snapshot.doc.c?.[1].c?.[0]);
  head.c = [{ id: 9, k: 'e', n: 'base', a: { href: '/static/' } }];
  assert.equal(baseUrlOf(snapshot.url, snapshot.doc), 'https://shop.example/static/');
  const { doc } = rebuild(snapshot);
  assert.equal(doc.querySelector('img')?.getAttribute('src'), 'https://shop.example/static/a.png');
  assert.equal(doc.querySelector('base')?.hasAttribute('href'), false);
});

test('scroll and focus are applied without moving the agent focus', () => {
  const snapshot = page(FORM, { scroll: [{ id: 13, x: 0, y: 5 }], focus: { id: 10, start: 1, end: 3 } });
  const { doc, rebuilder } = rebuild(snapshot);
  assert.deepEqual(rebuilder.focus, { id: 10, start: 1, end: 3 });
  const text = /** @type {HTMLInputElement} */ (rebuilder.node(10));
  assert.equal(text.selectionStart, 1);
  assert.equal(text.selectionEnd, 3);
  assert.notEqual(doc.activeElement, text, 'focus is drawn by the overlay, not taken');
  assert.deepEqual(rebuilder.applyScroll({ id: 1, x: 0, y: 40 }), { ok: true });
});

test('no rule pauses animations or transitions', () => {
  const { doc } = rebuild(page([{ id: 10, k: 'e', n: 'div', a: { style: 'animation: spin 1s infinite' } }]));
  const css = Array.from(doc.querySelectorAll('style')).map((s) => s.textContent).join('\n');
  assert.doesNotMatch(css, /animation-play-state|transition\s*:\s*none/);
  assert.equal(doc.querySelectorAll('style').length, 0, 'the viewer adds no style element');
  assert.equal(doc.querySelector('div')?.getAttribute('style'), 'animation: spin 1s infinite');
});
