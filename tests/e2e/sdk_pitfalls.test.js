// One test for each pitfall the customer SDK must avoid (issue 3), against the real server and
// the real workspace: what the customer's browser sends is captured through the DevTools
// protocol, and what the agent sees is read from the rebuilt page.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { launchBrowser, screenshot } from './harness.js';
import { captureSocket, expectMirrored, nodeIdOf, openAgent, openCustomer, startCobrowse, startSharing, startSite, waitFor } from './sdk_support.js';

/** @type {import('./sdk_support.js').Site} */
let site;
/** @type {import('./sdk_support.js').Cobrowse} */
let server;
/** @type {import('playwright-core').Browser} */
let browser;
/** @type {import('playwright-core').Page} */
let page;
/** @type {import('playwright-core').Page} */
let agentPage;
/** @type {Awaited<ReturnType<typeof captureSocket>>} */
let socket;

const MASK = { fields: ['#ssn'] };

before(async () => {
  site = await startSite();
  server = await startCobrowse({ COBROWSE_POLICY__SITE_ORIGINS: `["${site.origin}"]`, COBROWSE_POLICY__MASKING__FIELDS: '["#ssn"]' });
  site.setServer(server.base);
  browser = await launchBrowser();
  ({ page } = await openCustomer(browser, site.url('/forms.html')));
  socket = await captureSocket(page);
  const id = await startSharing(page);
  ({ page: agentPage } = await openAgent(browser, server.base, id));
});

after(async () => {
  await browser?.close();
  await server?.stop();
  server?.cleanup();
  await site?.close();
});

/**
 * A full page load inside the site; resolves when the new page's snapshot went out.
 * @param {string} path
 */
async function load(path) {
  const before = socket.sentFrames('snapshot').length;
  await page.goto(site.url(path));
  await waitFor(() => socket.sentFrames('snapshot').length > before, `the snapshot of ${path}`);
  return /** @type {any} */ (socket.sentFrames('snapshot').at(-1))[2];
}

/** @param {string} script */
function inRebuilt(script) {
  return agentPage.evaluate((source) => {
    const doc = /** @type {any} */ (window).cobrowseAgentTestHook.rebuiltDocument();
    return new Function('doc', source)(doc);
  }, script);
}

test('form values changed through the property (framework style, setter hooks bypassed) reach the agent, clears included', async () => {
  const snapshot = await load('/forms.html');
  await expectMirrored(page, agentPage, { mask: MASK, what: 'forms as loaded' });
  const ids = Object.fromEntries(['tracked', 'name', 'gift', 'size', 'notes'].map((id) => [id, nodeIdOf(snapshot.doc, id)]));
  const inputsBefore = socket.sentFrames('input').length;
  // No events at all: only the properties change, and `tracked` has an instance setter of its own.
  await page.evaluate(() => {
    const w = /** @type {any} */ (window);
    w.frameworkSet('set by the framework');
    /** @type {HTMLInputElement} */ (document.getElementById('name')).value = '';
    /** @type {HTMLInputElement} */ (document.getElementById('gift')).checked = true;
    /** @type {HTMLSelectElement} */ (document.getElementById('size')).selectedIndex = 2;
    /** @type {HTMLTextAreaElement} */ (document.getElementById('notes')).value = 'replaced';
  });
  await waitFor(() => {
    const sent = socket.sentFrames('input').slice(inputsBefore).map((f) => JSON.stringify(f[2]));
    return sent.includes(JSON.stringify({ id: ids.tracked, v: 'set by the framework' })) &&
      sent.includes(JSON.stringify({ id: ids.name, v: '' })) &&
      sent.includes(JSON.stringify({ id: ids.gift, ch: true })) &&
      sent.includes(JSON.stringify({ id: ids.size, sel: [2] })) &&
      sent.includes(JSON.stringify({ id: ids.notes, v: 'replaced' }));
  }, 'input frames with the live values');
  assert.equal(await page.evaluate(() => /** @type {any} */ (window).trackedValue()), 'set by the framework');
  await expectMirrored(page, agentPage, { mask: MASK, what: 'forms after property changes' });
  assert.equal(await inRebuilt(`return doc.getElementById('name').value`), '');
  assert.equal(await inRebuilt(`return doc.getElementById('tracked').value`), 'set by the framework');
});

