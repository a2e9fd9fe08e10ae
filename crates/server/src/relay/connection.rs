//! One WebSocket connection: `hello`, then a single loop until it closes.
//!
//! The loop selects over the socket's next frame, the participant's outbound queue and one
//! housekeeping timer (acks, heartbeats, the receive timeout) set to whichever is due first. There is one cleanup path at the
//! end: detach from the session, which starts the participant's grace period. The session ends
//! connections by closing their queue after a last frame (`ended`, or `superseded`), so this loop
//! never needs to know why.

use crate::metrics::Metrics;
use crate::relay::outbox::{ConnLink, FrameText};
use crate::relay::route::Routed;
use crate::sessions::participant::SlotKey;
use crate::sessions::registry::Lookup;
use crate::sessions::session::SessionHandle;
use crate::state::AppState;
use crate::websocket::{Message, SocketError, WebSocket};
use cobrowse_protocol::compression::{compress, decompress};
use cobrowse_protocol::{Ack, Compression, EndReason, ErrorCode, ErrorFrame, Frame, Heartbeat, Role, PROTOCOL_VERSION};
use std::borrow::Cow;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::{timeout, Instant};

/// Frames are acknowledged at most this long after they arrive. Acks only let clients trim their
/// resend buffers, so a second is plenty; a shorter delay costs a write per frame on a stream of
/// two frames a second, which is most of them.
pub const ACK_DELAY: Duration = Duration::from_secs(1);

/// Acknowledge at once after this many unacknowledged frames, without waiting for the tick.
pub const ACK_EVERY: u64 = 32;

/// A batched write stops taking queued frames at this many frames or bytes, so one busy stream
/// cannot hold its connection's loop away from reading for long.
const MAX_BATCH_FRAMES: usize = 64;
const MAX_BATCH_BYTES: usize = 256 * 1024;

/// A frame at least this large is written after the frames queued ahead of it have been flushed.
const FLUSH_BEFORE_BYTES: usize = 64 * 1024;

/// Malformed or misdirected frames tolerated on one connection before it counts as broken.
pub const MAX_REFUSALS: u32 = 64;

/// Where the socket came from, as the upgrade saw it.
#[derive(Debug, Clone)]
pub struct Origin {
    /// True when the `Origin` header was absent (a non-browser client) or named this server.
    pub same_site: bool,
}

/// Serves one upgraded socket to the end.
pub async fn serve(state: AppState, mut socket: WebSocket, origin: Origin) {
    let Some((handle, key, role, link_rx, conn_id, compression)) = handshake(&state, &mut socket, &origin).await else {
        let _ = timeout(state.config.timeouts.write, socket.close()).await;
        return;
    };
    state.metrics.connection_opened(role);
    let reason = run(&state, &mut socket, &handle, key, link_rx, compression).await;
    handle.detach(key, conn_id, Instant::now());
    state.metrics.connection_closed(role);
    if let Some(reason) = reason {
        state.registry.end(&handle, reason).await;
    }
    let _ = timeout(state.config.timeouts.write, socket.close()).await;
}

type Handshake = (Arc<SessionHandle>, SlotKey, Role, crate::relay::outbox::ConnReceiver, u64, Option<Compression>);

