//! Frames: the unit of the protocol. On the wire a frame is `[tag, seq, body]`.
//!
//! `seq` is 0 for control frames (`hello`, `welcome`, `ack`, `hb`, `error`) and counts from 1
//! for everything else, per direction and per participant. The receiver acknowledges with
//! `ack`; a reconnecting client's `hello` says the last sequence it saw, and the server's
//! `welcome` says the last it received, so each side resends or replays exactly what is missing.

use crate::codes::{EndReason, ErrorCode, NoticeCode, RefusalReason};
use crate::ids::{NodeId, SessionId};
use crate::node::{CompatMode, FormState, Node};
use crate::ops::Op;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

/// Who is on the other end of a socket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// The sharer: the customer's browser running the SDK.
    Customer,
    /// The agent who joined with the session ID.
    Agent,
    /// A read-only viewer, such as a supervisor.
    Observer,
}

/// What the agent may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// See and point; nothing the agent does acts on the page.
    #[default]
    Pointer,
    /// The customer consented: the agent's actions are carried out on the customer's page.
    Write,
}

/// Where a session is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SessionState {
    /// Created by the customer; no agent yet.
    Pending,
    /// An agent joined.
    Active,
    /// Over for good.
    Ended,
}

/// A participant as others see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Participant {
    /// Their role.
    pub role: Role,
    /// A stable ID (the agent's account ID; `customer` for the customer).
    pub id: String,
    /// The name to show.
    pub name: String,
}

/// First frame on every socket: who I am and where I left off.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hello {
    /// Protocol version the client speaks.
    pub v: u32,
    /// The session to attach to.
    pub session: SessionId,
    /// The participant token from session creation (customer) or join (agent, observer).
    pub token: String,
    /// The last server sequence this participant has seen (0 when it has seen nothing).
    #[serde(default)]
    pub ack: u64,
    /// Compressions the client can read and write (`"deflate-raw"`); names it does not know are
    /// ignored by the server, and absent means none, so older clients keep plain text.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub z: Vec<String>,
}

/// The server's answer to `hello`: the session as it is now.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Welcome {
    /// Protocol version the server speaks.
    pub v: u32,
    /// The session.
    pub session: SessionId,
    /// The role the token grants.
    pub role: Role,
    /// The session's state.
    pub state: SessionState,
    /// The current mode.
    pub mode: Mode,
    /// Whether policy allows write mode at all (the agent hides the toggle when not).
    pub write_mode_allowed: bool,
    /// Whether a write-mode request is waiting for the customer's answer.
    pub mode_request_pending: bool,
    /// The last client sequence the server received; the client resends what follows.
    pub ack: u64,
    /// Customer only: the server has no current page and wants a snapshot now.
    #[serde(default)]
    pub snapshot_needed: bool,
    /// Everyone attached, this participant included.
    pub participants: Vec<Participant>,
    /// How often the server sends heartbeats; a client silent for three of these is gone.
    pub heartbeat_ms: u64,
    /// The largest frame the server accepts, in bytes.
    pub max_frame_bytes: usize,
    /// The compression both sides use for large frames from now on; absent: none (the client
    /// offered none this server knows, or the server's configuration turned it off).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub z: Option<crate::compression::Compression>,
}

/// Acknowledges every frame up to and including `a`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ack {
    /// The highest sequence received in order.
    pub a: u64,
}

/// Keepalive. The receiver answers a heartbeat that has `reply: false` with one that echoes `ts`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Heartbeat {
    /// Sender's clock in milliseconds, echoed back for round-trip time.
    pub ts: u64,
    /// True on the echo.
    #[serde(default)]
    pub reply: bool,
}

/// A refusal or failure. `fatal` errors are followed by the server closing the socket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorFrame {
    /// Stable code to branch on.
    pub code: ErrorCode,
    /// Plain message for people.
    pub message: String,
    /// True when the socket is about to close.
    #[serde(default)]
    pub fatal: bool,
    /// The sequence of the frame that caused it, when there was one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seq: Option<u64>,
}

/// Viewport of the customer's browser in CSS pixels.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Viewport {
    /// Width.
    pub w: u32,
    /// Height.
    pub h: u32,
    /// Device pixel ratio.
    pub dpr: f64,
}

impl Default for Viewport {
    fn default() -> Self {
        Self { w: 1280, h: 800, dpr: 1.0 }
    }
}

