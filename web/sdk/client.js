// The customer-side client: one instance per page. It creates or resumes the session, wires the
// recorder, the transport, the action executor and the UI together, hands the session between
// tabs of the site, and reports what happens as events. It also holds the customer's chat
// (chat/), which a co-browse session may ride on, and the "browse with you" entry for a customer
// on the phone. It has no side effects until `init()` or `start()` is called.

import { MaskRules, emptyPolicy } from './capture/rules.js';
import { Recorder } from './capture/recorder.js';
import { placeholderSnapshot, shrinkOp, shrinkSnapshot, splitOps } from './capture/oversize.js';
import { timersOf } from './capture/throttle.js';
import { maskQueryParams } from './capture/urls.js';
import { Transport } from './transport/transport.js';
import { SessionStore } from './transport/session_store.js';
import { TabChannel, browserChannel, randomTabId } from './transport/tab_channel.js';
import { ApiError, createSession, fetchPolicy, serverBase, websocketUrl } from './transport/http_api.js';
import { ActionExecutor } from './actions/action_executor.js';
import { CustomerUi } from './ui/customer_ui.js';


/** @typedef {import('./protocol.js').Policy} Policy */
/** @typedef {import('./protocol.js').Frame} Frame */
/** @typedef {import('./protocol.js').FrameTag} FrameTag */
/** @typedef {import('./protocol.js').Welcome} Welcome */
/** @typedef {import('./protocol.js').Mode} Mode */
/** @typedef {import('./protocol.js').Participant} Participant */
/** @typedef {import('./protocol.js').Snapshot} Snapshot */
/** @typedef {import('./protocol.js').Op} Op */
/** @typedef {import('./transport/transport.js').SocketLike} SocketLike */
/** @typedef {import('./transport/session_store.js').StoredSession} StoredSession */
/** @typedef {import('./transport/tab_channel.js').TabMessage} TabMessage */
/** @typedef {import('./transport/tab_channel.js').ChannelLike} ChannelLike */
/** @typedef {import('./transport/http_api.js').SessionRequest} SessionRequest */
/** @typedef {import('./chat/chat_protocol.js').ChatMessage} ChatMessage */
/** @typedef {import('./chat/chat_session.js').ChatSession} ChatSession */
/** @typedef {import('./chat/chat_ui.js').ChatUi} ChatUi */

/**
 * @typedef {object} CobrowseOptions
 * @property {string} [server] Base URL of the Cobrowse server; "" means the page's own origin.
 * @property {boolean} [autoUi] Show the floating "Start co-browse" button (default true).
 * @property {boolean} [ui] Show the built-in UI at all (default true). With false the site drives
 *   everything through the API and events; the agent's pointer is still drawn.
 * @property {boolean | number} [canvas] Send `<canvas>` content as images: true (every second)
 *   or an interval in ms. Off by default.
 * @property {boolean} [tabs] Hand the session to the tab of the site the customer last focused
 *   (default true).
 * @property {boolean} [chat] Show the built-in chat widget ("Chat with us"), with its
 *   "browse with you" link (default false).
 * @property {boolean} [voice] Show the "browse with you" link without the chat (default false).
 * @property {Window & typeof globalThis} [window] The page (tests pass a jsdom window).
 * @property {typeof fetch} [fetch]
 * @property {(url: string) => SocketLike} [createSocket] Co-browse and chat sockets (tests).
 * @property {Storage | null} [storage] Where the session survives page loads (sessionStorage).
 * @property {() => ChannelLike | null} [createChannel] The channel between tabs (BroadcastChannel).
 * @property {number} [sliceMs] Longest slice of main-thread time a snapshot takes (ms).
 * @property {boolean} [compressionWorker] Compress large frames on a worker (default true). Where
 *   the page's CSP forbids blob: workers the SDK falls back by itself, but the browser reports
 *   the attempt; false skips it.
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
});

/** Where the chat is kept for the next page of this tab (sessionStorage). */
const CHAT_STORAGE_KEY = 'cobrowse.chat';
/** How long the sharing tab's socket stays open after handing the session to another tab. */
const HANDOVER_GRACE_MS = 5000;
/** How long a tab waits for the sharing tab to hand over before it takes the session itself. */
const CLAIM_WAIT_MS = 600;
/** A page too large to send is tried again after this long. */
const TOO_LARGE_RETRY_MS = 10_000;

