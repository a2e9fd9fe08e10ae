//! Counters for `GET /metrics`, in Prometheus text format.
//!
//! Plain atomics in one struct owned by the app state (no global registry). Gauges that can be
//! derived from the session registry (sessions by state) are computed at scrape time instead of
//! being kept in step by hand.

use cobrowse_protocol::{EndReason, ErrorCode, Role};
use std::fmt::Write;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering::Relaxed};

/// Every counter the server keeps.
#[derive(Default)]
pub struct Metrics {
    connections_customer: AtomicI64,
    connections_agent: AtomicI64,
    connections_observer: AtomicI64,
    frames_in: AtomicU64,
    bytes_in: AtomicU64,
    frames_out: AtomicU64,
    bytes_out: AtomicU64,
    wire_bytes_in: AtomicU64,
    wire_bytes_out: AtomicU64,
    compressed_in: AtomicU64,
    compressed_out: AtomicU64,
    resyncs_mirror: AtomicU64,
    resyncs_lagging: AtomicU64,
    actions_dropped: AtomicU64,
    records_failed: AtomicU64,
    sessions_created: AtomicU64,
    ended: [AtomicU64; EndReason::ALL.len()],
    errors: std::sync::Mutex<std::collections::BTreeMap<&'static str, u64>>,
}

/// Counts of live sessions, gathered from the registry at scrape time.
#[derive(Debug, Default, Clone, Copy)]
pub struct SessionCounts {
    /// Sessions nobody joined yet.
    pub pending: u64,
    /// Sessions with an agent.
    pub active: u64,
    /// Estimated heap held by the live sessions' page mirrors.
    pub mirror_heap_bytes: u64,
}

impl Metrics {
    fn connections(&self, role: Role) -> &AtomicI64 {
        match role {
            Role::Customer => &self.connections_customer,
            Role::Agent => &self.connections_agent,
            Role::Observer => &self.connections_observer,
        }
    }

    /// A socket said hello as `role`.
    pub fn connection_opened(&self, role: Role) {
        self.connections(role).fetch_add(1, Relaxed);
    }

    /// A socket of `role` closed.
    pub fn connection_closed(&self, role: Role) {
        self.connections(role).fetch_sub(1, Relaxed);
    }

    /// A text frame of `bytes` arrived.
    pub fn frame_in(&self, bytes: usize) {
        self.frames_in.fetch_add(1, Relaxed);
        self.bytes_in.fetch_add(bytes as u64, Relaxed);
        self.wire_bytes_in.fetch_add(bytes as u64, Relaxed);
    }

    /// A compressed frame of `wire` bytes arrived and inflated to `bytes` of text (0 when it
    /// could not be inflated).
    pub fn compressed_frame_in(&self, wire: usize, bytes: usize) {
        self.frames_in.fetch_add(1, Relaxed);
        self.compressed_in.fetch_add(1, Relaxed);
        self.bytes_in.fetch_add(bytes as u64, Relaxed);
        self.wire_bytes_in.fetch_add(wire as u64, Relaxed);
    }

    /// A text frame of `bytes` was written to a socket.
    pub fn frame_out(&self, bytes: usize) {
        self.frames_out(1, 0, bytes, bytes);
    }

    /// Several frames went out in one write: `bytes` of frame text as `wire` bytes on the
    /// socket, `compressed` of the frames as compressed binary messages.
    pub fn frames_out(&self, frames: usize, compressed: usize, bytes: usize, wire: usize) {
        self.frames_out.fetch_add(frames as u64, Relaxed);
        self.compressed_out.fetch_add(compressed as u64, Relaxed);
        self.bytes_out.fetch_add(bytes as u64, Relaxed);
        self.wire_bytes_out.fetch_add(wire as u64, Relaxed);
    }

    /// The mirror refused an op and the customer was asked for a snapshot.
    pub fn mirror_resync(&self) {
        self.resyncs_mirror.fetch_add(1, Relaxed);
    }

    /// A lagging viewer was sent a fresh snapshot.
    pub fn lagging_resync(&self) {
        self.resyncs_lagging.fetch_add(1, Relaxed);
    }

    /// An agent action arrived outside write mode and was dropped.
    pub fn action_dropped(&self) {
        self.actions_dropped.fetch_add(1, Relaxed);
    }

    /// A session record could not be queued or written.
    pub fn record_failed(&self) {
        self.records_failed.fetch_add(1, Relaxed);
    }

    /// A session was created.
    pub fn session_created(&self) {
        self.sessions_created.fetch_add(1, Relaxed);
    }

    /// A session ended.
    pub fn session_ended(&self, reason: EndReason) {
        if let Some(index) = EndReason::ALL.iter().position(|r| *r == reason) {
            self.ended[index].fetch_add(1, Relaxed);
        }
    }

    /// A client was sent an error with `code`.
    pub fn error(&self, code: ErrorCode) {
        let mut errors = self.errors.lock().unwrap_or_else(|p| p.into_inner());
        *errors.entry(code.as_str()).or_default() += 1;
    }

