// Keeps the customer's chat across full page loads inside the site, in this tab's
// sessionStorage: the chat's ID and token, the last message ID received (the replay cursor),
// the transcript so far (so the next page shows it at once), and the messages sent but not yet
// confirmed by the server, which the next page sends again.

/** @typedef {import('./chat_protocol.js').ChatMessage} ChatMessage */
/** @typedef {import('./chat_protocol.js').ChatState} ChatState */

/**
 * A message the customer sent that the server has not confirmed yet.
 * @typedef {object} PendingMessage
 * @property {string} cid
 * @property {string} text
 * @property {number} at When the customer sent it (this browser's clock).
 */

/**
 * @typedef {object} StoredChat
 * @property {string} id
 * @property {string} token
 * @property {string} wsUrl
 * @property {string} name The customer's name as given.
 * @property {number} last The last message ID received.
 * @property {ChatState} state The last state heard.
 * @property {string | null} agent The agent's name, once one answered.
 * @property {ChatMessage[]} messages The newest messages, oldest first.
 * @property {PendingMessage[]} pending
 * @property {boolean} widget Whether the built-in widget shows this chat.
 * @property {boolean} ending The customer asked to end it; the next page finishes the job.
 */

/** Messages kept for the next page; older ones are still in the server's transcript. */
export const MAX_STORED_MESSAGES = 200;

export class ChatStore {
  /**
   * @param {Storage | null} storage
   * @param {string} [key]
   */
  constructor(storage, key = 'cobrowse.chat') {
    this.storage = storage;
    this.key = key;
  }

  /** @returns {StoredChat | null} */
  load() {
    try {
      const text = this.storage?.getItem(this.key);
      if (!text) return null;
      const v = JSON.parse(text);
      if (typeof v?.id !== 'string' || typeof v?.token !== 'string' || typeof v?.wsUrl !== 'string') return null;
      const state = v.state === 'active' || v.state === 'ended' ? v.state : 'queued';
      return {
        id: v.id,
        token: v.token,
        wsUrl: v.wsUrl,
        name: typeof v.name === 'string' ? v.name : '',
        last: Number(v.last) || 0,
        state,
        agent: typeof v.agent === 'string' ? v.agent : null,
        messages: Array.isArray(v.messages) ? v.messages.filter(isMessage) : [],
        pending: Array.isArray(v.pending) ? v.pending.filter(isPending) : [],
        widget: v.widget === true,
        ending: v.ending === true,
      };
    } catch {
      return null;
    }
  }

  /** @param {StoredChat} chat */
  save(chat) {
    const value = { ...chat, messages: chat.messages.slice(-MAX_STORED_MESSAGES) };
    try {
      this.storage?.setItem(this.key, JSON.stringify(value));
    } catch {
      // Storage full: keep what matters for continuing (the cursor and the unconfirmed messages).
      try {
        this.storage?.setItem(this.key, JSON.stringify({ ...value, messages: [] }));
      } catch {
        // disabled: the chat still works until the page unloads
      }
    }
  }

  clear() {
    try {
      this.storage?.removeItem(this.key);
    } catch {
      // ignore
    }
  }
}

/**
 * @param {any} m
 * @returns {m is ChatMessage}
 */
function isMessage(m) {
  return typeof m?.id === 'number' && typeof m?.text === 'string' && typeof m?.from === 'string';
}

/**
 * @param {any} p
 * @returns {p is PendingMessage}
 */
function isPending(p) {
  return typeof p?.cid === 'string' && typeof p?.text === 'string';
}
