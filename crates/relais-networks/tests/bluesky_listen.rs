//! Bluesky as a listening source, end to end: the repository event stream against the reference
//! PDS (`scripts/peers/atproto.sh`; skipped loudly without it, a failure under `CI`) and against a
//! scripted WebSocket relay (reconnection, error frames, oversized and idle connections, `wss://`
//! with certificate verification), and
//! keyword search against an axum server answering lexicon-shaped JSON (the reference AppView
//! needs PostgreSQL, Redis and the whole dev-env).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::cbor::{self as enc, C, m, t};
use futures_util::{SinkExt, StreamExt};
use relais_networks::sources::bluesky::{
    Batch, BlueskySearch, Firehose, FirehoseConfig, FirehoseError, Notice, Retry, SearchError, StreamPost,
};
use relais_networks::{FetchError, GuardedClient};
use relais_testkit::Pds;
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};

fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_millis() as i64
}

/// No AppView: tests reach nothing outside loopback (the test of the AppView sets its own).
fn config() -> FirehoseConfig {
    FirehoseConfig { poll_wait: Duration::from_millis(300), appview: None, ..FirehoseConfig::default() }
}

/// Reads batches until `done` holds for what was read; bounded so a broken stream fails the test
/// instead of hanging it.
async fn read_until(firehose: &mut Firehose, done: impl Fn(&[StreamPost]) -> bool) -> (Vec<StreamPost>, Vec<String>) {
    let (mut posts, mut deleted) = (Vec::new(), Vec::new());
    for _ in 0..200 {
        match firehose.next_batch(now_ms()).await {
            Ok(batch) => {
                posts.extend(batch.posts);
                deleted.extend(batch.deleted);
                if done(&posts) {
                    return (posts, deleted);
                }
            }
            Err(retry) => panic!("stream down: {:?}", retry.error),
        }
    }
    panic!("never done; read {posts:#?}")
}

// ---------------------------------------------------------------------------------------------
// Against the reference PDS.

struct Writer<'a> {
    pds: &'a Pds,
    did: String,
    handle: String,
    jwt: String,
}

impl<'a> Writer<'a> {
    async fn new(pds: &'a Pds, name: &str) -> Writer<'a> {
        let (handle, did, password) = pds.create_account(name).await;
        let login = json!({"identifier": handle, "password": password});
        let (status, session) = pds.xrpc("POST", "com.atproto.server.createSession", None, login).await;
        assert_eq!(status, 200, "{session}");
        Writer { pds, did, handle, jwt: session["accessJwt"].as_str().unwrap().to_owned() }
    }

    /// Creates a record; returns its `uri` and `cid`.
    async fn create(&self, collection: &str, record: Value) -> (String, String) {
        let body = json!({"repo": self.did, "collection": collection, "record": record});
        let (status, created) = self.pds.xrpc("POST", "com.atproto.repo.createRecord", Some(&self.jwt), body).await;
        assert_eq!(status, 200, "{created}");
        (created["uri"].as_str().unwrap().to_owned(), created["cid"].as_str().unwrap().to_owned())
    }

    async fn post(&self, text: &str, langs: &[&str], reply_to: Option<&(String, String)>) -> (String, String) {
        let mut record = json!({
            "$type": "app.bsky.feed.post",
            "text": text,
            "langs": langs,
            "createdAt": "2026-03-04T05:06:07.890Z",
        });
        if let Some((uri, cid)) = reply_to {
            let parent = json!({"uri": uri, "cid": cid});
            record["reply"] = json!({"root": parent, "parent": parent});
        }
        self.create("app.bsky.feed.post", record).await
    }

    async fn delete(&self, uri: &str) {
        let rkey = uri.rsplit('/').next().unwrap();
        let body = json!({"repo": self.did, "collection": "app.bsky.feed.post", "rkey": rkey});
        let (status, answer) = self.pds.xrpc("POST", "com.atproto.repo.deleteRecord", Some(&self.jwt), body).await;
        assert_eq!(status, 200, "{answer}");
    }
}

fn firehose(pds: &Pds, cursor: Option<i64>) -> Firehose {
    Firehose::new(GuardedClient::new(vec![pds.host()]), &pds.base(), cursor, config()).unwrap()
}

fn mine<'p>(posts: &'p [StreamPost], did: &str) -> Vec<&'p StreamPost> {
    let prefix = format!("at://{did}/");
    posts.iter().filter(|p| p.post.external_id.as_deref().is_some_and(|id| id.starts_with(&prefix))).collect()
}

