//! Sending one request to a Mastodon server through the guarded client, and classifying its outcome.

use crate::guard::{FetchError, GuardedClient};
use crate::publish::NetError;
use futures_util::StreamExt;
use reqwest::{Method, RequestBuilder, StatusCode};
use std::time::{Duration, SystemTime};

/// A server's answer, read in full (within the client's size limit).
#[derive(Debug)]
pub(crate) struct Reply {
    /// HTTP status.
    pub status: StatusCode,
    /// `Retry-After` header, when present.
    pub retry_after: Option<String>,
    /// `X-RateLimit-Reset` header, when present.
    pub rate_limit_reset: Option<String>,
    /// The body.
    pub body: Vec<u8>,
}

impl Reply {
    /// The JSON body of a successful answer, or the classified error of a failed one.
    pub fn json(self, safe: bool) -> Result<serde_json::Value, NetError> {
        if !self.status.is_success() {
            return Err(self.error(SystemTime::now()));
        }
        serde_json::from_slice(&self.body).map_err(|e| decode_error(safe, &e.to_string()))
    }

    /// The error this (failed) answer stands for.
    pub fn error(&self, now: SystemTime) -> NetError {
        classify(self.status.as_u16(), self.retry_after.as_deref(), self.rate_limit_reset.as_deref(), &self.body, now)
    }
}

/// An undecodable success: harmless to retry for reads, unknown outcome for writes.
fn decode_error(safe: bool, why: &str) -> NetError {
    let message = format!("unreadable answer from the server: {why}");
    if safe { NetError::Transient { message, retry_after: None } } else { NetError::Unknown { message } }
}

/// Sends `method url` (with a bearer token when given) and reads the answer. `safe` requests
/// (reads, deletes) can be repeated without effect, so a failure after sending is transient for
/// them; for the others it leaves the outcome unknown.
pub(crate) async fn send(
    http: &GuardedClient,
    method: Method,
    url: &str,
    token: Option<&str>,
    build: impl FnOnce(RequestBuilder) -> RequestBuilder,
) -> Result<Reply, NetError> {
    let safe = matches!(method, Method::GET | Method::DELETE);
    let (client, url) = http.pinned(url).await.map_err(vet_error)?;
    let mut request = client.request(method, url);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = build(request).send().await.map_err(|e| send_error(safe, &e))?;
    let header = |name: &str| response.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let (retry_after, rate_limit_reset) = (header("retry-after"), header("x-ratelimit-reset"));
    let status = response.status();
    let mut body = Vec::new();
    let mut stream = response.bytes_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| decode_error(safe, &e.to_string()))?;
        if body.len() + chunk.len() > http.max_bytes() {
            return Err(decode_error(safe, &format!("larger than {} bytes", http.max_bytes())));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Reply { status, retry_after, rate_limit_reset, body })
}

/// A destination the guard refused or could not resolve.
fn vet_error(e: FetchError) -> NetError {
    match e {
        FetchError::Unreachable(message) => NetError::Transient { message, retry_after: None },
        other => NetError::Permanent { message: other.to_string() },
    }
}

/// A request that got no answer: transient when it could not have been sent (connection
/// refused, DNS, TLS), unknown when it may have reached the server (timeout, cut connection).
fn send_error(safe: bool, e: &reqwest::Error) -> NetError {
    let message = e.to_string();
    if e.is_builder() {
        NetError::Permanent { message }
    } else if e.is_connect() || safe {
        NetError::Transient { message, retry_after: None }
    } else {
        NetError::Unknown { message }
    }
}

/// Classifies a failed answer: 401/403 → [`NetError::Auth`], 429 → [`NetError::RateLimited`]
/// (delay from `Retry-After` seconds or the ISO time in `X-RateLimit-Reset`, relative to `now`),
/// 5xx → [`NetError::Transient`], other statuses → [`NetError::Permanent`]. Messages come from
/// Mastodon's `{"error": "..."}` body when there is one.
pub(crate) fn classify(
    status: u16,
    retry_after: Option<&str>,
    rate_limit_reset: Option<&str>,
    body: &[u8],
    now: SystemTime,
) -> NetError {
    let message = error_message(status, body);
    match status {
        401 | 403 => NetError::Auth { message },
        429 => NetError::RateLimited { retry_after: retry_delay(retry_after, rate_limit_reset, now) },
        500..=599 => NetError::Transient { message, retry_after: retry_delay(retry_after, None, now) },
        _ => NetError::Permanent { message },
    }
}

