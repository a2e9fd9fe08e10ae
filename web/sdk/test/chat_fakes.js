// Test stand-ins for the chat tests: timers the test advances by hand, sockets it answers for
// the server, an in-memory sessionStorage, and a fetch that answers like the server.

/** Timers driven by `advance(ms)`. */
export function fakeTimers() {
  let now = 0;
  /** @type {Map<number, {at: number, fn: () => void, every?: number}>} */
  const timers = new Map();
  let next = 1;
  return {
    setTimeout: (/** @type {() => void} */ fn, /** @type {number} */ ms) => {
      timers.set(next, { at: now + ms, fn });
      return next++;
    },
    clearTimeout: (/** @type {any} */ h) => void timers.delete(h),
    setInterval: (/** @type {() => void} */ fn, /** @type {number} */ ms) => {
      timers.set(next, { at: now + ms, fn, every: ms });
      return next++;
    },
    clearInterval: (/** @type {any} */ h) => void timers.delete(h),
    now: () => now,
    /** @param {number} ms */
    advance(ms) {
      const end = now + ms;
      for (;;) {
        const due = [...timers.entries()].filter(([, t]) => t.at <= end).sort((a, b) => a[1].at - b[1].at)[0];
        if (!due) break;
        const [id, t] = due;
        now = t.at;
        if (t.every) t.at += t.every;
        else timers.delete(id);
        t.fn();
      }
      now = end;
    },
  };
}

export class FakeSocket {
  /** @param {string} url */
  constructor(url) {
    this.url = url;
    /** @type {any[]} */
    this.sent = [];
    this.closed = false;
    /** @type {((event: any) => void) | null} */
    this.onopen = null;
    /** @type {((event: {data: any}) => void) | null} */
    this.onmessage = null;
    /** @type {((event: any) => void) | null} */
    this.onclose = null;
    /** @type {((event: any) => void) | null} */
    this.onerror = null;
  }

  /** @param {string} text */
  send(text) {
    this.sent.push(JSON.parse(text));
  }

  close() {
    this.closed = true;
  }

  open() {
    this.onopen?.({});
  }

  /** @param {unknown[]} frame */
  receive(frame) {
    this.onmessage?.({ data: JSON.stringify(frame) });
  }

  /** The server goes away. */
  drop() {
    this.closed = true;
    this.onclose?.({});
  }

  /**
   * Bodies of the frames sent with this tag.
   * @param {string} tag
   * @returns {any[]}
   */
  bodies(tag) {
    return this.sent.filter((f) => f[0] === tag).map((f) => f[2]);
  }
}

/** An in-memory Storage; `clone()` is what a page load of the same tab finds. */
export function memoryStorage() {
  /** @type {Map<string, string>} */
  const map = new Map();
  const storage = /** @type {Storage & {map: Map<string, string>}} */ (/** @type {unknown} */ ({
    map,
    getItem: (/** @type {string} */ k) => map.get(k) ?? null,
    setItem: (/** @type {string} */ k, /** @type {string} */ v) => void map.set(k, v),
    removeItem: (/** @type {string} */ k) => void map.delete(k),
  }));
  return storage;
}

/**
 * The chat summary of a `chat_state` frame.
 * @param {string} state
 * @param {{agent?: string, cobrowse?: string}} [extra]
 */
export function summary(state, extra = {}) {
  return { chat: 'chat-1', customer: 'Ana', state, since: 1, preview: '', ...extra };
}

/**
 * A `msg` frame.
 * @param {number} id
 * @param {string} text
 * @param {{from?: string, cid?: string, name?: string}} [extra]
 */
export function msg(id, text, extra = {}) {
  const body = { chat: 'chat-1', id, from: extra.from ?? 'agent', name: extra.name ?? 'Alice Agent', text, at: 1000 + id };
  return ['msg', 0, extra.cid ? { ...body, cid: extra.cid } : body];
}

/**
 * A fetch that answers like the server: chats, sessions (or the given error), the policy.
 * @param {{session?: (body: any) => {status: number, body: any}}} [options]
 */
export function fakeFetch(options = {}) {
  /** @type {Array<{url: string, body: any}>} */
  const calls = [];
  const POLICY = { write_mode_allowed: true, masking: { fields: [], text: [], images: [], pages: [] }, restrictions: { selectors: [] }, site_origins: [] };
  const fn = /** @type {typeof fetch} */ (/** @type {unknown} */ (async (/** @type {string} */ url, /** @type {any} */ init) => {
    const body = init?.body ? JSON.parse(init.body) : null;
    calls.push({ url, body });
    /** @type {{status: number, body: any}} */
    let answer = { status: 200, body: POLICY };
    if (url.endsWith('/api/v1/chats')) answer = { status: 201, body: { id: 'chat-1', token: 'chat-token', ws_url: '/ws/v1/chat' } };
    if (url.endsWith('/api/v1/sessions')) {
      answer = options.session ? options.session(body) : { status: 201, body: { id: '123456789', token: 'secret', ws_url: '/ws/v1', protocol_version: 1, policy: POLICY } };
    }
    return { ok: answer.status < 300, status: answer.status, json: async () => answer.body };
  }));
  return { fn, calls };
}

/** Lets pending promise callbacks run. */
export function settle() {
  return new Promise((resolve) => setTimeout(resolve, 0));
}
