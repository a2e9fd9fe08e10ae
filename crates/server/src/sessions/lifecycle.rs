//! A session's life as a pure state machine: states, modes, and which timeout ends it next.
//!
//! Nothing here touches sockets, clocks or locks; callers pass `now`. That keeps every
//! transition and every timeout decision testable on its own (see the tests below), while
//! `watchdog.rs` turns [`Lifecycle::deadline`] into real sleeps.

use crate::config::Timeouts;
use cobrowse_protocol::{EndReason, ErrorCode, Mode, SessionState};
use tokio::time::Instant;

/// What changed when the customer answered a write-mode request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answered {
    /// There was no request waiting; nothing changed.
    NothingPending,
    /// Write mode is now on.
    Granted,
    /// The request was denied; still pointer mode.
    Denied,
}

/// State, mode and the times that drive timeouts.
#[derive(Debug, Clone)]
pub struct Lifecycle {
    state: SessionState,
    mode: Mode,
    request_pending: bool,
    write_allowed: bool,
    created_at: Instant,
    last_activity: Instant,
    end_reason: Option<EndReason>,
}

/// Who is away, for the deadline computation.
#[derive(Debug, Clone, Copy, Default)]
pub struct Absences {
    /// Since when the customer has had no connection, if it has none now.
    pub customer_gone_since: Option<Instant>,
    /// Since when no agent has had a connection, if none has one now (only while active).
    pub agents_gone_since: Option<Instant>,
}

impl Lifecycle {
    /// A new pending session in pointer mode.
    pub fn new(now: Instant, write_allowed: bool) -> Self {
        Self {
            state: SessionState::Pending,
            mode: Mode::Pointer,
            request_pending: false,
            write_allowed,
            created_at: now,
            last_activity: now,
            end_reason: None,
        }
    }

    /// The current state.
    pub fn state(&self) -> SessionState {
        self.state
    }

    /// The current mode.
    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// Whether a write request waits for the customer.
    pub fn request_pending(&self) -> bool {
        self.request_pending
    }

    /// Whether policy allows write mode.
    pub fn write_allowed(&self) -> bool {
        self.write_allowed
    }

    /// Why it ended, once it has.
    pub fn end_reason(&self) -> Option<EndReason> {
        self.end_reason
    }

    /// Something happened: restart the inactivity clock.
    pub fn touch(&mut self, now: Instant) {
        self.last_activity = now;
    }

    /// An agent joined. Returns true when this made the session active.
    pub fn agent_joined(&mut self, now: Instant) -> Result<bool, ErrorCode> {
        match self.state {
            SessionState::Ended => Err(ErrorCode::SessionEnded),
            SessionState::Active => Ok(false),
            SessionState::Pending => {
                self.state = SessionState::Active;
                self.touch(now);
                Ok(true)
            }
        }
    }

    /// The agent asks for write mode. `Ok(true)` when the request should go to the customer,
    /// `Ok(false)` when write mode is already on.
    pub fn request_write(&mut self) -> Result<bool, ErrorCode> {
        if self.state != SessionState::Active {
            return Err(ErrorCode::WrongRole);
        }
        if !self.write_allowed {
            return Err(ErrorCode::WriteModeDisabled);
        }
        if self.mode == Mode::Write {
            return Ok(false);
        }
        if self.request_pending {
            return Err(ErrorCode::ModeRequestPending);
        }
        self.request_pending = true;
        Ok(true)
    }

    /// The customer answers the pending request.
    pub fn answer(&mut self, approved: bool) -> Answered {
        if !self.request_pending || self.state != SessionState::Active {
            return Answered::NothingPending;
        }
        self.request_pending = false;
        if approved && self.write_allowed {
            self.mode = Mode::Write;
            Answered::Granted
        } else {
            Answered::Denied
        }
    }

    /// Back to pointer mode (the customer takes control back, or the agent gives it up).
    /// Also withdraws a waiting request. Returns true when the mode changed.
    pub fn revoke(&mut self) -> bool {
        self.request_pending = false;
        if self.mode == Mode::Write {
            self.mode = Mode::Pointer;
            true
        } else {
            false
        }
    }

    /// Whether an agent action may be carried out now.
    pub fn allows_actions(&self) -> bool {
        self.state == SessionState::Active && self.mode == Mode::Write
    }

    /// Ends the session. Returns false when it had already ended (the first reason stands).
    pub fn end(&mut self, reason: EndReason) -> bool {
        if self.state == SessionState::Ended {
            return false;
        }
        self.state = SessionState::Ended;
        self.mode = Mode::Pointer;
        self.request_pending = false;
        self.end_reason = Some(reason);
        true
    }

    /// The earliest moment a timeout will end the session, and with which reason.
    pub fn deadline(&self, timeouts: &Timeouts, absences: Absences) -> Option<(Instant, EndReason)> {
        if self.state == SessionState::Ended {
            return None;
        }
        let mut candidates = vec![(self.last_activity + timeouts.inactivity, EndReason::InactivityTimeout)];
        if self.state == SessionState::Pending {
            candidates.push((self.created_at + timeouts.pending, EndReason::PendingTimeout));
        }
        if let Some(since) = absences.customer_gone_since {
            candidates.push((since + timeouts.customer_reconnect_grace, EndReason::CustomerAway));
        }
        if self.state == SessionState::Active {
            if let Some(since) = absences.agents_gone_since {
                candidates.push((since + timeouts.agent_reconnect_grace, EndReason::AgentAway));
            }
        }
        candidates.into_iter().min_by_key(|(at, _)| *at)
    }

