//! The opening handshake (RFC 6455, section 4.2): checking the client's upgrade request and
//! answering `101 Switching Protocols`.

use super::WebSocket;
use crate::error::ApiError;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use cobrowse_protocol::ErrorCode;
use hyper::upgrade::OnUpgrade;
use hyper_util::rt::TokioIo;
use sha1::{Digest, Sha1};
use std::future::Future;
use tokio::net::TcpStream;

/// The GUID every server appends to the client's key (section 1.3).
const ACCEPT_GUID: &str = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/// Messages larger than this are refused unless a handler sets its own limit.
const DEFAULT_MAX_MESSAGE: usize = 64 * 1024;

/// A valid WebSocket upgrade request, as an extractor: handlers check what else they need
/// (origin, capacity, a signed-in agent) and then call [`Upgrade::on_upgrade`].
pub struct Upgrade {
    on_upgrade: OnUpgrade,
    accept: HeaderValue,
    max_message: usize,
}

impl Upgrade {
    /// Refuses messages larger than `bytes` (whole, or assembled from fragments).
    pub fn max_message_size(mut self, bytes: usize) -> Self {
        self.max_message = bytes;
        self
    }

    /// Answers `101` and runs `serve` on the socket once the connection has switched.
    pub fn on_upgrade<F, Fut>(self, serve: F) -> Response
    where
        F: FnOnce(WebSocket) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let Self { on_upgrade, accept, max_message } = self;
        tokio::spawn(async move {
            let upgraded = match on_upgrade.await {
                Ok(upgraded) => upgraded,
                Err(err) => {
                    tracing::debug!(error = %err, "the connection did not switch to WebSocket");
                    return;
                }
            };
            // The plain TCP stream when the server gave us one, so reads need no extra layer.
            let socket = match upgraded.downcast::<TokioIo<TcpStream>>() {
                Ok(parts) => WebSocket::new(Box::new(parts.io.into_inner()), parts.read_buf, max_message),
                Err(upgraded) => {
                    tracing::debug!("an upgraded connection is not a plain TCP stream; reading through hyper");
                    WebSocket::new(Box::new(TokioIo::new(upgraded)), Default::default(), max_message)
                }
            };
            serve(socket).await;
        });
        let mut response = StatusCode::SWITCHING_PROTOCOLS.into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONNECTION, HeaderValue::from_static("upgrade"));
        headers.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
        headers.insert(header::SEC_WEBSOCKET_ACCEPT, accept);
        response
    }
}

/// Why a request is not a WebSocket upgrade.
#[derive(Debug)]
pub enum NotAnUpgrade {
    /// Not a usable upgrade request: 400.
    Bad(&'static str),
    /// A WebSocket version other than 13: 426, naming the version we speak.
    Version,
}

impl IntoResponse for NotAnUpgrade {
    fn into_response(self) -> Response {
        match self {
            Self::Bad(message) => {
                ApiError::new(StatusCode::BAD_REQUEST, ErrorCode::InvalidRequest, message).into_response()
            }
            Self::Version => {
                let message = "only WebSocket version 13 is supported";
                let mut response =
                    ApiError::new(StatusCode::UPGRADE_REQUIRED, ErrorCode::InvalidRequest, message).into_response();
                response.headers_mut().insert(header::SEC_WEBSOCKET_VERSION, HeaderValue::from_static("13"));
                response
            }
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Upgrade {
    type Rejection = NotAnUpgrade;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let accept = check_request(&parts.method, &parts.headers)?;
        let on_upgrade = parts
            .extensions
            .remove::<OnUpgrade>()
            .ok_or(NotAnUpgrade::Bad("this connection cannot be upgraded to a WebSocket"))?;
        Ok(Self { on_upgrade, accept, max_message: DEFAULT_MAX_MESSAGE })
    }
}

/// Checks the upgrade request's headers and returns the `Sec-WebSocket-Accept` value.
fn check_request(method: &Method, headers: &HeaderMap) -> Result<HeaderValue, NotAnUpgrade> {
    if method != Method::GET {
        return Err(NotAnUpgrade::Bad("a WebSocket upgrade is a GET request"));
    }
    let has_token = |name: header::HeaderName, token: &str| {
        headers
            .get_all(name)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(','))
            .any(|part| part.trim().eq_ignore_ascii_case(token))
    };
    if !has_token(header::CONNECTION, "upgrade") || !has_token(header::UPGRADE, "websocket") {
        return Err(NotAnUpgrade::Bad(
            "this endpoint speaks WebSocket: send Connection: upgrade and Upgrade: websocket",
        ));
    }
    if headers.get(header::SEC_WEBSOCKET_VERSION).is_none_or(|version| version != "13") {
        return Err(NotAnUpgrade::Version);
    }
    let key = headers
        .get(header::SEC_WEBSOCKET_KEY)
        .filter(|key| base64::engine::general_purpose::STANDARD.decode(key.as_bytes()).is_ok_and(|raw| raw.len() == 16))
        .ok_or(NotAnUpgrade::Bad("Sec-WebSocket-Key must be 16 bytes in base64"))?;
    Ok(accept_value(key.as_bytes()))
}

/// `Sec-WebSocket-Accept` for a client's key (section 4.2.2).
fn accept_value(key: &[u8]) -> HeaderValue {
    let mut sha1 = Sha1::new();
    sha1.update(key);
    sha1.update(ACCEPT_GUID.as_bytes());
    let encoded = base64::engine::general_purpose::STANDARD.encode(sha1.finalize());
    HeaderValue::from_str(&encoded).expect("base64 is a valid header value")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn upgrade_headers() -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::CONNECTION, HeaderValue::from_static("keep-alive, Upgrade"));
        headers.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
        headers.insert(header::SEC_WEBSOCKET_VERSION, HeaderValue::from_static("13"));
        headers.insert(header::SEC_WEBSOCKET_KEY, HeaderValue::from_static("dGhlIHNhbXBsZSBub25jZQ=="));
        headers
    }

    #[test]
    fn the_accept_value_matches_the_rfc_example() {
        // RFC 6455 section 1.3 works this key through to this answer.
        let accept = check_request(&Method::GET, &upgrade_headers()).unwrap();
        assert_eq!(accept, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    }

    #[test]
    fn requests_that_are_not_upgrades_are_refused() {
        assert!(check_request(&Method::POST, &upgrade_headers()).is_err());
        for (name, value) in [
            (header::CONNECTION, "keep-alive"),
            (header::UPGRADE, "h2c"),
            (header::SEC_WEBSOCKET_VERSION, "8"),
            (header::SEC_WEBSOCKET_KEY, "short"),
        ] {
            let mut headers = upgrade_headers();
            headers.insert(name.clone(), HeaderValue::from_static(value));
            assert!(check_request(&Method::GET, &headers).is_err(), "{name}: {value}");
        }
        let mut old_version = upgrade_headers();
        old_version.insert(header::SEC_WEBSOCKET_VERSION, HeaderValue::from_static("8"));
        assert!(matches!(check_request(&Method::GET, &old_version), Err(NotAnUpgrade::Version)));
        let mut missing_key = upgrade_headers();
        missing_key.remove(header::SEC_WEBSOCKET_KEY);
        assert!(check_request(&Method::GET, &missing_key).is_err());
    }
}
