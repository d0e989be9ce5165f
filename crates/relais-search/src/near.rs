//! `NEAR`/`ONEAR` between any positional operands of one field (words, prefixes, phrases, `OR`
//! groups of them, nested `NEAR`), with the matcher's semantics exactly: each operand occurs as a
//! span of token positions (a phrase from its first word to its last), and two spans match when
//! they do not overlap and at most `distance` tokens lie between them (`ONEAR`: left first); a
//! `NEAR` spans both ([`relais_query::eval::spans`], [`relais_query::eval::near_spans`]).
//!
//! tantivy's phrase slop cannot say this (it is one budget shared by the whole phrase), so
//! [`NearQuery`] walks the postings itself. Per segment: every term of the tree is read with its
//! positions (a prefix: every term of the field's dictionary starting with it); the candidate
//! documents are those holding a term of the side with fewer documents (each side needs one of
//! its own terms to occur); at each candidate every term is moved there, and the spans are
//! computed from the positions, bottom-up. Scores are constant: search orders by date.
//!
//! A prefix standing for more than [`HEAP_FROM`] words keeps its postings in a heap by document,
//! so a broad prefix costs what its postings hold rather than its number of words at every
//! candidate; one standing for more than [`MAX_PREFIX_WORDS`] words in a segment is refused (each
//! word is read with its positions), with a message saying which prefix.

use relais_query::eval::near_spans;
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use tantivy::postings::{Postings, SegmentPostings};
use tantivy::query::{EnableScoring, Explanation, Query, Scorer, Weight};
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::{DocId, DocSet, Score, SegmentReader, TERMINATED, TantivyError, Term};

/// The most words a prefix of a `NEAR` operand may stand for in one segment (each is read with
/// its positions); beyond, the search is refused ([`crate::SearchError::InvalidRequest`]).
pub const MAX_PREFIX_WORDS: usize = 10_000;

/// Leaves of more words than this keep their postings in a heap (fewer: a linear scan is cheaper).
const HEAP_FROM: usize = 16;

/// How a too broad prefix is told to [`crate::SearchError`] (followed by the prefix).
pub(crate) const PREFIX_TOO_BROAD: &str = "relais: NEAR prefix too broad: ";

/// A positional operand in one field.
#[derive(Debug, Clone)]
pub(crate) enum Span {
    /// One term.
    Term(Term),
    /// Every term of the field starting with these bytes.
    Prefix(String),
    /// Terms at their positions relative to the first (gaps where an analyzer dropped a stop word).
    Phrase(Vec<(u32, Term)>),
    /// Any of these.
    Or(Vec<Span>),
    /// Both, near each other.
    Near { left: Box<Span>, right: Box<Span>, distance: u32, ordered: bool },
}

/// Documents where `left` and `right` occur near each other in `field`.
#[derive(Debug, Clone)]
pub(crate) struct NearQuery {
    field: Field,
    left: Span,
    right: Span,
    distance: u32,
    ordered: bool,
}

impl NearQuery {
    pub(crate) fn new(field: Field, left: Span, right: Span, distance: u32, ordered: bool) -> Self {
        Self { field, left, right, distance, ordered }
    }
}

impl Query for NearQuery {
    fn weight(&self, _: EnableScoring<'_>) -> tantivy::Result<Box<dyn Weight>> {
        Ok(Box::new(self.clone()))
    }

    fn query_terms<'a>(&'a self, visitor: &mut dyn FnMut(&'a Term, bool)) {
        fn visit<'a>(span: &'a Span, visitor: &mut dyn FnMut(&'a Term, bool)) {
            match span {
                Span::Term(t) => visitor(t, true),
                Span::Prefix(_) => {}
                Span::Phrase(terms) => terms.iter().for_each(|(_, t)| visitor(t, true)),
                Span::Or(children) => children.iter().for_each(|c| visit(c, visitor)),
                Span::Near { left, right, .. } => {
                    visit(left, visitor);
                    visit(right, visitor);
                }
            }
        }
        visit(&self.left, visitor);
        visit(&self.right, visitor);
    }
}

impl Weight for NearQuery {
    fn scorer(&self, reader: &SegmentReader, boost: Score) -> tantivy::Result<Box<dyn Scorer>> {
        Ok(Box::new(NearScorer::new(self, reader, boost)?))
    }

    fn explain(&self, reader: &SegmentReader, doc: DocId) -> tantivy::Result<Explanation> {
        let mut scorer = NearScorer::new(self, reader, 1.0)?;
        if scorer.seek(doc) == doc {
            Ok(Explanation::new("NEAR", scorer.score()))
        } else {
            Err(TantivyError::InvalidArgument(format!("document {doc} does not match")))
        }
    }
}

