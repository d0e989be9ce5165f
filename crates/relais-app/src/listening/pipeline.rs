//! The listening pipeline: posts in, then enrich, match, group near-duplicates, store.
//!
//! ```text
//! submit ──(semaphore: at most `capacity` posts in flight)──▶ jobs (bounded channel)
//!   ▶ analysis (one spawn_blocking per job, as many jobs at once as there are cores: language,
//!     sentiment, matcher, near-duplicate sketch)
//!   ▶ grouping (in job order, one at a time: each matched post joins or starts a story)
//!   ▶ prepared (bounded channel) ▶ writer (coalesces jobs into one transaction of up to
//!     `max_batch` mentions) ▶ each job's submitter is answered
//! ```
//!
//! Analysis is independent from post to post, so it runs in parallel; grouping keeps state per
//! workspace (the stories), so it runs in order, and is cheap since the sketches are ready.
//!
//! **Backpressure, never loss.** A submitter waits for room (permits of a semaphore sized in posts)
//! before its posts enter the pipeline, so memory is bounded by `capacity` posts whatever the
//! load; the wait is the backpressure the HTTP client or the source poller feels. A submission is
//! answered only once its posts are committed to the database: "accepted" means stored (or
//! deliberately skipped: unmatched, or already stored), so a crash can lose nothing that was
//! acknowledged. A submitter that goes away does not cancel posts already queued: they are
//! processed all the same. [`PipelineStats`] reports the lag (posts waiting and the age of the
//! oldest).
//!
//! Search indexing is not in this path: the index follows the mention table by id (see
//! `App::index_pending`), so it can always be rebuilt. The writer hands each committed batch over
//! to it, so that it need not read the batch back; when the hand-off is full and an indexer asked
//! for batches in the last 10 s, the writer waits for room (`search::Handoff`), and so do the
//! submitters behind it: under a burst the pipeline takes posts at the index's pace. A stuck
//! indexer holds the writer up for about ten seconds, then the writer drops what it would hand
//! over (the indexer reads it from the database) and waits no more.

use super::search::Handoff;
use super::{Compiled, PostPrepared};
use futures_util::StreamExt;
use relais_domain::listen::IncomingPost;
use relais_listen::enrich::Enricher;
use relais_listen::enrich::dedup::{Sketch, Stories, StoriesConfig};
use relais_store::Store;
use relais_store::listen::{InsertedMentions, NewMention};
use std::collections::BTreeMap;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc, oneshot};

/// Sizes of the pipeline.
#[derive(Debug, Clone, Copy)]
pub struct PipelineConfig {
    /// Most posts accepted and not yet stored (the memory bound).
    pub capacity: usize,
    /// Posts per job (a submission is cut into jobs of this size).
    pub job_size: usize,
    /// Most mentions written in one transaction. Each transaction rewrites the last page of the
    /// links of every query it touches, and of its series, whatever its size: 16,000 (8,000 before)
    /// halves that cost per mention at full match rates.
    pub max_batch: usize,
    /// Stories remembered per workspace for near-duplicate grouping.
    pub stories_per_workspace: usize,
    /// Stories remembered by all workspaces together (about 1 KB each), checked after each job:
    /// when they hold more, the workspaces holding the most forget their least recent stories,
    /// down to nine tenths of this at most ([`fair_cap`]), and give their memory back once half
    /// their slots are free (`Stories::shrink_to`). Without it the memory would grow with the number of workspaces.
    pub stories_total: usize,
}

impl Default for PipelineConfig {
    fn default() -> Self {
        Self {
            capacity: 50_000,
            job_size: 1_000,
            max_batch: 16_000,
            stories_per_workspace: 20_000,
            stories_total: 200_000,
        }
    }
}

/// What became of a submission.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct IngestReport {
    /// Posts received.
    pub received: u64,
    /// Posts that matched at least one query and were stored now.
    pub stored: u64,
    /// Posts that matched but were already stored (same source and id).
    pub duplicates: u64,
    /// Posts that matched no query of the workspace (not stored).
    pub unmatched: u64,
    /// Posts that matched but were not stored: their workspace was deleted while they were in
    /// flight.
    pub discarded: u64,
}

impl IngestReport {
    /// Adds another submission's counts to these.
    pub fn add(&mut self, other: &IngestReport) {
        self.received += other.received;
        self.stored += other.stored;
        self.duplicates += other.duplicates;
        self.unmatched += other.unmatched;
        self.discarded += other.discarded;
    }
}

