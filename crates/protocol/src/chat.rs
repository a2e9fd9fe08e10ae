//! The chat channel: frames of `/ws/v1/chat` (the customer's chat widget) and `/ws/v1/desk` (the
//! agent's desk: availability, the queue, their chats and calls).
//!
//! Same framing as the co-browse channel — `[tag, seq, body]` — but every chat frame carries
//! `seq` 0: a chat's messages are numbered by the server (`Message::id`, 1, 2, 3 … per chat) and
//! that number is the replay cursor. A reconnecting client says the last message ID it has; the
//! server sends every later one. Each message a client sends carries a client-chosen `cid`; the
//! server drops a `cid` it has already accepted, so resending after a reconnect never duplicates.

use crate::ids::SessionId;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// Who wrote a chat message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Author {
    /// The customer.
    Customer,
    /// The agent.
    Agent,
    /// The system (joins, co-browse starts, endings).
    System,
}

/// A chat's place in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChatState {
    /// Waiting for an agent.
    Queued,
    /// An agent accepted it.
    Active,
    /// Over.
    Ended,
}

/// One message of a transcript.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    /// The chat.
    pub chat: String,
    /// Position in the chat, from 1.
    pub id: u64,
    /// Who wrote it.
    pub from: Author,
    /// The author's display name.
    pub name: String,
    /// The text. A co-browse start is the system message `{start:NNNNNNNNN}`.
    pub text: String,
    /// When the server accepted it, in milliseconds since 1970.
    pub at: u64,
    /// The sender's client message ID, echoed so the sender knows its message arrived.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cid: Option<String>,
}

/// A chat as the desk lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatSummary {
    /// The chat's ID.
    pub chat: String,
    /// The customer's name as they gave it.
    pub customer: String,
    /// The chat's state.
    pub state: ChatState,
    /// The agent who accepted it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent: Option<String>,
    /// When it entered the queue, in milliseconds since 1970.
    pub since: u64,
    /// The first words of the customer's first message, for the queue.
    #[serde(default)]
    pub preview: String,
    /// The co-browse session riding on it, if one is live.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cobrowse: Option<SessionId>,
}

/// A phone call as the desk shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallSummary {
    /// The telephony system's call ID.
    pub call: String,
    /// The caller reference it reported (a number, a customer ID).
    pub caller: String,
    /// Whether the call is going on.
    pub active: bool,
    /// The co-browse session riding on it, if one is live.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cobrowse: Option<SessionId>,
}

/// Every frame of the chat and desk channels.
#[derive(Debug, Clone, PartialEq)]
pub enum ChatFrame {
    /// `chat_hello` (customer → server): attach to a chat.
    ChatHello {
        /// Protocol version.
        v: u32,
        /// The chat's ID.
        chat: String,
        /// The chat token from `POST /api/v1/chats`.
        token: String,
        /// The last message ID the client has (0 for none).
        last: u64,
    },
    /// `desk_hello` (agent → server): attach the agent's desk (authenticated by the upgrade).
    DeskHello {
        /// Protocol version.
        v: u32,
    },
    /// `chat_state` (server → customer, desk): a chat's state and position in the queue.
    ChatStateChanged {
        /// The chat.
        chat: ChatSummary,
        /// Place in the queue (1 = next) while queued.
        position: Option<u32>,
        /// Why it ended, once it has (`customer_left`, `agent_ended`, `customer_away`, `server_shutdown`).
        reason: Option<String>,
    },
    /// `say` (customer, agent → server): send a message.
    Say {
        /// The chat (the desk names it; the customer's socket has one).
        chat: Option<String>,
        /// Client message ID, unique per sender.
        cid: String,
        /// The text.
        text: String,
    },
    /// `msg` (server → customer, desk): a message of the transcript.
    Msg(Message),
    /// `presence` (agent → server): available for new chats or not.
    Presence {
        /// Available.
        available: bool,
    },
    /// `queue` (server → available agents): the chats waiting, oldest first.
    Queue {
        /// Waiting chats.
        waiting: Vec<ChatSummary>,
    },
    /// `accept` (agent → server): take a waiting chat.
    Accept {
        /// The chat.
        chat: String,
    },
    /// `end_chat` (customer, agent → server): end a chat.
    EndChat {
        /// The chat (the desk names it).
        chat: Option<String>,
    },
    /// `desk` (server → agent): the desk's state on connect.
    Desk {
        /// Whether the agent is available.
        available: bool,
        /// The agent's chats.
        chats: Vec<ChatSummary>,
        /// The agent's calls.
        calls: Vec<CallSummary>,
    },
    /// `call` (server → agent): a call of this agent started, changed or ended.
    Call(CallSummary),
    /// `cobrowse` (server → agent): a customer started co-browsing in one of the agent's chats;
    /// the workspace joins it at once.
    Cobrowse {
        /// The chat.
        chat: String,
        /// The session to join.
        session: SessionId,
    },
    /// `error`: a refusal; `fatal` ones close the socket.
    Error {
        /// Stable code.
        code: crate::ErrorCode,
        /// Plain message.
        message: String,
        /// Whether the socket closes next.
        fatal: bool,
    },
    /// `hb`: keepalive, answered with `reply: true`.
    Heartbeat {
        /// Sender's clock in milliseconds.
        ts: u64,
        /// True on the echo.
        reply: bool,
    },
}

