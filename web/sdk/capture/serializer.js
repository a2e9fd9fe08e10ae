// The serializer: pure functions from DOM nodes to protocol nodes. It applies masking as it
// goes, so masked data is never in anything it returns. It knows nothing of MutationObservers
// (the recorder) or sockets (the transport).

import { CTX_ALL, CTX_TEXT, MaskRules, isFormField, parentAcrossBoundaries } from './rules.js';
import { absoluteAttribute, absoluteCssUrls, isScriptUrl, legacyResolver } from './urls.js';
import { frameDocument } from './node_registry.js';
import { adoptedTexts, changedBeforeWatching, sheetText } from './stylesheets.js';

/** @typedef {import('../protocol.js').SerializedNode} SerializedNode */
/** @typedef {import('../protocol.js').Snapshot} Snapshot */
/** @typedef {import('../protocol.js').FormState} FormState */
/** @typedef {import('../protocol.js').MaskKindCode} MaskKindCode */
/** @typedef {import('../protocol.js').CompatMode} CompatMode */
/** @typedef {import('../protocol.js').Scroll} Scroll */
/** @typedef {import('../protocol.js').Focus} Focus */
/** @typedef {import('../protocol.js').Viewport} Viewport */
/** @typedef {import('./node_registry.js').NodeRegistry} NodeRegistry */

export const HTML_NS = 'http://www.w3.org/1999/xhtml';
export const SVG_NS = 'http://www.w3.org/2000/svg';

/**
 * What the serializer needs besides the node.
 * @typedef {object} SerializeEnv
 * @property {NodeRegistry} registry Assigns IDs and remembers what the mirror holds.
 * @property {MaskRules} rules Masking and restriction rules.
 * @property {(node: Node) => boolean} ignore Nodes never sent (the SDK's own UI).
 * @property {WeakSet<CSSStyleSheet>} modifiedSheets Sheets whose rules script changed.
 * @property {WeakSet<CSSStyleSheet>} [checkedSheets] `<style>` sheets already checked for changes
 *   made before the SDK watched (see `changedBeforeWatching`); without it, each is checked every time.
 * @property {(node: Document | ShadowRoot | Element) => void} [onAttach] Told of every document,
 *   shadow root, iframe and form field serialized, so the recorder can watch them.
 * @property {Scroll[]} [scrolls] When set, scrolled elements are collected here.
 * @property {(url: string) => string} [maskUrl] Hides what the page's address must not show (the
 *   values of masked fields a GET form put into it).
 * @property {boolean} [pageMasked] The whole page is masked by URL: its context is not remembered
 *   per node (the next page of a single-page app may not be masked).
 * @property {(sheet: CSSStyleSheet) => void} [onSheetText] Told of every sheet written as
 *   effective text (`css`), so later rule edits can be sent against it.
 * @property {WeakSet<Node>} [scrolledElements] Elements known to have scrolled; only their
 *   positions are read (reading every element's would force layout work on every node).
 *   Without it, every element is read.
 */

/** Elements that are never sent: they would not run in the agent's view anyway. */
const SKIPPED_ELEMENTS = new Set(['script', 'noscript']);

/** Attributes that hold text a masked element's user could have typed or that describe it. */
const TEXT_ATTRIBUTES = new Set(['title', 'alt', 'aria-label', 'aria-valuetext', 'aria-description', 'value', 'label']);

/** Attributes that load an image, dropped from masked images. */
const IMAGE_ATTRIBUTES = new Set(['src', 'srcset', 'poster', 'background', 'data', 'href', 'xlink:href', 'imagesrcset']);

/** Attributes whose value is a URL, where `javascript:` is dropped. */
const URL_ATTRIBUTES = new Set(['href', 'src', 'action', 'formaction', 'xlink:href', 'data', 'poster', 'background']);

/**
 * Replaces every non-whitespace character with an asterisk, keeping the length.
 * @param {string} text
 * @returns {string}
 */
export function maskText(text) {
  return text.replace(/\S/gu, '*');
}

/**
 * A masked value: one asterisk per character.
 * @param {string} value
 * @returns {string}
 */
export function maskValue(value) {
  return '*'.repeat(value.length);
}

/**
 * Whether a node is never serialized (and nothing under it).
 * @param {Node} node
 * @param {SerializeEnv} env
 * @returns {boolean}
 */
