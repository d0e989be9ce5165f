//! RSS/Atom listening against a real HTTP server on loopback (axum): formats, conditional GET
//! and 304, Retry-After and backoff, hostile HTML, size limits, redirects and the SSRF guard.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use relais_domain::listen::IncomingPost;
use relais_networks::sources::feed::{FeedError, FeedState, poll_feed};
use relais_networks::{FetchError, GuardedClient};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

const NOW: i64 = 1_750_000_000_000;
const MIN: i64 = 60_000;

/// What the test server answers on a path.
#[derive(Clone, Default)]
struct Reply {
    status: u16,
    headers: Vec<(&'static str, String)>,
    body: String,
    /// When set, the answer carries this ETag, and a request with `If-None-Match` equal to it
    /// gets `304 Not Modified`.
    etag: Option<String>,
}

fn ok(content_type: &str, body: &str) -> Reply {
    Reply { status: 200, headers: vec![("content-type", content_type.into())], body: body.into(), etag: None }
}

#[derive(Default)]
struct Peer {
    replies: Mutex<HashMap<String, Reply>>,
    seen: Mutex<Vec<(String, HeaderMap)>>,
}

impl Peer {
    fn set(&self, path: &str, reply: Reply) {
        self.replies.lock().unwrap().insert(path.into(), reply);
    }

    fn requests(&self, path: &str) -> Vec<HeaderMap> {
        self.seen.lock().unwrap().iter().filter(|(p, _)| p == path).map(|(_, h)| h.clone()).collect()
    }
}

async fn answer(State(peer): State<Arc<Peer>>, uri: Uri, headers: HeaderMap) -> Response {
    let path = uri.path().to_owned();
    peer.seen.lock().unwrap().push((path.clone(), headers.clone()));
    let Some(reply) = peer.replies.lock().unwrap().get(&path).cloned() else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let mut out = axum::http::Response::builder();
    if let Some(etag) = &reply.etag {
        out = out.header("etag", etag);
        if headers.get("if-none-match").is_some_and(|v| v == etag.as_str()) {
            return out.status(304).body(axum::body::Body::empty()).unwrap();
        }
    }
    for (name, value) in &reply.headers {
        out = out.header(*name, value);
    }
    out.status(reply.status).body(axum::body::Body::from(reply.body)).unwrap()
}

async fn serve() -> (String, Arc<Peer>) {
    let peer = Arc::new(Peer::default());
    let router = Router::new().fallback(answer).with_state(peer.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await });
    (format!("127.0.0.1:{}", addr.port()), peer)
}

