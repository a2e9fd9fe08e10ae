// The rebuilder: turns the customer's serialized page (a snapshot) into real DOM inside the
// viewer's sandboxed iframe document, keyed by the SDK's node IDs, and applies the changes that
// follow (mutation ops, form state, scroll, focus).
//
// It owns no socket, no UI and no timers: the viewer feeds it and reads from it. Every failure is
// reported as a result, never thrown, so one bad op leads to a resync instead of a broken viewer.
//
// Rules kept here:
// - Bookkeeping never changes rendering: live form state is set through properties (`.value`,
//   `.checked`, `.selected`), never as attributes; no marker attributes are added to elements.
// - Executable content is refused again (see sanitize.js): script text, event handlers, script
//   URLs, srcdoc, meta refresh, base. noscript content is kept out, since scripting is off in the
//   sandbox and it would otherwise show.
// - Nothing pauses animations or transitions.
// - The viewer's own stylesheet (states.js: the customer's hover and focus) is adopted after the
//   customer's adopted sheets; it is never part of the mirrored page.
// - A big page may be built in two steps (`build` with a node budget, then `buildMore`): the
//   nodes that come first in document order, then the rest, appended where the first step
//   stopped. The first step only stops inside plain block containers of the body (see
//   `CUT_CONTAINERS`); whether what it built may be shown alone is the viewer's call
//   (first_view.js). Both steps build the same nodes through the same sanitizing calls.

import { hasInertContent, isScriptElement, rewriteCssUrls, sanitizeAttribute, urlResolver } from './sanitize.js';

/** @typedef {import('../sdk/protocol.js').SerializedNode} SerializedNode */
/** @typedef {import('../sdk/protocol.js').Snapshot} Snapshot */
/** @typedef {import('../sdk/protocol.js').Op} Op */
/** @typedef {import('../sdk/protocol.js').Input} InputState */
/** @typedef {import('../sdk/protocol.js').FormState} FormState */
/** @typedef {import('../sdk/protocol.js').Scroll} ScrollState */
/** @typedef {import('../sdk/protocol.js').Focus} FocusState */
/** @typedef {import('../sdk/protocol.js').CompatMode} CompatMode */
/** @typedef {import('../sdk/protocol.js').MaskKindCode} MaskKindCode */

/**
 * The outcome of applying something. `resync` is true when the rebuilt page can no longer be
 * trusted to match the customer's and a fresh snapshot is needed.
 * @typedef {{ok: true} | {ok: false, resync: boolean, reason: string}} ApplyResult
 */

/**
 * How a node is marked by the customer's browser.
 * @typedef {object} NodeMarks
 * @property {MaskKindCode | null} mask
 * @property {boolean} restricted
 */

/**
 * @typedef {object} RebuilderOptions
 * @property {(absolute: string) => string} [proxy] Maps an absolute resource URL (stylesheet,
 *   image, font) to the URL the agent's browser loads it from, such as the server's resource proxy.
 */

const HTML_NS = 'http://www.w3.org/1999/xhtml';
const XLINK_NS = 'http://www.w3.org/1999/xlink';
const XML_NS = 'http://www.w3.org/XML/1998/namespace';
const XMLNS_NS = 'http://www.w3.org/2000/xmlns/';

/**
 * Elements a budgeted build may stop inside, leaving the rest of their children for later: the
 * usual block containers of a page's body. Content appended to them later flows after what is
 * there, unless the page's CSS lays them out otherwise, which the viewer checks before showing
 * the first part. Never inside tables, form fields, script or style, shadow roots or frames.
 */
const CUT_CONTAINERS = new Set([
  'body', 'div', 'main', 'section', 'article', 'aside', 'header', 'footer', 'nav', 'ul', 'ol', 'li',
  'dl', 'dd', 'form', 'blockquote', 'figure', 'address', 'hgroup', 'search', 'center',
]);

/**
 * The children of an element that a budgeted build has not built yet.
 * @typedef {object} RestOfChildren
 * @property {Element} parent already built, in the document
 * @property {SerializedNode[]} children all of its serialized children
 * @property {number} next index of the first child not built yet
 */

/** @type {ApplyResult} */
const OK = Object.freeze({ ok: true });

/**
 * @param {string} reason
 * @returns {ApplyResult}
 */
function fail(reason) {
  return { ok: false, resync: true, reason };
}

/** Raised inside the rebuilder to unwind a failed op; never escapes it. */
class RebuildError extends Error {}

/**
 * The markup that puts a fresh document into the customer's rendering mode. It holds only a
 * doctype (or nothing, for quirks): the page itself is built with DOM calls afterwards.
 * @param {CompatMode} mode
 * @returns {string}
 */
export function shellHtml(mode) {
  if (mode === 'quirks') return '';
  if (mode === 'limited-quirks') {
    return '<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN" "http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">';
  }
  return '<!DOCTYPE html>';
}

/**
 * The rendering mode a snapshot asks for: its `mode` when given, else derived from the doctype
 * (no doctype means quirks, as in the customer's browser).
 * @param {{mode?: CompatMode, doc: SerializedNode}} snapshot
 * @returns {CompatMode}
 */
export function compatModeOf(snapshot) {
  if (snapshot.mode) return snapshot.mode;
  return documentModeOf(snapshot.doc);
}

/**
 * Rendering mode of a serialized document without a `mode` field (frame documents).
 * @param {SerializedNode} doc
 * @returns {CompatMode}
 */
function documentModeOf(doc) {
  return (doc.c ?? []).some((child) => child.k === 't') ? 'standards' : 'quirks';
}

/**
 * A character set label safe to put into a MIME type parameter.
 * @param {string | undefined} charset
 * @returns {string}
 */