/// Waits for `hello`, checks it, and attaches the socket to its participant.
async fn handshake(state: &AppState, socket: &mut WebSocket, origin: &Origin) -> Option<Handshake> {
    let config = &state.config;
    let deadline = Instant::now() + config.timeouts.hello;
    let text = loop {
        let message = match tokio::time::timeout_at(deadline, socket.recv()).await {
            Ok(Some(Ok(message))) => message,
            Ok(_) => return None,
            Err(_) => {
                refuse(state, socket, ErrorCode::HelloRequired, "say hello first (no hello within the time limit)")
                    .await;
                return None;
            }
        };
        match message {
            Message::Text(text) => break text,
            Message::Ping | Message::Pong => continue,
            Message::Close => return None,
            Message::Binary(_) => {
                refuse(state, socket, ErrorCode::BadFrame, "frames are JSON text").await;
                return None;
            }
        }
    };
    state.metrics.frame_in(text.len());
    let hello = match Frame::parse(text.as_str()) {
        Ok((_, Frame::Hello(hello))) => hello,
        Ok(_) => {
            refuse(state, socket, ErrorCode::HelloRequired, "the first frame must be hello").await;
            return None;
        }
        Err(err) => {
            refuse(state, socket, err.code(), &err.to_string()).await;
            return None;
        }
    };
    if hello.v != PROTOCOL_VERSION {
        let message = format!("this server speaks protocol version {PROTOCOL_VERSION}; the client spoke {}", hello.v);
        refuse(state, socket, ErrorCode::VersionMismatch, &message).await;
        return None;
    }
    let handle = match state.registry.lookup(hello.session) {
        Lookup::Live(handle) => handle,
        Lookup::Ended(reason) => {
            let message = format!("session {} has ended ({}); start a new one", hello.session, reason.as_str());
            refuse(state, socket, ErrorCode::SessionEnded, &message).await;
            return None;
        }
        Lookup::Unknown => {
            refuse(state, socket, ErrorCode::SessionNotFound, "no live session has this ID").await;
            return None;
        }
    };
    if handle.role_for(&hello.token).is_some_and(|role| role != Role::Customer) && !origin.same_site {
        refuse(state, socket, ErrorCode::OriginNotAllowed, "agents connect from the workspace served here").await;
        return None;
    }
    let conn_id = state.next_connection_id();
    let (mut link, link_rx) = ConnLink::pair(conn_id, config.limits.outbound_queue);
    let compression = config.wire.negotiate(&hello.z);
    link.compression = compression;
    match handle.attach(&hello.token, hello.ack, link, Instant::now()) {
        Ok(attached) => Some((handle, attached.key, attached.role, link_rx, conn_id, compression)),
        Err(code) => {
            let message = match code {
                ErrorCode::Unauthorized => "this token does not belong to the session",
                ErrorCode::SessionEnded => "the session has ended",
                _ => "the session refused this connection",
            };
            refuse(state, socket, code, message).await;
            None
        }
    }
}

async fn refuse(state: &AppState, socket: &mut WebSocket, code: ErrorCode, message: &str) {
    state.metrics.error(code);
    tracing::debug!(code = code.as_str(), message, "socket refused");
    let text = Frame::fatal(code, message).encode(0);
    let _ = timeout(state.config.timeouts.write, socket.send_text(&text)).await;
}

