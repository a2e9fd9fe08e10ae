// Wire compression end to end (docs/protocol.md section 11): the real SDK in Chromium and the
// real workspace offer deflate-raw, the server agrees, and a large page travels as compressed
// binary messages both ways — up from the customer and down to the agent — and still appears.
// The sockets are watched through the DevTools protocol, which sees the frames as sent.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { inflateRawSync } from 'node:zlib';
import { startEnv, page, openCustomer, openAgent, join, untilRebuilt, until, cleanup } from './agent_support.js';

/** @typedef {import('./agent_support.js').Env} Env */

/** @type {Env} */
let env;

before(async () => {
  env = await startEnv({
    '/catalog': (site) => ({
      body: page(site, {
        title: 'Catalog',
        body: `<h1>Catalog</h1><ul id="list">${Array.from({ length: 300 }, (_, i) => `<li class="product-row">Product number ${i}</li>`).join('')}</ul>
          <button id="more" type="button">More</button>
          <script>
            document.getElementById('more').addEventListener('click', () => {
              const list = document.getElementById('list');
              for (let i = 0; i < 100; i++) {
                const li = document.createElement('li');
                li.className = 'product-row added';
                li.textContent = 'Added product ' + i;
                list.appendChild(li);
              }
            });
          </script>`,
      }),
    }),
    // Large enough that the SDK hands its snapshot to a compression worker (after 64 KB of text).
    '/big-catalog': (site) => ({
      body: page(site, {
        title: 'Big catalog',
        body: `<h1>Big catalog</h1><ul id="list">${Array.from({ length: 2000 }, (_, i) => `<li class="product-row">Product number ${i}, in stock, ships within two days</li>`).join('')}</ul>`,
      }),
    }),
  });
});

after(async () => {
  await env?.close();
});

/**
 * Every WebSocket message a page sends and receives on the co-browse socket, as frame text, with
 * whether it crossed compressed.
 * @param {import('playwright-core').Page} target
 */
async function watchSocket(target) {
  const cdp = await target.context().newCDPSession(target);
  await cdp.send('Network.enable');
  /** @type {Array<{dir: 'sent' | 'received', compressed: boolean, text: string, wire: number}>} */
  const messages = [];
  /** @param {'sent' | 'received'} dir @param {{opcode: number, payloadData: string}} response */
  const record = (dir, response) => {
    if (response.opcode === 2) {
      const bytes = Buffer.from(response.payloadData, 'base64');
      assert.equal(bytes[0], 1, 'a binary message starts with format byte 1');
      messages.push({ dir, compressed: true, text: inflateRawSync(bytes.subarray(1)).toString('utf8'), wire: bytes.length });
    } else if (response.opcode === 1) {
      messages.push({ dir, compressed: false, text: response.payloadData, wire: Buffer.byteLength(response.payloadData) });
    }
  };
  cdp.on('Network.webSocketFrameSent', (event) => record('sent', event.response));
  cdp.on('Network.webSocketFrameReceived', (event) => record('received', event.response));
  return {
    messages,
    /** @param {'sent' | 'received'} dir @param {string} tag */
    frames: (dir, tag) => messages.filter((m) => m.dir === dir && m.text.startsWith(`["${tag}",`)),
  };
}

