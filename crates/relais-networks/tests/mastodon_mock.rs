//! The Mastodon client against a real local peer (PyPI `mastodon_mock`, started by
//! `scripts/peers/mastodon-mock.sh`), and contract tests against a tiny server answering what the
//! Mastodon API documentation shows where the mock cannot (errors, rate limits, slow media).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use axum::Router;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use relais_networks::mastodon::Mastodon;
use relais_networks::{Account, GuardedClient, NetError, Network, OutMedia, OutPost, RemoteRef, ReplyTo};
use relais_testkit::MastodonMock;
use serde_json::{Value, json};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

fn out_post(text: &str, key: &str) -> OutPost {
    OutPost {
        text: text.into(),
        media: vec![],
        link: None,
        reply_to: None,
        languages: vec!["en".into()],
        idempotency_key: key.into(),
        options: json!({}),
    }
}

/// A valid 1×1 PNG.
fn tiny_png() -> Vec<u8> {
    let hex = "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d49444154789c\
               63f8cfc0f01f0005000201a0f1d8b60000000049454e44ae426082";
    (0..hex.len()).step_by(2).map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap()).collect()
}

#[tokio::test]
async fn against_mastodon_mock() {
    let Some(mock) = MastodonMock::start_or_skip() else { return };
    let base = mock.base();
    let guarded = GuardedClient::new(vec![mock.host()]);
    let token = mock.connect("alice").await;
    let account = Account {
        channel_id: 1,
        handle: "alice".into(),
        instance_url: Some(base.clone()),
        credentials: json!({"access_token": token}),
    };
    let net = Mastodon::new(guarded.clone());
    let raw = reqwest::Client::new();
    let read = |id: String| {
        let (raw, base, token) = (raw.clone(), base.clone(), token.clone());
        async move {
            let r = raw.get(format!("{base}/api/v1/statuses/{id}")).bearer_auth(token).send().await.unwrap();
            (r.status().as_u16(), r.json::<Value>().await.unwrap_or(Value::Null))
        }
    };

    // A text status, read back.
    let mut first = out_post("Hello from Relais & friends <3 #launch", "key-1");
    first.options = json!({"visibility": "unlisted", "spoiler_text": "test"});
    let published = net.publish(&account, &first).await.unwrap();
    assert!(published.remote.url.as_deref().is_some_and(|u| u.contains(&published.remote.id)), "{published:?}");
    let (code, status) = read(published.remote.id.clone()).await;
    assert_eq!(code, 200);
    assert_eq!(relais_networks::mastodon::status_text(status["content"].as_str().unwrap()), first.text);
    assert_eq!((status["visibility"].as_str(), status["spoiler_text"].as_str()), (Some("unlisted"), Some("test")));
    assert_eq!(status["language"], "en");

    // The same Idempotency-Key again: the mock honours it (like Mastodon) and returns the same
    // status; reconciliation by text also finds exactly that one post.
    let again = net.publish(&account, &first).await.unwrap();
    assert_eq!(again, published, "mastodon_mock honours Idempotency-Key");
    let me: Value = raw
        .get(format!("{base}/api/v1/accounts/verify_credentials"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mine: Vec<Value> = raw
        .get(format!("{base}/api/v1/accounts/{}/statuses?limit=40", me["id"].as_str().unwrap()))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let copies = mine
        .iter()
        .filter(|s| relais_networks::mastodon::status_text(s["content"].as_str().unwrap_or_default()) == first.text)
        .count();
    assert_eq!(copies, 1);
    // Evidence that the key is what deduplicates: the same post under another key is a new status.
    let mut other = out_post("Twice, under two keys", "key-2a");
    let a = net.publish(&account, &other).await.unwrap();
    other.idempotency_key = "key-2b".into();
    let b = net.publish(&account, &other).await.unwrap();
    assert_ne!(a.remote.id, b.remote.id);

    // Lookup by reconciliation.
    assert_eq!(net.lookup(&account, "key-1", &first.text).await.unwrap(), Some(published.clone()));
    assert_eq!(net.lookup(&account, "key-x", "never sent").await.unwrap(), None);

    // A thread, in order.
    let root = net.publish(&account, &out_post("Thread 1/3", "t-1")).await.unwrap().remote;
    let mut parent = root.clone();
    for (i, text) in ["Thread 2/3", "Thread 3/3"].iter().enumerate() {
        let mut part = out_post(text, &format!("t-{}", i + 2));
        part.reply_to = Some(ReplyTo { root: root.clone(), parent: parent.clone() });
        let next = net.publish(&account, &part).await.unwrap().remote;
        let (_, status) = read(next.id.clone()).await;
        assert_eq!(status["in_reply_to_id"].as_str(), Some(parent.id.as_str()));
        parent = next;
    }
    let context: Value = raw
        .get(format!("{base}/api/v1/statuses/{}/context", root.id))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let texts: Vec<String> = context["descendants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| relais_networks::mastodon::status_text(s["content"].as_str().unwrap()))
        .collect();
    assert_eq!(texts, ["Thread 2/3", "Thread 3/3"]);

    // Metrics.
    let metrics = net.metrics(&account, &root).await.unwrap();
    assert_eq!(metrics, json!({"replies": 1, "reblogs": 0, "favourites": 0}));

    // Media with alt text.
    let path = std::env::temp_dir().join(format!("relais-mastodon-test-{}.png", std::process::id()));
    std::fs::write(&path, tiny_png()).unwrap();
    let mut with_media = out_post("A picture", "m-1");
    with_media.media =
        vec![OutMedia { path: path.clone(), mime: "image/png".into(), alt: "A single red pixel".into() }];
    let pictured = net.publish(&account, &with_media).await.unwrap();
    let _ = std::fs::remove_file(&path);
    let (_, status) = read(pictured.remote.id.clone()).await;
    let attachments = status["media_attachments"].as_array().unwrap();
    assert_eq!(attachments.len(), 1, "{status}");
    assert_eq!(
        (attachments[0]["type"].as_str(), attachments[0]["description"].as_str()),
        (Some("image"), Some("A single red pixel"))
    );

    // Delete, twice.
    net.delete(&account, &pictured.remote).await.unwrap();
    assert_eq!(read(pictured.remote.id.clone()).await.0, 404);
    net.delete(&account, &pictured.remote).await.unwrap();

    // Refresh: a valid token needs nothing, a bad one asks for reconnection.
    assert_eq!(net.refresh(&account).await.unwrap(), None);
    let bad = Account { credentials: json!({"access_token": "bogus"}), ..account.clone() };
    assert!(matches!(net.refresh(&bad).await, Err(NetError::Auth { .. })), "{:?}", net.refresh(&bad).await);
    assert!(matches!(net.publish(&bad, &out_post("x", "bad-1")).await, Err(NetError::Auth { .. })));

    // The mock's own validation: empty text is refused for good.
    assert!(matches!(net.publish(&account, &out_post("", "empty")).await, Err(NetError::Permanent { .. })));

    // The SSRF guard: without the allowance, the same loopback server is refused.
    let strict = Mastodon::new(GuardedClient::new(vec![]));
    assert!(matches!(strict.refresh(&account).await, Err(NetError::Permanent { .. })));
}

// ---------------------------------------------------------------------------------------------
// Contract tests: Mastodon's documented answers, served by a tiny local server.

async fn serve(router: Router) -> (Mastodon, Account) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let host = format!("127.0.0.1:{}", listener.local_addr().unwrap().port());
    tokio::spawn(async move { axum::serve(listener, router).await });
    let net = Mastodon::new(GuardedClient::new(vec![host.clone()])).with_media_polling(Duration::from_millis(10), 5);
    let account = Account {
        channel_id: 1,
        handle: "a".into(),
        instance_url: Some(format!("http://{host}")),
        credentials: json!({"access_token": "t"}),
    };
    (net, account)
}

fn answer(status: StatusCode, body: &'static str) -> Router {
    let reply = move || async move { (status, [("content-type", "application/json")], body) };
    Router::new().route("/api/v1/statuses", post(reply)).route("/api/v1/accounts/verify_credentials", get(reply))
}

#[tokio::test]
async fn validation_error_is_permanent_with_the_servers_message() {
    let (net, account) =
        serve(answer(StatusCode::UNPROCESSABLE_ENTITY, r#"{"error":"Validation failed: Text can't be blank"}"#)).await;
    assert_eq!(
        net.publish(&account, &out_post("", "k")).await,
        Err(NetError::Permanent { message: "Validation failed: Text can't be blank".into() })
    );
}

#[tokio::test]
async fn invalid_token_is_an_auth_error() {
    let (net, account) = serve(answer(StatusCode::UNAUTHORIZED, r#"{"error":"The access token is invalid"}"#)).await;
    let auth = Err(NetError::Auth { message: "The access token is invalid".into() });
    assert_eq!(net.publish(&account, &out_post("x", "k")).await.map(|_| ()), auth);
    assert_eq!(net.refresh(&account).await.map(|_| ()), auth);
}

#[tokio::test]
async fn unavailable_server_is_transient() {
    let (net, account) = serve(answer(StatusCode::SERVICE_UNAVAILABLE, "<html>Service Unavailable</html>")).await;
    assert!(matches!(net.publish(&account, &out_post("x", "k")).await, Err(NetError::Transient { .. })));
}

#[tokio::test]
async fn rate_limit_gives_the_delay_until_the_reset() {
    let router = Router::new().route(
        "/api/v1/statuses",
        post(|| async {
            let reset = jiff::Timestamp::now() + jiff::SignedDuration::from_secs(30);
            let headers = [
                ("x-ratelimit-limit", "300".to_owned()),
                ("x-ratelimit-remaining", "0".to_owned()),
                ("x-ratelimit-reset", reset.to_string()),
            ];
            (StatusCode::TOO_MANY_REQUESTS, headers, r#"{"error":"Too many requests"}"#)
        }),
    );
    let (net, account) = serve(router).await;
    match net.publish(&account, &out_post("x", "k")).await {
        Err(NetError::RateLimited { retry_after: Some(delay) }) => {
            assert!((Duration::from_secs(25)..=Duration::from_secs(30)).contains(&delay), "{delay:?}")
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn no_connection_is_transient_and_a_timeout_after_sending_is_unknown() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let host = format!("127.0.0.1:{closed}");
    let account = Account {
        channel_id: 1,
        handle: "a".into(),
        instance_url: Some(format!("http://{host}")),
        credentials: json!({"access_token": "t"}),
    };
    let net = Mastodon::new(GuardedClient::new(vec![host]));
    assert!(matches!(net.publish(&account, &out_post("x", "k")).await, Err(NetError::Transient { .. })));

    let slow = Router::new().route(
        "/api/v1/statuses",
        post(|| async {
            tokio::time::sleep(Duration::from_secs(5)).await;
            "{}"
        }),
    );
    let (net, account) = serve(slow).await;
    let net = Mastodon::new(net.http.with_limits(Duration::from_millis(300), 1 << 20));
    assert!(matches!(net.publish(&account, &out_post("x", "k")).await, Err(NetError::Unknown { .. })));
}

#[tokio::test]
async fn media_processed_asynchronously_is_awaited() {
    let polls = Arc::new(AtomicUsize::new(0));
    let sent = Arc::new(Mutex::new(None::<(Option<String>, Value)>));
    let (p, s) = (polls.clone(), sent.clone());
    let router = Router::new()
        .route(
            "/api/v2/media",
            post(|| async {
                (StatusCode::ACCEPTED, [("content-type", "application/json")], r#"{"id":"22348641","type":"image","url":null,"preview_url":"https://files.example/small.png","description":"alt"}"#)
            }),
        )
        .route(
            "/api/v1/media/22348641",
            get(move || async move {
                let url = if p.fetch_add(1, Ordering::SeqCst) == 0 { "null" } else { r#""https://files.example/original.png""# };
                let body = format!(r#"{{"id":"22348641","type":"image","url":{url},"description":"alt"}}"#);
                ([("content-type", "application/json")], body)
            }),
        )
        .route(
            "/api/v1/statuses",
            post(move |headers: HeaderMap, body: axum::Json<Value>| async move {
                let key = headers.get("idempotency-key").and_then(|v| v.to_str().ok()).map(str::to_owned);
                *s.lock().unwrap() = Some((key, body.0));
                ([("content-type", "application/json")], r#"{"id":"103254962155278888","url":"https://m.example/@a/103254962155278888","content":"<p>x</p>"}"#)
            }),
        );
    let (net, account) = serve(router).await;
    let path = std::env::temp_dir().join(format!("relais-mastodon-contract-{}.png", std::process::id()));
    std::fs::write(&path, tiny_png()).unwrap();
    let mut with_media = out_post("x", "key-42");
    with_media.media = vec![OutMedia { path: path.clone(), mime: "image/png".into(), alt: "alt".into() }];
    let published = net.publish(&account, &with_media).await;
    let _ = std::fs::remove_file(&path);
    assert_eq!(
        published.unwrap().remote,
        RemoteRef {
            id: "103254962155278888".into(),
            cid: None,
            url: Some("https://m.example/@a/103254962155278888".into())
        }
    );
    assert_eq!(polls.load(Ordering::SeqCst), 2, "polled until the URL appeared");
    let (key, body) = sent.lock().unwrap().clone().unwrap();
    assert_eq!(key.as_deref(), Some("key-42"));
    assert_eq!(body, json!({"status": "x", "media_ids": ["22348641"], "language": "en"}));
}

#[tokio::test]
async fn media_never_processed_is_transient() {
    let router = Router::new()
        .route(
            "/api/v2/media",
            post(|| async {
                (StatusCode::ACCEPTED, [("content-type", "application/json")], r#"{"id":"1","url":null}"#)
            }),
        )
        .route(
            "/api/v1/media/1",
            get(|| async {
                (StatusCode::PARTIAL_CONTENT, [("content-type", "application/json")], r#"{"id":"1","url":null}"#)
            }),
        );
    let (net, account) = serve(router).await;
    let path = std::env::temp_dir().join(format!("relais-mastodon-slow-{}.png", std::process::id()));
    std::fs::write(&path, tiny_png()).unwrap();
    let mut with_media = out_post("x", "k");
    with_media.media = vec![OutMedia { path: path.clone(), mime: "image/png".into(), alt: "alt".into() }];
    let result = net.publish(&account, &with_media).await;
    let _ = std::fs::remove_file(&path);
    assert!(matches!(result, Err(NetError::Transient { .. })), "{result:?}");
}
