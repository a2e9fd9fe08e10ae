//! Chats, calls and their coupling with co-browse, against a real server: the chat protocol,
//! the queue and assignment, the telephony API with duplicate and out-of-order events.

mod support;

use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use support::{Client, Server, WAIT};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

const TELEPHONY_TOKEN: &str = "telephony-secret-0123456789";

async fn server() -> Server {
    Server::start_with(|c| {
        c.policy.standalone_sessions = false;
        c.telephony.tokens = vec![TELEPHONY_TOKEN.into()];
        c.chat.max_message_chars = 100;
        c.chat.max_chats_per_agent = 2;
    })
    .await
}

/// A chat-channel socket (customer widget or agent desk).
struct Chat {
    socket: WebSocketStream<MaybeTlsStream<TcpStream>>,
}

impl Chat {
    async fn customer(server: &Server, chat: &str, token: &str, last: u64) -> Chat {
        let url = server.ws.replace("/ws/v1", "/ws/v1/chat");
        let (socket, _) = tokio_tungstenite::connect_async(url).await.unwrap();
        let mut chat_socket = Chat { socket };
        chat_socket.send(json!(["chat_hello", 0, {"v": 1, "chat": chat, "token": token, "last": last}])).await;
        chat_socket
    }

    async fn desk(server: &Server, user: &str) -> Chat {
        let bearer = server.sign_in(user).await;
        let mut request = server.ws.replace("/ws/v1", "/ws/v1/desk").into_client_request().unwrap();
        request.headers_mut().insert("authorization", format!("Bearer {bearer}").parse().unwrap());
        let (socket, _) = tokio_tungstenite::connect_async(request).await.unwrap();
        let mut desk = Chat { socket };
        desk.send(json!(["desk_hello", 0, {"v": 1}])).await;
        desk.expect("desk").await;
        desk
    }

    async fn send(&mut self, frame: Value) {
        self.socket.send(Message::Text(frame.to_string().into())).await.unwrap();
    }

    async fn next(&mut self) -> Option<(String, Value)> {
        loop {
            match tokio::time::timeout(WAIT, self.socket.next()).await.expect("a frame arrives in time")? {
                Ok(Message::Text(text)) => {
                    let value: Value = serde_json::from_str(&text).unwrap();
                    if value[0] == "hb" {
                        continue;
                    }
                    return Some((value[0].as_str().unwrap().to_owned(), value[2].clone()));
                }
                Ok(Message::Close(_)) | Err(_) => return None,
                Ok(_) => continue,
            }
        }
    }

    async fn expect(&mut self, tag: &str) -> Value {
        loop {
            match self.next().await {
                Some((t, body)) if t == tag => return body,
                Some(_) => continue,
                None => panic!("socket closed while waiting for {tag}"),
            }
        }
    }

    /// Waits for a message whose text is `text`.
    async fn expect_text(&mut self, text: &str) -> Value {
        loop {
            let message = self.expect("msg").await;
            if message["text"] == text {
                return message;
            }
        }
    }
}

