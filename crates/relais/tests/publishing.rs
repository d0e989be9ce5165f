//! The publishing engine: on time, exactly once, resumable, with the late policy, pause, retries,
//! permanent and auth failures, and concurrent workers. SQLite always, PostgreSQL when
//! `RELAIS_TEST_DATABASE_URL` is set (required under CI). The clock is fake; no test sleeps.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use relais_app::publisher::{Publisher, Registry};
use relais_app::{Actor, App};
use relais_domain::ids::{ChannelId, PostId, UserId, WorkspaceId};
use relais_networks::{Account, Capabilities, NetError, Network, OutPost, Published, RemoteRef};
use relais_testkit::app::{FakeClock, postgres_or_skip, test_app};
use serde_json::json;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};

const HOUR: i64 = 3_600_000;

struct Env {
    app: App,
    clock: FakeClock,
    actor: Actor,
    ws: WorkspaceId,
    _dir: tempfile::TempDir,
}

async fn env(postgres: bool) -> Option<Env> {
    let admin = postgres_or_skip(postgres, "a publishing test")?;
    let dir = tempfile::tempdir().unwrap();
    let clock = FakeClock::new();
    let app = test_app(admin.as_deref(), dir.path(), clock.clock(), vec![]).await;
    let user = app.create_user("cm@example.fr", "CM", "correct horse battery", "fr").await.unwrap();
    let actor = Actor { user: UserId(user.id), ip: None };
    let ws = WorkspaceId(app.create_workspace(&actor, "Brand", "Europe/Paris").await.unwrap().id);
    Some(Env { app, clock, actor, ws, _dir: dir })
}

impl Env {
    async fn channel(&self, network: &str) -> i64 {
        let input = relais_app::channels::ChannelInput {
            network: network.into(),
            handle: format!("brand-{network}"),
            ..Default::default()
        };
        self.app.create_channel(&self.actor, self.ws, input).await.unwrap().id
    }

    /// A post due `in_ms` from now, with optional thread parts and first comment.
    async fn post(&self, channel: i64, text: &str, in_ms: i64, thread: &[&str], comment: Option<&str>) -> PostId {
        let due = jiff::Timestamp::from_millisecond(self.clock.now_ms() + in_ms).unwrap();
        let local = due.to_zoned(jiff::tz::TimeZone::get("Europe/Paris").unwrap()).datetime().to_string();
        let input: relais_app::posts::PostInput = serde_json::from_value(json!({
            "text": text,
            "thread": thread,
            "first_comment": comment,
            "channels": [{ "channel_id": channel }],
            "schedule": { "at": { "local": local } }
        }))
        .unwrap();
        PostId(self.app.create_post(&self.actor, self.ws, input).await.unwrap().id)
    }

    fn advance(&self, ms: i64) {
        self.clock.advance(ms);
    }

    async fn status(&self, post: PostId) -> String {
        self.app.post(&self.actor, self.ws, post).await.unwrap().status
    }

    async fn sandbox(&self, channel: i64) -> Vec<relais_store::delivery::SandboxPost> {
        let mut t = self.app.sandbox_timeline(&self.actor, self.ws, ChannelId(channel)).await.unwrap();
        t.reverse();
        t
    }

    async fn outcomes(&self, post: PostId) -> Vec<String> {
        let log = self.app.publish_log(&self.actor, self.ws, post).await.unwrap();
        log.attempts.into_iter().map(|a| a.outcome).collect()
    }
}

macro_rules! both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test] async fn $name() { if let Some(e) = super::env(false).await { super::$name(&e).await } })*
        }
        mod postgres {
            $(#[tokio::test] async fn $name() { if let Some(e) = super::env(true).await { super::$name(&e).await } })*
        }
    };
}

both_backends!(
    sandbox_thread_goes_out_on_time_exactly_once,
    paused_workspace_publishes_nothing_until_resumed,
    late_posts_follow_the_policy,
    unknown_outcome_is_reconciled_never_blindly_retried,
    crashed_worker_is_taken_over_at_the_next_part,
    transient_rate_limited_permanent_and_auth_failures,
    concurrent_workers_never_publish_twice,
    failures_are_notified_to_webhooks_with_retries,
);

