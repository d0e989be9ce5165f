//! The whole scheduling path against real local peers (the reference PDS and the Mastodon mock,
//! started by `relais-testkit`): channels connected and posts scheduled through the services,
//! delivered by the engine, and read back on the peers. SQLite, fake clock. Without the peers the
//! tests fail under `CI` and are skipped (loudly) elsewhere.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use relais_app::publisher::Publisher;
use relais_app::{Actor, App};
use relais_domain::ids::{ChannelId, PostId, UserId, WorkspaceId};
use relais_networks::bluesky::new_tid;
use relais_networks::{Account, Network, OutPost};
use relais_store::delivery::{PartRecord, TargetUpdate};
use relais_testkit::app::{FakeClock, test_app};
use relais_testkit::{MastodonMock, Pds};
use serde_json::{Value, json};

const HOUR: i64 = 3_600_000;

struct Env {
    app: App,
    clock: FakeClock,
    actor: Actor,
    ws: WorkspaceId,
    _dir: tempfile::TempDir,
}

/// An application on a fresh SQLite database whose HTTP client may reach `hosts`.
async fn env(hosts: Vec<String>) -> Env {
    let dir = tempfile::tempdir().unwrap();
    let clock = FakeClock::new();
    let app = test_app(None, dir.path(), clock.clock(), hosts).await;
    let user = app.create_user("cm@example.fr", "CM", "correct horse battery", "fr").await.unwrap();
    let actor = Actor { user: UserId(user.id), ip: None };
    let ws = WorkspaceId(app.create_workspace(&actor, "Brand", "Europe/Paris").await.unwrap().id);
    Env { app, clock, actor, ws, _dir: dir }
}

impl Env {
    async fn channel(&self, network: &str, handle: &str, instance_url: String, credentials: Value) -> ChannelId {
        let input = relais_app::channels::ChannelInput {
            network: network.into(),
            handle: handle.into(),
            instance_url: Some(instance_url),
            credentials: credentials.as_object().cloned(),
            ..Default::default()
        };
        ChannelId(self.app.create_channel(&self.actor, self.ws, input).await.unwrap().id)
    }

    /// A post due in an hour on `channels`, with thread parts and an optional first comment.
    async fn post(&self, channels: &[ChannelId], text: &str, thread: &[&str], comment: Option<&str>) -> PostId {
        let local = self.in_an_hour();
        let channels: Vec<Value> = channels.iter().map(|c| json!({ "channel_id": c.0 })).collect();
        let input: relais_app::posts::PostInput = serde_json::from_value(json!({
            "text": text,
            "thread": thread,
            "first_comment": comment,
            "channels": channels,
            "schedule": { "at": { "local": local } }
        }))
        .unwrap();
        PostId(self.app.create_post(&self.actor, self.ws, input).await.unwrap().id)
    }

    /// The Paris wall-clock time an hour from now, as a schedule takes it.
    fn in_an_hour(&self) -> String {
        let due = jiff::Timestamp::from_millisecond(self.now() + HOUR).unwrap();
        due.to_zoned(jiff::tz::TimeZone::get("Europe/Paris").unwrap()).datetime().to_string()
    }

    fn now(&self) -> i64 {
        self.clock.now_ms()
    }

    fn advance(&self, ms: i64) {
        self.clock.advance(ms);
    }

    async fn status(&self, post: PostId) -> String {
        self.app.post(&self.actor, self.ws, post).await.unwrap().status
    }

    /// The publish log's outcomes for one channel, oldest first, as `(part, outcome)`.
    async fn outcomes(&self, post: PostId, channel: ChannelId) -> Vec<(i64, String)> {
        let log = self.app.publish_log(&self.actor, self.ws, post).await.unwrap();
        let mut attempts: Vec<_> = log.attempts.into_iter().filter(|a| a.channel_id == channel.0).collect();
        attempts.sort_by_key(|a| a.id);
        attempts.into_iter().map(|a| (a.part, a.outcome)).collect()
    }

