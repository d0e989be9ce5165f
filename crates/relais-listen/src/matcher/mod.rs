//! Many stored queries compiled into one matcher (percolation, as Lucene Monitor does it).
//!
//! # How a post is matched
//!
//! 1. **One dictionary over every query's atoms.** An atom is a distinct folded token (per text
//!    field), a trailing-wildcard prefix, a `raw:` pattern or a filter value. The post is tokenised
//!    once ([`relais_query::text::for_each_token_bytes`]: lower-case ASCII tokens are slices of
//!    the text, short ones with capitals or accented Latin letters are folded on the stack, others
//!    into one reusable buffer; all handed out as bytes) and each token is looked up, which yields
//!    every `(atom, position)` occurrence in the post.
//!    - Whole tokens: a hash table from folded token to atom id. The issue asks for "one
//!      multi-pattern automaton over all terms"; terms match whole tokens (`café` must not match
//!      `cafés`), so a token-level dictionary is that automaton: one O(1) probe per token instead
//!      of an Aho-Corasick pass over the characters plus a word-boundary check per hit.
//!    - Prefixes (`term*`, at least 3 letters): sorted and bucketed by their first three bytes; a
//!      token probes its bucket and tests the few prefixes in it.
//!    - `raw:` patterns: one Aho-Corasick automaton over the raw text (they are not token-aligned).
//!    - Filters: one map per field (`lang`, `author`, `site`, `source`) probed with the post's
//!      metadata (and parent domains, and `user` of `user@instance`). A field none of whose values
//!      is an anchor (typically `lang:` and `source:`, true of too many posts to be one) is
//!      probed only for posts that have a candidate query to evaluate.
//! 2. **Anchors.** Each query has a minimal set of atoms such that any post it matches contains at
//!    least one: a word is its own anchor, `AND` (and `NEAR`, and a phrase) takes its cheapest
//!    child, `OR` the union of its children's, `NOT` contributes nothing (see `compile.rs` for the
//!    cost heuristic: rare-looking words first, `lang:`/`source:` last). Anchors are stored as an
//!    inverted list atom → queries. The parser refuses queries that cannot be anchored; a tree
//!    built by hand that cannot be is evaluated on every post.
//! 3. **Candidates.** For each distinct atom present, its queries become candidates, deduplicated
//!    with a generation-stamped array (no hash set, no clearing between posts).
//! 4. **Verification.** A candidate whose anchor alone proves the match (a word, or an `OR` of
//!    atoms) is reported at once; others evaluate their compiled tree (flat arena of nodes over
//!    atom ids; phrases and `NEAR` use the sorted occurrence positions).
//!
//! Everything per post lives in a [`Scratch`] reused from post to post: matching allocates
//! nothing once warm, except for `NEAR` evaluation. A `Matcher` is immutable and `Sync`; use one
//! `Scratch` per thread. Results are the indices of the queries as given to [`Matcher::new`].
//! Semantics are exactly those of [`relais_query::eval::matches`] (property-tested).

mod compile;
mod dict;
mod eval;
mod table;

use compile::Program;
use dict::Dict;
use eval::Found;
use relais_query::{Doc, Node};

/// Building the matcher failed.
#[derive(Debug, thiserror::Error)]
pub enum MatcherError {
    /// The `raw:` patterns are too many or too long for the automaton.
    #[error("the raw: patterns do not fit in the automaton: {0}")]
    RawPatterns(#[from] aho_corasick::BuildError),
}

/// Every stored query compiled for matching.
#[derive(Debug)]
pub struct Matcher {
    dict: Dict,
    program: Program,
    roots: Vec<u32>,
    suffices: Vec<bool>,
    /// Inverted anchors: queries of atom `a` are `anchored[offsets[a]..offsets[a + 1]]`.
    offsets: Vec<u32>,
    anchored: Vec<u32>,
    always: Vec<u32>,
    /// Filter kinds (by `kind_index`) probed with every post: those with an anchor atom.
    eager: [bool; 4],
    /// The other filter kinds: probed only when a candidate query needs evaluating.
    lazy: [bool; 4],
}

/// Per-thread buffers for matching, reused from post to post.
#[derive(Debug, Default)]
pub struct Scratch {
    buf: String,
    found: Found,
    query_stamp: Vec<u32>,
    generation: u32,
    candidates: Vec<u32>,
}

/// Sizes of a compiled matcher.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MatcherStats {
    /// Stored queries.
    pub queries: usize,
    /// Distinct atoms (terms, prefixes, raw patterns, filter values).
    pub atoms: usize,
    /// Queries evaluated on every post (no anchor).
    pub always: usize,
    /// Entries in the inverted anchor lists.
    pub anchors: usize,
}

