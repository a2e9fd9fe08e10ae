//! Keeps `docs/protocol.md` true: every example in it must be what the Rust encoder writes, the
//! examples must cover every frame tag, action kind, navigation target and mutation op, and every
//! error code, end reason, notice code and refusal reason must be named in it.
//!
//! Each non-empty line inside a ```json block must be one JSON value. Lines that start with `["`
//! are examples: when the first element is a mutation op tag (`add`, `rm`, ...) the line is read
//! as an [`Op`], otherwise as a [`Frame`]. Lines that start with `{"id":` and a digit are read as
//! a serialized [`Node`] (an HTTP body such as `{"id":"482913675",…}` is not a node).

use cobrowse_protocol::chat::ChatFrame;
use cobrowse_protocol::{ActionKind, EndReason, Frame, NavTarget, Node, Op};
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::PathBuf;

/// Every frame tag of protocol v1. [`frame_tag_is_listed`] makes the compiler point here when a
/// variant is added.
const FRAME_TAGS: [&str; 26] = [
    "hello",
    "welcome",
    "ack",
    "hb",
    "error",
    "snapshot",
    "mut",
    "input",
    "scroll",
    "viewport",
    "pointer",
    "click",
    "highlight",
    "focus",
    "nav",
    "leaving",
    "mode_request",
    "mode_answer",
    "mode_revoke",
    "mode",
    "action",
    "action_refused",
    "notice",
    "resync",
    "end",
    "ended",
];

/// Every mutation op tag.
const OP_TAGS: [&str; 11] =
    ["add", "rm", "attr", "text", "css", "cssins", "cssdel", "adopt", "mark", "shadow", "frame"];

/// Every action kind (`do`) and navigation target (`nav`), as `do` or `navigate:nav`.
const ACTION_KINDS: [&str; 11] = [
    "click",
    "input",
    "select",
    "check",
    "focus",
    "key",
    "scroll",
    "navigate:back",
    "navigate:forward",
    "navigate:reload",
    "navigate:url",
];

const ERROR_CODES: [&str; 32] = [
    "bad_frame",
    "unknown_frame",
    "frame_too_large",
    "unknown_encoding",
    "bad_compression",
    "version_mismatch",
    "hello_required",
    "unauthorized",
    "session_not_found",
    "session_ended",
    "wrong_role",
    "not_in_write_mode",
    "write_mode_disabled",
    "mode_request_pending",
    "agent_busy",
    "session_taken",
    "superseded",
    "at_capacity",
    "upstream_failed",
    "interaction_required",
    "unknown_interaction",
    "unknown_agent",
    "chat_taken",
    "rate_limited",
    "limit_exceeded",
    "mirror_rejected",
    "sequence_gap",
    "invalid_request",
    "unauthenticated",
    "origin_not_allowed",
    "server_shutdown",
    "internal",
];

const NOTICE_CODES: [&str; 9] = [
    "agent_joined",
    "agent_left",
    "agent_away",
    "agent_back",
    "observer_joined",
    "observer_left",
    "customer_away",
    "customer_back",
    "mode_denied",
];

const REFUSAL_REASONS: [&str; 7] =
    ["restricted", "masked", "not_found", "origin_not_allowed", "implicit_submit", "not_in_write_mode", "unsupported"];

/// Fails to compile when a frame variant is added without updating [`FRAME_TAGS`].
fn frame_tag_is_listed(frame: &Frame) -> bool {
    match frame {
        Frame::Hello(_)
        | Frame::Welcome(_)
        | Frame::Ack(_)
        | Frame::Heartbeat(_)
        | Frame::Error(_)
        | Frame::Snapshot(_)
        | Frame::Mutations(_)
        | Frame::Input(_)
        | Frame::Scroll(_)
        | Frame::Viewport(_)
        | Frame::Pointer(_)
        | Frame::Click(_)
        | Frame::Highlight(_)
        | Frame::Focus(_)
        | Frame::Navigation(_)
        | Frame::Leaving(_)
        | Frame::ModeRequest(_)
        | Frame::ModeAnswer(_)
        | Frame::ModeRevoke(_)
        | Frame::Mode(_)
        | Frame::Action(_)
        | Frame::ActionRefused(_)
        | Frame::Notice(_)
        | Frame::Resync(_)
        | Frame::End(_)
        | Frame::Ended(_) => FRAME_TAGS.contains(&frame.tag()),
    }
}

