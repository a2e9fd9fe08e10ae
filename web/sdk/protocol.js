// Wire protocol v1 for the browser code. It copies crates/protocol (frames.rs, node.rs, ops.rs,
// codes.rs, ids.rs), which is the single source of truth; when the crate changes, change this too.
//
// A frame on the wire is a JSON array `[tag, seq, body]`. Control frames (hello, welcome, ack, hb,
// error) carry seq 0; every other frame is numbered from 1, per direction and per participant.

/** The protocol version this code speaks. */
export const PROTOCOL_VERSION = 1;

// ---------------------------------------------------------------------------------------------
// ids.rs

/**
 * A live session's public ID: nine digits as a string ("123456789"), never starting with 0.
 * @typedef {string} SessionId
 */

/**
 * The SDK's number for a DOM node, unique within one page of one session.
 * @typedef {number} NodeId
 */

/**
 * Reads a session ID typed by a person, accepting spaces or dashes between digits
 * ("123 456 789", "123-456-789"). Returns the nine digits, or null when it is not a session ID.
 * @param {string} text
 * @returns {SessionId | null}
 */
export function parseSessionId(text) {
  const trimmed = text.trim();
  if (!/^[0-9][0-9 -]*$/.test(trimmed)) return null;
  const digits = trimmed.replace(/[ -]/g, '');
  if (digits.length !== 9 || digits[0] === '0') return null;
  return digits;
}

/**
 * Formats a session ID in three groups for reading aloud: "123 456 789".
 * @param {SessionId} id
 * @returns {string}
 */
export function formatSessionId(id) {
  return `${id.slice(0, 3)} ${id.slice(3, 6)} ${id.slice(6, 9)}`;
}

// ---------------------------------------------------------------------------------------------
// node.rs

/** Node kinds (`k`). */
export const NodeKind = Object.freeze({
  DOCUMENT: /** @type {'d'} */ ('d'),
  DOCTYPE: /** @type {'t'} */ ('t'),
  ELEMENT: /** @type {'e'} */ ('e'),
  TEXT: /** @type {'x'} */ ('x'),
  COMMENT: /** @type {'c'} */ ('c'),
  SHADOW_ROOT: /** @type {'f'} */ ('f'),
});

/** @typedef {'d' | 't' | 'e' | 'x' | 'c' | 'f'} NodeKindCode */

/** How the customer's browser masked a node (`m`). */
export const MaskKind = Object.freeze({
  VALUE: /** @type {'value'} */ ('value'),
  TEXT: /** @type {'text'} */ ('text'),
  IMAGE: /** @type {'image'} */ ('image'),
});

/** @typedef {'value' | 'text' | 'image'} MaskKindCode */

/** @typedef {'standards' | 'limited-quirks' | 'quirks'} CompatMode */

/**
 * Live state of a form field; each part only where it applies.
 * @typedef {object} FormState
 * @property {string} [v] `.value` of an input or textarea (asterisks when masked).
 * @property {boolean} [ch] `.checked` of a checkbox or radio.
 * @property {number[]} [sel] Indices of the selected options of a `<select>`.
 */

/**
 * One serialized DOM node with its subtree. Optional fields are omitted when empty.
 * @typedef {object} SerializedNode
 * @property {NodeId} id The SDK's ID for this node.
 * @property {NodeKindCode} k Kind.
 * @property {string} [n] Element: `localName` (case kept for SVG); doctype: its name.
 * @property {string} [ns] Element namespace URI when it is not HTML's.
 * @property {Record<string, string>} [a] Attributes in document order.
 * @property {SerializedNode[]} [c] Children in document order.
 * @property {string} [v] Text and comment data.
 * @property {[string, string]} [ids] Doctype `[publicId, systemId]`.
 * @property {FormState} [st] Live form state of input, textarea, select.
 * @property {MaskKindCode} [m] Set when the customer's browser masked this node.
 * @property {boolean} [r] True when the agent may not use this element.
 * @property {SerializedNode} [sh] The element's open shadow root.
 * @property {SerializedNode} [fd] The content document of a same-origin iframe.
 * @property {string} [css] Effective CSS of a `<style>`/`<link>` whose CSSOM script changed.
 * @property {string[]} [as] Adopted stylesheets of a document or shadow root, as CSS text.
 */

