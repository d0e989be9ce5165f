//! The crash test: 200 scheduled posts (some of them threads) go to the reference AT Protocol
//! PDS while the `relais worker` process is killed with SIGKILL at random moments and restarted,
//! 20 times over. At the end every post exists on the PDS exactly once and every thread is
//! complete and in order.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use relais_app::{Actor, App};
use relais_domain::ids::{UserId, WorkspaceId};
use relais_testkit::Pds;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

const POSTS: usize = 200;
/// Every fifth post is a thread of three parts.
const THREAD_EVERY: usize = 5;
const KILLS: usize = 20;

fn worker(dir: &std::path::Path, key: &str, pds: &Pds, database_url: &Option<String>) -> std::process::Child {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_relais"));
    cmd.env_remove("RELAIS_DATABASE_URL");
    if let Some(url) = database_url {
        cmd.env("RELAIS_DATABASE_URL", url);
    }
    cmd.args(["worker", "--lease-secs", "2", "--allow-host", &pds.host(), "--data-dir"])
        .arg(dir)
        .env("RELAIS_SECRET_KEY", key)
        .env("RELAIS_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn sigkill_twenty_times_and_every_post_is_on_the_pds_exactly_once() {
    scenario(None, 1, "crashlite").await;
}

/// Several `relais worker` processes sharing one PostgreSQL database, killed and restarted.
#[tokio::test(flavor = "multi_thread")]
async fn two_workers_on_postgres_killed_twenty_times_publish_exactly_once() {
    let Some(admin) = relais_testkit::app::postgres_or_skip(true, "the crash test") else { return };
    let url = relais_store::testing::fresh_postgres_url(&admin.unwrap_or_default()).await.unwrap();
    scenario(Some(url), 2, "crashpg").await;
}

/// `workers` worker processes run at once; each round kills them all at a random moment.
async fn scenario(database_url: Option<String>, workers: usize, name: &str) {
    let Some(pds) = Pds::shared() else { return };
    let (handle, did, password) = pds.create_account(name).await;
    let dir = tempfile::tempdir().unwrap();
    let key = {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD.encode(rand::random::<[u8; 32]>())
    };
    let url =
        database_url.clone().unwrap_or_else(|| format!("sqlite://{}?mode=rwc", dir.path().join("relais.db").display()));
    let store = relais_store::Store::connect(&url).await.unwrap();
    store.migrate().await.unwrap();
    let app = App {
        store,
        secrets: Arc::new(relais_app::crypto::SecretBox::from_base64(&key).unwrap()),
        media_dir: dir.path().join("media"),
        clock: relais_app::system_clock(),
        http: relais_networks::GuardedClient::new(vec![pds.host()]),
        login_failures: Default::default(),
        listening: Default::default(),
    };
    let user = app.create_user("crash@example.fr", "Crash", "correct horse battery", "fr").await.unwrap();
    let actor = Actor { user: UserId(user.id), ip: None };
    let ws = WorkspaceId(app.create_workspace(&actor, "Crash", "UTC").await.unwrap().id);
    let input = relais_app::channels::ChannelInput {
        network: "bluesky".into(),
        handle: handle.clone(),
        instance_url: Some(pds.base()),
        credentials: Some(serde_json::from_value(json!({ "app_password": password })).unwrap()),
        ..Default::default()
    };
    let channel = app.create_channel(&actor, ws, input).await.unwrap().id;
    // Due over about 15 seconds, starting 3 seconds from now.
    let start = jiff::Timestamp::now() + jiff::SignedDuration::from_secs(3);
    let mut expected: Vec<Vec<String>> = Vec::new();
    for i in 0..POSTS {
        let due = start + jiff::SignedDuration::from_millis(75 * i as i64);
        let local = due.to_zoned(jiff::tz::TimeZone::UTC).datetime().to_string();
        let parts: Vec<String> = if i % THREAD_EVERY == 0 {
            (0..3).map(|k| format!("crash {i} part {k}")).collect()
        } else {
            vec![format!("crash {i}")]
        };
        let input: relais_app::posts::PostInput = serde_json::from_value(json!({
            "text": parts[0],
            "thread": parts[1..],
            "channels": [{ "channel_id": channel }],
            "schedule": { "at": { "local": local } }
        }))
        .unwrap();
        app.create_post(&actor, ws, input).await.unwrap();
        expected.push(parts);
    }

    // Kill the worker at random moments, 20 times.
    for _ in 0..KILLS {
        let mut children: Vec<_> = (0..workers).map(|_| worker(dir.path(), &key, pds, &database_url)).collect();
        tokio::time::sleep(Duration::from_millis(200 + rand::random::<u64>() % 1300)).await;
        for child in &mut children {
            child.kill().unwrap(); // SIGKILL
            child.wait().unwrap();
        }
    }
    // Then let one worker finish.
    let mut child = worker(dir.path(), &key, pds, &database_url);
    let deadline = Instant::now() + Duration::from_secs(300);
    let filter = || relais_store::posts::PostFilter { limit: 1000, ..Default::default() };
    loop {
        let posts = app.calendar(&actor, ws, filter()).await.unwrap();
        if posts.iter().all(|p| p.status == "published") || Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let posts = app.calendar(&actor, ws, filter()).await.unwrap();
    let mut unpublished = Vec::new();
    for p in posts.iter().filter(|p| p.status != "published") {
        let log = app.publish_log(&actor, ws, relais_domain::ids::PostId(p.id)).await.unwrap();
        unpublished.push((p.id, p.status.clone(), log));
    }
    assert!(unpublished.is_empty(), "not published, with their logs: {unpublished:#?}");

    // On the PDS: every text exactly once, threads complete and in order.
    let records = pds.list_records(&did).await;
    let mut by_text: HashMap<String, Vec<&Value>> = HashMap::new();
    for r in &records {
        by_text.entry(r["value"]["text"].as_str().unwrap().to_owned()).or_default().push(r);
    }
    let total: usize = expected.iter().map(Vec::len).sum();
    assert_eq!(records.len(), total, "{} records for {total} parts", records.len());
    for parts in &expected {
        let found: Vec<&Value> = parts
            .iter()
            .map(|t| {
                let copies = by_text.get(t).map_or(0, Vec::len);
                assert_eq!(copies, 1, "`{t}` is on the PDS {copies} times");
                by_text[t][0]
            })
            .collect();
        for k in 1..found.len() {
            let reply = &found[k]["value"]["reply"];
            assert_eq!(reply["root"]["uri"], found[0]["uri"], "thread root of `{}`", parts[k]);
            assert_eq!(reply["parent"]["uri"], found[k - 1]["uri"], "thread parent of `{}`", parts[k]);
        }
    }
    let log_outcomes: usize = {
        let mut n = 0;
        for p in &posts {
            n += app
                .publish_log(&actor, ws, relais_domain::ids::PostId(p.id))
                .await
                .unwrap()
                .attempts
                .iter()
                .filter(|a| a.outcome == "reconciled")
                .count();
        }
        n
    };
    eprintln!("crash test: {} records, {KILLS} kills, {log_outcomes} parts reconciled after a kill", records.len());
}