export function safeCharset(charset) {
  return charset && /^[A-Za-z0-9._:-]{1,40}$/.test(charset) ? charset : 'UTF-8';
}

/**
 * Synchronously resets a same-origin document into a rendering mode by writing its shell.
 * Used for nested frame documents; the top-level document is loaded with its charset by the viewer.
 * @param {Document} doc
 * @param {CompatMode} mode
 */
export function resetDocument(doc, mode) {
  doc.open();
  doc.write(shellHtml(mode));
  doc.close();
}

export class Rebuilder {
  /** @param {RebuilderOptions} [options] */
  constructor(options = {}) {
    /** @type {((absolute: string) => string) | undefined} */
    this.proxy = options.proxy;
    /** @type {Map<number, Node>} SDK node ID → rebuilt node. */
    this.nodes = new Map();
    /** @type {WeakMap<Node, number>} rebuilt node → SDK node ID. */
    this.ids = new WeakMap();
    /** @type {Map<number, NodeMarks>} nodes that are masked or restricted. */
    this.marks = new Map();
    /** @type {Map<number, FormState>} last known live state of form fields. */
    this.forms = new Map();
    /** @type {WeakMap<Node, Node[]>} children kept out of the DOM (script text, noscript content). */
    this.inert = new WeakMap();
    /** @type {WeakMap<Element, Document>} iframe element → the document rebuilt inside it. */
    this.frameDocs = new WeakMap();
    /** @type {Map<number, string[]>} adopted stylesheet texts per document or shadow root ID. */
    this.adopted = new Map();
    /** @type {WeakMap<Document, CSSStyleSheet>} the viewer's own sheet per document (states.js) */
    this.viewerSheets = new WeakMap();
    /** @type {WeakMap<Document | ShadowRoot, CSSStyleSheet[]>} the customer's adopted sheets as built */
    this.builtAdopted = new WeakMap();
    /** @type {Document | null} */
    this.document = null;
    /** @type {number | null} */
    this.documentId = null;
    /** @type {(url: string, kind: 'link' | 'resource') => string | null} */
    this.resolve = urlResolver('about:blank', this.proxy);
    /** @type {FocusState | null} */
    this.focus = null;
    /** @type {{url: string, title: string, charset: string, mode: CompatMode} | null} */
    this.page = null;
    /** @type {Array<{frame: HTMLIFrameElement, doc: SerializedNode | null}>} */
    this.pendingFrames = [];
    /** How many more nodes the current build may create before it stops (budgeted builds). */
    this.budget = Infinity;
    /** Whether the element being built may stop early (it and its ancestors up to body are cut containers). */
    this.cutAllowed = false;
    /** Shadow roots and frame documents being built: never stopped inside. */
    this.sealed = 0;
    /** @type {RestOfChildren[]} what a budgeted build left, the next in document order last */
    this.rest = [];
    /** @type {RestOfChildren[]} stops made while building one subtree, deepest first */
    this.cuts = [];
    /** @type {{scroll: ScrollState[], focus: FocusState | null}} where the snapshot's page is scrolled and focused */
    this.view = { scroll: [], focus: null };
  }

  /**
   * Builds a snapshot's page into `doc`, which must already be in the right rendering mode (see
   * `shellHtml`): everything in it is replaced. With a `budget`, about that many nodes are built,
   * in document order, and the rest waits for `buildMore` (`hasRest`); nothing else may be applied
   * in between. The snapshot's scroll positions and focus are restored once the page is whole.
   * @param {Snapshot} snapshot
   * @param {Document} doc
   * @param {number} [budget] nodes to build now (default: all)
   * @returns {ApplyResult}
   */
  build(snapshot, doc, budget = Infinity) {
    this.nodes.clear();
    this.marks.clear();
    this.forms.clear();
    this.adopted.clear();
    this.rest = [];
    this.cuts = [];
    this.focus = null;
    this.document = doc;
    this.documentId = null;
    this.page = {
      url: snapshot.url,
      title: snapshot.title ?? '',
      charset: safeCharset(snapshot.charset),
      mode: compatModeOf(snapshot),
    };
    this.view = { scroll: snapshot.scroll ?? [], focus: snapshot.focus ?? null };
    this.resolve = urlResolver(baseUrlOf(snapshot.url, snapshot.doc), this.proxy);
    if (!snapshot.doc || snapshot.doc.k !== 'd') return fail('snapshot has no document node');
    const root = snapshot.doc;
    return this.buildStep(budget, () => {
      this.fillDocument(doc, root);
      this.keepCuts();
    });
  }

  /**
   * Builds more of a page a budgeted `build` left, appending each node where it belongs; with
   * no budget, all of it, and then restores the snapshot's scroll positions and focus.
   * @param {number} [budget] nodes to build now (default: all)
   * @returns {ApplyResult}
   */
  buildMore(budget = Infinity) {
    const doc = this.document;
    if (!doc) return fail('no page yet');
    return this.buildStep(budget, () => {
      while (this.rest.length > 0 && this.budget > 0) {
        const top = this.rest[this.rest.length - 1];
        // Built apart and put into the document at once, as a whole page is.
        const fragment = doc.createDocumentFragment();
        while (top.next < top.children.length && this.budget > 0) {
          this.cutAllowed = true; // the parent is a cut container in the body
          const built = this.buildNode(doc, top.children[top.next++], top.parent);
          if (built) fragment.appendChild(built);
        }
        top.parent.appendChild(fragment);
        if (top.next >= top.children.length) this.rest.pop();
        this.keepCuts(); // where this step stopped inside the last child, if it did
      }
    });
  }