/// The connection's loop. Returns a reason when the session must end because of this connection.
/// With `compression` negotiated, binary messages are compressed frames, inflated here and then
/// handled exactly like text ones, and large outbound frames are compressed as they are written.
async fn run(
    state: &AppState,
    socket: &mut WebSocket,
    handle: &SessionHandle,
    key: SlotKey,
    mut queue: crate::relay::outbox::ConnReceiver,
    compression: Option<Compression>,
) -> Option<EndReason> {
    let config = &state.config;
    let mut timers = Housekeeping::new(Instant::now(), config.timeouts.heartbeat);
    let mut refusals = 0u32;
    let write_timeout = config.timeouts.write;
    let max_frame = config.limits.max_frame_bytes;
    let wake = tokio::time::sleep_until(timers.next_due());
    tokio::pin!(wake);
    let mut batch: Vec<FrameText> = Vec::new();

    macro_rules! send {
        ($text:expr) => {{
            let text: String = $text;
            let bytes = text.len();
            match timeout(write_timeout, socket.send_text(&text)).await {
                Ok(Ok(())) => {
                    state.metrics.frame_out(bytes);
                    timers.sent(Instant::now());
                }
                _ => return None, // the peer is gone or stuck; its grace period takes over
            }
        }};
    }

    loop {
        tokio::select! {
            more = queue.frames.recv_batch(&mut batch, MAX_BATCH_FRAMES, MAX_BATCH_BYTES) => {
                if !more {
                    if let Some(words) = queue.last_words.get() {
                        send!(words.clone());
                    }
                    return None;
                }
                match timeout(write_timeout, write_batch(socket, &mut batch, compression, timers.ack_pending())).await {
                    Ok(Ok(written)) => {
                        state.metrics.frames_out(written.frames, written.compressed, written.bytes, written.wire);
                        timers.sent(Instant::now());
                    }
                    _ => return None,
                }
            },
            inbound = socket.recv() => {
                let message = match inbound {
                    Some(Ok(message)) => message,
                    Some(Err(SocketError::TooLarge)) => {
                        // Beyond even the library-level cap: say so, then close (the socket owes
                        // the close code).
                        state.metrics.error(ErrorCode::FrameTooLarge);
                        let message = format!("frames may be at most {max_frame} bytes; this one was far larger");
                        send!(Frame::fatal(ErrorCode::FrameTooLarge, &message).encode(0));
                        return None;
                    }
                    _ => return None,
                };
                let now = Instant::now();
                timers.heard(now);
                let text = match unwrap(&message, compression, max_frame, &state.metrics) {
                    Unwrapped::Frame(text) => Ok(text),
                    // Refused below like any frame that cannot be read: not counted as received.
                    Unwrapped::Unreadable(code, message) => Err((code, message)),
                    Unwrapped::Close => return None,
                    Unwrapped::Control => continue,
                };
                let refusal = match text {
                    Err((code, message)) => Some((code, message, None)),
                    Ok(text) if text.len() > max_frame => Some((ErrorCode::FrameTooLarge, format!("frames may be at most {max_frame} bytes; this one was {}", text.len()), None)),
                    Ok(text) => match Frame::parse_parts(&text) {
                        Err(err) => Some((err.code(), err.to_string(), None)),
                        Ok((_, Frame::Heartbeat(beat), _)) => {
                            if !beat.reply {
                                send!(Frame::Heartbeat(Heartbeat { ts: beat.ts, reply: true }).encode(0));
                            }
                            None
                        }
                        Ok((seq, frame, body)) => match handle.receive(key, seq, frame, body, now) {
                            Routed::Done { last_in } => {
                                timers.received(last_in, now);
                                None
                            }
                            Routed::Refused { code, message, last_in } => {
                                timers.received(last_in, now);
                                Some((code, message, Some(seq)))
                            }
                            Routed::End(reason) => {
                                state.registry.end(handle, reason).await;
                                None
                            }
                        },
                    },
                };
                if let Some((code, message, seq)) = refusal {
                    state.metrics.error(code);
                    // Only frames a correct client never sends count; a refused action that raced
                    // the customer's revoke is ordinary.
                    if matches!(
                        code,
                        ErrorCode::BadFrame
                            | ErrorCode::UnknownFrame
                            | ErrorCode::FrameTooLarge
                            | ErrorCode::WrongRole
                            | ErrorCode::UnknownEncoding
                            | ErrorCode::BadCompression
                    ) {
                        refusals += 1;
                    }
                    if refusals > MAX_REFUSALS {
                        send!(Frame::fatal(code, "too many refused frames; closing").encode(0));
                        return (key == SlotKey::Customer).then_some(EndReason::ProtocolError);
                    }
                    send!(Frame::Error(ErrorFrame { code, message, fatal: false, seq }).encode(0));
                }
                if let Some(a) = timers.ack_now() {
                    send!(Frame::Ack(Ack { a }).encode(0));
                }
                if timers.next_due() < wake.deadline() {
                    wake.as_mut().reset(timers.next_due());
                }
            },
            () = &mut wake => {
                let now = Instant::now();
                if timers.silent(now) {
                    tracing::debug!(session = %handle.id, "peer silent for three heartbeats; dropping the connection");
                    return None;
                }
                if let Some(a) = timers.ack_due(now) {
                    send!(Frame::Ack(Ack { a }).encode(0));
                }
                if timers.heartbeat_due(now) {
                    let ts = std::time::SystemTime::now()
                        .duration_since(std::time::UNIX_EPOCH)
                        .map(|d| d.as_millis() as u64)
                        .unwrap_or(0);
                    send!(Frame::Heartbeat(Heartbeat { ts, reply: false }).encode(0));
                    timers.heartbeat_sent(Instant::now());
                }
                wake.as_mut().reset(timers.next_due());
            }
        }
    }
}

/// An inbound WebSocket message, unwrapped.
enum Unwrapped<'a> {
    /// The text of one frame, as sent or inflated.
    Frame(Cow<'a, str>),
    /// A binary message that holds no readable frame.
    Unreadable(ErrorCode, String),
    /// The peer is closing.
    Close,
    /// A WebSocket ping or pong: nothing to do.
    Control,
}

/// The frame text a message carries, counting it in the metrics. A binary message is a compressed
/// frame when the connection negotiated compression, and an error otherwise.
fn unwrap<'a>(
    message: &'a Message,
    compression: Option<Compression>,
    max_frame: usize,
    metrics: &Metrics,
) -> Unwrapped<'a> {
    match message {
        Message::Text(text) => {
            metrics.frame_in(text.len());
            Unwrapped::Frame(Cow::Borrowed(text.as_str()))
        }
        Message::Binary(bytes) if compression.is_none() => {
            metrics.frame_in(bytes.len());
            let message =
                "binary messages are compressed frames, and this connection did not negotiate compression in hello";
            Unwrapped::Unreadable(ErrorCode::BadFrame, message.to_owned())
        }
        Message::Binary(bytes) => {
            let inflated = decompress(bytes, max_frame);
            metrics.compressed_frame_in(bytes.len(), inflated.as_ref().map_or(0, String::len));
            match inflated {
                Ok(text) => Unwrapped::Frame(Cow::Owned(text)),
                Err(err) => Unwrapped::Unreadable(err.code(), err.to_string()),
            }
        }
        Message::Close => Unwrapped::Close,
        Message::Ping | Message::Pong => Unwrapped::Control,
    }
}

