//! The live chats, calls and agent desks, and the rules between them.
//!
//! Like a co-browse session, this state sits behind one plain mutex never held across an await;
//! every change is a short synchronous step that pushes frames into bounded per-connection queues
//! without waiting. A connection whose queue is full is closed with a word of why; its client
//! reconnects and is replayed from the transcript, so nothing is lost.

use crate::auth::AgentIdentity;
use cobrowse_protocol::chat::{Author, CallSummary, ChatFrame, ChatState, ChatSummary, Message};
use cobrowse_protocol::{ErrorCode, SessionId};
use std::collections::{HashMap, HashSet};
use tokio::sync::mpsc;
use tokio::time::Instant;

/// Frames waiting for one chat or desk socket.
pub const CHAT_QUEUE: usize = 256;

/// A socket's sending half, with its number so a stale socket cannot detach its successor.
#[derive(Clone)]
pub struct Outlet {
    /// Connection number.
    pub conn: u64,
    /// Its queue.
    pub tx: mpsc::Sender<String>,
}

impl Outlet {
    /// Offers a frame; false when the socket is gone or its queue is full.
    pub fn offer(&self, text: String) -> bool {
        self.tx.try_send(text).is_ok()
    }
}

/// A chat.
pub struct Chat {
    /// Its ID.
    pub id: String,
    /// The customer's secret.
    pub token: String,
    /// The customer's name.
    pub customer: String,
    /// State.
    pub state: ChatState,
    /// The agent who accepted it.
    pub agent: Option<AgentIdentity>,
    /// When it entered the queue (ms since 1970).
    pub since: u64,
    /// The transcript so far.
    pub messages: Vec<Message>,
    /// Client message IDs already accepted, per author, so resends never duplicate.
    pub seen: HashSet<(Author, String)>,
    /// The customer's socket.
    pub customer_outlet: Option<Outlet>,
    /// Since when the customer has had no socket.
    pub customer_gone_since: Option<Instant>,
    /// The co-browse session riding on it.
    pub cobrowse: Option<SessionId>,
    /// Why it ended.
    pub end_reason: Option<String>,
}

impl Chat {
    /// The chat as the desk lists it.
    pub fn summary(&self) -> ChatSummary {
        let preview = self
            .messages
            .iter()
            .find(|m| m.from == Author::Customer)
            .map(|m| m.text.chars().take(80).collect())
            .unwrap_or_default();
        ChatSummary {
            chat: self.id.clone(),
            customer: self.customer.clone(),
            state: self.state,
            agent: self.agent.as_ref().map(|a| a.name.clone()),
            since: self.since,
            preview,
            cobrowse: self.cobrowse,
        }
    }
}

/// A phone call reported by the telephony system.
pub struct Call {
    /// Its ID.
    pub id: String,
    /// The caller reference.
    pub caller: String,
    /// The agent on it now.
    pub agent: String,
    /// Whether it is going on.
    pub active: bool,
    /// The co-browse session riding on it.
    pub cobrowse: Option<SessionId>,
    /// The time of the latest event applied (ms since 1970), to ignore older ones arriving late.
    pub last_event_at: u64,
}

impl Call {
    /// The call as the desk shows it.
    pub fn summary(&self) -> CallSummary {
        CallSummary { call: self.id.clone(), caller: self.caller.clone(), active: self.active, cobrowse: self.cobrowse }
    }
}

/// An agent's desk: availability and open sockets (several tabs are fine).
#[derive(Default)]
pub struct Desk {
    /// Taking new chats.
    pub available: bool,
    /// Open desk sockets.
    pub outlets: Vec<Outlet>,
}

/// Everything live.
#[derive(Default)]
pub struct Live {
    /// Chats by ID (ended ones stay a while for late reconnects; see the sweeper).
    pub chats: HashMap<String, Chat>,
    /// Calls by ID (ended ones stay so late or repeated events are recognized).
    pub calls: HashMap<String, Call>,
    /// Desks by agent ID.
    pub desks: HashMap<String, Desk>,
    /// Telephony event IDs already applied, with when (for duplicates).
    pub seen_events: HashMap<String, Instant>,
}

