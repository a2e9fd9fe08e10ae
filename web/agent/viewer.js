// The virtual browser: a sandboxed iframe at the customer's viewport size inside a scrollable
// area, the overlay layer above it, zoom (fit or 1:1), and the agent's input on the rebuilt page.
//
// The iframe runs no script, so the agent's mouse and keyboard are read from the parent through
// the same-origin document's listeners. Nothing the agent does changes the rebuilt page locally:
// in pointer mode the agent's pointer and clicks are only shown to the customer; in write mode
// they become actions on node IDs, carried out on the customer's page, whose changes come back.

import { Rebuilder, compatModeOf, isTextField, resetDocument, safeCharset, shellHtml } from './rebuilder.js';
import { OverlayLayer, computeOutlines, rectInViewport } from './overlays.js';

/** @typedef {import('../sdk/protocol.js').Snapshot} Snapshot */
/** @typedef {import('../sdk/protocol.js').Frame} Frame */
/** @typedef {import('../sdk/protocol.js').ActionKind} ActionKind */
/** @typedef {import('../sdk/protocol.js').Viewport} Viewport */
/** @typedef {import('../sdk/protocol.js').Mode} Mode */
/** @typedef {import('./rebuilder.js').ApplyResult} ApplyResult */

/**
 * What the viewer asks of the workspace.
 * @typedef {object} ViewerHooks
 * @property {(x: number, y: number) => void} pointer The agent's pointer moved (viewport coords).
 * @property {(x: number, y: number, id: number | undefined) => void} click A pointer-mode click.
 * @property {(points: Array<[number, number]>) => void} highlight A finished highlight stroke.
 * @property {(action: ActionKind) => void} action A write-mode action.
 * @property {(reason: string) => void} resync The rebuilt page no longer matches; get a fresh one.
 * @property {(text: string) => void} notice Something to tell the agent.
 * @property {(page: {url: string, title: string}) => void} page The page shown changed.
 */

/** Pointer moves are sent at most this often; the last position is always sent. */
export const POINTER_INTERVAL_MS = 50;
/** Write-mode scrolls are sent at most this often. */
export const SCROLL_INTERVAL_MS = 80;
/** How long a new shell document may take to load before building in place. */
const SHELL_TIMEOUT_MS = 3000;

/** Keys sent as `key` actions rather than as edited values. */
const EDITING_KEYS = new Set(['Enter', 'Escape', 'ArrowUp', 'ArrowDown', 'ArrowLeft', 'ArrowRight', 'Home', 'End', 'PageUp', 'PageDown']);

/**
 * Calls `fn` at most every `ms`, always delivering the last call.
 * @template {unknown[]} A
 * @param {(...args: A) => void} fn
 * @param {number} ms
 * @returns {(...args: A) => void}
 */
export function throttle(fn, ms) {
  let last = 0;
  /** @type {ReturnType<typeof setTimeout> | null} */
  let timer = null;
  /** @type {A | null} */
  let pending = null;
  return (...args) => {
    const now = Date.now();
    const wait = last + ms - now;
    if (wait <= 0 && timer === null) {
      last = now;
      fn(...args);
      return;
    }
    pending = args;
    if (timer === null) {
      timer = setTimeout(() => {
        timer = null;
        last = Date.now();
        if (pending) {
          const call = pending;
          pending = null;
          fn(...call);
        }
      }, Math.max(0, wait));
    }
  };
}

/**
 * The scale that fits a viewport into an area, never enlarging.
 * @param {{w: number, h: number}} viewport
 * @param {{w: number, h: number}} area
 * @returns {number}
 */
export function fitScale(viewport, area) {
  if (viewport.w <= 0 || viewport.h <= 0 || area.w <= 0 || area.h <= 0) return 1;
  return Math.min(1, area.w / viewport.w, area.h / viewport.h);
}

/**
 * The value a text field would have after typing `text` over its selection.
 * @param {string} value
 * @param {number} start
 * @param {number} end
 * @param {string} text
 * @returns {{value: string, caret: number}}
 */
export function replaceSelection(value, start, end, text) {
  return { value: value.slice(0, start) + text + value.slice(end), caret: start + text.length };
}

/**
 * The value after Backspace or Delete.
 * @param {string} value
 * @param {number} start
 * @param {number} end
 * @param {'Backspace' | 'Delete'} key
 * @returns {{value: string, caret: number}}
 */
