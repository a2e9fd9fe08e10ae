// The customer-side client: one instance per page. It creates or resumes the session, wires the
// recorder, the transport, the action executor and the UI together, and reports what happens
// as events. It has no side effects until `init()` or `start()` is called.

import { MaskRules, emptyPolicy } from './capture/rules.js';
import { Recorder } from './capture/recorder.js';
import { timersOf } from './capture/throttle.js';
import { Transport } from './transport/transport.js';
import { SessionStore } from './transport/session_store.js';
import { createSession, fetchPolicy, serverBase, websocketUrl } from './transport/http_api.js';
import { ActionExecutor } from './actions/action_executor.js';
import { CustomerUi } from './ui/customer_ui.js';

/** @typedef {import('./protocol.js').Policy} Policy */
/** @typedef {import('./protocol.js').Frame} Frame */
/** @typedef {import('./protocol.js').Welcome} Welcome */
/** @typedef {import('./protocol.js').Mode} Mode */
/** @typedef {import('./protocol.js').Participant} Participant */
/** @typedef {import('./transport/transport.js').SocketLike} SocketLike */

/**
 * @typedef {object} CobrowseOptions
 * @property {string} [server] Base URL of the Cobrowse server; "" means the page's own origin.
 * @property {boolean} [autoUi] Show the floating "Start co-browse" button (default true).
 * @property {boolean} [ui] Show the built-in UI at all (default true). With false the site drives
 *   everything through the API and events; the agent's pointer is still drawn.
 * @property {Window & typeof globalThis} [window] The page (tests pass a jsdom window).
 * @property {typeof fetch} [fetch]
 * @property {(url: string) => SocketLike} [createSocket]
 * @property {Storage | null} [storage] Where the session survives page loads (sessionStorage).
 */

/** Plain words for why a session ended. */
export const END_REASON_TEXT = /** @type {Record<string, string>} */ ({
  customer_exit: 'You ended the co-browse session.',
  agent_exit: 'The agent ended the co-browse session.',
  interaction_ended: 'The co-browse session ended because your chat or call ended.',
  pending_timeout: 'The co-browse session ended because no agent joined in time.',
  inactivity_timeout: 'The co-browse session ended after a period of inactivity.',
  customer_away: 'The co-browse session ended because you were away too long.',
  agent_away: 'The co-browse session ended because the agent was disconnected.',
  server_shutdown: 'The co-browse session ended because the service restarted.',
  protocol_error: 'The co-browse session ended because of a technical problem.',
  session_ended: 'The co-browse session has ended.',
  session_not_found: 'The co-browse session is no longer available.',
  unauthorized: 'The co-browse session could not be resumed.',
  version_mismatch: 'This page needs to be reloaded to co-browse.',
  superseded: 'The co-browse session continues in another tab.',
});

/** @typedef {'idle' | 'starting' | 'active' | 'ended'} ClientState */

export class CobrowseClient extends EventTarget {
  /** @param {CobrowseOptions} [options] */
  constructor(options = {}) {
    super();
    /** @type {CobrowseOptions} */
    this.options = { ...options };
    /** @type {ClientState} */
    this.state = 'idle';
    /** @type {string | null} */
    this.sessionId = null;
    /** @type {Mode} */
    this.mode = 'pointer';
    this.agentPresent = false;
    /** @type {Participant | null} */
    this.agent = null;
    /** @type {Policy | null} */
    this.policy = null;
    /** @type {Recorder | null} */
    this.recorder = null;
    /** @type {Transport | null} */
    this.transport = null;
    /** @type {CustomerUi | null} */
    this.ui = null;
    /** @type {ActionExecutor | null} */
    this.executor = null;
    this.snapshotSent = false;
    this.initialized = false;
    /** @type {'page' | 'site' | 'unknown'} */
    this.leavingTo = 'unknown';
    /** @type {Array<() => void>} */
    this.cleanups = [];
    /** @type {Promise<void> | null} */
    this.stopping = null;
  }

