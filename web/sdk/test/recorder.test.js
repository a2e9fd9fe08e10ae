import { test } from 'node:test';
import assert from 'node:assert/strict';
import { byId, record } from './dom.js';

const PAGE = '<!DOCTYPE html><body><ul id="list"><li id="a">a</li><li id="b">b</li></ul><p id="p" class="x">text</p></body>';

test('adds carry parent and next sibling, in an order the mirror can apply', () => {
  const w = record(PAGE);
  const list = /** @type {Element} */ (w.doc.getElementById('list'));
  const b = /** @type {Element} */ (w.doc.getElementById('b'));
  const listId = byId(w.snapshot.doc, 'list').id;
  const bId = byId(w.snapshot.doc, 'b').id;
  const x = w.doc.createElement('li');
  x.textContent = 'x';
  const y = w.doc.createElement('li');
  y.textContent = 'y';
  list.insertBefore(x, b);
  list.insertBefore(y, b);
  const z = w.doc.createElement('li');
  list.appendChild(z);
  w.recorder.flush();
  const ops = w.opsSince(1);
  const adds = ops.filter((op) => op[0] === 'add');
  assert.equal(adds.length, 3);
  // y goes before b, x before y; z at the end.
  const yAdd = adds.find((op) => op[3].c?.[0]?.v === 'y');
  const xAdd = adds.find((op) => op[3].c?.[0]?.v === 'x');
  const zAdd = adds.find((op) => !op[3].c);
  assert.ok(yAdd && xAdd && zAdd);
  assert.equal(yAdd[1], listId);
  assert.equal(yAdd[2], bId);
  assert.equal(xAdd[2], yAdd[3].id);
  assert.ok(adds.indexOf(yAdd) < adds.indexOf(xAdd));
  assert.equal(zAdd[2], null);
});

test('a node added then removed in one batch sends nothing', () => {
  const w = record(PAGE);
  const list = /** @type {Element} */ (w.doc.getElementById('list'));
  const li = w.doc.createElement('li');
  list.appendChild(li);
  li.textContent = 'temp';
  list.removeChild(li);
  w.recorder.flush();
  assert.deepEqual(w.opsSince(1), []);
});

test('a subtree added with children is sent once', () => {
  const w = record(PAGE);
  const div = w.doc.createElement('div');
  w.doc.body.appendChild(div);
  const span = w.doc.createElement('span');
  div.appendChild(span);
  span.textContent = 'deep';
  span.setAttribute('title', 't');
  w.recorder.flush();
  const ops = w.opsSince(1);
  assert.equal(ops.length, 1);
  assert.equal(ops[0][0], 'add');
  assert.equal(ops[0][3].c[0].a.title, 't');
});

test('attribute storms coalesce to the final value', () => {
  const w = record(PAGE);
  const p = /** @type {Element} */ (w.doc.getElementById('p'));
  for (let i = 0; i < 100; i++) p.setAttribute('data-n', String(i));
  p.className = 'y';
  w.recorder.flush();
  const ops = w.opsSince(1);
  const pId = byId(w.snapshot.doc, 'p').id;
  assert.deepEqual(ops, [
    ['attr', pId, 'data-n', '99'],
    ['attr', pId, 'class', 'y'],
  ]);
  p.removeAttribute('data-n');
  w.recorder.flush();
  assert.deepEqual(w.opsSince(2), [['attr', pId, 'data-n', null]]);
});

test('text changes send the final data', () => {
  const w = record(PAGE);
  const text = /** @type {Text} */ (w.doc.getElementById('p')?.firstChild);
  text.data = 'one';
  text.data = 'two';
  w.recorder.flush();
  const id = byId(w.snapshot.doc, 'p').c[0].id;
  assert.deepEqual(w.opsSince(1), [['text', id, 'two']]);
});

test('removals: nested removals collapse to the outermost; moves are rm then add', () => {
  const w = record(PAGE);
  const list = /** @type {Element} */ (w.doc.getElementById('list'));
  const a = /** @type {Element} */ (w.doc.getElementById('a'));
  const listId = byId(w.snapshot.doc, 'list').id;
  const aId = byId(w.snapshot.doc, 'a').id;
  // Remove the list, then remove a child from the detached list.
  list.remove();
  a.remove();
  w.recorder.flush();
  assert.deepEqual(w.opsSince(1), [['rm', listId]]);

  const w2 = record(PAGE);
  const a2 = /** @type {Element} */ (w2.doc.getElementById('a'));
  const p2 = /** @type {Element} */ (w2.doc.getElementById('p'));
  p2.appendChild(a2);
  w2.recorder.flush();
  const ops = w2.opsSince(1);
  assert.equal(ops[0][0], 'rm');
  assert.equal(ops[0][1], aId);
  assert.equal(ops[1][0], 'add');
  assert.equal(ops[1][1], byId(w2.snapshot.doc, 'p').id);
  assert.equal(ops[1][3].id, aId, 'a moved node keeps its ID');
});

