import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeWindow } from './dom.js';
import { CustomerUi } from '../ui/customer_ui.js';

function setup(widget = true) {
  const win = makeWindow('<!DOCTYPE html><body><p>page</p></body>');
  /** @type {string[]} */
  const calls = [];
  const ui = new CustomerUi(win.document, {
    onStart: () => calls.push('start'),
    onApprove: () => calls.push('approve'),
    onDeny: () => calls.push('deny'),
    onRevoke: () => calls.push('revoke'),
    onExit: () => calls.push('exit'),
  }, { widget });
  ui.mount();
  const part = (/** @type {string} */ name) => /** @type {HTMLElement} */ (ui.root.querySelector(`[data-part=${name}]`));
  return { win, ui, calls, part };
}

test('every button calls its handler', () => {
  const { win, ui, calls, part } = setup();
  ui.showStart(true);
  assert.equal(ui.startButton.hidden, false);
  ui.startButton.click();
  ui.showSession('123456789');
  assert.equal(part('id').textContent, '123 456 789');
  assert.equal(part('id').getAttribute('aria-label'), '1 2 3 4 5 6 7 8 9');
  ui.askConsent('Alice');
  assert.equal(part('dialog').hidden, false);
  assert.match(part('question').textContent ?? '', /Alice asks/);
  part('approve').click();
  part('deny').click();
  ui.setMode('write');
  assert.equal(part('revoke').hidden, false);
  assert.equal(part('dialog').hidden, true, 'write mode closes the dialog');
  part('revoke').click();
  part('exit').click();
  assert.deepEqual(calls, ['start', 'approve', 'deny', 'revoke', 'exit']);
  win.close();
});

test('the host sits outside the body with an important inline style; the ended panel closes back to Start', () => {
  const { win, ui, part } = setup();
  assert.equal(ui.host.parentNode, win.document.documentElement);
  assert.match(ui.host.getAttribute('style') ?? '', /display: contents !important/);
  ui.showStart(true);
  ui.showSession('123456789');
  ui.showEnded('The agent ended the co-browse session.');
  assert.equal(part('notice').textContent, 'The agent ended the co-browse session.');
  assert.equal(part('exit').hidden, true);
  part('close').click();
  assert.equal(ui.panel.hidden, true);
  assert.equal(ui.startButton.hidden, false);
  ui.showSession('987654321');
  assert.equal(part('exit').hidden, false, 'a new session shows the toolbar again');
  win.close();
});

test('standby, supervisors, and no widget at all', () => {
  const { win, ui, part } = setup();
  ui.showStandby('123456789');
  assert.equal(ui.panel.dataset.state, 'standby');
  assert.match(part('hint').textContent ?? '', /another tab/);
  ui.setObservers(['Bob']);
  assert.equal(part('observers').hidden, false);
  ui.setObservers([]);
  assert.equal(part('observers').hidden, true);
  win.close();

  const hidden = setup(false);
  hidden.ui.showStart(true);
  hidden.ui.showSession('123456789');
  hidden.ui.askConsent('Alice');
  assert.equal(hidden.ui.startButton.hidden, true);
  assert.equal(hidden.ui.panel.hidden, true);
  hidden.ui.drawPointer(10, 20, 'Alice');
  assert.equal(hidden.ui.pointer.hidden, false, 'the agent\'s pointer still shows');
  hidden.win.close();
});
