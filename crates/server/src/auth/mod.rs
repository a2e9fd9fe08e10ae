//! Who an agent is. The handlers only ever see [`AuthenticatedAgent`], an extractor; where the
//! identity comes from (today: accounts in configuration and sign-in tokens held in memory;
//! later: managed accounts) is decided here and nowhere else.

pub mod rate_limit;

use crate::config::AgentAccount;
use crate::error::ApiError;
use crate::sessions::participant::new_token;
use crate::state::AppState;
use argon2::{Argon2, PasswordHash, PasswordVerifier};
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use serde::Serialize;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;
use tokio::time::Instant;

/// The cookie that carries an agent's sign-in token in the workspace.
pub const AUTH_COOKIE: &str = "cobrowse_agent";

/// A signed-in agent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AgentIdentity {
    /// Account ID.
    pub id: String,
    /// Name shown to customers.
    pub name: String,
    /// May watch sessions read-only when policy allows.
    pub supervisor: bool,
}

/// Verifies passwords and keeps sign-in tokens.
pub struct AuthService {
    accounts: HashMap<String, AgentAccount>,
    signed_in: Mutex<HashMap<String, (AgentIdentity, Instant)>>,
    lifetime: Duration,
    /// Verified against when the user name is unknown, so both cases take the same time.
    decoy_hash: String,
}

impl AuthService {
    /// A service for `accounts` whose sign-ins last `lifetime`.
    pub fn new(accounts: &[AgentAccount], lifetime: Duration) -> Self {
        Self {
            accounts: accounts.iter().map(|a| (a.id.clone(), a.clone())).collect(),
            signed_in: Mutex::new(HashMap::new()),
            lifetime,
            decoy_hash: hash_password("decoy password that matches nothing"),
        }
    }

    fn signed_in(&self) -> std::sync::MutexGuard<'_, HashMap<String, (AgentIdentity, Instant)>> {
        self.signed_in.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Checks a user name and password; returns a new sign-in token and the identity.
    pub async fn sign_in(&self, username: &str, password: &str) -> Option<(String, AgentIdentity)> {
        let account = self.accounts.get(username).cloned();
        let hash = account.as_ref().map(|a| a.password_hash.clone()).unwrap_or_else(|| self.decoy_hash.clone());
        let password = password.to_owned();
        let verified = tokio::task::spawn_blocking(move || {
            PasswordHash::new(&hash)
                .is_ok_and(|parsed| Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok())
        })
        .await
        .unwrap_or(false);
        let account = account.filter(|_| verified)?;
        let identity = AgentIdentity { id: account.id, name: account.name, supervisor: account.supervisor };
        let token = new_token();
        let now = Instant::now();
        let mut signed_in = self.signed_in();
        signed_in.retain(|_, (_, expires)| *expires > now);
        signed_in.insert(token.clone(), (identity.clone(), now + self.lifetime));
        Some((token, identity))
    }

    /// The agent a sign-in token belongs to, if it is valid.
    pub fn identify(&self, token: &str) -> Option<AgentIdentity> {
        let signed_in = self.signed_in();
        signed_in.get(token).filter(|(_, expires)| *expires > Instant::now()).map(|(identity, _)| identity.clone())
    }

    /// Ends a sign-in.
    pub fn sign_out(&self, token: &str) {
        self.signed_in().remove(token);
    }
}

/// Hashes a password with Argon2id and a random salt, in PHC form (for `cobrowse hash-password`
/// and the demo accounts).
pub fn hash_password(password: &str) -> String {
    use argon2::password_hash::{PasswordHasher, SaltString};
    use rand::TryRngCore;
    let mut bytes = [0u8; 16];
    rand::rngs::OsRng.try_fill_bytes(&mut bytes).expect("the operating system's random source is available");
    let salt = SaltString::encode_b64(&bytes).expect("16 bytes make a valid salt");
    Argon2::default().hash_password(password.as_bytes(), &salt).expect("argon2 hashes any password").to_string()
}

/// The sign-in token of a request: `Authorization: Bearer …` or the workspace cookie.
pub fn request_token(parts: &Parts) -> Option<String> {
    if let Some(value) = parts.headers.get(axum::http::header::AUTHORIZATION).and_then(|v| v.to_str().ok()) {
        if let Some(token) = value.strip_prefix("Bearer ") {
            return Some(token.trim().to_owned());
        }
    }
    parts
        .headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == AUTH_COOKIE)
        .map(|(_, value)| value.to_owned())
}

/// Extractor: the request comes from a signed-in agent. Rejects with 401 `unauthenticated`.
pub struct AuthenticatedAgent(pub AgentIdentity);

impl FromRequestParts<AppState> for AuthenticatedAgent {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let token = request_token(parts).ok_or_else(ApiError::unauthenticated)?;
        state.auth.identify(&token).map(AuthenticatedAgent).ok_or_else(ApiError::unauthenticated)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn service() -> AuthService {
        let account = AgentAccount {
            id: "alice".into(),
            name: "Alice".into(),
            password_hash: hash_password("right"),
            supervisor: false,
        };
        AuthService::new(&[account], Duration::from_secs(60))
    }

    #[tokio::test]
    async fn sign_in_checks_the_password() {
        let auth = service();
        assert!(auth.sign_in("alice", "wrong").await.is_none());
        assert!(auth.sign_in("mallory", "right").await.is_none());
        let (token, who) = auth.sign_in("alice", "right").await.unwrap();
        assert_eq!(who.id, "alice");
        assert_eq!(auth.identify(&token), Some(who));
        auth.sign_out(&token);
        assert_eq!(auth.identify(&token), None);
    }

    #[tokio::test(start_paused = true)]
    async fn sign_ins_expire() {
        let auth = service();
        let (token, _) = auth.sign_in("alice", "right").await.unwrap();
        tokio::time::advance(Duration::from_secs(61)).await;
        assert_eq!(auth.identify(&token), None);
    }
}
