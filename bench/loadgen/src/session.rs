//! One simulated session: a customer sharing a page and an agent watching it.
//!
//! Setup follows the real path: the customer creates the session over HTTP, says `hello`, sends
//! its snapshot and waits for the server's ack of it; the agent (already signed in) joins over
//! HTTP, says `hello` and waits for the page. Then the customer sends 2 frames a second from the
//! mix of [`crate::page::Kind::pick`] and the agent 1 pointer frame a second back; both
//! acknowledge what they receive like the real clients do and answer heartbeats. Against the
//! Node relays the two sides join a room instead and the same frames are forwarded as they are.

use crate::page::{read_header, read_stamp, Kind, Page};
use crate::stats::Stats;
use crate::wire::{envelope, open, read_until, socketio_handshake, unwrap, Inbound, Message, Socket, System};
use anyhow::{anyhow, bail, Context};
use serde::Deserialize;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// Customer frames per second.
pub const CUSTOMER_FPS: u64 = 2;
/// Agent pointer frames per second.
pub const AGENT_FPS: u64 = 1;
/// The customer acknowledges after this many frames (the SDK: 20) …
const CUSTOMER_ACK_EVERY: u64 = 20;
/// … and the agent after this many (the workspace: 32); both also on their next send tick.
const AGENT_ACK_EVERY: u64 = 32;

/// What every session of a run shares.
pub struct Target {
    /// Which system.
    pub system: System,
    /// Its address.
    pub addr: SocketAddr,
    /// HTTP client (Cobrowse only).
    pub http: reqwest::Client,
    /// The page customers share.
    pub page: Page,
    /// Sign-in tokens of the agents, one per session (Cobrowse only).
    pub agent_tokens: Vec<String>,
}

/// Where a run is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Sessions send frames.
    Run,
    /// Sending stopped; frames in flight still count.
    Drain,
    /// Close everything.
    Finish,
}

#[derive(Deserialize)]
struct Created {
    id: String,
    token: String,
}

#[derive(Deserialize)]
struct Joined {
    token: String,
}

/// A small deterministic generator per session (xorshift), so runs are repeatable.
pub struct Rng(u64);

impl Rng {
    /// Seeded by the session index.
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    /// Next value.
    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
}

