// Keeps the customer's session across full page loads inside the site: its ID, the sharer
// token and the last server frame seen, in sessionStorage (one tab's, never shared).

/**
 * @typedef {object} StoredSession
 * @property {string} id
 * @property {string} token
 * @property {string} wsUrl
 * @property {number} lastServerSeq
 */

export class SessionStore {
  /**
   * @param {Storage | null} storage
   * @param {string} [key]
   */
  constructor(storage, key = 'cobrowse.session') {
    this.storage = storage;
    this.key = key;
  }

  /** @returns {StoredSession | null} */
  load() {
    try {
      const text = this.storage?.getItem(this.key);
      if (!text) return null;
      const value = JSON.parse(text);
      if (typeof value?.id !== 'string' || typeof value?.token !== 'string' || typeof value?.wsUrl !== 'string') return null;
      return { id: value.id, token: value.token, wsUrl: value.wsUrl, lastServerSeq: Number(value.lastServerSeq) || 0 };
    } catch {
      return null;
    }
  }

  /** @param {StoredSession} session */
  save(session) {
    try {
      this.storage?.setItem(this.key, JSON.stringify(session));
    } catch {
      // storage full or disabled: the session still works until the page unloads
    }
  }

  /** @param {number} lastServerSeq */
  saveSeq(lastServerSeq) {
    const current = this.load();
    if (current) this.save({ ...current, lastServerSeq });
  }

  clear() {
    try {
      this.storage?.removeItem(this.key);
    } catch {
      // ignore
    }
  }
}
