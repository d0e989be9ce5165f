//! The naive evaluator: walks the AST over an analysed post. It is the reference semantics the
//! compiled matcher (relais-listen) is property-tested against, and what `explain` uses.

use crate::ast::{FilterKind, Node, TextField};
use crate::doc::{Doc, for_each_meta_key};
use crate::text::{is_word_char, tokenize};

/// A post cut into tokens, with its metadata keys: analysed once, matched against many queries.
#[derive(Debug, Clone, Default)]
pub struct Analyzed {
    /// The text's tokens; a token's index is its position.
    pub body: Vec<String>,
    /// The title's tokens.
    pub title: Vec<String>,
    /// The text as received, for `raw:`.
    pub raw: String,
    /// For each filter kind (in [`FilterKind`] order), the values the post satisfies.
    pub meta: [Vec<String>; 4],
}

/// A span of token positions `[start, end]` (inclusive) where a positional operand occurs.
pub type Span = (u32, u32);

/// Analyses a post for the naive evaluator.
pub fn analyze(doc: &Doc<'_>) -> Analyzed {
    let mut meta: [Vec<String>; 4] = Default::default();
    for (i, kind) in
        [FilterKind::Lang, FilterKind::Author, FilterKind::Domain, FilterKind::Source].into_iter().enumerate()
    {
        if let Some(v) = doc.meta(kind) {
            for_each_meta_key(kind, v, |k| meta[i].push(k.to_owned()));
        }
    }
    Analyzed {
        body: tokenize(doc.text),
        title: doc.title.map(tokenize).unwrap_or_default(),
        raw: doc.text.to_owned(),
        meta,
    }
}

/// Index of a filter kind in [`Analyzed::meta`].
pub fn kind_index(kind: FilterKind) -> usize {
    match kind {
        FilterKind::Lang => 0,
        FilterKind::Author => 1,
        FilterKind::Domain => 2,
        FilterKind::Source => 3,
    }
}

/// Whether the query matches the post.
pub fn matches(node: &Node, doc: &Analyzed) -> bool {
    match node {
        Node::And(c) => c.iter().all(|n| matches(n, doc)),
        Node::Or(c) => c.iter().any(|n| matches(n, doc)),
        Node::Not(n) => !matches(n, doc),
        Node::Raw(pattern) => raw_occurs(&doc.raw, pattern),
        Node::Filter(kind, value) => doc.meta[kind_index(*kind)].iter().any(|k| k == value),
        Node::Term { .. } | Node::Phrase { .. } | Node::Near { .. } => !spans(node, doc).is_empty(),
    }
}

/// Where a positional operand occurs (empty for non-positional nodes).
pub fn spans(node: &Node, doc: &Analyzed) -> Vec<Span> {
    match node {
        Node::Term { field, token, prefix } => tokens_of(doc, *field)
            .iter()
            .enumerate()
            .filter(|(_, t)| if *prefix { t.starts_with(token.as_str()) } else { *t == token })
            .map(|(i, _)| (i as u32, i as u32))
            .collect(),
        Node::Phrase { field, tokens } => tokens_of(doc, *field)
            .windows(tokens.len())
            .enumerate()
            .filter(|(_, w)| w == tokens)
            .map(|(i, _)| (i as u32, (i + tokens.len() - 1) as u32))
            .collect(),
        Node::Or(c) => c.iter().flat_map(|n| spans(n, doc)).collect(),
        Node::Near { left, right, distance, ordered } => {
            near_spans(&spans(left, doc), &spans(right, doc), *distance, *ordered)
        }
        _ => Vec::new(),
    }
}

/// The spans of `left NEAR/distance right` (`ONEAR` when `ordered`): each pair of spans that are
/// [`near`], joined.
pub fn near_spans(left: &[Span], right: &[Span], distance: u32, ordered: bool) -> Vec<Span> {
    let mut out = Vec::new();
    for &a in left {
        for &b in right {
            if near(a, b, distance, ordered) {
                out.push((a.0.min(b.0), a.1.max(b.1)));
            }
        }
    }
    out
}

/// Whether spans `a` and `b` do not overlap and have at most `distance` tokens between them
/// (`ordered`: `a` first).
pub fn near(a: Span, b: Span, distance: u32, ordered: bool) -> bool {
    if a.1 < b.0 {
        b.0 - a.1 - 1 <= distance
    } else if !ordered && b.1 < a.0 {
        a.0 - b.1 - 1 <= distance
    } else {
        false
    }
}

fn tokens_of(doc: &Analyzed, field: TextField) -> &[String] {
    match field {
        TextField::Body => &doc.body,
        TextField::Title => &doc.title,
    }
}

/// Whether `pattern` occurs in `text` as typed, not glued to a word character on a side where the
/// pattern itself starts or ends with one (`raw:Apple` does not match `Applesauce`).
pub fn raw_occurs(text: &str, pattern: &str) -> bool {
    let Some(first) = pattern.chars().next() else { return false };
    let mut from = 0;
    while let Some(i) = text[from..].find(pattern) {
        let start = from + i;
        if raw_boundary_ok(text, start, start + pattern.len()) {
            return true;
        }
        from = start + first.len_utf8();
    }
    false
}

/// Whether the occurrence `text[start..end]` stands alone (see [`raw_occurs`]).
pub fn raw_boundary_ok(text: &str, start: usize, end: usize) -> bool {
    let inner = &text[start..end];
    let glued_before =
        inner.chars().next().is_some_and(is_word_char) && text[..start].chars().next_back().is_some_and(is_word_char);
    let glued_after =
        inner.chars().next_back().is_some_and(is_word_char) && text[end..].chars().next().is_some_and(is_word_char);
    !glued_before && !glued_after
}
