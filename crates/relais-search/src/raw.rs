//! `raw:` in search: the candidates of a folded phrase, kept only where the stored text holds the
//! pattern exactly as the listening matcher checks it ([`relais_query::eval::raw_occurs`]: case,
//! accents and punctuation, not glued to a word character).
//!
//! The folded phrase finds every document holding the pattern (its words are the pattern's words,
//! folded, in order), so checking its candidates loses none. Each check reads the candidate's
//! stored text from the segment's document store (blocks are decompressed once and cached).

use std::cmp::Ordering;

use tantivy::postings::{Postings, SegmentPostings};
use tantivy::query::{EmptyScorer, EnableScoring, Explanation, Query, Scorer, Weight};
use tantivy::schema::IndexRecordOption;
use tantivy::schema::{Field, Value};
use tantivy::store::StoreReader;
use tantivy::{DocId, DocSet, Score, SeekDangerResult, SegmentReader, TERMINATED, TantivyDocument, Term};

/// Decompressed document-store blocks kept per segment while a query runs.
const STORE_CACHE_BLOCKS: usize = 16;

/// `raw:pattern` over `candidates` (the folded phrase of its words).
#[derive(Debug)]
pub(crate) struct RawQuery {
    candidates: Box<dyn Query>,
    field: Field,
    pattern: String,
}

impl RawQuery {
    pub(crate) fn new(candidates: Box<dyn Query>, field: Field, pattern: &str) -> Self {
        Self { candidates, field, pattern: pattern.to_owned() }
    }
}

impl Clone for RawQuery {
    fn clone(&self) -> Self {
        Self { candidates: self.candidates.box_clone(), field: self.field, pattern: self.pattern.clone() }
    }
}

impl Query for RawQuery {
    fn weight(&self, enable_scoring: EnableScoring<'_>) -> tantivy::Result<Box<dyn Weight>> {
        Ok(Box::new(RawWeight {
            candidates: self.candidates.weight(enable_scoring)?,
            field: self.field,
            pattern: self.pattern.clone(),
        }))
    }

    fn query_terms<'a>(&'a self, visitor: &mut dyn FnMut(&'a Term, bool)) {
        self.candidates.query_terms(visitor);
    }
}

struct RawWeight {
    candidates: Box<dyn Weight>,
    field: Field,
    pattern: String,
}

impl RawWeight {
    /// A scorer on the first candidate, not checked yet.
    fn unchecked(&self, reader: &SegmentReader, boost: Score) -> tantivy::Result<RawScorer> {
        Ok(RawScorer {
            candidates: self.candidates.scorer(reader, boost)?,
            store: reader.get_store_reader(STORE_CACHE_BLOCKS)?,
            field: self.field,
            pattern: self.pattern.clone(),
        })
    }
}

impl Weight for RawWeight {
    fn scorer(&self, reader: &SegmentReader, boost: Score) -> tantivy::Result<Box<dyn Scorer>> {
        let mut scorer = self.unchecked(reader, boost)?;
        scorer.skip_unchecked();
        Ok(Box::new(scorer))
    }

    /// In an intersection led by another clause (the workspace, a rarer word): checks `target`
    /// only, instead of every candidate from the segment's start (the default builds a whole
    /// scorer, which reads texts until one matches). Mirrors tantivy's `DocPredicateDocSet`.
    fn scorer_danger(
        &self,
        reader: &SegmentReader,
        target: DocId,
        boost: Score,
    ) -> tantivy::Result<(SeekDangerResult, Box<dyn Scorer>)> {
        let mut scorer = self.unchecked(reader, boost)?;
        let first = scorer.candidates.doc();
        if target >= TERMINATED {
            if first < TERMINATED {
                scorer.candidates.seek(TERMINATED);
            }
            return Ok((SeekDangerResult::SeekLowerBound(TERMINATED), Box::new(scorer)));
        }
        let result = match first.cmp(&target) {
            Ordering::Less => scorer.seek_danger(target),
            Ordering::Equal => scorer.check(target),
            Ordering::Greater => SeekDangerResult::SeekLowerBound(first),
        };
        Ok((result, Box::new(scorer)))
    }

    fn explain(&self, reader: &SegmentReader, doc: DocId) -> tantivy::Result<Explanation> {
        if self.scorer(reader, 1.0)?.seek(doc) != doc {
            return Err(does_not_match(doc));
        }
        self.candidates.explain(reader, doc)
    }
}

/// What `explain` answers for a document the query does not match.
fn does_not_match(doc: DocId) -> tantivy::TantivyError {
    tantivy::TantivyError::InvalidArgument(format!("document {doc} does not match raw:"))
}

struct RawScorer {
    candidates: Box<dyn Scorer>,
    store: StoreReader,
    field: Field,
    pattern: String,
}

impl RawScorer {
    /// Whether the stored text of `doc` holds the pattern. A document whose text cannot be read
    /// does not match (the store is written with every document, so only a damaged index has
    /// none; the query still answers).
    fn holds(&self, doc: DocId) -> bool {
        let Ok(stored) = self.store.get::<TantivyDocument>(doc) else { return false };
        stored
            .get_first(self.field)
            .and_then(|v| v.as_str())
            .is_some_and(|text| relais_query::eval::raw_occurs(text, &self.pattern))
    }