#[tokio::test]
async fn the_pds_stream_yields_exactly_the_posts_created() {
    let Some(pds) = Pds::shared() else { return };
    let alice = Writer::new(pds, "fh-alice").await;
    let bob = Writer::new(pds, "fh-bob").await;

    let parent = alice.post("Bonjour à tous 🎉 — déjà vu, œuvre", &["fr"], None).await;
    let subject = json!({"uri": parent.0, "cid": parent.1});
    let like = json!({"$type": "app.bsky.feed.like", "subject": subject, "createdAt": "2026-03-04T05:06:08Z"});
    alice.create("app.bsky.feed.like", like).await;
    let second = alice.post("Hello, world! 👋🏽", &["en", "fr"], None).await.0;
    let reply = bob.post("Réponse : ça marche ✅", &[], Some(&parent)).await.0;
    let follow = json!({"$type": "app.bsky.graph.follow", "subject": bob.did, "createdAt": "2026-03-04T05:06:09Z"});
    alice.create("app.bsky.graph.follow", follow).await;
    alice.delete(&second).await;
    let last = alice.post("fin", &["fr"], None).await.0;
    let first = parent.0.clone();

    // From the start of the PDS's history: its #identity events give the handles.
    let mut stream = firehose(pds, Some(0));
    let (posts, deleted) =
        read_until(&mut stream, |p| p.iter().any(|p| p.post.external_id.as_deref() == Some(&last))).await;
    let ours: Vec<_> = posts
        .iter()
        .filter(|p| [&alice.did, &bob.did].iter().any(|did| !mine(std::slice::from_ref(p), did).is_empty()))
        .collect();
    let ids: Vec<_> = ours.iter().map(|p| p.post.external_id.clone().unwrap()).collect();
    assert_eq!(
        ids,
        [first.clone(), second.clone(), reply.clone(), last.clone()],
        "posts only, in order, deleted ones included"
    );
    assert!(ours.windows(2).all(|w| w[0].seq < w[1].seq), "sequence numbers increase");
    assert!(posts.windows(2).all(|w| w[0].seq <= w[1].seq));

    let by_id = |id: &str| &ours.iter().find(|p| p.post.external_id.as_deref() == Some(id)).unwrap().post;
    let p = by_id(&first);
    assert_eq!((p.text.as_str(), p.lang.as_deref()), ("Bonjour à tous 🎉 — déjà vu, œuvre", Some("fr")));
    assert_eq!(p.author.as_deref(), Some(alice.handle.as_str()));
    let rkey = first.rsplit('/').next().unwrap();
    assert_eq!(p.url, Some(format!("https://bsky.app/profile/{}/post/{rkey}", alice.did)));
    assert_eq!(p.published_at, Some(1_772_600_767_890));
    assert_eq!(p.source, "bluesky");
    assert_eq!(by_id(&second).lang.as_deref(), Some("en"), "langs[0]");
    let r = by_id(&reply);
    assert_eq!(
        (r.text.as_str(), r.lang.as_deref(), r.author.as_deref()),
        ("Réponse : ça marche ✅", None, Some(bob.handle.as_str()))
    );
    assert!(deleted.contains(&second), "deletions are reported: {deleted:?}");
    assert!(stream.cursor() >= Some(posts.last().unwrap().seq), "the cursor covers what was delivered");

    // The same PDS through a guard that does not allow it: refused before any connection.
    let mut refused = Firehose::new(GuardedClient::new(vec![]), &pds.base(), Some(0), config()).unwrap();
    let retry = refused.next_batch(now_ms()).await.unwrap_err();
    assert!(matches!(retry.error, FirehoseError::Guard(FetchError::Refused(_))), "{:?}", retry.error);
    assert!(!refused.is_connected());
    let msg = retry.error.message(refused.endpoint());
    assert!(msg.fr.contains("ne se connecte pas") && msg.en.contains("does not connect"), "{msg:?}");
}

#[tokio::test]
async fn the_pds_stream_resumes_after_a_saved_cursor() {
    let Some(pds) = Pds::shared() else { return };
    let carol = Writer::new(pds, "fh-carol").await;
    let before = carol.post("avant", &["fr"], None).await.0;
    let mut stream = firehose(pds, Some(0));
    read_until(&mut stream, |p| p.iter().any(|p| p.post.external_id.as_deref() == Some(&before))).await;
    let saved = stream.cursor().unwrap();
    drop(stream);

    let after = [carol.post("après 1", &["fr"], None).await.0, carol.post("après 2 🚀", &["fr"], None).await.0];
    let mut resumed = firehose(pds, Some(saved));
    let (posts, _) =
        read_until(&mut resumed, |p| p.iter().any(|p| p.post.external_id.as_deref() == Some(&after[1]))).await;
    let ids: Vec<_> = mine(&posts, &carol.did).iter().map(|p| p.post.external_id.clone().unwrap()).collect();
    assert_eq!(ids, after, "only what followed the cursor");
    assert!(posts.iter().all(|p| p.seq > saved));
    assert_eq!(
        mine(&posts, &carol.did)[0].post.author.as_deref(),
        Some(carol.handle.as_str()),
        "no #identity seen: the handle the PDS verifies (describeRepo)"
    );
    // Without asking the host, the DID.
    let mut unnamed = Firehose::new(
        GuardedClient::new(vec![pds.host()]),
        &pds.base(),
        Some(saved),
        FirehoseConfig { describe_authors: false, ..config() },
    )
    .unwrap();
    let (posts, _) =
        read_until(&mut unnamed, |p| p.iter().any(|p| p.post.external_id.as_deref() == Some(&after[1]))).await;
    assert_eq!(mine(&posts, &carol.did)[0].post.author.as_deref(), Some(carol.did.as_str()), "no #identity seen");
}

// ---------------------------------------------------------------------------------------------
// Against a scripted relay.

enum Step {
    Send(Vec<u8>),
    Close,
}

/// A WebSocket server playing one script per connection (then holding the connection open);
/// records each connection's query string. Plain HTTP requests for
/// `com.atproto.repo.describeRepo` are answered by `describe` (status and body for a DID) and
/// recorded; they do not use a script.
struct Relay {
    host: String,
    queries: Arc<Mutex<Vec<String>>>,
    described: Arc<Mutex<Vec<String>>>,
    describes: bool,
}

type Describe = Arc<dyn Fn(&str) -> (u16, Value) + Send + Sync>;

async fn relay(scripts: Vec<Vec<Step>>) -> Relay {
    relay_describing(scripts, None).await
}