export function isIgnored(node, env) {
  if (node.nodeType === 1 && SKIPPED_ELEMENTS.has(/** @type {Element} */ (node).localName)) return true;
  if (node.nodeType === 7) return true; // processing instructions
  return env.ignore(node);
}

/**
 * The value an attribute goes out with, or null when it is dropped.
 * @param {Element} el
 * @param {string} name
 * @param {string} value
 * @param {MaskKindCode | null} mask The element's effective mask.
 * @param {number} ctx The element's inherited mask context combined with its own.
 * @param {string} [base] The element's base URL, when the caller already knows it.
 * @param {((url: string) => string) | null} [legacy] The document's own URL resolution, for pages
 *   in legacy encodings (see `legacyResolver`); found from the element when not given.
 * @returns {string | null}
 */
export function attributeValue(el, name, value, mask, ctx, base = el.baseURI ?? '', legacy = legacyResolver(el.ownerDocument)) {
  if (name.length > 2 && name.charCodeAt(0) === 111 && name.charCodeAt(1) === 110) {
    // on* event handlers never leave.
    if (name.startsWith('on')) return null;
  }
  if (name === 'srcdoc') return null;
  if (mask === 'image' && IMAGE_ATTRIBUTES.has(name)) return null;
  if (mask === 'image' && TEXT_ATTRIBUTES.has(name)) return maskText(value);
  if (mask === 'value' && name === 'value') return maskValue(value);
  if (ctx & CTX_TEXT && TEXT_ATTRIBUTES.has(name)) return maskText(value);
  if (URL_ATTRIBUTES.has(name) && isScriptUrl(value)) return null;
  return absoluteAttribute(name, value, base, el.namespaceURI === SVG_NS, legacy);
}

/**
 * Live form state of a field (the properties, not the attributes).
 * @param {Element} el
 * @param {boolean} masked
 * @returns {FormState | null}
 */
export function formState(el, masked) {
  if (el.localName === 'input') {
    const input = /** @type {HTMLInputElement} */ (el);
    const type = input.type;
    if (type === 'checkbox' || type === 'radio') return { ch: input.checked };
    if (type === 'file') return null;
    return { v: masked ? maskValue(input.value) : input.value };
  }
  if (el.localName === 'textarea') {
    const value = /** @type {HTMLTextAreaElement} */ (el).value;
    return { v: masked ? maskValue(value) : value };
  }
  if (el.localName === 'select') {
    if (masked) return null;
    const options = /** @type {HTMLSelectElement} */ (el).options;
    /** @type {number[]} */
    const sel = [];
    for (let i = 0; i < options.length; i++) if (options[i].selected) sel.push(i);
    return { sel };
  }
  return null;
}

/**
 * Serializes a node and its subtree, or returns null when it is never sent.
 * @param {Node} node
 * @param {number} ctx Mask context inherited from the ancestors.
 * @param {SerializeEnv} env
 * @returns {SerializedNode | null}
 */
export function serializeNode(node, ctx, env) {
  const writer = new TreeWriter(env, false);
  const out = writer.visit(node, ctx);
  writer.run(Infinity);
  return out;
}

/**
 * The text a text node goes out with, given the mask context it sits in.
 * @param {Node} node
 * @param {string} data
 * @param {number} ctx
 * @returns {string}
 */
export function textValue(node, data, ctx) {
  if (!(ctx & CTX_TEXT)) return data;
  const parent = node.parentNode;
  if (parent && parent.nodeType === 1 && /** @type {Element} */ (parent).localName === 'style') return data;
  return maskText(data);
}

/**
 * The mask context an element's own content and descendants get.
 * @param {Element} el
 * @param {MaskKindCode | null} mask The element's effective mask.
 * @param {number} ctx Inherited context.
 * @returns {number}
 */
export function contentContext(el, mask, ctx) {
  let child = MaskRules.childContext(ctx, mask);
  // A masked textarea's text children are its default value; a masked select's options name
  // the choice.
  if (mask === 'value' && (el.localName === 'textarea' || el.localName === 'select')) child |= CTX_TEXT;
  return child;
}

