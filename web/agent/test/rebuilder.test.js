import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compatModeOf, shellHtml, baseUrlOf } from '../rebuilder.js';
import { rebuild, page, normalizeDom, normalizeSerialized, expectRefusals } from './dom.js';

/** @typedef {import('../../sdk/protocol.js').SerializedNode} SerializedNode */
/** @typedef {import('../../sdk/protocol.js').Op} Op */

/** @type {SerializedNode[]} */
const RICH_BODY = [
  { id: 10, k: 'e', n: 'h1', a: { class: 'title', 'data-x': '1' }, c: [{ id: 11, k: 'x', v: 'Your cart' }] },
  { id: 12, k: 'c', v: ' a comment ' },
  {
    id: 13,
    k: 'e',
    n: 'ul',
    c: [
      { id: 14, k: 'e', n: 'li', c: [{ id: 15, k: 'x', v: 'one' }] },
      { id: 16, k: 'e', n: 'li', c: [{ id: 17, k: 'x', v: 'two' }] },
    ],
  },
  {
    id: 18,
    k: 'e',
    n: 'svg',
    ns: 'http://www.w3.org/2000/svg',
    a: { viewBox: '0 0 10 10' },
    c: [{ id: 19, k: 'e', n: 'circle', ns: 'http://www.w3.org/2000/svg', a: { cx: '5', cy: '5', r: '4' } }],
  },
  {
    id: 20,
    k: 'e',
    n: 'my-widget',
    sh: { id: 21, k: 'f', c: [{ id: 22, k: 'e', n: 'b', c: [{ id: 23, k: 'x', v: 'inside' }] }] },
  },
];

test('a snapshot is rebuilt node for node', () => {
  const snapshot = page(RICH_BODY);
  const { doc, rebuilder, result } = rebuild(snapshot);
  assert.deepEqual(result, { ok: true });
  assert.deepEqual(normalizeDom(doc), normalizeSerialized(snapshot.doc));
  assert.equal(rebuilder.node(1), doc);
  assert.equal(rebuilder.documentId, 1);
  const h1 = /** @type {Element} */ (rebuilder.node(10));
  assert.equal(h1.localName, 'h1');
  assert.equal(rebuilder.idOf(h1), 10);
  const circle = /** @type {Element} */ (rebuilder.node(19));
  assert.equal(circle.namespaceURI, 'http://www.w3.org/2000/svg');
  assert.equal(/** @type {Element} */ (rebuilder.node(18)).getAttribute('viewBox'), '0 0 10 10');
  const host = /** @type {Element} */ (rebuilder.node(20));
  assert.ok(host.shadowRoot, 'shadow root attached');
  assert.equal(host.shadowRoot.mode, 'open');
  assert.equal(rebuilder.node(21), host.shadowRoot);
  assert.equal(host.shadowRoot.textContent, 'inside');
});

test('add inserts before a sibling or at the end', () => {
  const { doc, rebuilder } = rebuild(page(RICH_BODY));
  const result = rebuilder.apply([
    ['add', 13, 16, { id: 30, k: 'e', n: 'li', c: [{ id: 31, k: 'x', v: 'middle' }] }],
    ['add', 13, null, { id: 32, k: 'e', n: 'li', c: [{ id: 33, k: 'x', v: 'last' }] }],
  ]);
  assert.deepEqual(result, { ok: true });
  const items = Array.from(doc.querySelectorAll('li')).map((li) => li.textContent);
  assert.deepEqual(items, ['one', 'middle', 'two', 'last']);
  assert.equal(rebuilder.idOf(doc.querySelectorAll('li')[1]), 30);
});

test('add of a known id moves the node', () => {
  const { doc, rebuilder } = rebuild(page(RICH_BODY));
  const result = rebuilder.apply([['add', 13, 14, { id: 16, k: 'e', n: 'li', c: [{ id: 17, k: 'x', v: 'two' }] }]]);
  assert.deepEqual(result, { ok: true });
  assert.deepEqual(Array.from(doc.querySelectorAll('li')).map((li) => li.textContent), ['two', 'one']);
});

test('rm removes the subtree and forgets its ids', () => {
  const { doc, rebuilder } = rebuild(page(RICH_BODY));
  assert.deepEqual(rebuilder.apply([['rm', 13]]), { ok: true });
  assert.equal(doc.querySelector('ul'), null);
  for (const id of [13, 14, 15, 16, 17]) assert.equal(rebuilder.node(id), undefined, `id ${id} forgotten`);
  // A later op on a forgotten node is a resync, not an exception.
  const later = rebuilder.apply([['text', 15, 'x']]);
  assert.equal(later.ok, false);
});

test('attr sets and removes attributes', () => {
  const { rebuilder } = rebuild(page(RICH_BODY));
  const h1 = /** @type {Element} */ (rebuilder.node(10));
  assert.deepEqual(rebuilder.apply([['attr', 10, 'class', 'big'], ['attr', 10, 'data-x', null], ['attr', 19, 'xlink:href', '#a']]), { ok: true });
  assert.equal(h1.getAttribute('class'), 'big');
  assert.equal(h1.hasAttribute('data-x'), false);
  const circle = /** @type {Element} */ (rebuilder.node(19));
  assert.equal(circle.getAttributeNS('http://www.w3.org/1999/xlink', 'href'), '#a');
});