    async fn parts(&self, post: PostId, channel: ChannelId) -> Vec<PartRecord> {
        self.app.store.target_parts(post, channel).await.unwrap()
    }
}

/// The peers, or `None` (skipped) when they cannot start outside CI.
fn peers() -> Option<(&'static Pds, MastodonMock)> {
    let pds = Pds::shared()?;
    Some((pds, MastodonMock::start_or_skip()?))
}

/// `GET` on the mock's API with a user token.
async fn mastodon_get(mock: &MastodonMock, token: &str, path: &str) -> Value {
    let response =
        reqwest::Client::new().get(format!("{}{path}", mock.base())).bearer_auth(token).send().await.unwrap();
    assert!(response.status().is_success(), "GET {path}: {}", response.status());
    response.json().await.unwrap()
}

/// The rkey of an `at://did/collection/rkey` URI.
fn rkey(uri: &str) -> &str {
    uri.rsplit('/').next().unwrap()
}

const TEXT: &str = "Lancement de Relais https://example.com/relais #relais";
const THREAD: [&str; 2] = ["Deuxième partie du fil", "Troisième partie du fil"];
const COMMENT: &str = "Premier commentaire";

#[tokio::test]
async fn a_thread_with_a_first_comment_reaches_bluesky_and_mastodon_exactly_once() {
    let Some((pds, mock)) = peers() else { return };
    let (handle, did, password) = pds.create_account("engine").await;
    let token = mock.connect("engine").await;
    let e = env(vec![pds.host(), mock.host()]).await;
    let bsky = e.channel("bluesky", &handle, pds.base(), json!({ "app_password": password })).await;
    let masto = e.channel("mastodon", "engine", mock.base(), json!({ "access_token": token })).await;
    let limits = e.app.store.channel(e.ws, masto).await.unwrap().limits;
    assert!(limits.is_some_and(|l| l.contains("configuration")), "the mock's /api/v2/instance was read");
    let post = e.post(&[bsky, masto], TEXT, &THREAD, Some(COMMENT)).await;

    // Not due yet: nothing is claimed.
    let worker = Publisher::new(e.app.clone(), "w1");
    assert_eq!(worker.run_once(64).await.unwrap(), 0);
    e.advance(HOUR + 1);
    assert_eq!(worker.run_once(64).await.unwrap(), 2);
    assert_eq!(e.status(post).await, "published");
    let log = e.app.publish_log(&e.actor, e.ws, post).await.unwrap();
    let outcomes: Vec<&str> = log.attempts.iter().map(|a| a.outcome.as_str()).collect();
    assert_eq!(outcomes, ["published"; 8], "{outcomes:?}");
    assert!(log.targets.iter().all(|t| t.state == "published"), "{:?}", log.targets);

    // Bluesky: four records, the thread chained to its root, the comment answering the root.
    assert_eq!(pds.count_posts(&did).await, 4);
    let parts = e.parts(post, bsky).await;
    let mut records = Vec::new();
    for p in &parts {
        let id = p.remote_id.as_deref().unwrap();
        assert!(id.starts_with(&format!("at://{did}/app.bsky.feed.post/")), "{id}");
        records.push(pds.get_record(&did, rkey(id)).await);
    }
    let texts: Vec<&str> = records.iter().map(|r| r["value"]["text"].as_str().unwrap()).collect();
    assert_eq!(texts, [TEXT, THREAD[0], THREAD[1], COMMENT]);
    let strong = |r: &Value| json!({"uri": r["uri"], "cid": r["cid"]});
    let root = strong(&records[0]);
    assert_eq!(records[0]["value"].get("reply"), None);
    assert_eq!(records[1]["value"]["reply"], json!({"root": root, "parent": root}));
    assert_eq!(records[2]["value"]["reply"], json!({"root": root, "parent": strong(&records[1])}));
    assert_eq!(records[3]["value"]["reply"], json!({"root": root, "parent": root}), "the comment answers the post");
    let facets = &records[0]["value"]["facets"];
    let features: Vec<&str> = facets
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|f| f["features"].as_array().unwrap())
        .map(|f| f["$type"].as_str().unwrap())
        .collect();
    assert_eq!(features, ["app.bsky.richtext.facet#link", "app.bsky.richtext.facet#tag"], "{facets}");
    let link = TEXT.find("https").unwrap();
    assert_eq!(facets[0]["index"]["byteStart"], link);

    // Mastodon: four statuses, each answering the right one.
    let me = mastodon_get(&mock, &token, "/api/v1/accounts/verify_credentials").await;
    let own = format!("/api/v1/accounts/{}/statuses?limit=40", me["id"].as_str().unwrap());
    assert_eq!(mastodon_get(&mock, &token, &own).await.as_array().unwrap().len(), 4);
    let ids: Vec<String> = e.parts(post, masto).await.into_iter().map(|p| p.remote_id.unwrap()).collect();
    let mut statuses = Vec::new();
    for id in &ids {
        statuses.push(mastodon_get(&mock, &token, &format!("/api/v1/statuses/{id}")).await);
    }
    let texts: Vec<String> =
        statuses.iter().map(|s| relais_networks::mastodon::status_text(s["content"].as_str().unwrap())).collect();
    assert_eq!(texts, [TEXT, THREAD[0], THREAD[1], COMMENT]);
    let replies: Vec<Option<&str>> = statuses.iter().map(|s| s["in_reply_to_id"].as_str()).collect();
    assert_eq!(replies, [None, Some(ids[0].as_str()), Some(ids[1].as_str()), Some(ids[0].as_str())]);

    // A second pass, much later, publishes nothing more.
    e.advance(HOUR);
    assert_eq!(worker.run_once(64).await.unwrap(), 0);
    assert_eq!(pds.count_posts(&did).await, 4);
    assert_eq!(mastodon_get(&mock, &token, &own).await.as_array().unwrap().len(), 4);
    assert_eq!(e.app.publish_log(&e.actor, e.ws, post).await.unwrap().attempts.len(), 8);
}

