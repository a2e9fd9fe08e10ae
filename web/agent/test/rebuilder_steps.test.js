// A page built in two steps (a budgeted `build`, then `buildMore`) ends up exactly as one built
// at once, and the first step only stops where content appended later flows after it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rebuilder, compatModeOf, resetDocument } from '../rebuilder.js';
import { hostPage, page, normalizeDom, normalizeSerialized, rebuild } from './dom.js';

/** @typedef {import('../../sdk/protocol.js').SerializedNode} SerializedNode */
/** @typedef {import('../../sdk/protocol.js').Snapshot} Snapshot */

/**
 * Cards of a long page: `<section><h2>…</h2><ul><li>…</li>…</ul></section>`, IDs from 100.
 * @param {number} count
 * @returns {SerializedNode[]}
 */
function cards(count) {
  /** @type {SerializedNode[]} */
  const out = [];
  let id = 100;
  for (let s = 0; s < count; s++) {
    /** @type {SerializedNode[]} */
    const items = [];
    for (let i = 0; i < 3; i++) items.push({ id: id++, k: 'e', n: 'li', a: { class: 'item' }, c: [{ id: id++, k: 'x', v: `item ${s}.${i}` }] });
    out.push({
      id: id++,
      k: 'e',
      n: 'section',
      a: { class: 'card', 'data-index': String(s) },
      c: [
        { id: id++, k: 'e', n: 'h2', c: [{ id: id++, k: 'x', v: `card ${s}` }] },
        { id: id++, k: 'e', n: 'ul', c: items },
      ],
    });
  }
  return out;
}

/**
 * @param {Snapshot} snapshot
 */
function rebuilderFor(snapshot) {
  const host = hostPage();
  const doc = /** @type {Document} */ (host.frame.contentDocument);
  resetDocument(doc, compatModeOf(snapshot));
  return { doc, rebuilder: new Rebuilder() };
}

/**
 * Every serialized node ID of a subtree.
 * @param {SerializedNode} node
 * @returns {number[]}
 */
function idsOf(node) {
  return [node.id, ...(node.c ?? []).flatMap(idsOf), ...(node.sh ? idsOf(node.sh) : [])];
}

test('a page built in budgeted steps ends up node for node as one built at once', () => {
  const snapshot = page(cards(20), { scroll: [{ id: 1, x: 0, y: 40 }], focus: { id: 110 } });
  const { doc, rebuilder } = rebuilderFor(snapshot);
  assert.deepEqual(rebuilder.build(snapshot, doc, 30), { ok: true });
  assert.ok(rebuilder.hasRest(), 'a 200-node page does not fit a 30-node budget');
  const body = /** @type {Element} */ (rebuilder.node(5));
  const firstCount = body.querySelectorAll('section').length;
  assert.ok(firstCount >= 1 && firstCount < 20, `${firstCount} cards in the first step`);
  assert.equal(rebuilder.focus, null, 'the focus waits for the whole page');
  assert.equal(rebuilder.openElements()[0], body, 'outermost first');
  for (const el of rebuilder.openElements()) assert.ok(el.isConnected, `<${el.localName}> is in the document`);

  let steps = 0;
  while (rebuilder.hasRest()) {
    assert.deepEqual(rebuilder.buildMore(25), { ok: true });
    steps++;
  }
  assert.ok(steps > 1, 'each step keeps to its budget');
  assert.deepEqual(normalizeDom(doc), normalizeSerialized(snapshot.doc));
  for (const id of idsOf(snapshot.doc)) assert.equal(rebuilder.idOf(/** @type {Node} */ (rebuilder.node(id))), id, `node ${id} is mapped`);
  assert.equal(/** @type {{id: number} | null} */ (rebuilder.focus)?.id, 110, 'the focus is recorded once the page is whole');

  const whole = rebuild(snapshot);
  assert.deepEqual(normalizeDom(doc), normalizeDom(whole.doc));
});

