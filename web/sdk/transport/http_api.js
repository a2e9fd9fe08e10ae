// The HTTP calls the SDK makes: create a session, read the masking policy, start a chat.

import { normalizePolicy } from '../capture/rules.js';

/** @typedef {import('../protocol.js').CreatedSession} CreatedSession */
/** @typedef {import('../protocol.js').Policy} Policy */

/** An HTTP call failed; `code` is the server's error code when it sent one. */
export class ApiError extends Error {
  /**
   * @param {string} code
   * @param {string} message
   * @param {number} status
   */
  constructor(code, message, status) {
    super(message);
    this.name = 'ApiError';
    this.code = code;
    this.status = status;
  }
}

/**
 * The server's base URL: `server` resolved against the page (empty means the page's origin).
 * @param {string} server
 * @param {string} pageUrl
 * @returns {string}
 */
export function serverBase(server, pageUrl) {
  const base = new URL(server || '/', pageUrl);
  return base.href.endsWith('/') ? base.href : `${base.href}/`;
}

/**
 * The WebSocket URL for a `ws_url` the server gave (a path or a full URL).
 * @param {string} wsUrl
 * @param {string} base Server base URL.
 * @returns {string}
 */
export function websocketUrl(wsUrl, base) {
  const url = new URL(wsUrl, base);
  if (url.protocol === 'http:') url.protocol = 'ws:';
  if (url.protocol === 'https:') url.protocol = 'wss:';
  return url.href;
}

/**
 * @param {Response} response
 * @returns {Promise<any>}
 */
async function readJson(response) {
  /** @type {any} */
  let body = null;
  try {
    body = await response.json();
  } catch {
    body = null;
  }
  if (!response.ok) {
    const code = body?.error?.code ?? 'http_error';
    const message = body?.error?.message ?? `HTTP ${response.status}`;
    throw new ApiError(code, message, response.status);
  }
  return body;
}

/**
 * What a new session rides on: nothing (standalone, when the server's policy allows it), the
 * customer's chat, or a phone call (`channel: "voice"`: the customer reads the ID to the agent).
 * @typedef {{} | {chat: {id: string, token: string}} | {channel: 'voice'}} SessionRequest
 */

/**
 * `POST /api/v1/sessions`.
 * @param {typeof fetch} fetchFn
 * @param {string} base
 * @param {SessionRequest} [request]
 * @returns {Promise<CreatedSession>}
 */
export async function createSession(fetchFn, base, request = {}) {
  const response = await fetchFn(new URL('api/v1/sessions', base).href, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(request),
    credentials: 'omit',
  });
  const body = await readJson(response);
  if (typeof body?.id !== 'string' || typeof body?.token !== 'string') throw new ApiError('invalid_response', 'unexpected answer from the server', response.status);
  return {
    id: body.id,
    token: body.token,
    ws_url: typeof body.ws_url === 'string' ? body.ws_url : '/ws/v1',
    protocol_version: Number(body.protocol_version) || 1,
    policy: normalizePolicy(body.policy),
  };
}

/**
 * `GET /api/v1/sdk/config`: the policy, so masking applies from the first snapshot.
 * @param {typeof fetch} fetchFn
 * @param {string} base
 * @returns {Promise<Policy>}
 */
export async function fetchPolicy(fetchFn, base) {
  const response = await fetchFn(new URL('api/v1/sdk/config', base).href, { credentials: 'omit' });
  return normalizePolicy(await readJson(response));
}

/**
 * `POST /api/v1/chats`: starts a chat; it waits in the queue until an agent accepts it.
 * @param {typeof fetch} fetchFn
 * @param {string} base
 * @param {{name: string, message?: string}} request
 * @returns {Promise<import('../chat/chat_protocol.js').CreatedChat>}
 */
export async function createChat(fetchFn, base, request) {
  /** @type {{name: string, message?: string}} */
  const body = { name: request.name };
  if (request.message) body.message = request.message;
  const response = await fetchFn(new URL('api/v1/chats', base).href, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    credentials: 'omit',
  });
  const answer = await readJson(response);
  if (typeof answer?.id !== 'string' || typeof answer?.token !== 'string') throw new ApiError('invalid_response', 'unexpected answer from the server', response.status);
  return { id: answer.id, token: answer.token, ws_url: typeof answer.ws_url === 'string' ? answer.ws_url : '/ws/v1/chat' };
}
