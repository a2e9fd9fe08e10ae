// Hostile customer pages: nothing executable, navigating or refreshing survives the rebuild,
// whether it arrives in the snapshot or in later ops.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isScriptUrl, sanitizeAttribute, urlResolver, rewriteCssUrls, rewriteSrcset } from '../sanitize.js';
import { rebuild, page } from './dom.js';

/** @typedef {import('../../sdk/protocol.js').SerializedNode} SerializedNode */

const SVG = 'http://www.w3.org/2000/svg';

/** @type {SerializedNode[]} */
const HOSTILE = [
  { id: 10, k: 'e', n: 'script', a: { src: 'https://evil.example/x.js' }, c: [{ id: 11, k: 'x', v: 'parent.pwned = 1' }] },
  { id: 12, k: 'e', n: 'img', a: { src: '/logo.png', onerror: 'parent.pwned = 2', onload: 'x()' } },
  { id: 13, k: 'e', n: 'a', a: { href: 'javascript:parent.pwned=3', onclick: 'x()' }, c: [{ id: 14, k: 'x', v: 'link' }] },
  { id: 15, k: 'e', n: 'a', a: { href: ' JaVa\tScRiPt:alert(1)' }, c: [] },
  { id: 16, k: 'e', n: 'iframe', a: { srcdoc: '<script>parent.pwned=4</script>', src: 'https://evil.example/' } },
  { id: 17, k: 'e', n: 'meta', a: { 'http-equiv': 'refresh', content: '0; url=https://evil.example/' } },
  { id: 18, k: 'e', n: 'base', a: { href: 'https://evil.example/', target: '_top' } },
  {
    id: 19,
    k: 'e',
    n: 'svg',
    ns: SVG,
    a: { onload: 'parent.pwned=5' },
    c: [
      { id: 20, k: 'e', n: 'script', ns: SVG, a: { href: 'data:,x' }, c: [{ id: 21, k: 'x', v: 'parent.pwned=6' }] },
      { id: 22, k: 'e', n: 'a', ns: SVG, a: { 'xlink:href': 'javascript:alert(1)' } },
      { id: 23, k: 'e', n: 'animate', ns: SVG, a: { attributeName: 'href', to: 'javascript:alert(1)' } },
    ],
  },
  { id: 24, k: 'e', n: 'form', a: { action: 'javascript:alert(1)' }, c: [{ id: 25, k: 'e', n: 'button', a: { formaction: 'javascript:x()' } }] },
  { id: 26, k: 'e', n: 'object', a: { data: 'https://evil.example/x.swf' } },
  { id: 27, k: 'e', n: 'noscript', c: [{ id: 28, k: 'x', v: '<p>Please enable JavaScript</p>' }] },
  { id: 29, k: 'e', n: 'embed', a: { src: 'https://evil.example/x.swf' } },
];

/**
 * Every attribute in the rebuilt document.
 * @param {Document} doc
 * @returns {Array<[string, string, string]>}
 */
function allAttributes(doc) {
  /** @type {Array<[string, string, string]>} */
  const out = [];
  for (const el of Array.from(doc.querySelectorAll('*'))) {
    for (const attr of Array.from(el.attributes)) out.push([el.localName, attr.name, attr.value]);
  }
  return out;
}

/**
 * @param {Document} doc
 */
function assertInert(doc) {
  for (const [el, name, value] of allAttributes(doc)) {
    assert.ok(!name.toLowerCase().startsWith('on'), `event handler ${el}[${name}]`);
    assert.ok(!isScriptUrl(value), `script URL in ${el}[${name}]=${value}`);
    assert.notEqual(name, 'srcdoc');
  }
  for (const script of Array.from(doc.getElementsByTagNameNS('*', 'script'))) {
    assert.equal(script.childNodes.length, 0, 'script has no content');
    assert.equal(script.hasAttribute('src') || script.hasAttribute('href'), false, 'script loads nothing');
  }
  for (const meta of Array.from(doc.querySelectorAll('meta'))) {
    assert.notEqual((meta.getAttribute('http-equiv') ?? '').toLowerCase(), 'refresh');
  }
  for (const base of Array.from(doc.querySelectorAll('base'))) {
    assert.equal(base.hasAttribute('href'), false);
    assert.equal(base.hasAttribute('target'), false);
  }
  for (const frame of Array.from(doc.querySelectorAll('iframe'))) {
    assert.equal(frame.hasAttribute('src'), false);
  }
  for (const noscript of Array.from(doc.querySelectorAll('noscript'))) {
    assert.equal(noscript.childNodes.length, 0, 'noscript content stays out');
  }
}

test('hostile content in a snapshot is neutralized', () => {
  const { doc, window, rebuilder, result } = rebuild(page(HOSTILE));
  assert.deepEqual(result, { ok: true });
  assertInert(doc);
  assert.equal(/** @type {any} */ (window).pwned, undefined);
  assert.equal(doc.querySelector('a')?.getAttribute('href'), '#', 'a link keeps looking like a link');
  assert.equal(doc.querySelector('img')?.getAttribute('src'), 'https://shop.example/logo.png');
  assert.equal(doc.querySelector('meta')?.hasAttribute('content'), false);
  // The IDs of kept-out children still resolve, so later ops on them do not break the mirror.
  assert.ok(rebuilder.node(11));
  assert.deepEqual(rebuilder.apply([['text', 11, 'parent.pwned = 7'], ['text', 28, 'x']]), { ok: true });
  assert.equal(doc.querySelector('script')?.childNodes.length, 0);
  assert.deepEqual(rebuilder.apply([['add', 10, null, { id: 40, k: 'x', v: 'more()' }], ['rm', 40], ['rm', 11]]), { ok: true });
  assertInert(doc);
});

