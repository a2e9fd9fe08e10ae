// The agent's side of chat and voice, against the real `cobrowse demo` server: a customer
// starts a chat, the agent accepts it from the queue, messages go both ways, the customer starts
// co-browse from the chat and the workspace opens it by itself with `{start:…}` as a link in the
// transcript; exiting co-browse leaves the chat going; ending the chat ends co-browse and both
// sides are told. Then a simulated call: the customer reads the ID ("browse with you"), the
// agent types it, and ending the call ends co-browse.
//
// The demo allows standalone sessions; the chat's session is still linked to the chat (the
// server writes `{start:…}` and tells the desk), and the voice session to the call.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { screenshot } from './harness.js';
import {
  startEnv, page, openAgent, openChatCustomer, state, until, untilNotice, notices, waitForPage, desk, cleanup,
} from './agent_support.js';

/** @typedef {import('./agent_support.js').Env} Env */
/** @typedef {import('./agent_support.js').Agent} Agent */
/** @typedef {import('./agent_support.js').ChatCustomer} ChatCustomer */

/** @type {Env} */
let env;
/** The telephony system's bearer token (for the conference event). */
const TELEPHONY_TOKEN = 'e2e-telephony-token-0123456789';

before(async () => {
  env = await startEnv({
    '/shop': (site) => ({
      body: page(site, {
        title: 'Acme Shop',
        body: '<h1 id="title">Checkout</h1><label for="name">Full name</label><input id="name"><p id="help">Need help? Chat with us.</p>',
      }).replace('data-auto-ui="true"', 'data-auto-ui="true" data-chat="true"'),
    }),
    '/blank': () => ({ body: '<!DOCTYPE html><title>Chat host</title><p>chat</p>' }),
  }, { COBROWSE_TELEPHONY__TOKENS: JSON.stringify([TELEPHONY_TOKEN]) });
});

after(async () => {
  await env.close();
});

/**
 * What the workspace's desk holds, from the test hook.
 * @param {Agent} agent
 * @returns {Promise<any>}
 */
async function deskState(agent) {
  return (await state(agent)).desk;
}

/**
 * The transcript texts the agent sees in the open chat panel.
 * @param {Agent} agent
 * @returns {Promise<string[]>}
 */
function transcript(agent) {
  return agent.page.locator('[data-testid="chat-panel"]:not([hidden]) [data-testid="chat-message"]').allTextContents();
}

