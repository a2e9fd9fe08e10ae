//! One live session: its lifecycle, DOM mirror and participants behind one plain mutex.
//!
//! The mutex is `std::sync::Mutex` and is never held across an `.await`: every operation on a
//! session is a short synchronous step (apply a frame to the mirror, push to bounded queues
//! without waiting). Work that must wait — releasing claims, sleeping until a deadline — happens
//! outside it. Per-session locking means sessions never contend with each other.

use super::lifecycle::{Absences, Lifecycle};
use super::participant::{new_token, Slot, SlotKey};
use crate::config::Config;
use crate::metrics::Metrics;
use crate::recorder::Recorder;
use crate::relay::outbox::{frame_text, ConnLink, OutStream};
use cobrowse_mirror::{Mirror, MirrorLimits};
use cobrowse_protocol::{
    EndReason, Ended, ErrorCode, Frame, Mode, ModeChanged, Notice, NoticeCode, Participant, Role, SessionId,
    SessionState, Welcome, PROTOCOL_VERSION,
};
use cobrowse_store::{RecordEvent, RecordId};
use std::sync::{Arc, Mutex, MutexGuard};
use time::OffsetDateTime;
use tokio::sync::Notify;
use tokio::time::Instant;

/// What the rest of the server needs to act on a session.
#[derive(Clone)]
pub struct SessionDeps {
    /// The configuration.
    pub config: Arc<Config>,
    /// Where records go.
    pub recorder: Recorder,
    /// Counters.
    pub metrics: Arc<Metrics>,
}

/// A live session, shared by its connections, its watchdog and the registry.
pub struct SessionHandle {
    /// The public nine-digit ID.
    pub id: SessionId,
    /// The record's own ID in the store.
    pub record: RecordId,
    inner: Mutex<SessionInner>,
    /// Wakes the watchdog when a deadline may have moved earlier or a viewer started lagging.
    pub changed: Notify,
    /// The configuration and services.
    pub deps: SessionDeps,
    /// The chat or call this session rides on (set at creation for a chat, at the agent's join
    /// for a call).
    pub link: Mutex<Option<crate::interactions::Link>>,
}

/// Everything mutable about a session.
pub struct SessionInner {
    /// State and mode.
    pub life: Lifecycle,
    /// The customer's page as the server knows it.
    pub mirror: Mirror,
    /// The customer.
    pub customer: Slot,
    /// Agents and observers.
    pub viewers: Vec<Slot>,
    next_viewer: u32,
    /// The last page recorded as visited, so reloads of one page are recorded once.
    pub last_page: Option<String>,
}

/// Why a join was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JoinRefusal {
    /// The session ended meanwhile.
    Ended,
    /// Another agent holds it.
    Taken,
}

/// What `hello` established.
pub struct Attached {
    /// The slot that attached.
    pub key: SlotKey,
    /// Its role.
    pub role: Role,
}

impl SessionHandle {
    /// A new pending session with the customer's slot; returns it with the customer's token.
    pub fn new(id: SessionId, deps: SessionDeps, now: Instant) -> (Arc<Self>, String) {
        let config = &deps.config;
        let token = new_token();
        let customer = Slot::new(
            Participant { role: Role::Customer, id: "customer".into(), name: "Customer".into() },
            None,
            token.clone(),
            OutStream::new(config.limits.replay_frames, config.limits.replay_bytes),
            now,
        );
        let mirror = Mirror::new(MirrorLimits {
            max_nodes: config.limits.max_nodes,
            max_depth: config.limits.max_depth,
            max_bytes: config.limits.max_session_bytes,
        });
        let inner = SessionInner {
            life: Lifecycle::new(now, config.policy.write_mode_allowed),
            mirror,
            customer,
            viewers: Vec::new(),
            next_viewer: 0,
            last_page: None,
        };
        let handle = Arc::new(Self {
            id,
            record: RecordId::random(),
            inner: Mutex::new(inner),
            changed: Notify::new(),
            deps,
            link: Mutex::new(None),
        });
        (handle, token)
    }