const RSS: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:content="http://purl.org/rss/1.0/modules/content/">
<channel><title>Le blog</title><link>https://blog.example/</link><language>fr</language>
<item>
  <title>Lancement de Relais</title>
  <link>https://blog.example/lancement</link>
  <guid isPermaLink="true">https://blog.example/lancement</guid>
  <dc:creator>Camille</dc:creator>
  <pubDate>Tue, 03 Jun 2025 09:30:00 GMT</pubDate>
  <description><![CDATA[<p>Résumé</p>]]></description>
  <content:encoded><![CDATA[<p>Relais est <em>lancé</em> &amp; prêt.</p><script>steal(document.cookie)</script><style>p{}</style><p>Caf&eacute; &#x2615;</p>]]></content:encoded>
</item>
<item>
  <title>Ancien billet</title>
  <link>https://blog.example/ancien</link>
  <guid isPermaLink="false">post-7</guid>
  <pubDate>Mon, 02 Jun 2025 09:30:00 GMT</pubDate>
  <description>Texte &lt;b&gt;gras&lt;/b&gt; &amp;amp;amp; entité</description>
</item>
</channel></rss>"#;

const ATOM: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="en">
  <title>Example Feed</title>
  <link href="http://example.org/"/>
  <updated>2003-12-13T18:30:02Z</updated>
  <author><name>John Doe</name></author>
  <id>urn:uuid:60a76c80-d399-11d9-b93c-0003939e0af6</id>
  <entry>
    <title type="html">Atom-Powered &lt;em&gt;Robots&lt;/em&gt; Run Amok</title>
    <link href="http://example.org/2003/12/13/atom03"/>
    <link rel="replies" href="http://example.org/2003/12/13/atom03/comments"/>
    <id>urn:uuid:1225c695-cfb8-4ebb-aaaa-80da344efa6a</id>
    <updated>2003-12-13T18:30:02Z</updated>
    <summary type="text">Some text &lt;not a tag&gt;.</summary>
  </entry>
  <entry>
    <title>Second</title>
    <link rel="alternate" href="/2003/12/14/second"/>
    <id>tag:example.org,2003:3.2397</id>
    <published>2003-12-14T10:00:00+01:00</published>
    <author><name>Jane Roe</name></author>
    <content type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml"><p>Hello <b>XHTML</b></p></div></content>
  </entry>
</feed>"#;

#[tokio::test]
async fn rss_and_atom_items() {
    let (host, peer) = serve().await;
    peer.set("/rss", ok("application/rss+xml", RSS));
    peer.set("/atom", ok("application/atom+xml", ATOM));
    let client = GuardedClient::new(vec![host.clone()]);

    let mut state = FeedState::default();
    let posts = poll_feed(&client, &format!("http://{host}/rss"), &mut state, NOW).await.unwrap();
    assert_eq!(posts.len(), 2, "{posts:?}");
    assert_eq!(
        posts[0],
        IncomingPost {
            source: "rss".into(),
            external_id: Some("https://blog.example/lancement".into()),
            url: Some("https://blog.example/lancement".into()),
            author: Some("Camille".into()),
            title: Some("Lancement de Relais".into()),
            text: "Relais est lancé & prêt.\n\nCafé ☕".into(),
            lang: Some("fr".into()),
            published_at: Some(1_748_943_000_000),
        }
    );
    assert_eq!(posts[1].external_id.as_deref(), Some(format!("http://{host}/rss#post-7").as_str()));
    assert_eq!(posts[1].text, "Texte gras &amp; entité", "HTML decoded once, not twice");
    assert_eq!((state.schedule.failures, &state.schedule.last_error), (0, &None));
    assert_eq!(state.schedule.next_poll_at_ms, NOW + 15 * MIN);

    let posts = poll_feed(&client, &format!("http://{host}/atom"), &mut FeedState::default(), NOW).await.unwrap();
    assert_eq!(posts.len(), 2, "{posts:?}");
    let first = &posts[0];
    assert_eq!(first.title.as_deref(), Some("Atom-Powered Robots Run Amok"));
    assert_eq!(first.text, "Some text <not a tag>.", "type=text is plain text");
    assert_eq!(first.url.as_deref(), Some("http://example.org/2003/12/13/atom03"), "not the replies link");
    assert_eq!(first.external_id.as_deref(), Some("urn:uuid:1225c695-cfb8-4ebb-aaaa-80da344efa6a"));
    assert_eq!((first.author.as_deref(), first.lang.as_deref()), (Some("John Doe"), Some("en")));
    assert_eq!(first.published_at, Some(1_071_340_202_000));
    let second = &posts[1];
    assert_eq!(second.text, "Hello XHTML");
    assert_eq!(second.author.as_deref(), Some("Jane Roe"));
    assert_eq!(second.published_at, Some(1_071_392_400_000));
}

#[tokio::test]
async fn json_feed_items() {
    let (host, peer) = serve().await;
    let json = r#"{"version":"https://jsonfeed.org/version/1.1","title":"J","language":"fr-CA","items":[
        {"id":"1","url":"https://j.example/1","content_html":"<p>Salut <img src=x onerror=alert(1)>toi</p>","date_published":"2025-06-01T00:00:00Z","authors":[{"name":"Zoé"}]},
        {"id":"2","content_text":"Texte <brut>"}]}"#;
    peer.set("/feed.json", ok("application/feed+json", json));
    let client = GuardedClient::new(vec![host.clone()]);
    let posts = poll_feed(&client, &format!("http://{host}/feed.json"), &mut FeedState::default(), NOW).await.unwrap();
    let texts: Vec<&str> = posts.iter().map(|p| p.text.as_str()).collect();
    assert_eq!(texts, ["Salut toi", "Texte <brut>"]);
    assert_eq!(
        (posts[0].author.as_deref(), posts[0].lang.as_deref(), posts[0].published_at),
        (Some("Zoé"), Some("fr-CA"), Some(1_748_736_000_000))
    );
}

