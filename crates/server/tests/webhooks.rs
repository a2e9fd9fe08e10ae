//! Webhooks against local receivers: signed, in order, retried with backoff, logged; a hanging
//! endpoint delays nobody else.

mod support;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::Router;
use cobrowse_server::config::WebhookEndpoint;
use cobrowse_server::webhooks::sign::verify;
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use support::{active_session, Server};

const SECRET: &str = "webhook-secret-0123456789";

#[derive(Default)]
struct Received {
    requests: Mutex<Vec<(HeaderMap, Bytes)>>,
}

async fn receiver(fail_first: usize, hang: bool) -> (String, Arc<Received>) {
    let received = Arc::new(Received::default());
    let app = Router::new()
        .route(
            "/hook",
            post(move |State(received): State<Arc<Received>>, headers: HeaderMap, body: Bytes| async move {
                if hang {
                    tokio::time::sleep(Duration::from_secs(30)).await;
                }
                let mut requests = received.requests.lock().unwrap();
                requests.push((headers, body));
                if requests.len() <= fail_first {
                    StatusCode::INTERNAL_SERVER_ERROR
                } else {
                    StatusCode::OK
                }
            }),
        )
        .with_state(received.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, received)
}

fn events(received: &Received) -> Vec<Value> {
    received.requests.lock().unwrap().iter().map(|(_, body)| serde_json::from_slice(body).unwrap()).collect()
}

#[tokio::test]
async fn events_are_signed_ordered_retried_and_logged() {
    let (flaky, flaky_received) = receiver(2, false).await;
    let (hanging, _) = receiver(0, true).await;
    let server = Server::start_with(|c| {
        c.webhooks = vec![
            WebhookEndpoint { url: flaky.clone(), secret: SECRET.into(), events: vec![] },
            WebhookEndpoint { url: hanging.clone(), secret: SECRET.into(), events: vec!["cobrowse.created".into()] },
        ];
        c.webhook_delivery.timeout = Duration::from_millis(300);
        c.webhook_delivery.retry_base = Duration::from_millis(50);
        c.webhook_delivery.max_attempts = 3;
    })
    .await;

    let (_, mut customer, mut agent) = active_session(&server).await;
    agent.send_json("mode_request", json!({})).await;
    customer.expect("mode_request").await;
    customer.send_json("mode_answer", json!({"approved": true})).await;
    agent.expect("mode").await;
    customer.send_json("end", json!({})).await;
    customer.expect("ended").await;

    // Wait for the four events to arrive (the first after two failures).
    let mut delivered = Vec::new();
    for _ in 0..100 {
        delivered = events(&flaky_received);
        let distinct: std::collections::BTreeSet<String> =
            delivered.iter().map(|e| e["id"].as_str().unwrap().to_owned()).collect();
        if distinct.len() >= 4 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Every request is signed with the endpoint's secret.
    for (headers, body) in flaky_received.requests.lock().unwrap().iter() {
        let signature = headers["x-cobrowse-signature"].to_str().unwrap();
        assert!(verify(SECRET, signature, body), "bad signature on {}", String::from_utf8_lossy(body));
        assert!(!verify("another-secret-0000", signature, body));
    }
    // The first event was tried three times with the same ID; then the rest in order.
    let ids: Vec<&str> = delivered.iter().map(|e| e["id"].as_str().unwrap()).collect();
    assert_eq!(ids[0], ids[1]);
    assert_eq!(ids[1], ids[2]);
    let mut kinds: Vec<&str> = delivered.iter().map(|e| e["type"].as_str().unwrap()).collect();
    kinds.dedup();
    assert_eq!(kinds, ["cobrowse.created", "cobrowse.agent_joined", "cobrowse.mode_changed", "cobrowse.ended"]);
    let last = delivered.last().unwrap();
    assert_eq!(last["data"]["reason"], "customer_exit");
    assert_eq!(last["data"]["session"], delivered[0]["data"]["session"]);
    assert!(!delivered.iter().any(|e| e.to_string().contains("shop.example")), "no page content in payloads");

    // The delivery log shows the retries, the success, and the hanging endpoint's time-outs.
    let carol = server.sign_in("carol").await;
    let mut log: Vec<Value> = Vec::new();
    for _ in 0..100 {
        log = server
            .http
            .get(format!("{}/api/v1/webhooks/deliveries?limit=100", server.base))
            .bearer_auth(&carol)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if log.iter().any(|d| d["endpoint"] == hanging.as_str() && d["outcome"] == "failed") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(log.iter().any(|d| d["endpoint"] == flaky.as_str() && d["outcome"] == "retrying" && d["status"] == 500));
    assert!(log.iter().any(|d| d["endpoint"] == flaky.as_str() && d["outcome"] == "delivered"));
    let hung: Vec<&Value> = log.iter().filter(|d| d["endpoint"] == hanging.as_str()).collect();
    assert!(hung.iter().all(|d| d["error"] == "timed out" && d["event_type"] == "cobrowse.created"), "{hung:?}");
    assert!(hung.iter().any(|d| d["outcome"] == "failed" && d["attempt"] == 3));

    let alice = server.sign_in("alice").await;
    let status = server
        .http
        .get(format!("{}/api/v1/webhooks/deliveries", server.base))
        .bearer_auth(&alice)
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, 403, "the log is for supervisors");
}
