//! The HTTP API without a socket (`oneshot`), and its OpenAPI document.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use cobrowse_server::config::Config;
use cobrowse_server::http::{app, health::OPENAPI, API_ROUTES};
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;

async fn router() -> axum::Router {
    let mut config = Config::default();
    config.policy.site_origins = vec!["https://shop.example".into()];
    config.policy.standalone_sessions = true;
    app(cobrowse_server::test_state(config).await)
}

async fn call(router: &axum::Router, request: Request<Body>) -> (StatusCode, Value, axum::http::HeaderMap) {
    let response = router.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null), headers)
}

fn post(uri: &str, origin: Option<&str>, body: &str) -> Request<Body> {
    let mut builder = Request::post(uri).header("content-type", "application/json").header("host", "cobrowse.test");
    if let Some(origin) = origin {
        builder = builder.header("origin", origin);
    }
    builder.body(Body::from(body.to_owned())).unwrap()
}

#[tokio::test]
async fn the_openapi_document_covers_every_route() {
    let doc: Value = serde_json::from_str(OPENAPI).unwrap();
    let router = router().await;
    for (method, path) in API_ROUTES {
        assert!(doc["paths"][path][method].is_object(), "{method} {path} is missing from openapi.json");
        // The route exists in the router: anything but the fallback's 404 "no such endpoint".
        let uri = path.replace("{id}", "123456789");
        let request =
            Request::builder().method(method.to_uppercase().as_str()).uri(&uri).header("host", "cobrowse.test");
        let (status, body, _) = call(&router, request.body(Body::empty()).unwrap()).await;
        assert!(
            !(status == StatusCode::NOT_FOUND && body["error"]["message"] == "no such endpoint"),
            "{method} {path} is not routed"
        );
    }
    let documented: usize = doc["paths"].as_object().unwrap().values().map(|p| p.as_object().unwrap().len()).sum();
    assert_eq!(documented, API_ROUTES.len(), "openapi.json documents a route the server does not have");
}