/// The name an action kind has in [`ACTION_KINDS`]; exhaustive on purpose.
fn action_kind_name(kind: &ActionKind) -> &'static str {
    match kind {
        ActionKind::Click { .. } => "click",
        ActionKind::Input { .. } => "input",
        ActionKind::Select { .. } => "select",
        ActionKind::Check { .. } => "check",
        ActionKind::Focus { .. } => "focus",
        ActionKind::Key { .. } => "key",
        ActionKind::Scroll { .. } => "scroll",
        ActionKind::Navigate(NavTarget::Back) => "navigate:back",
        ActionKind::Navigate(NavTarget::Forward) => "navigate:forward",
        ActionKind::Navigate(NavTarget::Reload) => "navigate:reload",
        ActionKind::Navigate(NavTarget::Url { .. }) => "navigate:url",
    }
}

fn document() -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/protocol.md");
    std::fs::read_to_string(&path).unwrap_or_else(|err| panic!("cannot read {}: {err}", path.display()))
}

/// Lines inside ```json blocks, with their line numbers (1-based).
fn json_block_lines(doc: &str) -> Vec<(usize, &str)> {
    let mut lines = Vec::new();
    let mut inside = false;
    for (index, line) in doc.lines().enumerate() {
        let trimmed = line.trim();
        if trimmed.starts_with("```") {
            inside = !inside && trimmed == "```json";
            continue;
        }
        if inside {
            lines.push((index + 1, trimmed));
        }
    }
    assert!(!inside, "a ```json block is not closed");
    lines
}

fn value(text: &str, line: usize) -> Value {
    serde_json::from_str(text).unwrap_or_else(|err| panic!("line {line} is not JSON: {err}\n{text}"))
}

fn first_element(text: &str, line: usize) -> String {
    match value(text, line) {
        Value::Array(items) => match items.first() {
            Some(Value::String(tag)) => tag.clone(),
            _ => panic!("line {line}: an example array must start with its tag"),
        },
        _ => unreachable!("lines that start with [\" are arrays"),
    }
}

struct Examples {
    frames: Vec<(usize, u64, Frame)>,
    chat_frames: Vec<(usize, ChatFrame)>,
    ops: Vec<(usize, Op)>,
    nodes: usize,
}

/// Every tag of the chat and desk channels.
const CHAT_TAGS: [&str; 14] = [
    "chat_hello",
    "desk_hello",
    "chat_state",
    "say",
    "msg",
    "presence",
    "queue",
    "accept",
    "end_chat",
    "desk",
    "call",
    "cobrowse",
    "error",
    "hb",
];

/// Parses every example, checking that each one re-encodes to the same JSON.
fn examples() -> Examples {
    let doc = document();
    let mut examples = Examples { frames: Vec::new(), chat_frames: Vec::new(), ops: Vec::new(), nodes: 0 };
    for (line, text) in json_block_lines(&doc) {
        if text.is_empty() {
            continue;
        }
        // Every line of a json block is one JSON value, examples of HTTP bodies included.
        value(text, line);
        if text.strip_prefix("{\"id\":").is_some_and(|rest| rest.starts_with(|c: char| c.is_ascii_digit())) {
            let node: Node = serde_json::from_str(text).unwrap_or_else(|err| panic!("line {line}: not a node: {err}"));
            let back = serde_json::to_value(&node).unwrap();
            assert_eq!(back, value(text, line), "line {line}: the node re-encodes differently");
            examples.nodes += 1;
            continue;
        }
        if !text.starts_with("[\"") {
            continue;
        }
        if OP_TAGS.contains(&first_element(text, line).as_str()) {
            let op: Op = serde_json::from_str(text).unwrap_or_else(|err| panic!("line {line}: not an op: {err}"));
            let back = serde_json::to_value(&op).unwrap();
            assert_eq!(back, value(text, line), "line {line}: the op re-encodes differently");
            examples.ops.push((line, op));
            continue;
        }
        // Chat-channel frames have tags of their own (`error` and `hb` exist on both channels and
        // are checked as co-browse frames).
        let tag = first_element(text, line);
        if CHAT_TAGS.contains(&tag.as_str()) && !FRAME_TAGS.contains(&tag.as_str()) {
            let frame =
                ChatFrame::parse(text).unwrap_or_else(|err| panic!("line {line}: not a chat frame: {err}\n{text}"));
            assert_eq!(
                value(&frame.encode(), line),
                value(text, line),
                "line {line}: the chat frame re-encodes differently"
            );
            examples.chat_frames.push((line, frame));
            continue;
        }
        let (seq, frame) = Frame::parse(text).unwrap_or_else(|err| panic!("line {line}: not a frame: {err}\n{text}"));
        let back = value(&frame.encode(seq), line);
        assert_eq!(back, value(text, line), "line {line}: the frame re-encodes differently");
        examples.frames.push((line, seq, frame));
    }
    examples
}

