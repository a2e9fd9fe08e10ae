// The recorder: watches one page and turns what happens on it into frames. It owns the
// MutationObserver, the event listeners and the batching; it serializes through serializer.js
// and hands frames to an `emit` callback (the transport is not its business).

import { CTX_ALL, MaskRules, parentAcrossBoundaries } from './rules.js';
import { NodeRegistry, frameDocument } from './node_registry.js';
import {
  attributeValue,
  contentContext,
  focusOf,
  formState,
  imageBox,
  isIgnored,
  SnapshotJob,
  serializeNode,
  textValue,
  viewportOf,
} from './serializer.js';
import { StyleSheetWatcher, adoptedTexts, sheetText } from './stylesheets.js';
import { absoluteCssUrls, legacyResolver } from './urls.js';
import { Throttle, timersOf } from './throttle.js';

/** @typedef {import('../protocol.js').FrameTag} FrameTag */
/** @typedef {import('../protocol.js').FrameBodies} FrameBodies */
/** @typedef {import('../protocol.js').Op} Op */
/** @typedef {import('../protocol.js').Snapshot} Snapshot */
/** @typedef {import('./serializer.js').SerializeEnv} SerializeEnv */
/** @typedef {import('./throttle.js').Timers} Timers */

/**
 * Sends one frame body; the caller numbers and transmits it.
 * @callback Emit
 * @param {FrameTag} tag
 * @param {any} body
 * @returns {void}
 */

/**
 * Runs a callback soon (once per animation frame in a browser). Tests inject their own.
 * @typedef {object} Scheduler
 * @property {(fn: () => void) => unknown} request
 * @property {(handle: any) => void} cancel
 * @property {(fn: () => void) => void} [now] Runs a callback as soon as the current script is
 *   done (a microtask): a change after a quiet spell goes out at once instead of waiting for the
 *   next frame. Without it every flush waits for `request`.
 */

/**
 * @typedef {object} RecorderOptions
 * @property {Window & typeof globalThis} win The page's window.
 * @property {MaskRules} rules
 * @property {Emit} emit
 * @property {(node: Node) => boolean} [ignore] Nodes never sent (the SDK's own UI).
 * @property {Scheduler} [scheduler]
 * @property {Timers} [timers]
 * @property {number} [pollMs] How often live form values are read without any event (ms).
 * @property {number} [pointerMs] Minimum time between pointer frames (ms).
 * @property {number} [scrollMs] Minimum time between scroll frames of one target (ms).
 * @property {number} [sliceMs] Longest stretch of main-thread time one slice of a snapshot may
 *   take (ms); a bigger page is written in several slices. Default 8.
 * @property {(fn: () => void) => void} [yieldTask] Runs the next slice as a new task.
 * @property {() => number} [now] A clock in ms for slicing (default `performance.now`).
 * @property {WeakSet<Node>} [scrolledElements] Elements seen scrolling (the client starts
 *   collecting them when the page loads, before any session); the recorder adds the ones it sees.
 * @property {(url: string) => string} [maskUrl] Hides the values of masked fields that a GET form
 *   put into the page's address.
 * @property {number} [canvasMs] How often `<canvas>` content is sent as an image (ms); 0 (the
 *   default) sends none.
 * @property {number} [burstMs] A change this long (ms) or longer after the last flush is sent at
 *   once; changes sooner than that wait for the next frame, so a burst goes out in one batch
 *   per frame. Default 8.
 */

/** Attribute of the image that stands for a canvas's content in the mirror (never on the page). */
export const CANVAS_IMAGE_ATTRIBUTE = 'data-cobrowse-canvas';

/**
 * Goes with the canvas images: the agent's view shows a canvas's children (it runs no script), so
 * the canvas's own fallback content is hidden there, leaving only the image.
 */
const CANVAS_STYLE = `canvas:has(>img[${CANVAS_IMAGE_ATTRIBUTE}]){font-size:0!important;line-height:0!important}` +
  `canvas:has(>img[${CANVAS_IMAGE_ATTRIBUTE}])>:not([${CANVAS_IMAGE_ATTRIBUTE}]){display:none!important}`;

/** Canvases larger than this (CSS pixels, either side) are scaled down before encoding. */
const CANVAS_MAX_SIDE = 1280;

const XLINK_NS = 'http://www.w3.org/1999/xlink';
const XML_NS = 'http://www.w3.org/XML/1998/namespace';
const XMLNS_NS = 'http://www.w3.org/2000/xmlns/';

/**
 * The qualified name of a changed attribute, as `Element.attributes` reports it.
 * @param {MutationRecord} record
 * @param {Element} el Its target.
 * @returns {string}
 */
function qualifiedName(record, el) {
  const local = /** @type {string} */ (record.attributeName);
  const ns = record.attributeNamespace;
  if (!ns) return local;
  const attr = el.getAttributeNodeNS(ns, local);
  if (attr) return attr.name;
  if (ns === XLINK_NS) return `xlink:${local}`;
  if (ns === XML_NS) return `xml:${local}`;
  if (ns === XMLNS_NS) return local === 'xmlns' ? local : `xmlns:${local}`;
  return local;
}

/**
 * A scheduler on animation frames, falling back to a timer while the tab is hidden (browsers
 * pause animation frames there, and changes must still go out).
 * @param {Window & typeof globalThis} win
 * @returns {Scheduler}
 */
