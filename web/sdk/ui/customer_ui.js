// The customer's UI: Start button, session ID, notices, write-mode consent, toolbar, and the
// agent's pointer, click circles and highlight strokes. Everything lives in one host element
// with a shadow root, so the site's CSS cannot reach it; the recorder never serializes it.

import { formatSessionId } from '../protocol.js';

/**
 * @typedef {object} CustomerUiHandlers
 * @property {() => void} onStart
 * @property {() => void} onApprove
 * @property {() => void} onDeny
 * @property {() => void} onRevoke
 * @property {() => void} onExit
 */

const STYLE = `
:host { all: initial; }
* { box-sizing: border-box; font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
.layer { position: fixed; inset: 0; pointer-events: none; z-index: 2147483646; overflow: hidden; }
.panel { position: fixed; right: 16px; bottom: 16px; z-index: 2147483647; pointer-events: auto;
  background: #fff; color: #1b1f24; border: 1px solid #c9d1d9; border-radius: 10px;
  box-shadow: 0 6px 24px rgba(0,0,0,.18); padding: 12px 14px; min-width: 240px; max-width: 340px; font-size: 14px; }
.panel[hidden], [hidden] { display: none !important; }
button { font: inherit; border-radius: 6px; border: 1px solid #8c959f; background: #f6f8fa; color: #1b1f24;
  padding: 6px 12px; cursor: pointer; }
button.primary { background: #0b5fff; border-color: #0b5fff; color: #fff; }
button.danger { background: #fff; border-color: #cf222e; color: #cf222e; }
button:focus-visible { outline: 3px solid #0b5fff; outline-offset: 2px; }
.start { position: fixed; right: 16px; bottom: 16px; z-index: 2147483647; pointer-events: auto; box-shadow: 0 4px 14px rgba(0,0,0,.2); font-size: 14px; }
.label { font-size: 12px; color: #57606a; margin: 0 0 2px; }
.sid { font-size: 30px; font-weight: 700; letter-spacing: .08em; font-variant-numeric: tabular-nums; margin: 0 0 6px; user-select: all; }
.hint { margin: 0 0 8px; color: #57606a; font-size: 13px; }
.row { display: flex; gap: 8px; align-items: center; flex-wrap: wrap; }
.mode { font-weight: 600; }
.notice { margin: 8px 0 0; padding: 6px 8px; border-radius: 6px; background: #ddf4ff; font-size: 13px; }
.dialog { margin-top: 10px; padding: 10px; border: 2px solid #0b5fff; border-radius: 8px; }
.dialog p { margin: 0 0 8px; }
.observers { margin: 8px 0 0; padding: 6px 8px; border-radius: 6px; background: #fff8c5; font-size: 13px; }
.pointer { position: absolute; left: 0; top: 0; transform: translate(-100px, -100px); transition: transform 60ms linear; }
.pointer svg { display: block; }
.pointer span { position: absolute; left: 14px; top: 16px; background: #8250df; color: #fff; font-size: 12px;
  padding: 2px 6px; border-radius: 4px; white-space: nowrap; }
.click { position: absolute; width: 40px; height: 40px; margin: -20px 0 0 -20px; border: 3px solid #e5262f;
  border-radius: 50%; animation: cb-ping 900ms ease-out forwards; }
@keyframes cb-ping { from { transform: scale(.3); opacity: 1; } to { transform: scale(1.6); opacity: 0; } }
svg.strokes { position: absolute; inset: 0; width: 100%; height: 100%; }
svg.strokes polyline { fill: none; stroke: #ffb000; stroke-width: 6; stroke-linecap: round; stroke-linejoin: round;
  opacity: .85; transition: opacity 1.5s ease-in; }
`;

const SVG_NS = 'http://www.w3.org/2000/svg';

