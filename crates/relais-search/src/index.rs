//! The index handle ([`SearchIndex`]: open, search) and its single writer ([`MentionWriter`]).

use crate::collect::MentionCollector;
use crate::doc::{DocBuilder, MentionDoc};
use crate::error::SearchError;
use crate::request::{Cursor, Filters, SearchRequest, SearchResults, Sort};
use crate::schema::{Fields, register_analyzers};
use crate::translate::Translator;
use std::collections::BTreeSet;
use std::path::Path;
use tantivy::directory::{Directory, INDEX_WRITER_LOCK, MmapDirectory};
use tantivy::indexer::{IndexWriterOptions, UserOperation};
use tantivy::query::{BooleanQuery, ConstScoreQuery, Occur, Query, TermQuery};
use tantivy::schema::{Field, IndexRecordOption, Schema};
use tantivy::{
    Index, IndexBuilder, IndexReader, IndexSettings, IndexWriter, ReloadPolicy, Searcher, TantivyDocument, Term,
};

/// A full-text index of mentions, shared by readers (`Send + Sync`, cheap to search concurrently).
pub struct SearchIndex {
    index: Index,
    reader: IndexReader,
    fields: Fields,
    rebuilt: Option<Rebuilt>,
}

/// Why opening replaced an index with an empty one (the caller then rebuilds it from the
/// database: the SQL rows are the truth).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rebuilt {
    /// It was written with another schema (an earlier version's, or other analyzers).
    Layout,
    /// It could not be read: a damaged or missing file (the error says which).
    Damaged(String),
}

impl std::fmt::Debug for SearchIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SearchIndex").finish_non_exhaustive()
    }
}

/// Segments of about the same size merged together (tantivy's log merge policy; its default is
/// 8). Each merge rewrites its mentions, and a mention is rewritten once per level it climbs; with
/// 16 a level is 16 times the one below. From the pipeline's segments of 100,000 mentions: by ten
/// million, a mention is rewritten about 0.9 times instead of about 1.65 with 8 (no merge into
/// 6.4 million); at 25.6 million as often (twice: 16 merges sixteen segments of 1.6 million into
/// one); in the long run twice instead of three times (tantivy merges no segment above ten million
/// documents). Over ten million posts the listening pipeline needed 3–6 % less CPU per post (three
/// pairs). The price: about twice as many segments to search (17 at 9.2 million instead of 8;
/// BENCHMARKS.md, eighteenth session: at ten million, p95 over all kinds the same within the
/// noise, `NEAR/3` 2–12 % slower).
pub const MERGE_SEGMENTS: usize = 16;

/// How much a writer may use while indexing.
#[derive(Debug, Clone, Copy)]
pub struct WriterOptions {
    /// Indexing threads.
    pub threads: usize,
    /// Memory budget per thread before a segment is flushed, in bytes (15 MB..4 GB).
    pub heap_bytes_per_thread: usize,
}

impl Default for WriterOptions {
    fn default() -> Self {
        Self { threads: 1, heap_bytes_per_thread: 128 << 20 }
    }
}

/// Whether `e` says the index's files are damaged or missing (so rebuilding it is the fix), not
/// that the disk or the lock failed: unparsable metadata, a missing file, a file cut short or
/// overwritten (its footer unreadable: `InvalidData`, `UnexpectedEof`).
fn is_damage(e: &tantivy::TantivyError) -> bool {
    use std::io::ErrorKind::{InvalidData, UnexpectedEof};
    use tantivy::TantivyError::{DataCorruption, IncompatibleIndex, IoError, OpenReadError, SchemaError};
    use tantivy::directory::error::OpenReadError as Open;
    let cut_or_overwritten = |io: &std::io::Error| matches!(io.kind(), InvalidData | UnexpectedEof);
    match e {
        DataCorruption(_) | IncompatibleIndex(_) | SchemaError(_) | OpenReadError(Open::FileDoesNotExist(_)) => true,
        IoError(io) | OpenReadError(Open::IoError { io_error: io, .. }) => cut_or_overwritten(io),
        _ => false,
    }
}

/// What opening says of a damaged index: the error, cut to 300 characters (tantivy quotes a
/// damaged `meta.json` whole in its message).
fn damage(e: &tantivy::TantivyError) -> Rebuilt {
    let text = e.to_string();
    let cut = text.char_indices().nth(300).map_or(text.len(), |(at, _)| at);
    Rebuilt::Damaged(if cut < text.len() { format!("{}…", &text[..cut]) } else { text })
}

