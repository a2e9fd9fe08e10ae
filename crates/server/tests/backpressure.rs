//! A viewer that stops reading is resynced with a fresh snapshot, not buffered without bound.

mod support;

use cobrowse_protocol::{Frame, Mutations, NodeId, Op};
use support::{active_session, Server};

#[tokio::test]
async fn a_viewer_that_stops_reading_gets_a_fresh_snapshot() {
    let server = Server::start_with(|c| c.limits.outbound_queue = 4).await;
    let (_, mut customer, mut agent) = active_session(&server).await;
    agent.expect("snapshot").await;

    // The agent reads nothing while the customer sends ~10 MB of changes.
    const FRAMES: usize = 300;
    let filler = "x".repeat(32 * 1024);
    let mut last = 0;
    for i in 0..FRAMES {
        last = customer
            .send(Frame::Mutations(Mutations { ops: vec![Op::Text { id: NodeId(6), text: format!("{i}:{filler}") }] }))
            .await;
    }
    customer.await_ack(last).await;

    // Now it reads: some changes, then a snapshot that already holds the last one.
    let mut deltas = 0;
    let final_text = format!("{}:{filler}", FRAMES - 1);
    loop {
        let (tag, _, body) = agent.next().await.expect("the agent's socket stays open");
        match tag.as_str() {
            "mut" => {
                deltas += 1;
                if body["ops"][0][2] == final_text.as_str() {
                    break;
                }
            }
            "snapshot" if body.to_string().contains(&final_text) => break,
            _ => {}
        }
    }
    assert!(deltas < FRAMES, "the lagging viewer skipped deltas instead of buffering them all ({deltas})");
    assert!(
        agent.seen.iter().skip(1).any(|f| f.starts_with("[\"snapshot\"")),
        "a fresh snapshot replaced what was skipped"
    );
    let metrics = server.http.get(format!("{}/metrics", server.base)).send().await.unwrap().text().await.unwrap();
    // Each time the stuck viewer's queue refills it lags again; how often depends on how much the
    // kernel's socket buffers absorbed first, so only the order of magnitude is fixed: a handful of
    // snapshots for 300 skipped batches.
    let resyncs: u64 = metrics
        .lines()
        .find_map(|line| line.strip_prefix("cobrowse_resyncs_total{cause=\"lagging_viewer\"} "))
        .and_then(|value| value.trim().parse().ok())
        .unwrap_or_else(|| panic!("no lagging-viewer count in {metrics}"));
    assert!((1..=FRAMES as u64 / 10).contains(&resyncs), "{resyncs} resyncs for {FRAMES} frames");
}