/// A person connects their Mastodon account by OAuth: Relais registers itself on the server,
/// the person approves on the server's page and pastes the code; the state is used once and
/// expires; a refused code creates nothing; the token then publishes.
#[tokio::test]
async fn a_mastodon_account_connects_by_oauth() {
    use relais_app::oauth::{MastodonAuthorizeInput, MastodonConnectInput, OUT_OF_BAND};
    let Some(mock) = MastodonMock::start_or_skip() else { return };
    let e = env(vec![mock.host()]).await;
    let guarded = relais_networks::GuardedClient::new(vec![mock.host()]);
    let signup = relais_networks::mastodon::register_app(&guarded, &mock.base(), OUT_OF_BAND, "read write").await;
    mock.sign_up(&signup.unwrap(), "oauthcm").await;
    let start = || MastodonAuthorizeInput { instance_url: mock.base(), redirect_uri: None };
    let finish = |state: &str, code: &str| MastodonConnectInput {
        state: state.into(),
        code: code.into(),
        display_name: Some("Marque (Mastodon)".into()),
    };

    let auth = e.app.mastodon_authorize(&e.actor, e.ws, start()).await.unwrap();
    assert!(auth.authorize_url.starts_with(&format!("{}/oauth/authorize?", mock.base())), "{}", auth.authorize_url);
    assert!(auth.authorize_url.contains(&auth.state));
    let code = mock.approve(&auth.authorize_url, "oauthcm").await;
    let err = e.app.mastodon_connect(&e.actor, e.ws, finish("not-the-state", &code)).await.unwrap_err();
    assert_eq!(err.code, "oauth_state_unknown");
    let channel = e.app.mastodon_connect(&e.actor, e.ws, finish(&auth.state, &code)).await.unwrap();
    assert_eq!((channel.network.as_str(), channel.handle.as_str()), ("mastodon", "oauthcm"));
    assert_eq!(channel.display_name, "Marque (Mastodon)");
    assert!(channel.limits.is_some(), "the server's limits were read");
    let again = e.app.mastodon_connect(&e.actor, e.ws, finish(&auth.state, &code)).await.unwrap_err();
    assert_eq!(again.code, "oauth_state_unknown", "a state is used once");

    // A refused code: the server's message, nothing created.
    let auth = e.app.mastodon_authorize(&e.actor, e.ws, start()).await.unwrap();
    let err = e.app.mastodon_connect(&e.actor, e.ws, finish(&auth.state, "not-a-code")).await.unwrap_err();
    assert_eq!(err.kind, relais_app::error::ErrorKind::Upstream, "{err:?}");
    // An expired request.
    let auth = e.app.mastodon_authorize(&e.actor, e.ws, start()).await.unwrap();
    let code = mock.approve(&auth.authorize_url, "oauthcm").await;
    e.advance(16 * 60 * 1000);
    let err = e.app.mastodon_connect(&e.actor, e.ws, finish(&auth.state, &code)).await.unwrap_err();
    assert_eq!(err.code, "oauth_state_unknown");
    assert_eq!(e.app.channels(&e.actor, e.ws).await.unwrap().len(), 1);

    // The token publishes.
    let post = e.post(&[ChannelId(channel.id)], "Connecté par OAuth", &[], None).await;
    e.advance(HOUR + 1);
    assert_eq!(Publisher::new(e.app.clone(), "w1").run_once(64).await.unwrap(), 1);
    assert_eq!(e.status(post).await, "published");
}

