// The virtual browser: a sandboxed iframe at the customer's viewport size inside a scrollable
// area, the overlay layer above it, zoom (fit or 1:1), and the agent's input on the rebuilt page.
//
// The iframe runs no script, so the agent's mouse and keyboard are read from the parent through
// the same-origin document's listeners. Nothing the agent does changes the rebuilt page for good:
// in pointer mode the iframe takes no mouse events at all (no local hover, scrolling or
// selection; the stage above it reads the pointer), and the agent's pointer and clicks are only
// shown to the customer; in write mode they become actions on node IDs, carried out on the
// customer's page, whose changes come back. Typed text shows at once (an optimistic local edit)
// and the customer's page has the last word. An observer's viewer is read-only.
//
// The customer's hover, focus and caret are mirrored without touching the page: see states.js
// and caret.js.

import { Rebuilder, compatModeOf, isTextField, resetDocument, safeCharset, shellHtml } from './rebuilder.js';
import { OverlayLayer, computeOutlines, rectInViewport } from './overlays.js';
import { StateMirror, hoverChainAt } from './states.js';
import { caretGeometry, hasCaret } from './caret.js';
import { markJoin } from './join_timing.js';
import { FIRST_STEP_NODES, FIRST_VIEW_CHECKS, firstViewComplete } from './first_view.js';

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
/** How long the rest of a page built in two steps waits for the first part's paint, at most. */
const PAINT_WAIT_MS = 100;
/** The shell loaded before the first page arrives: what nearly every site uses. */
const PRELOADED_MODE = 'standards';
const PRELOADED_CHARSET = 'UTF-8';

/** Keys sent as `key` actions on elements that are not text fields. */
const EDITING_KEYS = new Set(['Enter', 'Escape', 'ArrowUp', 'ArrowDown', 'ArrowLeft', 'ArrowRight', 'Home', 'End', 'PageUp', 'PageDown', 'Backspace', 'Delete']);
/** Elements whose native keyboard activation (Enter, Space) becomes a click the viewer sends. */
const ACTIVATES_BY_KEY = new Set(['a', 'button', 'summary']);
/** How long the agent's own edits of a field outrank the customer page's echoes, at most. */
const PENDING_EDIT_MS = 5000;
/** After a refused edit, how long to wait for the field's report before undoing the edit. */
const REFUSAL_SETTLE_MS = 400;
/** A customer click this close before a focus means the focus came from the mouse. */
const CLICK_FOCUS_MS = 1500;

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
 * Resolves once the next frame has been painted: a task queued from an animation frame callback
 * runs after that frame's style, layout and paint. Pages in the background run no animation
 * frames; a timer stands in.
 * @param {Window | null} win
 * @returns {Promise<void>}
 */
function afterNextPaint(win) {
  return new Promise((resolve) => {
    if (!win || typeof win.requestAnimationFrame !== 'function' || typeof MessageChannel !== 'function') {
      setTimeout(resolve, 0);
      return;
    }
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve();
    };
    const timer = setTimeout(finish, PAINT_WAIT_MS);
    win.requestAnimationFrame(() => {
      const channel = new MessageChannel();
      channel.port1.onmessage = () => {
        channel.port1.close();
        finish();
      };
      channel.port2.postMessage(null);
    });
  });
}

/**
 * Which shell document a page needs: its rendering mode and character set.
 * @param {import('../sdk/protocol.js').CompatMode} mode
 * @param {string} charset
 * @returns {string}
 */
