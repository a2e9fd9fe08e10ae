// The workspace's HTTP calls: sign-in, who am I, sign-out, join, watch, whether the server's
// resource proxy is there, chat transcripts and the demo's simulated calls. Errors come back as ApiError with the server's stable code;
// `explainJoinError` turns them into words for the agent.

/**
 * @typedef {object} Agent
 * @property {string} id
 * @property {string} name
 * @property {boolean} [supervisor] May watch sessions read-only (when policy allows).
 */

/**
 * @typedef {object} JoinGrant
 * @property {string} token Participant token for the socket's hello.
 * @property {string} session The session ID.
 * @property {string} ws_url Path or URL of the WebSocket endpoint.
 * @property {boolean} write_mode_allowed
 */

/**
 * Who is signed in, and what the server offers them.
 * @typedef {object} Me
 * @property {Agent} agent
 * @property {boolean} demo The server runs the demo: the desk offers a simulated call.
 * @property {boolean} write_mode_allowed
 * @property {boolean} observers_allowed
 */

/**
 * One stored line of a chat transcript.
 * @typedef {object} TranscriptLine
 * @property {number} message_id
 * @property {string} author `customer`, `agent` or `system`
 * @property {string} name
 * @property {string} text
 * @property {string} at RFC 3339
 */

/** Where the server proxies the customer's stylesheets, images and fonts. */
export const PROXY_PATH = '/proxy';

/**
 * The rebuilder's proxy hook: an absolute resource URL becomes the URL of the server's resource
 * proxy, on the workspace's own origin. The result is absolute because the rebuilt document's
 * base is a blob URL, against which paths do not resolve. A fragment stays outside the query,
 * where `<use href="sprite.svg#icon">` needs it. Resources on the workspace's own origin (the
 * demo site the server itself serves) are this server's already and load directly.
 * @param {string} origin the workspace's origin, e.g. https://cobrowse.example.com
 * @returns {(absolute: string) => string}
 */
export function proxyUrlFor(origin) {
  return (absolute) => {
    if (absolute.startsWith(`${origin}/`)) return absolute;
    const hash = absolute.indexOf('#');
    const resource = hash >= 0 ? absolute.slice(0, hash) : absolute;
    const fragment = hash >= 0 ? absolute.slice(hash) : '';
    return `${origin}${PROXY_PATH}?url=${encodeURIComponent(resource)}${fragment}`;
  };
}

export class ApiError extends Error {
  /**
   * @param {number} status HTTP status, 0 when the server could not be reached
   * @param {string} code stable error code
   * @param {string} message
   */
  constructor(status, code, message) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
  }
}

/** @typedef {(input: string, init?: RequestInit) => Promise<Response>} FetchLike */

export class Api {
  /** @param {FetchLike} [fetchImpl] */
  constructor(fetchImpl) {
    /** @type {FetchLike} */
    this.fetch = fetchImpl ?? ((input, init) => fetch(input, init));
  }

  /**
   * @param {string} username
   * @param {string} password
   * @returns {Promise<Agent>}
   */
  async login(username, password) {
    const body = /** @type {{agent: Agent}} */ (await this.request('POST', '/api/v1/auth/login', { username, password }));
    return body.agent;
  }

