//! The SQLite store through the `Store` trait, against real database files in a temporary
//! directory and in memory.

use cobrowse_protocol::{EndReason, Mode, Role, SessionId};
use cobrowse_store::{
    AgentJoin, ModeChange, PageVisit, RecordEvent, RecordId, SessionQuery, SessionRecord, SqliteStore, Store,
    StoreError,
};
use sqlx::{Connection, SqliteConnection};
use std::path::Path;
use std::sync::Arc;
use time::{Duration, OffsetDateTime, UtcOffset};

/// A fixed moment with whole microseconds, so what goes in comes back equal.
fn t0() -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(1_714_557_600).unwrap() + Duration::microseconds(123_456)
}

fn at(seconds: i64) -> OffsetDateTime {
    t0() + Duration::seconds(seconds)
}

fn sid(value: u32) -> SessionId {
    SessionId::new(value).unwrap()
}

async fn create(store: &dyn Store, session: SessionId, created_at: OffsetDateTime) -> RecordId {
    let record = RecordId::random();
    store
        .record(RecordEvent::Created { record, session, at: created_at, interaction: None, origin: None })
        .await
        .unwrap();
    record
}

async fn join(store: &dyn Store, record: RecordId, agent: &str, when: OffsetDateTime) {
    store
        .record(RecordEvent::Joined { record, agent_id: agent.into(), agent_name: format!("Agent {agent}"), at: when })
        .await
        .unwrap();
}

async fn file_store(dir: &Path) -> SqliteStore {
    SqliteStore::open(&dir.join("cobrowse.db")).await.unwrap()
}

/// Created → joined → mode changes → pages → ended, read back field by field.
async fn lifecycle(store: &dyn Store) {
    let record = RecordId::random();
    let events = [
        RecordEvent::Created {
            record,
            session: sid(123_456_789),
            at: at(0),
            interaction: Some("chat-42".into()),
            origin: Some("https://shop.example".into()),
        },
        RecordEvent::PageVisited { record, url: "https://shop.example/".into(), title: "Shop".into(), at: at(1) },
        RecordEvent::Joined { record, agent_id: "a-7".into(), agent_name: "Ada".into(), at: at(5) },
        RecordEvent::ModeChanged { record, mode: Mode::Write, by: Role::Customer, at: at(10) },
        RecordEvent::PageVisited {
            record,
            url: "https://shop.example/cart".into(),
            title: "Cart — 2 items".into(),
            at: at(12),
        },
        RecordEvent::ModeChanged { record, mode: Mode::Pointer, by: Role::Agent, at: at(20) },
        RecordEvent::Ended { record, reason: EndReason::AgentExit, at: at(30) },
    ];
    for event in events {
        assert_eq!(event.record(), record);
        store.record(event).await.unwrap();
    }

    let expected = SessionRecord {
        record,
        session: sid(123_456_789),
        created_at: at(0),
        joined_at: Some(at(5)),
        ended_at: Some(at(30)),
        agent_id: Some("a-7".into()),
        agent_name: Some("Ada".into()),
        interaction: Some("chat-42".into()),
        origin: Some("https://shop.example".into()),
        end_reason: Some(EndReason::AgentExit),
        joins: vec![AgentJoin { agent_id: "a-7".into(), agent_name: "Ada".into(), at: at(5) }],
        modes: vec![
            ModeChange { mode: Mode::Write, by: Role::Customer, at: at(10) },
            ModeChange { mode: Mode::Pointer, by: Role::Agent, at: at(20) },
        ],
        pages: vec![
            PageVisit { url: "https://shop.example/".into(), title: "Shop".into(), at: at(1) },
            PageVisit { url: "https://shop.example/cart".into(), title: "Cart — 2 items".into(), at: at(12) },
        ],
    };
    assert_eq!(store.session(record).await.unwrap(), Some(expected));

    let summaries = store.sessions(&SessionQuery::default()).await.unwrap();
    assert_eq!(summaries.len(), 1);
    let summary = &summaries[0];
    assert_eq!(summary.record, record);
    assert_eq!(summary.session, sid(123_456_789));
    assert_eq!(summary.created_at, at(0));
    assert_eq!(summary.joined_at, Some(at(5)));
    assert_eq!(summary.ended_at, Some(at(30)));
    assert_eq!(summary.agent_id.as_deref(), Some("a-7"));
    assert_eq!(summary.agent_name.as_deref(), Some("Ada"));
    assert_eq!(summary.end_reason, Some(EndReason::AgentExit));
    assert_eq!(summary.pages, 2);
}