/// Mastodon's visibility and content warning reach the server on every part of a thread.
#[tokio::test]
async fn mastodon_visibility_and_content_warning_reach_the_server() {
    let Some(mock) = MastodonMock::start_or_skip() else { return };
    let token = mock.connect("options").await;
    let e = env(vec![mock.host()]).await;
    let masto = e.channel("mastodon", "options", mock.base(), json!({ "access_token": token })).await;
    let local = e.in_an_hour();
    let input: relais_app::posts::PostInput = serde_json::from_value(json!({
        "text": "Le final de la saison : qui l'avait vu venir ?",
        "thread": ["Notre analyse, scène par scène"],
        "visibility": "unlisted",
        "content_warning": "Divulgâchage : épisode 10",
        "channels": [{ "channel_id": masto.0 }],
        "schedule": { "at": { "local": local } }
    }))
    .unwrap();
    let post = PostId(e.app.create_post(&e.actor, e.ws, input).await.unwrap().id);
    e.advance(HOUR + 1);
    assert_eq!(Publisher::new(e.app.clone(), "w1").run_once(64).await.unwrap(), 1);
    assert_eq!(e.status(post).await, "published");
    for part in e.parts(post, masto).await {
        let id = part.remote_id.unwrap();
        let status = mastodon_get(&mock, &token, &format!("/api/v1/statuses/{id}")).await;
        assert_eq!(status["visibility"], "unlisted", "{status}");
        assert_eq!(status["spoiler_text"], "Divulgâchage : épisode 10", "{status}");
        assert_eq!(status["sensitive"], true, "{status}");
    }
    // A content warning counts in the server's budget: 480 + 21 > 500 is refused at creation.
    let local = e.in_an_hour();
    let input: relais_app::posts::PostInput = serde_json::from_value(json!({
        "text": "x".repeat(480),
        "content_warning": "y".repeat(21),
        "channels": [{ "channel_id": masto.0 }],
        "schedule": { "at": { "local": local } }
    }))
    .unwrap();
    let err = e.app.create_post(&e.actor, e.ws, input).await.unwrap_err();
    assert!(format!("{err:?}").contains("too_long"), "{err:?}");
}