/// A scroll position of an element, or of a document (`id` is then the document node).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Scroll {
    /// The scrolled node.
    pub id: NodeId,
    /// Horizontal offset.
    pub x: f64,
    /// Vertical offset.
    pub y: f64,
}

/// Where focus is, and the caret or selection inside a text field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Focus {
    /// The focused element, or `None` when nothing is focused.
    pub id: Option<NodeId>,
    /// Selection start in a text field.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<u32>,
    /// Selection end in a text field.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end: Option<u32>,
}

/// The whole page: sent by the customer on start and on each page load; sent by the server to
/// a viewer on join, on reconnect and when it fell behind.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    /// Absolute URL of the page.
    pub url: String,
    /// `document.title`.
    #[serde(default)]
    pub title: String,
    /// `document.characterSet`.
    #[serde(default = "utf8")]
    pub charset: String,
    /// Rendering mode.
    #[serde(default)]
    pub mode: CompatMode,
    /// Viewport.
    pub vp: Viewport,
    /// The document node and everything under it.
    pub doc: Node,
    /// Scroll positions of the document and of scrolled elements.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub scroll: Vec<Scroll>,
    /// Focus and caret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub focus: Option<Focus>,
}

fn utf8() -> String {
    "UTF-8".into()
}

/// A batch of DOM changes, applied in order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Mutations {
    /// The operations.
    pub ops: Vec<Op>,
}

/// A form field's live state changed (typing, a checkbox, a select).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Input {
    /// The field.
    pub id: NodeId,
    /// Its new state (masked fields carry asterisks).
    #[serde(flatten)]
    pub state: FormState,
}

/// A pointer position in the page's viewport coordinates.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Pointer {
    /// Horizontal position in CSS pixels from the viewport's left.
    pub x: f64,
    /// Vertical position.
    pub y: f64,
    /// The element under the customer's real pointer, so the agent's view can show hover as the
    /// customer has it. Absent on agents' pointers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<NodeId>,
    /// Who it belongs to; set by the server when it relays.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by: Option<Participant>,
}

/// A click (shown as the red circle when it is the agent's, as a ripple when it is the customer's).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Click {
    /// Horizontal position.
    pub x: f64,
    /// Vertical position.
    pub y: f64,
    /// The element under the pointer, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<NodeId>,
    /// Who clicked; set by the server when it relays.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by: Option<Participant>,
}

/// A short-lived highlight stroke drawn by the agent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Highlight {
    /// Points of the stroke in viewport coordinates.
    pub points: Vec<[f64; 2]>,
    /// Who drew it; set by the server when it relays.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by: Option<Participant>,
}

/// The customer's page changed (a new page loaded or the history API moved).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Navigation {
    /// Absolute URL.
    pub url: String,
    /// Title.
    #[serde(default)]
    pub title: String,
}

/// Where the customer's page is going as it unloads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LeavingTo {
    /// Another page of the site: expect a reconnect within seconds.
    Page,
    /// Another site: the session pauses until the customer returns.
    Site,
    /// Unknown (the tab closed, or the browser gave no hint).
    Unknown,
}

/// Sent by the customer's page as it unloads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Leaving {
    /// Where to.
    pub to: LeavingTo,
}

/// The agent asks for write mode; relayed to the customer with who asked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct ModeRequest {
    /// Who asks; set by the server when it relays.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by: Option<Participant>,
}

/// The customer's answer to a write-mode request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModeAnswer {
    /// True to grant write mode.
    pub approved: bool,
}

/// Back to pointer mode: the customer takes control back, or the agent gives it up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct ModeRevoke {}

/// The session's mode changed (server to everyone).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModeChanged {
    /// The mode now in force.
    pub mode: Mode,
    /// Who caused the change.
    pub by: Role,
}

/// Where an agent's navigation action goes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "nav", rename_all = "snake_case")]
pub enum NavTarget {
    /// History back.
    Back,
    /// History forward.
    Forward,
    /// Reload.
    Reload,
    /// A URL, which the SDK refuses unless it is on an allowed site origin.
    Url {
        /// The absolute URL.
        url: String,
    },
}