#[tokio::test]
async fn validators_and_not_modified() {
    let (host, peer) = serve().await;
    let lm = "Tue, 03 Jun 2025 09:30:00 GMT";
    peer.set(
        "/rss",
        Reply {
            etag: Some("\"v1\"".into()),
            headers: vec![("last-modified", lm.into()), ("cache-control", "public, max-age=60".into())],
            ..ok("application/rss+xml", RSS)
        },
    );
    let client = GuardedClient::new(vec![host.clone()]);
    let url = format!("http://{host}/rss");
    let mut state = FeedState::default();
    assert_eq!(poll_feed(&client, &url, &mut state, NOW).await.unwrap().len(), 2);
    assert_eq!((state.etag.as_deref(), state.last_modified.as_deref()), (Some("\"v1\""), Some(lm)));
    let first = &peer.requests("/rss")[0];
    assert!(first.get("if-none-match").is_none() && first.get("if-modified-since").is_none());

    // Polling before the interval is refused without a request (max-age 60 s is shorter).
    let early = poll_feed(&client, &url, &mut state, NOW + 14 * MIN).await;
    assert!(matches!(early, Err(FeedError::NotDue { next_poll_at_ms }) if next_poll_at_ms == NOW + 15 * MIN));
    assert_eq!(peer.requests("/rss").len(), 1);

    let later = NOW + 15 * MIN;
    let again = poll_feed(&client, &url, &mut state, later).await.unwrap();
    assert!(again.is_empty(), "304: no items");
    let second = &peer.requests("/rss")[1];
    assert_eq!(second.get("if-none-match").unwrap(), "\"v1\"");
    assert_eq!(second.get("if-modified-since").unwrap(), lm);
    assert_eq!(state.etag.as_deref(), Some("\"v1\""), "a 304 keeps the validators");
    assert_eq!((state.schedule.failures, state.schedule.last_ok_at_ms), (0, Some(later)));
    assert_eq!(state.schedule.next_poll_at_ms, later + 15 * MIN);

    // A changed feed (new ETag) comes back in full, and a long max-age is honoured.
    peer.set(
        "/rss",
        Reply {
            etag: Some("\"v2\"".into()),
            headers: vec![("cache-control", "max-age=3600".into())],
            ..ok("application/rss+xml", RSS)
        },
    );
    let third = poll_feed(&client, &url, &mut state, later + 15 * MIN).await.unwrap();
    let titles: Vec<_> = third.iter().filter_map(|p| p.title.as_deref()).collect();
    assert_eq!(titles, ["Lancement de Relais"], "the newest date seen comes again, older items do not");
    assert_eq!((state.etag.as_deref(), state.last_modified.as_deref()), (Some("\"v2\""), None));
    assert_eq!(state.schedule.next_poll_at_ms, later + 15 * MIN + 60 * MIN);
}

#[tokio::test]
async fn items_older_than_seen_are_not_returned() {
    let (host, peer) = serve().await;
    let item = |n: u32, day: u32| {
        format!(
            "<item><title>n{n}</title><guid>https://b.example/{n}</guid><pubDate>{day:02} Jun 2025 10:00:00 GMT</pubDate></item>"
        )
    };
    let feed =
        |items: &[String]| format!("<rss version=\"2.0\"><channel><title>t</title>{}</channel></rss>", items.concat());
    peer.set("/f", ok("application/rss+xml", &feed(&[item(2, 2), item(1, 1)])));
    let client = GuardedClient::new(vec![host.clone()]);
    let url = format!("http://{host}/f");
    let mut state = FeedState::default();
    assert_eq!(poll_feed(&client, &url, &mut state, NOW).await.unwrap().len(), 2);
    // The feed now has a new item, the newest seen, and an item back-dated before it.
    peer.set("/f", ok("application/rss+xml", &feed(&[item(3, 3), item(2, 2), item(0, 1)])));
    let posts = poll_feed(&client, &url, &mut state, NOW + 15 * MIN).await.unwrap();
    let titles: Vec<_> = posts.iter().filter_map(|p| p.title.as_deref()).collect();
    assert_eq!(titles, ["n3", "n2"]);
}

