import { test } from 'node:test';
import assert from 'node:assert/strict';
import { record } from './dom.js';
import { ActionExecutor } from '../actions/action_executor.js';

const PAGE = `<!DOCTYPE html><body>
  <form id="f"><input id="name" value="Ann"><input id="pw" type="password"><input id="card" data-cobrowse-mask value="1234">
  <textarea id="ta">ab</textarea><select id="sel"><option>a</option><option>b</option></select>
  <input id="cb" type="checkbox"><button id="go">Send</button><button id="plain" type="button"><span id="inner">x</span></button></form>
  <button id="sub" type="submit"><span id="subspan">s</span></button>
  <a id="ext" href="https://evil.example/">out</a><a id="own" href="/x">in</a><div id="scroller" style="overflow:auto"></div></body>`;

/**
 * @param {{write?: boolean}} [options]
 */
function setup(options = {}) {
  const w = record(PAGE, { policy: { site_origins: ['https://partner.example'] } });
  /** @type {string[]} */
  const navigated = [];
  let write = options.write ?? true;
  const exec = new ActionExecutor({
    win: w.win,
    rules: w.recorder.rules,
    nodeById: (id) => w.recorder.nodeById(id),
    isWriteMode: () => write,
    siteOrigins: () => ['https://partner.example'],
    navigate: (url) => navigated.push(url),
  });
  /** @param {string} htmlId */
  const idOf = (htmlId) => /** @type {number} */ (w.recorder.registry.idOf(/** @type {Node} */ (w.doc.getElementById(htmlId))));
  return { w, exec, idOf, navigated, setWrite: (/** @type {boolean} */ v) => (write = v) };
}

test('everything is refused outside write mode', () => {
  const { exec, idOf } = setup({ write: false });
  assert.equal(exec.run({ aid: 1, do: 'focus', id: idOf('name') }), 'not_in_write_mode');
  assert.equal(exec.run({ aid: 1, do: 'navigate', nav: 'back' }), 'not_in_write_mode');
});

test('input sets the value through the native setter and fires input and change', () => {
  const { w, exec, idOf } = setup();
  const el = /** @type {HTMLInputElement} */ (w.doc.getElementById('name'));
  /** @type {string[]} */
  const events = [];
  el.addEventListener('input', () => events.push('input'));
  el.addEventListener('change', () => events.push('change'));
  // A framework-style instance setter that would swallow a plain assignment.
  Object.defineProperty(el, 'value', { configurable: true, get() { return 'tracked'; }, set() {} });
  assert.equal(exec.run({ aid: 1, do: 'input', id: idOf('name'), value: 'Bob' }), null);
  delete (/** @type {any} */ (el)).value;
  assert.equal(el.value, 'Bob');
  assert.deepEqual(events, ['input', 'change']);
});

test('restricted and masked targets are refused', () => {
  const { exec, idOf } = setup();
  assert.equal(exec.run({ aid: 1, do: 'click', id: idOf('go'), x: 0, y: 0 }), 'restricted');
  assert.equal(exec.run({ aid: 1, do: 'click', id: idOf('subspan'), x: 0, y: 0 }), 'restricted');
  assert.equal(exec.run({ aid: 1, do: 'input', id: idOf('pw'), value: 'x' }), 'masked');
  assert.equal(exec.run({ aid: 1, do: 'input', id: idOf('card'), value: 'x' }), 'masked');
  assert.equal(exec.run({ aid: 1, do: 'focus', id: 999999 }), 'not_found');
});

test('clicks dispatch real events on allowed targets', () => {
  const { w, exec, idOf } = setup();
  /** @type {string[]} */
  const seen = [];
  const plain = /** @type {Element} */ (w.doc.getElementById('plain'));
  for (const type of ['mousedown', 'mouseup', 'click']) plain.addEventListener(type, () => seen.push(type));
  assert.equal(exec.run({ aid: 1, do: 'click', id: idOf('inner'), x: 5, y: 5 }), null);
  assert.deepEqual(seen, ['mousedown', 'mouseup', 'click'], 'events bubble from the inner element');
  seen.length = 0;
  assert.equal(exec.run({ aid: 2, do: 'click', id: idOf('plain'), x: 5, y: 5 }), null);
  assert.deepEqual(seen, ['mousedown', 'mouseup', 'click']);
  assert.equal(exec.run({ aid: 3, do: 'click', id: idOf('ext'), x: 0, y: 0 }), 'origin_not_allowed');
});

test('Enter in a form is refused as implicit submission; editing keys work', () => {
  const { w, exec, idOf } = setup();
  assert.equal(exec.run({ aid: 1, do: 'key', id: idOf('name'), key: 'Enter' }), 'implicit_submit');
  const name = /** @type {HTMLInputElement} */ (w.doc.getElementById('name'));
  name.setSelectionRange(3, 3);
  assert.equal(exec.run({ aid: 2, do: 'key', id: idOf('name'), key: 'Backspace' }), null);
  assert.equal(name.value, 'An');
  assert.equal(exec.run({ aid: 3, do: 'key', id: idOf('name'), key: 'a' }), 'unsupported');
  const ta = /** @type {HTMLTextAreaElement} */ (w.doc.getElementById('ta'));
  ta.setSelectionRange(2, 2);
  assert.equal(exec.run({ aid: 4, do: 'key', id: idOf('ta'), key: 'Enter' }), null);
  assert.equal(ta.value, 'ab\n');
});

test('select and check', () => {
  const { w, exec, idOf } = setup();
  assert.equal(exec.run({ aid: 1, do: 'select', id: idOf('sel'), selected: [1] }), null);
  assert.equal(/** @type {HTMLSelectElement} */ (w.doc.getElementById('sel')).selectedIndex, 1);
  assert.equal(exec.run({ aid: 2, do: 'select', id: idOf('sel'), selected: [5] }), 'unsupported');
  assert.equal(exec.run({ aid: 3, do: 'check', id: idOf('cb'), checked: true }), null);
  assert.equal(/** @type {HTMLInputElement} */ (w.doc.getElementById('cb')).checked, true);
  assert.equal(exec.run({ aid: 4, do: 'check', id: idOf('name'), checked: true }), 'unsupported');
});

test('navigation is limited to the page origin and allowed site origins', () => {
  const { exec, navigated } = setup();
  assert.equal(exec.run({ aid: 1, do: 'navigate', nav: 'url', url: 'https://evil.example/x' }), 'origin_not_allowed');
  assert.equal(exec.run({ aid: 2, do: 'navigate', nav: 'url', url: 'javascript:alert(1)' }), 'origin_not_allowed');
  assert.equal(exec.run({ aid: 3, do: 'navigate', nav: 'url', url: 'https://partner.example/p' }), null);
  assert.equal(exec.run({ aid: 4, do: 'navigate', nav: 'url', url: '/cart' }), null);
  assert.deepEqual(navigated, ['https://partner.example/p', 'https://shop.example/cart']);
});

test('scroll moves elements', () => {
  const { w, exec, idOf } = setup();
  assert.equal(exec.run({ aid: 1, do: 'scroll', id: idOf('scroller'), x: 0, y: 40 }), null);
  assert.equal(/** @type {Element} */ (w.doc.getElementById('scroller')).scrollTop, 40);
});
