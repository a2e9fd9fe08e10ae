//! Every way a session ends: both sides are told why, and the reason is recorded in the store
//! (read back from the SQLite file after a graceful stop, which also proves records are flushed).

mod support;

use cobrowse_store::{SessionQuery, SqliteStore, Store};
use serde_json::json;
use std::time::Duration;
use support::{active_session, Client, Server};

async fn recorded_reasons(server: &mut Server) -> Vec<String> {
    server.stop().await;
    let store = SqliteStore::open(&server.data_dir.path().join("cobrowse.db")).await.unwrap();
    let sessions = store.sessions(&SessionQuery::default()).await.unwrap();
    let mut reasons: Vec<String> =
        sessions.iter().map(|s| s.end_reason.map(|r| r.as_str().to_owned()).unwrap_or_default()).collect();
    reasons.sort();
    reasons
}

async fn ended(client: &mut Client) -> String {
    client.expect("ended").await["reason"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn either_side_can_exit() {
    let mut server = Server::start().await;
    let (_, mut customer, mut agent) = active_session(&server).await;
    customer.send_json("end", json!({})).await;
    assert_eq!(ended(&mut agent).await, "customer_exit");
    assert_eq!(ended(&mut customer).await, "customer_exit");

    let (_, mut customer, mut agent) = active_session(&server).await;
    agent.send_json("end", json!({})).await;
    assert_eq!(ended(&mut customer).await, "agent_exit");
    assert!(agent.until_closed().await.contains(&"ended".to_string()));

    assert_eq!(recorded_reasons(&mut server).await, vec!["agent_exit", "customer_exit"]);
}

#[tokio::test]
async fn timeouts_end_sessions() {
    let mut server = Server::start_with(|c| {
        c.timeouts.pending = Duration::from_millis(300);
    })
    .await;
    let (id, token) = server.create_session().await;
    let (mut customer, _) = Client::connect(&server, &id, &token, 0).await;
    assert_eq!(ended(&mut customer).await, "pending_timeout");
    // An ended session can never be joined or resumed.
    let bearer = server.sign_in("alice").await;
    let (status, body) = server.post_session(&bearer, &id, "join").await;
    assert_eq!((status, body["error"]["code"].as_str()), (410, Some("session_ended")));
    let mut again = Client::connect_raw(&server).await;
    again.send_text(&json!(["hello", 0, {"v": 1, "session": id, "token": token, "ack": 0}]).to_string()).await;
    assert_eq!(again.expect("error").await["code"], "session_ended");
    assert_eq!(recorded_reasons(&mut server).await, vec!["pending_timeout"]);

    let mut server = Server::start_with(|c| c.timeouts.inactivity = Duration::from_millis(1500)).await;
    let (_, mut customer, mut agent) = active_session(&server).await;
    assert_eq!(ended(&mut agent).await, "inactivity_timeout");
    assert_eq!(ended(&mut customer).await, "inactivity_timeout");
    assert_eq!(recorded_reasons(&mut server).await, vec!["inactivity_timeout"]);
}

#[tokio::test]
async fn participants_who_do_not_return_end_the_session() {
    let mut server = Server::start_with(|c| {
        c.timeouts.customer_reconnect_grace = Duration::from_millis(400);
        c.timeouts.agent_reconnect_grace = Duration::from_millis(400);
    })
    .await;
    let (_, customer, mut agent) = active_session(&server).await;
    customer.drop_connection().await;
    agent.expect_notice("customer_away").await;
    assert_eq!(ended(&mut agent).await, "customer_away");

    let (_, mut customer, agent) = active_session(&server).await;
    agent.drop_connection().await;
    customer.expect_notice("agent_away").await;
    assert_eq!(ended(&mut customer).await, "agent_away");

    assert_eq!(recorded_reasons(&mut server).await, vec!["agent_away", "customer_away"]);
}

#[tokio::test]
async fn a_customer_who_returns_within_the_grace_keeps_the_session() {
    let server = Server::start_with(|c| c.timeouts.customer_reconnect_grace = Duration::from_millis(800)).await;
    let (id, token) = server.create_session().await;
    let (customer, _) = Client::connect(&server, &id, &token, 0).await;
    customer.drop_connection().await;
    tokio::time::sleep(Duration::from_millis(400)).await;
    let (_customer, welcome) = Client::connect(&server, &id, &token, 0).await;
    assert_eq!(welcome["state"], "pending");
    tokio::time::sleep(Duration::from_millis(700)).await;
    let agent_token = server.join("alice", &id).await;
    let (_agent, welcome) = Client::connect(&server, &id, &agent_token, 0).await;
    assert_eq!(welcome["state"], "active", "the grace restarted with the return and did not end it");
}

#[tokio::test]
async fn shutdown_tells_everyone_and_flushes_records() {
    let mut server = Server::start().await;
    let (_, mut customer, mut agent) = active_session(&server).await;
    agent.send_json("mode_request", json!({})).await;
    customer.expect("mode_request").await;
    let answer = customer.send_json("mode_answer", json!({"approved": true})).await;
    customer.await_ack(answer).await;
    let stop = async {
        server.stop().await;
    };
    let watch = async {
        assert_eq!(ended(&mut customer).await, "server_shutdown");
        assert_eq!(ended(&mut agent).await, "server_shutdown");
    };
    tokio::join!(stop, watch);
    let store = SqliteStore::open(&server.data_dir.path().join("cobrowse.db")).await.unwrap();
    let summary = store.sessions(&SessionQuery::default()).await.unwrap().remove(0);
    let record = store.session(summary.record).await.unwrap().unwrap();
    assert_eq!(record.end_reason.map(|r| r.as_str()), Some("server_shutdown"));
    assert_eq!(record.agent_id.as_deref(), Some("alice"));
    assert_eq!(record.pages.len(), 1);
    assert_eq!(record.pages[0].url, "https://shop.example/");
    assert_eq!(record.modes.len(), 1, "the approved write mode is recorded");
    assert!(record.joined_at.is_some() && record.ended_at.is_some());
}

#[tokio::test]
async fn a_customer_that_keeps_breaking_the_protocol_ends_the_session() {
    let mut server = Server::start().await;
    let (_, mut customer, mut agent) = active_session(&server).await;
    for _ in 0..70 {
        customer.send_text("{not json").await;
    }
    assert_eq!(ended(&mut agent).await, "protocol_error");
    assert_eq!(recorded_reasons(&mut server).await, vec!["protocol_error"]);
}
