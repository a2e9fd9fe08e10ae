//! The SQLite side of interactions, transcripts and webhook deliveries (schema:
//! `migrations/sqlite/0002_interactions.sql`).

use crate::error::StoreError;
use crate::interactions::{
    DeliveryOutcome, InteractionEvent, InteractionKind, InteractionRecord, TranscriptLine, WebhookDelivery,
};
use crate::stored::{from_micros, to_micros};
use sqlx::sqlite::SqliteRow;
use sqlx::{Row, SqlitePool};

fn corrupt(what: &str) -> StoreError {
    StoreError::Corrupt(format!("{what} does not parse"))
}

fn get<'r, T>(row: &'r SqliteRow, name: &str) -> Result<T, StoreError>
where
    T: sqlx::Decode<'r, sqlx::Sqlite> + sqlx::Type<sqlx::Sqlite>,
{
    row.try_get(name).map_err(StoreError::from)
}

pub(crate) async fn record_interaction(pool: &SqlitePool, event: InteractionEvent) -> Result<(), StoreError> {
    match event {
        InteractionEvent::Started { id, kind, customer, agent, at } => {
            let at = to_micros(at)?;
            sqlx::query(
                "INSERT INTO interactions (interaction_id, kind, customer, started_at, agent_id, assigned_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, CASE WHEN ?5 IS NULL THEN NULL ELSE ?4 END)
                 ON CONFLICT (interaction_id) DO NOTHING",
            )
            .bind(id)
            .bind(kind.as_str())
            .bind(customer)
            .bind(at)
            .bind(agent)
            .execute(pool)
            .await?;
        }
        InteractionEvent::Assigned { id, agent, at } => {
            sqlx::query("UPDATE interactions SET agent_id = ?2, assigned_at = ?3 WHERE interaction_id = ?1")
                .bind(id)
                .bind(agent)
                .bind(to_micros(at)?)
                .execute(pool)
                .await?;
        }
        InteractionEvent::Message { id, message_id, author, name, text, at } => {
            sqlx::query(
                "INSERT INTO chat_messages (interaction_id, message_id, author, name, body, sent_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT DO NOTHING",
            )
            .bind(id)
            .bind(i64::try_from(message_id).map_err(|_| StoreError::Unstorable("message id".into()))?)
            .bind(author)
            .bind(name)
            .bind(text)
            .bind(to_micros(at)?)
            .execute(pool)
            .await?;
        }
        InteractionEvent::Ended { id, reason, at } => {
            sqlx::query(
                "UPDATE interactions SET ended_at = ?3, end_reason = ?2 WHERE interaction_id = ?1 AND ended_at IS NULL",
            )
            .bind(id)
            .bind(reason)
            .bind(to_micros(at)?)
            .execute(pool)
            .await?;
        }
    }
    Ok(())
}

pub(crate) async fn interaction(pool: &SqlitePool, id: &str) -> Result<Option<InteractionRecord>, StoreError> {
    let Some(row) = sqlx::query(
        "SELECT interaction_id, kind, customer, started_at, agent_id, ended_at, end_reason
         FROM interactions WHERE interaction_id = ?1",
    )
    .bind(id)
    .fetch_optional(pool)
    .await?
    else {
        return Ok(None);
    };
    let kind: String = get(&row, "kind")?;
    let ended: Option<i64> = get(&row, "ended_at")?;
    Ok(Some(InteractionRecord {
        id: get(&row, "interaction_id")?,
        kind: InteractionKind::parse(&kind).ok_or_else(|| corrupt("interaction kind"))?,
        customer: get(&row, "customer")?,
        started_at: from_micros(get(&row, "started_at")?)?,
        agent_id: get(&row, "agent_id")?,
        ended_at: ended.map(from_micros).transpose()?,
        end_reason: get(&row, "end_reason")?,
    }))
}

pub(crate) async fn transcript(pool: &SqlitePool, id: &str) -> Result<Vec<TranscriptLine>, StoreError> {
    let rows = sqlx::query(
        "SELECT message_id, author, name, body, sent_at FROM chat_messages
         WHERE interaction_id = ?1 ORDER BY message_id",
    )
    .bind(id)
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|row| {
            let message_id: i64 = get(row, "message_id")?;
            Ok(TranscriptLine {
                message_id: u64::try_from(message_id).map_err(|_| corrupt("message id"))?,
                author: get(row, "author")?,
                name: get(row, "name")?,
                text: get(row, "body")?,
                at: from_micros(get(row, "sent_at")?)?,
            })
        })
        .collect()
}

pub(crate) async fn record_delivery(pool: &SqlitePool, delivery: WebhookDelivery) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO webhook_deliveries (endpoint, event_id, event_type, attempt, status, outcome, error, at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )
    .bind(delivery.endpoint)
    .bind(delivery.event_id)
    .bind(delivery.event_type)
    .bind(i64::from(delivery.attempt))
    .bind(delivery.status.map(i64::from))
    .bind(delivery.outcome.as_str())
    .bind(delivery.error)
    .bind(to_micros(delivery.at)?)
    .execute(pool)
    .await?;
    Ok(())
}

pub(crate) async fn deliveries(pool: &SqlitePool, limit: u32) -> Result<Vec<WebhookDelivery>, StoreError> {
    let rows = sqlx::query(
        "SELECT endpoint, event_id, event_type, attempt, status, outcome, error, at
         FROM webhook_deliveries ORDER BY id DESC LIMIT ?1",
    )
    .bind(i64::from(limit.min(1000)))
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|row| {
            let attempt: i64 = get(row, "attempt")?;
            let status: Option<i64> = get(row, "status")?;
            let outcome: String = get(row, "outcome")?;
            Ok(WebhookDelivery {
                endpoint: get(row, "endpoint")?,
                event_id: get(row, "event_id")?,
                event_type: get(row, "event_type")?,
                attempt: u32::try_from(attempt).map_err(|_| corrupt("attempt"))?,
                status: status.map(|s| u16::try_from(s).map_err(|_| corrupt("status"))).transpose()?,
                outcome: DeliveryOutcome::parse(&outcome).ok_or_else(|| corrupt("delivery outcome"))?,
                error: get(row, "error")?,
                at: from_micros(get(row, "at")?)?,
            })
        })
        .collect()
}