/// Worker A stores part 0's key, publishes it on the PDS and dies before recording it (SIGKILL
/// after the network call). Worker B, once A's lease expired, finds part 0 by its key and
/// publishes only the rest.
#[tokio::test]
async fn a_part_published_by_a_crashed_worker_is_found_not_posted_again() {
    let Some(pds) = Pds::shared() else { return };
    let (handle, did, password) = pds.create_account("crash").await;
    let e = env(vec![pds.host()]).await;
    let credentials = json!({ "app_password": password });
    let bsky = e.channel("bluesky", &handle, pds.base(), credentials.clone()).await;
    let post = e.post(&[bsky], "part 0 #relais", &["part 1", "part 2"], None).await;
    e.advance(HOUR + 1);

    let store = &e.app.store;
    let claimed = store.claim_due(e.now(), "A", e.now() + 60_000, 10).await.unwrap();
    assert_eq!(claimed.len(), 1);
    let key = new_tid(u64::try_from(e.now()).unwrap() * 1000, 7);
    store.store_part_key(post, bsky, 0, &key, "A").await.unwrap();
    let sending = TargetUpdate { state: "sending", keep_lease: true, ..Default::default() };
    store.update_target(post, bsky, "A", sending).await.unwrap();
    let account = Account { channel_id: bsky.0, handle, instance_url: Some(pds.base()), credentials };
    let out = OutPost {
        text: "part 0 #relais".into(),
        media: vec![],
        link: None,
        reply_to: None,
        languages: vec![],
        idempotency_key: key.clone(),
        options: json!({}),
    };
    let by_a = pds.client().publish(&account, &out).await.unwrap();
    assert_eq!(pds.count_posts(&did).await, 1);

    // While A's lease holds, B takes nothing; once it expired, B takes over.
    let b = Publisher::new(e.app.clone(), "B");
    assert_eq!(b.run_once(64).await.unwrap(), 0);
    e.advance(60_001);
    assert_eq!(b.run_once(64).await.unwrap(), 1);
    assert_eq!(pds.count_posts(&did).await, 3, "exactly one record per part");
    assert_eq!(e.status(post).await, "published");
    let outcomes = e.outcomes(post, bsky).await;
    let expected = [(0, "reconciled"), (1, "published"), (2, "published")];
    assert_eq!(outcomes, expected.map(|(p, o)| (p, o.to_owned())));
    let parts = e.parts(post, bsky).await;
    assert_eq!(parts[0].idempotency_key, key);
    assert_eq!(parts[0].remote_id.as_deref(), Some(by_a.remote.id.as_str()));
    let second = pds.get_record(&did, rkey(parts[1].remote_id.as_deref().unwrap())).await;
    assert_eq!(second["value"]["reply"]["root"]["uri"], by_a.remote.id.as_str(), "the thread hangs on A's part 0");
}

/// A wrong app password: nothing is posted, the post waits, the channel needs reconnection (so
/// it is not claimed again), and the log says `auth`.
#[tokio::test]
async fn a_wrong_app_password_waits_for_reconnection() {
    let Some(pds) = Pds::shared() else { return };
    let (handle, did, _) = pds.create_account("wrongpw").await;
    let e = env(vec![pds.host()]).await;
    let bsky = e.channel("bluesky", &handle, pds.base(), json!({ "app_password": "nope-nope-nope-nope" })).await;
    let post = e.post(&[bsky], "never sent", &[], None).await;
    e.advance(HOUR + 1);
    let worker = Publisher::new(e.app.clone(), "w1");
    assert_eq!(worker.run_once(64).await.unwrap(), 1);
    assert_eq!(e.status(post).await, "scheduled");
    assert_eq!(e.outcomes(post, bsky).await, [(0, "auth".to_owned())]);
    assert!(e.parts(post, bsky).await.is_empty(), "the key of a refused part is forgotten");
    assert_eq!(pds.count_posts(&did).await, 0);
    // The channel needs reconnection: no worker claims it again.
    assert_eq!(e.app.store.channel(e.ws, bsky).await.unwrap().needs_reconnection, 1);
    e.advance(HOUR);
    assert_eq!(worker.run_once(64).await.unwrap(), 0);
    assert_eq!(e.outcomes(post, bsky).await.len(), 1);
}