export function animationFrameScheduler(win) {
  return {
    now(fn) {
      queueMicrotask(() => {
        if (win.document) fn(); // a window torn down meanwhile (a test's) has no page left
      });
    },
    request(fn) {
      if (typeof win.requestAnimationFrame === 'function' && win.document && !win.document.hidden) {
        return { raf: win.requestAnimationFrame(() => fn()) };
      }
      return { timer: win.setTimeout(fn, 50) };
    },
    cancel(handle) {
      if (handle && handle.raf !== undefined) win.cancelAnimationFrame(handle.raf);
      if (handle && handle.timer !== undefined) win.clearTimeout(handle.timer);
    },
  };
}

/**
 * Runs callbacks as new tasks through a MessageChannel, which, unlike timers, browsers do not
 * slow down in background tabs. Falls back to a zero timeout.
 * @param {Window & typeof globalThis} win
 * @returns {(fn: () => void) => void}
 */
export function taskYielder(win) {
  /** @type {Array<() => void>} */
  const queue = [];
  /** @type {MessagePort | null} */
  let port = null;
  return (fn) => {
    if (typeof win.MessageChannel !== 'function') {
      win.setTimeout(fn, 0);
      return;
    }
    if (!port) {
      const channel = new win.MessageChannel();
      channel.port1.onmessage = () => queue.shift()?.();
      port = channel.port2;
    }
    queue.push(fn);
    port.postMessage(0);
  };
}

