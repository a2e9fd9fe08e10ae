// A leading-and-trailing throttle: the first call runs at once, later calls within the interval
// collapse into one that runs when it ends, so the final value is always delivered.

/**
 * @typedef {object} Timers
 * @property {(fn: () => void, ms: number) => unknown} setTimeout
 * @property {(handle: any) => void} clearTimeout
 * @property {(fn: () => void, ms: number) => unknown} setInterval
 * @property {(handle: any) => void} clearInterval
 * @property {() => number} now
 */

/**
 * Timers of a window (or of Node in tests).
 * @param {{setTimeout: any, clearTimeout: any, setInterval: any, clearInterval: any}} scope
 * @returns {Timers}
 */
export function timersOf(scope) {
  return {
    setTimeout: (fn, ms) => scope.setTimeout(fn, ms),
    clearTimeout: (handle) => scope.clearTimeout(handle),
    setInterval: (fn, ms) => scope.setInterval(fn, ms),
    clearInterval: (handle) => scope.clearInterval(handle),
    now: () => Date.now(),
  };
}

export class Throttle {
  /**
   * @param {number} intervalMs
   * @param {() => void} fn
   * @param {Timers} timers
   */
  constructor(intervalMs, fn, timers) {
    this.intervalMs = intervalMs;
    this.fn = fn;
    this.timers = timers;
    /** @type {unknown} */
    this.timer = null;
    this.pending = false;
  }

  call() {
    if (this.timer !== null) {
      this.pending = true;
      return;
    }
    this.fn();
    this.#arm();
  }

  #arm() {
    this.timer = this.timers.setTimeout(() => {
      this.timer = null;
      if (this.pending) {
        this.pending = false;
        this.fn();
        this.#arm();
      }
    }, this.intervalMs);
  }

  cancel() {
    if (this.timer !== null) this.timers.clearTimeout(this.timer);
    this.timer = null;
    this.pending = false;
  }
}
