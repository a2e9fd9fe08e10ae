// The pitfalls existing viewers fall into, one test each, against the real server and Chromium:
// frozen animations, missing focus rings / carets / hover, bookkeeping attributes that change
// rendering, and the wrong rendering mode or character set. Also: the customer's stylesheets,
// images and fonts load through the server's resource proxy, never from the agent's browser.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { screenshot } from './harness.js';
import {
  startEnv, page, sdkTag, openCustomer, openAgent, join, inRebuilt, untilRebuilt, until, pointOf, cleanup, state,
} from './agent_support.js';

/** @typedef {import('./agent_support.js').Env} Env */

/** Shift_JIS bytes of 日本語こんにちは. */
const SJIS_TEXT = Buffer.from([0x93, 0xfa, 0x96, 0x7b, 0x8c, 0xea, 0x82, 0xb1, 0x82, 0xf1, 0x82, 0xc9, 0x82, 0xbf, 0x82, 0xcd]);

/** @type {Env} */
let env;

before(async () => {
  env = await startEnv({
    '/anim': (site) => ({
      body: page(site, {
        head: `<style>
          @keyframes spin { to { transform: rotate(360deg); } }
          #spinner { width: 40px; height: 40px; background: #c33; animation: spin 2s linear infinite; }
          #slider { width: 40px; height: 40px; background: #33c; transition: transform 4s linear; }
          #slider.moved { transform: translateX(300px); }
        </style>`,
        body: '<div id="spinner"></div><div id="slider"></div>',
      }),
    }),
    '/states': (site) => ({
      body: page(site, {
        head: '<link rel="stylesheet" href="/css/states.css">',
        body: `<p><input id="field" value="hello world" style="font: 16px monospace; width: 300px"></p>
          <p><button class="btn" id="btn" type="button">Hover me</button></p>
          <div class="menu" id="menu">Menu<div class="item" id="item">Hidden item</div></div>
          <p><a id="link" href="#somewhere">A link</a></p>`,
      }),
    }),
    '/css/states.css': () => ({
      type: 'text/css',
      body: `input:focus { outline: 3px solid rgb(255, 0, 0); }
        .btn { background: rgb(200, 200, 200); }
        .btn:hover { background: rgb(0, 128, 0); }
        .menu .item { display: none; }
        .menu:hover .item { display: block; }
        a:focus-visible { outline: 4px solid rgb(0, 0, 255); }
        @media (min-width: 10px) { .btn:hover { color: rgb(255, 255, 0); } }`,
    }),
    '/form': (site) => ({
      body: page(site, {
        body: `<div id="area">
          <select id="s"><option>a</option><option selected>b</option><option>c</option></select>
          <select id="m" multiple><option>x</option><option>y</option></select>
          <input type="checkbox" id="c"><input type="radio" name="r" id="r1"><input type="radio" name="r" id="r2" checked>
          <input id="t" value="initial"><textarea id="ta">default</textarea>
        </div>`,
      }),
    }),
    '/quirks': (site) => ({
      body: `<html><head><meta charset="utf-8"><title>Quirks</title>${sdkTag(site)}</head><body style="margin:0"><div id="half" style="height:50%;background:#eee">half</div></body></html>`,
    }),
    '/standards': (site) => ({
      body: page(site, { body: '<div id="half" style="height:50%;background:#eee">half</div>' }),
    }),
    '/sjis': (site) => ({
      type: 'text/html; charset=Shift_JIS',
      body: Buffer.concat([
        Buffer.from(`<!DOCTYPE html><html lang="ja"><head><meta charset="Shift_JIS"><title>`, 'latin1'),
        SJIS_TEXT,
        Buffer.from(`</title>${sdkTag(site)}</head><body><p id="greeting">`, 'latin1'),
        SJIS_TEXT,
        Buffer.from('</p></body></html>', 'latin1'),
      ]),
    }),
    '/styled': (site) => ({
      body: page(site, {
        head: `<link rel="stylesheet" href="/css/site.css"><style>.inline-bg { background-image: url("/img/dot.svg"); }</style>`,
        body: `<h1 id="heading">Styled</h1>
          <p id="fonted" style="font-family: 'Fixture Sans', monospace">Fixture font</p>
          <img id="logo" src="/img/logo.svg" width="60" height="30">
          <img id="set" srcset="/img/logo.svg 1x, /img/logo.svg 2x" width="60" height="30">
          <div id="attr-bg" style="width: 20px; height: 20px; background-image: url('/img/dot.svg')"></div>
          <div class="inline-bg" style="width: 20px; height: 20px"></div>`,
      }),
    }),
    '/css/site.css': () => ({
      type: 'text/css',
      body: `@font-face { font-family: "Fixture Sans"; src: url("/fonts/fixture.ttf") format("truetype"); }
        h1 { color: rgb(1, 2, 3); background: url(/img/dot.svg) no-repeat; }`,
    }),
    '/fonts/fixture.ttf': () => ({ type: 'font/ttf', body: readFileSync('/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf') }),
    '/img/logo.svg': () => ({ type: 'image/svg+xml', body: '<svg xmlns="http://www.w3.org/2000/svg" width="60" height="30"><rect width="60" height="30" fill="#36c"/></svg>' }),
    '/img/dot.svg': () => ({ type: 'image/svg+xml', body: '<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4"><circle cx="2" cy="2" r="2" fill="#c00"/></svg>' }),
  });
});