// ---------------------------------------------------------------------------------------------
// ops.rs — each op is a JSON array whose first element names it.

/** @typedef {['add', NodeId, NodeId | null, SerializedNode]} AddOp Insert under parent, before a sibling or at the end. */
/** @typedef {['rm', NodeId]} RemoveOp Remove a node and its subtree. */
/** @typedef {['attr', NodeId, string, string | null]} AttrOp Set an attribute, or remove it with null. */
/** @typedef {['text', NodeId, string]} TextOp Replace text or comment data. */
/** @typedef {['css', NodeId, string | null]} CssOp Replace a sheet's effective CSS; null returns to source. */
/** @typedef {['cssins', NodeId, number, string]} CssInsertOp Insert one rule at an index of a sheet's effective CSS. */
/** @typedef {['cssdel', NodeId, number]} CssDeleteOp Delete the rule at an index of a sheet's effective CSS. */
/** @typedef {['adopt', NodeId, string[]]} AdoptOp Replace adopted stylesheets of a document or shadow root. */
/** @typedef {['mark', NodeId, MaskKindCode | null, boolean]} MarkOp Change mask and restriction marks. */
/** @typedef {['shadow', NodeId, SerializedNode]} ShadowOp Attach an open shadow root to a host. */
/** @typedef {['frame', NodeId, SerializedNode | null]} FrameOp Replace or clear an iframe's document. */
/** @typedef {AddOp | RemoveOp | AttrOp | TextOp | CssOp | CssInsertOp | CssDeleteOp | AdoptOp | MarkOp | ShadowOp | FrameOp} Op */

// ---------------------------------------------------------------------------------------------
// frames.rs

/** @typedef {'customer' | 'agent' | 'observer'} Role */
/** @typedef {'pointer' | 'write'} Mode */
/** @typedef {'pending' | 'active' | 'ended'} SessionState */
/** @typedef {'page' | 'site' | 'unknown'} LeavingTo */

/**
 * @typedef {object} Participant
 * @property {Role} role
 * @property {string} id A stable ID (the agent's account ID; `customer` for the customer).
 * @property {string} name The name to show.
 */

/**
 * @typedef {object} Hello
 * @property {number} v Protocol version.
 * @property {SessionId} session
 * @property {string} token Participant token.
 * @property {number} ack Last server sequence seen (0 when none).
 * @property {string[]} [z] Compressions this client can use (`deflate-raw`); absent: none.
 */

/**
 * What `welcome.z` agrees: frames of at least `min` bytes travel compressed with `enc`.
 * @typedef {object} WireCompression
 * @property {'deflate-raw'} enc
 * @property {number} min
 */

/**
 * @typedef {object} Welcome
 * @property {number} v
 * @property {SessionId} session
 * @property {Role} role
 * @property {SessionState} state
 * @property {Mode} mode
 * @property {boolean} write_mode_allowed
 * @property {boolean} mode_request_pending
 * @property {number} ack Last client sequence the server received; resend what follows.
 * @property {boolean} [snapshot_needed] Customer only: send a snapshot now.
 * @property {Participant[]} participants
 * @property {number} heartbeat_ms
 * @property {number} max_frame_bytes
 * @property {WireCompression} [z] Present when compression was agreed.
 */

/** @typedef {{a: number}} Ack Acknowledges every frame up to and including `a`. */

/** @typedef {{ts: number, reply?: boolean}} Heartbeat Answer `reply:false` with the same ts and `reply:true`. */

/**
 * @typedef {object} ErrorBody
 * @property {ErrorCodeValue} code
 * @property {string} message
 * @property {boolean} [fatal] The socket closes after it.
 * @property {number} [seq] The frame that caused it.
 */

/** @typedef {{w: number, h: number, dpr: number}} Viewport */

/** @typedef {{id: NodeId, x: number, y: number}} Scroll */

/** @typedef {{id: NodeId | null, start?: number, end?: number}} Focus */

