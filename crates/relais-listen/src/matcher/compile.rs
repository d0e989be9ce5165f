//! Compiling one query: its tree becomes flat nodes over atom ids, and its anchors are chosen (the
//! cheapest set of atoms such that any matching post contains at least one of them).

use super::dict::{AtomId, AtomKey, Dict};
use relais_query::{FilterKind, Node, TextField};

/// A node of a compiled query; children are indices into [`Program::kids`] or [`Program::nodes`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CNode {
    /// The atom occurs.
    Atom(AtomId),
    /// Atoms `kids[start..start+len]` at consecutive positions.
    Phrase { start: u32, len: u32 },
    /// Every child node `kids[start..start+len]`.
    And { start: u32, len: u32 },
    /// Any child node `kids[start..start+len]`.
    Or { start: u32, len: u32 },
    /// Not the node.
    Not(u32),
    /// Both nodes within `distance` tokens.
    Near { left: u32, right: u32, distance: u32, ordered: bool },
}

/// All compiled queries: one arena of nodes, one of children.
#[derive(Debug, Default)]
pub(crate) struct Program {
    pub nodes: Vec<CNode>,
    pub kids: Vec<u32>,
}

impl Program {
    /// Compiles `node`, interning its atoms; returns the root's index.
    pub(crate) fn compile(&mut self, node: &Node, dict: &mut Dict) -> u32 {
        let c = match node {
            Node::Term { field, token, prefix } => {
                let t: Box<str> = token.as_str().into();
                CNode::Atom(dict.intern(if *prefix { AtomKey::Prefix(*field, t) } else { AtomKey::Exact(*field, t) }))
            }
            Node::Phrase { field, tokens } => {
                let atoms: Vec<u32> =
                    tokens.iter().map(|t| dict.intern(AtomKey::Exact(*field, t.as_str().into()))).collect();
                let (start, len) = self.push_kids(atoms);
                CNode::Phrase { start, len }
            }
            Node::Raw(p) => CNode::Atom(dict.intern(AtomKey::Raw(p.as_str().into()))),
            Node::Filter(k, v) => CNode::Atom(dict.intern(AtomKey::Filter(*k, v.as_str().into()))),
            Node::And(c) | Node::Or(c) => {
                let kids: Vec<u32> = c.iter().map(|n| self.compile(n, dict)).collect();
                let (start, len) = self.push_kids(kids);
                if matches!(node, Node::And(_)) { CNode::And { start, len } } else { CNode::Or { start, len } }
            }
            Node::Not(n) => CNode::Not(self.compile(n, dict)),
            Node::Near { left, right, distance, ordered } => {
                let (left, right) = (self.compile(left, dict), self.compile(right, dict));
                CNode::Near { left, right, distance: *distance, ordered: *ordered }
            }
        };
        self.nodes.push(c);
        (self.nodes.len() - 1) as u32
    }

    fn push_kids(&mut self, kids: Vec<u32>) -> (u32, u32) {
        let start = self.kids.len() as u32;
        self.kids.extend(kids);
        (start, self.kids.len() as u32 - start)
    }

    pub(crate) fn kids(&self, start: u32, len: u32) -> &[u32] {
        &self.kids[start as usize..(start + len) as usize]
    }

    /// The cheapest anchor set of the node at `root`, or `None` if it cannot be anchored (the query
    /// is then a candidate for every post). `costs[atom]` estimates how often the atom occurs.
    pub(crate) fn anchors(&self, root: u32, costs: &[f32]) -> Option<(f32, Vec<AtomId>)> {
        let cost = |a: AtomId| costs[a as usize];
        let cheapest = |it: &mut dyn Iterator<Item = (f32, Vec<AtomId>)>| it.min_by(|a, b| a.0.total_cmp(&b.0));
        match self.nodes[root as usize] {
            CNode::Atom(a) => Some((cost(a), vec![a])),
            CNode::Phrase { start, len } => {
                let a = self.kids(start, len).iter().copied().min_by(|x, y| cost(*x).total_cmp(&cost(*y)))?;
                Some((cost(a), vec![a]))
            }
            CNode::And { start, len } => {
                cheapest(&mut self.kids(start, len).iter().filter_map(|k| self.anchors(*k, costs)))
            }
            CNode::Or { start, len } => self.kids(start, len).iter().try_fold((0.0, Vec::new()), |(c, mut v), k| {
                let (kc, ka) = self.anchors(*k, costs)?;
                v.extend(ka);
                Some((c + kc, v))
            }),
            CNode::Not(_) => None,
            CNode::Near { left, right, .. } => {
                cheapest(&mut [left, right].into_iter().filter_map(|k| self.anchors(k, costs)))
            }
        }
    }

