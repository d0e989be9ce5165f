//! Sessions: `createSession` with the app password, `refreshSession` with the refresh token, and
//! their place in the account's credentials (`{"app_password", "session": {accessJwt, refreshJwt, did}}`).

use super::xrpc::{Body, XrpcError, call};
use crate::guard::GuardedClient;
use crate::publish::{Account, NetError};
use serde_json::{Value, json};

/// A logged-in session.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Session {
    /// Short-lived access token.
    pub access: String,
    /// Longer-lived token that renews the session.
    pub refresh: String,
    /// The account's DID (the repository written to).
    pub did: String,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session").field("did", &self.did).finish_non_exhaustive()
    }
}

impl Session {
    /// The session cached in the credentials, if complete.
    pub fn cached(credentials: &Value) -> Option<Session> {
        let s = credentials.get("session")?;
        let field = |k: &str| s.get(k).and_then(Value::as_str).filter(|v| !v.is_empty()).map(str::to_owned);
        Some(Session { access: field("accessJwt")?, refresh: field("refreshJwt")?, did: field("did")? })
    }

    fn from_answer(answer: &Value) -> Result<Session, XrpcError> {
        Session::cached(&json!({"session": answer})).ok_or_else(|| XrpcError {
            status: None,
            error: String::new(),
            net: NetError::Unknown { message: "session answer without accessJwt, refreshJwt or did".into() },
        })
    }

    /// When the access token expires (its JWT `exp` claim, seconds since the epoch), if readable.
    pub fn access_expires_at(&self) -> Option<i64> {
        use base64::Engine;
        let payload = self.access.split('.').nth(1)?;
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload.trim_end_matches('=')).ok()?;
        serde_json::from_slice::<Value>(&bytes).ok()?.get("exp")?.as_i64()
    }

    /// The credentials with this session cached in them (other fields kept).
    pub fn into_credentials(self, credentials: &Value) -> Value {
        let mut out = if credentials.is_object() { credentials.clone() } else { json!({}) };
        out["session"] = json!({"accessJwt": self.access, "refreshJwt": self.refresh, "did": self.did});
        out
    }
}

/// Logs in with the handle and app password (`com.atproto.server.createSession`).
pub(crate) async fn create(http: &GuardedClient, base: &str, account: &Account) -> Result<Session, XrpcError> {
    let password = account.credentials.get("app_password").and_then(Value::as_str).unwrap_or_default();
    if password.is_empty() {
        return Err(XrpcError {
            status: None,
            error: String::new(),
            net: NetError::Auth { message: "no app password in the credentials".into() },
        });
    }
    let body = json!({"identifier": account.handle, "password": password});
    let answer = call(http, base, "com.atproto.server.createSession", None, Body::Json(body)).await?;
    Session::from_answer(&answer)
}

/// Renews a session with its refresh token (`com.atproto.server.refreshSession`).
pub(crate) async fn refresh(http: &GuardedClient, base: &str, session: &Session) -> Result<Session, XrpcError> {
    let answer = call(http, base, "com.atproto.server.refreshSession", Some(&session.refresh), Body::Empty).await?;
    Session::from_answer(&answer)
}

/// Refreshes `session` when there is one, else (or when that fails) logs in again.
pub(crate) async fn renew(
    http: &GuardedClient,
    base: &str,
    account: &Account,
    session: Option<&Session>,
) -> Result<Session, XrpcError> {
    if let Some(session) = session {
        match refresh(http, base, session).await {
            Ok(fresh) => return Ok(fresh),
            Err(e) => tracing::debug!(error = %e.net, "Bluesky refreshSession failed, logging in again."),
        }
    }
    create(http, base, account).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_round_trip() {
        let creds = json!({"app_password": "pw", "session": {"accessJwt": "a", "refreshJwt": "r", "did": "did:plc:x"}});
        let s = Session::cached(&creds).unwrap_or_else(|| panic!("no session"));
        assert_eq!(s.did, "did:plc:x");
        assert!(!format!("{s:?}").contains("\"a\""), "tokens are not in Debug");
        assert_eq!(s.clone().into_credentials(&json!({"app_password": "pw"})), creds);
        assert_eq!(Session::cached(&json!({"app_password": "pw"})), None);
        assert_eq!(Session::cached(&json!({"session": {"accessJwt": "", "refreshJwt": "r", "did": "d"}})), None);
    }
}

#[cfg(test)]
mod expiry_tests {
    use super::*;

    #[test]
    fn reads_the_access_token_expiry() {
        use base64::Engine;
        let enc = |v: &Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
        let jwt = format!(
            "{}.{}.sig",
            enc(&json!({"alg": "ES256K"})),
            enc(&json!({"sub": "did:plc:x", "exp": 1_800_000_000}))
        );
        let check = |access: &str, expected: Option<i64>| {
            let s = Session { access: access.into(), refresh: "r".into(), did: "d".into() };
            assert_eq!(s.access_expires_at(), expected, "{access}");
        };
        check(&jwt, Some(1_800_000_000));
        check("not-a-jwt", None);
        check("a.!!!.c", None);
    }
}
