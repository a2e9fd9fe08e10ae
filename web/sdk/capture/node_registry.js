// Node IDs for one page of one session: a per-instance counter, each node's ID kept on the node
// under a per-instance symbol, and a map back from ID to node for the nodes the server's mirror
// currently holds.

/** @typedef {import('../protocol.js').MaskKindCode} MaskKindCode */

/** The marks of a node that is neither masked nor restricted. */
const UNMARKED = Object.freeze({ m: null, r: false });

export class NodeRegistry {
  constructor() {
    this.next = 1;
    /**
     * Each node's ID is kept on the node under this registry's own symbol: a property read is
     * several times cheaper than a WeakMap lookup, and a snapshot reads it for every node. The
     * symbol is private to this instance, so a new recorder starts over and the page's own
     * properties cannot collide with it.
     */
    this.key = Symbol('cobrowse.id');
    /** IDs of nodes that do not take properties (frozen by the page). */
    /** @type {WeakMap<Node, number>} */
    this.ids = new WeakMap();
    /** Whether `ids` holds any ID yet: until it does, `idOf` need not look there. */
    this.anyInIds = false;
    /** @type {Map<number, Node>} */
    this.nodes = new Map();
    /** Marks last sent for the marked nodes, to notice when a node becomes masked or restricted. */
    /** @type {Map<number, {m: MaskKindCode | null, r: boolean}>} */
    this.marks = new Map();
  }

  /**
   * The marks last sent for a node (unmarked when none were).
   * @param {number} id
   * @returns {{m: MaskKindCode | null, r: boolean}}
   */
  markOf(id) {
    return this.marks.get(id) ?? UNMARKED;
  }

  /**
   * Records the marks sent for a node; only marked nodes take room.
   * @param {number} id
   * @param {MaskKindCode | null} m
   * @param {boolean} r
   */
  setMark(id, m, r) {
    if (m || r) this.marks.set(id, { m, r });
    else this.marks.delete(id);
  }

  /**
   * The node's ID, assigning one the first time, and records it as held by the mirror.
   * @param {Node} node
   * @returns {number}
   */
  register(node) {
    return this.registerRead(node, this.idOf(node));
  }

  /**
   * `register`, when the caller has just read the node's `idOf`: a read that misses walks the
   * node's whole prototype chain, and a first snapshot misses on every node. (A default
   * parameter cannot stand in for this method: it would apply to an undefined ID too, and read
   * the missing ID a second time.)
   * @param {Node} node
   * @param {number | undefined} known
   * @returns {number}
   */
  registerRead(node, known) {
    let id = known;
    if (id === undefined) {
      id = this.next++;
      try {
        /** @type {any} */ (node)[this.key] = id;
      } catch {
        this.ids.set(node, id);
        this.anyInIds = true;
      }
    }
    this.nodes.set(id, node);
    return id;
  }

  /**
   * A new ID for something the mirror holds that is not a node of the page (the image standing
   * for a canvas's content).
   * @returns {number}
   */
  reserve() {
    return this.next++;
  }

  /**
   * The node's ID if it ever had one.
   * @param {Node} node
   * @returns {number | undefined}
   */
  idOf(node) {
    const id = /** @type {any} */ (node)[this.key];
    return id !== undefined || !this.anyInIds ? id : this.ids.get(node);
  }

  /**
   * Whether the mirror holds this node now.
   * @param {Node} node
   * @returns {boolean}
   */
  has(node) {
    const id = this.idOf(node);
    return id !== undefined && this.nodes.get(id) === node;
  }

  /**
   * The node the mirror knows by this ID.
   * @param {number} id
   * @returns {Node | undefined}
   */
  node(id) {
    return this.nodes.get(id);
  }

  /**
   * Forgets a node and everything under it (children, open shadow root, frame document).
   * @param {Node} root
   */
  forget(root) {
    /** @type {Node[]} */
    const stack = [root];
    while (stack.length > 0) {
      const node = /** @type {Node} */ (stack.pop());
      const id = this.idOf(node);
      if (id !== undefined && this.nodes.get(id) === node) {
        this.nodes.delete(id);
        this.marks.delete(id);
      }
      for (let child = node.firstChild; child; child = child.nextSibling) stack.push(child);
      if (node.nodeType === 1) {
        const el = /** @type {Element} */ (node);
        if (el.shadowRoot) stack.push(el.shadowRoot);
        if (el.localName === 'iframe' || el.localName === 'frame') {
          const doc = frameDocument(el);
          if (doc) stack.push(doc);
        }
      }
    }
  }

  /**
   * Forgets one ID (the node's subtree is the caller's business).
   * @param {number} id
   */
  forgetId(id) {
    this.nodes.delete(id);
    this.marks.delete(id);
  }

  /** Forgets what the mirror holds (a fresh snapshot follows); IDs stay stable. */
  clear() {
    this.nodes.clear();
    this.marks.clear();
  }
}

/**
 * The content document of a same-origin frame, or null.
 * @param {Element} el
 * @returns {Document | null}
 */
export function frameDocument(el) {
  try {
    return /** @type {HTMLIFrameElement} */ (el).contentDocument ?? null;
  } catch {
    return null;
  }
}
