//! The queue from a session to one connection's task: bounded, one consumer, drained a batch at
//! a time.
//!
//! Why not a channel: a connection writes whatever is waiting in one go, so the consumer wants
//! the batch, not the frames one by one; and ten thousand idle connections each holding a
//! channel's preallocated block of slots was a tenth of a session's memory. Here an empty queue
//! owns no buffer, the consumer takes a batch under one lock, and the producer — the session,
//! under its own lock — never waits: a full queue is its signal that the reader has fallen
//! behind (see `outbox`).

use super::outbox::FrameText;
use std::collections::VecDeque;
use std::future::poll_fn;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Poll, Waker};

/// An empty queue whose buffer grew beyond this many frames gives it back.
const KEEP_FRAMES: usize = 8;

/// A bounded queue of `capacity` frames, as its two ends.
pub fn conn_queue(capacity: usize) -> (QueueSender, QueueReceiver) {
    let shared = Arc::new(Shared {
        capacity: capacity.max(1),
        state: Mutex::new(State { frames: VecDeque::new(), sender_gone: false, receiver_gone: false, waker: None }),
    });
    (QueueSender { shared: shared.clone() }, QueueReceiver { shared })
}

struct Shared {
    capacity: usize,
    state: Mutex<State>,
}

struct State {
    frames: VecDeque<FrameText>,
    sender_gone: bool,
    receiver_gone: bool,
    /// The consumer, waiting for frames.
    waker: Option<Waker>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // Nothing panics while holding this lock; a poisoned one still holds consistent frames.
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Why a frame was not queued.
#[derive(Debug, PartialEq, Eq)]
pub enum TrySendError {
    /// The queue holds `capacity` frames already.
    Full,
    /// The connection's task is gone.
    Closed,
}

/// The session's end.
pub struct QueueSender {
    shared: Arc<Shared>,
}

impl QueueSender {
    /// Queues `text` without waiting.
    pub fn try_send(&self, text: FrameText) -> Result<(), TrySendError> {
        let waker = {
            let mut state = self.shared.lock();
            if state.receiver_gone {
                return Err(TrySendError::Closed);
            }
            if state.frames.len() >= self.shared.capacity {
                return Err(TrySendError::Full);
            }
            state.frames.push_back(text);
            state.waker.take()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
        Ok(())
    }

    /// Frames queued and not yet taken.
    pub fn len(&self) -> usize {
        self.shared.lock().frames.len()
    }

    /// Whether the connection has taken everything queued.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The most frames the queue holds.
    pub fn capacity(&self) -> usize {
        self.shared.capacity
    }
}

impl Drop for QueueSender {
    fn drop(&mut self) {
        let waker = {
            let mut state = self.shared.lock();
            state.sender_gone = true;
            state.waker.take()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

/// The connection's end.
pub struct QueueReceiver {
    shared: Arc<Shared>,
}

impl QueueReceiver {
    /// Waits until frames are queued, then moves them into `batch`: at most `max_frames`, and no
    /// more once they add up to `max_bytes`. Returns `false`, with `batch` untouched, once the
    /// sender is gone and nothing is left. Safe to cancel: frames move only when it returns.
    pub async fn recv_batch(&mut self, batch: &mut Vec<FrameText>, max_frames: usize, max_bytes: usize) -> bool {
        poll_fn(|cx| {
            let mut state = self.shared.lock();
            if state.frames.is_empty() {
                if state.sender_gone {
                    return Poll::Ready(false);
                }
                if !state.waker.as_ref().is_some_and(|waker| waker.will_wake(cx.waker())) {
                    state.waker = Some(cx.waker().clone());
                }
                return Poll::Pending;
            }
            let mut bytes = 0;
            while batch.len() < max_frames.max(1) && bytes < max_bytes {
                let Some(text) = state.frames.pop_front() else { break };
                bytes += text.len();
                batch.push(text);
            }
            if state.frames.is_empty() && state.frames.capacity() > KEEP_FRAMES {
                state.frames = VecDeque::new();
            }
            Poll::Ready(true)
        })
        .await
    }

    /// The next frame alone; `None` once the sender is gone and nothing is left.
    #[cfg(test)]
    pub async fn recv(&mut self) -> Option<FrameText> {
        let mut one = Vec::with_capacity(1);
        self.recv_batch(&mut one, 1, usize::MAX).await.then(|| one.remove(0))
    }
}

impl Drop for QueueReceiver {
    fn drop(&mut self) {
        let mut state = self.shared.lock();
        state.receiver_gone = true;
        state.frames = VecDeque::new();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(s: &str) -> FrameText {
        FrameText::from(s.to_owned())
    }

    #[tokio::test]
    async fn frames_come_out_in_order_in_bounded_batches() {
        let (tx, mut rx) = conn_queue(10);
        for i in 0..5 {
            tx.try_send(text(&format!("frame {i}"))).unwrap();
        }
        let mut batch = Vec::new();
        assert!(rx.recv_batch(&mut batch, 3, usize::MAX).await);
        assert_eq!(batch.iter().map(|t| t.as_str()).collect::<Vec<_>>(), ["frame 0", "frame 1", "frame 2"]);
        batch.clear();
        assert!(rx.recv_batch(&mut batch, 3, 1).await, "the byte bound stops after the first frame");
        assert_eq!(batch.len(), 1);
        assert_eq!(tx.len(), 1);
    }

    #[tokio::test]
    async fn a_full_queue_refuses_and_a_gone_receiver_closes() {
        let (tx, rx) = conn_queue(2);
        tx.try_send(text("a")).unwrap();
        tx.try_send(text("b")).unwrap();
        assert_eq!(tx.try_send(text("c")), Err(TrySendError::Full));
        drop(rx);
        assert_eq!(tx.try_send(text("d")), Err(TrySendError::Closed));
    }

    #[tokio::test]
    async fn a_waiting_receiver_is_woken_by_a_frame_and_by_the_sender_leaving() {
        let (tx, mut rx) = conn_queue(4);
        let waiting = tokio::spawn(async move {
            let first = rx.recv().await;
            let after = rx.recv().await;
            (first, after)
        });
        tokio::task::yield_now().await;
        tx.try_send(text("late")).unwrap();
        drop(tx);
        let (first, after) = waiting.await.unwrap();
        assert_eq!(first.as_deref(), Some("late"));
        assert_eq!(after, None, "frames queued before the sender left are delivered, then the end");
    }

    #[tokio::test]
    async fn an_emptied_queue_gives_back_a_grown_buffer() {
        let (tx, mut rx) = conn_queue(64);
        for _ in 0..40 {
            tx.try_send(text("x")).unwrap();
        }
        let mut batch = Vec::new();
        assert!(rx.recv_batch(&mut batch, 64, usize::MAX).await);
        assert_eq!(batch.len(), 40);
        assert_eq!(rx.shared.lock().frames.capacity(), 0);
    }
}
