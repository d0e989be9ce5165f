//! The query AST ([`relais_query::Node`]) translated into tantivy queries (the crate doc lists the
//! rules and where they differ from the listening matcher).

use crate::guard::Excluded;
use crate::near::{NearQuery, Span};
use crate::raw::{LowerWordQuery, RawQuery};
use crate::schema::{
    Fields, MARKER, MAX_TOKEN_BYTES, TextFields, is_emoji, is_exact_word, is_folded_form, written_words,
};
use relais_query::{FilterKind, Node, TextField};
use tantivy::Term;
use tantivy::query::{BooleanQuery, ConstScoreQuery, EmptyQuery, Occur, PhraseQuery, Query, RegexQuery, TermQuery};
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::tokenizer::{TextAnalyzer, TokenizerManager};

/// `NEAR` between two `OR` groups of single words is expanded into word pairs up to this many
/// pairs; beyond, and for phrases, prefixes or nested `NEAR` on a side, it becomes a
/// `near::NearQuery`.
pub const MAX_NEAR_PAIRS: usize = 16;

/// Translates query trees for one index (its fields and analyzers).
pub(crate) struct Translator {
    fields: Fields,
    /// `lang` terms of the index other than `fr` and `en`.
    other_langs: Vec<Term>,
    analyzers: Vec<(&'static str, TextAnalyzer)>,
    workspace: Term,
}

type Q = Box<dyn Query>;

impl Translator {
    pub(crate) fn new(
        fields: Fields,
        tokenizers: &TokenizerManager,
        workspace_id: i64,
        other_langs: Vec<Term>,
    ) -> Self {
        let analyzers =
            fields.body.analyzed().iter().filter_map(|(_, name)| Some((*name, tokenizers.get(name)?))).collect();
        Self { fields, other_langs, analyzers, workspace: Term::from_field_i64(fields.workspace, workspace_id) }
    }

    /// The clause restricting a search to the workspace.
    pub(crate) fn workspace(&self) -> Q {
        Box::new(TermQuery::new(self.workspace.clone(), IndexRecordOption::Basic))
    }

    /// The tantivy query for `node` (within the workspace once the caller adds its clause).
    pub(crate) fn node(&mut self, node: &Node) -> Q {
        match node {
            Node::And(children) => self.and(children),
            Node::Or(children) => {
                let clauses = children.iter().map(|c| (Occur::Should, self.node(c))).collect();
                Box::new(BooleanQuery::new(clauses))
            }
            Node::Not(child) => Box::new(BooleanQuery::new(vec![
                (Occur::Must, self.workspace()),
                (Occur::MustNot, self.excluded(child)),
            ])),
            Node::Term { field, token, prefix } => self.term(self.text_fields(*field), token, *prefix),
            Node::Phrase { field, tokens } => self.phrase(self.text_fields(*field), &tokens.join(" ")),
            Node::Near { left, right, distance, ordered } => self.near(left, right, *distance, *ordered),
            Node::Raw(pattern) => self.raw(pattern),
            Node::Filter(kind, value) => self.filter(*kind, value),
        }
    }

    /// The query for a negated node (see [`Excluded`]).
    fn excluded(&mut self, node: &Node) -> Q {
        Box::new(Excluded(self.node(node)))
    }

    fn and(&mut self, children: &[Node]) -> Q {
        let mut clauses: Vec<(Occur, Q)> = children
            .iter()
            .map(|c| match c {
                Node::Not(inner) => (Occur::MustNot, self.excluded(inner)),
                other => (Occur::Must, self.node(other)),
            })
            .collect();
        if !clauses.iter().any(|(o, _)| *o == Occur::Must) {
            clauses.push((Occur::Must, self.workspace()));
        }
        Box::new(BooleanQuery::new(clauses))
    }

    fn text_fields(&self, field: TextField) -> TextFields {
        match field {
            TextField::Body => self.fields.body,
            TextField::Title => self.fields.title,
        }
    }

    /// The analyzed fields of `fields` with their analyzer.
    fn analyzed(&mut self, fields: TextFields) -> Vec<(Field, &mut TextAnalyzer)> {
        let targets = fields.analyzed();
        self.analyzers
            .iter_mut()
            .filter_map(|(name, a)| targets.iter().find(|(_, n)| n == name).map(|(f, _)| (*f, a)))
            .collect()
    }

