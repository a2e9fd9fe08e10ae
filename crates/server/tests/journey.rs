//! The session journey of the core issue, end to end against a real server on port 0:
//! create → join → relay → modes → dropped pointer-mode action → customer reload → agent
//! reconnect → second join refused → lagging viewer resynced.

mod support;

use cobrowse_protocol::{Frame, ModeAnswer, ModeRequest, ModeRevoke, Mutations, Node, NodeId, Op, Pointer};
use serde_json::json;
use support::{active_session, send_page, Client, Server};

#[tokio::test]
async fn customer_and_agent_share_a_page_and_modes() {
    let server = Server::start().await;
    let (_, mut customer, mut agent) = active_session(&server).await;

    // The agent receives the customer's page, then live changes.
    let snapshot = agent.expect("snapshot").await;
    assert_eq!(snapshot["url"], "https://shop.example/");
    customer
        .send(Frame::Mutations(Mutations { ops: vec![Op::Text { id: NodeId(6), text: "Welcome back".into() }] }))
        .await;
    let batch = agent.expect("mut").await;
    assert_eq!(batch["ops"][0], json!(["text", 6, "Welcome back"]));

    // Pointers go both ways; the agent's carries the agent's name.
    customer.send(Frame::Pointer(Pointer { x: 10.0, y: 20.0, id: None, by: None })).await;
    assert_eq!(agent.expect("pointer").await["x"], 10.0);
    agent.send(Frame::Pointer(Pointer { x: 5.0, y: 6.0, id: None, by: None })).await;
    let pointer = customer.expect("pointer").await;
    assert_eq!(pointer["by"]["name"], "alice agent");

    // An action in pointer mode is dropped with a clear error and never reaches the customer.
    agent.send_json("action", json!({"aid": 1, "do": "click", "id": 7, "x": 1, "y": 1})).await;
    let error = agent.expect("error").await;
    assert_eq!(error["code"], "not_in_write_mode");

    // Write mode only after the customer approves.
    agent.send(Frame::ModeRequest(ModeRequest::default())).await;
    let request = customer.expect("mode_request").await;
    assert_eq!(request["by"]["id"], "alice");
    customer.send(Frame::ModeAnswer(ModeAnswer { approved: true })).await;
    assert_eq!(agent.expect("mode").await["mode"], "write");
    assert_eq!(customer.expect("mode").await["mode"], "write");

    agent.send_json("action", json!({"aid": 2, "do": "input", "id": 7, "value": "hello"})).await;
    let action = customer.expect("action").await;
    assert_eq!(action, json!({"aid": 2, "do": "input", "id": 7, "value": "hello"}));

    // The customer takes control back at any time.
    customer.send(Frame::ModeRevoke(ModeRevoke {})).await;
    assert_eq!(agent.expect("mode").await["mode"], "pointer");
    agent.send_json("action", json!({"aid": 3, "do": "focus", "id": 7})).await;
    assert_eq!(agent.expect("error").await["code"], "not_in_write_mode");

    // A denial is a notice for the agent; the mode stays pointer.
    agent.send(Frame::ModeRequest(ModeRequest::default())).await;
    customer.expect("mode_request").await;
    customer.send(Frame::ModeAnswer(ModeAnswer { approved: false })).await;
    agent.expect_notice("mode_denied").await;
    assert!(!customer.seen.iter().any(|f| f.contains("\"aid\":3")), "the dropped action never reached the customer");
    assert!(
        !customer.seen.iter().any(|f| f.contains("agent_back")),
        "an agent's first connection is a join, not a return"
    );
}

#[tokio::test]
async fn write_mode_can_be_disabled_by_policy() {
    let server = Server::start_with(|c| c.policy.write_mode_allowed = false).await;
    let (id, token) = server.create_session().await;
    let (_customer, _) = Client::connect(&server, &id, &token, 0).await;
    let agent_token = server.join("alice", &id).await;
    let (mut agent, welcome) = Client::connect(&server, &id, &agent_token, 0).await;
    assert_eq!(welcome["write_mode_allowed"], false);
    agent.send(Frame::ModeRequest(ModeRequest::default())).await;
    assert_eq!(agent.expect("error").await["code"], "write_mode_disabled");
}

#[tokio::test]
async fn a_page_load_inside_the_site_continues_the_session() {
    let server = Server::start().await;
    let (id, token) = server.create_session().await;
    let (mut customer, _) = Client::connect(&server, &id, &token, 0).await;
    send_page(&mut customer, "https://shop.example/").await;
    let agent_token = server.join("alice", &id).await;
    let (mut agent, _) = Client::connect(&server, &id, &agent_token, 0).await;
    agent.expect("snapshot").await;

    // The page unloads: the SDK says where it goes, then the socket closes.
    customer.send_json("leaving", json!({"to": "page"})).await;
    let seen = customer.last_server_seq;
    customer.drop_connection().await;
    let away = agent.expect_notice("customer_away").await;
    assert_eq!(away["detail"], "page");

    // The next page says hello with the same token and sends itself.
    let (mut customer, welcome) = Client::connect(&server, &id, &token, seen).await;
    assert_eq!(welcome["state"], "active");
    assert!(welcome["ack"].as_u64().unwrap() >= 2, "the server remembers what it received");
    agent.expect_notice("customer_back").await;
    send_page(&mut customer, "https://shop.example/cart").await;
    assert_eq!(agent.expect("snapshot").await["url"], "https://shop.example/cart");
}