/// A [`Span`] compiled for one segment: leaves are indices into [`NearScorer::leaves`].
enum Node {
    Leaf(usize),
    Phrase(Vec<(u32, usize)>),
    Or(Vec<Node>),
    Near { left: Box<Node>, right: Box<Node>, distance: u32, ordered: bool },
}

/// One term (or the terms of one prefix) of the tree in a segment, and its positions in the
/// current candidate.
///
/// The postings are kept in a heap by current document, so that moving the leaf to a document
/// touches only the postings behind it: a prefix of many rare words costs what its postings hold,
/// not its number of words at every candidate.
struct Leaf {
    postings: Vec<SegmentPostings>,
    /// `(current document, index in postings)` of the postings not yet exhausted.
    heap: BinaryHeap<Reverse<(DocId, usize)>>,
    positions: Vec<u32>,
    at: Vec<usize>,
}

impl Leaf {
    fn new(postings: Vec<SegmentPostings>) -> Self {
        let heap = postings
            .iter()
            .filter(|_| postings.len() > HEAP_FROM)
            .enumerate()
            .filter(|(_, p)| p.doc() != TERMINATED)
            .map(|(i, p)| Reverse((p.doc(), i)))
            .collect();
        Self { postings, heap, positions: Vec::new(), at: Vec::new() }
    }

    fn doc_freq(&self) -> u64 {
        self.postings.iter().map(|p| u64::from(p.size_hint())).sum()
    }

    /// Moves every posting behind `target` to it (or past it); returns the leaf's first document
    /// at or after `target`.
    fn seek(&mut self, target: DocId) -> DocId {
        if self.postings.len() <= HEAP_FROM {
            // One word (most leaves) or a few: no heap.
            let mut first = TERMINATED;
            for p in &mut self.postings {
                first = first.min(if p.doc() < target { p.seek(target) } else { p.doc() });
            }
            return first;
        }
        while let Some(&Reverse((doc, i))) = self.heap.peek() {
            if doc >= target {
                return doc;
            }
            self.heap.pop();
            let next = self.postings[i].seek(target);
            if next != TERMINATED {
                self.heap.push(Reverse((next, i)));
            }
        }
        TERMINATED
    }

    /// Reads the positions of the leaf's words in `doc` (none when it has none).
    fn read(&mut self, doc: DocId) {
        self.positions.clear();
        if self.seek(doc) != doc {
            return;
        }
        if self.postings.len() <= HEAP_FROM {
            for p in self.postings.iter_mut().filter(|p| p.doc() == doc) {
                p.append_positions_with_offset(0, &mut self.positions);
            }
            if self.postings.len() > 1 {
                self.positions.sort_unstable();
                self.positions.dedup();
            }
            return;
        }
        self.at.clear();
        while let Some(&Reverse((d, i))) = self.heap.peek() {
            if d != doc {
                break;
            }
            self.heap.pop();
            self.at.push(i);
        }
        for &i in &self.at {
            self.postings[i].append_positions_with_offset(0, &mut self.positions);
            self.heap.push(Reverse((doc, i)));
        }
        self.positions.sort_unstable();
        self.positions.dedup();
    }
}

struct NearScorer {
    root: Node,
    leaves: Vec<Leaf>,
    /// The leaves of the cheaper side: every match holds one of them.
    driver: Vec<usize>,
    doc: DocId,
    score: Score,
}

impl NearScorer {
    fn new(query: &NearQuery, reader: &SegmentReader, boost: Score) -> tantivy::Result<Self> {
        let index = reader.inverted_index(query.field)?;
        let mut leaves = Vec::new();
        let mut compile = |span: &Span| compile(span, &index, &mut leaves);
        let (left, right) = (compile(&query.left)?, compile(&query.right)?);
        let (mut lefts, mut rights) = (Vec::new(), Vec::new());
        leaves_of(&left, &mut lefts);
        leaves_of(&right, &mut rights);
        let cost = |side: &[usize]| side.iter().map(|&l| leaves[l].doc_freq()).sum::<u64>();
        let driver = if cost(&lefts) <= cost(&rights) { lefts } else { rights };
        let root = Node::Near {
            left: Box::new(left),
            right: Box::new(right),
            distance: query.distance,
            ordered: query.ordered,
        };
        let mut scorer = Self { root, leaves, driver, doc: 0, score: boost };
        scorer.doc = scorer.next_match(0);
        Ok(scorer)
    }

