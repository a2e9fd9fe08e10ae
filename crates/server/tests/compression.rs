//! Compressed frames: negotiated in hello/welcome, inflated on the way in, deflated on the way out
//! for the connections that asked, plain text for everyone else; broken ones are refused with a
//! stable code and disturb nobody.

mod support;

use cobrowse_protocol::compression::{compress, FORMAT_DEFLATE_RAW};
use cobrowse_protocol::{Encoding, Frame, Mutations, Node, NodeId, Op, Pointer};
use serde_json::{json, Value};
use support::{active_session_for, page, Client, Server};

const DEFLATE: &[&str] = &["deflate-raw"];

/// A snapshot of `rows` list items: about 60 bytes a row, repetitive like real pages.
fn big_page(url: &str, rows: u32) -> Frame {
    let mut snapshot = page(url);
    let items = (0..rows)
        .map(|i| {
            Node::element(
                100 + 2 * i,
                "li",
                &[("class", "product-row")],
                vec![Node::text(101 + 2 * i, &format!("Product number {i}"))],
            )
        })
        .collect();
    // document > [doctype, html > body]
    snapshot.doc.children[1].children[0].children.push(Node::element(99, "ul", &[], items));
    Frame::Snapshot(Box::new(snapshot))
}

fn body_of(frame: &Frame) -> Value {
    serde_json::from_str(&frame.encode_body()).unwrap()
}

async fn metrics(server: &Server) -> String {
    server.http.get(format!("{}/metrics", server.base)).send().await.unwrap().text().await.unwrap()
}

fn counter(metrics: &str, name: &str) -> u64 {
    let line = metrics.lines().find(|line| line.starts_with(name)).unwrap_or_else(|| panic!("{name} in {metrics}"));
    line.rsplit(' ').next().unwrap().parse().unwrap()
}

#[tokio::test]
async fn large_frames_travel_compressed_between_clients_that_asked_and_as_text_to_others() {
    let server = Server::start().await;
    let (id, token) = server.create_session().await;
    let (mut customer, welcome) = Client::connect_offering(&server, &id, &token, 0, &["zstd", "deflate-raw"]).await;
    assert_eq!(welcome["z"], json!({"enc": "deflate-raw", "min": 1024}), "the server picks the one it knows");

    // The customer's snapshot goes up compressed and is applied like a text one.
    let snapshot = big_page("https://shop.example/catalog", 400);
    let seq = customer.send_json_compressed("snapshot", body_of(&snapshot)).await;
    customer.await_ack(seq).await;

    let agent_token = server.join("alice", &id).await;
    let (mut agent, welcome) = Client::connect_offering(&server, &id, &agent_token, 0, DEFLATE).await;
    assert_eq!(welcome["z"]["enc"], "deflate-raw");
    let agent_page = agent.expect("snapshot").await;
    assert_eq!(agent_page["url"], "https://shop.example/catalog");
    let (text, wire) = agent.compressed.last().cloned().expect("the snapshot arrived as a binary message");
    assert_eq!(&text, agent.seen.last().unwrap(), "it inflates to exactly the frame");
    assert!(text.starts_with("[\"snapshot\","), "{}", &text[..40]);
    assert!(wire * 4 < text.len(), "{wire} bytes on the wire for {} bytes of frame", text.len());

    // An observer that offered nothing gets the same page as plain text.
    let carol = server.sign_in("carol").await;
    let (status, body) = server.post_session(&carol, &id, "watch").await;
    assert_eq!(status, 200, "{body}");
    let (mut observer, welcome) = Client::connect(&server, &id, body["token"].as_str().unwrap(), 0).await;
    assert!(welcome.get("z").is_none(), "{welcome}");
    assert_eq!(observer.expect("snapshot").await, agent_page);
    assert!(observer.compressed.is_empty());

    // Small frames stay text even where compression was agreed.
    customer.send(Frame::Pointer(Pointer { x: 3.0, y: 4.0, id: None, by: None })).await;
    assert_eq!(agent.expect("pointer").await["x"], 3.0);
    assert_eq!(agent.compressed.len(), 1, "a pointer frame is below the threshold");
    assert_eq!(observer.expect("pointer").await["x"], 3.0);

    // A large batch from the customer, sent as text, still reaches the agent compressed.
    let ops = (0..40).map(|i| Op::Text { id: NodeId(101 + 2 * i), text: format!("Renamed product {i}") }).collect();
    customer.send(Frame::Mutations(Mutations { ops })).await;
    assert_eq!(agent.expect("mut").await["ops"][39][2], "Renamed product 39");
    assert_eq!(agent.compressed.len(), 2);
    assert_eq!(observer.expect("mut").await["ops"][39][2], "Renamed product 39");
    assert!(observer.compressed.is_empty());

    let metrics = metrics(&server).await;
    assert_eq!(counter(&metrics, "cobrowse_frames_compressed_total{direction=\"received\"}"), 1);
    assert!(counter(&metrics, "cobrowse_frames_compressed_total{direction=\"sent\"}") >= 2, "{metrics}");
    assert!(
        counter(&metrics, "cobrowse_wire_bytes_received_total") * 2
            < counter(&metrics, "cobrowse_bytes_received_total")
    );
    assert!(counter(&metrics, "cobrowse_wire_bytes_sent_total") < counter(&metrics, "cobrowse_bytes_sent_total"));
}

