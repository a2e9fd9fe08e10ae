//! The resource proxy against a real local "company site".

mod support;

use axum::http::{header, StatusCode};
use axum::routing::get;
use axum::Router;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use support::Server;

struct Site {
    origin: String,
    hits: Arc<AtomicUsize>,
}

async fn start_site() -> Site {
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = hits.clone();
    let app = Router::new()
        .route(
            "/css/site.css",
            get(|| async {
                ([(header::CONTENT_TYPE, "text/css")], "body{background:url(../img/bg.png)}@import 'print.css';")
            }),
        )
        .route(
            "/img/bg.png",
            get(move || {
                counter.fetch_add(1, Ordering::SeqCst);
                async { ([(header::CONTENT_TYPE, "image/png")], vec![0x89u8, b'P', b'N', b'G']) }
            }),
        )
        .route("/page.html", get(|| async { ([(header::CONTENT_TYPE, "text/html")], "<script>alert(1)</script>") }))
        .route("/app.js", get(|| async { ([(header::CONTENT_TYPE, "text/javascript")], "alert(1)") }))
        .route("/big.png", get(|| async { ([(header::CONTENT_TYPE, "image/png")], vec![0u8; 300_000]) }))
        .route(
            "/slow.png",
            get(|| async {
                tokio::time::sleep(Duration::from_secs(5)).await;
                ([(header::CONTENT_TYPE, "image/png")], vec![0u8; 4])
            }),
        )
        .route("/hop", get(|| async { (StatusCode::FOUND, [(header::LOCATION, "/img/bg.png")]) }))
        .route(
            "/away",
            get(|| async { (StatusCode::FOUND, [(header::LOCATION, "http://169.254.169.254/latest/meta-data")]) }),
        )
        .route("/missing.png", get(|| async { StatusCode::NOT_FOUND }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let origin = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    Site { origin, hits }
}

async fn proxy(server: &Server, bearer: &str, url: &str) -> (u16, String, String, reqwest::header::HeaderMap) {
    let response = server
        .http
        .get(format!("{}/proxy", server.base))
        .query(&[("url", url)])
        .bearer_auth(bearer)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let content_type = headers.get("content-type").map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
    (status, content_type, response.text().await.unwrap(), headers)
}

async fn server_for(site: &Site, allow_private: bool) -> Server {
    let origin = site.origin.clone();
    Server::start_with(move |c| {
        c.policy.site_origins = vec![origin];
        c.proxy.allow_private = allow_private;
        c.proxy.max_bytes = 200_000;
        c.proxy.timeout = Duration::from_millis(800);
    })
    .await
}

#[tokio::test]
async fn stylesheets_images_and_fonts_load_through_the_proxy() {
    let site = start_site().await;
    let server = server_for(&site, true).await;
    let bearer = server.sign_in("alice").await;

    let (status, content_type, css, headers) = proxy(&server, &bearer, &format!("{}/css/site.css", site.origin)).await;
    assert_eq!(status, 200);
    assert_eq!(content_type, "text/css");
    let encoded_bg = format!("/proxy?url={}", site.origin.replace(':', "%3A").replace('/', "%2F")) + "%2Fimg%2Fbg.png";
    assert!(css.contains(&encoded_bg), "url() is rewritten through the proxy: {css}");
    assert!(css.contains("print.css"), "@import is rewritten too: {css}");
    assert!(headers["content-security-policy"].to_str().unwrap().contains("sandbox"));
    assert_eq!(headers["x-content-type-options"], "nosniff");

    let image = format!("{}/img/bg.png", site.origin);
    assert_eq!(proxy(&server, &bearer, &image).await.0, 200);
    assert_eq!(proxy(&server, &bearer, &image).await.0, 200);
    assert_eq!(site.hits.load(Ordering::SeqCst), 1, "the second request is served from the cache");

    let (status, _, _, _) = proxy(&server, &bearer, &format!("{}/hop", site.origin)).await;
    assert_eq!(status, 200, "redirects within the site are followed");
}

#[tokio::test]
async fn the_proxy_refuses_what_it_must_not_fetch() {
    let site = start_site().await;
    let server = server_for(&site, true).await;
    let bearer = server.sign_in("alice").await;
    let refused = |status: u16, code: &str, body: &str| {
        let json: serde_json::Value = serde_json::from_str(body).unwrap();
        (status, json["error"]["code"].as_str().unwrap().to_owned()) == (status, code.to_owned())
    };

    let (status, _, body, _) = proxy(&server, &bearer, "https://evil.example/x.png").await;
    assert!(status == 403 && refused(status, "origin_not_allowed", &body), "{status} {body}");
    for path in ["/page.html", "/app.js"] {
        let (status, _, body, _) = proxy(&server, &bearer, &format!("{}{path}", site.origin)).await;
        assert!(status == 415 && refused(status, "invalid_request", &body), "{path}: {status} {body}");
    }
    let (status, _, body, _) = proxy(&server, &bearer, &format!("{}/big.png", site.origin)).await;
    assert!(status == 413 && refused(status, "limit_exceeded", &body), "{status} {body}");
    let (status, _, body, _) = proxy(&server, &bearer, &format!("{}/slow.png", site.origin)).await;
    assert!(status == 502 && refused(status, "upstream_failed", &body), "{status} {body}");
    let (status, _, _, _) = proxy(&server, &bearer, &format!("{}/missing.png", site.origin)).await;
    assert_eq!(status, 502);
    let (status, _, _, _) = proxy(&server, &bearer, &format!("{}/away", site.origin)).await;
    assert_eq!(status, 403, "a redirect to another origin is refused");
    let (status, _, _, _) = proxy(&server, &bearer, "javascript:alert(1)").await;
    assert_eq!(status, 400);

    let anonymous =
        server.http.get(format!("{}/proxy?url={}/img/bg.png", server.base, site.origin)).send().await.unwrap();
    assert_eq!(anonymous.status().as_u16(), 401, "only signed-in agents may use the proxy");
}

#[tokio::test]
async fn resources_of_this_server_are_redirected_not_fetched() {
    let server = Server::start().await;
    let bearer = server.sign_in("alice").await;
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let response = client
        .get(format!("{}/proxy", server.base))
        .query(&[("url", format!("{}/demo/style.css?v=1", server.base))])
        .bearer_auth(&bearer)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 307);
    assert_eq!(response.headers()["location"], "/demo/style.css?v=1");
}

#[tokio::test]
async fn private_addresses_are_refused_unless_configured() {
    let site = start_site().await;
    let server = server_for(&site, false).await;
    let bearer = server.sign_in("alice").await;
    let (status, _, body, _) = proxy(&server, &bearer, &format!("{}/img/bg.png", site.origin)).await;
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("private"), "{body}");
    assert_eq!(site.hits.load(Ordering::SeqCst), 0, "the site was never contacted");
}
