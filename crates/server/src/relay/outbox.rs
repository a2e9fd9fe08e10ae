//! The server→participant stream: sequence numbers, the replay ring, and delivery to whichever
//! connection the participant has now.
//!
//! Each participant has one [`OutStream`] for the life of the session, across reconnects. A frame
//! gets the next sequence number, goes into a bounded ring (so a reconnecting client can be
//! replayed what it missed) and is offered to the live connection's bounded queue without
//! waiting. When that queue is full the reader has fallen behind: the stream is marked lagging,
//! deltas stop, and the relay later sends one fresh snapshot instead of every missed op.

use super::conn_queue::{conn_queue, QueueReceiver, QueueSender, TrySendError};
use std::collections::VecDeque;
use std::sync::{Arc, OnceLock};

/// Text of one frame, shared between the ring and the queue.
pub type FrameText = crate::websocket::Utf8Text;

/// The receiving half a connection task owns.
pub struct ConnReceiver {
    /// Frames to write, in order.
    pub frames: QueueReceiver,
    /// Set before the sender is dropped: the last frame to write (`ended`, or a fatal error).
    pub last_words: Arc<OnceLock<String>>,
}

/// The sending half the session keeps for a participant's live connection.
pub struct ConnLink {
    /// Identifies the connection, so a stale task cannot detach its successor.
    pub conn_id: u64,
    /// The compression this connection negotiated, for its `welcome`. The stream itself always
    /// holds plain text; the connection compresses as it writes.
    pub compression: Option<cobrowse_protocol::Compression>,
    frames: QueueSender,
    last_words: Arc<OnceLock<String>>,
}

impl ConnLink {
    /// A link and its receiving half with a queue of `capacity` frames.
    pub fn pair(conn_id: u64, capacity: usize) -> (ConnLink, ConnReceiver) {
        let (tx, rx) = conn_queue(capacity);
        let last_words = Arc::new(OnceLock::new());
        (
            ConnLink { conn_id, compression: None, frames: tx, last_words: last_words.clone() },
            ConnReceiver { frames: rx, last_words },
        )
    }

    /// Closes the connection after `frame` is written, once the queue ahead of it is written.
    pub fn close_with(self, frame: String) {
        let _ = self.last_words.set(frame);
        drop(self.frames);
    }

    fn try_send(&self, text: FrameText) -> Result<(), Full> {
        match self.frames.try_send(text) {
            Ok(()) => Ok(()),
            Err(TrySendError::Full) => Err(Full),
            // The task is gone; the session will hear of it through detach shortly.
            Err(TrySendError::Closed) => Ok(()),
        }
    }

    fn free_slots(&self) -> usize {
        self.frames.capacity() - self.frames.len()
    }

    fn max_slots(&self) -> usize {
        self.frames.capacity()
    }
}

struct Full;

/// What happened to a pushed frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    /// Queued for the live connection.
    Queued,
    /// Kept for replay; nobody is connected.
    Kept,
    /// The queue was full: the stream is now lagging and needs a resync.
    Lagging,
    /// The stream is lagging; the frame was not sequenced at all.
    Skipped,
}

/// One participant's outbound stream.
pub struct OutStream {
    next_seq: u64,
    ring: VecDeque<(u64, FrameText)>,
    ring_bytes: usize,
    max_frames: usize,
    max_bytes: usize,
    conn: Option<ConnLink>,
    lagging: bool,
}

/// Wraps a body as wire text: `[tag, seq, body]`.
pub fn frame_text(tag: &str, seq: u64, body: &str) -> String {
    let mut text = String::with_capacity(tag.len() + body.len() + 26);
    text.push_str("[\"");
    text.push_str(tag);
    text.push_str("\",");
    text.push_str(&seq.to_string());
    text.push(',');
    text.push_str(body);
    text.push(']');
    text
}

impl OutStream {
    /// An empty stream keeping at most `max_frames` frames and `max_bytes` bytes for replay.
    pub fn new(max_frames: usize, max_bytes: usize) -> Self {
        Self {
            next_seq: 1,
            ring: VecDeque::new(),
            ring_bytes: 0,
            max_frames: max_frames.max(1),
            max_bytes,
            conn: None,
            lagging: false,
        }
    }

