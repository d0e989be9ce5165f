//! `relais bench …`: measurements whose results are recorded in BENCHMARKS.md.
#![allow(clippy::print_stdout)]

use anyhow::{Context, bail};
use std::process::Stdio;
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};

/// Launches this very binary's `serve` on `data_dir` and returns the time until `/healthz`
/// answers 200.
async fn one_start(data_dir: &std::path::Path) -> anyhow::Result<Duration> {
    let exe = std::env::current_exe()?;
    let started = Instant::now();
    let mut child = tokio::process::Command::new(exe)
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(data_dir)
        .env_remove("RELAIS_DATABASE_URL")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()?;
    let stdout = child.stdout.take().context("no stdout")?;
    let mut lines = BufReader::new(stdout).lines();
    let addr = loop {
        let line = lines.next_line().await?.context("the server exited before listening")?;
        if let Some(rest) = line.strip_prefix("Relais listens on http://") {
            break rest.split_whitespace().next().unwrap_or_default().to_owned();
        }
    };
    loop {
        if healthy(&addr).await {
            break;
        }
        if started.elapsed() > Duration::from_secs(30) {
            bail!("/healthz did not answer within 30 s");
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let elapsed = started.elapsed();
    child.kill().await?;
    Ok(elapsed)
}

async fn healthy(addr: &str) -> bool {
    let Ok(mut stream) = tokio::net::TcpStream::connect(addr).await else { return false };
    let request = format!("GET /healthz HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    if stream.write_all(request.as_bytes()).await.is_err() {
        return false;
    }
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer).await;
    answer.starts_with(b"HTTP/1.1 200")
}

fn summary(label: &str, mut times: Vec<Duration>) {
    times.sort();
    let pick = |q: f64| times[((times.len() as f64 - 1.0) * q).round() as usize];
    println!(
        "{label:<28} runs {:>3}  median {:>7.1} ms  p95 {:>7.1} ms  max {:>7.1} ms",
        times.len(),
        pick(0.5).as_secs_f64() * 1e3,
        pick(0.95).as_secs_f64() * 1e3,
        pick(1.0).as_secs_f64() * 1e3
    );
}

/// `relais bench startup`.
pub async fn startup(runs: usize) -> anyhow::Result<()> {
    if runs == 0 {
        bail!("--runs must be at least 1");
    }
    let mut first = Vec::with_capacity(runs);
    let mut again = Vec::with_capacity(runs);
    for _ in 0..runs {
        let dir = std::env::temp_dir().join(format!("relais-bench-{:016x}", rand::random::<u64>()));
        first.push(one_start(&dir).await?);
        again.push(one_start(&dir).await?);
        let _ = std::fs::remove_dir_all(&dir);
    }
    println!("start until /healthz answers (SQLite, launch included):");
    summary("first start (empty dir)", first);
    summary("restart (existing data)", again);
    Ok(())
}

/// The network stand-in of `bench publish`: answers at once and records when each post was
/// handed over; the text carries the due time.
struct StandIn {
    handed: std::sync::Mutex<Vec<(i64, i64)>>,
}

#[async_trait::async_trait]
impl relais_networks::Network for StandIn {
    fn id(&self) -> relais_domain::Network {
        relais_domain::Network::X
    }
    fn capabilities(&self) -> relais_networks::Capabilities {
        relais_networks::Capabilities { threads: true, delete: true, lookup_by_key: true }
    }
    async fn publish(
        &self,
        _: &relais_networks::Account,
        post: &relais_networks::OutPost,
    ) -> Result<relais_networks::Published, relais_networks::NetError> {
        let now = jiff::Timestamp::now().as_millisecond();
        let due: i64 = post.text.rsplit(' ').next().and_then(|d| d.parse().ok()).unwrap_or(now);
        let mut handed = self.handed.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        handed.push((due, now));
        let id = handed.len().to_string();
        Ok(relais_networks::Published { remote: relais_networks::RemoteRef { id, cid: None, url: None } })
    }
    async fn lookup(
        &self,
        _: &relais_networks::Account,
        _: &str,
        _: &str,
    ) -> Result<Option<relais_networks::Published>, relais_networks::NetError> {
        Ok(None)
    }
    async fn delete(
        &self,
        _: &relais_networks::Account,
        _: &relais_networks::RemoteRef,
    ) -> Result<(), relais_networks::NetError> {
        Ok(())
    }
    async fn refresh(
        &self,
        _: &relais_networks::Account,
    ) -> Result<Option<serde_json::Value>, relais_networks::NetError> {
        Ok(None)
    }
    async fn metrics(
        &self,
        _: &relais_networks::Account,
        _: &relais_networks::RemoteRef,
    ) -> Result<serde_json::Value, relais_networks::NetError> {
        Ok(serde_json::json!({}))
    }
}

/// `relais bench publish`.
pub async fn publish(posts: usize, workers: usize, spread_secs: u64, postgres: Option<String>) -> anyhow::Result<()> {
    use relais_app::{Actor, App};
    use relais_domain::ids::{UserId, WorkspaceId};
    let dir = std::env::temp_dir().join(format!("relais-bench-{:016x}", rand::random::<u64>()));
    std::fs::create_dir_all(&dir)?;
    let store = relais_store::testing::fresh_store(postgres.as_deref(), &dir).await?;
    let backend = format!("{:?}", store.backend());
    let app = App {
        store,
        secrets: std::sync::Arc::new(relais_app::crypto::SecretBox::new(&rand::random::<[u8; 32]>())),
        media_dir: dir.join("media"),
        clock: relais_app::system_clock(),
        http: relais_networks::GuardedClient::new(vec![]),
        login_failures: Default::default(),
        listening: Default::default(),
    };
    let user = app.create_user("bench@relais.localhost", "Bench", "bench bench bench", "en").await?;
    let actor = Actor { user: UserId(user.id), ip: None };
    let ws = WorkspaceId(app.create_workspace(&actor, "Bench", "UTC").await?.id);
    let input =
        relais_app::channels::ChannelInput { network: "x".into(), handle: "bench".into(), ..Default::default() };
    let channel = app.create_channel(&actor, ws, input).await?.id;
    // Due times start 10 s from now (time to insert), spread over the window.
    let first_due = jiff::Timestamp::now().as_millisecond() + 10_000 + (posts as i64) / 2;
    let spread_ms = i64::try_from(spread_secs * 1000)?;
    let writes: Vec<relais_store::posts::PostWrite> = (0..posts)
        .map(|i| {
            let due = first_due + if posts > 1 { spread_ms * i as i64 / (posts as i64 - 1) } else { 0 };
            relais_store::posts::PostWrite {
                workspace: ws,
                author: actor.user,
                status: "scheduled".into(),
                body: serde_json::json!({ "text": format!("bench {due}") }).to_string(),
                due_at: Some(due),
                local_time: None,
                timezone: "UTC".into(),
                queue_channel: None,
                evergreen_secs: None,
                targets: vec![relais_store::posts::TargetRecord { channel_id: channel, variant: None }],
                media: Vec::new(),
                now: jiff::Timestamp::now().as_millisecond(),
            }
        })
        .collect();
    for chunk in writes.chunks(1000) {
        app.store.create_posts(chunk).await?;
    }
    let wait = first_due - jiff::Timestamp::now().as_millisecond();
    if wait < 0 {
        bail!("inserting the posts took longer than planned; use fewer posts");
    }
    let stand_in = std::sync::Arc::new(StandIn { handed: std::sync::Mutex::new(Vec::with_capacity(posts)) });
    let mut tasks = Vec::new();
    for w in 0..workers {
        let mut publisher = relais_app::publisher::Publisher::new(app.clone(), format!("bench-{w}"));
        publisher.registry = relais_app::publisher::Registry::default().with(stand_in.clone());
        tasks.push(tokio::spawn(crate::commands::run_publisher(publisher)));
    }
    let deadline = Instant::now() + Duration::from_millis(u64::try_from(wait)? + spread_ms as u64 + 120_000);
    loop {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let done = stand_in.handed.lock().unwrap_or_else(std::sync::PoisonError::into_inner).len();
        if done >= posts || Instant::now() > deadline {
            break;
        }
    }
    for t in &tasks {
        t.abort();
    }
    let handed = stand_in.handed.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone();
    if handed.len() != posts {
        bail!("only {} of {posts} posts were handed over", handed.len());
    }
    let mut late: Vec<i64> = handed.iter().map(|(due, at)| at - due).collect();
    late.sort_unstable();
    let pick = |q: f64| late[((late.len() as f64 - 1.0) * q).round() as usize];
    let last = handed.iter().map(|(_, at)| *at).max().unwrap_or(first_due);
    let first = handed.iter().map(|(_, at)| *at).min().unwrap_or(first_due);
    let last_due = first_due + spread_ms;
    println!(
        "{backend}: {posts} posts due over {spread_secs} s, {workers} workers: all handed over {:.2} s after the last due time; \
         dispatch {:.0} posts/s; lateness median {} ms, p99 {} ms, max {} ms",
        (last - last_due) as f64 / 1000.0,
        posts as f64 / (((last - first).max(1)) as f64 / 1000.0),
        pick(0.5),
        pick(0.99),
        pick(1.0)
    );
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