#[tokio::test]
async fn lifecycle_round_trips_in_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let store = file_store(dir.path()).await;
    lifecycle(&store).await;
    store.close().await;
}

#[tokio::test]
async fn lifecycle_round_trips_in_memory() {
    let store = SqliteStore::in_memory().await.unwrap();
    lifecycle(&store).await;
    store.close().await;
}

#[tokio::test]
async fn a_record_with_no_agent_and_no_end_reads_back_empty() {
    let store = SqliteStore::in_memory().await.unwrap();
    let record = create(&store, sid(100_000_000), at(0)).await;
    let read = store.session(record).await.unwrap().unwrap();
    assert_eq!(read.session, sid(100_000_000));
    assert_eq!((read.joined_at, read.ended_at, read.end_reason), (None, None, None));
    assert_eq!((read.agent_id, read.agent_name, read.interaction, read.origin), (None, None, None, None));
    assert!(read.joins.is_empty() && read.modes.is_empty() && read.pages.is_empty());
    assert_eq!(store.sessions(&SessionQuery::default()).await.unwrap()[0].pages, 0);
}

#[tokio::test]
async fn every_end_reason_round_trips() {
    let store = SqliteStore::in_memory().await.unwrap();
    for reason in EndReason::ALL {
        let record = create(&store, sid(111_111_111), at(0)).await;
        store.record(RecordEvent::Ended { record, reason, at: at(1) }).await.unwrap();
        assert_eq!(store.session(record).await.unwrap().unwrap().end_reason, Some(reason));
    }
}

#[tokio::test]
async fn a_second_join_keeps_the_first_time_and_the_latest_agent() {
    let store = SqliteStore::in_memory().await.unwrap();
    let record = create(&store, sid(222_222_222), at(0)).await;
    join(&store, record, "first", at(5)).await;
    join(&store, record, "second", at(50)).await;

    let read = store.session(record).await.unwrap().unwrap();
    assert_eq!(read.joined_at, Some(at(5)));
    assert_eq!(read.agent_id.as_deref(), Some("second"));
    assert_eq!(read.agent_name.as_deref(), Some("Agent second"));
    let agents: Vec<_> = read.joins.iter().map(|join| (join.agent_id.as_str(), join.at)).collect();
    assert_eq!(agents, [("first", at(5)), ("second", at(50))]);
}

#[tokio::test]
async fn every_page_visit_is_kept_even_a_repeat() {
    let store = SqliteStore::in_memory().await.unwrap();
    let record = create(&store, sid(333_333_333), at(0)).await;
    for second in 1..=3 {
        let event =
            RecordEvent::PageVisited { record, url: "https://a.example/".into(), title: "A".into(), at: at(second) };
        store.record(event).await.unwrap();
    }
    assert_eq!(store.session(record).await.unwrap().unwrap().pages.len(), 3);
    assert_eq!(store.sessions(&SessionQuery::default()).await.unwrap()[0].pages, 3);
}

#[tokio::test]
async fn summaries_come_newest_first() {
    let store = SqliteStore::in_memory().await.unwrap();
    // Created out of time order, and two at the same instant.
    let middle = create(&store, sid(100_000_001), at(10)).await;
    let oldest = create(&store, sid(100_000_002), at(0)).await;
    let newest = create(&store, sid(100_000_003), at(20)).await;
    let tie_first = create(&store, sid(100_000_004), at(15)).await;
    let tie_second = create(&store, sid(100_000_005), at(15)).await;

    let order: Vec<_> =
        store.sessions(&SessionQuery::default()).await.unwrap().into_iter().map(|summary| summary.record).collect();
    assert_eq!(order, [newest, tie_second, tie_first, middle, oldest]);
}

#[tokio::test]
async fn summaries_filter_by_public_session_id_across_reuse() {
    let store = SqliteStore::in_memory().await.unwrap();
    let reused = sid(444_444_444);
    let first = create(&store, reused, at(0)).await;
    store.record(RecordEvent::Ended { record: first, reason: EndReason::CustomerExit, at: at(5) }).await.unwrap();
    let _other = create(&store, sid(555_555_555), at(6)).await;
    let second = create(&store, reused, at(10)).await;

    let query = SessionQuery { session: Some(reused), ..SessionQuery::default() };
    let found: Vec<_> = store.sessions(&query).await.unwrap().into_iter().map(|summary| summary.record).collect();
    assert_eq!(found, [second, first]);

    let query = SessionQuery { session: Some(sid(999_999_999)), ..SessionQuery::default() };
    assert!(store.sessions(&query).await.unwrap().is_empty());
}

