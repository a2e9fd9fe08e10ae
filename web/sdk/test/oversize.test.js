import { test } from 'node:test';
import assert from 'node:assert/strict';
import { placeholderSnapshot, shrinkOp, shrinkSnapshot, splitOps, TOO_LARGE_TEXT } from '../capture/oversize.js';
import { maskQueryParams } from '../capture/urls.js';

/** @type {any} */
const SNAPSHOT = {
  url: 'https://shop.example/p',
  title: 'P',
  vp: { w: 800, h: 600, dpr: 1 },
  doc: {
    id: 1,
    k: 'd',
    c: [{
      id: 2,
      k: 'e',
      n: 'body',
      c: [
        { id: 3, k: 'e', n: 'img', a: { src: `data:image/png;base64,${'A'.repeat(5000)}`, alt: 'logo' } },
        { id: 4, k: 'x', v: 'x'.repeat(5000) },
        { id: 5, k: 'e', n: 'style', css: 'a{}'.repeat(2000), c: [{ id: 6, k: 'x', v: 'short' }] },
        { id: 7, k: 'e', n: 'div', sh: { id: 8, k: 'f', as: ['b{}'.repeat(3000)], c: [{ id: 9, k: 'x', v: 'kept' }] } },
      ],
    }],
  },
};

test('splitting a batch keeps every op, in order', () => {
  /** @type {any[]} */
  const ops = [['rm', 1], ['rm', 2], ['rm', 3]];
  const [a, b] = splitOps(ops);
  assert.deepEqual([...a, ...b], ops);
  assert.ok(a.length > 0 && b.length > 0);
});

test('shrinking drops huge attribute values and cuts huge texts, everywhere in the tree', () => {
  const small = /** @type {any} */ (shrinkSnapshot(SNAPSHOT, 1000));
  const body = small.doc.c[0];
  assert.equal(body.c[0].a.src, undefined);
  assert.equal(body.c[0].a.alt, 'logo');
  assert.equal(body.c[1].v.length, 1001);
  assert.equal(body.c[2].css.length, 1001);
  assert.equal(body.c[3].sh.as[0].length, 1001);
  assert.equal(body.c[3].sh.c[0].v, 'kept');
  assert.equal(SNAPSHOT.doc.c[0].c[1].v.length, 5000, 'the original is untouched');
  assert.equal(shrinkSnapshot(small, 1001), null, 'nothing left to cut');
});

test('shrinking one op: a long attribute value is removed, not cut', () => {
  assert.deepEqual(shrinkOp(['attr', 3, 'src', 'x'.repeat(50)], 10), ['attr', 3, 'src', null]);
  assert.deepEqual(shrinkOp(['text', 4, 'x'.repeat(50)], 10), ['text', 4, `${'x'.repeat(10)}…`]);
  assert.equal(shrinkOp(['rm', 4], 10), null);
  // A rule too large to send is replaced by one that matches nothing, so the numbering holds.
  assert.deepEqual(shrinkOp(['cssins', 5, 3, `.a{background:url("data:${'x'.repeat(50)}")}`], 10), ['cssins', 5, 3, '@media not all{}']);
  assert.equal(shrinkOp(['cssins', 5, 3, '.a{}'], 10), null);
  assert.equal(shrinkOp(['cssdel', 5, 3], 10), null);
  const add = /** @type {any} */ (shrinkOp(['add', 2, null, SNAPSHOT.doc.c[0].c[0]], 100));
  assert.equal(add[3].a.src, undefined);
});

test('the placeholder page has fresh IDs and says why', () => {
  let next = 100;
  const page = placeholderSnapshot(SNAPSHOT, () => next++);
  assert.equal(page.url, SNAPSHOT.url);
  const text = JSON.stringify(page.doc);
  assert.ok(text.includes(TOO_LARGE_TEXT));
  const ids = [...text.matchAll(/"id":(\d+)/g)].map((m) => Number(m[1]));
  assert.equal(new Set(ids).size, ids.length);
  assert.ok(ids.every((id) => id >= 100));
});

test('values of masked fields a GET form put into the address are masked', () => {
  assert.equal(maskQueryParams('https://s.example/t?name=Ann&pw=hunter2&x=1#top', ['pw']), 'https://s.example/t?name=Ann&pw=*******&x=1#top');
  assert.equal(maskQueryParams('https://s.example/t?card+no=4111', ['card no']), 'https://s.example/t?card+no=****');
  assert.equal(maskQueryParams('https://s.example/t', ['pw']), 'https://s.example/t');
});
