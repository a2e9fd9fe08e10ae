//! Primary interactions: the built-in web chat, phone calls reported by the company's telephony,
//! and agents' desks — and how co-browse rides on them.
//!
//! Layout:
//! - `state.rs`: the live chats, calls and desks behind one mutex, and fan-out to sockets.
//! - this file: [`Interactions`], the rules: the queue, accepting, messages, ending, telephony
//!   events, linking co-browse sessions to their chat or call and ending them together.
//! - `chat_socket.rs` / `desk_socket.rs`: the two WebSockets' handshakes and frame handlers;
//!   `socket_loop.rs`: the loop they share.
//! - `http.rs`: starting a chat, transcripts, the telephony API, the demo's simulated call.
//!
//! Assignment: agents see the queue (oldest first, with the customer's name and first words)
//! and accept chats themselves; the first accept wins. A self-hosted team is small, agents know
//! what they can take on, and there is no capacity model to configure; the oldest waiting chat
//! is at the top, and a cap (`chat.max_chats_per_agent`) keeps anyone from hoarding.

pub mod chat_socket;
pub mod desk_socket;
pub mod http;
pub mod socket_loop;
pub mod state;

use crate::auth::AgentIdentity;
use crate::config::Config;
use crate::recorder::Recorder;
use crate::sessions::participant::new_token;
use cobrowse_protocol::chat::{start_marker, Author, ChatFrame, ChatState, Message};
use cobrowse_protocol::{ErrorCode, SessionId};
use cobrowse_store::{InteractionEvent, InteractionKind};
use state::{Call, Chat, Live, Outlet, Refusal};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use time::OffsetDateTime;
use tokio::time::Instant;

/// What a co-browse session rides on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Link {
    /// A chat, by ID.
    Chat(String),
    /// A call, by ID.
    Call(String),
}

impl Link {
    /// The reference recorded with the session (`chat:ID`, `call:ID`).
    pub fn reference(&self) -> String {
        match self {
            Link::Chat(id) => format!("chat:{id}"),
            Link::Call(id) => format!("call:{id}"),
        }
    }
}

/// What a telephony event did.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EventOutcome {
    /// Applied.
    Applied,
    /// Its `event_id` was applied before; nothing changed.
    Duplicate,
    /// Older than what the call already reflects, or about a call that already ended.
    Stale,
}

/// A telephony event as the API receives it.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CallEvent {
    /// Unique per event, for duplicates.
    pub event_id: String,
    /// The call.
    pub call: String,
    /// What happened.
    #[serde(rename = "type")]
    pub kind: CallEventKind,
    /// The agent now on the call (started, transferred).
    #[serde(default)]
    pub agent: Option<String>,
    /// The caller reference (started).
    #[serde(default)]
    pub caller: Option<String>,
    /// When it happened at the telephony system, in milliseconds since 1970 (defaults to now).
    #[serde(default)]
    pub at: Option<u64>,
}

/// Kinds of telephony events.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CallEventKind {
    /// A call was connected to an agent.
    Started,
    /// The call moved to another agent.
    Transferred,
    /// Another party joined the call.
    Conferenced,
    /// The call ended.
    Ended,
}

/// The chat, call and desk service.
pub struct Interactions {
    live: Mutex<Live>,
    config: Arc<Config>,
    recorder: Recorder,
    next_conn: AtomicU64,
}

/// Milliseconds since 1970 now.
pub fn now_ms() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
}

impl Interactions {
    /// The service.
    pub fn new(config: Arc<Config>, recorder: Recorder) -> Self {
        Self { live: Mutex::new(Live::default()), config, recorder, next_conn: AtomicU64::new(1) }
    }

    /// Locks the live state; never held across an await.
    pub fn lock(&self) -> MutexGuard<'_, Live> {
        self.live.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A fresh connection number.
    pub fn next_conn(&self) -> u64 {
        self.next_conn.fetch_add(1, Ordering::Relaxed)
    }

    fn record(&self, event: InteractionEvent) {
        self.recorder.record_interaction(event);
    }

    fn record_message(&self, message: &Message) {
        self.record(InteractionEvent::Message {
            id: message.chat.clone(),
            message_id: message.id,
            author: match message.from {
                Author::Customer => "customer",
                Author::Agent => "agent",
                Author::System => "system",
            }
            .into(),
            name: message.name.clone(),
            text: message.text.clone(),
            at: OffsetDateTime::now_utc(),
        });
    }

