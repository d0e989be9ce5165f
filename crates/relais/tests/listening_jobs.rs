//! Listening's background jobs end to end, on SQLite and on PostgreSQL (when
//! `RELAIS_TEST_DATABASE_URL` is set; required under CI):
//! - sources: a source added to a workspace is polled through the SSRF guard, its posts go through
//!   the pipeline (enrich, match, store), its state (validators, schedule, health) is saved, and a
//!   broken source is reported without stopping the others;
//! - spikes: three weeks of ordinary volume then a burst raise one alert, stored with its series
//!   and sent to the workspace's webhook, once.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use axum::http::{HeaderMap, StatusCode, header};
use axum::response::IntoResponse;
use relais_app::listening::sources::{SourcePoller, SourceSpec};
use relais_app::listening::spikes::SpikeWatch;
use relais_app::listening::{QueryInput, check_post};
use relais_app::{Actor, App};
use relais_domain::ids::{UserId, WorkspaceId};
use relais_domain::listen::IncomingPost;
use relais_store::listen::{Erase, MentionFilter};
use relais_testkit::app::{FakeClock, postgres_or_skip, test_app};
use serde_json::Value;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

const RSS: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>Le Fil</title><link>https://news.example/</link><language>fr</language>
<item><title>Relais en panne</title><link>https://news.example/a/1</link><guid>https://news.example/a/1</guid>
<description>&lt;p&gt;La plateforme &lt;b&gt;Relais&lt;/b&gt; est en panne depuis ce matin.&lt;/p&gt;&lt;script&gt;alert(1)&lt;/script&gt;</description>
<pubDate>Sun, 22 Nov 2026 07:00:00 GMT</pubDate></item>
<item><title>Météo</title><link>https://news.example/a/2</link><guid>https://news.example/a/2</guid>
<description>Grand soleil sur Lyon.</description><pubDate>Sun, 22 Nov 2026 07:30:00 GMT</pubDate></item>
</channel></rss>"#;

