// The serializer: pure functions from DOM nodes to protocol nodes. It applies masking as it
// goes, so masked data is never in anything it returns. It knows nothing of MutationObservers
// (the recorder) or sockets (the transport).

import { CTX_ALL, CTX_TEXT, MaskRules, isFormField } from './rules.js';
import { absoluteAttribute, absoluteCssUrls, isScriptUrl } from './urls.js';
import { frameDocument } from './node_registry.js';
import { adoptedTexts, sheetText } from './stylesheets.js';

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
 * @property {(node: Document | ShadowRoot | Element) => void} [onAttach] Told of every document,
 *   shadow root, iframe and form field serialized, so the recorder can watch them.
 * @property {Scroll[]} [scrolls] When set, scrolled elements are collected here.
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
 * @returns {string | null}
 */
export function attributeValue(el, name, value, mask, ctx) {
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
  const svg = el.namespaceURI === SVG_NS;
  return absoluteAttribute(name, value, el.baseURI ?? '', svg);
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
  if (isIgnored(node, env)) return null;
  switch (node.nodeType) {
    case 1:
      return serializeElement(/** @type {Element} */ (node), ctx, env);
    case 3:
    case 4: {
      const id = env.registry.register(node);
      const data = /** @type {CharacterData} */ (node).data;
      return { id, k: 'x', v: textValue(node, data, ctx) };
    }
    case 8: {
      const id = env.registry.register(node);
      const data = /** @type {CharacterData} */ (node).data;
      return { id, k: 'c', v: ctx & CTX_TEXT ? maskText(data) : data };
    }
    case 9:
      return serializeDocument(/** @type {Document} */ (node), ctx, env);
    case 10: {
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
      const id = env.registry.register(node);
      /** @type {SerializedNode} */
      const out = { id, k: 'f' };
      const children = serializeChildren(root, ctx, env);
      if (children.length > 0) out.c = children;
      const adopted = adoptedTexts(root, root.host.baseURI ?? '');
      if (adopted) out.as = adopted;
      env.onAttach?.(root);
      return out;
    }
    default:
      return null;
  }
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
 * @param {Document} doc
 * @param {number} ctx
 * @param {SerializeEnv} env
 * @returns {SerializedNode}
 */
function serializeDocument(doc, ctx, env) {
  const id = env.registry.register(doc);
  /** @type {SerializedNode} */
  const out = { id, k: 'd' };
  const children = serializeChildren(doc, ctx, env);
  if (children.length > 0) out.c = children;
  const adopted = adoptedTexts(doc, doc.baseURI ?? '');
  if (adopted) out.as = adopted;
  env.onAttach?.(doc);
  return out;
}

/**
 * @param {Node} parent
 * @param {number} ctx
 * @param {SerializeEnv} env
 * @returns {SerializedNode[]}
 */
function serializeChildren(parent, ctx, env) {
  /** @type {SerializedNode[]} */
  const out = [];
  for (let child = parent.firstChild; child; child = child.nextSibling) {
    const node = serializeNode(child, ctx, env);
    if (node) out.push(node);
  }
  return out;
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
 * @param {Element} el
 * @param {number} ctx
 * @param {SerializeEnv} env
 * @returns {SerializedNode}
 */
function serializeElement(el, ctx, env) {
  const id = env.registry.register(el);
  const mask = env.rules.effectiveMask(el, ctx);
  const restricted = env.rules.isRestricted(el);
  const inner = contentContext(el, mask, ctx);
  /** @type {SerializedNode} */
  const out = { id, k: 'e', n: el.localName };
  const ns = el.namespaceURI;
  if (ns !== HTML_NS && ns !== null) out.ns = ns;

  const attrs = el.attributes;
  if (attrs.length > 0 || mask === 'image') {
    /** @type {Record<string, string>} */
    const a = {};
    let any = false;
    for (let i = 0; i < attrs.length; i++) {
      const attr = attrs[i];
      const value = attributeValue(el, attr.name, attr.value, mask, inner);
      if (value !== null && !(attr.name in a)) {
        a[attr.name] = value;
        any = true;
      }
    }
    if (mask === 'image') {
      const box = imageBox(el);
      if (box.w > 0) a.width = String(box.w);
      if (box.h > 0) a.height = String(box.h);
      any = any || box.w > 0 || box.h > 0;
    }
    if (any) out.a = a;
  }
  if (mask) out.m = mask;
  if (restricted) out.r = true;
  env.registry.marks.set(id, { m: mask, r: restricted });

  if (isFormField(el)) {
    const state = formState(el, mask !== null);
    if (state) out.st = state;
    env.onAttach?.(el);
  }

  const name = el.localName;
  if (name === 'style' || (name === 'link' && /stylesheet/i.test(el.getAttribute('rel') ?? ''))) {
    const sheet = /** @type {HTMLStyleElement} */ (el).sheet;
    if (sheet && env.modifiedSheets.has(sheet)) {
      const text = sheetText(sheet, el.baseURI ?? '');
      if (text !== null) out.css = text;
    }
  }

  if (name === 'style' && el.firstChild) {
    // <style> text goes out as its text child, with url() made absolute.
    /** @type {SerializedNode[]} */
    const children = [];
    for (let child = /** @type {ChildNode | null} */ (el.firstChild); child; child = child.nextSibling) {
      if (child.nodeType === 3) {
        const cid = env.registry.register(child);
        children.push({ id: cid, k: 'x', v: absoluteCssUrls(/** @type {Text} */ (child).data, el.baseURI ?? '') });
      } else {
        const node = serializeNode(child, inner, env);
        if (node) children.push(node);
      }
    }
    if (children.length > 0) out.c = children;
  } else if (name !== 'template') {
    const children = serializeChildren(el, inner, env);
    if (children.length > 0) out.c = children;
  }

  const shadow = el.shadowRoot;
  if (shadow && !env.ignore(shadow)) {
    const root = serializeNode(shadow, inner, env);
    if (root) out.sh = root;
  }

  if (name === 'iframe' || name === 'frame') {
    env.onAttach?.(el);
    const doc = frameDocument(el);
    if (doc && doc.documentElement) out.fd = serializeDocument(doc, inner === CTX_ALL ? CTX_ALL : inner, env);
  }

  if (env.scrolls && (el.scrollTop || el.scrollLeft)) {
    env.scrolls.push({ id, x: el.scrollLeft, y: el.scrollTop });
  }
  return out;
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
 * A full snapshot of the page.
 * @param {Window} win
 * @param {SerializeEnv} env
 * @returns {Snapshot}
 */
export function serializeSnapshot(win, env) {
  const doc = win.document;
  const url = win.location.href;
  const ctx = env.rules.pageMasked(url) ? CTX_ALL : 0;
  /** @type {Scroll[]} */
  const scrolls = [];
  const root = serializeNode(doc, ctx, { ...env, scrolls });
  if (!root) throw new Error('the document cannot be serialized');
  const docScroll = { id: root.id, x: win.scrollX || 0, y: win.scrollY || 0 };
  // The root element's own scroll is the document's; do not send it twice.
  const rootId = doc.documentElement ? env.registry.idOf(doc.documentElement) : undefined;
  const scroll = [docScroll, ...scrolls.filter((s) => s.id !== rootId)];
  /** @type {Snapshot} */
  const snapshot = {
    url,
    title: doc.title,
    charset: doc.characterSet,
    mode: compatModeOf(doc),
    vp: viewportOf(win),
    doc: root,
    scroll,
  };
  const focus = focusOf(doc, env.registry);
  if (focus.id !== null) snapshot.focus = focus;
  return snapshot;
}