/// What one batched write put on the wire.
#[derive(Default)]
struct Written {
    frames: usize,
    /// How many of them went compressed.
    compressed: usize,
    /// Bytes of frame text.
    bytes: usize,
    /// Bytes of the messages written (compressed ones as compressed).
    wire: usize,
}

impl Written {
    /// Queues `text` on the socket: compressed when the connection negotiated it and the frame is
    /// large enough to be worth it, else as text. The stream and its replay ring keep the text.
    fn feed(&mut self, socket: &mut WebSocket, text: &str, compression: Option<Compression>) {
        self.frames += 1;
        self.bytes += text.len();
        match compression {
            Some(z) if text.len() >= z.min => {
                let bytes = compress(z.enc, text);
                self.compressed += 1;
                self.wire += bytes.len();
                socket.feed_binary(&bytes);
            }
            _ => {
                self.wire += text.len();
                socket.feed_text(text);
            }
        }
    }
}

/// Writes a batch of queued frames with one flush: a burst of frames for a viewer costs one write
/// to the kernel instead of one per frame. A pending acknowledgement rides along in the same write
/// rather than costing one of its own later. Empties `batch`, giving back a grown buffer.
async fn write_batch(
    socket: &mut WebSocket,
    batch: &mut Vec<FrameText>,
    compression: Option<Compression>,
    ack: Option<u64>,
) -> Result<Written, SocketError> {
    let mut written = Written::default();
    if let Some(a) = ack {
        written.feed(socket, &Frame::Ack(Ack { a }).encode(0), None);
    }
    for text in batch.iter() {
        if text.len() >= FLUSH_BEFORE_BYTES && written.frames > 0 {
            // What is queued ahead of a page goes out before the page is compressed: a joining
            // agent's `welcome` should not wait the milliseconds a large snapshot takes.
            socket.flush().await?;
        }
        written.feed(socket, text, compression);
    }
    if batch.capacity() > 8 {
        *batch = Vec::new();
    } else {
        batch.clear();
    }
    socket.flush().await?;
    Ok(written)
}

/// When the connection next has something to do besides relaying: acknowledge what arrived, send a
/// heartbeat, or give up on a silent peer. The loop sleeps until the earliest of these instead of
/// waking on a fixed tick, so an idle connection costs no CPU between heartbeats.
///
/// A heartbeat only proves the connection alive where nothing else does. When frames went both
/// ways during the last interval, the peer has heard from us within it and we from the peer, so
/// the heartbeat (and the peer's reply) is skipped: on busy sessions they were about 8 % of the
/// messages. A peer that stops talking still gets its heartbeat at the next interval, so neither
/// side ever goes more than two intervals without a message, inside the three either side waits.
struct Housekeeping {
    heartbeat_every: Duration,
    last_heard: Instant,
    last_sent: Instant,
    /// When the last heartbeat was due (sent or skipped).
    last_heartbeat: Instant,
    last_in: u64,
    acked: u64,
    /// Set when the first unacknowledged frame arrives.
    ack_by: Option<Instant>,
}

impl Housekeeping {
    fn new(now: Instant, heartbeat_every: Duration) -> Self {
        Self {
            heartbeat_every,
            last_heard: now,
            last_sent: now,
            last_heartbeat: now,
            last_in: 0,
            acked: 0,
            ack_by: None,
        }
    }

    fn heard(&mut self, now: Instant) {
        self.last_heard = now;
    }

    fn sent(&mut self, now: Instant) {
        self.last_sent = now;
    }

    fn received(&mut self, last_in: u64, now: Instant) {
        self.last_in = last_in;
        if self.last_in > self.acked && self.ack_by.is_none() {
            self.ack_by = Some(now + ACK_DELAY);
        }
    }

    /// The position to acknowledge at once, when enough frames are waiting for it.
    fn ack_now(&mut self) -> Option<u64> {
        (self.last_in >= self.acked + ACK_EVERY).then(|| self.take_ack())
    }