test('the rendering mode is kept: quirks and limited-quirks pages render the same way for the agent', async () => {
  const quirks = await load('/quirks.html');
  assert.equal(quirks.mode, 'quirks');
  await expectMirrored(page, agentPage, { what: 'quirks page' });
  assert.equal(await inRebuilt('return doc.compatMode'), 'BackCompat');
  // A quirk that shows: tables do not inherit the body's font size.
  const customerCell = await page.evaluate(() => getComputedStyle(/** @type {Element} */ (document.querySelector('td'))).fontSize);
  assert.equal(customerCell, '16px');
  assert.equal(await inRebuilt(`return doc.defaultView.getComputedStyle(doc.querySelector('td')).fontSize`), customerCell);
  await screenshot(agentPage, 'sdk-pitfall-quirks-agent');

  const limited = await load('/limited.html');
  assert.equal(limited.mode, 'limited-quirks');
  await expectMirrored(page, agentPage, { what: 'limited-quirks page' });
  assert.equal(await inRebuilt('return doc.doctype && doc.doctype.publicId'), '-//W3C//DTD XHTML 1.0 Transitional//EN');
});

test('stylesheets go out as their original text while unmodified (var() in shorthands survives), as rule text once script changes them', async () => {
  const snapshot = await load('/cssom.html');
  const vars = JSON.stringify(snapshot.doc);
  assert.ok(vars.includes('border: 3px solid var(--edge)') && vars.includes('padding: var(--pad) calc(var(--pad) * 2)'), 'the source text is sent');
  assert.ok(!vars.includes('"css"'), 'no rule text while the sheets are unmodified');
  const look = `const s = doc.defaultView.getComputedStyle(doc.getElementById('box')); return [s.borderTopColor, s.borderTopWidth, s.paddingTop, s.paddingLeft].join(' ')`;
  await waitFor(async () => (await inRebuilt(look)) === 'rgb(200, 0, 0) 3px 7px 14px', 'the agent to render var() shorthands');
  assert.equal(await page.evaluate(() => {
    const s = getComputedStyle(/** @type {Element} */ (document.getElementById('box')));
    return [s.borderTopColor, s.borderTopWidth, s.paddingTop, s.paddingLeft].join(' ');
  }), 'rgb(200, 0, 0) 3px 7px 14px');

  const opsBefore = socket.sentFrames('mut').length;
  await page.evaluate(() => /** @type {any} */ (window).cssChanges.insert());
  await waitFor(() => socket.sentFrames('mut').slice(opsBefore).some((f) => f[2].ops.some((/** @type {any[]} */ op) => op[0] === 'css' && op[1] === nodeIdOf(snapshot.doc, 'dyn') && op[2].includes('.dyn-b'))), 'a css op with the rule text of the changed sheet');
  await expectMirrored(page, agentPage, { what: 'after insertRule' });
  assert.equal(await inRebuilt(look), 'rgb(200, 0, 0) 3px 7px 14px', 'the untouched sheet still renders from its source');
});

test('unusual element names, custom elements, SVG and MathML round-trip with their names and namespaces', async () => {
  const snapshot = await load('/exotic.html');
  const text = JSON.stringify(snapshot.doc);
  for (const piece of ['"n":"x-ÿ-name"', '"n":"a-b.c_d-e"', '"n":"linearGradient","ns":"http://www.w3.org/2000/svg"', '"n":"clipPath","ns":"http://www.w3.org/2000/svg"',
    '"n":"foreignObject","ns":"http://www.w3.org/2000/svg"', '"n":"mfrac","ns":"http://www.w3.org/1998/Math/MathML"', '"n":"annotation-xml","ns":"http://www.w3.org/1998/Math/MathML"',
    '"xlink:href":"#dot"', '"viewBox":"0 0 120 60"']) {
    assert.ok(text.includes(piece), `${piece} in the snapshot`);
  }
  await page.evaluate(() => /** @type {any} */ (window).exoticChanges.add());
  await expectMirrored(page, agentPage, { what: 'exotic names' });
  assert.deepEqual(await inRebuilt(`return [...doc.querySelectorAll('*')].filter((e) => /[ÿé.:]|[A-Z]/.test(e.localName)).map((e) => e.namespaceURI + ' ' + e.localName)`),
    await page.evaluate(() => [...document.querySelectorAll('*')].filter((e) => /[ÿé.:]|[A-Z]/.test(e.localName)).map((e) => `${e.namespaceURI} ${e.localName}`)));
  assert.equal(await inRebuilt(`return doc.querySelector('use').getAttributeNS('http://www.w3.org/1999/xlink', 'title')`), 'a dot');
  assert.equal(await inRebuilt(`return doc.getElementById('in-fo').namespaceURI`), 'http://www.w3.org/1999/xhtml');
});

