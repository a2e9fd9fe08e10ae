//! Bad input gets a stable error code and a plain message; nothing panics; other sessions go on.

mod support;

use cobrowse_protocol::{Frame, Mutations, Node, NodeId, Op};
use serde_json::json;
use support::{active_session, active_session_for, Client, Server};

async fn fatal_for_hello(server: &Server, text: &str) -> serde_json::Value {
    let mut client = Client::connect_raw(server).await;
    client.send_text(text).await;
    let error = client.expect("error").await;
    assert_eq!(error["fatal"], true, "{error}");
    assert!(client.next().await.is_none(), "the socket closes after a fatal error");
    error
}

#[tokio::test]
async fn handshakes_are_checked() {
    let server = Server::start().await;
    let (id, token) = server.create_session().await;
    let cases = [
        (json!(["hello", 0, {"v": 2, "session": id, "token": token}]).to_string(), "version_mismatch"),
        (json!(["pointer", 1, {"x": 1, "y": 1}]).to_string(), "hello_required"),
        ("hello".to_string(), "bad_frame"),
        (json!(["hello", 0, {"v": 1, "session": id, "token": "wrong"}]).to_string(), "unauthorized"),
        (json!(["hello", 0, {"v": 1, "session": "999999999", "token": token}]).to_string(), "session_not_found"),
        (json!(["hello", 0, {"v": 1, "session": "12345", "token": token}]).to_string(), "bad_frame"),
        (json!(["greet", 0, {}]).to_string(), "unknown_frame"),
    ];
    for (text, code) in cases {
        let error = fatal_for_hello(&server, &text).await;
        assert_eq!(error["code"], code, "{text}");
        assert!(!error["message"].as_str().unwrap().is_empty());
    }
    let version =
        fatal_for_hello(&server, &json!(["hello", 0, {"v": 7, "session": id, "token": token}]).to_string()).await;
    assert!(version["message"].as_str().unwrap().contains("version 1"), "the message says what the server speaks");
}

/// Two active sessions whose agents have their page: one to misbehave in, one to stay undisturbed.
async fn two_sessions(server: &Server) -> [Client; 4] {
    let (_, customer, mut agent) = active_session(server).await;
    let (_, other_customer, mut other_agent) = active_session_for(server, "bob").await;
    agent.expect("snapshot").await;
    other_agent.expect("snapshot").await;
    [customer, agent, other_customer, other_agent]
}

#[tokio::test]
async fn bad_frames_are_refused_and_nothing_else_is_disturbed() {
    let server = Server::start_with(|c| c.limits.max_frame_bytes = 64 * 1024).await;
    let [mut customer, mut agent, mut other_customer, mut other_agent] = two_sessions(&server).await;

    let bad: Vec<(String, &str)> = vec![
        ("{\"oops\"".into(), "bad_frame"),
        (json!(["teleport", 5, {}]).to_string(), "unknown_frame"),
        (json!(["pointer", 5, {"x": "left"}]).to_string(), "bad_frame"),
        (json!(["mut", 5, {"ops": [["explode", 1]]}]).to_string(), "bad_frame"),
        (format!("[\"nav\",5,{{\"url\":\"{}\"}}]", "u".repeat(70 * 1024)), "frame_too_large"),
    ];
    for (text, code) in bad {
        customer.send_text(&text).await;
        let error = customer.expect("error").await;
        assert_eq!(error["code"], code);
        assert_eq!(error["fatal"], false);
    }
    // Wrong role: a customer may not send agent actions; an agent may not send the page.
    customer.send_json("action", json!({"aid": 1, "do": "focus", "id": 7})).await;
    assert_eq!(customer.expect("error").await["code"], "wrong_role");
    agent.send(Frame::Mutations(Mutations { ops: vec![] })).await;
    assert_eq!(agent.expect("error").await["code"], "wrong_role");

    // Ops on unknown nodes are refused and the customer is asked for a fresh page.
    customer.send(Frame::Mutations(Mutations { ops: vec![Op::Remove { id: NodeId(4242) }] })).await;
    let (mut resync, mut error) = (None, None);
    while resync.is_none() || error.is_none() {
        match customer.next().await.unwrap() {
            (tag, _, body) if tag == "resync" => resync = Some(body),
            (tag, _, body) if tag == "error" => error = Some(body),
            _ => {}
        }
    }
    assert!(!resync.unwrap()["reason"].as_str().unwrap().is_empty());
    assert_eq!(error.unwrap()["code"], "mirror_rejected");
    // The session goes on: a new snapshot repairs it.
    support::send_page(&mut customer, "https://shop.example/fixed").await;
    let mut page = agent.expect("snapshot").await;
    while page["url"] != "https://shop.example/fixed" {
        page = agent.expect("snapshot").await;
    }

    // The other session saw none of it and still works.
    other_customer
        .send(Frame::Mutations(Mutations { ops: vec![Op::Text { id: NodeId(6), text: "still fine".into() }] }))
        .await;
    assert_eq!(other_agent.expect("mut").await["ops"][0][2], "still fine");
    assert!(!other_agent.seen.iter().any(|f| f.contains("error")));
}

