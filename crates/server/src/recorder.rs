//! Writes session records to the store off the hot path.
//!
//! Sessions record events while holding their own lock, so recording must never wait on the
//! database. Events go into a bounded queue that one writer task drains in order; when the queue
//! is full the event is counted as dropped and logged rather than blocking a session. At shutdown
//! the queue is closed and the writer finishes every event already queued before the store closes.

use crate::metrics::Metrics;
use cobrowse_store::{RecordEvent, Store};
use std::sync::Arc;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

/// Events waiting for the writer. Large enough for bursts of thousands of sessions ending at once.
pub const RECORD_QUEUE: usize = 16_384;

/// The sending side, cloned into whatever records.
#[derive(Clone)]
pub struct Recorder {
    events: mpsc::Sender<RecordEvent>,
    metrics: Arc<Metrics>,
}

/// The writer task; [`RecorderTask::finish`] waits until everything queued is written.
pub struct RecorderTask {
    handle: JoinHandle<()>,
    closing: tokio_util::sync::CancellationToken,
}

impl Recorder {
    /// Starts the writer for `store`.
    pub fn start(store: Arc<dyn Store>, metrics: Arc<Metrics>) -> (Recorder, RecorderTask) {
        let (events, mut queue) = mpsc::channel::<RecordEvent>(RECORD_QUEUE);
        let writer_metrics = metrics.clone();
        let closing = tokio_util::sync::CancellationToken::new();
        let stop = closing.clone();
        let handle = tokio::spawn(async move {
            let write = |event| {
                let store = store.clone();
                let metrics = writer_metrics.clone();
                async move {
                    if let Err(err) = store.record(event).await {
                        metrics.record_failed();
                        tracing::error!(error = %err, "could not write a session record");
                    }
                }
            };
            loop {
                tokio::select! {
                    event = queue.recv() => match event {
                        Some(event) => write(event).await,
                        None => break,
                    },
                    _ = stop.cancelled() => {
                        // Whatever was queued before the close still gets written.
                        while let Ok(event) = queue.try_recv() {
                            write(event).await;
                        }
                        break;
                    }
                }
            }
            store.close().await;
        });
        (Recorder { events, metrics }, RecorderTask { handle, closing })
    }

    /// Queues an event without waiting.
    pub fn record(&self, event: RecordEvent) {
        if let Err(err) = self.events.try_send(event) {
            self.metrics.record_failed();
            tracing::error!(error = %err, "session record queue is full or closed; event dropped");
        }
    }
}

impl RecorderTask {
    /// Writes everything already queued, closes the store and waits for both. Events recorded
    /// after this are dropped (and counted), so call it once sessions have ended.
    pub async fn finish(self) {
        self.closing.cancel();
        if let Err(err) = self.handle.await {
            tracing::error!(error = %err, "session record writer failed");
        }
    }
}