#[tokio::test]
async fn summaries_filter_by_any_agent_who_joined() {
    let store = SqliteStore::in_memory().await.unwrap();
    let handed_over = create(&store, sid(100_000_001), at(0)).await;
    join(&store, handed_over, "ada", at(1)).await;
    join(&store, handed_over, "bob", at(2)).await;
    let bobs = create(&store, sid(100_000_002), at(10)).await;
    join(&store, bobs, "bob", at(11)).await;
    let _nobody = create(&store, sid(100_000_003), at(20)).await;

    let by = |agent: &str| SessionQuery { agent_id: Some(agent.into()), ..SessionQuery::default() };
    let records = |summaries: Vec<cobrowse_store::SessionSummary>| -> Vec<RecordId> {
        summaries.into_iter().map(|summary| summary.record).collect()
    };
    assert_eq!(records(store.sessions(&by("bob")).await.unwrap()), [bobs, handed_over]);
    let adas = store.sessions(&by("ada")).await.unwrap();
    assert_eq!(records(adas.clone()), [handed_over]);
    // The summary shows the latest agent even when the filter matched an earlier one.
    assert_eq!(adas[0].agent_id.as_deref(), Some("bob"));
    assert!(store.sessions(&by("carol")).await.unwrap().is_empty());
}

#[tokio::test]
async fn summaries_filter_by_since_inclusively() {
    let store = SqliteStore::in_memory().await.unwrap();
    let _old = create(&store, sid(100_000_001), at(0)).await;
    let on_the_dot = create(&store, sid(100_000_002), at(10)).await;
    let newer = create(&store, sid(100_000_003), at(20)).await;

    let query = SessionQuery { since: Some(at(10)), ..SessionQuery::default() };
    let found: Vec<_> = store.sessions(&query).await.unwrap().into_iter().map(|summary| summary.record).collect();
    assert_eq!(found, [newer, on_the_dot]);

    // A `since` in another offset means the same instant.
    let elsewhere = at(10).to_offset(UtcOffset::from_hms(-5, 0, 0).unwrap());
    let query = SessionQuery { since: Some(elsewhere), ..SessionQuery::default() };
    assert_eq!(store.sessions(&query).await.unwrap().len(), 2);
}

#[tokio::test]
async fn filters_combine() {
    let store = SqliteStore::in_memory().await.unwrap();
    let id = sid(666_666_666);
    let early = create(&store, id, at(0)).await;
    join(&store, early, "ada", at(1)).await;
    let late_other_agent = create(&store, id, at(20)).await;
    join(&store, late_other_agent, "bob", at(21)).await;
    let late = create(&store, id, at(30)).await;
    join(&store, late, "ada", at(31)).await;

    let query = SessionQuery { session: Some(id), agent_id: Some("ada".into()), since: Some(at(10)), limit: 10 };
    let found: Vec<_> = store.sessions(&query).await.unwrap().into_iter().map(|summary| summary.record).collect();
    assert_eq!(found, [late]);
}

#[tokio::test]
async fn the_limit_is_applied_and_capped() {
    let store = SqliteStore::in_memory().await.unwrap();
    let total = SessionQuery::MAX_LIMIT + 10;
    let mut newest = Vec::new();
    for n in 0..total {
        newest.push(create(&store, sid(100_000_000 + n), at(i64::from(n))).await);
    }
    newest.reverse();

    let three = SessionQuery { limit: 3, ..SessionQuery::default() };
    let found: Vec<_> = store.sessions(&three).await.unwrap().into_iter().map(|summary| summary.record).collect();
    assert_eq!(found, newest[..3]);

    let zero = SessionQuery { limit: 0, ..SessionQuery::default() };
    assert!(store.sessions(&zero).await.unwrap().is_empty());

    let default = store.sessions(&SessionQuery::default()).await.unwrap();
    assert_eq!(default.len(), SessionQuery::DEFAULT_LIMIT as usize);

    let huge = SessionQuery { limit: u32::MAX, ..SessionQuery::default() };
    assert_eq!(huge.effective_limit(), SessionQuery::MAX_LIMIT);
    let capped = store.sessions(&huge).await.unwrap();
    assert_eq!(capped.len(), SessionQuery::MAX_LIMIT as usize);
    assert_eq!(capped.last().map(|summary| summary.record), Some(newest[SessionQuery::MAX_LIMIT as usize - 1]));
}