/**
 * Children still to write: a list taken when their parent was written, so a change to the
 * page between two slices of a long snapshot cannot make the walk skip or repeat siblings.
 * @typedef {object} ChildTask
 * @property {Node[]} list
 * @property {number} i
 * @property {number} ctx
 * @property {SerializedNode} owner
 * @property {SerializedNode[]} into
 * @property {string | null} cssBase Set for a `<style>`: its text children are CSS, written
 *   with url() made absolute against this base.
 */

/**
 * Writes a subtree without recursion, so the work can stop at a deadline and go on later (a
 * long snapshot runs in slices). Each node is written when it is reached, with the state it has
 * then; what changes afterwards reaches the mirror as mutation ops, like any other change.
 */
export class TreeWriter {
  /**
   * @param {SerializeEnv} env
   * @param {boolean} skipKnown Skip nodes already written in this pass. A snapshot written in
   *   slices can meet a node twice when the page moves it between slices; the first place wins
   *   and the move follows as ops.
   */
  constructor(env, skipKnown) {
    this.env = env;
    this.skipKnown = skipKnown;
    /** @type {ChildTask[]} */
    this.stack = [];
    /** Nodes written so far. */
    this.count = 0;
    /** Base URL of each document met, read once (a document's elements share it). */
    /** @type {Map<Document, string>} */
    this.bases = new Map();
    /** URL resolution of each document in a legacy encoding (null for UTF-8 ones). */
    /** @type {Map<Document, ((url: string) => string) | null>} */
    this.legacy = new Map();
  }

  /**
   * The base URL an element's relative URLs resolve against.
   * @param {Element} el
   * @returns {string}
   */
  baseOf(el) {
    return this.#base(el);
  }

