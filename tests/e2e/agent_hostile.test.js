// Hostile customer pages never run anything in the agent's browser and never navigate its top
// window: inline and SVG scripts, event handler attributes, javascript: and data:text/html links,
// srcdoc frames, meta refresh, base rewrites, plugins, and the same things added later by script.
// The hostile code runs in the customer's browser (it is their page) and proves it is live there;
// in the agent's browser every way it could show itself is watched: a flag on the top window,
// postMessage, alert dialogs, top-frame navigations, requests, console reports of blocked scripts.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { screenshot } from './harness.js';
import {
  startEnv, page, openCustomer, openAgent, join, inRebuilt, untilRebuilt, until, clickRebuilt, enterWriteMode, cleanup, state,
} from './agent_support.js';

/** @typedef {import('./agent_support.js').Env} Env */

/** @type {Env} */
let env;

/**
 * What hostile code does wherever it runs: marks the top window, posts to the parent, calls home,
 * and, outside the customer's own site, raises an alert.
 * @param {string} siteOrigin
 */
function hostileFunction(siteOrigin) {
  return `function HOSTILE(tag) {
    try { (top.__hostileHits = top.__hostileHits || []).push(tag); } catch (e) {}
    try { parent.postMessage('hostile:' + tag, '*'); } catch (e) {}
    try { new Image().src = '${siteOrigin}/beacon?' + tag; } catch (e) {}
    if (!String(location.href).startsWith('${siteOrigin}')) { try { alert('hostile ' + tag); } catch (e) {} }
  }`;
}

/** @param {import('./agent_support.js').FixtureSite} site */
function hostilePage(site) {
  const js = (/** @type {string} */ tag) => `javascript:HOSTILE('${tag}')`;
  return page(site, {
    title: 'Totally normal page',
    head: `<script>${hostileFunction(site.origin)}; HOSTILE('head-script');</script>
      <meta http-equiv="refresh" content="3600; url=/meta-target">
      <base href="http://evil.example/" target="_top">
      <link rel="stylesheet" href="javascript:HOSTILE('css-link')">`,
    body: `
      <h1 id="title" onclick="HOSTILE('onclick')" onmouseover="HOSTILE('onmouseover')">Hello</h1>
      <img id="broken" src="/missing.png" onerror="HOSTILE('onerror')" alt="">
      <p><a id="jslink" href="${js('jslink')}">Click me</a>
         <a id="jslink-obfuscated" href=" java&#9;script:HOSTILE('obfuscated')">And me</a>
         <a id="datalink" href="data:text/html,&lt;script&gt;parent.HOSTILE('data')&lt;/script&gt;">Data</a>
         <a id="toplink" href="/meta-target" target="_top">Top</a></p>
      <form id="jsform" action="${js('form-action')}"><button id="jsbutton" formaction="${js('formaction')}" type="button">Go</button></form>
      <svg id="svg" width="120" height="60" xmlns="http://www.w3.org/2000/svg" onload="HOSTILE('svg-onload')">
        <script>HOSTILE('svg-script')</script>
        <a id="svglink" href="${js('svg-link')}"><text x="5" y="20">svg link</text></a>
        <a id="svganim"><animate attributeName="href" to="${js('svg-animate')}" begin="0s" fill="freeze"/><text x="5" y="45">animated</text></a>
        <image href="/missing.svg" onerror="HOSTILE('svg-image-onerror')" width="1" height="1"/>
      </svg>
      <iframe id="srcdoc" srcdoc="&lt;script&gt;parent.HOSTILE('srcdoc')&lt;/script&gt;" width="100" height="40"></iframe>
      <iframe id="jsframe" src="${js('iframe-src')}" width="100" height="40"></iframe>
      <object id="object" data="/plugin.swf" width="10" height="10"></object>
      <embed id="embed" src="/plugin.swf" width="10" height="10">
      <div id="later"></div>
      <script>
        // After the first snapshot, the same tricks arrive as mutations.
        setTimeout(() => {
          const later = document.getElementById('later');
          const s = document.createElement('script');
          s.textContent = "HOSTILE('added-script')";
          later.appendChild(s);
          later.setAttribute('onclick', "HOSTILE('added-onclick')");
          const a = document.createElement('a');
          a.id = 'added-link';
          a.textContent = 'added link';
          a.href = "${js('added-link')}";
          later.appendChild(a);
          const img = document.createElement('img');
          img.setAttribute('onerror', "HOSTILE('added-onerror')");
          img.src = '/missing-too.png';
          later.appendChild(img);
          // A refresh added later (an hour away, so the customer's own page stays put).
          const meta = document.createElement('meta');
          document.head.appendChild(meta);
          meta.setAttribute('content', '3600; url=/meta-target');
          meta.setAttribute('http-equiv', 'refresh');
          document.getElementById('jslink').setAttribute('href', "${js('changed-href')}");
          later.dataset.done = 'yes';
        }, 300);
      </script>`,
  });
}

before(async () => {
  env = await startEnv({
    '/hostile': (site) => ({ body: hostilePage(site) }),
    '/meta-target': () => ({ body: '<!DOCTYPE html><title>Navigated</title><h1>navigated</h1>' }),
    '/beacon': () => ({ type: 'image/gif', body: Buffer.from('R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7', 'base64') }),
  });
});

