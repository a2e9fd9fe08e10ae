//! The relay: per-connection loops, per-participant outbound streams, the queue between a
//! session and a connection, and frame routing.

pub mod conn_queue;
pub mod connection;
pub mod outbox;
pub mod route;