    /// Whether a connection is attached.
    pub fn connected(&self) -> bool {
        self.conn.is_some()
    }

    /// Whether the reader fell behind and awaits a resync.
    pub fn lagging(&self) -> bool {
        self.lagging
    }

    /// The last sequence number handed out.
    pub fn last_seq(&self) -> u64 {
        self.next_seq - 1
    }

    /// Sequences a frame, keeps it for replay and offers it to the connection.
    /// A lagging stream skips deltas entirely until [`OutStream::resync_ready`] says it may recover.
    pub fn push(&mut self, tag: &str, body: &str) -> Delivery {
        if self.lagging {
            return Delivery::Skipped;
        }
        self.push_unchecked(tag, body)
    }

    /// Like [`OutStream::push`] but also while lagging: used for the resync snapshot itself.
    fn push_unchecked(&mut self, tag: &str, body: &str) -> Delivery {
        let seq = self.next_seq;
        self.next_seq += 1;
        let text: FrameText = frame_text(tag, seq, body).into();
        self.remember(seq, text.clone());
        match &self.conn {
            None => Delivery::Kept,
            Some(link) => match link.try_send(text) {
                Ok(()) => Delivery::Queued,
                Err(Full) => {
                    self.lagging = true;
                    Delivery::Lagging
                }
            },
        }
    }

    /// Sends an unsequenced control frame (welcome, error, ack, heartbeat) if there is room.
    pub fn push_control(&mut self, text: String) -> bool {
        match &self.conn {
            Some(link) => link.try_send(text.into()).is_ok(),
            None => false,
        }
    }

    /// Re-offers an already sequenced frame (a replay after reconnect). A full queue makes the
    /// stream lag, so the relay resyncs it instead of losing frames silently.
    pub fn requeue(&mut self, text: FrameText) {
        if let Some(link) = &self.conn {
            if link.try_send(text).is_err() {
                self.lagging = true;
            }
        }
    }

    fn remember(&mut self, seq: u64, text: FrameText) {
        self.ring_bytes += text.len();
        self.ring.push_back((seq, text));
        while self.ring.len() > self.max_frames || (self.ring_bytes > self.max_bytes && self.ring.len() > 1) {
            if let Some((_, old)) = self.ring.pop_front() {
                self.ring_bytes -= old.len();
            }
        }
    }

    /// The client acknowledged everything up to `seq`: it will never need those again.
    pub fn acknowledge(&mut self, seq: u64) {
        while let Some((first, text)) = self.ring.front() {
            if *first > seq {
                break;
            }
            self.ring_bytes -= text.len();
            self.ring.pop_front();
        }
    }

    /// The frames after `seen`, if the ring still holds all of them.
    pub fn replay_after(&self, seen: u64) -> Option<Vec<FrameText>> {
        if seen >= self.last_seq() {
            return Some(Vec::new());
        }
        let first_kept = self.ring.front().map(|(seq, _)| *seq)?;
        if first_kept > seen + 1 {
            return None;
        }
        Some(self.ring.iter().filter(|(seq, _)| *seq > seen).map(|(_, text)| text.clone()).collect())
    }

    /// Attaches a new connection, returning the one it replaces.
    pub fn attach(&mut self, link: ConnLink) -> Option<ConnLink> {
        self.lagging = false;
        self.conn.replace(link)
    }

    /// Detaches connection `conn_id` if it is still the attached one.
    pub fn detach(&mut self, conn_id: u64) -> bool {
        if self.conn.as_ref().is_some_and(|link| link.conn_id == conn_id) {
            self.conn = None;
            self.lagging = false;
            true
        } else {
            false
        }
    }

    /// Whether a lagging stream's queue has drained enough to take a fresh snapshot.
    pub fn resync_ready(&self) -> bool {
        self.lagging && self.conn.as_ref().is_some_and(|link| link.free_slots() * 2 >= link.max_slots())
    }

    /// Ends the lag with a resync frame (a snapshot), sequenced like any other.
    pub fn resync_with(&mut self, tag: &str, body: &str) -> Delivery {
        self.lagging = false;
        self.push_unchecked(tag, body)
    }

    /// Detaches the connection and has it close after `frame` (an unsequenced control frame).
    pub fn close_with(&mut self, frame: String) {
        if let Some(link) = self.conn.take() {
            link.close_with(frame);
        }
    }

