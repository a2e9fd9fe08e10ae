// absoluteUrl resolves plain paths without the URL parser (a page has thousands of links); the
// result must be exactly the parser's, for every kind of base and path.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { absoluteUrl } from '../capture/urls.js';

const BASES = [
  'https://shop.example/dir/page.html',
  'https://u:p@shop.example:8443/a/b/?q=1#h',
  'https://x.test/a/b?',
  'https://x.test/a/b#',
  'https://x.test',
  'https://x.test:443/a',
  'http://x.test/a/b/',
  'https://x.test/a;b/c?x#y',
  'https://xn--bcher-kva.example/é/x',
  'file:///tmp/a.html',
  'about:blank',
];

const PATHS = [
  '/item/3', 'item/3', 'a.png?x=1&y=2', '/a/./b', '/a/../b', './x', '../x', '.', '..', '/..', 'a/..',
  '/x?y=a/../b', '?q', '/p?q?r', '/a b', '/a%2e%2e/', '%2e%2e/x', '/é', '//host/x', '/a@b:c!$&()*+,;=',
  'x~y', '/.hidden/x', '/a/.b', '/...', '/a/...', '/a\\b', '/a"b', "/a'b?c'd", '/a<b>', '/a`b', '/a{b}',
  '/a|b', '/a^b', '/p#f', '/p?#', '\t/tab', '/a\nb',
];

test('absolute URLs are what the URL parser makes of them', () => {
  for (const base of BASES) {
    for (const path of PATHS) {
      let expected;
      try {
        expected = new URL(path.trim(), base).href;
      } catch {
        expected = path;
      }
      assert.equal(absoluteUrl(path, base), expected, `${path} against ${base}`);
    }
  }
});

test('absolute values, fragments and unparseable values are left alone', () => {
  assert.equal(absoluteUrl('https://other.example/x', 'https://shop.example/'), 'https://other.example/x');
  assert.equal(absoluteUrl('#icon', 'https://shop.example/p', true), '#icon');
  assert.equal(absoluteUrl('  ', 'https://shop.example/p'), '  ');
  assert.equal(absoluteUrl('/x', 'not a url'), '/x');
});
