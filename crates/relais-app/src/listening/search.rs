//! Full-text search over the workspace's mentions ([`relais_search`]: tantivy, French and English
//! analyzers), and the indexer that keeps the index behind the mention table.
//!
//! The SQL table is the source of truth; the index follows it by mention id (the store hands ids
//! out in commit order and never twice). The indexer reads the mentions stored after its
//! watermark, indexes them and commits the new watermark with them, in the index's own atomic
//! commit: the watermark never disagrees with the index, so nothing is lost or doubled whenever
//! the process stops. Deleting the index directory rebuilds it from the database. Erased mentions
//! are followed the same way, through the erasure log and a second watermark: mentions read
//! before an erasure are removed by it in the same or a later pass. (Indexes written before the
//! watermarks went into the commit kept them in files next to the index; they are read once,
//! and that first pass replaces documents instead of adding them.) Only the process that serves
//! the API indexes (the index directory has one writer).

use super::{Listening, invalid};
use crate::{Actor, App, AppError, AppResult};
use relais_domain::Msg;
use relais_domain::ids::WorkspaceId;
use relais_domain::permissions::Action;
use relais_search::{
    Cursor, Facets, Filters, MentionDoc, MentionWriter, SearchIndex, SearchRequest, Sort, WriterOptions,
};
use relais_store::listen::{MentionRecord, NewMention};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

/// Mentions indexed per commit at most (unless [`Listening::index_batch`] says otherwise). Under a
/// sustained burst a pass takes this many and commits them (about 2 s of work on 2 cores); at
/// ordinary rates a pass takes what is there, so the index still follows within a second. 100,000
/// rather than 50,000: half the commits and segments to merge, about 5 % less CPU per post at 92 %
/// matching (BENCHMARKS, sixteenth session).
const INDEX_BATCH: i64 = 100_000;

/// Most mentions waiting in the [`Handoff`] (about half a kilobyte each, so at most about 150 MB):
/// past it the writer drops what it would hand over, and the indexer reads those mentions from
/// the database instead, which costs about as much CPU as storing them and so slows everything
/// down just when the indexer is behind. Three passes' worth: at 92 % matching the writer now
/// runs ahead of the indexer by seconds (with one pass's worth, the fallback made the last post
/// searchable up to 4.5 s after it was stored, against about 1 s).
const HANDOFF_MAX: usize = 3 * INDEX_BATCH as usize;

/// The index of a process: where it lives, opened on first use, and its one writer.
#[derive(Default)]
pub(crate) struct IndexSlot {
    pub(crate) dir: Option<PathBuf>,
    index: Mutex<Option<Arc<SearchIndex>>>,
    writer: Arc<Mutex<Option<MentionWriter>>>,
    pub(crate) handoff: Arc<Handoff>,
    /// Mentions (and erasures) per pass at most: [`INDEX_BATCH`] unless set.
    batch: Option<i64>,
}

impl IndexSlot {
    fn batch(&self) -> i64 {
        self.batch.unwrap_or(INDEX_BATCH)
    }
}

/// Mentions the pipeline's writer has just committed, handed to the indexer as they were written,
/// so that it need not read them back from the database (at full match rates, reading them back
/// cost about as much as storing them).
///
/// Only an optimisation: the database stays the source of truth. A batch is used only when its
/// reserved ids directly follow what the index holds (so nothing in between is skipped) and the
/// table still holds every one of its mentions (none erased since); any other case, a batch
/// dropped because the indexer was behind included, reads the database as before.
///
/// While an indexer takes from it, a full hand-off is also where the pipeline waits for the
/// index: the writer waits for room (and the posts behind it, down to the submitters, wait in
/// the pipeline's bounded queues) instead of dropping what it would hand over. Dropped mentions
/// are read back from the database, which cost as much CPU as storing them: a writer running
/// ahead of the index slowed down both (measured: 39–44k posts/s stored and searchable instead
/// of 46–48k). Without an indexer seen lately (none runs, or a pass is stuck), the writer never
/// waits: the batch is dropped as before.
#[derive(Debug)]
pub(crate) struct Handoff {
    /// Mentions held at most ([`HANDOFF_MAX`]).
    max: usize,
    queue: Mutex<HandedQueue>,
    /// Woken when a batch is handed over (see [`App::wait_for_new_mentions`]).
    ready: tokio::sync::Notify,
    /// Woken when the indexer took batches (room for the writer).
    room: tokio::sync::Notify,
}