/**
 * `idle`: no session; `starting`: creating one; `active`: this tab shares the page; `standby`:
 * the session goes on in another tab of the site; `ended`.
 * @typedef {'idle' | 'starting' | 'active' | 'standby' | 'ended'} ClientState
 */

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
    /** The session this tab knows: ID, token, socket URL. */
    /** @type {StoredSession | null} */
    this.session = null;
    /** @type {Mode} */
    this.mode = 'pointer';
    this.agentPresent = false;
    /** @type {Participant | null} */
    this.agent = null;
    /** Supervisors watching, by participant ID. */
    /** @type {Map<string, Participant>} */
    this.observers = new Map();
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
    /** @type {SessionStore | null} */
    this.store = null;
    /** @type {TabChannel | null} */
    this.tabs = null;
    this.snapshotSent = false;
    this.initialized = false;
    /** @type {'page' | 'site' | 'unknown'} */
    this.leavingTo = 'unknown';
    /** Undo what `#begin` set up for one sharing period. */
    /** @type {Array<() => void>} */
    this.cleanups = [];
    /** @type {Promise<void> | null} */
    this.stopping = null;
    /** @type {unknown} */
    this.claimTimer = null;
    this.lastClaim = -Infinity;
    /** Elements seen scrolling since the page loaded: a snapshot reads only their positions. */
    /** @type {WeakSet<Node>} */
    this.scrolledElements = new WeakSet();
    /** How long a page too large to send waits before it is tried again (ms). */
    this.tooLargeRetryMs = TOO_LARGE_RETRY_MS;
    /** Snapshots already cut down to fit a frame. */
    /** @type {WeakSet<object>} */
    this.shrunk = new WeakSet();
    /** The customer's chat, once the chat modules are loaded. */
    /** @type {ChatSession | null} */
    this.chat = null;
    /** @type {Promise<ChatSession> | null} */
    this.chatLoading = null;
    /** @type {typeof import('./chat/index.js') | null} */
    this.chatModules = null;
    /** The built-in chat widget, once shown. */
    /** @type {ChatUi | null} */
    this.chatUi = null;
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
    // From the first moment: elements the customer scrolls before sharing keep their position.
    win.addEventListener('scroll', (event) => {
      if (event.target) this.scrolledElements.add(/** @type {Node} */ (event.target));
    }, { capture: true, passive: true });
    this.store = new SessionStore(this.options.storage !== undefined ? this.options.storage : safeSessionStorage(win));
    this.ui = new CustomerUi(win.document, {
      onStart: () => void this.start().catch(() => {}),
      onApprove: () => this.approveWriteMode(),
      onDeny: () => this.denyWriteMode(),
      onRevoke: () => this.revokeWriteMode(),
      onExit: () => void this.stop(),
      onPromptChat: () => void this.openChat().catch(() => {}),
      onPromptCall: () => void this.browseWithYou().catch(() => {}),
      onVoice: () => void this.browseWithYou().catch(() => {}),
    }, { widget: this.options.ui !== false });
    const mount = () => this.ui?.mount();
    if (win.document.body) mount();
    else win.document.addEventListener('DOMContentLoaded', mount, { once: true });
    this.ui.showVoiceLink(this.options.chat === true || this.options.voice === true);
    // The chat loads only where it is used: the widget is on, or a chat goes on from an earlier page.
    if (this.options.chat || this.#storage()?.getItem(CHAT_STORAGE_KEY)) {
      this.#loadChat().catch((err) => console.error('Cobrowse: the chat could not load', err));
    }
    if (this.options.tabs !== false) {
      const channel = this.options.createChannel ? this.options.createChannel() : browserChannel(win);
      this.tabs = new TabChannel(channel, (message) => this.#tabMessage(message), randomTabId());
      this.#watchFocus(win);
    }
    const stored = this.store.load();
    if (stored) {
      await this.#resume(stored);
    } else {
      this.ui.showStart(this.options.autoUi !== false);
      // A tab opened while another tab shares: being in front, it takes the session over.
      if (this.#inFront(win)) this.#claim(true);
    }
  }

  /** The chat's ID, while there is a chat (or an ended one still shown). */
  get chatId() {
    return this.chat?.chat?.id ?? null;
  }

  /** `idle`, `starting`, `queued`, `active` or `ended`. */
  get chatState() {
    return this.chat?.state ?? 'idle';
  }

  /**
   * Creates a session and starts sharing the page. With an agent answering the customer's chat,
   * the session rides on that chat (as `startFromChat()`). When the server wants a chat or call
   * first (`interaction_required`), the built-in UI asks the customer to start one.
   * @returns {Promise<{id: string}>}
   */
  async start() {
    if (!this.initialized) await this.init();
    if (this.sessionId && (this.state === 'active' || this.state === 'starting')) return { id: this.sessionId };
    const stored = this.store?.load();
    if (this.state === 'standby' && stored) {
      // The session runs in another tab: share this one instead.
      await this.#resume(stored);
      return { id: stored.id };
    }
    if (this.chat?.state === 'active') return this.startFromChat();
    return this.#create({}, undefined);
  }

  /**
   * Starts co-browsing from the customer's chat, once an agent has answered it. The agent's
   * workspace opens the session by itself: the customer reads nothing out.
   * @returns {Promise<{id: string}>}
   */
  async startFromChat() {
    if (!this.initialized) await this.init();
    if (this.sessionId && (this.state === 'active' || this.state === 'starting')) return { id: this.sessionId };
    const chat = this.chat?.chat;
    if (!chat || this.chat?.state !== 'active') {
      throw new ApiError('interaction_required', 'co-browse starts once an agent has answered your chat', 422);
    }
    return this.#create({ chat: { id: chat.id, token: chat.token } }, 'chat');
  }

  /**
   * "Browse with you": for a customer on the phone with an agent. Creates a session and shows
   * its nine digits, large, for the customer to read aloud; the agent types them.
   * @returns {Promise<{id: string}>}
   */
  async browseWithYou() {
    if (!this.initialized) await this.init();
    if (this.sessionId && (this.state === 'active' || this.state === 'starting')) return { id: this.sessionId };
    return this.#create({ channel: 'voice' }, 'voice');
  }

  /**
   * Starts a chat; it waits in the queue until an agent accepts it. Resolves to `{ id }`.
   * @param {{name: string, message?: string}} request
   * @returns {Promise<{id: string}>}
   */
  async startChat(request) {
    const chat = await this.#loadChat();
    return chat.start(request, { widget: this.chatUi !== null });
  }

  /**
   * Sends a chat message. Resolves with the message once the server has it; it survives page
   * loads and network drops meanwhile (sent again, never doubled).
   * @param {string} text
   * @returns {Promise<ChatMessage>}
   */
  async sendChat(text) {
    return (await this.#loadChat()).say(text);
  }

  /**
   * Ends the chat, and with it any co-browse session riding on it.
   * @returns {Promise<void>}
   */
  async endChat() {
    return (await this.#loadChat()).end();
  }

  /**
   * Shows the built-in chat widget, open (for a site's own "chat" button).
   * @returns {Promise<void>}
   */
  async openChat() {
    await this.#loadChat();
    this.#chatWidget(/** @type {typeof import('./chat/index.js')} */ (this.chatModules))?.open();
  }

  /**
   * Loads the chat modules (once), creates the chat and resumes one from an earlier page of
   * this tab; shows the widget where it is on.
   * @returns {Promise<ChatSession>}
   */
  #loadChat() {
    if (!this.initialized) return this.init().then(() => this.#loadChat());
    if (!this.chatLoading) {
      this.chatLoading = (async () => {
        const modules = await import('./chat/index.js');
        this.chatModules = modules;
        const win = this.#win();
        const store = new modules.ChatStore(this.#storage(), CHAT_STORAGE_KEY);
        const chat = new modules.ChatSession({
          store,
          base: () => serverBase(this.options.server ?? '', win.location.href),
          fetch: this.#fetch(),
          createSocket: this.#socketFactory(),
          timers: timersOf(win),
          emit: (type, detail) => this.#emit(type, detail),
          onChange: () => this.chatUi?.render(),
        });
        this.chat = chat;
        const stored = store.load();
        if (stored) chat.resume(stored);
        if (this.options.chat || stored?.widget) this.#chatWidget(modules);
        return chat;
      })();
      this.chatLoading.catch(() => {
        this.chatLoading = null; // try again next time
      });
    }
    return this.chatLoading;
  }

  /**
   * The chat widget, created on first use; null with `ui: false`.
   * @param {typeof import('./chat/index.js')} modules
   * @returns {ChatUi | null}
   */
  #chatWidget(modules) {
    if (this.chatUi || !this.ui || !this.chat || this.options.ui === false) return this.chatUi;
    this.chatUi = new modules.ChatUi(this.#win().document, this.ui, this.chat, {
      startCobrowse: () => this.startFromChat(),
      cobrowseOn: () => this.state === 'active' || this.state === 'starting' || this.state === 'standby',
      storage: this.#storage(),
    });
    this.chatUi.render();
    return this.chatUi;
  }

  /** @returns {Storage | null} */
  #storage() {
    return this.options.storage !== undefined ? this.options.storage : safeSessionStorage(this.#win());
  }

  /**
   * @param {SessionRequest} request
   * @param {'chat' | 'voice' | undefined} via
   * @returns {Promise<{id: string}>}
   */
  async #create(request, via) {
    const win = this.#win();
    this.#setState('starting');
    this.ui?.setStarting(true);
    try {
      const base = serverBase(this.options.server ?? '', win.location.href);
      const created = await createSession(this.#fetch(), base, request);
      const wsUrl = websocketUrl(created.ws_url, base);
      /** @type {StoredSession} */
      const session = { id: created.id, token: created.token, wsUrl, lastServerSeq: 0 };
      if (via) session.via = via;
      this.store?.save(session);
      this.#begin(session, created.policy);
      return { id: created.id };
    } catch (err) {
      this.#setState('idle');
      this.ui?.setStarting(false);
      if (err instanceof ApiError && err.code === 'interaction_required') {
        // Co-browse rides on a chat or a call: ask the customer to start one.
        this.ui?.showPrompt(this.chat?.state === 'queued'
          ? 'Co-browsing can start once an agent answers your chat (or if you are on a call with us)'
          : 'Co-browsing works alongside a chat or a call with us');
      } else {
        this.ui?.notice('Co-browse could not start. Please try again.', { timers: timersOf(win) });
      }
      this.#emit('error', { error: err });
      throw err;
    }
  }

  /**
   * Ends the session (the agent is told) and stops sharing.
   * @returns {Promise<void>}
   */
  stop() {
    if (this.state === 'standby') return this.#stopFromStandby();
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

  /** @param {StoredSession} stored */
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
    if (this.state === 'active') return; // another tab handed the session over meanwhile
    this.#begin(this.store?.load() ?? stored, policy);
  }

  /**
   * Starts sharing this page in a session.
   * @param {StoredSession} session
   * @param {Policy} policy
   */
  #begin(session, policy) {
    const win = this.#win();
    this.#teardown();
    this.sessionId = session.id;
    this.session = session;
    this.policy = policy;
    this.snapshotSent = false;
    this.stopping = null;
    this.leavingTo = 'unknown';
    const rules = new MaskRules(policy, win.document);
    const ui = this.ui;
    const uiHost = ui?.host ?? null;
    const timers = timersOf(win);
    const transport = new Transport({
      url: session.wsUrl,
      session: session.id,
      token: session.token,
      lastServerSeq: session.lastServerSeq,
      createSocket: this.#socketFactory(),
      timers,
      onWelcome: (welcome, needSnapshot) => this.#welcome(welcome, needSnapshot),
      onFrame: (frame) => this.#frame(frame),
      onFatal: (error) => (error.code === 'superseded' ? this.#standby() : this.#finish(error.code)),
      onPersist: (seq) => this.store?.saveSeq(seq),
      onOversize: (tag, body, bytes) => this.#oversize(tag, body, bytes),
      workerScope: this.options.compressionWorker === false ? {} : undefined,
    });
    this.transport = transport;
    const canvas = this.options.canvas;
    const recorder = new Recorder({
      win,
      rules,
      ignore: (node) => node === uiHost,
      emit: (tag, body) => transport.send(tag, body),
      timers,
      sliceMs: this.options.sliceMs,
      scrolledElements: this.scrolledElements,
      maskUrl: (url) => maskQueryParams(url, this.store?.maskedParams() ?? []),
      canvasMs: canvas === true ? 1000 : typeof canvas === 'number' && canvas > 0 ? canvas : 0,
    });
    this.recorder = recorder;
    this.executor = new ActionExecutor({
      win,
      rules,
      nodeById: (nodeId) => recorder.nodeById(nodeId),
      isWriteMode: () => this.mode === 'write',
      siteOrigins: () => this.policy?.site_origins ?? [],
      onDispatch: (on) => {
        recorder.dispatchingAction = on;
      },
    });
    recorder.start();
    this.#watchPage(win);
    transport.connect();
    ui?.showSession(session.id, session.via);
    ui?.setMode(this.mode);
    this.#setState('active');
    this.#emit('session_started', { id: session.id });
  }

  /** Stops the recorder and the page watchers of the current sharing period. */
  #teardown() {
    this.recorder?.stop();
    this.recorder = null;
    this.executor = null;
    for (const cleanup of this.cleanups.splice(0)) cleanup();
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
    this.observers.clear();
    for (const p of welcome.participants) if (p.role === 'observer') this.observers.set(p.id, p);
    this.#showObservers();
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
        // run() answers null when the action was carried out.
        const refusal = this.executor ? this.executor.run(frame.body) : 'not_in_write_mode';
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
      case 'observer_joined':
        if (notice.who) this.observers.set(notice.who.id, notice.who);
        this.#showObservers();
        this.ui?.notice(`${notice.who?.name || 'A supervisor'} is now watching this session. They can see the page but cannot act on it.`, { timers });
        break;
      case 'observer_left':
        if (notice.who) this.observers.delete(notice.who.id);
        else this.observers.clear();
        this.#showObservers();
        break;
      default:
        break;
    }
    this.#emit('notice', { code: notice.code, who: notice.who ?? null, detail: notice.detail ?? null });
  }

  #showObservers() {
    const observers = Array.from(this.observers.values());
    this.ui?.setObservers(observers.map((p) => p.name));
    this.#emit('observers_changed', { observers });
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
    const id = this.sessionId;
    if (this.state === 'active' && id) this.tabs?.post({ t: 'ended', id, reason });
    this.#teardown();
    this.transport?.close();
    this.store?.clear();
    this.#clearClaim();
    this.mode = 'pointer';
    this.agentPresent = false;
    this.observers.clear();
    this.ui?.setObservers([]);
    this.#setState('ended');
    this.ui?.showEnded(END_REASON_TEXT[reason] ?? 'The co-browse session has ended.');
    this.#emit('session_ended', { id, reason });
  }

  // ------------------------------------------------------------------------------------------
  // Frames larger than the server accepts

  /**
   * A frame the transport could not send because it is too large.
   * @param {FrameTag} tag
   * @param {any} body
   * @param {number} bytes
   */
  #oversize(tag, body, bytes) {
    const transport = this.transport;
    const recorder = this.recorder;
    if (!transport || !recorder) return;
    const limit = Math.max(1024, Math.floor(transport.maxFrameBytes / 16));
    if (tag === 'mut') {
      /** @type {Op[]} */
      const ops = body.ops;
      if (ops.length > 1) {
        for (const part of splitOps(ops)) transport.send('mut', { ops: part });
        return;
      }
      const smaller = this.shrunk.has(body) ? null : shrinkOp(ops[0], limit);
      if (smaller) {
        const next = { ops: [smaller] };
        this.shrunk.add(next);
        transport.send('mut', next);
        return;
      }
      // One op larger than a frame: only a new snapshot makes the mirror whole again.
      recorder.snapshot();
      return;
    }
    if (tag === 'snapshot') {
      const smaller = this.shrunk.has(body) ? null : shrinkSnapshot(body, limit);
      if (smaller) {
        this.shrunk.add(smaller);
        transport.send('snapshot', smaller);
        return;
      }
      // Still too large: the agent sees a short notice instead, and the page is tried again later.
      console.warn(`Cobrowse: this page (${bytes} bytes) is too large to share; trying again in ${this.tooLargeRetryMs / 1000} s.`);
      const placeholder = placeholderSnapshot(body, () => recorder.registry.reserve());
      recorder.holdUntilRetry(this.tooLargeRetryMs);
      transport.send('snapshot', placeholder);
      this.#emit('page_too_large', { bytes });
      return;
    }
    console.warn(`Cobrowse: a ${tag} frame of ${bytes} bytes is larger than the server accepts and was left out.`);
  }

  // ------------------------------------------------------------------------------------------
  // Tabs: the tab the customer last focused is the one shared.

  /**
   * @param {Window & typeof globalThis} win
   * @returns {boolean}
   */
  #inFront(win) {
    try {
      return win.document.visibilityState !== 'hidden' && win.document.hasFocus();
    } catch {
      return false;
    }
  }

  /** @param {Window & typeof globalThis} win */
  #watchFocus(win) {
    const onFocus = () => this.#claim(true);
    const onVisible = () => {
      if (this.#inFront(win)) this.#claim(true);
    };
    // Pointer and key presses say this tab is in use even where focus events are unreliable.
    const onUse = () => this.#claim(false);
    win.addEventListener('focus', onFocus);
    win.document.addEventListener('visibilitychange', onVisible);
    win.addEventListener('pointerdown', onUse, true);
    win.addEventListener('keydown', onUse, true);
  }

  /**
   * This tab came to the front: ask the sharing tab to hand the session over. A tab that knows
   * the session takes it itself when no tab answers (the sharing tab was closed).
   * @param {boolean} force Not rate-limited (a real focus event).
   */
  #claim(force) {
    if (!this.tabs || this.state === 'active' || this.state === 'starting') return;
    const timers = timersOf(this.#win());
    const now = timers.now();
    // Every click and key press says "in use"; a burst of them needs one message.
    if (!force && now - this.lastClaim < 250) return;
    this.lastClaim = now;
    this.tabs.post({ t: 'focus' });
    if (this.state !== 'standby' || this.claimTimer !== null) return;
    this.claimTimer = timers.setTimeout(() => {
      this.claimTimer = null;
      const stored = this.store?.load();
      if (this.state === 'standby' && stored) void this.#resume(stored);
    }, CLAIM_WAIT_MS);
  }

  #clearClaim() {
    if (this.claimTimer !== null) timersOf(this.#win()).clearTimeout(this.claimTimer);
    this.claimTimer = null;
  }

  /** @param {TabMessage & {from: string}} message */
  #tabMessage(message) {
    const tabs = this.tabs;
    if (!tabs) return;
    switch (message.t) {
      case 'focus':
        if (this.state === 'active') this.#handOver(message.from);
        break;
      case 'handover':
        if (message.to !== tabs.tabId || this.state === 'active') return;
        this.#clearClaim();
        this.store?.save(message.session);
        this.#begin(message.session, message.policy);
        break;
      case 'seq': {
        const stored = this.store?.load();
        if (this.state !== 'active' && stored && stored.id === message.id && message.seq > stored.lastServerSeq) this.store?.saveSeq(message.seq);
        break;
      }
      case 'stop':
        if (this.state === 'active' && this.sessionId === message.id) void this.stop();
        break;
      case 'ended': {
        const stored = this.store?.load();
        if (this.state === 'standby' || (stored && stored.id === message.id)) {
          this.store?.clear();
          this.#finish(message.reason);
        }
        break;
      }
      default:
        break;
    }
  }

  /**
   * Gives the session to another tab: this page stops sharing and the other one connects with
   * the same token, from the last frame this page applied.
   * @param {string} to
   */
  #handOver(to) {
    const transport = this.transport;
    const session = this.session;
    if (!transport || !session || !this.policy) return;
    const handed = { ...session, lastServerSeq: transport.lastServerSeq };
    this.store?.save(handed);
    transport.send('leaving', { to: 'page' });
    transport.detach(HANDOVER_GRACE_MS);
    this.tabs?.post({ t: 'handover', to, session: handed, policy: this.policy });
    this.#standby();
  }

  /** The session goes on in another tab: stop sharing this page, keep the session. */
  #standby() {
    this.#teardown();
    this.transport?.close();
    this.transport = null;
    this.agentPresent = false;
    this.#setState('standby');
    if (this.sessionId) this.ui?.showStandby(this.sessionId, this.session?.via);
  }

  /** Exit pressed in a tab that does not share: the sharing tab ends the session. */
  #stopFromStandby() {
    const id = this.sessionId;
    if (!id) return Promise.resolve();
    this.tabs?.post({ t: 'stop', id });
    return new Promise(/** @param {(value?: void) => void} resolve */ (resolve) => {
      const win = this.#win();
      const timer = win.setTimeout(async () => {
        // No tab answered: take the session and end it from here.
        const stored = this.store?.load();
        if (this.state === 'standby' && stored) {
          await this.#resume(stored);
          await this.stop();
        }
        resolve();
      }, 1500);
      this.addEventListener('session_ended', () => {
        win.clearTimeout(timer);
        resolve();
      }, { once: true });
    });
  }

  // ------------------------------------------------------------------------------------------

  /**
   * Tells the server where the page is going as it unloads, and sends the page again when the
   * browser brings it back from its back-forward cache.
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
    const onSubmit = (/** @type {Event} */ event) => {
      this.leavingTo = 'page';
      // A GET form puts its fields into the next page's address: masked ones must not show there.
      const form = /** @type {HTMLFormElement} */ (event.target);
      const rules = this.recorder?.rules;
      if (!rules || !form || form.localName !== 'form' || (form.method || 'get').toLowerCase() !== 'get') return;
      /** @type {string[]} */
      const names = [];
      for (const field of Array.from(form.elements)) {
        const name = field.getAttribute('name');
        if (name && rules.isMasked(field, win.location.href)) names.push(name);
      }
      if (names.length > 0) this.store?.addMaskedParams(names);
    };
    const onHide = () => {
      this.recorder?.flush();
      this.transport?.send('leaving', { to: this.leavingTo });
      const transport = this.transport;
      if (this.sessionId && transport) this.tabs?.post({ t: 'seq', id: this.sessionId, seq: transport.lastServerSeq });
    };
    const onShow = (/** @type {PageTransitionEvent} */ event) => {
      if (!event.persisted || this.state !== 'active') return;
      // Restored from the back-forward cache: the server's page is whatever came after.
      this.leavingTo = 'unknown';
      this.transport?.connect();
      this.recorder?.snapshot();
    };
    win.document.addEventListener('click', onClick, true);
    win.document.addEventListener('submit', onSubmit, true);
    win.addEventListener('pagehide', onHide);
    win.addEventListener('pageshow', onShow);
    this.cleanups.push(() => {
      win.document.removeEventListener('click', onClick, true);
      win.document.removeEventListener('submit', onSubmit, true);
      win.removeEventListener('pagehide', onHide);
      win.removeEventListener('pageshow', onShow);
    });
  }

  /** @param {ClientState} state */
  #setState(state) {
    if (state === this.state) return;
    this.state = state;
    this.#emit('state', { state });
    this.chatUi?.render(); // its "Start co-browse" follows the session
  }

  /** @returns {(url: string) => SocketLike} */
  #socketFactory() {
    const win = this.#win();
    return this.options.createSocket ?? ((url) => /** @type {SocketLike} */ (/** @type {unknown} */ (new win.WebSocket(url))));
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
