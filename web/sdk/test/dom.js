// Test helpers: a jsdom window and a recorder whose flushes the test drives by hand.

import { createRequire } from 'node:module';
import { MaskRules, normalizePolicy } from '../capture/rules.js';
import { Recorder } from '../capture/recorder.js';

const require = createRequire(import.meta.url);
/** @type {any} */
const jsdom = require('jsdom');

/**
 * @param {string} html
 * @param {{url?: string}} [options]
 * @returns {Window & typeof globalThis}
 */
export function makeWindow(html, options = {}) {
  const dom = new jsdom.JSDOM(html, { url: options.url ?? 'https://shop.example/dir/page.html', pretendToBeVisual: true });
  return dom.window;
}

/**
 * A recorder on a fresh page whose frames are collected as wire text and as objects.
 * @param {string} html
 * @param {{policy?: unknown, url?: string, ignore?: (node: Node) => boolean, before?: (win: Window) => void}} [options]
 *   `before` runs the page's own script before the SDK starts.
 */
export function record(html, options = {}) {
  const win = makeWindow(html, { url: options.url });
  options.before?.(win);
  const rules = new MaskRules(normalizePolicy(options.policy ?? {}), win.document);
  /** @type {Array<{tag: string, body: any}>} */
  const frames = [];
  /** @type {string[]} */
  const wire = [];
  /** @type {Array<() => void>} */
  const queued = [];
  const recorder = new Recorder({
    win,
    rules,
    ignore: options.ignore,
    emit: (tag, body) => {
      frames.push({ tag, body });
      wire.push(JSON.stringify([tag, frames.length, body]));
    },
    scheduler: { request: (fn) => queued.push(fn), cancel: () => {} },
    sliceMs: Infinity,
    timers: {
      setTimeout: () => 0,
      clearTimeout: () => {},
      setInterval: () => 0,
      clearInterval: () => {},
      now: () => 0,
    },
  });
  recorder.start();
  /** @type {any} */
  const snapshot = recorder.snapshot();
  return {
    win,
    doc: win.document,
    recorder,
    frames,
    wire,
    snapshot,
    /** Ops of every `mut` frame emitted after `from`. */
    opsSince(from = 0) {
      return frames.slice(from).filter((f) => f.tag === 'mut').flatMap((f) => f.body.ops);
    },
    /** Everything ever emitted, as one string, for privacy assertions. */
    allText() {
      return wire.join('\n');
    },
  };
}

/**
 * Finds a serialized node by predicate.
 * @param {any} node
 * @param {(node: any) => boolean} pred
 * @returns {any}
 */
export function findNode(node, pred) {
  if (pred(node)) return node;
  for (const child of [...(node.c ?? []), ...(node.sh ? [node.sh] : []), ...(node.fd ? [node.fd] : [])]) {
    const found = findNode(child, pred);
    if (found) return found;
  }
  return null;
}

/**
 * @param {any} root
 * @param {string} name
 */
export function byName(root, name) {
  return findNode(root, (n) => n.k === 'e' && n.n === name);
}

/**
 * @param {any} root
 * @param {string} id The element's `id` attribute.
 */
export function byId(root, id) {
  return findNode(root, (n) => n.k === 'e' && n.a && n.a.id === id);
}