    /// The position to acknowledge because its delay is up.
    fn ack_due(&mut self, now: Instant) -> Option<u64> {
        (self.last_in > self.acked && self.ack_by.is_some_and(|by| by <= now)).then(|| self.take_ack())
    }

    /// Whatever is unacknowledged, to send along with outbound frames before its delay is up.
    fn ack_pending(&mut self) -> Option<u64> {
        (self.last_in > self.acked).then(|| self.take_ack())
    }

    fn take_ack(&mut self) -> u64 {
        self.acked = self.last_in;
        self.ack_by = None;
        self.acked
    }

    /// Whether to send a heartbeat now: one is due, and the last interval did not carry frames
    /// both ways.
    fn heartbeat_due(&mut self, now: Instant) -> bool {
        if now.duration_since(self.last_heartbeat) < self.heartbeat_every {
            return false;
        }
        let interval_start = self.last_heartbeat;
        self.last_heartbeat = now;
        !(self.last_sent > interval_start && self.last_heard > interval_start)
    }

    /// A heartbeat went out: the next interval starts after it, so the heartbeat itself never
    /// counts as traffic that makes the next one unnecessary.
    fn heartbeat_sent(&mut self, now: Instant) {
        self.last_heartbeat = now;
    }

    fn silent(&self, now: Instant) -> bool {
        now.duration_since(self.last_heard) > self.heartbeat_every * 3
    }

    fn next_due(&self) -> Instant {
        let silence = self.last_heard + self.heartbeat_every * 3 + Duration::from_millis(1);
        let due = silence.min(self.last_heartbeat + self.heartbeat_every);
        match self.ack_by {
            Some(by) => due.min(by),
            None => due,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EVERY: Duration = Duration::from_secs(15);

    fn at(start: Instant, secs: u64) -> Instant {
        start + Duration::from_secs(secs)
    }

    /// A connection's timers as it opens, and the instant it opened.
    fn opened() -> (Instant, Housekeeping) {
        let start = Instant::now();
        (start, Housekeeping::new(start, EVERY))
    }

    #[test]
    fn an_idle_connection_gets_a_heartbeat_every_interval() {
        let (start, mut timers) = opened();
        assert!(!timers.heartbeat_due(at(start, 14)));
        let mut due = at(start, 15);
        for k in 1..=4 {
            assert_eq!(timers.next_due(), due, "interval {k}: the loop wakes for it");
            assert!(timers.heartbeat_due(due), "interval {k}");
            // The heartbeat's write completes a moment after it was due.
            let written = due + Duration::from_millis(1);
            timers.sent(written);
            timers.heartbeat_sent(written);
            // The peer answers; its reply alone does not make the next heartbeat unnecessary.
            timers.heard(written + Duration::from_millis(40));
            due = written + EVERY;
        }
    }

    #[test]
    fn frames_both_ways_make_the_heartbeat_unnecessary() {
        let (start, mut timers) = opened();
        timers.sent(at(start, 3));
        timers.heard(at(start, 9));
        assert!(!timers.heartbeat_due(at(start, 15)), "both ways within the interval: skipped");
        assert_eq!(timers.next_due(), at(start, 30), "the next one is due an interval later");
        // Frames only one way in the next interval: the heartbeat goes out.
        timers.sent(at(start, 20));
        assert!(timers.heartbeat_due(at(start, 30)));
    }

    #[test]
    fn one_way_traffic_still_gets_heartbeats() {
        let (start, mut timers) = opened();
        // The peer streams frames and we send nothing back at all: the peer must still hear
        // from us.
        timers.heard(at(start, 5));
        timers.heard(at(start, 10));
        assert!(timers.heartbeat_due(at(start, 15)));
        let (start, mut quiet_peer) = opened();
        quiet_peer.sent(at(start, 5));
        assert!(quiet_peer.heartbeat_due(at(start, 15)), "a peer we have not heard from is asked to answer");
    }

    #[test]
    fn neither_side_waits_more_than_two_intervals_for_a_message() {
        // Traffic both ways until second 14, then silence from both: the heartbeat at 15 is
        // skipped and the one at 30 is sent: the peer waits 16 s for us, and we are still
        // waiting for the peer, not yet giving up on it.
        let (start, mut timers) = opened();
        timers.sent(at(start, 14));
        timers.heard(at(start, 14));
        assert!(!timers.heartbeat_due(at(start, 15)));
        assert!(timers.heartbeat_due(at(start, 30)));
        assert!(!timers.silent(at(start, 30)), "a peer last heard at 14 is not yet silent at 30");
    }
}