test('reordering siblings keeps the mirror in order', () => {
  const w = record(PAGE);
  const list = /** @type {Element} */ (w.doc.getElementById('list'));
  const a = /** @type {Element} */ (w.doc.getElementById('a'));
  list.appendChild(a); // a after b
  w.recorder.flush();
  const ops = w.opsSince(1);
  const aId = byId(w.snapshot.doc, 'a').id;
  assert.deepEqual(ops[0], ['rm', aId]);
  assert.equal(ops[1][0], 'add');
  assert.equal(ops[1][2], null);
});

test('live form values are read at each flush without any event', () => {
  const w = record('<!DOCTYPE html><body><input id="i"><input id="c" type="checkbox"><select id="s"><option>a</option><option>b</option></select></body>');
  const i = /** @type {HTMLInputElement} */ (w.doc.getElementById('i'));
  i.value = 'set by a framework';
  w.recorder.flush();
  let inputs = w.frames.filter((f) => f.tag === 'input');
  assert.deepEqual(inputs.map((f) => f.body), [{ id: byId(w.snapshot.doc, 'i').id, v: 'set by a framework' }]);
  i.value = '';
  /** @type {HTMLInputElement} */ (w.doc.getElementById('c')).checked = true;
  /** @type {HTMLSelectElement} */ (w.doc.getElementById('s')).selectedIndex = 1;
  w.recorder.flush();
  inputs = w.frames.filter((f) => f.tag === 'input');
  assert.equal(inputs.length, 4);
  assert.deepEqual(inputs[1].body.v, '');
  assert.deepEqual(inputs[2].body.ch, true);
  assert.deepEqual(inputs[3].body.sel, [1]);
  w.recorder.flush();
  assert.equal(w.frames.filter((f) => f.tag === 'input').length, 4, 'unchanged fields are not resent');
});

test('CSSOM changes send the sheet as rule text', () => {
  const w = record('<!DOCTYPE html><head><style id="st">.a { color: red; }</style></head><body></body>');
  const style = /** @type {HTMLStyleElement} */ (w.doc.getElementById('st'));
  const sheet = /** @type {CSSStyleSheet} */ (style.sheet);
  sheet.insertRule('.b { color: blue; }', 1);
  w.recorder.flush();
  const ops = w.opsSince(1);
  assert.equal(ops.length, 1);
  assert.equal(ops[0][0], 'css');
  assert.equal(ops[0][1], byId(w.snapshot.doc, 'st').id);
  assert.match(ops[0][2], /\.b/);
  // A new snapshot carries the modified text in `css`.
  const snap = /** @type {any} */ (w.recorder.snapshot());
  assert.match(byId(snap.doc, 'st').css, /\.b/);
  w.recorder.stop();
  sheet.insertRule('.c { color: green; }', 0);
  assert.equal(w.recorder.dirtySheets.size, 0, 'patches are removed on stop');
});

test('changes in open shadow roots are recorded against the shadow root', () => {
  const w = record('<!DOCTYPE html><body><div id="host"></div></body>');
  const host = /** @type {Element} */ (w.doc.getElementById('host'));
  const root = host.attachShadow({ mode: 'open' });
  root.innerHTML = '<i>1</i>';
  const snap = /** @type {any} */ (w.recorder.snapshot());
  const rootId = byId(snap.doc, 'host').sh.id;
  const before = w.frames.length;
  root.appendChild(w.doc.createElement('b'));
  w.recorder.flush();
  const ops = w.opsSince(before);
  assert.equal(ops.length, 1);
  assert.equal(ops[0][1], rootId);
});

test('URL changes send a nav frame', () => {
  const w = record(PAGE);
  w.win.history.pushState({}, '', '/next');
  w.recorder.flush();
  const nav = w.frames.find((f) => f.tag === 'nav');
  assert.ok(nav);
  assert.equal(nav.body.url, 'https://shop.example/next');
});

test('nothing is sent before the first snapshot or after stop', () => {
  const w = record(PAGE);
  w.recorder.stop();
  const count = w.frames.length;
  w.doc.body.appendChild(w.doc.createElement('div'));
  w.recorder.flush();
  assert.equal(w.frames.length, count);
});

test('a shadow root attached to an element already sent (a custom element upgraded later) goes out as a shadow op', () => {
  const w = record('<!DOCTYPE html><body><late-card id="card">light</late-card></body>');
  const cardId = byId(w.snapshot.doc, 'card').id;
  const root = /** @type {Element} */ (w.doc.getElementById('card')).attachShadow({ mode: 'open' });
  root.innerHTML = '<b>inside</b><slot></slot>';
  w.recorder.flush();
  const ops = w.opsSince(1);
  const shadow = ops.find((op) => op[0] === 'shadow');
  assert.ok(shadow, JSON.stringify(ops));
  assert.equal(shadow[1], cardId);
  assert.equal(shadow[2].k, 'f');
  assert.equal(shadow[2].c[0].n, 'b');
  // Later changes inside it are recorded against it.
  root.appendChild(w.doc.createElement('hr'));
  w.recorder.flush();
  assert.deepEqual(w.opsSince(2).map((op) => [op[0], op[1]]), [['add', shadow[2].id]]);
  // Closed roots stay private.
  const closed = w.doc.createElement('div');
  w.doc.body.appendChild(closed);
  w.recorder.flush();
  const before = w.frames.length;
  closed.attachShadow({ mode: 'closed' }).innerHTML = '<p>private</p>';
  w.recorder.flush();
  assert.ok(!JSON.stringify(w.frames.slice(before)).includes('private'));
  w.recorder.stop();
});