  /**
   * @param {Element} el
   * @returns {string}
   */
  #base(el) {
    const doc = el.ownerDocument;
    let base = this.bases.get(doc);
    if (base === undefined) {
      base = doc.baseURI ?? '';
      this.bases.set(doc, base);
    }
    return base;
  }

  /**
   * Works until everything is written (true) or the deadline passes (false).
   * @param {number} deadline In the units of `now`.
   * @param {() => number} [now]
   * @returns {boolean}
   */
  run(deadline, now) {
    const stack = this.stack;
    let sinceCheck = 0;
    while (stack.length > 0) {
      if (now && ++sinceCheck >= 32) {
        sinceCheck = 0;
        if (now() >= deadline) return false;
      }
      const task = stack[stack.length - 1];
      if (task.i >= task.list.length) {
        stack.pop();
        if (task.into.length > 0) task.owner.c = task.into;
        continue;
      }
      const child = task.list[task.i++];
      if (task.cssBase !== null && child.nodeType === 3) {
        if (this.skipKnown && this.env.registry.has(child)) continue;
        const id = this.env.registry.register(child);
        this.count++;
        task.into.push({ id, k: 'x', v: absoluteCssUrls(/** @type {Text} */ (child).data, task.cssBase) });
        continue;
      }
      const out = this.visit(child, task.ctx);
      if (out) task.into.push(out);
    }
    return true;
  }

  /**
   * Writes one node; its children, shadow root and frame document are queued.
   * @param {Node} node
   * @param {number} ctx
   * @returns {SerializedNode | null}
   */
  visit(node, ctx) {
    const env = this.env;
    if (isIgnored(node, env)) return null;
    const registry = env.registry;
    // Read once and handed on: on a page never written before, every read misses.
    const known = registry.idOf(node);
    if (this.skipKnown && known !== undefined && registry.node(known) === node) return null;
    const type = node.nodeType;
    if (type === 1 || type === 3 || type === 4 || type === 8) {
      // Content once sent masked stays masked wherever it moves.
      ctx |= env.rules.stuck(node);
      if (ctx !== 0 && !env.pageMasked) env.rules.stick(node, ctx);
    }
    switch (type) {
      case 1:
        this.count++;
        return this.#element(/** @type {Element} */ (node), ctx, known);
      case 3:
      case 4: {
        this.count++;
        const id = registry.registerRead(node, known);
        return { id, k: 'x', v: textValue(node, /** @type {CharacterData} */ (node).data, ctx) };
      }
      case 8: {
        this.count++;
        const id = registry.registerRead(node, known);
        const data = /** @type {CharacterData} */ (node).data;
        return { id, k: 'c', v: ctx & CTX_TEXT ? maskText(data) : data };
      }
      case 9:
        this.count++;
        return this.#container(/** @type {Document} */ (node), 'd', ctx);
      case 10: {
        this.count++;
        const doctype = /** @type {DocumentType} */ (node);
        const id = env.registry.register(node);
        /** @type {SerializedNode} */
        const out = { id, k: 't', n: doctype.name };
        if (doctype.publicId || doctype.systemId) out.ids = [doctype.publicId, doctype.systemId];
        return out;
      }
      case 11: {
        const root = /** @type {ShadowRoot} */ (node);
        if (!root.host) return null;
        this.count++;
        return this.#container(root, 'f', ctx);
      }
      default:
        return null;
    }
  }

  /**
   * A document or shadow root: written now, observed now (so nothing added to it from here on
   * is missed), its children queued.
   * @param {Document | ShadowRoot} owner
   * @param {'d' | 'f'} kind
   * @param {number} ctx
   * @returns {SerializedNode}
   */
  #container(owner, kind, ctx) {
    const env = this.env;
    const id = env.registry.register(owner);
    /** @type {SerializedNode} */
    const out = { id, k: kind };
    const base = (kind === 'd' ? /** @type {Document} */ (owner).baseURI : /** @type {ShadowRoot} */ (owner).host.baseURI) ?? '';
    const adopted = adoptedTexts(owner, base);
    if (adopted) out.as = adopted;
    env.onAttach?.(owner);
    this.#queue(owner, ctx, out, null);
    if (kind === 'd' && env.scrolls) {
      // A frame's own scroll position (the page's is added by the snapshot).
      const view = /** @type {Document} */ (owner).defaultView;
      if (view && view !== view.top && (view.scrollX || view.scrollY)) env.scrolls.push({ id, x: view.scrollX, y: view.scrollY });
    }
    return out;
  }

  /**
   * @param {Node} parent
   * @param {number} ctx
   * @param {SerializedNode} owner
   * @param {string | null} cssBase
   */
  #queue(parent, ctx, owner, cssBase) {
    const first = parent.firstChild;
    if (!first) return;
    /** @type {Node[]} */
    const list = [];
    for (let child = /** @type {Node | null} */ (first); child; child = child.nextSibling) list.push(child);
    this.stack.push({ list, i: 0, ctx, owner, into: [], cssBase });
  }

  /**
   * The attributes an element goes out with, or null when none.
   * @param {Element} el
   * @param {MaskKindCode | null} mask
   * @param {number} inner The element's content context.
   * @returns {Record<string, string> | null}
   */
  attributes(el, mask, inner) {
    if (!el.hasAttributes() && mask !== 'image') return null;
    const base = this.#base(el);
    const doc = el.ownerDocument;
    let legacy = this.legacy.get(doc);
    if (legacy === undefined) {
      legacy = legacyResolver(doc);
      this.legacy.set(doc, legacy);
    }
    /** @type {Record<string, string>} */
    const a = {};
    let any = false;
    // Names then values: faster than walking `attributes`, which makes an Attr object for each.
    const names = el.getAttributeNames();
    for (let i = 0; i < names.length; i++) {
      const name = names[i];
      const value = attributeValue(el, name, /** @type {string} */ (el.getAttribute(name)), mask, inner, base, legacy);
      if (value !== null && !(name in a)) {
        a[name] = value;
        any = true;
      }
    }
    if (mask === 'image') {
      const box = imageBox(el);
      if (box.w > 0) a.width = String(box.w);
      if (box.h > 0) a.height = String(box.h);
      any = any || box.w > 0 || box.h > 0;
    }
    return any ? a : null;
  }

  /**
   * Writes one child of a parent at once, subtree included (`<style>` text as CSS).
   * @param {Node} child
   * @param {number} ctx
   * @param {string | null} cssBase
   * @returns {SerializedNode | null}
   */
  writeChild(child, ctx, cssBase) {
    if (cssBase !== null && child.nodeType === 3) {
      const id = this.env.registry.register(child);
      this.count++;
      return { id, k: 'x', v: absoluteCssUrls(/** @type {Text} */ (child).data, cssBase) };
    }
    if (this.stack.length > 0) throw new Error('writeChild needs an idle writer');
    const out = this.visit(child, ctx);
    this.run(Infinity);
    return out;
  }

  /**
   * @param {Element} el
   * @param {number} ctx
   * @param {number | undefined} known Its ID, if it has one.
   * @returns {SerializedNode}
   */
  #element(el, ctx, known) {
    const env = this.env;
    const id = env.registry.registerRead(el, known);
    const mask = env.rules.effectiveMask(el, ctx);
    const restricted = env.rules.isRestricted(el);
    const inner = contentContext(el, mask, ctx);
    const name = el.localName;
    /** @type {SerializedNode} */
    const out = { id, k: 'e', n: name };
    const ns = el.namespaceURI;
    if (ns !== HTML_NS && ns !== null) out.ns = ns;

    const a = this.attributes(el, mask, inner);
    if (a) out.a = a;
    if (mask) out.m = mask;
    if (restricted) out.r = true;
    if (mask || restricted) env.registry.marks.set(id, { m: mask, r: restricted });

    if (isFormField(el)) {
      const state = formState(el, mask !== null);
      if (state) out.st = state;
      env.onAttach?.(el);
    }

    if (name === 'style' || (name === 'link' && /stylesheet/i.test(el.getAttribute('rel') ?? ''))) {
      const sheet = /** @type {HTMLStyleElement} */ (el).sheet;
      if (sheet && name === 'style' && !env.modifiedSheets.has(sheet) && !env.checkedSheets?.has(sheet)) {
        // Once per sheet: later changes are the watcher's to see.
        env.checkedSheets?.add(sheet);
        if (changedBeforeWatching(sheet, el)) env.modifiedSheets.add(sheet);
      }
      if (sheet && env.modifiedSheets.has(sheet)) {
        const text = sheetText(sheet, el.baseURI ?? '');
        if (text !== null) {
          out.css = text;
          env.onSheetText?.(sheet);
        }
      }
    }

    // Queued in reverse: the stack takes the children first, then the shadow root, then the frame.
    if (name === 'iframe' || name === 'frame') {
      env.onAttach?.(el);
      const doc = frameDocument(el);
      if (doc && doc.documentElement && !(this.skipKnown && env.registry.has(doc))) out.fd = this.#container(doc, 'd', inner);
    } else if (name === 'canvas') {
      env.onAttach?.(el);
    }
    const shadow = el.shadowRoot;
    if (shadow && !env.ignore(shadow) && !(this.skipKnown && env.registry.has(shadow))) {
      out.sh = this.#container(shadow, 'f', inner);
    }
    // <style> text goes out as its text children, with url() made absolute; a <template>'s
    // content is not in the rendered tree. A lone text child (the most common case) is written
    // at once, without queueing.
    const first = el.firstChild;
    if (first && first.nextSibling === null && first.nodeType === 3 && name !== 'style' && name !== 'template') {
      const text = this.visit(first, inner);
      if (text) out.c = [text];
    } else if (name !== 'template') {
      this.#queue(el, inner, out, name === 'style' ? this.#base(el) : null);
    }

    if (env.scrolls && (!env.scrolledElements || env.scrolledElements.has(el)) && (el.scrollTop || el.scrollLeft)) {
      env.scrolls.push({ id, x: el.scrollLeft, y: el.scrollTop });
    }
    return out;
  }
}