test('chat: accept from the queue, co-browse opens by itself from the chat, exit leaves the chat, ending the chat ends co-browse', async () => {
  const agent = await openAgent(env);
  /** @type {ChatCustomer | null} */
  let customer = null;
  try {
    await until(async () => (await deskState(agent))?.status === 'open', 'the desk to connect');
    await desk(agent, 'desk-available').check();
    await until(async () => (await deskState(agent))?.available === true, 'the agent available');

    customer = await openChatCustomer(env, '/shop', '/blank');
    console.log(`# customer side driven via ${customer.via}`);
    const c = customer;
    await c.startChat('Ana', 'I can’t find the form');

    // The queue: the customer's name, how long they have waited, their first words.
    const item = desk(agent, 'queue-item');
    await item.waitFor();
    assert.match(await item.textContent() ?? '', /Ana.*waiting just now.*I can’t find the form/s);
    await desk(agent, 'accept-chat').click();
    const input = desk(agent, 'chat-input');
    await input.waitFor();
    await until(() => agent.page.evaluate(() => document.activeElement?.getAttribute('data-testid') === 'chat-input'), 'the cursor in the new chat');
    assert.equal(await desk(agent, 'queue-item').count(), 0, 'the chat left the queue');

    // Messages both ways; Enter sends.
    await input.fill('Hello Ana, I am Alice. How can I help?');
    await input.press('Enter');
    await until(async () => (await c.received()).includes('Hello Ana, I am Alice. How can I help?'), 'the agent’s message at the customer');
    await c.say('Could you look at my screen?');
    await until(async () => (await transcript(agent)).some((t) => t.includes('Could you look at my screen?')), 'the customer’s message at the agent');
    assert.equal((await transcript(agent)).filter((t) => t.includes('Hello Ana, I am Alice')).length, 1, 'shown once, confirmed');

    // "Start co-browse" in the chat: the workspace joins by itself and the transcript links it.
    const first = await c.startFromChat();
    await until(async () => (await state(agent)).session === first, 'the workspace to open the chat’s session by itself');
    await waitForPage(agent);
    const link = desk(agent, 'start-link');
    await link.first().waitFor();
    assert.equal(await link.first().textContent(), `Co-browse ${first.slice(0, 3)} ${first.slice(3, 6)} ${first.slice(6)}`);
    assert.equal(await link.first().getAttribute('href'), `?session=${first}`);
    assert.equal((await deskState(agent)).chats[0].cobrowse, first);
    await screenshot(agent.page, 'chat-cobrowse-opened');

    // Exiting co-browse leaves the chat open and usable.
    await agent.page.getByTestId('exit-session').click();
    await until(async () => (await c.cobrowse()).state === 'ended', 'co-browse over at the customer');
    await until(async () => (await state(agent)).ended === true, 'co-browse over in the workspace');
    assert.equal(await input.isEnabled(), true);
    assert.equal(await desk(agent, 'chat-state').textContent(), 'Active', 'the chat goes on, no longer co-browsing');
    await input.fill('I am still here in the chat.');
    await input.press('Enter');
    await until(async () => (await c.received()).includes('I am still here in the chat.'), 'the chat going on after co-browse');
    // The ended session's link now says it has ended.
    await link.first().click();
    await untilNotice(agent, /has ended/);

    // Co-browse again from the chat, then the agent ends the chat: co-browse ends with it.
    const second = await c.startFromChat();
    assert.notEqual(second, first);
    await until(async () => (await state(agent)).session === second && (await state(agent)).ended === false, 'the second session open by itself');
    await waitForPage(agent);
    assert.equal(await link.count(), 2, 'each start is in the transcript');
    await desk(agent, 'end-chat').click();
    await untilNotice(agent, /The chat ended, so co-browsing ended too\./);
    await until(async () => (await state(agent)).ended === true, 'co-browse over in the workspace');
    await until(async () => (await c.cobrowse()).reason === 'interaction_ended', 'the customer told co-browse ended with the chat');
    await until(async () => (await c.chatEnded()) === 'agent_ended', 'the customer told the chat ended');
    assert.match(await desk(agent, 'chat-state').textContent() ?? '', /You ended the chat/);
    assert.equal(await input.isDisabled(), true);
    await screenshot(agent.page, 'chat-ended-cobrowse-ended');
    assert.deepEqual(agent.errors, []);
    assert.deepEqual(c.errors, []);
  } finally {
    await cleanup(agent, null);
    if (customer) await customer.context.close().catch(() => {});
  }
});

