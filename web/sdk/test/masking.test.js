import { test } from 'node:test';
import assert from 'node:assert/strict';
import { byId, record } from './dom.js';
import { globToRegExp, pageMatches, seesAncestors } from '../capture/rules.js';

const SECRET = 'S3cr3tValue';

test('password inputs are always masked, live value included', () => {
  const w = record(`<!DOCTYPE html><body><input id="p" type="password" value="${SECRET}"></body>`);
  const p = byId(w.snapshot.doc, 'p');
  assert.equal(p.m, 'value');
  assert.equal(p.st.v, '*'.repeat(SECRET.length));
  assert.equal(p.a.value, '*'.repeat(SECRET.length));
  /** @type {any} */ (w.doc.getElementById('p')).value = SECRET + 'more';
  w.recorder.flush();
  const input = w.frames.find((f) => f.tag === 'input');
  assert.ok(input);
  assert.equal(input.body.v, '*'.repeat(SECRET.length + 4));
  assert.ok(!w.allText().includes(SECRET));
});

test('configured selectors mask values, text and images', () => {
  const policy = { masking: { fields: ['.card'], text: ['.balance'], images: ['.photo'], pages: [] } };
  const w = record(`<!DOCTYPE html><body>
    <input id="card" class="card" value="${SECRET}">
    <p id="bal" class="balance">${SECRET} <b>${SECRET}</b></p>
    <img id="ph" class="photo" src="me.png" srcset="me2.png 2x" width="40" height="30" alt="${SECRET}">
    <picture><source srcset="me.webp"><img class="photo" src="me.png"></picture>
  </body>`, { policy });
  const d = w.snapshot.doc;
  assert.equal(byId(d, 'card').m, 'value');
  assert.equal(byId(d, 'bal').m, 'text');
  const ph = byId(d, 'ph');
  assert.equal(ph.m, 'image');
  assert.equal(ph.a.src, undefined);
  assert.equal(ph.a.srcset, undefined);
  assert.equal(ph.a.width, '40');
  assert.equal(ph.a.height, '30');
  assert.ok(!w.allText().includes(SECRET));
  assert.ok(!w.allText().includes('me.webp'));
  assert.ok(!w.allText().includes('me.png'));
});

test('data-cobrowse-mask marks elements by kind', () => {
  const w = record(`<!DOCTYPE html><body>
    <input id="a" data-cobrowse-mask value="${SECRET}">
    <div id="b" data-cobrowse-mask>${SECRET}<input id="inner" value="${SECRET}"></div>
    <span id="c" data-cobrowse-mask="text">${SECRET}</span>
    <img id="d" data-cobrowse-mask src="x.png">
    <textarea id="e" data-cobrowse-mask="value">${SECRET}</textarea>
  </body>`);
  const d = w.snapshot.doc;
  assert.equal(byId(d, 'a').m, 'value');
  assert.equal(byId(d, 'b').m, 'text');
  assert.equal(byId(d, 'inner').m, 'value');
  assert.equal(byId(d, 'c').m, 'text');
  assert.equal(byId(d, 'c').c[0].v, '*'.repeat(SECRET.length));
  assert.equal(byId(d, 'd').m, 'image');
  assert.equal(byId(d, 'e').m, 'value');
  assert.ok(!w.allText().includes(SECRET));
});

test('whole pages are masked by URL pattern', () => {
  const w = record(`<!DOCTYPE html><body><p id="p">${SECRET}</p><input id="i" value="${SECRET}"><img id="g" src="a.png"></body>`, {
    url: 'https://shop.example/account/statement?x=1',
    policy: { masking: { fields: [], text: [], images: [], pages: ['/account/*'] } },
  });
  const d = w.snapshot.doc;
  assert.equal(byId(d, 'i').m, 'value');
  assert.equal(byId(d, 'g').m, 'image');
  assert.ok(!w.allText().includes(SECRET));
  w.doc.body.insertAdjacentHTML('beforeend', `<div>${SECRET}</div>`);
  w.recorder.flush();
  assert.ok(!w.allText().includes(SECRET));
});

test('globs match whole URLs or paths', () => {
  assert.ok(globToRegExp('https://*.example/a?c').test('https://shop.example/abc'));
  assert.ok(pageMatches('https://shop.example/account/1#frag', ['https://shop.example/account/*']));
  assert.ok(pageMatches('https://shop.example/account/1', ['/account/*']));
  assert.ok(!pageMatches('https://shop.example/home', ['/account/*']));
});

test('a node that becomes masked later is marked and its content resent masked', () => {
  const w = record('<!DOCTYPE html><body><div id="box">public</div><input id="f" value=""></body>');
  const box = /** @type {Element} */ (w.doc.getElementById('box'));
  box.setAttribute('data-cobrowse-mask', 'text');
  box.textContent = SECRET;
  w.recorder.flush();
  const ops = w.opsSince(1);
  const boxId = byId(w.snapshot.doc, 'box').id;
  assert.ok(ops.some((op) => op[0] === 'mark' && op[1] === boxId && op[2] === 'text'));
  assert.ok(!w.allText().includes(SECRET));
  // Later text changes stay masked, and removing the attribute does not unmask.
  box.removeAttribute('data-cobrowse-mask');
  box.textContent = SECRET + '2';
  /** @type {Text} */ (box.firstChild).data = SECRET + '3';
  w.recorder.flush();
  assert.ok(!w.allText().includes(SECRET));
  // A field that becomes a password is masked from then on.
  const f = /** @type {HTMLInputElement} */ (w.doc.getElementById('f'));
  f.type = 'password';
  f.value = SECRET;
  w.recorder.flush();
  assert.ok(!w.allText().includes(SECRET));
});