  /**
   * Applies options, shows the UI and resumes a session this tab already had.
   * @param {CobrowseOptions} [options]
   * @returns {Promise<void>}
   */
  async init(options = {}) {
    Object.assign(this.options, options);
    if (this.initialized) return;
    this.initialized = true;
    const win = this.#win();
    this.store = new SessionStore(this.options.storage !== undefined ? this.options.storage : safeSessionStorage(win));
    this.ui = new CustomerUi(win.document, {
      onStart: () => void this.start().catch(() => {}),
      onApprove: () => this.approveWriteMode(),
      onDeny: () => this.denyWriteMode(),
      onRevoke: () => this.revokeWriteMode(),
      onExit: () => void this.stop(),
    }, { widget: this.options.ui !== false });
    const mount = () => this.ui?.mount();
    if (win.document.body) mount();
    else win.document.addEventListener('DOMContentLoaded', mount, { once: true });
    const stored = this.store.load();
    if (stored) {
      await this.#resume(stored);
    } else {
      this.ui.showStart(this.options.autoUi !== false);
    }
  }

  /**
   * Creates a session and starts sharing the page.
   * @returns {Promise<{id: string}>}
   */
  async start() {
    if (!this.initialized) await this.init();
    if (this.sessionId && this.state !== 'ended') return { id: this.sessionId };
    const win = this.#win();
    this.#setState('starting');
    this.ui?.setStarting(true);
    try {
      const base = serverBase(this.options.server ?? '', win.location.href);
      const created = await createSession(this.#fetch(), base);
      const wsUrl = websocketUrl(created.ws_url, base);
      this.store?.save({ id: created.id, token: created.token, wsUrl, lastServerSeq: 0 });
      this.#begin(created.id, created.token, wsUrl, 0, created.policy);
      return { id: created.id };
    } catch (err) {
      this.#setState('idle');
      this.ui?.setStarting(false);
      this.ui?.notice('Co-browse could not start. Please try again.', { timers: timersOf(win) });
      this.#emit('error', { error: err });
      throw err;
    }
  }

  /**
   * Ends the session (the agent is told) and stops sharing.
   * @returns {Promise<void>}
   */
  stop() {
    if (this.state !== 'active' && this.state !== 'starting') return Promise.resolve();
    if (this.stopping) return this.stopping;
    const win = this.#win();
    this.stopping = new Promise((resolve) => {
      this.transport?.send('end', {});
      const timer = win.setTimeout(() => {
        this.#finish('customer_exit');
        resolve();
      }, 1000);
      this.addEventListener('session_ended', () => {
        win.clearTimeout(timer);
        resolve();
      }, { once: true });
    });
    return this.stopping;
  }

  /** Grants the agent's pending write-mode request. */
  approveWriteMode() {
    this.ui?.hideConsent();
    this.transport?.send('mode_answer', { approved: true });
  }

  /** Refuses the agent's pending write-mode request. */
  denyWriteMode() {
    this.ui?.hideConsent();
    this.transport?.send('mode_answer', { approved: false });
  }

  /** Takes control back: the agent returns to pointer mode. */
  revokeWriteMode() {
    this.transport?.send('mode_revoke', {});
    this.#setMode('pointer', 'customer');
  }

  /**
   * @param {import('./transport/session_store.js').StoredSession} stored
   */
  async #resume(stored) {
    const win = this.#win();
    const base = serverBase(this.options.server ?? '', win.location.href);
    /** @type {Policy} */
    let policy;
    try {
      policy = await fetchPolicy(this.#fetch(), base);
    } catch {
      // Without the policy nothing may go out unmasked: mask the whole page until it loads.
      policy = { ...emptyPolicy(), masking: { fields: [], text: [], images: [], pages: ['*'] } };
    }
    this.#begin(stored.id, stored.token, stored.wsUrl, stored.lastServerSeq, policy);
  }

  /**
   * @param {string} id
   * @param {string} token
   * @param {string} wsUrl
   * @param {number} lastServerSeq
   * @param {Policy} policy
   */
  #begin(id, token, wsUrl, lastServerSeq, policy) {
    const win = this.#win();
    this.sessionId = id;
    this.policy = policy;
    this.snapshotSent = false;
    this.stopping = null;
    const rules = new MaskRules(policy, win.document);
    const ui = this.ui;
    const uiHost = ui?.host ?? null;
    const timers = timersOf(win);
    const transport = new Transport({
      url: wsUrl,
      session: id,
      token,
      lastServerSeq,
      createSocket: this.options.createSocket ?? ((url) => /** @type {SocketLike} */ (/** @type {unknown} */ (new win.WebSocket(url)))),
      timers,
      onWelcome: (welcome, needSnapshot) => this.#welcome(welcome, needSnapshot),
      onFrame: (frame) => this.#frame(frame),
      onFatal: (error) => this.#finish(error.code),
      onPersist: (seq) => this.store?.saveSeq(seq),
    });
    this.transport = transport;
    this.recorder = new Recorder({
      win,
      rules,
      ignore: (node) => node === uiHost,
      emit: (tag, body) => transport.send(tag, body),
      timers,
    });
    this.executor = new ActionExecutor({
      win,
      rules,
      nodeById: (nodeId) => this.recorder?.nodeById(nodeId) ?? null,
      isWriteMode: () => this.mode === 'write',
      siteOrigins: () => this.policy?.site_origins ?? [],
      onDispatch: (on) => {
        if (this.recorder) this.recorder.dispatchingAction = on;
      },
    });
    this.recorder.start();
    this.#watchPage(win);
    transport.connect();
    ui?.showSession(id);
    ui?.setMode(this.mode);
    this.#setState('active');
    this.#emit('session_started', { id });
  }

