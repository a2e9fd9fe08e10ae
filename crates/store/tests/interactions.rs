//! Interactions, transcripts and webhook deliveries in SQLite.

use cobrowse_store::{DeliveryOutcome, InteractionEvent, InteractionKind, SqliteStore, Store, WebhookDelivery};
use time::OffsetDateTime;

fn now() -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap()
}

#[tokio::test]
async fn a_chat_and_its_transcript_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("db.sqlite")).await.unwrap();
    store
        .record_interaction(InteractionEvent::Started {
            id: "chat-1".into(),
            kind: InteractionKind::Chat,
            customer: "Ana".into(),
            agent: None,
            at: now(),
        })
        .await
        .unwrap();
    store
        .record_interaction(InteractionEvent::Assigned { id: "chat-1".into(), agent: "alice".into(), at: now() })
        .await
        .unwrap();
    for (n, text) in ["hello", "{start:123456789}"].iter().enumerate() {
        let message = InteractionEvent::Message {
            id: "chat-1".into(),
            message_id: n as u64 + 1,
            author: "customer".into(),
            name: "Ana".into(),
            text: (*text).into(),
            at: now(),
        };
        store.record_interaction(message.clone()).await.unwrap();
        store.record_interaction(message).await.unwrap(); // a repeat is kept once
    }
    store
        .record_interaction(InteractionEvent::Ended { id: "chat-1".into(), reason: "customer_left".into(), at: now() })
        .await
        .unwrap();
    store
        .record_interaction(InteractionEvent::Ended { id: "chat-1".into(), reason: "agent_ended".into(), at: now() })
        .await
        .unwrap();

    let record = store.interaction("chat-1").await.unwrap().unwrap();
    assert_eq!(record.kind, InteractionKind::Chat);
    assert_eq!(record.agent_id.as_deref(), Some("alice"));
    assert_eq!(record.end_reason.as_deref(), Some("customer_left"), "the first end stands");
    let transcript = store.transcript("chat-1").await.unwrap();
    assert_eq!(transcript.iter().map(|l| l.text.as_str()).collect::<Vec<_>>(), ["hello", "{start:123456789}"]);
    assert!(store.interaction("nope").await.unwrap().is_none());
    assert!(store.transcript("nope").await.unwrap().is_empty());
}

#[tokio::test]
async fn webhook_deliveries_are_logged_newest_first() {
    let store = SqliteStore::in_memory().await.unwrap();
    for attempt in 1..=3 {
        store
            .record_delivery(WebhookDelivery {
                endpoint: "https://hooks.example/cb".into(),
                event_id: "evt-1".into(),
                event_type: "cobrowse.ended".into(),
                attempt,
                status: if attempt < 3 { Some(500) } else { Some(200) },
                outcome: if attempt < 3 { DeliveryOutcome::Retrying } else { DeliveryOutcome::Delivered },
                error: (attempt < 3).then(|| "HTTP 500".to_string()),
                at: now(),
            })
            .await
            .unwrap();
    }
    let log = store.deliveries(10).await.unwrap();
    assert_eq!(log.iter().map(|d| d.attempt).collect::<Vec<_>>(), [3, 2, 1]);
    assert_eq!(log[0].outcome, DeliveryOutcome::Delivered);
    assert_eq!(store.deliveries(1).await.unwrap().len(), 1);
}