    fn check_text(&self, text: &str) -> Result<String, Refusal> {
        let text = text.trim();
        if text.is_empty() {
            return Err(Refusal::new(ErrorCode::InvalidRequest, "a message needs some text"));
        }
        let max = self.config.chat.max_message_chars;
        if text.chars().count() > max {
            return Err(Refusal::new(ErrorCode::LimitExceeded, format!("messages are at most {max} characters")));
        }
        Ok(text.to_owned())
    }

    /// A customer starts a chat; it enters the queue. Returns its ID and the customer's token.
    pub fn start_chat(&self, customer: &str, first: Option<&str>) -> Result<(String, String), Refusal> {
        let customer = customer.trim();
        if customer.is_empty() || customer.chars().count() > 80 {
            return Err(Refusal::new(ErrorCode::InvalidRequest, "a name of 1 to 80 characters, please"));
        }
        let first = first.map(|text| self.check_text(text)).transpose()?;
        let id = format!("chat-{}", uuid::Uuid::new_v4().simple());
        let token = new_token();
        let mut live = self.lock();
        if live.chats.values().filter(|c| c.state != ChatState::Ended).count() >= self.config.chat.max_live_chats {
            return Err(Refusal::new(ErrorCode::AtCapacity, "too many chats are open; try again shortly"));
        }
        live.chats.insert(
            id.clone(),
            Chat {
                id: id.clone(),
                token: token.clone(),
                customer: customer.to_owned(),
                state: ChatState::Queued,
                agent: None,
                since: now_ms(),
                messages: Vec::new(),
                seen: Default::default(),
                customer_outlet: None,
                customer_gone_since: Some(Instant::now()),
                cobrowse: None,
                end_reason: None,
            },
        );
        self.record(InteractionEvent::Started {
            id: id.clone(),
            kind: InteractionKind::Chat,
            customer: customer.to_owned(),
            agent: None,
            at: OffsetDateTime::now_utc(),
        });
        if let Some(text) = first {
            if let Some(message) = live.append(&id, Author::Customer, customer, text, None, now_ms()) {
                self.record_message(&message);
            }
        }
        live.announce_queue();
        Ok((id, token))
    }

    /// Attaches the customer's socket; returns the frames to send first (state, then every
    /// message after `last`).
    pub fn attach_customer(
        &self,
        chat_id: &str,
        token: &str,
        last: u64,
        outlet: Outlet,
    ) -> Result<Vec<String>, Refusal> {
        let mut live = self.lock();
        let waiting = live.waiting();
        let chat = live
            .chats
            .get_mut(chat_id)
            .filter(|c| crate::sessions::participant::constant_time_eq(c.token.as_bytes(), token.as_bytes()))
            .ok_or_else(|| Refusal::new(ErrorCode::Unauthorized, "no chat has this ID and token"))?;
        let position = waiting.iter().position(|w| w.chat == chat_id).map(|p| p as u32 + 1);
        let mut frames =
            vec![ChatFrame::ChatStateChanged { chat: chat.summary(), position, reason: chat.end_reason.clone() }
                .encode()];
        frames.extend(chat.messages.iter().filter(|m| m.id > last).map(|m| ChatFrame::Msg(m.clone()).encode()));
        if chat.state != ChatState::Ended {
            if let Some(previous) = chat.customer_outlet.replace(outlet) {
                let _ = previous.offer(
                    ChatFrame::Error {
                        code: ErrorCode::Superseded,
                        message: "the chat continued in another tab".into(),
                        fatal: true,
                    }
                    .encode(),
                );
            }
            chat.customer_gone_since = None;
        }
        Ok(frames)
    }

    /// The customer's socket `conn` closed.
    pub fn detach_customer(&self, chat_id: &str, conn: u64) {
        let mut live = self.lock();
        if let Some(chat) = live.chats.get_mut(chat_id) {
            if chat.customer_outlet.as_ref().is_some_and(|o| o.conn == conn) {
                chat.customer_outlet = None;
                chat.customer_gone_since = Some(Instant::now());
            }
        }
    }