/**
 * The rendered size of an image, falling back to its width and height attributes.
 * @param {Element} el
 * @returns {{w: number, h: number}}
 */
export function imageBox(el) {
  let w = 0;
  let h = 0;
  try {
    const rect = el.getBoundingClientRect();
    w = Math.round(rect.width);
    h = Math.round(rect.height);
  } catch {
    // no layout
  }
  if (w === 0) w = Number.parseInt(el.getAttribute('width') ?? '', 10) || 0;
  if (h === 0) h = Number.parseInt(el.getAttribute('height') ?? '', 10) || 0;
  return { w, h };
}

/**
 * The rendering mode as the document's doctype decides it.
 * @param {Document} doc
 * @returns {CompatMode}
 */
export function compatModeOf(doc) {
  if (doc.compatMode === 'BackCompat') return 'quirks';
  const doctype = doc.doctype;
  if (doctype) {
    const pub = doctype.publicId.toLowerCase();
    if (pub.startsWith('-//w3c//dtd xhtml 1.0 frameset//') || pub.startsWith('-//w3c//dtd xhtml 1.0 transitional//')) {
      return 'limited-quirks';
    }
    if (doctype.systemId && (pub.startsWith('-//w3c//dtd html 4.01 frameset//') || pub.startsWith('-//w3c//dtd html 4.01 transitional//'))) {
      return 'limited-quirks';
    }
  }
  return 'standards';
}

