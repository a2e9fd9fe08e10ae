// The chat widget, inside the SDK's shadow-root UI (ui/customer_ui.js): a "Chat with us"
// launcher; a form for the customer's name and an optional first message; the conversation
// (waiting in line or with whom, the messages, an input); and a menu with "Start co-browse"
// (once an agent has answered) and "End chat". It draws what the chat session says and calls
// it; it holds no chat state of its own.

import { CHAT_END_TEXT, startMarkerSession } from './chat_protocol.js';

/** @typedef {import('./chat_session.js').ChatSession} ChatSession */
/** @typedef {import('./chat_protocol.js').ChatMessage} ChatMessage */
/** @typedef {import('../ui/customer_ui.js').CustomerUi} CustomerUi */

/**
 * @typedef {object} ChatUiActions
 * @property {() => Promise<unknown>} startCobrowse The menu's "Start co-browse".
 * @property {() => boolean} cobrowseOn Whether a co-browse session runs now.
 * @property {Storage | null} [storage] Remembers whether the panel was open, for the next page.
 */

/** Where the widget remembers, in this tab, that its panel was open. */
const OPEN_KEY = 'cobrowse.chat.open';

const STYLE = `
.chat { width: 320px; max-width: calc(100vw - 32px); display: flex; flex-direction: column; padding: 0; overflow: hidden;
  max-height: min(520px, calc(100vh - 120px)); }
.chat header { display: flex; align-items: center; gap: 6px; padding: 10px 12px; background: #0b5fff; color: #fff; }
.chat header h2 { flex: 1; margin: 0; font-size: 15px; font-weight: 600; }
.chat header button { background: transparent; border: 0; color: #fff; padding: 2px 8px; font-size: 18px; line-height: 1; }
.chat .menu { position: relative; }
.chat .menu-list { display: flex; flex-direction: column; gap: 4px; padding: 8px 12px; border-bottom: 1px solid #d0d7de; background: #f6f8fa; }
.chat .menu-list button { text-align: left; }
.chat .menu-list button:disabled { color: #8c959f; cursor: default; }
.chat form, .chat .conversation { display: flex; flex-direction: column; gap: 6px; padding: 10px 12px; min-height: 0; }
.chat .conversation { flex: 1; }
.chat label { font-size: 13px; color: #57606a; }
.chat input, .chat textarea { font: inherit; font-size: 14px; border: 1px solid #8c959f; border-radius: 6px; padding: 6px 8px; width: 100%; resize: none; }
.chat .status { margin: 0; font-size: 13px; color: #57606a; }
.chat .status strong { color: #1b1f24; }
.chat .log { flex: 1; overflow-y: auto; min-height: 120px; max-height: 300px; display: flex; flex-direction: column; gap: 6px; padding: 4px 0; }
.chat .msg { max-width: 85%; padding: 6px 9px; border-radius: 10px; font-size: 14px; white-space: pre-wrap; overflow-wrap: anywhere; }
.chat .msg .who { display: block; font-size: 11px; color: #57606a; margin-bottom: 2px; }
.chat .msg.agent { align-self: flex-start; background: #f0f3f6; }
.chat .msg.customer { align-self: flex-end; background: #ddf4ff; }
.chat .msg.pending { opacity: .6; }
.chat .msg.system { align-self: center; background: transparent; color: #57606a; font-size: 12px; font-style: italic; padding: 2px; }
.chat .compose { display: flex; gap: 6px; align-items: flex-end; }
.chat .compose textarea { flex: 1; }
.chat .error { margin: 0; color: #cf222e; font-size: 13px; }
.launcher { box-shadow: 0 4px 14px rgba(0,0,0,.2); font-size: 14px; }
.launcher .badge { display: inline-block; min-width: 18px; margin-left: 6px; padding: 0 5px; border-radius: 9px; background: #fff; color: #0b5fff; font-size: 12px; font-weight: 700; }
`;