    /// The customer sends a message (`cid` makes a resend harmless).
    pub fn customer_says(&self, chat_id: &str, cid: &str, text: &str) -> Result<(), Refusal> {
        let text = self.check_text(text)?;
        let mut live = self.lock();
        let chat =
            live.chats.get_mut(chat_id).ok_or_else(|| Refusal::new(ErrorCode::UnknownInteraction, "no such chat"))?;
        if chat.state == ChatState::Ended {
            return Err(Refusal::new(ErrorCode::SessionEnded, "this chat has ended"));
        }
        if chat.messages.len() >= self.config.chat.max_messages {
            return Err(Refusal::new(ErrorCode::LimitExceeded, "this chat has reached its message limit"));
        }
        if !chat.seen.insert((Author::Customer, cid.to_owned())) {
            return Ok(()); // a resend after a reconnect: already in the transcript
        }
        let name = chat.customer.clone();
        let first_message = !chat.messages.iter().any(|m| m.from == Author::Customer);
        let queued = chat.state == ChatState::Queued;
        if let Some(message) = live.append(chat_id, Author::Customer, &name, text, Some(cid.to_owned()), now_ms()) {
            self.record_message(&message);
        }
        if queued && first_message {
            live.announce_queue(); // the preview changed
        }
        Ok(())
    }

    /// Attaches a desk socket for `agent`; returns the frames to send first.
    pub fn attach_desk(&self, agent: &AgentIdentity, outlet: Outlet) -> Vec<String> {
        let mut live = self.lock();
        let desk = live.desks.entry(agent.id.clone()).or_default();
        desk.outlets.push(outlet);
        let available = desk.available;
        let mut frames = vec![live.desk_frame(&agent.id).encode()];
        if available {
            frames.push(ChatFrame::Queue { waiting: live.waiting() }.encode());
        }
        // Each active chat's transcript so the desk can show it after a reload.
        let chats: Vec<String> = live
            .chats
            .values()
            .filter(|c| c.state == ChatState::Active && c.agent.as_ref().is_some_and(|a| a.id == agent.id))
            .flat_map(|c| c.messages.iter().map(|m| ChatFrame::Msg(m.clone()).encode()))
            .collect();
        frames.extend(chats);
        frames
    }

    /// A desk socket closed; with none left the agent takes no new chats.
    pub fn detach_desk(&self, agent: &str, conn: u64) {
        let mut live = self.lock();
        if let Some(desk) = live.desks.get_mut(agent) {
            desk.outlets.retain(|o| o.conn != conn);
            if desk.outlets.is_empty() {
                desk.available = false;
            }
        }
    }

    /// The agent says whether they take new chats.
    pub fn set_presence(&self, agent: &str, available: bool) {
        let mut live = self.lock();
        live.desks.entry(agent.to_owned()).or_default().available = available;
        let desk = live.desk_frame(agent);
        live.to_desk(agent, &desk);
        if available {
            let queue = ChatFrame::Queue { waiting: live.waiting() };
            live.to_desk(agent, &queue);
        }
    }

    /// The agent takes a waiting chat. The first accept wins.
    pub fn accept(&self, agent: &AgentIdentity, chat_id: &str) -> Result<(), Refusal> {
        let mut live = self.lock();
        if live.active_chats(&agent.id) >= self.config.chat.max_chats_per_agent {
            return Err(Refusal::new(
                ErrorCode::LimitExceeded,
                format!("you are handling {} chats already", self.config.chat.max_chats_per_agent),
            ));
        }
        let chat =
            live.chats.get_mut(chat_id).ok_or_else(|| Refusal::new(ErrorCode::UnknownInteraction, "no such chat"))?;
        if chat.state != ChatState::Queued {
            return Err(Refusal::new(ErrorCode::ChatTaken, "another agent took this chat, or it ended"));
        }
        chat.state = ChatState::Active;
        chat.agent = Some(agent.clone());
        let summary = chat.summary();
        self.record(InteractionEvent::Assigned {
            id: chat_id.to_owned(),
            agent: agent.id.clone(),
            at: OffsetDateTime::now_utc(),
        });
        live.to_customer(chat_id, &ChatFrame::ChatStateChanged { chat: summary.clone(), position: None, reason: None });
        live.to_desk(&agent.id, &ChatFrame::ChatStateChanged { chat: summary, position: None, reason: None });
        let history: Vec<Message> = live.chats.get(chat_id).map(|c| c.messages.clone()).unwrap_or_default();
        for message in history {
            live.to_desk(&agent.id, &ChatFrame::Msg(message));
        }
        if let Some(message) =
            live.append(chat_id, Author::System, "Cobrowse", format!("{} joined the chat", agent.name), None, now_ms())
        {
            self.record_message(&message);
        }
        live.announce_queue();
        Ok(())
    }