    /// [`Self::holds`] as a seek result: `target` is a candidate.
    fn check(&self, target: DocId) -> SeekDangerResult {
        if self.holds(target) { SeekDangerResult::Found } else { SeekDangerResult::SeekLowerBound(target + 1) }
    }

    /// Moves past candidates whose text does not hold the pattern; returns the document it stops on.
    fn skip_unchecked(&mut self) -> DocId {
        let mut doc = self.candidates.doc();
        while doc != TERMINATED && !self.holds(doc) {
            doc = self.candidates.advance();
        }
        doc
    }
}

impl DocSet for RawScorer {
    fn advance(&mut self) -> DocId {
        self.candidates.advance();
        self.skip_unchecked()
    }

    fn seek(&mut self, target: DocId) -> DocId {
        let doc = self.candidates.doc();
        if target <= doc {
            return doc;
        }
        self.candidates.seek(target);
        self.skip_unchecked()
    }

    /// Checks `target` alone (what intersections ask of all but their leading clause): the
    /// default would read texts from `target` on until one matches.
    fn seek_danger(&mut self, target: DocId) -> SeekDangerResult {
        match self.candidates.seek_danger(target) {
            SeekDangerResult::Found => self.check(target),
            lower_bound => lower_bound,
        }
    }

    fn doc(&self) -> DocId {
        self.candidates.doc()
    }

    fn size_hint(&self) -> u32 {
        self.candidates.size_hint()
    }

    fn cost(&self) -> u64 {
        // Reading and checking stored texts: dearer than walking postings.
        self.candidates.cost().saturating_mul(8)
    }
}

impl Scorer for RawScorer {
    fn score(&mut self) -> Score {
        self.candidates.score()
    }
}

/// `raw:word` for a word folding does not change (lower-case ASCII letters and digits): the
/// documents where the folded field holds the word more often than the exact field holds its
/// marker (`~word`, one per word written otherwise that folds to it, such as `Orange`):
/// the difference is how often the word occurs as written ([`crate::schema::ExactWords`]). Only
/// postings are read.
#[derive(Debug, Clone)]
pub(crate) struct LowerWordQuery {
    folded: Term,
    marker: Term,
}

impl LowerWordQuery {
    pub(crate) fn new(folded: Term, marker: Term) -> Self {
        Self { folded, marker }
    }
}

impl Query for LowerWordQuery {
    fn weight(&self, _: EnableScoring<'_>) -> tantivy::Result<Box<dyn Weight>> {
        Ok(Box::new(self.clone()))
    }

    fn query_terms<'a>(&'a self, visitor: &mut dyn FnMut(&'a Term, bool)) {
        visitor(&self.folded, false);
    }
}

impl Weight for LowerWordQuery {
    fn scorer(&self, reader: &SegmentReader, _boost: Score) -> tantivy::Result<Box<dyn Scorer>> {
        let read = |term: &Term| -> tantivy::Result<Option<SegmentPostings>> {
            Ok(reader.inverted_index(term.field())?.read_postings(term, IndexRecordOption::WithFreqs)?)
        };
        let Some(folded) = read(&self.folded)? else { return Ok(Box::new(EmptyScorer)) };
        let mut scorer = LowerWordScorer { folded, marker: read(&self.marker)? };
        scorer.skip_written_otherwise();
        Ok(Box::new(scorer))
    }

    fn explain(&self, reader: &SegmentReader, doc: DocId) -> tantivy::Result<Explanation> {
        if self.scorer(reader, 1.0)?.seek(doc) != doc {
            return Err(does_not_match(doc));
        }
        Ok(Explanation::new("raw: word as written", 1.0))
    }
}

struct LowerWordScorer {
    folded: SegmentPostings,
    marker: Option<SegmentPostings>,
}

impl LowerWordScorer {
    /// Whether the current document holds the word as written.
    fn as_written(&mut self) -> bool {
        let doc = self.folded.doc();
        let otherwise = match &mut self.marker {
            Some(m) => {
                if m.doc() < doc {
                    m.seek(doc);
                }
                if m.doc() == doc { m.term_freq() } else { 0 }
            }
            None => 0,
        };
        self.folded.term_freq() > otherwise
    }

    fn skip_written_otherwise(&mut self) -> DocId {
        while self.folded.doc() != TERMINATED && !self.as_written() {
            self.folded.advance();
        }
        self.folded.doc()
    }
}

impl DocSet for LowerWordScorer {
    fn advance(&mut self) -> DocId {
        self.folded.advance();
        self.skip_written_otherwise()
    }

    fn seek(&mut self, target: DocId) -> DocId {
        if target <= self.folded.doc() {
            return self.folded.doc();
        }
        self.folded.seek(target);
        self.skip_written_otherwise()
    }

    fn doc(&self) -> DocId {
        self.folded.doc()
    }

    fn size_hint(&self) -> u32 {
        self.folded.size_hint()
    }
}

impl Scorer for LowerWordScorer {
    fn score(&mut self) -> Score {
        1.0
    }
}