#[derive(Debug, Default)]
struct HandedQueue {
    batches: std::collections::VecDeque<Handed>,
    mentions: usize,
    /// When the indexer last asked for batches.
    taken_at: Option<tokio::time::Instant>,
    /// Mentions dropped since the start (the indexer read them from the database).
    dropped: u64,
}

impl Default for Handoff {
    fn default() -> Self {
        Self::holding(HANDOFF_MAX)
    }
}

/// How recently the indexer must have asked for batches for the writer to wait for room: longer
/// than a pass (about 2 s for 100,000 mentions on 2 cores under load, more on a slower machine),
/// so that a stuck indexer stops the writer for ten seconds at most.
const INDEXER_ALIVE: std::time::Duration = std::time::Duration::from_secs(10);

#[derive(Debug)]
struct Handed {
    /// The ids the writer's transaction reserved (`Store::insert_mentions_reserving`).
    reserved: std::ops::Range<i64>,
    /// The batch's new mentions and their ids, in two vectors: when every mention of the batch
    /// is new (the usual case), its vector as the writer had it (pairing each mention with its id
    /// cost a copy of every batch).
    ids: Vec<i64>,
    mentions: Vec<NewMention>,
}

impl Handed {
    /// The new mentions with their ids.
    fn into_new(self) -> impl Iterator<Item = (i64, NewMention)> {
        self.ids.into_iter().zip(self.mentions)
    }
}

impl Handoff {
    /// A hand-off of at most `max` mentions.
    fn holding(max: usize) -> Self {
        Self { max, queue: Mutex::default(), ready: tokio::sync::Notify::new(), room: tokio::sync::Notify::new() }
    }

    /// Hands over a committed batch: its reserved ids, the mentions as written and the id each
    /// got, if new (the writer does nothing more: it is the pipeline's bound, the indexer makes the
    /// documents). Waits for room while an indexer takes batches (see the type's doc).
    pub(crate) async fn push(&self, reserved: std::ops::Range<i64>, ids: Vec<Option<i64>>, mentions: Vec<NewMention>) {
        let new = ids.iter().flatten().count();
        if reserved.is_empty() || new == 0 {
            return;
        }
        // Mentions already stored are not kept: they would take room the new ones need.
        let (ids, mentions): (Vec<i64>, Vec<NewMention>) = if new == ids.len() {
            (ids.into_iter().flatten().collect(), mentions)
        } else {
            ids.into_iter().zip(mentions).filter_map(|(id, m)| Some((id?, m))).unzip()
        };
        loop {
            // Registered before the queue is read, so that room made in between is not missed.
            let room = self.room.notified();
            tokio::pin!(room);
            room.as_mut().enable();
            {
                let mut q = self.queue.lock().unwrap_or_else(|e| e.into_inner());
                // One batch larger than the whole hand-off goes in alone.
                if q.mentions == 0 || q.mentions + mentions.len() <= self.max {
                    q.mentions += mentions.len();
                    q.batches.push_back(Handed { reserved, ids, mentions });
                    break;
                }
                if q.taken_at.is_none_or(|at| at.elapsed() >= INDEXER_ALIVE) {
                    q.dropped += mentions.len() as u64;
                    return;
                }
            }
            // Rechecked every half second: an indexer that stops asking is not waited for.
            let _ = tokio::time::timeout(std::time::Duration::from_millis(500), room).await;
        }
        self.ready.notify_one();
    }