/// Bytes of stored texts compressed together in the document store (tantivy's default is 16 KB).
/// `raw:` reads the stored text of each candidate it must check, scattered over the store, and
/// decompresses a whole block for each: at 1M mentions, the p95 of a `raw:` checking every
/// candidate was 75 ms with 16 KB blocks and 28 ms with 1 KB blocks, for a store 29 % larger.
const DOCSTORE_BLOCK_BYTES: usize = 1024;

/// A new index of `schema` with this crate's settings.
fn builder(schema: Schema) -> IndexBuilder {
    Index::builder()
        .schema(schema)
        .settings(IndexSettings { docstore_blocksize: DOCSTORE_BLOCK_BYTES, ..IndexSettings::default() })
}

impl SearchIndex {
    /// Opens the index in `dir`, creating the directory and an empty index if needed. An index of
    /// another schema (an earlier version's), or one that cannot be read (a damaged `meta.json`, a
    /// missing segment file), is deleted with everything else in `dir`, and an empty one created:
    /// the caller rebuilds it from the database ([`Self::was_rebuilt`]). Other failures (a disk
    /// error, another process writing) are returned and delete nothing.
    pub fn open_or_create(dir: &Path) -> Result<Self, SearchError> {
        std::fs::create_dir_all(dir)?;
        let (schema, fields) = Fields::schema();
        let (mut rebuilt, mut lock) = (None, None);
        let directory = MmapDirectory::open(dir)?;
        if Index::exists(&directory)? {
            let why = match Index::open(directory.clone()) {
                Ok(existing) if existing.schema() == schema => match Self::reader(&existing) {
                    Ok(reader) => return Ok(Self { index: existing, reader, fields, rebuilt: None }),
                    Err(e) if is_damage(&e) => damage(&e),
                    Err(e) => return Err(e.into()),
                },
                Ok(_) => Rebuilt::Layout,
                Err(e) if is_damage(&e) => damage(&e),
                Err(e) => return Err(e.into()),
            };
            // Not while another process writes it: its writer lock is taken first, and kept
            // (the lock file stays) while the rest of the directory goes and the new index is
            // created.
            lock = Some(directory.acquire_lock(&INDEX_WRITER_LOCK).map_err(|_| SearchError::Locked)?);
            for entry in std::fs::read_dir(dir)? {
                let path = entry?.path();
                if path.file_name() == INDEX_WRITER_LOCK.filepath.file_name() {
                    continue;
                }
                if path.is_dir() { std::fs::remove_dir_all(&path) } else { std::fs::remove_file(&path) }?;
            }
            rebuilt = Some(why);
        }
        let index = builder(schema).create_in_dir(dir)?;
        drop(lock);
        let reader = Self::reader(&index)?;
        Ok(Self { index, reader, fields, rebuilt })
    }

    /// A fresh index in memory (tests, tools).
    pub fn in_ram() -> Result<Self, SearchError> {
        let (schema, fields) = Fields::schema();
        let index = builder(schema).create_in_ram()?;
        let reader = Self::reader(&index)?;
        Ok(Self { index, reader, fields, rebuilt: None })
    }

    /// Registers the analyzers on `index` and opens its reader (every segment).
    fn reader(index: &Index) -> tantivy::Result<IndexReader> {
        register_analyzers(index.tokenizers());
        index.reader_builder().reload_policy(ReloadPolicy::Manual).try_into()
    }

    /// Whether opening found an index it could not use, and replaced it with an empty one: why.
    pub fn was_rebuilt(&self) -> Option<&Rebuilt> {
        self.rebuilt.as_ref()
    }

    /// The index's single writer (the directory is locked until it is dropped).
    pub fn writer(&self, options: WriterOptions) -> Result<MentionWriter, SearchError> {
        let opts = IndexWriterOptions::builder()
            .num_worker_threads(options.threads.max(1))
            .memory_budget_per_thread(options.heap_bytes_per_thread)
            .build();
        let writer = self.index.writer_with_options(opts)?;
        let mut merges = tantivy::merge_policy::LogMergePolicy::default();
        merges.set_min_num_segments(MERGE_SEGMENTS);
        writer.set_merge_policy(Box::new(merges));
        Ok(MentionWriter {
            writer,
            reader: self.reader.clone(),
            fields: self.fields,
            docs: DocBuilder::new(self.fields),
            batch: Vec::with_capacity(SEND_BATCH),
            pending: 0,
        })
    }

    /// Sees what other processes committed (this process's writer reloads on commit).
    pub fn reload(&self) -> Result<(), SearchError> {
        Ok(self.reader.reload()?)
    }