#[derive(Serialize, Deserialize)]
struct ChatHelloBody {
    v: u32,
    chat: String,
    token: String,
    #[serde(default)]
    last: u64,
}

#[derive(Serialize, Deserialize)]
struct DeskHelloBody {
    v: u32,
}

#[derive(Serialize, Deserialize)]
struct StateBody {
    chat: ChatSummary,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    position: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    reason: Option<String>,
}

#[derive(Serialize, Deserialize)]
struct SayBody {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    chat: Option<String>,
    cid: String,
    text: String,
}

#[derive(Serialize, Deserialize)]
struct PresenceBody {
    available: bool,
}

#[derive(Serialize, Deserialize)]
struct QueueBody {
    waiting: Vec<ChatSummary>,
}

#[derive(Serialize, Deserialize)]
struct ChatRef {
    chat: String,
}

#[derive(Serialize, Deserialize)]
struct OptionalChatRef {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    chat: Option<String>,
}

#[derive(Serialize, Deserialize)]
struct DeskBody {
    available: bool,
    chats: Vec<ChatSummary>,
    calls: Vec<CallSummary>,
}

#[derive(Serialize, Deserialize)]
struct CobrowseBody {
    chat: String,
    session: SessionId,
}

#[derive(Serialize, Deserialize)]
struct ErrorBody {
    code: crate::ErrorCode,
    message: String,
    #[serde(default)]
    fatal: bool,
}

#[derive(Serialize, Deserialize)]
struct HeartbeatBody {
    ts: u64,
    #[serde(default)]
    reply: bool,
}

fn body<T: DeserializeOwned>(raw: &str) -> Result<T, crate::frames::ParseError> {
    serde_json::from_str(raw).map_err(|err| crate::frames::ParseError::Malformed(err.to_string()))
}

