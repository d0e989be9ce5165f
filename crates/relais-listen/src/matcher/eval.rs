//! Evaluating a compiled query on a scanned post: which atoms occur (a generation-stamped array)
//! and at which positions (the sorted occurrence list).

use super::compile::{CNode, Program};
use super::dict::{AtomId, atom_of};
use relais_query::eval::{Span, near};

/// What a scan found in one post: reused from post to post.
#[derive(Debug, Default)]
pub(crate) struct Found {
    /// `(atom << 32) | position`; each atom's positions ascending; sorted when `sorted`.
    pub occ: Vec<u64>,
    /// `stamp[atom] == generation` when the atom occurs in the current post.
    stamp: Vec<u32>,
    generation: u32,
    sorted: bool,
}

/// Above this many occurrences, they are sorted and searched; below, scanned.
const SCAN_MAX: usize = 48;

impl Found {
    /// Starts a new post for a dictionary of `atoms` atoms.
    pub(crate) fn reset(&mut self, atoms: usize) {
        if self.stamp.len() != atoms {
            self.stamp = vec![0; atoms];
            self.generation = 0;
        }
        if self.generation == u32::MAX {
            self.stamp.fill(0);
            self.generation = 0;
        }
        self.generation += 1;
        self.occ.clear();
    }

    /// Marks the atoms present; calls `f` once per distinct atom.
    pub(crate) fn index(&mut self, mut f: impl FnMut(AtomId)) {
        self.sorted = self.occ.len() > SCAN_MAX;
        if self.sorted {
            self.occ.sort_unstable();
        }
        for o in &self.occ {
            let a = atom_of(*o);
            if self.stamp[a as usize] != self.generation {
                self.stamp[a as usize] = self.generation;
                f(a);
            }
        }
    }

    /// Marks an atom found after [`Self::index`] (a filter: no position).
    pub(crate) fn mark(&mut self, a: AtomId) {
        self.stamp[a as usize] = self.generation;
    }

    #[inline]
    fn present(&self, a: AtomId) -> bool {
        self.stamp[a as usize] == self.generation
    }

    /// The occurrences of a present atom: a contiguous run when sorted, the whole list otherwise.
    fn of(&self, a: AtomId) -> &[u64] {
        if !self.present(a) {
            return &[];
        }
        if self.sorted {
            let start = self.occ.partition_point(|o| atom_of(*o) < a);
            let end = start + self.occ[start..].partition_point(|o| atom_of(*o) == a);
            &self.occ[start..end]
        } else {
            &self.occ
        }
    }

    fn positions(&self, a: AtomId) -> impl Iterator<Item = u32> + '_ {
        self.of(a).iter().filter(move |o| atom_of(**o) == a).map(|o| *o as u32)
    }

    fn has_position(&self, a: AtomId, pos: u32) -> bool {
        let want = (u64::from(a) << 32) | u64::from(pos);
        let occ = self.of(a);
        if self.sorted { occ.binary_search(&want).is_ok() } else { occ.contains(&want) }
    }
}

/// Whether the node at `n` matches.
pub(crate) fn eval(p: &Program, n: u32, f: &Found) -> bool {
    match p.nodes[n as usize] {
        CNode::Atom(a) => f.present(a),
        CNode::And { start, len } => p.kids(start, len).iter().all(|k| eval(p, *k, f)),
        CNode::Or { start, len } => p.kids(start, len).iter().any(|k| eval(p, *k, f)),
        CNode::Not(k) => !eval(p, k, f),
        CNode::Phrase { start, len } => {
            let atoms = p.kids(start, len);
            atoms.iter().all(|a| f.present(*a)) && first_phrase(atoms, f).is_some()
        }
        CNode::Near { .. } => {
            let mut out = Vec::new();
            spans(p, n, f, &mut out);
            !out.is_empty()
        }
    }
}

fn first_phrase(atoms: &[AtomId], f: &Found) -> Option<u32> {
    let (first, rest) = atoms.split_first()?;
    f.positions(*first).find(|p0| rest.iter().enumerate().all(|(k, a)| f.has_position(*a, p0 + 1 + k as u32)))
}

/// Appends the spans where the positional node at `n` occurs.
pub(crate) fn spans(p: &Program, n: u32, f: &Found, out: &mut Vec<Span>) {
    match p.nodes[n as usize] {
        CNode::Atom(a) => out.extend(f.positions(a).map(|q| (q, q))),
        CNode::Phrase { start, len } => {
            let atoms = p.kids(start, len);
            if let Some((first, rest)) = atoms.split_first() {
                for p0 in f.positions(*first) {
                    if rest.iter().enumerate().all(|(k, a)| f.has_position(*a, p0 + 1 + k as u32)) {
                        out.push((p0, p0 + len - 1));
                    }
                }
            }
        }
        CNode::Or { start, len } => {
            for k in p.kids(start, len) {
                spans(p, *k, f, out);
            }
        }
        CNode::Near { left, right, distance, ordered } => {
            let (mut ls, mut rs) = (Vec::new(), Vec::new());
            spans(p, left, f, &mut ls);
            if ls.is_empty() {
                return;
            }
            spans(p, right, f, &mut rs);
            for &a in &ls {
                for &b in &rs {
                    if near(a, b, distance, ordered) {
                        out.push((a.0.min(b.0), a.1.max(b.1)));
                    }
                }
            }
        }
        CNode::And { .. } | CNode::Not(_) => {}
    }
}