impl Live {
    /// Sends `frame` to every socket of `agent`'s desk, closing those that cannot keep up.
    pub fn to_desk(&mut self, agent: &str, frame: &ChatFrame) {
        if let Some(desk) = self.desks.get_mut(agent) {
            let text = frame.encode();
            desk.outlets.retain(|outlet| outlet.offer(text.clone()));
        }
    }

    /// Sends `frame` to the chat's customer, dropping a socket that cannot keep up.
    pub fn to_customer(&mut self, chat: &str, frame: &ChatFrame) {
        if let Some(chat) = self.chats.get_mut(chat) {
            if let Some(outlet) = &chat.customer_outlet {
                if !outlet.offer(frame.encode()) {
                    chat.customer_outlet = None;
                    chat.customer_gone_since = Some(Instant::now());
                }
            }
        }
    }

    /// The waiting chats, oldest first.
    pub fn waiting(&self) -> Vec<ChatSummary> {
        let mut waiting: Vec<ChatSummary> =
            self.chats.values().filter(|c| c.state == ChatState::Queued).map(Chat::summary).collect();
        waiting.sort_by(|a, b| a.since.cmp(&b.since).then_with(|| a.chat.cmp(&b.chat)));
        waiting
    }

    /// Tells every available agent what waits, and every waiting customer their place.
    pub fn announce_queue(&mut self) {
        let waiting = self.waiting();
        let frame = ChatFrame::Queue { waiting: waiting.clone() };
        let available: Vec<String> =
            self.desks.iter().filter(|(_, d)| d.available).map(|(agent, _)| agent.clone()).collect();
        for agent in available {
            self.to_desk(&agent, &frame);
        }
        for (index, summary) in waiting.into_iter().enumerate() {
            let chat = summary.chat.clone();
            self.to_customer(
                &chat,
                &ChatFrame::ChatStateChanged { chat: summary, position: Some(index as u32 + 1), reason: None },
            );
        }
    }

    /// Appends a message to a chat's transcript and sends it to both sides. Returns it.
    pub fn append(
        &mut self,
        chat_id: &str,
        from: Author,
        name: &str,
        text: String,
        cid: Option<String>,
        at: u64,
    ) -> Option<Message> {
        let chat = self.chats.get_mut(chat_id)?;
        let message = Message {
            chat: chat_id.to_owned(),
            id: chat.messages.len() as u64 + 1,
            from,
            name: name.to_owned(),
            text,
            at,
            cid,
        };
        chat.messages.push(message.clone());
        let agent = chat.agent.as_ref().map(|a| a.id.clone());
        let frame = ChatFrame::Msg(message.clone());
        self.to_customer(chat_id, &frame);
        if let Some(agent) = agent {
            self.to_desk(&agent, &frame);
        }
        Some(message)
    }

    /// The desk's state for `agent`.
    pub fn desk_frame(&self, agent: &str) -> ChatFrame {
        let chats = self
            .chats
            .values()
            .filter(|c| c.state == ChatState::Active && c.agent.as_ref().is_some_and(|a| a.id == agent))
            .map(Chat::summary)
            .collect();
        let calls = self.calls.values().filter(|c| c.active && c.agent == agent).map(Call::summary).collect();
        ChatFrame::Desk { available: self.desks.get(agent).is_some_and(|d| d.available), chats, calls }
    }

    /// How many chats `agent` is handling.
    pub fn active_chats(&self, agent: &str) -> usize {
        self.chats
            .values()
            .filter(|c| c.state == ChatState::Active && c.agent.as_ref().is_some_and(|a| a.id == agent))
            .count()
    }

    /// The active call of `agent`, if any.
    pub fn active_call_of(&self, agent: &str) -> Option<&Call> {
        self.calls.values().find(|c| c.active && c.agent == agent)
    }
}

/// A chat-level refusal with a stable code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// Code.
    pub code: ErrorCode,
    /// Plain message.
    pub message: String,
}

impl Refusal {
    /// A refusal.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self { code, message: message.into() }
    }

    /// As an error frame.
    pub fn frame(&self) -> ChatFrame {
        ChatFrame::Error { code: self.code, message: self.message.clone(), fatal: false }
    }
}
