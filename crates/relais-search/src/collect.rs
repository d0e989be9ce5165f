//! One collector for everything a search returns, in a single pass over the matching documents:
//! the total, the top hits (by time or score, after an optional cursor, within the time range)
//! and the facet counts (by term ordinal per segment, turned into strings once per segment).

use crate::request::{Cursor, DayCount, FacetCount, Facets, Hit, Sort};
use rustc_hash::FxHashMap as HashMap;
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use tantivy::collector::{Collector, SegmentCollector};
use tantivy::columnar::{Column, StrColumn};
use tantivy::{DocId, Score, SegmentOrdinal, SegmentReader};

const DAY_MS: i64 = 86_400_000;
/// A dense day counter covers at most this many days; wider spans use a map.
const DENSE_DAYS: i64 = 4_096;

/// What the collector needs from the request.
pub(crate) struct MentionCollector {
    pub sort: Sort,
    /// How many top entries to keep (`offset + limit`).
    pub keep: usize,
    pub after: Option<Cursor>,
    pub from_ms: Option<i64>,
    pub until_ms: Option<i64>,
    pub facets: bool,
    pub day_offset_ms: i64,
}

/// A hit with its total order key: larger is better.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Entry {
    primary: i64,
    id: i64,
    published: i64,
    score_bits: u32,
}

impl Entry {
    fn hit(&self) -> Hit {
        Hit { id: self.id, score: f32::from_bits(self.score_bits), published_at_ms: self.published }
    }
}

/// Maps a score to an `i64` that orders like the score.
fn score_key(score: f32) -> i64 {
    let bits = score.to_bits() as i32;
    i64::from(if bits < 0 { !(bits & i32::MAX) } else { bits })
}

impl MentionCollector {
    fn cursor_key(&self) -> Option<(i64, i64)> {
        self.after.map(|c| match c {
            Cursor::Newest { published_at_ms, id } => (published_at_ms, id),
            Cursor::Relevance { score, id } => (score_key(score), id),
        })
    }
}

/// The collected result before paging.
pub(crate) struct Collected {
    pub total: u64,
    /// The kept entries, best first.
    pub top: Vec<Hit>,
    pub facets: Option<Facets>,
}

impl Collector for MentionCollector {
    type Fruit = Collected;
    type Child = SegmentMentions;

    fn for_segment(&self, _: SegmentOrdinal, reader: &SegmentReader) -> tantivy::Result<SegmentMentions> {
        let ff = reader.fast_fields();
        let facets = if self.facets {
            Some(SegmentFacets {
                queries: ff.u64("query")?,
                source: OrdCounter::new(ff.str("source")?),
                lang: OrdCounter::new(ff.str("lang")?),
                sentiment: OrdCounter::new(ff.str("sentiment")?),
                days: DayCounter::new(&ff.i64("published")?, self.day_offset_ms),
                query_counts: HashMap::default(),
                day_offset_ms: self.day_offset_ms,
            })
        } else {
            None
        };
        Ok(SegmentMentions {
            ids: ff.i64("id")?,
            published: ff.i64("published")?,
            sort: self.sort,
            keep: self.keep,
            after: self.cursor_key(),
            from: self.from_ms.unwrap_or(i64::MIN),
            until: self.until_ms,
            heap: BinaryHeap::with_capacity(self.keep.min(1024) + 1),
            total: 0,
            facets,
            ts_buf: Vec::new(),
            kept: Vec::new(),
            kept_ts: Vec::new(),
        })
    }

    fn requires_scoring(&self) -> bool {
        self.sort == Sort::Relevance
    }

    fn merge_fruits(&self, fruits: Vec<SegmentFruit>) -> tantivy::Result<Collected> {
        let mut total = 0;
        let mut entries = Vec::new();
        let mut facets = self.facets.then(FacetsAcc::default);
        for f in fruits {
            total += f.total;
            entries.extend(f.top);
            if let (Some(acc), Some(sf)) = (facets.as_mut(), f.facets) {
                acc.merge(sf);
            }
        }
        entries.sort_unstable_by(|a, b| b.cmp(a));
        entries.truncate(self.keep);
        Ok(Collected {
            total,
            top: entries.iter().map(Entry::hit).collect(),
            facets: facets.map(|acc| acc.finish(self.day_offset_ms)),
        })
    }
}

/// The per-segment part of [`MentionCollector`].
pub(crate) struct SegmentMentions {
    ids: Column<i64>,
    published: Column<i64>,
    sort: Sort,
    keep: usize,
    after: Option<(i64, i64)>,
    from: i64,
    until: Option<i64>,
    heap: BinaryHeap<Reverse<Entry>>,
    total: u64,
    facets: Option<SegmentFacets>,
    /// Reused buffers of the block path: publication times, then the documents kept and theirs.
    ts_buf: Vec<Option<i64>>,
    kept: Vec<DocId>,
    kept_ts: Vec<i64>,
}

