// Messages between the tabs of one site (one origin) in the same browser, so that the tab the
// customer last focused is the one shared. A BroadcastChannel reaches only pages of the same
// origin; nothing is written to storage that outlives the tab.
//
//   focus     a tab was focused and would share itself
//   handover  the sharing tab gives the session (ID, token, last server frame) to that tab
//   seq       the sharing tab's last server frame, as its page goes away
//   stop      a tab that is not sharing asks the sharing tab to end the session
//   ended     the session is over; every tab forgets it

/** @typedef {import('./session_store.js').StoredSession} StoredSession */
/** @typedef {import('../protocol.js').Policy} Policy */

/**
 * @typedef {{t: 'focus'}
 *   | {t: 'handover', to: string, session: StoredSession, policy: Policy}
 *   | {t: 'seq', id: string, seq: number}
 *   | {t: 'stop', id: string}
 *   | {t: 'ended', id: string, reason: string}} TabMessage
 */

/**
 * The part of a BroadcastChannel used here; tests pass a fake.
 * @typedef {object} ChannelLike
 * @property {(message: unknown) => void} postMessage
 * @property {((event: {data: any}) => void) | null} onmessage
 * @property {() => void} close
 */

/** The channel's name; one per origin. */
export const TAB_CHANNEL_NAME = 'cobrowse-tabs';

export class TabChannel {
  /**
   * @param {ChannelLike | null} channel Null where the browser has no BroadcastChannel.
   * @param {(message: TabMessage & {from: string}) => void} onMessage
   * @param {string} tabId This page's own ID; its own messages are not handed back.
   */
  constructor(channel, onMessage, tabId) {
    this.channel = channel;
    this.tabId = tabId;
    if (channel) {
      channel.onmessage = (event) => {
        const message = event.data;
        if (message && typeof message === 'object' && typeof message.t === 'string' && message.from !== tabId) onMessage(message);
      };
    }
  }

  /** @param {TabMessage} message */
  post(message) {
    try {
      this.channel?.postMessage({ ...message, from: this.tabId });
    } catch {
      // closed
    }
  }

  close() {
    if (this.channel) this.channel.onmessage = null;
    this.channel?.close();
    this.channel = null;
  }
}

/**
 * The site's BroadcastChannel in a window, or null.
 * @param {Window & typeof globalThis} win
 * @returns {ChannelLike | null}
 */
export function browserChannel(win) {
  try {
    return typeof win.BroadcastChannel === 'function' ? /** @type {ChannelLike} */ (/** @type {unknown} */ (new win.BroadcastChannel(TAB_CHANNEL_NAME))) : null;
  } catch {
    return null;
  }
}

/**
 * A random ID for one page.
 * @returns {string}
 */
export function randomTabId() {
  return Math.random().toString(36).slice(2) + Date.now().toString(36);
}
