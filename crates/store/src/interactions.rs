//! Values of the interactions part of the store: chats and calls, chat transcripts, and the
//! webhook delivery log. Like [`crate::model`], no database types.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// What kind of primary interaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InteractionKind {
    /// The built-in web chat.
    Chat,
    /// A phone call reported by the company's telephony.
    Voice,
}

impl InteractionKind {
    /// The stored form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Chat => "chat",
            Self::Voice => "voice",
        }
    }

    /// Parses the stored form.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "chat" => Some(Self::Chat),
            "voice" => Some(Self::Voice),
            _ => None,
        }
    }
}

/// Something that happened to an interaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InteractionEvent {
    /// A chat entered the queue, or a call started.
    Started {
        /// The interaction's ID.
        id: String,
        /// Chat or voice.
        kind: InteractionKind,
        /// Customer's name or caller reference.
        customer: String,
        /// The agent, for calls (chats get theirs on acceptance).
        agent: Option<String>,
        /// When.
        at: OffsetDateTime,
    },
    /// An agent took the chat, or the call moved to another agent.
    Assigned {
        /// The interaction.
        id: String,
        /// The agent.
        agent: String,
        /// When.
        at: OffsetDateTime,
    },
    /// A chat message.
    Message {
        /// The chat.
        id: String,
        /// Its number in the chat.
        message_id: u64,
        /// `customer`, `agent` or `system`.
        author: String,
        /// The author's name.
        name: String,
        /// The text.
        text: String,
        /// When.
        at: OffsetDateTime,
    },
    /// The interaction ended.
    Ended {
        /// The interaction.
        id: String,
        /// Why.
        reason: String,
        /// When.
        at: OffsetDateTime,
    },
}

/// One line of a chat transcript.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TranscriptLine {
    /// Its number in the chat.
    pub message_id: u64,
    /// `customer`, `agent` or `system`.
    pub author: String,
    /// The author's name.
    pub name: String,
    /// The text.
    pub text: String,
    /// When.
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
}

/// A stored interaction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InteractionRecord {
    /// Its ID.
    pub id: String,
    /// Chat or voice.
    pub kind: InteractionKind,
    /// Customer's name or caller reference.
    pub customer: String,
    /// When it started.
    #[serde(with = "time::serde::rfc3339")]
    pub started_at: OffsetDateTime,
    /// The agent handling it last.
    pub agent_id: Option<String>,
    /// When it ended.
    #[serde(with = "time::serde::rfc3339::option")]
    pub ended_at: Option<OffsetDateTime>,
    /// Why it ended.
    pub end_reason: Option<String>,
}

/// What became of one delivery attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryOutcome {
    /// The endpoint answered 2xx.
    Delivered,
    /// It failed and will be tried again.
    Retrying,
    /// It failed for the last time.
    Failed,
}

impl DeliveryOutcome {
    /// The stored form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Delivered => "delivered",
            Self::Retrying => "retrying",
            Self::Failed => "failed",
        }
    }

    /// Parses the stored form.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "delivered" => Some(Self::Delivered),
            "retrying" => Some(Self::Retrying),
            "failed" => Some(Self::Failed),
            _ => None,
        }
    }
}

/// One attempt to deliver a webhook event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookDelivery {
    /// The endpoint URL.
    pub endpoint: String,
    /// The event's ID (the same across its attempts).
    pub event_id: String,
    /// The event's type.
    pub event_type: String,
    /// 1 for the first attempt.
    pub attempt: u32,
    /// The HTTP status answered, if any.
    pub status: Option<u16>,
    /// What became of it.
    pub outcome: DeliveryOutcome,
    /// Why it failed, in plain words.
    pub error: Option<String>,
    /// When.
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
}
