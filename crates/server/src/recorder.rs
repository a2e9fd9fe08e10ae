//! Writes session records to the store off the hot path.
//!
//! Sessions record events while holding their own lock, so recording must never wait on the
//! database. Events go into a bounded queue that one writer task drains in order; when the queue
//! is full the event is counted as dropped and logged rather than blocking a session. At shutdown
//! the queue is closed and the writer finishes every event already queued before the store closes.

use crate::metrics::Metrics;
use crate::webhooks::Webhooks;
use cobrowse_store::{InteractionEvent, RecordEvent, Store};
use std::sync::Arc;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

/// Events waiting for the writer. Large enough for bursts of thousands of sessions ending at once.
pub const RECORD_QUEUE: usize = 16_384;

/// One thing to record.
#[derive(Debug)]
pub enum Record {
    /// About a co-browse session.
    Session(RecordEvent),
    /// About a chat or call.
    Interaction(InteractionEvent),
}

/// The sending side, cloned into whatever records.
#[derive(Clone)]
pub struct Recorder {
    events: mpsc::Sender<Record>,
    metrics: Arc<Metrics>,
}

/// The writer task; [`RecorderTask::finish`] waits until everything queued is written.
pub struct RecorderTask {
    handle: JoinHandle<()>,
    closing: tokio_util::sync::CancellationToken,
}

impl Recorder {
    /// Starts the writer for `store`; every event also goes to `webhooks`, in the same order.
    pub fn start(store: Arc<dyn Store>, webhooks: Arc<Webhooks>, metrics: Arc<Metrics>) -> (Recorder, RecorderTask) {
        let (events, mut queue) = mpsc::channel::<Record>(RECORD_QUEUE);
        let writer_metrics = metrics.clone();
        let closing = tokio_util::sync::CancellationToken::new();
        let stop = closing.clone();
        let handle = tokio::spawn(async move {
            let write = |event: Record| {
                let store = store.clone();
                let metrics = writer_metrics.clone();
                let webhooks = webhooks.clone();
                async move {
                    let stored = match event {
                        Record::Session(event) => {
                            webhooks.on_session(&event);
                            store.record(event).await
                        }
                        Record::Interaction(event) => {
                            webhooks.on_interaction(&event);
                            store.record_interaction(event).await
                        }
                    };
                    if let Err(err) = stored {
                        metrics.record_failed();
                        tracing::error!(error = %err, "could not write a record");
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

    /// Queues a session event without waiting.
    pub fn record(&self, event: RecordEvent) {
        self.queue(Record::Session(event));
    }

    /// Queues an interaction event without waiting.
    pub fn record_interaction(&self, event: InteractionEvent) {
        self.queue(Record::Interaction(event));
    }

    fn queue(&self, event: Record) {
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