/**
 * @typedef {object} Snapshot
 * @property {string} url
 * @property {string} [title]
 * @property {string} [charset] Default "UTF-8".
 * @property {CompatMode} [mode] Default "standards".
 * @property {Viewport} vp
 * @property {SerializedNode} doc
 * @property {Scroll[]} [scroll]
 * @property {Focus} [focus]
 */

/** @typedef {{ops: Op[]}} Mutations */

/** @typedef {{id: NodeId} & FormState} Input A field's live state (flattened FormState). */

/**
 * A pointer position. From the customer, `id` names the element under the real pointer (the
 * hovered element), so the agent's view can show hover states; the server relays customer
 * pointer frames as sent. (Not yet in crates/protocol's `Pointer`; the server ignores it.)
 * @typedef {{x: number, y: number, id?: NodeId, by?: Participant}} Pointer
 */

/** @typedef {{x: number, y: number, id?: NodeId, by?: Participant}} Click */

/** @typedef {{points: Array<[number, number]>, by?: Participant}} Highlight */

/** @typedef {{url: string, title?: string}} Navigation */

/** @typedef {{to: LeavingTo}} Leaving */

/** @typedef {{by?: Participant}} ModeRequest */

/** @typedef {{approved: boolean}} ModeAnswer */

/** @typedef {Record<string, never>} ModeRevoke Empty object. */

/** @typedef {{mode: Mode, by: Role}} ModeChanged */

/**
 * @typedef {{nav: 'back'} | {nav: 'forward'} | {nav: 'reload'} | {nav: 'url', url: string}} NavTarget
 */

/**
 * What the agent does (flattened into Action with `do`).
 * @typedef {{do: 'click', id: NodeId, x: number, y: number}
 *   | {do: 'input', id: NodeId, value: string}
 *   | {do: 'select', id: NodeId, selected: number[]}
 *   | {do: 'check', id: NodeId, checked: boolean}
 *   | {do: 'focus', id: NodeId}
 *   | {do: 'key', id: NodeId, key: string}
 *   | {do: 'scroll', id: NodeId, x: number, y: number}
 *   | ({do: 'navigate'} & NavTarget)} ActionKind
 */

/** @typedef {{aid: number} & ActionKind} Action */

/** @typedef {{aid: number, reason: RefusalReasonValue}} ActionRefused */

/**
 * @typedef {object} Notice
 * @property {NoticeCodeValue} code
 * @property {Participant} [who]
 * @property {string} [detail] e.g. where a leaving customer went (`page`, `site`).
 */

/** @typedef {{reason: string}} ResyncRequest */

/** @typedef {Record<string, never>} End Empty object. */

/** @typedef {{reason: EndReasonValue}} Ended */

/**
 * Frame tag → body type.
 * @typedef {object} FrameBodies
 * @property {Hello} hello
 * @property {Welcome} welcome
 * @property {Ack} ack
 * @property {Heartbeat} hb
 * @property {ErrorBody} error
 * @property {Snapshot} snapshot
 * @property {Mutations} mut
 * @property {Input} input
 * @property {Scroll} scroll
 * @property {Viewport} viewport
 * @property {Pointer} pointer
 * @property {Click} click
 * @property {Highlight} highlight
 * @property {Focus} focus
 * @property {Navigation} nav
 * @property {Leaving} leaving
 * @property {ModeRequest} mode_request
 * @property {ModeAnswer} mode_answer
 * @property {ModeRevoke} mode_revoke
 * @property {ModeChanged} mode
 * @property {Action} action
 * @property {ActionRefused} action_refused
 * @property {Notice} notice
 * @property {ResyncRequest} resync
 * @property {End} end
 * @property {Ended} ended
 */

/** @typedef {keyof FrameBodies} FrameTag */

/**
 * A decoded frame. Narrow on `tag` to get the body's type.
 * @typedef {{[T in FrameTag]: {tag: T, seq: number, body: FrameBodies[T]}}[FrameTag]} Frame
 */