    /// The agent sends a message in one of their chats.
    pub fn agent_says(&self, agent: &AgentIdentity, chat_id: &str, cid: &str, text: &str) -> Result<(), Refusal> {
        let text = self.check_text(text)?;
        let mut live = self.lock();
        let chat =
            live.chats.get_mut(chat_id).ok_or_else(|| Refusal::new(ErrorCode::UnknownInteraction, "no such chat"))?;
        if chat.state != ChatState::Active || chat.agent.as_ref().is_none_or(|a| a.id != agent.id) {
            return Err(Refusal::new(ErrorCode::WrongRole, "this is not one of your chats"));
        }
        if chat.messages.len() >= self.config.chat.max_messages {
            return Err(Refusal::new(ErrorCode::LimitExceeded, "this chat has reached its message limit"));
        }
        if !chat.seen.insert((Author::Agent, cid.to_owned())) {
            return Ok(());
        }
        if let Some(message) = live.append(chat_id, Author::Agent, &agent.name, text, Some(cid.to_owned()), now_ms()) {
            self.record_message(&message);
        }
        Ok(())
    }

    /// Ends a chat. Returns the co-browse session riding on it, which the caller ends too.
    /// `by_agent` must be the chat's agent when given.
    pub fn end_chat(&self, chat_id: &str, reason: &str, by_agent: Option<&str>) -> Result<Option<SessionId>, Refusal> {
        let mut live = self.lock();
        let chat =
            live.chats.get_mut(chat_id).ok_or_else(|| Refusal::new(ErrorCode::UnknownInteraction, "no such chat"))?;
        if let Some(agent) = by_agent {
            if chat.agent.as_ref().is_none_or(|a| a.id != agent) {
                return Err(Refusal::new(ErrorCode::WrongRole, "this is not one of your chats"));
            }
        }
        if chat.state == ChatState::Ended {
            return Ok(None);
        }
        let was_queued = chat.state == ChatState::Queued;
        chat.state = ChatState::Ended;
        chat.end_reason = Some(reason.to_owned());
        let session = chat.cobrowse.take();
        let summary = chat.summary();
        let agent = chat.agent.as_ref().map(|a| a.id.clone());
        let frame = ChatFrame::ChatStateChanged { chat: summary, position: None, reason: Some(reason.to_owned()) };
        live.to_customer(chat_id, &frame);
        if let Some(agent) = &agent {
            live.to_desk(agent, &frame);
        }
        if let Some(chat) = live.chats.get_mut(chat_id) {
            chat.customer_outlet = None; // the customer's socket closes after the final state
        }
        if was_queued {
            live.announce_queue();
        }
        self.record(InteractionEvent::Ended {
            id: chat_id.to_owned(),
            reason: reason.to_owned(),
            at: OffsetDateTime::now_utc(),
        });
        Ok(session)
    }

    /// Links a new co-browse session to the customer's chat (the widget's "Start co-browse"):
    /// the agent's desk is told so the workspace opens it, and `{start:ID}` enters the transcript.
    pub fn link_chat(&self, chat_id: &str, token: &str, session: SessionId) -> Result<(), Refusal> {
        let mut live = self.lock();
        let chat = live
            .chats
            .get_mut(chat_id)
            .filter(|c| crate::sessions::participant::constant_time_eq(c.token.as_bytes(), token.as_bytes()))
            .ok_or_else(|| Refusal::new(ErrorCode::UnknownInteraction, "no chat has this ID and token"))?;
        if chat.state != ChatState::Active {
            return Err(Refusal::new(
                ErrorCode::InteractionRequired,
                "co-browse starts once an agent has answered your chat",
            ));
        }
        if chat.cobrowse.is_some() {
            return Err(Refusal::new(ErrorCode::InvalidRequest, "a co-browse session is already running in this chat"));
        }
        chat.cobrowse = Some(session);
        let agent = chat.agent.as_ref().map(|a| a.id.clone());
        if let Some(message) = live.append(chat_id, Author::System, "Cobrowse", start_marker(session), None, now_ms()) {
            self.record_message(&message);
        }
        if let Some(agent) = agent {
            live.to_desk(&agent, &ChatFrame::Cobrowse { chat: chat_id.to_owned(), session });
        }
        Ok(())
    }

