//! A real server on port 0 and real HTTP/WebSocket clients for the integration tests.
#![allow(dead_code)]

use cobrowse_protocol::{Frame, Hello, Node, Snapshot, Viewport, PROTOCOL_VERSION};
use cobrowse_server::config::{AgentAccount, Config};
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use std::sync::OnceLock;
use std::time::Duration;
use tokio::net::TcpStream;
use tokio::sync::oneshot;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// How long a test waits for an expected frame before failing.
pub const WAIT: Duration = Duration::from_secs(5);

fn password_hash() -> String {
    static HASH: OnceLock<String> = OnceLock::new();
    HASH.get_or_init(|| cobrowse_server::auth::hash_password("secret")).clone()
}

/// A configuration with three agents (carol is a supervisor) and a fresh data directory.
pub fn config(data_dir: &std::path::Path) -> Config {
    let mut config = Config { data_dir: data_dir.to_owned(), ..Config::default() };
    config.agents = ["alice", "bob", "carol"]
        .iter()
        .map(|id| AgentAccount {
            id: (*id).into(),
            name: format!("{id} agent"),
            password_hash: password_hash(),
            supervisor: *id == "carol",
        })
        .collect();
    config.policy.observers_allowed = true;
    // Most tests exercise co-browse alone; the interactions tests turn this off.
    config.policy.standalone_sessions = true;
    config
}

/// A running server.
pub struct Server {
    pub base: String,
    pub ws: String,
    pub http: reqwest::Client,
    stop: Option<oneshot::Sender<()>>,
    done: Option<tokio::task::JoinHandle<()>>,
    pub data_dir: tempfile::TempDir,
}

impl Server {
    /// Starts a server with the default test configuration.
    pub async fn start() -> Server {
        Self::start_with(|_| {}).await
    }

    /// Starts a server after `adjust` changed its configuration.
    pub async fn start_with(adjust: impl FnOnce(&mut Config)) -> Server {
        let data_dir = tempfile::tempdir().unwrap();
        let mut config = config(data_dir.path());
        adjust(&mut config);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let (stop, stopped) = oneshot::channel::<()>();
        let done = tokio::spawn(async move {
            cobrowse_server::run(listener, config, async {
                let _ = stopped.await;
            })
            .await
            .unwrap();
        });
        Server {
            base: format!("http://{address}"),
            ws: format!("ws://{address}/ws/v1"),
            http: reqwest::Client::new(),
            stop: Some(stop),
            done: Some(done),
            data_dir,
        }
    }