#[tokio::test]
async fn executable_content_never_reaches_the_agent() {
    let server = Server::start().await;
    let (_, mut customer, mut agent) = active_session(&server).await;
    agent.expect("snapshot").await;
    let hostile = Node::element(
        30,
        "div",
        &[("onclick", "steal()")],
        vec![
            Node::element(31, "script", &[("src", "https://evil.example/x.js")], vec![Node::text(32, "steal()")]),
            Node::element(33, "a", &[("href", " JaVaScript:steal()")], vec![]),
            Node::element(34, "iframe", &[("srcdoc", "<script>steal()</script>")], vec![]),
            Node::element(35, "meta", &[("http-equiv", "refresh"), ("content", "0;url=https://evil.example")], vec![]),
            Node::element(36, "base", &[("href", "https://evil.example/")], vec![]),
        ],
    );
    customer
        .send(Frame::Mutations(Mutations { ops: vec![Op::Add { parent: NodeId(4), before: None, node: hostile }] }))
        .await;
    customer
        .send(Frame::Mutations(Mutations {
            ops: vec![Op::Attr { id: NodeId(5), name: "onmouseover".into(), value: Some("steal()".into()) }],
        }))
        .await;
    let first = agent.expect("mut").await.to_string();
    let second = agent.expect("mut").await.to_string();
    for text in [&first, &second] {
        for forbidden in
            ["steal()", "evil.example", "javascript:", "JaVaScript", "onclick", "srcdoc", "refresh", "onmouseover"]
        {
            assert!(!text.contains(forbidden), "{forbidden} reached the agent: {text}");
        }
    }
    assert!(first.contains("\"script\""), "the script element stays as an inert node so later ops still resolve");
}

#[tokio::test]
async fn an_agent_token_from_the_site_origin_is_refused_without_disturbing_the_agent() {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let server = Server::start_with(|c| c.policy.site_origins = vec!["https://shop.example".into()]).await;
    let (id, token) = server.create_session().await;
    let (_customer, _) = Client::connect(&server, &id, &token, 0).await;
    let agent_token = server.join("alice", &id).await;
    let (mut agent, _) = Client::connect(&server, &id, &agent_token, 0).await;

    // A page on the company's site that got hold of the agent's token cannot act as the agent.
    let mut request = server.ws.as_str().into_client_request().unwrap();
    request.headers_mut().insert("origin", "https://shop.example".parse().unwrap());
    let (mut socket, _) = tokio_tungstenite::connect_async(request).await.unwrap();
    use futures_util::{SinkExt, StreamExt};
    let hello = json!(["hello", 0, {"v": 1, "session": id, "token": agent_token}]).to_string();
    socket.send(tokio_tungstenite::tungstenite::Message::Text(hello.into())).await.unwrap();
    let reply = socket.next().await.unwrap().unwrap().into_text().unwrap();
    assert!(reply.contains("origin_not_allowed"), "{reply}");

    // The real agent's socket was never replaced.
    agent.send_json("mode_request", json!({})).await;
    agent.send_json("end", json!({})).await;
    let tags = agent.until_closed().await;
    assert!(tags.contains(&"ended".to_string()), "{tags:?}");
    assert!(!agent.seen.iter().any(|f| f.contains("superseded")));

    // A foreign origin is refused at the upgrade itself.
    let mut request = server.ws.as_str().into_client_request().unwrap();
    request.headers_mut().insert("origin", "https://evil.example".parse().unwrap());
    assert!(tokio_tungstenite::connect_async(request).await.is_err());
}

#[tokio::test]
async fn a_frame_far_beyond_the_limit_closes_only_its_connection_and_says_why() {
    let server = Server::start_with(|c| c.limits.max_frame_bytes = 16 * 1024).await;
    let [mut customer, _agent, mut other_customer, mut other_agent] = two_sessions(&server).await;

    // Beyond twice the limit the socket stops reading at the frame's header.
    customer.send_text(&format!("[\"nav\",5,{{\"url\":\"{}\"}}]", "u".repeat(40 * 1024))).await;
    let error = customer.expect("error").await;
    assert_eq!(error["code"], "frame_too_large");
    assert_eq!(error["fatal"], true);
    assert!(customer.next().await.is_none(), "the connection closes after saying why");

    other_customer
        .send(Frame::Mutations(Mutations { ops: vec![Op::Text { id: NodeId(6), text: "unaffected".into() }] }))
        .await;
    assert_eq!(other_agent.expect("mut").await["ops"][0][2], "unaffected");
}