  /**
   * Runs one step of building a page within `budget` nodes: `work` builds, then frames' pages
   * are flushed; a failure drops what was left to build. Once nothing is left, the snapshot's
   * scroll positions and focus are restored.
   * @param {number} budget
   * @param {() => void} work
   * @returns {ApplyResult}
   */
  buildStep(budget, work) {
    this.budget = budget;
    try {
      work();
      this.flushFrames();
    } catch (err) {
      this.rest = [];
      return fail(`snapshot: ${messageOf(err)}`);
    } finally {
      this.budget = Infinity;
      this.cutAllowed = false;
      this.cuts = [];
    }
    if (!this.hasRest()) this.restoreView();
    return OK;
  }

  /** Whether part of the page is still to be built (`buildMore`). */
  hasRest() {
    return this.rest.length > 0;
  }

  /** Forgets the part of the page still to be built (the page is going away). */
  dropRest() {
    this.rest = [];
  }

  /**
   * The elements whose children are not all built yet, outermost first: containers from the body
   * down to where the build stopped (one whose only unbuilt nodes are inside its last child is
   * not among them).
   * @returns {Element[]}
   */
  openElements() {
    return this.rest.filter((r) => r.next < r.children.length).map((r) => r.parent);
  }

  /**
   * Whether the part still to be built holds a stylesheet, which could restyle what is built.
   * @returns {boolean}
   */
  restHasStyles() {
    /** @param {SerializedNode} node @returns {boolean} */
    const holds = (node) => node.k === 'e' && (node.n === 'style' || node.n === 'link' || (node.css !== undefined && node.css !== null) || (node.c ?? []).some(holds));
    return this.rest.some((r) => r.children.slice(r.next).some(holds));
  }

  /**
   * Scrolls the page's built nodes where the snapshot had them and records its focus (once the
   * focused node is built). Scrolling lays the page out.
   */
  restoreView() {
    for (const scroll of this.view.scroll) if (this.nodes.has(scroll.id)) this.applyScroll(scroll);
    const focus = this.view.focus;
    if (focus && (focus.id === null || focus.id === undefined || this.nodes.has(focus.id))) this.applyFocus(focus);
  }

  /** Moves the stops made while building one subtree onto the rest, deepest (the next) last. */
  keepCuts() {
    for (let i = this.cuts.length - 1; i >= 0; i--) this.rest.push(this.cuts[i]);
    this.cuts = [];
  }

  /**
   * Applies a batch of mutation ops in order. Stops at the first op that cannot be applied, since
   * later ops may depend on it, and asks for a resync.
   * @param {Op[]} ops
   * @returns {ApplyResult}
   */
  apply(ops) {
    if (!this.document) return fail('no page yet');
    for (let i = 0; i < ops.length; i++) {
      const result = this.applyOp(ops[i]);
      if (!result.ok) return { ...result, reason: `op ${i}: ${result.reason}` };
    }
    return OK;
  }

  /**
   * @param {Op} op
   * @returns {ApplyResult}
   */
  applyOp(op) {
    if (!Array.isArray(op) || typeof op[0] !== 'string') return fail('malformed op');
    try {
      switch (op[0]) {
        case 'add':
          this.opAdd(op[1], op[2], op[3]);
          break;
        case 'rm':
          this.opRemove(op[1]);
          break;
        case 'attr':
          this.opAttr(op[1], op[2], op[3]);
          break;
        case 'text':
          this.opText(op[1], op[2]);
          break;
        case 'css':
          this.applySheetText(this.element(op[1], 'css'), op[2]);
          break;
        case 'cssins':
          this.applySheetRule(this.element(op[1], 'cssins'), op[2], op[3]);
          break;
        case 'cssdel':
          this.applySheetRule(this.element(op[1], 'cssdel'), op[2], null);
          break;
        case 'adopt':
          this.opAdopt(op[1], op[2]);
          break;
        case 'mark':
          this.opMark(op[1], op[2], op[3]);
          break;
        case 'shadow':
          this.opShadow(op[1], op[2]);
          break;
        case 'frame':
          this.opFrame(op[1], op[2]);
          break;
        default:
          return fail(`unknown op ${JSON.stringify(String(/** @type {unknown[]} */ (op)[0])).slice(0, 40)}`);
      }
      this.flushFrames();
      return OK;
    } catch (err) {
      this.pendingFrames = [];
      return fail(messageOf(err));
    }
  }

  /**
   * Applies a field's live state (an `input` frame). Unknown fields ask for a resync.
   * @param {InputState} input
   * @returns {ApplyResult}
   */
  applyInput(input) {
    const node = this.nodes.get(input.id);
    if (!node) return fail(`input for unknown node ${input.id}`);
    if (node.nodeType !== 1) return fail(`input for non-element ${input.id}`);
    /** @type {FormState} */
    const state = {};
    if (input.v !== undefined) state.v = input.v;
    if (input.ch !== undefined) state.ch = input.ch;
    if (input.sel !== undefined) state.sel = input.sel;
    this.setFormState(/** @type {Element} */ (node), input.id, state);
    return OK;
  }

  /**
   * Scrolls the document (when `id` is a document node) or an element.
   * @param {ScrollState} scroll
   * @returns {ApplyResult}
   */
  applyScroll(scroll) {
    const node = this.nodes.get(scroll.id);
    if (!node) return fail(`scroll of unknown node ${scroll.id}`);
    if (node.nodeType === 9) {
      const doc = /** @type {Document} */ (node);
      const target = doc.scrollingElement ?? doc.documentElement;
      if (target) {
        target.scrollLeft = scroll.x;
        target.scrollTop = scroll.y;
      }
    } else if (node.nodeType === 1) {
      const el = /** @type {Element} */ (node);
      el.scrollLeft = scroll.x;
      el.scrollTop = scroll.y;
    }
    return OK;
  }

