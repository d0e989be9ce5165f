//! `relais bench listen-pipeline`: the listening pipeline end to end (issue 4 §7): posts in, then
//! language and sentiment, matching against the workspace's stored queries, near-duplicate
//! stories, and storage (mentions, their queries, the series) in embedded SQLite (or PostgreSQL).
//!
//! Several submitters generate posts on the fly (the generated corpus of relais-listen: short
//! French and English posts about brands) and push them as fast as the pipeline takes them, so the
//! pipeline runs overloaded the whole time: the figures are its sustained throughput, and the
//! memory and lag it keeps under that overload (bounded by its capacity).
#![allow(clippy::print_stdout)]

use relais_app::listening::Listening;
use relais_app::listening::pipeline::PipelineConfig;
use relais_app::{Actor, App};
use relais_domain::ids::{UserId, WorkspaceId};
use relais_domain::listen::IncomingPost;
use relais_listen::corpus::{self, Rng};
use relais_store::listen::QueryFields;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// Options of the benchmark (`relais bench listen-pipeline`).
#[derive(Debug, Clone, clap::Args)]
pub struct PipelineBench {
    /// Posts to send.
    #[arg(long, default_value_t = 1_000_000)]
    pub posts: usize,
    /// Stored queries.
    #[arg(long, default_value_t = 1_000)]
    pub queries: usize,
    /// Brands the posts and queries are about (fewer brands: more posts match).
    #[arg(long, default_value_t = 20_000)]
    pub brands: usize,
    /// Concurrent submitters.
    #[arg(long, default_value_t = 8)]
    pub submitters: usize,
    /// Posts per submission.
    #[arg(long, default_value_t = 5_000)]
    pub chunk: usize,
    /// The pipeline's capacity (most posts accepted and not yet stored).
    #[arg(long, default_value_t = 50_000)]
    pub capacity: usize,
    /// A PostgreSQL server to run on (a fresh database is created on it); SQLite otherwise.
    #[arg(long)]
    pub postgres: Option<String>,
    /// Also keep the search index behind the mentions while it runs (as `serve` does), and
    /// report how far behind it is at the end and how long it takes to catch up.
    #[arg(long)]
    pub index: bool,
    /// Offer posts at this rate (posts per second, all submitters together) instead of as fast
    /// as the pipeline takes them: whether a steady load is sustained, index included.
    #[arg(long)]
    pub rate: Option<u64>,
    /// Send each submission as clients of the ingest endpoint do: the submitter encodes its posts
    /// as NDJSON, and they are read back and checked as the endpoint reads and checks them
    /// (`parse_posts`, then `App::ingest`; the HTTP layer aside), in the same process.
    #[arg(long)]
    pub json: bool,
}

