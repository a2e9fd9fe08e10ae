// The workspace controller: sign-in, joining (or, for supervisors, watching read-only), the
// session toolbar, notices, the connection and latency indicator, and the wiring of
// transport ⇄ viewer. Resources of the customer's page load through the server's resource proxy
// when it has one. Beside the co-browse view runs the desk (`desk.js`: chats and calls), which
// opens a session through the same join as the Session ID field. It holds the state of one page
// load; `startWorkspace` creates it.

import { parseSessionId, formatSessionId } from '../sdk/protocol.js';
import { Api, ApiError, explainJoinError, explainLoginError, proxyUrlFor } from './api.js';
import { Transport, socketUrl } from './transport.js';
import { Viewer } from './viewer.js';
import { endedText, errorText, interactionEndedText, noticeText, refusalText } from './messages.js';
import { Desk } from './desk.js';
import { joinPhases, markJoin, startJoinTimeline } from './join_timing.js';

/** @typedef {import('../sdk/protocol.js').Frame} Frame */
/** @typedef {import('../sdk/protocol.js').Mode} Mode */
/** @typedef {import('../sdk/protocol.js').ActionKind} ActionKind */
/** @typedef {import('./api.js').Agent} Agent */
/** @typedef {import('./api.js').Me} Me */
/** @typedef {import('./desk_state.js').SessionLink} SessionLink */
/** @typedef {import('./transport.js').TransportStatus} TransportStatus */

/**
 * @typedef {object} SessionState
 * @property {string} id
 * @property {'agent' | 'observer'} role An observer watches read-only.
 * @property {Transport} transport
 * @property {Viewer} viewer
 * @property {Mode} mode
 * @property {boolean} writeAllowed
 * @property {boolean} requestPending
 * @property {boolean} paused
 * @property {boolean} ended
 * @property {string} url
 * @property {number} nextAid
 * @property {Map<number, ActionKind>} actions
 */

/**
 * A viewer made ahead of its session, and how to take it back out of the browser area.
 * @typedef {object} StagedViewer
 * @property {Viewer} viewer
 * @property {() => void} undo
 */

/**
 * @param {Document} doc
 * @param {string} id
 * @returns {HTMLElement}
 */
function byId(doc, id) {
  const el = doc.getElementById(id);
  if (!el) throw new Error(`the workspace page lacks #${id}`);
  return el;
}

/** How long to wait for the desk to hear whether a call ended or went on (transfer, conference). */
const CALL_STATE_GRACE_MS = 1_000;
/** Where the co-browse socket is unless a join's answer says otherwise. */
const DEFAULT_WS_PATH = '/ws/v1';

/**
 * A socket opened while a join request is under way, so its handshake is done by the time the
 * join's token arrives for `hello`.
 * @typedef {object} SocketAhead
 * @property {string} url
 * @property {import('./transport.js').SocketLike} socket
 */