    /// Mentions dropped since the start because the hand-off was full and no indexer took from it
    /// (the indexer read them from the database).
    pub(crate) fn dropped(&self) -> u64 {
        self.queue.lock().unwrap_or_else(|e| e.into_inner()).dropped
    }

    /// The handed batches that directly follow `mark` (the last id the index covers), with at
    /// most `limit` new mentions in all unless one batch holds more, how many new mentions they
    /// hold, and the mark they bring the index to; `None` when the mentions after `mark` were not
    /// handed over. Batches the index has passed are dropped.
    fn take_following(&self, mark: i64, limit: usize) -> Option<(Vec<Handed>, usize, i64)> {
        let mut q = self.queue.lock().unwrap_or_else(|e| e.into_inner());
        q.taken_at = Some(tokio::time::Instant::now());
        let (mut taken, mut new): (Vec<Handed>, usize) = (Vec::new(), 0);
        let mut upto = mark;
        while let Some(front) = q.batches.front() {
            let last = front.reserved.end - 1;
            let follows = front.reserved.start - 1 == upto;
            let fits = taken.is_empty() || new + front.mentions.len() <= limit;
            if last > upto && !(follows && fits) {
                // Not next (a gap: read from the database), or not in this pass.
                break;
            }
            let Some(batch) = q.batches.pop_front() else { break };
            q.mentions -= batch.mentions.len();
            if last <= upto {
                continue; // already indexed (read from the database meanwhile)
            }
            upto = last;
            new += batch.mentions.len();
            taken.push(batch);
        }
        drop(q);
        self.room.notify_waiters();
        (upto > mark).then_some((taken, new, upto))
    }
}

impl IndexSlot {
    fn open(&self) -> AppResult<Arc<SearchIndex>> {
        let Some(dir) = &self.dir else {
            return Err(AppError::new(
                crate::error::ErrorKind::Unavailable,
                "search_unavailable",
                Msg::new(
                    "full-text search is not enabled in this process",
                    "la recherche plein texte n'est pas activée dans ce processus",
                ),
            ));
        };
        let mut slot = self.index.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(index) = &*slot {
            return Ok(index.clone());
        }
        let index = Arc::new(SearchIndex::open_or_create(dir).map_err(|e| AppError::internal(e.message().en))?);
        match index.was_rebuilt() {
            Some(relais_search::Rebuilt::Layout) => tracing::warn!(
                dir = %dir.display(),
                "search index of an earlier layout replaced: rebuilding it from the database"
            ),
            Some(relais_search::Rebuilt::Damaged(error)) => tracing::error!(
                dir = %dir.display(),
                %error,
                "search index damaged, replaced: rebuilding it from the database"
            ),
            None => {}
        }
        *slot = Some(index.clone());
        Ok(index)
    }

    /// How far `index` follows the tables, and whether that is exact: the marks committed with
    /// the index, or else (an index written before the marks were committed with it) the
    /// watermark files of that time, which a crash may have left behind the index.
    fn marks(&self, index: &SearchIndex) -> AppResult<(Marks, bool)> {
        if let Some(payload) = index.commit_payload().map_err(|e| AppError::internal(e.message().en))? {
            return Ok((serde_json::from_str(&payload).map_err(AppError::internal)?, true));
        }
        let file = |name: &str| self.dir.as_ref().map_or(0, |d| read_mark(&d.join(name)));
        Ok((Marks { mentions: file("relais-indexed-up-to"), erasures: file("relais-erased-up-to") }, false))
    }
}

/// How far the index follows the tables: the last mention id and the last erasure (of the
/// `mention_erasures` log) it holds. Committed with the index, in the same atomic commit.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
struct Marks {
    mentions: i64,
    erasures: i64,
}

impl Listening {
    /// Listening whose search index lives in `dir` (created when needed).
    pub fn with_index_dir(dir: PathBuf) -> Self {
        Self::default().index_in(dir)
    }