  /**
   * Records where the customer's focus and caret are. The viewer draws the focus ring in its
   * overlay: focusing the element itself would take the keyboard away from the agent's own
   * controls. The caret or selection range is set on the field, which does not move focus.
   * @param {FocusState} focus
   * @returns {ApplyResult}
   */
  applyFocus(focus) {
    if (focus.id === null || focus.id === undefined) {
      this.focus = null;
      return OK;
    }
    const node = this.nodes.get(focus.id);
    if (!node) {
      this.focus = null;
      return fail(`focus on unknown node ${focus.id}`);
    }
    this.focus = focus;
    // The field the agent is typing in keeps the agent's own caret (the overlay shows the
    // customer's); moving it would put the agent's next keys in the wrong place.
    const agentIn = node.ownerDocument?.activeElement === node;
    if (focus.start !== undefined && isTextField(node) && !agentIn) {
      try {
        /** @type {HTMLInputElement} */ (node).setSelectionRange(focus.start, focus.end ?? focus.start);
      } catch {
        // Fields without selection (email, number) refuse ranges; the ring still shows.
      }
    }
    return OK;
  }

  /**
   * The rebuilt node for an SDK node ID.
   * @param {number} id
   * @returns {Node | undefined}
   */
  node(id) {
    return this.nodes.get(id);
  }

  /**
   * The SDK node ID of a rebuilt node, if it is one.
   * @param {Node} node
   * @returns {number | undefined}
   */
  idOf(node) {
    return this.ids.get(node);
  }

  /**
   * The nearest marked (masked or restricted) node at or above `node`, crossing shadow roots and
   * frame documents upwards.
   * @param {Node | null} node
   * @returns {{id: number, marks: NodeMarks} | null}
   */
  markedAncestor(node) {
    let current = node;
    while (current) {
      const id = this.ids.get(current);
      if (id !== undefined) {
        const marks = this.marks.get(id);
        if (marks && (marks.restricted || marks.mask)) return { id, marks };
      }
      current = parentAcross(current, this);
    }
    return null;
  }

  // ------------------------------------------------------------------------------------------
  // Building

  /**
   * Replaces the children of a document with a serialized document's children.
   * @param {Document} doc
   * @param {SerializedNode} node
   */
  fillDocument(doc, node) {
    while (doc.firstChild) doc.removeChild(doc.firstChild);
    this.register(node.id, doc, node);
    if (this.documentId === null && doc === this.document) this.documentId = node.id;
    for (const child of node.c ?? []) {
      const built = this.buildNode(doc, child, doc);
      if (built) doc.appendChild(built);
    }
    if (node.as) this.setAdopted(doc, node.id, node.as);
    else {
      this.builtAdopted.delete(doc);
      this.installAdopted(doc);
    }
  }

  /**
   * Gives a document the viewer's own stylesheet, after the customer's adopted sheets, which
   * come after the page's own: it is never part of the mirrored page. Null removes it.
   * @param {Document} doc
   * @param {CSSStyleSheet | null} sheet
   */
  setViewerSheet(doc, sheet) {
    if (sheet) this.viewerSheets.set(doc, sheet);
    else this.viewerSheets.delete(doc);
    this.installAdopted(doc);
  }

  /**
   * @param {Document | ShadowRoot} target
   */
  installAdopted(target) {
    if (!('adoptedStyleSheets' in target)) return; // not supported here (jsdom)
    const sheets = (this.builtAdopted.get(target) ?? []).slice();
    const own = target.nodeType === 9 ? this.viewerSheets.get(/** @type {Document} */ (target)) : undefined;
    if (own) sheets.push(own);
    try {
      if (sheets.length || target.adoptedStyleSheets.length) target.adoptedStyleSheets = sheets;
    } catch {
      // Sheets from another document cannot be adopted; leave the page as it is.
    }
  }

  /**
   * Creates the DOM for a serialized node and its subtree (not yet inserted).
   * Returns null for nodes that have no DOM of their own here (a shadow root in the child list).
   * @param {Document} doc owner document
   * @param {SerializedNode} node
   * @param {Node} parent the node it will be inserted under
   * @returns {Node | null}
   */
  buildNode(doc, node, parent) {
    if (!node || typeof node.id !== 'number') throw new RebuildError('node without id');
    this.budget--;
    if (this.nodes.has(node.id)) this.forget(/** @type {Node} */ (this.nodes.get(node.id)));
    switch (node.k) {
      case 't': {
        const doctype = doc.implementation.createDocumentType(node.n || 'html', node.ids?.[0] ?? '', node.ids?.[1] ?? '');
        this.register(node.id, doctype, node);
        return doctype;
      }
      case 'x': {
        const text = isStyleElement(parent) ? rewriteCssUrls(node.v ?? '', this.resolve) : (node.v ?? '');
        const built = doc.createTextNode(text);
        this.register(node.id, built, node);
        return built;
      }
      case 'c': {
        const built = doc.createComment(node.v ?? '');
        this.register(node.id, built, node);
        return built;
      }
      case 'e':
        return this.buildElement(doc, node);
      case 'd':
      case 'f':
        throw new RebuildError(`node ${node.id} of kind ${node.k} cannot be a child`);
      default:
        throw new RebuildError(`node ${node.id} has unknown kind ${JSON.stringify(node.k)}`);
    }
  }