after(async () => {
  await env.close();
});

test('CSS animations and transitions run in the agent view (nothing freezes the page)', async () => {
  const customer = await openCustomer(env, '/anim');
  const agent = await openAgent(env);
  try {
    await join(agent, customer.id);
    const spinner = () => inRebuilt(agent, (doc) => {
      const el = /** @type {HTMLElement} */ (doc.querySelector('#spinner'));
      const animations = el.getAnimations();
      return { states: animations.map((a) => a.playState), transform: /** @type {Window} */ (doc.defaultView).getComputedStyle(el).transform };
    });
    const first = await spinner();
    assert.deepEqual(first.states, ['running']);
    await new Promise((resolve) => setTimeout(resolve, 250));
    const second = await spinner();
    assert.notEqual(second.transform, first.transform, 'the rotation moves on');

    // A transition started by the customer's page runs in the view too.
    await customer.page.evaluate(() => document.getElementById('slider')?.classList.add('moved'));
    const slider = () => inRebuilt(agent, (doc) => {
      const el = /** @type {HTMLElement} */ (doc.querySelector('#slider'));
      return { states: el.getAnimations().map((a) => `${a.constructor.name}:${a.playState}`), transform: /** @type {Window} */ (doc.defaultView).getComputedStyle(el).transform };
    });
    const a = await until(async () => {
      const s = await slider();
      return s.states.includes('CSSTransition:running') ? s : null;
    }, 'a running transition');
    await new Promise((resolve) => setTimeout(resolve, 250));
    const b = await slider();
    assert.notEqual(b.transform, a.transform, 'the transition moves on');
    assert.equal(await inRebuilt(agent, (doc) => doc.querySelectorAll('style').length), 1, 'no style added by the viewer');
  } finally {
    await cleanup(agent, customer);
  }
});