/// A feed server: `/feed.xml` (RSS with an ETag; answers 304 to the validator) and
/// `/broken.xml` (not a feed). Counts the requests with and without the validator.
async fn feed_server() -> (String, Arc<AtomicUsize>, Arc<AtomicUsize>) {
    let (fresh, not_modified) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let (f, n) = (fresh.clone(), not_modified.clone());
    let router = axum::Router::new()
        .route(
            "/feed.xml",
            axum::routing::get(move |headers: HeaderMap| {
                let (f, n) = (f.clone(), n.clone());
                async move {
                    if headers.get(header::IF_NONE_MATCH).is_some_and(|v| v == "\"v1\"") {
                        n.fetch_add(1, Ordering::SeqCst);
                        return StatusCode::NOT_MODIFIED.into_response();
                    }
                    f.fetch_add(1, Ordering::SeqCst);
                    ([(header::CONTENT_TYPE, "application/rss+xml"), (header::ETAG, "\"v1\"")], RSS).into_response()
                }
            }),
        )
        .route("/broken.xml", axum::routing::get(|| async { "<html><body>Not a feed</body>" }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let host = format!("127.0.0.1:{}", listener.local_addr().unwrap().port());
    tokio::spawn(async move { axum::serve(listener, router).await });
    (host, fresh, not_modified)
}

async fn polled_feeds_become_mentions(postgres: bool) {
    let Some(admin) = postgres_or_skip(postgres, "a listening sources test") else { return };
    let dir = tempfile::tempdir().unwrap();
    let (host, fresh, not_modified) = feed_server().await;
    let clock = FakeClock::new();
    let app: App = test_app(admin.as_deref(), dir.path(), clock.clock(), vec![host.clone()]).await;
    let user = app.create_user("cm@example.fr", "CM", "correct horse battery", "fr").await.unwrap();
    let actor = Actor { user: UserId(user.id), ip: None };
    let ws = WorkspaceId(app.create_workspace(&actor, "Veille", "Europe/Paris").await.unwrap().id);
    let query = QueryInput { name: "Marque".into(), query: "relais".into(), sensitivity: None, min_volume: None };
    let q = app.create_listen_query(&actor, ws, &query).await.unwrap();

    // Bad sources are refused and change nothing.
    let bad = SourceSpec::Rss { url: "ftp://news.example/feed".into(), interval_secs: None };
    assert!(app.create_listen_source(&actor, ws, &bad).await.is_err());
    let bad = SourceSpec::MastodonTag {
        instance: "https://m.example".into(),
        tag: "no spaces".into(),
        interval_secs: None,
        channel_id: None,
    };
    assert!(app.create_listen_source(&actor, ws, &bad).await.is_err());
    assert!(app.listen_sources(&actor, ws).await.unwrap().is_empty());

    let good = SourceSpec::Rss { url: format!("http://{host}/feed.xml"), interval_secs: Some(600) };
    let broken = SourceSpec::Rss { url: format!("http://{host}/broken.xml"), interval_secs: None };
    let internal = SourceSpec::Rss { url: "http://169.254.169.254/latest/meta-data".into(), interval_secs: None };
    for spec in [&broken, &good, &internal] {
        app.create_listen_source(&actor, ws, spec).await.unwrap();
    }
    let poller = SourcePoller::new(app.clone());
    assert_eq!(poller.run_once(10).await.unwrap(), 3);

    // The feed's matching item is stored, HTML stripped, with its link and title; the other is not.
    let mentions = app.store.mentions(ws, &MentionFilter::default(), 10).await.unwrap();
    assert_eq!(mentions.len(), 1, "{mentions:?}");
    let m = &mentions[0];
    assert_eq!(m.source, "rss");
    assert_eq!(m.url.as_deref(), Some("https://news.example/a/1"));
    assert_eq!(m.title.as_deref(), Some("Relais en panne"));
    assert!(m.text.contains("La plateforme Relais est en panne"), "{}", m.text);
    assert!(!m.text.contains("alert") && !m.text.contains('<'), "{}", m.text);
    assert_eq!(m.lang, "fr");
    assert_eq!(m.query_ids, vec![q.id]);

    // Health: the good feed polled fine; the broken one and the internal address are reported, in
    // French and English, and scheduled again later.
    let sources = app.listen_sources(&actor, ws).await.unwrap();
    let by_target = |t: &str| sources.iter().find(|s| s.target.contains(t)).unwrap().clone();
    let ok = by_target("feed.xml");
    assert!(ok.last_error.is_none(), "{ok:?}");
    assert!(ok.last_ok_at.is_some());
    assert!(ok.next_poll_at >= clock.now_ms() + 600_000 - 1, "{ok:?}");
    let broken = by_target("broken.xml");
    assert!(broken.last_error.as_deref().unwrap().contains("flux"), "{broken:?}");
    assert!(broken.next_poll_at > clock.now_ms());
    let refused = by_target("169.254.169.254");
    assert!(refused.last_error.is_some(), "{refused:?}");
    assert_eq!(fresh.load(Ordering::SeqCst), 1);

    // Nothing is due before the interval; then the validator is sent back and nothing is stored twice.
    assert_eq!(poller.run_once(10).await.unwrap(), 0);
    clock.advance(3_600_000);
    assert_eq!(poller.run_once(10).await.unwrap(), 3);
    assert_eq!(not_modified.load(Ordering::SeqCst), 1, "the second poll sends the ETag");
    assert_eq!(fresh.load(Ordering::SeqCst), 1);
    assert_eq!(app.store.mention_count(ws).await.unwrap(), 1);

    // Removing a source stops its polling.
    app.delete_listen_source(&actor, ws, ok.id).await.unwrap();
    clock.advance(3_600_000);
    assert_eq!(poller.run_once(10).await.unwrap(), 2);
}

#[tokio::test]
async fn sqlite_polled_feeds_become_mentions() {
    polled_feeds_become_mentions(false).await;
}

#[tokio::test]
async fn postgres_polled_feeds_become_mentions() {
    polled_feeds_become_mentions(true).await;
}

#[test]
fn source_posts_are_checked_like_ingested_ones() {
    let mut p = relais_domain::listen::IncomingPost { text: "x".into(), source: "RSS".into(), ..Default::default() };
    assert!(check_post(&mut p, 1, 1_800_000_000_000).is_ok());
    assert_eq!(p.source, "rss");
}

async fn a_burst_raises_one_alert(postgres: bool) {
    let Some(admin) = postgres_or_skip(postgres, "a listening spikes test") else { return };
    let dir = tempfile::tempdir().unwrap();
    let clock = FakeClock::new();
    let app: App = test_app(admin.as_deref(), dir.path(), clock.clock(), vec!["127.0.0.1".into()]).await;
    let user = app.create_user("cm@example.fr", "CM", "correct horse battery", "fr").await.unwrap();
    let actor = Actor { user: UserId(user.id), ip: None };
    let ws = WorkspaceId(app.create_workspace(&actor, "Veille", "UTC").await.unwrap().id);
    app.create_webhook(
        &actor,
        ws,
        relais_app::notifications::WebhookKind::Slack,
        "https://hooks.slack.com/services/T/B/x",
    )
    .await
    .unwrap();
    let query = QueryInput {
        name: "Marque <b>".into(),
        query: "relais".into(),
        sensitivity: Some("medium".into()),
        min_volume: Some(10),
    };
    let q = app.create_listen_query(&actor, ws, &query).await.unwrap();
    // Three weeks of an ordinary day: 4 to 9 mentions an hour, more by day; then the last closed
    // hour holds 120.
    let hour = 3_600_000;
    let now = clock.now_ms();
    let current = now.div_euclid(hour) * hour - hour;
    let mut posts = Vec::new();
    let mut n = 0;
    let mut t = current - 21 * 24 * hour;
    while t < current {
        let h = (t / hour) % 24;
        let per_hour = if (8..20).contains(&h) { 9 } else { 4 } + (t / hour) % 3;
        for i in 0..per_hour {
            n += 1;
            posts.push(post(n, t + i * 60_000, "Relais, c'est pratique pour publier"));
        }
        t += hour;
    }
    for i in 0..120 {
        n += 1;
        posts.push(post(n, current + i * 20_000, "Relais est en panne, c'est une honte"));
    }
    let report = app.listen_posts(ws, posts).await.unwrap();
    assert_eq!(report.unmatched, 0);
    let watch = SpikeWatch { app: app.clone() };
    let raised = watch.run_once().await.unwrap();
    assert!(raised >= 1, "no alert for a burst of 120 against about 10 an hour");
    let alerts = app.listen_alerts(&actor, ws, Some(q.id), 10).await.unwrap();
    assert!(alerts.iter().any(|a| a.rule == "volume"), "{alerts:?}");
    let volume = alerts.iter().find(|a| a.rule == "volume").unwrap();
    let detail: serde_json::Value = serde_json::from_str(&volume.detail).unwrap();
    assert_eq!(detail["alert"]["observed"], serde_json::json!(120), "{detail}");
    let series = detail["series"].as_array().unwrap();
    assert!(!series.is_empty() && series.len() <= 48);
    assert_eq!(series.last().unwrap()["volume"], serde_json::json!(120), "{detail}");
    // One notification per alert, with the query's name as text (escaped in the Matrix shape).
    let notifications = app.notifications(&actor, ws).await.unwrap();
    let spikes: Vec<_> = notifications.iter().filter(|n| n.event == "listening.spike").collect();
    assert_eq!(spikes.len(), alerts.len(), "{notifications:?}");
    assert!(spikes[0].payload.contains("Marque <b>"), "{}", spikes[0].payload);
    // Assessing again raises nothing more.
    assert_eq!(watch.run_once().await.unwrap(), 0);
    assert_eq!(app.listen_alerts(&actor, ws, None, 10).await.unwrap().len(), alerts.len());
    // A quiet query raises nothing.
    let quiet = QueryInput { name: "Calme".into(), query: "pratique".into(), sensitivity: None, min_volume: None };
    let quiet = app.create_listen_query(&actor, ws, &quiet).await.unwrap();
    clock.advance(hour);
    watch.run_once().await.unwrap();
    assert!(app.listen_alerts(&actor, ws, Some(quiet.id), 10).await.unwrap().is_empty());
}

/// The search index follows the mentions with its watermark committed in the index itself: a new
/// process (a restart) indexes nothing twice. An index written before the watermark went into the
/// commit (a watermark file, left behind the index by a crash) is caught up without doubles; a
/// damaged one is rebuilt.
#[tokio::test]
async fn the_index_follows_the_mentions_across_restarts() {
    use relais_app::listening::Listening;
    use relais_app::listening::search::SearchInput;
    let dir = tempfile::tempdir().unwrap();
    let clock = FakeClock::new();
    let mut app: App = test_app(None, dir.path(), clock.clock(), vec![]).await;
    let index_dir = dir.path().join("search");
    app.listening = Arc::new(Listening::with_index_dir(index_dir.clone()));
    let user = app.create_user("cm@example.fr", "CM", "correct horse battery", "fr").await.unwrap();
    let actor = Actor { user: UserId(user.id), ip: None };
    let ws = WorkspaceId(app.create_workspace(&actor, "Veille", "UTC").await.unwrap().id);
    let query = QueryInput { name: "Marque".into(), query: "relais".into(), sensitivity: None, min_volume: None };
    let brand = app.create_listen_query(&actor, ws, &query).await.unwrap().id;
    let query = QueryInput { name: "Encore".into(), query: "encore".into(), sensitivity: None, min_volume: None };
    let again = app.create_listen_query(&actor, ws, &query).await.unwrap().id;
    let now = clock.now_ms();
    let text = |n| if n == 3 { "Relais est encore en panne" } else { "Relais est en panne" };
    let posts = (1..=5).map(|n| post(n, now - n * 60_000, text(n))).collect();
    assert_eq!(app.listen_posts(ws, posts).await.unwrap().stored, 5);
    assert_eq!(app.index_pending().await.unwrap(), 5);
    let search = |app: App| {
        let actor = actor.clone();
        async move {
            let input = SearchInput { q: "panne".into(), limit: 50, ..SearchInput::default() };
            let page = app.search_mentions(&actor, ws, input).await.unwrap();
            (page.total, page.not_yet_indexed)
        }
    };
    assert_eq!(search(app.clone()).await, (5, 0));

    // A restart: the new process's indexer finds nothing to do.
    let restart = |app: &mut App| app.listening = Arc::new(Listening::with_index_dir(index_dir.clone()));
    restart(&mut app);
    assert_eq!(app.index_pending().await.unwrap(), 0);
    assert_eq!(search(app.clone()).await, (5, 0));

    // The index of an earlier version: committed without the watermark, kept in a file that a
    // crash left at mention 2 while the index holds all five.
    app.listening = Arc::new(Listening::default()); // the index's writer goes
    {
        let index = relais_search::SearchIndex::open_or_create(&index_dir).unwrap();
        let mut writer = index.writer(relais_search::WriterOptions::default()).unwrap();
        writer.commit().unwrap();
        assert_eq!(index.commit_payload().unwrap(), None);
        writer.finish().unwrap();
    }
    let ids: Vec<i64> =
        app.store.mentions(ws, &MentionFilter::default(), 10).await.unwrap().iter().map(|m| m.id).collect();
    std::fs::write(index_dir.join("relais-indexed-up-to"), ids.iter().min().unwrap().to_string()).unwrap();
    restart(&mut app);
    assert_eq!(app.index_pending().await.unwrap(), 4);
    assert_eq!(search(app.clone()).await, (5, 0), "mentions indexed twice");
    assert_eq!(app.listen_posts(ws, vec![post(6, now, "Relais en panne encore")]).await.unwrap().stored, 1);
    assert_eq!(app.index_pending().await.unwrap(), 1);
    assert_eq!(search(app.clone()).await, (6, 0));
    // Each mention was indexed with the queries it matched.
    let input = SearchInput { q: "panne".into(), limit: 50, facets: true, ..SearchInput::default() };
    let facets = app.search_mentions(&actor, ws, input).await.unwrap().facets.unwrap();
    let mut by_query: Vec<(i64, u64)> = facets.queries.iter().map(|f| (f.value, f.count)).collect();
    by_query.sort_unstable();
    assert_eq!(by_query, vec![(brand, 6), (again, 2)]);

    // A damaged index (meta.json cut short): replaced on open and rebuilt from the database.
    app.listening = Arc::new(Listening::default());
    let meta = index_dir.join("meta.json");
    let bytes = std::fs::read(&meta).unwrap();
    std::fs::write(&meta, &bytes[..bytes.len() / 2]).unwrap();
    restart(&mut app);
    assert_eq!(app.index_pending().await.unwrap(), 6);
    assert_eq!(search(app.clone()).await, (6, 0));
}

/// The pipeline's writer hands each committed batch to the indexer, which takes it instead of
/// reading it back only when it directly follows what the index holds and none of its mentions
/// was erased since: a handed-over mention erased before it was indexed is never indexed, a
/// mention stored without the hand-off (a gap) is read from the database, and nothing is
/// indexed twice.
#[tokio::test]
async fn handed_over_mentions_are_indexed_once_and_never_after_their_erasure() {
    use relais_app::listening::Listening;
    use relais_app::listening::search::SearchInput;
    let dir = tempfile::tempdir().unwrap();
    let clock = FakeClock::new();
    let mut app: App = test_app(None, dir.path(), clock.clock(), vec![]).await;
    // Two mentions per pass: a batch of two more waits for the next pass.
    app.listening = Arc::new(Listening::with_index_dir(dir.path().join("search")).index_batch(2));
    let user = app.create_user("cm@example.fr", "CM", "correct horse battery", "fr").await.unwrap();
    let actor = Actor { user: UserId(user.id), ip: None };
    let ws = WorkspaceId(app.create_workspace(&actor, "Veille", "UTC").await.unwrap().id);
    let query = QueryInput { name: "Marque".into(), query: "relais".into(), sensitivity: None, min_volume: None };
    app.create_listen_query(&actor, ws, &query).await.unwrap();
    let now = clock.now_ms();
    let send = |app: App, from: i64| async move {
        let posts = (from..from + 2).map(|n| post(n, now - n * 60_000, "Relais est en panne")).collect();
        assert_eq!(app.listen_posts(ws, posts).await.unwrap().stored, 2);
    };
    let found = |app: App| {
        let actor = actor.clone();
        async move {
            let input = SearchInput { q: "panne".into(), limit: 50, ..SearchInput::default() };
            let page = app.search_mentions(&actor, ws, input).await.unwrap();
            let mut ids: Vec<i64> = page.mentions.iter().map(|m| m.id).collect();
            ids.sort_unstable();
            (ids, page.not_yet_indexed)
        }
    };
    let stored = |app: App| async move {
        let mut ids: Vec<i64> =
            app.store.mentions(ws, &MentionFilter::default(), 50).await.unwrap().iter().map(|m| m.id).collect();
        ids.sort_unstable();
        ids
    };
    send(app.clone(), 1).await; // batch A
    send(app.clone(), 3).await; // batch B
    let b: Vec<i64> = stored(app.clone()).await[2..].to_vec();
    // One of B's mentions is erased while B waits in the hand-off; the pass that indexes A
    // removes it (nothing to remove yet); B's pass must not bring it back.
    app.store.erase_mentions(ws, Erase::Ids(&b[..1]), now).await.unwrap();
    assert_eq!(app.index_pending().await.unwrap(), 2 + 1, "A and the erasure");
    assert_eq!(app.index_pending().await.unwrap(), 1, "what is left of B");
    assert_eq!(app.index_pending().await.unwrap(), 0);
    assert_eq!(found(app.clone()).await, (stored(app.clone()).await, 0));
    assert!(!found(app.clone()).await.0.contains(&b[0]), "an erased mention came back");

    // A mention stored without the hand-off (another writer) makes a gap: the next batch does
    // not follow the index, so the database is read, and the batch then dropped.
    let mut other = relais_store::listen::NewMention {
        workspace_id: ws.0,
        source: "ingest".into(),
        external_id: "elsewhere".into(),
        url: None,
        author: None,
        title: None,
        text: "Relais encore en panne".into(),
        lang: "fr".into(),
        sentiment: -0.5,
        sentiment_label: "negative".into(),
        story_id: 1,
        published_at: now,
        received_at: now,
        query_ids: vec![],
    };
    other.query_ids = app.store.listen_queries(ws).await.unwrap().iter().map(|q| q.id).collect();
    app.store.insert_mentions(&[other]).await.unwrap();
    send(app.clone(), 5).await;
    send(app.clone(), 7).await;
    while app.index_pending().await.unwrap() > 0 {}
    let (indexed, behind) = found(app.clone()).await;
    assert_eq!((indexed.len(), behind), (3 + 1 + 4, 0));
    assert_eq!(indexed, stored(app.clone()).await, "every stored mention indexed once");
}

/// The stories the pipeline remembers are bounded for all workspaces together: past the budget,
/// the workspaces remembering the most forget their least recent stories, and the others keep
/// theirs.
#[tokio::test]
async fn remembered_stories_are_bounded_across_workspaces() {
    use relais_app::listening::Listening;
    use relais_app::listening::pipeline::PipelineConfig;
    let dir = tempfile::tempdir().unwrap();
    let clock = FakeClock::new();
    let mut app: App = test_app(None, dir.path(), clock.clock(), vec![]).await;
    let config = PipelineConfig { stories_per_workspace: 50, stories_total: 20, ..PipelineConfig::default() };
    app.listening = Arc::new(Listening::with_config(config));
    let user = app.create_user("cm@example.fr", "CM", "correct horse battery", "fr").await.unwrap();
    let actor = Actor { user: UserId(user.id), ip: None };
    let mut workspaces = Vec::new();
    for name in ["Grande", "Moyenne", "Petite"] {
        let ws = WorkspaceId(app.create_workspace(&actor, name, "UTC").await.unwrap().id);
        let query = QueryInput { name: "Marque".into(), query: "relais".into(), sensitivity: None, min_volume: None };
        app.create_listen_query(&actor, ws, &query).await.unwrap();
        workspaces.push(ws);
    }
    let (big, medium, small) = (workspaces[0], workspaces[1], workspaces[2]);
    // Story `n`'s text: words of its own, so that no two stories look alike.
    let text = |n: u64| {
        let words: Vec<String> =
            (1..=6u64).map(|k| format!("{:x}", (n * 7 + k).wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 20)).collect();
        format!("Relais {}", words.join(" "))
    };
    let now = clock.now_ms();
    let mut sent = 0;
    let mut send = |app: App, ws: WorkspaceId, stories: Vec<u64>| {
        let posts: Vec<IncomingPost> = stories
            .iter()
            .map(|&n| {
                sent += 1;
                IncomingPost {
                    source: "ingest".into(),
                    external_id: Some(format!("p{sent}")),
                    text: text(n),
                    lang: Some("fr".into()),
                    published_at: Some(now),
                    ..IncomingPost::default()
                }
            })
            .collect();
        async move { app.listen_posts(ws, posts).await.unwrap() }
    };
    send(app.clone(), big, (0..12).collect()).await;
    send(app.clone(), medium, (100..105).collect()).await;
    send(app.clone(), small, (200..202).collect()).await;
    assert_eq!(app.pipeline_stats().stories, 19, "within the budget");
    // Eight more stories in the largest: 27 > 20, so down to 18, the largest giving up the
    // most (2 + 5 kept whole, 11 for the largest).
    send(app.clone(), big, (12..20).collect()).await;
    assert_eq!(app.pipeline_stats().stories, 18);
    let story = |app: App, ws: WorkspaceId| async move {
        app.store.mentions(ws, &MentionFilter::default(), 100).await.unwrap()
    };
    let story_of = |mentions: &[relais_store::listen::MentionRecord], n: u64| {
        mentions.iter().filter(|m| m.text == text(n)).map(|m| m.story_id.unwrap()).collect::<Vec<_>>()
    };
    // A copy of each workspace's first story, and of the largest's last.
    send(app.clone(), big, vec![0, 19]).await;
    send(app.clone(), medium, vec![100]).await;
    send(app.clone(), small, vec![200]).await;
    let (b, m, s) = (story(app.clone(), big).await, story(app.clone(), medium).await, story(app.clone(), small).await);
    let first = story_of(&b, 0);
    assert!(first.len() == 2 && first[0] != first[1], "the largest forgot its least recent story: {first:?}");
    let last = story_of(&b, 19);
    assert!(last.len() == 2 && last[0] == last[1], "its recent stories are kept: {last:?}");
    for (mentions, n) in [(&m, 100), (&s, 200)] {
        let ids = story_of(mentions, n);
        assert!(ids.len() == 2 && ids[0] == ids[1], "a smaller workspace keeps its stories: {ids:?}");
    }
}

fn post(n: i64, at: i64, text: &str) -> IncomingPost {
    IncomingPost {
        source: "ingest".into(),
        external_id: Some(format!("p{n}")),
        text: format!("{text} #{n}"),
        lang: Some("fr".into()),
        published_at: Some(at),
        ..IncomingPost::default()
    }
}

#[tokio::test]
async fn sqlite_a_burst_raises_one_alert() {
    a_burst_raises_one_alert(false).await;
}

#[tokio::test]
async fn postgres_a_burst_raises_one_alert() {
    a_burst_raises_one_alert(true).await;
}

/// A Bluesky repository stream (the reference PDS's `subscribeRepos`) as a source: posts written
/// on the PDS become mentions when they match; the cursor is saved, so the next poll reads only
/// what came after.
#[tokio::test]
async fn bluesky_stream_source_reads_the_pds() {
    let Some(pds) = relais_testkit::Pds::shared() else { return };
    let dir = tempfile::tempdir().unwrap();
    let clock = FakeClock::new();
    let app: App = test_app(None, dir.path(), clock.clock(), vec![pds.host()]).await;
    let user = app.create_user("cm@example.fr", "CM", "correct horse battery", "fr").await.unwrap();
    let actor = Actor { user: UserId(user.id), ip: None };
    let ws = WorkspaceId(app.create_workspace(&actor, "Veille", "UTC").await.unwrap().id);
    let query = QueryInput { name: "Marque".into(), query: "relaisveille".into(), sensitivity: None, min_volume: None };
    app.create_listen_query(&actor, ws, &query).await.unwrap();
    let (handle, _, _) = pds.create_account("veille").await;
    let login = serde_json::json!({"identifier": handle, "password": "account-pass"});
    let (_, session) = pds.xrpc("POST", "com.atproto.server.createSession", None, login).await;
    let (did, jwt) = (session["did"].as_str().unwrap().to_owned(), session["accessJwt"].as_str().unwrap().to_owned());
    let post = |text: &str| {
        serde_json::json!({"repo": did, "collection": "app.bsky.feed.post", "record": {
            "$type": "app.bsky.feed.post", "text": text, "langs": ["fr"], "createdAt": "2026-11-22T09:00:00.000Z"}})
    };
    // Listening starts when the source is added: the stream is read from its live end.
    let spec = SourceSpec::BlueskyStream { url: pds.base() };
    let source = app.create_listen_source(&actor, ws, &spec).await.unwrap();
    let poller = SourcePoller::new(app.clone());
    assert_eq!(poller.run_once(10).await.unwrap(), 1);
    let mut first_uri = String::new();
    for text in ["RelaisVeille est en panne 😡", "Rien à voir"] {
        let (status, body) = pds.xrpc("POST", "com.atproto.repo.createRecord", Some(&jwt), post(text)).await;
        assert_eq!(status, 200, "{body}");
        if first_uri.is_empty() {
            first_uri = body["uri"].as_str().unwrap().to_owned();
        }
    }
    clock.advance(10_000);
    assert_eq!(poller.run_once(10).await.unwrap(), 1);
    let mentions = app.store.mentions(ws, &MentionFilter::default(), 100).await.unwrap();
    let ours: Vec<_> = mentions.iter().filter(|m| m.external_id.contains(&did)).collect();
    assert_eq!(ours.len(), 1, "{mentions:?}");
    assert_eq!(ours[0].source, "bluesky");
    // The stream was joined after the account's #identity event: the PDS names the author.
    assert_eq!(ours[0].author.as_deref(), Some(handle.as_str()));
    assert!(ours[0].text.contains("RelaisVeille est en panne"));
    assert_eq!(ours[0].lang, "fr");
    let polled = app.listen_sources(&actor, ws).await.unwrap().into_iter().find(|s| s.id == source.id).unwrap();
    assert!(polled.last_error.is_none(), "{polled:?}");
    // A later post, read by a new process (a new poller): it resumes from the saved cursor, stores
    // the new post, and nothing twice.
    let (status, _) =
        pds.xrpc("POST", "com.atproto.repo.createRecord", Some(&jwt), post("RelaisVeille remarche")).await;
    assert_eq!(status, 200);
    clock.advance(10_000);
    let restarted = SourcePoller::new(app.clone());
    assert_eq!(restarted.run_once(10).await.unwrap(), 1);
    let mentions = app.store.mentions(ws, &MentionFilter::default(), 100).await.unwrap();
    let ours: Vec<_> = mentions.iter().filter(|m| m.external_id.contains(&did)).collect();
    assert_eq!(ours.len(), 2, "{mentions:?}");

    // A poll reads a post, then its write is lost (the process stops before the transaction
    // commits: neither the mention nor the cursor is saved). The next poll, on the connection that
    // already read the post, must read it again.
    let saved = app.store.listen_sources(ws).await.unwrap().into_iter().find(|s| s.id == source.id).unwrap();
    let (status, body) =
        pds.xrpc("POST", "com.atproto.repo.createRecord", Some(&jwt), post("RelaisVeille encore lent")).await;
    assert_eq!(status, 200, "{body}");
    let again_uri = body["uri"].as_str().unwrap().to_owned();
    clock.advance(10_000);
    assert_eq!(restarted.run_once(10).await.unwrap(), 1);
    let lost = [again_uri.clone()];
    app.store
        .erase_mentions(ws, Erase::External { source: "bluesky", external_ids: &lost }, clock.now_ms())
        .await
        .unwrap();
    app.store.listen_source_polled(source.id, &saved.state, clock.now_ms(), None, None).await.unwrap();
    clock.advance(10_000);
    assert_eq!(restarted.run_once(10).await.unwrap(), 1);
    let mentions = app.store.mentions(ws, &MentionFilter::default(), 100).await.unwrap();
    assert!(mentions.iter().any(|m| m.external_id == again_uri), "the post read by a lost poll: {mentions:?}");
    let ours: Vec<_> = mentions.iter().filter(|m| m.external_id.contains(&did)).collect();
    assert_eq!(ours.len(), 3, "{mentions:?}");

    // The author deletes the first post on Bluesky: its mention is erased.
    let rkey = first_uri.rsplit('/').next().unwrap().to_owned();
    let delete = serde_json::json!({"repo": did, "collection": "app.bsky.feed.post", "rkey": rkey});
    let (status, body) = pds.xrpc("POST", "com.atproto.repo.deleteRecord", Some(&jwt), delete).await;
    assert_eq!(status, 200, "{body}");
    clock.advance(10_000);
    assert_eq!(restarted.run_once(10).await.unwrap(), 1);
    let mentions = app.store.mentions(ws, &MentionFilter::default(), 100).await.unwrap();
    let ours: Vec<_> = mentions.iter().filter(|m| m.external_id.contains(&did)).collect();
    assert_eq!(ours.len(), 2, "{mentions:?}");
    assert!(ours.iter().all(|m| m.external_id != first_uri), "{ours:?}");

    // The account is taken down: every mention of it is erased.
    pds.take_down(&did).await;
    clock.advance(10_000);
    assert_eq!(restarted.run_once(10).await.unwrap(), 1);
    let mentions = app.store.mentions(ws, &MentionFilter::default(), 100).await.unwrap();
    assert!(mentions.iter().all(|m| !m.external_id.contains(&did)), "{mentions:?}");
}

/// A call to the Mastodon mock's API with a user token.
async fn mastodon_api(
    mock: &relais_testkit::MastodonMock,
    method: &str,
    token: &str,
    path: &str,
    body: Value,
) -> Value {
    let http = reqwest::Client::new();
    let url = format!("{}{path}", mock.base());
    let request = match method {
        "GET" => http.get(url),
        "DELETE" => http.delete(url),
        _ => http.post(url).json(&body),
    };
    let response = request.bearer_auth(token).send().await.unwrap();
    assert!(response.status().is_success(), "{method} {path}: {}", response.status());
    response.json().await.unwrap()
}

/// A Mastodon account connected as a channel is a listening source: its home timeline (the
/// accounts it follows: here a competitor) is read with the channel's own token, and only a
/// Mastodon channel of the same workspace can be used.
#[tokio::test]
async fn mastodon_home_timeline_of_a_channel_is_read_with_its_token() {
    let Some(mock) = relais_testkit::MastodonMock::start_or_skip() else { return };
    let dir = tempfile::tempdir().unwrap();
    let clock = FakeClock::new();
    let app: App = test_app(None, dir.path(), clock.clock(), vec![mock.host()]).await;
    let user = app.create_user("cm@example.fr", "CM", "correct horse battery", "fr").await.unwrap();
    let actor = Actor { user: UserId(user.id), ip: None };
    let ws = WorkspaceId(app.create_workspace(&actor, "Veille", "UTC").await.unwrap().id);
    let other = WorkspaceId(app.create_workspace(&actor, "Autre", "UTC").await.unwrap().id);
    let query = QueryInput { name: "Concurrent".into(), query: "rivalco".into(), sensitivity: None, min_volume: None };
    app.create_listen_query(&actor, ws, &query).await.unwrap();
    let (brand, rival) = (mock.connect("brandhome").await, mock.connect("rivalhome").await);
    let me = mastodon_api(&mock, "GET", &rival, "/api/v1/accounts/verify_credentials", Value::Null).await;
    let rival_id = me["id"].as_str().unwrap().to_owned();
    mastodon_api(&mock, "POST", &brand, &format!("/api/v1/accounts/{rival_id}/follow"), serde_json::json!({})).await;
    let channel = |ws: WorkspaceId| {
        let input = relais_app::channels::ChannelInput {
            network: "mastodon".into(),
            handle: "brandhome".into(),
            instance_url: Some(mock.base()),
            credentials: serde_json::json!({ "access_token": brand }).as_object().cloned(),
            ..Default::default()
        };
        let (app, actor) = (app.clone(), actor.clone());
        async move { app.create_channel(&actor, ws, input).await.unwrap().id }
    };
    let (ours, theirs) = (channel(ws).await, channel(other).await);
    // A channel of another workspace, or one that does not exist, is refused.
    for id in [theirs, ours + 1000] {
        let spec = SourceSpec::MastodonHome { channel_id: id, interval_secs: None };
        let err = app.create_listen_source(&actor, ws, &spec).await.unwrap_err();
        assert_eq!(err.code, "invalid_source", "{err:?}");
    }
    let bad_list = SourceSpec::MastodonList { channel_id: ours, list_id: "../admin".into(), interval_secs: None };
    assert_eq!(app.create_listen_source(&actor, ws, &bad_list).await.unwrap_err().code, "invalid_source");
    // The channel's token is never sent to another server than its own.
    let elsewhere = SourceSpec::MastodonTag {
        instance: "https://elsewhere.example".into(),
        tag: "rivalco".into(),
        interval_secs: None,
        channel_id: Some(ours),
    };
    assert_eq!(app.create_listen_source(&actor, ws, &elsewhere).await.unwrap_err().code, "invalid_source");
    assert!(app.listen_sources(&actor, ws).await.unwrap().is_empty());

    let spec = SourceSpec::MastodonHome { channel_id: ours, interval_secs: None };
    let source = app.create_listen_source(&actor, ws, &spec).await.unwrap();
    assert_eq!(source.kind, "mastodon_home");
    let status = serde_json::json!({ "status": "RivalCo lance une nouvelle offre", "visibility": "unlisted" });
    mastodon_api(&mock, "POST", &rival, "/api/v1/statuses", status).await;
    // The mock dates the status with the real time: the application's clock must not be behind
    // it, or the post would be refused as coming from the future.
    clock.advance((jiff::Timestamp::now().as_millisecond() - clock.now_ms()).max(0));
    let poller = SourcePoller::new(app.clone());
    assert_eq!(poller.run_once(10).await.unwrap(), 1);
    let mentions = app.store.mentions(ws, &MentionFilter::default(), 100).await.unwrap();
    assert_eq!(mentions.len(), 1, "{mentions:?}");
    assert!(mentions[0].text.contains("RivalCo lance"), "{mentions:?}");
    assert_eq!(mentions[0].source, "mastodon");
    let polled = app.listen_sources(&actor, ws).await.unwrap().into_iter().find(|s| s.id == source.id).unwrap();
    assert!(polled.last_error.is_none(), "{polled:?}");

    // A hashtag timeline read with the channel's token, on its own server.
    let tag = SourceSpec::MastodonTag {
        instance: format!("{}/", mock.base()),
        tag: "#RivalCo".into(),
        interval_secs: None,
        channel_id: Some(ours),
    };
    let tag = app.create_listen_source(&actor, ws, &tag).await.unwrap();
    let status = serde_json::json!({ "status": "Promo RivalCo ce week-end #RivalCo", "visibility": "public" });
    mastodon_api(&mock, "POST", &rival, "/api/v1/statuses", status).await;
    assert_eq!(poller.run_once(10).await.unwrap(), 1);
    let mentions = app.store.mentions(ws, &MentionFilter::default(), 100).await.unwrap();
    assert!(mentions.iter().any(|m| m.text.contains("Promo RivalCo")), "{mentions:?}");
    let polled = app.listen_sources(&actor, ws).await.unwrap().into_iter().find(|s| s.id == tag.id).unwrap();
    assert!(polled.last_error.is_none(), "{polled:?}");

    // The timelines' streams are open now: a status posted between two polls is read seconds
    // later, long before the next poll is due (two minutes).
    let status = serde_json::json!({ "status": "RivalCo en direct #RivalCo", "visibility": "public" });
    let live = mastodon_api(&mock, "POST", &rival, "/api/v1/statuses", status).await;
    let mut streamed = false;
    for _ in 0..10 {
        clock.advance(6_000);
        poller.run_once(10).await.unwrap();
        let mentions = app.store.mentions(ws, &MentionFilter::default(), 100).await.unwrap();
        if mentions.iter().any(|m| m.text.contains("RivalCo en direct")) {
            streamed = true;
            break;
        }
    }
    assert!(streamed, "the status came through a stream");
    // Deleted by its author: the stream says so, and the mention is erased.
    let live_id = live["id"].as_str().unwrap().to_owned();
    mastodon_api(&mock, "DELETE", &rival, &format!("/api/v1/statuses/{live_id}"), Value::Null).await;
    let mut erased = false;
    for _ in 0..10 {
        clock.advance(6_000);
        poller.run_once(10).await.unwrap();
        let mentions = app.store.mentions(ws, &MentionFilter::default(), 100).await.unwrap();
        if !mentions.iter().any(|m| m.text.contains("RivalCo en direct")) {
            erased = true;
            break;
        }
    }
    assert!(erased, "the deleted status's mention is erased");

    // The channel is removed: the sources say so (in both languages) instead of reading anonymously.
    app.delete_channel(&actor, ws, relais_domain::ids::ChannelId(ours)).await.unwrap();
    clock.advance(3_600_000);
    assert_eq!(poller.run_once(10).await.unwrap(), 2);
    let polled = app.listen_sources(&actor, ws).await.unwrap().into_iter().find(|s| s.id == source.id).unwrap();
    let error = polled.last_error.unwrap_or_default();
    assert!(error.contains("plus un compte Mastodon") && error.contains("no longer"), "{error}");
    let polled = app.listen_sources(&actor, ws).await.unwrap().into_iter().find(|s| s.id == tag.id).unwrap();
    assert!(polled.last_error.is_some_and(|e| e.contains("no longer")), "the hashtag source read anonymously");
}
