// Test seams for the desk: a fake socket the test drives frame by frame, and a manual clock whose
// timers run only when the test advances it (so no test waits, and none leaves timers behind).

/** @typedef {import('../transport.js').SocketLike} SocketLike */

export class FakeSocket {
  /** @param {string} url */
  constructor(url) {
    this.url = url;
    this.readyState = 0;
    /** @type {string[]} */
    this.sent = [];
    /** @type {((ev: {data: unknown}) => void) | null} */
    this.onmessage = null;
    /** @type {(() => void) | null} */
    this.onopen = null;
    /** @type {((ev: {code?: number}) => void) | null} */
    this.onclose = null;
    /** @type {(() => void) | null} */
    this.onerror = null;
    this.closed = false;
  }

  /** @param {string} data */
  send(data) {
    this.sent.push(data);
  }

  close() {
    this.closed = true;
    this.readyState = 3;
  }

  open() {
    this.readyState = 1;
    this.onopen?.();
  }

  /** @param {unknown[]} frame */
  deliver(frame) {
    this.onmessage?.({ data: JSON.stringify(frame) });
  }

  /** The connection drops. */
  drop() {
    this.readyState = 3;
    this.onclose?.({ code: 1006 });
  }

  /** @returns {any[][]} */
  frames() {
    return this.sent.map((s) => JSON.parse(s));
  }

  /**
   * The frames sent with one tag.
   * @param {string} tag
   * @returns {any[]}
   */
  bodies(tag) {
    return this.frames().filter((f) => f[0] === tag).map((f) => f[2]);
  }
}

/**
 * A manual clock, and fake sockets for the desk.
 */
export function deskSeams() {
  /** @type {FakeSocket[]} */
  const sockets = [];
  /** @type {Array<{fn: () => void, at: number, handle: number}>} */
  let timers = [];
  let clock = 1_795_000_000_000;
  let nextHandle = 1;
  let cid = 0;
  const options = {
    /** @param {string} url */
    connect: (url) => {
      const socket = new FakeSocket(url);
      sockets.push(socket);
      return /** @type {SocketLike} */ (socket);
    },
    now: () => clock,
    /**
     * @param {() => void} fn
     * @param {number} ms
     */
    setTimer: (fn, ms) => {
      const handle = nextHandle++;
      timers.push({ fn, at: clock + ms, handle });
      return handle;
    },
    /** @param {unknown} handle */
    clearTimer: (handle) => {
      timers = timers.filter((t) => t.handle !== handle);
    },
    random: () => 0.5,
    newCid: () => `c${++cid}`,
    storage: null,
  };
  /** @param {number} ms */
  const advance = (ms) => {
    const until = clock + ms;
    for (;;) {
      const due = timers.filter((t) => t.at <= until).sort((a, b) => a.at - b.at)[0];
      if (!due) break;
      timers = timers.filter((t) => t !== due);
      clock = Math.max(clock, due.at);
      due.fn();
    }
    clock = until;
  };
  /** @returns {FakeSocket} */
  const last = () => {
    const socket = sockets[sockets.length - 1];
    if (!socket) throw new Error('no socket opened yet');
    return socket;
  };
  return { options, sockets, advance, last, pendingTimers: () => timers.length };
}