export class CustomerUi {
  /**
   * @param {Document} doc
   * @param {CustomerUiHandlers} handlers
   * @param {{widget?: boolean}} [options] `widget: false` hides the built-in controls (the site
   *   drives everything through the API); the agent's pointer and drawings are still shown.
   */
  constructor(doc, handlers, options = {}) {
    this.doc = doc;
    this.handlers = handlers;
    this.widget = options.widget !== false;
    this.host = doc.createElement('cobrowse-ui');
    this.host.setAttribute('data-cobrowse-ui', '');
    // The site's CSS reaches the host element itself (not what is inside its shadow root): its
    // own important inline style wins over the site's rules, hiding and shrinking included.
    this.host.setAttribute('style', 'all: initial !important; display: contents !important;');
    this.root = this.host.attachShadow({ mode: 'open' });
    const style = doc.createElement('style');
    style.textContent = STYLE;
    this.root.appendChild(style);

    this.layer = this.#el('div', 'layer');
    this.strokes = doc.createElementNS(SVG_NS, 'svg');
    this.strokes.setAttribute('class', 'strokes');
    this.layer.appendChild(this.strokes);
    this.pointer = this.#el('div', 'pointer');
    this.pointer.hidden = true;
    this.pointer.innerHTML = '<svg width="18" height="24" viewBox="0 0 18 24" aria-hidden="true"><path d="M1 1 L1 19 L6 14 L10 23 L13 21.5 L9 13 L16 13 Z" fill="#8250df" stroke="#fff" stroke-width="1.5"/></svg><span></span>';
    this.layer.appendChild(this.pointer);
    this.root.appendChild(this.layer);

    this.startButton = this.#el('button', 'start primary');
    this.startButton.textContent = 'Start co-browse';
    this.startButton.hidden = true;
    this.startButton.addEventListener('click', () => handlers.onStart());
    this.root.appendChild(this.startButton);

    this.panel = this.#el('div', 'panel');
    this.panel.setAttribute('role', 'region');
    this.panel.setAttribute('aria-label', 'Co-browse');
    this.panel.hidden = true;
    this.panel.innerHTML = `
      <p class="label">Your co-browse session ID</p>
      <p class="sid" data-part="id"></p>
      <p class="hint" data-part="hint">Read this number to your agent.</p>
      <div class="row" data-part="moderow"><span>Mode:</span> <span class="mode" data-part="mode">Pointer (agent can only point)</span></div>
      <p class="observers" data-part="observers" role="status" hidden></p>
      <div class="row" style="margin-top:8px">
        <button type="button" data-part="revoke" hidden>Take back control</button>
        <button type="button" class="danger" data-part="exit">Exit co-browse</button>
        <button type="button" data-part="close" hidden>Close</button>
      </div>
      <div class="dialog" data-part="dialog" role="alertdialog" aria-live="assertive" hidden>
        <p data-part="question"></p>
        <div class="row"><button type="button" class="primary" data-part="approve">Approve</button>
        <button type="button" data-part="deny">Deny</button></div>
      </div>
      <p class="notice" data-part="notice" role="status" aria-live="polite" hidden></p>`;
    this.root.appendChild(this.panel);
    this.#part('revoke').addEventListener('click', () => handlers.onRevoke());
    this.#part('exit').addEventListener('click', () => handlers.onExit());
    this.#part('approve').addEventListener('click', () => handlers.onApprove());
    this.#part('deny').addEventListener('click', () => handlers.onDeny());
    this.#part('close').addEventListener('click', () => this.reset());
    /** @type {unknown} */
    this.noticeTimer = null;
    /** Whether the Start button shows when no session runs. */
    this.autoStart = false;
  }

  /**
   * Puts the host on the page: under the root element, outside the body, so neither a transform
   * on the body (which would carry fixed positions along) nor a script replacing the body's
   * content affects it.
   */
  mount() {
    if (!this.host.isConnected) (this.doc.documentElement ?? this.doc.body)?.appendChild(this.host);
  }

  unmount() {
    this.host.remove();
  }

  /** @param {boolean} visible */
  showStart(visible) {
    this.autoStart = visible;
    this.startButton.hidden = !visible || !this.widget;
  }

  /** @param {boolean} busy */
  setStarting(busy) {
    this.startButton.disabled = busy;
    this.startButton.textContent = busy ? 'Starting…' : 'Start co-browse';
  }

  /** @param {string} id */
  showSession(id) {
    this.startButton.hidden = true;
    this.panel.hidden = !this.widget;
    this.panel.dataset.state = 'active';
    this.#part('id').textContent = formatSessionId(id);
    this.#part('id').setAttribute('aria-label', id.split('').join(' '));
    this.#part('hint').hidden = false;
    this.#part('hint').textContent = 'Read this number to your agent.';
    this.#part('moderow').hidden = false;
    this.#part('exit').hidden = false;
    this.#part('close').hidden = true;
    this.#part('notice').hidden = true;
  }

  /**
   * The session goes on in another tab of the site.
   * @param {string} id
   */
  showStandby(id) {
    this.showSession(id);
    this.panel.dataset.state = 'standby';
    this.hideConsent();
    this.pointer.hidden = true;
    this.#part('revoke').hidden = true;
    this.#part('moderow').hidden = true;
    this.#part('hint').textContent = 'Co-browsing continues in another tab of this site. Click on this page to share it instead.';
  }