  /** @returns {Promise<Me | null>} the signed-in agent and the server's offer, or null */
  async me() {
    try {
      const body = /** @type {Partial<Me> & {agent: Agent}} */ (await this.request('GET', '/api/v1/auth/me'));
      return {
        agent: body.agent,
        demo: body.demo === true,
        write_mode_allowed: body.write_mode_allowed !== false,
        observers_allowed: body.observers_allowed !== false,
      };
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) return null;
      throw err;
    }
  }

  async logout() {
    await this.request('POST', '/api/v1/auth/logout', {});
  }

  /**
   * @param {string} sessionId nine digits
   * @returns {Promise<JoinGrant>}
   */
  async join(sessionId) {
    return /** @type {JoinGrant} */ (await this.request('POST', `/api/v1/sessions/${encodeURIComponent(sessionId)}/join`, {}));
  }

  /**
   * A supervisor watches a session read-only.
   * @param {string} sessionId nine digits
   * @returns {Promise<JoinGrant>}
   */
  async watch(sessionId) {
    return /** @type {JoinGrant} */ (await this.request('POST', `/api/v1/sessions/${encodeURIComponent(sessionId)}/watch`, {}));
  }

  /**
   * A chat's stored transcript (the chat's agent or a supervisor).
   * @param {string} chatId
   * @returns {Promise<TranscriptLine[]>}
   */
  async transcript(chatId) {
    const body = /** @type {{messages?: TranscriptLine[]}} */ (await this.request('GET', `/api/v1/chats/${encodeURIComponent(chatId)}/transcript`));
    return Array.isArray(body.messages) ? body.messages : [];
  }

  /**
   * The demo's simulated call to the signed-in agent: start one, or end it.
   * @param {'start' | 'end'} action
   */
  async demoCall(action) {
    await this.request('POST', '/api/v1/demo/calls', { action });
  }

  /**
   * Whether the server serves the resource proxy (`GET /proxy?url=`): asking it for something
   * that is not a URL gets 400 from a working proxy, 404 when there is none or it is disabled.
   * @returns {Promise<boolean>}
   */
  async proxyAvailable() {
    try {
      const response = await this.fetch(`${PROXY_PATH}?url=`, { credentials: 'same-origin', headers: { accept: 'application/json' } });
      return response.status !== 404 && response.status < 500;
    } catch {
      return false;
    }
  }

  /**
   * @param {string} method
   * @param {string} path
   * @param {unknown} [body]
   * @returns {Promise<unknown>}
   */
  async request(method, path, body) {
    /** @type {Response} */
    let response;
    try {
      response = await this.fetch(path, {
        method,
        credentials: 'same-origin',
        headers: body === undefined ? { accept: 'application/json' } : { 'content-type': 'application/json', accept: 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch {
      throw new ApiError(0, 'network', 'The server could not be reached.');
    }
    const text = await response.text();
    /** @type {any} */
    let parsed = null;
    try {
      parsed = text ? JSON.parse(text) : {};
    } catch {
      parsed = null;
    }
    if (!response.ok) {
      const code = parsed?.error?.code ?? (response.status === 401 ? 'unauthenticated' : 'internal');
      const message = parsed?.error?.message ?? `Request failed (${response.status}).`;
      throw new ApiError(response.status, String(code), String(message));
    }
    return parsed ?? {};
  }
}

/**
 * What to tell the agent when a join fails.
 * @param {unknown} err
 * @returns {string}
 */
export function explainJoinError(err) {
  if (!(err instanceof ApiError)) return 'Joining failed. Try again.';
  switch (err.code) {
    case 'agent_busy':
      return 'You already have a co-browse session. Exit it before joining another.';
    case 'session_not_found':
      return 'No session has this ID. Check the nine digits with the customer.';
    case 'session_ended':
      return 'This session has ended. Ask the customer to start a new one.';
    case 'rate_limited':
      return 'Too many join attempts. Wait a moment, then try again.';
    case 'unauthenticated':
      return 'Your sign-in has expired. Sign in again.';
    case 'invalid_request':
      return 'A session ID is nine digits.';
    case 'wrong_role':
      return 'Watching sessions needs a supervisor account, and the policy must allow it.';
    case 'session_taken':
      return 'Another agent is already in this session, or it belongs to another agent’s chat.';
    case 'interaction_required':
      return 'You can join a customer’s session while you are on a call with them, or from their chat.';
    case 'network':
      return 'The server could not be reached. Check your connection.';
    default:
      return err.message || 'Joining failed. Try again.';
  }
}

/**
 * What to tell the agent when sign-in fails.
 * @param {unknown} err
 * @returns {string}
 */
export function explainLoginError(err) {
  if (err instanceof ApiError) {
    if (err.status === 401 || err.code === 'unauthenticated') return 'Wrong username or password.';
    if (err.code === 'rate_limited') return 'Too many attempts. Wait a moment, then try again.';
    if (err.code === 'network') return 'The server could not be reached.';
    return err.message;
  }
  return 'Sign-in failed.';
}