  /**
   * @param {Document} doc
   * @param {SerializedNode} node
   * @returns {Element}
   */
  buildElement(doc, node) {
    const name = node.n || 'span';
    /** @type {Element} */
    let el;
    try {
      el = doc.createElementNS(node.ns || HTML_NS, name);
    } catch {
      // A name the parser accepted but createElement does not; keep the subtree in place.
      el = doc.createElementNS(node.ns || HTML_NS, 'span');
    }
    this.register(node.id, el, node);
    const attrs = node.a;
    if (attrs) {
      for (const attrName of Object.keys(attrs)) this.setAttribute(el, attrName, attrs[attrName], attrs);
    }
    const inert = hasInertContent(el.localName) || isScriptElement(el.localName, node.ns);
    /** @type {Node[]} */
    const keptOut = [];
    const children = node.c ?? [];
    // A budgeted build of the top document may stop in the body's plain containers (see
    // CUT_CONTAINERS): the children not built yet wait in `rest`.
    const outerCutAllowed = this.cutAllowed;
    const cuttable = this.budget !== Infinity && this.sealed === 0 && !node.sh && el.namespaceURI === HTML_NS &&
      CUT_CONTAINERS.has(el.localName) && (outerCutAllowed || (el.localName === 'body' && doc === this.document));
    this.cutAllowed = cuttable;
    try {
      for (let i = 0; i < children.length; i++) {
        if (cuttable && this.budget <= 0) {
          this.cuts.push({ parent: el, children, next: i });
          break;
        }
        const built = this.buildNode(doc, children[i], el);
        if (!built) continue;
        if (inert) keptOut.push(built);
        else el.appendChild(built);
      }
    } finally {
      this.cutAllowed = outerCutAllowed;
    }
    if (inert) this.inert.set(el, keptOut);
    if (node.sh) this.attachShadow(el, node.sh);
    if (node.st) this.setFormState(el, node.id, node.st);
    if (node.css !== undefined && node.css !== null) this.applySheetText(el, node.css);
    if (isFrameElement(el)) this.pendingFrames.push({ frame: /** @type {HTMLIFrameElement} */ (el), doc: node.fd ?? null });
    return el;
  }

  /**
   * @param {Element} host
   * @param {SerializedNode} rootNode
   */
  attachShadow(host, rootNode) {
    if (rootNode.k !== 'f') throw new RebuildError(`shadow root ${rootNode.id} is not of kind f`);
    /** @type {ShadowRoot} */
    let root;
    if (host.shadowRoot) {
      root = host.shadowRoot;
      this.forgetChildren(root);
      while (root.firstChild) root.removeChild(root.firstChild);
      const oldId = this.ids.get(root);
      if (oldId !== undefined) this.nodes.delete(oldId);
    } else {
      try {
        root = host.attachShadow({ mode: 'open' });
      } catch (err) {
        throw new RebuildError(`cannot attach a shadow root to <${host.localName}>: ${messageOf(err)}`);
      }
    }
    this.register(rootNode.id, root, rootNode);
    const doc = /** @type {Document} */ (host.ownerDocument);
    this.sealed++;
    try {
      for (const child of rootNode.c ?? []) {
        const built = this.buildNode(doc, child, root);
        if (built) root.appendChild(built);
      }
    } finally {
      this.sealed--;
    }
    if (rootNode.as) this.setAdopted(root, rootNode.id, rootNode.as);
  }

  /** Builds the documents of iframes that are now connected (they only get one once connected). */
  flushFrames() {
    const pending = this.pendingFrames;
    this.pendingFrames = [];
    for (const { frame, doc } of pending) {
      if (!frame.isConnected) continue;
      this.buildFrame(frame, doc);
    }
  }

  /**
   * @param {HTMLIFrameElement} frame
   * @param {SerializedNode | null} node
   */
  buildFrame(frame, node) {
    const old = this.frameDocs.get(frame);
    if (old) this.forgetChildren(old);
    const inner = frame.contentDocument;
    if (!inner) {
      if (node) throw new RebuildError('iframe has no document to build into');
      return;
    }
    if (old) {
      const oldId = this.ids.get(old);
      if (oldId !== undefined) this.nodes.delete(oldId);
    }
    try {
      resetDocument(inner, node ? documentModeOf(node) : 'quirks');
    } catch {
      while (inner.firstChild) inner.removeChild(inner.firstChild);
    }
    if (!node) {
      this.frameDocs.delete(frame);
      return;
    }
    if (node.k !== 'd') throw new RebuildError(`frame document ${node.id} is not of kind d`);
    this.frameDocs.set(frame, inner);
    this.sealed++;
    try {
      this.fillDocument(inner, node);
    } finally {
      this.sealed--;
    }
  }

  /**
   * @param {number} id
   * @param {Node} dom
   * @param {SerializedNode} node
   */
  register(id, dom, node) {
    this.nodes.set(id, dom);
    this.ids.set(dom, id);
    if (node.m || node.r) this.marks.set(id, { mask: node.m ?? null, restricted: !!node.r });
    else if (this.marks.size > 0) this.marks.delete(id);
  }

  /**
   * Drops a rebuilt subtree from the ID maps (the node itself included).
   * @param {Node} dom
   */
  forget(dom) {
    const id = this.ids.get(dom);
    if (id !== undefined && this.nodes.get(id) === dom) {
      this.nodes.delete(id);
      this.marks.delete(id);
      this.forms.delete(id);
      this.adopted.delete(id);
    }
    this.forgetChildren(dom);
  }

  /**
   * @param {Node} dom
   */
  forgetChildren(dom) {
    for (const child of Array.from(dom.childNodes)) this.forget(child);
    const kept = this.inert.get(dom);
    if (kept) for (const child of kept) this.forget(child);
    if (dom.nodeType === 1) {
      const el = /** @type {Element} */ (dom);
      if (el.shadowRoot) this.forget(el.shadowRoot);
      const inner = this.frameDocs.get(el);
      if (inner) this.forget(inner);
    }
  }

  // ------------------------------------------------------------------------------------------
  // Ops