    /// The payload of the index's last commit ([`MentionWriter::commit_with`]), if any: read from
    /// the index's own metadata, so it always describes what the index holds.
    pub fn commit_payload(&self) -> Result<Option<String>, SearchError> {
        Ok(self.index.load_metas()?.payload)
    }

    /// How many mentions are searchable (all workspaces).
    pub fn num_docs(&self) -> u64 {
        self.reader.searcher().num_docs()
    }

    /// Whether a committed segment still holds deleted documents (see
    /// [`MentionWriter::purge_deleted`]).
    pub fn holds_deleted(&self) -> Result<bool, SearchError> {
        Ok(!segments_with_deletes(&self.index)?.is_empty())
    }

    /// How many segments the searchable index has.
    pub fn num_segments(&self) -> usize {
        self.reader.searcher().segment_readers().len()
    }

    /// Searches the mentions of `workspace_id` (and only them).
    pub fn search(&self, workspace_id: i64, request: &SearchRequest) -> Result<SearchResults, SearchError> {
        let filters = request.validate()?;
        let searcher = self.reader.searcher();
        let mut tr = Translator::new(self.fields, self.index.tokenizers(), workspace_id, self.other_langs(&searcher)?);
        let mut clauses: Vec<(Occur, Box<dyn Query>)> =
            vec![(Occur::Must, Box::new(ConstScoreQuery::new(tr.workspace(), 0.0)))];
        if let Some(node) = &request.query {
            clauses.push((Occur::Must, tr.node(node)));
        }
        self.filter_clauses(&filters, &mut clauses);
        let query = BooleanQuery::new(clauses);
        let keep = request.offset + request.limit;
        let collector = MentionCollector {
            sort: request.sort,
            keep,
            after: request.after,
            from_ms: filters.from_ms,
            until_ms: filters.until_ms,
            facets: request.facets,
            day_offset_ms: i64::from(request.day_offset_minutes) * 60_000,
        };
        let collected = searcher.search(&query, &collector)?;
        let hits: Vec<_> = collected.top.into_iter().skip(request.offset).collect();
        let next = (hits.len() == request.limit).then(|| hits.last().map(|h| cursor(request.sort, h))).flatten();
        Ok(SearchResults { total: collected.total, hits, next, facets: collected.facets })
    }

    /// The language keys present in the index other than `fr` and `en` (a handful of terms).
    fn other_langs(&self, searcher: &Searcher) -> Result<Vec<Term>, SearchError> {
        let mut langs = BTreeSet::new();
        for segment in searcher.segment_readers() {
            let inverted = segment.inverted_index(self.fields.lang)?;
            let mut terms = inverted.terms().stream()?;
            while terms.advance() {
                let key = terms.key();
                if key != b"fr" && key != b"en" {
                    langs.insert(key.to_vec());
                }
            }
        }
        let to_term = |k: Vec<u8>| Term::from_field_text(self.fields.lang, &String::from_utf8_lossy(&k));
        Ok(langs.into_iter().map(to_term).collect())
    }

    fn filter_clauses(&self, f: &Filters, clauses: &mut Vec<(Occur, Box<dyn Query>)>) {
        let fl = &self.fields;
        let query_terms = f.query_ids.iter().map(|q| Term::from_field_u64(fl.query, *q as u64)).collect();
        for terms in [
            query_terms,
            text_terms(fl.source, &f.sources),
            text_terms(fl.lang, &f.langs),
            text_terms(fl.sentiment, &f.sentiments),
        ] {
            if terms.is_empty() {
                continue;
            }
            let any: Vec<(Occur, Box<dyn Query>)> = terms
                .into_iter()
                .map(|t| (Occur::Should, Box::new(TermQuery::new(t, IndexRecordOption::Basic)) as Box<dyn Query>))
                .collect();
            clauses.push((Occur::Must, Box::new(ConstScoreQuery::new(Box::new(BooleanQuery::new(any)), 0.0))));
        }
    }
}

fn text_terms(field: Field, values: &[String]) -> Vec<Term> {
    values.iter().map(|v| Term::from_field_text(field, v)).collect()
}

fn cursor(sort: Sort, hit: &crate::request::Hit) -> Cursor {
    match sort {
        Sort::Newest => Cursor::Newest { published_at_ms: hit.published_at_ms, id: hit.id },
        Sort::Relevance => Cursor::Relevance { score: hit.score, id: hit.id },
    }
}

/// The committed segments holding deleted documents. Ids only: a segment's files are kept while
/// anything holds its metadata.
fn segments_with_deletes(index: &Index) -> tantivy::Result<Vec<tantivy::index::SegmentId>> {
    Ok(index.searchable_segment_metas()?.iter().filter(|m| m.has_deletes()).map(|m| m.id()).collect())
}

