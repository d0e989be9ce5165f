//! REST API integration tests: the real server on a free port with a fresh database, on SQLite
//! always and on PostgreSQL when `RELAIS_TEST_DATABASE_URL` is set (required under CI).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use relais_app::{Actor, App};
use relais_domain::ids::UserId;
use relais_testkit::app::{FakeClock, postgres_or_skip, test_app};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// A running server with its own database, clock and HTTP client.
struct TestApp {
    base: String,
    app: App,
    clock: FakeClock,
    http: reqwest::Client,
    /// `host:port` of the Mastodon stub, allowed through the SSRF guard.
    mastodon: String,
    /// The data directory (the search index is in `search/`).
    dir: tempfile::TempDir,
}

async fn spawn_app(postgres: bool) -> Option<TestApp> {
    let admin = postgres_or_skip(postgres, "an API test")?;
    let dir = tempfile::tempdir().unwrap();
    let mastodon = mastodon_stub().await;
    let clock = FakeClock::new();
    let mut app = test_app(admin.as_deref(), dir.path(), clock.clock(), vec![mastodon.clone()]).await;
    app.listening = std::sync::Arc::new(relais_app::listening::Listening::with_index_dir(dir.path().join("search")));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let state = relais_web::WebState { app: app.clone(), metrics: None };
    tokio::spawn(relais_web::serve(listener, state, std::future::pending()));
    Some(TestApp { base, app, clock, http: reqwest::Client::new(), mastodon, dir })
}

/// A loopback server answering `/api/v2/instance` like a Mastodon server configured for 1,000
/// characters (the shape of the example in Mastodon's documentation). Returns `host:port`.
async fn mastodon_stub() -> String {
    let doc = json!({
        "domain": "stub.social",
        "configuration": {
            "statuses": { "max_characters": 1000, "max_media_attachments": 4, "characters_reserved_per_url": 23 },
            "media_attachments": { "image_size_limit": 10485760, "video_size_limit": 41943040 }
        }
    });
    let router =
        axum::Router::new().route("/api/v2/instance", axum::routing::get(move || async move { axum::Json(doc) }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let host = format!("127.0.0.1:{}", listener.local_addr().unwrap().port());
    tokio::spawn(async move { axum::serve(listener, router).await });
    host
}

/// A member with a token.
struct Member {
    id: i64,
    token: String,
}

impl TestApp {
    async fn member(&self, email: &str) -> Member {
        let user = self.app.create_user(email, email, "correct horse battery", "fr").await.unwrap();
        let actor = Actor { user: UserId(user.id), ip: None };
        let token = self.app.issue_token(&actor, "test", None).await.unwrap().token;
        Member { id: user.id, token }
    }

    async fn call(&self, who: &Member, method: &str, path: &str, body: Option<Value>) -> (StatusCode, Value) {
        let mut req =
            self.http.request(method.parse().unwrap(), format!("{}{}", self.base, path)).bearer_auth(&who.token);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let res = req.send().await.unwrap();
        let status = res.status();
        let text = res.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
    }

    /// A workspace owned by `owner` with one Bluesky channel; returns (workspace id, channel id).
    async fn workspace_with_channel(&self, owner: &Member, name: &str) -> (i64, i64) {
        let (s, ws) = self
            .call(owner, "POST", "/api/v1/workspaces", Some(json!({ "name": name, "timezone": "Europe/Paris" })))
            .await;
        assert_eq!(s, StatusCode::CREATED, "{ws}");
        let ws = ws["id"].as_i64().unwrap();
        let body = json!({ "network": "bluesky", "handle": format!("{name}.bsky.social"), "credentials": { "app_password": "secret-app-pw" } });
        let (s, ch) = self.call(owner, "POST", &format!("/api/v1/workspaces/{ws}/channels"), Some(body)).await;
        assert_eq!(s, StatusCode::CREATED, "{ch}");
        (ws, ch["id"].as_i64().unwrap())
    }

    /// Connects a channel without credentials; returns its id.
    async fn add_channel(&self, owner: &Member, ws: i64, network: &str, handle: &str) -> i64 {
        let body = json!({ "network": network, "handle": handle });
        let (s, ch) = self.call(owner, "POST", &format!("/api/v1/workspaces/{ws}/channels"), Some(body)).await;
        assert_eq!(s, StatusCode::CREATED, "{ch}");
        ch["id"].as_i64().unwrap()
    }

    async fn add_member(&self, owner: &Member, ws: i64, email: &str, role: &str) -> Member {
        let m = self.member(email).await;
        let (s, body) = self
            .call(
                owner,
                "POST",
                &format!("/api/v1/workspaces/{ws}/members"),
                Some(json!({ "email": email, "role": role })),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{body}");
        m
    }

    async fn post_count(&self, who: &Member, ws: i64) -> usize {
        let (s, list) = self.call(who, "GET", &format!("/api/v1/workspaces/{ws}/calendar?drafts=true"), None).await;
        assert_eq!(s, StatusCode::OK, "{list}");
        list.as_array().unwrap().len()
    }

    async fn audit_count(&self, who: &Member, ws: i64) -> usize {
        let (s, list) = self.call(who, "GET", &format!("/api/v1/workspaces/{ws}/audit?limit=1000"), None).await;
        assert_eq!(s, StatusCode::OK, "{list}");
        list.as_array().unwrap().len()
    }

    fn advance_ms(&self, ms: i64) {
        self.clock.advance(ms);
    }
}

fn scheduled(channel: i64, text: &str, local: &str) -> Value {
    json!({ "text": text, "channels": [{ "channel_id": channel }], "schedule": { "at": { "local": local } } })
}

macro_rules! both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test] async fn $name() { if let Some(t) = super::spawn_app(false).await { super::$name(&t).await } })*
        }
        mod postgres {
            $(#[tokio::test] async fn $name() { if let Some(t) = super::spawn_app(true).await { super::$name(&t).await } })*
        }
    };
}

both_backends!(
    authentication,
    tenant_isolation_on_every_endpoint,
    roles_and_approval,
    unapproved_post_expires,
    time_zones_and_daylight_saving,
    queue_takes_next_free_slot,
    per_network_validation_reports_every_problem,
    bad_input_changes_nothing,
    media_type_comes_from_the_file,
    csv_import_dry_run_and_atomic,
    calendar_and_ical_feed,
    pause_resume_and_audit,
    credentials_never_leave,
    mastodon_limits_come_from_the_instance,
    evergreen_posts_come_back,
    listening_queries_ingest_and_mentions,
    listening_tenant_isolation,
    listening_erasure,
);