#[tokio::test]
async fn sessions_are_created_from_allowed_origins_only() {
    let router = router().await;
    let (status, body, _) = call(&router, post("/api/v1/sessions", Some("https://shop.example"), "{}")).await;
    assert_eq!(status, StatusCode::CREATED);
    let id = body["id"].as_str().unwrap();
    assert_eq!(id.len(), 9);
    assert!(body["token"].as_str().unwrap().len() >= 40);
    assert_eq!(body["ws_url"], "/ws/v1");
    assert_eq!(body["protocol_version"], 1);

    let (status, _, _) = call(&router, post("/api/v1/sessions", Some("http://cobrowse.test"), "")).await;
    assert_eq!(status, StatusCode::CREATED, "the server's own pages (the demo site) may create sessions");
    let (status, body, _) = call(&router, post("/api/v1/sessions", Some("https://evil.example"), "{}")).await;
    assert_eq!((status, body["error"]["code"].as_str()), (StatusCode::FORBIDDEN, Some("origin_not_allowed")));
    let (status, body, _) = call(&router, post("/api/v1/sessions", None, "{\"nonsense\": 1}")).await;
    assert_eq!((status, body["error"]["code"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_request")));
}

#[tokio::test]
async fn by_default_co_browse_needs_a_chat_or_a_call() {
    let router = app(cobrowse_server::test_state(Config::default()).await);
    let (status, body, _) = call(&router, post("/api/v1/sessions", None, "{}")).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("interaction_required"))
    );
    let (status, _, _) = call(&router, post("/api/v1/sessions", None, "{\"channel\":\"voice\"}")).await;
    assert_eq!(status, StatusCode::CREATED, "a customer on a call may start one; the agent on the call joins it");
    let (status, body, _) = call(&router, post("/api/v1/sessions", None, "{\"channel\":\"fax\"}")).await;
    assert_eq!((status, body["error"]["code"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_request")));
    let (status, body, _) =
        call(&router, post("/api/v1/sessions", None, "{\"chat\":{\"id\":\"chat-x\",\"token\":\"nope\"}}")).await;
    assert_eq!((status, body["error"]["code"].as_str()), (StatusCode::NOT_FOUND, Some("unknown_interaction")));
}

#[tokio::test]
async fn session_ids_are_unique_and_not_sequential() {
    let router = router().await;
    let mut ids = Vec::new();
    for _ in 0..15 {
        let (_, body, _) = call(&router, post("/api/v1/sessions", None, "{}")).await;
        ids.push(body["id"].as_str().unwrap().parse::<u64>().unwrap());
    }
    let mut sorted = ids.clone();
    sorted.dedup();
    assert_eq!(sorted.len(), ids.len());
    assert!(ids.windows(2).all(|w| w[1] != w[0] + 1));
}

#[tokio::test]
async fn creation_is_rate_limited_per_address() {
    let mut config = Config::default();
    config.limits.sessions_per_address_per_minute = 2;
    config.policy.standalone_sessions = true;
    let router = app(cobrowse_server::test_state(config).await);
    for _ in 0..2 {
        assert_eq!(call(&router, post("/api/v1/sessions", None, "{}")).await.0, StatusCode::CREATED);
    }
    let (status, body, headers) = call(&router, post("/api/v1/sessions", None, "{}")).await;
    assert_eq!((status, body["error"]["code"].as_str()), (StatusCode::TOO_MANY_REQUESTS, Some("rate_limited")));
    assert!(headers.contains_key("retry-after"));
}

#[tokio::test]
async fn joining_needs_a_signed_in_agent_and_a_valid_id() {
    let router = router().await;
    let (status, body, _) = call(&router, post("/api/v1/sessions/123456789/join", None, "")).await;
    assert_eq!((status, body["error"]["code"].as_str()), (StatusCode::UNAUTHORIZED, Some("unauthenticated")));
    let bad_token = Request::post("/api/v1/sessions/123456789/join")
        .header("authorization", "Bearer nope")
        .body(Body::empty())
        .unwrap();
    assert_eq!(call(&router, bad_token).await.0, StatusCode::UNAUTHORIZED);
    let (status, body, _) = call(&router, post("/api/v1/auth/login", None, "{\"username\":\"x\"}")).await;
    assert_eq!((status, body["error"]["code"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_request")));
    let (status, _, _) =
        call(&router, post("/api/v1/auth/login", None, "{\"username\":\"x\",\"password\":\"y\"}")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn health_metrics_and_assets_are_served() {
    let router = router().await;
    let get = |uri: &str| Request::get(uri).header("host", "cobrowse.test").body(Body::empty()).unwrap();
    let (status, body, _) = call(&router, get("/healthz")).await;
    assert_eq!((status, body["status"].as_str()), (StatusCode::OK, Some("ok")));
    let response = router.clone().oneshot(get("/metrics")).await.unwrap();
    let text = String::from_utf8(response.into_body().collect().await.unwrap().to_bytes().to_vec()).unwrap();
    for name in [
        "cobrowse_sessions{state=\"pending\"}",
        "cobrowse_connections{role=\"agent\"}",
        "cobrowse_frames_sent_total",
        "cobrowse_resyncs_total",
        "cobrowse_mirror_heap_bytes",
        "cobrowse_sessions_ended_total{reason=\"agent_away\"}",
    ] {
        assert!(text.contains(name), "{name} missing from /metrics");
    }
    let response = router.clone().oneshot(get("/agent/")).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let csp = response.headers().get("content-security-policy").unwrap().to_str().unwrap();
    assert!(csp.contains("script-src 'self'") && !csp.contains("unsafe-eval"));
    assert!(!csp.contains("http:"), "with the proxy on, the agent's browser loads nothing from other sites: {csp}");
    let response = router.clone().oneshot(get("/sdk/cobrowse.js")).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers().get("access-control-allow-origin").unwrap(), "*");
    let (status, _, _) = call(&router, get("/demo/")).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "the demo site is served only by `cobrowse demo`");
    let (status, _, _) = call(&router, get("/sdk/../Cargo.toml")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}