#[tokio::test]
async fn events_for_an_unknown_record_are_errors() {
    let store = SqliteStore::in_memory().await.unwrap();
    let known = create(&store, sid(777_777_777), at(0)).await;
    let unknown = RecordId::random();
    let events = [
        RecordEvent::Joined { record: unknown, agent_id: "a".into(), agent_name: "A".into(), at: at(1) },
        RecordEvent::ModeChanged { record: unknown, mode: Mode::Write, by: Role::Customer, at: at(1) },
        RecordEvent::PageVisited { record: unknown, url: "https://x.example/".into(), title: String::new(), at: at(1) },
        RecordEvent::Ended { record: unknown, reason: EndReason::AgentExit, at: at(1) },
    ];
    for event in events {
        match store.record(event.clone()).await {
            Err(StoreError::UnknownRecord(record)) => assert_eq!(record, unknown),
            other => panic!("{event:?} gave {other:?}"),
        }
    }
    assert_eq!(store.session(unknown).await.unwrap(), None);
    // Nothing leaked into the known record or the list.
    let read = store.session(known).await.unwrap().unwrap();
    assert!(read.joins.is_empty() && read.modes.is_empty() && read.pages.is_empty() && read.ended_at.is_none());
    assert_eq!(store.sessions(&SessionQuery::default()).await.unwrap().len(), 1);
}

#[tokio::test]
async fn creating_a_record_twice_is_an_error() {
    let store = SqliteStore::in_memory().await.unwrap();
    let record = create(&store, sid(888_888_888), at(0)).await;
    let again = RecordEvent::Created { record, session: sid(888_888_889), at: at(1), interaction: None, origin: None };
    match store.record(again).await {
        Err(StoreError::DuplicateRecord(duplicate)) => assert_eq!(duplicate, record),
        other => panic!("expected a duplicate record error, got {other:?}"),
    }
    let read = store.session(record).await.unwrap().unwrap();
    assert_eq!((read.session, read.created_at), (sid(888_888_888), at(0)));
}

#[tokio::test]
async fn the_first_end_stands() {
    let store = SqliteStore::in_memory().await.unwrap();
    let record = create(&store, sid(999_999_999), at(0)).await;
    store.record(RecordEvent::Ended { record, reason: EndReason::CustomerExit, at: at(10) }).await.unwrap();
    store.record(RecordEvent::Ended { record, reason: EndReason::ServerShutdown, at: at(20) }).await.unwrap();
    let read = store.session(record).await.unwrap().unwrap();
    assert_eq!((read.ended_at, read.end_reason), (Some(at(10)), Some(EndReason::CustomerExit)));
}

#[tokio::test]
async fn close_open_records_ends_only_the_open_ones() {
    let store = SqliteStore::in_memory().await.unwrap();
    let ended = create(&store, sid(100_000_001), at(0)).await;
    store.record(RecordEvent::Ended { record: ended, reason: EndReason::AgentExit, at: at(5) }).await.unwrap();
    let pending = create(&store, sid(100_000_002), at(1)).await;
    let active = create(&store, sid(100_000_003), at(2)).await;
    join(&store, active, "ada", at(3)).await;

    let closed = store.close_open_records(EndReason::ServerShutdown, at(100)).await.unwrap();
    assert_eq!(closed, 2);
    for record in [pending, active] {
        let read = store.session(record).await.unwrap().unwrap();
        assert_eq!((read.ended_at, read.end_reason), (Some(at(100)), Some(EndReason::ServerShutdown)));
    }
    let read = store.session(ended).await.unwrap().unwrap();
    assert_eq!((read.ended_at, read.end_reason), (Some(at(5)), Some(EndReason::AgentExit)));

    assert_eq!(store.close_open_records(EndReason::ServerShutdown, at(200)).await.unwrap(), 0);
}

#[tokio::test]
async fn times_are_kept_to_the_microsecond_and_read_back_in_utc() {
    let store = SqliteStore::in_memory().await.unwrap();
    let paris = UtcOffset::from_hms(2, 0, 0).unwrap();
    let given = (at(0) + Duration::nanoseconds(789)).to_offset(paris);
    let record = create(&store, sid(123_123_123), given).await;
    let read = store.session(record).await.unwrap().unwrap();
    assert_eq!(read.created_at, at(0));
    assert_eq!(read.created_at.offset(), UtcOffset::UTC);
}

