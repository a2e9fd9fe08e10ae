//! Webhooks: configured endpoints receive signed JSON events about interactions and co-browse
//! sessions.
//!
//! Events come from the same record stream the store is written from (`recorder.rs`), so what
//! a webhook says and what the store keeps never disagree. Each endpoint has one worker and one
//! bounded queue: events are delivered one at a time in the order they happened — which keeps
//! every session's events in order — and a failing delivery is retried with exponential backoff
//! before the next event goes. Every attempt is logged in the store for administrators.
//!
//! Payloads carry IDs, agents, modes and reasons — never page content, so nothing the
//! customer's browser masked can appear (masked values never reach the server at all).

pub mod sign;

use crate::config::{WebhookDeliveryConfig, WebhookEndpoint};
use crate::metrics::Metrics;
use cobrowse_store::{DeliveryOutcome, InteractionEvent, RecordEvent, RecordId, Store, WebhookDelivery};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use time::OffsetDateTime;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

/// One event as delivered.
#[derive(Debug, Clone, serde::Serialize)]
pub struct WebhookEvent {
    /// Unique ID; the same across retries, so receivers can drop repeats.
    pub id: String,
    /// `interaction.started`, `interaction.ended`, `cobrowse.created`, `cobrowse.agent_joined`,
    /// `cobrowse.mode_changed` or `cobrowse.ended`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// When it happened (RFC 3339).
    pub at: String,
    /// Event details.
    pub data: Value,
}

struct Endpoint {
    events: Vec<String>,
    queue: mpsc::Sender<WebhookEvent>,
}

/// The webhook publisher: maps record events to webhook events and queues them per endpoint.
pub struct Webhooks {
    endpoints: Vec<Endpoint>,
    /// Record ID → public session ID and interaction, so later events can name the session.
    sessions: Mutex<HashMap<RecordId, (String, Option<String>)>>,
    metrics: Arc<Metrics>,
}

/// The delivery workers; [`WebhookWorkers::stop`] ends them at shutdown.
pub struct WebhookWorkers {
    handles: Vec<JoinHandle<()>>,
}

impl Webhooks {
    /// Starts one worker per configured endpoint.
    pub fn start(
        endpoints: &[WebhookEndpoint],
        delivery: &WebhookDeliveryConfig,
        store: Arc<dyn Store>,
        metrics: Arc<Metrics>,
    ) -> (Arc<Webhooks>, WebhookWorkers) {
        let client = reqwest::Client::builder()
            .timeout(delivery.timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("cobrowse-webhooks/", env!("CARGO_PKG_VERSION")))
            .build()
            .expect("the webhook HTTP client builds");
        let mut handles = Vec::new();
        let endpoints = endpoints
            .iter()
            .map(|config| {
                let (tx, rx) = mpsc::channel(delivery.queue.max(1));
                handles.push(tokio::spawn(deliver_all(
                    config.clone(),
                    delivery.clone(),
                    rx,
                    client.clone(),
                    store.clone(),
                    metrics.clone(),
                )));
                Endpoint { events: config.events.clone(), queue: tx }
            })
            .collect();
        (Arc::new(Webhooks { endpoints, sessions: Mutex::new(HashMap::new()), metrics }), WebhookWorkers { handles })
    }

    fn publish(&self, kind: &'static str, data: Value) {
        if self.endpoints.is_empty() {
            return;
        }
        let event = WebhookEvent {
            id: uuid::Uuid::new_v4().to_string(),
            kind,
            at: OffsetDateTime::now_utc().format(&time::format_description::well_known::Rfc3339).unwrap_or_default(),
            data,
        };
        for endpoint in &self.endpoints {
            if !endpoint.events.is_empty() && !endpoint.events.iter().any(|e| e == kind) {
                continue;
            }
            if endpoint.queue.try_send(event.clone()).is_err() {
                self.metrics.record_failed();
                tracing::error!(event = kind, "webhook queue full; event dropped");
            }
        }
    }