/// Something the agent does to the customer's page. Only in write mode.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "do", rename_all = "snake_case")]
pub enum ActionKind {
    /// Click an element at a point.
    Click {
        /// The element.
        id: NodeId,
        /// Horizontal position in viewport coordinates.
        x: f64,
        /// Vertical position.
        y: f64,
    },
    /// Replace a text field's value, firing `input` and `change`.
    Input {
        /// The field.
        id: NodeId,
        /// The new value.
        value: String,
    },
    /// Choose options of a `<select>`.
    Select {
        /// The select.
        id: NodeId,
        /// Indices of the options to select.
        selected: Vec<u32>,
    },
    /// Tick or untick a checkbox or radio.
    Check {
        /// The field.
        id: NodeId,
        /// The new state.
        checked: bool,
    },
    /// Focus an element.
    Focus {
        /// The element.
        id: NodeId,
    },
    /// An editing key (Backspace, Delete, arrows, Tab, Enter) on the focused field.
    Key {
        /// The element.
        id: NodeId,
        /// The `KeyboardEvent.key` value.
        key: String,
    },
    /// Scroll an element or the document.
    Scroll {
        /// The element, or the document node.
        id: NodeId,
        /// Horizontal offset.
        x: f64,
        /// Vertical offset.
        y: f64,
    },
    /// Navigate the customer's tab.
    Navigate(NavTarget),
}

/// An agent action, with an ID the agent chose so a refusal can point back at it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Action {
    /// Agent-chosen action ID, echoed in `action_refused`.
    pub aid: u64,
    /// What to do.
    #[serde(flatten)]
    pub kind: ActionKind,
}

/// The customer's browser refused an action; relayed to the agent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActionRefused {
    /// The action's ID.
    pub aid: u64,
    /// Why.
    pub reason: RefusalReason,
}

/// Something a participant should be told.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notice {
    /// What happened.
    pub code: NoticeCode,
    /// Who it is about.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub who: Option<Participant>,
    /// Extra detail, such as where a leaving customer went (`page`, `site`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// The server asks the customer's browser for a fresh snapshot (the mirror refused an op).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResyncRequest {
    /// Why, for logs.
    pub reason: String,
}

/// A participant exits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct End {}

/// The session is over (server to everyone); the socket closes next.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ended {
    /// Why.
    pub reason: EndReason,
}

/// Every frame of protocol v1.
#[derive(Debug, Clone, PartialEq)]
pub enum Frame {
    /// `hello`: first frame from a client.
    Hello(Hello),
    /// `welcome`: the server's answer to `hello`.
    Welcome(Box<Welcome>),
    /// `ack`: acknowledgement.
    Ack(Ack),
    /// `hb`: heartbeat.
    Heartbeat(Heartbeat),
    /// `error`: refusal.
    Error(ErrorFrame),
    /// `snapshot`: the whole page.
    Snapshot(Box<Snapshot>),
    /// `mut`: a batch of DOM changes.
    Mutations(Mutations),
    /// `input`: a field's live state.
    Input(Input),
    /// `scroll`: a scroll position.
    Scroll(Scroll),
    /// `viewport`: the customer's viewport changed.
    Viewport(Viewport),
    /// `pointer`: a pointer position.
    Pointer(Pointer),
    /// `click`: a click.
    Click(Click),
    /// `highlight`: an agent's highlight stroke.
    Highlight(Highlight),
    /// `focus`: focus or caret moved.
    Focus(Focus),
    /// `nav`: the customer's page changed.
    Navigation(Navigation),
    /// `leaving`: the customer's page is unloading.
    Leaving(Leaving),
    /// `mode_request`: the agent asks for write mode.
    ModeRequest(ModeRequest),
    /// `mode_answer`: the customer answers.
    ModeAnswer(ModeAnswer),
    /// `mode_revoke`: back to pointer mode.
    ModeRevoke(ModeRevoke),
    /// `mode`: the mode changed.
    Mode(ModeChanged),
    /// `action`: an agent action.
    Action(Action),
    /// `action_refused`: the customer's browser refused an action.
    ActionRefused(ActionRefused),
    /// `notice`: something to tell a participant.
    Notice(Notice),
    /// `resync`: the server wants a fresh snapshot.
    Resync(ResyncRequest),
    /// `end`: a participant exits.
    End(End),
    /// `ended`: the session is over.
    Ended(Ended),
}

/// Why a text could not be read as a frame. Each maps to a stable [`ErrorCode`].
#[derive(Debug, thiserror::Error)]
pub enum ParseError {
    /// Not `[tag, seq, body]`, or the body does not fit the tag.
    #[error("malformed frame: {0}")]
    Malformed(String),
    /// The tag is not a v1 frame.
    #[error("unknown frame type {0:?}")]
    UnknownTag(String),
}