test('a node moved under a masked parent stays masked', () => {
  const w = record(`<!DOCTYPE html><body><div id="m" data-cobrowse-mask="text"></div><p id="free"></p></body>`);
  const free = /** @type {Element} */ (w.doc.getElementById('free'));
  const m = /** @type {Element} */ (w.doc.getElementById('m'));
  m.appendChild(free);
  free.textContent = SECRET;
  w.recorder.flush();
  const input = w.doc.createElement('input');
  input.value = SECRET;
  m.appendChild(input);
  w.recorder.flush();
  input.value = SECRET + 'x';
  w.recorder.flush();
  assert.ok(!w.allText().includes(SECRET));
});

test('an element matching a selector after a class change is masked', () => {
  const policy = { masking: { fields: [], text: ['.private'], images: [], pages: [] } };
  const w = record(`<!DOCTYPE html><body><section id="s"><p id="p">${'x'.repeat(3)}</p></section></body>`, { policy });
  const p = /** @type {Element} */ (w.doc.getElementById('p'));
  p.className = 'private';
  p.textContent = SECRET;
  w.recorder.flush();
  assert.ok(!w.allText().includes(SECRET));
  const s = /** @type {Element} */ (w.doc.getElementById('s'));
  s.insertAdjacentHTML('beforeend', `<div class="private">${SECRET}</div>`);
  w.recorder.flush();
  assert.ok(!w.allText().includes(SECRET));
});

test('descendants that match a selector after an ancestor changes are masked', () => {
  const policy = { masking: { fields: [], text: ['.zone p'], images: [], pages: [] } };
  const w = record('<!DOCTYPE html><body><section id="s"><div><p id="p">xxx</p></div></section></body>', { policy });
  const s = /** @type {Element} */ (w.doc.getElementById('s'));
  s.className = 'zone';
  w.recorder.flush();
  const pId = byId(w.snapshot.doc, 'p').id;
  assert.ok(w.opsSince(1).some((op) => op[0] === 'mark' && op[1] === pId && op[2] === 'text'), 'the paragraph is marked');
  /** @type {Element} */ (w.doc.getElementById('p')).textContent = SECRET;
  w.recorder.flush();
  assert.ok(!w.allText().includes(SECRET));
});

test('an attribute change searches the subtree again only when a policy selector looks at ancestors', () => {
  /** @param {string[]} text */
  const searches = (text) => {
    const w = record('<!DOCTYPE html><body><section id="s"><p>a</p><p>b</p></section></body>', { policy: { masking: { fields: [], text, images: [], pages: [] } } });
    const s = /** @type {Element} */ (w.doc.getElementById('s'));
    let calls = 0;
    const original = s.querySelectorAll.bind(s);
    s.querySelectorAll = /** @type {any} */ ((/** @type {string} */ selector) => {
      calls++;
      return original(selector);
    });
    s.className = 'zone';
    w.recorder.flush();
    return calls;
  };
  assert.equal(searches(['.private', '[name=ssn]']), 0);
  assert.equal(searches(['.zone p']), 1);

  for (const simple of ['.balance', '#account-number', '[name=ssn]', 'input[type="a b > c, d"]', 'p.x, div#y, *', "[data-x='a]b']"]) {
    assert.equal(seesAncestors(simple), false, simple);
  }
  for (const complex of ['.a .b', '.a>.b', 'a + b', 'a ~ b', ':lang(en)', 'input:disabled', ':is(.a .b)', '[x] .c', '.a\\ b', 'x|y', '[unterminated', '.ok, .a .b']) {
    assert.equal(seesAncestors(complex), true, complex);
  }
});

test('restricted elements are marked', () => {
  const policy = { restrictions: { selectors: ['#danger'] } };
  const w = record(`<!DOCTYPE html><body><form><button id="b1">go</button><button id="b2" type="button">x</button><input id="s" type="submit"><input id="im" type="image"></form>
    <button id="b3" type="submit">y</button><button id="b4">outside</button><a id="danger">d</a><div id="attr" data-cobrowse-restrict>r</div></body>`, { policy });
  const d = w.snapshot.doc;
  assert.equal(byId(d, 'b1').r, true);
  assert.equal(byId(d, 'b2').r, undefined);
  assert.equal(byId(d, 's').r, true);
  assert.equal(byId(d, 'im').r, true);
  assert.equal(byId(d, 'b3').r, true);
  assert.equal(byId(d, 'b4').r, undefined);
  assert.equal(byId(d, 'danger').r, true);
  assert.equal(byId(d, 'attr').r, true);
  // A button that becomes a submit button is marked.
  const b2 = /** @type {Element} */ (w.doc.getElementById('b2'));
  b2.setAttribute('type', 'submit');
  w.recorder.flush();
  assert.ok(w.opsSince(1).some((op) => op[0] === 'mark' && op[1] === byId(d, 'b2').id && op[3] === true));
});
