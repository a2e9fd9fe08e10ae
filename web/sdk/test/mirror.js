// A minimal mirror for tests: applies a snapshot and mutation ops the way the server's mirror
// does (by node ID), so a test can check that what the SDK sent adds up to the page.

/** @typedef {import('../protocol.js').SerializedNode} SerializedNode */
/** @typedef {import('../protocol.js').Op} Op */

export class MiniMirror {
  constructor() {
    /** @type {SerializedNode | null} */
    this.doc = null;
    /** @type {Map<number, SerializedNode>} */
    this.nodes = new Map();
    /** @type {Map<number, SerializedNode>} child ID → parent (element, document or shadow root) */
    this.parents = new Map();
  }

  /** @param {SerializedNode} doc */
  load(doc) {
    this.nodes.clear();
    this.parents.clear();
    this.doc = structuredClone(doc);
    this.#index(this.doc, null);
  }

  /**
   * @param {SerializedNode} node
   * @param {SerializedNode | null} parent
   */
  #index(node, parent) {
    if (this.nodes.has(node.id)) throw new Error(`repeated node ID ${node.id}`);
    this.nodes.set(node.id, node);
    if (parent) this.parents.set(node.id, parent);
    for (const child of node.c ?? []) this.#index(child, node);
    if (node.sh) this.#index(node.sh, node);
    if (node.fd) this.#index(node.fd, node);
  }

  /** @param {SerializedNode} node */
  #unindex(node) {
    this.nodes.delete(node.id);
    this.parents.delete(node.id);
    for (const child of node.c ?? []) this.#unindex(child);
    if (node.sh) this.#unindex(node.sh);
    if (node.fd) this.#unindex(node.fd);
  }

  /**
   * @param {number} id
   * @returns {SerializedNode}
   */
  #get(id) {
    const node = this.nodes.get(id);
    if (!node) throw new Error(`unknown node ${id}`);
    return node;
  }

  /** @param {Op[]} ops */
  apply(ops) {
    for (const op of ops) {
      switch (op[0]) {
        case 'add': {
          const parent = this.#get(op[1]);
          const node = structuredClone(op[3]);
          const children = parent.c ?? (parent.c = []);
          const at = op[2] === null ? children.length : children.findIndex((c) => c.id === op[2]);
          if (at < 0) throw new Error(`add before ${op[2]}, not a child of ${op[1]}`);
          this.#index(node, parent);
          children.splice(at, 0, node);
          break;
        }
        case 'rm': {
          const node = this.#get(op[1]);
          const parent = this.parents.get(op[1]);
          if (!parent) throw new Error(`remove of a root ${op[1]}`);
          parent.c = (parent.c ?? []).filter((c) => c !== node);
          if (parent.c.length === 0) delete parent.c;
          this.#unindex(node);
          break;
        }
        case 'attr': {
          const node = this.#get(op[1]);
          const a = { ...(node.a ?? {}) };
          if (op[3] === null) delete a[op[2]];
          else a[op[2]] = op[3];
          node.a = a;
          if (Object.keys(a).length === 0) delete node.a;
          break;
        }
        case 'text':
          this.#get(op[1]).v = op[2];
          break;
        case 'css':
          if (op[2] === null) delete this.#get(op[1]).css;
          else this.#get(op[1]).css = op[2];
          break;
        case 'cssins':
        case 'cssdel': {
          const node = this.#get(op[1]);
          if (node.css === undefined) throw new Error(`rule edit of ${op[1]}, which has no effective CSS`);
          const rules = splitRules(node.css);
          if (op[0] === 'cssins' ? op[2] > rules.length : op[2] >= rules.length) throw new Error(`rule index ${op[2]} of ${rules.length}`);
          if (op[0] === 'cssins') rules.splice(op[2], 0, op[3]);
          else rules.splice(op[2], 1);
          node.css = rules.join('\n');
          break;
        }
        case 'adopt':
          this.#get(op[1]).as = op[2];
          break;
        case 'mark': {
          const node = this.#get(op[1]);
          if (op[2]) node.m = op[2];
          else delete node.m;
          if (op[3]) node.r = true;
          else delete node.r;
          break;
        }
        case 'shadow': {
          const host = this.#get(op[1]);
          if (host.sh) this.#unindex(host.sh);
          host.sh = structuredClone(op[2]);
          this.#index(host.sh, host);
          break;
        }
        case 'frame': {
          const frame = this.#get(op[1]);
          if (frame.fd) this.#unindex(frame.fd);
          if (op[2]) {
            frame.fd = structuredClone(op[2]);
            this.#index(frame.fd, frame);
          } else {
            delete frame.fd;
          }
          break;
        }
        default:
          throw new Error(`unknown op ${op[0]}`);
      }
    }
  }

  /**
   * Applies an `input` frame's state.
   * @param {{id: number, v?: string, ch?: boolean, sel?: number[]}} input
   */
  input(input) {
    const { id, ...state } = input;
    this.#get(id).st = state;
  }

  /**
   * Applies every frame of a recording in order.
   * @param {Array<{tag: string, body: any}>} frames
   */
  replay(frames) {
    for (const frame of frames) {
      if (frame.tag === 'snapshot') this.load(frame.body.doc);
      else if (frame.tag === 'mut') this.apply(frame.body.ops);
      else if (frame.tag === 'input') this.input(frame.body);
    }
  }
}

/**
 * The top-level rules of CSS text as the SDK writes it (serialized rules): split after each
 * top-level block and after each block-less at-rule's semicolon, minding strings and comments.
 * @param {string} css
 * @returns {string[]}
 */
export function splitRules(css) {
  /** @type {string[]} */
  const rules = [];
  let depth = 0;
  let start = -1;
  for (let i = 0; i < css.length; i++) {
    const ch = css[i];
    if (start < 0) {
      if (/\s/.test(ch)) continue;
      start = i;
    }
    if (ch === '\\') i++;
    else if (ch === '"' || ch === "'") {
      for (i++; i < css.length && css[i] !== ch; i++) if (css[i] === '\\') i++;
    } else if (ch === '/' && css[i + 1] === '*') {
      i = css.indexOf('*/', i + 2);
      if (i < 0) i = css.length;
      else i++;
    } else if (ch === '{') depth++;
    else if (ch === '}' || (ch === ';' && depth === 0 && css[start] === '@')) {
      if (ch === '}') depth--;
      if (depth === 0) {
        rules.push(css.slice(start, i + 1));
        start = -1;
      }
    }
  }
  if (start >= 0) rules.push(css.slice(start));
  return rules;
}