impl ParseError {
    /// The code a client is sent for this error.
    pub fn code(&self) -> ErrorCode {
        match self {
            ParseError::Malformed(_) => ErrorCode::BadFrame,
            ParseError::UnknownTag(_) => ErrorCode::UnknownFrame,
        }
    }
}

#[derive(Deserialize)]
struct RawFrame<'a>(#[serde(borrow)] std::borrow::Cow<'a, str>, u64, #[serde(borrow)] &'a RawValue);

/// The deepest JSON nesting a frame may have. A DOM level costs two (the node object and its
/// children array), so this allows pages about 500 elements deep — far beyond real pages —
/// while refusing hostile nesting before the stack-growing parser sees it.
pub const MAX_JSON_DEPTH: usize = 1024;

/// Nesting up to this depth parses directly with serde_json, whose own recursion limit is 128:
/// a text this shallow that serde_json refused is malformed, and its error stands.
const PLAIN_PARSE_DEPTH: usize = 120;

/// The nesting depth of `text`, refused beyond [`MAX_JSON_DEPTH`].
fn checked_depth(text: &str) -> Result<usize, ParseError> {
    json_depth(text.as_bytes(), MAX_JSON_DEPTH)
        .ok_or_else(|| ParseError::Malformed(format!("nesting deeper than {MAX_JSON_DEPTH} levels")))
}

/// Parses `text` without overflowing the stack, however deep it nests.
///
/// Nearly every frame is shallow, so it goes straight to serde_json, whose own recursion limit
/// (128) stops a deep text early and safely. Only a text that fails there is measured: a real
/// page nested deeper than about 60 elements then parses again with its stack grown on the heap,
/// up to [`MAX_JSON_DEPTH`], and anything deeper is refused before that parser sees it. Measuring
/// every frame first, with the envelope's own parse, was the server's largest single function
/// under load (docs/performance.md).
fn parse_bounded<'de, T: Deserialize<'de>>(text: &'de str) -> Result<T, ParseError> {
    let shallow_err = match parse_plain(text) {
        Ok(value) => return Ok(value),
        Err(err) => err,
    };
    if checked_depth(text)? <= PLAIN_PARSE_DEPTH {
        return Err(ParseError::Malformed(shallow_err.to_string()));
    }
    let mut deserializer = serde_json::Deserializer::from_str(text);
    deserializer.disable_recursion_limit();
    let value = T::deserialize(serde_stacker::Deserializer::new(&mut deserializer))
        .map_err(|err| ParseError::Malformed(err.to_string()))?;
    deserializer.end().map_err(|err| ParseError::Malformed(err.to_string()))?;
    Ok(value)
}

fn parse_plain<'de, T: Deserialize<'de>>(text: &'de str) -> Result<T, serde_json::Error> {
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let value = T::deserialize(&mut deserializer)?;
    deserializer.end()?;
    Ok(value)
}