#[tokio::test]
async fn a_reconnecting_agent_gets_the_current_page_at_once() {
    let server = Server::start().await;
    let (id, mut customer, mut agent) = active_session(&server).await;
    agent.expect("snapshot").await;
    let agent_token = server.join("alice", &id).await; // same agent, same session: same token
    agent.drop_connection().await;
    customer.expect_notice("agent_away").await;

    // While the agent is gone the page changes.
    customer
        .send(Frame::Mutations(Mutations {
            ops: vec![Op::Add {
                parent: NodeId(4),
                before: None,
                node: Node::element(20, "p", &[], vec![Node::text(21, "new")]),
            }],
        }))
        .await;
    let input = customer.send_json("input", json!({"id": 7, "v": "typed"})).await;
    customer.await_ack(input).await;

    // A fresh workspace (nothing seen) gets the current page from the server's mirror.
    let (mut agent, _) = Client::connect(&server, &id, &agent_token, 0).await;
    customer.expect_notice("agent_back").await;
    let page = agent.expect("snapshot").await;
    assert!(page.to_string().contains("\"new\""), "changes made while away are in the page: {page}");
    assert!(page.to_string().contains("\"typed\""), "form state is part of the page: {page}");
}

#[tokio::test]
async fn a_reconnect_replays_exactly_what_was_missed() {
    let server = Server::start().await;
    let (_, mut customer, mut agent) = active_session(&server).await;
    agent.expect("snapshot").await;
    for i in 0..5 {
        customer.send(Frame::Pointer(Pointer { x: i as f64, y: 0.0, id: None, by: None })).await;
    }
    for _ in 0..5 {
        agent.expect("pointer").await;
    }
    let seen_before = agent.last_server_seq;
    // Resend of frames the server already has: harmless duplicates, not applied twice.
    customer.send_text(&Frame::Pointer(Pointer { x: 99.0, y: 0.0, id: None, by: None }).encode(2)).await;
    customer.send(Frame::Pointer(Pointer { x: 100.0, y: 0.0, id: None, by: None })).await;
    let next = agent.expect("pointer").await;
    assert_eq!(next["x"], 100.0, "the duplicate was dropped");
    assert_eq!(agent.last_server_seq, seen_before + 1);
}

#[tokio::test]
async fn an_agent_holds_one_session_at_a_time() {
    let server = Server::start().await;
    let (first, _) = server.create_session().await;
    let (second, _) = server.create_session().await;
    let bearer = server.sign_in("alice").await;
    let (status, body) = server.post_session(&bearer, &first, "join").await;
    assert_eq!(status, 200);
    let token = body["token"].clone();
    let (status, body) = server.post_session(&bearer, &second, "join").await;
    assert_eq!(status, 409);
    assert_eq!(body["error"]["code"], "agent_busy");
    // Joining the same session again is a reconnect, not a second session.
    let (status, body) = server.post_session(&bearer, &first, "join").await;
    assert_eq!(status, 200);
    assert_eq!(body["token"], token);
    // Another agent cannot take a session that has one.
    let bob = server.sign_in("bob").await;
    let (status, body) = server.post_session(&bob, &first, "join").await;
    assert_eq!((status, body["error"]["code"].as_str()), (409, Some("session_taken")));
}

#[tokio::test]
async fn the_agent_is_free_again_once_the_session_ends() {
    let server = Server::start().await;
    let (id, mut customer, _agent) = active_session(&server).await;
    customer.send_json("end", json!({})).await;
    customer.until_closed().await;
    let (other, _) = server.create_session().await;
    let bearer = server.sign_in("alice").await;
    let (status, _) = server.post_session(&bearer, &other, "join").await;
    assert_eq!(status, 200);
    let (status, body) = server.post_session(&bearer, &id, "join").await;
    assert_eq!((status, body["error"]["code"].as_str()), (410, Some("session_ended")));
}

#[tokio::test]
async fn observers_receive_the_same_page_and_cannot_act() {
    let server = Server::start().await;
    let (id, mut customer, mut agent) = active_session(&server).await;
    agent.expect("snapshot").await;
    let carol = server.sign_in("carol").await;
    let (status, body) = server.post_session(&carol, &id, "watch").await;
    assert_eq!(status, 200, "{body}");
    let (mut observer, welcome) = Client::connect(&server, &id, body["token"].as_str().unwrap(), 0).await;
    assert_eq!(welcome["role"], "observer");
    observer.expect("snapshot").await;
    customer.expect_notice("observer_joined").await;

    customer.send(Frame::Mutations(Mutations { ops: vec![Op::Text { id: NodeId(6), text: "fan-out".into() }] })).await;
    assert_eq!(agent.expect("mut").await["ops"][0][2], "fan-out");
    assert_eq!(observer.expect("mut").await["ops"][0][2], "fan-out");

    observer.send(Frame::Pointer(Pointer { x: 1.0, y: 1.0, id: None, by: None })).await;
    assert_eq!(observer.expect("error").await["code"], "wrong_role");
    observer.send(Frame::ModeRequest(ModeRequest::default())).await;
    assert_eq!(observer.expect("error").await["code"], "wrong_role");

    // A non-supervisor may not watch.
    let bob = server.sign_in("bob").await;
    let (status, _) = server.post_session(&bob, &id, "watch").await;
    assert_eq!(status, 403);
}