pub(crate) struct SegmentFruit {
    total: u64,
    top: Vec<Entry>,
    facets: Option<FacetsSegmentFruit>,
}

impl SegmentMentions {
    fn offer(&mut self, doc: DocId, published: i64, score: Score) {
        let primary = match self.sort {
            Sort::Newest => published,
            Sort::Relevance => score_key(score),
        };
        if self.heap.len() == self.keep && self.heap.peek().is_some_and(|Reverse(min)| primary < min.primary) {
            return;
        }
        let id = self.ids.first(doc).unwrap_or_default();
        if self.after.is_some_and(|cursor| (primary, id) >= cursor) {
            return;
        }
        let entry = Entry { primary, id, published, score_bits: score.to_bits() };
        if self.heap.len() < self.keep {
            self.heap.push(Reverse(entry));
        } else if self.heap.peek().is_some_and(|Reverse(min)| entry > *min) {
            self.heap.pop();
            self.heap.push(Reverse(entry));
        }
    }
}

impl SegmentCollector for SegmentMentions {
    type Fruit = SegmentFruit;

    fn collect(&mut self, doc: DocId, score: Score) {
        let published = self.published.first(doc).unwrap_or_default();
        if published < self.from || self.until.is_some_and(|u| published >= u) {
            return;
        }
        self.total += 1;
        if let Some(f) = self.facets.as_mut() {
            f.count(doc, published);
        }
        if self.keep > 0 {
            self.offer(doc, published, score);
        }
    }

    /// The unscored path (sort by time): column values are read a block at a time.
    fn collect_block(&mut self, docs: &[DocId]) {
        self.ts_buf.clear();
        self.ts_buf.resize(docs.len(), None);
        self.published.first_vals(docs, &mut self.ts_buf);
        self.kept.clear();
        self.kept_ts.clear();
        for (&doc, ts) in docs.iter().zip(&self.ts_buf) {
            let ts = ts.unwrap_or_default();
            if ts >= self.from && self.until.is_none_or(|u| ts < u) {
                self.kept.push(doc);
                self.kept_ts.push(ts);
            }
        }
        self.total += self.kept.len() as u64;
        let (kept, kept_ts) = (std::mem::take(&mut self.kept), std::mem::take(&mut self.kept_ts));
        if let Some(f) = self.facets.as_mut() {
            f.count_block(&kept, &kept_ts);
        }
        if self.keep > 0 {
            for (&doc, &ts) in kept.iter().zip(&kept_ts) {
                self.offer(doc, ts, 0.0);
            }
        }
        (self.kept, self.kept_ts) = (kept, kept_ts);
    }

    fn harvest(self) -> SegmentFruit {
        SegmentFruit {
            total: self.total,
            top: self.heap.into_iter().map(|Reverse(e)| e).collect(),
            facets: self.facets.map(SegmentFacets::harvest),
        }
    }
}

/// Counts of one segment's string column by term ordinal.
struct OrdCounter {
    column: Option<StrColumn>,
    counts: Vec<u64>,
    buf: Vec<Option<u64>>,
}

impl OrdCounter {
    fn new(column: Option<StrColumn>) -> Self {
        let n = column.as_ref().map_or(0, |c| c.num_terms());
        Self { column, counts: vec![0; n], buf: Vec::new() }
    }

    fn count_block(&mut self, docs: &[DocId]) {
        let Some(c) = &self.column else { return };
        self.buf.clear();
        self.buf.resize(docs.len(), None);
        c.ords().first_vals(docs, &mut self.buf);
        for ord in self.buf.iter().flatten() {
            if let Some(slot) = self.counts.get_mut(*ord as usize) {
                *slot += 1;
            }
        }
    }

    fn count(&mut self, doc: DocId) {
        if let Some(c) = &self.column
            && let Some(ord) = c.ords().first(doc)
            && let Some(slot) = self.counts.get_mut(ord as usize)
        {
            *slot += 1;
        }
    }

    fn harvest(self) -> Vec<(String, u64)> {
        let Some(column) = self.column else { return Vec::new() };
        let mut out = Vec::new();
        for (ord, &n) in self.counts.iter().enumerate() {
            let mut s = String::new();
            if n > 0 && column.ord_to_str(ord as u64, &mut s).unwrap_or(false) {
                out.push((s, n));
            }
        }
        out
    }
}

/// Counts by day number (days since the epoch, in the request's offset).
enum DayCounter {
    Dense { first: i64, counts: Vec<u64> },
    Sparse(HashMap<i64, u64>),
}

fn day_of(ms: i64, offset_ms: i64) -> i64 {
    ms.saturating_add(offset_ms).div_euclid(DAY_MS)
}

