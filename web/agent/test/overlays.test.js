import { test } from 'node:test';
import assert from 'node:assert/strict';
import { computeOutlines, OverlayLayer } from '../overlays.js';
import { rebuild, page, hostPage } from './dom.js';

/** @typedef {import('../rebuilder.js').NodeMarks} NodeMarks */

const VIEWPORT = { w: 800, h: 600 };

test('restricted elements get green outlines, masked ones purple, masked images a gray box', () => {
  /** @type {Array<[number, NodeMarks]>} */
  const marks = [
    [1, { mask: null, restricted: true }],
    [2, { mask: 'value', restricted: false }],
    [3, { mask: 'image', restricted: false }],
    [4, { mask: 'text', restricted: true }],
  ];
  const rects = new Map([
    [1, { x: 10, y: 10, w: 100, h: 30 }],
    [2, { x: 10, y: 50, w: 200, h: 24 }],
    [3, { x: 300, y: 50, w: 64, h: 64 }],
    [4, { x: 10, y: 90, w: 50, h: 20 }],
  ]);
  const outlines = computeOutlines(marks, (id) => rects.get(id) ?? null, VIEWPORT);
  assert.deepEqual(
    outlines.map((o) => [o.id, o.kind, o.image, o.restricted]),
    [
      [1, 'restricted', false, true],
      [2, 'masked', false, true],
      [3, 'masked', true, true],
      [4, 'masked', false, true],
    ],
  );
  assert.deepEqual(outlines[0].rect, { x: 10, y: 10, w: 100, h: 30 });
});

test('elements without a box or outside the viewport get no outline', () => {
  /** @type {Array<[number, NodeMarks]>} */
  const marks = [
    [1, { mask: null, restricted: true }],
    [2, { mask: null, restricted: true }],
    [3, { mask: null, restricted: true }],
    [4, { mask: null, restricted: true }],
    [5, { mask: null, restricted: false }],
  ];
  const rects = new Map([
    [1, { x: 10, y: 10, w: 0, h: 0 }],
    [2, { x: 10, y: 900, w: 50, h: 20 }],
    [3, { x: -100, y: 10, w: 50, h: 20 }],
    [5, { x: 10, y: 10, w: 50, h: 20 }],
  ]);
  assert.deepEqual(computeOutlines(marks, (id) => rects.get(id) ?? null, VIEWPORT), []);
});

test('outlines follow the rebuilder marks, and the overlay draws them outside the rebuilt page', () => {
  const { rebuilder, doc, document } = rebuild(
    page([
      { id: 10, k: 'e', n: 'button', a: { type: 'submit' }, r: true, c: [{ id: 11, k: 'x', v: 'Pay' }] },
      { id: 12, k: 'e', n: 'input', a: { name: 'card' }, m: 'value', st: { v: '****' } },
      { id: 13, k: 'e', n: 'img', a: { width: '40', height: '40' }, m: 'image' },
    ]),
  );
  const boxes = new Map([
    [10, { x: 5, y: 5, w: 60, h: 20 }],
    [12, { x: 5, y: 30, w: 120, h: 20 }],
    [13, { x: 5, y: 60, w: 40, h: 40 }],
  ]);
  const outlines = computeOutlines(rebuilder.marks, (id) => boxes.get(id) ?? null, VIEWPORT);
  assert.deepEqual(outlines.map((o) => [o.id, o.kind, o.image]), [[10, 'restricted', false], [12, 'masked', false], [13, 'masked', true]]);

  const layerEl = document.createElement('div');
  document.body.appendChild(layerEl);
  const layer = new OverlayLayer(layerEl);
  layer.setOutlines(outlines);
  const drawn = Array.from(layerEl.querySelectorAll('.cb-outline'));
  assert.equal(drawn.length, 3);
  assert.equal(drawn[0].getAttribute('data-testid'), 'outline-restricted');
  assert.ok(drawn[2].classList.contains('cb-masked-image'));
  assert.equal(/** @type {HTMLElement} */ (drawn[1]).style.width, '120px');
  layer.setHover(10);
  assert.ok(drawn[0].classList.contains('cb-hover'), 'the alert icon shows on hover');
  assert.equal(doc.querySelectorAll('.cb-outline').length, 0, 'nothing is drawn inside the mirrored DOM');
  layer.setOutlines(outlines.slice(1));
  assert.equal(layerEl.querySelectorAll('.cb-outline').length, 2);
});

test('the customer pointer and ripples are drawn in the overlay', () => {
  const { document } = hostPage();
  const layerEl = document.createElement('div');
  document.body.appendChild(layerEl);
  const layer = new OverlayLayer(layerEl);
  layer.showPointer(12, 34);
  const pointer = /** @type {HTMLElement} */ (layerEl.querySelector('[data-testid="customer-pointer"]'));
  assert.equal(pointer.hidden, false);
  assert.equal(pointer.style.transform, 'translate(12px, 34px)');
  layer.setCaret({ caret: { x: 10, y: 10, w: 1, h: 16 }, selection: [] });
  const caret = /** @type {HTMLElement} */ (layerEl.querySelector('[data-testid="customer-caret"]'));
  assert.equal(caret.hidden, false);
  assert.equal(caret.style.left, '10px');
  layer.setCaret({ caret: { x: 10, y: 10, w: 1, h: 16 }, selection: [{ x: 10, y: 10, w: 30, h: 16 }] });
  assert.equal(caret.hidden, true, 'a selection shows instead of the caret');
  assert.equal(layerEl.querySelectorAll('.cb-selection-box').length, 1);
  layer.setCaret(null);
  assert.equal(layerEl.querySelectorAll('.cb-selection-box').length, 0);
  layer.showAgentPointer(5, 6, 'Alice');
  const agent = /** @type {HTMLElement} */ (layerEl.querySelector('[data-testid="agent-pointer"]'));
  assert.equal(agent.hidden, false);
  assert.equal(agent.textContent, 'Alice');
});
