// The desk's DOM: the availability switch, calls, the waiting queue, and a tab per chat with its
// transcript, input and End chat. It draws what `DeskState` holds and reports what the agent
// does through callbacks; it keeps every element it made, so a redraw never replaces the input
// the agent is typing into or the button that has focus.

import { formatSessionId } from '../sdk/protocol.js';
import { waitingFor, chatEndedText } from './desk_state.js';

/** @typedef {import('./desk_state.js').DeskState} DeskState */
/** @typedef {import('./desk_state.js').TranscriptItem} TranscriptItem */
/** @typedef {import('./desk_protocol.js').ChatSummary} ChatSummary */
/** @typedef {import('./desk_protocol.js').CallSummary} CallSummary */
/** @typedef {import('./desk_socket.js').DeskStatus} DeskStatus */

/**
 * What the agent does at the desk.
 * @typedef {object} DeskActions
 * @property {(available: boolean) => void} available
 * @property {(chat: string) => void} accept
 * @property {(chat: string, text: string) => boolean} send returns whether the text was taken
 * @property {(chat: string) => void} endChat
 * @property {(chat: string) => void} dismiss closes an ended chat's panel
 * @property {(chat: string) => void} selected the agent looked at a chat
 * @property {(session: string) => void} openSession a co-browse link was followed
 * @property {() => void} simulateCall
 * @property {(call: string) => void} endCall
 */

/**
 * @typedef {object} PanelParts
 * @property {HTMLButtonElement} tab
 * @property {HTMLElement} panel
 * @property {HTMLElement} title
 * @property {HTMLElement} status
 * @property {HTMLButtonElement} end
 * @property {HTMLButtonElement} close
 * @property {HTMLOListElement} transcript
 * @property {HTMLTextAreaElement} input
 * @property {HTMLButtonElement} sendButton
 * @property {Map<string, {node: HTMLLIElement, sig: string}>} items
 */

/**
 * @param {Document} doc
 * @param {string} id
 * @returns {HTMLElement}
 */
function byId(doc, id) {
  const el = doc.getElementById(id);
  if (!el) throw new Error(`the workspace page lacks #${id}`);
  return el;
}

/**
 * A string safe inside an element ID.
 * @param {string} text
 * @returns {string}
 */
function idPart(text) {
  return text.replace(/[^A-Za-z0-9_-]/g, '_');
}

export class DeskView {
  /**
   * @param {Document} doc
   * @param {DeskActions} actions
   */
  constructor(doc, actions) {
    this.doc = doc;
    this.actions = actions;
    this.el = {
      root: byId(doc, 'desk'),
      available: /** @type {HTMLInputElement} */ (byId(doc, 'desk-available')),
      status: byId(doc, 'desk-status'),
      error: byId(doc, 'desk-error'),
      callList: /** @type {HTMLUListElement} */ (byId(doc, 'call-list')),
      noCalls: byId(doc, 'no-calls'),
      demoCalls: byId(doc, 'demo-calls'),
      simulateCall: /** @type {HTMLButtonElement} */ (byId(doc, 'simulate-call')),
      callError: byId(doc, 'call-error'),
      queueCount: byId(doc, 'queue-count'),
      queueOff: byId(doc, 'queue-off'),
      queueEmpty: byId(doc, 'queue-empty'),
      queueList: /** @type {HTMLUListElement} */ (byId(doc, 'queue-list')),
      tabs: byId(doc, 'chat-tabs'),
      panels: byId(doc, 'chat-panels'),
      noChats: byId(doc, 'no-chats'),
      announcer: byId(doc, 'desk-announcer'),
    };
    /** @type {Map<string, PanelParts>} */
    this.panels = new Map();
    /** @type {Map<string, HTMLLIElement>} */
    this.queueItems = new Map();
    /** @type {Map<string, HTMLLIElement>} */
    this.callItems = new Map();
    /** @type {string | null} the chat whose panel shows */
    this.selected = null;
    // Listeners on the page's own elements, removed when this view is done with.
    this.onAvailable = () => this.actions.available(this.el.available.checked);
    this.onSimulate = () => this.actions.simulateCall();
    this.el.available.addEventListener('change', this.onAvailable);
    this.el.simulateCall.addEventListener('click', this.onSimulate);
  }

  /** Empties everything and lets go of the page (signed out; a new desk takes over). */
  destroy() {
    this.el.available.removeEventListener('change', this.onAvailable);
    this.el.simulateCall.removeEventListener('click', this.onSimulate);
    this.reset();
    this.el.available.checked = false;
    this.el.available.disabled = true;
    this.showStatus('closed');
  }