async fn relay_describing(scripts: Vec<Vec<Step>>, describe: Option<Describe>) -> Relay {
    use tokio::io::AsyncWriteExt;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let host = format!("127.0.0.1:{}", listener.local_addr().unwrap().port());
    let (queries, described) = (Arc::new(Mutex::new(Vec::new())), Arc::new(Mutex::new(Vec::new())));
    let (seen, asked, describes) = (queries.clone(), described.clone(), describe.is_some());
    tokio::spawn(async move {
        let mut scripts = scripts.into_iter();
        loop {
            let (mut tcp, _) = listener.accept().await.unwrap();
            let mut head = [0u8; 512];
            let n = tcp.peek(&mut head).await.unwrap();
            let line = String::from_utf8_lossy(&head[..n]).lines().next().unwrap_or_default().to_owned();
            if let Some(describe) = describe.as_ref().filter(|_| line.contains("com.atproto.repo.describeRepo")) {
                let did = line.split("repo=").nth(1).unwrap_or_default().split([' ', '&']).next().unwrap_or_default();
                let did = did.replace("%3A", ":");
                asked.lock().unwrap().push(did.clone());
                let (status, body) = describe(&did);
                let body = body.to_string();
                let answer = format!(
                    "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = tcp.write_all(answer.as_bytes()).await;
                continue;
            }
            let Some(script) = scripts.next() else { return };
            let seen = seen.clone();
            #[allow(clippy::result_large_err)] // tungstenite's callback type
            let record = move |request: &Request, response: Response| {
                seen.lock().unwrap().push(request.uri().query().unwrap_or_default().to_owned());
                Ok::<_, ErrorResponse>(response)
            };
            let mut ws = tokio_tungstenite::accept_hdr_async(tcp, record).await.unwrap();
            tokio::spawn(async move {
                for step in script {
                    match step {
                        Step::Send(bytes) => {
                            if ws.send(Message::Binary(bytes.into())).await.is_err() {
                                return;
                            }
                        }
                        Step::Close => {
                            let _ = ws.close(None).await;
                            return;
                        }
                    }
                }
                while let Some(Ok(_)) = ws.next().await {}
            });
        }
    });
    Relay { host, queries, described, describes }
}

impl Relay {
    fn firehose(&self, cursor: Option<i64>, config: FirehoseConfig) -> Firehose {
        let guard = GuardedClient::new(vec![self.host.clone()]);
        // Without a `describe` answer the scripted relay speaks WebSocket only: no handle lookups.
        let config = FirehoseConfig { describe_authors: self.describes, ..config };
        Firehose::new(guard, &format!("ws://{}", self.host), cursor, config).unwrap()
    }

    fn queries(&self) -> Vec<String> {
        self.queries.lock().unwrap().clone()
    }

    fn described(&self) -> Vec<String> {
        self.described.lock().unwrap().clone()
    }
}

const REPO: &str = "did:plc:relaytest";

fn post(seq: u64, rkey: &str) -> Step {
    Step::Send(enc::post_commit(seq, REPO, rkey, &format!("post {rkey}"), &["fr"]))
}

fn rkeys(batch: &Batch) -> Vec<String> {
    batch.posts.iter().map(|p| p.post.external_id.clone().unwrap().rsplit('/').next().unwrap().to_owned()).collect()
}

/// Reads until the connection ends (a batch with what was read, or the retry when nothing was).
async fn drain(firehose: &mut Firehose, now: i64) -> (Batch, Retry) {
    let mut all = Batch::default();
    for _ in 0..100 {
        match firehose.next_batch(now).await {
            Ok(batch) => {
                all.posts.extend(batch.posts);
                all.deleted.extend(batch.deleted);
                all.notices.extend(batch.notices);
                all.cursor = batch.cursor.or(all.cursor);
            }
            Err(retry) => return (all, retry),
        }
    }
    panic!("the connection never ended: {all:?}")
}

/// The first batch with posts (bounded).
async fn first_posts(firehose: &mut Firehose, now: i64) -> Batch {
    for _ in 0..100 {
        let batch = firehose.next_batch(now).await.unwrap();
        if !batch.posts.is_empty() {
            return batch;
        }
    }
    panic!("no post came")
}

/// `wss://`: the stream is read over TLS, verified against the system's roots and the configured
/// extra ones. A certificate that no trusted authority vouches for is refused, and the error says
/// so; nothing is read.
#[tokio::test]
async fn wss_streams_are_read_over_verified_tls() {
    use tokio_rustls::rustls;
    let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let cert = certified.cert.der().clone();
    let key = rustls::pki_types::PrivateKeyDer::Pkcs8(certified.signing_key.serialize_der().into());
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let server = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![cert.clone()], key)
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(server));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let handshakes = Arc::new(Mutex::new(Vec::new()));
    let outcomes = handshakes.clone();
    tokio::spawn(async move {
        loop {
            let (tcp, _) = listener.accept().await.unwrap();
            let (acceptor, outcomes) = (acceptor.clone(), outcomes.clone());
            tokio::spawn(async move {
                let tls = acceptor.accept(tcp).await;
                outcomes.lock().unwrap().push(tls.is_ok());
                let Ok(tls) = tls else { return };
                let mut ws = tokio_tungstenite::accept_async(tls).await.unwrap();
                let frame = enc::post_commit(7, REPO, "overtls", "post sur TLS", &["fr"]);
                ws.send(Message::Binary(frame.into())).await.unwrap();
                while let Some(Ok(_)) = ws.next().await {}
            });
        }
    });
    let guard = GuardedClient::new(vec![format!("localhost:{port}")]);
    let url = format!("wss://localhost:{port}");
    let plain = FirehoseConfig { describe_authors: false, ..config() };

    let mut untrusted = Firehose::new(guard.clone(), &url, None, plain.clone()).unwrap();
    let retry = untrusted.next_batch(now_ms()).await.unwrap_err();
    let message = retry.error.message(untrusted.endpoint());
    assert!(matches!(&retry.error, FirehoseError::Connect(e) if e.starts_with("TLS:")), "{retry:?}");
    assert!(message.en.contains("UnknownIssuer") && message.fr.contains("injoignable"), "{message:?}");

    let mut trusted = Firehose::new(guard, &url, None, FirehoseConfig { extra_roots: vec![cert], ..plain }).unwrap();
    let batch = first_posts(&mut trusted, now_ms()).await;
    assert_eq!(rkeys(&batch), ["overtls"]);
    assert_eq!(batch.cursor, Some(7));
    assert_eq!(*handshakes.lock().unwrap(), [false, true]);
}

