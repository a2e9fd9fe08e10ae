// Keeps the customer's session across full page loads inside the site: its ID, the sharer
// token and the last server frame seen, in sessionStorage (one tab's, never shared).

/**
 * @typedef {object} StoredSession
 * @property {string} id
 * @property {string} token
 * @property {string} wsUrl
 * @property {number} lastServerSeq
 * @property {'chat' | 'voice'} [via] What the session rides on, for what the panel says.
 */

export class SessionStore {
  /**
   * @param {Storage | null} storage
   * @param {string} [key]
   */
  constructor(storage, key = 'cobrowse.session') {
    this.storage = storage;
    this.key = key;
    /** The session last saved, so saving a new sequence does not parse the stored text. */
    /** @type {StoredSession | null} */
    this.current = null;
  }

  /** @returns {StoredSession | null} */
  load() {
    try {
      const text = this.storage?.getItem(this.key);
      if (!text) return null;
      const value = JSON.parse(text);
      if (typeof value?.id !== 'string' || typeof value?.token !== 'string' || typeof value?.wsUrl !== 'string') return null;
      /** @type {StoredSession} */
      const session = { id: value.id, token: value.token, wsUrl: value.wsUrl, lastServerSeq: Number(value.lastServerSeq) || 0 };
      if (value.via === 'chat' || value.via === 'voice') session.via = value.via;
      return session;
    } catch {
      return null;
    }
  }

  /** @param {StoredSession} session */
  save(session) {
    this.current = { ...session };
    try {
      this.storage?.setItem(this.key, JSON.stringify(session));
    } catch {
      // storage full or disabled: the session still works until the page unloads
    }
  }

  /**
   * Records the last server frame seen. Called for every frame, so it writes one short string.
   * @param {number} lastServerSeq
   */
  saveSeq(lastServerSeq) {
    const current = this.current ?? this.load();
    if (current && current.lastServerSeq !== lastServerSeq) this.save({ ...current, lastServerSeq });
  }

  clear() {
    this.current = null;
    try {
      this.storage?.removeItem(this.key);
      this.storage?.removeItem(`${this.key}.masked-params`);
    } catch {
      // ignore
    }
  }

  /**
   * Names of query parameters whose values are masked in the addresses the SDK sends (masked
   * fields of GET forms the customer submitted in this tab).
   * @returns {string[]}
   */
  maskedParams() {
    try {
      const value = JSON.parse(this.storage?.getItem(`${this.key}.masked-params`) ?? '[]');
      return Array.isArray(value) ? value.filter((name) => typeof name === 'string') : [];
    } catch {
      return [];
    }
  }

  /** @param {string[]} names */
  addMaskedParams(names) {
    const all = new Set([...this.maskedParams(), ...names]);
    try {
      this.storage?.setItem(`${this.key}.masked-params`, JSON.stringify([...all].slice(-200)));
    } catch {
      // storage full or disabled
    }
  }
}