impl Matcher {
    /// Compiles the queries; a match reports a query by its index in `queries`.
    pub fn new<'a>(queries: impl IntoIterator<Item = &'a Node>) -> Result<Self, MatcherError> {
        Self::with_sample(queries, &[])
    }

    /// Compiles the queries, choosing anchors from how often each term occurs in `sample` (recent
    /// posts; a few thousand are plenty). An empty sample falls back to a heuristic.
    pub fn with_sample<'a>(
        queries: impl IntoIterator<Item = &'a Node>,
        sample: &[Doc<'_>],
    ) -> Result<Self, MatcherError> {
        let (mut dict, mut program) = (Dict::default(), Program::default());
        let roots: Vec<u32> = queries.into_iter().map(|q| program.compile(q, &mut dict)).collect();
        dict.seal()?;
        let mut query_df = vec![0u32; dict.len()];
        let mut atoms = Vec::new();
        for &root in &roots {
            atoms.clear();
            program.atoms_of(root, &mut atoms);
            atoms.sort_unstable();
            atoms.dedup();
            for a in &atoms {
                query_df[*a as usize] += 1;
            }
        }
        let sample_df = (!sample.is_empty()).then(|| {
            let (mut df, mut found, mut buf) = (vec![0u32; dict.len()], Found::default(), String::new());
            for doc in sample {
                found.reset(dict.len());
                dict.scan(doc, [true; 4], &mut buf, &mut found.occ);
                found.index(|a| df[a as usize] += 1);
            }
            df
        });
        let costs = compile::costs(&dict, &query_df, sample_df.as_deref().map(|df| (df, sample.len())));
        let mut lists: Vec<Vec<u32>> = vec![Vec::new(); dict.len()];
        let mut always = Vec::new();
        let mut suffices = Vec::with_capacity(roots.len());
        for (q, &root) in roots.iter().enumerate() {
            match program.anchors(root, &costs) {
                Some((_, mut atoms)) => {
                    atoms.sort_unstable();
                    atoms.dedup();
                    for a in atoms {
                        lists[a as usize].push(q as u32);
                    }
                    suffices.push(program.anchor_suffices(root));
                }
                None => {
                    always.push(q as u32);
                    suffices.push(false);
                }
            }
        }
        let (mut eager, mut lazy) = ([false; 4], [false; 4]);
        for (a, l) in lists.iter().enumerate() {
            if let Some(kind) = dict.filter_kind(a as u32) {
                let k = relais_query::eval::kind_index(kind);
                if l.is_empty() { lazy[k] = true } else { eager[k] = true }
            }
        }
        for k in 0..4 {
            lazy[k] &= !eager[k];
        }
        let mut offsets = Vec::with_capacity(lists.len() + 1);
        let mut anchored = Vec::with_capacity(lists.iter().map(Vec::len).sum());
        offsets.push(0);
        for l in lists {
            anchored.extend(l);
            offsets.push(anchored.len() as u32);
        }
        Ok(Self { dict, program, roots, suffices, offsets, anchored, always, eager, lazy })
    }

    /// How many queries.
    pub fn len(&self) -> usize {
        self.roots.len()
    }

    /// Whether there is no query.
    pub fn is_empty(&self) -> bool {
        self.roots.is_empty()
    }

    /// Sizes, for monitoring and benchmarks.
    pub fn stats(&self) -> MatcherStats {
        MatcherStats {
            queries: self.len(),
            atoms: self.dict.len(),
            always: self.always.len(),
            anchors: self.anchored.len(),
        }
    }

    /// An estimate of the heap the matcher holds, in bytes.
    pub fn heap_bytes(&self) -> usize {
        self.dict.heap_bytes()
            + self.program.heap_bytes()
            + self.roots.capacity() * 4
            + self.suffices.capacity()
            + self.offsets.capacity() * 4
            + self.anchored.capacity() * 4
            + self.always.capacity() * 4
    }

    /// The indices of the queries matching `doc` (ascending).
    pub fn matches(&self, doc: &Doc<'_>) -> Vec<u32> {
        let mut out = Vec::new();
        self.matches_into(doc, &mut Scratch::default(), &mut out);
        out.sort_unstable();
        out
    }

    /// Appends the indices of the queries matching `doc` to `out` (in no particular order).
    pub fn matches_into(&self, doc: &Doc<'_>, s: &mut Scratch, out: &mut Vec<u32>) {
        s.found.reset(self.dict.len());
        self.dict.scan(doc, self.eager, &mut s.buf, &mut s.found.occ);
        if s.query_stamp.len() != self.roots.len() {
            s.query_stamp = vec![0; self.roots.len()];
            s.generation = 0;
        }
        if s.generation == u32::MAX {
            s.query_stamp.fill(0);
            s.generation = 0;
        }
        s.generation += 1;
        let (generation, stamp, cands) = (s.generation, &mut s.query_stamp, &mut s.candidates);
        cands.clear();
        s.found.index(|a| {
            for &q in &self.anchored[self.offsets[a as usize] as usize..self.offsets[a as usize + 1] as usize] {
                if stamp[q as usize] != generation {
                    stamp[q as usize] = generation;
                    cands.push(q);
                }
            }
        });
        cands.extend_from_slice(&self.always);
        if self.lazy.contains(&true) && cands.iter().any(|q| !self.suffices[*q as usize]) {
            let found = &mut s.found;
            self.dict.scan_meta(doc, self.lazy, &mut s.buf, |a| found.mark(a));
        }
        for &q in cands.iter() {
            if self.suffices[q as usize] || eval::eval(&self.program, self.roots[q as usize], &s.found) {
                out.push(q);
            }
        }
    }

    /// How many queries were candidates (evaluated or accepted by anchor) for the last post
    /// matched with `scratch`.
    pub fn last_candidates(scratch: &Scratch) -> usize {
        scratch.candidates.len()
    }
}