    /// The agent of `chat_id`, if the chat is active.
    pub fn chat_agent(&self, chat_id: &str) -> Option<String> {
        let live = self.lock();
        live.chats
            .get(chat_id)
            .filter(|c| c.state == ChatState::Active)
            .and_then(|c| c.agent.as_ref().map(|a| a.id.clone()))
    }

    /// Links `session` to the agent's active call, if the agent is on one. Returns the call ID.
    pub fn link_agent_call(&self, agent: &str, session: SessionId) -> Option<String> {
        let mut live = self.lock();
        let call = live.calls.values_mut().find(|c| c.active && c.agent == agent)?;
        if call.cobrowse.is_some_and(|s| s != session) {
            return None;
        }
        call.cobrowse = Some(session);
        let summary = call.summary();
        live.to_desk(agent, &ChatFrame::Call(summary));
        Some(live.active_call_of(agent).map(|c| c.id.clone()).unwrap_or_default())
    }

    /// A co-browse session ended: unlink it, and note it in the chat.
    pub fn cobrowse_ended(&self, session: SessionId) {
        let mut live = self.lock();
        let chat_id = live.chats.values_mut().find(|c| c.cobrowse == Some(session)).map(|c| {
            c.cobrowse = None;
            c.id.clone()
        });
        if let Some(chat_id) = chat_id {
            if let Some(message) = live.append(
                &chat_id,
                Author::System,
                "Cobrowse",
                "Co-browse ended; the chat goes on.".into(),
                None,
                now_ms(),
            ) {
                self.record_message(&message);
            }
            // The desk lists the chat's co-browse session; tell it the session is gone.
            if let Some(chat) = live.chats.get(&chat_id) {
                let agent = chat.agent.as_ref().map(|a| a.id.clone());
                let frame = ChatFrame::ChatStateChanged { chat: chat.summary(), position: None, reason: None };
                if let Some(agent) = agent {
                    live.to_desk(&agent, &frame);
                }
            }
        }
        let mut updated = Vec::new();
        for call in live.calls.values_mut().filter(|c| c.cobrowse == Some(session)) {
            call.cobrowse = None;
            updated.push((call.agent.clone(), call.summary()));
        }
        for (agent, summary) in updated {
            live.to_desk(&agent, &ChatFrame::Call(summary));
        }
    }