export class Recorder {
  /** @param {RecorderOptions} options */
  constructor(options) {
    this.win = options.win;
    this.doc = options.win.document;
    this.rules = options.rules;
    this.emit = options.emit;
    this.ignoreNode = options.ignore ?? (() => false);
    this.scheduler = options.scheduler ?? animationFrameScheduler(options.win);
    this.timers = options.timers ?? timersOf(options.win);
    this.pollMs = options.pollMs ?? 500;
    this.sliceMs = options.sliceMs ?? 8;
    this.yieldTask = options.yieldTask ?? taskYielder(options.win);
    const perf = options.win.performance;
    this.now = options.now ?? (perf && typeof perf.now === 'function' ? () => perf.now() : () => Date.now());
    this.canvasMs = options.canvasMs ?? 0;
    // Under a frame: changes in consecutive frames each go at once (the flush before was a
    // frame ago), while several tasks' changes within one frame share a batch.
    this.burstMs = options.burstMs ?? 8;
    /** When the last flush ran (by `now`). */
    this.lastFlushAt = -Infinity;
    this.scrolledElements = options.scrolledElements ?? new WeakSet();
    this.registry = new NodeRegistry();
    this.sheets = new StyleSheetWatcher(this.win, (sheet, edit) => {
      if (sheet) this.#sheetChanged(sheet, edit);
      this.schedule();
    });
    /**
     * Sheets changed since the last flush, with the rule edits to send for each, or null when
     * the whole text must go (the mirror does not hold the sheet as text yet, or a change was
     * not a single-rule edit).
     * @type {Map<CSSStyleSheet, import('./stylesheets.js').RuleEdit[] | null>}
     */
    this.dirtySheets = new Map();
    /** Sheets whose effective text the mirror holds (sent as `css`), so rule edits apply there. */
    /** @type {WeakSet<CSSStyleSheet>} */
    this.syncedSheets = new WeakSet();
    /** @type {MutationRecord[]} */
    this.pending = [];
    /** @type {MutationObserver | null} */
    this.observer = null;
    this.running = false;
    /** True once a snapshot went out; before that, changes are not worth sending. */
    this.ready = false;
    /** @type {unknown} */
    this.scheduled = null;
    /** @type {unknown} */
    this.pollTimer = null;
    /** Form fields the mirror holds, with the state last sent. */
    /** @type {Map<Element, string>} */
    this.fields = new Map();
    /** Documents and shadow roots the mirror holds, with the adopted sheets last sent. */
    /** @type {Map<Document | ShadowRoot, {sheets: unknown[], text: string}>} */
    this.adopters = new Map();
    /** @type {WeakSet<Node>} */
    this.observed = new WeakSet();
    /** @type {WeakMap<Element, Document | null>} */
    this.frameDocs = new WeakMap();
    /** @type {Set<Element>} */
    this.reloadedFrames = new Set();
    /** @type {Set<Node>} */
    this.scrolled = new Set();
    this.lastUrl = '';
    this.pageMasked = false;
    this.lastFocus = '';
    this.lastAdoptVersion = -1;
    /** Set while the SDK itself dispatches events for an agent action. */
    this.dispatchingAction = false;
    /** @type {Array<() => void>} */
    this.cleanups = [];
    /** @type {{x: number, y: number, id?: number} | null} */
    this.pointer = null;
    /** How the last snapshot went: nodes written, slices, main-thread time (ms). */
    this.snapshotStats = { nodes: 0, slices: 0, busyMs: 0, longestSliceMs: 0 };
    /** The snapshot being written, when it takes more than one slice. */
    /** @type {SnapshotJob | null} */
    this.job = null;
    /** Hosts that got an open shadow root after they were sent. */
    /** @type {Set<Element>} */
    this.newShadows = new Set();
    /** Canvases the mirror holds, with the image last sent for each. */
    /** @type {Map<Element, {vid: number | null, sid: number | null, src: string, size: string}>} */
    this.canvases = new Map();
    /** @type {unknown} */
    this.canvasTimer = null;
    /** @type {unknown} */
    this.retryTimer = null;
    /** Restores Element.prototype.attachShadow. */
    /** @type {(() => void) | null} */
    this.unpatchShadow = null;

    this.pointerThrottle = new Throttle(options.pointerMs ?? 33, () => {
      if (this.pointer && this.ready) this.emit('pointer', { ...this.pointer });
    }, this.timers);
    this.scrollThrottle = new Throttle(options.scrollMs ?? 100, () => this.#sendScrolls(), this.timers);
    this.viewportThrottle = new Throttle(200, () => {
      if (this.ready) this.emit('viewport', viewportOf(this.win));
    }, this.timers);

    /** @type {SerializeEnv} */
    this.env = {
      registry: this.registry,
      rules: this.rules,
      ignore: this.ignoreNode,
      modifiedSheets: this.sheets.modified,
      checkedSheets: new WeakSet(),
      onAttach: (node) => this.#attach(node),
      scrolledElements: this.scrolledElements,
      maskUrl: options.maskUrl,
      // The mirror now holds this sheet's text as it is: edits made before are in it.
      onSheetText: (sheet) => {
        this.syncedSheets.add(sheet);
        this.dirtySheets.delete(sheet);
      },
    };
  }

  /** Starts watching. Nothing is sent until `snapshot()`. */
  start() {
    if (this.running) return;
    this.running = true;
    this.observer = new this.win.MutationObserver((records) => {
      for (const record of records) this.pending.push(record);
      this.schedule();
    });
    this.sheets.start();
    this.#watchShadows();
    this.#observe(this.doc);
    const win = this.win;
    this.#listen(win, 'resize', () => this.viewportThrottle.call());
    this.pollTimer = this.timers.setInterval(() => this.flush(), this.pollMs);
    if (this.canvasMs > 0) this.canvasTimer = this.timers.setInterval(() => this.#sendCanvases(), this.canvasMs);
  }

  /**
   * Hears of open shadow roots attached to elements the mirror already holds (a custom element
   * upgraded after the snapshot): no MutationObserver reports those.
   */
  #watchShadows() {
    const proto = this.win.Element?.prototype;
    const original = proto?.attachShadow;
    if (!proto || typeof original !== 'function') return;
    const recorder = this;
    /** @this {Element} @param {ShadowRootInit} init */
    const wrapper = function (init) {
      const root = original.call(this, init);
      if (recorder.running && this.shadowRoot === root) {
        recorder.newShadows.add(this);
        recorder.schedule();
      }
      return root;
    };
    proto.attachShadow = wrapper;
    this.unpatchShadow = () => {
      if (proto.attachShadow === wrapper) proto.attachShadow = original;
    };
  }

  /** Stops watching and restores everything it patched. */
  stop() {
    if (!this.running) return;
    this.running = false;
    this.ready = false;
    this.observer?.disconnect();
    this.observer = null;
    this.sheets.stop();
    this.unpatchShadow?.();
    this.unpatchShadow = null;
    this.job = null;
    if (this.canvasTimer !== null) this.timers.clearInterval(this.canvasTimer);
    if (this.retryTimer !== null) this.timers.clearTimeout(this.retryTimer);
    this.canvasTimer = this.retryTimer = null;
    for (const cleanup of this.cleanups.splice(0)) cleanup();
    if (this.scheduled !== null) this.scheduler.cancel(this.scheduled);
    this.scheduled = null;
    if (this.pollTimer !== null) this.timers.clearInterval(this.pollTimer);
    this.pollTimer = null;
    this.pointerThrottle.cancel();
    this.scrollThrottle.cancel();
    this.viewportThrottle.cancel();
    this.pending = [];
    this.observed = new WeakSet();
  }

  /**
   * Serializes the whole page and sends it. Pending changes are dropped (the snapshot shows
   * them). A big page is written in slices of at most `sliceMs` each, with the rest of the page's
   * work running in between; changes made meanwhile are kept and sent as ops right after the
   * snapshot, and nothing else is flushed until then.
   * @returns {Snapshot | null} The snapshot when it was written in one slice, else null.
   */
  snapshot() {
    if (this.scheduled !== null) this.scheduler.cancel(this.scheduled);
    this.scheduled = null;
    if (this.retryTimer !== null) this.timers.clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this.pending = [];
    this.observer?.takeRecords();
    this.dirtySheets.clear();
    this.reloadedFrames.clear();
    this.scrolled.clear();
    this.newShadows.clear();
    this.registry.clear();
    this.fields.clear();
    this.adopters.clear();
    this.canvases.clear();
    const started = this.now();
    this.env.pageMasked = this.rules.pageMasked(this.win.location.href);
    const job = new SnapshotJob(this.win, this.env);
    this.job = job;
    this.snapshotStats = { nodes: 0, slices: 0, busyMs: this.now() - started, longestSliceMs: 0 };
    return this.#continueSnapshot(job, false);
  }

  /**
   * @param {SnapshotJob} job
   * @param {boolean} sliced
   * @returns {Snapshot | null}
   */
  #continueSnapshot(job, sliced) {
    if (this.job !== job) return null; // stopped, or a newer snapshot started
    const started = this.now();
    const snapshot = job.step(started + this.sliceMs, this.now, () => {
      // Changes made while the snapshot was written in slices go into the snapshot itself.
      const records = this.pending;
      this.pending = [];
      if (this.observer) for (const record of this.observer.takeRecords()) records.push(record);
      return records;
    });
    const stats = this.snapshotStats;
    const spent = this.now() - started;
    stats.slices++;
    stats.busyMs += spent;
    stats.longestSliceMs = Math.max(stats.longestSliceMs, spent);
    stats.nodes = job.count;
    if (!snapshot) {
      this.yieldTask(() => this.#continueSnapshot(job, true));
      return null;
    }
    this.job = null;
    this.lastUrl = job.url;
    this.pageMasked = this.rules.pageMasked(job.url);
    this.lastFocus = JSON.stringify(snapshot.focus ?? { id: null });
    this.lastAdoptVersion = this.sheets.version;
    this.ready = true;
    this.emit('snapshot', snapshot);
    // What changed while the snapshot was being written follows at once.
    if (sliced) this.flush();
    if (this.canvases.size > 0) this.#sendCanvases();
    return snapshot;
  }

  /** Whether a snapshot is being written. */
  get snapshotting() {
    return this.job !== null;
  }

  /**
   * The page could not be sent (too large): send nothing until a snapshot is tried again after
   * `retryMs`.
   * @param {number} retryMs
   */
  holdUntilRetry(retryMs) {
    this.ready = false;
    this.registry.clear();
    this.fields.clear();
    this.adopters.clear();
    this.canvases.clear();
    if (this.retryTimer !== null) this.timers.clearTimeout(this.retryTimer);
    this.retryTimer = this.timers.setTimeout(() => {
      this.retryTimer = null;
      if (this.running) this.snapshot();
    }, retryMs);
  }

  /**
   * Asks for a flush: right after the current script when the page was quiet (so the agent sees
   * a change within milliseconds), else on the next animation frame (so a burst of changes goes
   * out as one batch per frame).
   */
  schedule() {
    if (this.scheduled !== null || !this.running) return;
    const soon = this.scheduler.now;
    if (soon && this.now() - this.lastFlushAt >= this.burstMs) {
      const handle = { microtask: true };
      this.scheduled = handle;
      soon(() => {
        if (this.scheduled !== handle) return; // flushed or cancelled meanwhile
        this.scheduled = null;
        this.flush();
      });
      return;
    }
    this.scheduled = this.scheduler.request(() => {
      this.scheduled = null;
      this.flush();
    });
  }

  /**
   * The node with this ID, if the mirror holds it and it is still on the page.
   * @param {number} id
   * @returns {Node | null}
   */
  nodeById(id) {
    const node = this.registry.node(id);
    return node && node.isConnected ? node : null;
  }

  /**
   * Sends what changed since the last flush: one `mut` frame of ops, then field states, focus,
   * adopted sheets and the URL.
   */
  flush() {
    if (this.scheduled !== null) {
      this.scheduler.cancel(this.scheduled);
      this.scheduled = null;
    }
    // While a snapshot is written in slices, records wait for it.
    if (this.job) return;
    this.lastFlushAt = this.now();
    const records = this.pending;
    this.pending = [];
    if (this.observer) for (const record of this.observer.takeRecords()) records.push(record);
    if (!this.ready) return;

    const url = this.win.location.href;
    if (url !== this.lastUrl && this.rules.pageMasked(url) !== this.pageMasked) {
      this.snapshot();
      return;
    }

    /** @type {Op[]} */
    const ops = [];
    const consistent = this.#mutationOps(records, ops);
    if (!consistent) {
      this.snapshot();
      return;
    }
    this.#sheetOps(ops);
    if (ops.length > 0) this.emit('mut', { ops });
    this.#sendFields();
    this.#sendFocus();
    if (url !== this.lastUrl) {
      this.lastUrl = url;
      this.emit('nav', { url: this.env.maskUrl ? this.env.maskUrl(url) : url, title: this.doc.title });
    }
  }

  /**
   * Turns mutation records into ops. Returns false when the records cannot be reconciled with
   * what the mirror holds (then a snapshot is the only safe answer).
   * @param {MutationRecord[]} records
   * @param {Op[]} ops
   * @returns {boolean}
   */
  #mutationOps(records, ops) {
    const registry = this.registry;
    /** Where each touched node was before this batch (its first removal's parent). */
    /** @type {Map<Node, Node>} */
    const oldParent = new Map();
    /** @type {Set<Node>} */
    const removed = new Set();
    /** @type {Set<Node>} */
    const added = new Set();
    /** @type {Map<Element, Set<string>>} */
    const attrs = new Map();
    /** @type {Set<Node>} */
    const texts = new Set();

    for (const record of records) {
      if (record.type === 'childList') {
        for (const node of record.removedNodes) {
          if (!oldParent.has(node)) oldParent.set(node, record.target);
          if (registry.has(node) && !added.has(node)) removed.add(node);
        }
        for (const node of record.addedNodes) added.add(node);
        if (record.target.nodeType === 1 && /** @type {Element} */ (record.target).localName === 'style') {
          texts.add(record.target);
        }
      } else if (record.type === 'attributes') {
        const el = /** @type {Element} */ (record.target);
        let names = attrs.get(el);
        if (!names) {
          if (!registry.has(el)) continue;
          attrs.set(el, (names = new Set()));
        }
        names.add(qualifiedName(record, el));
      } else if (record.type === 'characterData') {
        texts.add(record.target); // whether the mirror holds it is checked once, below
      }
    }

    // Removals: skip a node whose old ancestor is removed too (its removal covers it).
    for (const node of removed) {
      let covered = false;
      for (let p = oldParent.get(node) ?? null; p; p = oldParent.get(p) ?? parentAcrossBoundaries(p)) {
        if (removed.has(p)) {
          covered = true;
          break;
        }
      }
      if (!covered) ops.push(['rm', /** @type {number} */ (registry.idOf(node))]);
    }
    for (const node of removed) {
      registry.forget(node);
      this.#forgetFields(node);
    }

    // Additions: nodes on the page now that the mirror lacks, outermost only.
    /** @type {Node[]} */
    const roots = [];
    for (const node of added) {
      if (registry.has(node) || !this.#present(node)) continue;
      let covered = false;
      for (let p = parentAcrossBoundaries(node); p; p = parentAcrossBoundaries(p)) {
        if (added.has(p) && !registry.has(p)) {
          covered = true;
          break;
        }
      }
      if (!covered) roots.push(node);
    }
    /** @type {Map<Node, number>} */
    const ctxCache = new Map();
    const rootSet = new Set(roots);
    /** @type {Set<Node>} */
    const done = new Set();
    for (const node of roots) {
      if (done.has(node)) continue;
      // Add a run of new siblings from its end, so each one's next sibling is already there.
      const run = [node];
      for (let s = this.#nextSibling(node); s && rootSet.has(s) && !done.has(s); s = this.#nextSibling(s)) run.push(s);
      for (let i = run.length - 1; i >= 0; i--) {
        done.add(run[i]);
        if (!this.#addOp(run[i], ops, ctxCache)) return false;
      }
    }

    // Open shadow roots attached to hosts the mirror already has.
    for (const host of this.newShadows) {
      const root = host.shadowRoot;
      if (!root || !registry.has(host) || registry.has(root) || this.ignoreNode(root)) continue;
      const serialized = serializeNode(root, this.#contentContextOf(host, ctxCache), this.env);
      if (serialized) ops.push(['shadow', /** @type {number} */ (registry.idOf(host)), serialized]);
    }
    this.newShadows.clear();

    // Attributes: the final value of each changed attribute, once. Each document's base URL and
    // URL resolution are read once per batch, not once per attribute (a storm changes thousands).
    /** @type {Map<Document, {base: string, legacy: ((url: string) => string) | null}>} */
    const urlContexts = new Map();
    for (const [el, names] of attrs) {
      if (!registry.has(el) || done.has(el) || this.#insideAdded(el, done)) continue;
      const id = /** @type {number} */ (registry.idOf(el));
      const parentCtx = this.#contextOfParent(el, ctxCache);
      const mask = this.rules.effectiveMask(el, parentCtx);
      const previous = registry.markOf(id);
      if (previous.m !== mask && mask !== null) {
        this.#remask(el, id, mask, parentCtx, ops, ctxCache);
        continue;
      }
      const inner = contentContext(el, previous.m, parentCtx);
      const doc = el.ownerDocument;
      let urls = urlContexts.get(doc);
      if (!urls) urlContexts.set(doc, (urls = { base: doc.baseURI ?? '', legacy: legacyResolver(doc) }));
      for (const name of names) {
        const raw = el.getAttribute(name);
        if (raw === null) {
          if (!name.startsWith('on')) ops.push(['attr', id, name, null]);
          continue;
        }
        const value = attributeValue(el, name, raw, previous.m, inner, urls.base, urls.legacy);
        if (value === null && name.startsWith('on')) continue;
        ops.push(['attr', id, name, value]);
      }
      const restricted = this.rules.isRestricted(el);
      if (previous.r !== restricted) {
        ops.push(['mark', id, previous.m, restricted]);
        registry.setMark(id, previous.m, restricted);
      }
      this.#recheckDescendants(el, ops, ctxCache, done);
    }

    // Text: the final data of each changed text node, once.
    for (const node of texts) {
      const id = registry.idOf(node);
      if (id === undefined || registry.node(id) !== node || this.#insideAdded(node, done)) continue;
      if (node.nodeType === 1) continue; // a <style> whose children changed: handled below
      const data = /** @type {CharacterData} */ (node).data;
      const parent = node.parentNode;
      if (parent && parent.nodeType === 1 && /** @type {Element} */ (parent).localName === 'style') {
        ops.push(['text', id, absoluteCssUrls(data, parent.baseURI ?? '')]);
      } else {
        ops.push(['text', id, textValue(node, data, (parent ? this.#contentContextOf(parent, ctxCache) : 0) | this.rules.stuck(node))]);
      }
    }
    return true;
  }

  /**
   * Emits the add op of one new subtree.
   * @param {Node} node
   * @param {Op[]} ops
   * @param {Map<Node, number>} ctxCache
   * @returns {boolean} false when the mirror cannot place it
   */
  #addOp(node, ops, ctxCache) {
    const parent = node.parentNode;
    if (!parent || !this.registry.has(parent)) return false;
    const next = this.#nextSibling(node);
    if (next && !this.registry.has(next)) return false;
    const serialized = serializeNode(node, this.#contentContextOf(parent, ctxCache), this.env);
    if (!serialized) return true;
    ops.push(['add', /** @type {number} */ (this.registry.idOf(parent)), next ? /** @type {number} */ (this.registry.idOf(next)) : null, serialized]);
    return true;
  }

  /**
   * An element became masked: mark it and send its content again, masked.
   * @param {Element} el
   * @param {number} id
   * @param {import('../protocol.js').MaskKindCode} mask
   * @param {number} parentCtx
   * @param {Op[]} ops
   * @param {Map<Node, number>} ctxCache
   */
  #remask(el, id, mask, parentCtx, ops, ctxCache) {
    const restricted = this.rules.isRestricted(el);
    ops.push(['mark', id, mask, restricted]);
    this.registry.setMark(id, mask, restricted);
    const inner = contentContext(el, mask, parentCtx);
    ctxCache.set(el, inner);
    for (let i = 0; i < el.attributes.length; i++) {
      const attr = el.attributes[i];
      if (attr.name.startsWith('on')) continue;
      const value = attributeValue(el, attr.name, attr.value, mask, inner);
      if (value !== attr.value) ops.push(['attr', id, attr.name, value]);
    }
    if (mask === 'image') {
      const box = imageBox(el);
      if (box.w > 0) ops.push(['attr', id, 'width', String(box.w)]);
      if (box.h > 0) ops.push(['attr', id, 'height', String(box.h)]);
    }
    const canvas = this.canvases.get(el);
    if (canvas && canvas.vid !== null) {
      ops.push(['rm', canvas.vid]);
      if (canvas.sid !== null) ops.push(['rm', canvas.sid]);
      canvas.vid = canvas.sid = null;
      canvas.src = '';
    }
    // Children go out again under the new mask: remove each, then add it back.
    /** @type {Node[]} */
    const children = [];
    for (let child = el.firstChild; child; child = child.nextSibling) {
      if (this.registry.has(child)) children.push(child);
    }
    for (const child of children) {
      ops.push(['rm', /** @type {number} */ (this.registry.idOf(child))]);
      this.registry.forget(child);
      this.#forgetFields(child);
    }
    for (const child of children) {
      const serialized = serializeNode(child, inner, this.env);
      if (serialized) ops.push(['add', id, null, serialized]);
    }
    const shadow = el.shadowRoot;
    if (shadow && this.registry.has(shadow)) {
      // The shadow tree's content follows the host's mask as well.
      for (let child = shadow.firstChild; child; child = child.nextSibling) {
        if (!this.registry.has(child)) continue;
        ops.push(['rm', /** @type {number} */ (this.registry.idOf(child))]);
        this.registry.forget(child);
      }
      const shadowId = /** @type {number} */ (this.registry.idOf(shadow));
      for (let child = shadow.firstChild; child; child = child.nextSibling) {
        const serialized = serializeNode(child, inner, this.env);
        if (serialized) ops.push(['add', shadowId, null, serialized]);
      }
    }
  }

  /**
   * After an attribute change, descendants may now match a mask or restriction selector (only
   * where a policy selector looks at ancestors: `seesAncestors`).
   * @param {Element} el
   * @param {Op[]} ops
   * @param {Map<Node, number>} ctxCache
   * @param {Set<Node>} done
   */
  #recheckDescendants(el, ops, ctxCache, done) {
    const rules = this.rules;
    if (rules.policySelector === null || !rules.policySeesAncestors || !el.firstElementChild) return;
    let matches;
    try {
      matches = el.querySelectorAll(rules.policySelector);
    } catch {
      return;
    }
    for (const child of matches) {
      if (!this.registry.has(child) || done.has(child)) continue;
      const id = /** @type {number} */ (this.registry.idOf(child));
      const previous = this.registry.markOf(id);
      const parentCtx = this.#contextOfParent(child, ctxCache);
      const mask = rules.effectiveMask(child, parentCtx);
      const restricted = rules.isRestricted(child);
      if (previous.m !== mask && mask !== null) {
        this.#remask(child, id, mask, parentCtx, ops, ctxCache);
      } else if (previous.r !== restricted) {
        ops.push(['mark', id, previous.m, restricted]);
        this.registry.setMark(id, previous.m, restricted);
      }
    }
  }

  /**
   * The mask context an element inherits from its ancestors.
   * @param {Node} node
   * @param {Map<Node, number>} cache
   * @returns {number}
   */
  #contextOfParent(node, cache) {
    const parent = parentAcrossBoundaries(node);
    return (parent ? this.#contentContextOf(parent, cache) : this.pageMasked ? CTX_ALL : 0) | this.rules.stuck(node);
  }

  /**
   * The mask context children of `node` get.
   * @param {Node} node
   * @param {Map<Node, number>} cache
   * @returns {number}
   */
  #contentContextOf(node, cache) {
    const known = cache.get(node);
    if (known !== undefined) return known;
    let ctx;
    if (node.nodeType === 9 && node === this.doc) {
      ctx = this.pageMasked ? CTX_ALL : 0;
    } else if (node.nodeType === 1) {
      const el = /** @type {Element} */ (node);
      const parentCtx = this.#contextOfParent(el, cache);
      ctx = contentContext(el, this.rules.effectiveMask(el, parentCtx), parentCtx);
    } else {
      const parent = parentAcrossBoundaries(node);
      ctx = parent ? this.#contentContextOf(parent, cache) : this.pageMasked ? CTX_ALL : 0;
    }
    cache.set(node, ctx);
    return ctx;
  }

  /**
   * Whether a node is on the observed page now, outside anything ignored.
   * @param {Node} node
   * @returns {boolean}
   */
  #present(node) {
    for (let cur = /** @type {Node | null} */ (node); cur; cur = parentAcrossBoundaries(cur)) {
      if (cur === this.doc) return true;
      if (isIgnored(cur, this.env)) return false;
    }
    return false;
  }

  /**
   * @param {Node} node
   * @param {Set<Node>} added Roots added in this batch.
   * @returns {boolean}
   */
  #insideAdded(node, added) {
    if (added.size === 0) return false;
    for (let cur = parentAcrossBoundaries(node); cur; cur = parentAcrossBoundaries(cur)) {
      if (added.has(cur)) return true;
    }
    return false;
  }

  /**
   * The next sibling that is serialized.
   * @param {Node} node
   * @returns {Node | null}
   */
  #nextSibling(node) {
    let s = node.nextSibling;
    while (s && isIgnored(s, this.env)) s = s.nextSibling;
    return s;
  }

  /** @param {Node} root */
  #forgetFields(root) {
    if (this.fields.size === 0) return;
    for (const field of this.fields.keys()) {
      if (!this.registry.has(field) && (field === root || root.contains(field))) this.fields.delete(field);
    }
  }

  /**
   * Notes a change to a sheet: a rule edit is kept to be sent as such when the mirror holds the
   * sheet's text; anything else means the whole text goes.
   * @param {CSSStyleSheet} sheet
   * @param {import('./stylesheets.js').RuleEdit | null} edit
   */
  #sheetChanged(sheet, edit) {
    const edits = this.dirtySheets.get(sheet);
    if (edits === null) return;
    if (!edit || !this.syncedSheets.has(sheet)) {
      this.dirtySheets.set(sheet, null);
    } else if (edits) {
      edits.push(edit);
    } else {
      this.dirtySheets.set(sheet, [edit]);
    }
  }

  /** @param {Op[]} ops */
  #sheetOps(ops) {
    for (const [sheet, edits] of this.dirtySheets) {
      const owner = sheet.ownerNode ?? this.#findSheetOwner(sheet);
      if (!owner || !this.registry.has(owner)) continue;
      const id = /** @type {number} */ (this.registry.idOf(owner));
      const base = owner.baseURI ?? '';
      // Rule by rule, unless that would say more than the sheet itself.
      if (edits && edits.length <= sheet.cssRules.length + 1) {
        const urlBase = sheet.href ?? base;
        for (const edit of edits) {
          if (edit.text === undefined) ops.push(['cssdel', id, edit.index]);
          else ops.push(['cssins', id, edit.index, absoluteCssUrls(edit.text, urlBase)]);
        }
        continue;
      }
      const text = sheetText(sheet, base);
      if (text !== null) {
        ops.push(['css', id, text]);
        this.syncedSheets.add(sheet);
      }
    }
    this.dirtySheets.clear();
    for (const frame of this.reloadedFrames) {
      if (!this.registry.has(frame)) continue;
      const old = this.frameDocs.get(frame);
      if (old) this.registry.forget(old);
      const doc = frameDocument(frame);
      this.frameDocs.set(frame, doc);
      const cache = new Map();
      const node = doc && doc.documentElement ? serializeNode(doc, this.#contentContextOf(frame, cache), this.env) : null;
      ops.push(['frame', /** @type {number} */ (this.registry.idOf(frame)), node]);
    }
    this.reloadedFrames.clear();
    for (const [owner, last] of this.adopters) {
      if (!this.registry.has(owner)) {
        this.adopters.delete(owner);
        continue;
      }
      const sheets = /** @type {{adoptedStyleSheets?: CSSStyleSheet[]}} */ (owner).adoptedStyleSheets ?? [];
      const same = sheets.length === last.sheets.length && sheets.every((s, i) => s === last.sheets[i]);
      if (same && this.lastAdoptVersion === this.sheets.version) continue;
      const texts = adoptedTexts(owner, this.doc.baseURI) ?? [];
      const text = JSON.stringify(texts);
      if (text !== last.text) ops.push(['adopt', /** @type {number} */ (this.registry.idOf(owner)), texts]);
      this.adopters.set(owner, { sheets: Array.from(sheets), text });
    }
    this.lastAdoptVersion = this.sheets.version;
  }

  /**
   * The element that owns a sheet, for DOM implementations without `ownerNode`.
   * @param {CSSStyleSheet} sheet
   * @returns {Element | null}
   */
  #findSheetOwner(sheet) {
    for (const el of this.doc.querySelectorAll('style, link')) {
      if (/** @type {HTMLStyleElement} */ (el).sheet === sheet) return el;
    }
    return null;
  }

  /** Sends the live state of every field that changed, read from the properties. */
  #sendFields() {
    for (const [field, last] of this.fields) {
      if (!this.registry.has(field)) {
        this.fields.delete(field);
        continue;
      }
      const id = /** @type {number} */ (this.registry.idOf(field));
      const mask = this.registry.markOf(id).m;
      const state = formState(field, mask !== null);
      if (!state) continue;
      const text = JSON.stringify(state);
      if (text === last) continue;
      this.fields.set(field, text);
      this.emit('input', { id, ...state });
    }
  }