test("the customer's focus ring, caret and hover show as the customer has them", async () => {
  const customer = await openCustomer(env, '/states');
  const agent = await openAgent(env);
  try {
    await join(agent, customer.id);
    // Focus and caret: the page's own :focus style, and a caret after "he".
    await customer.page.evaluate(() => {
      const field = /** @type {HTMLInputElement} */ (document.getElementById('field'));
      field.focus();
      field.setSelectionRange(2, 2);
    });
    await untilRebuilt(agent, (doc) => {
      const field = /** @type {HTMLElement} */ (doc.querySelector('#field'));
      return /** @type {Window} */ (doc.defaultView).getComputedStyle(field).outlineColor === 'rgb(255, 0, 0)';
    }, "the page's :focus outline on the customer's field");
    assert.equal(await inRebuilt(agent, (doc) => doc.activeElement === doc.querySelector('#field')), false, "the agent's focus is not taken");
    const caret = agent.page.getByTestId('customer-caret');
    await until(() => caret.isVisible(), 'the caret');
    const caretX = async () => {
      const box = await caret.boundingBox();
      const field = await pointOf(agent, '#field', { dx: 0, dy: 0 });
      return box ? box.x - field.x : -1;
    };
    const charWidth = await inRebuilt(agent, (doc) => {
      const ctx = /** @type {CanvasRenderingContext2D} */ (doc.createElement('canvas').getContext('2d'));
      ctx.font = '16px monospace';
      return ctx.measureText('x').width;
    });
    await until(async () => Math.abs((await caretX()) - (2 + 1 + 2 * charWidth)) < 3, 'the caret after two characters');
    await customer.page.evaluate(() => /** @type {HTMLInputElement} */ (document.getElementById('field')).setSelectionRange(8, 8));
    await until(async () => Math.abs((await caretX()) - (2 + 1 + 8 * charWidth)) < 3, 'the caret after eight characters');
    await screenshot(agent.page, 'customer-focus-caret');

    // Keyboard focus on a link shows the page's :focus-visible ring.
    await customer.page.focus('#link');
    await customer.page.keyboard.press('Shift+Tab');
    await customer.page.keyboard.press('Tab');
    await untilRebuilt(agent, (doc) => {
      const link = /** @type {HTMLElement} */ (doc.querySelector('#link'));
      return /** @type {Window} */ (doc.defaultView).getComputedStyle(link).outlineColor === 'rgb(0, 0, 255)';
    }, 'the :focus-visible ring on the link');
    await until(async () => !(await caret.isVisible()), 'no caret outside a text field');

    // Hover: where the customer's pointer is, the page's :hover rules apply in the view.
    const btn = await customer.page.locator('#btn').boundingBox();
    assert.ok(btn);
    await customer.page.mouse.move(btn.x + 5, btn.y + 5);
    await customer.page.mouse.move(btn.x + btn.width / 2, btn.y + btn.height / 2, { steps: 3 });
    const background = () => inRebuilt(agent, (doc) => /** @type {Window} */ (doc.defaultView).getComputedStyle(/** @type {Element} */ (doc.querySelector('#btn'))).backgroundColor);
    await until(async () => (await background()) === 'rgb(0, 128, 0)', 'the hover background');
    assert.equal(await inRebuilt(agent, (doc) => /** @type {Window} */ (doc.defaultView).getComputedStyle(/** @type {Element} */ (doc.querySelector('#btn'))).color), 'rgb(255, 255, 0)', 'hover rules inside @media too');
    await screenshot(agent.page, 'customer-hover');
    const menu = await customer.page.locator('#menu').boundingBox();
    assert.ok(menu);
    await customer.page.mouse.move(menu.x + 10, menu.y + 5, { steps: 3 });
    await untilRebuilt(agent, (doc) => /** @type {Window} */ (doc.defaultView).getComputedStyle(/** @type {Element} */ (doc.querySelector('#item'))).display === 'block', 'the hover menu open');
    assert.equal(await background(), 'rgb(200, 200, 200)', 'the button no longer hovered');
    // The agent's own pointer does not hover anything in pointer mode.
    await customer.page.mouse.move(600, 600, { steps: 2 });
    await untilRebuilt(agent, (doc) => /** @type {Window} */ (doc.defaultView).getComputedStyle(/** @type {Element} */ (doc.querySelector('#item'))).display === 'none', 'the menu closed');
    const mine = await pointOf(agent, '#btn');
    await agent.page.mouse.move(mine.x, mine.y, { steps: 3 });
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal(await background(), 'rgb(200, 200, 200)', "the agent's pointer is not the customer's hover");
    // None of it touched the mirrored elements.
    const attrs = await inRebuilt(agent, (doc) => ['#field', '#btn', '#menu', '#item', '#link'].map((sel) => Array.from(/** @type {Element} */ (doc.querySelector(sel)).attributes).map((a) => a.name).join(',')));
    assert.deepEqual(attrs, ['id,value,style', 'class,id,type', 'class,id', 'class,id', 'id,href']);
  } finally {
    await cleanup(agent, customer);
  }
});

test('bookkeeping adds no attributes: selects, checkboxes, radios and fields match the customer DOM', async () => {
  const customer = await openCustomer(env, '/form');
  const agent = await openAgent(env);
  try {
    await join(agent, customer.id);
    await customer.page.selectOption('#s', 'c');
    await customer.page.selectOption('#m', ['x', 'y']);
    await customer.page.check('#c');
    await customer.page.check('#r1');
    await customer.page.fill('#t', 'typed');
    await customer.page.fill('#ta', 'edited');
    await untilRebuilt(agent, (doc) => /** @type {HTMLTextAreaElement} */ (doc.querySelector('#ta')).value === 'edited', 'the last change');
    const live = await inRebuilt(agent, (doc) => ({
      s: /** @type {HTMLSelectElement} */ (doc.querySelector('#s')).selectedIndex,
      m: Array.from(/** @type {HTMLSelectElement} */ (doc.querySelector('#m')).selectedOptions).map((o) => o.text),
      c: /** @type {HTMLInputElement} */ (doc.querySelector('#c')).checked,
      r1: /** @type {HTMLInputElement} */ (doc.querySelector('#r1')).checked,
      r2: /** @type {HTMLInputElement} */ (doc.querySelector('#r2')).checked,
      t: /** @type {HTMLInputElement} */ (doc.querySelector('#t')).value,
    }));
    assert.deepEqual(live, { s: 2, m: ['x', 'y'], c: true, r1: true, r2: false, t: 'typed' });
    // The markup is the customer's, attribute for attribute.
    const customerHtml = await customer.page.evaluate(() => document.getElementById('area')?.outerHTML);
    const agentHtml = await inRebuilt(agent, (doc) => doc.getElementById('area')?.outerHTML);
    assert.equal(agentHtml, customerHtml);
    assert.equal(await inRebuilt(agent, (doc) => doc.querySelector('#s')?.hasAttribute('value')), false);
    assert.equal(await inRebuilt(agent, (doc) => doc.querySelector('#c')?.getAttribute('value')), null, 'no value="on"');
  } finally {
    await cleanup(agent, customer);
  }
});