#[tokio::test]
async fn a_record_serializes_with_rfc3339_times_and_wire_strings() {
    let store = SqliteStore::in_memory().await.unwrap();
    let record = create(&store, sid(123_456_789), at(0)).await;
    store.record(RecordEvent::ModeChanged { record, mode: Mode::Write, by: Role::Customer, at: at(1) }).await.unwrap();
    store.record(RecordEvent::Ended { record, reason: EndReason::InteractionEnded, at: at(2) }).await.unwrap();

    let json = serde_json::to_value(store.session(record).await.unwrap().unwrap()).unwrap();
    assert_eq!(json["record"], record.to_string());
    assert_eq!(json["session"], "123456789");
    assert_eq!(json["created_at"], "2024-05-01T10:00:00.123456Z");
    assert_eq!(json["joined_at"], serde_json::Value::Null);
    assert_eq!(json["ended_at"], "2024-05-01T10:00:02.123456Z");
    assert_eq!(json["end_reason"], "interaction_ended");
    assert_eq!(json["modes"][0]["mode"], "write");
    assert_eq!(json["modes"][0]["by"], "customer");

    let summary = serde_json::to_value(&store.sessions(&SessionQuery::default()).await.unwrap()[0]).unwrap();
    assert_eq!(summary["created_at"], "2024-05-01T10:00:00.123456Z");
    assert_eq!(summary["pages"], 0);

    let back: SessionRecord = serde_json::from_value(json).unwrap();
    assert_eq!(Some(back), store.session(record).await.unwrap());
}

#[tokio::test]
async fn a_reopened_file_keeps_its_records() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nested").join("data").join("cobrowse.db");

    let store = SqliteStore::open(&path).await.unwrap();
    let record = create(&store, sid(246_813_579), at(0)).await;
    join(&store, record, "ada", at(1)).await;
    let written = store.session(record).await.unwrap();
    store.close().await;
    drop(store);
    assert!(path.exists());

    // Opening again runs the migrator again over an up-to-date schema: nothing to do, no error.
    let store = SqliteStore::open(&path).await.unwrap();
    assert_eq!(store.session(record).await.unwrap(), written);
    store.record(RecordEvent::Ended { record, reason: EndReason::AgentAway, at: at(2) }).await.unwrap();
    store.close().await;

    let store = SqliteStore::open(&path).await.unwrap();
    assert_eq!(store.session(record).await.unwrap().unwrap().end_reason, Some(EndReason::AgentAway));
    store.close().await;
}

#[tokio::test]
async fn two_stores_on_one_file_both_migrate_and_see_each_other() {
    let dir = tempfile::tempdir().unwrap();
    let first = file_store(dir.path()).await;
    let second = file_store(dir.path()).await;
    let record = create(&first, sid(135_792_468), at(0)).await;
    assert!(second.session(record).await.unwrap().is_some());
    first.close().await;
    second.close().await;
}

#[tokio::test]
async fn the_file_is_in_wal_mode_with_the_schema_applied_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cobrowse.db");
    for _ in 0..3 {
        SqliteStore::open(&path).await.unwrap().close().await;
    }

    let mut raw = SqliteConnection::connect(&format!("sqlite://{}", path.display())).await.unwrap();
    let (mode,): (String,) = sqlx::query_as("PRAGMA journal_mode").fetch_one(&mut raw).await.unwrap();
    assert_eq!(mode, "wal");
    let (applied,): (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM _sqlx_migrations WHERE success").fetch_one(&mut raw).await.unwrap();
    let shipped = std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations/sqlite")).unwrap().count();
    assert_eq!(applied, i64::try_from(shipped).unwrap());
    raw.close().await.unwrap();
}