#[tokio::test]
async fn malformed_feed_is_recorded_and_skipped() {
    let (host, peer) = serve().await;
    peer.set("/broken", Reply { etag: Some("\"b\"".into()), ..ok("text/html", "<html><body>Oops</body></html>") });
    peer.set("/rss", ok("application/rss+xml", RSS));
    let client = GuardedClient::new(vec![host.clone()]);
    let url = format!("http://{host}/broken");
    let mut state = FeedState::default();
    let result = poll_feed(&client, &url, &mut state, NOW).await;
    assert!(matches!(result, Err(FeedError::Malformed(_))), "{result:?}");
    let error = state.schedule.last_error.clone().unwrap();
    assert!(error.en.contains(&url) && error.en.contains("not a readable RSS, Atom or JSON feed"), "{error:?}");
    assert!(error.fr.contains("n'est pas un flux RSS, Atom ou JSON lisible"), "{error:?}");
    assert_eq!((state.schedule.failures, state.schedule.next_poll_at_ms), (1, NOW + 15 * MIN));
    assert_eq!(state.etag, None, "a broken body's validators are not kept");

    // Other feeds go on; the broken one is fetched in full again (no 304 hiding the error).
    let mut other = FeedState::default();
    assert_eq!(poll_feed(&client, &format!("http://{host}/rss"), &mut other, NOW).await.unwrap().len(), 2);
    assert!(poll_feed(&client, &url, &mut state, NOW + 15 * MIN).await.is_err());
    assert!(peer.requests("/broken")[1].get("if-none-match").is_none());
    assert_eq!((state.schedule.failures, state.schedule.next_poll_at_ms), (2, NOW + 45 * MIN));

    // Fixed: one success clears the error.
    peer.set("/broken", ok("application/rss+xml", RSS));
    assert_eq!(poll_feed(&client, &url, &mut state, NOW + 45 * MIN).await.unwrap().len(), 2);
    assert_eq!((state.schedule.failures, state.schedule.last_error.clone()), (0, None));
}

#[tokio::test]
async fn retry_after_and_backoff() {
    let (host, peer) = serve().await;
    peer.set("/busy", Reply { status: 503, headers: vec![("retry-after", "7200".into())], ..Reply::default() });
    let client = GuardedClient::new(vec![host.clone()]);
    let url = format!("http://{host}/busy");
    let mut state = FeedState::default();
    let result = poll_feed(&client, &url, &mut state, NOW).await;
    assert!(matches!(result, Err(FeedError::Fetch(FetchError::RetryLater { status: 503, .. }))), "{result:?}");
    assert_eq!(state.schedule.next_poll_at_ms, NOW + 120 * MIN, "Retry-After beats the 15 min backoff");

    // An HTTP date works too; 429 without Retry-After is a plain failure with backoff.
    let at = NOW + 120 * MIN + 50 * MIN;
    let date = jiff::Timestamp::from_millisecond(at).unwrap().strftime("%a, %d %b %Y %H:%M:%S GMT").to_string();
    peer.set("/busy", Reply { status: 429, headers: vec![("retry-after", date)], ..Reply::default() });
    assert!(poll_feed(&client, &url, &mut state, NOW + 120 * MIN).await.is_err());
    assert_eq!(state.schedule.next_poll_at_ms, at);
    peer.set("/busy", Reply { status: 429, ..Reply::default() });
    let result = poll_feed(&client, &url, &mut state, at).await;
    assert!(matches!(result, Err(FeedError::Fetch(FetchError::Status(429)))), "{result:?}");
    assert_eq!((state.schedule.failures, state.schedule.next_poll_at_ms), (3, at + 60 * MIN), "15 × 2²");
    let message = state.schedule.last_error.clone().unwrap();
    assert!(message.en.contains("429") && message.fr.contains("429"), "{message:?}");
    assert_eq!(peer.requests("/busy").len(), 3);
}