    fn sessions(&self) -> std::sync::MutexGuard<'_, HashMap<RecordId, (String, Option<String>)>> {
        self.sessions.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A session record event; the ones webhooks carry are published.
    pub fn on_session(&self, event: &RecordEvent) {
        match event {
            RecordEvent::Created { record, session, interaction, .. } => {
                self.sessions().insert(*record, (session.to_string(), interaction.clone()));
                self.publish(
                    "cobrowse.created",
                    json!({ "session": session.to_string(), "record": record.to_string(), "interaction": interaction }),
                );
            }
            RecordEvent::InteractionLinked { record, interaction, .. } => {
                if let Some(entry) = self.sessions().get_mut(record) {
                    entry.1 = Some(interaction.clone());
                }
            }
            RecordEvent::Joined { record, agent_id, agent_name, .. } => {
                let (session, interaction) = self.session_of(record);
                self.publish(
                    "cobrowse.agent_joined",
                    json!({ "session": session, "record": record.to_string(), "interaction": interaction,
                            "agent": { "id": agent_id, "name": agent_name } }),
                );
            }
            RecordEvent::ModeChanged { record, mode, by, .. } => {
                let (session, interaction) = self.session_of(record);
                self.publish(
                    "cobrowse.mode_changed",
                    json!({ "session": session, "record": record.to_string(), "interaction": interaction, "mode": mode, "by": by }),
                );
            }
            RecordEvent::Ended { record, reason, .. } => {
                let (session, interaction) = self.session_of(record);
                self.sessions().remove(record);
                self.publish(
                    "cobrowse.ended",
                    json!({ "session": session, "record": record.to_string(), "interaction": interaction, "reason": reason }),
                );
            }
            RecordEvent::PageVisited { .. } => {}
        }
    }

    fn session_of(&self, record: &RecordId) -> (Option<String>, Option<String>) {
        match self.sessions().get(record) {
            Some((session, interaction)) => (Some(session.clone()), interaction.clone()),
            None => (None, None),
        }
    }

    /// An interaction event; starts and ends are published.
    pub fn on_interaction(&self, event: &InteractionEvent) {
        match event {
            InteractionEvent::Started { id, kind, agent, .. } => {
                self.publish("interaction.started", json!({ "interaction": id, "kind": kind, "agent": agent }));
            }
            InteractionEvent::Ended { id, reason, .. } => {
                self.publish("interaction.ended", json!({ "interaction": id, "reason": reason }));
            }
            InteractionEvent::Assigned { .. } | InteractionEvent::Message { .. } => {}
        }
    }
}

impl WebhookWorkers {
    /// Stops delivering (pending retries are abandoned; their attempts so far are logged).
    pub fn stop(self) {
        for handle in self.handles {
            handle.abort();
        }
    }
}

async fn deliver_all(
    endpoint: WebhookEndpoint,
    delivery: WebhookDeliveryConfig,
    mut queue: mpsc::Receiver<WebhookEvent>,
    client: reqwest::Client,
    store: Arc<dyn Store>,
    metrics: Arc<Metrics>,
) {
    while let Some(event) = queue.recv().await {
        let body = match serde_json::to_vec(&event) {
            Ok(body) => body,
            Err(_) => continue,
        };
        let mut backoff = delivery.retry_base;
        for attempt in 1..=delivery.max_attempts {
            let timestamp = OffsetDateTime::now_utc().unix_timestamp().max(0) as u64;
            let result = client
                .post(&endpoint.url)
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .header(sign::SIGNATURE_HEADER, sign::signature(&endpoint.secret, timestamp, &body))
                .header("x-cobrowse-event", event.kind)
                .header("x-cobrowse-delivery", &event.id)
                .body(body.clone())
                .send()
                .await;
            let (status, error) = match &result {
                Ok(response) if response.status().is_success() => (Some(response.status().as_u16()), None),
                Ok(response) => {
                    (Some(response.status().as_u16()), Some(format!("HTTP {}", response.status().as_u16())))
                }
                Err(err) if err.is_timeout() => (None, Some("timed out".to_string())),
                Err(_) => (None, Some("could not connect".to_string())),
            };
            let delivered = error.is_none();
            let outcome = if delivered {
                DeliveryOutcome::Delivered
            } else if attempt == delivery.max_attempts {
                DeliveryOutcome::Failed
            } else {
                DeliveryOutcome::Retrying
            };
            let log = WebhookDelivery {
                endpoint: endpoint.url.clone(),
                event_id: event.id.clone(),
                event_type: event.kind.to_string(),
                attempt,
                status,
                outcome,
                error: error.clone(),
                at: OffsetDateTime::now_utc(),
            };
            if let Err(err) = store.record_delivery(log).await {
                metrics.record_failed();
                tracing::error!(error = %err, "could not log a webhook delivery");
            }
            if delivered {
                break;
            }
            if outcome == DeliveryOutcome::Failed {
                tracing::warn!(url = %endpoint.url, event = event.kind, "webhook delivery failed for good");
                break;
            }
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(delivery.retry_max);
        }
    }
}