    /// The same, with its search index in `dir` (created when needed).
    pub fn index_in(self, dir: PathBuf) -> Self {
        let batch = self.index.batch;
        Self { index: IndexSlot { dir: Some(dir), batch, ..IndexSlot::default() }, ..self }
    }

    /// The same, indexing at most `mentions` mentions (and as many erasures) per commit.
    pub fn index_batch(mut self, mentions: usize) -> Self {
        self.index.batch = Some(i64::try_from(mentions.max(1)).unwrap_or(INDEX_BATCH));
        self
    }
}

/// What a search asks, as the API takes it.
#[derive(Debug, Clone, Default)]
pub struct SearchInput {
    /// The query in the listening query language (blank: every mention).
    pub q: String,
    /// Filters.
    pub filters: Filters,
    /// `relevance` sorts by score; newest first otherwise.
    pub relevance: bool,
    /// Page size.
    pub limit: usize,
    /// The previous page's `next`.
    pub after: Option<String>,
    /// Whether to count facets.
    pub facets: bool,
    /// The day facet's offset from UTC in minutes (default: the workspace's current offset).
    pub day_offset_minutes: Option<i32>,
}

/// A page of search results.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SearchPage {
    /// How many mentions match in all.
    pub total: u64,
    /// The page's mentions, in order.
    pub mentions: Vec<MentionRecord>,
    /// The cursor of the next page (`after=`), when the page is full.
    pub next: Option<String>,
    /// Counts by query, source, language, sentiment and day over every match (when asked).
    #[schema(value_type = Option<Object>)]
    pub facets: Option<Facets>,
    /// Mentions stored but not yet searchable (the index follows the database within seconds).
    pub not_yet_indexed: i64,
}

fn encode_cursor(c: &Cursor) -> String {
    match c {
        Cursor::Newest { published_at_ms, id } => format!("n{published_at_ms}:{id}"),
        Cursor::Relevance { score, id } => format!("r{}:{id}", score.to_bits()),
    }
}

fn decode_cursor(s: &str) -> Option<Cursor> {
    let (kind, rest) = s.split_at_checked(1)?;
    let (a, id) = rest.split_once(':')?;
    let id = id.parse().ok()?;
    match kind {
        "n" => Some(Cursor::Newest { published_at_ms: a.parse().ok()?, id }),
        "r" => Some(Cursor::Relevance { score: f32::from_bits(a.parse().ok()?), id }),
        _ => None,
    }
}

/// The document of a mention the pipeline has just stored with `id`: the same as [`to_doc`] of the
/// row read back.
fn stored_doc(id: i64, m: NewMention) -> MentionDoc {
    let mut query_ids = m.query_ids;
    query_ids.sort_unstable();
    query_ids.dedup();
    MentionDoc {
        id,
        workspace_id: m.workspace_id,
        domain: m.url.as_deref().and_then(super::domain_of),
        query_ids,
        source: m.source,
        lang: m.lang,
        sentiment: m.sentiment_label,
        sentiment_score: m.sentiment as f32,
        published_at_ms: m.published_at,
        author: m.author,
        title: m.title,
        text: m.text,
    }
}

fn to_doc(m: MentionRecord) -> MentionDoc {
    MentionDoc {
        id: m.id,
        workspace_id: m.workspace_id,
        domain: m.url.as_deref().and_then(super::domain_of),
        query_ids: m.query_ids,
        source: m.source,
        lang: m.lang,
        sentiment: m.sentiment_label,
        sentiment_score: m.sentiment as f32,
        published_at_ms: m.published_at,
        author: m.author,
        title: m.title,
        text: m.text,
    }
}