test('text changes text and comment data', () => {
  const { rebuilder } = rebuild(page(RICH_BODY));
  assert.deepEqual(rebuilder.apply([['text', 11, 'Basket'], ['text', 12, 'changed']]), { ok: true });
  assert.equal(/** @type {Text} */ (rebuilder.node(11)).data, 'Basket');
  assert.equal(/** @type {Comment} */ (rebuilder.node(12)).data, 'changed');
});

test('css replaces a style sheet through the CSSOM and keeps the source text node', () => {
  const snapshot = page([]);
  const head = /** @type {SerializedNode} */ (snapshot.doc.c?.[1].c?.[0]);
  head.c = [{ id: 40, k: 'e', n: 'style', c: [{ id: 41, k: 'x', v: 'p { color: red; }' }] }];
  const { rebuilder } = rebuild(snapshot);
  const style = /** @type {HTMLStyleElement} */ (rebuilder.node(40));
  assert.deepEqual(rebuilder.apply([['css', 40, 'p { color: blue; } a { margin: 0px; }']]), { ok: true });
  const rules = Array.from(style.sheet?.cssRules ?? []).map((r) => r.cssText);
  assert.equal(rules.length, 2);
  assert.match(rules[0], /blue/);
  assert.equal(rebuilder.node(41)?.parentNode, style, 'the source text node stays');
  assert.deepEqual(rebuilder.apply([['css', 40, null]]), { ok: true });
  assert.match(Array.from(style.sheet?.cssRules ?? []).map((r) => r.cssText).join(' '), /red/);
});

test('css on a non-stylesheet element asks for a resync', () => {
  const { rebuilder } = rebuild(page(RICH_BODY));
  const result = rebuilder.apply([['css', 10, 'p{}']]);
  assert.equal(result.ok, false);
});

test('adopt records adopted sheets of documents and shadow roots', () => {
  const { rebuilder } = rebuild(page(RICH_BODY));
  assert.deepEqual(rebuilder.apply([['adopt', 1, ['body { margin: 0 }']], ['adopt', 21, ['b { color: red }']]]), { ok: true });
  assert.deepEqual(rebuilder.adopted.get(1), ['body { margin: 0 }']);
  assert.deepEqual(rebuilder.adopted.get(21), ['b { color: red }']);
  assert.equal(rebuilder.apply([['adopt', 10, []]]).ok, false, 'an element cannot adopt sheets');
});

test('mark changes masks and restrictions without touching the DOM', () => {
  const { rebuilder } = rebuild(page(RICH_BODY));
  const h1 = /** @type {Element} */ (rebuilder.node(10));
  const before = h1.outerHTML;
  assert.deepEqual(rebuilder.apply([['mark', 10, 'text', true]]), { ok: true });
  assert.deepEqual(rebuilder.marks.get(10), { mask: 'text', restricted: true });
  assert.equal(h1.outerHTML, before);
  assert.deepEqual(rebuilder.markedAncestor(rebuilder.node(11) ?? null), { id: 10, marks: { mask: 'text', restricted: true } });
  assert.deepEqual(rebuilder.apply([['mark', 10, null, false]]), { ok: true });
  assert.equal(rebuilder.marks.has(10), false);
});

test('shadow on an element that cannot host one asks for a resync', () => {
  const { rebuilder } = rebuild(page(RICH_BODY));
  const result = rebuilder.apply([['shadow', 13, { id: 50, k: 'f', c: [{ id: 51, k: 'x', v: 'shadowed' }] }]]);
  assert.equal(result.ok, false);
  assert.equal(/** @type {Element} */ (rebuilder.node(13)).shadowRoot, null);
});

test('shadow attaches a shadow root, and a second one replaces the first', () => {
  const { rebuilder } = rebuild(page([{ id: 60, k: 'e', n: 'div' }]));
  assert.deepEqual(rebuilder.apply([['shadow', 60, { id: 61, k: 'f', c: [{ id: 62, k: 'x', v: 'first' }] }]]), { ok: true });
  const div = /** @type {Element} */ (rebuilder.node(60));
  assert.equal(div.shadowRoot?.textContent, 'first');
  assert.deepEqual(rebuilder.apply([['shadow', 60, { id: 63, k: 'f', c: [{ id: 64, k: 'x', v: 'second' }] }]]), { ok: true });
  assert.equal(div.shadowRoot?.textContent, 'second');
  assert.equal(rebuilder.node(62), undefined);
  assert.equal(rebuilder.node(63), div.shadowRoot);
  assert.equal(rebuilder.apply([['shadow', 60, { id: 65, k: 'e', n: 'p' }]]).ok, false, 'a root must be of kind f');
});

