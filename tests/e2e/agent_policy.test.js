// Policy as the agent sees it: with write mode disabled the toggle is not there at all, and a
// session that times out says so.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { screenshot } from './harness.js';
import { startEnv, page, openCustomer, openAgent, join, state, until, untilNotice, cleanup } from './agent_support.js';

/** @typedef {import('./agent_support.js').Env} Env */

/** @type {Env} */
let env;

before(async () => {
  env = await startEnv(
    { '/': (site) => ({ body: page(site, { title: 'Plain', body: '<h1 id="title">Plain page</h1><input id="name">' }) }) },
    { COBROWSE_POLICY__WRITE_MODE_ALLOWED: 'false', COBROWSE_TIMEOUTS__INACTIVITY: '4s' },
  );
});

after(async () => {
  await env.close();
});

test('write mode disabled by policy: no toggle, pointer mode only', async () => {
  const customer = await openCustomer(env, '/');
  const agent = await openAgent(env);
  try {
    await join(agent, customer.id);
    const s = await state(agent);
    assert.equal(s.writeAllowed, false);
    assert.equal(await agent.page.getByTestId('write-toggle').isHidden(), true, 'the toggle is not shown');
    assert.equal(await agent.page.getByTestId('nav-back').isDisabled(), true);
    assert.equal(await agent.page.getByTestId('mode-status').textContent(), 'Pointer mode');
    await screenshot(agent.page, 'write-mode-disabled');
  } finally {
    await cleanup(agent, customer);
  }
});

test('a session that times out tells the agent', async () => {
  const customer = await openCustomer(env, '/');
  const agent = await openAgent(env);
  try {
    await join(agent, customer.id);
    await untilNotice(agent, /timed out/);
    await until(async () => (await state(agent)).ended === true, 'the session over');
    assert.equal(await agent.page.getByTestId('join-form').isVisible(), true);
  } finally {
    await cleanup(agent, customer);
  }
});
