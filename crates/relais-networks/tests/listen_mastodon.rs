//! Mastodon listening: hashtag and public timelines against the real local peer (PyPI
//! `mastodon_mock`, which serves `timelines/tag` and `timelines/public` with Mastodon's `min_id`
//! paging), and a contract test against a tiny server for what the mock does not send
//! (rate-limit headers, 429).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use axum::Router;
use axum::http::HeaderMap;
use axum::routing::get;
use relais_networks::GuardedClient;
use relais_networks::sources::mastodon::{Timeline, TimelineError, TimelineState, poll_timeline};
use relais_networks::sources::mastodon_stream::TimelineStream;
use relais_testkit::MastodonMock;
use serde_json::json;
use std::sync::{Arc, Mutex};
use std::time::Duration;

const NOW: i64 = 1_750_000_000_000;
const MIN: i64 = 60_000;

/// Posts a status; returns its id.
async fn post_status(base: &str, token: &str, form: &[(&str, &str)]) -> String {
    let response = reqwest::Client::new()
        .post(format!("{base}/api/v1/statuses"))
        .bearer_auth(token)
        .form(form)
        .send()
        .await
        .unwrap();
    let status = response.status();
    let body: serde_json::Value = response.json().await.unwrap_or_default();
    assert!(status.is_success(), "{body}");
    body["id"].as_str().unwrap_or_default().to_owned()
}

#[tokio::test]
async fn timelines_against_mastodon_mock() {
    let Some(mock) = MastodonMock::start_or_skip() else { return };
    let (base, host) = (mock.base(), mock.host());
    let client = GuardedClient::new(vec![host.clone()]);
    let token = mock.connect("alice").await;
    post_status(&base, &token, &[("status", "Sans hashtag"), ("language", "fr")]).await;
    let cw = [("status", "Bonjour <script>x</script> & #Relais"), ("spoiler_text", "CW: test"), ("language", "fr")];
    post_status(&base, &token, &cw).await;

    let tag = Timeline::hashtag("#relais").unwrap();
    let mut state = TimelineState::default();
    let posts = poll_timeline(&client, &base, &tag, Some(&token), &mut state, NOW).await.unwrap();
    assert_eq!(posts.len(), 1, "{posts:?}");
    let post = &posts[0];
    assert_eq!(post.source, "mastodon");
    assert_eq!(post.text, "CW: test\n\nBonjour <script>x</script> & #Relais", "what alice typed, as text");
    assert_eq!(post.author.as_deref(), Some(format!("alice@{host}").as_str()));
    assert_eq!(post.lang.as_deref(), Some("fr"));
    assert!(post.external_id.as_deref().is_some_and(|id| id.contains(&host)), "{post:?}");
    assert!(post.url.is_some() && post.published_at.is_some(), "{post:?}");
    assert!(state.min_id.is_some() && state.schedule.last_error.is_none(), "{state:?}");

    // Nothing new: nothing returned; then only what came since.
    let mut now = NOW + 2 * MIN;
    assert!(poll_timeline(&client, &base, &tag, Some(&token), &mut state, now).await.unwrap().is_empty());
    post_status(&base, &token, &[("status", "Encore #relais")]).await;
    now += 2 * MIN;
    let posts = poll_timeline(&client, &base, &tag, Some(&token), &mut state, now).await.unwrap();
    let texts: Vec<&str> = posts.iter().map(|p| p.text.as_str()).collect();
    assert_eq!(texts, ["Encore #relais"]);

    // The public timeline: the first poll takes only the latest page (40), later polls page
    // forward with min_id until they catch up.
    for i in 0..42 {
        post_status(&base, &token, &[("status", &format!("Public {i}"))]).await;
    }
    let public = Timeline::Public { local: true, remote: false };
    let mut state = TimelineState::default();
    let first = poll_timeline(&client, &base, &public, None, &mut state, now).await.unwrap();
    assert_eq!(first.len(), 40);
    assert_eq!(first[0].text, "Public 41");
    for i in 42..87 {
        post_status(&base, &token, &[("status", &format!("Public {i}"))]).await;
    }
    let next = poll_timeline(&client, &base, &public, None, &mut state, now + 2 * MIN).await.unwrap();
    let texts: Vec<String> = next.iter().map(|p| p.text.clone()).collect();
    let expected: Vec<String> = (42..87).rev().map(|i| format!("Public {i}")).collect();
    assert_eq!(texts, expected, "45 new statuses over two pages, none missed, none repeated");
}