#[tokio::test]
async fn reconnects_from_its_cursor_after_backoff_and_drops_replays() {
    let relay = relay(vec![
        vec![post(5, "a"), post(6, "b"), post(6, "b"), post(4, "old"), Step::Close],
        vec![post(6, "b"), post(7, "c"), Step::Close],
    ])
    .await;
    let mut stream = relay.firehose(Some(4), config());
    let now = 1_000_000;
    let (first, retry) = drain(&mut stream, now).await;
    assert_eq!(rkeys(&first), ["a", "b"], "a replayed event and one behind the cursor are dropped");
    assert_eq!((first.cursor, stream.cursor()), (Some(6), Some(6)));
    assert!(matches!(retry.error, FirehoseError::Lost(_)), "{:?}", retry.error);
    assert!(retry.retry_at_ms > now && retry.retry_at_ms <= now + 1_200, "first retry after about 1 s");
    assert_eq!(relay.queries(), ["cursor=4"], "no reconnection before the retry is due");

    let (second, retry2) = drain(&mut stream, retry.retry_at_ms).await;
    assert_eq!(relay.queries(), ["cursor=4", "cursor=6"]);
    assert_eq!(rkeys(&second), ["c"]);
    assert!(retry2.retry_at_ms - retry.retry_at_ms <= 1_200, "a connection that delivered resets the backoff");
}

#[tokio::test]
async fn error_frames_and_outdated_cursors_are_reported() {
    let outdated = enc::frame(&enc::header("#info"), &m(&[("name", t("OutdatedCursor")), ("message", t("missing"))]));
    let future = enc::frame(&m(&[("op", C::N(0))]), &m(&[("error", t("FutureCursor")), ("message", t("too far"))]));
    let relay = relay(vec![
        vec![Step::Send(outdated), post(10, "x"), Step::Send(vec![0xff, 0x00]), Step::Close],
        vec![Step::Send(future.clone()), Step::Close],
        vec![Step::Send(future), Step::Close],
    ])
    .await;
    let mut stream = relay.firehose(Some(1), config());
    let (batch, retry) = drain(&mut stream, 0).await;
    assert_eq!(rkeys(&batch), ["x"]);
    assert!(batch.notices.contains(&Notice::MissedEvents(Some("missing".into()))), "{:?}", batch.notices);
    assert!(batch.notices.iter().any(|n| matches!(n, Notice::Unreadable(_))), "a garbage message is skipped");
    let (_, refused) = drain(&mut stream, retry.retry_at_ms).await;
    assert!(
        matches!(&refused.error, FirehoseError::Server { error, .. } if error == "FutureCursor"),
        "{:?}",
        refused.error
    );
    let (_, again) = drain(&mut stream, refused.retry_at_ms).await;
    assert!(again.retry_at_ms - refused.retry_at_ms > refused.retry_at_ms - retry.retry_at_ms, "the delay grows");
    assert_eq!(relay.queries(), ["cursor=1", "cursor=10", "cursor=10"], "the cursor is kept");
    let msg = again.error.message(stream.endpoint());
    assert!(msg.en.contains("FutureCursor") && msg.fr.contains("a refusé"), "{msg:?}");
}

#[tokio::test]
async fn an_oversized_message_is_skipped_by_moving_the_cursor() {
    let big = enc::post_commit(21, REPO, "big", &"é".repeat(2_000), &["fr"]);
    let relay = relay(vec![vec![post(20, "before"), Step::Send(big)], vec![post(22, "after")]]).await;
    let mut stream = relay.firehose(Some(19), FirehoseConfig { max_message_bytes: 1_024, ..config() });
    let (batch, retry) = drain(&mut stream, 0).await;
    assert_eq!(rkeys(&batch), ["before"]);
    assert!(batch.notices.contains(&Notice::TooLarge { resume_after: Some(21) }), "{:?}", batch.notices);
    let posts = first_posts(&mut stream, retry.retry_at_ms).await;
    assert_eq!(relay.queries(), ["cursor=19", "cursor=21"]);
    assert_eq!(rkeys(&posts), ["after"]);
}

#[tokio::test]
async fn a_silent_connection_is_dropped_after_the_idle_timeout() {
    let relay = relay(vec![vec![], vec![post(3, "late")]]).await;
    let config =
        FirehoseConfig { idle_timeout: Duration::from_secs(60), poll_wait: Duration::from_millis(20), ..config() };
    let mut stream = relay.firehose(None, config);
    let start = 5_000_000;
    assert_eq!(stream.next_batch(start).await.unwrap(), Batch::default(), "connected, nothing yet");
    assert_eq!(stream.next_batch(start + 30_000).await.unwrap(), Batch::default(), "still within the idle timeout");
    let retry = stream.next_batch(start + 61_000).await.unwrap_err();
    assert!(matches!(retry.error, FirehoseError::Lost(ref why) if why.contains("idle")), "{:?}", retry.error);
    assert_eq!(relay.queries(), [""], "live tail: no cursor");
    assert_eq!(rkeys(&first_posts(&mut stream, retry.retry_at_ms).await), ["late"]);
    assert_eq!(relay.queries(), ["", ""]);
}

