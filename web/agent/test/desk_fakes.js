// Test seams for the desk: a fake socket the test drives frame by frame, and a manual clock whose
// timers run only when the test advances it (so no test waits, and none leaves timers behind).

import { FakeSocket as TransportFakeSocket } from './fake_socket.js';

/** @typedef {import('../transport.js').SocketLike} SocketLike */

/** The transport tests' fake socket, plus a look at the frames of one tag. */
export class FakeSocket extends TransportFakeSocket {
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