    /// Locks the session. Never hold the guard across an `.await`.
    pub fn lock(&self) -> MutexGuard<'_, SessionInner> {
        // Every mutation keeps the session consistent step by step; after a panic elsewhere the
        // worst case is one frame half-applied to the mirror, which the next snapshot repairs.
        self.inner.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// What the session rides on.
    pub fn link(&self) -> Option<crate::interactions::Link> {
        self.link.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Ties the session to its chat or call.
    pub fn set_link(&self, link: crate::interactions::Link) {
        *self.link.lock().unwrap_or_else(|p| p.into_inner()) = Some(link);
    }

    /// The session's state now.
    pub fn state(&self) -> SessionState {
        self.lock().life.state()
    }

    /// Adds an agent (or observer) and returns their participant token. The same agent joining
    /// again gets their existing token back (a reloaded workspace).
    pub fn join(&self, role: Role, agent_id: &str, name: &str, now: Instant) -> Result<String, JoinRefusal> {
        let mut inner = self.lock();
        if inner.life.state() == SessionState::Ended {
            return Err(JoinRefusal::Ended);
        }
        if let Some(existing) =
            inner.viewers.iter().find(|s| s.agent_id.as_deref() == Some(agent_id) && s.role() == role)
        {
            return Ok(existing.token().to_owned());
        }
        if role == Role::Agent && inner.viewers.iter().any(|s| s.role() == Role::Agent) {
            return Err(JoinRefusal::Taken);
        }
        let limits = &self.deps.config.limits;
        let token = new_token();
        let who = Participant { role, id: agent_id.to_owned(), name: name.to_owned() };
        inner.next_viewer += 1;
        let slot = Slot::new(
            who.clone(),
            Some(agent_id.to_owned()),
            token.clone(),
            OutStream::new(limits.replay_frames, limits.replay_bytes),
            now,
        );
        inner.viewers.push(slot);
        if role == Role::Agent {
            if inner.life.agent_joined(now) == Ok(true) {
                self.deps.recorder.record(RecordEvent::Joined {
                    record: self.record,
                    agent_id: agent_id.to_owned(),
                    agent_name: name.to_owned(),
                    at: OffsetDateTime::now_utc(),
                });
            }
            inner.notify_all(&Notice { code: NoticeCode::AgentJoined, who: Some(who), detail: None });
        } else {
            inner.notify_all(&Notice { code: NoticeCode::ObserverJoined, who: Some(who), detail: None });
        }
        drop(inner);
        self.changed.notify_one();
        Ok(token)
    }

    /// Checks a `hello` token and attaches the connection to the participant it belongs to.
    /// Queues `welcome` first, then either the frames the client missed or a fresh page.
    pub fn attach(&self, token: &str, seen: u64, link: ConnLink, now: Instant) -> Result<Attached, ErrorCode> {
        let mut inner = self.lock();
        if inner.life.state() == SessionState::Ended {
            return Err(ErrorCode::SessionEnded);
        }
        let key = inner.find_slot(token).ok_or(ErrorCode::Unauthorized)?;
        let config = &self.deps.config;
        let welcome = Welcome { z: link.compression, ..inner.welcome(self.id, key, config) };
        let SessionInner { customer, viewers, mirror, .. } = &mut *inner;
        let slot = match key {
            SlotKey::Customer => customer,
            SlotKey::Viewer(index) => &mut viewers[index as usize],
        };
        if let Some(previous) = slot.out.attach(link) {
            self.deps.metrics.error(ErrorCode::Superseded);
            previous.close_with(
                Frame::fatal(ErrorCode::Superseded, "this participant connected again from another tab or window")
                    .encode(0),
            );
        }
        let was_gone = slot.gone_since.take().is_some() && slot.ever_connected;
        slot.ever_connected = true;
        slot.leaving = None;
        slot.out.push_control(Frame::Welcome(Box::new(welcome)).encode(0));
        let role = slot.role();
        let replay = slot.out.replay_after(seen);
        // A viewer that has seen nothing (a fresh workspace), has no page yet, or whose missed
        // frames fell out of the ring gets the current page: a snapshot is a resync point, so the
        // sequence may jump to it. Everyone else is replayed exactly what they missed.
        let wants_page = role != Role::Customer && (seen == 0 || !slot.has_base || replay.is_none());
        let page = if wants_page { mirror.snapshot() } else { None };
        match page {
            Some(snapshot) => {
                let body = Frame::Snapshot(Box::new(snapshot)).encode_body();
                slot.out.resync_with("snapshot", &body);
                slot.has_base = true;
            }
            None => {
                if wants_page {
                    slot.has_base = false; // no page yet: the customer's next snapshot reaches them
                }
                for text in replay.into_iter().flatten() {
                    slot.out.requeue(text);
                }
            }
        }
        let who = slot.who.clone();
        if was_gone {
            match key {
                SlotKey::Customer => {
                    inner.notify_viewers(&Notice { code: NoticeCode::CustomerBack, who: None, detail: None });
                }
                SlotKey::Viewer(_) if role == Role::Agent && inner.life.state() == SessionState::Active => {
                    inner.notify_customer(&Notice { code: NoticeCode::AgentBack, who: Some(who), detail: None });
                }
                SlotKey::Viewer(_) => {}
            }
        }
        inner.life.touch(now);
        Ok(Attached { key, role })
    }

    /// The connection `conn_id` of `key` closed. Starts that participant's grace.
    pub fn detach(&self, key: SlotKey, conn_id: u64, now: Instant) {
        let mut inner = self.lock();
        let Some(slot) = inner.slot_mut(key) else { return };
        if !slot.out.detach(conn_id) {
            return; // superseded by a newer connection already
        }
        slot.gone_since = Some(now);
        let who = slot.who.clone();
        let leaving = slot.leaving.take();
        if inner.life.state() != SessionState::Ended {
            match key {
                SlotKey::Customer => {
                    let detail = match leaving {
                        Some(cobrowse_protocol::LeavingTo::Page) => "page",
                        Some(cobrowse_protocol::LeavingTo::Site) => "site",
                        _ => "unknown",
                    };
                    inner.notify_viewers(&Notice {
                        code: NoticeCode::CustomerAway,
                        who: None,
                        detail: Some(detail.into()),
                    });
                }
                SlotKey::Viewer(_) if who.role == Role::Agent => {
                    inner.notify_customer(&Notice { code: NoticeCode::AgentAway, who: Some(who), detail: None });
                }
                SlotKey::Viewer(_) => {}
            }
        }
        drop(inner);
        self.changed.notify_one();
    }

    /// Ends the session once: tells everyone why, closes their sockets, records the end.
    /// Returns the agents' IDs whose one-session locks should be released, or None when the
    /// session had already ended.
    pub fn end(&self, reason: EndReason) -> Option<Vec<String>> {
        let mut inner = self.lock();
        if !inner.life.end(reason) {
            return None;
        }
        let body = Frame::Ended(Ended { reason }).encode_body();
        let mut agents = Vec::new();
        for slot in inner.all_slots_mut() {
            slot.out.finish_with("ended", &body);
            if slot.role() == Role::Agent {
                agents.extend(slot.agent_id.clone());
            }
        }
        inner.mirror.clear();
        drop(inner);
        self.deps.recorder.record(RecordEvent::Ended { record: self.record, reason, at: OffsetDateTime::now_utc() });
        self.deps.metrics.session_ended(reason);
        self.changed.notify_one();
        Some(agents)
    }

    /// The reason the session should end now, if a deadline passed, and the next deadline.
    pub fn check_deadlines(&self, now: Instant) -> (Option<EndReason>, Option<Instant>) {
        let inner = self.lock();
        let absences = inner.absences();
        let timeouts = &self.deps.config.timeouts;
        let expired = inner.life.expired(timeouts, absences, now);
        (expired, inner.life.deadline(timeouts, absences).map(|(at, _)| at))
    }

    /// Sends fresh snapshots to viewers whose queues drained after lagging. Returns whether any
    /// viewer is still lagging (the watchdog then checks again shortly).
    pub fn recover_lagging(&self) -> bool {
        let mut inner = self.lock();
        inner.recover_lagging(&self.deps.metrics);
        inner.any_lagging()
    }

    /// The role a token grants in this session, if any (checked before attaching, so a refused
    /// socket never disturbs the participant's live connection).
    pub fn role_for(&self, token: &str) -> Option<Role> {
        let inner = self.lock();
        let key = inner.find_slot(token)?;
        match key {
            SlotKey::Customer => Some(Role::Customer),
            SlotKey::Viewer(index) => inner.viewers.get(index as usize).map(Slot::role),
        }
    }
}

impl SessionInner {
    fn find_slot(&self, token: &str) -> Option<SlotKey> {
        if self.customer.token_matches(token) {
            return Some(SlotKey::Customer);
        }
        self.viewers.iter().position(|slot| slot.token_matches(token)).map(|i| SlotKey::Viewer(i as u32))
    }