    /// Stops the server and waits until it has flushed its records.
    pub async fn stop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(done) = self.done.take() {
            tokio::time::timeout(Duration::from_secs(20), done).await.expect("server stops in time").unwrap();
        }
    }

    /// `POST /api/v1/sessions`; returns (id, token).
    pub async fn create_session(&self) -> (String, String) {
        let response = self.http.post(format!("{}/api/v1/sessions", self.base)).json(&json!({})).send().await.unwrap();
        assert_eq!(response.status(), 201);
        let body: Value = response.json().await.unwrap();
        (body["id"].as_str().unwrap().to_owned(), body["token"].as_str().unwrap().to_owned())
    }

    /// Signs in `user`; returns the bearer token.
    pub async fn sign_in(&self, user: &str) -> String {
        let response = self
            .http
            .post(format!("{}/api/v1/auth/login", self.base))
            .json(&json!({"username": user, "password": "secret"}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        let body: Value = response.json().await.unwrap();
        body["token"].as_str().unwrap().to_owned()
    }

    /// `POST /api/v1/sessions/{id}/{verb}` as the bearer; returns (status, body).
    pub async fn post_session(&self, bearer: &str, id: &str, verb: &str) -> (u16, Value) {
        let response = self
            .http
            .post(format!("{}/api/v1/sessions/{id}/{verb}", self.base))
            .bearer_auth(bearer)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// Joins `id` as `user`; returns the participant token.
    pub async fn join(&self, user: &str, id: &str) -> String {
        let bearer = self.sign_in(user).await;
        let (status, body) = self.post_session(&bearer, id, "join").await;
        assert_eq!(status, 200, "{body}");
        body["token"].as_str().unwrap().to_owned()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// A WebSocket client speaking protocol v1.
pub struct Client {
    socket: WebSocketStream<MaybeTlsStream<TcpStream>>,
    next_seq: u64,
    /// Every frame received so far, as text.
    pub seen: Vec<String>,
    /// The highest sequenced frame received.
    pub last_server_seq: u64,
    /// The frames of `seen` that arrived compressed, inflated, with their size on the wire.
    pub compressed: Vec<(String, usize)>,
}

impl Client {
    /// Connects without saying hello.
    pub async fn connect_raw(server: &Server) -> Client {
        let (socket, _) = tokio_tungstenite::connect_async(&server.ws).await.unwrap();
        Client { socket, next_seq: 1, seen: Vec::new(), last_server_seq: 0, compressed: Vec::new() }
    }

    /// Connects and says hello; returns the client once `welcome` arrived, with the welcome body.
    pub async fn connect(server: &Server, session: &str, token: &str, ack: u64) -> (Client, Value) {
        Self::connect_offering(server, session, token, ack, &[]).await
    }

    /// Like [`Client::connect`], offering the compressions named in `z`.
    pub async fn connect_offering(
        server: &Server,
        session: &str,
        token: &str,
        ack: u64,
        z: &[&str],
    ) -> (Client, Value) {
        let mut client = Self::connect_raw(server).await;
        let z = z.iter().map(|name| (*name).to_owned()).collect();
        let hello = Hello { v: PROTOCOL_VERSION, session: session.parse().unwrap(), token: token.into(), ack, z };
        client.send_text(&Frame::Hello(hello).encode(0)).await;
        let welcome = client.expect("welcome").await;
        let next = welcome["ack"].as_u64().unwrap() + 1;
        client.next_seq = next;
        (client, welcome)
    }

    /// Sends raw text.
    pub async fn send_text(&mut self, text: &str) {
        self.socket.send(Message::Text(text.into())).await.unwrap();
    }

    /// Sends a binary message as is.
    pub async fn send_binary(&mut self, bytes: Vec<u8>) {
        self.socket.send(Message::Binary(bytes.into())).await.unwrap();
    }

    /// Sends a frame given as JSON `[tag, body]` with the next sequence number, compressed.
    pub async fn send_json_compressed(&mut self, tag: &str, body: Value) -> u64 {
        let seq = self.next_seq;
        self.next_seq += 1;
        let text = json!([tag, seq, body]).to_string();
        self.send_binary(cobrowse_protocol::compression::compress(cobrowse_protocol::Encoding::DeflateRaw, &text))
            .await;
        seq
    }

    /// Sends a frame with the next sequence number (control frames with 0).
    pub async fn send(&mut self, frame: Frame) -> u64 {
        let seq = if frame.is_control() {
            0
        } else {
            let seq = self.next_seq;
            self.next_seq += 1;
            seq
        };
        self.send_text(&frame.encode(seq)).await;
        seq
    }

    /// Sends a frame given as JSON `[tag, body]`, with the next sequence number.
    pub async fn send_json(&mut self, tag: &str, body: Value) -> u64 {
        let seq = self.next_seq;
        self.next_seq += 1;
        self.send_text(&json!([tag, seq, body]).to_string()).await;
        seq
    }

    /// The next frame of any kind as (tag, seq, body), or None if the socket closed.
    pub async fn next(&mut self) -> Option<(String, u64, Value)> {
        loop {
            let message = tokio::time::timeout(WAIT, self.socket.next()).await.expect("a frame arrives in time")?;
            let text = match message {
                Ok(Message::Text(text)) => text.to_string(),
                Ok(Message::Binary(bytes)) => {
                    let text = cobrowse_protocol::compression::decompress(&bytes, 64 << 20)
                        .expect("the server's binary messages are compressed frames");
                    self.compressed.push((text.clone(), bytes.len()));
                    text
                }
                Ok(Message::Close(_)) | Err(_) => return None,
                Ok(_) => continue,
            };
            let value: Value = serde_json::from_str(&text).unwrap();
            let tag = value[0].as_str().unwrap().to_owned();
            let seq = value[1].as_u64().unwrap();
            if seq > 0 {
                // Frames come in order without gaps, except that a snapshot is a resync
                // point the sequence may jump to.
                if tag == "snapshot" {
                    assert!(seq > self.last_server_seq, "frames never go backwards: {text}");
                } else {
                    assert_eq!(seq, self.last_server_seq + 1, "server frames arrive in order without gaps: {text}");
                }
                self.last_server_seq = seq;
            }
            self.seen.push(text);
            return Some((tag, seq, value[2].clone()));
        }
    }

    /// Skips frames until one tagged `tag` arrives; returns its body. Answers nothing on the way.
    pub async fn expect(&mut self, tag: &str) -> Value {
        loop {
            match self.next().await {
                Some((t, _, body)) if t == tag => return body,
                Some((t, _, body)) if t == "error" && tag != "error" && body["fatal"] == true => {
                    panic!("fatal error while waiting for {tag}: {body}")
                }
                Some(_) => continue,
                None => panic!("socket closed while waiting for {tag}; seen: {:?}", self.seen),
            }
        }
    }

    /// Waits for a notice with `code`.
    pub async fn expect_notice(&mut self, code: &str) -> Value {
        loop {
            let notice = self.expect("notice").await;
            if notice["code"] == code {
                return notice;
            }
        }
    }

    /// Waits until the server acknowledged our frame `seq` (it has been applied).
    pub async fn await_ack(&mut self, seq: u64) {
        loop {
            let ack = self.expect("ack").await;
            if ack["a"].as_u64().unwrap() >= seq {
                return;
            }
        }
    }

    /// Reads until the socket closes; returns the tags seen meanwhile.
    pub async fn until_closed(&mut self) -> Vec<String> {
        let mut tags = Vec::new();
        while let Some((tag, _, _)) = self.next().await {
            tags.push(tag);
        }
        tags
    }

    /// Acknowledges everything received so far.
    pub async fn ack(&mut self) {
        let a = self.last_server_seq;
        self.send_text(&json!(["ack", 0, {"a": a}]).to_string()).await;
    }

    /// Closes the socket abruptly (as a closed tab would).
    pub async fn drop_connection(mut self) {
        let _ = self.socket.close(None).await;
    }
}

/// A small page: document(1) > doctype(2), html(3) > body(4) > [h1(5) > "Hello"(6), input(7)].
pub fn page(url: &str) -> Snapshot {
    let doc = Node::document(
        1,
        vec![
            Node::doctype_html(2),
            Node::element(
                3,
                "html",
                &[],
                vec![Node::element(
                    4,
                    "body",
                    &[],
                    vec![
                        Node::element(5, "h1", &[], vec![Node::text(6, "Hello")]),
                        Node::element(7, "input", &[("name", "q")], vec![]),
                    ],
                )],
            ),
        ],
    );
    Snapshot {
        url: url.into(),
        title: "Demo".into(),
        charset: "UTF-8".into(),
        mode: Default::default(),
        vp: Viewport { w: 1024, h: 700, dpr: 1.0 },
        doc,
        scroll: vec![],
        focus: None,
    }
}

/// Sends the small page as a snapshot.
pub async fn send_page(customer: &mut Client, url: &str) {
    customer.send(Frame::Snapshot(Box::new(page(url)))).await;
}

/// A session with a customer that sent a page and an agent who joined; both connected.
pub async fn active_session(server: &Server) -> (String, Client, Client) {
    active_session_for(server, "alice").await
}

/// Like [`active_session`] with the given agent.
pub async fn active_session_for(server: &Server, agent_id: &str) -> (String, Client, Client) {
    let (id, token) = server.create_session().await;
    let (mut customer, _) = Client::connect(server, &id, &token, 0).await;
    send_page(&mut customer, "https://shop.example/").await;
    let agent_token = server.join(agent_id, &id).await;
    let (agent, _) = Client::connect(server, &id, &agent_token, 0).await;
    customer.expect_notice("agent_joined").await;
    (id, customer, agent)
}