/// Counters and lag of the pipeline. From [`Pipeline::stats`], every figure is process-wide;
/// from [`Pipeline::stats_for`] (the API's listening status), the post counts and `in_flight`
/// are one workspace's, `capacity` and `lag_ms` the shared pipeline's, and `batches` and
/// `stories` 0 (they carry every workspace's posts).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct PipelineStats {
    /// Posts accepted and not yet stored.
    pub in_flight: u64,
    /// The most posts in flight (the memory bound).
    pub capacity: u64,
    /// Age of the oldest job not yet stored, in milliseconds (0 when idle).
    pub lag_ms: u64,
    /// Posts accepted since start.
    pub accepted: u64,
    /// Mentions stored since start.
    pub stored: u64,
    /// Matched posts already stored, since start.
    pub duplicates: u64,
    /// Posts that matched nothing, since start.
    pub unmatched: u64,
    /// Posts of workspaces deleted while they were in flight (not stored), since start.
    pub discarded: u64,
    /// Write transactions since start.
    pub batches: u64,
    /// Near-duplicate stories remembered, all workspaces together (at most `stories_total`
    /// after each job). Left out of the API, whose status is a workspace's: a count over all
    /// workspaces is not its business.
    #[serde(skip)]
    pub stories: u64,
}

#[derive(Debug, Default)]
struct Counters {
    batches: AtomicU64,
    stories: AtomicU64,
    /// Each workspace's post counts since start (the process's are their sum).
    by_workspace: Mutex<HashMap<i64, WorkspaceCounts>>,
    next_job: AtomicU64,
    /// Start time of every job in flight, by job number (the first is the oldest).
    in_flight: Mutex<BTreeMap<u64, Instant>>,
}

/// A workspace's share of the counters.
#[derive(Debug, Default, Clone, Copy)]
struct WorkspaceCounts {
    /// `received` is what was accepted.
    report: IngestReport,
    /// Posts accepted and not yet answered.
    in_flight: u64,
}

impl Counters {
    fn workspace(&self, workspace: i64, f: impl FnOnce(&mut WorkspaceCounts)) {
        f(self.by_workspace.lock().unwrap_or_else(|e| e.into_inner()).entry(workspace).or_default());
    }
}

struct Job {
    number: u64,
    workspace: i64,
    posts: Vec<IncomingPost>,
    compiled: Arc<Compiled>,
    received_at: i64,
    _permit: OwnedSemaphorePermit,
    done: oneshot::Sender<Result<IngestReport, String>>,
}

struct Prepared {
    number: u64,
    workspace: i64,
    rows: Vec<NewMention>,
    unmatched: u64,
    received: u64,
    _permit: OwnedSemaphorePermit,
    done: oneshot::Sender<Result<IngestReport, String>>,
}

/// The running pipeline. Dropping it (and every clone of its sender) stops its tasks once the
/// posts in flight are written.
pub struct Pipeline {
    config: PipelineConfig,
    permits: Arc<Semaphore>,
    jobs: mpsc::Sender<Job>,
    counters: Arc<Counters>,
}

impl std::fmt::Debug for Pipeline {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pipeline").field("config", &self.config).finish_non_exhaustive()
    }
}

impl Pipeline {
    /// Starts the stages on the current Tokio runtime. With a `handoff`, each committed batch is
    /// handed to the search indexer as written (see [`Handoff`]).
    pub(crate) fn start(
        store: Store,
        enricher: Arc<Enricher>,
        config: PipelineConfig,
        handoff: Option<Arc<Handoff>>,
    ) -> Self {
        let permits = Arc::new(Semaphore::new(config.capacity));
        let jobs_in_flight = (config.capacity / config.job_size.max(1)).max(1);
        let (jobs, jobs_rx) = mpsc::channel::<Job>(jobs_in_flight);
        let (prepared_tx, prepared_rx) = mpsc::channel::<Prepared>(jobs_in_flight);
        let counters = Arc::new(Counters::default());
        tokio::spawn(cpu_stage(jobs_rx, prepared_tx, enricher, config, counters.clone()));
        tokio::spawn(write_stage(prepared_rx, store, counters.clone(), config, handoff));
        Self { config, permits, jobs, counters }
    }

