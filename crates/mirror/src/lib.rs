//! The server-side mirror of one co-browse session's DOM.
//!
//! The customer's browser streams its page as a snapshot followed by mutation batches; the
//! server applies every one of them to a [`Mirror`], so that an agent who joins or reconnects
//! gets the current page at once ([`Mirror::snapshot`]), and so that the server refuses what must
//! never reach an agent's browser: frames are validated (unknown or duplicate node IDs, ops that
//! do not fit their node, size limits) and sanitized in place (scripts, event handlers,
//! `javascript:` URLs, `srcdoc`, embedded browsing contexts, meta refresh, `<base>` rewrites),
//! and the server forwards the sanitized version. The agent's viewer is sandboxed as well; this
//! is the second wall, not the only one.
//!
//! Layout:
//! - [`mirror`](crate::Mirror): the [`Mirror`] struct, its states (no page, page, stale) and accessors.
//! - `arena`: storage. A vector of slots linked by index (parent, siblings, shadow root, frame
//!   document) with a map from the SDK's [`NodeId`](cobrowse_protocol::NodeId) to slot, so that
//!   insert-before and remove are constant time and a rebuild walks links without hashing.
//! - `insert`: the one path by which nodes enter the tree (snapshots, `add`, `shadow`, `frame`):
//!   sanitize, check placement, check limits, link.
//! - `apply`: `snapshot` and `mut` frames, op by op.
//! - `css_rules`: where a stylesheet's top-level rules are, for `cssins` and `cssdel` ops.
//! - `live_state`: `input`, `scroll` and `focus` frames.
//! - `rebuild`: the mirror back into a [`Snapshot`](cobrowse_protocol::Snapshot).
//! - `sanitize`: the rules, as pure functions shared by the snapshot and op paths.
//! - [`limits`](MirrorLimits): node, depth and byte ceilings, and the byte estimate.
//! - [`error`](MirrorError): why a frame was refused.
//!
//! A mirror belongs to one session and is used from one task at a time; it holds no globals and
//! does no I/O.

#![warn(missing_docs)]

mod apply;
mod arena;
mod css_rules;
mod error;
mod insert;
mod limits;
mod live_state;
mod mirror;
mod rebuild;
mod sanitize;

#[cfg(test)]
mod tests;

pub use error::MirrorError;
pub use limits::MirrorLimits;
pub use mirror::{Applied, Mirror};