#[test]
fn every_example_is_what_the_encoder_writes() {
    let examples = examples();
    assert!(examples.frames.len() >= FRAME_TAGS.len(), "too few frame examples");
    assert!(examples.nodes > 0, "the node format needs an example");
}

#[test]
fn every_chat_tag_has_an_example() {
    let examples = examples();
    let seen: BTreeSet<&str> = examples.chat_frames.iter().map(|(_, frame)| frame.tag()).collect();
    let missing: Vec<&str> =
        CHAT_TAGS.iter().copied().filter(|tag| !seen.contains(tag) && !FRAME_TAGS.contains(tag)).collect();
    assert!(missing.is_empty(), "no chat example of: {missing:?}");
}

#[test]
fn every_frame_tag_has_an_example() {
    let examples = examples();
    let seen: BTreeSet<&str> = examples.frames.iter().map(|(_, _, frame)| frame.tag()).collect();
    for (line, _, frame) in &examples.frames {
        assert!(frame_tag_is_listed(frame), "line {line}: tag {} is missing from FRAME_TAGS", frame.tag());
    }
    let missing: Vec<&str> = FRAME_TAGS.iter().copied().filter(|tag| !seen.contains(tag)).collect();
    assert!(missing.is_empty(), "no example of: {missing:?}");
}

#[test]
fn control_frames_carry_sequence_zero() {
    for (line, seq, frame) in examples().frames {
        if frame.is_control() {
            assert_eq!(seq, 0, "line {line}: {} is a control frame", frame.tag());
        } else {
            assert!(seq > 0, "line {line}: {} is sequenced and numbered from 1", frame.tag());
        }
    }
}

#[test]
fn every_action_kind_and_navigation_target_has_an_example() {
    let seen: BTreeSet<&str> = examples()
        .frames
        .iter()
        .filter_map(|(_, _, frame)| match frame {
            Frame::Action(action) => Some(action_kind_name(&action.kind)),
            _ => None,
        })
        .collect();
    let missing: Vec<&str> = ACTION_KINDS.iter().copied().filter(|kind| !seen.contains(kind)).collect();
    assert!(missing.is_empty(), "no action example of: {missing:?}");
}

#[test]
fn every_op_has_an_example() {
    let seen: BTreeSet<&str> = examples().ops.iter().map(|(_, op)| op.tag()).collect();
    let missing: Vec<&str> = OP_TAGS.iter().copied().filter(|tag| !seen.contains(tag)).collect();
    assert!(missing.is_empty(), "no op example of: {missing:?}");
}

