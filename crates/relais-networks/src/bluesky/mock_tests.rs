//! Failure paths a real PDS will not produce on demand (expired token, rate limit, timeout),
//! against a scripted local XRPC server.

use super::client::Bluesky;
use crate::guard::GuardedClient;
use crate::publish::{Account, NetError, Network, OutPost};
use axum::Router;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::json;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

async fn serve(router: Router) -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap_or_else(|e| panic!("{e}"));
    let port = listener.local_addr().unwrap_or_else(|e| panic!("{e}")).port();
    tokio::spawn(async move { axum::serve(listener, router).await });
    port
}

fn client(port: u16) -> Bluesky {
    Bluesky::new(GuardedClient::new(vec![format!("127.0.0.1:{port}")]).with_limits(Duration::from_millis(500), 1 << 20))
}

fn account(port: u16) -> Account {
    Account {
        channel_id: 1,
        handle: "alice.test".into(),
        instance_url: Some(format!("http://127.0.0.1:{port}")),
        credentials: json!({"app_password": "pw", "session": {"accessJwt": "old", "refreshJwt": "r1", "did": "did:plc:alice"}}),
    }
}

fn post_with_key(key: &str) -> OutPost {
    OutPost {
        text: "hello".into(),
        media: vec![],
        link: None,
        reply_to: None,
        languages: vec![],
        idempotency_key: key.into(),
        options: json!({}),
    }
}

const KEY: &str = "3m6c753tr423e";

fn error(status: StatusCode, name: &str) -> Response {
    (status, axum::Json(json!({"error": name, "message": format!("{name}!")}))).into_response()
}

#[tokio::test]
async fn an_expired_token_is_refreshed_once() {
    let creates = Arc::new(AtomicUsize::new(0));
    let seen = creates.clone();
    let router = Router::new()
        .route(
            "/xrpc/com.atproto.server.refreshSession",
            post(|headers: HeaderMap| async move {
                assert_eq!(headers.get("authorization").and_then(|v| v.to_str().ok()), Some("Bearer r1"));
                axum::Json(json!({"accessJwt": "new", "refreshJwt": "r2", "did": "did:plc:alice"}))
            }),
        )
        .route(
            "/xrpc/com.atproto.repo.createRecord",
            post(move |headers: HeaderMap| async move {
                seen.fetch_add(1, Ordering::SeqCst);
                match headers.get("authorization").and_then(|v| v.to_str().ok()) {
                    Some("Bearer new") => axum::Json(
                        json!({"uri": format!("at://did:plc:alice/app.bsky.feed.post/{KEY}"), "cid": "bafyx"}),
                    )
                    .into_response(),
                    _ => error(StatusCode::BAD_REQUEST, "ExpiredToken"),
                }
            }),
        );
    let port = serve(router).await;
    let published = client(port).publish(&account(port), &post_with_key(KEY)).await;
    assert_eq!(published.map(|p| p.remote.cid), Ok(Some("bafyx".into())));
    assert_eq!(creates.load(Ordering::SeqCst), 2, "one rejected call, one retry");
}

#[tokio::test]
async fn rate_limits_and_server_errors_are_classified() {
    let router = Router::new()
        .route(
            "/xrpc/com.atproto.repo.createRecord",
            post(|| async {
                let reset = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_secs() + 60)
                    .unwrap_or_default();
                let mut response = error(StatusCode::TOO_MANY_REQUESTS, "RateLimitExceeded");
                response.headers_mut().insert("ratelimit-reset", reset.into());
                response
            }),
        )
        .route("/xrpc/com.atproto.repo.getRecord", get(|| async { error(StatusCode::BAD_GATEWAY, "UpstreamFailure") }));
    let port = serve(router).await;
    match client(port).publish(&account(port), &post_with_key(KEY)).await {
        Err(NetError::RateLimited { retry_after: Some(d) }) => assert!((55..=60).contains(&d.as_secs()), "{d:?}"),
        other => panic!("{other:?}"),
    }
    let lookup = client(port).lookup(&account(port), KEY, "hello").await;
    assert!(matches!(lookup, Err(NetError::Transient { .. })), "{lookup:?}");
}

#[tokio::test]
async fn a_timeout_after_sending_is_unknown_and_a_refused_connection_transient() {
    let router = Router::new()
        .route(
            "/xrpc/com.atproto.repo.createRecord",
            post(|| async {
                tokio::time::sleep(Duration::from_secs(3)).await;
                "{}"
            }),
        )
        .route(
            "/xrpc/com.atproto.repo.getRecord",
            get(|| async {
                tokio::time::sleep(Duration::from_secs(3)).await;
                "{}"
            }),
        );
    let port = serve(router).await;
    let published = client(port).publish(&account(port), &post_with_key(KEY)).await;
    assert!(matches!(published, Err(NetError::Unknown { .. })), "{published:?}");
    let lookup = client(port).lookup(&account(port), KEY, "hello").await;
    assert!(matches!(lookup, Err(NetError::Transient { .. })), "a read changes nothing: {lookup:?}");
    let closed = std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port());
    let closed = closed.unwrap_or_else(|e| panic!("{e}"));
    let refused = client(closed).publish(&account(closed), &post_with_key(KEY)).await;
    assert!(matches!(refused, Err(NetError::Transient { .. })), "{refused:?}");
}
