// What to send when a frame is larger than the server accepts (`welcome.max_frame_bytes`):
// a batch of ops goes out in smaller batches; a snapshot first loses its largest strings (inline
// images as data: URLs, huge texts); a page that is still too large is replaced by a short
// placeholder page until it shrinks. Pure functions over protocol shapes.

/** @typedef {import('../protocol.js').Op} Op */
/** @typedef {import('../protocol.js').Snapshot} Snapshot */
/** @typedef {import('../protocol.js').SerializedNode} SerializedNode */

/** What the agent sees instead of a page too large to send. */
export const TOO_LARGE_TEXT = 'This page is too large to share. The agent will see it again when it gets smaller.';

/** A rule that stands in for one too large to send: valid everywhere, matching nothing. */
export const EMPTY_RULE = '@media not all{}';

/**
 * Splits a batch in two, keeping the order (each half is applied after the one before).
 * @param {Op[]} ops
 * @returns {[Op[], Op[]]}
 */
export function splitOps(ops) {
  const half = Math.ceil(ops.length / 2);
  return [ops.slice(0, half), ops.slice(half)];
}

/**
 * A copy of a serialized subtree without its largest strings: attribute values longer than
 * `limit` characters are dropped (they are almost always inline images as data: URLs), and longer
 * texts, field values, stylesheet texts and adopted sheets are cut to `limit`. Returns null when
 * nothing was that long.
 * @param {SerializedNode} tree
 * @param {number} limit
 * @returns {SerializedNode | null}
 */
export function shrinkNode(tree, limit) {
  let changed = false;
  /** @param {string} text */
  const cut = (text) => {
    changed = true;
    return `${text.slice(0, limit)}…`;
  };
  /**
   * @param {SerializedNode} node
   * @returns {SerializedNode}
   */
  const copy = (node) => {
    const out = { ...node };
    if (out.a) {
      /** @type {Record<string, string>} */
      const a = {};
      for (const [name, value] of Object.entries(out.a)) {
        if (value.length > limit) changed = true;
        else a[name] = value;
      }
      out.a = a;
    }
    if (out.v !== undefined && out.v.length > limit) out.v = cut(out.v);
    if (out.css !== undefined && out.css.length > limit) out.css = cut(out.css);
    if (out.as) out.as = out.as.map((text) => (text.length > limit ? cut(text) : text));
    if (out.st?.v !== undefined && out.st.v.length > limit) out.st = { ...out.st, v: cut(out.st.v) };
    return out;
  };
  // Iterative, so a deep page cannot overflow the stack.
  const root = copy(tree);
  /** @type {SerializedNode[]} */
  const stack = [root];
  while (stack.length > 0) {
    const node = /** @type {SerializedNode} */ (stack.pop());
    if (node.c) {
      node.c = node.c.map(copy);
      stack.push(...node.c);
    }
    if (node.sh) stack.push((node.sh = copy(node.sh)));
    if (node.fd) stack.push((node.fd = copy(node.fd)));
  }
  return changed ? root : null;
}

/**
 * The snapshot without its largest strings (see `shrinkNode`), or null when nothing was cut.
 * @param {Snapshot} snapshot
 * @param {number} limit
 * @returns {Snapshot | null}
 */
export function shrinkSnapshot(snapshot, limit) {
  const doc = shrinkNode(snapshot.doc, limit);
  return doc ? { ...snapshot, doc } : null;
}

/**
 * One op without its largest strings, or null when nothing was cut. An attribute value that is
 * too long is removed rather than cut (a cut URL would load something else).
 * @param {Op} op
 * @param {number} limit
 * @returns {Op | null}
 */
export function shrinkOp(op, limit) {
  /** @param {string} text */
  const cut = (text) => `${text.slice(0, limit)}…`;
  switch (op[0]) {
    case 'add': {
      const node = shrinkNode(op[3], limit);
      return node ? ['add', op[1], op[2], node] : null;
    }
    case 'shadow': {
      const node = shrinkNode(op[2], limit);
      return node ? ['shadow', op[1], node] : null;
    }
    case 'frame': {
      const node = op[2] ? shrinkNode(op[2], limit) : null;
      return node ? ['frame', op[1], node] : null;
    }
    case 'attr':
      return op[3] !== null && op[3].length > limit ? ['attr', op[1], op[2], null] : null;
    case 'text':
      return op[2].length > limit ? ['text', op[1], cut(op[2])] : null;
    case 'css':
      return op[2] !== null && op[2].length > limit ? ['css', op[1], cut(op[2])] : null;
    case 'cssins':
      // A cut rule would not be one rule; a rule that matches nothing keeps the numbering.
      return op[3].length > limit ? ['cssins', op[1], op[2], EMPTY_RULE] : null;
    case 'adopt':
      return op[2].some((text) => text.length > limit) ? ['adopt', op[1], op[2].map((text) => (text.length > limit ? cut(text) : text))] : null;
    default:
      return null;
  }
}

/**
 * A one-paragraph page that stands in for a page too large to send, with fresh node IDs.
 * @param {Snapshot} snapshot The page it stands for (its URL, title and viewport are kept).
 * @param {() => number} newId
 * @returns {Snapshot}
 */
export function placeholderSnapshot(snapshot, newId) {
  return {
    url: snapshot.url,
    title: snapshot.title,
    charset: 'UTF-8',
    mode: 'standards',
    vp: snapshot.vp,
    doc: {
      id: newId(),
      k: 'd',
      c: [
        { id: newId(), k: 't', n: 'html' },
        {
          id: newId(),
          k: 'e',
          n: 'html',
          c: [
            { id: newId(), k: 'e', n: 'head' },
            {
              id: newId(),
              k: 'e',
              n: 'body',
              a: { style: 'font: 16px system-ui, sans-serif; padding: 24px' },
              c: [{ id: newId(), k: 'e', n: 'p', c: [{ id: newId(), k: 'x', v: TOO_LARGE_TEXT }] }],
            },
          ],
        },
      ],
    },
  };
}