export function deleteAtSelection(value, start, end, key) {
  if (start !== end) return replaceSelection(value, start, end, '');
  if (key === 'Backspace') return start === 0 ? { value, caret: 0 } : replaceSelection(value, start - 1, start, '');
  return end >= value.length ? { value, caret: start } : replaceSelection(value, start, end + 1, '');
}

export class Viewer {
  /**
   * @param {HTMLElement} area the scrollable container the virtual browser lives in
   * @param {ViewerHooks} hooks
   * @param {{proxy?: (absolute: string) => string}} [options]
   */
  constructor(area, hooks, options = {}) {
    this.area = area;
    this.hooks = hooks;
    const doc = /** @type {Document} */ (area.ownerDocument);
    this.doc = doc;
    this.rebuilder = new Rebuilder({ proxy: options.proxy });
    this.sizer = doc.createElement('div');
    this.sizer.className = 'cb-sizer';
    this.stage = doc.createElement('div');
    this.stage.className = 'cb-stage';
    this.frame = doc.createElement('iframe');
    // No allow-scripts: nothing of the customer's page can ever run. allow-same-origin only so this
    // document can build the rebuilt DOM. No allow-top-navigation, allow-popups or allow-forms.
    this.frame.setAttribute('sandbox', 'allow-same-origin');
    this.frame.setAttribute('title', 'Customer’s page');
    this.frame.id = 'virtual-browser';
    this.frame.dataset.testid = 'virtual-browser';
    this.frame.className = 'cb-frame';
    this.overlayEl = doc.createElement('div');
    this.overlayEl.className = 'cb-overlay';
    this.drawLayer = doc.createElement('div');
    this.drawLayer.className = 'cb-draw-layer';
    this.drawLayer.dataset.testid = 'highlight-layer';
    this.stage.append(this.frame, this.overlayEl, this.drawLayer);
    this.sizer.appendChild(this.stage);
    area.appendChild(this.sizer);
    this.overlay = new OverlayLayer(this.overlayEl);

    /** @type {Viewport} */
    this.viewport = { w: 1280, h: 800, dpr: 1 };
    /** @type {'fit' | 'actual'} */
    this.zoomMode = 'fit';
    this.scale = 1;
    /** @type {Mode} */
    this.mode = 'pointer';
    this.highlighting = false;
    /** @type {Promise<void>} frames are handled one after another */
    this.queue = Promise.resolve();
    /** @type {string | null} mode + charset of the current shell document */
    this.shellKey = null;
    /** @type {Document | null} */
    this.listening = null;
    /** @type {Map<number, {x: number, y: number}>} scrolls we applied, to tell them from the agent's */
    this.appliedScroll = new Map();
    /** @type {{id: number, value: string, caret: number, at: number} | null} the agent's last edit */
    this.lastEdit = null;
    this.outlinesScheduled = false;
    this.hasPage = false;

    this.sendPointer = throttle((/** @type {number} */ x, /** @type {number} */ y) => hooks.pointer(x, y), POINTER_INTERVAL_MS);
    this.sendScroll = throttle((/** @type {number} */ id, /** @type {number} */ x, /** @type {number} */ y) => hooks.action({ do: 'scroll', id, x, y }), SCROLL_INTERVAL_MS);

    this.setupDrawLayer();
    const view = doc.defaultView;
    view?.addEventListener('resize', () => this.applyZoom());
    if (view && 'ResizeObserver' in view) new view.ResizeObserver(() => this.applyZoom()).observe(area);
    this.applyZoom();
  }

  /**
   * Queues a page frame (snapshot, mut, input, scroll, viewport, focus, pointer, click, highlight).
   * @param {Frame} frame
   * @returns {Promise<void>}
   */
  handle(frame) {
    this.queue = this.queue.then(() => this.handleNow(frame)).catch((err) => {
      this.hooks.resync(`viewer: ${err instanceof Error ? err.message : String(err)}`);
    });
    return this.queue;
  }