    /// Appends every atom under the node at `n` (with repeats).
    pub(crate) fn atoms_of(&self, n: u32, out: &mut Vec<AtomId>) {
        match self.nodes[n as usize] {
            CNode::Atom(a) => out.push(a),
            CNode::Phrase { start, len } => out.extend_from_slice(self.kids(start, len)),
            CNode::And { start, len } | CNode::Or { start, len } => {
                for k in self.kids(start, len) {
                    self.atoms_of(*k, out);
                }
            }
            CNode::Not(k) => self.atoms_of(k, out),
            CNode::Near { left, right, .. } => {
                self.atoms_of(left, out);
                self.atoms_of(right, out);
            }
        }
    }

    /// Whether finding any of the root's anchors already proves the match (a word, or an `OR` of
    /// words and filters): then the query is not evaluated.
    pub(crate) fn anchor_suffices(&self, root: u32) -> bool {
        match self.nodes[root as usize] {
            CNode::Atom(_) => true,
            CNode::Or { start, len } => {
                self.kids(start, len).iter().all(|k| matches!(self.nodes[*k as usize], CNode::Atom(_)))
            }
            _ => false,
        }
    }

    pub(crate) fn heap_bytes(&self) -> usize {
        self.nodes.capacity() * std::mem::size_of::<CNode>() + self.kids.capacity() * 4
    }
}

/// Estimated frequency of every atom in posts (higher: more posts, a worse anchor).
///
/// With a sample of posts, the share of sample posts containing the atom, plus a small prior from
/// the heuristic for atoms the sample never saw. Without, the heuristic alone, raised for atoms
/// that many queries use (a word shared by thousands of queries, like `livraison`, is generic; a
/// brand name used by one query is specific).
pub(crate) fn costs(dict: &Dict, query_df: &[u32], sample_df: Option<(&[u32], usize)>) -> Vec<f32> {
    (0..dict.len())
        .map(|a| {
            let h = heuristic(dict.key(a as AtomId));
            match sample_df {
                Some((df, n)) => (df[a] as f32 + h / 1000.0) / (n as f32 + 1.0),
                None => h * (1.0 + (1.0 + query_df[a] as f32).log2()),
            }
        })
        .collect()
}

/// A heuristic frequency: short tokens and function words are frequent, prefixes match several
/// words, `lang:` and `source:` hold for a large share of posts.
fn heuristic(key: &AtomKey) -> f32 {
    match key {
        AtomKey::Exact(field, t) => token_cost(t) * if *field == TextField::Title { 0.5 } else { 1.0 },
        AtomKey::Prefix(field, p) => {
            let c = 4.0 * token_cost(p) + 24.0 / p.len().max(3) as f32;
            c * if *field == TextField::Title { 0.5 } else { 1.0 }
        }
        AtomKey::Raw(_) => 2.0,
        AtomKey::Filter(FilterKind::Lang | FilterKind::Source, _) => 1000.0,
        AtomKey::Filter(FilterKind::Author | FilterKind::Domain, _) => 1.0,
    }
}

fn token_cost(t: &str) -> f32 {
    if COMMON.binary_search(&t).is_ok() {
        return 200.0;
    }
    let len = t.chars().count().clamp(1, 12) as f32;
    1.0 + 24.0 / (len * len)
}

/// Frequent French and English words (sorted): never chosen as anchors when another term exists.
const COMMON: &[&str] = &[
    "a", "about", "after", "ai", "all", "also", "an", "and", "are", "as", "at", "au", "aux", "avec", "be", "bien",
    "but", "by", "c", "ca", "ce", "ces", "cette", "d", "dans", "de", "des", "do", "du", "elle", "en", "est", "et",
    "for", "from", "get", "has", "have", "i", "if", "il", "in", "is", "it", "j", "je", "just", "l", "la", "le", "les",
    "leur", "lui", "m", "ma", "mais", "me", "mes", "mon", "my", "n", "ne", "nous", "of", "on", "or", "ou", "par",
    "pas", "plus", "pour", "qu", "que", "qui", "s", "sa", "se", "ses", "so", "son", "sur", "t", "that", "the", "this",
    "to", "tout", "tres", "tu", "un", "une", "vous", "was", "we", "what", "with", "y", "you",
];

#[cfg(test)]
mod tests {
    #[test]
    fn common_words_are_sorted() {
        assert!(super::COMMON.windows(2).all(|w| w[0] < w[1]));
    }
}
