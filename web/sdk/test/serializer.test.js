import { test } from 'node:test';
import assert from 'node:assert/strict';
import { byId, byName, findNode, record } from './dom.js';
import { absoluteSrcset, absoluteCssUrls, parseSrcset } from '../capture/urls.js';

test('snapshot carries doctype, url, title, charset, mode and viewport', () => {
  const { snapshot } = record('<!DOCTYPE html><html><head><title>Hi</title></head><body><p>x</p></body></html>');
  assert.equal(snapshot.url, 'https://shop.example/dir/page.html');
  assert.equal(snapshot.title, 'Hi');
  assert.equal(snapshot.charset, 'UTF-8');
  assert.equal(snapshot.mode, 'standards');
  assert.equal(snapshot.doc.k, 'd');
  assert.deepEqual(snapshot.doc.c[0].k, 't');
  assert.equal(snapshot.doc.c[0].n, 'html');
  assert.ok(snapshot.vp.w >= 0 && snapshot.vp.dpr > 0);
  assert.equal(snapshot.scroll[0].id, snapshot.doc.id);
});

test('quirks and limited-quirks modes are kept', () => {
  assert.equal(record('<html><body>no doctype</body></html>').snapshot.mode, 'quirks');
  const limited = record('<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN" "http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd"><html><body></body></html>');
  assert.equal(limited.snapshot.mode, 'limited-quirks');
  const dt = limited.snapshot.doc.c[0];
  assert.deepEqual(dt.ids, ['-//W3C//DTD XHTML 1.0 Transitional//EN', 'http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd']);
});

test('elements, attributes in order, text and comments', () => {
  const { snapshot } = record('<!DOCTYPE html><body><div z="1" a="2" class="c">hello<!-- note --><my-widget data-x="y"></my-widget></div></body>');
  const div = byName(snapshot.doc, 'div');
  assert.deepEqual(Object.keys(div.a), ['z', 'a', 'class']);
  assert.equal(div.c[0].k, 'x');
  assert.equal(div.c[0].v, 'hello');
  assert.equal(div.c[1].k, 'c');
  assert.equal(div.c[1].v, ' note ');
  assert.equal(div.c[2].n, 'my-widget');
  assert.equal(div.ns, undefined);
});

test('node ids are unique', () => {
  const { snapshot } = record('<!DOCTYPE html><body><ul><li>a</li><li>b</li></ul></body>');
  const ids = new Set();
  findNode(snapshot.doc, (n) => {
    assert.ok(!ids.has(n.id));
    ids.add(n.id);
    return false;
  });
  assert.ok(ids.size > 6);
});

test('SVG and MathML keep their namespace and case', () => {
  const { snapshot } = record('<!DOCTYPE html><body><svg viewBox="0 0 1 1"><linearGradient id="g"></linearGradient><foreignObject><p>in</p></foreignObject></svg><math><mi>x</mi></math></body>');
  const svg = byName(snapshot.doc, 'svg');
  assert.equal(svg.ns, 'http://www.w3.org/2000/svg');
  assert.ok(svg.a.viewBox);
  assert.equal(byName(snapshot.doc, 'linearGradient').ns, 'http://www.w3.org/2000/svg');
  assert.equal(byName(snapshot.doc, 'p').ns, undefined);
  assert.equal(byName(snapshot.doc, 'mi').ns, 'http://www.w3.org/1998/Math/MathML');
});

test('scripts and event handler attributes are never sent', () => {
  const { snapshot, allText } = record('<!DOCTYPE html><body><script>var secret=1</script><button onclick="steal()">b</button><a href="javascript:alert(1)">x</a></body>');
  assert.equal(byName(snapshot.doc, 'script'), null);
  assert.equal(byName(snapshot.doc, 'button').a, undefined);
  assert.equal(byName(snapshot.doc, 'a').a, undefined);
  assert.ok(!allText().includes('steal'));
});

test('URLs are made absolute, srcset with commas included', () => {
  const html = `<!DOCTYPE html><body background="bg.png">
    <a id="a" href="../other.html">x</a><img id="i" src="img/a.png" srcset="img/a,1.png 1x, img/b.png 2x">
    <form id="f" action="submit"><button id="b" formaction="/alt">b</button></form>
    <video id="v" poster="p.jpg"></video>
    <div id="s" style="background: url('bg/x.png')"></div>
    <svg><use id="u" href="sprite.svg#icon"></use><use id="frag" href="#local"></use><use id="xl" xlink:href="s.svg#i"></use></svg>
    <style>.x { background: url(img/s.png) }</style></body>`;
  const { snapshot } = record(html);
  const d = snapshot.doc;
  assert.equal(byId(d, 'a').a.href, 'https://shop.example/other.html');
  assert.equal(byId(d, 'i').a.src, 'https://shop.example/dir/img/a.png');
  assert.equal(byId(d, 'i').a.srcset, 'https://shop.example/dir/img/a,1.png 1x, https://shop.example/dir/img/b.png 2x');
  assert.equal(byId(d, 'f').a.action, 'https://shop.example/dir/submit');
  assert.equal(byId(d, 'b').a.formaction, 'https://shop.example/alt');
  assert.equal(byId(d, 'v').a.poster, 'https://shop.example/dir/p.jpg');
  assert.equal(byName(d, 'body').a.background, 'https://shop.example/dir/bg.png');
  assert.match(byId(d, 's').a.style, /url\("https:\/\/shop\.example\/dir\/bg\/x\.png"\)/);
  assert.equal(byId(d, 'u').a.href, 'https://shop.example/dir/sprite.svg#icon');
  assert.equal(byId(d, 'frag').a.href, '#local');
  assert.equal(byId(d, 'xl').a['xlink:href'], 'https://shop.example/dir/s.svg#i');
  assert.match(byName(d, 'style').c[0].v, /url\("https:\/\/shop\.example\/dir\/img\/s\.png"\)/);
});