test('a workspace reload keeps the chat (each message once), availability and the co-browse view; the customer ending the chat ends co-browse', async () => {
  const agent = await openAgent(env);
  /** @type {ChatCustomer | null} */
  let customer = null;
  try {
    await until(async () => (await deskState(agent))?.status === 'open', 'the desk to connect');
    await desk(agent, 'desk-available').check();
    customer = await openChatCustomer(env, '/shop', '/blank');
    const c = customer;
    await c.startChat('Ben', 'My card does not arrive');
    await desk(agent, 'accept-chat').click();
    const input = desk(agent, 'chat-input');
    await input.fill('Let me check');
    await input.press('Enter');
    await until(async () => (await c.received()).includes('Let me check'), 'the message at the customer');
    const id = await c.startFromChat();
    await until(async () => (await state(agent)).session === id, 'co-browse open');
    await waitForPage(agent);

    await agent.page.reload();
    await agent.page.locator('#workspace-section').waitFor({ state: 'visible' });
    // The desk comes back with the transcript once, the agent still available, and the
    // workspace back in the session the chat rides on.
    await until(async () => (await deskState(agent))?.chats?.[0]?.messages >= 4, 'the transcript replayed');
    await until(async () => (await state(agent)).session === id && (await state(agent)).ended === false, 'the co-browse view reopened by itself');
    await waitForPage(agent);
    const ids = await agent.page.locator('[data-testid="chat-message"]').evaluateAll((nodes) => nodes.map((n) => /** @type {HTMLElement} */ (n).dataset.id));
    assert.equal(new Set(ids).size, ids.length, `each message once: ${ids.join(',')}`);
    assert.equal((await transcript(agent)).filter((t) => t.includes('Let me check')).length, 1);
    await until(() => desk(agent, 'desk-available').isChecked(), 'availability restored');

    await c.endChat();
    await untilNotice(agent, /The chat ended, so co-browsing ended too\./);
    await until(async () => (await c.cobrowse()).reason === 'interaction_ended', 'the customer told co-browse ended');
    await until(async () => /The customer ended the chat/.test(await desk(agent, 'chat-state').textContent() ?? ''), 'the desk says the customer ended it');
    assert.deepEqual(agent.errors, []);
  } finally {
    await cleanup(agent, null);
    if (customer) await customer.context.close().catch(() => {});
  }
});

test('voice: a simulated call, the customer reads the ID, the agent types it; a conference and then ending the call end co-browse', async () => {
  const agent = await openAgent(env);
  /** @type {ChatCustomer | null} */
  let customer = null;
  try {
    await until(async () => (await deskState(agent))?.status === 'open', 'the desk to connect');
    await desk(agent, 'simulate-call').click();
    await desk(agent, 'call').waitFor();
    assert.match(await desk(agent, 'call').textContent() ?? '', /On a call with \+1 555 0100 \(demo\)/);

    customer = await openChatCustomer(env, '/shop', '/blank');
    const c = customer;
    /** The customer reads the ID out; the agent types it, spaced as people say it. */
    const browseTogether = async () => {
      const id = await c.browseWithYou();
      await agent.page.getByTestId('session-id').fill(`${id.slice(0, 3)} ${id.slice(3, 6)} ${id.slice(6)}`);
      await agent.page.getByTestId('join-btn').click();
      await waitForPage(agent);
      await until(async () => (await desk(agent, 'call-cobrowsing').textContent())?.includes(`co-browsing ${id.slice(0, 3)}`), 'the call marked as co-browsing');
      return id;
    };
    await browseTogether();
    await screenshot(agent.page, 'voice-cobrowse');

    // The telephony system reports a conference: co-browse ends, the call goes on.
    const call = (await deskState(agent)).calls[0].call;
    const response = await fetch(`${env.server.base}/api/v1/telephony/events`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TELEPHONY_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ event_id: `conf-${call}`, call, type: 'conferenced' }),
    });
    assert.equal(response.status, 200, await response.text());
    await untilNotice(agent, /Another party joined the call or it was transferred, so co-browsing ended\. The call goes on\./);
    await until(async () => (await c.cobrowse()).reason === 'interaction_ended', 'the customer told co-browse ended with the conference');
    assert.equal(await desk(agent, 'call').count(), 1, 'the call goes on');
    assert.equal(await desk(agent, 'call-cobrowsing').isHidden(), true);

    // Browsing together again on the same call, then the call ends.
    await browseTogether();
    await desk(agent, 'end-call').click();
    await untilNotice(agent, /The call ended, so co-browsing ended too\./);
    await until(async () => (await state(agent)).ended === true, 'co-browse over in the workspace');
    await until(async () => (await c.cobrowse()).reason === 'interaction_ended', 'the customer told co-browse ended with the call');
    await until(async () => (await desk(agent, 'call').count()) === 0, 'the call gone from the desk');
    assert.deepEqual((await notices(agent)).filter((n) => /could not open/.test(n)), []);
    assert.deepEqual(agent.errors, []);
    assert.deepEqual(c.errors, []);
  } finally {
    await cleanup(agent, null);
    if (customer) await customer.context.close().catch(() => {});
  }
});
