// Test helpers: a jsdom page that hosts a sandboxed iframe, as the workspace does, and a way to
// compare a rebuilt DOM with the serialized snapshot it came from.

// @ts-ignore -- jsdom ships no type declarations; the values below are typed where used.
import { JSDOM } from 'jsdom';
import assert from 'node:assert/strict';
import { Rebuilder, compatModeOf, resetDocument } from '../rebuilder.js';

/** @typedef {import('../../sdk/protocol.js').SerializedNode} SerializedNode */
/** @typedef {import('../../sdk/protocol.js').Snapshot} Snapshot */

/**
 * A host page with one `<iframe sandbox="allow-same-origin">`, the way the viewer builds it.
 * @returns {{window: Window & typeof globalThis, document: Document, frame: HTMLIFrameElement}}
 */
export function hostPage() {
  const dom = new JSDOM('<!DOCTYPE html><html><head></head><body></body></html>', { url: 'https://agent.example/agent/' });
  const window = /** @type {Window & typeof globalThis} */ (/** @type {unknown} */ (dom.window));
  const document = window.document;
  const frame = document.createElement('iframe');
  frame.setAttribute('sandbox', 'allow-same-origin');
  document.body.appendChild(frame);
  return { window, document, frame };
}

/**
 * Builds a snapshot into a fresh host page, returning the rebuilder and the frame document.
 * @param {Snapshot} snapshot
 * @param {import('../rebuilder.js').RebuilderOptions} [options]
 */
export function rebuild(snapshot, options) {
  const host = hostPage();
  const doc = /** @type {Document} */ (host.frame.contentDocument);
  resetDocument(doc, compatModeOf(snapshot));
  const rebuilder = new Rebuilder(options);
  const result = rebuilder.build(snapshot, doc);
  return { ...host, doc, rebuilder, result };
}

/**
 * Applies each op on its own and checks it is refused with a resync and a reason matching its
 * pattern.
 * @param {Rebuilder} rebuilder
 * @param {Array<[import('../../sdk/protocol.js').Op, RegExp]>} cases
 */
export function expectRefusals(rebuilder, cases) {
  for (const [op, reason] of cases) {
    const result = rebuilder.apply([op]);
    assert.equal(result.ok, false, JSON.stringify(op));
    if (!result.ok) {
      assert.equal(result.resync, true);
      assert.match(result.reason, reason, JSON.stringify(op));
    }
  }
}

/**
 * A snapshot of a standards-mode page whose body holds `body` nodes. IDs 1–5 are taken.
 * @param {SerializedNode[]} body
 * @param {Partial<Snapshot>} [extra]
 * @returns {Snapshot}
 */
export function page(body, extra = {}) {
  return {
    url: 'https://shop.example/cart/index.html',
    title: 'Cart',
    charset: 'UTF-8',
    mode: 'standards',
    vp: { w: 1024, h: 700, dpr: 1 },
    doc: {
      id: 1,
      k: 'd',
      c: [
        { id: 2, k: 't', n: 'html', ids: ['', ''] },
        {
          id: 3,
          k: 'e',
          n: 'html',
          c: [
            { id: 4, k: 'e', n: 'head' },
            { id: 5, k: 'e', n: 'body', c: body },
          ],
        },
      ],
    },
    ...extra,
  };
}

/**
 * A plain, comparable form of a live DOM subtree: the same shape as SerializedNode without IDs.
 * @param {Node} node
 * @returns {unknown}
 */
export function normalizeDom(node) {
  switch (node.nodeType) {
    case 9:
      return { k: 'd', c: Array.from(node.childNodes).map(normalizeDom) };
    case 10: {
      const dt = /** @type {DocumentType} */ (node);
      return { k: 't', n: dt.name };
    }
    case 3:
      return { k: 'x', v: /** @type {Text} */ (node).data };
    case 8:
      return { k: 'c', v: /** @type {Comment} */ (node).data };
    case 1: {
      const el = /** @type {Element} */ (node);
      /** @type {Record<string, unknown>} */
      const out = { k: 'e', n: el.localName };
      if (el.namespaceURI !== 'http://www.w3.org/1999/xhtml') out.ns = el.namespaceURI;
      if (el.attributes.length) out.a = Object.fromEntries(Array.from(el.attributes).map((a) => [a.name, a.value]));
      if (el.childNodes.length) out.c = Array.from(el.childNodes).map(normalizeDom);
      if (el.shadowRoot) out.sh = { k: 'f', c: Array.from(el.shadowRoot.childNodes).map(normalizeDom) };
      return out;
    }
    default:
      return { k: '?' };
  }
}

/**
 * The serialized form without IDs and viewer-only fields, for comparison with normalizeDom.
 * @param {SerializedNode} node
 * @returns {unknown}
 */
export function normalizeSerialized(node) {
  /** @type {Record<string, unknown>} */
  const out = { k: node.k };
  if (node.k === 't') out.n = node.n;
  if (node.k === 'x' || node.k === 'c') out.v = node.v ?? '';
  if (node.k === 'e') {
    out.n = node.n;
    if (node.ns && node.ns !== 'http://www.w3.org/1999/xhtml') out.ns = node.ns;
    if (node.a && Object.keys(node.a).length) out.a = { ...node.a };
    if (node.c && node.c.length) out.c = node.c.map(normalizeSerialized);
    if (node.sh) out.sh = { k: 'f', c: (node.sh.c ?? []).map(normalizeSerialized) };
    return out;
  }
  if (node.k === 'd') out.c = (node.c ?? []).map(normalizeSerialized);
  return out;
}