/// A webhook receiver on loopback that answers 500 to its first request, then 200. Returns its
/// `host:port` and what it received.
async fn webhook_sink() -> (String, Arc<Mutex<Vec<serde_json::Value>>>) {
    let received: Arc<Mutex<Vec<serde_json::Value>>> = Arc::default();
    let seen = received.clone();
    let calls = Arc::new(AtomicI64::new(0));
    let router = axum::Router::new().route(
        "/hook/{name}",
        axum::routing::post(move |axum::Json(body): axum::Json<serde_json::Value>| {
            let (seen, calls) = (seen.clone(), calls.clone());
            async move {
                if calls.fetch_add(1, Ordering::SeqCst) == 0 {
                    return axum::http::StatusCode::INTERNAL_SERVER_ERROR;
                }
                seen.lock().unwrap().push(body);
                axum::http::StatusCode::OK
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let host = format!("127.0.0.1:{}", listener.local_addr().unwrap().port());
    tokio::spawn(async move { axum::serve(listener, router).await });
    (host, received)
}

async fn failures_are_notified_to_webhooks_with_retries(e: &Env) {
    let (host, received) = webhook_sink().await;
    let mut app = e.app.clone();
    app.http = relais_networks::GuardedClient::new(vec![host.clone()]);
    use relais_app::notifications::{Notifier, WebhookKind};
    let hook = app
        .create_webhook(&e.actor, e.ws, WebhookKind::Matrix, &format!("http://{host}/hook/SECRET-TOKEN"))
        .await
        .unwrap();
    assert_eq!(hook.url_hint, format!("http://{host}/…"));
    let listed = serde_json::to_string(&app.webhooks(&e.actor, e.ws).await.unwrap()).unwrap();
    assert!(!listed.contains("SECRET-TOKEN"), "{listed}");
    let ch = e.channel("x").await;
    let net = Scripted::new(vec![Err(NetError::Permanent { message: "<script>alert(1)</script> refused".into() })]);
    let post = e.post(ch, "hello", HOUR, &[], None).await;
    let mut p = publisher_with(e, net, "w1");
    p.app = app.clone();
    e.advance(HOUR);
    p.run_once(64).await.unwrap();
    assert_eq!(e.status(post).await, "failed");
    let notifier = Notifier { app: app.clone() };
    assert_eq!(notifier.run_once(10).await.unwrap(), 0, "the receiver fails the first time");
    assert_eq!(notifier.run_once(10).await.unwrap(), 0, "not retried before the backoff");
    e.advance(5_000);
    assert_eq!(notifier.run_once(10).await.unwrap(), 1);
    let bodies = received.lock().unwrap().clone();
    assert_eq!(bodies.len(), 1);
    let html = bodies[0]["html"].as_str().unwrap();
    assert!(html.contains("&lt;script&gt;") && !html.contains("<script>"), "{html}");
    assert!(bodies[0]["text"].as_str().unwrap().contains("a échoué sur X brand-x"), "{}", bodies[0]);
    let log = app.notifications(&e.actor, e.ws).await.unwrap();
    assert_eq!((log[0].event.as_str(), log[0].attempts, log[0].delivered_at.is_some()), ("post.failed", 2, true));
}

async fn sandbox_thread_goes_out_on_time_exactly_once(e: &Env) {
    let ch = e.channel("sandbox").await;
    let post = e.post(ch, "Bonjour 👋", HOUR, &["deuxième", "troisième"], Some("premier commentaire")).await;
    let publisher = Publisher::new(e.app.clone(), "w1");
    e.advance(HOUR - 1);
    assert_eq!(publisher.run_once(64).await.unwrap(), 0, "one millisecond early: nothing");
    e.advance(1);
    assert_eq!(publisher.run_once(64).await.unwrap(), 1);
    assert_eq!(e.status(post).await, "published");
    let timeline = e.sandbox(ch).await;
    let texts: Vec<&str> = timeline.iter().map(|p| p.text.as_str()).collect();
    assert_eq!(texts, ["Bonjour 👋", "deuxième", "troisième", "premier commentaire"]);
    // Thread parts answer the previous part; the first comment answers the post.
    assert_eq!(timeline[1].reply_to, Some(timeline[0].id));
    assert_eq!(timeline[2].reply_to, Some(timeline[1].id));
    assert_eq!(timeline[3].reply_to, Some(timeline[0].id));
    assert_eq!(e.outcomes(post).await, ["published"; 4]);
    let log = e.app.publish_log(&e.actor, e.ws, post).await.unwrap();
    assert_eq!(log.targets[0].state, "published");
    assert_eq!(log.targets[0].remote_url.as_deref(), Some(format!("sandbox://{ch}/{}", timeline[0].id).as_str()));
    // Nothing is published twice, whatever runs next.
    e.advance(HOUR);
    assert_eq!(publisher.run_once(64).await.unwrap(), 0);
    assert_eq!(e.sandbox(ch).await.len(), 4);
}

async fn paused_workspace_publishes_nothing_until_resumed(e: &Env) {
    let ch = e.channel("sandbox").await;
    let post = e.post(ch, "pendant la crise", HOUR, &[], None).await;
    e.app.set_paused(&e.actor, e.ws, true).await.unwrap();
    e.advance(HOUR);
    let publisher = Publisher::new(e.app.clone(), "w1");
    assert_eq!(publisher.run_once(64).await.unwrap(), 0);
    assert!(e.sandbox(ch).await.is_empty());
    e.advance(10 * 60 * 1000);
    e.app.set_paused(&e.actor, e.ws, false).await.unwrap();
    assert_eq!(publisher.run_once(64).await.unwrap(), 1);
    assert_eq!(e.status(post).await, "published");
}

async fn late_posts_follow_the_policy(e: &Env) {
    let ch = e.channel("sandbox").await;
    let slightly = e.post(ch, "59 minutes late", HOUR, &[], None).await;
    let very = e.post(ch, "hours late", HOUR / 2, &[], None).await;
    // Downtime: nothing ran until 59 minutes after the first due time.
    e.advance(HOUR + 59 * 60 * 1000);
    let publisher = Publisher::new(e.app.clone(), "w1");
    assert_eq!(publisher.run_once(64).await.unwrap(), 2);
    assert_eq!(e.status(slightly).await, "published");
    assert_eq!(e.status(very).await, "missed");
    assert_eq!(e.outcomes(very).await, ["missed"]);
    assert_eq!(e.sandbox(ch).await.len(), 1);
}

/// A network stand-in that keeps posts by idempotency key and fails on command.
struct Scripted {
    posts: Mutex<Vec<(String, String)>>,
    /// What the next publish calls do: `Err` fails without writing; `Ok(true)` writes then
    /// answers "unknown" (the answer was lost); `Ok(false)` writes and answers normally.
    script: Mutex<Vec<Result<bool, NetError>>>,
    publish_calls: AtomicI64,
    lookups: AtomicI64,
}

impl Scripted {
    fn new(script: Vec<Result<bool, NetError>>) -> Arc<Scripted> {
        Arc::new(Scripted {
            posts: Mutex::default(),
            script: Mutex::new(script),
            publish_calls: AtomicI64::new(0),
            lookups: AtomicI64::new(0),
        })
    }

    fn texts(&self) -> Vec<String> {
        self.posts.lock().unwrap().iter().map(|(_, t)| t.clone()).collect()
    }

    fn find(&self, key: &str) -> Option<Published> {
        let posts = self.posts.lock().unwrap();
        posts
            .iter()
            .position(|(k, _)| k == key)
            .map(|i| Published { remote: RemoteRef { id: format!("x-{i}"), cid: None, url: None } })
    }
}

#[async_trait::async_trait]
impl Network for Scripted {
    fn id(&self) -> relais_domain::Network {
        relais_domain::Network::X
    }
    fn capabilities(&self) -> Capabilities {
        Capabilities { threads: true, delete: true, lookup_by_key: true }
    }
    async fn publish(&self, _: &Account, post: &OutPost) -> Result<Published, NetError> {
        self.publish_calls.fetch_add(1, Ordering::SeqCst);
        let next = { self.script.lock().unwrap().pop() };
        let write = |this: &Scripted| {
            if this.find(&post.idempotency_key).is_none() {
                this.posts.lock().unwrap().push((post.idempotency_key.clone(), post.text.clone()));
            }
            this.find(&post.idempotency_key).unwrap()
        };
        match next {
            None | Some(Ok(false)) => Ok(write(self)),
            Some(Ok(true)) => {
                write(self);
                Err(NetError::Unknown { message: "connection reset after sending".into() })
            }
            Some(Err(e)) => Err(e),
        }
    }
    async fn lookup(&self, _: &Account, key: &str, _: &str) -> Result<Option<Published>, NetError> {
        self.lookups.fetch_add(1, Ordering::SeqCst);
        Ok(self.find(key))
    }
    async fn delete(&self, _: &Account, _: &RemoteRef) -> Result<(), NetError> {
        Ok(())
    }
    async fn refresh(&self, _: &Account) -> Result<Option<serde_json::Value>, NetError> {
        Ok(None)
    }
    async fn metrics(&self, _: &Account, _: &RemoteRef) -> Result<serde_json::Value, NetError> {
        Ok(json!({}))
    }
}

fn publisher_with(e: &Env, network: Arc<Scripted>, worker: &str) -> Publisher {
    let mut p = Publisher::new(e.app.clone(), worker);
    p.registry = Registry::default().with(network);
    p
}

async fn unknown_outcome_is_reconciled_never_blindly_retried(e: &Env) {
    let ch = e.channel("x").await;
    // Script is popped from the end: part 0 is written but its answer lost; then part 1 is not
    // written and its answer lost too (a timeout before the server got it).
    let net = Scripted::new(vec![Err(NetError::Unknown { message: "timeout".into() }), Ok(true)]);
    let post = e.post(ch, "one", HOUR, &["two"], None).await;
    let p = publisher_with(e, net.clone(), "w1");
    e.advance(HOUR);
    p.run_once(64).await.unwrap();
    assert_eq!(net.texts(), ["one"]);
    let log = e.app.publish_log(&e.actor, e.ws, post).await.unwrap();
    assert_eq!(log.targets[0].state, "unconfirmed");
    // Next pass (after the retry delay): the network is asked first; it has part 0.
    e.advance(60_000);
    p.run_once(64).await.unwrap();
    assert_eq!(net.lookups.load(Ordering::SeqCst), 1);
    assert_eq!(net.texts(), ["one"], "part 0 was not sent again; part 1 got a timeout before reaching the server");
    e.advance(5 * 60_000);
    p.run_once(64).await.unwrap();
    assert_eq!(net.texts(), ["one", "two"]);
    assert_eq!(e.status(post).await, "published");
    assert_eq!(e.outcomes(post).await, ["unknown", "reconciled", "unknown", "not_found", "published"]);
}

async fn crashed_worker_is_taken_over_at_the_next_part(e: &Env) {
    let ch = e.channel("x").await;
    let net = Scripted::new(vec![]);
    let post = e.post(ch, "part 0", HOUR, &["part 1", "part 2"], None).await;
    e.advance(HOUR);
    // Worker A claims, publishes part 0, stores part 1's key, says "sending", and dies (SIGKILL):
    // reproduced step by step through the store, as the engine does it.
    let store = &e.app.store;
    let claimed = store.claim_due(e.clock.now_ms(), "A", e.clock.now_ms() + 60_000, 10).await.unwrap();
    assert_eq!(claimed.len(), 1);
    store.store_part_key(post, ChannelId(ch), 0, "3kaaaaaaaaaa2", "A").await.unwrap();
    net.posts.lock().unwrap().push(("3kaaaaaaaaaa2".into(), "part 0".into()));
    store.part_published(post, ChannelId(ch), 0, ("x-0", None, None), e.clock.now_ms()).await.unwrap();
    store.store_part_key(post, ChannelId(ch), 1, "3kaaaaaaaaab2", "A").await.unwrap();
    store
        .update_target(
            post,
            ChannelId(ch),
            "A",
            relais_store::delivery::TargetUpdate { state: "sending", keep_lease: true, ..Default::default() },
        )
        .await
        .unwrap();
    // While A's lease holds, B takes nothing.
    let b = publisher_with(e, net.clone(), "B");
    assert_eq!(b.run_once(64).await.unwrap(), 0);
    // Once it expires, B takes over: part 0 is not re-posted, part 1 is looked up (absent) and
    // sent with A's key, part 2 follows.
    e.advance(60_001);
    assert_eq!(b.run_once(64).await.unwrap(), 1);
    assert_eq!(net.texts(), ["part 0", "part 1", "part 2"]);
    assert_eq!(net.find("3kaaaaaaaaab2").map(|p| p.remote.id), Some("x-1".into()));
    assert_eq!(e.status(post).await, "published");
    // A, back from the dead, cannot write over B's result.
    let late = store
        .update_target(
            post,
            ChannelId(ch),
            "A",
            relais_store::delivery::TargetUpdate { state: "failed", ..Default::default() },
        )
        .await;
    assert!(matches!(late, Err(relais_store::StoreError::NotFound)));
}

async fn transient_rate_limited_permanent_and_auth_failures(e: &Env) {
    let ch = e.channel("x").await;
    let net = Scripted::new(vec![
        Err(NetError::Permanent { message: "Validation failed: Text can't be blank".into() }),
        Err(NetError::RateLimited { retry_after: Some(std::time::Duration::from_secs(600)) }),
        Err(NetError::Transient { message: "503 Service Unavailable".into(), retry_after: None }),
    ]);
    let post = e.post(ch, "retry me", HOUR, &[], None).await;
    let p = publisher_with(e, net.clone(), "w1");
    e.advance(HOUR);
    p.run_once(64).await.unwrap();
    let next = |log: &relais_app::posts::PublishLog| log.targets[0].next_attempt_at.unwrap() - e.clock.now_ms();
    let log = e.app.publish_log(&e.actor, e.ws, post).await.unwrap();
    assert!((2_500..=5_000).contains(&next(&log)), "first retry after 2.5–5 s: {}", next(&log));
    e.advance(5_000);
    p.run_once(64).await.unwrap();
    let log = e.app.publish_log(&e.actor, e.ws, post).await.unwrap();
    assert!(next(&log) >= 600_000, "the network's reset wins: {}", next(&log));
    assert_eq!(p.run_once(64).await.unwrap(), 0, "not before the reset");
    e.advance(600_000);
    p.run_once(64).await.unwrap();
    assert_eq!(e.status(post).await, "failed");
    let log = e.app.publish_log(&e.actor, e.ws, post).await.unwrap();
    assert_eq!(log.targets[0].last_error.as_deref(), Some("Validation failed: Text can't be blank"));
    // A stored key whose call failed is looked up before the next try: on any doubt, the
    // network is asked (here it has nothing, so the same key is sent again).
    assert_eq!(e.outcomes(post).await, ["transient", "not_found", "rate_limited", "not_found", "refused"]);
    assert!(net.texts().is_empty());

    // Expired credentials: the channel needs reconnection and its posts wait, they do not fail.
    let net = Scripted::new(vec![Err(NetError::Auth { message: "The access token is invalid".into() })]);
    let waiting = e.post(ch, "wait for me", HOUR, &[], None).await;
    let p = publisher_with(e, net.clone(), "w1");
    e.advance(HOUR);
    assert_eq!(p.run_once(64).await.unwrap(), 1);
    assert_eq!(e.status(waiting).await, "scheduled");
    e.advance(HOUR);
    assert_eq!(p.run_once(64).await.unwrap(), 0, "nothing is tried on a channel that needs reconnection");
    e.app.store.set_needs_reconnection(ChannelId(ch), false).await.unwrap();
    e.app.store.claim_due(0, "nobody", 0, 0).await.unwrap();
    // Reconnected more than an hour after its due time: the workspace's late policy says missed.
    e.advance(1);
    p.run_once(64).await.unwrap();
    assert_eq!(e.status(waiting).await, "missed");
}

async fn concurrent_workers_never_publish_twice(e: &Env) {
    let ch = e.channel("sandbox").await;
    for i in 0..60 {
        e.post(ch, &format!("post {i}"), HOUR, &[], None).await;
    }
    e.advance(HOUR);
    let a = Publisher::new(e.app.clone(), "A");
    let b = Publisher::new(e.app.clone(), "B");
    let (na, nb) = tokio::join!(a.run_once(40), b.run_once(40));
    let (na, nb) = (na.unwrap(), nb.unwrap());
    let rest = a.run_once(64).await.unwrap();
    let mut stuck = Vec::new();
    for p in e
        .app
        .calendar(&e.actor, e.ws, relais_store::posts::PostFilter { limit: 100, ..Default::default() })
        .await
        .unwrap()
    {
        if p.status != "published" {
            stuck.push((p.id, p.status.clone(), e.app.publish_log(&e.actor, e.ws, PostId(p.id)).await.unwrap()));
        }
    }
    assert_eq!(na + nb + rest, 60, "{na} + {nb} + {rest}; not published: {stuck:?}");
    let timeline = e.sandbox(ch).await;
    assert_eq!(timeline.len(), 60);
    let mut texts: Vec<&str> = timeline.iter().map(|p| p.text.as_str()).collect();
    texts.sort();
    texts.dedup();
    assert_eq!(texts.len(), 60, "no post twice");
}