test('hostile content arriving in ops is neutralized', () => {
  const { doc, rebuilder } = rebuild(page([{ id: 100, k: 'e', n: 'div' }, { id: 101, k: 'e', n: 'a', a: { href: '/ok' } }]));
  const result = rebuilder.apply([
    ['add', 100, null, { id: 102, k: 'e', n: 'div', c: HOSTILE }],
    ['attr', 100, 'onclick', 'parent.pwned=8'],
    ['attr', 101, 'href', 'javascript:parent.pwned=9'],
    ['attr', 101, 'onmouseover', 'x()'],
    ['add', 4, null, { id: 50, k: 'e', n: 'meta', a: { content: '1;url=javascript:x()', 'http-equiv': 'Refresh' } }],
    ['add', 4, null, { id: 51, k: 'e', n: 'base', a: { href: 'https://evil.example/' } }],
    ['attr', 51, 'href', 'https://evil.example/again'],
    ['add', 100, null, { id: 52, k: 'e', n: 'iframe' }],
    ['attr', 52, 'srcdoc', '<script>x()</script>'],
    ['attr', 52, 'src', 'https://evil.example/'],
  ]);
  assert.deepEqual(result, { ok: true });
  assertInert(doc);
  assert.equal(doc.querySelector('a')?.getAttribute('href'), '#');
});

test('the sanitizer decides attribute by attribute', () => {
  const resolve = urlResolver('https://shop.example/a/b.html');
  assert.equal(sanitizeAttribute('div', 'onClick', 'x()', resolve), null);
  assert.equal(sanitizeAttribute('a', 'href', 'javascript:x()', resolve), '#');
  assert.equal(sanitizeAttribute('a', 'href', 'c.html?q=1', resolve), 'https://shop.example/a/c.html?q=1');
  assert.equal(sanitizeAttribute('a', 'href', '#top', resolve), '#top');
  assert.equal(sanitizeAttribute('a', 'href', 'mailto:help@shop.example', resolve), 'mailto:help@shop.example');
  assert.equal(sanitizeAttribute('img', 'src', 'data:image/png;base64,AAAA', resolve), 'data:image/png;base64,AAAA');
  assert.equal(sanitizeAttribute('img', 'src', 'data:text/html,<script>x()</script>', resolve), null);
  assert.equal(sanitizeAttribute('img', 'src', 'file:///etc/passwd', resolve), null);
  assert.equal(sanitizeAttribute('iframe', 'srcdoc', '<p>', resolve), null);
  assert.equal(sanitizeAttribute('div', 'title', 'javascript: the good parts', resolve), 'javascript: the good parts');
  assert.equal(sanitizeAttribute('meta', 'http-equiv', 'content-type', resolve), 'content-type');
  assert.equal(sanitizeAttribute('meta', 'http-equiv', 'Content-Security-Policy', resolve), null);
  assert.equal(sanitizeAttribute('div', 'style', 'background: url(bg.png)', resolve), 'background: url("https://shop.example/a/bg.png")');
  assert.equal(isScriptUrl('java\nscript:x'), true);
  assert.equal(isScriptUrl('https://javascript.example/'), false);
});

test('URLs in srcset and CSS resolve against the page and through the proxy', () => {
  const proxy = (/** @type {string} */ url) => `/proxy?u=${encodeURIComponent(url)}`;
  const resolve = urlResolver('https://shop.example/a/', proxy);
  assert.equal(
    rewriteSrcset('img/a,small.png 1x, img/b.png 2x,img/c.png', (u) => `[${u}]`),
    '[img/a,small.png] 1x, [img/b.png] 2x, [img/c.png]',
    'commas inside URLs stay in the URL',
  );
  assert.equal(rewriteSrcset('x.png 1x, /y.png 2x', resolve), '/proxy?u=https%3A%2F%2Fshop.example%2Fa%2Fx.png 1x, /proxy?u=https%3A%2F%2Fshop.example%2Fy.png 2x');
  assert.equal(
    rewriteCssUrls("@import 'base.css'; p { background: url( 'i.png' ) } q { background: url(javascript:x) }", resolve),
    '@import \'/proxy?u=https%3A%2F%2Fshop.example%2Fa%2Fbase.css\'; p { background: url(\'/proxy?u=https%3A%2F%2Fshop.example%2Fa%2Fi.png\') } q { background: url("") }',
  );
  assert.equal(resolve('page.html', 'link'), 'https://shop.example/a/page.html', 'links are not proxied');
});

test('script URLs holding parentheses are removed from CSS whatever the quotes', () => {
  const resolve = urlResolver('https://shop.example/a/');
  const css = 'a { background: url("javascript:alert(1)") } b { background: url(\'javascript:x()\') } c { background: url( "i(1).png" ) }';
  const out = rewriteCssUrls(css, resolve);
  assert.ok(!/javascript/i.test(out), out);
  assert.equal(out, 'a { background: url("") } b { background: url(\'\') } c { background: url("https://shop.example/a/i(1).png") }');
});

test('style text is rewritten in snapshots and text ops', () => {
  const snapshot = page([{ id: 10, k: 'e', n: 'style', c: [{ id: 11, k: 'x', v: 'p { background: url(img/a.png) }' }] }]);
  const { rebuilder } = rebuild(snapshot);
  assert.equal(/** @type {Text} */ (rebuilder.node(11)).data, 'p { background: url("https://shop.example/cart/img/a.png") }');
  rebuilder.apply([['text', 11, 'p { background: url(/b.png) }']]);
  assert.equal(/** @type {Text} */ (rebuilder.node(11)).data, 'p { background: url("https://shop.example/b.png") }');
});
