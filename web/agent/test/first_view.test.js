// When the first part of a page built in two steps may be shown alone (first_view.js). jsdom lays
// nothing out, so the layout it reads (computed styles, the built content's extent, scroll
// positions) is given by hand on stand-in elements.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BELOW_FOLD_SHARE, firstViewComplete } from '../first_view.js';

/**
 * A stand-in element with the layout first_view.js reads.
 * @param {Record<string, string>} style computed style
 * @param {number} bottom where its built content ends (viewport coordinates)
 * @param {any} [parent]
 */
function box(style, bottom, parent = null) {
  return { style: { display: 'block', columnCount: 'auto', columnWidth: 'auto', writingMode: 'horizontal-tb', ...style }, bottom, parentElement: parent, isConnected: true, ownerDocument: /** @type {any} */ (null), scrollTop: 0, scrollLeft: 0 };
}

/**
 * A stand-in rebuilder whose page stopped inside `open` (outermost first).
 * @param {{open: any[], root: any, styles?: boolean, scroll?: Array<{id: number, x: number, y: number}>, nodes?: Map<number, any>}} page
 */
function pageOf({ open, root, styles = false, scroll = [], nodes = new Map() }) {
  const doc = {
    documentElement: root,
    defaultView: { getComputedStyle: (/** @type {any} */ el) => el.style },
    createRange: () => {
      /** @type {any} */
      let of = null;
      return { selectNodeContents: (/** @type {any} */ el) => { of = el; }, getBoundingClientRect: () => ({ bottom: of.bottom }) };
    },
  };
  for (const el of [root, ...open]) el.ownerDocument = doc;
  return /** @type {any} */ ({
    document: doc,
    restHasStyles: () => styles,
    openElements: () => open,
    view: { scroll },
    node: (/** @type {number} */ id) => nodes.get(id),
  });
}

const HEIGHT = 800;
const BELOW = HEIGHT * (1 + BELOW_FOLD_SHARE);

test('a first part that reaches below the viewport in plain block flow may be shown', () => {
  const root = box({}, 0);
  const body = box({}, BELOW + 10, root);
  const main = box({}, BELOW + 5, body);
  assert.equal(firstViewComplete(pageOf({ open: [body, main], root }), HEIGHT), true);
});

test('it may not while what is built ends inside the viewport or just below it', () => {
  const root = box({}, 0);
  const body = box({}, BELOW + 10, root);
  const main = box({}, HEIGHT + 10, body);
  assert.equal(firstViewComplete(pageOf({ open: [body, main], root }), HEIGHT), false);
});

test('it may not when later content could move what is built: flex, grid, table, columns, vertical text', () => {
  /** @type {Array<Record<string, string>>} */
  const styles = [{ display: 'flex' }, { display: 'grid' }, { display: 'table' }, { display: 'inline-block' }, { columnCount: '2' }, { columnWidth: '20em' }, { writingMode: 'vertical-rl' }];
  for (const style of styles) {
    const root = box({}, 0);
    const body = box({}, BELOW + 10, root);
    const main = box(style, BELOW + 10, body);
    assert.equal(firstViewComplete(pageOf({ open: [main], root }), HEIGHT), false, JSON.stringify(style));
    // An ancestor laid out so counts as well, even when it has nothing left to build itself.
    const outer = box(style, BELOW + 10, root);
    const inner = box({}, BELOW + 10, outer);
    assert.equal(firstViewComplete(pageOf({ open: [inner], root }), HEIGHT), false, `ancestor ${JSON.stringify(style)}`);
  }
});

test('it may not while a stylesheet is still to come or a scroll position is not reached', () => {
  const root = box({}, 0);
  const body = box({}, BELOW + 10, root);
  assert.equal(firstViewComplete(pageOf({ open: [body], root, styles: true }), HEIGHT), false);
  const scroller = box({}, 0);
  scroller.scrollTop = 300; // cut short: the customer's is at 900
  const nodes = new Map([[7, scroller]]);
  assert.equal(firstViewComplete(pageOf({ open: [body], root, scroll: [{ id: 7, x: 0, y: 900 }], nodes }), HEIGHT), false);
  scroller.scrollTop = 900;
  assert.equal(firstViewComplete(pageOf({ open: [body], root, scroll: [{ id: 7, x: 0, y: 900 }], nodes }), HEIGHT), true);
  assert.equal(firstViewComplete(pageOf({ open: [body], root, scroll: [{ id: 8, x: 0, y: 900 }], nodes }), HEIGHT), true, 'a node not built yet is scrolled once it is');
});
