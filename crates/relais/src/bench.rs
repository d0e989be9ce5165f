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