export class Workspace {
  /**
   * @param {Document} doc
   * @param {{api?: Api, location?: {protocol: string, host: string, search: string}, desk?: Partial<import('./desk.js').DeskOptions>}} [options]
   */
  constructor(doc, options = {}) {
    this.doc = doc;
    this.api = options.api ?? new Api();
    this.location = options.location ?? /** @type {Location} */ (doc.defaultView?.location);
    /** @type {Agent | null} */
    this.agent = null;
    /** @type {Desk | null} chats and calls */
    this.desk = null;
    /** @type {Partial<import('./desk.js').DeskOptions>} test seams for the desk (fake sockets, timers) */
    this.deskOptions = options.desk ?? {};
    /** @type {SessionState | null} */
    this.session = null;
    /** @type {Promise<boolean> | null} whether the server's resource proxy is there */
    this.proxyReady = null;
    /** @type {string | null} the session a join request is under way for (the desk and the agent may both ask) */
    this.joining = null;
    /** @type {{viewer: Viewer, proxied: boolean} | null} a hidden viewer made ahead of the first join */
    this.spare = null;
    this.el = {
      signinSection: byId(doc, 'signin-section'),
      signinForm: /** @type {HTMLFormElement} */ (byId(doc, 'signin-form')),
      username: /** @type {HTMLInputElement} */ (byId(doc, 'username')),
      password: /** @type {HTMLInputElement} */ (byId(doc, 'password')),
      signinError: byId(doc, 'signin-error'),
      workspace: byId(doc, 'workspace-section'),
      agentName: byId(doc, 'agent-name'),
      signout: /** @type {HTMLButtonElement} */ (byId(doc, 'signout-btn')),
      joinForm: /** @type {HTMLFormElement} */ (byId(doc, 'join-form')),
      sessionInput: /** @type {HTMLInputElement} */ (byId(doc, 'session-id')),
      joinButton: /** @type {HTMLButtonElement} */ (byId(doc, 'join-btn')),
      watchButton: /** @type {HTMLButtonElement} */ (byId(doc, 'watch-btn')),
      joinError: byId(doc, 'join-error'),
      sessionSection: byId(doc, 'session-section'),
      sessionLabel: byId(doc, 'session-label'),
      writeToggle: /** @type {HTMLButtonElement} */ (byId(doc, 'write-toggle')),
      modeStatus: byId(doc, 'mode-status'),
      highlightTool: /** @type {HTMLButtonElement} */ (byId(doc, 'highlight-tool')),
      zoomFit: /** @type {HTMLButtonElement} */ (byId(doc, 'zoom-fit')),
      zoomActual: /** @type {HTMLButtonElement} */ (byId(doc, 'zoom-actual')),
      navBack: /** @type {HTMLButtonElement} */ (byId(doc, 'nav-back')),
      navForward: /** @type {HTMLButtonElement} */ (byId(doc, 'nav-forward')),
      navReload: /** @type {HTMLButtonElement} */ (byId(doc, 'nav-reload')),
      navbar: /** @type {HTMLElement} */ (byId(doc, 'nav-back').parentElement),
      urlBar: /** @type {HTMLInputElement} */ (byId(doc, 'url-bar')),
      exit: /** @type {HTMLButtonElement} */ (byId(doc, 'exit-session')),
      conn: byId(doc, 'conn-status'),
      area: byId(doc, 'browser-area'),
      paused: byId(doc, 'paused-overlay'),
      notices: byId(doc, 'notices'),
    };
    this.bind();
  }

  async start() {
    /** @type {Me | null} */
    let me = null;
    try {
      me = await this.api.me();
    } catch {
      me = null;
    }
    if (me) this.signedIn(me.agent, me);
    else this.showSignin();
  }

  bind() {
    const el = this.el;
    el.signinForm.addEventListener('submit', (ev) => {
      ev.preventDefault();
      void this.signin();
    });
    el.signout.addEventListener('click', () => void this.signout());
    el.joinForm.addEventListener('submit', (ev) => {
      ev.preventDefault();
      void this.join(el.sessionInput.value);
    });
    el.watchButton.addEventListener('click', () => void this.join(el.sessionInput.value, 'observer'));
    el.writeToggle.addEventListener('click', () => this.toggleWrite());
    el.highlightTool.addEventListener('click', () => {
      const s = this.session;
      if (!s) return;
      const on = el.highlightTool.getAttribute('aria-pressed') !== 'true';
      el.highlightTool.setAttribute('aria-pressed', String(on));
      s.viewer.setHighlighting(on);
    });
    el.zoomFit.addEventListener('click', () => this.setZoom('fit'));
    el.zoomActual.addEventListener('click', () => this.setZoom('actual'));
    el.navBack.addEventListener('click', () => this.act({ do: 'navigate', nav: 'back' }));
    el.navForward.addEventListener('click', () => this.act({ do: 'navigate', nav: 'forward' }));
    el.navReload.addEventListener('click', () => this.act({ do: 'navigate', nav: 'reload' }));
    el.urlBar.addEventListener('keydown', (ev) => {
      if (ev.key !== 'Enter') return;
      ev.preventDefault();
      this.navigateTo(el.urlBar.value);
    });
    el.exit.addEventListener('click', () => this.exit());
  }

