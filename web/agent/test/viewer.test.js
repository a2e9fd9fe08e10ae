import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Viewer, fitScale, replaceSelection, deleteAtSelection } from '../viewer.js';
import { hostPage, page } from './dom.js';

/** @typedef {import('../../sdk/protocol.js').ActionKind} ActionKind */
/** @typedef {import('../../sdk/protocol.js').Frame} Frame */

function setup() {
  const host = hostPage();
  host.frame.remove();
  const area = host.document.createElement('div');
  host.document.body.appendChild(area);
  /** @type {{clicks: unknown[][], actions: ActionKind[], resyncs: string[], notices: string[], pages: string[], pointers: unknown[][]}} */
  const seen = { clicks: [], actions: [], resyncs: [], notices: [], pages: [], pointers: [] };
  const viewer = new Viewer(area, {
    pointer: (x, y) => seen.pointers.push([x, y]),
    click: (x, y, id) => seen.clicks.push([x, y, id]),
    highlight: () => {},
    action: (a) => seen.actions.push(a),
    resync: (r) => seen.resyncs.push(r),
    notice: (t) => seen.notices.push(t),
    page: (p) => seen.pages.push(p.url),
  });
  return { ...host, area, viewer, seen };
}

const SNAPSHOT = page([
  { id: 10, k: 'e', n: 'a', a: { href: '/next' }, c: [{ id: 11, k: 'x', v: 'Next' }] },
  { id: 12, k: 'e', n: 'button', a: { type: 'submit' }, r: true, c: [{ id: 13, k: 'x', v: 'Pay' }] },
  { id: 14, k: 'e', n: 'input', a: { type: 'checkbox' }, st: { ch: false } },
  { id: 15, k: 'e', n: 'input', a: { type: 'text' }, st: { v: 'bc' } },
  { id: 16, k: 'e', n: 'button', a: { type: 'button' }, c: [{ id: 17, k: 'x', v: 'Open' }] },
]);

/**
 * @param {Viewer} viewer
 * @param {number} id
 * @param {string} type
 * @param {Record<string, unknown>} [init]
 */
function fire(viewer, id, type, init = {}) {
  const node = /** @type {Element} */ (viewer.rebuilder.node(id));
  const view = /** @type {any} */ (node.ownerDocument.defaultView);
  const Ctor = type.startsWith('key') ? view.KeyboardEvent : view.MouseEvent;
  const ev = new Ctor(type, { bubbles: true, cancelable: true, clientX: 20, clientY: 30, ...init });
  node.dispatchEvent(ev);
  return ev;
}

test('a snapshot frame builds the page into the sandboxed iframe at the customer viewport size', async () => {
  const { viewer, seen } = setup();
  await viewer.handle(/** @type {Frame} */ ({ tag: 'snapshot', seq: 1, body: SNAPSHOT }));
  assert.equal(viewer.frame.getAttribute('sandbox'), 'allow-same-origin');
  assert.equal(viewer.frame.contentDocument?.querySelector('a')?.textContent, 'Next');
  assert.equal(viewer.frame.style.width, '1024px');
  assert.equal(viewer.frame.style.height, '700px');
  assert.deepEqual(seen.pages, ['https://shop.example/cart/index.html']);
  assert.deepEqual(seen.resyncs, []);
});

test('pointer mode: clicks are shown to the customer and act on nothing', async () => {
  const { viewer, seen } = setup();
  await viewer.handle(/** @type {Frame} */ ({ tag: 'snapshot', seq: 1, body: SNAPSHOT }));
  const ev = fire(viewer, 11, 'click');
  assert.equal(ev.defaultPrevented, true, 'the link does not navigate');
  assert.deepEqual(seen.clicks, [[20, 30, 10]]);
  assert.deepEqual(seen.actions, []);
  const box = /** @type {HTMLInputElement} */ (viewer.rebuilder.node(14));
  fire(viewer, 14, 'click');
  assert.equal(box.checked, false, 'the checkbox is not toggled locally');
  assert.equal(fire(viewer, 15, 'keydown', { key: 'x' }).defaultPrevented, true, 'no local typing');
  assert.equal(fire(viewer, 15, 'mousedown').defaultPrevented, true, 'nothing takes focus locally');
});