  /** Empties everything. */
  reset() {
    for (const parts of this.panels.values()) {
      parts.tab.remove();
      parts.panel.remove();
    }
    this.panels.clear();
    this.queueItems.clear();
    this.callItems.clear();
    this.el.queueList.replaceChildren();
    this.el.callList.replaceChildren();
    this.el.announcer.textContent = '';
    this.el.error.textContent = '';
    this.el.callError.textContent = '';
    this.selected = null;
  }

  /**
   * @param {DeskStatus} status
   */
  showStatus(status) {
    const labels = { connecting: 'Connecting…', open: 'Connected', reconnecting: 'Reconnecting…', closed: 'Offline' };
    this.el.status.textContent = labels[status];
    this.el.status.dataset.status = status;
  }

  /** @param {string} text */
  showError(text) {
    this.el.error.textContent = text;
  }

  /** @param {string} text */
  showCallError(text) {
    this.el.callError.textContent = text;
  }

  /**
   * Says something to screen readers, politely (the live region is visually hidden).
   * @param {string} text
   */
  announce(text) {
    const line = this.doc.createElement('p');
    line.textContent = text;
    this.el.announcer.appendChild(line);
    while (this.el.announcer.childElementCount > 6) this.el.announcer.firstElementChild?.remove();
  }

  /**
   * Draws everything from the state.
   * @param {DeskState} state
   * @param {{open: boolean, demo: boolean, now: number, accepting: string | null, callBusy: boolean, cobrowsing: string | null}} ctx
   */
  render(state, ctx) {
    this.el.available.checked = state.available;
    this.el.available.disabled = !ctx.open;
    this.renderCalls(state, ctx);
    this.renderQueue(state, ctx);
    this.renderChats(state, ctx);
  }

  /**
   * @param {DeskState} state
   * @param {{demo: boolean, callBusy: boolean}} ctx
   */
  renderCalls(state, ctx) {
    const doc = this.doc;
    const seen = new Set();
    for (const call of state.calls.values()) {
      seen.add(call.call);
      let item = this.callItems.get(call.call);
      if (!item) {
        item = doc.createElement('li');
        item.className = 'cb-call';
        item.dataset.testid = 'call';
        item.dataset.call = call.call;
        const caller = doc.createElement('span');
        caller.className = 'cb-call-caller';
        const badge = doc.createElement('span');
        badge.className = 'cb-badge';
        badge.dataset.testid = 'call-cobrowsing';
        const end = doc.createElement('button');
        end.type = 'button';
        end.className = 'cb-danger';
        end.dataset.testid = 'end-call';
        end.textContent = 'End call';
        end.addEventListener('click', () => this.actions.endCall(call.call));
        item.append(caller, badge, end);
        this.callItems.set(call.call, item);
        this.el.callList.appendChild(item);
      }
      const [caller, badge, end] = /** @type {[HTMLElement, HTMLElement, HTMLButtonElement]} */ (/** @type {unknown} */ (Array.from(item.children)));
      caller.textContent = `On a call with ${call.caller || 'an unknown caller'}`;
      badge.hidden = !call.cobrowse;
      badge.textContent = call.cobrowse ? `co-browsing ${formatSessionId(call.cobrowse)}` : '';
      end.hidden = !ctx.demo; // real calls end at the phone system
      end.disabled = ctx.callBusy;
      end.setAttribute('aria-label', `End the call with ${call.caller || 'the caller'}`);
    }
    for (const [id, item] of this.callItems) {
      if (!seen.has(id)) {
        item.remove();
        this.callItems.delete(id);
      }
    }
    this.el.noCalls.hidden = state.calls.size > 0;
    this.el.demoCalls.hidden = !ctx.demo;
    this.el.simulateCall.disabled = ctx.callBusy || state.calls.size > 0;
  }

