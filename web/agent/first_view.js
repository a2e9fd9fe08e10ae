// Whether the first part of a page built in two steps may be shown on its own (rebuilder.js:
// `build` with a budget, then `buildMore`): a big page's style, layout and paint take longer
// than everything before them, while the customer's viewport usually shows a few hundred of its
// thousands of elements. The first part is shown only when the rest cannot change what the
// customer's viewport shows:
// - the rest holds no stylesheet;
// - every element whose children are not all built, and every ancestor of one, lays its content
//   out as plain block flow in horizontal lines (no flex, grid, table, columns or vertical writing), so what
//   is appended later goes after what is there;
// - what is built in those elements reaches below the bottom of the viewport, with a margin;
// - the page's scroll positions are reached (not cut short by the missing content).
// What no check can see: an element of the rest positioned over the viewport (a fixed banner at
// the end of the body) shows with the rest, one frame later.

/** Displays of elements whose later children flow after the built ones. */
const BLOCK_FLOW = new Set(['block', 'flow-root', 'list-item', 'contents']);

/** How far below the viewport the built part must reach, as a share of the viewport's height. */
export const BELOW_FOLD_SHARE = 0.25;

/** Nodes built in the first step before the first check; each further step builds twice as many. */
export const FIRST_STEP_NODES = 400;

/**
 * Checks made at most (each lays out what is built) before the page is built at once: with
 * 400, 800 and 1,600 more nodes, about 2,800 nodes must show the viewport.
 */
export const FIRST_VIEW_CHECKS = 3;

/**
 * Whether an element's later children flow after its earlier ones, top to bottom.
 * @param {CSSStyleDeclaration} style
 * @returns {boolean}
 */
function flowsDown(style) {
  const columns = style.columnCount !== '' && style.columnCount !== 'auto';
  const columnWidth = style.columnWidth !== '' && style.columnWidth !== 'auto';
  const writing = style.writingMode === '' || style.writingMode === 'horizontal-tb';
  return BLOCK_FLOW.has(style.display) && !columns && !columnWidth && writing;
}

/**
 * Whether the built content of `el` ends below `bottom` (viewport coordinates).
 * @param {Element} el
 * @param {number} bottom
 * @returns {boolean}
 */
function reachesBelow(el, bottom) {
  const doc = /** @type {Document} */ (el.ownerDocument);
  if (typeof doc.createRange !== 'function') return false;
  const range = doc.createRange();
  range.selectNodeContents(el);
  const rect = range.getBoundingClientRect?.();
  return !!rect && rect.bottom >= bottom;
}

/**
 * Whether a scrolled node sits where the snapshot put it (within a pixel).
 * @param {Node} node
 * @param {{x: number, y: number}} want
 * @returns {boolean}
 */
function scrolledTo(node, want) {
  const el = node.nodeType === 9
    ? /** @type {Document} */ (node).scrollingElement ?? /** @type {Document} */ (node).documentElement
    : /** @type {Element} */ (node);
  if (!el) return true;
  return Math.abs(el.scrollTop - want.y) < 1 && Math.abs(el.scrollLeft - want.x) < 1;
}

/**
 * Whether the part of the page built so far shows everything the customer's viewport shows.
 * Call after `rebuilder.restoreView()`; it reads the layout of the built part.
 * @param {import('./rebuilder.js').Rebuilder} rebuilder
 * @param {number} viewportHeight the customer's viewport height, the iframe's
 * @returns {boolean}
 */
export function firstViewComplete(rebuilder, viewportHeight) {
  const doc = rebuilder.document;
  const view = doc?.defaultView;
  if (!doc || !view || typeof view.getComputedStyle !== 'function' || !doc.documentElement) return false;
  if (rebuilder.restHasStyles()) return false;
  const open = rebuilder.openElements();
  if (!open.every((el) => el.ownerDocument === doc && el.isConnected)) return false;
  /** @type {Set<Element>} the open elements and all their ancestors */
  const around = new Set();
  for (const el of open) {
    for (let at = /** @type {Element | null} */ (el); at && !around.has(at); at = at.parentElement) around.add(at);
  }
  for (const el of around) {
    if (!flowsDown(view.getComputedStyle(el))) return false;
  }
  const bottom = viewportHeight * (1 + BELOW_FOLD_SHARE);
  if (!open.every((el) => reachesBelow(el, bottom))) return false;
  for (const scroll of rebuilder.view.scroll) {
    const node = rebuilder.node(scroll.id);
    if (node && !scrolledTo(node, scroll)) return false;
  }
  return true;
}
