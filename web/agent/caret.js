// Where the customer's caret is inside a text field of the rebuilt page.
//
// A caret is only painted in a focused field, and the rebuilt page never takes focus (that would
// take the keyboard away from the workspace), so the viewer draws the caret in its overlay. Its
// position is measured with a canvas of the field's own document, so the page's web fonts are
// used, and textarea lines are wrapped as the browser wraps them (at spaces, else anywhere).

/** @typedef {import('./overlays.js').Rect} Rect */

/** Text inputs whose caret can be placed (the types with a selection API). */
const TEXT_TYPES = new Set(['', 'text', 'search', 'url', 'tel', 'password', 'email', 'number']);

/**
 * Whether an element is a field that shows a caret.
 * @param {Element} el
 * @returns {boolean}
 */
export function hasCaret(el) {
  if (el.localName === 'textarea') return true;
  if (el.localName !== 'input') return false;
  return TEXT_TYPES.has((el.getAttribute('type') ?? '').toLowerCase());
}

/**
 * @typedef {(text: string) => number} Measure
 */

/**
 * A text measurer in the field's font.
 * @param {HTMLElement} field
 * @returns {Measure | null}
 */
function measurerFor(field) {
  const doc = field.ownerDocument;
  const view = doc.defaultView;
  if (!view) return null;
  const style = view.getComputedStyle(field);
  /** @type {CanvasRenderingContext2D | null} */
  let ctx = null;
  try {
    ctx = doc.createElement('canvas').getContext('2d');
  } catch {
    ctx = null;
  }
  if (!ctx) return null;
  ctx.font = style.font || `${style.fontStyle} ${style.fontWeight} ${style.fontSize} ${style.fontFamily}`;
  const spacing = parseFloat(style.letterSpacing) || 0;
  const context = ctx;
  return (text) => context.measureText(text).width + spacing * text.length;
}

/**
 * The caret (and the selection, when start ≠ end) of a text field, in the viewport of the
 * field's own document. Null when it cannot be measured.
 * @param {HTMLInputElement | HTMLTextAreaElement} field
 * @param {number} start
 * @param {number} end
 * @returns {{caret: Rect, selection: Rect[]} | null}
 */
export function caretGeometry(field, start, end) {
  const view = field.ownerDocument.defaultView;
  if (!view) return null;
  const measure = measurerFor(field);
  if (!measure) return null;
  const style = view.getComputedStyle(field);
  const box = field.getBoundingClientRect();
  if (box.width <= 0 || box.height <= 0) return null;
  const px = (/** @type {string} */ v) => parseFloat(v) || 0;
  const left = box.left + px(style.borderLeftWidth) + px(style.paddingLeft);
  const top = box.top + px(style.borderTopWidth) + px(style.paddingTop);
  const fontSize = px(style.fontSize) || 13;
  const lineHeight = style.lineHeight === 'normal' || !px(style.lineHeight) ? Math.round(fontSize * 1.2) : px(style.lineHeight);
  const shown = field.type === 'password' ? '\u2022'.repeat(field.value.length) : field.value;
  const from = Math.max(0, Math.min(start, shown.length));
  const to = Math.max(from, Math.min(end, shown.length));
  if (field.localName !== 'textarea') {
    const innerHeight = box.height - px(style.borderTopWidth) - px(style.borderBottomWidth) - px(style.paddingTop) - px(style.paddingBottom);
    const y = top + Math.max(0, (innerHeight - lineHeight) / 2);
    const scroll = field.scrollLeft || 0;
    const x1 = left + measure(shown.slice(0, from)) - scroll;
    const x2 = left + measure(shown.slice(0, to)) - scroll;
    return {
      caret: { x: x1, y, w: 1, h: lineHeight },
      selection: to > from ? [{ x: x1, y, w: x2 - x1, h: lineHeight }] : [],
    };
  }
  const width = field.clientWidth - px(style.paddingLeft) - px(style.paddingRight);
  const lines = wrapLines(shown, width, measure, style.whiteSpace === 'pre' || style.whiteSpace === 'nowrap');
  const scrollTop = field.scrollTop || 0;
  const scrollLeft = field.scrollLeft || 0;
  /** @param {number} offset */
  const pointAt = (offset) => {
    let index = 0;
    for (let i = 0; i < lines.length; i++) {
      if (offset >= lines[i].start && offset <= lines[i].start + lines[i].text.length) index = i;
      if (lines[i].start > offset) break;
    }
    const line = lines[index];
    return { x: left + measure(line.text.slice(0, offset - line.start)) - scrollLeft, y: top + index * lineHeight - scrollTop, index };
  };
  const a = pointAt(from);
  const caret = { x: a.x, y: a.y, w: 1, h: lineHeight };
  /** @type {Rect[]} */
  const selection = [];
  if (to > from) {
    const b = pointAt(to);
    for (let i = a.index; i <= b.index; i++) {
      const line = lines[i];
      const x1 = i === a.index ? a.x : left - scrollLeft;
      const x2 = i === b.index ? b.x : left + measure(line.text) - scrollLeft;
      selection.push({ x: x1, y: top + i * lineHeight - scrollTop, w: Math.max(2, x2 - x1), h: lineHeight });
    }
  }
  return { caret, selection };
}

/**
 * Breaks text into the lines a textarea shows: at newlines, and where a line would overflow, after
 * the last space that fits (or anywhere in a word longer than the line).
 * @param {string} text
 * @param {number} width
 * @param {Measure} measure
 * @param {boolean} noWrap
 * @returns {Array<{start: number, text: string}>}
 */
export function wrapLines(text, width, measure, noWrap) {
  /** @type {Array<{start: number, text: string}>} */
  const lines = [];
  let offset = 0;
  for (const paragraph of text.split('\n')) {
    if (noWrap || width <= 0 || measure(paragraph) <= width) {
      lines.push({ start: offset, text: paragraph });
    } else {
      let lineStart = 0;
      while (lineStart < paragraph.length) {
        let fit = lineStart;
        let lastBreak = -1;
        while (fit < paragraph.length && measure(paragraph.slice(lineStart, fit + 1)) <= width) {
          if (paragraph[fit] === ' ') lastBreak = fit + 1;
          fit++;
        }
        if (fit >= paragraph.length) {
          lines.push({ start: offset + lineStart, text: paragraph.slice(lineStart) });
          break;
        }
        // Spaces at the end of a line hang over the edge in browsers.
        while (fit < paragraph.length && paragraph[fit] === ' ') {
          fit++;
          lastBreak = fit;
        }
        const cut = lastBreak > lineStart ? lastBreak : Math.max(fit, lineStart + 1);
        lines.push({ start: offset + lineStart, text: paragraph.slice(lineStart, cut) });
        lineStart = cut;
      }
      if (paragraph.length === 0) lines.push({ start: offset, text: '' });
    }
    offset += paragraph.length + 1;
  }
  return lines;
}