  /**
   * @param {Frame} frame
   */
  async handleNow(frame) {
    switch (frame.tag) {
      case 'snapshot':
        await this.showSnapshot(frame.body);
        return;
      case 'mut':
        this.check(this.rebuilder.apply(frame.body.ops));
        this.scheduleOutlines();
        return;
      case 'input': {
        if (!this.hasPage) return;
        this.check(this.rebuilder.applyInput(frame.body));
        this.keepCaret(frame.body.id);
        return;
      }
      case 'scroll':
        if (!this.hasPage) return;
        this.appliedScroll.set(frame.body.id, { x: frame.body.x, y: frame.body.y });
        this.check(this.rebuilder.applyScroll(frame.body));
        this.scheduleOutlines();
        return;
      case 'viewport':
        this.setViewport(frame.body);
        return;
      case 'focus':
        if (!this.hasPage) return;
        this.check(this.rebuilder.applyFocus(frame.body));
        this.scheduleOutlines();
        return;
      case 'pointer':
        if (!frame.body.by || frame.body.by.role === 'customer') this.overlay.showPointer(frame.body.x, frame.body.y);
        return;
      case 'click':
        if (!frame.body.by || frame.body.by.role === 'customer') this.overlay.ripple(frame.body.x, frame.body.y, 'customer');
        return;
      case 'highlight':
        if (frame.body.points.length) this.overlay.fadeStroke(this.overlay.stroke(frame.body.points));
        return;
      default:
        return;
    }
  }

  /**
   * @param {ApplyResult} result
   */
  check(result) {
    if (!result.ok && result.resync) this.hooks.resync(result.reason);
  }

  /**
   * Builds a new page: a fresh shell document when the rendering mode or charset changed, then
   * the DOM from the snapshot.
   * @param {Snapshot} snapshot
   */
  async showSnapshot(snapshot) {
    const mode = compatModeOf(snapshot);
    const charset = safeCharset(snapshot.charset);
    const key = `${mode}|${charset.toLowerCase()}`;
    let doc = this.frame.contentDocument;
    if (!doc || key !== this.shellKey) {
      doc = await this.loadShell(shellHtml(mode), charset, mode);
      this.shellKey = key;
    }
    this.overlay.clear();
    this.appliedScroll.clear();
    this.setViewport(snapshot.vp);
    for (const scroll of snapshot.scroll ?? []) this.appliedScroll.set(scroll.id, { x: scroll.x, y: scroll.y });
    const result = this.rebuilder.build(snapshot, doc);
    this.hasPage = result.ok;
    this.listen(doc);
    this.check(result);
    this.hooks.page({ url: snapshot.url, title: snapshot.title ?? '' });
    this.scheduleOutlines();
  }

  /**
   * Loads a document holding only the shell markup, with the customer's charset, into the iframe.
   * Falls back to writing the shell synchronously where blob documents are not available.
   * @param {string} html
   * @param {string} charset
   * @param {import('../sdk/protocol.js').CompatMode} mode
   * @returns {Promise<Document>}
   */
  async loadShell(html, charset, mode) {
    const view = this.doc.defaultView;
    const canBlob = !!view && typeof view.Blob === 'function' && typeof view.URL?.createObjectURL === 'function' && this.frame.isConnected;
    if (canBlob && view) {
      const url = view.URL.createObjectURL(new view.Blob([html], { type: `text/html;charset=${charset}` }));
      try {
        const loaded = await new Promise((resolve) => {
          const timer = setTimeout(() => resolve(false), SHELL_TIMEOUT_MS);
          this.frame.addEventListener(
            'load',
            () => {
              clearTimeout(timer);
              resolve(true);
            },
            { once: true },
          );
          // replace(): no history entry in the iframe, so the agent's Back button never lands on a
          // previous shell.
          const win = this.frame.contentWindow;
          if (win) win.location.replace(url);
          else this.frame.src = url;
        });
        const doc = this.frame.contentDocument;
        if (loaded && doc) return doc;
      } finally {
        view.URL.revokeObjectURL(url);
      }
    }
    const doc = this.frame.contentDocument;
    if (!doc) throw new Error('the viewer iframe has no document');
    resetDocument(doc, mode);
    return doc;
  }

  /**
   * @param {Viewport} viewport
   */
  setViewport(viewport) {
    if (!(viewport.w > 0 && viewport.h > 0)) return;
    this.viewport = viewport;
    this.stage.style.width = `${viewport.w}px`;
    this.stage.style.height = `${viewport.h}px`;
    this.frame.style.width = `${viewport.w}px`;
    this.frame.style.height = `${viewport.h}px`;
    this.applyZoom();
  }

  /**
   * @param {'fit' | 'actual'} zoom
   */
  setZoom(zoom) {
    this.zoomMode = zoom;
    this.applyZoom();
  }