  #sendFocus() {
    const focus = focusOf(this.doc, this.registry);
    const text = JSON.stringify(focus);
    if (text === this.lastFocus) return;
    this.lastFocus = text;
    this.emit('focus', focus);
  }

  #sendScrolls() {
    if (!this.ready) return;
    for (const target of this.scrolled) {
      if (target.nodeType === 9) {
        // A document: the page's own, or a frame's.
        const view = /** @type {Document} */ (target).defaultView;
        if (view && this.registry.has(target)) this.emit('scroll', { id: /** @type {number} */ (this.registry.idOf(target)), x: view.scrollX || 0, y: view.scrollY || 0 });
      } else if (this.registry.has(target)) {
        const el = /** @type {Element} */ (target);
        this.emit('scroll', { id: /** @type {number} */ (this.registry.idOf(el)), x: el.scrollLeft, y: el.scrollTop });
      }
    }
    this.scrolled.clear();
  }

  /**
   * Called by the serializer for each document, shadow root, iframe and field it writes.
   * @param {Document | ShadowRoot | Element} node
   */
  #attach(node) {
    if (node.nodeType === 9 || node.nodeType === 11) {
      const owner = /** @type {Document | ShadowRoot} */ (node);
      const sheets = /** @type {{adoptedStyleSheets?: CSSStyleSheet[]}} */ (owner).adoptedStyleSheets ?? [];
      this.adopters.set(owner, { sheets: Array.from(sheets), text: JSON.stringify(adoptedTexts(owner, this.doc.baseURI) ?? []) });
      if (this.running) this.#observe(owner);
      return;
    }
    const el = /** @type {Element} */ (node);
    if (el.localName === 'iframe' || el.localName === 'frame') {
      if (!this.frameDocs.has(el)) {
        this.#listen(el, 'load', () => {
          this.reloadedFrames.add(el);
          this.schedule();
        });
      }
      this.frameDocs.set(el, frameDocument(el));
      return;
    }
    if (el.localName === 'canvas') {
      if (this.canvasMs > 0) this.canvases.set(el, { vid: null, sid: null, src: '', size: '' });
      return;
    }
    const id = /** @type {number} */ (this.registry.idOf(el));
    const mask = this.registry.markOf(id).m;
    this.fields.set(el, JSON.stringify(formState(el, mask !== null)));
  }

  /**
   * Sends the content of each canvas as an image that changed since last time. The image goes
   * into the mirror as the canvas's last child: the agent's view runs no script, so it shows a
   * canvas's children instead of the canvas. Masked canvases and tainted ones send nothing.
   */
  #sendCanvases() {
    if (!this.ready || this.job) return;
    /** @type {Op[]} */
    const ops = [];
    for (const [canvas, last] of this.canvases) {
      if (!this.registry.has(canvas)) {
        this.canvases.delete(canvas);
        continue;
      }
      const id = /** @type {number} */ (this.registry.idOf(canvas));
      if (this.registry.markOf(id).m) continue;
      const image = canvasImage(/** @type {HTMLCanvasElement} */ (canvas), this.doc);
      if (!image) continue;
      if (last.vid === null) {
        last.sid = this.registry.reserve();
        ops.push(['add', id, null, { id: last.sid, k: 'e', n: 'style', a: { [CANVAS_IMAGE_ATTRIBUTE]: '' }, c: [{ id: this.registry.reserve(), k: 'x', v: CANVAS_STYLE }] }]);
        last.vid = this.registry.reserve();
        ops.push(['add', id, null, { id: last.vid, k: 'e', n: 'img', a: { [CANVAS_IMAGE_ATTRIBUTE]: '', alt: '', src: image.src, style: image.style } }]);
      } else {
        if (image.src !== last.src) ops.push(['attr', last.vid, 'src', image.src]);
        if (image.style !== last.size) ops.push(['attr', last.vid, 'style', image.style]);
      }
      last.src = image.src;
      last.size = image.style;
    }
    if (ops.length > 0) this.emit('mut', { ops });
  }

  /**
   * Observes a document or shadow root and listens to what happens in it.
   * @param {Document | ShadowRoot} root
   */
  #observe(root) {
    if (this.observed.has(root) || !this.observer) return;
    this.observed.add(root);
    this.observer.observe(root, { childList: true, subtree: true, attributes: true, characterData: true });
    const onField = () => this.schedule();
    this.#listen(root, 'input', onField);
    this.#listen(root, 'change', onField);
    this.#listen(root, 'focusin', onField);
    this.#listen(root, 'focusout', onField);
    this.#listen(root, 'select', onField);
    this.#listen(root, 'keyup', onField);
    this.#listen(root, 'scroll', (event) => {
      const target = /** @type {Node} */ (event.target);
      if (!target || this.#fromIgnored(event)) return;
      this.scrolledElements.add(target);
      this.scrolled.add(target);
      this.scrollThrottle.call();
    });
    if (root === this.doc) {
      this.#listen(root, 'selectionchange', onField);
      const move = (/** @type {Event} */ event) => {
        const e = /** @type {MouseEvent} */ (event);
        // The element under the real pointer, so the agent's view can show it hovered.
        const target = /** @type {Node | undefined} */ (event.composedPath()[0]);
        /** @type {{x: number, y: number, id?: number}} */
        const pointer = { x: e.clientX, y: e.clientY };
        if (target && this.registry.has(target)) pointer.id = this.registry.idOf(target);
        this.pointer = pointer;
        this.pointerThrottle.call();
      };
      this.#listen(root, typeof this.win.PointerEvent === 'function' ? 'pointermove' : 'mousemove', move);
      this.#listen(root, 'click', (event) => {
        if (!this.ready || this.dispatchingAction || this.#fromIgnored(event)) return;
        const e = /** @type {MouseEvent} */ (event);
        const target = event.composedPath()[0];
        /** @type {import('../protocol.js').Click} */
        const click = { x: e.clientX, y: e.clientY };
        if (target && this.registry.has(/** @type {Node} */ (target))) click.id = this.registry.idOf(/** @type {Node} */ (target));
        this.emit('click', click);
      });
    }
  }

  /**
   * @param {Event} event
   * @returns {boolean}
   */
  #fromIgnored(event) {
    return event.composedPath().some((node) => node instanceof this.win.Node && this.ignoreNode(/** @type {Node} */ (node)));
  }

  /**
   * @param {EventTarget} target
   * @param {string} type
   * @param {(event: Event) => void} handler
   */
  #listen(target, type, handler) {
    const options = { capture: true, passive: true };
    target.addEventListener(type, handler, options);
    this.cleanups.push(() => target.removeEventListener(type, handler, options));
  }
}

