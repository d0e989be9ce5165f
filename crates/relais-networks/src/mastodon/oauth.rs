//! Connecting an account: registering Relais as an OAuth app on a server, the authorization
//! address to send the person to, and exchanging the code they bring back for a token.

use super::http::send;
use crate::guard::GuardedClient;
use crate::publish::NetError;
use reqwest::Method;
use serde_json::{Value, json};

/// The application name shown to people on their server's authorization page.
pub const CLIENT_NAME: &str = "Relais";

/// Relais's OAuth application on one server (`POST /api/v1/apps`).
#[derive(Clone, PartialEq, Eq)]
pub struct AppRegistration {
    /// The application's public identifier.
    pub client_id: String,
    /// The application's secret (never logged).
    pub client_secret: String,
}

impl std::fmt::Debug for AppRegistration {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppRegistration").field("client_id", &self.client_id).finish_non_exhaustive()
    }
}

/// A user access token obtained by the authorization-code flow.
#[derive(Clone, PartialEq, Eq)]
pub struct AccessToken {
    /// The bearer token.
    pub access_token: String,
    /// The scopes granted, space-separated, when the server said.
    pub scope: Option<String>,
}

impl AccessToken {
    /// The credentials to store for the account (`{"access_token": "..."}`).
    pub fn credentials(&self) -> Value {
        json!({ "access_token": self.access_token })
    }
}

impl std::fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccessToken").field("scope", &self.scope).finish_non_exhaustive()
    }
}

/// A string field of a JSON answer.
fn field(value: &Value, name: &str) -> Result<String, NetError> {
    value
        .get(name)
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| NetError::Permanent { message: format!("the server's answer has no `{name}`") })
}

/// Registers Relais on a server (`POST /api/v1/apps`) for this redirect URI and these
/// space-separated scopes (e.g. `"read write"`).
pub async fn register_app(
    client: &GuardedClient,
    instance_url: &str,
    redirect_uri: &str,
    scopes: &str,
) -> Result<AppRegistration, NetError> {
    let base = instance_url.trim_end_matches('/');
    let form = [("client_name", CLIENT_NAME), ("redirect_uris", redirect_uri), ("scopes", scopes)];
    let app = send(client, Method::POST, &format!("{base}/api/v1/apps"), None, |r| r.form(&form)).await?.json(false)?;
    Ok(AppRegistration { client_id: field(&app, "client_id")?, client_secret: field(&app, "client_secret")? })
}

/// The server's authorization page (`GET /oauth/authorize`) for this app; `state` comes back
/// with the code and must be checked by the caller.
pub fn authorize_url(
    instance_url: &str,
    app: &AppRegistration,
    redirect_uri: &str,
    scopes: &str,
    state: &str,
) -> Result<String, NetError> {
    let base = instance_url.trim_end_matches('/');
    let mut url = url::Url::parse(&format!("{base}/oauth/authorize"))
        .map_err(|e| NetError::Permanent { message: format!("invalid server URL `{instance_url}`: {e}") })?;
    url.query_pairs_mut()
        .append_pair("response_type", "code")
        .append_pair("client_id", &app.client_id)
        .append_pair("redirect_uri", redirect_uri)
        .append_pair("scope", scopes)
        .append_pair("state", state);
    Ok(url.into())
}

/// Exchanges an authorization code for a user token (`POST /oauth/token`,
/// `grant_type=authorization_code`).
pub async fn exchange_code(
    client: &GuardedClient,
    instance_url: &str,
    app: &AppRegistration,
    redirect_uri: &str,
    code: &str,
) -> Result<AccessToken, NetError> {
    let base = instance_url.trim_end_matches('/');
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code),
        ("client_id", app.client_id.as_str()),
        ("client_secret", app.client_secret.as_str()),
        ("redirect_uri", redirect_uri),
    ];
    let token =
        send(client, Method::POST, &format!("{base}/oauth/token"), None, |r| r.form(&form)).await?.json(false)?;
    let scope = token.get("scope").and_then(Value::as_str).map(str::to_owned);
    Ok(AccessToken { access_token: field(&token, "access_token")?, scope })
}

/// The account a token belongs to (`GET /api/v1/accounts/verify_credentials`): its `acct`
/// (the username on its own server).
pub async fn token_account(
    client: &GuardedClient,
    instance_url: &str,
    token: &AccessToken,
) -> Result<String, NetError> {
    let base = instance_url.trim_end_matches('/');
    let url = format!("{base}/api/v1/accounts/verify_credentials");
    let me = send(client, Method::GET, &url, Some(&token.access_token), |r| r).await?.json(false)?;
    field(&me, "acct").or_else(|_| field(&me, "username"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn authorization_address() {
        let app = AppRegistration { client_id: "abc".into(), client_secret: "s3cret".into() };
        let url = authorize_url("https://m.example/", &app, "https://relais.example/cb?x=1", "read write", "st&1");
        assert_eq!(
            url.ok().as_deref(),
            Some(
                "https://m.example/oauth/authorize?response_type=code&client_id=abc\
                 &redirect_uri=https%3A%2F%2Frelais.example%2Fcb%3Fx%3D1&scope=read+write&state=st%261"
            )
        );
        assert!(!format!("{app:?}").contains("s3cret"));
        assert!(matches!(authorize_url("not a url", &app, "x", "read", "s"), Err(NetError::Permanent { .. })));
    }
}