function shellKeyOf(mode, charset) {
  return `${mode}|${charset.toLowerCase()}`;
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

/**
 * The value after deleting the word before or after the caret (Ctrl+Backspace, Ctrl+Delete).
 * @param {string} value
 * @param {number} start
 * @param {number} end
 * @param {'backward' | 'forward'} direction
 * @returns {{value: string, caret: number}}
 */
export function deleteWord(value, start, end, direction) {
  if (start !== end) return replaceSelection(value, start, end, '');
  if (direction === 'backward') {
    let i = start;
    while (i > 0 && /\s/.test(value[i - 1])) i--;
    while (i > 0 && !/\s/.test(value[i - 1])) i--;
    return replaceSelection(value, i, start, '');
  }
  let j = end;
  while (j < value.length && /\s/.test(value[j])) j++;
  while (j < value.length && !/\s/.test(value[j])) j++;
  return replaceSelection(value, start, j, '');
}

/**
 * What an editing `beforeinput` does to a text field's value, or null when it is not an edit
 * the viewer carries out (formatting, undo).
 * @param {string} inputType
 * @param {string | null} data
 * @param {string} value
 * @param {number} start
 * @param {number} end
 * @param {boolean} multiline
 * @returns {{value: string, caret: number} | null}
 */
export function applyInputType(inputType, data, value, start, end, multiline) {
  switch (inputType) {
    case 'insertText':
    case 'insertReplacementText':
    case 'insertFromPaste':
    case 'insertFromDrop':
    case 'insertFromYank':
    case 'insertTranspose':
      return replaceSelection(value, start, end, multiline ? data ?? '' : (data ?? '').replace(/[\r\n]+/g, ' '));
    case 'insertLineBreak':
    case 'insertParagraph':
      return multiline ? replaceSelection(value, start, end, '\n') : null;
    case 'deleteContentBackward':
      return deleteAtSelection(value, start, end, 'Backspace');
    case 'deleteContentForward':
      return deleteAtSelection(value, start, end, 'Delete');
    case 'deleteWordBackward':
    case 'deleteSoftLineBackward':
    case 'deleteHardLineBackward':
      return inputType === 'deleteWordBackward' ? deleteWord(value, start, end, 'backward') : replaceSelection(value, start === end ? 0 : start, end, '');
    case 'deleteWordForward':
    case 'deleteSoftLineForward':
    case 'deleteHardLineForward':
      return inputType === 'deleteWordForward' ? deleteWord(value, start, end, 'forward') : replaceSelection(value, start, start === end ? value.length : end, '');
    case 'deleteByCut':
    case 'deleteByDrag':
    case 'deleteContent':
      return replaceSelection(value, start, end, '');
    default:
      return null;
  }
}

export class Viewer {
  /**
   * @param {HTMLElement} area the scrollable container the virtual browser lives in
   * @param {ViewerHooks} hooks
   * @param {{proxy?: (absolute: string) => string, readOnly?: boolean}} [options] `proxy` maps
   *   resource URLs to the server's resource proxy; `readOnly` for an observer, who neither points
   *   nor acts
   */
  constructor(area, hooks, options = {}) {
    this.area = area;
    this.hooks = hooks;
    const doc = /** @type {Document} */ (area.ownerDocument);
    this.doc = doc;
    this.readOnly = !!options.readOnly;
    this.rebuilder = new Rebuilder({ proxy: options.proxy });
    this.states = new StateMirror((rebuilt, sheet) => this.rebuilder.setViewerSheet(rebuilt, sheet));
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
    /** @type {Promise<void> | null} the shell being loaded ahead of the first page */
    this.shellLoading = null;
    /** @type {Document | null} */
    this.listening = null;
    /** @type {Map<number, {x: number, y: number}>} scrolls we applied, to tell them from the agent's */
    this.appliedScroll = new Map();
    /** @type {{id: number, value: string, caret: number, at: number} | null} the agent's last edit */
    this.lastEdit = null;
    this.outlinesScheduled = false;
    this.hasPage = false;
    /** @type {Map<number, {values: string[], at: number}>} values the agent sent, not yet echoed */
    this.pendingEdits = new Map();
    /** @type {Map<number, number>} when each field was last reported by the customer's page */
    this.echoes = new Map();
    /** @type {number | null} the field an IME composition runs in */
    this.composing = null;
    /** @type {{x: number, y: number} | null} the customer's pointer, for their hover */
    this.customerPointer = null;
    /** @type {{id: number | undefined, at: number} | null} the customer's last click */
    this.customerClick = null;
    /** @type {number | null} the node the customer's focus is on */
    this.focusId = null;
    this.focusVisible = false;
    this.area.toggleAttribute('data-readonly', this.readOnly);

    this.sendPointer = throttle((/** @type {number} */ x, /** @type {number} */ y) => hooks.pointer(x, y), POINTER_INTERVAL_MS);
    this.sendScroll = throttle((/** @type {number} */ id, /** @type {number} */ x, /** @type {number} */ y) => hooks.action({ do: 'scroll', id, x, y }), SCROLL_INTERVAL_MS);

    this.setupDrawLayer();
    this.setupStage();
    const view = doc.defaultView;
    view?.addEventListener('resize', () => this.applyZoom());
    if (view && 'ResizeObserver' in view) new view.ResizeObserver(() => this.applyZoom()).observe(area);
    this.applyZoom();
    this.preloadShell(PRELOADED_MODE, PRELOADED_CHARSET);
  }

  /**
   * Starts loading a shell document while the page is still on its way, so a snapshot in that
   * mode and charset is built as soon as it arrives instead of waiting for the iframe to load.
   * @param {import('../sdk/protocol.js').CompatMode} mode
   * @param {string} charset
   */
  preloadShell(mode, charset) {
    const key = shellKeyOf(mode, charset);
    this.shellLoading = this.loadShell(shellHtml(mode), charset, mode).then(
      () => {
        this.shellKey = key;
      },
      () => {
        this.shellKey = null; // the snapshot loads its own
      },
    );
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
      case 'mut': {
        const restyled = this.touchesStyles(frame.body.ops);
        this.check(this.rebuilder.apply(frame.body.ops));
        if (restyled) this.states.stylesChanged();
        this.scheduleOutlines();
        return;
      }
      case 'input': {
        if (!this.hasPage) return;
        this.echoes.set(frame.body.id, Date.now());
        if (this.echoOfOwnEdit(frame.body)) return;
        const field = /** @type {HTMLInputElement | undefined} */ (this.rebuilder.node(frame.body.id));
        const before = field?.value;
        this.check(this.rebuilder.applyInput(frame.body));
        // Setting a new value puts the caret at the end; an unchanged value leaves it alone.
        if (field && field.value !== before) this.keepCaret(frame.body.id);
        this.scheduleOutlines();
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
        this.customerFocused(frame.body.id ?? null);
        this.scheduleOutlines();
        return;
      case 'pointer':
        if (!frame.body.by || frame.body.by.role === 'customer') {
          this.overlay.showPointer(frame.body.x, frame.body.y);
          this.customerPointer = { x: frame.body.x, y: frame.body.y };
          this.scheduleOutlines();
        } else {
          // Another agent's pointer (an observer sees the agent's); never our own, which the
          // server does not echo.
          this.overlay.showAgentPointer(frame.body.x, frame.body.y, frame.body.by.name);
        }
        return;
      case 'click':
        if (!frame.body.by || frame.body.by.role === 'customer') {
          this.overlay.ripple(frame.body.x, frame.body.y, 'customer');
          this.customerClick = { id: frame.body.id, at: Date.now() };
        } else {
          this.overlay.ripple(frame.body.x, frame.body.y, 'agent');
        }
        return;
      case 'highlight':
        if (frame.body.points.length) this.overlay.fadeStroke(this.overlay.stroke(frame.body.points));
        return;
      default:
        return;
    }
  }

  /**
   * Whether a batch may change the page's stylesheets (checked before it is applied, while
   * removed nodes can still be looked at).
   * @param {import('../sdk/protocol.js').Op[]} ops
   * @returns {boolean}
   */
  touchesStyles(ops) {
    /** @param {Node | undefined} node */
    const holdsStyles = (node) => {
      if (!node || node.nodeType !== 1) return false;
      const el = /** @type {Element} */ (node);
      return el.localName === 'style' || el.localName === 'link' || !!el.querySelector?.('style, link');
    };
    /** @param {import('../sdk/protocol.js').SerializedNode} node @returns {boolean} */
    const serializedHolds = (node) => node.k === 'e' && (node.n === 'style' || node.n === 'link' || (node.c ?? []).some(serializedHolds));
    for (const op of ops) {
      switch (op[0]) {
        case 'css':
        case 'cssins':
        case 'cssdel':
        case 'adopt':
        case 'shadow':
        case 'frame':
          return true;
        case 'add':
          if (serializedHolds(op[3])) return true;
          break;
        case 'rm':
          if (holdsStyles(this.rebuilder.node(op[1]))) return true;
          break;
        case 'attr':
        case 'text': {
          const node = this.rebuilder.node(op[1]);
          if (holdsStyles(op[0] === 'text' ? node?.parentNode ?? undefined : node)) return true;
          break;
        }
        default:
          break;
      }
    }
    return false;
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
    const key = shellKeyOf(mode, charset);
    if (this.shellLoading) {
      // One navigation of the iframe at a time: let the preloaded shell finish, then use it if it
      // fits.
      await this.shellLoading;
      this.shellLoading = null;
    }
    let doc = this.frame.contentDocument;
    if (!doc || key !== this.shellKey) {
      doc = await this.loadShell(shellHtml(mode), charset, mode);
      this.shellKey = key;
    }
    markJoin('shell');
    this.overlay.clear();
    this.appliedScroll.clear();
    this.setViewport(snapshot.vp);
    for (const scroll of snapshot.scroll ?? []) this.appliedScroll.set(scroll.id, { x: scroll.x, y: scroll.y });
    this.pendingEdits.clear();
    this.composing = null;
    const result = this.buildFirstView(snapshot, doc);
    markJoin('view');
    this.doc.defaultView?.requestAnimationFrame?.(() => markJoin('frame'));
    this.hasPage = result.ok;
    this.states.attach(doc);
    this.listen(doc);
    this.check(result);
    this.customerFocused(snapshot.focus?.id ?? null);
    this.hooks.page({ url: snapshot.url, title: snapshot.title ?? '' });
    this.scheduleOutlines();
    if (result.ok && this.rebuilder.hasRest()) {
      // The customer's viewport is built: let it be painted, then build the rest. Frames that
      // follow the snapshot wait in the queue until the page is whole.
      await afterNextPaint(this.doc.defaultView);
      if (this.rebuilder.document === doc && this.rebuilder.hasRest()) {
        this.check(this.rebuilder.buildMore());
        this.customerFocused(snapshot.focus?.id ?? null);
        this.scheduleOutlines();
      }
    }
    markJoin('built');
  }

  /**
   * Builds a snapshot's page; a big one in two steps: first the nodes in document order until
   * they show everything in the customer's viewport (first_view.js), in steps that double, and
   * the rest is left for `rebuilder.buildMore` (`rebuilder.hasRest()`).
   * @param {Snapshot} snapshot
   * @param {Document} doc
   * @returns {ApplyResult}
   */
  buildFirstView(snapshot, doc) {
    // Nobody sees a page in the background, and its animation frames do not run there.
    const hidden = this.doc.visibilityState === 'hidden';
    let step = hidden ? Infinity : FIRST_STEP_NODES;
    let result = this.rebuilder.build(snapshot, doc, step);
    for (let checks = 1; result.ok && this.rebuilder.hasRest(); checks++) {
      this.rebuilder.restoreView();
      if (firstViewComplete(this.rebuilder, this.viewport.h)) break;
      // Each check lays out what is built; after a few, the page is built at once.
      step = checks < FIRST_VIEW_CHECKS ? step * 2 : Infinity;
      result = this.rebuilder.buildMore(step);
    }
    return result;
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
    this.area.dataset.mode = this.readOnly ? 'pointer' : mode;
    if (mode === 'write') this.setHighlighting(false);
    this.pendingEdits.clear();
  }

  /** Whether the agent's input acts on the page now. */
  get writing() {
    return this.mode === 'write' && !this.readOnly;
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
    this.rebuilder.dropRest();
    this.customerPointer = null;
    this.focusId = null;
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
    this.refreshCaret(top);
    this.refreshStates(top);
  }

  /**
   * Draws the customer's caret or selection when their focus is in a text field.
   * @param {Document} top
   */
  refreshCaret(top) {
    const focus = this.rebuilder.focus;
    const node = focus && focus.id !== null && focus.id !== undefined ? this.rebuilder.node(focus.id) : undefined;
    if (!focus || !node || node.nodeType !== 1 || !hasCaret(/** @type {Element} */ (node)) || focus.start === undefined) {
      this.overlay.setCaret(null);
      return;
    }
    const field = /** @type {HTMLInputElement} */ (node);
    const geometry = caretGeometry(field, focus.start, focus.end ?? focus.start);
    if (!geometry) {
      this.overlay.setCaret(null);
      return;
    }
    // Into the top document's viewport when the field is in a nested frame.
    const origin = rectInViewport(field.ownerDocument.documentElement, top);
    const box = field.ownerDocument.documentElement.getBoundingClientRect();
    const dx = origin ? origin.x - box.left : 0;
    const dy = origin ? origin.y - box.top : 0;
    /** @param {import('./overlays.js').Rect} r */
    const shift = (r) => ({ x: r.x + dx, y: r.y + dy, w: r.w, h: r.h });
    this.overlay.setCaret({ caret: shift(geometry.caret), selection: geometry.selection.map(shift) });
  }

  /**
   * Mirrors the customer's hover (from their pointer) and focus in the page's own styles.
   * @param {Document} top
   */
  refreshStates(top) {
    const hover = this.customerPointer ? hoverChainAt(top, this.customerPointer.x, this.customerPointer.y) : [];
    const focusNode = this.focusId !== null ? this.rebuilder.node(this.focusId) : undefined;
    const focus = focusNode && focusNode.nodeType === 1 && focusNode.ownerDocument === top ? /** @type {Element} */ (focusNode) : null;
    /** @type {Element[]} */
    const maskedImages = [];
    for (const [id, marks] of this.rebuilder.marks) {
      const node = marks.mask === 'image' ? this.rebuilder.node(id) : undefined;
      if (node && node.nodeType === 1 && node.ownerDocument === top) maskedImages.push(/** @type {Element} */ (node));
    }
    this.states.set({ hover, focus, focusVisible: !!focus && this.focusVisible, maskedImages });
  }

  /**
   * The customer's focus moved. Their browser draws a focus ring for keyboard focus and in text
   * fields, not when a click focused a button or link: tell the two apart by their last click.
   * @param {number | null} id
   */
  customerFocused(id) {
    this.focusId = id;
    if (id === null) {
      this.focusVisible = false;
      return;
    }
    const node = this.rebuilder.node(id);
    if (!node || node.nodeType !== 1) {
      this.focusVisible = false;
      return;
    }
    const el = /** @type {Element} */ (node);
    if (hasCaret(el) || el.localName === 'select' || /** @type {HTMLElement} */ (el).isContentEditable) {
      this.focusVisible = true;
      return;
    }
    const click = this.customerClick;
    const byMouse = !!click && Date.now() - click.at < CLICK_FOCUS_MS && click.id !== undefined && this.related(click.id, el);
    this.focusVisible = !byMouse;
  }

  /**
   * Whether the node with `id` is `el`, inside it, or around it.
   * @param {number} id
   * @param {Element} el
   * @returns {boolean}
   */
  related(id, el) {
    const other = this.rebuilder.node(id);
    if (!other) return false;
    return other === el || el.contains(other) || other.contains(el);
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
    doc.addEventListener('beforeinput', (ev) => this.onBeforeInput(/** @type {InputEvent} */ (ev)), opts);
    doc.addEventListener('compositionstart', (ev) => this.onCompositionStart(ev), opts);
    doc.addEventListener('compositionend', (ev) => this.onCompositionEnd(ev), opts);
    doc.addEventListener('paste', (ev) => this.onPaste(ev), opts);
    doc.addEventListener('cut', (ev) => {
      if (!this.writing || !ev.target || !isTextField(/** @type {Node} */ (ev.target))) ev.preventDefault();
    }, opts);
    doc.addEventListener('change', (ev) => this.onChange(ev), opts);
    doc.addEventListener('focusin', (ev) => this.onFocusIn(ev), opts);
    doc.addEventListener('scroll', (ev) => this.onScroll(ev), opts);
    doc.addEventListener('mouseleave', () => this.overlay.setHover(null), opts);
    // A stylesheet finished loading: the page's state rules may have changed.
    doc.addEventListener('load', () => {
      this.states.stylesChanged();
      this.scheduleOutlines();
    }, opts);
  }

  /**
   * The stage above the iframe reads the agent's pointer when the iframe takes no mouse events
   * (pointer mode, observers).
   */
  setupStage() {
    /** @param {MouseEvent} ev @returns {{x: number, y: number, target: Node | null} | null} */
    const at = (ev) => {
      if (this.writing || ev.target === this.drawLayer) return null;
      const box = this.stage.getBoundingClientRect();
      const x = (ev.clientX - box.left) / this.scale;
      const y = (ev.clientY - box.top) / this.scale;
      const doc = this.rebuilder.document;
      const chain = doc && this.hasPage ? hoverChainAt(doc, x, y) : [];
      return { x, y, target: chain[0] ?? null };
    };
    this.stage.addEventListener('mousemove', (ev) => {
      const point = at(ev);
      if (!point) return;
      if (!this.readOnly) this.sendPointer(point.x, point.y);
      const marked = this.rebuilder.markedAncestor(point.target);
      this.overlay.setHover(marked ? marked.id : null);
    });
    this.stage.addEventListener('mousedown', (ev) => {
      if (at(ev)) ev.preventDefault(); // no text selection in the workspace
    });
    this.stage.addEventListener('click', (ev) => {
      const point = at(ev);
      if (!point || this.readOnly) return;
      ev.preventDefault();
      this.hooks.click(point.x, point.y, this.nearestId(point.target));
      this.overlay.ripple(point.x, point.y, 'agent');
    });
    this.stage.addEventListener('mouseleave', () => this.overlay.setHover(null));
  }

  /**
   * @param {MouseEvent} ev
   */
  onMove(ev) {
    if (!this.readOnly) this.sendPointer(ev.clientX, ev.clientY);
    const marked = this.rebuilder.markedAncestor(/** @type {Node | null} */ (ev.target));
    this.overlay.setHover(marked ? marked.id : null);
  }

  /**
   * @param {MouseEvent} ev
   */
  onMouseDown(ev) {
    const target = /** @type {Node | null} */ (ev.target);
    if (!this.writing || this.rebuilder.markedAncestor(target)) {
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
    if (this.readOnly) return;
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
   * Keys that are not text: editing keys on other elements become `key` actions; in text fields
   * everything that edits arrives as `beforeinput` instead, and caret moves stay local.
   * @param {KeyboardEvent} ev
   */
  onKeyDown(ev) {
    const target = /** @type {Node | null} */ (ev.target);
    if (ev.key === 'Tab') return; // moving focus locally is harmless; focusin reports it
    if (!this.writing || !target || this.rebuilder.markedAncestor(target)) {
      ev.preventDefault();
      return;
    }
    const id = this.nearestId(target);
    if (id === undefined) {
      ev.preventDefault();
      return;
    }
    if (isTextField(target)) {
      if (ev.isComposing || ev.keyCode === 229) return; // an IME is at work
      const field = /** @type {HTMLInputElement} */ (target);
      if ((ev.key === 'Enter' && field.localName !== 'textarea') || ev.key === 'Escape') {
        ev.preventDefault();
        this.hooks.action({ do: 'key', id, key: ev.key });
      }
      return; // text and deletions come as beforeinput; arrows, Home, End move the caret here
    }
    const el = target.nodeType === 1 ? /** @type {Element} */ (target) : null;
    const name = el?.localName ?? '';
    if ((ev.key === 'Enter' || ev.key === ' ') && (ACTIVATES_BY_KEY.has(name) || (name === 'input' && !isTextField(target)))) {
      return; // the browser turns it into a click, which is sent (and prevented) as one
    }
    if (name === 'select' && (ev.key.startsWith('Arrow') || ev.key === 'Home' || ev.key === 'End')) {
      return; // the browser changes the selection; the change is sent as a select action
    }
    if (EDITING_KEYS.has(ev.key)) {
      ev.preventDefault();
      this.hooks.action({ do: 'key', id, key: ev.key });
      return;
    }
    if (ev.key.length === 1 && !ev.ctrlKey && !ev.metaKey) ev.preventDefault();
  }

  /**
   * Every edit of a text field passes here before the browser applies it: it is applied by the
   * viewer instead (locally at once, and as an `input` action on the customer's page).
   * @param {InputEvent} ev
   */
  onBeforeInput(ev) {
    const target = /** @type {Node | null} */ (ev.target);
    const id = target ? this.nearestId(target) : undefined;
    if (!this.writing || !target || id === undefined || !isTextField(target) || this.rebuilder.markedAncestor(target)) {
      if (ev.cancelable) ev.preventDefault();
      return;
    }
    if (ev.inputType === 'insertCompositionText' || !ev.cancelable) return; // sent at compositionend
    ev.preventDefault();
    const field = /** @type {HTMLInputElement} */ (target);
    const start = field.selectionStart ?? field.value.length;
    const end = field.selectionEnd ?? start;
    const data = ev.data ?? ev.dataTransfer?.getData('text/plain') ?? null;
    const next = applyInputType(ev.inputType, data, field.value, start, end, field.localName === 'textarea');
    if (next) this.edit(id, field, next);
  }

  /**
   * @param {CompositionEvent} ev
   */
  onCompositionStart(ev) {
    const target = /** @type {Node | null} */ (ev.target);
    this.composing = target ? this.nearestId(target) ?? null : null;
  }

  /**
   * The IME committed its text into the field locally; send the field's value.
   * @param {CompositionEvent} ev
   */
  onCompositionEnd(ev) {
    this.composing = null;
    const target = /** @type {Node | null} */ (ev.target);
    if (!this.writing || !target || !isTextField(target) || this.rebuilder.markedAncestor(target)) return;
    const id = this.nearestId(target);
    if (id === undefined) return;
    const field = /** @type {HTMLInputElement} */ (target);
    const caret = field.selectionEnd ?? field.value.length;
    this.send(id, field.value, caret);
  }

  /**
   * @param {ClipboardEvent} ev
   */
  onPaste(ev) {
    ev.preventDefault();
    const target = /** @type {Node | null} */ (ev.target);
    if (!this.writing || !target || !isTextField(target) || this.rebuilder.markedAncestor(target)) return;
    const id = this.nearestId(target);
    const text = ev.clipboardData?.getData('text/plain') ?? '';
    if (id === undefined || !text) return;
    const field = /** @type {HTMLInputElement} */ (target);
    const start = field.selectionStart ?? field.value.length;
    const pasted = field.localName === 'textarea' ? text : text.replace(/[\r\n]+/g, ' ');
    this.edit(id, field, replaceSelection(field.value, start, field.selectionEnd ?? start, pasted));
  }

  /**
   * Applies an edit to the field at once and sends the new value; the customer's page has the
   * last word when it reports the field back.
   * @param {number} id
   * @param {HTMLInputElement} field
   * @param {{value: string, caret: number}} next
   */
  edit(id, field, next) {
    if (next.value === field.value) return;
    field.value = next.value;
    try {
      field.setSelectionRange(next.caret, next.caret);
    } catch {
      // Fields without selection.
    }
    this.send(id, next.value, next.caret);
  }

  /**
   * @param {number} id
   * @param {string} value
   * @param {number} caret
   */
  send(id, value, caret) {
    const now = Date.now();
    let pending = this.pendingEdits.get(id);
    if (!pending || now - pending.at > PENDING_EDIT_MS) pending = { values: [], at: now };
    pending.values.push(value);
    pending.at = now;
    this.pendingEdits.set(id, pending);
    this.lastEdit = { id, value, caret, at: now };
    this.hooks.action({ do: 'input', id, value });
  }

  /**
   * Whether an `input` frame only echoes an edit the agent made and has since gone past (or is
   * composing): the field keeps the agent's newer text. The customer's state is still recorded.
   * @param {import('../sdk/protocol.js').Input} input
   * @returns {boolean}
   */
  echoOfOwnEdit(input) {
    const keep = () => {
      const previous = this.rebuilder.forms.get(input.id) ?? {};
      this.rebuilder.forms.set(input.id, { ...previous, v: input.v });
      return true;
    };
    if (input.v === undefined) return false;
    if (this.composing === input.id) return keep();
    const pending = this.pendingEdits.get(input.id);
    if (!pending) return false;
    if (Date.now() - pending.at > PENDING_EDIT_MS) {
      this.pendingEdits.delete(input.id);
      return false;
    }
    const index = pending.values.indexOf(input.v);
    if (index < 0) {
      // The page changed the value its own way (formatting, a script): it wins.
      this.pendingEdits.delete(input.id);
      return false;
    }
    pending.values.splice(0, index + 1);
    if (pending.values.length) return keep();
    this.pendingEdits.delete(input.id);
    return false;
  }

  /**
   * The customer's browser refused an action. When it was an edit, the field goes back to the
   * customer's value unless the page reports the field again soon (then the edit did land).
   * @param {ActionKind | undefined} action
   */
  actionRefused(action) {
    if (!action || action.do !== 'input') return;
    const id = action.id;
    const refusedAt = Date.now();
    setTimeout(() => {
      if ((this.echoes.get(id) ?? 0) >= refusedAt) return;
      this.pendingEdits.delete(id);
      const known = this.rebuilder.forms.get(id);
      const node = this.rebuilder.node(id);
      if (known && node && node.nodeType === 1) this.rebuilder.setFormState(/** @type {Element} */ (node), id, known);
    }, REFUSAL_SETTLE_MS);
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
    if (!this.writing || this.rebuilder.markedAncestor(target)) return;
    this.hooks.action({ do: 'select', id, selected });
  }

  /**
   * @param {FocusEvent} ev
   */
  onFocusIn(ev) {
    if (!this.writing) return;
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
    if (this.writing) this.sendScroll(where.id, where.x, where.y);
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
      if (!this.highlighting || this.readOnly) return;
      ev.preventDefault();
      points = [at(ev)];
      line = this.overlay.stroke(points);
      this.drawLayer.setPointerCapture?.(ev.pointerId);
    });
    this.drawLayer.addEventListener('pointermove', (ev) => {
      const p = at(ev);
      if (!this.readOnly) this.sendPointer(p[0], p[1]);
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