/** Every frame tag of protocol v1. */
export const FRAME_TAGS = Object.freeze(
  /** @type {FrameTag[]} */ ([
    'hello', 'welcome', 'ack', 'hb', 'error', 'snapshot', 'mut', 'input', 'scroll', 'viewport',
    'pointer', 'click', 'highlight', 'focus', 'nav', 'leaving', 'mode_request', 'mode_answer',
    'mode_revoke', 'mode', 'action', 'action_refused', 'notice', 'resync', 'end', 'ended',
  ]),
);

/** Control frames: seq 0, never acknowledged or replayed. */
export const CONTROL_TAGS = Object.freeze(
  /** @type {FrameTag[]} */ (['hello', 'welcome', 'ack', 'hb', 'error']),
);

/**
 * @param {string} tag
 * @returns {boolean}
 */
export function isControlTag(tag) {
  return tag === 'hello' || tag === 'welcome' || tag === 'ack' || tag === 'hb' || tag === 'error';
}

// ---------------------------------------------------------------------------------------------
// codes.rs

/** Error codes of `error` frames and HTTP error bodies. */
export const ErrorCode = Object.freeze({
  BAD_FRAME: 'bad_frame',
  UNKNOWN_FRAME: 'unknown_frame',
  FRAME_TOO_LARGE: 'frame_too_large',
  UNKNOWN_ENCODING: 'unknown_encoding',
  BAD_COMPRESSION: 'bad_compression',
  VERSION_MISMATCH: 'version_mismatch',
  HELLO_REQUIRED: 'hello_required',
  UNAUTHORIZED: 'unauthorized',
  SESSION_NOT_FOUND: 'session_not_found',
  SESSION_ENDED: 'session_ended',
  WRONG_ROLE: 'wrong_role',
  NOT_IN_WRITE_MODE: 'not_in_write_mode',
  WRITE_MODE_DISABLED: 'write_mode_disabled',
  MODE_REQUEST_PENDING: 'mode_request_pending',
  AGENT_BUSY: 'agent_busy',
  SESSION_TAKEN: 'session_taken',
  SUPERSEDED: 'superseded',
  AT_CAPACITY: 'at_capacity',
  RATE_LIMITED: 'rate_limited',
  LIMIT_EXCEEDED: 'limit_exceeded',
  MIRROR_REJECTED: 'mirror_rejected',
  SEQUENCE_GAP: 'sequence_gap',
  INVALID_REQUEST: 'invalid_request',
  UNAUTHENTICATED: 'unauthenticated',
  ORIGIN_NOT_ALLOWED: 'origin_not_allowed',
  INTERACTION_REQUIRED: 'interaction_required',
  UNKNOWN_INTERACTION: 'unknown_interaction',
  UNKNOWN_AGENT: 'unknown_agent',
  CHAT_TAKEN: 'chat_taken',
  UPSTREAM_FAILED: 'upstream_failed',
  SERVER_SHUTDOWN: 'server_shutdown',
  INTERNAL: 'internal',
});

/** @typedef {typeof ErrorCode[keyof typeof ErrorCode]} ErrorCodeValue */

/** Why a session ended (`ended` frame). */
export const EndReason = Object.freeze({
  CUSTOMER_EXIT: 'customer_exit',
  AGENT_EXIT: 'agent_exit',
  INTERACTION_ENDED: 'interaction_ended',
  PENDING_TIMEOUT: 'pending_timeout',
  INACTIVITY_TIMEOUT: 'inactivity_timeout',
  CUSTOMER_AWAY: 'customer_away',
  AGENT_AWAY: 'agent_away',
  SERVER_SHUTDOWN: 'server_shutdown',
  PROTOCOL_ERROR: 'protocol_error',
});

/** @typedef {typeof EndReason[keyof typeof EndReason]} EndReasonValue */

/** What a `notice` frame tells. */
export const NoticeCode = Object.freeze({
  AGENT_JOINED: 'agent_joined',
  AGENT_LEFT: 'agent_left',
  AGENT_AWAY: 'agent_away',
  AGENT_BACK: 'agent_back',
  OBSERVER_JOINED: 'observer_joined',
  OBSERVER_LEFT: 'observer_left',
  CUSTOMER_AWAY: 'customer_away',
  CUSTOMER_BACK: 'customer_back',
  MODE_DENIED: 'mode_denied',
});

