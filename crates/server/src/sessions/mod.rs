//! Sessions: the pure lifecycle, participants, the live session object, the registry of live
//! sessions and the watchdog that enforces timeouts.

pub mod lifecycle;
pub mod participant;
pub mod registry;
pub mod session;
pub mod watchdog;