  /**
   * @param {number} parentId
   * @param {number | null} beforeId
   * @param {SerializedNode} node
   */
  opAdd(parentId, beforeId, node) {
    const parent = this.nodes.get(parentId);
    if (!parent) throw new RebuildError(`add under unknown node ${parentId}`);
    if (parent.nodeType !== 1 && parent.nodeType !== 9 && parent.nodeType !== 11) {
      throw new RebuildError(`add under node ${parentId}, which cannot have children`);
    }
    /** @type {Node | null} */
    let before = null;
    if (beforeId !== null && beforeId !== undefined) {
      before = this.nodes.get(beforeId) ?? null;
      if (!before) throw new RebuildError(`add before unknown node ${beforeId}`);
    }
    const existing = this.nodes.get(node.id);
    if (existing && existing !== before && existing !== parent) {
      // The same node added again: a move. Take the old one out first.
      this.forget(existing);
      existing.parentNode?.removeChild(existing);
    }
    const doc = parent.nodeType === 9 ? /** @type {Document} */ (parent) : /** @type {Document} */ (parent.ownerDocument);
    const built = this.buildNode(doc, node, parent);
    if (!built) return;
    const kept = this.inert.get(parent);
    if (kept) {
      const at = before ? kept.indexOf(before) : -1;
      if (at >= 0) kept.splice(at, 0, built);
      else kept.push(built);
      return;
    }
    if (before && before.parentNode !== parent) throw new RebuildError(`node ${beforeId} is not a child of ${parentId}`);
    try {
      parent.insertBefore(built, before);
    } catch (err) {
      this.forget(built);
      throw new RebuildError(`cannot insert node ${node.id}: ${messageOf(err)}`);
    }
  }

  /** @param {number} id */
  opRemove(id) {
    const node = this.nodes.get(id);
    if (!node) throw new RebuildError(`remove of unknown node ${id}`);
    if (node.nodeType === 9 || node.nodeType === 11) throw new RebuildError(`remove of document or shadow root ${id}`);
    this.forget(node);
    if (node.parentNode) {
      node.parentNode.removeChild(node);
    } else {
      for (const kept of this.inertLists(node)) kept.splice(kept.indexOf(node), 1);
    }
  }

  /**
   * The kept-out child lists that hold `node` (normally none or one).
   * @param {Node} node
   * @returns {Node[][]}
   */
  inertLists(node) {
    /** @type {Node[][]} */
    const lists = [];
    for (const dom of this.nodes.values()) {
      const kept = this.inert.get(dom);
      if (kept && kept.includes(node)) lists.push(kept);
    }
    return lists;
  }

  /**
   * @param {number} id
   * @param {string} name
   * @param {string | null} value
   */
  opAttr(id, name, value) {
    const el = this.element(id, 'attr');
    if (typeof name !== 'string' || name === '') throw new RebuildError('attr without a name');
    if (value === null || value === undefined) {
      removeAttribute(el, name);
      return;
    }
    /** @type {Record<string, string>} */
    const others = {};
    for (const attr of Array.from(el.attributes)) others[attr.name] = attr.value;
    this.setAttribute(el, name, value, others);
  }

  /**
   * @param {number} id
   * @param {string} text
   */
  opText(id, text) {
    const node = this.nodes.get(id);
    if (!node) throw new RebuildError(`text of unknown node ${id}`);
    if (node.nodeType !== 3 && node.nodeType !== 4 && node.nodeType !== 8) throw new RebuildError(`text of node ${id}, which is not text`);
    const data = node.nodeType !== 8 && node.parentNode && isStyleElement(node.parentNode) ? rewriteCssUrls(text, this.resolve) : text;
    /** @type {CharacterData} */ (node).data = data;
  }

  /**
   * @param {number} id
   * @param {string[]} sheets
   */
  opAdopt(id, sheets) {
    const node = this.nodes.get(id);
    if (!node) throw new RebuildError(`adopt on unknown node ${id}`);
    if (node.nodeType !== 9 && node.nodeType !== 11) throw new RebuildError(`adopt on node ${id}, which is not a document or shadow root`);
    this.setAdopted(/** @type {Document | ShadowRoot} */ (node), id, Array.isArray(sheets) ? sheets : []);
  }

  /**
   * @param {number} id
   * @param {MaskKindCode | null} mask
   * @param {boolean} restricted
   */
  opMark(id, mask, restricted) {
    if (!this.nodes.has(id)) throw new RebuildError(`mark of unknown node ${id}`);
    if (mask || restricted) this.marks.set(id, { mask: mask ?? null, restricted: !!restricted });
    else this.marks.delete(id);
  }

  /**
   * @param {number} hostId
   * @param {SerializedNode} root
   */
  opShadow(hostId, root) {
    this.attachShadow(this.element(hostId, 'shadow'), root);
  }

  /**
   * @param {number} frameId
   * @param {SerializedNode | null} doc
   */
  opFrame(frameId, doc) {
    const el = this.element(frameId, 'frame');
    if (!isFrameElement(el)) throw new RebuildError(`frame op on <${el.localName}>`);
    if (!el.isConnected) {
      this.pendingFrames.push({ frame: /** @type {HTMLIFrameElement} */ (el), doc });
      return;
    }
    this.buildFrame(/** @type {HTMLIFrameElement} */ (el), doc);
  }

  // ------------------------------------------------------------------------------------------
  // Details

  /**
   * @param {number} id
   * @param {string} what
   * @returns {Element}
   */
  element(id, what) {
    const node = this.nodes.get(id);
    if (!node) throw new RebuildError(`${what} of unknown node ${id}`);
    if (node.nodeType !== 1) throw new RebuildError(`${what} of node ${id}, which is not an element`);
    return /** @type {Element} */ (node);
  }