    /// The slot for `key`.
    pub fn slot_mut(&mut self, key: SlotKey) -> Option<&mut Slot> {
        match key {
            SlotKey::Customer => Some(&mut self.customer),
            SlotKey::Viewer(index) => self.viewers.get_mut(index as usize),
        }
    }

    fn all_slots_mut(&mut self) -> impl Iterator<Item = &mut Slot> {
        std::iter::once(&mut self.customer).chain(self.viewers.iter_mut())
    }

    /// Who is attached, for `welcome`.
    pub fn participants(&self) -> Vec<Participant> {
        std::iter::once(&self.customer).chain(&self.viewers).map(|slot| slot.who.clone()).collect()
    }

    fn welcome(&self, session: SessionId, key: SlotKey, config: &Config) -> Welcome {
        let (role, last_in) = match key {
            SlotKey::Customer => (Role::Customer, self.customer.last_in),
            SlotKey::Viewer(i) => {
                let slot = &self.viewers[i as usize];
                (slot.role(), slot.last_in)
            }
        };
        Welcome {
            v: PROTOCOL_VERSION,
            session,
            role,
            state: self.life.state(),
            mode: self.life.mode(),
            write_mode_allowed: self.life.write_allowed(),
            mode_request_pending: self.life.request_pending(),
            ack: last_in,
            snapshot_needed: role == Role::Customer && (!self.mirror.has_page() || self.mirror.is_stale()),
            participants: self.participants(),
            heartbeat_ms: config.timeouts.heartbeat.as_millis() as u64,
            max_frame_bytes: config.limits.max_frame_bytes,
            z: None,
        }
    }