impl DayCounter {
    fn new(published: &Column<i64>, offset_ms: i64) -> Self {
        let (first, last) = (day_of(published.min_value(), offset_ms), day_of(published.max_value(), offset_ms));
        if last >= first && last - first < DENSE_DAYS {
            Self::Dense { first, counts: vec![0; (last - first + 1) as usize] }
        } else {
            Self::Sparse(HashMap::default())
        }
    }

    fn count(&mut self, day: i64) {
        match self {
            Self::Dense { first, counts } => {
                if let Some(slot) = usize::try_from(day - *first).ok().and_then(|i| counts.get_mut(i)) {
                    *slot += 1;
                }
            }
            Self::Sparse(map) => *map.entry(day).or_default() += 1,
        }
    }

    fn harvest(self) -> Vec<(i64, u64)> {
        match self {
            Self::Dense { first, counts } => {
                counts.into_iter().enumerate().filter(|(_, n)| *n > 0).map(|(i, n)| (first + i as i64, n)).collect()
            }
            Self::Sparse(map) => map.into_iter().collect(),
        }
    }
}

struct SegmentFacets {
    queries: Column<u64>,
    query_counts: HashMap<u64, u64>,
    source: OrdCounter,
    lang: OrdCounter,
    sentiment: OrdCounter,
    days: DayCounter,
    day_offset_ms: i64,
}

struct FacetsSegmentFruit {
    queries: HashMap<u64, u64>,
    sources: Vec<(String, u64)>,
    langs: Vec<(String, u64)>,
    sentiments: Vec<(String, u64)>,
    days: Vec<(i64, u64)>,
}

impl SegmentFacets {
    fn count(&mut self, doc: DocId, published: i64) {
        for q in self.queries.values_for_doc(doc) {
            *self.query_counts.entry(q).or_default() += 1;
        }
        self.source.count(doc);
        self.lang.count(doc);
        self.sentiment.count(doc);
        self.days.count(day_of(published, self.day_offset_ms));
    }

    fn count_block(&mut self, docs: &[DocId], published: &[i64]) {
        for &doc in docs {
            for q in self.queries.values_for_doc(doc) {
                *self.query_counts.entry(q).or_default() += 1;
            }
        }
        self.source.count_block(docs);
        self.lang.count_block(docs);
        self.sentiment.count_block(docs);
        for &ts in published {
            self.days.count(day_of(ts, self.day_offset_ms));
        }
    }

    fn harvest(self) -> FacetsSegmentFruit {
        FacetsSegmentFruit {
            queries: self.query_counts,
            sources: self.source.harvest(),
            langs: self.lang.harvest(),
            sentiments: self.sentiment.harvest(),
            days: self.days.harvest(),
        }
    }
}

#[derive(Default)]
struct FacetsAcc {
    queries: HashMap<i64, u64>,
    sources: HashMap<String, u64>,
    langs: HashMap<String, u64>,
    sentiments: HashMap<String, u64>,
    days: HashMap<i64, u64>,
}

impl FacetsAcc {
    fn merge(&mut self, f: FacetsSegmentFruit) {
        for (q, n) in f.queries {
            *self.queries.entry(q as i64).or_default() += n;
        }
        for (map, counts) in
            [(&mut self.sources, f.sources), (&mut self.langs, f.langs), (&mut self.sentiments, f.sentiments)]
        {
            for (k, n) in counts {
                *map.entry(k).or_default() += n;
            }
        }
        for (d, n) in f.days {
            *self.days.entry(d).or_default() += n;
        }
    }

    fn finish(self, day_offset_ms: i64) -> Facets {
        let mut days: Vec<_> = self.days.into_iter().collect();
        days.sort_unstable();
        Facets {
            queries: by_count(self.queries),
            sources: by_count(self.sources),
            langs: by_count(self.langs),
            sentiments: by_count(self.sentiments),
            days: days
                .into_iter()
                .map(|(day, count)| DayCount {
                    date: civil_date(day),
                    start_ms: day.saturating_mul(DAY_MS).saturating_sub(day_offset_ms),
                    count,
                })
                .collect(),
        }
    }
}

fn by_count<T: Ord>(map: HashMap<T, u64>) -> Vec<FacetCount<T>> {
    let mut v: Vec<_> = map.into_iter().map(|(value, count)| FacetCount { value, count }).collect();
    v.sort_unstable_by(|a, b| b.count.cmp(&a.count).then_with(|| a.value.cmp(&b.value)));
    v
}

/// `YYYY-MM-DD` of a day number (days since 1970-01-01), proleptic Gregorian calendar
/// (Howard Hinnant's `civil_from_days`).
pub(crate) fn civil_date(day: i64) -> String {
    let z = day + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}
