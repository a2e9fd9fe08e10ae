//! Accepting connections: HTTP/1.1 with upgrades, served straight on each TCP stream.
//!
//! Why not `axum::serve`: it detects HTTP/1 or HTTP/2 on every connection, and the detection
//! leaves a replaying reader under the connection, which an upgraded WebSocket would then read
//! every frame through (two layers of it showed up in the profiles). Browsers speak HTTP/2 only
//! over TLS, which a proxy in front of us ends, so HTTP/1.1 is all the server needs; a WebSocket
//! upgraded from it reads the TCP stream itself.

use axum::extract::ConnectInfo;
use axum::Router;
use hyper::body::Incoming;
use hyper::Request;
use hyper_util::rt::{TokioIo, TokioTimer};
use std::future::Future;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio_util::task::TaskTracker;

/// A client that has not finished its request headers by then is dropped, so slow senders cannot
/// hold connections open for free.
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(30);

/// How long requests in progress get to finish once shutdown begins.
const REQUEST_DRAIN: Duration = Duration::from_secs(10);

/// Serves `app` on `listener` until `shutdown` completes; then stops accepting and waits for the
/// requests in progress. Upgraded WebSockets are not waited for here: they belong to the server's
/// own task tracker once upgraded.
pub async fn serve(listener: TcpListener, app: Router, shutdown: impl Future<Output = ()>) -> std::io::Result<()> {
    let (stopping_tx, stopping) = watch::channel(false);
    let connections = TaskTracker::new();
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(err) => {
                    // Out of file descriptors, or a connection reset before it was accepted:
                    // the listener itself is fine, so wait a moment rather than spin.
                    tracing::warn!(error = %err, "could not accept a connection");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        // Frames are small and latency is the product: send each write at once rather than let
        // Nagle's algorithm hold it for the peer's delayed acknowledgement.
        if let Err(err) = stream.set_nodelay(true) {
            tracing::debug!(error = %err, "could not turn off Nagle's algorithm on a connection");
        }
        let app = app.clone();
        let service = hyper::service::service_fn(move |mut request: Request<Incoming>| {
            request.extensions_mut().insert(ConnectInfo(peer));
            tower::ServiceExt::oneshot(app.clone(), request)
        });
        let connection = hyper::server::conn::http1::Builder::new()
            .timer(TokioTimer::new())
            .header_read_timeout(HEADER_READ_TIMEOUT)
            .serve_connection(TokioIo::new(stream), service)
            .with_upgrades();
        let mut stopping = stopping.clone();
        connections.spawn(async move {
            tokio::pin!(connection);
            let result = tokio::select! {
                result = connection.as_mut() => result,
                _ = stopping.changed() => {
                    // Finish the request in progress, if any, then close instead of keeping alive.
                    connection.as_mut().graceful_shutdown();
                    connection.await
                }
            };
            if let Err(err) = result {
                tracing::debug!(error = %err, "connection ended with an error");
            }
        });
    }
    drop(listener);
    let _ = stopping_tx.send(true);
    connections.close();
    if tokio::time::timeout(REQUEST_DRAIN, connections.wait()).await.is_err() {
        tracing::warn!("some requests did not finish in time");
    }
    Ok(())
}