/**
 * @param {Window} win
 * @returns {Viewport}
 */
export function viewportOf(win) {
  return {
    w: Math.max(0, Math.round(win.innerWidth || 0)),
    h: Math.max(0, Math.round(win.innerHeight || 0)),
    dpr: win.devicePixelRatio || 1,
  };
}

/**
 * The focused element (through open shadow roots) and the caret in a text field.
 * @param {Document} doc
 * @param {NodeRegistry} registry
 * @returns {Focus}
 */
export function focusOf(doc, registry) {
  /** @type {Element | null} */
  let active = doc.activeElement;
  while (active && active.shadowRoot && active.shadowRoot.activeElement) active = active.shadowRoot.activeElement;
  if (!active || active === doc.body || active === doc.documentElement || !registry.has(active)) return { id: null };
  /** @type {Focus} */
  const focus = { id: /** @type {number} */ (registry.idOf(active)) };
  try {
    const field = /** @type {HTMLInputElement} */ (active);
    if (typeof field.selectionStart === 'number' && typeof field.selectionEnd === 'number') {
      focus.start = field.selectionStart;
      focus.end = field.selectionEnd;
    }
  } catch {
    // inputs without selection (checkbox, number) throw
  }
  return focus;
}

/**
 * A full snapshot of the page, written at once.
 * @param {Window} win
 * @param {SerializeEnv} env
 * @returns {Snapshot}
 */
export function serializeSnapshot(win, env) {
  const job = new SnapshotJob(win, env);
  return /** @type {Snapshot} */ (job.step(Infinity));
}

/**
 * A snapshot written in slices: `step` works until its deadline and returns the snapshot once
 * the whole page is written. Between slices the page may change; the recorder keeps those
 * mutation records and sends them as ops right after the snapshot.
 */
export class SnapshotJob {
  /**
   * @param {Window} win
   * @param {SerializeEnv} env
   */
  constructor(win, env) {
    this.win = win;
    const doc = win.document;
    this.url = win.location.href;
    /** @type {Scroll[]} */
    this.scrolls = [];
    this.env = { ...env, scrolls: this.scrolls };
    this.writer = new TreeWriter(this.env, true);
    const ctx = env.rules.pageMasked(this.url) ? CTX_ALL : 0;
    const root = this.writer.visit(doc, ctx);
    if (!root) throw new Error('the document cannot be serialized');
    this.root = root;
    this.steps = 0;
  }

  /** Nodes written so far. */
  get count() {
    return this.writer.count;
  }

  /**
   * @param {number} deadline
   * @param {() => number} [now]
   * @param {() => MutationRecord[]} [takeRecords] What changed on the page since the start; read
   *   when the walk took more than one slice, to bring the snapshot up to date.
   * @returns {Snapshot | null} The snapshot when done, else null (call again later).
   */
  step(deadline, now, takeRecords) {
    this.steps++;
    if (!this.writer.run(deadline, now)) return null;
    if (this.steps > 1 && takeRecords) this.reconcile(takeRecords());
    const win = this.win;
    const doc = win.document;
    const env = this.env;
    const docScroll = { id: this.root.id, x: win.scrollX || 0, y: win.scrollY || 0 };
    // The root element's own scroll is the document's; do not send it twice.
    const rootId = doc.documentElement ? env.registry.idOf(doc.documentElement) : undefined;
    /** @type {Snapshot} */
    const snapshot = {
      url: env.maskUrl ? env.maskUrl(this.url) : this.url,
      title: doc.title,
      charset: doc.characterSet,
      mode: compatModeOf(doc),
      vp: viewportOf(win),
      doc: this.root,
      scroll: [docScroll, ...this.scrolls.filter((s) => s.id !== rootId)],
    };
    const focus = focusOf(doc, env.registry);
    if (focus.id !== null) snapshot.focus = focus;
    return snapshot;
  }