  // ------------------------------------------------------------------------------------------
  // Sign-in

  showSignin() {
    this.el.signinSection.hidden = false;
    this.el.workspace.hidden = true;
    this.el.username.focus();
  }

  async signin() {
    const el = this.el;
    el.signinError.textContent = '';
    const username = el.username.value.trim();
    if (!username || !el.password.value) {
      el.signinError.textContent = 'Enter your username and password.';
      return;
    }
    try {
      const agent = await this.api.login(username, el.password.value);
      el.password.value = '';
      /** @type {Me | null} */
      let me = null;
      try {
        me = await this.api.me();
      } catch {
        me = null; // the desk works without the server's offer; there is just no simulated call
      }
      this.signedIn(agent, me);
    } catch (err) {
      el.signinError.textContent = explainLoginError(err);
    }
  }

  /**
   * @param {Agent} agent
   * @param {Me | null} me what the server offers (demo mode, policy), when known
   */
  signedIn(agent, me) {
    this.agent = agent;
    this.el.signinSection.hidden = true;
    this.el.workspace.hidden = false;
    this.el.agentName.textContent = agent.name;
    this.el.watchButton.hidden = !agent.supervisor || me?.observers_allowed === false;
    this.proxyReady = this.api.proxyAvailable();
    void this.warmViewer();
    this.el.sessionInput.focus();
    this.desk?.stop();
    this.desk = new Desk(this.doc, {
      api: this.api,
      location: this.location,
      demo: me?.demo === true,
      openSession: (session, why, link) => this.openFromDesk(session, why, link),
      cobrowsing: () => (this.session && !this.session.ended && this.session.role === 'agent' ? this.session.id : null),
      signedOut: () => this.signedOutElsewhere(),
      ...this.deskOptions,
    });
    this.desk.start();
    const fromChat = new URLSearchParams(this.location.search).get('session');
    if (fromChat && !this.session) void this.join(fromChat);
  }

  async signout() {
    if (this.session && !this.session.ended) this.exit();
    this.desk?.stop();
    this.desk = null;
    try {
      await this.api.logout();
    } catch {
      // Signed out locally either way.
    }
    this.agent = null;
    this.showSignin();
  }

  /** The sign-in expired or was ended elsewhere (the desk found out). */
  signedOutElsewhere() {
    this.desk?.stop();
    this.desk = null;
    if (this.session && !this.session.ended) this.finish('Your sign-in has expired. Sign in again.');
    this.agent = null;
    this.el.signinError.textContent = 'Your sign-in has expired. Sign in again.';
    this.showSignin();
  }

  /**
   * The desk asks to open a co-browse session: the customer started it in a chat, the desk
   * lists it after a reload, or the agent followed a `{start:…}` link in a transcript. It goes
   * through the same join as typing the ID; one session at a time still holds.
   * @param {string} id
   * @param {'started' | 'resume' | 'link'} why
   * @param {SessionLink | null} link
   */
  openFromDesk(id, why, link) {
    const s = this.session;
    if (s && !s.ended && s.id === id) {
      if (why === 'link') this.say(`Session ${formatSessionId(id)} is already open.`, 'info');
      return;
    }
    if (s && !s.ended) {
      const started = why === 'started' ? `The customer started co-browsing${link?.kind === 'chat' ? ' in a chat' : ''}. ` : '';
      const later = link?.kind === 'chat' ? ', then open it from the chat’s link' : '';
      this.say(`${started}Session ${formatSessionId(id)} cannot open while you are in another co-browse session. Exit that one first${later}.`, 'warning');
      return;
    }
    if (why === 'started') this.say(`The customer started co-browsing${link?.kind === 'chat' ? ' from the chat' : ''}. Opening session ${formatSessionId(id)}…`, 'info');
    void this.join(id, 'agent', { fromDesk: true });
  }

  // ------------------------------------------------------------------------------------------
  // Joining