async fn evergreen_posts_come_back(t: &TestApp) {
    let owner = t.member("owner@example.fr").await;
    let (ws, ch) = t.workspace_with_channel(&owner, "brand").await;
    let posts = format!("/api/v1/workspaces/{ws}/posts");
    let mut body = scheduled(ch, "Nos horaires d'ouverture", "2026-11-24T09:00");
    body["evergreen_secs"] = json!(7 * 24 * 3600);
    let (s, p) = t.call(&owner, "POST", &posts, Some(body.clone())).await;
    assert_eq!((s, p["evergreen_secs"].as_i64()), (StatusCode::CREATED, Some(7 * 24 * 3600)), "{p}");
    let id = relais_domain::ids::PostId(p["id"].as_i64().unwrap());
    let published: jiff::Timestamp = p["due_at"].as_str().unwrap().parse().unwrap();
    let next =
        t.app.schedule_next_evergreen(relais_domain::ids::WorkspaceId(ws), id, published).await.unwrap().unwrap();
    assert_eq!((next.due_at.as_deref(), next.status.as_str()), (Some("2026-12-01T08:00:00Z"), "scheduled"));
    assert_eq!((next.body.text.as_str(), next.channels.len()), ("Nos horaires d'ouverture", 1));
    // After downtime, the next occurrence is the first interval step after now.
    t.advance_ms(20 * 24 * 3600 * 1000);
    let late =
        t.app.schedule_next_evergreen(relais_domain::ids::WorkspaceId(ws), id, published).await.unwrap().unwrap();
    assert_eq!(late.due_at.as_deref(), Some("2026-12-15T08:00:00Z"));
    // A post that is not evergreen does not come back; intervals under an hour are refused.
    let (_, plain) = t.call(&owner, "POST", &posts, Some(scheduled(ch, "once", "2027-01-05T09:00"))).await;
    let plain = relais_domain::ids::PostId(plain["id"].as_i64().unwrap());
    assert!(
        t.app.schedule_next_evergreen(relais_domain::ids::WorkspaceId(ws), plain, published).await.unwrap().is_none()
    );
    body["evergreen_secs"] = json!(60);
    let (s, answer) = t.call(&owner, "POST", &posts, Some(body)).await;
    assert_eq!((s, answer["code"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("evergreen_invalid")));
}

async fn mastodon_limits_come_from_the_instance(t: &TestApp) {
    let owner = t.member("owner@example.fr").await;
    let (ws, _) = t.workspace_with_channel(&owner, "brand").await;
    let channels = format!("/api/v1/workspaces/{ws}/channels");
    let stub = format!("http://{}", t.mastodon);
    let (s, ch) = t
        .call(
            &owner,
            "POST",
            &channels,
            Some(json!({ "network": "mastodon", "handle": "@brand@stub.social", "instance_url": stub })),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{ch}");
    assert!(ch["limits"].as_str().unwrap().contains("\"max_characters\":1000"), "{ch}");
    let ch = ch["id"].as_i64().unwrap();
    // 600 characters: within this server's 1,000, beyond the default 500.
    let (s, p) = t
        .call(
            &owner,
            "POST",
            &format!("/api/v1/workspaces/{ws}/posts"),
            Some(scheduled(ch, &"a".repeat(600), "2027-01-05T09:00")),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{p}");
    let (s, answer) = t
        .call(
            &owner,
            "POST",
            &format!("/api/v1/workspaces/{ws}/posts"),
            Some(scheduled(ch, &"a".repeat(1001), "2027-01-05T09:00")),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
    assert_eq!(answer["problems"][0]["report"]["limit"], 1000);
    let (s, refreshed) = t.call(&owner, "POST", &format!("{channels}/{ch}/limits"), None).await;
    assert_eq!(s, StatusCode::OK, "{refreshed}");

    // A server on an internal address that nobody allowed is not contacted: defaults apply, and
    // refreshing says why, in both languages.
    let (s, internal) = t
        .call(
            &owner,
            "POST",
            &channels,
            Some(json!({ "network": "mastodon", "handle": "@x@internal", "instance_url": "http://10.0.0.7" })),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{internal}");
    assert!(internal["limits"].is_null());
    let id = internal["id"].as_i64().unwrap();
    let (s, problem) = t.call(&owner, "POST", &format!("{channels}/{id}/limits"), None).await;
    assert_eq!(
        (s, problem["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("instance_unreachable")),
        "{problem}"
    );
    assert!(problem["message"]["fr"].as_str().unwrap().contains("ne se connecte pas"));
    let (s, p) = t
        .call(
            &owner,
            "POST",
            &format!("/api/v1/workspaces/{ws}/posts"),
            Some(scheduled(id, &"a".repeat(501), "2027-01-05T09:00")),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "default 500 applies: {p}");
}

async fn authentication(t: &TestApp) {
    let alice = t.member("alice@example.fr").await;
    let anonymous = Member { id: 0, token: String::new() };
    let (s, body) = t.call(&anonymous, "GET", "/api/v1/me", None).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    assert_eq!(body["code"], "unauthenticated");
    let forged = Member { id: 0, token: "rls_forged".into() };
    assert_eq!(t.call(&forged, "GET", "/api/v1/me", None).await.0, StatusCode::UNAUTHORIZED);
    let (s, me) = t.call(&alice, "GET", "/api/v1/me", None).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(me["email"], "alice@example.fr");
    assert!(me.get("password_hash").is_none());

    let login = |password: &str| json!({ "email": "Alice@Example.fr", "password": password });
    let (s, _) = t.call(&anonymous, "POST", "/api/v1/auth/login", Some(login("wrong password!!"))).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let (s, session) = t.call(&anonymous, "POST", "/api/v1/auth/login", Some(login("correct horse battery"))).await;
    assert_eq!(s, StatusCode::OK, "{session}");
    let session = Member { id: alice.id, token: session["token"].as_str().unwrap().to_owned() };
    assert_eq!(t.call(&session, "GET", "/api/v1/me", None).await.0, StatusCode::OK);

    // A token lives until revoked, and the list never shows secrets.
    let (s, created) = t.call(&alice, "POST", "/api/v1/tokens", Some(json!({ "name": "zapier" }))).await;
    assert_eq!(s, StatusCode::CREATED);
    let extra = Member { id: alice.id, token: created["token"].as_str().unwrap().to_owned() };
    let (_, list) = t.call(&alice, "GET", "/api/v1/tokens", None).await;
    assert!(!list.to_string().contains(&extra.token));
    let id = created["record"]["id"].as_i64().unwrap();
    assert_eq!(t.call(&alice, "DELETE", &format!("/api/v1/tokens/{id}"), None).await.0, StatusCode::NO_CONTENT);
    assert_eq!(t.call(&extra, "GET", "/api/v1/me", None).await.0, StatusCode::UNAUTHORIZED);
    // Someone else's token cannot be revoked.
    let bob = t.member("bob@example.fr").await;
    let (_, bob_tokens) = t.call(&bob, "GET", "/api/v1/tokens", None).await;
    let bob_token_id = bob_tokens[0]["id"].as_i64().unwrap();
    assert_eq!(
        t.call(&alice, "DELETE", &format!("/api/v1/tokens/{bob_token_id}"), None).await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(t.call(&bob, "GET", "/api/v1/me", None).await.0, StatusCode::OK);

    // Password guessing is slowed down: after 10 failures in 15 minutes, even the right password
    // is refused for that account until the window has passed.
    for _ in 0..10 {
        assert_eq!(
            t.call(&anonymous, "POST", "/api/v1/auth/login", Some(login("guess guess guess"))).await.0,
            StatusCode::UNAUTHORIZED
        );
    }
    let (s, body) = t.call(&anonymous, "POST", "/api/v1/auth/login", Some(login("correct horse battery"))).await;
    assert_eq!((s, body["code"].as_str()), (StatusCode::TOO_MANY_REQUESTS, Some("too_many_attempts")));
    t.advance_ms(16 * 60 * 1000);
    assert_eq!(
        t.call(&anonymous, "POST", "/api/v1/auth/login", Some(login("correct horse battery"))).await.0,
        StatusCode::OK
    );

    // Login tokens expire after 30 days.
    t.advance_ms(31 * 24 * 3600 * 1000);
    assert_eq!(t.call(&session, "GET", "/api/v1/me", None).await.0, StatusCode::UNAUTHORIZED);
}

async fn tenant_isolation_on_every_endpoint(t: &TestApp) {
    let alice = t.member("alice@example.fr").await;
    let bob = t.member("bob@example.fr").await;
    let (ws_a, ch_a) = t.workspace_with_channel(&alice, "alice").await;
    let (ws_b, ch_b) = t.workspace_with_channel(&bob, "bob").await;
    let (s, post) = t
        .call(
            &alice,
            "POST",
            &format!("/api/v1/workspaces/{ws_a}/posts"),
            Some(scheduled(ch_a, "A's post", "2027-01-05T09:00")),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{post}");
    let post_a = post["id"].as_i64().unwrap();
    let (s, media) = upload(t, &alice, ws_a, PNG).await;
    assert_eq!(s, StatusCode::CREATED, "{media}");
    let media_a = media["id"].as_i64().unwrap();
    let posts_before = t.post_count(&alice, ws_a).await;
    let audit_before = t.audit_count(&alice, ws_a).await;

    // Bob, owner of another workspace, tries every endpoint on Alice's workspace.
    let attempts: Vec<(&str, String, Option<Value>)> = vec![
        ("GET", format!("/api/v1/workspaces/{ws_a}"), None),
        ("PATCH", format!("/api/v1/workspaces/{ws_a}"), Some(json!({ "name": "pwned" }))),
        ("DELETE", format!("/api/v1/workspaces/{ws_a}"), None),
        ("POST", format!("/api/v1/workspaces/{ws_a}/pause"), None),
        ("POST", format!("/api/v1/workspaces/{ws_a}/resume"), None),
        ("GET", format!("/api/v1/workspaces/{ws_a}/members"), None),
        (
            "POST",
            format!("/api/v1/workspaces/{ws_a}/members"),
            Some(json!({ "email": "bob@example.fr", "role": "owner" })),
        ),
        ("DELETE", format!("/api/v1/workspaces/{ws_a}/members/{}", alice.id), None),
        ("POST", format!("/api/v1/workspaces/{ws_a}/calendar-feed"), None),
        ("DELETE", format!("/api/v1/workspaces/{ws_a}/calendar-feed"), None),
        ("GET", format!("/api/v1/workspaces/{ws_a}/audit"), None),
        ("GET", format!("/api/v1/workspaces/{ws_a}/channels"), None),
        ("POST", format!("/api/v1/workspaces/{ws_a}/channels"), Some(json!({ "network": "x", "handle": "bob" }))),
        ("GET", format!("/api/v1/workspaces/{ws_a}/channels/{ch_a}"), None),
        ("DELETE", format!("/api/v1/workspaces/{ws_a}/channels/{ch_a}"), None),
        ("GET", format!("/api/v1/workspaces/{ws_a}/channels/{ch_a}/slots"), None),
        (
            "PUT",
            format!("/api/v1/workspaces/{ws_a}/channels/{ch_a}/slots"),
            Some(json!([{ "weekday": "monday", "time": "09:00" }])),
        ),
        ("POST", format!("/api/v1/workspaces/{ws_a}/posts"), Some(scheduled(ch_a, "bob", "2027-01-05T10:00"))),
        ("GET", format!("/api/v1/workspaces/{ws_a}/posts/{post_a}"), None),
        ("PUT", format!("/api/v1/workspaces/{ws_a}/posts/{post_a}"), Some(scheduled(ch_a, "bob", "2027-01-05T10:00"))),
        ("DELETE", format!("/api/v1/workspaces/{ws_a}/posts/{post_a}"), None),
        ("POST", format!("/api/v1/workspaces/{ws_a}/posts/{post_a}/review"), Some(json!({ "decision": "approve" }))),
        ("GET", format!("/api/v1/workspaces/{ws_a}/calendar"), None),
        ("GET", format!("/api/v1/workspaces/{ws_a}/media/{media_a}"), None),
        ("GET", format!("/api/v1/workspaces/{ws_a}/posts/{post_a}/log"), None),
        ("GET", format!("/api/v1/workspaces/{ws_a}/channels/{ch_a}/sandbox"), None),
        ("POST", format!("/api/v1/workspaces/{ws_a}/channels/{ch_a}/limits"), None),
        ("GET", format!("/api/v1/workspaces/{ws_a}/webhooks"), None),
        (
            "POST",
            format!("/api/v1/workspaces/{ws_a}/webhooks"),
            Some(json!({ "kind": "slack", "url": "https://hooks.example.com/x" })),
        ),
        ("DELETE", format!("/api/v1/workspaces/{ws_a}/webhooks/1"), None),
        ("GET", format!("/api/v1/workspaces/{ws_a}/notifications"), None),
        (
            "POST",
            format!("/api/v1/workspaces/{ws_a}/connect/mastodon"),
            Some(json!({ "instance_url": "https://b.social" })),
        ),
        (
            "POST",
            format!("/api/v1/workspaces/{ws_a}/connect/mastodon/code"),
            Some(json!({ "state": "s", "code": "c" })),
        ),
    ];
    for (method, path, body) in attempts {
        let (s, answer) = t.call(&bob, method, &path, body).await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{method} {path}: {answer}");
    }
    let (s, _) = t
        .http
        .post(format!("{}/api/v1/workspaces/{ws_a}/import?dry_run=true", t.base))
        .bearer_auth(&bob.token)
        .body("x")
        .send()
        .await
        .map(|r| (r.status(), ()))
        .unwrap();
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert_eq!(upload(t, &bob, ws_a, PNG).await.0, StatusCode::NOT_FOUND);

    // Ids of Alice's workspace used inside Bob's own workspace are unknown there.
    for path in [
        format!("/api/v1/workspaces/{ws_b}/channels/{ch_a}"),
        format!("/api/v1/workspaces/{ws_b}/posts/{post_a}"),
        format!("/api/v1/workspaces/{ws_b}/media/{media_a}"),
    ] {
        assert_eq!(t.call(&bob, "GET", &path, None).await.0, StatusCode::NOT_FOUND, "{path}");
    }
    let (s, body) = t
        .call(&bob, "POST", &format!("/api/v1/workspaces/{ws_b}/posts"), Some(scheduled(ch_a, "x", "2027-01-05T10:00")))
        .await;
    assert_eq!((s, body["code"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("channel_unknown")));
    let mut with_media = scheduled(ch_b, "x", "2027-01-05T10:00");
    with_media["media"] = json!([{ "media_id": media_a }]);
    let (s, body) = t.call(&bob, "POST", &format!("/api/v1/workspaces/{ws_b}/posts"), Some(with_media)).await;
    assert_eq!((s, body["code"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("media_unknown")));
    let (_, list) = t.call(&bob, "GET", "/api/v1/workspaces", None).await;
    assert_eq!(list.as_array().unwrap().len(), 1);

    // Nothing of Alice's changed.
    assert_eq!(t.post_count(&alice, ws_a).await, posts_before);
    assert_eq!(t.audit_count(&alice, ws_a).await, audit_before);
    let (_, ws) = t.call(&alice, "GET", &format!("/api/v1/workspaces/{ws_a}"), None).await;
    assert_eq!((ws["name"].as_str(), ws["paused"].as_bool()), (Some("alice"), Some(false)));
    assert_eq!(t.post_count(&bob, ws_b).await, 0);
}

async fn roles_and_approval(t: &TestApp) {
    let owner = t.member("owner@example.fr").await;
    let (ws, ch) = t.workspace_with_channel(&owner, "brand").await;
    let contributor = t.add_member(&owner, ws, "contrib@example.fr", "contributor").await;
    let editor = t.add_member(&owner, ws, "editor@example.fr", "editor").await;
    let viewer = t.add_member(&owner, ws, "viewer@example.fr", "viewer").await;
    let posts = format!("/api/v1/workspaces/{ws}/posts");

    // A viewer reads but never writes; an editor cannot manage members or channels.
    assert_eq!(t.call(&viewer, "GET", &format!("/api/v1/workspaces/{ws}/calendar"), None).await.0, StatusCode::OK);
    assert_eq!(
        t.call(&viewer, "POST", &posts, Some(scheduled(ch, "v", "2027-01-05T09:00"))).await.0,
        StatusCode::FORBIDDEN
    );
    let (s, _) = t
        .call(
            &editor,
            "POST",
            &format!("/api/v1/workspaces/{ws}/members"),
            Some(json!({ "email": "viewer@example.fr", "role": "admin" })),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    assert_eq!(
        t.call(&editor, "DELETE", &format!("/api/v1/workspaces/{ws}/channels/{ch}"), None).await.0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(t.call(&editor, "GET", &format!("/api/v1/workspaces/{ws}/audit"), None).await.0, StatusCode::FORBIDDEN);

    // A contributor's post waits for approval; the contributor cannot approve it.
    let (s, p) =
        t.call(&contributor, "POST", &posts, Some(scheduled(ch, "from a contributor", "2027-01-05T09:00"))).await;
    assert_eq!(s, StatusCode::CREATED, "{p}");
    assert_eq!(p["status"], "pending_approval");
    let id = p["id"].as_i64().unwrap();
    let review = format!("{posts}/{id}/review");
    assert_eq!(
        t.call(&contributor, "POST", &review, Some(json!({ "decision": "approve" }))).await.0,
        StatusCode::FORBIDDEN
    );
    let (s, rejected) =
        t.call(&editor, "POST", &review, Some(json!({ "decision": "reject", "note": "Trop long" }))).await;
    assert_eq!(s, StatusCode::OK, "{rejected}");
    assert_eq!((rejected["status"].as_str(), rejected["review_note"].as_str()), (Some("rejected"), Some("Trop long")));
    // Edited, it goes back to approval, then is approved by an editor.
    let (s, edited) =
        t.call(&contributor, "PUT", &format!("{posts}/{id}"), Some(scheduled(ch, "shorter", "2027-01-05T09:00"))).await;
    assert_eq!((s, edited["status"].as_str()), (StatusCode::OK, Some("pending_approval")), "{edited}");
    let (s, approved) = t.call(&editor, "POST", &review, Some(json!({ "decision": "approve" }))).await;
    assert_eq!((s, approved["status"].as_str()), (StatusCode::OK, Some("scheduled")), "{approved}");
    // Approving twice is a conflict.
    assert_eq!(t.call(&editor, "POST", &review, Some(json!({ "decision": "approve" }))).await.0, StatusCode::CONFLICT);

    // An editor's own post is scheduled directly; a pending post is never approved by its author.
    let (_, own) = t.call(&editor, "POST", &posts, Some(scheduled(ch, "editor", "2027-01-05T10:00"))).await;
    assert_eq!(own["status"], "scheduled");
    let (_, p2) = t.call(&contributor, "POST", &posts, Some(scheduled(ch, "second", "2027-01-06T10:00"))).await;
    let p2 = p2["id"].as_i64().unwrap();
    t.call(
        &owner,
        "POST",
        &format!("/api/v1/workspaces/{ws}/members"),
        Some(json!({ "email": "contrib@example.fr", "role": "editor" })),
    )
    .await;
    let (s, body) =
        t.call(&contributor, "POST", &format!("{posts}/{p2}/review"), Some(json!({ "decision": "approve" }))).await;
    assert_eq!((s, body["code"].as_str()), (StatusCode::CONFLICT, Some("review_refused")), "{body}");

    // The last owner can be neither removed nor demoted.
    let (s, _) = t.call(&owner, "DELETE", &format!("/api/v1/workspaces/{ws}/members/{}", owner.id), None).await;
    assert_eq!(s, StatusCode::CONFLICT);
    let (s, _) = t
        .call(
            &owner,
            "POST",
            &format!("/api/v1/workspaces/{ws}/members"),
            Some(json!({ "email": "owner@example.fr", "role": "viewer" })),
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT);
}

async fn unapproved_post_expires(t: &TestApp) {
    let owner = t.member("owner@example.fr").await;
    let (ws, ch) = t.workspace_with_channel(&owner, "brand").await;
    let contributor = t.add_member(&owner, ws, "contrib@example.fr", "contributor").await;
    // Due one hour after "now" (10:00Z = 11:00 Paris).
    let (_, p) = t
        .call(
            &contributor,
            "POST",
            &format!("/api/v1/workspaces/{ws}/posts"),
            Some(scheduled(ch, "late", "2026-11-23T12:00")),
        )
        .await;
    let id = p["id"].as_i64().unwrap();
    t.advance_ms(3600 * 1000 + 1);
    assert_eq!(t.app.expire_overdue_approvals().await.unwrap(), 1);
    let (_, after) = t.call(&owner, "GET", &format!("/api/v1/workspaces/{ws}/posts/{id}"), None).await;
    assert_eq!(after["status"], "expired");
    let (s, _) = t
        .call(
            &owner,
            "POST",
            &format!("/api/v1/workspaces/{ws}/posts/{id}/review"),
            Some(json!({ "decision": "approve" })),
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT);
    let (s, _) = t
        .call(
            &owner,
            "PUT",
            &format!("/api/v1/workspaces/{ws}/posts/{id}"),
            Some(scheduled(ch, "x", "2027-01-01T10:00")),
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT, "an expired post is history");
}

async fn time_zones_and_daylight_saving(t: &TestApp) {
    let owner = t.member("owner@example.fr").await;
    let (ws, ch) = t.workspace_with_channel(&owner, "brand").await;
    let posts = format!("/api/v1/workspaces/{ws}/posts");
    let at = |local: &str, extra: Value| {
        let mut schedule = json!({ "local": local });
        schedule.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        json!({ "text": "dst", "channels": [{ "channel_id": ch }], "schedule": { "at": schedule } })
    };
    // Winter: Paris is UTC+1.
    let (_, p) = t.call(&owner, "POST", &posts, Some(at("2027-01-05T09:00", json!({})))).await;
    assert_eq!(p["due_at"], "2027-01-05T08:00:00Z");
    // Another zone, explicitly.
    let (_, p) =
        t.call(&owner, "POST", &posts, Some(at("2027-01-05T09:00", json!({ "timezone": "America/New_York" })))).await;
    assert_eq!(
        (p["due_at"].as_str(), p["timezone"].as_str()),
        (Some("2027-01-05T14:00:00Z"), Some("America/New_York"))
    );
    // 02:30 on the spring-forward day does not exist: refused, or shifted with a warning.
    let (s, body) = t.call(&owner, "POST", &posts, Some(at("2027-03-28T02:30", json!({})))).await;
    assert_eq!((s, body["code"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("local_time_impossible")));
    assert!(
        body["message"]["fr"].as_str().unwrap().contains("n’existe pas")
            || body["message"]["fr"].as_str().unwrap().contains("n'existe pas")
    );
    let (s, p) = t.call(&owner, "POST", &posts, Some(at("2027-03-28T02:30", json!({ "dst": "shift_forward" })))).await;
    assert_eq!(s, StatusCode::CREATED);
    assert_eq!(p["due_at"], "2027-03-28T01:30:00Z");
    assert_eq!(p["warnings"].as_array().unwrap().len(), 1);
    // 02:30 on the fall-back day happens twice: the first one, with a warning.
    let (_, p) = t.call(&owner, "POST", &posts, Some(at("2027-10-31T02:30", json!({})))).await;
    assert_eq!(p["due_at"], "2027-10-31T00:30:00Z");
    assert_eq!(p["warnings"].as_array().unwrap().len(), 1);
    // Unknown zone, malformed time, the past: refused, nothing written.
    let count = t.post_count(&owner, ws).await;
    for (body, code) in [
        (at("2027-01-05T09:00", json!({ "timezone": "Europe/Lutece" })), "timezone_invalid"),
        (at("05/01/2027 9h", json!({})), "local_time_invalid"),
        (at("2026-11-23T10:59", json!({})), "in_the_past"),
    ] {
        let (s, answer) = t.call(&owner, "POST", &posts, Some(body)).await;
        assert_eq!((s, answer["code"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some(code)), "{answer}");
    }
    assert_eq!(t.post_count(&owner, ws).await, count);
    // The workspace's default zone decides when none is given.
    let (s, _) =
        t.call(&owner, "PATCH", &format!("/api/v1/workspaces/{ws}"), Some(json!({ "timezone": "Asia/Tokyo" }))).await;
    assert_eq!(s, StatusCode::OK);
    let (_, p) = t.call(&owner, "POST", &posts, Some(at("2027-01-05T09:00", json!({})))).await;
    assert_eq!(p["due_at"], "2027-01-05T00:00:00Z");
    let (s, _) =
        t.call(&owner, "PATCH", &format!("/api/v1/workspaces/{ws}"), Some(json!({ "timezone": "Mars/Olympus" }))).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
}

async fn queue_takes_next_free_slot(t: &TestApp) {
    let owner = t.member("owner@example.fr").await;
    let (ws, ch) = t.workspace_with_channel(&owner, "brand").await;
    let queued =
        json!({ "text": "queued", "channels": [{ "channel_id": ch }], "schedule": { "queue": { "channel_id": ch } } });
    let posts = format!("/api/v1/workspaces/{ws}/posts");
    let (s, body) = t.call(&owner, "POST", &posts, Some(queued.clone())).await;
    assert_eq!((s, body["code"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("queue_empty")));
    let slots = json!([{ "weekday": "tuesday", "time": "09:30" }, { "weekday": "monday", "time": "18:00" }]);
    let (s, saved) = t.call(&owner, "PUT", &format!("/api/v1/workspaces/{ws}/channels/{ch}/slots"), Some(slots)).await;
    assert_eq!(s, StatusCode::OK, "{saved}");
    assert_eq!(saved.as_array().unwrap().len(), 2);
    // "Now" is Monday 2026-11-23 11:00 Paris: the slots are Monday 18:00, then Tuesday 09:30.
    let mut due = Vec::new();
    for _ in 0..3 {
        let (s, p) = t.call(&owner, "POST", &posts, Some(queued.clone())).await;
        assert_eq!(s, StatusCode::CREATED, "{p}");
        due.push(p["due_at"].as_str().unwrap().to_owned());
    }
    assert_eq!(due, ["2026-11-23T17:00:00Z", "2026-11-24T08:30:00Z", "2026-11-30T17:00:00Z"]);
    let bad = json!([{ "weekday": "funday", "time": "09:30" }]);
    assert_eq!(
        t.call(&owner, "PUT", &format!("/api/v1/workspaces/{ws}/channels/{ch}/slots"), Some(bad)).await.0,
        StatusCode::UNPROCESSABLE_ENTITY
    );
}

async fn per_network_validation_reports_every_problem(t: &TestApp) {
    let owner = t.member("owner@example.fr").await;
    let (ws, bsky) = t.workspace_with_channel(&owner, "brand").await;
    let x = t.add_channel(&owner, ws, "x", "brand").await;
    let long = "a".repeat(301);
    let body = json!({ "text": long, "channels": [{ "channel_id": bsky }, { "channel_id": x }], "schedule": { "at": { "local": "2027-01-05T09:00" } } });
    let (s, answer) = t.call(&owner, "POST", &format!("/api/v1/workspaces/{ws}/posts"), Some(body)).await;
    assert_eq!((s, answer["code"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("post_invalid")), "{answer}");
    let problems = answer["problems"].as_array().unwrap();
    assert_eq!(problems.len(), 2, "both channels report: {answer}");
    // A per-channel variant fixes one network; the other still fails.
    let body = json!({ "text": long, "channels": [{ "channel_id": bsky, "variant": "short for Bluesky" }, { "channel_id": x }], "schedule": { "at": { "local": "2027-01-05T09:00" } } });
    let (_, answer) = t.call(&owner, "POST", &format!("/api/v1/workspaces/{ws}/posts"), Some(body)).await;
    let problems = answer["problems"].as_array().unwrap();
    assert_eq!(problems.len(), 1);
    assert_eq!(problems[0]["channel_id"], x);
    // The stateless check endpoint uses the same rules.
    let (s, reports) =
        t.call(&owner, "POST", "/api/v1/check", Some(json!({ "networks": ["bluesky", "x"], "text": "👨‍👩‍👧‍👦" }))).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!((reports[0]["counted"].as_u64(), reports[1]["counted"].as_u64()), (Some(1), Some(2)));
    // A draft is saved even when too long.
    let draft = json!({ "text": long, "channels": [{ "channel_id": x }], "draft": true });
    let (s, d) = t.call(&owner, "POST", &format!("/api/v1/workspaces/{ws}/posts"), Some(draft)).await;
    assert_eq!((s, d["status"].as_str()), (StatusCode::CREATED, Some("draft")));
}

async fn bad_input_changes_nothing(t: &TestApp) {
    let owner = t.member("owner@example.fr").await;
    let (ws, ch) = t.workspace_with_channel(&owner, "brand").await;
    let posts = format!("{}/api/v1/workspaces/{ws}/posts", t.base);
    let audit_before = t.audit_count(&owner, ws).await;
    let raw = |body: Vec<u8>, content_type: &'static str| {
        t.http
            .post(&posts)
            .bearer_auth(&owner.token)
            .header("content-type", content_type)
            .header("accept-language", "en")
            .body(body)
            .send()
    };
    let cases: Vec<(Vec<u8>, &str, StatusCode, &str)> = vec![
        (b"{not json".to_vec(), "application/json", StatusCode::BAD_REQUEST, "body_malformed"),
        (br#"{"text": 5, "channels": []}"#.to_vec(), "application/json", StatusCode::UNPROCESSABLE_ENTITY, "body_invalid"),
        (serde_json::to_vec(&json!({ "text": "x", "channels": [{ "channel_id": ch }], "draft": true, "surprise": 1 })).unwrap(), "application/json", StatusCode::UNPROCESSABLE_ENTITY, "body_invalid"),
        (b"text=x".to_vec(), "application/x-www-form-urlencoded", StatusCode::UNSUPPORTED_MEDIA_TYPE, "content_type"),
        (serde_json::to_vec(&json!({ "text": "a".repeat(5 * 1024 * 1024), "channels": [] })).unwrap(), "application/json", StatusCode::PAYLOAD_TOO_LARGE, "body_too_large"),
        (serde_json::to_vec(&scheduled(999_999, "x", "2027-01-05T09:00")).unwrap(), "application/json", StatusCode::UNPROCESSABLE_ENTITY, "channel_unknown"),
        (serde_json::to_vec(&json!({ "text": "x", "channels": [], "draft": true })).unwrap(), "application/json", StatusCode::UNPROCESSABLE_ENTITY, "channels_required"),
        (serde_json::to_vec(&json!({ "text": "x", "channels": [{ "channel_id": ch }] })).unwrap(), "application/json", StatusCode::UNPROCESSABLE_ENTITY, "schedule_required"),
        (serde_json::to_vec(&json!({ "text": "x", "link": "javascript:alert(1)", "channels": [{ "channel_id": ch }], "draft": true })).unwrap(), "application/json", StatusCode::UNPROCESSABLE_ENTITY, "url_invalid"),
        (serde_json::to_vec(&json!({ "text": "x", "language": "français!", "channels": [{ "channel_id": ch }], "draft": true })).unwrap(), "application/json", StatusCode::UNPROCESSABLE_ENTITY, "language_invalid"),
    ];
    for (body, content_type, status, code) in cases {
        let res = raw(body, content_type).await.unwrap();
        assert_eq!(res.status(), status, "{code}");
        assert_eq!(res.headers()["content-type"], "application/problem+json");
        let problem: Value = res.json().await.unwrap();
        assert_eq!(problem["code"], code, "{problem}");
        assert!(problem["message"]["fr"].is_string() && problem["message"]["en"].is_string());
        assert_eq!(problem["title"], problem["message"]["en"], "Accept-Language: en is honoured");
    }
    // Bad path and query parameters.
    assert_eq!(
        t.call(&owner, "GET", &format!("/api/v1/workspaces/{ws}/posts/abc"), None).await.0,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        t.call(&owner, "GET", &format!("/api/v1/workspaces/{ws}/calendar?from=yesterday"), None).await.0,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(
        t.call(&owner, "GET", &format!("/api/v1/workspaces/{ws}/calendar?colour=red"), None).await.0,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(t.call(&owner, "GET", "/api/v1/nothing-here", None).await.0, StatusCode::NOT_FOUND);
    // Bad workspace and channel input.
    for (path, body) in [
        ("/api/v1/workspaces".to_owned(), json!({ "name": "", "timezone": "Europe/Paris" })),
        ("/api/v1/workspaces".to_owned(), json!({ "name": "ok", "timezone": "Nowhere/City" })),
        (format!("/api/v1/workspaces/{ws}/channels"), json!({ "network": "myspace", "handle": "x" })),
        (format!("/api/v1/workspaces/{ws}/channels"), json!({ "network": "mastodon", "handle": "@a@b.social" })),
        (
            format!("/api/v1/workspaces/{ws}/channels"),
            json!({ "network": "mastodon", "handle": "@a@b.social", "instance_url": "ftp://b.social" }),
        ),
        (format!("/api/v1/workspaces/{ws}/connect/mastodon"), json!({ "instance_url": "ftp://b.social" })),
        (
            format!("/api/v1/workspaces/{ws}/connect/mastodon"),
            json!({ "instance_url": "https://b.social", "redirect_uri": "javascript:alert(1)" }),
        ),
        (format!("/api/v1/workspaces/{ws}/connect/mastodon/code"), json!({ "state": "forged", "code": "x" })),
        (format!("/api/v1/workspaces/{ws}/connect/mastodon/code"), json!({ "state": "x" })),
    ] {
        let (s, answer) = t.call(&owner, "POST", &path, Some(body)).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{path}: {answer}");
    }
    assert_eq!(t.post_count(&owner, ws).await, 0);
    assert_eq!(t.audit_count(&owner, ws).await, audit_before);
    let (_, list) = t.call(&owner, "GET", "/api/v1/workspaces", None).await;
    assert_eq!(list.as_array().unwrap().len(), 1);
    let (_, channels) = t.call(&owner, "GET", &format!("/api/v1/workspaces/{ws}/channels"), None).await;
    assert_eq!(channels.as_array().unwrap().len(), 1);
}

/// A 3×2 PNG.
const PNG: &[u8] = &[
    0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13, b'I', b'H', b'D', b'R', 0, 0, 0, 3, 0, 0, 0, 2, 8, 6,
    0, 0, 0, 0x9a, 0x9c, 0x18, 0x1f,
];

async fn upload(t: &TestApp, who: &Member, ws: i64, bytes: &[u8]) -> (StatusCode, Value) {
    let res = t
        .http
        .post(format!("{}/api/v1/workspaces/{ws}/media?name=photo.jpg", t.base))
        .bearer_auth(&who.token)
        .header("content-type", "image/jpeg")
        .body(bytes.to_vec())
        .send()
        .await
        .unwrap();
    let status = res.status();
    (status, res.json().await.unwrap_or(Value::Null))
}

async fn media_type_comes_from_the_file(t: &TestApp) {
    let owner = t.member("owner@example.fr").await;
    let (ws, _) = t.workspace_with_channel(&owner, "brand").await;
    let (s, m) = upload(t, &owner, ws, PNG).await;
    assert_eq!(s, StatusCode::CREATED, "{m}");
    assert_eq!(
        (m["mime"].as_str(), m["width"].as_i64(), m["height"].as_i64(), m["bytes"].as_i64()),
        (Some("image/png"), Some(3), Some(2), Some(PNG.len() as i64))
    );
    assert_eq!(m["file_name"], "photo.jpg");
    let (s, body) = upload(t, &owner, ws, b"<svg onload=alert(1)></svg>").await;
    assert_eq!((s, body["code"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("media_unsupported")));
    let (s, _) = upload(t, &owner, ws, b"").await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    // Rejected uploads leave no file behind.
    let tmp = t.app.upload_dir();
    assert_eq!(std::fs::read_dir(&tmp).map(|d| d.count()).unwrap_or(0), 0);
    // An Instagram post needs media; with the uploaded image it is valid.
    let ig = t.add_channel(&owner, ws, "instagram", "brand").await;
    let mut post = scheduled(ig, "Nouvelle collection #mode", "2027-01-05T09:00");
    let (s, answer) = t.call(&owner, "POST", &format!("/api/v1/workspaces/{ws}/posts"), Some(post.clone())).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
    post["media"] = json!([{ "media_id": m["id"], "alt": "Une robe rouge" }]);
    let (s, created) = t.call(&owner, "POST", &format!("/api/v1/workspaces/{ws}/posts"), Some(post)).await;
    assert_eq!(s, StatusCode::CREATED, "{created}");
    assert_eq!(created["media"][0]["alt"], "Une robe rouge");
}

async fn csv_import_dry_run_and_atomic(t: &TestApp) {
    let owner = t.member("owner@example.fr").await;
    let (ws, ch) = t.workspace_with_channel(&owner, "brand").await;
    let import = |csv: Vec<u8>, dry: bool| {
        t.http
            .post(format!("{}/api/v1/workspaces/{ws}/import?dry_run={dry}", t.base))
            .bearer_auth(&owner.token)
            .header("content-type", "text/csv")
            .body(csv)
            .send()
    };
    // French Excel: BOM, `;`, Windows-1252 (0xE9 = é), day-first dates.
    let mut french = vec![0xEF, 0xBB, 0xBF];
    french.extend_from_slice(b"date;time_24hr;message_text;link;image_url;channel\r\n");
    french.extend_from_slice(format!("05/01/2027;09:00;Bonne ann\u{e9}e !;https://example.fr;;{ch}\r\n").as_bytes());
    // The line above is UTF-8; make the file Windows-1252 as Excel writes it.
    let french: Vec<u8> = String::from_utf8(french[3..].to_vec())
        .unwrap()
        .chars()
        .map(|c| if c == 'é' { 0xE9 } else { c as u8 })
        .collect();
    let res = import(french.clone(), true).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let report: Value = res.json().await.unwrap();
    assert_eq!(
        (report["encoding"].as_str(), report["delimiter"].as_str(), report["problems"].as_array().map(Vec::len)),
        (Some("windows-1252"), Some(";"), Some(0)),
        "{report}"
    );
    assert_eq!(t.post_count(&owner, ws).await, 0, "a dry run writes nothing");
    let res = import(french, false).await.unwrap();
    let report: Value = res.json().await.unwrap();
    assert_eq!(report["created"].as_array().unwrap().len(), 1, "{report}");
    let (_, list) = t.call(&owner, "GET", &format!("/api/v1/workspaces/{ws}/calendar"), None).await;
    assert_eq!(
        (list[0]["body"]["text"].as_str(), list[0]["due_at"].as_str()),
        (Some("Bonne année !"), Some("2027-01-05T08:00:00Z"))
    );

    // A broken row in the middle: the dry run lists every problem, the import writes nothing.
    let csv = format!(
        "date,time_24hr,message_text,link,image_url,channel\n01/06/2027,09:00,one,,,{ch}\n13/45/2027,25:00,two,,,{ch}\n01/07/2027,09:00,three,,,nobody\n01/08/2027,09:00,{},,,{ch}\n",
        "x".repeat(301)
    );
    let report: Value = import(csv.clone().into_bytes(), true).await.unwrap().json().await.unwrap();
    let lines: Vec<i64> = report["problems"].as_array().unwrap().iter().map(|p| p["line"].as_i64().unwrap()).collect();
    assert!(lines.contains(&3) && lines.contains(&4) && lines.contains(&5) && !lines.contains(&2), "{report}");
    let res = import(csv.into_bytes(), false).await.unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(t.post_count(&owner, ws).await, 1);
    // Over 1,000 rows is refused.
    let mut big = String::from("date,time_24hr,message_text,link,image_url,channel\n");
    for _ in 0..1001 {
        big.push_str(&format!("01/06/2027,09:00,hello,,,{ch}\n"));
    }
    assert_eq!(import(big.into_bytes(), false).await.unwrap().status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(t.post_count(&owner, ws).await, 1);
}

async fn calendar_and_ical_feed(t: &TestApp) {
    let owner = t.member("owner@example.fr").await;
    let (ws, ch) = t.workspace_with_channel(&owner, "brand").await;
    let x = t.add_channel(&owner, ws, "x", "brand").await;
    let posts = format!("/api/v1/workspaces/{ws}/posts");
    t.call(&owner, "POST", &posts, Some(scheduled(ch, "Lundi\r\nBEGIN:VEVENT; injection, test", "2027-01-04T09:00")))
        .await;
    t.call(&owner, "POST", &posts, Some(scheduled(x, "Mardi", "2027-01-05T09:00"))).await;
    t.call(&owner, "POST", &posts, Some(scheduled(x, "Février", "2027-02-01T09:00"))).await;
    t.call(
        &owner,
        "POST",
        &posts,
        Some(json!({ "text": "brouillon", "channels": [{ "channel_id": x }], "draft": true })),
    )
    .await;
    let cal = |query: &str| {
        let path = format!("/api/v1/workspaces/{ws}/calendar?{query}");
        let owner = &owner;
        async move { t.call(owner, "GET", &path, None).await }
    };
    let texts = |v: Value| {
        v.as_array().unwrap().iter().map(|p| p["body"]["text"].as_str().unwrap().to_owned()).collect::<Vec<_>>()
    };
    assert_eq!(texts(cal("from=2027-01-01T00:00:00Z&to=2027-01-31T00:00:00Z").await.1).len(), 2);
    assert_eq!(texts(cal(&format!("channel={x}")).await.1), ["Mardi", "Février"]);
    assert_eq!(texts(cal("status=draft&drafts=true").await.1), ["brouillon"]);
    assert_eq!(cal("status=flying").await.0, StatusCode::UNPROCESSABLE_ENTITY);

    let (s, feed) = t.call(&owner, "POST", &format!("/api/v1/workspaces/{ws}/calendar-feed"), None).await;
    assert_eq!(s, StatusCode::OK);
    let path = feed["path"].as_str().unwrap().to_owned();
    let res = t.http.get(format!("{}{path}", t.base)).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.headers()["content-type"].to_str().unwrap().starts_with("text/calendar"));
    let ics = res.text().await.unwrap();
    assert!(ics.starts_with("BEGIN:VCALENDAR\r\n") && ics.ends_with("END:VCALENDAR\r\n"));
    let unfolded = ics.replace("\r\n ", "");
    assert_eq!(
        unfolded.split("\r\n").filter(|l| *l == "BEGIN:VEVENT").count(),
        3,
        "hostile text cannot add an event:\n{ics}"
    );
    assert!(unfolded.contains("SUMMARY:Lundi\\nBEGIN:VEVENT\\; injection\\, test"), "{ics}");
    assert!(ics.contains("DTSTART:20270104T080000Z"));
    // Rotating the token kills the old URL; a made-up token finds nothing.
    t.call(&owner, "POST", &format!("/api/v1/workspaces/{ws}/calendar-feed"), None).await;
    assert_eq!(t.http.get(format!("{}{path}", t.base)).send().await.unwrap().status(), StatusCode::NOT_FOUND);
    assert_eq!(
        t.http.get(format!("{}/feeds/calendar/cal_guess.ics", t.base)).send().await.unwrap().status(),
        StatusCode::NOT_FOUND
    );
}

async fn pause_resume_and_audit(t: &TestApp) {
    let owner = t.member("owner@example.fr").await;
    let (ws, _) = t.workspace_with_channel(&owner, "brand").await;
    let (_, w) = t.call(&owner, "POST", &format!("/api/v1/workspaces/{ws}/pause"), None).await;
    assert_eq!(w["paused"], true);
    let (_, w) = t.call(&owner, "POST", &format!("/api/v1/workspaces/{ws}/resume"), None).await;
    assert_eq!(w["paused"], false);
    let (_, log) = t.call(&owner, "GET", &format!("/api/v1/workspaces/{ws}/audit"), None).await;
    let actions: Vec<&str> = log.as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["workspace.resume", "workspace.pause", "channel.create", "workspace.create"]);
    assert_eq!(log[0]["actor_id"], owner.id);
    assert_eq!(log[0]["ip"], "127.0.0.1");
    // The OpenAPI document is generated from the handlers and lists every route.
    let openapi: Value =
        t.http.get(format!("{}/api/v1/openapi.json", t.base)).send().await.unwrap().json().await.unwrap();
    let paths = openapi["paths"].as_object().unwrap();
    for p in [
        "/api/v1/auth/login",
        "/api/v1/workspaces/{ws}/posts",
        "/api/v1/workspaces/{ws}/import",
        "/api/v1/check",
        "/api/v1/workspaces/{ws}/channels/{id}/slots",
    ] {
        assert!(paths.contains_key(p), "{p} missing from OpenAPI");
    }
    assert_eq!(openapi["info"]["title"], "Relais API");
    // The listening status a workspace sees leaves out the story count of all workspaces.
    let stats = &openapi["components"]["schemas"]["PipelineStats"]["properties"];
    assert!(stats.get("in_flight").is_some() && stats.get("stories").is_none(), "{stats}");
    let health: Value = t.http.get(format!("{}/healthz", t.base)).send().await.unwrap().json().await.unwrap();
    assert_eq!(health["status"], "ok");
}

async fn credentials_never_leave(t: &TestApp) {
    let owner = t.member("owner@example.fr").await;
    let (ws, ch) = t.workspace_with_channel(&owner, "brand").await;
    let (_, one) = t.call(&owner, "GET", &format!("/api/v1/workspaces/{ws}/channels/{ch}"), None).await;
    let (_, all) = t.call(&owner, "GET", &format!("/api/v1/workspaces/{ws}/channels"), None).await;
    let (_, log) = t.call(&owner, "GET", &format!("/api/v1/workspaces/{ws}/audit"), None).await;
    for text in [one.to_string(), all.to_string(), log.to_string()] {
        assert!(!text.contains("secret-app-pw"), "{text}");
        assert!(!text.contains("credentials\":{"), "{text}");
    }
    // Stored encrypted, readable by the service layer only.
    let record =
        t.app.store.channel(relais_domain::ids::WorkspaceId(ws), relais_domain::ids::ChannelId(ch)).await.unwrap();
    let sealed = record.credentials.clone().unwrap();
    assert!(!sealed.windows(13).any(|w| w == b"secret-app-pw"));
    let plain = t.app.channel_credentials(&record).unwrap().unwrap();
    assert_eq!(plain["app_password"], "secret-app-pw");
}

async fn listening_queries_ingest_and_mentions(t: &TestApp) {
    let owner = t.member("owner@example.fr").await;
    let (ws, _) = t.workspace_with_channel(&owner, "veille").await;
    let viewer = t.add_member(&owner, ws, "viewer@example.fr", "viewer").await;
    let base = format!("/api/v1/workspaces/{ws}/listen");

    // A query that does not parse: refused with its position, in French when asked, nothing stored.
    let res = t
        .http
        .post(format!("{}{base}/queries", t.base))
        .bearer_auth(&owner.token)
        .header("accept-language", "fr")
        .json(&json!({ "name": "Marque", "query": "relais AND (café OR" }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let problem: Value = res.json().await.unwrap();
    assert!(problem["detail"].as_str().unwrap().contains("colonne"), "{problem}");
    assert!(problem["problems"][0]["column"].as_u64().is_some(), "{problem}");
    let (_, list) = t.call(&owner, "GET", &format!("{base}/queries"), None).await;
    assert_eq!(list.as_array().unwrap().len(), 0);

    // Validate and test without storing.
    let (s, check) =
        t.call(&owner, "POST", &format!("{base}/queries/validate"), Some(json!({ "query": "relais and café" }))).await;
    assert_eq!(s, StatusCode::OK, "{check}");
    assert_eq!(check["valid"], json!(true));
    let (_, check) =
        t.call(&owner, "POST", &format!("{base}/queries/validate"), Some(json!({ "query": "a OR b AND c" }))).await;
    assert_eq!(check["valid"], json!(false));
    assert!(check["error"]["message_fr"].as_str().unwrap().len() > 5, "{check}");
    let trial = json!({ "query": "relais NEAR/3 panne", "samples": [
        { "text": "Encore une panne chez Relais ce matin" }, { "text": "Relais fonctionne très bien, aucune panne signalée depuis des mois" }
    ]});
    let (s, tried) = t.call(&owner, "POST", &format!("{base}/queries/test"), Some(trial)).await;
    assert_eq!(s, StatusCode::OK, "{tried}");
    assert_eq!(tried["samples"][0]["matches"], json!(true), "{tried}");
    assert_eq!(tried["samples"][1]["matches"], json!(false), "{tried}");
    assert!(!tried["samples"][0]["steps"].as_array().unwrap().is_empty());

    // A viewer reads but does not manage.
    let q = json!({ "name": "Marque", "query": "relais OR #relais", "sensitivity": "high" });
    let (s, _) = t.call(&viewer, "POST", &format!("{base}/queries"), Some(q.clone())).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, brand) = t.call(&owner, "POST", &format!("{base}/queries"), Some(q)).await;
    assert_eq!(s, StatusCode::CREATED, "{brand}");
    let brand = brand["id"].as_i64().unwrap();
    let (s, outage) = t
        .call(
            &owner,
            "POST",
            &format!("{base}/queries"),
            Some(json!({ "name": "Pannes", "query": "panne* OR outage" })),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{outage}");
    let outage = outage["id"].as_i64().unwrap();

    // Ingest: JSON array. Two match, one does not.
    let at = t.clock.now_ms() - 3_600_000;
    let posts = json!([
        { "source": "rss", "external_id": "a1", "text": "Relais est en panne depuis ce matin, c'est nul", "url": "https://www.lemonde.fr/x", "published_at": at },
        { "external_id": "a2", "text": "I love the new #relais release, great work!", "lang": "en", "published_at": at + 1000 },
        { "external_id": "a3", "text": "Rien à voir avec le sujet", "published_at": at + 2000 }
    ]);
    let (s, report) = t.call(&viewer, "POST", &format!("{base}/ingest"), Some(posts.clone())).await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{report}");
    let (s, report) = t.call(&owner, "POST", &format!("{base}/ingest"), Some(posts.clone())).await;
    assert_eq!(s, StatusCode::OK, "{report}");
    assert_eq!(report, json!({ "received": 3, "stored": 2, "duplicates": 0, "unmatched": 1, "discarded": 0 }));
    // The same posts again: stored once.
    let (_, report) = t.call(&owner, "POST", &format!("{base}/ingest"), Some(posts)).await;
    assert_eq!(report, json!({ "received": 3, "stored": 0, "duplicates": 2, "unmatched": 1, "discarded": 0 }));

    // NDJSON, with a formula in the text (CSV export must defuse it) and a copy of a message.
    let ndjson = format!(
        "{}\n\n{}\n{}\n",
        json!({ "text": "=HYPERLINK(\"http://evil\") relais", "author": "mallory", "published_at": at + 3000 }),
        json!({ "text": "RT Relais est en panne depuis ce matin, c'est nul", "published_at": at + 4000 }),
        json!({ "text": "Relais est en panne depuis ce matin, c'est nul !!", "published_at": at + 5000 }),
    );
    let res = t
        .http
        .post(format!("{}{base}/ingest", t.base))
        .bearer_auth(&owner.token)
        .header("content-type", "application/x-ndjson")
        .body(ndjson)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.json::<Value>().await.unwrap()["stored"], json!(3));

    // One bad line refuses the whole request, naming the line; nothing is stored.
    let bad =
        format!("{}\n{}\n", json!({ "text": "relais ok" }), json!({ "text": "relais", "url": "javascript:alert(1)" }));
    let res = t
        .http
        .post(format!("{}{base}/ingest", t.base))
        .bearer_auth(&owner.token)
        .header("content-type", "application/x-ndjson")
        .body(bad)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let problem: Value = res.json().await.unwrap();
    assert_eq!(problem["problems"][0]["line"], json!(2), "{problem}");
    let res = t
        .http
        .post(format!("{}{base}/ingest", t.base))
        .bearer_auth(&owner.token)
        .header("content-type", "application/x-ndjson")
        .body("{\"text\": \"relais\"}\n{not json\n")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);

    // Mentions: 5 stored, newest first, filters, pagination.
    let (s, page) = t.call(&viewer, "GET", &format!("{base}/mentions"), None).await;
    assert_eq!(s, StatusCode::OK, "{page}");
    let mentions = page["mentions"].as_array().unwrap();
    assert_eq!(mentions.len(), 5, "{page}");
    assert!(mentions[0]["published_at"].as_i64() >= mentions[1]["published_at"].as_i64());
    let first = mentions.iter().find(|m| m["external_id"] == json!("a1")).unwrap();
    assert_eq!(first["lang"], json!("fr"));
    assert_eq!(first["sentiment_label"], json!("negative"), "{first}");
    assert_eq!(first["query_ids"], json!([brand, outage]));
    // The three copies of the outage message are one story.
    let copies: Vec<_> = mentions.iter().filter(|m| m["text"].as_str().unwrap().contains("panne depuis")).collect();
    assert_eq!(copies.len(), 3);
    assert!(copies.iter().all(|m| m["story_id"] == copies[0]["story_id"]), "{copies:?}");
    let (_, page) = t.call(&viewer, "GET", &format!("{base}/mentions?query_id={outage}"), None).await;
    assert_eq!(page["mentions"].as_array().unwrap().len(), 3);
    let (_, page) = t.call(&viewer, "GET", &format!("{base}/mentions?lang=en&sentiment=positive"), None).await;
    assert_eq!(page["mentions"].as_array().unwrap().len(), 1, "{page}");
    let (_, page) = t.call(&viewer, "GET", &format!("{base}/mentions?source=rss"), None).await;
    assert_eq!(page["mentions"].as_array().unwrap().len(), 1);
    let (_, p1) = t.call(&viewer, "GET", &format!("{base}/mentions?limit=2"), None).await;
    let next = p1["next"].as_str().unwrap().to_owned();
    let (_, p2) = t.call(&viewer, "GET", &format!("{base}/mentions?limit=2&after={next}"), None).await;
    let (_, p3) =
        t.call(&viewer, "GET", &format!("{base}/mentions?limit=2&after={}", p2["next"].as_str().unwrap()), None).await;
    let mut seen: Vec<i64> = [&p1, &p2, &p3]
        .iter()
        .flat_map(|p| p["mentions"].as_array().unwrap().iter().map(|m| m["id"].as_i64().unwrap()))
        .collect();
    seen.sort_unstable();
    seen.dedup();
    assert_eq!(seen.len(), 5);
    let (s, _) = t.call(&viewer, "GET", &format!("{base}/mentions?sentiment=angry"), None).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    // The search refuses the same value the same way (rather than finding nothing).
    let (s, p) = t.call(&viewer, "GET", &format!("{base}/search?q=relais&sentiment=angry"), None).await;
    assert_eq!((s, p["code"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("invalid_sentiment")), "{p}");

    // CSV export: BOM, header, one row per mention, formulas defused.
    let res = t.http.get(format!("{}{base}/mentions.csv", t.base)).bearer_auth(&viewer.token).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.headers()["content-type"].to_str().unwrap().starts_with("text/csv"));
    let bytes = res.bytes().await.unwrap();
    assert!(bytes.starts_with(b"\xEF\xBB\xBF"));
    let mut reader = csv::Reader::from_reader(&bytes[3..]);
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 5);
    let formula = rows.iter().find(|r| r[3] == *"mallory").unwrap();
    assert!(formula[6].starts_with("'="), "{formula:?}");
    assert!(rows.iter().any(|r| r[11].contains("Pannes")));

    // Series: the hour's bucket counts what was stored, once.
    let (s, series) = t
        .call(
            &viewer,
            "GET",
            &format!("{base}/queries/{outage}/series?resolution=1h&from={}&to={}", at - 3_600_000, at + 3_600_000),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{series}");
    let volume: i64 = series.as_array().unwrap().iter().map(|p| p["volume"].as_i64().unwrap()).sum();
    let negative: i64 = series.as_array().unwrap().iter().map(|p| p["negative"].as_i64().unwrap()).sum();
    assert_eq!(volume, 3, "{series}");
    assert!(negative >= 2, "{series}");
    assert_eq!(series.as_array().unwrap().len(), 2);

    // Full-text search: stemmed (« pannes » finds « panne »), filtered, with facets over all matches.
    let (s, found) = t.call(&viewer, "GET", &format!("{base}/search?q=pannes&facets=true"), None).await;
    assert_eq!(s, StatusCode::OK, "{found}");
    assert_eq!(found["not_yet_indexed"], json!(5), "{found}");
    assert!(t.app.index_pending().await.unwrap() >= 5);
    let (_, found) = t.call(&viewer, "GET", &format!("{base}/search?q=pannes&facets=true"), None).await;
    assert_eq!(found["total"], json!(3), "{found}");
    assert_eq!(found["not_yet_indexed"], json!(0));
    assert_eq!(found["mentions"].as_array().unwrap().len(), 3);
    assert!(
        found["facets"]["sentiments"].as_array().unwrap().iter().any(|f| f["value"] == json!("negative")),
        "{found}"
    );
    let (_, found) = t.call(&viewer, "GET", &format!("{base}/search?q=relais&lang=en"), None).await;
    assert_eq!(found["total"], json!(1), "{found}");
    let (_, found) = t.call(&viewer, "GET", &format!("{base}/search?q=relais&limit=2"), None).await;
    assert_eq!(found["total"], json!(5), "{found}");
    let (_, page2) = t
        .call(
            &viewer,
            "GET",
            &format!("{base}/search?q=relais&limit=2&after={}", found["next"].as_str().unwrap()),
            None,
        )
        .await;
    assert_eq!(page2["mentions"].as_array().unwrap().len(), 2, "{page2}");
    assert_ne!(page2["mentions"][0]["id"], found["mentions"][0]["id"]);
    let (s, bad) = t.call(&viewer, "GET", &format!("{base}/search?q=a%20OR%20b%20AND%20c"), None).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");

    // Deleting a query keeps its mentions.
    let (s, _) = t.call(&owner, "DELETE", &format!("{base}/queries/{outage}"), None).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, _) = t.call(&owner, "GET", &format!("{base}/queries/{outage}"), None).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (_, page) = t.call(&viewer, "GET", &format!("{base}/mentions"), None).await;
    assert_eq!(page["mentions"].as_array().unwrap().len(), 5);
    let (s, status) = t.call(&viewer, "GET", &format!("{base}/status"), None).await;
    assert_eq!(s, StatusCode::OK, "{status}");
    assert!(status["stored"].as_u64().unwrap() >= 5, "{status}");
    assert_eq!(status["in_flight"], json!(0));
}

async fn listening_tenant_isolation(t: &TestApp) {
    let alice = t.member("alice@example.fr").await;
    let bob = t.member("bob@example.fr").await;
    let (ws_a, _) = t.workspace_with_channel(&alice, "alice").await;
    let (ws_b, _) = t.workspace_with_channel(&bob, "bob").await;
    let a = format!("/api/v1/workspaces/{ws_a}/listen");
    let (_, q) = t.call(&alice, "POST", &format!("{a}/queries"), Some(json!({ "name": "A", "query": "secret" }))).await;
    let qa = q["id"].as_i64().unwrap();
    let (_, r) = t.call(&alice, "POST", &format!("{a}/ingest"), Some(json!([{ "text": "top secret plan" }]))).await;
    assert_eq!(r["stored"], json!(1));
    // Bob, in his own workspace, posting the same text: his workspace has no query, nothing stored.
    let b = format!("/api/v1/workspaces/{ws_b}/listen");
    let (_, r) = t.call(&bob, "POST", &format!("{b}/ingest"), Some(json!([{ "text": "top secret plan" }]))).await;
    assert_eq!(r["unmatched"], json!(1));
    // Bob's listening status counts his workspace's posts (none entered the pipeline: no query),
    // not Alice's stored one.
    let (_, status) = t.call(&bob, "GET", &format!("{b}/status"), None).await;
    let counts = (&status["accepted"], &status["stored"]);
    assert_eq!(counts, (&json!(0), &json!(0)), "{status}");
    let (_, status) = t.call(&alice, "GET", &format!("{a}/status"), None).await;
    assert_eq!((&status["accepted"], &status["stored"]), (&json!(1), &json!(1)), "{status}");
    for (method, path, body) in [
        ("GET", format!("{a}/queries"), None),
        ("GET", format!("{a}/queries/{qa}"), None),
        ("PUT", format!("{a}/queries/{qa}"), Some(json!({ "name": "x", "query": "y" }))),
        ("DELETE", format!("{a}/queries/{qa}"), None),
        ("GET", format!("{a}/queries/{qa}/series"), None),
        ("GET", format!("{a}/mentions"), None),
        ("GET", format!("{a}/mentions.csv"), None),
        ("GET", format!("{a}/alerts"), None),
        ("POST", format!("{a}/ingest"), Some(json!([{ "text": "secret" }]))),
        ("POST", format!("{a}/queries/test"), Some(json!({ "query": "secret" }))),
        ("GET", format!("{a}/search?q=secret"), None),
        ("GET", format!("{a}/sources"), None),
        ("POST", format!("{a}/mentions/erase"), Some(json!({ "author": "x" }))),
    ] {
        let (s, body) = t.call(&bob, method, &path, body).await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{method} {path}: {body}");
    }
    // Bob's own workspace cannot reach Alice's query or mentions by id either.
    let (_, page) = t.call(&alice, "GET", &format!("{a}/mentions"), None).await;
    let alice_mention = page["mentions"][0]["id"].as_i64().unwrap();
    let (s, r) = t.call(&bob, "POST", &format!("{b}/mentions/erase"), Some(json!({ "ids": [alice_mention] }))).await;
    assert_eq!((s, &r["erased"]), (StatusCode::OK, &json!(0)), "{r}");
    let (s, _) = t.call(&bob, "GET", &format!("{b}/queries/{qa}"), None).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _) = t.call(&bob, "GET", &format!("{b}/queries/{qa}/series"), None).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (_, page) = t.call(&alice, "GET", &format!("{a}/mentions"), None).await;
    assert_eq!(page["mentions"].as_array().unwrap().len(), 1);
    // The index holds both workspaces; a search sees only its own.
    t.app.index_pending().await.unwrap();
    let (_, found) = t.call(&bob, "GET", &format!("{b}/search?q=secret"), None).await;
    assert_eq!(found["total"], json!(0), "{found}");
    let (_, found) = t.call(&alice, "GET", &format!("{a}/search?q=secret"), None).await;
    assert_eq!(found["total"], json!(1), "{found}");
}

async fn listening_erasure(t: &TestApp) {
    let owner = t.member("owner@example.fr").await;
    let (ws, _) = t.workspace_with_channel(&owner, "brand").await;
    let base = format!("/api/v1/workspaces/{ws}/listen");
    let (_, q) =
        t.call(&owner, "POST", &format!("{base}/queries"), Some(json!({ "name": "Q", "query": "velo" }))).await;
    let query = q["id"].as_i64().unwrap();
    let posts = json!([
        { "text": "Mon vélo est cassé", "author": "mallory@ex.social", "external_id": "1" },
        { "text": "Encore le vélo", "author": "mallory@ex.social", "external_id": "2" },
        { "text": "Un vélo tout neuf", "author": "carol@ex.social", "external_id": "3", "published_at": "2026-11-23T10:02:00+01:00" },
    ]);
    let (_, r) = t.call(&owner, "POST", &format!("{base}/ingest"), Some(posts)).await;
    assert_eq!(r["stored"], json!(3), "{r}");
    t.app.index_pending().await.unwrap();
    // Whether a file of the search index holds these bytes (its stored texts are compressed in
    // blocks, but a short text's bytes come out as they are).
    let index_files_hold = |needle: &[u8]| {
        std::fs::read_dir(t.dir.path().join("search")).unwrap().any(|e| {
            let bytes = std::fs::read(e.unwrap().path()).unwrap_or_default();
            bytes.windows(needle.len()).any(|w| w == needle)
        })
    };
    assert!(index_files_hold("Mon vélo est cassé".as_bytes()));
    let owner_ref = &owner;
    let count = |path: String| async move {
        let (_, page) = t.call(owner_ref, "GET", &path, None).await;
        page.get("mentions").and_then(|m| m.as_array().map(Vec::len)).unwrap_or_default()
    };
    let search_total = || async {
        let (_, found) = t.call(&owner, "GET", &format!("{base}/search?q=velo"), None).await;
        found["total"].as_u64().unwrap()
    };
    assert_eq!(search_total().await, 3);

    // Bad input is refused with a message in both languages and erases nothing.
    for body in [json!({}), json!({ "ids": [] }), json!({ "ids": [1], "author": "x" }), json!({ "author": "  " })] {
        let (s, p) = t.call(&owner, "POST", &format!("{base}/mentions/erase"), Some(body.clone())).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {p}");
        let text = p.to_string();
        assert!(text.contains("not both") && text.contains("pas les deux"), "{p}");
    }
    assert_eq!(count(format!("{base}/mentions")).await, 3);
    // A contributor may read mentions but not erase them.
    let contributor = t.add_member(&owner, ws, "contrib@example.fr", "contributor").await;
    let (s, _) = t
        .call(&contributor, "POST", &format!("{base}/mentions/erase"), Some(json!({ "author": "carol@ex.social" })))
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    assert_eq!(count(format!("{base}/mentions")).await, 3);

    // Every mention by one author (an erasure request).
    let (s, r) =
        t.call(&owner, "POST", &format!("{base}/mentions/erase"), Some(json!({ "author": "mallory@ex.social" }))).await;
    assert_eq!((s, &r["erased"]), (StatusCode::OK, &json!(2)), "{r}");
    let (_, page) = t.call(&owner, "GET", &format!("{base}/mentions?query_id={query}"), None).await;
    let left = page["mentions"].as_array().unwrap();
    assert_eq!(left.len(), 1, "{page}");
    assert_eq!(left[0]["author"], json!("carol@ex.social"));
    // An RFC 3339 date on ingest is stored as milliseconds.
    assert_eq!(left[0]["published_at"], json!(1_795_424_520_000_i64), "{page}");
    // The search index drops them on its next pass, from its results and from its files.
    t.app.index_pending().await.unwrap();
    assert_eq!(search_total().await, 1);
    assert!(!index_files_hold("Mon vélo est cassé".as_bytes()));
    assert!(index_files_hold("Un vélo tout neuf".as_bytes()));

    // By id; an id already erased counts for nothing.
    let id = left[0]["id"].as_i64().unwrap();
    let (_, r) =
        t.call(&owner, "POST", &format!("{base}/mentions/erase"), Some(json!({ "ids": [id, id + 1000] }))).await;
    assert_eq!(r["erased"], json!(1), "{r}");
    let (_, r) = t.call(&owner, "POST", &format!("{base}/mentions/erase"), Some(json!({ "ids": [id] }))).await;
    assert_eq!(r["erased"], json!(0), "{r}");
    assert_eq!(count(format!("{base}/mentions")).await, 0);
    t.app.index_pending().await.unwrap();
    assert_eq!(search_total().await, 0);
    // What a Bluesky stream erases: deleted posts by their AT URI, an account by its DID prefix.
    let at = |did: &str, rkey: &str| format!("at://{did}/app.bsky.feed.post/{rkey}");
    let bluesky: Vec<Value> = [("did:plc:aaa", "1"), ("did:plc:aaa", "2"), ("did:plc:aa", "3"), ("did:plc:bbb", "4")]
        .iter()
        .map(|(did, rkey)| json!({ "text": "vélo", "source": "bluesky", "external_id": at(did, rkey) }))
        .collect();
    let (_, r) = t.call(&owner, "POST", &format!("{base}/ingest"), Some(Value::Array(bluesky))).await;
    assert_eq!(r["stored"], json!(4), "{r}");
    let store_ws = relais_domain::ids::WorkspaceId(ws);
    let deleted = [at("did:plc:bbb", "4"), at("did:plc:zzz", "9")];
    let which = relais_store::listen::Erase::External { source: "bluesky", external_ids: &deleted };
    assert_eq!(t.app.store.erase_mentions(store_ws, which, 0).await.unwrap().len(), 1);
    // The prefix ends with `/`: `did:plc:aa` is not `did:plc:aaa`.
    let which = relais_store::listen::Erase::ExternalPrefix { source: "bluesky", prefix: "at://did:plc:aaa/" };
    assert_eq!(t.app.store.erase_mentions(store_ws, which, 0).await.unwrap().len(), 2);
    let (_, page) = t.call(&owner, "GET", &format!("{base}/mentions"), None).await;
    let left: Vec<&Value> = page["mentions"].as_array().unwrap().iter().collect();
    assert_eq!(left.len(), 1, "{page}");
    assert_eq!(left[0]["external_id"], json!(at("did:plc:aa", "3")));
    let id = left[0]["id"].as_i64().unwrap();
    t.call(&owner, "POST", &format!("{base}/mentions/erase"), Some(json!({ "ids": [id] }))).await;

    // Ingesting the same post again stores it again (nothing remembers erased content).
    let (_, r) = t
        .call(
            &owner,
            "POST",
            &format!("{base}/ingest"),
            Some(json!([{ "text": "Un vélo tout neuf", "external_id": "3" }])),
        )
        .await;
    assert_eq!(r["stored"], json!(1), "{r}");
}
