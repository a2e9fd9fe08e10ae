// Entry point of the Cobrowse SDK: `<script type="module" src="…/sdk/cobrowse.js" data-server="…">`.
// This is the one file with side effects: it reads its script tag, creates the client and puts
// it on `window.Cobrowse`. Everything else is in modules that do nothing when imported.

import { CobrowseClient } from './client.js';

/**
 * The `<script>` tag that loaded this module (module scripts have no `document.currentScript`).
 * @returns {HTMLScriptElement | null}
 */
function ownScriptTag() {
  const here = import.meta.url;
  for (const script of document.querySelectorAll('script[src]')) {
    if (/** @type {HTMLScriptElement} */ (script).src === here) return /** @type {HTMLScriptElement} */ (script);
  }
  return null;
}

/**
 * Reads a boolean data attribute: absent → fallback; "" / "true" → true; "false" → false.
 * @param {string | undefined} value
 * @param {boolean} fallback
 * @returns {boolean}
 */
function flag(value, fallback) {
  if (value === undefined) return fallback;
  return value !== 'false';
}

const tag = ownScriptTag();
const data = tag?.dataset ?? {};
// No data-server: the server that served this file. data-server="": the page's own origin.
const server = data.server !== undefined ? data.server : new URL('..', import.meta.url).href;
// data-canvas: "true" (an image a second) or an interval in ms.
const canvasMs = Number(data.canvas);
const client = new CobrowseClient({
  server,
  autoUi: flag(data.autoUi, true),
  ui: flag(data.ui, true),
  canvas: Number.isFinite(canvasMs) && canvasMs > 0 ? canvasMs : flag(data.canvas, false),
  tabs: flag(data.tabs, true),
  chat: flag(data.chat, false),
  voice: flag(data.voice, false),
  compressionWorker: flag(data.compressionWorker, true),
});

/** @type {any} */ (window).Cobrowse = client;

if (data.init !== 'manual') {
  void client.init().catch((err) => console.error('Cobrowse: could not initialize', err));
}