#[tokio::test]
async fn too_large_feed_is_an_error_on_the_feed() {
    let (host, peer) = serve().await;
    let big = RSS.replace("Résumé", &"x".repeat(64 * 1024));
    peer.set("/big", ok("application/rss+xml", &big));
    let client = GuardedClient::new(vec![host.clone()]).with_limits(Duration::from_secs(5), 16 * 1024);
    let url = format!("http://{host}/big");
    let mut state = FeedState::default();
    let result = poll_feed(&client, &url, &mut state, NOW).await;
    assert!(matches!(result, Err(FeedError::Fetch(FetchError::TooLarge(16_384)))), "{result:?}");
    let error = state.schedule.last_error.unwrap();
    assert!(error.en.contains("more than 16384 bytes") && error.fr.contains("plus de 16384 octets"), "{error:?}");
}

#[tokio::test]
async fn guard_refuses_internal_addresses() {
    let (host, peer) = serve().await;
    peer.set("/rss", ok("application/rss+xml", RSS));
    let strict = GuardedClient::new(vec![]);
    for url in [format!("http://{host}/rss"), "http://169.254.169.254/latest/meta-data/".to_owned()] {
        let mut state = FeedState::default();
        let result = poll_feed(&strict, &url, &mut state, NOW).await;
        assert!(matches!(result, Err(FeedError::Fetch(FetchError::Refused(_)))), "{url}: {result:?}");
        assert!(state.schedule.last_error.unwrap().fr.contains("ne se connecte pas"));
    }
    assert!(peer.requests("/rss").is_empty(), "nothing reached the server");

    // An allowed server redirecting to an internal address: the hop is vetted and refused.
    let client = GuardedClient::new(vec![host.clone()]);
    for target in ["http://169.254.169.254/latest/meta-data/", "http://127.0.0.1:9/feed", "http://10.0.0.1/"] {
        peer.set("/jump", Reply { status: 302, headers: vec![("location", target.into())], ..Reply::default() });
        let result = poll_feed(&client, &format!("http://{host}/jump"), &mut FeedState::default(), NOW).await;
        assert!(matches!(result, Err(FeedError::Fetch(FetchError::Refused(_)))), "{target}: {result:?}");
    }
    // A redirect loop ends.
    peer.set("/loop", Reply { status: 307, headers: vec![("location", "/loop".into())], ..Reply::default() });
    let result = poll_feed(&client, &format!("http://{host}/loop"), &mut FeedState::default(), NOW).await;
    assert!(matches!(result, Err(FeedError::Fetch(FetchError::Unreachable(_)))), "{result:?}");
}

#[tokio::test]
async fn permanent_redirect_is_remembered() {
    let (host, peer) = serve().await;
    peer.set("/old", Reply { status: 301, headers: vec![("location", "/new".into())], ..Reply::default() });
    peer.set("/tmp", Reply { status: 302, headers: vec![("location", "/new".into())], ..Reply::default() });
    peer.set("/new", ok("application/rss+xml", RSS));
    let client = GuardedClient::new(vec![host.clone()]);

    let mut state = FeedState::default();
    assert_eq!(poll_feed(&client, &format!("http://{host}/old"), &mut state, NOW).await.unwrap().len(), 2);
    assert_eq!(state.moved_to.as_deref(), Some(format!("http://{host}/new").as_str()));
    poll_feed(&client, &format!("http://{host}/old"), &mut state, NOW + 15 * MIN).await.unwrap();
    assert_eq!((peer.requests("/old").len(), peer.requests("/new").len()), (1, 2));

    let mut state = FeedState::default();
    assert_eq!(poll_feed(&client, &format!("http://{host}/tmp"), &mut state, NOW).await.unwrap().len(), 2);
    assert_eq!(state.moved_to, None, "a temporary redirect is not remembered");
}