    /// Frames relayed so far (for tests).
    pub fn frames_out_total(&self) -> u64 {
        self.frames_out.load(Relaxed)
    }

    /// Lagging resyncs so far (for tests).
    pub fn lagging_resyncs_total(&self) -> u64 {
        self.resyncs_lagging.load(Relaxed)
    }

    /// The Prometheus text exposition.
    pub fn render(&self, sessions: SessionCounts) -> String {
        let mut out = String::with_capacity(4096);
        let mut metric = |name: &str, kind: &str, help: &str, samples: &[(&str, String)]| {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
            for (labels, value) in samples {
                if labels.is_empty() {
                    let _ = writeln!(out, "{name} {value}");
                } else {
                    let _ = writeln!(out, "{name}{{{labels}}} {value}");
                }
            }
        };
        metric(
            "cobrowse_sessions",
            "gauge",
            "Live sessions by state.",
            &[("state=\"pending\"", sessions.pending.to_string()), ("state=\"active\"", sessions.active.to_string())],
        );
        metric(
            "cobrowse_mirror_heap_bytes",
            "gauge",
            "Estimated heap held by live sessions' page mirrors: live nodes and freed slots kept for reuse.",
            &[("", sessions.mirror_heap_bytes.to_string())],
        );
        metric(
            "cobrowse_sessions_created_total",
            "counter",
            "Sessions created.",
            &[("", self.sessions_created.load(Relaxed).to_string())],
        );
        let ended: Vec<(String, String)> = EndReason::ALL
            .iter()
            .zip(&self.ended)
            .map(|(reason, count)| (format!("reason=\"{}\"", reason.as_str()), count.load(Relaxed).to_string()))
            .collect();
        let ended: Vec<(&str, String)> = ended.iter().map(|(l, v)| (l.as_str(), v.clone())).collect();
        metric("cobrowse_sessions_ended_total", "counter", "Sessions ended, by reason.", &ended);
        metric(
            "cobrowse_connections",
            "gauge",
            "Open WebSocket connections by role.",
            &[
                ("role=\"customer\"", self.connections_customer.load(Relaxed).to_string()),
                ("role=\"agent\"", self.connections_agent.load(Relaxed).to_string()),
                ("role=\"observer\"", self.connections_observer.load(Relaxed).to_string()),
            ],
        );
        metric(
            "cobrowse_frames_received_total",
            "counter",
            "Frames received.",
            &[("", self.frames_in.load(Relaxed).to_string())],
        );
        metric(
            "cobrowse_bytes_received_total",
            "counter",
            "Bytes of frame text received (compressed frames counted as inflated).",
            &[("", self.bytes_in.load(Relaxed).to_string())],
        );
        metric(
            "cobrowse_wire_bytes_received_total",
            "counter",
            "Bytes of frames received as they came over the socket (compressed frames counted as compressed).",
            &[("", self.wire_bytes_in.load(Relaxed).to_string())],
        );
        metric(
            "cobrowse_frames_sent_total",
            "counter",
            "Frames written to sockets.",
            &[("", self.frames_out.load(Relaxed).to_string())],
        );
        metric(
            "cobrowse_bytes_sent_total",
            "counter",
            "Bytes of frame text written to sockets (compressed frames counted before compression).",
            &[("", self.bytes_out.load(Relaxed).to_string())],
        );
        metric(
            "cobrowse_wire_bytes_sent_total",
            "counter",
            "Bytes of frames as written to sockets (compressed frames counted as compressed).",
            &[("", self.wire_bytes_out.load(Relaxed).to_string())],
        );
        metric(
            "cobrowse_frames_compressed_total",
            "counter",
            "Frames that crossed a socket compressed, by direction.",
            &[
                ("direction=\"received\"", self.compressed_in.load(Relaxed).to_string()),
                ("direction=\"sent\"", self.compressed_out.load(Relaxed).to_string()),
            ],
        );
        metric(
            "cobrowse_resyncs_total",
            "counter",
            "Fresh snapshots forced: the mirror refused an op, or a viewer fell behind.",
            &[
                ("cause=\"mirror_rejected\"", self.resyncs_mirror.load(Relaxed).to_string()),
                ("cause=\"lagging_viewer\"", self.resyncs_lagging.load(Relaxed).to_string()),
            ],
        );
        metric(
            "cobrowse_actions_dropped_total",
            "counter",
            "Agent actions dropped because the session was not in write mode.",
            &[("", self.actions_dropped.load(Relaxed).to_string())],
        );
        metric(
            "cobrowse_records_failed_total",
            "counter",
            "Session record events that could not be queued or written.",
            &[("", self.records_failed.load(Relaxed).to_string())],
        );
        let errors = self.errors.lock().unwrap_or_else(|p| p.into_inner()).clone();
        let errors: Vec<(String, String)> =
            errors.iter().map(|(code, n)| (format!("code=\"{code}\""), n.to_string())).collect();
        let errors: Vec<(&str, String)> = errors.iter().map(|(l, v)| (l.as_str(), v.clone())).collect();
        metric("cobrowse_errors_total", "counter", "Errors sent to clients, by code.", &errors);
        out
    }
}