#[tokio::test]
async fn run_hands_batches_to_the_sink_across_reconnections() {
    let relay = relay(vec![vec![post(1, "a"), Step::Close], vec![post(2, "b"), post(3, "c")]]).await;
    let config = FirehoseConfig { backoff_base: Duration::from_millis(10), ..config() };
    let mut stream = relay.firehose(Some(0), config);
    let mut stored: Vec<String> = Vec::new();
    let mut cursors = Vec::new();
    stream
        .run(now_ms, |batch| {
            stored.extend(rkeys(&batch));
            cursors.push(batch.cursor);
            std::future::ready(stored.len() < 3)
        })
        .await;
    assert_eq!(stored, ["a", "b", "c"]);
    assert_eq!(cursors.last(), Some(&Some(3)));
    assert_eq!(relay.queries(), ["cursor=0", "cursor=1"]);
}

/// Posts of `dids`, one each, from sequence number `first`.
fn posts_of(first: u64, dids: &[String]) -> Vec<Step> {
    dids.iter()
        .enumerate()
        .map(|(i, did)| {
            let seq = first + i as u64;
            Step::Send(enc::post_commit(seq, did, &format!("r{seq}"), "bonjour", &["fr"]))
        })
        .collect()
}

fn authors(batch: &Batch) -> Vec<String> {
    batch.posts.iter().map(|p| p.post.author.clone().unwrap()).collect()
}

#[tokio::test]
async fn authors_are_named_by_the_host_only_with_a_verified_handle() {
    let dids: Vec<String> = ["did:plc:alice", "did:plc:mallory", "did:plc:gone"].map(String::from).to_vec();
    let describe: Describe = Arc::new(|did: &str| match did {
        "did:plc:alice" => (200, json!({"did": did, "handle": "alice.test", "handleIsCorrect": true})),
        // A DID document may claim any handle: only a verified one is used.
        "did:plc:mallory" => (200, json!({"did": did, "handle": "lemonde.fr", "handleIsCorrect": false})),
        _ => (400, json!({"error": "RepoNotFound", "message": "Could not find repo"})),
    });
    let mut script = posts_of(1, &dids);
    script.extend(posts_of(10, &dids));
    let relay = relay_describing(vec![script], Some(describe)).await;
    let mut stream = relay.firehose(Some(0), config());
    let mut batch = first_posts(&mut stream, 1_000).await;
    while batch.posts.len() < 6 {
        let more = stream.next_batch(1_000).await.unwrap();
        batch.posts.extend(more.posts);
    }
    assert_eq!(
        authors(&batch),
        ["alice.test", "did:plc:mallory", "did:plc:gone", "alice.test", "did:plc:mallory", "did:plc:gone"]
    );
    let mut asked = relay.described();
    asked.sort();
    assert_eq!(asked, ["did:plc:alice", "did:plc:gone", "did:plc:mallory"], "each DID asked once");
}

#[tokio::test]
async fn a_host_that_names_nobody_is_not_asked_again() {
    // A relay hosts no repository: it knows none of the first 16 authors, then is not asked again.
    let first: Vec<String> = (0..20).map(|i| format!("did:plc:first{i:02}")).collect();
    let later: Vec<String> = (0..5).map(|i| format!("did:plc:later{i}")).collect();
    let describe: Describe = Arc::new(|_: &str| (400, json!({"error": "RepoNotFound"})));
    let mut script = posts_of(1, &first);
    script.extend(posts_of(100, &later));
    let relay = relay_describing(vec![script], Some(describe)).await;
    let mut stream = relay.firehose(Some(0), FirehoseConfig { max_batch: 20, ..config() });
    let mut all = Batch::default();
    while all.posts.len() < 25 {
        all.posts.extend(stream.next_batch(1_000).await.unwrap().posts);
    }
    assert_eq!(authors(&all), first.iter().chain(&later).cloned().collect::<Vec<_>>(), "the DIDs");
    assert_eq!(relay.described().len(), 16, "16 lookups, then none: {:?}", relay.described());
}

/// Serves `router` on a free loopback port; returns its `host:port`.
async fn serve(router: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let host = format!("127.0.0.1:{}", listener.local_addr().unwrap().port());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    host
}

/// What each `getProfiles` request asked for, in order.
type Asked = Arc<Mutex<Vec<Vec<String>>>>;

/// An AppView answering `app.bsky.actor.getProfiles` with the `(did, handle)` profiles `answer`
/// gives for the actors asked; records the actors of each request.
async fn profiles_appview(
    answer: impl Fn(&[String]) -> Vec<(String, String)> + Clone + Send + Sync + 'static,
) -> (String, Asked) {
    use axum::extract::{RawQuery, State};
    let asked: Asked = Arc::default();
    let handler = move |State(asked): State<Asked>, RawQuery(query): RawQuery| {
        let answer = answer.clone();
        async move {
            let actors: Vec<String> = url::form_urlencoded::parse(query.unwrap_or_default().as_bytes())
                .filter(|(k, _)| k == "actors")
                .map(|(_, v)| v.into_owned())
                .collect();
            asked.lock().unwrap().push(actors.clone());
            let found: Vec<Value> = answer(&actors)
                .into_iter()
                .map(|(did, handle)| json!({"did": did, "handle": handle, "displayName": "x"}))
                .collect();
            axum::Json(json!({"profiles": found}))
        }
    };
    let router = axum::Router::new()
        .route("/xrpc/app.bsky.actor.getProfiles", axum::routing::get(handler))
        .with_state(asked.clone());
    (serve(router).await, asked)
}

