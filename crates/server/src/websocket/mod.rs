//! The server's own WebSocket layer (RFC 6455): the upgrade handshake, frames, and a socket that
//! keeps no buffers while it is idle.
//!
//! Why our own rather than a library's: a co-browsing server holds thousands of sockets that each
//! carry a frame or two a second, now and then a large one. The library we used before kept every
//! socket's read and write buffers at the size of the largest frame it had carried, and zero-filled
//! its read buffer before each read; at 10,000 connections that was most of the server's memory and
//! a third of its CPU (docs/performance.md). This layer does only what the server needs — text and
//! binary messages, fragments, ping, pong and close, no extensions — and reads into the stack.
//!
//! - `handshake.rs`: the upgrade request's checks and the `101` answer, as an axum extractor;
//! - `frame.rs`: frame headers, masking, close payloads (pure, tested byte by byte);
//! - `socket.rs`: the socket: whole messages in, batched frames out;
//! - `text.rs`: UTF-8 text shared between a replay ring and a send queue without copying;
//! - `properties.rs` (tests only): generated fragmentations, read splits and noise against the
//!   socket, in place of a conformance suite.

mod frame;
mod handshake;
#[cfg(test)]
mod properties;
mod socket;
mod text;

pub use handshake::Upgrade;
pub use socket::{Message, WebSocket};
pub use text::Utf8Text;

/// Why a socket stopped reading.
#[derive(Debug, thiserror::Error)]
pub enum SocketError {
    #[error("the client broke the WebSocket protocol: {0}")]
    Protocol(&'static str),
    #[error("the message is larger than this connection accepts")]
    TooLarge,
    #[error("a text message or close reason was not valid UTF-8")]
    InvalidUtf8,
    #[error("the connection closed")]
    Closed,
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

impl SocketError {
    /// The close code that tells the client why (RFC 6455, section 7.4.1), when it can be told.
    fn close_code(&self) -> Option<u16> {
        match self {
            Self::Protocol(_) => Some(1002),
            Self::InvalidUtf8 => Some(1007),
            Self::TooLarge => Some(1009),
            Self::Closed | Self::Io(_) => None,
        }
    }
}