  /**
   * Joins a session as its agent, or watches it as an observer.
   * @param {string} typed
   * @param {'agent' | 'observer'} [role]
   * @param {{fromDesk?: boolean}} [how] from the desk: errors are also notices, focus stays put
   */
  async join(typed, role = 'agent', how = {}) {
    const el = this.el;
    el.joinError.textContent = '';
    if (this.joining !== null) {
      const wanted = parseSessionId(typed);
      if (how.fromDesk && wanted !== this.joining) this.say(`Co-browse ${formatSessionId(wanted ?? typed)} could not open while another join is under way. Open it from the chat’s link.`, 'warning');
      return;
    }
    if (this.session && !this.session.ended) {
      el.joinError.textContent = 'You already have a co-browse session. Exit it before joining another.';
      if (how.fromDesk) this.say(el.joinError.textContent, 'warning');
      return;
    }
    const id = parseSessionId(typed);
    if (!id) {
      el.joinError.textContent = 'A session ID is nine digits, such as 123 456 789.';
      if (!how.fromDesk) el.sessionInput.focus();
      return;
    }
    this.joining = id;
    el.joinButton.disabled = true;
    el.watchButton.disabled = true;
    startJoinTimeline();
    /** @type {StagedViewer | null} */
    let staged = null;
    /** @type {SocketAhead | null} */
    let ahead = null;
    try {
      const request = role === 'observer' ? this.api.watch(id) : this.api.join(id);
      request.catch(() => {}); // awaited below; this only keeps an early failure from going unhandled
      ahead = this.openSocketAhead();
      const proxy = (await (this.proxyReady ?? Promise.resolve(false))) ? proxyUrlFor(this.origin()) : undefined;
      // While the server answers, the viewer (its iframe and the page's shell document) is set
      // up, so the page can be built the moment it arrives.
      staged = this.stageViewer(role, proxy);
      const grant = await request;
      markJoin('granted');
      this.open(grant.session || id, grant.token, grant.ws_url || DEFAULT_WS_PATH, role === 'agent' && grant.write_mode_allowed, role, proxy, staged.viewer, ahead);
      staged = null;
      ahead = null;
      el.sessionInput.value = '';
    } catch (err) {
      staged?.undo();
      ahead?.socket.close();
      el.joinError.textContent = explainJoinError(err);
      if (how.fromDesk) this.say(`Co-browse ${formatSessionId(id)} could not open: ${explainJoinError(err)}`, 'warning');
      if (err instanceof ApiError && err.code === 'unauthenticated') this.signedOutElsewhere();
    } finally {
      this.joining = null;
      el.joinButton.disabled = false;
      el.watchButton.disabled = false;
    }
    if (!this.session) void this.warmViewer(); // a failed join may have used up the spare
  }

  /**
   * Opens the co-browse socket at its usual address ahead of the join's answer; it says nothing
   * until the answer's token is there (the server waits for `hello`).
   * @returns {SocketAhead | null}
   */
  openSocketAhead() {
    const url = socketUrl(DEFAULT_WS_PATH, this.location);
    try {
      return { url, socket: /** @type {import('./transport.js').SocketLike} */ (/** @type {unknown} */ (new WebSocket(url))) };
    } catch {
      return null; // the transport opens its own
    }
  }

  /** The workspace's own origin (where the resource proxy is). */
  origin() {
    return `${this.location.protocol}//${this.location.host}`;
  }