test('the SDK and the workspace negotiate compression, and a large page still appears', async () => {
  const customer = await openCustomer(env, '/catalog', { start: false });
  /** @type {import('./agent_support.js').Agent | null} */
  let agent = null;
  try {
    const customerSocket = await watchSocket(customer.page);
    customer.id = await customer.page.evaluate(async () => (await /** @type {any} */ (window).Cobrowse.start()).id);
    agent = await openAgent(env);
    const agentSocket = await watchSocket(agent.page);
    await join(agent, customer.id);
    await untilRebuilt(agent, (doc) => doc.querySelectorAll('li.product-row').length === 300, 'the 300 rows in the agent’s view');

    for (const [who, socket] of /** @type {const} */ ([['customer', customerSocket], ['agent', agentSocket]])) {
      const hello = JSON.parse(socket.frames('sent', 'hello')[0].text);
      assert.deepEqual(hello[2].z, ['deflate-raw'], `the ${who} offers deflate-raw`);
      const welcome = JSON.parse(socket.frames('received', 'welcome')[0].text);
      assert.deepEqual(welcome[2].z, { enc: 'deflate-raw', min: 1024 }, `the server agrees with the ${who}`);
    }
    // Up: the customer's snapshot left the browser compressed.
    const up = customerSocket.frames('sent', 'snapshot');
    assert.ok(up.length >= 1 && up.every((m) => m.compressed), 'the snapshot went up compressed');
    assert.ok(up[0].wire * 4 < up[0].text.length, `${up[0].wire} bytes on the wire for ${up[0].text.length}`);
    assert.ok(customerSocket.frames('sent', 'pointer').every((m) => !m.compressed) && customerSocket.frames('sent', 'hello').every((m) => !m.compressed), 'small frames stay text');
    // Down: the agent received the page compressed.
    const down = agentSocket.frames('received', 'snapshot');
    assert.ok(down.length >= 1 && down[0].compressed, 'the snapshot came down compressed');
    assert.match(down[0].text, /Product number 299/);

    // A large batch of changes takes the same way, in order with everything else.
    await customer.page.click('#more');
    await untilRebuilt(agent, (doc) => doc.querySelectorAll('li.added').length === 100, 'the 100 added rows in the agent’s view');
    await until(() => customerSocket.frames('sent', 'mut').some((m) => m.compressed && m.text.includes('Added product 99')), 'the batch sent compressed');
    assert.ok(agentSocket.frames('received', 'mut').some((m) => m.compressed && m.text.includes('Added product 99')), 'the batch received compressed');

    const metrics = await (await fetch(`${env.server.base}/metrics`)).text();
    const count = (/** @type {string} */ direction) => Number(new RegExp(`cobrowse_frames_compressed_total\\{direction="${direction}"\\} (\\d+)`).exec(metrics)?.[1]);
    assert.ok(count('received') >= 2 && count('sent') >= 2, metrics);
    // (The browser's request for /favicon.ico gets a 404 from the fixture site; nothing else may fail.)
    assert.deepEqual(customer.errors.filter((e) => !e.startsWith('Failed to load resource')), []);
    assert.deepEqual(agent.errors, []);
  } finally {
    await cleanup(agent, customer);
  }
});

test('a page large enough for the SDK’s compression worker goes up through it and appears', async () => {
  const customer = await openCustomer(env, '/big-catalog', { start: false });
  /** @type {import('./agent_support.js').Agent | null} */
  let agent = null;
  try {
    // Count the workers the page starts (the SDK's compressor is the only one) and the frames
    // they hand back compressed (a worker that fails answers null and the page does the work).
    await customer.page.evaluate(() => {
      const w = /** @type {any} */ (window);
      const Original = w.Worker;
      w.__workersStarted = 0;
      w.__compressedByWorker = 0;
      w.Worker = class extends Original {
        /** @param {any[]} args */
        constructor(...args) {
          super(...args);
          w.__workersStarted++;
          this.addEventListener('message', (/** @type {MessageEvent} */ event) => {
            if (event.data?.message instanceof Uint8Array) w.__compressedByWorker++;
          });
        }
      };
    });
    const customerSocket = await watchSocket(customer.page);
    customer.id = await customer.page.evaluate(async () => (await /** @type {any} */ (window).Cobrowse.start()).id);
    agent = await openAgent(env);
    await join(agent, customer.id);
    await untilRebuilt(agent, (doc) => doc.querySelectorAll('li.product-row').length === 2000, 'the 2,000 rows in the agent’s view');
    const worker = await customer.page.evaluate(() => ({ started: /** @type {any} */ (window).__workersStarted, compressed: /** @type {any} */ (window).__compressedByWorker }));
    assert.equal(worker.started, 1, 'the SDK started one compression worker');
    assert.ok(worker.compressed >= 1, 'the worker compressed the snapshot');
    const up = customerSocket.frames('sent', 'snapshot');
    assert.ok(up.length >= 1 && up.every((m) => m.compressed), 'the snapshot went up compressed');
    assert.ok(up[0].text.length > 64 * 1024, `the snapshot (${up[0].text.length} characters) is past the main thread's share`);
    assert.match(up[0].text, /Product number 1999,/);
    assert.deepEqual(customer.errors.filter((e) => !e.startsWith('Failed to load resource')), []);
    assert.deepEqual(agent.errors, []);
  } finally {
    await cleanup(agent, customer);
  }
});