test('srcset parsing follows the HTML rules', () => {
  assert.deepEqual(parseSrcset('a.png 1x,b.png 2x'), [{ url: 'a.png', descriptor: '1x' }, { url: 'b.png', descriptor: '2x' }]);
  assert.deepEqual(parseSrcset('x,y.png 100w, z.png'), [{ url: 'x,y.png', descriptor: '100w' }, { url: 'z.png', descriptor: '' }]);
  assert.deepEqual(parseSrcset('a.png, b.png'), [{ url: 'a.png', descriptor: '' }, { url: 'b.png', descriptor: '' }]);
  assert.equal(absoluteSrcset('data:image/png;base64,AAA 1x', 'https://a/'), 'data:image/png;base64,AAA 1x');
  assert.equal(absoluteCssUrls('a{b:url(data:x)}', 'https://a/'), 'a{b:url(data:x)}');
  assert.equal(absoluteCssUrls('@import "x.css";', 'https://a/b/'), '@import "https://a/b/x.css";');
});

test('form state is read from properties, not attributes', () => {
  const html = '<!DOCTYPE html><body><input id="t" value="attr"><input id="c" type="checkbox"><textarea id="ta">def</textarea><select id="s"><option>a</option><option>b</option></select></body>';
  const win = record(html);
  const doc = win.doc;
  /** @type {any} */ (doc.getElementById('t')).value = 'live';
  /** @type {any} */ (doc.getElementById('c')).checked = true;
  /** @type {any} */ (doc.getElementById('ta')).value = 'typed';
  /** @type {any} */ (doc.getElementById('s')).selectedIndex = 1;
  const snap = /** @type {any} */ (win.recorder.snapshot());
  assert.deepEqual(byId(snap.doc, 't').st, { v: 'live' });
  assert.equal(byId(snap.doc, 't').a.value, 'attr');
  assert.deepEqual(byId(snap.doc, 'c').st, { ch: true });
  assert.deepEqual(byId(snap.doc, 'ta').st, { v: 'typed' });
  assert.deepEqual(byId(snap.doc, 's').st, { sel: [1] });
});

test('open shadow roots and same-origin iframes are included', () => {
  const w = record('<!DOCTYPE html><body><div id="host"></div><iframe id="fr"></iframe></body>');
  const host = w.doc.getElementById('host');
  const root = /** @type {Element} */ (host).attachShadow({ mode: 'open' });
  root.innerHTML = '<span>inside</span>';
  const frame = /** @type {HTMLIFrameElement} */ (w.doc.getElementById('fr'));
  const fdoc = /** @type {Document} */ (frame.contentDocument);
  fdoc.body.innerHTML = '<b>framed</b>';
  const snap = /** @type {any} */ (w.recorder.snapshot());
  const h = byId(snap.doc, 'host');
  assert.equal(h.sh.k, 'f');
  assert.equal(h.sh.c[0].n, 'span');
  const f = byId(snap.doc, 'fr');
  assert.equal(f.fd.k, 'd');
  assert.ok(byName(f.fd, 'b'));
});

test('the SDK UI host is never serialized', () => {
  const w = record('<!DOCTYPE html><body><p>page</p><div id="ui">secret ui</div></body>', {
    ignore: (node) => node.nodeType === 1 && /** @type {Element} */ (node).id === 'ui',
  });
  assert.equal(byId(w.snapshot.doc, 'ui'), null);
  w.doc.getElementById('ui')?.appendChild(w.doc.createElement('span'));
  w.recorder.flush();
  assert.deepEqual(w.opsSince(1), []);
});

test('a Shift_JIS page mirrors its text exactly and reports its charset', async () => {
  const { readFile } = await import('node:fs/promises');
  const bytes = await readFile(new URL('../../demo/shift_jis.html', import.meta.url));
  const { MaskRules, normalizePolicy } = await import('../capture/rules.js');
  const { NodeRegistry } = await import('../capture/node_registry.js');
  const { serializeSnapshot } = await import('../capture/serializer.js');
  const { makeWindow } = await import('./dom.js');
  const win = makeWindow(/** @type {any} */ (bytes), { url: 'https://shop.example/demo/shift_jis.html' });
  const snap = serializeSnapshot(win, {
    registry: new NodeRegistry(),
    rules: new MaskRules(normalizePolicy({}), win.document),
    ignore: () => false,
    modifiedSheets: new WeakSet(),
  });
  assert.equal(snap.charset, 'Shift_JIS');
  const text = JSON.stringify(snap);
  assert.ok(text.includes('口座開設のお申し込み'));
  assert.ok(text.includes('ソ・表・能・予・十'));
  assert.ok(text.includes('①'));
  assert.ok(!text.includes('\uFFFD'));
  win.close();
});