  /**
   * @param {string} id
   * @param {string} token
   * @param {string} wsUrl
   * @param {boolean} writeAllowed
   * @param {'agent' | 'observer'} [role]
   * @param {(absolute: string) => string} [proxy] maps resource URLs to the resource proxy
   * @param {Viewer} [staged] a viewer set up for this role and proxy while the join was under way
   * @param {SocketAhead | null} [ahead] a socket opened while the join was under way
   */
  open(id, token, wsUrl, writeAllowed, role = 'agent', proxy, staged, ahead) {
    const el = this.el;
    // The socket opens first (or says hello at once, when it was opened ahead), so its
    // handshake, the welcome and the page travel while the viewer and the toolbar are set up
    // below. No frame can arrive before this task ends, and by then `this.session` holds the new
    // session.
    const url = socketUrl(wsUrl, this.location);
    const socket = ahead && ahead.url === url ? ahead.socket : undefined;
    if (ahead && !socket) ahead.socket.close(); // the server named another address
    const transport = new Transport({
      url,
      socket,
      session: id,
      token,
      onFrame: (frame) => this.onFrame(frame),
      onStatus: (status) => this.showStatus(status),
      onRtt: (ms) => this.showRtt(ms),
    });
    this.showStatus('connecting');
    transport.start();
    const viewer = staged ?? this.stageViewer(role, proxy).viewer;
    this.session = {
      id,
      role,
      transport,
      viewer,
      mode: 'pointer',
      writeAllowed,
      requestPending: false,
      paused: false,
      ended: false,
      url: '',
      nextAid: 1,
      actions: new Map(),
    };
    el.sessionLabel.textContent = role === 'observer' ? `Watching session ${formatSessionId(id)}` : `Session ${formatSessionId(id)}`;
    el.exit.textContent = role === 'observer' ? 'Stop watching' : 'Exit Session';
    el.sessionSection.hidden = false;
    el.joinForm.hidden = true;
    el.highlightTool.setAttribute('aria-pressed', 'false');
    this.setPaused(false);
    this.setZoom('fit');
    this.renderMode();
    this.desk?.render(); // the transcript marks the link of the open session
  }

  /**
   * Puts a viewer into the browser area, alone: the spare one made ahead of the first join when
   * it fits the role and proxy, else a new one. It can be staged before the session it will show
   * exists (see `viewerHooks`); `undo` puts back what the area showed before (a join that failed).
   * @param {'agent' | 'observer'} role
   * @param {((absolute: string) => string) | undefined} proxy
   * @returns {StagedViewer}
   */
  stageViewer(role, proxy) {
    const el = this.el;
    const before = Array.from(el.area.childNodes);
    const state = el.area.dataset.state;
    const spare = this.spare;
    this.spare = null;
    const fits = !!spare && role === 'agent' && spare.proxied === (proxy !== undefined);
    const viewer = spare && fits ? spare.viewer : new Viewer(el.area, this.viewerHooks(), { proxy, readOnly: role === 'observer' });
    // A spare that does not fit is dropped (moving an iframe reloads it, so it cannot wait aside).
    const dropped = spare && !fits ? spare.viewer.sizer : null;
    // Everything else leaves the area; the viewer's own elements stay where they are, since
    // moving an iframe reloads it (and its shell document would be lost).
    for (const node of before) if (node !== viewer.sizer) node.remove();
    viewer.sizer.hidden = false;
    delete el.area.dataset.state;
    return {
      viewer,
      undo: () => {
        const anchor = fits ? viewer.sizer : null;
        if (!anchor) viewer.sizer.remove();
        const at = anchor ? before.indexOf(anchor) : -1;
        for (const [i, node] of before.entries()) {
          if (node === anchor || node === dropped) continue;
          if (anchor && i < at) el.area.insertBefore(node, anchor);
          else el.area.appendChild(node);
        }
        if (fits && spare) {
          viewer.sizer.hidden = true;
          this.spare = spare;
        }
        if (state !== undefined) el.area.dataset.state = state;
      },
    };
  }

  /**
   * Sets up a hidden viewer while the workspace waits for its first session, so joining does not
   * wait for an iframe and its shell document to be made: the page is built the moment it
   * arrives. Only into an empty area, so there is never a second view of a page.
   */
  async warmViewer() {
    const proxied = await (this.proxyReady ?? Promise.resolve(false));
    if (!this.agent || this.spare || this.session || this.joining !== null || this.el.area.childNodes.length > 0) return;
    const viewer = new Viewer(this.el.area, this.viewerHooks(), { proxy: proxied ? proxyUrlFor(this.origin()) : undefined });
    viewer.sizer.hidden = true;
    this.spare = { viewer, proxied };
  }