test('every URL-bearing value goes out absolute: form action, srcset with commas, poster, SVG use, table background, CSS url()', async () => {
  const snapshot = await load('/urls.html');
  const origin = site.origin;
  const attr = (/** @type {string} */ id, /** @type {string} */ name) => {
    /** @type {any} */
    let found = null;
    const walk = (/** @type {any} */ n) => {
      if (n.a?.id === id) found = n;
      for (const c of n.c ?? []) walk(c);
    };
    walk(snapshot.doc);
    return found?.a?.[name];
  };
  assert.equal(attr('f', 'action'), `${origin}/submit/here?x=1`);
  assert.equal(attr('pic', 'src'), `${origin}/img/a.png`);
  assert.equal(attr('pic', 'srcset'), `${origin}/img/a,small.png 1x, ${origin}/img/a,large.png 2x, ${origin}/img/plain.png 3x`);
  assert.equal(attr('vid', 'poster'), `${origin}/img/poster.jpg`);
  assert.equal(attr('sprite', 'href'), `${origin}/sprites.svg#icon`);
  assert.equal(attr('local', 'href'), '#here', 'a same-document reference stays one');
  assert.equal(attr('tbl', 'background'), `${origin}/img/table-bg.png`);
  assert.equal(attr('styled', 'style'), `background: url("${origin}/img/inline.png") no-repeat`);
  assert.equal(attr('rel-link', 'href'), `${origin}/other/page.html?q=1#top`);
  assert.equal(attr('frag', 'href'), '#section');
  const css = JSON.stringify(snapshot.doc);
  assert.ok(css.includes(`url(\\"${origin}/img/hero.png\\")`) && css.includes(`url(\\"${origin}/fonts/x.woff2\\")`), 'url() in <style>');
  assert.ok(css.includes(`"href":"${origin}/site.css"`), 'stylesheet link');
  // Nothing in the agent's rebuilt page points at the Cobrowse server except its resource proxy.
  const urls = await inRebuilt(`return [...doc.querySelectorAll('[href],[src],[action],[poster],[background]')].flatMap((e) => ['href','src','action','poster','background'].map((n) => e.getAttribute(n)).filter(Boolean))`);
  for (const url of urls) assert.ok(!url.startsWith(server.base) || url.startsWith(`${server.base}/proxy?url=`), url);
});

test('focus, caret and selection, and hover from the real pointer, are sent', async () => {
  const snapshot = await load('/pointer.html');
  const fieldId = nodeIdOf(snapshot.doc, 'field');
  await page.click('#field');
  await page.evaluate(() => /** @type {HTMLInputElement} */ (document.getElementById('field')).setSelectionRange(2, 7));
  await waitFor(() => socket.sentFrames('focus').some((f) => f[2].id === fieldId && f[2].start === 2 && f[2].end === 7), 'the focus frame with the selection');
  await waitFor(async () => (await inRebuilt(`const f = doc.getElementById('field'); return f.selectionStart + ':' + f.selectionEnd`)) === '2:7', 'the selection in the agent\'s view');

  // Hover comes from the real pointer: the element under it rides along with the position.
  const tileA = nodeIdOf(snapshot.doc, 'tile-a');
  const innerB = nodeIdOf(snapshot.doc, 'inner-b');
  const clicksBefore = socket.sentFrames('click').length;
  const boxA = /** @type {{x: number, y: number}} */ (await page.locator('#tile-a').boundingBox());
  await page.mouse.move(boxA.x + 20, boxA.y + 20);
  await waitFor(() => socket.sentFrames('pointer').some((f) => f[2].id === tileA), 'a pointer frame naming the hovered tile');
  const boxB = /** @type {{x: number, y: number}} */ (await page.locator('#inner-b').boundingBox());
  await page.mouse.move(boxB.x + 3, boxB.y + 3);
  await waitFor(() => socket.sentFrames('pointer').at(-1)?.[2].id === innerB, 'the pointer frame naming the element now under the pointer');
  // Clicks are not what hover is guessed from: no click happened.
  assert.equal(socket.sentFrames('click').length, clicksBefore);
  await page.click('#field');
  await waitFor(() => socket.sentFrames('click').some((f) => f[2].id === fieldId), 'the customer\'s click, for the agent\'s view');
});

test('pointer moves are throttled, and the final position is always sent', async () => {
  await load('/pointer.html');
  await page.mouse.move(10, 10);
  await page.waitForTimeout(150);
  const before = socket.sentFrames('pointer').length;
  const started = Date.now();
  for (let i = 1; i <= 60; i++) {
    await page.mouse.move(10 + i * 5, 10 + i * 3);
  }
  const elapsed = Date.now() - started;
  await page.waitForTimeout(200);
  const frames = socket.sentFrames('pointer').slice(before);
  // At most one frame per 33 ms, plus the first and the last.
  assert.ok(frames.length <= Math.ceil(elapsed / 33) + 2, `${frames.length} pointer frames in ${elapsed} ms for 60 moves`);
  assert.ok(frames.length < 60, 'moves are not sent one by one');
  assert.deepEqual([frames.at(-1)?.[2].x, frames.at(-1)?.[2].y], [310, 190], 'the final position is sent');
});