  /**
   * @param {DeskState} state
   * @param {{open: boolean, now: number, accepting: string | null}} ctx
   */
  renderQueue(state, ctx) {
    const doc = this.doc;
    this.el.queueOff.hidden = state.available;
    this.el.queueList.hidden = !state.available;
    this.el.queueEmpty.hidden = !state.available || state.queue.length > 0;
    this.el.queueCount.textContent = state.available && state.queue.length ? `(${state.queue.length})` : '';
    const seen = new Set();
    /** @type {HTMLLIElement | null} */
    let previous = null;
    for (const waiting of state.available ? state.queue : []) {
      seen.add(waiting.chat);
      let item = this.queueItems.get(waiting.chat);
      if (!item) {
        item = doc.createElement('li');
        item.className = 'cb-queue-item';
        item.dataset.testid = 'queue-item';
        item.dataset.chat = waiting.chat;
        const head = doc.createElement('div');
        head.className = 'cb-queue-head';
        const name = doc.createElement('strong');
        name.className = 'cb-queue-name';
        const waited = doc.createElement('span');
        waited.className = 'cb-muted';
        waited.dataset.testid = 'queue-waiting';
        head.append(name, waited);
        const preview = doc.createElement('p');
        preview.className = 'cb-queue-preview';
        preview.dataset.testid = 'queue-preview';
        const accept = doc.createElement('button');
        accept.type = 'button';
        accept.dataset.testid = 'accept-chat';
        accept.textContent = 'Accept';
        const chatId = waiting.chat;
        accept.addEventListener('click', () => this.actions.accept(chatId));
        item.append(head, preview, accept);
        this.queueItems.set(waiting.chat, item);
      }
      const [head, preview, accept] = /** @type {[HTMLElement, HTMLElement, HTMLButtonElement]} */ (/** @type {unknown} */ (Array.from(item.children)));
      const [name, waited] = /** @type {[HTMLElement, HTMLElement]} */ (/** @type {unknown} */ (Array.from(head.children)));
      name.textContent = waiting.customer;
      waited.textContent = `waiting ${waitingFor(waiting.since, ctx.now)}`;
      preview.textContent = waiting.preview || '(no message yet)';
      accept.disabled = !ctx.open || ctx.accepting !== null;
      accept.setAttribute('aria-label', `Accept the chat with ${waiting.customer}`);
      // Oldest first, moving only what is out of place (a moved node loses focus).
      /** @type {Element | null} */
      const expected = previous ? previous.nextElementSibling : this.el.queueList.firstElementChild;
      if (expected !== item) this.el.queueList.insertBefore(item, expected);
      previous = item;
    }
    for (const [id, item] of this.queueItems) {
      if (!seen.has(id)) {
        item.remove();
        this.queueItems.delete(id);
      }
    }
  }

  /**
   * @param {DeskState} state
   * @param {{open: boolean, cobrowsing: string | null}} ctx
   */
  renderChats(state, ctx) {
    for (const [id, chat] of state.chats) {
      const parts = this.panels.get(id) ?? this.createPanel(id, chat.summary);
      const ended = chat.summary.state === 'ended';
      const name = chat.summary.customer;
      parts.title.textContent = name;
      parts.status.textContent = ended ? chatEndedText(chat.endReason) : chat.summary.cobrowse ? `Co-browsing ${formatSessionId(chat.summary.cobrowse)}` : 'Active';
      parts.status.dataset.state = chat.summary.state;
      parts.end.hidden = ended;
      parts.end.disabled = !ctx.open;
      parts.close.hidden = !ended;
      parts.input.disabled = ended;
      parts.sendButton.disabled = ended;
      parts.panel.dataset.state = chat.summary.state;
      const unread = id === this.selected ? 0 : chat.unread;
      parts.tab.textContent = '';
      const label = this.doc.createElement('span');
      label.textContent = name;
      parts.tab.appendChild(label);
      if (ended) {
        const tag = this.doc.createElement('span');
        tag.className = 'cb-tab-note';
        tag.textContent = 'ended';
        parts.tab.appendChild(tag);
      }
      if (unread > 0) {
        const badge = this.doc.createElement('span');
        badge.className = 'cb-unread';
        badge.dataset.testid = 'chat-unread';
        badge.textContent = String(unread);
        parts.tab.appendChild(badge);
      }
      parts.tab.setAttribute('aria-label', `${name}${ended ? ', ended' : ''}${unread > 0 ? `, ${unread} unread` : ''}`);
      this.renderTranscript(parts, state.transcript(id), ctx.cobrowsing);
    }
    for (const [id, parts] of this.panels) {
      if (!state.chats.has(id)) {
        parts.tab.remove();
        parts.panel.remove();
        this.panels.delete(id);
        if (this.selected === id) this.selected = null;
      }
    }
    if ((this.selected === null || !this.panels.has(this.selected)) && this.panels.size > 0) {
      this.select(/** @type {string} */ (this.panels.keys().next().value), false);
    }
    this.el.noChats.hidden = this.panels.size > 0;
    this.el.tabs.hidden = this.panels.size === 0;
  }