/// Posts by `did`, then the end of the connection: one script per connection.
fn connection(first: u64, dids: &[String]) -> Vec<Step> {
    let mut steps = posts_of(first, dids);
    steps.push(Step::Close);
    steps
}

/// A scripted relay (it serves no `describeRepo`: a relay) playing `scripts`, and a stream of it
/// that asks `appview` (`host:port`) for handles, when given.
async fn behind_a_relay(scripts: Vec<Vec<Step>>, appview: Option<&str>) -> (Relay, Firehose) {
    let describe: Describe = Arc::new(|_: &str| (501, json!({"error": "MethodNotImplemented"})));
    let relay = relay_describing(scripts, Some(describe)).await;
    let guard =
        GuardedClient::new([Some(relay.host.clone()), appview.map(str::to_owned)].into_iter().flatten().collect());
    let appview = appview.map(|host| url::Url::parse(&format!("http://{host}")).unwrap());
    let config = FirehoseConfig { appview, ..config() };
    let stream = Firehose::new(guard, &format!("ws://{}", relay.host), Some(0), config).unwrap();
    (relay, stream)
}

/// Behind a relay (which names nobody), authors are looked up at the AppView, which verifies
/// handles both ways: one request for the batch's DIDs, a handle it could not verify
/// (`handle.invalid`) or an account it does not know leaves the DID, a profile it gives for a DID
/// not asked about is ignored, and the relay is not asked again. Without an AppView, DIDs stay.
#[tokio::test]
async fn behind_a_relay_authors_are_named_by_the_appview() {
    let (appview, asked) = profiles_appview(|actors: &[String]| {
        let profiles = [("did:plc:alice", "Alice.Test"), ("did:plc:mallory", "handle.invalid")];
        let mut found: Vec<(String, String)> = profiles
            .iter()
            .filter(|(did, _)| actors.iter().any(|a| a == did))
            .map(|(did, handle)| (did.to_string(), handle.to_string()))
            .collect();
        // did:plc:unasked's profile comes only when it was not asked for (unsolicited).
        if !actors.iter().any(|a| a == "did:plc:unasked") {
            found.push(("did:plc:unasked".into(), "lemonde.fr".into()));
        }
        found
    })
    .await;
    let dids: Vec<String> = ["did:plc:alice", "did:plc:mallory", "did:plc:gone"].map(String::from).to_vec();
    // Three connections: one post (the relay is asked, and names nobody), then three authors,
    // then one whose profile the AppView slipped into the previous answer unasked.
    let scripts = || {
        vec![
            connection(1, &["did:plc:first".to_owned()]),
            connection(2, &dids),
            connection(5, &["did:plc:unasked".to_owned()]),
        ]
    };
    let (relay, mut stream) = behind_a_relay(scripts(), Some(&appview)).await;
    let (batch, retry) = drain(&mut stream, 1_000).await;
    assert_eq!(authors(&batch), ["did:plc:first"], "the relay was asked, and named nobody");
    assert!(asked.lock().unwrap().is_empty(), "the AppView is asked only once the host proved a relay");
    let (batch, retry) = drain(&mut stream, retry.retry_at_ms).await;
    assert_eq!(authors(&batch), ["alice.test", "did:plc:mallory", "did:plc:gone"]);
    let (batch, _) = drain(&mut stream, retry.retry_at_ms).await;
    assert_eq!(authors(&batch), ["did:plc:unasked"], "an unsolicited profile is not kept");
    assert_eq!(relay.described(), ["did:plc:first"], "the relay is not asked again");
    let mut requests = asked.lock().unwrap().clone();
    requests[0].sort();
    assert_eq!(
        requests,
        [vec!["did:plc:alice", "did:plc:gone", "did:plc:mallory"], vec!["did:plc:unasked"]],
        "one request per batch"
    );

    // Without an AppView, the same stream keeps the DIDs.
    let (_, mut stream) = behind_a_relay(scripts(), None).await;
    let (_, retry) = drain(&mut stream, 1_000).await;
    let (batch, _) = drain(&mut stream, retry.retry_at_ms).await;
    assert_eq!(authors(&batch), ["did:plc:alice", "did:plc:mallory", "did:plc:gone"]);
    assert_eq!(asked.lock().unwrap().len(), 2, "no AppView request without an AppView");
}

/// Up to four `getProfiles` requests of 25 DIDs per batch (110 new authors in one batch: 100 are
/// named, the ten beyond keep their DID until a later batch).
#[tokio::test]
async fn the_appview_is_asked_for_at_most_a_hundred_authors_per_batch() {
    let (appview, asked) = profiles_appview(|actors: &[String]| {
        actors.iter().map(|did| (did.clone(), format!("{}.test", did.trim_start_matches("did:plc:")))).collect()
    })
    .await;
    let dids: Vec<String> = (0..110).map(|i| format!("did:plc:n{i:03}")).collect();
    let scripts = vec![connection(1, &["did:plc:first".to_owned()]), connection(10, &dids)];
    let (_, mut stream) = behind_a_relay(scripts, Some(&appview)).await;
    let (_, retry) = drain(&mut stream, 1_000).await;
    let (batch, _) = drain(&mut stream, retry.retry_at_ms).await;
    let authors = authors(&batch);
    assert_eq!(authors.len(), 110);
    let sizes: Vec<usize> = asked.lock().unwrap().iter().map(Vec::len).collect();
    assert_eq!(sizes, [25, 25, 25, 25], "four requests of 25");
    assert!(authors[..100].iter().all(|a| a.ends_with(".test")), "{authors:?}");
    assert_eq!(authors[100..], dids[100..], "the ten beyond keep their DID for now");
}