test('pointer frames name the element under the real pointer (hover), not guessed from clicks', () => {
  const w = record(PAGE);
  const p = /** @type {Element} */ (w.doc.getElementById('p'));
  p.dispatchEvent(new w.win.MouseEvent('mousemove', { bubbles: true, clientX: 12, clientY: 34 }));
  const pointer = w.frames.find((f) => f.tag === 'pointer');
  assert.deepEqual(pointer?.body, { x: 12, y: 34, id: byId(w.snapshot.doc, 'p').id });
  w.recorder.stop();
});

test('elements scrolled before sharing keep their position in the snapshot; only those are read', () => {
  const w = record('<!DOCTYPE html><body><div id="box" style="overflow:auto;height:20px"><p>a</p><p>b</p></div><div id="other"></div></body>');
  const box = /** @type {HTMLElement} */ (w.doc.getElementById('box'));
  const other = /** @type {HTMLElement} */ (w.doc.getElementById('other'));
  // jsdom has no layout: give both a scroll position; only the one seen scrolling is read.
  Object.defineProperty(box, 'scrollTop', { value: 15, configurable: true });
  Object.defineProperty(other, 'scrollTop', { value: 99, configurable: true });
  box.dispatchEvent(new w.win.Event('scroll'));
  const snap = /** @type {any} */ (w.recorder.snapshot());
  const boxId = byId(snap.doc, 'box').id;
  assert.deepEqual(snap.scroll.filter((/** @type {any} */ s) => s.id !== snap.doc.id), [{ id: boxId, x: 0, y: 15 }]);
  w.recorder.stop();
});

test('canvas images: off by default; with the option, the content goes out as a stand-in image, masked canvases excepted', async () => {
  const html = '<!DOCTYPE html><body><canvas id="c" width="20" height="10">fallback</canvas><canvas id="m" width="20" height="10" data-cobrowse-mask></canvas></body>';
  const off = record(html);
  assert.ok(!JSON.stringify(off.frames).includes('data-cobrowse-canvas'));
  off.recorder.stop();

  const { makeWindow } = await import('./dom.js');
  const { MaskRules, normalizePolicy } = await import('../capture/rules.js');
  const { Recorder } = await import('../capture/recorder.js');
  const win = makeWindow(html);
  let picture = 'data:image/webp;base64,AAAA';
  for (const canvas of win.document.querySelectorAll('canvas')) {
    /** @type {any} */ (canvas).toDataURL = () => picture;
  }
  /** @type {Array<{tag: string, body: any}>} */
  const frames = [];
  /** @type {Array<() => void>} */
  const ticks = [];
  const recorder = new Recorder({
    win,
    rules: new MaskRules(normalizePolicy({}), win.document),
    emit: (tag, body) => frames.push({ tag, body }),
    scheduler: { request: () => 0, cancel: () => {} },
    timers: { setTimeout: () => 0, clearTimeout: () => {}, setInterval: (fn) => ticks.push(fn), clearInterval: () => {}, now: () => 0 },
    sliceMs: Infinity,
    canvasMs: 500,
  });
  recorder.start();
  const snap = /** @type {any} */ (recorder.snapshot());
  const canvasId = byId(snap.doc, 'c').id;
  const [style, add] = frames.find((f) => f.tag === 'mut')?.body.ops ?? [];
  assert.equal(style[3].n, 'style', 'a style that hides the fallback content in the agent\'s view');
  assert.equal(add[0], 'add');
  assert.equal(add[1], canvasId);
  assert.equal(add[2], null);
  assert.equal(add[3].n, 'img');
  assert.equal(add[3].a.src, picture);
  assert.ok('data-cobrowse-canvas' in add[3].a);
  assert.ok(!JSON.stringify(frames).includes(`"add",${byId(snap.doc, 'm').id},`), 'a masked canvas sends nothing');
  // Unchanged content sends nothing; new content updates the image.
  const count = frames.length;
  for (const tick of ticks) tick();
  assert.equal(frames.length, count);
  picture = 'data:image/webp;base64,BBBB';
  for (const tick of ticks) tick();
  assert.deepEqual(frames.at(-1)?.body.ops, [['attr', add[3].id, 'src', picture]]);
  recorder.stop();
  win.close();
});