  /**
   * Shows who is watching besides the agent (supervisors), or nothing.
   * @param {string[]} names
   */
  setObservers(names) {
    const el = this.#part('observers');
    el.hidden = names.length === 0;
    el.textContent = names.length === 0 ? '' : `A supervisor is watching this session: ${names.join(', ')}.`;
  }

  /** @param {boolean} agentPresent */
  setAgentPresent(agentPresent) {
    this.#part('hint').textContent = agentPresent ? 'An agent is viewing this page with you.' : 'Read this number to your agent.';
  }

  /** @param {'pointer' | 'write'} mode */
  setMode(mode) {
    this.#part('mode').textContent = mode === 'write' ? 'Write (agent can type and click)' : 'Pointer (agent can only point)';
    this.#part('revoke').hidden = mode !== 'write';
    if (mode === 'write') this.hideConsent();
  }

  /** @param {string} agentName */
  askConsent(agentName) {
    this.#part('question').textContent = `${agentName || 'The agent'} asks to type and click on this page for you. Allow it?`;
    this.#part('dialog').hidden = !this.widget;
    if (this.widget) /** @type {HTMLElement} */ (this.#part('approve')).focus();
  }

  hideConsent() {
    this.#part('dialog').hidden = true;
  }

  /**
   * Shows a short message; it fades after a while unless `sticky`.
   * @param {string} text
   * @param {{sticky?: boolean, timers?: {setTimeout: (fn: () => void, ms: number) => unknown, clearTimeout: (h: any) => void}}} [options]
   */
  notice(text, options = {}) {
    const el = this.#part('notice');
    el.textContent = text;
    el.hidden = !this.widget;
    const timers = options.timers;
    if (timers) {
      if (this.noticeTimer !== null) timers.clearTimeout(this.noticeTimer);
      this.noticeTimer = options.sticky ? null : timers.setTimeout(() => {
        el.hidden = true;
        this.noticeTimer = null;
      }, 8000);
    }
  }

  /** @param {string} text */
  showEnded(text) {
    this.hideConsent();
    this.pointer.hidden = true;
    this.panel.dataset.state = 'ended';
    this.#part('revoke').hidden = true;
    this.#part('exit').hidden = true;
    this.#part('hint').hidden = true;
    this.#part('moderow').hidden = true;
    this.#part('observers').hidden = true;
    this.#part('close').hidden = false;
    this.notice(text, { sticky: true });
  }

  /** Back to the start state after an ended session. */
  reset() {
    this.panel.hidden = true;
    this.#part('exit').hidden = false;
    this.#part('notice').hidden = true;
    this.startButton.hidden = !this.widget || !this.autoStart;
    this.setStarting(false);
  }

  /**
   * @param {number} x
   * @param {number} y
   * @param {string} name
   */
  drawPointer(x, y, name) {
    this.pointer.hidden = false;
    this.pointer.style.transform = `translate(${x}px, ${y}px)`;
    const label = /** @type {HTMLElement} */ (this.pointer.querySelector('span'));
    if (label.textContent !== name) label.textContent = name;
  }

  /**
   * @param {number} x
   * @param {number} y
   */
  drawClick(x, y) {
    const circle = this.#el('div', 'click');
    circle.style.left = `${x}px`;
    circle.style.top = `${y}px`;
    this.layer.appendChild(circle);
    circle.addEventListener('animationend', () => circle.remove());
    this.doc.defaultView?.setTimeout(() => circle.remove(), 1500);
  }

  /** @param {Array<[number, number]>} points */
  drawHighlight(points) {
    const line = this.doc.createElementNS(SVG_NS, 'polyline');
    line.setAttribute('points', points.map(([x, y]) => `${x},${y}`).join(' '));
    this.strokes.appendChild(line);
    const view = this.doc.defaultView;
    view?.setTimeout(() => line.setAttribute('style', 'opacity:0'), 1500);
    view?.setTimeout(() => line.remove(), 3200);
  }

  /**
   * @param {string} tag
   * @param {string} className
   * @returns {HTMLElement & HTMLButtonElement}
   */
  #el(tag, className) {
    const el = /** @type {HTMLElement & HTMLButtonElement} */ (this.doc.createElement(tag));
    el.className = className;
    if (tag === 'button') el.type = 'button';
    return el;
  }

  /**
   * @param {string} name
   * @returns {HTMLElement}
   */
  #part(name) {
    return /** @type {HTMLElement} */ (this.panel.querySelector(`[data-part="${name}"]`));
  }
}