fn hello(session: &str, token: &str) -> String {
    format!(r#"["hello",0,{{"v":1,"session":"{session}","token":"{token}","ack":0}}]"#)
}

fn source_address(index: usize) -> u8 {
    1 + (index % 200) as u8
}

fn check_error(text: &str) -> anyhow::Result<()> {
    if text.starts_with("[\"error\"") {
        bail!("server refused: {text}");
    }
    Ok(())
}

/// Sets up session `index`; returns the customer's and the agent's sockets.
pub async fn setup(target: &Target, index: usize) -> anyhow::Result<(Socket, Socket)> {
    let source = source_address(index);
    match target.system {
        System::Cobrowse => {
            let base = format!("http://{}", target.addr);
            let created: Created = target
                .http
                .post(format!("{base}/api/v1/sessions"))
                .send()
                .await?
                .error_for_status()
                .context("create session")?
                .json()
                .await?;
            let mut customer = open(target.addr, source, "/ws/v1").await?;
            customer.send(Message::text(hello(&created.id, &created.token))).await?;
            read_until(&mut customer, Duration::from_secs(30), |text| {
                check_error(text)?;
                Ok(text.starts_with("[\"welcome\"").then_some(()))
            })
            .await
            .context("customer welcome")?;
            let snapshot = format!("[\"snapshot\",1,{}]", target.page.snapshot_body);
            customer.send(Message::text(snapshot)).await?;
            read_until(&mut customer, Duration::from_secs(60), |text| {
                check_error(text)?;
                Ok(text.starts_with("[\"ack\",0,{\"a\":").then_some(()))
            })
            .await
            .context("ack of the snapshot")?;
            let token =
                target.agent_tokens.get(index).ok_or_else(|| anyhow!("no agent signed in for session {index}"))?;
            let joined: Joined = target
                .http
                .post(format!("{base}/api/v1/sessions/{}/join", created.id))
                .bearer_auth(token)
                .send()
                .await?
                .error_for_status()
                .context("join")?
                .json()
                .await?;
            let mut agent = open(target.addr, source, "/ws/v1").await?;
            agent.send(Message::text(hello(&created.id, &joined.token))).await?;
            read_until(&mut agent, Duration::from_secs(60), |text| {
                check_error(text)?;
                Ok(text.starts_with("[\"snapshot\"").then_some(()))
            })
            .await
            .context("agent's page")?;
            Ok((customer, agent))
        }
        System::SocketIo | System::Ws => {
            let path = |role: &str| match target.system {
                System::SocketIo => format!("/socket.io/?EIO=4&transport=websocket&room=r{index}&role={role}"),
                _ => format!("/?room=r{index}&role={role}"),
            };
            let mut agent = open(target.addr, source, &path("a")).await?;
            let mut customer = open(target.addr, source, &path("c")).await?;
            if target.system == System::SocketIo {
                socketio_handshake(&mut agent).await?;
                socketio_handshake(&mut customer).await?;
            }
            let snapshot = format!("[\"snapshot\",1,{}]", target.page.snapshot_body);
            customer.send(Message::text(envelope(target.system, snapshot))).await?;
            let system = target.system;
            read_until(&mut agent, Duration::from_secs(60), |text| {
                Ok(matches!(unwrap(system, text), Inbound::Frame(f) if f.starts_with("[\"snapshot\"")).then_some(()))
            })
            .await
            .context("agent's page")?;
            Ok((customer, agent))
        }
    }
}

/// Per-socket bookkeeping of what came in and what to acknowledge.
struct Inbox {
    /// Last sequence number the server gave this participant's stream.
    last_server_seq: u64,
    /// Sequenced frames received since the last ack we sent.
    unacked: u64,
    /// Next stamped sequence number expected from the other side.
    expected: u64,
    /// Whether a page arrived already (the agent's first snapshot came during setup).
    has_page: bool,
}

enum Reaction {
    None,
    Ack(u64),
    Reply(String),
    Resync,
    Closed,
}

/// Handles one inbound text message on a side of a session.
fn on_text(system: System, stats: &Stats, inbox: &mut Inbox, text: &str, to_agent: bool, ack_every: u64) -> Reaction {
    stats.received(text.len());
    let frame = match unwrap(system, text) {
        Inbound::Frame(frame) => frame,
        Inbound::Ping => return Reaction::Reply("3".into()),
        Inbound::Other => return Reaction::None,
    };
    let Some((tag, seq)) = read_header(frame) else { return Reaction::None };
    if let Some(stamp) = read_stamp(tag, frame) {
        let latency = stats.now_micros().saturating_sub(stamp.micros);
        stats.latency(to_agent, stamp.kind, latency);
        if to_agent {
            stats.agent_received.fetch_add(1, Relaxed);
        } else {
            stats.customer_received.fetch_add(1, Relaxed);
        }
        if stamp.seq > inbox.expected {
            stats.gaps.fetch_add(stamp.seq - inbox.expected, Relaxed);
        }
        inbox.expected = inbox.expected.max(stamp.seq + 1);
    }
    if system != System::Cobrowse {
        return Reaction::None;
    }
    match tag {
        "hb" => {
            if frame.contains("\"reply\":false") {
                let ts = frame.split("\"ts\":").nth(1).and_then(|r| r.split(',').next()).unwrap_or("0");
                return Reaction::Reply(format!(r#"["hb",0,{{"ts":{ts},"reply":true}}]"#));
            }
            return Reaction::None;
        }
        "ack" | "welcome" => return Reaction::None,
        "error" => {
            stats.errors.fetch_add(1, Relaxed);
            stats.note_error(frame.chars().take(300).collect());
            return Reaction::None;
        }
        "ended" => return Reaction::Closed,
        _ => {}
    }
    // A sequenced frame from the server.
    if tag == "snapshot" {
        if inbox.has_page {
            stats.viewer_resyncs.fetch_add(1, Relaxed);
        }
        inbox.has_page = true;
    } else if seq > inbox.last_server_seq + 1 && inbox.last_server_seq > 0 {
        stats.server_seq_gaps.fetch_add(seq - inbox.last_server_seq - 1, Relaxed);
    }
    inbox.last_server_seq = inbox.last_server_seq.max(seq);
    inbox.unacked += 1;
    if tag == "resync" {
        stats.customer_resyncs.fetch_add(1, Relaxed);
        return Reaction::Resync;
    }
    if inbox.unacked >= ack_every {
        inbox.unacked = 0;
        return Reaction::Ack(inbox.last_server_seq);
    }
    Reaction::None
}

fn ack_text(seq: u64) -> String {
    format!(r#"["ack",0,{{"a":{seq}}}]"#)
}

/// Which side of the session a loop plays.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// Sends the mix at 2 frames/s.
    Customer,
    /// Sends a pointer frame a second.
    Agent,
}

/// Runs one side until the phase is `Finish` or the socket closes. Returns whether the socket
/// stayed open until the end.
pub async fn run_side(
    target: Arc<Target>,
    stats: Arc<Stats>,
    mut ws: Socket,
    side: Side,
    index: usize,
    broken: Arc<AtomicBool>,
    mut phase: watch::Receiver<Phase>,
) -> bool {
    let system = target.system;
    let mut rng = Rng::new(index as u64 * 2 + u64::from(side == Side::Agent));
    let period = Duration::from_millis(match side {
        Side::Customer => 1000 / CUSTOMER_FPS,
        Side::Agent => 1000 / AGENT_FPS,
    });
    let ack_every = if side == Side::Customer { CUSTOMER_ACK_EVERY } else { AGENT_ACK_EVERY };
    // Spread the sessions' send ticks evenly over the period, and keep each on its own schedule:
    // a tick the generator runs late does not move the ticks after it. (Rescheduling from the
    // late tick, as `Delay` does, lets every hiccup of the generator bunch the sessions it held
    // up into one burst that then repeats each period and grows with the next hiccup; the server
    // would be measured against a load that arrives in waves.)
    let start = tokio::time::Instant::now() + Duration::from_micros(rng.next() % period.as_micros() as u64);
    let mut ticks = tokio::time::interval_at(start, period);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    // The snapshot was frame 1 of each side's own numbering on the relays; in Cobrowse the
    // agent's stream starts at 1 and the customer's snapshot was its frame 1.
    let mut seq: u64 = if side == Side::Customer { 1 } else { 0 };
    let mut inbox =
        Inbox { last_server_seq: 0, unacked: 0, expected: if side == Side::Agent { 2 } else { 1 }, has_page: true };
    let mut resync_pending = false;
    let mut n: u32 = rng.next() as u32;
    let to_agent = side == Side::Agent; // frames this side receives are going to an agent
    loop {
        let current = *phase.borrow();
        if current == Phase::Finish {
            let _ = ws.close().await;
            return true;
        }
        tokio::select! {
            due = ticks.tick() => {
                if *phase.borrow() != Phase::Run {
                    continue;
                }
                stats.send_lag(due.elapsed().as_micros() as u64);
                if system == System::Cobrowse && inbox.unacked > 0 {
                    inbox.unacked = 0;
                    let text = ack_text(inbox.last_server_seq);
                    stats.sent(text.len(), None, false);
                    if ws.send(Message::text(text)).await.is_err() {
                        break;
                    }
                }
                seq += 1;
                n = n.wrapping_add(1);
                let micros = stats.now_micros();
                let (frame, kind) = if resync_pending {
                    resync_pending = false;
                    (format!("[\"snapshot\",{seq},{}]", target.page.snapshot_body), None)
                } else {
                    let kind = match side {
                        Side::Customer => Kind::pick((rng.next() % 1000) as u32),
                        Side::Agent => Kind::Pointer,
                    };
                    (format!("[\"{}\",{seq},{}]", kind.tag(), target.page.frame_body(kind, seq, micros, n)), Some(kind))
                };
                let text = envelope(system, frame);
                stats.sent(text.len(), kind, kind.is_some() && side == Side::Agent);
                if kind.is_some() {
                    if side == Side::Customer {
                        stats.customer_sent.fetch_add(1, Relaxed);
                    } else {
                        stats.agent_sent.fetch_add(1, Relaxed);
                    }
                }
                if ws.send(Message::text(text)).await.is_err() {
                    break;
                }
            }
            message = ws.next() => {
                let text = match message {
                    Some(Ok(Message::Text(text))) => text,
                    Some(Ok(Message::Ping(payload))) => {
                        if ws.send(Message::Pong(payload)).await.is_err() {
                            break;
                        }
                        continue;
                    }
                    Some(Ok(Message::Close)) | None | Some(Err(_)) => break,
                    Some(Ok(_)) => continue,
                };
                match on_text(system, &stats, &mut inbox, text.as_str(), to_agent, ack_every) {
                    Reaction::None => {}
                    Reaction::Ack(seq) => {
                        let text = ack_text(seq);
                        stats.sent(text.len(), None, false);
                        if ws.send(Message::text(text)).await.is_err() {
                            break;
                        }
                    }
                    Reaction::Reply(text) => {
                        if ws.send(Message::text(text)).await.is_err() {
                            break;
                        }
                    }
                    Reaction::Resync => resync_pending = true,
                    Reaction::Closed => break,
                }
            }
            _ = phase.changed() => {}
        }
    }
    // The socket closed before the end of the run.
    if *phase.borrow() == Phase::Run {
        stats.disconnects.fetch_add(1, Relaxed);
        if !broken.swap(true, Relaxed) {
            stats.broken_sessions.fetch_add(1, Relaxed);
        }
    }
    let _ = phase.wait_for(|p| *p == Phase::Finish).await;
    false
}
