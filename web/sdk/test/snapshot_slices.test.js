import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeWindow } from './dom.js';
import { MiniMirror } from './mirror.js';
import { MaskRules, normalizePolicy } from '../capture/rules.js';
import { Recorder } from '../capture/recorder.js';

/**
 * A small deterministic random number generator (mulberry32).
 * @param {number} seed
 */
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A page of a few hundred nodes: lists, nesting, a masked block, a shadow root. */
function page() {
  const rows = [];
  for (let i = 0; i < 60; i++) rows.push(`<li id="r${i}" class="row">row <b>${i}</b> <i>x</i></li>`);
  return `<!DOCTYPE html><body><header><h1>Title</h1></header><ul id="list">${rows.join('')}</ul>` +
    '<section id="masked" data-cobrowse-mask="text"><p>secret <span>words</span></p></section>' +
    '<div id="host"></div><footer><p id="f">footer</p></footer></body>';
}

/**
 * A recorder whose snapshot runs in slices of a few dozen nodes, with the test deciding what
 * happens on the page between two slices.
 * @param {Window & typeof globalThis} win
 */
function slicedRecorder(win) {
  /** @type {Array<{tag: string, body: any}>} */
  const frames = [];
  /** @type {Array<() => void>} */
  const slices = [];
  let clock = 0;
  const recorder = new Recorder({
    win,
    rules: new MaskRules(normalizePolicy({}), win.document),
    emit: (tag, body) => frames.push({ tag, body: JSON.parse(JSON.stringify(body)) }),
    scheduler: { request: () => 0, cancel: () => {} },
    timers: { setTimeout: () => 0, clearTimeout: () => {}, setInterval: () => 0, clearInterval: () => {}, now: () => 0 },
    sliceMs: 2,
    now: () => clock++, // each deadline check is one "ms": a slice is about 64 nodes
    yieldTask: (fn) => slices.push(fn),
  });
  return { recorder, frames, slices };
}

/**
 * One random change to the page.
 * @param {Document} doc
 * @param {() => number} random
 * @param {number} n
 */
function mutate(doc, random, n) {
  const all = Array.from(doc.body.querySelectorAll('*'));
  const pick = () => all[Math.floor(random() * all.length)];
  const el = pick();
  if (!el) return;
  switch (Math.floor(random() * 7)) {
    case 0: {
      const fresh = doc.createElement(random() < 0.5 ? 'em' : 'div');
      fresh.textContent = `new ${n}`;
      el.appendChild(fresh);
      break;
    }
    case 1:
      if (el.parentElement && el !== doc.body) el.remove();
      break;
    case 2: {
      // Move: anywhere that is not inside itself.
      const target = pick();
      if (target && el !== doc.body && !el.contains(target)) target.insertBefore(el, target.firstChild);
      break;
    }
    case 3:
      el.setAttribute('data-n', String(n));
      break;
    case 4: {
      const text = Array.from(el.childNodes).find((c) => c.nodeType === 3);
      if (text) /** @type {Text} */ (text).data = `changed ${n}`;
      break;
    }
    case 5: {
      const sibling = pick();
      if (sibling && sibling.parentNode && !el.contains(sibling) && el !== doc.body) sibling.parentNode.insertBefore(el, sibling.nextSibling);
      break;
    }
    default: {
      const host = doc.getElementById('host');
      const root = host?.shadowRoot ?? host?.attachShadow({ mode: 'open' });
      if (root) root.appendChild(doc.createElement('span')).textContent = `in shadow ${n}`;
    }
  }
}

test('a snapshot written in slices, with the page changing between slices, adds up to the page', async () => {
  for (let seed = 1; seed <= 25; seed++) {
    const win = makeWindow(page());
    const { recorder, frames, slices } = slicedRecorder(win);
    recorder.start();
    const random = rng(seed);
    assert.equal(recorder.snapshot(), null, 'a page this size takes several slices');
    let n = 0;
    let rounds = 0;
    while (slices.length > 0) {
      for (let i = 0; i < 1 + Math.floor(random() * 4); i++) mutate(win.document, random, n++);
      await Promise.resolve(); // the MutationObserver delivers its records
      /** @type {() => void} */ (slices.shift())();
      rounds++;
    }
    assert.ok(rounds >= 3, `seed ${seed}: the snapshot took ${rounds} slices`);
    assert.equal(frames[0].tag, 'snapshot');
    for (let i = 0; i < 10; i++) mutate(win.document, random, n++);
    await Promise.resolve();
    recorder.flush();

    const mirror = new MiniMirror();
    try {
      mirror.replay(frames);
    } catch (err) {
      if (process.env.DEBUG_SLICES) console.log(seed, JSON.stringify(frames.slice(1)).slice(0, 4000));
      throw new Error(`seed ${seed}: ${err}`);
    }
    recorder.sliceMs = Infinity;
    const fresh = /** @type {any} */ (recorder.snapshot());
    assert.deepEqual(mirror.doc, fresh.doc, `seed ${seed}: the mirror built from the frames equals a fresh snapshot`);
    recorder.stop();
    win.close();
  }
});

test('a long snapshot keeps each slice short and sends what changed meanwhile right after it', async () => {
  const win = makeWindow(page());
  const { recorder, frames, slices } = slicedRecorder(win);
  recorder.start();
  recorder.snapshot();
  assert.equal(frames.length, 0, 'nothing is sent before the snapshot is complete');
  /** @type {HTMLElement} */ (win.document.getElementById('f')).textContent = 'changed while writing';
  await Promise.resolve();
  recorder.flush(); // a flush in between (animation frame, poll) does not send anything yet
  assert.equal(frames.length, 0);
  while (slices.length > 0) /** @type {() => void} */ (slices.shift())();
  assert.equal(frames[0].tag, 'snapshot');
  const stats = recorder.snapshotStats;
  assert.ok(stats.slices > 3, `slices: ${stats.slices}`);
  assert.ok(stats.nodes > 400, `nodes: ${stats.nodes}`);
  const mirror = new MiniMirror();
  mirror.replay(frames);
  assert.ok(JSON.stringify(mirror.doc).includes('changed while writing'));
  recorder.stop();
  win.close();
});

test('content sent masked stays masked when the page moves it out of the masked element', () => {
  const win = makeWindow(page());
  const { recorder, frames } = slicedRecorder(win);
  recorder.sliceMs = Infinity;
  recorder.start();
  recorder.snapshot();
  const doc = win.document;
  const p = /** @type {Element} */ (doc.querySelector('#masked p'));
  doc.body.appendChild(p); // out of the masked section
  /** @type {Text} */ (/** @type {Element} */ (p.querySelector('span')).firstChild).data = 'secret again';
  recorder.flush();
  const text = JSON.stringify(frames);
  assert.ok(!text.includes('secret'), text);
  const mirror = new MiniMirror();
  mirror.replay(frames);
  assert.match(JSON.stringify(mirror.doc), /\*\*\*\*\*\* \*\*\*\*\*/);
  recorder.stop();
  win.close();
});