#[tokio::test]
async fn a_value_that_does_not_parse_is_reported_as_corrupt() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cobrowse.db");
    let store = SqliteStore::open(&path).await.unwrap();
    let record = create(&store, sid(100_200_300), at(0)).await;
    store.record(RecordEvent::Ended { record, reason: EndReason::AgentExit, at: at(1) }).await.unwrap();

    let mut raw = SqliteConnection::connect(&format!("sqlite://{}", path.display())).await.unwrap();
    sqlx::query("UPDATE sessions SET end_reason = 'exploded'").execute(&mut raw).await.unwrap();
    raw.close().await.unwrap();

    assert!(matches!(store.session(record).await, Err(StoreError::Corrupt(_))));
    assert!(matches!(store.sessions(&SessionQuery::default()).await, Err(StoreError::Corrupt(_))));

    let mut raw = SqliteConnection::connect(&format!("sqlite://{}", path.display())).await.unwrap();
    sqlx::query("UPDATE sessions SET end_reason = 'agent_exit', session_id = 42").execute(&mut raw).await.unwrap();
    raw.close().await.unwrap();
    assert!(matches!(store.session(record).await, Err(StoreError::Corrupt(_))));
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_writers_do_not_lock_each_other_out() {
    const WRITERS: u32 = 16;
    const PAGES: i64 = 20;

    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> = Arc::new(file_store(dir.path()).await);

    let mut tasks = Vec::new();
    for writer in 0..WRITERS {
        let store = Arc::clone(&store);
        tasks.push(tokio::spawn(async move {
            let record = create(store.as_ref(), sid(200_000_000 + writer), at(i64::from(writer))).await;
            join(store.as_ref(), record, &format!("agent-{writer}"), at(100)).await;
            for page in 0..PAGES {
                let url = format!("https://shop.example/{writer}/{page}");
                let event = RecordEvent::PageVisited { record, url, title: "Page".into(), at: at(100 + page) };
                store.record(event).await.unwrap();
                let mode = if page % 2 == 0 { Mode::Write } else { Mode::Pointer };
                store
                    .record(RecordEvent::ModeChanged { record, mode, by: Role::Customer, at: at(100 + page) })
                    .await
                    .unwrap();
                // A reader beside the writers.
                store.sessions(&SessionQuery { limit: 5, ..SessionQuery::default() }).await.unwrap();
            }
            store.record(RecordEvent::Ended { record, reason: EndReason::CustomerExit, at: at(500) }).await.unwrap();
            record
        }));
    }
    let mut records = Vec::new();
    for task in tasks {
        records.push(task.await.unwrap());
    }

    for record in &records {
        let read = store.session(*record).await.unwrap().unwrap();
        assert_eq!(read.pages.len(), PAGES as usize);
        assert_eq!(read.modes.len(), PAGES as usize);
        assert_eq!(read.joins.len(), 1);
        assert_eq!(read.end_reason, Some(EndReason::CustomerExit));
        let urls: Vec<_> = read.pages.iter().map(|page| page.url.clone()).collect();
        let expected: Vec<_> = (0..PAGES)
            .map(|page| format!("https://shop.example/{}/{page}", read.session.get() - 200_000_000))
            .collect();
        assert_eq!(urls, expected, "pages of one record stay in order");
    }
    let all = store.sessions(&SessionQuery::default()).await.unwrap();
    assert_eq!(all.len(), WRITERS as usize);
    assert!(all.iter().all(|summary| summary.pages == PAGES as u32));
    assert_eq!(store.close_open_records(EndReason::ServerShutdown, at(600)).await.unwrap(), 0);
    store.close().await;
}

#[tokio::test]
async fn concurrent_writers_share_the_in_memory_store() {
    let store: Arc<dyn Store> = Arc::new(SqliteStore::in_memory().await.unwrap());
    let mut tasks = Vec::new();
    for writer in 0..8u32 {
        let store = Arc::clone(&store);
        tasks.push(tokio::spawn(async move {
            let record = create(store.as_ref(), sid(300_000_000 + writer), at(0)).await;
            for page in 0..10 {
                let event = RecordEvent::PageVisited {
                    record,
                    url: format!("https://a.example/{page}"),
                    title: String::new(),
                    at: at(page),
                };
                store.record(event).await.unwrap();
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let all = store.sessions(&SessionQuery::default()).await.unwrap();
    assert_eq!(all.len(), 8);
    assert!(all.iter().all(|summary| summary.pages == 10));
}

#[tokio::test]
async fn calls_after_close_fail_without_panicking() {
    let store = SqliteStore::in_memory().await.unwrap();
    store.close().await;
    let created = RecordEvent::Created {
        record: RecordId::random(),
        session: sid(100_000_000),
        at: at(0),
        interaction: None,
        origin: None,
    };
    assert!(matches!(store.record(created).await, Err(StoreError::Database(_))));
    assert!(matches!(store.sessions(&SessionQuery::default()).await, Err(StoreError::Database(_))));
}

#[test]
fn record_ids_print_and_parse_as_uuids() {
    let record = RecordId::random();
    let text = record.to_string();
    assert_eq!(text.len(), 36);
    assert_eq!(text.parse::<RecordId>().unwrap(), record);
    assert_eq!(serde_json::to_value(record).unwrap(), text);
    assert!("not-a-uuid".parse::<RecordId>().is_err());
}