/// The streaming API against the mock: a hashtag stream gets the statuses with the tag as they
/// are posted (mapped as the polled timeline maps them), nothing else; the local public stream
/// gets every local status; the SSRF guard vets the address like any request.
#[tokio::test]
async fn streams_bring_statuses_as_they_are_posted() {
    let Some(mock) = MastodonMock::start_or_skip() else { return };
    let (base, host) = (mock.base(), mock.host());
    let client = GuardedClient::new(vec![host.clone()]);
    let token = mock.connect("bob").await;
    let tag = Timeline::hashtag("#direct").unwrap();
    let mut tagged = TimelineStream::open(&client, &base, &tag, None).await.unwrap();
    let public = Timeline::Public { local: true, remote: false };
    let mut local = TimelineStream::open(&client, &base, &public, Some(&token)).await.unwrap();
    // Nothing yet (the server's opening comment is not a status).
    assert!(tagged.read(Duration::from_millis(200), NOW).await.unwrap().posts.is_empty());

    post_status(&base, &token, &[("status", "Sans le tag"), ("language", "fr")]).await;
    let id = post_status(&base, &token, &[("status", "En direct #Direct"), ("language", "fr")]).await;
    let mut got = Vec::new();
    for _ in 0..20 {
        got.extend(tagged.read(Duration::from_millis(250), NOW).await.unwrap().posts);
        if !got.is_empty() {
            break;
        }
    }
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0].text, "En direct #Direct");
    assert_eq!(got[0].source, "mastodon");
    assert_eq!(got[0].author.as_deref(), Some(format!("bob@{host}").as_str()));
    assert_eq!(got[0].lang.as_deref(), Some("fr"));
    assert!(got[0].external_id.as_deref().is_some_and(|id| id.contains(&host)), "{:?}", got[0]);
    let mut all = Vec::new();
    for _ in 0..20 {
        all.extend(local.read(Duration::from_millis(250), NOW).await.unwrap().posts);
        if all.len() >= 2 {
            break;
        }
    }
    let texts: Vec<&str> = all.iter().map(|p| p.text.as_str()).collect();
    assert_eq!(texts, ["Sans le tag", "En direct #Direct"]);

    // Deleted at the source: the stream names it by the uri the post was delivered with.
    let deleted =
        reqwest::Client::new().delete(format!("{base}/api/v1/statuses/{id}")).bearer_auth(&token).send().await.unwrap();
    assert!(deleted.status().is_success());
    let mut gone = Vec::new();
    for _ in 0..20 {
        gone.extend(tagged.read(Duration::from_millis(250), NOW).await.unwrap().deleted);
        if !gone.is_empty() {
            break;
        }
    }
    assert_eq!(gone, [got[0].external_id.clone().unwrap_or_default()]);

    let refused = TimelineStream::open(&GuardedClient::new(vec![]), &base, &tag, None).await.unwrap_err();
    assert!(matches!(refused, TimelineError::Fetch(relais_networks::FetchError::Refused(_))), "{refused:?}");
}