  /**
   * Sets an attribute after the sanitizer's say; attributes it refuses are left out.
   * @param {Element} el
   * @param {string} name
   * @param {string} value
   * @param {Record<string, string>} others
   */
  setAttribute(el, name, value, others) {
    const safe = sanitizeAttribute(el.localName, name, String(value), this.resolve, others);
    if (safe === null) {
      removeAttribute(el, name);
      return;
    }
    try {
      const colon = name.indexOf(':');
      if (colon > 0) {
        const prefix = name.slice(0, colon);
        const ns = prefix === 'xlink' ? XLINK_NS : prefix === 'xml' ? XML_NS : prefix === 'xmlns' ? XMLNS_NS : null;
        if (ns) {
          el.setAttributeNS(ns, name, safe);
          return;
        }
      } else if (name === 'xmlns') {
        return; // namespace declarations are implied by createElementNS
      }
      el.setAttribute(name, safe);
    } catch {
      // Names the parser accepted but setAttribute refuses (quotes, `<`): nothing to render.
    }
  }

  /**
   * Applies a form field's live state through properties only.
   * @param {Element} el
   * @param {number} id
   * @param {FormState} state
   */
  setFormState(el, id, state) {
    const previous = this.forms.get(id) ?? {};
    this.forms.set(id, { ...previous, ...state });
    const field = /** @type {HTMLInputElement & HTMLSelectElement} */ (/** @type {unknown} */ (el));
    if (state.sel !== undefined && el.localName === 'select') {
      const chosen = new Set(state.sel);
      const options = Array.from(field.options ?? []);
      if (!field.multiple && chosen.size === 0) field.selectedIndex = -1;
      options.forEach((option, index) => {
        const want = chosen.has(index);
        if (option.selected !== want) option.selected = want;
      });
    }
    if (state.v !== undefined && (el.localName === 'input' || el.localName === 'textarea')) {
      if (field.value !== state.v) {
        try {
          field.value = state.v;
        } catch {
          // File inputs only take the empty string.
        }
      }
    }
    if (state.ch !== undefined && el.localName === 'input') {
      field.checked = state.ch;
    }
  }

  /**
   * Inserts (`rule`) or deletes (null) one top-level rule of the effective CSS a `css` op gave a
   * `<style>` or `<link>`, through its CSSOM: that text went in rule by rule, so the customer's
   * rule numbers hold here. The rule's URLs are rewritten like whole sheets'. A rule this browser
   * refuses goes in as one that matches nothing, so later numbers still hold; a sheet that cannot
   * be reached (not loaded, cross-origin) or an index it lacks means the view no longer matches
   * the page, so the op fails and a fresh page is asked for.
   * @param {Element} el
   * @param {unknown} index
   * @param {unknown} rule
   */
  applySheetRule(el, index, rule) {
    if (el.localName !== 'style' && el.localName !== 'link') throw new RebuildError(`css rule of <${el.localName}>`);
    this.applyUnappliedSheet(el);
    if (typeof index !== 'number' || !Number.isInteger(index) || index < 0) throw new RebuildError('css rule index is not a number');
    if (rule !== null && typeof rule !== 'string') throw new RebuildError('css rule is not text');
    const sheet = /** @type {HTMLStyleElement} */ (el).sheet;
    /** @type {CSSRuleList | null} */
    let rules = null;
    try {
      rules = sheet ? sheet.cssRules : null;
    } catch {
      rules = null; // cross-origin
    }
    if (!sheet || !rules) throw new RebuildError('css rule of a sheet that cannot be edited');
    if (rule === null) {
      if (index >= rules.length) throw new RebuildError(`css rule ${index} of ${rules.length}`);
      sheet.deleteRule(index);
      return;
    }
    if (index > rules.length) throw new RebuildError(`css rule ${index} of ${rules.length}`);
    try {
      sheet.insertRule(rewriteCssUrls(rule, this.resolve), index);
    } catch {
      sheet.insertRule('@media not all{}', index);
    }
  }

  /**
   * Replaces the effective CSS of a `<style>` or `<link rel=stylesheet>` through its CSSOM, so its
   * source text node (and its ID) stays; `null` returns to the source.
   * @param {Element} el
   * @param {string | null} text
   */
  applySheetText(el, text) {
    if (el.localName !== 'style' && el.localName !== 'link') throw new RebuildError(`css of <${el.localName}>`);
    const owner = /** @type {HTMLStyleElement} */ (el);
    if (text === null) {
      if (el.localName === 'style') {
        // Re-inserting the source text makes the browser parse it again.
        const children = Array.from(el.childNodes);
        for (const child of children) el.removeChild(child);
        for (const child of children) el.appendChild(child);
      } else {
        const href = el.getAttribute('href');
        if (href !== null) el.setAttribute('href', href);
      }
      return;
    }
    const css = rewriteCssUrls(text, this.resolve);
    const write = () => {
      const sheet = owner.sheet;
      if (!sheet) return false;
      try {
        while (sheet.cssRules.length) sheet.deleteRule(sheet.cssRules.length - 1);
        for (const rule of splitRules(css, /** @type {Document} */ (el.ownerDocument))) {
          try {
            sheet.insertRule(rule, sheet.cssRules.length);
          } catch {
            // A rule this browser does not understand; the customer's browser dropped it too, or
            // it did not matter to them.
          }
        }
        return true;
      } catch {
        return false; // a cross-origin sheet: its rules cannot be read or written
      }
    };
    if (write()) {
      unappliedSheets.delete(el);
    } else if (el.localName === 'link') {
      el.addEventListener('load', () => write(), { once: true });
    } else if (!el.isConnected) {
      // A <style> being built has no sheet until it is in the document (and appending its text
      // would parse it anew): the text is applied once it is there, before any rule edit of it.
      unappliedSheets.set(el, text);
      queueMicrotask(() => this.applyUnappliedSheet(el));
    }
  }

