//! Wire protocol v1 of Cobrowse: the one definition of every frame that crosses a WebSocket.
//!
//! Layout:
//! - [`ids`]: newtype identifiers ([`SessionId`], [`NodeId`]) so one can never stand in for another.
//! - [`node`]: the serialized DOM ([`Node`]) that snapshots and mutation batches carry.
//! - [`ops`]: mutation operations, encoded as compact JSON arrays.
//! - [`frames`]: the [`Frame`] enum, its bodies, and [`Frame::parse`] / [`Frame::encode`].
//! - [`chat`]: the chat and agent-desk channels (`/ws/v1/chat`, `/ws/v1/desk`).
//! - [`compression`]: compressed frames in binary messages, and their negotiation.
//! - [`codes`]: stable error, end-reason and notice codes shared with the browser code.
//!
//! On the wire every frame is a JSON array `[tag, seq, body]`. `seq` numbers frames per direction
//! and per participant, starting at 1; control frames that are never replayed (hello, welcome,
//! ack, heartbeat, error) carry 0. `docs/protocol.md` documents each frame with an example, and
//! `web/sdk/protocol.js` mirrors these types for the browser code.

pub mod chat;
pub mod codes;
pub mod compression;
pub mod frames;
pub mod ids;
pub mod node;
pub mod ops;

pub use codes::{EndReason, ErrorCode, NoticeCode, RefusalReason};
pub use compression::{Compression, Encoding, WireError};
pub use frames::*;
pub use ids::{NodeId, SessionId, SessionIdError};
pub use node::{Attr, CompatMode, FormState, MaskKind, Node, NodeKind};
pub use ops::Op;

/// The protocol version this build speaks. A client that says another version in its `hello`
/// is refused with [`ErrorCode::VersionMismatch`] before anything else happens.
pub const PROTOCOL_VERSION: u32 = 1;