    /// Applies a telephony event. Returns what it did and the co-browse session to end, if any.
    pub fn call_event(
        &self,
        event: CallEvent,
        known_agent: impl Fn(&str) -> bool,
    ) -> Result<(EventOutcome, Option<SessionId>), Refusal> {
        if event.event_id.is_empty() || event.event_id.len() > 200 || event.call.is_empty() || event.call.len() > 200 {
            return Err(Refusal::new(ErrorCode::InvalidRequest, "event_id and call are 1 to 200 characters"));
        }
        if let Some(agent) = &event.agent {
            if !known_agent(agent) {
                return Err(Refusal::new(ErrorCode::UnknownAgent, format!("no agent has the ID {agent:?}")));
            }
        }
        let at = event.at.unwrap_or_else(now_ms);
        let mut live = self.lock();
        if live.seen_events.contains_key(&event.event_id) {
            return Ok((EventOutcome::Duplicate, None));
        }
        let outcome = match event.kind {
            CallEventKind::Started => {
                let agent = event
                    .agent
                    .clone()
                    .ok_or_else(|| Refusal::new(ErrorCode::InvalidRequest, "a started call names its agent"))?;
                match live.calls.get(&event.call) {
                    // A repeat start, a start arriving after the call's end, or an older start:
                    // the call is already further along.
                    Some(existing) if !existing.active || existing.last_event_at >= at => (EventOutcome::Stale, None),
                    Some(_) => (EventOutcome::Stale, None),
                    None => {
                        let caller = event.caller.clone().unwrap_or_default();
                        live.calls.insert(
                            event.call.clone(),
                            Call {
                                id: event.call.clone(),
                                caller: caller.clone(),
                                agent: agent.clone(),
                                active: true,
                                cobrowse: None,
                                last_event_at: at,
                            },
                        );
                        self.record(InteractionEvent::Started {
                            id: event.call.clone(),
                            kind: InteractionKind::Voice,
                            customer: caller,
                            agent: Some(agent.clone()),
                            at: OffsetDateTime::now_utc(),
                        });
                        let summary = live.calls[&event.call].summary();
                        live.to_desk(&agent, &ChatFrame::Call(summary));
                        (EventOutcome::Applied, None)
                    }
                }
            }
            CallEventKind::Transferred | CallEventKind::Conferenced | CallEventKind::Ended => {
                let Some(call) = live.calls.get_mut(&event.call) else {
                    return Err(Refusal::new(ErrorCode::UnknownInteraction, "no call has this ID (was it started?)"));
                };
                if !call.active || call.last_event_at > at {
                    (EventOutcome::Stale, None)
                } else {
                    call.last_event_at = at;
                    let session = call.cobrowse.take();
                    let previous_agent = call.agent.clone();
                    match event.kind {
                        CallEventKind::Ended => call.active = false,
                        CallEventKind::Transferred => {
                            let to = event.agent.clone().ok_or_else(|| {
                                Refusal::new(ErrorCode::InvalidRequest, "a transfer names the new agent")
                            })?;
                            call.agent = to;
                        }
                        _ => {}
                    }
                    let summary = call.summary();
                    let new_agent = call.agent.clone();
                    let reason = match event.kind {
                        CallEventKind::Ended => "call_ended",
                        CallEventKind::Transferred => "transferred",
                        _ => "conferenced",
                    };
                    if event.kind == CallEventKind::Ended {
                        self.record(InteractionEvent::Ended {
                            id: event.call.clone(),
                            reason: reason.into(),
                            at: OffsetDateTime::now_utc(),
                        });
                    } else if event.kind == CallEventKind::Transferred {
                        self.record(InteractionEvent::Assigned {
                            id: event.call.clone(),
                            agent: new_agent.clone(),
                            at: OffsetDateTime::now_utc(),
                        });
                    }
                    live.to_desk(
                        &previous_agent,
                        &ChatFrame::Call(CallSummary {
                            active: summary.active && previous_agent == new_agent,
                            ..summary.clone()
                        }),
                    );
                    if new_agent != previous_agent {
                        live.to_desk(&new_agent, &ChatFrame::Call(summary));
                    }
                    (EventOutcome::Applied, session)
                }
            }
        };
        live.seen_events.insert(event.event_id, Instant::now());
        Ok(outcome)
    }

    /// Ends every open chat (server shutdown); customers and desks are told why.
    pub fn end_all_chats(&self, reason: &str) {
        let open: Vec<String> =
            self.lock().chats.values().filter(|c| c.state != ChatState::Ended).map(|c| c.id.clone()).collect();
        for chat in open {
            let _ = self.end_chat(&chat, reason, None);
        }
    }

    /// Housekeeping: ends chats whose customer has been gone too long and forgets old ended
    /// chats, calls and event IDs. Returns co-browse sessions to end.
    pub fn sweep(&self, now: Instant) -> Vec<SessionId> {
        let grace = self.config.chat.customer_grace;
        let expired: Vec<String> = {
            let live = self.lock();
            live.chats
                .values()
                .filter(|c| {
                    c.state != ChatState::Ended
                        && c.customer_gone_since.is_some_and(|since| now.duration_since(since) >= grace)
                })
                .map(|c| c.id.clone())
                .collect()
        };
        let mut sessions = Vec::new();
        for chat in expired {
            if let Ok(Some(session)) = self.end_chat(&chat, "customer_away", None) {
                sessions.push(session);
            }
        }
        let keep = std::time::Duration::from_secs(3600);
        let mut live = self.lock();
        live.seen_events.retain(|_, at| now.duration_since(*at) < keep);
        let cutoff = now_ms().saturating_sub(keep.as_millis() as u64);
        live.chats.retain(|_, c| c.state != ChatState::Ended || c.since > cutoff);
        live.calls.retain(|_, c| c.active || c.last_event_at > cutoff);
        sessions
    }
}

use cobrowse_protocol::chat::CallSummary;