after(async () => {
  await env.close();
});

test('hostile pages run nothing in the agent browser and never navigate its top window', async () => {
  const customer = await openCustomer(env, '/hostile');
  const agent = await openAgent(env);
  /** @type {string[]} */
  const consoleLines = [];
  /** @type {string[]} */
  const requests = [];
  agent.page.on('console', (message) => consoleLines.push(message.text()));
  agent.context.on('request', (request) => requests.push(request.url()));
  // Watch the workspace window for messages and flags, from before anything is built.
  await agent.page.evaluate(() => {
    /** @type {any} */ (window).__messages = [];
    window.addEventListener('message', (e) => /** @type {any} */ (window).__messages.push(String(e.data)));
  });
  const title = await agent.page.title();
  try {
    // The hostile code is live in the customer's own browser.
    await until(() => customer.page.evaluate(() => (/** @type {any} */ (window).__hostileHits ?? []).includes('head-script')), 'the hostile script running for the customer');
    await join(agent, customer.id);
    await untilRebuilt(agent, (doc) => doc.querySelector('#added-link'), 'the later mutations in the view');

    // The agent interacts the way a hostile page hopes: hover, clicks on every link, in pointer
    // mode and in write mode.
    for (const selector of ['#title', '#jslink', '#jslink-obfuscated', '#datalink', '#toplink', '#svglink', '#svganim', '#added-link', '#later', '#jsbutton']) {
      await clickRebuilt(agent, selector);
    }
    await enterWriteMode(agent, customer);
    // (Not #toplink here: in write mode a real link rightly takes the customer's page along.)
    for (const selector of ['#title', '#jslink', '#jslink-obfuscated', '#datalink', '#svglink', '#svganim', '#added-link', '#later']) {
      await clickRebuilt(agent, selector);
    }
    await new Promise((resolve) => setTimeout(resolve, 800));
    await screenshot(agent.page, 'hostile-page');

    const seen = await agent.page.evaluate(() => ({
      hits: /** @type {any} */ (window).__hostileHits ?? null,
      messages: /** @type {any} */ (window).__messages,
      frameUrl: /** @type {HTMLIFrameElement} */ (document.querySelector('[data-testid="virtual-browser"]')).contentWindow?.location.protocol,
    }));
    assert.equal(seen.hits, null, 'no hostile code touched the workspace window');
    assert.deepEqual(seen.messages, [], 'no hostile postMessage');
    assert.equal(seen.frameUrl, 'blob:', 'the view never navigated away from its own document');
    assert.deepEqual(agent.dialogs, [], 'no dialog');
    assert.deepEqual(agent.navigations, [], 'the top window never navigated');
    assert.equal(await agent.page.title(), title);
    assert.equal(agent.page.url(), `${env.server.base}/agent/?testhook`);
    assert.deepEqual(agent.errors, []);
    assert.deepEqual(requests.filter((url) => /beacon|meta-target|plugin\.swf/.test(url)), [], 'nothing called home');
    assert.deepEqual(requests.filter((url) => !/^(blob|data):/.test(url) && !url.startsWith(`${env.server.base}/`)), [], 'the agent browser only talked to the Cobrowse server');
    assert.deepEqual(consoleLines.filter((line) => /Blocked script execution|Refused to (execute|run)|javascript:/i.test(line)), [], 'nothing even tried to run');
    assert.equal((await state(agent)).ended, false, 'the session survived');

    // The rebuilt page carries none of it.
    const dom = await inRebuilt(agent, (doc) => {
      const all = Array.from(doc.querySelectorAll('*'));
      return {
        handlers: all.flatMap((el) => Array.from(el.attributes).filter((a) => /^on/i.test(a.name)).map((a) => `${el.localName}[${a.name}]`)),
        scriptUrls: all.flatMap((el) => Array.from(el.attributes).filter((a) => /^\s*(java|vb)\s*script:|^data:text\/html/i.test(a.value.replace(/[\u0000-\u0020]/g, ''))).map((a) => `${el.localName}[${a.name}]`)),
        scriptText: Array.from(doc.querySelectorAll('script')).map((s) => s.textContent).join(''),
        srcdoc: doc.querySelectorAll('[srcdoc]').length,
        refresh: doc.querySelectorAll('meta[http-equiv]').length,
        base: Array.from(doc.querySelectorAll('base')).map((b) => b.getAttribute('href')),
        frameSrc: Array.from(doc.querySelectorAll('iframe, object, embed')).map((el) => el.getAttribute('src') ?? el.getAttribute('data')),
      };
    });
    assert.deepEqual(dom.handlers, []);
    assert.deepEqual(dom.scriptUrls, []);
    assert.equal(dom.scriptText, '');
    assert.equal(dom.srcdoc, 0);
    assert.equal(dom.refresh, 0);
    assert.deepEqual(dom.base, [null]);
    assert.deepEqual(dom.frameSrc, [null, null, null, null]);
    // Meanwhile the customer's own page still works and kept its behaviour.
    assert.ok((await customer.page.evaluate(() => /** @type {any} */ (window).__hostileHits)).length >= 2);
    assert.equal(new URL(customer.page.url()).pathname, '/hostile');
  } finally {
    await cleanup(agent, customer);
  }
});