/**
 * A canvas's content as a data URL (scaled down when large) and the CSS size of its box, or
 * null when it cannot be read (tainted by a cross-origin image) or has no size.
 * @param {HTMLCanvasElement} canvas
 * @param {Document} doc
 * @returns {{src: string, style: string} | null}
 */
export function canvasImage(canvas, doc) {
  const w = canvas.width;
  const h = canvas.height;
  if (!w || !h) return null;
  let box = { width: w, height: h };
  try {
    const rect = canvas.getBoundingClientRect();
    if (rect.width > 0 && rect.height > 0) box = rect;
  } catch {
    // no layout
  }
  const style = `display:inline-block;width:${Math.round(box.width)}px;height:${Math.round(box.height)}px`;
  try {
    let source = canvas;
    const scale = Math.min(1, CANVAS_MAX_SIDE / Math.max(w, h));
    if (scale < 1) {
      source = /** @type {HTMLCanvasElement} */ (doc.createElement('canvas'));
      source.width = Math.max(1, Math.round(w * scale));
      source.height = Math.max(1, Math.round(h * scale));
      source.getContext('2d')?.drawImage(canvas, 0, 0, source.width, source.height);
    }
    const src = source.toDataURL('image/webp', 0.7);
    return src.startsWith('data:image/') ? { src, style } : null;
  } catch {
    return null;
  }
}