  /**
   * Brings the written tree up to date with what changed on the page while it was written in
   * slices, so the snapshot shows the page as it is when it is sent. Nodes are written when the
   * walk reaches them; a change made after that (a child added, removed or moved, an attribute
   * or a text changed) is applied here: a parent whose children changed gets its list again
   * (untouched children keep their written subtree; arrivals are written now), an element whose
   * mask changed is written again, and changed attributes and texts are read again.
   * Call before `step` returns the snapshot's last slice, with every record since the start.
   * @param {MutationRecord[]} records
   */
  reconcile(records) {
    if (records.length === 0) return;
    const env = this.env;
    const registry = env.registry;
    const writer = new TreeWriter(env, false);
    writer.bases = this.writer.bases;
    /** @type {Map<number, {node: SerializedNode, parent: SerializedNode | null}>} */
    const index = new Map();
    /**
     * @param {SerializedNode} node
     * @param {SerializedNode | null} parent
     */
    const add = (node, parent) => {
      /** @type {Array<[SerializedNode, SerializedNode | null]>} */
      const stack = [[node, parent]];
      while (stack.length > 0) {
        const [n, p] = /** @type {[SerializedNode, SerializedNode | null]} */ (stack.pop());
        index.set(n.id, { node: n, parent: p });
        for (const c of n.c ?? []) stack.push([c, n]);
        if (n.sh) stack.push([n.sh, n]);
        if (n.fd) stack.push([n.fd, n]);
      }
    };
    /** Forgets a written subtree (it is no longer where it was written). @param {SerializedNode} node */
    const drop = (node) => {
      /** @type {SerializedNode[]} */
      const stack = [node];
      while (stack.length > 0) {
        const n = /** @type {SerializedNode} */ (stack.pop());
        registry.forgetId(n.id);
        index.delete(n.id);
        if (n.c) stack.push(...n.c);
        if (n.sh) stack.push(n.sh);
        if (n.fd) stack.push(n.fd);
      }
    };
    /** Takes a written node out of its parent's list and forgets it. @param {number} id */
    const detach = (id) => {
      const entry = index.get(id);
      if (!entry) return;
      const parent = entry.parent;
      if (parent?.c) {
        parent.c = parent.c.filter((c) => c !== entry.node);
        if (parent.c.length === 0) delete parent.c;
      }
      drop(entry.node);
    };
    add(this.root, null);
    const base = env.rules.pageMasked(this.url) ? CTX_ALL : 0;
    /** @type {Map<Node, number>} */
    const contexts = new Map();
    /**
     * The mask context the children of a node get.
     * @param {Node} node
     * @returns {number}
     */
    const inside = (node) => {
      const known = contexts.get(node);
      if (known !== undefined) return known;
      let ctx = base;
      if (node.nodeType === 1) {
        const el = /** @type {Element} */ (node);
        const parent = parentAcrossBoundaries(el);
        const outer = (parent ? inside(parent) : base) | env.rules.stuck(el);
        ctx = contentContext(el, env.rules.effectiveMask(el, outer), outer);
      } else {
        const parent = parentAcrossBoundaries(node);
        if (parent) ctx = inside(parent);
      }
      contexts.set(node, ctx);
      return ctx;
    };
    /**
     * Writes a node that arrived after the walk passed; whatever of it was written elsewhere goes.
     * @param {Node} node
     * @param {number} ctx
     * @param {string | null} cssBase
     */
    const write = (node, ctx, cssBase) => {
      /** @type {Node[]} */
      const stack = [node];
      while (stack.length > 0) {
        const n = /** @type {Node} */ (stack.pop());
        const id = registry.idOf(n);
        if (id !== undefined && index.has(id)) detach(id);
        for (let c = n.firstChild; c; c = c.nextSibling) stack.push(c);
        if (n.nodeType === 1 && /** @type {Element} */ (n).shadowRoot) stack.push(/** @type {ShadowRoot} */ (/** @type {Element} */ (n).shadowRoot));
      }
      return writer.writeChild(node, ctx, cssBase);
    };

    /** @type {Set<Node>} */
    const parents = new Set();
    /** @type {Set<Element>} */
    const changedAttributes = new Set();
    /** @type {Set<Node>} */
    const changedTexts = new Set();
    for (const record of records) {
      if (record.type === 'childList') parents.add(record.target);
      else if (record.type === 'attributes') changedAttributes.add(/** @type {Element} */ (record.target));
      else changedTexts.add(record.target);
    }

    // Children that left their parent are forgotten first, so a node moved from one changed
    // parent to another is written once, where it is now.
    /** @type {Array<{parent: Node, out: SerializedNode, now: Node[]}>} */
    const plans = [];
    for (const parent of parents) {
      const id = registry.idOf(parent);
      const entry = id !== undefined && registry.has(parent) ? index.get(id) : undefined;
      if (!entry || (parent.nodeType === 1 && /** @type {Element} */ (parent).localName === 'template')) continue;
      /** @type {Node[]} */
      const now = [];
      for (let c = parent.firstChild; c; c = c.nextSibling) if (!isIgnored(c, env)) now.push(c);
      const present = new Set(now);
      for (const old of entry.node.c ?? []) {
        const dom = registry.node(old.id);
        if (!dom || !present.has(dom)) drop(old);
      }
      plans.push({ parent, out: entry.node, now });
    }
    for (const { parent, out, now } of plans) {
      const id = registry.idOf(parent);
      if (id === undefined || !index.has(id)) continue; // inside a subtree that left
      const ctx = inside(parent);
      const cssBase = parent.nodeType === 1 && /** @type {Element} */ (parent).localName === 'style' ? this.writer.baseOf(/** @type {Element} */ (parent)) : null;
      /** @type {SerializedNode[]} */
      const list = [];
      for (const child of now) {
        const childId = registry.idOf(child);
        const entry = childId !== undefined ? index.get(childId) : undefined;
        if (entry && entry.parent === out) {
          list.push(entry.node);
          continue;
        }
        const written = write(child, ctx, cssBase);
        if (written) {
          add(written, out);
          list.push(written);
        }
      }
      if (list.length > 0) out.c = list;
      else delete out.c;
    }

    // Attributes: read again; an element whose mask changed (or whose descendants now match a
    // rule) is written again.
    /** @param {Element} el */
    const refresh = (el) => {
      const id = registry.idOf(el);
      const entry = id !== undefined && registry.has(el) ? index.get(id) : undefined;
      if (!entry) return;
      const parent = parentAcrossBoundaries(el);
      const outer = (parent ? inside(parent) : base) | env.rules.stuck(el);
      const previous = entry.node.m ?? null;
      // Once masked, masked for the life of the page.
      const mask = env.rules.effectiveMask(el, outer) ?? previous;
      const restricted = env.rules.isRestricted(el);
      if (mask !== previous) {
        const holder = entry.parent;
        const at = holder?.c?.indexOf(entry.node) ?? -1;
        if (!holder || at < 0) return;
        drop(entry.node);
        contexts.delete(el);
        const written = writer.writeChild(el, outer, null);
        if (written) {
          add(written, holder);
          /** @type {SerializedNode[]} */ (holder.c)[at] = written;
        }
        return;
      }
      const a = writer.attributes(el, mask, contentContext(el, mask, outer));
      if (a) entry.node.a = a;
      else delete entry.node.a;
      if (restricted) entry.node.r = true;
      else delete entry.node.r;
      registry.setMark(/** @type {number} */ (id), mask, restricted);
    };
    const selectors = env.rules.policySelector;
    for (const el of changedAttributes) {
      refresh(el);
      if (!selectors || !el.firstElementChild || !registry.has(el)) continue;
      try {
        for (const child of el.querySelectorAll(selectors)) refresh(child);
      } catch {
        // a selector this browser cannot use
      }
    }

    // Texts: read again.
    for (const node of changedTexts) {
      const id = registry.idOf(node);
      const entry = id !== undefined && registry.has(node) ? index.get(id) : undefined;
      if (!entry) continue;
      const data = /** @type {CharacterData} */ (node).data;
      const parent = node.parentNode;
      const ctx = (parent ? inside(parent) : base) | env.rules.stuck(node);
      if (node.nodeType === 8) {
        entry.node.v = ctx & CTX_TEXT ? maskText(data) : data;
      } else if (parent && parent.nodeType === 1 && /** @type {Element} */ (parent).localName === 'style') {
        entry.node.v = absoluteCssUrls(data, this.writer.baseOf(/** @type {Element} */ (parent)));
      } else {
        entry.node.v = textValue(node, data, ctx);
      }
    }
  }
}