    /// Sends posts of a workspace through the pipeline and waits until they are stored. Waits for
    /// room first when the pipeline is full (backpressure). The posts must be valid (see
    /// `Listening::check_post`).
    pub async fn submit(
        &self,
        workspace: i64,
        compiled: Arc<Compiled>,
        posts: Vec<IncomingPost>,
        received_at: i64,
    ) -> Result<IngestReport, String> {
        let mut waits = Vec::new();
        let mut posts = posts.into_iter().peekable();
        while posts.peek().is_some() {
            let job: Vec<IncomingPost> = posts.by_ref().take(self.config.job_size.max(1)).collect();
            let n = u32::try_from(job.len()).unwrap_or(u32::MAX);
            let permit = self.permits.clone().acquire_many_owned(n).await.map_err(|e| e.to_string())?;
            self.counters.workspace(workspace, |w| {
                w.report.received += u64::from(n);
                w.in_flight += u64::from(n);
            });
            let number = self.counters.next_job.fetch_add(1, Ordering::Relaxed);
            self.counters.in_flight.lock().unwrap_or_else(|e| e.into_inner()).insert(number, Instant::now());
            let (done, wait) = oneshot::channel();
            let job =
                Job { number, workspace, posts: job, compiled: compiled.clone(), received_at, _permit: permit, done };
            self.jobs.send(job).await.map_err(|_| "the listening pipeline stopped".to_owned())?;
            waits.push(wait);
        }
        let mut report = IngestReport::default();
        for wait in waits {
            let part = wait.await.map_err(|_| "the listening pipeline stopped".to_owned())??;
            report.add(&part);
        }
        Ok(report)
    }

    /// The shared pipeline's figures with one workspace's post counts (what a workspace may see:
    /// not the other workspaces' volumes).
    pub fn stats_for(&self, workspace: i64) -> PipelineStats {
        let own = self.counters.by_workspace.lock().unwrap_or_else(|e| e.into_inner()).get(&workspace).copied();
        let WorkspaceCounts { report, in_flight } = own.unwrap_or_default();
        PipelineStats { in_flight, ..self.stats_of(report) }
    }

    /// Counters and lag, every workspace together.
    pub fn stats(&self) -> PipelineStats {
        let c = &self.counters;
        let mut all = IngestReport::default();
        for w in c.by_workspace.lock().unwrap_or_else(|e| e.into_inner()).values() {
            all.add(&w.report);
        }
        PipelineStats {
            in_flight: (self.config.capacity - self.permits.available_permits().min(self.config.capacity)) as u64,
            batches: c.batches.load(Ordering::Relaxed),
            stories: c.stories.load(Ordering::Relaxed),
            ..self.stats_of(all)
        }
    }

    /// `counts` (`received` being the posts accepted) with the pipeline's capacity and lag; the
    /// other figures 0.
    fn stats_of(&self, counts: IngestReport) -> PipelineStats {
        let oldest =
            self.counters.in_flight.lock().unwrap_or_else(|e| e.into_inner()).first_key_value().map(|(_, t)| *t);
        PipelineStats {
            capacity: self.config.capacity as u64,
            lag_ms: oldest.map_or(0, |t| u64::try_from(t.elapsed().as_millis()).unwrap_or(u64::MAX)),
            accepted: counts.received,
            stored: counts.stored,
            duplicates: counts.duplicates,
            unmatched: counts.unmatched,
            discarded: counts.discarded,
            ..PipelineStats::default()
        }
    }
}

type StoriesMap = Arc<Mutex<HashMap<i64, Stories>>>;

/// A matched post, analysed, waiting for its story.
struct Analysed {
    post: IncomingPost,
    prepared: PostPrepared,
    query_ids: Vec<i64>,
    sketch: Sketch,
}