  /**
   * What a viewer asks of the workspace. The hooks act on whatever session is open when they
   * fire (none while a viewer waits for its session).
   * @returns {import('./viewer.js').ViewerHooks}
   */
  viewerHooks() {
    return {
      pointer: (x, y) => this.session?.transport.send('pointer', { x, y }),
      click: (x, y, nodeId) => this.session?.transport.send('click', nodeId === undefined ? { x, y } : { x, y, id: nodeId }),
      highlight: (points) => this.session?.transport.send('highlight', { points }),
      action: (action) => this.act(action),
      resync: (reason) => {
        this.say('Refreshing the customer’s page…', 'info');
        console.warn('cobrowse viewer resync:', reason);
        this.session?.transport.resync();
      },
      notice: (text) => this.say(text, 'info'),
      page: (page) => this.showUrl(page.url),
    };
  }


  // ------------------------------------------------------------------------------------------
  // Frames

  /** @param {Frame} frame */
  onFrame(frame) {
    const s = this.session;
    if (!s) return;
    switch (frame.tag) {
      case 'welcome':
        markJoin('welcome');
        s.mode = frame.body.mode;
        s.writeAllowed = s.role === 'agent' && frame.body.write_mode_allowed;
        s.requestPending = frame.body.mode_request_pending;
        this.renderMode();
        return;
      case 'snapshot':
        markJoin('snapshot');
        this.setPaused(false);
        void s.viewer.handle(frame);
        return;
      case 'mut':
      case 'input':
      case 'scroll':
      case 'viewport':
      case 'focus':
      case 'pointer':
      case 'click':
      case 'highlight':
        void s.viewer.handle(frame);
        return;
      case 'nav':
        this.showUrl(frame.body.url);
        return;
      case 'mode': {
        const before = s.mode;
        s.mode = frame.body.mode;
        s.requestPending = false;
        this.renderMode();
        if (s.role === 'observer') {
          if (frame.body.mode !== before) this.say(frame.body.mode === 'write' ? 'The customer let the agent act on the page (write mode).' : 'The agent is back in pointer mode.', 'info');
        } else if (frame.body.mode === 'write' && before !== 'write') this.say('The customer approved: you are in write mode.', 'success');
        else if (frame.body.mode === 'pointer' && before !== 'pointer') {
          this.say(frame.body.by === 'customer' ? 'The customer took back control: you are in pointer mode.' : 'You are back in pointer mode.', 'info');
        }
        return;
      }
      case 'notice': {
        if (frame.body.code === 'mode_denied') {
          s.requestPending = false;
          this.renderMode();
        }
        if (frame.body.code === 'customer_away' && frame.body.detail === 'site') this.setPaused(true);
        if (frame.body.code === 'customer_back') this.setPaused(false);
        const text = noticeText(frame.body);
        if (text) this.say(text, frame.body.code === 'mode_denied' || frame.body.code === 'customer_away' ? 'warning' : 'info');
        return;
      }
      case 'action_refused': {
        s.viewer.actionRefused(s.actions.get(frame.body.aid));
        s.actions.delete(frame.body.aid);
        this.say(refusalText(frame.body.reason), 'warning');
        return;
      }
      case 'error': {
        if (frame.body.code === 'mode_request_pending') {
          s.requestPending = true;
          this.renderMode();
        } else if (frame.body.code === 'write_mode_disabled') {
          s.writeAllowed = false;
          s.requestPending = false;
          this.renderMode();
        }
        const text = errorText(frame.body.code);
        if (text) this.say(text, 'warning');
        if (frame.body.fatal && ['unauthorized', 'session_ended', 'session_not_found', 'version_mismatch', 'superseded', 'session_taken'].includes(frame.body.code)) {
          this.finish(text ?? 'The session is over.');
        }
        return;
      }
      case 'ended':
        if (frame.body.reason === 'interaction_ended') this.finishWithInteraction(s);
        else this.finish(endedText(frame.body.reason));
        return;
      default:
        return;
    }
  }

  // ------------------------------------------------------------------------------------------
  // Controls

  toggleWrite() {
    const s = this.session;
    if (!s || s.ended || !s.writeAllowed || s.role !== 'agent') return;
    if (s.mode === 'write') {
      s.transport.send('mode_revoke', {});
      return;
    }
    if (s.requestPending) return;
    s.requestPending = true;
    s.transport.send('mode_request', {});
    this.renderMode();
    this.say('Write mode requested. Waiting for the customer…', 'info');
  }