    /// The first matching document at or after `target`.
    fn next_match(&mut self, mut target: DocId) -> DocId {
        loop {
            let mut candidate = TERMINATED;
            for &l in &self.driver {
                candidate = candidate.min(self.leaves[l].seek(target));
            }
            if candidate == TERMINATED || self.matches(candidate) {
                return candidate;
            }
            target = candidate + 1;
        }
    }

    /// Whether the spans meet in `doc` (every leaf is moved to `doc`).
    fn matches(&mut self, doc: DocId) -> bool {
        for leaf in &mut self.leaves {
            leaf.read(doc);
        }
        !spans(&self.root, &self.leaves).is_empty()
    }
}

fn compile(span: &Span, index: &tantivy::InvertedIndexReader, leaves: &mut Vec<Leaf>) -> tantivy::Result<Node> {
    let mut leaf = |postings: Vec<SegmentPostings>| {
        leaves.push(Leaf::new(postings));
        leaves.len() - 1
    };
    let read = |term: &Term| index.read_postings(term, IndexRecordOption::WithFreqsAndPositions);
    Ok(match span {
        Span::Term(term) => Node::Leaf(leaf(read(term)?.into_iter().collect())),
        Span::Prefix(prefix) => {
            let mut postings = Vec::new();
            let mut terms = index.terms().range().ge(prefix.as_bytes()).into_stream()?;
            while terms.advance() && terms.key().starts_with(prefix.as_bytes()) {
                if postings.len() == MAX_PREFIX_WORDS {
                    return Err(TantivyError::InvalidArgument(format!("{PREFIX_TOO_BROAD}{prefix}")));
                }
                postings
                    .push(index.read_postings_from_terminfo(terms.value(), IndexRecordOption::WithFreqsAndPositions)?);
            }
            Node::Leaf(leaf(postings))
        }
        Span::Phrase(terms) => {
            let mut parts = Vec::with_capacity(terms.len());
            for (offset, term) in terms {
                parts.push((*offset, leaf(read(term)?.into_iter().collect())));
            }
            Node::Phrase(parts)
        }
        Span::Or(children) => Node::Or(children.iter().map(|c| compile(c, index, leaves)).collect::<Result<_, _>>()?),
        Span::Near { left, right, distance, ordered } => Node::Near {
            left: Box::new(compile(left, index, leaves)?),
            right: Box::new(compile(right, index, leaves)?),
            distance: *distance,
            ordered: *ordered,
        },
    })
}

fn leaves_of(node: &Node, out: &mut Vec<usize>) {
    match node {
        Node::Leaf(l) => out.push(*l),
        Node::Phrase(parts) => out.extend(parts.iter().map(|(_, l)| *l)),
        Node::Or(children) => children.iter().for_each(|c| leaves_of(c, out)),
        Node::Near { left, right, .. } => {
            leaves_of(left, out);
            leaves_of(right, out);
        }
    }
}

/// The spans of `node` in the current candidate (first and last token position).
fn spans(node: &Node, leaves: &[Leaf]) -> Vec<(u32, u32)> {
    match node {
        Node::Leaf(l) => leaves[*l].positions.iter().map(|&p| (p, p)).collect(),
        Node::Phrase(parts) => {
            let Some(&(first_offset, first)) = parts.first() else { return Vec::new() };
            let last_offset = parts.last().map_or(first_offset, |(o, _)| *o);
            leaves[first]
                .positions
                .iter()
                .filter_map(|&p| p.checked_sub(first_offset))
                .filter(|&start| {
                    parts[1..].iter().all(|(offset, l)| leaves[*l].positions.binary_search(&(start + offset)).is_ok())
                })
                .map(|start| (start + first_offset, start + last_offset))
                .collect()
        }
        Node::Or(children) => children.iter().flat_map(|c| spans(c, leaves)).collect(),
        Node::Near { left, right, distance, ordered } => {
            near_spans(&spans(left, leaves), &spans(right, leaves), *distance, *ordered)
        }
    }
}

impl DocSet for NearScorer {
    fn advance(&mut self) -> DocId {
        if self.doc != TERMINATED {
            self.doc = self.next_match(self.doc + 1);
        }
        self.doc
    }

    fn seek(&mut self, target: DocId) -> DocId {
        if target > self.doc {
            self.doc = self.next_match(target);
        }
        self.doc
    }

    fn doc(&self) -> DocId {
        self.doc
    }

    fn size_hint(&self) -> u32 {
        self.driver.iter().map(|&l| self.leaves[l].doc_freq()).sum::<u64>().min(u64::from(u32::MAX)) as u32
    }
}

impl Scorer for NearScorer {
    fn score(&mut self) -> Score {
        self.score
    }
}