/// An AppView that fails is not asked again for a while (unreachable, each request would hold the
/// stream for its timeout): the posts keep their DIDs meanwhile.
#[tokio::test]
async fn a_failing_appview_is_left_alone_for_a_while() {
    let requests = Arc::new(Mutex::new(0));
    let counted = requests.clone();
    let router = axum::Router::new().route(
        "/xrpc/app.bsky.actor.getProfiles",
        axum::routing::get(move || {
            *counted.lock().unwrap() += 1;
            async { (axum::http::StatusCode::SERVICE_UNAVAILABLE, "down") }
        }),
    );
    let appview = serve(router).await;
    let scripts = ["did:plc:first", "did:plc:b", "did:plc:c"]
        .iter()
        .enumerate()
        .map(|(i, did)| connection(i as u64 + 1, &[(*did).to_owned()]))
        .collect();
    let (_, mut stream) = behind_a_relay(scripts, Some(&appview)).await;
    let (_, mut retry) = drain(&mut stream, 1_000).await;
    let mut seen = Vec::new();
    for _ in 0..2 {
        let (batch, next) = drain(&mut stream, retry.retry_at_ms).await;
        seen.extend(authors(&batch));
        retry = next;
    }
    assert_eq!(seen, ["did:plc:b", "did:plc:c"]);
    assert_eq!(*requests.lock().unwrap(), 1, "asked once, then left alone");
}

#[tokio::test]
async fn the_guard_refuses_a_relay_it_does_not_allow() {
    let relay = relay(vec![vec![post(1, "never")]]).await;
    let mut stream =
        Firehose::new(GuardedClient::new(vec![]), &format!("ws://{}", relay.host), None, config()).unwrap();
    let retry = stream.next_batch(0).await.unwrap_err();
    assert!(matches!(retry.error, FirehoseError::Guard(FetchError::Refused(_))), "{:?}", retry.error);
    tokio::task::yield_now().await;
    assert!(relay.queries().is_empty(), "no connection was made");
    // wss is vetted as https: the same refusal.
    let mut secure = Firehose::new(GuardedClient::new(vec![]), "wss://127.0.0.1:9", None, config()).unwrap();
    let retry = secure.next_batch(0).await.unwrap_err();
    assert!(matches!(retry.error, FirehoseError::Guard(FetchError::Refused(_))), "{:?}", retry.error);
}

// ---------------------------------------------------------------------------------------------
// Keyword search.

const CID: &str = "bafyreie5cvv4h45feadgeuwhbcutmh6t2ceseocckahdoe6uat64zmz454";

fn post_view(did: &str, handle: &str, rkey: &str, text: &str, langs: &[&str], reply: bool) -> Value {
    let mut record = json!({
        "$type": "app.bsky.feed.post",
        "createdAt": "2026-03-04T05:06:07.890Z",
        "langs": langs,
        "text": text,
        "facets": [{
            "index": {"byteStart": 0, "byteEnd": 7},
            "features": [{"$type": "app.bsky.richtext.facet#tag", "tag": "relais"}],
        }],
    });
    if reply {
        let parent = json!({"uri": format!("at://{did}/app.bsky.feed.post/3kparent2222"), "cid": CID});
        record["reply"] = json!({"root": parent, "parent": parent});
    }
    json!({
        "uri": format!("at://{did}/app.bsky.feed.post/{rkey}"),
        "cid": CID,
        "author": {
            "did": did,
            "handle": handle,
            "displayName": "Alice",
            "avatar": "https://cdn.bsky.app/img/avatar/plain/x/y@jpeg",
            "labels": [],
            "createdAt": "2024-01-01T00:00:00.000Z",
        },
        "record": record,
        "replyCount": 0, "repostCount": 1, "likeCount": 2, "quoteCount": 0,
        "indexedAt": "2026-03-04T05:06:08.000Z",
        "labels": [],
    })
}

async fn appview(pages: Vec<Value>) -> (String, Arc<Mutex<Vec<(String, Option<String>)>>>) {
    use axum::extract::{RawQuery, State};
    use axum::http::HeaderMap;
    use axum::response::IntoResponse;
    type Seen = Arc<Mutex<Vec<(String, Option<String>)>>>;
    let seen: Seen = Arc::default();
    let pages = Arc::new(pages);
    let handler = move |State(seen): State<Seen>, headers: HeaderMap, RawQuery(query): RawQuery| {
        let pages = pages.clone();
        async move {
            let query = query.unwrap_or_default();
            let auth = headers.get("authorization").map(|v| v.to_str().unwrap().to_owned());
            seen.lock().unwrap().push((query.clone(), auth));
            let page = if query.contains("cursor=page2") { 1 } else { 0 };
            match pages.get(page) {
                Some(Value::String(raw)) => (axum::http::StatusCode::OK, raw.clone()).into_response(),
                Some(v) if v.get("status").is_some() => axum::http::StatusCode::INTERNAL_SERVER_ERROR.into_response(),
                Some(v) => axum::Json(v.clone()).into_response(),
                None => axum::http::StatusCode::NOT_FOUND.into_response(),
            }
        }
    };
    let router = axum::Router::new()
        .route("/xrpc/app.bsky.feed.searchPosts", axum::routing::get(handler))
        .with_state(seen.clone());
    (serve(router).await, seen)
}