  /**
   * Applies the effective CSS a `<style>` got while it was being built, if it is in the
   * document now and nothing replaced it since.
   * @param {Element} el
   */
  applyUnappliedSheet(el) {
    const text = unappliedSheets.get(el);
    if (text === undefined || !el.isConnected) return;
    unappliedSheets.delete(el);
    this.applySheetText(el, text);
  }

  /**
   * @param {Document | ShadowRoot} target
   * @param {number} id
   * @param {string[]} sheets
   */
  setAdopted(target, id, sheets) {
    this.adopted.set(id, sheets.slice());
    const doc = target.nodeType === 9 ? /** @type {Document} */ (target) : target.ownerDocument;
    const view = doc?.defaultView;
    if (!view || !('adoptedStyleSheets' in target)) return; // not supported here (jsdom)
    const Sheet = /** @type {typeof CSSStyleSheet} */ (/** @type {any} */ (view).CSSStyleSheet);
    try {
      this.builtAdopted.set(target, sheets.map((css) => {
        const sheet = new Sheet();
        sheet.replaceSync(rewriteCssUrls(css, this.resolve));
        return sheet;
      }));
    } catch {
      // Constructable stylesheets unsupported: the page renders without those rules.
      this.builtAdopted.delete(target);
    }
    this.installAdopted(target);
  }
}

/**
 * Effective CSS of `<style>` elements that were not in a document when it arrived.
 * @type {WeakMap<Element, string>}
 */
const unappliedSheets = new WeakMap();

/**
 * Splits CSS text into rule texts by parsing it in a throwaway `<style>` of the same document.
 * @param {string} css
 * @param {Document} doc
 * @returns {string[]}
 */
function splitRules(css, doc) {
  const holder = doc.createElement('style');
  holder.textContent = css;
  const parent = doc.head ?? doc.documentElement;
  if (!parent) return [];
  parent.appendChild(holder);
  try {
    return Array.from(holder.sheet?.cssRules ?? []).map((rule) => rule.cssText);
  } finally {
    holder.remove();
  }
}

/**
 * The base URL relative URLs of the page resolve against: the page URL, or the href of its first
 * `<base>` (which is itself not rebuilt).
 * @param {string} url
 * @param {SerializedNode} doc
 * @returns {string}
 */
export function baseUrlOf(url, doc) {
  /** @type {string | null} */
  let baseHref = null;
  /** @param {SerializedNode} node */
  const visit = (node) => {
    if (baseHref !== null) return;
    if (node.k === 'e' && (node.n ?? '').toLowerCase() === 'base' && !node.ns && node.a && typeof node.a.href === 'string') {
      baseHref = node.a.href;
      return;
    }
    if (node.k === 'e' && (node.n ?? '').toLowerCase() === 'body') return; // base only counts in head
    for (const child of node.c ?? []) visit(child);
  };
  visit(doc);
  let base = 'about:blank';
  try {
    base = new URL(url).href;
  } catch {
    return base;
  }
  if (baseHref !== null) {
    try {
      const resolved = new URL(baseHref, base);
      if (resolved.protocol === 'http:' || resolved.protocol === 'https:') return resolved.href;
    } catch {
      // A broken base is ignored, as browsers do.
    }
  }
  return base;
}

/**
 * @param {Node} node
 * @returns {boolean}
 */
function isStyleElement(node) {
  return node.nodeType === 1 && /** @type {Element} */ (node).localName === 'style';
}

/**
 * @param {Element} el
 * @returns {boolean}
 */
function isFrameElement(el) {
  return el.localName === 'iframe' && el.namespaceURI === HTML_NS;
}

/**
 * @param {Node} node
 * @returns {boolean}
 */
export function isTextField(node) {
  if (node.nodeType !== 1) return false;
  const el = /** @type {Element} */ (node);
  if (el.localName === 'textarea') return true;
  if (el.localName !== 'input') return false;
  const type = (el.getAttribute('type') ?? 'text').toLowerCase();
  return ['text', 'search', 'url', 'tel', 'password', 'email', 'number', ''].includes(type);
}

/**
 * @param {Element} el
 * @param {string} name
 */
function removeAttribute(el, name) {
  try {
    const colon = name.indexOf(':');
    if (colon > 0) {
      const attr = Array.from(el.attributes).find((a) => a.name === name);
      if (attr) el.removeAttributeNode(attr);
      return;
    }
    el.removeAttribute(name);
  } catch {
    // Nothing to remove.
  }
}

/**
 * The parent of a rebuilt node, stepping from a shadow root to its host and from a frame
 * document to its iframe element.
 * @param {Node} node
 * @param {Rebuilder} rebuilder
 * @returns {Node | null}
 */
function parentAcross(node, rebuilder) {
  if (node.parentNode) {
    const parent = node.parentNode;
    if (parent.nodeType === 11 && /** @type {ShadowRoot} */ (parent).host) return parent;
    return parent;
  }
  if (node.nodeType === 11 && /** @type {ShadowRoot} */ (node).host) return /** @type {ShadowRoot} */ (node).host;
  if (node.nodeType === 9) {
    const view = /** @type {Document} */ (node).defaultView;
    const frame = view?.frameElement ?? null;
    if (frame && rebuilder.ids.has(frame)) return frame;
  }
  return null;
}

/**
 * @param {unknown} err
 * @returns {string}
 */
function messageOf(err) {
  return err instanceof Error ? err.message : String(err);
}