export class ChatUi {
  /**
   * @param {Document} doc
   * @param {CustomerUi} ui The SDK's UI; the widget lives in its shadow root.
   * @param {ChatSession} session
   * @param {ChatUiActions} actions
   */
  constructor(doc, ui, session, actions) {
    this.doc = doc;
    this.ui = ui;
    this.session = session;
    this.actions = actions;
    /** Whether the panel is open (else only the launcher shows); kept across page loads. */
    this.isOpen = readFlag(actions.storage ?? null, OPEN_KEY) && session.chat !== null;
    this.menuOpen = false;
    /** Messages arrived while the panel was closed. */
    this.unread = 0;
    /** Message elements by server ID, and the unconfirmed ones by `cid`. */
    /** @type {Map<number, HTMLElement>} */
    this.shown = new Map();
    /** @type {Map<string, HTMLElement>} */
    this.shownPending = new Map();
    /** @type {string | null} */
    this.chatId = null;

    const style = doc.createElement('style');
    style.textContent = STYLE;
    ui.root.appendChild(style);

    this.launcher = /** @type {HTMLButtonElement} */ (doc.createElement('button'));
    this.launcher.type = 'button';
    this.launcher.className = 'launcher primary';
    this.launcher.setAttribute('data-chat', 'launcher');
    this.launcher.addEventListener('click', () => (this.isOpen ? this.close() : this.open()));
    ui.launchers.appendChild(this.launcher);

    this.panel = doc.createElement('section');
    this.panel.className = 'card chat';
    this.panel.setAttribute('aria-label', 'Chat');
    this.panel.hidden = true;
    this.panel.innerHTML = `
      <header>
        <h2 data-chat="title">Chat with us</h2>
        <button type="button" data-chat="menu-button" aria-haspopup="true" aria-expanded="false" aria-label="Chat menu" hidden>⋯</button>
        <button type="button" data-chat="minimize" aria-label="Minimize the chat">–</button>
      </header>
      <div class="menu-list" data-chat="menu" hidden>
        <button type="button" data-chat="cobrowse">Start co-browse</button>
        <button type="button" data-chat="end">End chat</button>
      </div>
      <form data-chat="form" novalidate>
        <label for="cobrowse-chat-name">Your name</label>
        <input id="cobrowse-chat-name" data-chat="name" autocomplete="name" maxlength="80" required>
        <label for="cobrowse-chat-first">How can we help? (optional)</label>
        <textarea id="cobrowse-chat-first" data-chat="first" rows="3" maxlength="2000"></textarea>
        <p class="error" data-chat="form-error" role="alert" hidden></p>
        <button type="submit" class="primary" data-chat="start">Start chat</button>
      </form>
      <div class="conversation" data-chat="conversation" hidden>
        <p class="status" data-chat="status" role="status" aria-live="polite"></p>
        <div class="log" data-chat="log" role="log" aria-live="polite" aria-label="Messages"></div>
        <p class="error" data-chat="error" role="alert" hidden></p>
        <div class="compose" data-chat="compose">
          <textarea data-chat="input" rows="2" maxlength="2000" aria-label="Your message" placeholder="Type a message"></textarea>
          <button type="button" class="primary" data-chat="send">Send</button>
        </div>
        <div class="row" data-chat="after" hidden>
          <button type="button" class="primary" data-chat="new">Start a new chat</button>
          <button type="button" data-chat="here" hidden>Continue here</button>
        </div>
      </div>`;
    ui.chatSlot.appendChild(this.panel);

    this.#part('minimize').addEventListener('click', () => this.close());
    this.#part('menu-button').addEventListener('click', () => {
      this.menuOpen = !this.menuOpen;
      this.render();
    });
    this.#part('form').addEventListener('submit', (event) => {
      event.preventDefault();
      void this.#startChat();
    });
    this.#part('send').addEventListener('click', () => this.#send());
    this.#part('input').addEventListener('keydown', (event) => {
      const key = /** @type {KeyboardEvent} */ (event);
      if (key.key === 'Enter' && !key.shiftKey && !key.isComposing) {
        key.preventDefault();
        this.#send();
      }
    });
    this.#part('cobrowse').addEventListener('click', () => {
      this.menuOpen = false;
      this.render();
      this.actions.startCobrowse().catch(() => this.#error('Co-browse could not start. Please try again.'));
    });
    this.#part('end').addEventListener('click', () => {
      this.menuOpen = false;
      void this.session.end();
      this.render();
    });
    this.#part('new').addEventListener('click', () => {
      this.session.reset();
      this.#clearLog();
      this.render();
      /** @type {HTMLElement} */ (this.#part('name')).focus();
    });
    this.#part('here').addEventListener('click', () => this.session.continueHere());
  }

  /** Opens the panel. */
  open() {
    this.isOpen = true;
    writeFlag(this.actions.storage ?? null, OPEN_KEY, true);
    this.unread = 0;
    this.render();
    const focus = this.session.state === 'idle' ? this.#part('name') : this.#part('input');
    /** @type {HTMLElement} */ (focus).focus();
  }

  /** Closes the panel down to its launcher; the chat goes on. */
  close() {
    this.isOpen = false;
    writeFlag(this.actions.storage ?? null, OPEN_KEY, false);
    this.menuOpen = false;
    this.render();
  }

  /** Draws the session's state. */
  render() {
    const s = this.session;
    const chat = s.chat;
    const fresh = chat !== null && chat.id !== this.chatId;
    if (fresh) {
      this.#clearLog();
      this.chatId = chat.id;
    }
    const started = s.state !== 'idle' && s.state !== 'starting';
    this.#syncLog(!fresh);

    this.launcher.hidden = this.isOpen;
    const badge = this.unread > 0 ? `<span class="badge">${this.unread}</span>` : '';
    this.launcher.innerHTML = started && s.state !== 'ended' ? `Chat${badge}` : 'Chat with us';
    this.launcher.setAttribute('aria-label', this.unread > 0 ? `Chat, ${this.unread} new` : 'Chat with us');
    this.panel.hidden = !this.isOpen;

    this.#part('title').textContent = s.state === 'active' && chat?.agent ? chat.agent : 'Chat with us';
    this.#part('form').hidden = started;
    /** @type {HTMLButtonElement} */ (this.#part('start')).disabled = s.state === 'starting';
    this.#part('start').textContent = s.state === 'starting' ? 'Starting…' : 'Start chat';
    this.#part('conversation').hidden = !started;
    this.#part('menu-button').hidden = !s.open;
    this.#part('menu-button').setAttribute('aria-expanded', String(this.menuOpen && s.open));
    this.#part('menu').hidden = !(this.menuOpen && s.open);

    const cobrowse = /** @type {HTMLButtonElement} */ (this.#part('cobrowse'));
    const on = this.actions.cobrowseOn();
    cobrowse.disabled = s.state !== 'active' || on;
    cobrowse.textContent = on ? 'Co-browsing is on' : 'Start co-browse';
    cobrowse.title = s.state === 'active' ? '' : 'Available once an agent has answered';

    this.#part('status').innerHTML = '';
    this.#part('status').append(...this.#status());
    const ended = s.state === 'ended';
    this.#part('compose').hidden = ended || s.elsewhere;
    this.#part('after').hidden = !ended && !s.elsewhere;
    this.#part('new').hidden = !ended;
    this.#part('here').hidden = !s.elsewhere;
  }

  /** @returns {Array<string | Node>} */
  #status() {
    const s = this.session;
    const strong = (/** @type {string} */ text) => {
      const el = this.doc.createElement('strong');
      el.textContent = text;
      return el;
    };
    if (s.elsewhere) return ['This chat continues in another tab of this site.'];
    if (s.state === 'ended') return [CHAT_END_TEXT[s.reason ?? ''] ?? 'The chat has ended.'];
    const away = s.connectionState === 'reconnecting' ? ' Reconnecting…' : '';
    if (s.state === 'active') return ['You are chatting with ', strong(s.chat?.agent ?? 'an agent'), `.${away}`];
    if (s.state === 'queued') {
      const where = s.position ? [', you are number ', strong(String(s.position)), ' in line'] : [];
      return ['Waiting for an agent', ...where, `.${away}`];
    }
    return [];
  }

  async #startChat() {
    const name = /** @type {HTMLInputElement} */ (this.#part('name')).value.trim();
    const first = /** @type {HTMLTextAreaElement} */ (this.#part('first')).value.trim();
    const error = this.#part('form-error');
    if (!name) {
      error.textContent = 'Please tell us your name.';
      error.hidden = false;
      /** @type {HTMLElement} */ (this.#part('name')).focus();
      return;
    }
    error.hidden = true;
    try {
      await this.session.start(first ? { name, message: first } : { name }, { widget: true });
      /** @type {HTMLTextAreaElement} */ (this.#part('first')).value = '';
      this.render();
      /** @type {HTMLElement} */ (this.#part('input')).focus();
    } catch {
      error.textContent = 'The chat could not start. Please try again.';
      error.hidden = false;
      this.render();
    }
  }

  #send() {
    const input = /** @type {HTMLTextAreaElement} */ (this.#part('input'));
    const text = input.value.trim();
    if (!text) return;
    input.value = '';
    this.#part('error').hidden = true;
    this.session.say(text).catch((/** @type {any} */ err) => {
      if (err?.code === 'limit_exceeded') this.#error('That message is too long to send.');
      else if (err?.code !== 'chat_ended') this.#error('That message could not be sent.');
    });
  }

  /** @param {string} text */
  #error(text) {
    const el = this.#part('error');
    el.textContent = text;
    el.hidden = false;
  }

  #clearLog() {
    this.#part('log').textContent = '';
    this.shown.clear();
    this.shownPending.clear();
    this.unread = 0;
    this.chatId = null;
  }

  /**
   * Adds messages not shown yet, and keeps the unconfirmed ones last.
   * @param {boolean} countUnread New messages (not the transcript a page load brings back).
   */
  #syncLog(countUnread) {
    const log = this.#part('log');
    const nearBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 40;
    const firstPending = () => this.shownPending.values().next().value ?? null;
    let added = false;
    for (const message of this.session.messages) {
      if (this.shown.has(message.id)) continue;
      if (message.cid) {
        this.shownPending.get(message.cid)?.remove();
        this.shownPending.delete(message.cid);
      }
      const el = this.#messageElement(message);
      log.insertBefore(el, firstPending());
      this.shown.set(message.id, el);
      if (countUnread && !this.isOpen && message.from !== 'customer') this.unread++;
      added = true;
    }
    const pendingNow = new Set(this.session.pending.map((p) => p.cid));
    for (const [cid, el] of this.shownPending) {
      if (!pendingNow.has(cid)) {
        el.remove();
        this.shownPending.delete(cid);
      }
    }
    for (const pending of this.session.pending) {
      if (this.shownPending.has(pending.cid)) continue;
      const el = this.#bubble('customer pending', 'You · sending…', pending.text);
      log.appendChild(el);
      this.shownPending.set(pending.cid, el);
      added = true;
    }
    if (added && (nearBottom || this.isOpen)) log.scrollTop = log.scrollHeight;
  }

  /**
   * @param {ChatMessage} message
   * @returns {HTMLElement}
   */
  #messageElement(message) {
    if (message.from === 'system') {
      const session = startMarkerSession(message.text);
      return this.#bubble('system', '', session ? 'Co-browsing started.' : message.text);
    }
    const who = message.from === 'customer' ? 'You' : message.name || 'Agent';
    return this.#bubble(message.from, who, message.text);
  }

  /**
   * @param {string} kind
   * @param {string} who
   * @param {string} text
   * @returns {HTMLElement}
   */
  #bubble(kind, who, text) {
    const el = this.doc.createElement('div');
    el.className = `msg ${kind}`;
    if (who) {
      const name = this.doc.createElement('span');
      name.className = 'who';
      name.textContent = who;
      el.appendChild(name);
    }
    el.appendChild(this.doc.createTextNode(text));
    return el;
  }

  /**
   * @param {string} name
   * @returns {HTMLElement}
   */
  #part(name) {
    return /** @type {HTMLElement} */ (this.panel.querySelector(`[data-chat="${name}"]`));
  }
}

/**
 * @param {Storage | null} storage
 * @param {string} key
 * @returns {boolean}
 */
function readFlag(storage, key) {
  try {
    return storage?.getItem(key) === '1';
  } catch {
    return false;
  }
}

/**
 * @param {Storage | null} storage
 * @param {string} key
 * @param {boolean} on
 */
function writeFlag(storage, key, on) {
  try {
    if (on) storage?.setItem(key, '1');
    else storage?.removeItem(key);
  } catch {
    // storage disabled
  }
}