    /// The reason to end now, if a deadline has passed.
    pub fn expired(&self, timeouts: &Timeouts, absences: Absences, now: Instant) -> Option<EndReason> {
        self.deadline(timeouts, absences).filter(|(at, _)| *at <= now).map(|(_, reason)| reason)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn timeouts() -> Timeouts {
        Timeouts {
            pending: Duration::from_secs(300),
            inactivity: Duration::from_secs(1800),
            customer_reconnect_grace: Duration::from_secs(120),
            agent_reconnect_grace: Duration::from_secs(60),
            ..Timeouts::default()
        }
    }

    fn active(now: Instant) -> Lifecycle {
        let mut life = Lifecycle::new(now, true);
        assert_eq!(life.agent_joined(now), Ok(true));
        life
    }

    #[test]
    fn pending_becomes_active_once() {
        let now = Instant::now();
        let mut life = Lifecycle::new(now, true);
        assert_eq!(life.state(), SessionState::Pending);
        assert_eq!(life.agent_joined(now), Ok(true));
        assert_eq!(life.agent_joined(now), Ok(false));
        assert_eq!(life.state(), SessionState::Active);
        assert_eq!(life.mode(), Mode::Pointer);
    }

    #[test]
    fn an_ended_session_never_comes_back() {
        let now = Instant::now();
        let mut life = active(now);
        assert!(life.end(EndReason::AgentExit));
        assert!(!life.end(EndReason::CustomerExit), "the first reason stands");
        assert_eq!(life.end_reason(), Some(EndReason::AgentExit));
        assert_eq!(life.agent_joined(now), Err(ErrorCode::SessionEnded));
        assert_eq!(life.request_write(), Err(ErrorCode::WrongRole));
        assert!(!life.allows_actions());
        assert!(life.deadline(&timeouts(), Absences::default()).is_none());
    }

    #[test]
    fn write_mode_needs_the_customers_approval() {
        let mut life = active(Instant::now());
        assert!(!life.allows_actions());
        assert_eq!(life.request_write(), Ok(true));
        assert!(life.request_pending());
        assert_eq!(life.request_write(), Err(ErrorCode::ModeRequestPending));
        assert!(!life.allows_actions(), "a request alone grants nothing");
        assert_eq!(life.answer(true), Answered::Granted);
        assert_eq!(life.mode(), Mode::Write);
        assert!(life.allows_actions());
        assert_eq!(life.request_write(), Ok(false), "already in write mode");
    }

    #[test]
    fn denial_and_revocation_return_to_pointer() {
        let mut life = active(Instant::now());
        life.request_write().unwrap();
        assert_eq!(life.answer(false), Answered::Denied);
        assert_eq!(life.mode(), Mode::Pointer);
        assert_eq!(life.answer(true), Answered::NothingPending, "an answer without a request changes nothing");
        assert_eq!(life.mode(), Mode::Pointer);

        life.request_write().unwrap();
        life.answer(true);
        assert!(life.revoke());
        assert_eq!(life.mode(), Mode::Pointer);
        assert!(!life.revoke());

        life.request_write().unwrap();
        assert!(!life.revoke(), "revoking a waiting request changes no mode");
        assert!(!life.request_pending(), "but withdraws the request");
    }

    #[test]
    fn write_mode_can_be_disabled_by_policy() {
        let now = Instant::now();
        let mut life = Lifecycle::new(now, false);
        life.agent_joined(now).unwrap();
        assert_eq!(life.request_write(), Err(ErrorCode::WriteModeDisabled));
        assert_eq!(life.answer(true), Answered::NothingPending);
        assert!(!life.allows_actions());
    }

    #[test]
    fn pending_sessions_time_out() {
        let now = Instant::now();
        let life = Lifecycle::new(now, true);
        let t = timeouts();
        assert_eq!(life.deadline(&t, Absences::default()), Some((now + t.pending, EndReason::PendingTimeout)));
        assert_eq!(life.expired(&t, Absences::default(), now + t.pending - Duration::from_secs(1)), None);
        assert_eq!(life.expired(&t, Absences::default(), now + t.pending), Some(EndReason::PendingTimeout));
    }

    #[test]
    fn inactivity_restarts_with_each_touch() {
        let now = Instant::now();
        let mut life = active(now);
        let t = timeouts();
        life.touch(now + Duration::from_secs(1000));
        assert_eq!(life.expired(&t, Absences::default(), now + t.inactivity), None);
        assert_eq!(
            life.expired(&t, Absences::default(), now + Duration::from_secs(1000) + t.inactivity),
            Some(EndReason::InactivityTimeout)
        );
    }

    #[test]
    fn the_customer_may_be_away_for_the_grace() {
        let now = Instant::now();
        let life = active(now);
        let t = timeouts();
        let away = Absences { customer_gone_since: Some(now), agents_gone_since: None };
        assert_eq!(life.expired(&t, away, now + Duration::from_secs(119)), None);
        assert_eq!(life.expired(&t, away, now + Duration::from_secs(120)), Some(EndReason::CustomerAway));
    }

    #[test]
    fn the_agent_may_be_away_for_the_grace_only_once_active() {
        let now = Instant::now();
        let t = timeouts();
        let away = Absences { customer_gone_since: None, agents_gone_since: Some(now) };
        assert_eq!(Lifecycle::new(now, true).expired(&t, away, now + Duration::from_secs(61)), None);
        let life = active(now);
        assert_eq!(life.expired(&t, away, now + Duration::from_secs(59)), None);
        assert_eq!(life.expired(&t, away, now + Duration::from_secs(60)), Some(EndReason::AgentAway));
    }

    #[test]
    fn the_earliest_deadline_wins() {
        let now = Instant::now();
        let life = active(now);
        let t = timeouts();
        let both = Absences { customer_gone_since: Some(now), agents_gone_since: Some(now) };
        assert_eq!(life.deadline(&t, both).map(|(_, r)| r), Some(EndReason::AgentAway));
    }
}