  /**
   * Sends a write-mode action.
   * @param {ActionKind} action
   */
  act(action) {
    const s = this.session;
    if (!s || s.ended || s.role !== 'agent') return;
    if (s.mode !== 'write') {
      this.say('Switch to write mode to act on the customer’s page.', 'info');
      return;
    }
    const aid = s.nextAid++;
    s.actions.set(aid, action);
    if (s.actions.size > 200) s.actions.delete(/** @type {number} */ (s.actions.keys().next().value));
    s.transport.send('action', /** @type {import('../sdk/protocol.js').Action} */ ({ aid, ...action }));
  }

  /** @param {string} typed */
  navigateTo(typed) {
    const s = this.session;
    if (!s) return;
    const text = typed.trim();
    if (!text) return;
    /** @type {URL} */
    let url;
    try {
      url = /^[a-z][a-z0-9+.-]*:/i.test(text) ? new URL(text) : new URL(text, s.url || undefined);
    } catch {
      try {
        url = new URL(`https://${text}`);
      } catch {
        this.say('That is not a web address.', 'warning');
        return;
      }
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      this.say('Only http and https addresses can be opened.', 'warning');
      return;
    }
    this.act({ do: 'navigate', nav: 'url', url: url.href });
  }

  /** @param {'fit' | 'actual'} zoom */
  setZoom(zoom) {
    this.session?.viewer.setZoom(zoom);
    this.el.zoomFit.setAttribute('aria-pressed', String(zoom === 'fit'));
    this.el.zoomActual.setAttribute('aria-pressed', String(zoom === 'actual'));
  }

  exit() {
    const s = this.session;
    if (!s || s.ended) return;
    s.transport.send('end', {});
    if (s.role === 'observer') {
      // The session goes on without the observer; the server tells the others.
      this.finish('You stopped watching the session.');
      return;
    }
    // The server answers with `ended`; if it does not within a moment, leave anyway.
    setTimeout(() => {
      if (this.session === s && !s.ended) this.finish(endedText('agent_exit'));
    }, 2000);
  }

  /**
   * The chat or call the session rode on ended (or the call was transferred or conferenced), so
   * the server ended the session. Says which, when the desk knows what the session rode on. The
   * desk hears of a call's end on its own socket, which may come a moment after this.
   * @param {SessionState} s
   */
  finishWithInteraction(s) {
    const link = this.desk?.linkOf(s.id) ?? null;
    if (link?.kind === 'call' && this.desk?.callActive(link.id)) {
      this.finish(null);
      setTimeout(() => this.say(interactionEndedText('call', this.desk?.callActive(link.id) ?? false), 'warning'), CALL_STATE_GRACE_MS);
      return;
    }
    this.finish(interactionEndedText(link?.kind ?? null, false), 'warning');
  }

  /**
   * @param {string | null} text what to tell the agent (null: the caller says it later)
   * @param {'info' | 'success' | 'warning'} [tone]
   */
  finish(text, tone = 'info') {
    const s = this.session;
    if (!s || s.ended) return;
    s.ended = true;
    s.transport.close();
    s.viewer.clear();
    this.setPaused(false);
    if (text) this.say(text, tone);
    const el = this.el;
    // Focus that was on the session's controls (now hidden) goes to the Session ID field;
    // focus elsewhere (the agent typing in a chat) stays where it is.
    const active = this.doc.activeElement;
    const focusWasHere = !active || active === this.doc.body || el.sessionSection.contains(active) || el.area.contains(active);
    el.sessionSection.hidden = true;
    el.joinForm.hidden = false;
    el.area.dataset.state = 'ended';
    this.showStatus('closed');
    if (focusWasHere) el.sessionInput.focus();
    this.desk?.sessionEnded(s.id); // the chat no longer shows it as co-browsing
  }

  // ------------------------------------------------------------------------------------------
  // Rendering