#[tokio::test]
async fn without_negotiation_binary_messages_are_refused() {
    for (disabled, offer) in [(false, &[][..]), (true, DEFLATE)] {
        let server = Server::start_with(|c| c.wire.compression = !disabled).await;
        let (id, token) = server.create_session().await;
        let (mut customer, welcome) = Client::connect_offering(&server, &id, &token, 0, offer).await;
        assert!(welcome.get("z").is_none(), "disabled {disabled}: {welcome}");
        customer
            .send_binary(compress(Encoding::DeflateRaw, &Frame::Snapshot(Box::new(page("https://a/"))).encode(1)))
            .await;
        let error = customer.expect("error").await;
        assert_eq!((error["code"].as_str(), error["fatal"].as_bool()), (Some("bad_frame"), Some(false)), "{error}");
        assert!(error["message"].as_str().unwrap().contains("negotiate"), "{error}");

        // The refused frame did not count: the same number as text is the first frame received.
        let seq = customer.send(big_page("https://shop.example/", 400)).await;
        assert_eq!(seq, 1);
        customer.await_ack(1).await;
        let agent_token = server.join("alice", &id).await;
        let (mut agent, _) = Client::connect_offering(&server, &id, &agent_token, 0, offer).await;
        assert_eq!(agent.expect("snapshot").await["url"], "https://shop.example/");
        assert!(agent.compressed.is_empty(), "nobody agreed to compression, so the page came as text");
    }
}

#[tokio::test]
async fn broken_compressed_frames_are_refused_and_nothing_else_is_disturbed() {
    let server = Server::start_with(|c| c.limits.max_frame_bytes = 64 * 1024).await;
    let (id, token) = server.create_session().await;
    let (mut customer, _) = Client::connect_offering(&server, &id, &token, 0, DEFLATE).await;
    customer.send(Frame::Snapshot(Box::new(page("https://shop.example/")))).await;
    let agent_token = server.join("alice", &id).await;
    let (mut agent, _) = Client::connect_offering(&server, &id, &agent_token, 0, DEFLATE).await;
    agent.expect("snapshot").await;
    let (_, mut other_customer, mut other_agent) = active_session_for(&server, "bob").await;
    other_agent.expect("snapshot").await;

    let frame = Frame::Mutations(Mutations { ops: vec![Op::Text { id: NodeId(6), text: "x".repeat(2000) }] }).encode(2);
    let good = compress(Encoding::DeflateRaw, &frame);
    let mut unknown_format = good.clone();
    unknown_format[0] = 0x7f;
    let truncated = good[..good.len() / 2].to_vec();
    let bomb = compress(Encoding::DeflateRaw, &format!("[\"nav\",2,{{\"url\":\"{}\"}}]", "u".repeat(4 << 20)));
    assert!(bomb.len() < 64 * 1024, "the bomb itself is within the frame limit");
    let mut not_text = vec![FORMAT_DEFLATE_RAW];
    not_text.extend_from_slice(&[0x01, 0x02, 0x00, 0xfd, 0xff, 0xff, 0xfe]); // a stored block holding 0xff 0xfe
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (unknown_format, "unknown_encoding"),
        (Vec::new(), "unknown_encoding"),
        (frame.clone().into_bytes(), "unknown_encoding"),
        (truncated, "bad_compression"),
        (vec![FORMAT_DEFLATE_RAW, 0xff, 0xff], "bad_compression"),
        (bomb, "frame_too_large"),
        (not_text, "bad_frame"),
    ];
    for (bytes, code) in cases {
        customer.send_binary(bytes).await;
        let error = customer.expect("error").await;
        assert_eq!(error["code"], code, "{error}");
        assert_eq!(error["fatal"], false);
        assert!(!error["message"].as_str().unwrap().is_empty());
    }

    // None of them counted as received: the next good frame is number 2, with no gap.
    customer.send_binary(good).await;
    assert_eq!(agent.expect("mut").await["ops"][0][2].as_str().unwrap().len(), 2000);
    customer.await_ack(2).await;
    assert!(!customer.seen.iter().any(|f| f.contains("sequence_gap") || f.contains("resync")), "{:?}", customer.seen);

    // The other session saw none of it.
    other_customer
        .send(Frame::Mutations(Mutations { ops: vec![Op::Text { id: NodeId(6), text: "fine".into() }] }))
        .await;
    assert_eq!(other_agent.expect("mut").await["ops"][0][2], "fine");
    assert!(!other_agent.seen.iter().chain(&other_customer.seen).any(|f| f.contains("\"error\"")));
    let metrics = metrics(&server).await;
    assert_eq!(counter(&metrics, "cobrowse_errors_total{code=\"bad_compression\"}"), 2, "{metrics}");
    assert_eq!(counter(&metrics, "cobrowse_errors_total{code=\"unknown_encoding\"}"), 3);
}