  applyZoom() {
    const area = { w: this.area.clientWidth, h: this.area.clientHeight };
    this.scale = this.zoomMode === 'fit' ? fitScale(this.viewport, area) : 1;
    this.stage.style.transform = this.scale === 1 ? '' : `scale(${this.scale})`;
    this.sizer.style.width = `${Math.ceil(this.viewport.w * this.scale)}px`;
    this.sizer.style.height = `${Math.ceil(this.viewport.h * this.scale)}px`;
    this.area.dataset.zoom = this.zoomMode;
    this.scheduleOutlines();
  }

  /**
   * @param {Mode} mode
   */
  setMode(mode) {
    this.mode = mode;
    this.area.dataset.mode = mode;
    if (mode === 'write') this.setHighlighting(false);
  }

  /**
   * @param {boolean} on
   */
  setHighlighting(on) {
    this.highlighting = on;
    this.drawLayer.classList.toggle('cb-drawing', on);
  }

  /** Forgets the page (session over). */
  clear() {
    this.hasPage = false;
    this.overlay.clear();
    this.overlay.hidePointer();
    const doc = this.frame.contentDocument;
    if (doc) while (doc.firstChild) doc.removeChild(doc.firstChild);
  }

  // ------------------------------------------------------------------------------------------
  // Outlines and focus ring

  scheduleOutlines() {
    if (this.outlinesScheduled) return;
    this.outlinesScheduled = true;
    const view = this.doc.defaultView;
    const run = () => {
      this.outlinesScheduled = false;
      this.refreshOutlines();
    };
    if (view && typeof view.requestAnimationFrame === 'function') view.requestAnimationFrame(run);
    else setTimeout(run, 16);
  }

  refreshOutlines() {
    const top = this.rebuilder.document;
    if (!top || !this.hasPage) return;
    /** @param {number} id */
    const rectOf = (id) => {
      const node = this.rebuilder.node(id);
      return node ? rectInViewport(node, top) : null;
    };
    this.overlay.setOutlines(computeOutlines(this.rebuilder.marks, rectOf, this.viewport));
    const focus = this.rebuilder.focus;
    this.overlay.setFocus(focus && focus.id !== null && focus.id !== undefined ? rectOf(focus.id) : null);
  }

  // ------------------------------------------------------------------------------------------
  // The agent's input on the rebuilt page

  /**
   * Attaches the input listeners to a rebuilt document (once per document).
   * @param {Document} doc
   */
  listen(doc) {
    if (this.listening === doc) return;
    this.listening = doc;
    const opts = { capture: true };
    doc.addEventListener('mousemove', (ev) => this.onMove(ev), opts);
    doc.addEventListener('mousedown', (ev) => this.onMouseDown(ev), opts);
    doc.addEventListener('click', (ev) => this.onClick(ev), opts);
    doc.addEventListener('auxclick', (ev) => ev.preventDefault(), opts);
    doc.addEventListener('dblclick', (ev) => ev.preventDefault(), opts);
    doc.addEventListener('submit', (ev) => ev.preventDefault(), opts);
    doc.addEventListener('dragstart', (ev) => ev.preventDefault(), opts);
    doc.addEventListener('drop', (ev) => ev.preventDefault(), opts);
    doc.addEventListener('keydown', (ev) => this.onKeyDown(ev), opts);
    doc.addEventListener('beforeinput', (ev) => ev.preventDefault(), opts);
    doc.addEventListener('paste', (ev) => this.onPaste(ev), opts);
    doc.addEventListener('cut', (ev) => ev.preventDefault(), opts);
    doc.addEventListener('change', (ev) => this.onChange(ev), opts);
    doc.addEventListener('focusin', (ev) => this.onFocusIn(ev), opts);
    doc.addEventListener('scroll', (ev) => this.onScroll(ev), opts);
    doc.addEventListener('mouseleave', () => this.overlay.setHover(null), opts);
  }

  /**
   * @param {MouseEvent} ev
   */
  onMove(ev) {
    this.sendPointer(ev.clientX, ev.clientY);
    const marked = this.rebuilder.markedAncestor(/** @type {Node | null} */ (ev.target));
    this.overlay.setHover(marked ? marked.id : null);
  }

  /**
   * @param {MouseEvent} ev
   */
  onMouseDown(ev) {
    const target = /** @type {Node | null} */ (ev.target);
    if (this.mode !== 'write' || this.rebuilder.markedAncestor(target)) {
      // Nothing takes focus, opens or gets selected locally.
      ev.preventDefault();
    }
  }