/** @typedef {typeof NoticeCode[keyof typeof NoticeCode]} NoticeCodeValue */

/** Why the customer's browser refused an agent action (`action_refused`). */
export const RefusalReason = Object.freeze({
  RESTRICTED: 'restricted',
  MASKED: 'masked',
  NOT_FOUND: 'not_found',
  ORIGIN_NOT_ALLOWED: 'origin_not_allowed',
  IMPLICIT_SUBMIT: 'implicit_submit',
  NOT_IN_WRITE_MODE: 'not_in_write_mode',
  UNSUPPORTED: 'unsupported',
});

/** @typedef {typeof RefusalReason[keyof typeof RefusalReason]} RefusalReasonValue */

// ---------------------------------------------------------------------------------------------
// HTTP API shapes (crates/server): POST /api/v1/sessions and GET /api/v1/sdk/config.

/**
 * @typedef {object} MaskingPolicy
 * @property {string[]} fields CSS selectors of fields whose values are masked.
 * @property {string[]} text CSS selectors of elements whose text is masked.
 * @property {string[]} images CSS selectors of images replaced by placeholders.
 * @property {string[]} pages URL glob patterns of pages masked entirely.
 */

/**
 * @typedef {object} Policy
 * @property {boolean} write_mode_allowed
 * @property {MaskingPolicy} masking
 * @property {{selectors: string[]}} restrictions CSS selectors of elements agents may not use.
 * @property {string[]} site_origins Origins the agent may navigate the customer to.
 */

/**
 * @typedef {object} CreatedSession
 * @property {SessionId} id
 * @property {string} token The customer's secret; the only thing that grants the sharer role.
 * @property {string} ws_url Path or URL of the WebSocket endpoint ("/ws/v1").
 * @property {number} protocol_version
 * @property {Policy} policy
 */

/** @typedef {{error: {code: ErrorCodeValue, message: string}}} HttpError */

// ---------------------------------------------------------------------------------------------
// Encoding.

/** Why a text could not be read as a frame; `code` maps to the server's error codes. */
export class FrameDecodeError extends Error {
  /**
   * @param {'bad_frame' | 'unknown_frame'} code
   * @param {string} message
   */
  constructor(code, message) {
    super(message);
    this.name = 'FrameDecodeError';
    /** @type {'bad_frame' | 'unknown_frame'} */
    this.code = code;
  }
}

/**
 * Writes a frame as its wire text.
 * @template {FrameTag} T
 * @param {T} tag
 * @param {number} seq
 * @param {FrameBodies[T]} body
 * @returns {string}
 */
export function encodeFrame(tag, seq, body) {
  return JSON.stringify([tag, seq, body]);
}

const KNOWN_TAGS = new Set(/** @type {string[]} */ (FRAME_TAGS));

/**
 * Reads one frame from its wire text. Checks the envelope (`[tag, seq, body]`, a known tag, a
 * non-negative integer seq, an object body); the body's fields are trusted to the server.
 * @param {string} text
 * @returns {Frame}
 * @throws {FrameDecodeError}
 */
export function decodeFrame(text) {
  /** @type {unknown} */
  let value;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new FrameDecodeError('bad_frame', `not JSON: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (!Array.isArray(value) || value.length !== 3) {
    throw new FrameDecodeError('bad_frame', 'a frame is [tag, seq, body]');
  }
  const [tag, seq, body] = value;
  if (typeof tag !== 'string') throw new FrameDecodeError('bad_frame', 'frame tag is not a string');
  if (typeof seq !== 'number' || !Number.isInteger(seq) || seq < 0) {
    throw new FrameDecodeError('bad_frame', 'frame seq is not a non-negative integer');
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new FrameDecodeError('bad_frame', 'frame body is not an object');
  }
  if (!KNOWN_TAGS.has(tag)) throw new FrameDecodeError('unknown_frame', `unknown frame type ${JSON.stringify(tag.slice(0, 40))}`);
  return /** @type {Frame} */ ({ tag, seq, body });
}