    /// Who is away since when, for the deadline computation.
    pub fn absences(&self) -> Absences {
        let agents: Vec<&Slot> = self.viewers.iter().filter(|s| s.role() == Role::Agent).collect();
        let agents_gone_since = if !agents.is_empty() && agents.iter().all(|s| s.gone_since.is_some()) {
            agents.iter().filter_map(|s| s.gone_since).max()
        } else {
            None
        };
        Absences { customer_gone_since: self.customer.gone_since, agents_gone_since }
    }

    /// Sends a sequenced frame to every viewer that has a page to apply it to.
    pub fn to_viewers(&mut self, tag: &str, body: &str) {
        for slot in &mut self.viewers {
            if slot.has_base {
                slot.out.push(tag, body);
            }
        }
    }

    /// Sends a sequenced frame to every viewer, whether or not it has a page (notices, modes).
    pub fn to_all_viewers(&mut self, tag: &str, body: &str) {
        for slot in &mut self.viewers {
            slot.out.push(tag, body);
        }
    }

    /// Sends a sequenced frame to the customer.
    pub fn to_customer(&mut self, tag: &str, body: &str) {
        self.customer.out.push(tag, body);
    }

    /// Sends a notice to the viewers.
    pub fn notify_viewers(&mut self, notice: &Notice) {
        let body = Frame::Notice(notice.clone()).encode_body();
        self.to_all_viewers("notice", &body);
    }

    /// Sends a notice to the customer.
    pub fn notify_customer(&mut self, notice: &Notice) {
        let body = Frame::Notice(notice.clone()).encode_body();
        self.to_customer("notice", &body);
    }

    /// Sends a notice to everyone.
    pub fn notify_all(&mut self, notice: &Notice) {
        let body = Frame::Notice(notice.clone()).encode_body();
        self.to_customer("notice", &body);
        self.to_all_viewers("notice", &body);
    }

    /// Tells everyone the mode now in force.
    pub fn announce_mode(&mut self, by: Role) {
        let body = Frame::Mode(ModeChanged { mode: self.life.mode(), by }).encode_body();
        self.to_customer("mode", &body);
        self.to_all_viewers("mode", &body);
    }

    /// Whether any participant's stream is lagging.
    pub fn any_lagging(&self) -> bool {
        self.customer.out.lagging() || self.viewers.iter().any(|slot| slot.out.lagging())
    }

    /// Lagging streams whose queues drained are resynced: viewers get one fresh snapshot instead
    /// of what they missed; the customer (whose page is its own) gets the mode now in force.
    pub fn recover_lagging(&mut self, metrics: &Metrics) {
        if self.customer.out.resync_ready() {
            metrics.lagging_resync();
            let mode = Frame::Mode(ModeChanged { mode: self.life.mode(), by: Role::Customer }).encode_body();
            self.customer.out.resync_with("mode", &mode);
        }
        if !self.viewers.iter().any(|slot| slot.out.resync_ready()) {
            return;
        }
        let snapshot = self.mirror.snapshot().map(|snapshot| Frame::Snapshot(Box::new(snapshot)).encode_body());
        let mode = Frame::Mode(ModeChanged { mode: self.life.mode(), by: Role::Customer }).encode_body();
        for slot in &mut self.viewers {
            if !slot.out.resync_ready() {
                continue;
            }
            metrics.lagging_resync();
            match &snapshot {
                Some(body) => {
                    slot.out.resync_with("snapshot", body);
                    slot.out.push("mode", &mode);
                    slot.has_base = true;
                }
                None => {
                    // No page to send yet: the next customer snapshot reaches them as usual.
                    slot.out.resync_with("mode", &mode);
                    slot.has_base = false;
                }
            }
        }
    }

    /// The mode a viewer sees now (used by tests).
    pub fn mode(&self) -> Mode {
        self.life.mode()
    }
}

/// Wraps a notice for a single direct write (used where no slot exists, e.g. errors before hello).
pub fn control_text(frame: &Frame) -> String {
    frame_text(frame.tag(), 0, &frame.encode_body())
}
