//! Facts about the client of a request: its address and whether its `Origin` is allowed.

use crate::state::AppState;
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::HeaderMap;
use std::convert::Infallible;
use std::net::SocketAddr;

/// The client's IP address, for rate limits (`unknown` when the server runs without connect
/// info, as in router tests).
pub struct ClientAddress(pub String);

impl FromRequestParts<AppState> for ClientAddress {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &AppState) -> Result<Self, Self::Rejection> {
        let address = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(addr)| addr.ip().to_string())
            .unwrap_or_else(|| "unknown".into());
        Ok(ClientAddress(address))
    }
}

/// How a request's `Origin` relates to this server and the configured site.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OriginKind {
    /// No `Origin` header: not a browser's cross-site request.
    Absent,
    /// The page came from this server itself (the workspace, the demo site).
    SameSite,
    /// One of the configured site origins.
    Site,
    /// Anything else.
    Foreign,
}

/// Classifies the request's `Origin` against the `Host` it was sent to and the site origins.
pub fn classify_origin(headers: &HeaderMap, site_origins: &[String]) -> OriginKind {
    let Some(origin) = headers.get(axum::http::header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        return OriginKind::Absent;
    };
    let Some(normalized) = crate::config::normalize_origin(origin) else {
        return OriginKind::Foreign; // "null" and other opaque origins
    };
    let host = headers.get(axum::http::header::HOST).and_then(|v| v.to_str().ok()).unwrap_or("");
    let origin_host = normalized.split_once("://").map(|(_, rest)| rest).unwrap_or("");
    let host_lower = host.to_ascii_lowercase();
    let host_without_default_port =
        host_lower.strip_suffix(":80").or_else(|| host_lower.strip_suffix(":443")).unwrap_or(&host_lower);
    if !host.is_empty() && (origin_host == host_lower || origin_host == host_without_default_port) {
        OriginKind::SameSite
    } else if site_origins.contains(&normalized) {
        OriginKind::Site
    } else {
        OriginKind::Foreign
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(origin: Option<&str>, host: &str) -> HeaderMap {
        let mut map = HeaderMap::new();
        if let Some(origin) = origin {
            map.insert("origin", origin.parse().unwrap());
        }
        map.insert("host", host.parse().unwrap());
        map
    }

    #[test]
    fn origins_are_classified() {
        let sites = vec!["https://shop.example".to_string()];
        assert_eq!(classify_origin(&headers(None, "cb:8080"), &sites), OriginKind::Absent);
        assert_eq!(classify_origin(&headers(Some("http://cb:8080"), "cb:8080"), &sites), OriginKind::SameSite);
        assert_eq!(classify_origin(&headers(Some("https://cb"), "cb:443"), &sites), OriginKind::SameSite);
        assert_eq!(classify_origin(&headers(Some("https://shop.example"), "cb:8080"), &sites), OriginKind::Site);
        assert_eq!(classify_origin(&headers(Some("https://evil.example"), "cb:8080"), &sites), OriginKind::Foreign);
        assert_eq!(classify_origin(&headers(Some("null"), "cb:8080"), &sites), OriginKind::Foreign);
    }
}