async fn cpu_stage(
    jobs: mpsc::Receiver<Job>,
    prepared: mpsc::Sender<Prepared>,
    enricher: Arc<Enricher>,
    config: PipelineConfig,
    counters: Arc<Counters>,
) {
    let stories: StoriesMap = Arc::default();
    // Story keys are unique across restarts: a random prefix per process, then a counter.
    let nonce: i64 = i64::from(rand::random::<u32>() & 0x7fff_ffff) << 31;
    let parallel = std::thread::available_parallelism().map_or(2, |n| n.get()).clamp(1, 16);
    let jobs = futures_util::stream::unfold(jobs, |mut rx| async move { rx.recv().await.map(|job| (job, rx)) });
    // `buffered` runs up to `parallel` analyses at once and yields them in job order.
    let analysed = jobs
        .map(|job| {
            let enricher = enricher.clone();
            async move {
                let Job { number, workspace, posts, compiled, received_at, _permit, done } = job;
                let received = posts.len() as u64;
                let work = tokio::task::spawn_blocking(move || analyse(&enricher, &compiled, posts)).await;
                (number, workspace, received, received_at, _permit, done, work)
            }
        })
        .buffered(parallel);
    let mut analysed = std::pin::pin!(analysed);
    while let Some((number, workspace, received, received_at, _permit, done, work)) = analysed.next().await {
        let grouped = match work {
            Ok((matched, unmatched)) => {
                let (stories, counters) = (stories.clone(), counters.clone());
                tokio::task::spawn_blocking(move || {
                    let mut map = stories.lock().unwrap_or_else(|e| e.into_inner());
                    let grouper = map.entry(workspace).or_insert_with(|| {
                        Stories::new(StoriesConfig {
                            capacity: config.stories_per_workspace,
                            ..StoriesConfig::default()
                        })
                    });
                    let rows = group(grouper, nonce, workspace, matched, received_at);
                    let total = keep_within(&mut map, config.stories_total);
                    counters.stories.store(total as u64, Ordering::Relaxed);
                    (rows, unmatched)
                })
                .await
            }
            Err(e) => Err(e),
        };
        let item = match grouped {
            Ok((rows, unmatched)) => Prepared { number, workspace, rows, unmatched, received, _permit, done },
            Err(e) => {
                counters.in_flight.lock().unwrap_or_else(|e| e.into_inner()).remove(&number);
                counters.workspace(workspace, |w| w.in_flight = w.in_flight.saturating_sub(received));
                let _ = done.send(Err(format!("the listening pipeline failed: {e}")));
                continue;
            }
        };
        if prepared.send(item).await.is_err() {
            return;
        }
    }
}

/// Enriches and matches a job's posts; returns the matched ones (with their sketch) and how many
/// matched nothing.
fn analyse(enricher: &Enricher, compiled: &Compiled, posts: Vec<IncomingPost>) -> (Vec<Analysed>, u64) {
    let mut scratch = relais_listen::matcher::Scratch::default();
    let mut text = String::new();
    let mut hits = Vec::new();
    let mut matched = Vec::with_capacity(posts.len());
    let mut unmatched = 0;
    for post in posts {
        let prepared = PostPrepared::of(&post, enricher);
        hits.clear();
        compiled.matcher.matches_into(&prepared.doc(&post), &mut scratch, &mut hits);
        if hits.is_empty() {
            unmatched += 1;
            continue;
        }
        hits.sort_unstable();
        let query_ids = hits.iter().map(|&i| compiled.query_ids[i as usize]).collect();
        let sketch = Sketch::of(&post.text, &mut text);
        matched.push(Analysed { post, prepared, query_ids, sketch });
    }
    (matched, unmatched)
}

/// Holds the workspaces' stories to `budget` in all: past it, down to nine tenths of it, the
/// largest giving up their least recent first ([`fair_cap`]). Returns the stories then kept. One
/// addition per workspace per job of up to a thousand posts.
fn keep_within(map: &mut HashMap<i64, Stories>, budget: usize) -> usize {
    let total: usize = map.values().map(Stories::len).sum();
    if total <= budget {
        return total;
    }
    // Down to nine tenths, so that a trim (tens of milliseconds under the lock at the default
    // budget) comes once per tenth of it at most.
    let mut lens: Vec<usize> = map.values().map(Stories::len).collect();
    let cap = fair_cap(&mut lens, budget - budget.div_ceil(10));
    tracing::debug!(stories = total, cap, "Story budget exceeded; the largest workspaces forget their oldest.");
    for stories in map.values_mut() {
        stories.shrink_to(cap);
    }
    map.values().map(Stories::len).sum()
}

/// The most stories each workspace may keep so that together they hold at most `target`, taking
/// from the largest first ("water-filling": a workspace holding fewer than the cap keeps them
/// all). `lens` are the workspaces' story counts (sorted here).
fn fair_cap(lens: &mut [usize], target: usize) -> usize {
    lens.sort_unstable();
    let mut left = target;
    for (i, &len) in lens.iter().enumerate() {
        let sharing = lens.len() - i;
        if len.saturating_mul(sharing) > left {
            return left / sharing;
        }
        left -= len;
    }
    usize::MAX
}

/// Gives each matched post its story, in order; returns the mentions to store.
fn group(
    stories: &mut Stories,
    nonce: i64,
    workspace: i64,
    matched: Vec<Analysed>,
    received_at: i64,
) -> Vec<NewMention> {
    matched
        .into_iter()
        .map(|a| {
            let story = stories.add_sketch(a.sketch).story as i64;
            a.prepared.into_mention(a.post, workspace, nonce | (story & 0x7fff_ffff), received_at, a.query_ids)
        })
        .collect()
}