/// Changes handed to tantivy's indexing threads at once: one channel message (and wake-up) per
/// batch instead of per document, which cost about 12 % of an indexing run's CPU.
const SEND_BATCH: usize = 64;

/// The one writer of an index. Changes are buffered until [`MentionWriter::commit`] (each commit
/// writes and syncs a segment: commit in batches, every few thousand mentions or seconds).
pub struct MentionWriter {
    writer: IndexWriter<TantivyDocument>,
    reader: IndexReader,
    fields: Fields,
    docs: DocBuilder,
    /// Changes not yet handed to the indexing threads, in order.
    batch: Vec<UserOperation>,
    pending: usize,
}

impl std::fmt::Debug for MentionWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MentionWriter").field("pending", &self.pending).finish_non_exhaustive()
    }
}

impl MentionWriter {
    /// Indexes a new mention (its id must not be indexed yet: use [`Self::replace`] otherwise).
    pub fn add(&mut self, mention: &MentionDoc) -> Result<(), SearchError> {
        let doc = self.docs.build(mention)?;
        self.push(UserOperation::Add(doc))
    }

    /// Indexes a mention in place of any indexed one with the same id.
    pub fn replace(&mut self, mention: &MentionDoc) -> Result<(), SearchError> {
        let doc = self.docs.build(mention)?;
        self.push(UserOperation::Delete(Term::from_field_i64(self.fields.id, mention.id)))?;
        self.push(UserOperation::Add(doc))
    }

    /// Removes the mention with this id (nothing if there is none).
    pub fn delete(&mut self, id: i64) -> Result<(), SearchError> {
        self.push(UserOperation::Delete(Term::from_field_i64(self.fields.id, id)))
    }

    fn push(&mut self, op: UserOperation) -> Result<(), SearchError> {
        self.batch.push(op);
        self.pending += 1;
        if self.batch.len() >= SEND_BATCH { self.send() } else { Ok(()) }
    }

    /// Hands the buffered changes to the indexing threads, in order.
    fn send(&mut self) -> Result<(), SearchError> {
        if !self.batch.is_empty() {
            self.writer.run(std::mem::replace(&mut self.batch, Vec::with_capacity(SEND_BATCH)))?;
        }
        Ok(())
    }

    /// Changes since the last commit.
    pub fn pending(&self) -> usize {
        self.pending
    }

    /// Makes the buffered changes durable and searchable.
    pub fn commit(&mut self) -> Result<(), SearchError> {
        self.send()?;
        self.writer.commit()?;
        self.pending = 0;
        self.reader.reload()?;
        Ok(())
    }

    /// [`Self::commit`], recording `payload` in the same atomic commit (see
    /// [`SearchIndex::commit_payload`]): what a follower has indexed up to, for instance.
    pub fn commit_with(&mut self, payload: &str) -> Result<(), SearchError> {
        self.send()?;
        let mut prepared = self.writer.prepare_commit()?;
        prepared.set_payload(payload);
        prepared.commit()?;
        self.pending = 0;
        self.reader.reload()?;
        Ok(())
    }

    /// Rewrites each segment holding deleted documents without them (a merge of the segment
    /// alone), so that an erased mention leaves the index files, not only the results: until a
    /// merge, a deleted document's words, positions and stored text stay on disk. Waits for the
    /// merges (on a large index, seconds per segment). Returns how many segments still hold
    /// deleted documents: those a background merge was already rewriting (it may carry the
    /// deletions over): call again later.
    pub fn purge_deleted(&mut self) -> Result<usize, SearchError> {
        let mut left = 0;
        for id in segments_with_deletes(self.writer.index())? {
            if self.writer.merge(&[id]).wait().is_err() {
                left += 1;
            }
        }
        // The replaced files go once nothing maps them: this writer's reader moves on first.
        self.reader.reload()?;
        self.writer.garbage_collect_files().wait()?;
        Ok(left)
    }

    /// Merges every searchable segment into one (after a bulk load), then waits for merges to end.
    pub fn merge_all(mut self) -> Result<(), SearchError> {
        let ids = self.writer.index().searchable_segment_ids()?;
        if ids.len() > 1 {
            self.writer.merge(&ids).wait()?;
        }
        self.writer.wait_merging_threads()?;
        self.reader.reload()?;
        Ok(())
    }

    /// Waits for background merges to end and releases the index lock.
    pub fn finish(self) -> Result<(), SearchError> {
        self.writer.wait_merging_threads()?;
        self.reader.reload()?;
        Ok(())
    }
}
