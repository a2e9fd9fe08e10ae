//! The resource proxy: the agent's rebuilt page loads the customer's stylesheets, images and
//! fonts through `GET /proxy?url=…` on this server instead of from the site directly.
//!
//! Why: the agent's browser then never contacts the company's site (no agent cookies or
//! addresses leak to it, and nothing the customer's page names is fetched from the agent's
//! network); resources are cached once for every agent; and the server enforces what may be
//! fetched — allowed site origins only, never private or loopback addresses unless configured,
//! passive content types only, with size and time caps. Responses carry a sandboxing CSP so a
//! proxied SVG opened directly can never run script in the server's origin.

pub mod address;
pub mod cache;
pub mod css;
pub mod fetch;

use crate::auth::AuthenticatedAgent;
use crate::config::ProxyConfig;
use crate::error::ApiError;
use crate::state::AppState;
use axum::extract::{Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use cache::{Resource, ResourceCache};
use cobrowse_protocol::ErrorCode;
use fetch::{FetchError, Fetcher};
use serde::Deserialize;
use std::sync::Mutex;

/// The path resources are proxied under.
pub const PROXY_PATH: &str = "/proxy";

/// Served with every proxied resource: it is data, never a document that could run.
pub const PROXY_CSP: &str = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; font-src data:; sandbox";

/// The proxy: its fetcher and cache.
pub struct ResourceProxy {
    fetcher: Fetcher,
    cache: Mutex<ResourceCache>,
    enabled: bool,
}

impl ResourceProxy {
    /// A proxy for `site_origins` under `config`.
    pub fn new(config: &ProxyConfig, site_origins: &[String]) -> Self {
        Self {
            cache: Mutex::new(ResourceCache::new(config.cache_entries, config.cache_bytes, config.cache_ttl)),
            fetcher: Fetcher::new(config.clone(), site_origins),
            enabled: config.enabled,
        }
    }

    fn cache(&self) -> std::sync::MutexGuard<'_, ResourceCache> {
        self.cache.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The resource at `url`, from the cache or fetched (stylesheets rewritten to use the proxy).
    pub async fn resource(&self, url: &str) -> Result<Resource, FetchError> {
        if let Some(hit) = self.cache().get(url) {
            return Ok(hit);
        }
        let (content_type, body, final_url) = self.fetcher.fetch(url).await?;
        let body = if content_type == "text/css" {
            let text = String::from_utf8_lossy(&body);
            Bytes::from(css::rewrite_urls(&text, &final_url, proxied_url).into_bytes())
        } else {
            body
        };
        let resource = Resource { content_type, body };
        self.cache().put(url.to_owned(), resource.clone());
        Ok(resource)
    }
}

/// The proxy URL of an absolute resource URL.
pub fn proxied_url(absolute: &str) -> String {
    let mut out = String::with_capacity(absolute.len() + 16);
    out.push_str(PROXY_PATH);
    out.push_str("?url=");
    for byte in absolute.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => out.push(byte as char),
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}

/// The path and query of `url` when it points at this server (same host as the request).
fn same_server_path(url: &str, headers: &axum::http::HeaderMap) -> Option<String> {
    let host = headers.get(header::HOST)?.to_str().ok()?;
    let parsed = reqwest::Url::parse(url).ok()?;
    let authority = match parsed.port() {
        Some(port) => format!("{}:{port}", parsed.host_str()?),
        None => parsed.host_str()?.to_owned(),
    };
    if !authority.eq_ignore_ascii_case(host) || !matches!(parsed.scheme(), "http" | "https") {
        return None;
    }
    let mut path = parsed.path().to_owned();
    if let Some(query) = parsed.query() {
        path.push('?');
        path.push_str(query);
    }
    // Never redirect back into the proxy itself.
    (!path.starts_with(PROXY_PATH)).then_some(path)
}

/// `GET /proxy` query.
#[derive(Debug, Deserialize)]
pub struct ProxyQuery {
    /// The absolute URL of the resource.
    pub url: String,
}

/// `GET /proxy?url=…`: a signed-in agent's view loads a customer page's resource.
pub async fn handler(
    State(state): State<AppState>,
    AuthenticatedAgent(_agent): AuthenticatedAgent,
    headers: axum::http::HeaderMap,
    Query(query): Query<ProxyQuery>,
) -> Result<Response, ApiError> {
    if !state.proxy.enabled {
        return Err(ApiError::new(StatusCode::NOT_FOUND, ErrorCode::InvalidRequest, "the resource proxy is disabled"));
    }
    // A resource of this server itself (the demo site) needs no proxy: send the view there.
    if let Some(path) = same_server_path(&query.url, &headers) {
        return Ok(axum::response::Redirect::temporary(&path).into_response());
    }
    let resource = state.proxy.resource(&query.url).await.map_err(|err| {
        let status = match err {
            FetchError::BadUrl => StatusCode::BAD_REQUEST,
            FetchError::OriginNotAllowed(_) | FetchError::PrivateAddress => StatusCode::FORBIDDEN,
            FetchError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            FetchError::UnsupportedType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            FetchError::Upstream(_) => StatusCode::BAD_GATEWAY,
        };
        let code = match err {
            FetchError::OriginNotAllowed(_) | FetchError::PrivateAddress => ErrorCode::OriginNotAllowed,
            FetchError::TooLarge(_) => ErrorCode::LimitExceeded,
            FetchError::Upstream(_) => ErrorCode::UpstreamFailed,
            FetchError::BadUrl | FetchError::UnsupportedType(_) => ErrorCode::InvalidRequest,
        };
        ApiError::new(status, code, err.to_string())
    })?;
    let mut response = (StatusCode::OK, resource.body).into_response();
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&resource.content_type) {
        headers.insert(header::CONTENT_TYPE, value);
    }
    headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(PROXY_CSP));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, max-age=300"));
    headers.insert("cross-origin-resource-policy", HeaderValue::from_static("same-origin"));
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proxied_urls_are_fully_encoded() {
        assert_eq!(
            proxied_url("https://a.example/x y.png?q=1&r=2"),
            "/proxy?url=https%3A%2F%2Fa.example%2Fx%20y.png%3Fq%3D1%26r%3D2"
        );
    }
}