test('write mode: clicks, checks and typing become actions on node ids', async () => {
  const { viewer, seen } = setup();
  await viewer.handle(/** @type {Frame} */ ({ tag: 'snapshot', seq: 1, body: SNAPSHOT }));
  viewer.setMode('write');
  assert.equal(fire(viewer, 17, 'click').defaultPrevented, true);
  const box = /** @type {HTMLInputElement} */ (viewer.rebuilder.node(14));
  fire(viewer, 14, 'click');
  assert.equal(box.checked, false, 'the customer page decides; the echo will tick it');
  const field = /** @type {HTMLInputElement} */ (viewer.rebuilder.node(15));
  field.setSelectionRange(0, 0);
  assert.equal(fire(viewer, 15, 'keydown', { key: 'a' }).defaultPrevented, false, 'text arrives as beforeinput');
  assert.equal(input(viewer, 15, 'insertText', 'a').defaultPrevented, true);
  assert.equal(field.value, 'abc', 'the edit shows at once');
  input(viewer, 15, 'insertText', 'x');
  assert.equal(field.value, 'axbc', 'the next key builds on the edit, not on the late echo');
  field.setSelectionRange(2, 2);
  input(viewer, 15, 'deleteContentBackward', null);
  assert.equal(fire(viewer, 15, 'keydown', { key: 'Enter' }).defaultPrevented, true);
  assert.deepEqual(seen.actions, [
    { do: 'click', id: 16, x: 20, y: 30 },
    { do: 'check', id: 14, checked: true },
    { do: 'input', id: 15, value: 'abc' },
    { do: 'input', id: 15, value: 'axbc' },
    { do: 'input', id: 15, value: 'abc' },
    { do: 'key', id: 15, key: 'Enter' },
  ]);
  // Echoes of values the agent has gone past do not undo the newer text.
  await viewer.handle(/** @type {Frame} */ ({ tag: 'input', seq: 2, body: { id: 15, v: 'abc' } }));
  assert.equal(field.value, 'abc');
  await viewer.handle(/** @type {Frame} */ ({ tag: 'input', seq: 3, body: { id: 15, v: 'axbc' } }));
  assert.equal(field.value, 'abc', 'an older value is not put back');
  await viewer.handle(/** @type {Frame} */ ({ tag: 'input', seq: 4, body: { id: 15, v: 'abc' } }));
  assert.equal(field.value, 'abc');
  // A value the page made its own way wins.
  await viewer.handle(/** @type {Frame} */ ({ tag: 'input', seq: 5, body: { id: 15, v: 'ABC' } }));
  assert.equal(field.value, 'ABC');
});

test('write mode: an IME composition is sent when it ends', async () => {
  const { viewer, seen } = setup();
  await viewer.handle(/** @type {Frame} */ ({ tag: 'snapshot', seq: 1, body: SNAPSHOT }));
  viewer.setMode('write');
  const field = /** @type {HTMLInputElement} */ (viewer.rebuilder.node(15));
  const view = /** @type {any} */ (field.ownerDocument.defaultView);
  field.dispatchEvent(new view.CompositionEvent('compositionstart', { bubbles: true, data: '' }));
  field.value = 'bc日本';
  await viewer.handle(/** @type {Frame} */ ({ tag: 'input', seq: 2, body: { id: 15, v: 'bc' } }));
  assert.equal(field.value, 'bc日本', 'echoes do not disturb a composition');
  field.dispatchEvent(new view.CompositionEvent('compositionend', { bubbles: true, data: '日本' }));
  assert.deepEqual(seen.actions, [{ do: 'input', id: 15, value: 'bc日本' }]);
});

test('observers neither point nor act', async () => {
  const host = hostPage();
  const area = host.document.createElement('div');
  host.document.body.appendChild(area);
  /** @type {unknown[]} */
  const sent = [];
  const viewer = new Viewer(area, {
    pointer: (x, y) => sent.push(['pointer', x, y]),
    click: (x, y) => sent.push(['click', x, y]),
    highlight: () => sent.push('highlight'),
    action: (a) => sent.push(a),
    resync: () => {},
    notice: () => {},
    page: () => {},
  }, { readOnly: true });
  await viewer.handle(/** @type {Frame} */ ({ tag: 'snapshot', seq: 1, body: SNAPSHOT }));
  viewer.setMode('write');
  fire(viewer, 16, 'mousemove');
  fire(viewer, 16, 'click');
  assert.equal(fire(viewer, 15, 'keydown', { key: 'a' }).defaultPrevented, true);
  assert.deepEqual(sent, []);
  assert.equal(area.dataset.mode, 'pointer', 'the page takes no mouse events');
  assert.equal(area.hasAttribute('data-readonly'), true);
});

/**
 * Fires a cancelable beforeinput, as the browser does before it edits a field.
 * @param {Viewer} viewer
 * @param {number} id
 * @param {string} inputType
 * @param {string | null} data
 */
