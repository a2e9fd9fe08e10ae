// The customer's UI: Start button, session ID, notices, write-mode consent, toolbar, the prompt
// to start a chat or call first, and the agent's pointer, click circles and highlight strokes.
// Everything lives in one host element with a shadow root, so the site's CSS cannot reach it;
// the recorder never serializes it. The chat widget (chat/chat_ui.js) mounts into the same dock.

import { formatSessionId } from '../protocol.js';

/**
 * @typedef {object} CustomerUiHandlers
 * @property {() => void} onStart
 * @property {() => void} onApprove
 * @property {() => void} onDeny
 * @property {() => void} onRevoke
 * @property {() => void} onExit
 * @property {() => void} [onPromptChat] The prompt's "Chat with us".
 * @property {() => void} [onPromptCall] The prompt's "I'm on a call".
 * @property {() => void} [onVoice] The "browse with you" link.
 */

/**
 * What a session rides on, for what the panel says: `chat` (the agent opened it from the chat;
 * nothing to read out), `voice` (read the digits on the phone), or nothing (standalone).
 * @typedef {'chat' | 'voice' | undefined} SessionVia
 */

const STYLE = `
:host { all: initial; }
* { box-sizing: border-box; font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
.layer { position: fixed; inset: 0; pointer-events: none; z-index: 2147483646; overflow: hidden; }
.dock { position: fixed; right: 16px; bottom: 16px; z-index: 2147483647; pointer-events: none;
  display: flex; flex-direction: column; align-items: flex-end; gap: 8px; max-height: calc(100vh - 32px); }
.dock > * { pointer-events: auto; }
.launchers { display: flex; gap: 8px; align-items: center; justify-content: flex-end; pointer-events: none; }
.launchers > * { pointer-events: auto; }
.panel, .card { background: #fff; color: #1b1f24; border: 1px solid #c9d1d9; border-radius: 10px;
  box-shadow: 0 6px 24px rgba(0,0,0,.18); padding: 12px 14px; min-width: 240px; max-width: 340px; font-size: 14px; }
.panel[hidden], [hidden] { display: none !important; }
button { font: inherit; border-radius: 6px; border: 1px solid #8c959f; background: #f6f8fa; color: #1b1f24;
  padding: 6px 12px; cursor: pointer; }
button.primary { background: #0b5fff; border-color: #0b5fff; color: #fff; }
button.danger { background: #fff; border-color: #cf222e; color: #cf222e; }
button:focus-visible { outline: 3px solid #0b5fff; outline-offset: 2px; }
.start { box-shadow: 0 4px 14px rgba(0,0,0,.2); font-size: 14px; }
.on { font-weight: 600; margin: 0 0 4px; color: #1a7f37; }
.panel[data-via="voice"] { max-width: 420px; }
.panel[data-via="voice"] .sid { font-size: 40px; white-space: nowrap; }
.prompt p { margin: 0 0 10px; font-weight: 600; }
button.link { background: #fff; border: 1px solid #c9d1d9; border-radius: 999px; color: #0b5fff; font-size: 13px;
  padding: 5px 10px; box-shadow: 0 2px 8px rgba(0,0,0,.12); text-decoration: underline; }
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

    // The dock, bottom right: the session panel, the prompt, the chat, and the launchers.
    this.dock = this.#el('div', 'dock');
    this.root.appendChild(this.dock);

    this.startButton = this.#el('button', 'start primary');
    this.startButton.textContent = 'Start co-browse';
    this.startButton.hidden = true;
    this.startButton.addEventListener('click', () => handlers.onStart());
    // "Browse with you": for a customer on the phone with an agent (shown when the site asks).
    this.voiceLink = this.#el('button', 'link');
    this.voiceLink.textContent = 'On a call? Browse with you';
    this.voiceLink.hidden = true;
    this.voiceLink.addEventListener('click', () => handlers.onVoice?.());
    this.launchers = this.#el('div', 'launchers');
    this.launchers.appendChild(this.voiceLink);
    this.launchers.appendChild(this.startButton);

    this.prompt = this.#el('div', 'card prompt');
    this.prompt.setAttribute('role', 'dialog');
    this.prompt.setAttribute('aria-label', 'Co-browse');
    this.prompt.hidden = true;
    this.prompt.innerHTML = `
      <p data-part="prompt-text">Co-browsing works alongside a chat or a call with us</p>
      <div class="row">
        <button type="button" class="primary" data-part="prompt-chat">Chat with us</button>
        <button type="button" data-part="prompt-call">I'm on a call</button>
        <button type="button" data-part="prompt-cancel">Cancel</button>
      </div>`;
    this.#in(this.prompt, 'prompt-chat').addEventListener('click', () => {
      this.hidePrompt();
      handlers.onPromptChat?.();
    });
    this.#in(this.prompt, 'prompt-call').addEventListener('click', () => {
      this.hidePrompt();
      handlers.onPromptCall?.();
    });
    this.#in(this.prompt, 'prompt-cancel').addEventListener('click', () => this.hidePrompt());

    this.panel = this.#el('div', 'panel');
    this.panel.setAttribute('role', 'region');
    this.panel.setAttribute('aria-label', 'Co-browse');
    this.panel.hidden = true;
    this.panel.innerHTML = `
      <p class="on" data-part="on" hidden>Co-browsing is on</p>
      <p class="label" data-part="label">Your co-browse session ID</p>
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
    this.dock.appendChild(this.panel);
    this.dock.appendChild(this.prompt);
    /** Where the chat widget puts its panel (between the prompt and the launchers). */
    this.chatSlot = this.#el('div', 'slot');
    this.chatSlot.setAttribute('style', 'display: contents');
    this.dock.appendChild(this.chatSlot);
    this.dock.appendChild(this.launchers);
    /** @type {SessionVia} */
    this.via = undefined;
    this.#part('revoke').addEventListener('click', () => handlers.onRevoke());
    this.#part('exit').addEventListener('click', () => handlers.onExit());
    this.#part('approve').addEventListener('click', () => handlers.onApprove());
    this.#part('deny').addEventListener('click', () => handlers.onDeny());
    this.#part('close').addEventListener('click', () => this.reset());
    /** @type {unknown} */
    this.noticeTimer = null;
    /** Whether the Start button shows when no session runs. */
    this.autoStart = false;
    /** Whether the "browse with you" link shows when no session runs. */
    this.voiceVisible = false;
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

  /** @param {boolean} visible */
  showVoiceLink(visible) {
    this.voiceVisible = visible;
    this.voiceLink.hidden = !visible || !this.widget || !this.panel.hidden;
  }

  /** @param {boolean} busy */
  setStarting(busy) {
    this.startButton.disabled = busy;
    this.startButton.textContent = busy ? 'Starting…' : 'Start co-browse';
  }

  /**
   * @param {string} id
   * @param {SessionVia} [via]
   */
  showSession(id, via) {
    this.via = via;
    this.hidePrompt();
    this.startButton.hidden = true;
    this.voiceLink.hidden = true;
    this.panel.hidden = !this.widget;
    this.panel.dataset.state = 'active';
    if (via) this.panel.dataset.via = via;
    else delete this.panel.dataset.via;
    // From a chat the agent's workspace opens the session by itself: nothing to read out.
    const readOut = via !== 'chat';
    this.#part('on').hidden = readOut;
    this.#part('label').hidden = !readOut;
    this.#part('id').hidden = !readOut;
    this.#part('label').textContent = via === 'voice' ? 'Read these digits to the agent on the phone' : 'Your co-browse session ID';
    this.#part('id').textContent = formatSessionId(id);
    this.#part('id').setAttribute('aria-label', id.split('').join(' '));
    this.#part('hint').hidden = false;
    this.#part('hint').textContent = this.#waitingHint();
    this.#part('moderow').hidden = false;
    this.#part('exit').hidden = false;
    this.#part('close').hidden = true;
    this.#part('notice').hidden = true;
  }

  /**
   * The session goes on in another tab of the site.
   * @param {string} id
   * @param {SessionVia} [via]
   */
  showStandby(id, via) {
    this.showSession(id, via);
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
    this.#part('hint').textContent = agentPresent ? 'An agent is viewing this page with you.' : this.#waitingHint();
  }

  /** What the panel says while no agent is there yet. */
  #waitingHint() {
    if (this.via === 'chat') return 'Your agent will see this page in a moment.';
    if (this.via === 'voice') return 'Once the agent types them, they see this page with you.';
    return 'Read this number to your agent.';
  }

  /**
   * Asks the customer to start a chat or call first: co-browse rides on one.
   * @param {string} [text]
   */
  showPrompt(text = 'Co-browsing works alongside a chat or a call with us') {
    if (!this.widget) return;
    this.#in(this.prompt, 'prompt-text').textContent = text;
    this.prompt.hidden = false;
    /** @type {HTMLElement} */ (this.#in(this.prompt, 'prompt-chat')).focus();
  }

  hidePrompt() {
    this.prompt.hidden = true;
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
    this.#part('on').hidden = true;
    this.#part('close').hidden = false;
    this.notice(text, { sticky: true });
  }

  /** Back to the start state after an ended session. */
  reset() {
    this.panel.hidden = true;
    this.#part('exit').hidden = false;
    this.#part('notice').hidden = true;
    this.startButton.hidden = !this.widget || !this.autoStart;
    this.voiceLink.hidden = !this.widget || !this.voiceVisible;
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
    return this.#in(this.panel, name);
  }

  /**
   * @param {HTMLElement} container
   * @param {string} name
   * @returns {HTMLElement}
   */
  #in(container, name) {
    return /** @type {HTMLElement} */ (container.querySelector(`[data-part="${name}"]`));
  }
}
