// Overlays drawn in the workspace's own document, above the viewer's iframe and never inside the
// mirrored DOM: outlines of restricted (green) and masked (purple) elements, gray boxes over masked
// images, the customer's caret and text selection, the customer's pointer and click ripples, the
// agent's pointer (seen by observers), highlight strokes. (The customer's focus ring is drawn by
// the page's own styles; see states.js.)
//
// The overlay layer has the customer's viewport size and shares the iframe's zoom transform, so
// coordinates inside the iframe's viewport are coordinates in the layer.

/** @typedef {import('./rebuilder.js').NodeMarks} NodeMarks */
/** @typedef {import('./rebuilder.js').Rebuilder} Rebuilder */

/**
 * A rectangle in the customer's viewport coordinates.
 * @typedef {{x: number, y: number, w: number, h: number}} Rect
 */

/**
 * One outline to draw.
 * @typedef {object} Outline
 * @property {number} id The SDK node ID of the element.
 * @property {'restricted' | 'masked'} kind Green for restricted, purple for masked.
 * @property {boolean} restricted Whether the agent may not use it (an alert icon shows on hover).
 * @property {boolean} image A masked image: drawn as a gray box.
 * @property {Rect} rect
 */

/**
 * Decides which outlines to draw from the marks and where the elements are. Elements without a
 * box (not rendered) and boxes wholly outside the viewport are left out.
 * Masked wins over restricted for the color (a masked field is purple even when also restricted).
 * @param {Iterable<[number, NodeMarks]>} marks
 * @param {(id: number) => Rect | null} rectOf
 * @param {{w: number, h: number}} viewport
 * @returns {Outline[]}
 */
export function computeOutlines(marks, rectOf, viewport) {
  /** @type {Outline[]} */
  const out = [];
  for (const [id, mark] of marks) {
    if (!mark.mask && !mark.restricted) continue;
    const rect = rectOf(id);
    if (!rect || rect.w <= 0 || rect.h <= 0) continue;
    if (rect.x + rect.w < 0 || rect.y + rect.h < 0 || rect.x > viewport.w || rect.y > viewport.h) continue;
    out.push({
      id,
      kind: mark.mask ? 'masked' : 'restricted',
      restricted: mark.restricted || !!mark.mask,
      image: mark.mask === 'image',
      rect,
    });
  }
  return out;
}

/**
 * The box of a rebuilt node in the top rebuilt document's viewport, adding the offsets of nested
 * frames. Text nodes are measured with a range.
 * @param {Node} node
 * @param {Document | null} top the viewer's top rebuilt document
 * @returns {Rect | null}
 */
export function rectInViewport(node, top) {
  /** @type {DOMRect | null} */
  let box = null;
  const doc = node.ownerDocument;
  if (!doc) return null;
  if (node.nodeType === 1) {
    box = /** @type {Element} */ (node).getBoundingClientRect();
  } else if (node.nodeType === 3) {
    const range = doc.createRange();
    range.selectNodeContents(node);
    box = range.getBoundingClientRect();
  }
  if (!box) return null;
  let x = box.left;
  let y = box.top;
  let current = doc;
  while (current !== top) {
    const frame = current.defaultView?.frameElement;
    if (!frame || !frame.ownerDocument) return null;
    const frameBox = frame.getBoundingClientRect();
    x += frameBox.left + frame.clientLeft;
    y += frameBox.top + frame.clientTop;
    current = frame.ownerDocument;
  }
  return { x, y, w: box.width, h: box.height };
}

const SVG_NS = 'http://www.w3.org/2000/svg';

/** How long a click ripple and a highlight stroke stay, in milliseconds. */
export const RIPPLE_MS = 700;
export const STROKE_MS = 2500;

export class OverlayLayer {
  /**
   * @param {HTMLElement} layer an element positioned over the iframe, at the customer's viewport size
   */
  constructor(layer) {
    this.layer = layer;
    const doc = /** @type {Document} */ (layer.ownerDocument);
    this.doc = doc;
    this.outlines = this.part('cb-outlines');
    this.selection = this.part('cb-selection');
    this.caret = this.part('cb-caret');
    this.caret.hidden = true;
    this.caret.dataset.testid = 'customer-caret';
    /** where the caret was last placed */
    this.caretKey = '';
    this.strokes = /** @type {SVGSVGElement} */ (doc.createElementNS(SVG_NS, 'svg'));
    this.strokes.setAttribute('class', 'cb-strokes');
    layer.appendChild(this.strokes);
    this.pointer = this.part('cb-customer-pointer');
    this.pointer.hidden = true;
    this.pointer.setAttribute('aria-hidden', 'true');
    this.pointer.dataset.testid = 'customer-pointer';
    this.agentPointer = this.part('cb-agent-pointer');
    this.agentPointer.hidden = true;
    this.agentPointer.setAttribute('aria-hidden', 'true');
    this.agentPointer.dataset.testid = 'agent-pointer';
    this.agentLabel = this.doc.createElement('span');
    this.agentPointer.appendChild(this.agentLabel);
    /** @type {Map<number, HTMLElement>} */
    this.boxes = new Map();
    /** @type {number | null} */
    this.hoverId = null;
  }

  /**
   * @param {string} className
   * @returns {HTMLElement}
   */
  part(className) {
    const el = this.doc.createElement('div');
    el.className = className;
    this.layer.appendChild(el);
    return el;
  }