test('the first step stops only inside plain containers of the body', () => {
  /** @type {SerializedNode[]} */
  const rows = [];
  for (let r = 0; r < 30; r++) rows.push({ id: 200 + r * 2, k: 'e', n: 'tr', c: [{ id: 201 + r * 2, k: 'e', n: 'td' }] });
  // Five nodes down to the body (document, doctype, html, head, body): a budget of 6 runs out
  // on the first thing in the body, which is built whole when it cannot be cut.
  const tables = page([
    { id: 10, k: 'e', n: 'table', c: [{ id: 11, k: 'e', n: 'tbody', c: rows }] },
    { id: 14, k: 'e', n: 'div', a: { class: 'after' }, c: cards(5) },
  ]);
  const first = rebuilderFor(tables);
  assert.deepEqual(first.rebuilder.build(tables, first.doc, 6), { ok: true });
  assert.equal(/** @type {Element} */ (first.rebuilder.node(10)).querySelectorAll('tr').length, 30, 'a table is never cut');
  assert.deepEqual(first.rebuilder.openElements().map((el) => el.localName), ['body']);
  assert.equal(first.rebuilder.node(14), undefined, 'what follows waits');
  assert.deepEqual(first.rebuilder.buildMore(), { ok: true });
  assert.deepEqual(normalizeDom(first.doc), normalizeSerialized(tables.doc));

  const shadows = page([
    { id: 12, k: 'e', n: 'div', c: [{ id: 13, k: 'e', n: 'my-card', sh: { id: 15, k: 'f', c: cards(3) } }, ...cards(2).map((c) => ({ ...c, id: c.id + 1000 }))] },
  ]);
  const second = rebuilderFor(shadows);
  assert.deepEqual(second.rebuilder.build(shadows, second.doc, 7), { ok: true });
  const host = /** @type {Element} */ (second.rebuilder.node(13));
  assert.equal(host.shadowRoot?.querySelectorAll('section').length, 3, 'a shadow root is never cut');
  assert.deepEqual(second.rebuilder.openElements().map((el) => el.localName), ['div'], 'the body has no other child to wait');
  assert.deepEqual(second.rebuilder.buildMore(), { ok: true });
  assert.deepEqual(normalizeDom(second.doc), normalizeSerialized(shadows.doc));
});

test('the head is always built whole, and a stylesheet still to come is reported', () => {
  const snapshot = page([...cards(4), { id: 30, k: 'e', n: 'style', c: [{ id: 31, k: 'x', v: '.card{color:red}' }] }]);
  const html = /** @type {SerializedNode} */ ((snapshot.doc.c ?? [])[1]);
  const head = /** @type {SerializedNode} */ ((html.c ?? [])[0]);
  head.c = [{ id: 40, k: 'e', n: 'style', c: [{ id: 41, k: 'x', v: 'body{margin:0}' }] }, { id: 42, k: 'e', n: 'title', c: [{ id: 43, k: 'x', v: 'Cart' }] }];
  const { doc, rebuilder } = rebuilderFor(snapshot);
  rebuilder.build(snapshot, doc, 1);
  assert.ok(rebuilder.node(41) && rebuilder.node(43), 'head built whole');
  assert.ok(rebuilder.hasRest());
  assert.equal(rebuilder.restHasStyles(), true);
  rebuilder.buildMore(60);
  assert.ok(rebuilder.node(30), 'the card before it and the style are built');
  assert.equal(rebuilder.restHasStyles(), false);
});

test('a new build or a cleared page forgets what was left to build', () => {
  const snapshot = page(cards(10));
  const { doc, rebuilder } = rebuilderFor(snapshot);
  rebuilder.build(snapshot, doc, 10);
  assert.ok(rebuilder.hasRest());
  rebuilder.dropRest();
  assert.equal(rebuilder.hasRest(), false);
  rebuilder.build(snapshot, doc, 10);
  assert.ok(rebuilder.hasRest());
  assert.deepEqual(rebuilder.build(page(cards(1)), doc), { ok: true });
  assert.equal(rebuilder.hasRest(), false);
  assert.deepEqual(normalizeDom(doc), normalizeSerialized(page(cards(1)).doc));
});

test('ops build whole subtrees even into a body that was built in steps', () => {
  const snapshot = page(cards(6));
  const { doc, rebuilder } = rebuilderFor(snapshot);
  rebuilder.build(snapshot, doc, 10);
  rebuilder.buildMore();
  const added = cards(30).map((card, i) => ({ ...card, id: 5000 + i }));
  const big = /** @type {SerializedNode} */ ({ id: 4000, k: 'e', n: 'div', c: added.map((c) => ({ ...c, c: [] })) });
  assert.deepEqual(rebuilder.apply([['add', 5, null, big]]), { ok: true });
  assert.equal(/** @type {Element} */ (rebuilder.node(4000)).children.length, 30);
  assert.equal(rebuilder.hasRest(), false);
});