impl App {
    /// Indexes the mentions stored since the last pass and removes those erased since (at most
    /// [`INDEX_BATCH`] of each by default, in one commit); returns how many. Does nothing when this process
    /// has no index.
    pub async fn index_pending(&self) -> AppResult<usize> {
        let slot = &self.listening.index;
        if slot.dir.is_none() {
            return Ok(0);
        }
        let index = slot.open()?;
        let (marks, exact) = slot.marks(&index)?;
        // Mentions first, then erasures: an erasure committed after the mentions were read (or
        // checked, when handed over) is read below or in a later pass, so nothing erased stays
        // indexed.
        let (mentions, mentions_mark) = match self.handed_following(marks.mentions, exact).await? {
            Some(handed) => handed,
            None => {
                let rows = self.store.mentions_after(marks.mentions, slot.batch()).await?;
                let mark = rows.last().map_or(marks.mentions, |m| m.id);
                (rows.into_iter().map(to_doc).collect(), mark)
            }
        };
        let erasures = self.store.mention_erasures_after(marks.erasures, slot.batch()).await?;
        // Erased mentions also leave the index files: their segments are rewritten once the
        // erasure log is caught up (a backlog of erasures, a deleted workspace, is purged once),
        // and again after a background merge that held a segment carried deletions over.
        let purge = erasures.len() < slot.batch() as usize
            && (!erasures.is_empty() || index.holds_deleted().map_err(|e| AppError::internal(e.message().en))?);
        if mentions.is_empty() && erasures.is_empty() && !purge {
            return Ok(0);
        }
        let n = mentions.len() + erasures.len();
        let next = Marks { mentions: mentions_mark, erasures: erasures.last().map_or(marks.erasures, |e| e.0) };
        let payload = serde_json::to_string(&next).map_err(AppError::internal)?;
        let writer = slot.writer.clone();
        tokio::task::spawn_blocking(move || -> AppResult<()> {
            let mut slot = writer.lock().unwrap_or_else(|e| e.into_inner());
            if slot.is_none() {
                *slot = Some(index.writer(WriterOptions::default()).map_err(|e| AppError::internal(e.message().en))?);
            }
            let w = slot.as_mut().ok_or_else(|| AppError::internal("no index writer"))?;
            let pass = (|| -> Result<(), relais_search::SearchError> {
                for doc in &mentions {
                    // Past the marks committed with the index, a mention cannot be in it yet;
                    // only marks from before they were committed with it may lag behind it.
                    if exact { w.add(doc) } else { w.replace(doc) }?;
                }
                for (_, mention) in &erasures {
                    w.delete(*mention)?;
                }
                if n > 0 {
                    w.commit_with(&payload)?;
                }
                if purge {
                    let left = w.purge_deleted()?;
                    if left > 0 {
                        tracing::debug!(
                            segments = left,
                            "erased mentions still in index files, purged on a later pass"
                        );
                    }
                }
                Ok(())
            })();
            if let Err(e) = pass {
                // A failed pass leaves nothing behind: changes not committed are dropped with the
                // writer, and the next pass starts again from the committed marks.
                *slot = None;
                return Err(AppError::internal(e.message().en));
            }
            Ok(())
        })
        .await
        .map_err(AppError::internal)??;
        Ok(n)
    }

    /// The mentions the pipeline handed over that follow `mark`, if every one is still in the
    /// table (none erased since it was handed over), with the mark they bring the index to.
    async fn handed_following(&self, mark: i64, exact: bool) -> AppResult<Option<(Vec<MentionDoc>, i64)>> {
        if !exact {
            return Ok(None);
        }
        let slot = &self.listening.index;
        let Some((handed, new, upto)) = slot.handoff.take_following(mark, slot.batch() as usize) else {
            return Ok(None);
        };
        if self.store.mention_count_in(mark + 1..=upto).await? != new as i64 {
            // Erased since: the database says what is left.
            return Ok(None);
        }
        let mut docs = Vec::with_capacity(new);
        docs.extend(handed.into_iter().flat_map(Handed::into_new).map(|(id, m)| stored_doc(id, m)));
        Ok(Some((docs, upto)))
    }

    /// Mentions the pipeline's writer could not hand to the indexer since the start (it read them
    /// from the database): see [`Handoff`].
    pub fn index_handoff_dropped(&self) -> u64 {
        self.listening.index.handoff.dropped()
    }