impl ChatFrame {
    /// The tag on the wire.
    pub fn tag(&self) -> &'static str {
        match self {
            ChatFrame::ChatHello { .. } => "chat_hello",
            ChatFrame::DeskHello { .. } => "desk_hello",
            ChatFrame::ChatStateChanged { .. } => "chat_state",
            ChatFrame::Say { .. } => "say",
            ChatFrame::Msg(_) => "msg",
            ChatFrame::Presence { .. } => "presence",
            ChatFrame::Queue { .. } => "queue",
            ChatFrame::Accept { .. } => "accept",
            ChatFrame::EndChat { .. } => "end_chat",
            ChatFrame::Desk { .. } => "desk",
            ChatFrame::Call(_) => "call",
            ChatFrame::Cobrowse { .. } => "cobrowse",
            ChatFrame::Error { .. } => "error",
            ChatFrame::Heartbeat { .. } => "hb",
        }
    }

    /// Reads a chat-channel frame.
    pub fn parse(text: &str) -> Result<ChatFrame, crate::frames::ParseError> {
        let (tag, _seq, raw) = crate::frames::split_frame(text)?;
        Ok(match tag.as_ref() {
            "chat_hello" => {
                let b: ChatHelloBody = body(raw)?;
                ChatFrame::ChatHello { v: b.v, chat: b.chat, token: b.token, last: b.last }
            }
            "desk_hello" => ChatFrame::DeskHello { v: body::<DeskHelloBody>(raw)?.v },
            "chat_state" => {
                let b: StateBody = body(raw)?;
                ChatFrame::ChatStateChanged { chat: b.chat, position: b.position, reason: b.reason }
            }
            "say" => {
                let b: SayBody = body(raw)?;
                ChatFrame::Say { chat: b.chat, cid: b.cid, text: b.text }
            }
            "msg" => ChatFrame::Msg(body(raw)?),
            "presence" => ChatFrame::Presence { available: body::<PresenceBody>(raw)?.available },
            "queue" => ChatFrame::Queue { waiting: body::<QueueBody>(raw)?.waiting },
            "accept" => ChatFrame::Accept { chat: body::<ChatRef>(raw)?.chat },
            "end_chat" => ChatFrame::EndChat { chat: body::<OptionalChatRef>(raw)?.chat },
            "desk" => {
                let b: DeskBody = body(raw)?;
                ChatFrame::Desk { available: b.available, chats: b.chats, calls: b.calls }
            }
            "call" => ChatFrame::Call(body(raw)?),
            "cobrowse" => {
                let b: CobrowseBody = body(raw)?;
                ChatFrame::Cobrowse { chat: b.chat, session: b.session }
            }
            "error" => {
                let b: ErrorBody = body(raw)?;
                ChatFrame::Error { code: b.code, message: b.message, fatal: b.fatal }
            }
            "hb" => {
                let b: HeartbeatBody = body(raw)?;
                ChatFrame::Heartbeat { ts: b.ts, reply: b.reply }
            }
            other => return Err(crate::frames::ParseError::UnknownTag(other.chars().take(40).collect())),
        })
    }

    /// Writes the frame as wire text (`seq` is always 0 on this channel).
    pub fn encode(&self) -> String {
        fn write<T: Serialize>(tag: &str, body: &T) -> String {
            serde_json::to_string(&(tag, 0, body)).expect("chat frames always serialize")
        }
        let tag = self.tag();
        match self.clone() {
            ChatFrame::ChatHello { v, chat, token, last } => write(tag, &ChatHelloBody { v, chat, token, last }),
            ChatFrame::DeskHello { v } => write(tag, &DeskHelloBody { v }),
            ChatFrame::ChatStateChanged { chat, position, reason } => write(tag, &StateBody { chat, position, reason }),
            ChatFrame::Say { chat, cid, text } => write(tag, &SayBody { chat, cid, text }),
            ChatFrame::Msg(message) => write(tag, &message),
            ChatFrame::Presence { available } => write(tag, &PresenceBody { available }),
            ChatFrame::Queue { waiting } => write(tag, &QueueBody { waiting }),
            ChatFrame::Accept { chat } => write(tag, &ChatRef { chat }),
            ChatFrame::EndChat { chat } => write(tag, &OptionalChatRef { chat }),
            ChatFrame::Desk { available, chats, calls } => write(tag, &DeskBody { available, chats, calls }),
            ChatFrame::Call(call) => write(tag, &call),
            ChatFrame::Cobrowse { chat, session } => write(tag, &CobrowseBody { chat, session }),
            ChatFrame::Error { code, message, fatal } => write(tag, &ErrorBody { code, message, fatal }),
            ChatFrame::Heartbeat { ts, reply } => write(tag, &HeartbeatBody { ts, reply }),
        }
    }
}

/// The system message that marks a co-browse start in a transcript: `{start:123456789}`.
pub fn start_marker(session: SessionId) -> String {
    format!("{{start:{session}}}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chat_frames_round_trip() {
        let frames = [
            ChatFrame::ChatHello { v: 1, chat: "c1".into(), token: "t".into(), last: 4 },
            ChatFrame::Say { chat: None, cid: "a1".into(), text: "hello".into() },
            ChatFrame::Say { chat: Some("c1".into()), cid: "b1".into(), text: "hi".into() },
            ChatFrame::Msg(Message {
                chat: "c1".into(),
                id: 5,
                from: Author::Agent,
                name: "Alice".into(),
                text: "hi".into(),
                at: 1,
                cid: Some("b1".into()),
            }),
            ChatFrame::Presence { available: true },
            ChatFrame::Accept { chat: "c1".into() },
            ChatFrame::EndChat { chat: None },
            ChatFrame::Cobrowse { chat: "c1".into(), session: "123456789".parse().unwrap() },
            ChatFrame::Heartbeat { ts: 9, reply: true },
        ];
        for frame in frames {
            let text = frame.encode();
            assert_eq!(ChatFrame::parse(&text).unwrap(), frame, "{text}");
        }
        assert_eq!(
            ChatFrame::Say { chat: None, cid: "a1".into(), text: "hello".into() }.encode(),
            r#"["say",0,{"cid":"a1","text":"hello"}]"#
        );
    }

    #[test]
    fn the_start_marker_is_the_documented_text() {
        assert_eq!(start_marker("123456789".parse().unwrap()), "{start:123456789}");
    }

    #[test]
    fn bad_chat_frames_are_errors() {
        assert!(ChatFrame::parse(r#"["say",0,{"text":"no cid"}]"#).is_err());
        assert!(ChatFrame::parse(r#"["shout",0,{}]"#).is_err());
        assert!(ChatFrame::parse("[").is_err());
    }
}