#[tokio::test]
async fn search_maps_pages_and_follows_the_cursor() {
    let alice = "did:plc:alice2222222222222222";
    let page1 = json!({
        "cursor": "page2",
        "hitsTotal": 3,
        "posts": [
            post_view(alice, "alice.bsky.social", "3kaaaaaaaaaa3", "#relais Déjà vu ☕", &["fr"], false),
            post_view(alice, "handle.invalid", "3kaaaaaaaaaa2", "a reply 👋", &[], true),
            {
                "uri": "at://did:plc:x/app.bsky.feed.like/3k",
                "author": {"did": "did:plc:x", "handle": "x.test"},
                "record": {"$type": "app.bsky.feed.like"},
            },
        ],
    });
    let bob = post_view("did:web:example.com", "bob.example.com", "3kaaaaaaaaaa1", "hello", &["en-US"], false);
    let page2 = json!({"posts": [bob]});
    let (host, seen) = appview(vec![page1, page2]).await;
    let search =
        BlueskySearch::new(GuardedClient::new(vec![host.clone()]), &format!("http://{host}/ignored/path")).unwrap();
    let since = 1_772_000_000_000;
    let now = 1_800_000_000_000;
    let all =
        search.clone().with_token("secret-token".into()).all_since("  relais déjà  ", since, 10, now).await.unwrap();
    let ids: Vec<_> = all.posts.iter().map(|p| p.external_id.clone().unwrap()).collect();
    assert_eq!(
        ids,
        [
            format!("at://{alice}/app.bsky.feed.post/3kaaaaaaaaaa3"),
            format!("at://{alice}/app.bsky.feed.post/3kaaaaaaaaaa2"),
            "at://did:web:example.com/app.bsky.feed.post/3kaaaaaaaaaa1".to_owned(),
        ]
    );
    assert_eq!((all.unreadable, all.cursor), (1, None), "the like is left out; the last page has no cursor");
    let first = &all.posts[0];
    assert_eq!((first.source.as_str(), first.author.as_deref()), ("bluesky", Some("alice.bsky.social")));
    assert_eq!((first.text.as_str(), first.lang.as_deref()), ("#relais Déjà vu ☕", Some("fr")));
    assert_eq!(first.url, Some(format!("https://bsky.app/profile/{alice}/post/3kaaaaaaaaaa3")));
    assert_eq!(first.published_at, Some(1_772_600_767_890));
    assert_eq!(all.posts[1].author.as_deref(), Some(alice), "an invalid handle falls back to the DID");
    assert_eq!(all.posts[2].lang.as_deref(), Some("en-US"));

    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 2);
    let first_query: std::collections::HashMap<String, String> =
        url::form_urlencoded::parse(seen[0].0.as_bytes()).into_owned().collect();
    assert_eq!(first_query["q"], "relais déjà");
    assert_eq!(first_query["sort"], "latest");
    assert_eq!(first_query["limit"], "100");
    assert_eq!(first_query["since"], "2026-02-25T06:13:20Z");
    assert!(!first_query.contains_key("cursor"));
    assert!(seen[1].0.contains("cursor=page2"));
    assert_eq!(seen[0].1.as_deref(), Some("Bearer secret-token"));
}

#[tokio::test]
async fn search_failures_are_errors() {
    let (host, seen) = appview(vec![json!({"status": 500})]).await;
    let allowed = GuardedClient::new(vec![host.clone()]);
    let search = BlueskySearch::new(allowed.clone(), &format!("http://{host}")).unwrap();
    assert!(matches!(search.page("x", None, None, 25, 0).await, Err(SearchError::Fetch(FetchError::Status(500)))));
    let empty = search.page("   ", None, None, 25, 0).await.unwrap_err();
    assert!(matches!(empty, SearchError::InvalidQuery), "{empty:?}");
    assert!(empty.message(&host).fr.contains("Une recherche Bluesky demande de 1 à 1000 caractères"));
    let long = search.page(&"é".repeat(1_001), None, None, 25, 0).await;
    assert!(matches!(long, Err(SearchError::InvalidQuery)));
    let refused = BlueskySearch::new(GuardedClient::new(vec![]), &format!("http://{host}")).unwrap();
    assert!(matches!(refused.page("x", None, None, 25, 0).await, Err(SearchError::Fetch(FetchError::Refused(_)))));
    assert_eq!(seen.lock().unwrap().len(), 1, "neither the bad queries nor the refused host reached the server");
    assert!(BlueskySearch::new(allowed, "ftp://example.com").is_err());

    let (host, _) = appview(vec![Value::String("<html>not json</html>".into())]).await;
    let search = BlueskySearch::new(GuardedClient::new(vec![host.clone()]), &format!("http://{host}")).unwrap();
    assert!(matches!(search.page("x", None, None, 25, 0).await, Err(SearchError::Fetch(FetchError::Decode(_)))));
    let big = json!({"posts": [post_view("did:plc:a", "a.test", "3kaaaaaaaaaa2", &"x".repeat(5_000), &[], false)]});
    let (host, _) = appview(vec![big]).await;
    let small = GuardedClient::new(vec![host.clone()]).with_limits(Duration::from_secs(5), 1_000);
    let search = BlueskySearch::new(small, &format!("http://{host}")).unwrap();
    let too_large = search.page("x", None, None, 25, 0).await;
    assert!(matches!(too_large, Err(SearchError::Fetch(FetchError::TooLarge(1_000)))));
}