  /**
   * Draws the outlines, reusing the boxes of elements that are still outlined.
   * @param {Outline[]} outlines
   */
  setOutlines(outlines) {
    const seen = new Set();
    for (const outline of outlines) {
      seen.add(outline.id);
      let box = this.boxes.get(outline.id);
      if (!box) {
        box = this.doc.createElement('div');
        const icon = this.doc.createElement('span');
        icon.className = 'cb-alert-icon';
        icon.textContent = '!';
        icon.setAttribute('aria-hidden', 'true');
        box.appendChild(icon);
        this.outlines.appendChild(box);
        this.boxes.set(outline.id, box);
      }
      box.className = `cb-outline cb-outline-${outline.kind}${outline.image ? ' cb-masked-image' : ''}${outline.id === this.hoverId ? ' cb-hover' : ''}`;
      box.dataset.testid = `outline-${outline.kind}`;
      box.dataset.nodeId = String(outline.id);
      place(box, outline.rect);
    }
    for (const [id, box] of this.boxes) {
      if (!seen.has(id)) {
        box.remove();
        this.boxes.delete(id);
      }
    }
  }

  /**
   * Shows the alert icon on the outlined element under the agent's pointer.
   * @param {number | null} id
   */
  setHover(id) {
    if (id === this.hoverId) return;
    if (this.hoverId !== null) this.boxes.get(this.hoverId)?.classList.remove('cb-hover');
    this.hoverId = id;
    if (id !== null) this.boxes.get(id)?.classList.add('cb-hover');
  }

  /**
   * Shows the customer's caret and selection in a text field (null: none).
   * @param {{caret: Rect, selection: Rect[]} | null} geometry
   */
  setCaret(geometry) {
    this.caret.hidden = !geometry || geometry.selection.length > 0;
    if (geometry) {
      const c = geometry.caret;
      const key = `${c.x},${c.y},${c.h}`;
      if (key !== this.caretKey) {
        this.caretKey = key;
        place(this.caret, c);
        // Restart the blink where the caret moved, as a browser does.
        this.caret.classList.remove('cb-caret-blink');
        void this.caret.offsetWidth;
        this.caret.classList.add('cb-caret-blink');
      }
    } else {
      this.caretKey = '';
    }
    const boxes = geometry ? geometry.selection : [];
    while (this.selection.childElementCount > boxes.length) this.selection.lastElementChild?.remove();
    while (this.selection.childElementCount < boxes.length) {
      const box = this.doc.createElement('div');
      box.className = 'cb-selection-box';
      this.selection.appendChild(box);
    }
    boxes.forEach((rect, i) => place(/** @type {HTMLElement} */ (this.selection.children[i]), rect));
  }

  /**
   * Moves another agent's pointer (what an observer sees of the agent).
   * @param {number} x
   * @param {number} y
   * @param {string} name
   */
  showAgentPointer(x, y, name) {
    this.agentPointer.hidden = false;
    this.agentPointer.style.transform = `translate(${x}px, ${y}px)`;
    if (this.agentLabel.textContent !== name) this.agentLabel.textContent = name;
  }

  /**
   * Moves the customer's pointer.
   * @param {number} x
   * @param {number} y
   */
  showPointer(x, y) {
    this.pointer.hidden = false;
    this.pointer.style.transform = `translate(${x}px, ${y}px)`;
  }

  hidePointer() {
    this.pointer.hidden = true;
    this.agentPointer.hidden = true;
  }

  /**
   * A short ripple where someone clicked.
   * @param {number} x
   * @param {number} y
   * @param {'customer' | 'agent'} who
   */
  ripple(x, y, who) {
    const el = this.doc.createElement('div');
    el.className = `cb-ripple cb-ripple-${who}`;
    el.dataset.testid = `ripple-${who}`;
    el.style.left = `${x}px`;
    el.style.top = `${y}px`;
    this.layer.appendChild(el);
    setTimeout(() => el.remove(), RIPPLE_MS);
  }

  /**
   * Draws a stroke that fades away.
   * @param {Array<[number, number]>} points
   * @returns {SVGPolylineElement}
   */
  stroke(points) {
    const line = /** @type {SVGPolylineElement} */ (this.doc.createElementNS(SVG_NS, 'polyline'));
    line.setAttribute('class', 'cb-stroke');
    line.setAttribute('points', points.map(([x, y]) => `${x},${y}`).join(' '));
    this.strokes.appendChild(line);
    return line;
  }

  /**
   * @param {SVGPolylineElement} line
   * @param {Array<[number, number]>} points
   */
  extendStroke(line, points) {
    line.setAttribute('points', points.map(([x, y]) => `${x},${y}`).join(' '));
  }

  /** @param {SVGPolylineElement} line */
  fadeStroke(line) {
    line.classList.add('cb-stroke-fading');
    setTimeout(() => line.remove(), STROKE_MS);
  }

  /** Removes everything page-specific (a new page arrived). */
  clear() {
    this.setOutlines([]);
    this.setCaret(null);
    this.hoverId = null;
  }
}

/**
 * @param {HTMLElement} el
 * @param {Rect} rect
 */
function place(el, rect) {
  el.style.left = `${rect.x}px`;
  el.style.top = `${rect.y}px`;
  el.style.width = `${rect.w}px`;
  el.style.height = `${rect.h}px`;
}