/// Each code must round-trip through its enum (so the lists above are real codes) and appear in
/// the document as `code`.
#[test]
fn every_code_is_documented() {
    fn check<T: serde::de::DeserializeOwned + serde::Serialize>(doc: &str, kind: &str, codes: &[&str]) {
        for code in codes {
            let json = format!("\"{code}\"");
            let parsed: T = serde_json::from_str(&json).unwrap_or_else(|_| panic!("{code} is not a {kind}"));
            assert_eq!(serde_json::to_string(&parsed).unwrap(), json);
            assert!(doc.contains(&format!("`{code}`")), "{kind} `{code}` is not documented");
        }
    }
    let doc = document();
    check::<cobrowse_protocol::ErrorCode>(&doc, "error code", &ERROR_CODES);
    check::<cobrowse_protocol::NoticeCode>(&doc, "notice code", &NOTICE_CODES);
    check::<cobrowse_protocol::RefusalReason>(&doc, "refusal reason", &REFUSAL_REASONS);
    let reasons: Vec<&str> = EndReason::ALL.iter().map(|reason| reason.as_str()).collect();
    check::<EndReason>(&doc, "end reason", &reasons);
}

/// The code lists above hold no repeats, and the exhaustive matches below stop compiling when a
/// variant is added, pointing whoever adds it at the lists (and at section 8 of the document).
#[test]
fn the_code_lists_are_complete() {
    use cobrowse_protocol::{ErrorCode, NoticeCode, RefusalReason};
    // Exhaustive matches: adding a variant stops this from compiling until the lists are updated.
    fn error(code: ErrorCode) {
        match code {
            ErrorCode::BadFrame
            | ErrorCode::UnknownFrame
            | ErrorCode::FrameTooLarge
            | ErrorCode::UnknownEncoding
            | ErrorCode::BadCompression
            | ErrorCode::VersionMismatch
            | ErrorCode::HelloRequired
            | ErrorCode::Unauthorized
            | ErrorCode::SessionNotFound
            | ErrorCode::SessionEnded
            | ErrorCode::WrongRole
            | ErrorCode::NotInWriteMode
            | ErrorCode::WriteModeDisabled
            | ErrorCode::ModeRequestPending
            | ErrorCode::AgentBusy
            | ErrorCode::SessionTaken
            | ErrorCode::Superseded
            | ErrorCode::AtCapacity
            | ErrorCode::UpstreamFailed
            | ErrorCode::InteractionRequired
            | ErrorCode::UnknownInteraction
            | ErrorCode::UnknownAgent
            | ErrorCode::ChatTaken
            | ErrorCode::RateLimited
            | ErrorCode::LimitExceeded
            | ErrorCode::MirrorRejected
            | ErrorCode::SequenceGap
            | ErrorCode::InvalidRequest
            | ErrorCode::Unauthenticated
            | ErrorCode::OriginNotAllowed
            | ErrorCode::ServerShutdown
            | ErrorCode::Internal => {}
        }
    }
    fn notice(code: NoticeCode) {
        match code {
            NoticeCode::AgentJoined
            | NoticeCode::AgentLeft
            | NoticeCode::AgentAway
            | NoticeCode::AgentBack
            | NoticeCode::ObserverJoined
            | NoticeCode::ObserverLeft
            | NoticeCode::CustomerAway
            | NoticeCode::CustomerBack
            | NoticeCode::ModeDenied => {}
        }
    }
    fn refusal(reason: RefusalReason) {
        match reason {
            RefusalReason::Restricted
            | RefusalReason::Masked
            | RefusalReason::NotFound
            | RefusalReason::OriginNotAllowed
            | RefusalReason::ImplicitSubmit
            | RefusalReason::NotInWriteMode
            | RefusalReason::Unsupported => {}
        }
    }
    let errors: BTreeSet<&str> = ERROR_CODES.iter().copied().collect();
    let notices: BTreeSet<&str> = NOTICE_CODES.iter().copied().collect();
    let refusals: BTreeSet<&str> = REFUSAL_REASONS.iter().copied().collect();
    assert_eq!(errors.len(), ERROR_CODES.len(), "an error code is listed twice");
    assert_eq!(notices.len(), NOTICE_CODES.len(), "a notice code is listed twice");
    assert_eq!(refusals.len(), REFUSAL_REASONS.len(), "a refusal reason is listed twice");
    error(ErrorCode::BadFrame);
    notice(NoticeCode::AgentJoined);
    refusal(RefusalReason::Restricted);
}
