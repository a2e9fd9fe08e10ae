// Words shown to the agent for protocol codes: notices, end reasons, refusals, socket errors.

/** @typedef {import('../sdk/protocol.js').Notice} Notice */

/**
 * A notice frame as a sentence, or null when it is not worth showing.
 * @param {Notice} notice
 * @returns {string | null}
 */
export function noticeText(notice) {
  const who = notice.who?.name;
  switch (notice.code) {
    case 'customer_away':
      if (notice.detail === 'site') return 'The customer left the site. The session is paused until they return.';
      if (notice.detail === 'page') return 'The customer is loading another page…';
      return 'The customer’s page is reloading or their connection dropped. Waiting for them…';
    case 'customer_back':
      return 'The customer is back.';
    case 'agent_joined':
      return who ? `${who} joined the session.` : 'You joined the session.';
    case 'agent_left':
      return who ? `${who} left the session.` : 'An agent left the session.';
    case 'agent_away':
      return who ? `${who} lost the connection.` : null;
    case 'agent_back':
      return who ? `${who} is back.` : null;
    case 'observer_joined':
      return who ? `${who} is watching the session.` : 'A supervisor is watching the session.';
    case 'observer_left':
      return who ? `${who} stopped watching.` : 'The supervisor stopped watching.';
    case 'mode_denied':
      return 'The customer declined write mode. You are still in pointer mode.';
    default:
      return null;
  }
}

/**
 * Why the session ended, as a sentence.
 * @param {string} reason
 * @returns {string}
 */
export function endedText(reason) {
  switch (reason) {
    case 'customer_exit':
      return 'The customer ended the co-browse session.';
    case 'agent_exit':
      return 'You ended the co-browse session.';
    case 'interaction_ended':
      return 'The chat or call ended, so the co-browse session ended too.';
    case 'pending_timeout':
    case 'inactivity_timeout':
      return 'The co-browse session timed out.';
    case 'customer_away':
      return 'The customer did not come back in time. The session ended.';
    case 'agent_away':
      return 'Your connection was gone too long. The session ended.';
    case 'server_shutdown':
      return 'The server shut down. The session ended.';
    default:
      return 'The co-browse session ended.';
  }
}

/**
 * Why a session ended with `interaction_ended`, knowing what it rode on.
 * @param {'chat' | 'call' | null} kind null when the desk did not know
 * @param {boolean} callGoesOn the call is still on (it was conferenced or came back to this agent)
 * @returns {string}
 */
export function interactionEndedText(kind, callGoesOn) {
  if (kind === 'chat') return 'The chat ended, so co-browsing ended too.';
  if (kind === 'call') {
    return callGoesOn
      ? 'Another party joined the call or it was transferred, so co-browsing ended. The call goes on.'
      : 'The call ended, so co-browsing ended too.';
  }
  return endedText('interaction_ended');
}

/**
 * Why the customer's browser refused an action.
 * @param {string} reason
 * @returns {string}
 */
export function refusalText(reason) {
  switch (reason) {
    case 'restricted':
      return 'That control is restricted for agents.';
    case 'masked':
      return 'That field is masked; agents cannot read or change it.';
    case 'not_found':
      return 'That element is no longer on the page.';
    case 'origin_not_allowed':
      return 'That address is outside the allowed sites.';
    case 'implicit_submit':
      return 'Submitting forms is reserved for the customer.';
    case 'not_in_write_mode':
      return 'You are not in write mode.';
    case 'unsupported':
      return 'That action does not work on this element.';
    default:
      return 'The customer’s browser refused the action.';
  }
}

/**
 * An error frame as a sentence, or null for errors the agent need not see.
 * @param {string} code
 * @returns {string | null}
 */
export function errorText(code) {
  switch (code) {
    case 'not_in_write_mode':
      return 'You are not in write mode; the action was not carried out.';
    case 'write_mode_disabled':
      return 'Write mode is disabled for this session.';
    case 'mode_request_pending':
      return 'A write-mode request is already waiting for the customer.';
    case 'version_mismatch':
      return 'This workspace is out of date. Reload the page.';
    case 'unauthorized':
      return 'You are not allowed in this session.';
    case 'session_ended':
      return 'The session has ended.';
    case 'session_not_found':
      return 'The session no longer exists.';
    case 'server_shutdown':
      return 'The server is restarting. Reconnecting…';
    default:
      return null;
  }
}