#[tokio::test]
async fn rate_limits_and_errors_contract() {
    // Shapes from the Mastodon API documentation (Status entity, rate-limit headers).
    let reset = jiff::Timestamp::from_millisecond(NOW + 5 * MIN).unwrap().to_string();
    let seen: Arc<Mutex<Vec<HeaderMap>>> = Arc::default();
    let status = json!([{
        "id": "103270115826048975", "created_at": "2019-12-08T03:48:33.901Z", "in_reply_to_id": null,
        "sensitive": false, "spoiler_text": "", "visibility": "public", "language": "en",
        "uri": "https://mastodon.social/users/Gargron/statuses/103270115826048975",
        "url": "https://mastodon.social/@Gargron/103270115826048975", "replies_count": 5,
        "content": "<p>&quot;I lost my inheritance with one wrong digit on my sort code&quot;</p><p><a href=\"https://www.theguardian.com/money/2019/dec/07/i-lost-my-193000-inheritance-with-one-wrong-digit-on-my-sort-code\" rel=\"nofollow noopener noreferrer\" target=\"_blank\"><span class=\"invisible\">https://www.</span><span class=\"ellipsis\">theguardian.com/money/2019/dec</span><span class=\"invisible\">/07/i-lost-my-193000-inheritance-with-one-wrong-digit-on-my-sort-code</span></a></p>",
        "reblog": null,
        "account": {"id": "1", "username": "Gargron", "acct": "Gargron", "display_name": "Eugen",
            "url": "https://mastodon.social/@Gargron"},
        "media_attachments": [], "mentions": [], "tags": [], "emojis": []
    }]);
    let router = {
        let (seen, reset) = (seen.clone(), reset.clone());
        Router::new()
            .route(
                "/api/v1/timelines/tag/{tag}",
                get(move |headers: HeaderMap| {
                    let (seen, reset, status) = (seen.clone(), reset.clone(), status.clone());
                    async move {
                        seen.lock().unwrap().push(headers);
                        (
                            [
                                ("x-ratelimit-limit", "300".to_owned()),
                                ("x-ratelimit-remaining", "3".into()),
                                ("x-ratelimit-reset", reset),
                            ],
                            axum::Json(status),
                        )
                    }
                }),
            )
            .route(
                "/api/v1/timelines/public",
                get(|| async {
                    (
                        axum::http::StatusCode::TOO_MANY_REQUESTS,
                        [("retry-after", "600")],
                        axum::Json(json!({"error": "Too many requests"})),
                    )
                }),
            )
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let host = format!("127.0.0.1:{}", listener.local_addr().unwrap().port());
    tokio::spawn(async move { axum::serve(listener, router).await });
    let client = GuardedClient::new(vec![host.clone()]);
    let base = format!("http://{host}");

    let mut state = TimelineState::default();
    let tag = Timeline::hashtag("news").unwrap();
    let posts = poll_timeline(&client, &base, &tag, Some("secret-token"), &mut state, NOW).await.unwrap();
    assert_eq!(posts.len(), 1);
    assert_eq!(
        posts[0].text,
        "\"I lost my inheritance with one wrong digit on my sort code\"\n\nhttps://www.theguardian.com/money/2019/dec/07/i-lost-my-193000-inheritance-with-one-wrong-digit-on-my-sort-code"
    );
    assert_eq!(posts[0].author.as_deref(), Some(format!("Gargron@{host}").as_str()));
    assert_eq!(posts[0].published_at, Some(1_575_776_913_901));
    let headers = seen.lock().unwrap()[0].clone();
    assert_eq!(headers.get("authorization").unwrap(), "Bearer secret-token");
    assert_eq!((state.rate_limit_remaining, state.min_id.as_deref()), (Some(3), Some("103270115826048975")));
    assert_eq!(state.schedule.next_poll_at_ms, NOW + 5 * MIN, "3 left: wait for the reset, not 2 min");
    let early = poll_timeline(&client, &base, &tag, None, &mut state, NOW + 3 * MIN).await;
    assert!(matches!(early, Err(TimelineError::NotDue { .. })), "{early:?}");
    assert_eq!(seen.lock().unwrap().len(), 1, "no request before the reset");
    poll_timeline(&client, &base, &tag, None, &mut state, NOW + 5 * MIN).await.unwrap();
    let second = seen.lock().unwrap()[1].clone();
    assert!(second.get("authorization").is_none());

    let public = Timeline::Public { local: false, remote: false };
    let mut state = TimelineState::default();
    let result = poll_timeline(&client, &base, &public, None, &mut state, NOW).await;
    assert!(matches!(result, Err(TimelineError::RateLimited { retry_after_secs: Some(600) })), "{result:?}");
    assert_eq!((state.schedule.failures, state.schedule.next_poll_at_ms), (1, NOW + 10 * MIN));
    let error = state.schedule.last_error.unwrap();
    assert!(error.fr.contains("limite nos requêtes") && error.en.contains("limits our requests"), "{error:?}");

    // The guard applies: without the host allowed, nothing is fetched.
    let strict = GuardedClient::new(vec![]);
    let result = poll_timeline(&strict, &base, &tag, None, &mut TimelineState::default(), NOW).await;
    assert!(matches!(result, Err(TimelineError::Fetch(relais_networks::FetchError::Refused(_)))), "{result:?}");
}