    /// Ends the stream: `tag`/`body` becomes its last sequenced frame, written after everything
    /// queued before it, and the connection closes. A lagging stream gets it too: it skipped
    /// deltas without numbering them, so no gap precedes it.
    pub fn finish_with(&mut self, tag: &str, body: &str) {
        let seq = self.next_seq;
        self.next_seq += 1;
        let text = frame_text(tag, seq, body);
        self.remember(seq, text.clone().into());
        if let Some(link) = self.conn.take() {
            link.close_with(text);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_are_numbered_and_wrapped() {
        assert_eq!(frame_text("mut", 7, r#"{"ops":[]}"#), r#"["mut",7,{"ops":[]}]"#);
        let mut out = OutStream::new(10, 1 << 20);
        assert_eq!(out.push("a", "{}"), Delivery::Kept);
        assert_eq!(out.push("b", "{}"), Delivery::Kept);
        assert_eq!(out.last_seq(), 2);
    }

    #[test]
    fn replay_covers_exactly_what_was_missed() {
        let mut out = OutStream::new(3, 1 << 20);
        for _ in 0..5 {
            out.push("x", "{}");
        }
        assert_eq!(out.replay_after(5).unwrap().len(), 0);
        let replay = out.replay_after(3).unwrap();
        assert_eq!(replay.iter().map(|t| t.to_string()).collect::<Vec<_>>(), vec![r#"["x",4,{}]"#, r#"["x",5,{}]"#]);
        assert_eq!(out.replay_after(2).unwrap().len(), 3);
        assert!(out.replay_after(1).is_none(), "frame 2 fell out of the ring");
    }

    #[test]
    fn acknowledged_frames_leave_the_ring() {
        let mut out = OutStream::new(10, 1 << 20);
        for _ in 0..4 {
            out.push("x", "{}");
        }
        out.acknowledge(3);
        assert_eq!(out.replay_after(3).unwrap().len(), 1);
        assert!(out.replay_after(2).is_none());
    }

    #[test]
    fn the_ring_is_bounded_by_bytes() {
        let mut out = OutStream::new(100, 64);
        for _ in 0..10 {
            out.push("x", &"a".repeat(30));
        }
        assert!(out.ring_bytes <= 64 || out.ring.len() == 1);
    }

    #[tokio::test]
    async fn a_full_queue_makes_the_stream_lag_until_drained() {
        let mut out = OutStream::new(100, 1 << 20);
        let (link, mut rx) = ConnLink::pair(1, 2);
        out.attach(link);
        assert_eq!(out.push("x", "{}"), Delivery::Queued);
        assert_eq!(out.push("x", "{}"), Delivery::Queued);
        assert_eq!(out.push("x", "{}"), Delivery::Lagging);
        assert_eq!(out.push("x", "{}"), Delivery::Skipped);
        assert!(!out.resync_ready());
        rx.frames.recv().await.unwrap();
        assert!(out.resync_ready(), "half the queue is free again");
        assert_eq!(out.resync_with("snapshot", "{}"), Delivery::Queued);
        assert!(!out.lagging());
        assert_eq!(&*rx.frames.recv().await.unwrap(), r#"["x",2,{}]"#);
        assert_eq!(&*rx.frames.recv().await.unwrap(), r#"["snapshot",4,{}]"#, "skipped frames took no numbers");
    }

    #[tokio::test]
    async fn closing_leaves_last_words() {
        let mut out = OutStream::new(10, 1 << 20);
        let (link, mut rx) = ConnLink::pair(1, 4);
        out.attach(link);
        out.push("x", "{}");
        out.close_with("bye".into());
        assert!(!out.connected());
        assert!(rx.frames.recv().await.is_some());
        assert!(rx.frames.recv().await.is_none());
        assert_eq!(rx.last_words.get().map(String::as_str), Some("bye"));
    }

    #[test]
    fn a_stale_connection_cannot_detach_its_successor() {
        let mut out = OutStream::new(10, 1 << 20);
        let (first, _rx1) = ConnLink::pair(1, 4);
        let (second, _rx2) = ConnLink::pair(2, 4);
        out.attach(first);
        assert!(out.attach(second).is_some());
        assert!(!out.detach(1));
        assert!(out.connected());
        assert!(out.detach(2));
    }
}