    /// Waits until the pipeline has stored new mentions, or at most `max`: what an indexing loop
    /// waits on between [`Self::index_until_caught_up`] calls, so that mentions are indexed as
    /// soon as they are stored (while the writer's batches are still in the hand-off: past its
    /// size they are read back from the database, which costs about as much as storing them).
    pub async fn wait_for_new_mentions(&self, max: std::time::Duration) {
        let _ = tokio::time::timeout(max, self.listening.index.handoff.ready.notified()).await;
    }

    /// [`Self::index_pending`] until nothing is left; returns how many mentions were indexed or
    /// removed in all.
    pub async fn index_until_caught_up(&self) -> AppResult<usize> {
        let mut total = 0;
        loop {
            match self.index_pending().await? {
                0 => return Ok(total),
                n => total += n,
            }
        }
    }

    /// Closes this process's index writer, waiting for its merges to end (what is committed
    /// stays; the next pass opens a new writer). For a clean stop: a merge cut short is only
    /// thrown away, but tantivy warns about it.
    pub async fn close_index_writer(&self) -> AppResult<()> {
        let writer = self.listening.index.writer.clone();
        tokio::task::spawn_blocking(move || {
            let taken = writer.lock().unwrap_or_else(|e| e.into_inner()).take();
            taken.map_or(Ok(()), |w| w.finish().map_err(|e| AppError::internal(e.message().en)))
        })
        .await
        .map_err(AppError::internal)?
    }

    /// The last mention id the index holds (0 when none).
    fn indexed_up_to(&self) -> i64 {
        let slot = &self.listening.index;
        slot.open().and_then(|index| slot.marks(&index)).map_or(0, |(marks, _)| marks.mentions)
    }

    /// Searches the workspace's mentions with the listening query language.
    pub async fn search_mentions(&self, actor: &Actor, ws: WorkspaceId, input: SearchInput) -> AppResult<SearchPage> {
        self.authorize(actor, ws, Action::Read).await?;
        let index = self.listening.index.open()?;
        let mut request = SearchRequest::parse(&input.q).map_err(|e| {
            let m = e.message();
            invalid("q", m.en, m.fr)
        })?;
        request.filters = input.filters;
        request.sort = if input.relevance { Sort::Relevance } else { Sort::Newest };
        request.limit = input.limit;
        request.facets = input.facets;
        request.after = match input.after.as_deref() {
            None => None,
            Some(c) => Some(decode_cursor(c).ok_or_else(|| {
                invalid("after", "the cursor is not valid".into(), "le curseur n'est pas valide".into())
            })?),
        };
        request.day_offset_minutes = match input.day_offset_minutes {
            Some(m) => m,
            None => self.workspace_utc_offset_minutes(ws, self.now_ms()).await?,
        };
        let results = tokio::task::spawn_blocking(move || index.search(ws.0, &request))
            .await
            .map_err(AppError::internal)?
            .map_err(|e| {
                let m = e.message();
                invalid("q", m.en, m.fr)
            })?;
        let ids: Vec<i64> = results.hits.iter().map(|h| h.id).collect();
        let mentions = self.store.mentions_by_ids(ws, &ids).await?;
        let after = self.indexed_up_to();
        let not_yet_indexed = self.store.mention_count_after(ws, after).await?;
        Ok(SearchPage {
            total: results.total,
            mentions,
            next: results.next.as_ref().map(encode_cursor),
            facets: results.facets,
            not_yet_indexed,
        })
    }
}

