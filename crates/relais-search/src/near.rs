//! `NEAR`/`ONEAR` between any positional operands of one field (words, prefixes, phrases, `OR`
//! groups of them, nested `NEAR`), with the matcher's semantics exactly: each operand occurs as a
//! span of token positions (a phrase from its first word to its last), and two spans match when
//! they do not overlap and at most `distance` tokens lie between them (`ONEAR`: left first); a
//! `NEAR` spans both ([`relais_query::eval::spans`], [`relais_query::eval::near`]).
//!
//! tantivy's phrase slop cannot say this (it is one budget shared by the whole phrase), so
//! [`NearQuery`] walks the postings itself. Per segment: every term of the tree is read with its
//! positions (a prefix: every term of the field's dictionary starting with it); the candidate
//! documents are those holding a term of the side with fewer documents (each side needs one of
//! its own terms to occur); at each candidate every term is moved there, and the spans are
//! computed from the positions, bottom-up. Scores are constant: search orders by date.

use relais_query::eval::near;
use tantivy::postings::{Postings, SegmentPostings};
use tantivy::query::{EnableScoring, Explanation, Query, Scorer, Weight};
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::{DocId, DocSet, Score, SegmentReader, TERMINATED, TantivyError, Term};

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
struct Leaf {
    postings: Vec<SegmentPostings>,
    positions: Vec<u32>,
}

impl Leaf {
    fn doc_freq(&self) -> u64 {
        self.postings.iter().map(|p| u64::from(p.size_hint())).sum()
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
                for p in &mut self.leaves[l].postings {
                    if p.doc() < target {
                        p.seek(target);
                    }
                    candidate = candidate.min(p.doc());
                }
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
            leaf.positions.clear();
            for p in &mut leaf.postings {
                if p.doc() < doc {
                    p.seek(doc);
                }
                if p.doc() == doc {
                    p.append_positions_with_offset(0, &mut leaf.positions);
                }
            }
            if leaf.postings.len() > 1 {
                leaf.positions.sort_unstable();
                leaf.positions.dedup();
            }
        }
        !spans(&self.root, &self.leaves).is_empty()
    }
}

fn compile(span: &Span, index: &tantivy::InvertedIndexReader, leaves: &mut Vec<Leaf>) -> tantivy::Result<Node> {
    let mut leaf = |postings: Vec<SegmentPostings>| {
        leaves.push(Leaf { postings, positions: Vec::new() });
        leaves.len() - 1
    };
    let read = |term: &Term| index.read_postings(term, IndexRecordOption::WithFreqsAndPositions);
    Ok(match span {
        Span::Term(term) => Node::Leaf(leaf(read(term)?.into_iter().collect())),
        Span::Prefix(prefix) => {
            let mut postings = Vec::new();
            let mut terms = index.terms().range().ge(prefix.as_bytes()).into_stream()?;
            while terms.advance() && terms.key().starts_with(prefix.as_bytes()) {
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
            let (ls, rs) = (spans(left, leaves), spans(right, leaves));
            let mut out = Vec::new();
            for &a in &ls {
                for &b in &rs {
                    if near(a, b, *distance, *ordered) {
                        out.push((a.0.min(b.0), a.1.max(b.1)));
                    }
                }
            }
            out
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
