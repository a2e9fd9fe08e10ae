//! Fetching one resource under the proxy's rules: allowed origins only, no private addresses
//! (checked on every connection through a filtering DNS resolver, and for address literals
//! before connecting), redirects followed by hand so each hop is checked again, a size cap while
//! reading, a time cap on the whole exchange, and only passive content types.

use super::address::is_private;
use crate::config::{normalize_origin, ProxyConfig};
use bytes::Bytes;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use reqwest::Url;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

/// Redirect hops followed at most.
pub const MAX_REDIRECTS: usize = 3;

/// Why a resource was not served.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// Not an absolute http(s) URL.
    #[error("not an absolute http or https URL")]
    BadUrl,
    /// The origin is not one of the company's sites.
    #[error("{0} is not an allowed site origin")]
    OriginNotAllowed(String),
    /// The host resolves to a private or special address.
    #[error("the host resolves to a private address")]
    PrivateAddress,
    /// Larger than the size cap.
    #[error("the resource is larger than {0} bytes")]
    TooLarge(usize),
    /// Not a stylesheet, image or font.
    #[error("content type {0:?} is not served through the proxy")]
    UnsupportedType(String),
    /// The site answered with an error, too many redirects, or not in time.
    #[error("the site could not be fetched: {0}")]
    Upstream(String),
}

/// Resolves names with the system resolver and drops private addresses unless allowed.
struct GuardedResolver {
    allow_private: bool,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let allow_private = self.allow_private;
        Box::pin(async move {
            let found: Vec<SocketAddr> = tokio::net::lookup_host((name.as_str(), 0)).await?.collect();
            let allowed: Vec<SocketAddr> =
                found.into_iter().filter(|addr| allow_private || !is_private(addr.ip())).collect();
            if allowed.is_empty() {
                return Err(Box::new(std::io::Error::other("the host resolves only to private addresses"))
                    as Box<dyn std::error::Error + Send + Sync>);
            }
            Ok(Box::new(allowed.into_iter()) as Addrs)
        })
    }
}

/// The HTTP client of the proxy with its rules.
pub struct Fetcher {
    client: reqwest::Client,
    config: ProxyConfig,
    origins: Vec<String>,
}

impl Fetcher {
    /// A fetcher allowing `site_origins` plus the configured asset origins.
    pub fn new(config: ProxyConfig, site_origins: &[String]) -> Self {
        let mut origins: Vec<String> = site_origins.to_vec();
        origins.extend(config.extra_origins.iter().filter_map(|o| normalize_origin(o)));
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(config.timeout)
            .connect_timeout(config.timeout)
            .dns_resolver(Arc::new(GuardedResolver { allow_private: config.allow_private }))
            .user_agent(concat!("cobrowse-resource-proxy/", env!("CARGO_PKG_VERSION")))
            .build()
            .expect("the proxy's HTTP client builds");
        Self { client, config, origins }
    }

    fn check(&self, url: &Url) -> Result<(), FetchError> {
        if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
            return Err(FetchError::BadUrl);
        }
        let origin = normalize_origin(&url.origin().ascii_serialization()).ok_or(FetchError::BadUrl)?;
        if !self.origins.contains(&origin) {
            return Err(FetchError::OriginNotAllowed(origin));
        }
        let literal = match url.host() {
            Some(url::Host::Ipv4(v4)) => Some(IpAddr::V4(v4)),
            Some(url::Host::Ipv6(v6)) => Some(IpAddr::V6(v6)),
            _ => None,
        };
        if literal.is_some_and(is_private) && !self.config.allow_private {
            return Err(FetchError::PrivateAddress);
        }
        Ok(())
    }

    /// Fetches `url`, returning its content type, body and final URL (after redirects).
    pub async fn fetch(&self, url: &str) -> Result<(String, Bytes, Url), FetchError> {
        let mut url = Url::parse(url).map_err(|_| FetchError::BadUrl)?;
        for _ in 0..=MAX_REDIRECTS {
            self.check(&url)?;
            let response = self.client.get(url.clone()).send().await.map_err(|err| {
                if format!("{err:?}").contains("private addresses") {
                    FetchError::PrivateAddress
                } else {
                    FetchError::Upstream(short(&err))
                }
            })?;
            let status = response.status();
            if status.is_redirection() {
                let location = response
                    .headers()
                    .get(reqwest::header::LOCATION)
                    .and_then(|v| v.to_str().ok())
                    .ok_or_else(|| FetchError::Upstream("redirect without a location".into()))?;
                url = url.join(location).map_err(|_| FetchError::BadUrl)?;
                continue;
            }
            if !status.is_success() {
                return Err(FetchError::Upstream(format!("the site answered {status}")));
            }
            let content_type = passive_content_type(&response, &url)?;
            if response.content_length().is_some_and(|len| len > self.config.max_bytes as u64) {
                return Err(FetchError::TooLarge(self.config.max_bytes));
            }
            let body = read_capped(response, self.config.max_bytes).await?;
            return Ok((content_type, body, url));
        }
        Err(FetchError::Upstream(format!("more than {MAX_REDIRECTS} redirects")))
    }
}

fn short(err: &reqwest::Error) -> String {
    if err.is_timeout() {
        "timed out".into()
    } else if err.is_connect() {
        "could not connect".into()
    } else {
        "the request failed".into()
    }
}

async fn read_capped(mut response: reqwest::Response, max: usize) -> Result<Bytes, FetchError> {
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|err| FetchError::Upstream(short(&err)))? {
        if body.len() + chunk.len() > max {
            return Err(FetchError::TooLarge(max));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Bytes::from(body))
}

/// The content type to serve: stylesheets, images and fonts only. Anything that could run as a
/// document or script in the server's origin (HTML, JavaScript, XML documents) is refused.
fn passive_content_type(response: &reqwest::Response, url: &Url) -> Result<String, FetchError> {
    let declared = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    let mime = if declared.is_empty() || declared == "application/octet-stream" {
        mime_guess::from_path(url.path()).first().map(|m| m.essence_str().to_owned()).unwrap_or(declared)
    } else {
        declared
    };
    let passive = mime == "text/css"
        || mime.starts_with("image/")
        || mime.starts_with("font/")
        || matches!(
            mime.as_str(),
            "application/font-woff"
                | "application/font-woff2"
                | "application/x-font-ttf"
                | "application/x-font-otf"
                | "application/vnd.ms-fontobject"
                | "application/font-sfnt"
        );
    if passive {
        Ok(mime)
    } else {
        Err(FetchError::UnsupportedType(mime))
    }
}