  /**
   * @param {Welcome} welcome
   * @param {boolean} needSnapshot
   */
  #welcome(welcome, needSnapshot) {
    if (welcome.state === 'ended') {
      this.#finish('session_ended');
      return;
    }
    if (!this.snapshotSent || needSnapshot) {
      this.recorder?.snapshot();
      this.snapshotSent = true;
    }
    this.#setMode(welcome.mode, 'customer', true);
    const agent = welcome.participants.find((p) => p.role === 'agent') ?? null;
    if (agent && !this.agentPresent) this.#agentJoined(agent, false);
    if (!agent && this.agentPresent) this.#agentLeft(null);
    if (welcome.mode_request_pending) this.ui?.askConsent(agent?.name ?? '');
  }

  /** @param {Frame} frame */
  #frame(frame) {
    const ui = this.ui;
    switch (frame.tag) {
      case 'pointer':
        ui?.drawPointer(frame.body.x, frame.body.y, frame.body.by?.name ?? 'Agent');
        break;
      case 'click':
        ui?.drawClick(frame.body.x, frame.body.y);
        break;
      case 'highlight':
        ui?.drawHighlight(frame.body.points);
        break;
      case 'mode_request':
        ui?.askConsent(frame.body.by?.name ?? '');
        this.#emit('mode_requested', { by: frame.body.by ?? null });
        break;
      case 'mode':
        this.#setMode(frame.body.mode, frame.body.by);
        break;
      case 'action': {
        const refusal = this.executor?.run(frame.body) ?? 'not_found';
        if (refusal) this.transport?.send('action_refused', { aid: frame.body.aid, reason: refusal });
        this.recorder?.schedule();
        break;
      }
      case 'notice':
        this.#notice(frame.body);
        break;
      case 'resync':
        this.recorder?.snapshot();
        break;
      case 'ended':
        this.#finish(frame.body.reason);
        break;
      default:
        break;
    }
  }

  /** @param {import('./protocol.js').Notice} notice */
  #notice(notice) {
    const timers = timersOf(this.#win());
    switch (notice.code) {
      case 'agent_joined':
        this.#agentJoined(notice.who ?? null, true);
        break;
      case 'agent_left':
        this.#agentLeft(notice.who ?? null);
        break;
      case 'agent_away':
        this.ui?.notice('The agent lost the connection and should be back shortly.', { timers });
        break;
      case 'agent_back':
        this.ui?.notice('The agent is back.', { timers });
        break;
      case 'mode_denied':
        break;
      default:
        break;
    }
    this.#emit('notice', { code: notice.code, who: notice.who ?? null, detail: notice.detail ?? null });
  }

  /**
   * @param {Participant | null} agent
   * @param {boolean} announce
   */
  #agentJoined(agent, announce) {
    this.agentPresent = true;
    this.agent = agent;
    this.ui?.setAgentPresent(true);
    if (announce) this.ui?.notice(`${agent?.name || 'An agent'} joined and can now see this page. Masked fields stay hidden.`, { timers: timersOf(this.#win()) });
    this.#emit('agent_joined', { agent });
  }

  /** @param {Participant | null} agent */
  #agentLeft(agent) {
    this.agentPresent = false;
    this.agent = null;
    this.ui?.setAgentPresent(false);
    this.ui?.hideConsent();
    this.ui?.notice(`${agent?.name || 'The agent'} left the co-browse session.`, { timers: timersOf(this.#win()) });
    this.#emit('agent_left', { agent });
  }

  /**
   * @param {Mode} mode
   * @param {import('./protocol.js').Role} by
   * @param {boolean} [quiet] Do not emit an event when nothing changed.
   */
  #setMode(mode, by, quiet = false) {
    const changed = mode !== this.mode;
    this.mode = mode;
    this.ui?.setMode(mode);
    if (changed || !quiet) this.#emit('mode_changed', { mode, by });
  }

  /** @param {string} reason */
  #finish(reason) {
    if (this.state === 'ended') return;
    this.recorder?.stop();
    this.transport?.close();
    this.store?.clear();
    for (const cleanup of this.cleanups.splice(0)) cleanup();
    this.mode = 'pointer';
    this.agentPresent = false;
    this.#setState('ended');
    this.ui?.showEnded(END_REASON_TEXT[reason] ?? 'The co-browse session has ended.');
    const id = this.sessionId;
    this.#emit('session_ended', { id, reason });
  }

  /**
   * Tells the server where the page is going as it unloads.
   * @param {Window & typeof globalThis} win
   */
  #watchPage(win) {
    const onClick = (/** @type {Event} */ event) => {
      const target = /** @type {Element | null} */ (event.composedPath()[0] ?? null);
      const link = target && typeof target.closest === 'function' ? target.closest('a[href]') : null;
      if (!link) return;
      try {
        const url = new URL(link.getAttribute('href') ?? '', win.location.href);
        this.leavingTo = url.origin === win.location.origin || (this.policy?.site_origins ?? []).includes(url.origin) ? 'page' : 'site';
      } catch {
        this.leavingTo = 'unknown';
      }
    };
    const onSubmit = () => {
      this.leavingTo = 'page';
    };
    const onHide = () => {
      this.recorder?.flush();
      this.transport?.send('leaving', { to: this.leavingTo });
    };
    win.document.addEventListener('click', onClick, true);
    win.document.addEventListener('submit', onSubmit, true);
    win.addEventListener('pagehide', onHide);
    this.cleanups.push(() => {
      win.document.removeEventListener('click', onClick, true);
      win.document.removeEventListener('submit', onSubmit, true);
      win.removeEventListener('pagehide', onHide);
    });
  }

  /** @param {ClientState} state */
  #setState(state) {
    if (state === this.state) return;
    this.state = state;
    this.#emit('state', { state });
  }

  /**
   * @param {string} type
   * @param {unknown} detail
   */
  #emit(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }

  /** @returns {Window & typeof globalThis} */
  #win() {
    return this.options.window ?? window;
  }

  /** @returns {typeof fetch} */
  #fetch() {
    const win = this.#win();
    return this.options.fetch ?? ((input, init) => win.fetch(input, init));
  }
}

/**
 * sessionStorage, or null where the browser refuses it (privacy modes, sandboxed frames).
 * @param {Window} win
 * @returns {Storage | null}
 */
function safeSessionStorage(win) {
  try {
    return win.sessionStorage;
  } catch {
    return null;
  }
}