/// A watermark file's value (0 when absent).
fn read_mark(path: &std::path::Path) -> i64 {
    std::fs::read_to_string(path).ok().and_then(|s| s.trim().parse().ok()).unwrap_or(0)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip() {
        for c in
            [Cursor::Newest { published_at_ms: 1_800_000_000_000, id: 42 }, Cursor::Relevance { score: 3.25, id: 7 }]
        {
            assert_eq!(decode_cursor(&encode_cursor(&c)), Some(c));
        }
        assert_eq!(decode_cursor("x1:2"), None);
        assert_eq!(decode_cursor(""), None);
        assert_eq!(decode_cursor("n12"), None);
    }

    fn mention(text: &str) -> NewMention {
        NewMention {
            workspace_id: 1,
            source: "rss".into(),
            external_id: text.into(),
            url: None,
            author: None,
            title: None,
            text: text.into(),
            lang: "fr".into(),
            sentiment: 0.0,
            sentiment_label: "neutral".into(),
            story_id: 1,
            published_at: 0,
            received_at: 0,
            query_ids: vec![1],
        }
    }

    #[tokio::test]
    async fn the_handoff_keeps_only_new_mentions_with_their_ids() {
        let handoff = Handoff::default();
        // A batch of four whose second and fourth were already stored, then one all new.
        let batch = ["a", "b", "c", "d"].map(mention).to_vec();
        handoff.push(11..15, vec![Some(11), None, Some(13), None], batch).await;
        handoff.push(15..17, vec![Some(15), Some(16)], ["e", "f"].map(mention).to_vec()).await;
        // Only duplicates: nothing to hand over.
        handoff.push(17..18, vec![None], vec![mention("g")]).await;
        assert_eq!(handoff.queue.lock().unwrap().mentions, 4, "duplicates take no room");
        let (taken, new, upto) = handoff.take_following(10, 100).expect("follows the mark");
        assert_eq!((new, upto), (4, 16));
        let got: Vec<(i64, String)> =
            taken.into_iter().flat_map(Handed::into_new).map(|(id, m)| (id, m.text)).collect();
        assert_eq!(got, [(11, "a"), (13, "c"), (15, "e"), (16, "f")].map(|(id, t)| (id, t.to_owned())));
        assert_eq!(handoff.queue.lock().unwrap().mentions, 0);
        // Past the mark of the only-duplicates batch, nothing was handed over.
        assert!(handoff.take_following(16, 100).is_none());
    }

    /// A full hand-off: without an indexer, the batch is dropped at once (read back from the
    /// database later); while an indexer takes batches, the writer waits for room instead.
    #[tokio::test(start_paused = true)]
    async fn a_full_handoff_waits_for_a_live_indexer_and_drops_without_one() {
        let handoff = Arc::new(Handoff::holding(2));
        handoff.push(1..3, vec![Some(1), Some(2)], ["a", "b"].map(mention).to_vec()).await;
        handoff.push(3..4, vec![Some(3)], vec![mention("c")]).await;
        assert_eq!(handoff.dropped(), 1, "no indexer has asked yet: dropped");

        let (taken, ..) = handoff.take_following(0, 1).expect("follows");
        assert_eq!(taken.len(), 1);
        handoff.push(3..5, vec![Some(3), Some(4)], ["c", "d"].map(mention).to_vec()).await;
        let writer = {
            let handoff = handoff.clone();
            tokio::spawn(async move { handoff.push(5..6, vec![Some(5)], vec![mention("e")]).await })
        };
        tokio::time::sleep(std::time::Duration::from_secs(2)).await;
        assert!(!writer.is_finished(), "the indexer asked lately: the writer waits for room");
        assert_eq!(handoff.dropped(), 1);
        let (taken, new, upto) = handoff.take_following(2, 10).expect("follows");
        assert_eq!((taken.len(), new, upto), (1, 2, 4));
        writer.await.expect("writer");
        assert_eq!(handoff.take_following(4, 10).map(|(_, new, upto)| (new, upto)), Some((1, 5)));
        assert_eq!(handoff.dropped(), 1, "nothing more dropped");

        // An indexer not seen for a while is not waited for.
        handoff.push(6..8, vec![Some(6), Some(7)], ["f", "g"].map(mention).to_vec()).await;
        tokio::time::sleep(INDEXER_ALIVE).await;
        handoff.push(8..9, vec![Some(8)], vec![mention("h")]).await;
        assert_eq!(handoff.dropped(), 2);
    }
}