  /**
   * @param {MouseEvent} ev
   */
  onClick(ev) {
    ev.preventDefault(); // never navigate, toggle or submit locally
    const raw = /** @type {Node | null} */ (ev.target);
    // Clicks land on elements; a text node target (synthetic events) counts as its parent.
    const target = raw && raw.nodeType !== 1 ? raw.parentElement ?? raw : raw;
    const id = this.nearestId(target);
    if (this.mode !== 'write') {
      this.hooks.click(ev.clientX, ev.clientY, id);
      this.overlay.ripple(ev.clientX, ev.clientY, 'agent');
      return;
    }
    const marked = this.rebuilder.markedAncestor(target);
    if (marked) {
      this.hooks.notice(marked.marks.mask ? 'That field is masked; you cannot use it.' : 'That control is restricted; you cannot use it.');
      return;
    }
    if (id === undefined || !target) return;
    const el = target.nodeType === 1 ? /** @type {Element} */ (target) : null;
    if (el && el.localName === 'input') {
      const type = (el.getAttribute('type') ?? '').toLowerCase();
      if (type === 'checkbox' || type === 'radio') {
        const input = /** @type {HTMLInputElement} */ (el);
        // The default action already toggled it; preventDefault undoes that after the event.
        const wanted = type === 'radio' ? true : input.checked;
        this.hooks.action({ do: 'check', id, checked: wanted });
        return;
      }
    }
    if (el && (el.localName === 'select' || el.localName === 'option')) return; // handled on change
    this.hooks.action({ do: 'click', id, x: ev.clientX, y: ev.clientY });
  }

  /**
   * @param {KeyboardEvent} ev
   */
  onKeyDown(ev) {
    const target = /** @type {Node | null} */ (ev.target);
    if (ev.key === 'Tab') return; // moving focus locally is harmless; focusin reports it
    if (this.mode !== 'write' || !target || this.rebuilder.markedAncestor(target)) {
      ev.preventDefault();
      return;
    }
    const id = this.nearestId(target);
    if (id === undefined) {
      ev.preventDefault();
      return;
    }
    if (isTextField(target) && !ev.ctrlKey && !ev.metaKey && !ev.altKey) {
      const field = /** @type {HTMLInputElement} */ (target);
      const start = field.selectionStart ?? field.value.length;
      const end = field.selectionEnd ?? start;
      if (ev.key.length === 1 || (ev.key === 'Enter' && field.localName === 'textarea')) {
        ev.preventDefault();
        this.edit(id, field, replaceSelection(field.value, start, end, ev.key === 'Enter' ? '\n' : ev.key));
        return;
      }
      if (ev.key === 'Backspace' || ev.key === 'Delete') {
        ev.preventDefault();
        this.edit(id, field, deleteAtSelection(field.value, start, end, ev.key));
        return;
      }
      if (ev.key.startsWith('Arrow') || ev.key === 'Home' || ev.key === 'End') return; // caret moves locally
    }
    if (ev.key === 'Backspace' || ev.key === 'Delete' || EDITING_KEYS.has(ev.key)) {
      ev.preventDefault();
      this.hooks.action({ do: 'key', id, key: ev.key });
      return;
    }
    if (ev.key.length === 1) ev.preventDefault();
  }

  /**
   * @param {ClipboardEvent} ev
   */
  onPaste(ev) {
    ev.preventDefault();
    const target = /** @type {Node | null} */ (ev.target);
    if (this.mode !== 'write' || !target || !isTextField(target) || this.rebuilder.markedAncestor(target)) return;
    const id = this.nearestId(target);
    const text = ev.clipboardData?.getData('text/plain') ?? '';
    if (id === undefined || !text) return;
    const field = /** @type {HTMLInputElement} */ (target);
    const start = field.selectionStart ?? field.value.length;
    this.edit(id, field, replaceSelection(field.value, start, field.selectionEnd ?? start, text));
  }

  /**
   * Sends an edited value; the field changes when the customer's page reports it back.
   * @param {number} id
   * @param {HTMLInputElement} field
   * @param {{value: string, caret: number}} next
   */
  edit(id, field, next) {
    if (next.value === field.value) return;
    this.lastEdit = { id, value: next.value, caret: next.caret, at: Date.now() };
    this.hooks.action({ do: 'input', id, value: next.value });
  }