async fn start_chat(server: &Server, name: &str, message: &str) -> (String, String) {
    let response = server
        .http
        .post(format!("{}/api/v1/chats", server.base))
        .json(&json!({"name": name, "message": message}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let body: Value = response.json().await.unwrap();
    (body["id"].as_str().unwrap().to_owned(), body["token"].as_str().unwrap().to_owned())
}

async fn accepted_chat(server: &Server, agent: &str) -> (String, String, Chat, Chat) {
    let (chat, token) = start_chat(server, "Ana", "I can't find the form").await;
    let mut customer = Chat::customer(server, &chat, &token, 0).await;
    customer.expect_text("I can't find the form").await;
    let mut desk = Chat::desk(server, agent).await;
    desk.send(json!(["presence", 0, {"available": true}])).await;
    desk.send(json!(["accept", 0, {"chat": chat}])).await;
    let state = customer.expect("chat_state").await;
    let state = if state["chat"]["state"] == "active" { state } else { customer.expect("chat_state").await };
    assert_eq!(state["chat"]["state"], "active");
    (chat, token, customer, desk)
}

async fn create_session(server: &Server, body: Value) -> (u16, Value) {
    let response = server.http.post(format!("{}/api/v1/sessions", server.base)).json(&body).send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

async fn call_event(server: &Server, token: &str, body: Value) -> (u16, Value) {
    let response = server
        .http
        .post(format!("{}/api/v1/telephony/events", server.base))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn messages_flow_both_ways_and_survive_reconnects_without_loss_or_duplicates() {
    let server = server().await;
    let (chat, token, mut customer, mut desk) = accepted_chat(&server, "alice").await;
    desk.expect_text("I can't find the form").await;
    customer.expect_text("alice agent joined the chat").await;

    desk.send(json!(["say", 0, {"chat": chat, "cid": "a-1", "text": "Happy to help"}])).await;
    let reply = customer.expect_text("Happy to help").await;
    assert_eq!(reply["from"], "agent");
    customer.send(json!(["say", 0, {"cid": "c-1", "text": "Thanks"}])).await;
    let echo = customer.expect_text("Thanks").await;
    assert_eq!(echo["cid"], "c-1", "the sender learns its message arrived");
    let last_seen = echo["id"].as_u64().unwrap();
    desk.expect_text("Thanks").await;

    // The page reloads: the widget reconnects with the last message it has and resends its
    // unconfirmed message; nothing is lost or doubled.
    drop(customer);
    desk.send(json!(["say", 0, {"chat": chat, "cid": "a-2", "text": "Are you there?"}])).await;
    let mut customer = Chat::customer(&server, &chat, &token, last_seen).await;
    customer.send(json!(["say", 0, {"cid": "c-1", "text": "Thanks"}])).await;
    let replayed = customer.expect("msg").await;
    assert_eq!(replayed["text"], "Are you there?", "only messages after the last seen are replayed");
    customer.send(json!(["say", 0, {"cid": "c-2", "text": "Yes"}])).await;
    customer.expect_text("Yes").await;

    // The transcript, as the agent reads it, has every message exactly once.
    let bearer = server.sign_in("alice").await;
    let mut texts = Vec::new();
    for _ in 0..50 {
        let transcript: Value = server
            .http
            .get(format!("{}/api/v1/chats/{chat}/transcript", server.base))
            .bearer_auth(&bearer)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        texts =
            transcript["messages"].as_array().unwrap().iter().map(|m| m["text"].as_str().unwrap().to_owned()).collect();
        if texts.len() >= 6 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(
        texts,
        ["I can't find the form", "alice agent joined the chat", "Happy to help", "Thanks", "Are you there?", "Yes"]
    );
    let bob = server.sign_in("bob").await;
    let status = server
        .http
        .get(format!("{}/api/v1/chats/{chat}/transcript", server.base))
        .bearer_auth(&bob)
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, 403, "another agent may not read it");
}

#[tokio::test]
async fn the_queue_is_oldest_first_and_the_first_accept_wins() {
    let server = server().await;
    let (first, _) = start_chat(&server, "Ana", "hello").await;
    let (second, _) = start_chat(&server, "Ben", "hi").await;
    let mut alice = Chat::desk(&server, "alice").await;
    let mut bob = Chat::desk(&server, "bob").await;
    alice.send(json!(["presence", 0, {"available": true}])).await;
    bob.send(json!(["presence", 0, {"available": true}])).await;
    let queue = alice.expect("queue").await;
    let waiting: Vec<&str> = queue["waiting"].as_array().unwrap().iter().map(|c| c["chat"].as_str().unwrap()).collect();
    assert_eq!(waiting, [first.as_str(), second.as_str()]);
    assert_eq!(queue["waiting"][0]["preview"], "hello");

    alice.send(json!(["accept", 0, {"chat": first}])).await;
    alice.expect("chat_state").await;
    bob.send(json!(["accept", 0, {"chat": first}])).await;
    let refused = bob.expect("error").await;
    assert_eq!(refused["code"], "chat_taken");
    bob.send(json!(["accept", 0, {"chat": "chat-unknown"}])).await;
    assert_eq!(bob.expect("error").await["code"], "unknown_interaction");
    // Agents handle several chats, up to the cap (2 here).
    alice.send(json!(["accept", 0, {"chat": second}])).await;
    alice.expect("chat_state").await;
    let (third, _) = start_chat(&server, "Cai", "hey").await;
    alice.send(json!(["accept", 0, {"chat": third}])).await;
    assert_eq!(alice.expect("error").await["code"], "limit_exceeded");
}

#[tokio::test]
async fn bad_chat_input_is_refused_plainly() {
    let server = server().await;
    let (chat, token, mut customer, _desk) = accepted_chat(&server, "alice").await;
    customer.send(json!(["say", 0, {"cid": "x", "text": "a".repeat(101)}])).await;
    assert_eq!(customer.expect("error").await["code"], "limit_exceeded");
    customer.send(json!(["say", 0, {"cid": "y", "text": "   "}])).await;
    assert_eq!(customer.expect("error").await["code"], "invalid_request");
    customer.send(json!(["accept", 0, {"chat": chat}])).await;
    assert_eq!(customer.expect("error").await["code"], "wrong_role");
    let mut intruder = Chat::customer(&server, &chat, "wrong-token", 0).await;
    let error = intruder.expect("error").await;
    assert_eq!((error["code"].as_str(), error["fatal"].as_bool()), (Some("unauthorized"), Some(true)));
    let _ = token;
    let response =
        server.http.post(format!("{}/api/v1/chats", server.base)).json(&json!({"name": ""})).send().await.unwrap();
    assert_eq!(response.status(), 400);
}

#[tokio::test]
async fn co_browse_from_a_chat_opens_for_its_agent_and_ends_with_the_chat() {
    let server = server().await;
    let (chat, token, mut customer, mut desk) = accepted_chat(&server, "alice").await;

    // A queued chat cannot carry co-browse yet; an active one can.
    let (queued, queued_token) = start_chat(&server, "Zed", "waiting").await;
    let (status, body) = create_session(&server, json!({"chat": {"id": queued, "token": queued_token}})).await;
    assert_eq!((status, body["error"]["code"].as_str()), (422, Some("interaction_required")));
    let (status, body) = create_session(&server, json!({"chat": {"id": chat, "token": token}})).await;
    assert_eq!(status, 201, "{body}");
    let session = body["id"].as_str().unwrap().to_owned();
    let sharer_token = body["token"].as_str().unwrap().to_owned();

    // The agent's workspace is told to open it, and the transcript marks the start.
    let open = desk.expect("cobrowse").await;
    assert_eq!((open["chat"].as_str(), open["session"].as_str()), (Some(chat.as_str()), Some(session.as_str())));
    customer.expect_text(&format!("{{start:{session}}}")).await;

    // Only the chat's agent may join it.
    let bob = server.sign_in("bob").await;
    let (status, body) = server.post_session(&bob, &session, "join").await;
    assert_eq!((status, body["error"]["code"].as_str()), (409, Some("session_taken")));
    let agent_token = server.join("alice", &session).await;
    let (mut agent, _) = Client::connect(&server, &session, &agent_token, 0).await;
    let (mut sharer, _) = Client::connect(&server, &session, &sharer_token, 0).await;

    // Ending the chat ends the co-browse session; both co-browse sides are told why.
    customer.send(json!(["end_chat", 0, {}])).await;
    assert_eq!(agent.expect("ended").await["reason"], "interaction_ended");
    assert_eq!(sharer.expect("ended").await["reason"], "interaction_ended");
    let state = desk.expect("chat_state").await;
    assert_eq!(state["chat"]["state"], "ended");
}

#[tokio::test]
async fn ending_co_browse_leaves_the_chat_going() {
    let server = server().await;
    let (chat, token, mut customer, mut desk) = accepted_chat(&server, "alice").await;
    let (_, body) = create_session(&server, json!({"chat": {"id": chat, "token": token}})).await;
    let session = body["id"].as_str().unwrap().to_owned();
    let sharer_token = body["token"].as_str().unwrap().to_owned();
    desk.expect("cobrowse").await;
    let (mut sharer, _) = Client::connect(&server, &session, &sharer_token, 0).await;
    sharer.send_json("end", json!({})).await;
    assert_eq!(sharer.expect("ended").await["reason"], "customer_exit");
    customer.expect_text("Co-browse ended; the chat goes on.").await;
    loop {
        let state = desk.expect("chat_state").await;
        if state["chat"]["chat"] == chat.as_str() && state["chat"].get("cobrowse").is_none() {
            break; // the desk learns the chat has no co-browse session any more
        }
    }
    desk.send(json!(["say", 0, {"chat": chat, "cid": "after", "text": "Still here"}])).await;
    customer.expect_text("Still here").await;
}

#[tokio::test]
async fn the_telephony_api_is_authenticated_idempotent_and_order_aware() {
    let server = server().await;
    let (status, _) = call_event(
        &server,
        "wrong-token",
        json!({"event_id": "e0", "call": "c1", "type": "started", "agent": "alice"}),
    )
    .await;
    assert_eq!(status, 401);
    let (status, body) = call_event(
        &server,
        TELEPHONY_TOKEN,
        json!({"event_id": "e1", "call": "c1", "type": "started", "agent": "zoe"}),
    )
    .await;
    assert_eq!((status, body["error"]["code"].as_str()), (404, Some("unknown_agent")));
    let (status, body) =
        call_event(&server, TELEPHONY_TOKEN, json!({"event_id": "e2", "call": "c9", "type": "ended", "at": 10})).await;
    assert_eq!((status, body["error"]["code"].as_str()), (404, Some("unknown_interaction")));

    let start =
        json!({"event_id": "e3", "call": "c1", "type": "started", "agent": "alice", "caller": "+15550100", "at": 1000});
    let (status, body) = call_event(&server, TELEPHONY_TOKEN, start.clone()).await;
    assert_eq!((status, body["outcome"].as_str(), body["agent_online"].as_bool()), (200, Some("applied"), Some(false)));
    let (_, body) = call_event(&server, TELEPHONY_TOKEN, start).await;
    assert_eq!(body["outcome"], "duplicate");
    // An event older than what the call already reflects changes nothing.
    let (_, body) =
        call_event(&server, TELEPHONY_TOKEN, json!({"event_id": "e4", "call": "c1", "type": "conferenced", "at": 500}))
            .await;
    assert_eq!(body["outcome"], "stale");
    let (_, body) =
        call_event(&server, TELEPHONY_TOKEN, json!({"event_id": "e5", "call": "c1", "type": "ended", "at": 2000}))
            .await;
    assert_eq!(body["outcome"], "applied");
    // A start arriving after the end is recognized as late.
    let (_, body) = call_event(
        &server,
        TELEPHONY_TOKEN,
        json!({"event_id": "e6", "call": "c1", "type": "started", "agent": "alice", "at": 900}),
    )
    .await;
    assert_eq!(body["outcome"], "stale");
    let (status, _) =
        call_event(&server, TELEPHONY_TOKEN, json!({"event_id": "", "call": "c1", "type": "ended"})).await;
    assert_eq!(status, 400);
    let (status, _) =
        call_event(&server, TELEPHONY_TOKEN, json!({"event_id": "e7", "call": "c1", "type": "rang"})).await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn a_voice_session_is_joined_by_the_agent_on_the_call_and_ends_with_it() {
    let server = server().await;
    let (status, body) = create_session(&server, json!({"channel": "voice"})).await;
    assert_eq!(status, 201);
    let session = body["id"].as_str().unwrap().to_owned();
    let sharer_token = body["token"].as_str().unwrap().to_owned();
    let (mut sharer, _) = Client::connect(&server, &session, &sharer_token, 0).await;

    let alice = server.sign_in("alice").await;
    let (status, body) = server.post_session(&alice, &session, "join").await;
    assert_eq!((status, body["error"]["code"].as_str()), (422, Some("interaction_required")), "alice is on no call");

    let mut desk = Chat::desk(&server, "alice").await;
    call_event(
        &server,
        TELEPHONY_TOKEN,
        json!({"event_id": "v1", "call": "call-7", "type": "started", "agent": "alice", "caller": "+15550199"}),
    )
    .await;
    let call = desk.expect("call").await;
    assert_eq!((call["call"].as_str(), call["active"].as_bool()), (Some("call-7"), Some(true)));
    let (status, body) = server.post_session(&alice, &session, "join").await;
    assert_eq!(status, 200, "{body}");
    sharer.expect_notice("agent_joined").await;
    let linked = desk.expect("call").await;
    assert_eq!(linked["cobrowse"], session.as_str());

    // A transfer moves the call on and ends co-browse; the customer is told why.
    let (_, body) = call_event(
        &server,
        TELEPHONY_TOKEN,
        json!({"event_id": "v2", "call": "call-7", "type": "transferred", "agent": "bob"}),
    )
    .await;
    assert_eq!(body["ended_cobrowse"], session.as_str());
    assert_eq!(sharer.expect("ended").await["reason"], "interaction_ended");
}

#[tokio::test]
async fn the_demo_simulates_calls_only_in_demo_mode() {
    let server = server().await;
    let alice = server.sign_in("alice").await;
    let response = server
        .http
        .post(format!("{}/api/v1/demo/calls", server.base))
        .bearer_auth(&alice)
        .json(&json!({"action": "start"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);

    let demo = Server::start_with(|c| c.demo_site = true).await;
    let alice = demo.sign_in("alice").await;
    let post = |action: &'static str| {
        demo.http
            .post(format!("{}/api/v1/demo/calls", demo.base))
            .bearer_auth(&alice)
            .json(&json!({"action": action}))
            .send()
    };
    assert_eq!(post("start").await.unwrap().status(), 200);
    assert_eq!(post("start").await.unwrap().status(), 400, "one call at a time");
    assert_eq!(post("end").await.unwrap().status(), 200);
    assert_eq!(post("end").await.unwrap().status(), 400);
}