    /// A word: a keyword for `#tag`/`@handle`, a regex on the folded field for `word*`, else the
    /// word analyzed by each analyzer and OR'ed across the fields.
    fn term(&mut self, fields: TextFields, token: &str, prefix: bool) -> Q {
        let sigil = token.starts_with(['#', '@']);
        match (sigil, prefix) {
            (true, false) => {
                Box::new(TermQuery::new(Term::from_field_text(fields.tags, token), IndexRecordOption::Basic))
            }
            (true, true) => prefix_query(fields.tags, token),
            (false, true) => prefix_query(fields.fold, token),
            (false, false) => self.phrase(fields, token),
        }
    }

    /// Words in sequence, in each analyzed field where the analyzer keeps every word (a stop word
    /// makes the stemmed fields skip the phrase; the folded field has no stop words).
    fn phrase(&mut self, fields: TextFields, text: &str) -> Q {
        let mut expected = None;
        let mut per_field: Vec<Vec<Q>> = Vec::new();
        for (field, analyzer) in self.analyzed(fields) {
            let terms = analyze(analyzer, field, text);
            // The folded field comes first and sets how many words the text has.
            let n = *expected.get_or_insert(terms.len());
            per_field.push(if terms.is_empty() || terms.len() != n { Vec::new() } else { vec![positional(terms)] });
        }
        if expected == Some(1) {
            // One word: walking its folded postings is cheaper than intersecting them with the
            // other languages (the benchmark's AND and brand queries were slower restricted).
            return combine(per_field.into_iter().flatten().map(|q| (Occur::Should, q)).collect());
        }
        self.across_fields(per_field)
    }

    /// ORs the queries of the folded, French and English fields (in that order). When both stemmed
    /// fields have a query, they already find every French and English document the folded one
    /// would (stems of equal folded words are equal), so the folded query is restricted to the
    /// other languages: an intersection with their few documents instead of a second walk over
    /// the French and English ones, with positions checked (phrases, `NEAR`).
    fn across_fields(&self, mut per_field: Vec<Vec<Q>>) -> Q {
        let stemmed_cover = per_field.len() == 3 && per_field[1..].iter().all(|qs| !qs.is_empty());
        if stemmed_cover && let Some(fold) = per_field.first_mut() {
            let queries = std::mem::take(fold);
            if !self.other_langs.is_empty() && !queries.is_empty() {
                let langs = self
                    .other_langs
                    .iter()
                    .map(|t| (Occur::Should, Box::new(TermQuery::new(t.clone(), IndexRecordOption::Basic)) as Q));
                let fold_any = combine(queries.into_iter().map(|q| (Occur::Should, q)).collect());
                let other = Box::new(ConstScoreQuery::new(Box::new(BooleanQuery::new(langs.collect())), 0.0));
                fold.push(Box::new(BooleanQuery::new(vec![(Occur::Must, other as Q), (Occur::Must, fold_any)])));
            }
        }
        combine(per_field.into_iter().flatten().map(|q| (Occur::Should, q)).collect())
    }

    /// `raw:`, from the exact field alone when the pattern is one word or one emoji (the field
    /// holds whole words as written, markers for lower-case words, and each emoji); otherwise the
    /// documents holding the pattern's folded words in sequence, its exact words and its emoji,
    /// checked against their stored text ([`RawQuery`]). A pattern with none of these (`:)`)
    /// checks every document of the workspace.
    fn raw(&mut self, pattern: &str) -> Q {
        let (fold, exact_field) = (self.fields.body.fold, self.fields.exact);
        let exact = |text: &str| -> Q {
            Box::new(TermQuery::new(Term::from_field_text(exact_field, text), IndexRecordOption::Basic))
        };
        let mut chars = pattern.chars();
        if let (Some(c), None) = (chars.next(), chars.next())
            && is_emoji(c)
        {
            // One emoji: the exact field holds each one a text has.
            return exact(&c.to_string());
        }
        let written = written_words(pattern);
        if written.len() == 1 && written[0] == pattern {
            if is_exact_word(pattern) {
                return exact(pattern);
            }
            if is_folded_form(pattern) && pattern.len() < MAX_TOKEN_BYTES {
                let marker = Term::from_field_text(exact_field, &format!("{MARKER}{pattern}"));
                return Box::new(LowerWordQuery::new(Term::from_field_text(fold, pattern), marker));
            }
        }
        let Some((_, analyzer)) = self.analyzed(self.fields.body).into_iter().next() else {
            return Box::new(EmptyQuery);
        };
        let terms = analyze(analyzer, fold, pattern);
        let words = written.iter().filter(|w| is_exact_word(w)).map(|w| exact(w));
        let emoji = pattern.chars().filter(|c| is_emoji(*c)).map(|c| exact(&c.to_string()));
        let mut clauses: Vec<(Occur, Q)> = words.chain(emoji).map(|q| (Occur::Must, q)).collect();
        if !terms.is_empty() {
            clauses.push((Occur::Must, positional(terms)));
        } else if clauses.is_empty() {
            clauses.push((Occur::Must, self.workspace()));
        }
        Box::new(RawQuery::new(combine(clauses), self.fields.raw, pattern))
    }