test("the view uses the customer's rendering mode (quirks, standards) and character set", async () => {
  const agent = await openAgent(env);
  /** @type {import('./agent_support.js').Customer | null} */
  let customer = null;
  try {
    customer = await openCustomer(env, '/quirks');
    await join(agent, customer.id);
    assert.equal(await inRebuilt(agent, (doc) => doc.compatMode), 'BackCompat');
    // In quirks mode a percentage height resolves against the viewport: the same box as the customer's.
    const customerHalf = await customer.page.evaluate(() => document.getElementById('half')?.getBoundingClientRect().height);
    assert.equal(await inRebuilt(agent, (doc) => doc.getElementById('half')?.getBoundingClientRect().height), customerHalf);
    assert.ok((customerHalf ?? 0) > 100);

    // The customer goes to a standards page within the session: the view switches mode.
    await customer.page.goto(`${env.site.origin}/standards`);
    await untilRebuilt(agent, (doc) => doc.compatMode === 'CSS1Compat' && doc.getElementById('half'), 'the standards page');
    const standardsHalf = await customer.page.evaluate(() => document.getElementById('half')?.getBoundingClientRect().height);
    assert.equal(await inRebuilt(agent, (doc) => doc.getElementById('half')?.getBoundingClientRect().height), standardsHalf);

    await customer.page.goto(`${env.site.origin}/sjis`);
    await untilRebuilt(agent, (doc) => doc.characterSet === 'Shift_JIS' && doc.getElementById('greeting'), 'the Shift_JIS page');
    assert.equal(await inRebuilt(agent, (doc) => doc.getElementById('greeting')?.textContent), '日本語こんにちは');
    assert.equal(await customer.page.evaluate(() => document.characterSet), 'Shift_JIS');
    await screenshot(agent.page, 'shift-jis');
  } finally {
    await cleanup(agent, customer);
  }
});

test("the customer's stylesheets, images and fonts load through the resource proxy", async () => {
  const customer = await openCustomer(env, '/styled');
  const agent = await openAgent(env);
  /** @type {string[]} */
  const direct = [];
  agent.context.on('request', (request) => {
    if (request.url().startsWith(env.site.origin)) direct.push(request.url());
  });
  try {
    await join(agent, customer.id);
    assert.equal((await state(agent)).proxied, true, 'the workspace found the proxy');
    const proxy = `${env.server.base}/proxy?url=`;
    const urls = await inRebuilt(agent, (doc) => ({
      link: doc.querySelector('link')?.getAttribute('href'),
      logo: doc.querySelector('#logo')?.getAttribute('src'),
      set: doc.querySelector('#set')?.getAttribute('srcset'),
      attr: doc.querySelector('#attr-bg')?.getAttribute('style'),
      style: doc.querySelector('style')?.textContent,
    }));
    assert.equal(urls.link, proxy + encodeURIComponent(`${env.site.origin}/css/site.css`));
    assert.equal(urls.logo, proxy + encodeURIComponent(`${env.site.origin}/img/logo.svg`));
    assert.match(urls.set ?? '', new RegExp(`^${escape(proxy)}.+ 1x, ${escape(proxy)}.+ 2x$`));
    assert.ok(urls.attr?.includes(proxy + encodeURIComponent(`${env.site.origin}/img/dot.svg`)), String(urls.attr));
    assert.ok(urls.style?.includes(proxy + encodeURIComponent(`${env.site.origin}/img/dot.svg`)), String(urls.style));
    // They render: the image has its size, the stylesheet applies, the font loads.
    await untilRebuilt(agent, (doc) => /** @type {HTMLImageElement} */ (doc.querySelector('#logo')).naturalWidth === 60, 'the proxied image');
    await untilRebuilt(agent, (doc) => /** @type {Window} */ (doc.defaultView).getComputedStyle(/** @type {Element} */ (doc.querySelector('#heading'))).color === 'rgb(1, 2, 3)', 'the proxied stylesheet');
    await untilRebuilt(agent, async (doc) => {
      await doc.fonts.load('16px "Fixture Sans"');
      return Array.from(doc.fonts).some((f) => f.family.replace(/"/g, '') === 'Fixture Sans' && f.status === 'loaded');
    }, 'the proxied web font');
    await screenshot(agent.page, 'proxied-resources');
    assert.deepEqual(direct, [], "the agent's browser never contacted the customer's site");
    const fromServer = env.site.requests.filter((r) => r.path === '/fonts/fixture.ttf');
    assert.ok(fromServer.length >= 1, 'the server fetched the font');
  } finally {
    await cleanup(agent, customer);
  }
});

/**
 * @param {string} text
 * @returns {string}
 */
function escape(text) {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
