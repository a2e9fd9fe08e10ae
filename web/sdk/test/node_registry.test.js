// Node IDs: one per node for the life of the page, kept on the node or, for a node that takes no
// properties, beside it; a first snapshot reads each node's missing ID once, not twice.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NodeRegistry } from '../capture/node_registry.js';

/** @returns {Node} a stand-in node: the registry only keeps IDs on it and in its maps */
const fakeNode = () => /** @type {Node} */ (/** @type {unknown} */ ({}));

test('a node keeps its ID; clearing forgets what the mirror holds, not the IDs', () => {
  const registry = new NodeRegistry();
  const a = fakeNode();
  const b = fakeNode();
  const idA = registry.register(a);
  const idB = registry.registerRead(b, registry.idOf(b));
  assert.notEqual(idA, idB);
  assert.equal(registry.register(a), idA);
  assert.equal(registry.idOf(b), idB);
  assert.equal(registry.node(idA), a);
  registry.clear();
  assert.equal(registry.has(a), false);
  assert.equal(registry.idOf(a), idA, 'the ID stays on the node');
  assert.equal(registry.register(a), idA);
  assert.equal(registry.has(a), true);
});

test('a node that takes no properties gets its ID beside it', () => {
  const registry = new NodeRegistry();
  const plain = fakeNode();
  const sealed = Object.preventExtensions(fakeNode());
  assert.equal(registry.idOf(sealed), undefined);
  const id = registry.register(sealed);
  assert.equal(registry.idOf(sealed), id);
  assert.equal(registry.register(sealed), id);
  assert.equal(registry.has(sealed), true);
  assert.equal(registry.node(id), sealed);
  assert.equal(registry.idOf(plain), undefined, 'a node never registered has no ID');
  registry.forget(sealed);
  assert.equal(registry.has(sealed), false);
  assert.equal(registry.idOf(sealed), id, 'forgetting keeps the ID for when it comes back');
});

test("a caller's read that missed is not repeated", () => {
  const registry = new NodeRegistry();
  let reads = 0;
  const target = {};
  const node = /** @type {Node} */ (/** @type {unknown} */ (new Proxy(target, {
    get(object, key) {
      if (key === registry.key) reads++;
      return Reflect.get(object, key);
    },
  })));
  const known = registry.idOf(node);
  assert.equal(known, undefined);
  const id = registry.registerRead(node, known);
  assert.equal(reads, 1, 'registerRead used the undefined it was given');
  assert.equal(registry.register(node), id);
  assert.equal(reads, 2, 'without one it reads the node');
});