    fn filter(&self, kind: FilterKind, value: &str) -> Q {
        let f = &self.fields;
        let field = match kind {
            FilterKind::Lang => f.lang,
            FilterKind::Author => f.author,
            FilterKind::Domain => f.domain,
            FilterKind::Source => f.source,
        };
        Box::new(TermQuery::new(Term::from_field_text(field, value), IndexRecordOption::Basic))
    }

    /// `NEAR`: word pairs become phrases with slop in each analyzed field; other operands an `AND`.
    fn near(&mut self, left: &Node, right: &Node, distance: u32, ordered: bool) -> Q {
        let fields = self.text_fields(left.positional_field().unwrap_or(TextField::Body));
        let pairs = match (single_words(left), single_words(right)) {
            (Some(l), Some(r)) if l.len() * r.len() <= MAX_NEAR_PAIRS => {
                l.iter().flat_map(|a| r.iter().map(move |b| (*a, *b))).collect::<Vec<_>>()
            }
            _ => return self.span_near(fields, left, right, distance, ordered),
        };
        let mut per_field: Vec<Vec<Q>> = Vec::new();
        for (field, analyzer) in self.analyzed(fields) {
            let mut queries = Vec::new();
            let mut complete = true;
            for (a, b) in &pairs {
                let (Some(ta), Some(tb)) = (single_term(analyzer, field, a), single_term(analyzer, field, b)) else {
                    complete = false;
                    continue;
                };
                queries.extend(near_phrases(&ta, &tb, distance));
                if !ordered && ta != tb {
                    queries.extend(near_phrases(&tb, &ta, distance));
                }
            }
            // A stemmed field missing a pair (stop word) does not cover it: keep the folded field whole.
            if !complete {
                queries.clear();
            }
            per_field.push(queries);
        }
        let fold_complete = per_field.first().is_some_and(|f| !f.is_empty());
        if !fold_complete {
            // The folded field lacks a pair too (a word over 100 bytes): OR whatever exists.
            return combine(per_field.into_iter().flatten().map(|q| (Occur::Should, q)).collect());
        }
        self.across_fields(per_field)
    }