  renderMode() {
    const s = this.session;
    const el = this.el;
    if (!s) return;
    const observer = s.role === 'observer';
    el.writeToggle.hidden = !s.writeAllowed || observer;
    el.highlightTool.hidden = observer;
    el.navbar.hidden = observer;
    el.writeToggle.disabled = s.requestPending && s.mode !== 'write';
    el.writeToggle.setAttribute('aria-pressed', String(s.mode === 'write'));
    el.writeToggle.textContent = s.mode === 'write' ? 'Back to pointer mode' : s.requestPending ? 'Waiting for the customer…' : 'Request write mode';
    el.modeStatus.textContent = observer ? 'Watching (read-only)' : s.mode === 'write' ? 'Write mode' : 'Pointer mode';
    el.modeStatus.dataset.mode = s.mode;
    const writing = s.mode === 'write';
    for (const button of [el.navBack, el.navForward, el.navReload]) button.disabled = !writing;
    el.urlBar.readOnly = !writing;
    el.highlightTool.disabled = writing;
    if (writing) el.highlightTool.setAttribute('aria-pressed', 'false');
    s.viewer.setMode(s.mode);
  }

  /** @param {boolean} paused */
  setPaused(paused) {
    if (this.session) this.session.paused = paused;
    this.el.paused.hidden = !paused;
  }

  /** @param {string} url */
  showUrl(url) {
    if (this.session) this.session.url = url;
    if (this.doc.activeElement !== this.el.urlBar) this.el.urlBar.value = url;
  }

  /** @param {TransportStatus} status */
  showStatus(status) {
    const labels = { connecting: 'Connecting…', open: 'Connected', reconnecting: 'Reconnecting…', closed: 'Disconnected' };
    this.el.conn.dataset.status = status;
    const rtt = this.el.conn.dataset.rtt;
    this.el.conn.textContent = status === 'open' && rtt ? `${labels[status]} · ${rtt} ms` : labels[status];
  }

  /** @param {number} ms */
  showRtt(ms) {
    this.el.conn.dataset.rtt = String(Math.round(ms));
    if (this.el.conn.dataset.status === 'open') this.showStatus('open');
  }

  /**
   * Adds a notice to the live region (older ones fade out after a while).
   * @param {string} text
   * @param {'info' | 'success' | 'warning'} tone
   */
  say(text, tone) {
    const item = this.doc.createElement('p');
    item.className = `cb-notice cb-notice-${tone}`;
    item.dataset.testid = 'notice';
    item.textContent = text;
    this.el.notices.appendChild(item);
    while (this.el.notices.childElementCount > 5) this.el.notices.firstElementChild?.remove();
    setTimeout(() => item.remove(), 12_000);
  }

  /** What a test needs to see, without reaching into internals. */
  testState() {
    const s = this.session;
    return {
      agent: this.agent?.id ?? null,
      session: s?.id ?? null,
      role: s?.role ?? null,
      proxied: !!s?.viewer.rebuilder.proxy,
      mode: s?.mode ?? null,
      writeAllowed: s?.writeAllowed ?? null,
      requestPending: s?.requestPending ?? null,
      paused: s?.paused ?? false,
      ended: s?.ended ?? null,
      status: s?.transport.status ?? null,
      rtt: s?.transport.rtt ?? null,
      zoom: s?.viewer.zoomMode ?? null,
      scale: s?.viewer.scale ?? null,
      desk: this.desk?.testState() ?? null,
    };
  }
}

/**
 * Starts the workspace on the page. With `?testhook` in the URL, exposes
 * `window.cobrowseAgentTestHook` for end-to-end tests.
 * @param {Document} doc
 * @returns {Workspace}
 */
export function startWorkspace(doc) {
  const workspace = new Workspace(doc);
  void workspace.start();
  const view = doc.defaultView;
  if (view && new URLSearchParams(view.location.search).has('testhook')) {
    /** @type {any} */ (view).cobrowseAgentTestHook = {
      state: () => workspace.testState(),
      rebuiltDocument: () => workspace.session?.viewer.rebuilder.document ?? null,
      joinPhases: () => joinPhases(),
    };
  }
  return workspace;
}