test('frame builds a nested document from fd and replaces or clears it', () => {
  /** @type {SerializedNode} */
  const inner = {
    id: 71,
    k: 'd',
    c: [{ id: 72, k: 't', n: 'html' }, { id: 73, k: 'e', n: 'html', c: [{ id: 74, k: 'e', n: 'head' }, { id: 75, k: 'e', n: 'body', c: [{ id: 76, k: 'x', v: 'framed' }] }] }],
  };
  const { rebuilder } = rebuild(page([{ id: 70, k: 'e', n: 'iframe', a: { src: '/inner.html', title: 'inner' }, fd: inner }]));
  const frame = /** @type {HTMLIFrameElement} */ (rebuilder.node(70));
  assert.equal(frame.hasAttribute('src'), false, 'the customer URL is never loaded');
  assert.equal(frame.contentDocument?.body.textContent, 'framed');
  assert.equal(rebuilder.node(71), frame.contentDocument);
  assert.equal(frame.contentDocument?.compatMode, 'CSS1Compat');
  assert.deepEqual(rebuilder.apply([['text', 76, 'changed']]), { ok: true });
  assert.equal(frame.contentDocument?.body.textContent, 'changed');
  /** @type {SerializedNode} */
  const next = { id: 80, k: 'd', c: [{ id: 81, k: 'e', n: 'html', c: [{ id: 82, k: 'e', n: 'body', c: [{ id: 83, k: 'x', v: 'next' }] }] }] };
  assert.deepEqual(rebuilder.apply([['frame', 70, next]]), { ok: true });
  assert.equal(frame.contentDocument?.body.textContent, 'next');
  assert.equal(frame.contentDocument?.compatMode, 'BackCompat', 'no doctype: quirks');
  assert.equal(rebuilder.node(76), undefined);
  assert.deepEqual(rebuilder.apply([['frame', 70, null]]), { ok: true });
  assert.equal(rebuilder.node(83), undefined);
  assert.equal(rebuilder.apply([['frame', 10, null]]).ok, false, 'not an iframe');
});

test('ops on unknown nodes ask for a resync instead of throwing, and stop the batch', () => {
  const { rebuilder, doc } = rebuild(page(RICH_BODY));
  /** @type {Array<[Op, RegExp]>} */
  const cases = [
    [['add', 999, null, { id: 90, k: 'x', v: 'x' }], /unknown node 999/],
    [['add', 13, 999, { id: 90, k: 'x', v: 'x' }], /unknown node 999/],
    [['add', 13, 11, { id: 90, k: 'x', v: 'x' }], /not a child/],
    [['add', 11, null, { id: 90, k: 'x', v: 'x' }], /cannot have children/],
    [['add', 13, null, { id: 90, k: 'd' }], /cannot be a child/],
    [['rm', 999], /unknown node 999/],
    [['attr', 999, 'class', 'x'], /unknown node 999/],
    [['attr', 11, 'class', 'x'], /not an element/],
    [['text', 999, 'x'], /unknown node 999/],
    [['text', 10, 'x'], /not text/],
    [['css', 999, 'x'], /unknown node 999/],
    [['adopt', 999, []], /unknown node 999/],
    [['mark', 999, null, true], /unknown node 999/],
    [['shadow', 999, { id: 91, k: 'f' }], /unknown node 999/],
    [['frame', 999, null], /unknown node 999/],
    [/** @type {Op} */ (/** @type {unknown} */ (['warp', 1])), /unknown op/],
    [/** @type {Op} */ (/** @type {unknown} */ ({})), /malformed/],
  ];
  expectRefusals(rebuilder, cases);
  const batch = rebuilder.apply([['text', 11, 'first'], ['rm', 999], ['text', 15, 'never']]);
  assert.equal(batch.ok, false);
  if (!batch.ok) assert.match(batch.reason, /^op 1:/);
  assert.equal(/** @type {Text} */ (rebuilder.node(11)).data, 'first');
  assert.equal(/** @type {Text} */ (rebuilder.node(15)).data, 'one', 'ops after a failure are not applied');
  assert.equal(doc.querySelectorAll('li').length, 2);
});

test('input, scroll and focus on unknown nodes ask for a resync', () => {
  const { rebuilder } = rebuild(page(RICH_BODY));
  assert.equal(rebuilder.applyInput({ id: 999, v: 'x' }).ok, false);
  assert.equal(rebuilder.applyScroll({ id: 999, x: 0, y: 0 }).ok, false);
  assert.equal(rebuilder.applyFocus({ id: 999 }).ok, false);
  assert.deepEqual(rebuilder.applyFocus({ id: null }), { ok: true });
  assert.deepEqual(rebuilder.applyScroll({ id: 13, x: 0, y: 10 }), { ok: true });
});

test('a snapshot without a document node is refused', () => {
  const snapshot = page([]);
  snapshot.doc = { id: 1, k: 'e', n: 'html' };
  const { result } = rebuild(snapshot);
  assert.equal(result.ok, false);
});

test('apply before any snapshot asks for one', () => {
  const { rebuilder } = rebuild(page([]));
  rebuilder.document = null;
  assert.equal(rebuilder.apply([['rm', 3]]).ok, false);
});