    /// `NEAR` with a phrase, a prefix, a nested `NEAR` or a large group on a side: a [`NearQuery`]
    /// in each field whose analyzer gives each word exactly one term (with a prefix, the folded
    /// field only, as for a prefix alone). A side with a `#tag` or an `@handle` (keywords, without
    /// positions) becomes an `AND` of both sides: broader than the matcher.
    fn span_near(&mut self, fields: TextFields, left: &Node, right: &Node, distance: u32, ordered: bool) -> Q {
        let prefix = has_prefix(left) || has_prefix(right);
        let mut per_field: Vec<Vec<Q>> = Vec::new();
        for (i, (field, analyzer)) in self.analyzed(fields).into_iter().enumerate() {
            let spans = if prefix && i > 0 {
                None
            } else {
                span_of(left, analyzer, field).zip(span_of(right, analyzer, field))
            };
            per_field.push(match spans {
                Some((l, r)) => vec![Box::new(NearQuery::new(field, l, r, distance, ordered)) as Q],
                None => Vec::new(),
            });
        }
        if per_field.first().is_none_or(Vec::is_empty) {
            let clauses = vec![(Occur::Must, self.node(left)), (Occur::Must, self.node(right))];
            return Box::new(BooleanQuery::new(clauses));
        }
        self.across_fields(per_field)
    }
}

/// Whether a `NEAR` operand holds a `word*`.
fn has_prefix(node: &Node) -> bool {
    match node {
        Node::Term { prefix, .. } => *prefix,
        Node::Or(children) => children.iter().any(has_prefix),
        Node::Near { left, right, .. } => has_prefix(left) || has_prefix(right),
        _ => false,
    }
}

/// A `NEAR` operand in one analyzed field; `None` when the field cannot express it: a word the
/// analyzer drops (a stop word) or splits, a `#tag`/`@handle`, or a non-positional node.
fn span_of(node: &Node, analyzer: &mut TextAnalyzer, field: Field) -> Option<Span> {
    match node {
        Node::Term { token, .. } if token.starts_with(['#', '@']) => None,
        Node::Term { token, prefix: true, .. } => Some(Span::Prefix(token.clone())),
        Node::Term { token, prefix: false, .. } => single_term(analyzer, field, token).map(Span::Term),
        Node::Phrase { tokens, .. } => {
            let terms = analyze(analyzer, field, &tokens.join(" "));
            if terms.len() != tokens.len() {
                return None;
            }
            let first = terms.first().map_or(0, |(p, _)| *p);
            Some(Span::Phrase(terms.into_iter().map(|(p, t)| ((p - first) as u32, t)).collect()))
        }
        Node::Or(children) => children.iter().map(|c| span_of(c, analyzer, field)).collect::<Option<_>>().map(Span::Or),
        Node::Near { left, right, distance, ordered } => Some(Span::Near {
            left: Box::new(span_of(left, analyzer, field)?),
            right: Box::new(span_of(right, analyzer, field)?),
            distance: *distance,
            ordered: *ordered,
        }),
        _ => None,
    }
}

/// The words of a `NEAR` side made only of plain words (a word or an `OR` of words).
fn single_words(node: &Node) -> Option<Vec<&str>> {
    match node {
        Node::Term { token, prefix: false, .. } if !token.starts_with(['#', '@']) => Some(vec![token.as_str()]),
        Node::Or(children) => {
            let mut out = Vec::new();
            for c in children {
                out.extend(single_words(c)?);
            }
            Some(out)
        }
        _ => None,
    }
}

fn single_term(analyzer: &mut TextAnalyzer, field: Field, word: &str) -> Option<Term> {
    let mut terms = analyze(analyzer, field, word);
    if terms.len() == 1 { terms.pop().map(|(_, t)| t) } else { None }
}

/// Phrases matching `b` at 1 to `distance + 1` positions after `a`. A phrase `[(0, a), (c, b)]`
/// with slop `s` accepts `pos(b) - pos(a)` in `[c - s, c + s]`: an interval of odd length, so an
/// even-length interval is split in two.
fn near_phrases(a: &Term, b: &Term, distance: u32) -> Vec<Q> {
    let (lo, hi) = (1usize, distance as usize + 1);
    let mut ranges = vec![(lo, hi)];
    if (hi - lo) % 2 == 1 {
        ranges = vec![(lo, hi - 1), (hi, hi)];
    }
    ranges
        .into_iter()
        .map(|(lo, hi)| {
            let center = (lo + hi) / 2;
            let slop = ((hi - lo) / 2) as u32;
            Box::new(PhraseQuery::new_with_offset_and_slop(vec![(0, a.clone()), (center, b.clone())], slop)) as Q
        })
        .collect()
}

/// The terms of `text` in `field` with their positions.
fn analyze(analyzer: &mut TextAnalyzer, field: Field, text: &str) -> Vec<(usize, Term)> {
    let mut out = Vec::new();
    let mut stream = analyzer.token_stream(text);
    while let Some(token) = stream.next() {
        out.push((token.position, Term::from_field_text(field, &token.text)));
    }
    out
}

/// A term query for one term, a phrase (with the analyzer's positions) for several.
fn positional(mut terms: Vec<(usize, Term)>) -> Q {
    if terms.len() == 1
        && let Some((_, t)) = terms.pop()
    {
        return Box::new(TermQuery::new(t, IndexRecordOption::WithFreqs));
    }
    let first = terms.first().map_or(0, |(p, _)| *p);
    let terms = terms.into_iter().map(|(p, t)| (p - first, t)).collect();
    Box::new(PhraseQuery::new_with_offset(terms))
}

/// `clauses` as one query: nothing without clauses, the clause itself when there is one.
fn combine(mut clauses: Vec<(Occur, Q)>) -> Q {
    match clauses.len() {
        0 => Box::new(EmptyQuery),
        1 => clauses.pop().map_or_else(|| Box::new(EmptyQuery) as Q, |(_, q)| q),
        _ => Box::new(BooleanQuery::new(clauses)),
    }
}

/// Every term of `field` starting with `prefix`.
fn prefix_query(field: Field, prefix: &str) -> Q {
    let mut pattern = String::with_capacity(prefix.len() + 2);
    for c in prefix.chars() {
        if c.is_alphanumeric() {
            pattern.push(c);
        } else {
            pattern.push_str(&format!("\\x{{{:X}}}", c as u32));
        }
    }
    pattern.push_str(".*");
    match RegexQuery::from_pattern(&pattern, field) {
        Ok(q) => Box::new(q),
        Err(_) => Box::new(EmptyQuery),
    }
}