/// The server's `error` (and `error_description`) field, else the status and a bit of the body.
pub(crate) fn error_message(status: u16, body: &[u8]) -> String {
    let json: Option<serde_json::Value> = serde_json::from_slice(body).ok();
    let field = |name: &str| json.as_ref().and_then(|j| j.get(name)).and_then(|v| v.as_str()).map(str::to_owned);
    match (field("error"), field("error_description")) {
        (Some(error), Some(description)) if error != description => format!("{error}: {description}"),
        (Some(error), _) => error,
        _ => {
            let text: String = String::from_utf8_lossy(body).chars().take(200).collect();
            if text.trim().is_empty() {
                format!("HTTP status {status}")
            } else {
                format!("HTTP status {status}: {text}")
            }
        }
    }
}

/// The delay before retrying: `Retry-After` in seconds first, else the reset time.
fn retry_delay(retry_after: Option<&str>, rate_limit_reset: Option<&str>, now: SystemTime) -> Option<Duration> {
    if let Some(seconds) = retry_after.and_then(|v| v.trim().parse::<u64>().ok()) {
        return Some(Duration::from_secs(seconds));
    }
    let reset: jiff::Timestamp = rate_limit_reset?.trim().parse().ok()?;
    let now = jiff::Timestamp::try_from(now).ok()?;
    let millis = reset.as_millisecond().saturating_sub(now.as_millisecond()).max(0);
    Some(Duration::from_millis(u64::try_from(millis).unwrap_or(0)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(iso: &str) -> SystemTime {
        iso.parse::<jiff::Timestamp>().map(SystemTime::from).unwrap_or(SystemTime::UNIX_EPOCH)
    }

    #[test]
    fn classification() {
        let now = at("2019-12-12T02:59:30Z");
        let check = |status: u16, retry: Option<&str>, reset: Option<&str>, body: &str, expected: NetError| {
            assert_eq!(classify(status, retry, reset, body.as_bytes(), now), expected, "{status} {body}")
        };
        let auth = |m: &str| NetError::Auth { message: m.into() };
        let permanent = |m: &str| NetError::Permanent { message: m.into() };
        let limited = |s: u64| NetError::RateLimited { retry_after: Some(Duration::from_secs(s)) };
        check(401, None, None, r#"{"error":"The access token is invalid"}"#, auth("The access token is invalid"));
        check(
            403,
            None,
            None,
            r#"{"error":"This action is outside the authorized scopes"}"#,
            auth("This action is outside the authorized scopes"),
        );
        check(
            422,
            None,
            None,
            r#"{"error":"Validation failed: Text can't be blank"}"#,
            permanent("Validation failed: Text can't be blank"),
        );
        check(404, None, None, r#"{"error":"Record not found"}"#, permanent("Record not found"));
        check(
            400,
            None,
            None,
            r#"{"error":"invalid_grant","error_description":"The code is invalid"}"#,
            permanent("invalid_grant: The code is invalid"),
        );
        check(410, None, None, "", permanent("HTTP status 410"));
        check(
            429,
            None,
            Some("2019-12-12T03:00:00.264Z"),
            r#"{"error":"Too many requests"}"#,
            NetError::RateLimited { retry_after: Some(Duration::from_millis(30_264)) },
        );
        check(429, Some("120"), Some("2019-12-12T03:00:00Z"), "", limited(120));
        check(429, None, Some("2019-12-12T02:00:00Z"), "", limited(0));
        check(429, None, Some("soon"), "", NetError::RateLimited { retry_after: None });
        check(
            503,
            None,
            None,
            "<html>down</html>",
            NetError::Transient { message: "HTTP status 503: <html>down</html>".into(), retry_after: None },
        );
        check(
            502,
            Some("5"),
            None,
            r#"{"error":"upstream"}"#,
            NetError::Transient { message: "upstream".into(), retry_after: Some(Duration::from_secs(5)) },
        );
    }
}
