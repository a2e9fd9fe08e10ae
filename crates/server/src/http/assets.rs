//! The browser apps, embedded in the binary: the SDK at `/sdk/`, the agent workspace at
//! `/agent/`, the demo company site at `/demo/` (demo mode only).
//!
//! Debug builds read the files from `web/` at run time, so browser code can be edited without a
//! rebuild; release builds carry them inside the binary.

use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use rust_embed::RustEmbed;

#[derive(RustEmbed)]
#[folder = "../../web/"]
#[exclude = "*/test/*"]
#[exclude = "*.test.js"]
struct Web;

/// The agent workspace's Content-Security-Policy while the resource proxy is on: its own scripts
/// only, no inline script, rebuilt pages confined to frames, and every stylesheet, image and font
/// from this server (the proxy) — the agent's browser never contacts the customer's site.
pub const AGENT_CSP: &str = "default-src 'self'; img-src 'self' data: blob:; \
style-src 'self' 'unsafe-inline' blob:; font-src 'self' data: blob:; \
frame-src 'self' blob: about:; connect-src 'self' ws: wss:; script-src 'self'; object-src 'none'; \
base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// The same with the proxy disabled: the customer's resources load from the site directly.
pub const AGENT_CSP_DIRECT: &str = "default-src 'self'; img-src 'self' data: blob: http: https:; \
style-src 'self' 'unsafe-inline' blob: http: https:; font-src 'self' data: blob: http: https:; \
frame-src 'self' blob: about:; connect-src 'self' ws: wss:; script-src 'self'; object-src 'none'; \
base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

fn serve(app: &str, path: &str, agent_csp: &'static str) -> Response {
    let path = if path.is_empty() || path.ends_with('/') { format!("{path}index.html") } else { path.to_owned() };
    if path.split('/').any(|part| part == ".." || part.starts_with('.')) {
        return StatusCode::NOT_FOUND.into_response();
    }
    let full = format!("{app}/{path}");
    let Some(file) = Web::get(&full) else {
        return (StatusCode::NOT_FOUND, "not found").into_response();
    };
    let mime = mime_guess::from_path(&full).first_or_octet_stream();
    let content_type = match mime.type_() {
        mime_guess::mime::TEXT | mime_guess::mime::APPLICATION
            if mime.get_param("charset").is_none() && !full.ends_with(".html") =>
        {
            format!("{mime}; charset=utf-8")
        }
        _ => mime.to_string(),
    };
    let mut response = (StatusCode::OK, file.data.into_owned()).into_response();
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&content_type) {
        headers.insert(header::CONTENT_TYPE, value);
    }
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    match app {
        "agent" => {
            headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(agent_csp));
            headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
        }
        // The SDK is loaded as a module script by company sites on other origins.
        "sdk" => {
            headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
        }
        _ => {}
    }
    response
}

/// `GET /sdk/{path}`.
pub async fn sdk(Path(path): Path<String>) -> Response {
    serve("sdk", &path, AGENT_CSP)
}

/// `GET /agent/{path}`.
pub async fn agent(State(state): State<AppState>, path: Option<Path<String>>) -> Response {
    let csp = if state.config.proxy.enabled { AGENT_CSP } else { AGENT_CSP_DIRECT };
    serve("agent", path.map(|Path(p)| p).as_deref().unwrap_or(""), csp)
}

/// `GET /demo/{path}`.
pub async fn demo(path: Option<Path<String>>) -> Response {
    serve("demo", path.map(|Path(p)| p).as_deref().unwrap_or(""), AGENT_CSP)
}

/// `GET /`: to the workspace.
pub async fn root() -> Redirect {
    Redirect::temporary("/agent/")
}