/// Runs the benchmark and prints its figures.
pub async fn run(opts: PipelineBench) -> anyhow::Result<()> {
    let max = relais_app::listening::MAX_POSTS_PER_REQUEST;
    anyhow::ensure!(
        !opts.json || opts.chunk <= max,
        "with --json, --chunk is at most {max} (the ingest endpoint's limit)"
    );
    // Removed when dropped, however the run ends.
    let dir = tempfile::Builder::new().prefix("relais-bench-listen-").tempdir()?;
    let store = relais_store::testing::fresh_store(opts.postgres.as_deref(), dir.path()).await?;
    let backend = format!("{:?}", store.backend());
    let config = PipelineConfig { capacity: opts.capacity, ..PipelineConfig::default() };
    let app = App {
        store,
        secrets: Arc::new(relais_app::crypto::SecretBox::new(&rand::random::<[u8; 32]>())),
        media_dir: dir.path().join("media"),
        clock: relais_app::system_clock(),
        http: relais_networks::GuardedClient::new(vec![]),
        login_failures: Default::default(),
        listening: Arc::new(if opts.index {
            Listening::with_config(config).index_in(dir.path().join("index"))
        } else {
            Listening::with_config(config)
        }),
    };
    let user = app.create_user("bench@relais.localhost", "Bench", "bench bench bench", "en").await?;
    let actor = Actor { user: UserId(user.id), ip: None };
    let ws = WorkspaceId(app.create_workspace(&actor, "Bench", "UTC").await?.id);
    let mut rng = Rng::new(0x005E_1A15);
    let brands = corpus::brands(opts.brands, &mut rng);
    let now = jiff::Timestamp::now().as_millisecond();
    for (i, q) in corpus::queries(opts.queries, &brands, &mut rng).iter().enumerate() {
        let name = format!("q{i}");
        let fields = QueryFields { name: &name, query: q, sensitivity: "medium", min_volume: 10 };
        app.store.create_listen_query(ws, &fields, Some(user.id), now).await?;
    }
    app.compiled_queries(ws).await?;
    let _ = app.listening.enricher();
    let rss_start = Rss::now();
    let mut offered = opts.rate.map_or_else(|| "as fast as taken".to_owned(), |r| format!("offered at {r} posts/s"));
    if opts.json {
        offered.push_str(" as NDJSON read and checked as the ingest endpoint does");
    }
    println!(
        "{backend}, {} posts {offered}, {} queries over {} brands, {} submitters × {} posts, capacity {} posts, {} cores",
        opts.posts,
        opts.queries,
        opts.brands,
        opts.submitters,
        opts.chunk,
        opts.capacity,
        std::thread::available_parallelism().map_or(1, |n| n.get()),
    );

    // Sample memory and lag while it runs.
    let running = Arc::new(AtomicBool::new(true));
    let sampler = {
        let (app, running) = (app.clone(), running.clone());
        tokio::spawn(async move {
            let (mut rss, mut lag, mut in_flight) = (Rss::default(), 0u64, 0u64);
            while running.load(Ordering::Relaxed) {
                let s = app.pipeline_stats();
                rss = rss.max(Rss::now());
                lag = lag.max(s.lag_ms);
                in_flight = in_flight.max(s.in_flight);
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            (rss, lag, in_flight)
        })
    };
    // The search index follows the mentions, as in `relais serve`.
    let indexer = opts.index.then(|| {
        let (app, running) = (app.clone(), running.clone());
        tokio::spawn(async move {
            // `relais serve`'s indexing loop: passes until caught up, then a wait for new
            // mentions (at most a second; here 100 ms, to see the end of the posts sooner).
            let mut indexed = 0usize;
            while running.load(Ordering::Relaxed) {
                indexed += app.index_until_caught_up().await.map_err(|e| anyhow::anyhow!("indexing: {e}"))?;
                app.wait_for_new_mentions(Duration::from_millis(100)).await;
            }
            anyhow::Ok(indexed)
        })
    });
    let (started, cpu_start) = (Instant::now(), cpu_secs());
    let per = opts.posts.div_ceil(opts.submitters.max(1));
    let mut tasks = Vec::new();
    for s in 0..opts.submitters.max(1) {
        let (app, brands, chunk) = (app.clone(), brands.clone(), opts.chunk.max(1));
        let (rate, submitters) = (opts.rate.filter(|r| *r > 0), opts.submitters.max(1));
        let (json, actor) = (opts.json, actor.clone());
        let started = tokio::time::Instant::from_std(started);
        let count = per.min(opts.posts.saturating_sub(s * per));
        tasks.push(tokio::spawn(async move {
            let mut rng = Rng::new(0xB0B0 + s as u64);
            let mut report = relais_app::listening::pipeline::IngestReport::default();
            let mut sent = 0;
            while sent < count {
                if let Some(rate) = rate {
                    // This submitter's share of the rate: its next chunk is due when the posts
                    // already sent are.
                    let share = rate as f64 / submitters as f64;
                    tokio::time::sleep_until(started + Duration::from_secs_f64(sent as f64 / share)).await;
                }
                let n = chunk.min(count - sent);
                let posts: Vec<IncomingPost> = corpus::posts(n, &brands, &mut rng)
                    .into_iter()
                    .enumerate()
                    .map(|(i, p)| IncomingPost {
                        source: p.source.to_owned(),
                        external_id: Some(format!("{s}-{}", sent + i)),
                        url: p.domain.map(|d| format!("https://{d}/a/{}", sent + i)),
                        author: Some(p.author),
                        title: p.title,
                        text: p.text,
                        lang: (i % 2 == 0).then(|| p.lang.to_owned()),
                        published_at: Some(now - 86_400_000 + ((sent + i) as i64 * 37) % 86_400_000),
                    })
                    .collect();
                sent += n;
                let stored = if json {
                    let mut body = Vec::with_capacity(posts.len() * 256);
                    for post in &posts {
                        serde_json::to_writer(&mut body, post)?;
                        body.push(b'\n');
                    }
                    drop(posts);
                    let posts = relais_web::api::parse_posts("application/x-ndjson", &body)
                        .map_err(|e| anyhow::anyhow!("reading the posts: {e} {:?}", e.problems))?;
                    app.ingest(&actor, ws, posts).await.map_err(|e| anyhow::anyhow!("ingest: {e} {:?}", e.problems))?
                } else {
                    app.listen_posts(ws, posts).await?
                };
                report.add(&stored);
            }
            anyhow::Ok(report)
        }));
    }
    let mut total = relais_app::listening::pipeline::IngestReport::default();
    for t in tasks {
        total.add(&t.await??);
    }
    let elapsed = started.elapsed();
    let mut cpu_end = cpu_secs();
    running.store(false, Ordering::Relaxed);
    let (rss_peak, lag_max, in_flight_max) = sampler.await?;
    // One more sample: a short run may end before the sampler's first.
    let rss_peak = rss_peak.max(Rss::now());
    let index_report = match indexer {
        Some(task) => {
            let during = task.await??;
            let behind = app.store.mention_count(ws).await? - during as i64;
            let catch_up = Instant::now();
            let after = app.index_until_caught_up().await.map_err(|e| anyhow::anyhow!("indexing: {e}"))?;
            let took = catch_up.elapsed();
            let searchable = started.elapsed();
            cpu_end = cpu_secs();
            app.close_index_writer().await.map_err(|e| anyhow::anyhow!("closing the index: {e}"))?;
            Some((during, behind, after, took, searchable))
        }
        None => None,
    };
    let cpu = cpu_end.zip(cpu_start).map(|((user, system), (user0, system0))| (user - user0, system - system0));
    let stats = app.pipeline_stats();
    let stored = app.store.mention_count(ws).await?;
    let secs = elapsed.as_secs_f64();
    println!(
        "{} posts in {secs:.2} s: {:.0} posts/s; {} stored ({:.0} mentions/s, {:.1} % matched), {} duplicates",
        total.received,
        total.received as f64 / secs,
        total.stored,
        total.stored as f64 / secs,
        100.0 * (total.stored + total.duplicates) as f64 / total.received.max(1) as f64,
        total.duplicates,
    );
    println!(
        "write transactions: {} (mean {:.0} mentions each); rows in the database: {stored}",
        stats.batches,
        total.stored as f64 / stats.batches.max(1) as f64
    );
    println!(
        "under overload: most posts in flight {in_flight_max} (capacity {}), worst lag {lag_max} ms, \
         RSS {} MB before, peak {} MB (heap peak {} MB, mapped files peak {} MB)",
        opts.capacity,
        rss_start.total / 1024,
        rss_peak.total / 1024,
        rss_peak.anon / 1024,
        rss_peak.file / 1024,
    );
    if let Some((during, behind, after, took, searchable)) = index_report {
        println!(
            "search index: {during} mentions indexed by the indexing loop ({:.0}/s of posting), {behind} left \
             when it stopped, caught up in {:.2} s ({:.0}/s)",
            during as f64 / secs,
            took.as_secs_f64(),
            after as f64 / took.as_secs_f64().max(1e-9),
        );
        println!(
            "stored and searchable: every post {:.2} s after the start, {:.0} posts/s; {} mentions read back \
             from the database (not handed over)",
            searchable.as_secs_f64(),
            total.received as f64 / searchable.as_secs_f64(),
            app.index_handoff_dropped(),
        );
    }
    if let Some((user, system)) = cpu {
        // Closer to the work done than wall time, which also counts the cores left idle (CPU time
        // too moves with a shared host's speed, less so).
        println!(
            "CPU, every thread, from the first post until every post {}: {user:.2} s user + {system:.2} s \
             system, {:.1} µs per post",
            if opts.index { "searchable" } else { "stored" },
            (user + system) * 1e6 / total.received.max(1) as f64
        );
    }
    anyhow::ensure!(
        stored as u64 == total.stored,
        "the database holds {stored} mentions, {} were reported",
        total.stored
    );
    anyhow::ensure!(in_flight_max <= opts.capacity as u64, "more posts in flight than the capacity");
    app.store.close().await;
    Ok(())
}

/// The CPU time of this process so far, every thread, user and system, in seconds (Linux:
/// `/proc/self/stat`, whose clock ticks are `USER_HZ`: 100 a second on x86 and ARM, which this
/// benchmark assumes); `None` elsewhere.
fn cpu_secs() -> Option<(f64, f64)> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // After the command name (in parentheses, which may hold spaces): state, then utime and stime
    // as the 12th and 13th fields.
    let mut fields = stat.get(stat.rfind(')')? + 1..)?.split_whitespace().skip(11);
    let mut ticks = || fields.next()?.parse::<u64>().ok();
    let (user, system) = (ticks()?, ticks()?);
    Some((user as f64 / 100.0, system as f64 / 100.0))
}

/// Resident memory of this process in KiB (Linux; 0 elsewhere), and its two parts that matter
/// here: anonymous memory (the heap, with what mimalloc has freed and not yet given back, and the
/// threads' stacks), which the process holds, and the pages of mapped files (mostly tantivy's
/// segments, read through `mmap`; the binary's own pages too), which the kernel can drop and read
/// again.
#[derive(Debug, Clone, Copy, Default)]
struct Rss {
    total: u64,
    anon: u64,
    file: u64,
}

impl Rss {
    fn now() -> Rss {
        let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
        let field = |name: &str| {
            status.lines().find_map(|l| l.strip_prefix(name)?.split_whitespace().next()?.parse().ok()).unwrap_or(0)
        };
        Rss { total: field("VmRSS:"), anon: field("RssAnon:"), file: field("RssFile:") }
    }

    /// Each part's peak (they need not peak at the same time).
    fn max(self, other: Rss) -> Rss {
        Rss { total: self.total.max(other.total), anon: self.anon.max(other.anon), file: self.file.max(other.file) }
    }
}