  /**
   * Shows a chat's panel. Focus moves only when the agent asked (keyboard on the tabs, or a
   * chat they just accepted).
   * @param {string} chatId
   * @param {boolean} focusTab
   */
  select(chatId, focusTab) {
    if (!this.panels.has(chatId)) return;
    this.selected = chatId;
    for (const [id, parts] of this.panels) {
      const on = id === chatId;
      parts.tab.setAttribute('aria-selected', String(on));
      parts.tab.tabIndex = on ? 0 : -1;
      parts.panel.hidden = !on;
    }
    if (focusTab) this.panels.get(chatId)?.tab.focus();
    this.actions.selected(chatId);
  }

  /**
   * Puts the cursor in a chat's message field.
   * @param {string} chatId
   */
  focusInput(chatId) {
    this.panels.get(chatId)?.input.focus();
  }

  /**
   * Whether focus is somewhere the agent would not miss it (nowhere, or on `el`).
   * @param {Element | null} [el]
   * @returns {boolean}
   */
  focusIsFree(el = null) {
    const active = this.doc.activeElement;
    return !active || active === this.doc.body || active === el || !this.doc.contains(active);
  }

  /**
   * @param {string} id
   * @param {ChatSummary} summary
   * @returns {PanelParts}
   */
  createPanel(id, summary) {
    const doc = this.doc;
    const key = idPart(id);
    const tab = doc.createElement('button');
    tab.type = 'button';
    tab.id = `chat-tab-${key}`;
    tab.className = 'cb-tab';
    tab.setAttribute('role', 'tab');
    tab.setAttribute('aria-controls', `chat-panel-${key}`);
    tab.setAttribute('aria-selected', 'false');
    tab.tabIndex = -1;
    tab.dataset.testid = 'chat-tab';
    tab.dataset.chat = id;
    tab.addEventListener('click', () => this.select(id, false));
    tab.addEventListener('keydown', (ev) => this.tabKey(ev, id));

    const panel = doc.createElement('section');
    panel.id = `chat-panel-${key}`;
    panel.className = 'cb-chat';
    panel.setAttribute('role', 'tabpanel');
    panel.setAttribute('aria-labelledby', tab.id);
    panel.dataset.testid = 'chat-panel';
    panel.dataset.chat = id;
    panel.hidden = true;

    const head = doc.createElement('div');
    head.className = 'cb-chat-head';
    const title = doc.createElement('h4');
    title.className = 'cb-chat-title';
    const status = doc.createElement('span');
    status.className = 'cb-chat-state';
    status.dataset.testid = 'chat-state';
    const end = doc.createElement('button');
    end.type = 'button';
    end.className = 'cb-danger';
    end.dataset.testid = 'end-chat';
    end.textContent = 'End chat';
    end.setAttribute('aria-label', `End the chat with ${summary.customer}`);
    end.addEventListener('click', () => this.actions.endChat(id));
    const close = doc.createElement('button');
    close.type = 'button';
    close.dataset.testid = 'close-chat';
    close.textContent = 'Close';
    close.setAttribute('aria-label', `Close the chat with ${summary.customer}`);
    close.addEventListener('click', () => this.actions.dismiss(id));
    head.append(title, status, end, close);

    const transcript = doc.createElement('ol');
    transcript.className = 'cb-transcript';
    transcript.dataset.testid = 'transcript';
    transcript.setAttribute('aria-label', `Conversation with ${summary.customer}`);
    transcript.tabIndex = 0; // scrollable by keyboard

    const form = doc.createElement('form');
    form.className = 'cb-chat-form';
    form.noValidate = true;
    const label = doc.createElement('label');
    label.htmlFor = `chat-input-${key}`;
    label.className = 'cb-visually-hidden';
    label.textContent = `Message to ${summary.customer}`;
    const input = doc.createElement('textarea');
    input.id = `chat-input-${key}`;
    input.rows = 2;
    input.dataset.testid = 'chat-input';
    input.placeholder = 'Message (Enter sends)';
    input.title = 'Enter sends; Shift+Enter starts a new line';
    const sendButton = doc.createElement('button');
    sendButton.type = 'submit';
    sendButton.dataset.testid = 'chat-send';
    sendButton.textContent = 'Send';
    form.append(label, input, sendButton);
    const submit = () => {
      if (this.actions.send(id, input.value)) input.value = '';
    };
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      submit();
    });
    input.addEventListener('keydown', (ev) => {
      if (ev.key !== 'Enter' || ev.shiftKey || ev.isComposing) return;
      ev.preventDefault();
      submit();
    });
    transcript.addEventListener('click', (ev) => {
      const target = /** @type {Element | null} */ (ev.target);
      const link = target?.closest?.('a[data-session]');
      if (!link) return;
      ev.preventDefault();
      this.actions.openSession(/** @type {string} */ (link.getAttribute('data-session')));
    });

    panel.append(head, transcript, form);
    this.el.tabs.appendChild(tab);
    this.el.panels.appendChild(panel);
    /** @type {PanelParts} */
    const parts = { tab, panel, title, status, end, close, transcript, input, sendButton, items: new Map() };
    this.panels.set(id, parts);
    return parts;
  }

  /**
   * Arrow keys, Home and End move between chat tabs (the tab list's usual keyboard).
   * @param {KeyboardEvent} ev
   * @param {string} id
   */
  tabKey(ev, id) {
    const ids = Array.from(this.panels.keys());
    const at = ids.indexOf(id);
    let next = -1;
    if (ev.key === 'ArrowRight' || ev.key === 'ArrowDown') next = (at + 1) % ids.length;
    else if (ev.key === 'ArrowLeft' || ev.key === 'ArrowUp') next = (at - 1 + ids.length) % ids.length;
    else if (ev.key === 'Home') next = 0;
    else if (ev.key === 'End') next = ids.length - 1;
    if (next < 0) return;
    ev.preventDefault();
    this.select(ids[next], true);
  }

  /**
   * Brings the transcript's list in line with the items, reusing every node already there.
   * @param {PanelParts} parts
   * @param {TranscriptItem[]} items
   * @param {string | null} cobrowsing the session open in the workspace
   */
  renderTranscript(parts, items, cobrowsing) {
    const list = parts.transcript;
    const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 24;
    const keep = new Set(items.map((i) => i.key));
    for (const [key, entry] of parts.items) {
      if (!keep.has(key)) {
        entry.node.remove();
        parts.items.delete(key);
      }
    }
    let changed = false;
    /** @type {HTMLLIElement | null} */
    let previous = null;
    for (const item of items) {
      const sig = `${item.status}|${item.text}|${item.error ?? ''}|${item.start === cobrowsing ? 'open' : ''}`;
      let entry = parts.items.get(item.key);
      if (!entry) {
        entry = { node: this.doc.createElement('li'), sig: '' };
        parts.items.set(item.key, entry);
      }
      if (entry.sig !== sig) {
        this.fillMessage(entry.node, item, cobrowsing);
        entry.sig = sig;
        changed = true;
      }
      /** @type {Element | null} */
      const expected = previous ? previous.nextElementSibling : list.firstElementChild;
      if (expected !== entry.node) {
        list.insertBefore(entry.node, expected);
        changed = true;
      }
      previous = entry.node;
    }
    if (changed && atBottom) list.scrollTop = list.scrollHeight;
  }

  /**
   * @param {HTMLLIElement} node
   * @param {TranscriptItem} item
   * @param {string | null} cobrowsing
   */
  fillMessage(node, item, cobrowsing) {
    const doc = this.doc;
    node.className = `cb-msg cb-msg-${item.from}`;
    node.dataset.testid = 'chat-message';
    node.dataset.from = item.from;
    node.dataset.status = item.status;
    if (item.id !== null) node.dataset.id = String(item.id);
    else delete node.dataset.id;
    node.replaceChildren();
    if (item.from === 'system') {
      if (item.start) {
        const link = doc.createElement('a');
        link.href = `?session=${item.start}`;
        link.dataset.session = item.start;
        link.dataset.testid = 'start-link';
        link.textContent = `Co-browse ${formatSessionId(item.start)}`;
        if (item.start === cobrowsing) link.setAttribute('aria-current', 'true');
        node.append(link);
      } else {
        node.textContent = item.text;
      }
      return;
    }
    const meta = doc.createElement('span');
    meta.className = 'cb-msg-meta';
    const name = doc.createElement('span');
    name.className = 'cb-msg-name';
    name.textContent = item.from === 'agent' ? 'You' : item.name;
    meta.append(name);
    const when = doc.createElement('span');
    when.className = 'cb-msg-time';
    if (item.status === 'sent' && item.at) when.textContent = formatTime(item.at);
    else if (item.status === 'sending') when.textContent = 'Sending…';
    else if (item.status === 'failed') when.textContent = item.error ?? 'Not sent.';
    if (item.status === 'failed') when.dataset.testid = 'chat-message-error';
    meta.append(when);
    const text = doc.createElement('span');
    text.className = 'cb-msg-text';
    text.textContent = item.text;
    node.append(meta, text);
  }
}

/**
 * @param {number} at ms since 1970
 * @returns {string}
 */
function formatTime(at) {
  const d = new Date(at);
  return `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`;
}