/// How deep the brackets of `bytes` (outside strings) nest, or `None` beyond `max`.
fn json_depth(bytes: &[u8], max: usize) -> Option<usize> {
    let mut depth = 0usize;
    let mut deepest = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    for &byte in bytes {
        if in_string {
            match byte {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match byte {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                if depth > deepest {
                    if depth > max {
                        return None;
                    }
                    deepest = depth;
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    Some(deepest)
}

fn body_of<T: DeserializeOwned>(raw: &str) -> Result<T, ParseError> {
    parse_bounded(raw)
}

/// Splits wire text into its tag, sequence number and body text. Shared by every channel that
/// uses the `[tag, seq, body]` framing.
///
/// The body is returned unread: the caller must parse it (which refuses a body that is not
/// exactly one JSON value) before trusting or forwarding it.
pub fn split_frame(text: &str) -> Result<(std::borrow::Cow<'_, str>, u64, &str), ParseError> {
    if let Some((tag, seq, body)) = split_plain(text) {
        return Ok((std::borrow::Cow::Borrowed(tag), seq, body));
    }
    let RawFrame(tag, seq, raw) = parse_bounded(text)?;
    Ok((tag, seq, raw.get()))
}

/// The framing as every client writes it, read without a JSON parser: `[`, a tag without
/// escapes, a sequence number in plain digits, and the body up to the closing `]`. Anything else
/// (escapes, a number serde_json would read differently or refuse, a missing part) returns
/// `None` and goes to the full parser, so both paths accept and refuse the same texts once the
/// body is parsed. This saves a pass over every frame's body: the full parser has to walk the
/// body to find where it ends, and the body's own parse walks it again.
fn split_plain(text: &str) -> Option<(&str, u64, &str)> {
    let is_space = |c: char| matches!(c, ' ' | '\t' | '\n' | '\r');
    let rest = text.strip_prefix('[')?.trim_start_matches(is_space).strip_prefix('"')?;
    let tag_end = rest.find('"')?;
    let tag = &rest[..tag_end];
    if tag.bytes().any(|b| b == b'\\' || b < 0x20) {
        return None;
    }
    let rest = rest[tag_end + 1..].trim_start_matches(is_space).strip_prefix(',')?.trim_start_matches(is_space);
    let digits_end = rest.find(|c: char| !c.is_ascii_digit()).unwrap_or(rest.len());
    let digits = &rest[..digits_end];
    if digits.is_empty() || digits.len() > 19 || (digits.len() > 1 && digits.starts_with('0')) {
        return None;
    }
    let seq = digits.parse().ok()?;
    let body = rest[digits_end..].trim_start_matches(is_space).strip_prefix(',')?;
    let body = body.trim_end_matches(is_space).strip_suffix(']')?.trim_matches(is_space);
    (!body.is_empty()).then_some((tag, seq, body))
}

impl Frame {
    /// The tag of this frame on the wire.
    pub fn tag(&self) -> &'static str {
        match self {
            Frame::Hello(_) => "hello",
            Frame::Welcome(_) => "welcome",
            Frame::Ack(_) => "ack",
            Frame::Heartbeat(_) => "hb",
            Frame::Error(_) => "error",
            Frame::Snapshot(_) => "snapshot",
            Frame::Mutations(_) => "mut",
            Frame::Input(_) => "input",
            Frame::Scroll(_) => "scroll",
            Frame::Viewport(_) => "viewport",
            Frame::Pointer(_) => "pointer",
            Frame::Click(_) => "click",
            Frame::Highlight(_) => "highlight",
            Frame::Focus(_) => "focus",
            Frame::Navigation(_) => "nav",
            Frame::Leaving(_) => "leaving",
            Frame::ModeRequest(_) => "mode_request",
            Frame::ModeAnswer(_) => "mode_answer",
            Frame::ModeRevoke(_) => "mode_revoke",
            Frame::Mode(_) => "mode",
            Frame::Action(_) => "action",
            Frame::ActionRefused(_) => "action_refused",
            Frame::Notice(_) => "notice",
            Frame::Resync(_) => "resync",
            Frame::End(_) => "end",
            Frame::Ended(_) => "ended",
        }
    }

    /// Control frames are never sequenced, acknowledged or replayed.
    pub fn is_control(&self) -> bool {
        matches!(self, Frame::Hello(_) | Frame::Welcome(_) | Frame::Ack(_) | Frame::Heartbeat(_) | Frame::Error(_))
    }

    /// Whether a client in `role` may send this frame to the server.
    pub fn may_be_sent_by(&self, role: Role) -> bool {
        match self {
            Frame::Hello(_) | Frame::Ack(_) | Frame::Heartbeat(_) | Frame::End(_) => true,
            Frame::Pointer(_) | Frame::Click(_) => role != Role::Observer,
            Frame::Snapshot(_)
            | Frame::Mutations(_)
            | Frame::Input(_)
            | Frame::Scroll(_)
            | Frame::Viewport(_)
            | Frame::Focus(_)
            | Frame::Navigation(_)
            | Frame::Leaving(_)
            | Frame::ModeAnswer(_)
            | Frame::ActionRefused(_) => role == Role::Customer,
            Frame::ModeRevoke(_) => role != Role::Observer,
            Frame::ModeRequest(_) | Frame::Action(_) | Frame::Highlight(_) => role == Role::Agent,
            Frame::Welcome(_)
            | Frame::Error(_)
            | Frame::Mode(_)
            | Frame::Notice(_)
            | Frame::Resync(_)
            | Frame::Ended(_) => false,
        }
    }

    /// Reads one frame from its wire text, returning it with its sequence number.
    pub fn parse(text: &str) -> Result<(u64, Frame), ParseError> {
        Self::parse_parts(text).map(|(seq, frame, _)| (seq, frame))
    }

    /// Like [`Frame::parse`], also returning the body's own text, so a relay can forward a frame
    /// it did not change without serializing it again.
    pub fn parse_parts(text: &str) -> Result<(u64, Frame, &str), ParseError> {
        let (tag, seq, raw) = split_frame(text)?;
        let frame = match tag.as_ref() {
            "hello" => Frame::Hello(body_of(raw)?),
            "welcome" => Frame::Welcome(body_of(raw)?),
            "ack" => Frame::Ack(body_of(raw)?),
            "hb" => Frame::Heartbeat(body_of(raw)?),
            "error" => Frame::Error(body_of(raw)?),
            "snapshot" => Frame::Snapshot(body_of(raw)?),
            "mut" => Frame::Mutations(body_of(raw)?),
            "input" => Frame::Input(body_of(raw)?),
            "scroll" => Frame::Scroll(body_of(raw)?),
            "viewport" => Frame::Viewport(body_of(raw)?),
            "pointer" => Frame::Pointer(body_of(raw)?),
            "click" => Frame::Click(body_of(raw)?),
            "highlight" => Frame::Highlight(body_of(raw)?),
            "focus" => Frame::Focus(body_of(raw)?),
            "nav" => Frame::Navigation(body_of(raw)?),
            "leaving" => Frame::Leaving(body_of(raw)?),
            "mode_request" => Frame::ModeRequest(body_of(raw)?),
            "mode_answer" => Frame::ModeAnswer(body_of(raw)?),
            "mode_revoke" => Frame::ModeRevoke(body_of(raw)?),
            "mode" => Frame::Mode(body_of(raw)?),
            "action" => Frame::Action(body_of(raw)?),
            "action_refused" => Frame::ActionRefused(body_of(raw)?),
            "notice" => Frame::Notice(body_of(raw)?),
            "resync" => Frame::Resync(body_of(raw)?),
            "end" => Frame::End(body_of(raw)?),
            "ended" => Frame::Ended(body_of(raw)?),
            other => return Err(ParseError::UnknownTag(other.chars().take(40).collect())),
        };
        Ok((seq, frame, raw))
    }

    /// The body alone as JSON text (what goes after `[tag, seq,`).
    pub fn encode_body(&self) -> String {
        let text = self.encode(0);
        let prefix = self.tag().len() + 6; // `["` tag `",0,`
        text[prefix..text.len() - 1].to_owned()
    }

    /// Writes the frame as its wire text with sequence number `seq`.
    pub fn encode(&self, seq: u64) -> String {
        fn write<T: Serialize>(tag: &str, seq: u64, body: &T) -> String {
            serde_json::to_string(&(tag, seq, body)).expect("protocol types always serialize")
        }
        let tag = self.tag();
        match self {
            Frame::Hello(b) => write(tag, seq, b),
            Frame::Welcome(b) => write(tag, seq, b),
            Frame::Ack(b) => write(tag, seq, b),
            Frame::Heartbeat(b) => write(tag, seq, b),
            Frame::Error(b) => write(tag, seq, b),
            Frame::Snapshot(b) => write(tag, seq, b),
            Frame::Mutations(b) => write(tag, seq, b),
            Frame::Input(b) => write(tag, seq, b),
            Frame::Scroll(b) => write(tag, seq, b),
            Frame::Viewport(b) => write(tag, seq, b),
            Frame::Pointer(b) => write(tag, seq, b),
            Frame::Click(b) => write(tag, seq, b),
            Frame::Highlight(b) => write(tag, seq, b),
            Frame::Focus(b) => write(tag, seq, b),
            Frame::Navigation(b) => write(tag, seq, b),
            Frame::Leaving(b) => write(tag, seq, b),
            Frame::ModeRequest(b) => write(tag, seq, b),
            Frame::ModeAnswer(b) => write(tag, seq, b),
            Frame::ModeRevoke(b) => write(tag, seq, b),
            Frame::Mode(b) => write(tag, seq, b),
            Frame::Action(b) => write(tag, seq, b),
            Frame::ActionRefused(b) => write(tag, seq, b),
            Frame::Notice(b) => write(tag, seq, b),
            Frame::Resync(b) => write(tag, seq, b),
            Frame::End(b) => write(tag, seq, b),
            Frame::Ended(b) => write(tag, seq, b),
        }
    }

    /// A non-fatal error frame.
    pub fn error(code: ErrorCode, message: impl Into<String>) -> Frame {
        Frame::Error(ErrorFrame { code, message: message.into(), fatal: false, seq: None })
    }

    /// A fatal error frame: the socket closes after it.
    pub fn fatal(code: ErrorCode, message: impl Into<String>) -> Frame {
        Frame::Error(ErrorFrame { code, message: message.into(), fatal: true, seq: None })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_are_tag_seq_body_arrays() {
        let frame = Frame::Pointer(Pointer { x: 1.5, y: 2.0, id: None, by: None });
        assert_eq!(frame.encode(7), r#"["pointer",7,{"x":1.5,"y":2.0}]"#);
        let (seq, back) = Frame::parse(r#"["pointer",7,{"x":1.5,"y":2}]"#).unwrap();
        assert_eq!(seq, 7);
        assert_eq!(back, frame);
    }

    #[test]
    fn bodies_can_be_taken_apart_and_put_back() {
        let frame = Frame::Click(Click { x: 1.0, y: 2.0, id: Some(NodeId(4)), by: None });
        assert_eq!(frame.encode_body(), r#"{"x":1.0,"y":2.0,"id":4}"#);
        let text = frame.encode(12);
        let (seq, back, body) = Frame::parse_parts(&text).unwrap();
        assert_eq!((seq, back, body), (12, frame.clone(), frame.encode_body().as_str()));
    }

    #[test]
    fn actions_flatten_their_kind() {
        let action =
            Frame::Action(Action { aid: 3, kind: ActionKind::Navigate(NavTarget::Url { url: "https://a/".into() }) });
        let text = action.encode(2);
        assert_eq!(text, r#"["action",2,{"aid":3,"do":"navigate","nav":"url","url":"https://a/"}]"#);
        assert_eq!(Frame::parse(&text).unwrap().1, action);
        let click = r#"["action",1,{"aid":1,"do":"click","id":5,"x":1,"y":2}]"#;
        assert!(matches!(Frame::parse(click).unwrap().1, Frame::Action(Action { kind: ActionKind::Click { .. }, .. })));
    }

    #[test]
    fn bad_text_gets_a_stable_code() {
        assert_eq!(Frame::parse("not json").unwrap_err().code(), ErrorCode::BadFrame);
        assert_eq!(Frame::parse(r#"["pointer",1]"#).unwrap_err().code(), ErrorCode::BadFrame);
        assert_eq!(Frame::parse(r#"["pointer",1,{"x":"a"}]"#).unwrap_err().code(), ErrorCode::BadFrame);
        assert_eq!(Frame::parse(r#"["pointer",-1,{"x":1,"y":1}]"#).unwrap_err().code(), ErrorCode::BadFrame);
        assert_eq!(Frame::parse(r#"["warp",1,{}]"#).unwrap_err().code(), ErrorCode::UnknownFrame);
    }

    fn nested_page(depth: usize) -> Node {
        let mut node = Node::text(depth as u32 + 10, "deep");
        for level in (0..depth).rev() {
            node = Node::element(level as u32 + 2, "div", &[], vec![node]);
        }
        Node::document(1, vec![node])
    }

    fn snapshot_of(doc: Node) -> Frame {
        Frame::Snapshot(Box::new(Snapshot {
            url: "https://shop.example/".into(),
            title: String::new(),
            charset: "UTF-8".into(),
            mode: CompatMode::Standards,
            vp: Viewport::default(),
            doc,
            scroll: vec![],
            focus: None,
        }))
    }

    #[test]
    fn pages_hundreds_of_elements_deep_parse() {
        let frame = snapshot_of(nested_page(400));
        let (_, back) = Frame::parse(&frame.encode(1)).unwrap();
        assert_eq!(back, frame);
    }

    #[test]
    fn pages_either_side_of_the_plain_parse_depth_parse() {
        // Two JSON levels per element: these cross PLAIN_PARSE_DEPTH and serde_json's own limit.
        for levels in 50..70 {
            let frame = snapshot_of(nested_page(levels));
            let text = frame.encode(1);
            assert_eq!(Frame::parse(&text).unwrap().1, frame, "{levels} levels");
        }
    }

    #[test]
    fn hostile_nesting_is_refused_before_parsing() {
        let text = format!("[\"mut\",1,{{\"ops\":{}{}}}]", "[".repeat(100_000), "]".repeat(100_000));
        assert_eq!(Frame::parse(&text).unwrap_err().code(), ErrorCode::BadFrame);
        let brackets_in_strings = format!("[\"nav\",1,{{\"url\":\"{}\",\"title\":\"\\\"[\"}}]", "[".repeat(5000));
        assert!(Frame::parse(&brackets_in_strings).is_ok());
    }

    #[test]
    fn a_malformed_frame_says_why_at_any_depth() {
        let shallow = Frame::parse(r#"["nav",1,{"url":5,"title":""}]"#).unwrap_err();
        assert_eq!(shallow.code(), ErrorCode::BadFrame);
        assert!(shallow.to_string().contains("invalid type"), "{shallow}");
        // Deep enough to leave serde_json's plain path, then broken at the bottom.
        let deep = snapshot_of(nested_page(300)).encode(1).replacen("\"deep\"", "\"deep\",,", 1);
        let err = Frame::parse(&deep).unwrap_err();
        assert_eq!(err.code(), ErrorCode::BadFrame);
        assert!(!err.to_string().contains("recursion"), "the deep parse's own error: {err}");
    }

    /// The hand-read framing and the full parser must agree: on every text both read, the same
    /// parts; on every text only the hand-read path splits, a body that does not parse.
    #[test]
    fn the_plain_split_agrees_with_the_full_parser() {
        let seeds = [
            r#"["mut",7,{"ops":[["text",4,"a \"quoted\" ]"]]}]"#,
            r#"[ "pointer" , 0 , {"x":1,"y":2} ]"#,
            "[\"scroll\",\n12,\t{\"id\":1,\"x\":0,\"y\":5}\r]",
            r#"["nav",18446744073709551615,{"url":"https://a.example/","title":"]"}]"#,
            r#"["a\"b",1,{}]"#,
            r#"["hb",01,{"ts":1}]"#,
            r#"["hb",1.5,{"ts":1}]"#,
            r#"["hb",1,{"ts":1},2]"#,
            r#"["hb",1,[[[[[[[[]]]]]]]]]"#,
        ];
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let alphabet = b"[]{},\": 019\\a\n";
        let mut checked = 0;
        for seed in seeds {
            for round in 0..400 {
                let mut bytes = seed.as_bytes().to_vec();
                for _ in 0..(round % 3) {
                    let at = (next() as usize) % (bytes.len() + 1);
                    let byte = alphabet[(next() as usize) % alphabet.len()];
                    match next() % 3 {
                        0 if at < bytes.len() => bytes[at] = byte,
                        1 if at < bytes.len() => {
                            bytes.remove(at);
                        }
                        _ => bytes.insert(at, byte),
                    }
                }
                let Ok(text) = String::from_utf8(bytes) else { continue };
                let full = parse_bounded::<RawFrame>(&text);
                if let Some((tag, seq, body)) = split_plain(&text) {
                    checked += 1;
                    match full {
                        Ok(RawFrame(full_tag, full_seq, raw)) => {
                            assert_eq!((tag, seq, body), (full_tag.as_ref(), full_seq, raw.get()), "{text}")
                        }
                        Err(_) => assert!(parse_bounded::<serde::de::IgnoredAny>(body).is_err(), "{text}"),
                    }
                }
            }
        }
        assert!(checked > 1000, "the hand-read path took {checked} texts");
    }

    #[test]
    fn roles_are_checked_per_frame() {
        let snapshot_like = Frame::Mutations(Mutations { ops: vec![] });
        assert!(snapshot_like.may_be_sent_by(Role::Customer));
        assert!(!snapshot_like.may_be_sent_by(Role::Agent));
        let action = Frame::Action(Action { aid: 1, kind: ActionKind::Focus { id: NodeId(1) } });
        assert!(action.may_be_sent_by(Role::Agent));
        assert!(!action.may_be_sent_by(Role::Customer));
        assert!(!action.may_be_sent_by(Role::Observer));
        assert!(!Frame::Pointer(Pointer { x: 0.0, y: 0.0, id: None, by: None }).may_be_sent_by(Role::Observer));
        assert!(!Frame::Ended(Ended { reason: EndReason::AgentExit }).may_be_sent_by(Role::Agent));
    }
}
