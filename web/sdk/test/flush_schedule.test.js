// When changes leave: right after the script that made them when the page was quiet (a
// microtask, not the next animation frame), and once per frame while changes keep coming.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeWindow } from './dom.js';
import { MaskRules, normalizePolicy } from '../capture/rules.js';
import { Recorder } from '../capture/recorder.js';

function setup() {
  const win = makeWindow('<!DOCTYPE html><body><p id="p">a</p></body>');
  /** @type {Array<{tag: string, body: any}>} */
  const frames = [];
  /** @type {Array<() => void>} */
  const frameQueue = [];
  let clock = 1000;
  const recorder = new Recorder({
    win,
    rules: new MaskRules(normalizePolicy({}), win.document),
    emit: (tag, body) => frames.push({ tag, body }),
    scheduler: {
      now: (fn) => queueMicrotask(fn),
      request: (fn) => frameQueue.push(fn),
      cancel: () => {},
    },
    timers: { setTimeout: () => 0, clearTimeout: () => {}, setInterval: () => 0, clearInterval: () => {}, now: () => clock },
    now: () => clock,
    sliceMs: Infinity,
  });
  recorder.start();
  recorder.snapshot();
  return {
    win,
    recorder,
    frames,
    frameQueue,
    /** @param {number} ms */
    advance: (ms) => void (clock += ms),
    muts: () => frames.filter((f) => f.tag === 'mut'),
  };
}

/** Lets the MutationObserver callback and the microtasks it queues run. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

test('a change after a quiet spell is sent without waiting for a frame', async () => {
  const { win, frames, frameQueue, muts, advance } = setup();
  const before = frames.length;
  advance(100);
  /** @type {Element} */ (win.document.getElementById('p')).setAttribute('class', 'x');
  await settle();
  assert.equal(frameQueue.length, 0, 'no animation frame was asked for');
  assert.equal(muts().length, 1);
  assert.deepEqual(frames.slice(before)[0].body.ops[0].slice(2), ['class', 'x']);
  win.close();
});

test('changes right after a flush wait for the next frame and go out together', async () => {
  const { win, frameQueue, muts, advance } = setup();
  const p = /** @type {Element} */ (win.document.getElementById('p'));
  advance(100);
  p.setAttribute('class', 'one');
  await settle();
  assert.equal(muts().length, 1);
  // Within the burst window: coalesced into the next frame.
  advance(2);
  p.setAttribute('class', 'two');
  await settle();
  p.setAttribute('title', 'three');
  await settle();
  assert.equal(muts().length, 1, 'nothing sent before the frame');
  assert.equal(frameQueue.length, 1, 'one frame asked for');
  /** @type {() => void} */ (frameQueue.shift())();
  assert.equal(muts().length, 2);
  assert.deepEqual(muts()[1].body.ops.map((/** @type {any[]} */ op) => op.slice(2)), [['class', 'two'], ['title', 'three']]);
  win.close();
});
