//! XRPC over the guarded client: one request, its answer read within limits, its failure classified.

use crate::guard::{FetchError, GuardedClient};
use crate::publish::NetError;
use futures_util::StreamExt;
use reqwest::header::HeaderMap;
use serde_json::Value;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// What a request sends.
pub(crate) enum Body {
    /// A query (`GET`) with these parameters.
    Query(Vec<(&'static str, String)>),
    /// A procedure (`POST`) with a JSON body.
    Json(Value),
    /// A procedure (`POST`) with raw bytes of a MIME type (`uploadBlob`).
    Bytes(Vec<u8>, String),
    /// A procedure (`POST`) without input (`refreshSession`).
    Empty,
}

/// A failed XRPC call: the classified error, and the XRPC error name when the server gave one.
#[derive(Debug, Clone)]
pub(crate) struct XrpcError {
    /// HTTP status, when the server answered.
    pub status: Option<u16>,
    /// The XRPC `error` name (`ExpiredToken`, `RecordNotFound`…), empty when none.
    pub error: String,
    /// The classification for the engine.
    pub net: NetError,
}

impl XrpcError {
    /// Whether the server named this error.
    pub fn is(&self, name: &str) -> bool {
        self.error == name
    }

    /// Whether a fresh session could fix it (expired or rejected access token).
    pub fn session_rejected(&self) -> bool {
        self.is("ExpiredToken") || self.is("InvalidToken") || self.status == Some(401)
    }

    fn local(net: NetError) -> Self {
        XrpcError { status: None, error: String::new(), net }
    }
}

impl From<XrpcError> for NetError {
    fn from(e: XrpcError) -> Self {
        e.net
    }
}

/// Calls `nsid` on the server at `base` (no trailing slash), with a bearer token if given.
pub(crate) async fn call(
    http: &GuardedClient,
    base: &str,
    nsid: &str,
    token: Option<&str>,
    body: Body,
) -> Result<Value, XrpcError> {
    let (client, mut url) = http.pinned(&format!("{base}/xrpc/{nsid}")).await.map_err(guard_error)?;
    let idempotent = matches!(body, Body::Query(_));
    let mut request = match body {
        Body::Query(params) => {
            url.query_pairs_mut().extend_pairs(params.iter().map(|(k, v)| (*k, v.as_str())));
            client.get(url)
        }
        Body::Json(json) => client.post(url).json(&json),
        Body::Bytes(bytes, mime) => client.post(url).header("content-type", mime).body(bytes),
        Body::Empty => client.post(url),
    };
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.map_err(|e| transport_error(&e, idempotent))?;
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let bytes = read_limited(response, http.max_bytes()).await.map_err(|e| XrpcError::local(e.into_net(idempotent)))?;
    if (200..300).contains(&status) {
        if bytes.is_empty() {
            return Ok(Value::Null);
        }
        return serde_json::from_slice(&bytes)
            .map_err(|e| XrpcError::local(NetError::Unknown { message: format!("{nsid}: unreadable answer: {e}") }));
    }
    Err(classify(status, &headers, &bytes, SystemTime::now()))
}

enum ReadError {
    TooLarge(usize),
    Cut(String),
}

impl ReadError {
    fn into_net(self, idempotent: bool) -> NetError {
        match self {
            ReadError::TooLarge(max) => NetError::Permanent { message: format!("answer larger than {max} bytes") },
            ReadError::Cut(message) if idempotent => NetError::Transient { message, retry_after: None },
            ReadError::Cut(message) => NetError::Unknown { message },
        }
    }
}

async fn read_limited(response: reqwest::Response, max: usize) -> Result<Vec<u8>, ReadError> {
    let mut body = Vec::new();
    let mut stream = response.bytes_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| ReadError::Cut(e.to_string()))?;
        if body.len() + chunk.len() > max {
            return Err(ReadError::TooLarge(max));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

fn guard_error(e: FetchError) -> XrpcError {
    XrpcError::local(match e {
        FetchError::Unreachable(message) => NetError::Transient { message, retry_after: None },
        other => NetError::Permanent { message: other.to_string() },
    })
}

/// Connection failures never reached the server: transient. Anything later (timeout after
/// sending, connection cut) may have taken effect, except for queries, which change nothing.
fn transport_error(e: &reqwest::Error, idempotent: bool) -> XrpcError {
    let message = e.to_string();
    XrpcError::local(if e.is_connect() || idempotent {
        NetError::Transient { message, retry_after: None }
    } else {
        NetError::Unknown { message }
    })
}

/// Classifies an error answer: 401 and token errors → auth, 429 → rate limited (`RateLimit-Reset`
/// is in UNIX seconds), 5xx → transient, other 4xx → permanent with the server's message.
pub(crate) fn classify(status: u16, headers: &HeaderMap, body: &[u8], now: SystemTime) -> XrpcError {
    let json: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let error = json.get("error").and_then(Value::as_str).unwrap_or_default().to_owned();
    let server_message = json.get("message").and_then(Value::as_str).unwrap_or_default();
    let message = match (error.as_str(), server_message) {
        ("", "") => format!("HTTP status {status}"),
        (e, "") => e.to_owned(),
        (_, m) => m.to_owned(),
    };
    let net = if status == 401
        || matches!(error.as_str(), "AuthRequired" | "AuthenticationRequired" | "InvalidToken" | "ExpiredToken")
    {
        NetError::Auth { message }
    } else if status == 429 {
        NetError::RateLimited { retry_after: retry_after(headers, now) }
    } else if status >= 500 {
        NetError::Transient { message, retry_after: retry_after(headers, now) }
    } else {
        NetError::Permanent { message }
    };
    XrpcError { status: Some(status), error, net }
}

fn retry_after(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let header =
        |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).and_then(|v| v.trim().parse::<u64>().ok());
    if let Some(reset) = header("ratelimit-reset") {
        let now = now.duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or_default();
        return Some(Duration::from_secs(reset.saturating_sub(now)));
    }
    header("retry-after").map(Duration::from_secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(status: u16, headers: &[(&'static str, &str)], body: &str, expected: NetError) {
        let mut map = HeaderMap::new();
        for (k, v) in headers {
            map.insert(*k, v.parse().unwrap_or_else(|e| panic!("{e}")));
        }
        let now = UNIX_EPOCH + Duration::from_secs(1_000);
        assert_eq!(classify(status, &map, body.as_bytes(), now).net, expected, "{status} {body}");
    }

    #[test]
    fn classifies_errors() {
        let auth = |m: &str| NetError::Auth { message: m.into() };
        let permanent = |m: &str| NetError::Permanent { message: m.into() };
        check(400, &[], r#"{"error":"ExpiredToken","message":"Token has expired"}"#, auth("Token has expired"));
        check(400, &[], r#"{"error":"InvalidToken"}"#, auth("InvalidToken"));
        check(
            401,
            &[],
            r#"{"error":"AuthenticationRequired","message":"Invalid identifier or password"}"#,
            auth("Invalid identifier or password"),
        );
        check(401, &[], "", auth("HTTP status 401"));
        check(
            429,
            &[("ratelimit-reset", "1030")],
            "{}",
            NetError::RateLimited { retry_after: Some(Duration::from_secs(30)) },
        );
        check(429, &[("retry-after", "5")], "{}", NetError::RateLimited { retry_after: Some(Duration::from_secs(5)) });
        check(429, &[], "{}", NetError::RateLimited { retry_after: None });
        check(502, &[], "<html>", NetError::Transient { message: "HTTP status 502".into(), retry_after: None });
        check(
            400,
            &[],
            r#"{"error":"InvalidRequest","message":"Record/text must not be longer than 300 graphemes"}"#,
            permanent("Record/text must not be longer than 300 graphemes"),
        );
        check(413, &[], "", permanent("HTTP status 413"));
        let e = classify(400, &HeaderMap::new(), br#"{"error":"ExpiredToken"}"#, UNIX_EPOCH);
        assert!(e.is("ExpiredToken") && e.session_rejected());
    }
}