async fn write_stage(
    mut prepared: mpsc::Receiver<Prepared>,
    store: Store,
    counters: Arc<Counters>,
    config: PipelineConfig,
    handoff: Option<Arc<Handoff>>,
) {
    while let Some(first) = prepared.recv().await {
        let mut group = vec![first];
        let mut rows: usize = group[0].rows.len();
        while rows < config.max_batch {
            match prepared.try_recv() {
                Ok(more) => {
                    rows += more.rows.len();
                    group.push(more);
                }
                Err(_) => break,
            }
        }
        let lens: Vec<usize> = group.iter().map(|p| p.rows.len()).collect();
        // Sized once: a batch holds up to `max_batch` mentions (megabytes), which growing by
        // doubling copied and faulted in afresh several times over.
        let mut batch: Vec<NewMention> = Vec::with_capacity(rows);
        for p in &mut group {
            batch.append(&mut p.rows);
        }
        // A failed write is retried (the database may be restarting): posts accepted are never
        // dropped; submitters keep waiting, and the semaphore keeps new posts out meanwhile.
        let mut delay = std::time::Duration::from_millis(100);
        let inserted = loop {
            match store.insert_mentions_reserving(&batch).await {
                Ok(inserted) => break inserted,
                Err(e) => {
                    tracing::warn!(error = %e, mentions = batch.len(), "Storing mentions failed; retrying.");
                    tokio::time::sleep(delay).await;
                    delay = (delay * 2).min(std::time::Duration::from_secs(10));
                }
            }
        };
        counters.batches.fetch_add(1, Ordering::Relaxed);
        // The index gets the links the database got.
        inserted.drop_unstored_links(&mut batch);
        let InsertedMentions { ids, reserved, workspaces_gone, .. } = inserted;
        let mut offset = 0;
        for (p, n) in group.into_iter().zip(lens) {
            let slice = &ids[offset..offset + n];
            offset += n;
            let stored = slice.iter().filter(|id| id.is_some()).count() as u64;
            // A submission is one workspace's: deleted in flight, its posts were not stored.
            let (duplicates, discarded) =
                if workspaces_gone.contains(&p.workspace) { (0, n as u64 - stored) } else { (n as u64 - stored, 0) };
            let report = IngestReport { received: p.received, stored, duplicates, unmatched: p.unmatched, discarded };
            // `received` was counted when the posts were accepted.
            let own = IngestReport { received: 0, ..report };
            counters.workspace(p.workspace, |w| {
                w.report.add(&own);
                w.in_flight = w.in_flight.saturating_sub(p.received);
            });
            counters.in_flight.lock().unwrap_or_else(|e| e.into_inner()).remove(&p.number);
            let _ = p.done.send(Ok(report));
        }
        if let Some(handoff) = &handoff {
            handoff.push(reserved, ids, batch).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::fair_cap;

    #[test]
    fn the_largest_workspaces_give_up_stories_first() {
        // Everything fits: no cap.
        assert_eq!(fair_cap(&mut [10, 20, 30], 60), usize::MAX);
        // 5 + 10 kept whole; the two large ones share the 45 left.
        let mut lens = [100, 5, 10, 80];
        let cap = fair_cap(&mut lens, 60);
        assert_eq!(cap, 22);
        assert!(lens.iter().map(|&l| l.min(cap)).sum::<usize>() <= 60);
        // Fewer stories allowed than workspaces: every workspace is emptied.
        assert_eq!(fair_cap(&mut [3, 4, 5], 2), 0);
        assert_eq!(fair_cap(&mut [], 0), usize::MAX);
        // The cap is the largest that fits, whatever the counts.
        let mut seed = 7u64;
        for _ in 0..500 {
            let mut lens: Vec<usize> = (0..(seed % 9) as usize)
                .map(|_| {
                    seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                    (seed >> 33) as usize % 1000
                })
                .collect();
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1);
            let target = (seed >> 33) as usize % 3000;
            let cap = fair_cap(&mut lens, target);
            let kept = |c: usize| lens.iter().map(|&l| l.min(c)).sum::<usize>();
            assert!(kept(cap) <= target, "{lens:?} {target} {cap}");
            if cap != usize::MAX {
                assert!(kept(cap + 1) > target, "{lens:?} {target} {cap}");
            }
        }
    }
}