  /**
   * After the customer's page reports a value the agent typed, puts the caret where the agent
   * expects it (setting `.value` moves it to the end).
   * @param {number} id
   */
  keepCaret(id) {
    const edit = this.lastEdit;
    if (!edit || edit.id !== id || Date.now() - edit.at > 5000) return;
    const field = /** @type {HTMLInputElement | undefined} */ (this.rebuilder.node(id));
    if (!field || field.value !== edit.value) return;
    try {
      field.setSelectionRange(edit.caret, edit.caret);
    } catch {
      // Fields without selection.
    }
  }

  /**
   * @param {Event} ev
   */
  onChange(ev) {
    const target = /** @type {Element | null} */ (ev.target);
    if (!target || target.localName !== 'select') return;
    const id = this.nearestId(target);
    if (id === undefined) return;
    const select = /** @type {HTMLSelectElement} */ (target);
    const selected = Array.from(select.options).flatMap((option, index) => (option.selected ? [index] : []));
    // Back to the customer's state until their page reports the change.
    const known = this.rebuilder.forms.get(id);
    if (known) this.rebuilder.setFormState(target, id, known);
    if (this.mode !== 'write' || this.rebuilder.markedAncestor(target)) return;
    this.hooks.action({ do: 'select', id, selected });
  }

  /**
   * @param {FocusEvent} ev
   */
  onFocusIn(ev) {
    if (this.mode !== 'write') return;
    const target = /** @type {Node | null} */ (ev.target);
    if (!target || this.rebuilder.markedAncestor(target)) return;
    const id = this.nearestId(target);
    if (id !== undefined && target.nodeType === 1) this.hooks.action({ do: 'focus', id });
  }

  /**
   * @param {Event} ev
   */
  onScroll(ev) {
    const target = /** @type {Node | null} */ (ev.target);
    if (!target) return;
    /** @type {{id: number | undefined, x: number, y: number}} */
    let where;
    if (target.nodeType === 9) {
      const doc = /** @type {Document} */ (target);
      const el = doc.scrollingElement ?? doc.documentElement;
      where = { id: this.rebuilder.idOf(doc), x: el?.scrollLeft ?? 0, y: el?.scrollTop ?? 0 };
    } else {
      const el = /** @type {Element} */ (target);
      where = { id: this.rebuilder.idOf(el), x: el.scrollLeft, y: el.scrollTop };
    }
    this.scheduleOutlines();
    if (where.id === undefined) return;
    const applied = this.appliedScroll.get(where.id);
    if (applied && Math.abs(applied.x - where.x) < 1 && Math.abs(applied.y - where.y) < 1) {
      this.appliedScroll.delete(where.id);
      return; // the customer's own scroll, which we just applied
    }
    if (this.mode === 'write') this.sendScroll(where.id, where.x, where.y);
  }

  /**
   * The SDK ID of a node or its nearest rebuilt ancestor.
   * @param {Node | null} node
   * @returns {number | undefined}
   */
  nearestId(node) {
    let current = node;
    while (current) {
      const id = this.rebuilder.idOf(current);
      if (id !== undefined) return id;
      current = current.parentNode;
    }
    return undefined;
  }

  // ------------------------------------------------------------------------------------------
  // Highlight strokes

  setupDrawLayer() {
    /** @type {Array<[number, number]> | null} */
    let points = null;
    /** @type {SVGPolylineElement | null} */
    let line = null;
    /** @param {PointerEvent} ev @returns {[number, number]} */
    const at = (ev) => {
      const box = this.stage.getBoundingClientRect();
      return [Math.round((ev.clientX - box.left) / this.scale), Math.round((ev.clientY - box.top) / this.scale)];
    };
    this.drawLayer.addEventListener('pointerdown', (ev) => {
      if (!this.highlighting) return;
      ev.preventDefault();
      points = [at(ev)];
      line = this.overlay.stroke(points);
      this.drawLayer.setPointerCapture?.(ev.pointerId);
    });
    this.drawLayer.addEventListener('pointermove', (ev) => {
      const p = at(ev);
      this.sendPointer(p[0], p[1]);
      if (!points || !line) return;
      const last = points[points.length - 1];
      if (Math.abs(last[0] - p[0]) + Math.abs(last[1] - p[1]) < 3 || points.length >= 500) return;
      points.push(p);
      this.overlay.extendStroke(line, points);
    });
    const finish = () => {
      if (!points || !line) return;
      if (points.length > 1) this.hooks.highlight(points);
      this.overlay.fadeStroke(line);
      points = null;
      line = null;
    };
    this.drawLayer.addEventListener('pointerup', finish);
    this.drawLayer.addEventListener('pointercancel', finish);
  }
}