function input(viewer, id, inputType, data) {
  const node = /** @type {Element} */ (viewer.rebuilder.node(id));
  const view = /** @type {any} */ (node.ownerDocument.defaultView);
  const ev = new view.InputEvent('beforeinput', { bubbles: true, cancelable: true, inputType, data });
  node.dispatchEvent(ev);
  return ev;
}

test('write mode: restricted controls are inert for the agent', async () => {
  const { viewer, seen } = setup();
  await viewer.handle(/** @type {Frame} */ ({ tag: 'snapshot', seq: 1, body: SNAPSHOT }));
  viewer.setMode('write');
  assert.equal(fire(viewer, 13, 'click').defaultPrevented, true);
  assert.deepEqual(seen.actions, []);
  assert.equal(seen.notices.length, 1);
  assert.match(seen.notices[0], /restricted/);
});

test('an op on an unknown node asks for a resync', async () => {
  const { viewer, seen } = setup();
  await viewer.handle(/** @type {Frame} */ ({ tag: 'snapshot', seq: 1, body: SNAPSHOT }));
  await viewer.handle(/** @type {Frame} */ ({ tag: 'mut', seq: 2, body: { ops: [['rm', 999]] } }));
  assert.equal(seen.resyncs.length, 1);
  await viewer.handle(/** @type {Frame} */ ({ tag: 'mut', seq: 3, body: { ops: [['text', 11, 'Onward']] } }));
  assert.equal(viewer.frame.contentDocument?.querySelector('a')?.textContent, 'Onward');
});

test('zoom to fit never enlarges; 1:1 is the customer size', async () => {
  assert.equal(fitScale({ w: 1600, h: 900 }, { w: 800, h: 900 }), 0.5);
  assert.equal(fitScale({ w: 400, h: 300 }, { w: 800, h: 900 }), 1);
  assert.equal(fitScale({ w: 1000, h: 2000 }, { w: 800, h: 500 }), 0.25);
  const { viewer } = setup();
  viewer.setZoom('actual');
  assert.equal(viewer.scale, 1);
  assert.equal(viewer.area.dataset.zoom, 'actual');
});

test('editing helpers compute the value the agent means', () => {
  assert.deepEqual(replaceSelection('hello', 1, 4, 'E'), { value: 'hEo', caret: 2 });
  assert.deepEqual(deleteAtSelection('hello', 5, 5, 'Backspace'), { value: 'hell', caret: 4 });
  assert.deepEqual(deleteAtSelection('hello', 0, 0, 'Backspace'), { value: 'hello', caret: 0 });
  assert.deepEqual(deleteAtSelection('hello', 0, 0, 'Delete'), { value: 'ello', caret: 0 });
  assert.deepEqual(deleteAtSelection('hello', 1, 3, 'Delete'), { value: 'hlo', caret: 1 });
});

test('a new viewer readies its shell before any page arrives, and a standards page is built into it', async () => {
  const { viewer, seen } = setup();
  const shell = viewer.frame.contentDocument;
  assert.ok(shell, 'the iframe has its document from the start');
  assert.equal(shell.doctype?.name, 'html', 'the preloaded shell is in standards mode');
  await viewer.shellLoading;
  assert.equal(viewer.shellKey, 'standards|utf-8');
  await viewer.handle(/** @type {Frame} */ ({ tag: 'snapshot', seq: 1, body: SNAPSHOT }));
  assert.equal(viewer.frame.contentDocument, shell, 'the page went into the preloaded shell, not a new one');
  assert.equal(shell.querySelector('a')?.textContent, 'Next');
  assert.equal(viewer.shellLoading, null);
  assert.deepEqual(seen.resyncs, []);
});

test('a page in another rendering mode than the preloaded shell gets a shell of its own', async () => {
  const { viewer } = setup();
  const quirks = { ...SNAPSHOT, mode: /** @type {const} */ ('quirks'), doc: { ...SNAPSHOT.doc, c: (SNAPSHOT.doc.c ?? []).filter((c) => c.k !== 't') } };
  await viewer.handle(/** @type {Frame} */ ({ tag: 'snapshot', seq: 1, body: quirks }));
  assert.equal(viewer.shellKey, 'quirks|utf-8');
  const doc = /** @type {Document} */ (viewer.frame.contentDocument);
  assert.equal(doc.doctype, null, 'no doctype: the customer page is in quirks mode');
  assert.equal(doc.querySelector('a')?.textContent, 'Next');
});
