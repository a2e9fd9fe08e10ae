//! The relay: per-connection loops, per-participant outbound streams, and frame routing.

pub mod connection;
pub mod outbox;
pub mod route;
