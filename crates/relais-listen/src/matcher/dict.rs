//! The dictionary of every atom (distinct term, prefix, `raw:` pattern or filter value) of every
//! stored query, and the scan of a post that finds which atoms occur in it, and where.

use super::table::{Table, hash, same};
use aho_corasick::AhoCorasick;
use relais_query::doc::for_each_meta_key_in;
use relais_query::eval::{kind_index, raw_boundary_ok};
use relais_query::text::for_each_token_bytes;
use relais_query::{Doc, FilterKind, TextField};
use rustc_hash::FxHashMap;

/// An atom's id (index in the dictionary).
pub(crate) type AtomId = u32;

/// What an atom stands for.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum AtomKey {
    Exact(TextField, Box<str>),
    Prefix(TextField, Box<str>),
    Raw(Box<str>),
    Filter(FilterKind, Box<str>),
}

/// Exact tokens and prefixes of one text field.
#[derive(Debug, Default)]
struct FieldDict {
    exact: Table,
    /// Prefixes bucketed by their first three bytes: (start, len) in `prefixes`.
    prefix_buckets: FxHashMap<u32, (u32, u32)>,
    prefixes: Vec<(Box<str>, AtomId)>,
    /// One bit per bucket key (folded to 16 bits): most tokens skip the bucket lookup.
    head_bits: Vec<u64>,
}

/// The bit of a bucket key in [`FieldDict::head_bits`].
#[inline]
fn head_bit(h: u32) -> (usize, u64) {
    let k = (h ^ (h >> 9)) & 0xFFFF;
    ((k >> 6) as usize, 1 << (k & 63))
}

/// Whether `tok` starts with `prefix`, with the word loads of [`same`] instead of a call to
/// `memcmp` (prefixes are short).
#[inline]
fn starts_with(tok: &[u8], prefix: &[u8]) -> bool {
    let n = prefix.len();
    tok.len() >= n && same(prefix, n, &tok[..n])
}

/// The key of a prefix bucket: a token's first three bytes (every prefix has at least three).
fn head(b: &[u8]) -> Option<u32> {
    (b.len() >= 3).then(|| (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]))
}

impl FieldDict {
    fn is_empty(&self) -> bool {
        self.exact.is_empty() && self.prefixes.is_empty()
    }

    /// Pushes `(atom, position)` for every atom token `tok` (at `pos`) is or starts with.
    #[inline(always)]
    fn scan(&self, tok: &[u8], pos: u32, occ: &mut Vec<u64>) {
        if let Some(a) = self.exact.get(tok, hash(tok)) {
            occ.push(pack(a, pos));
        }
        if self.prefixes.is_empty() {
            return;
        }
        let Some(h) = head(tok) else { return };
        let (word, bit) = head_bit(h);
        if self.head_bits[word] & bit == 0 {
            return;
        }
        if let Some((start, len)) = self.prefix_buckets.get(&h) {
            for (p, a) in &self.prefixes[*start as usize..(*start + *len) as usize] {
                if starts_with(tok, p.as_bytes()) {
                    occ.push(pack(*a, pos));
                }
            }
        }
    }

    fn heap_bytes(&self) -> usize {
        self.exact.heap_bytes()
            + self.prefixes.iter().map(|(p, _)| p.len()).sum::<usize>()
            + self.prefix_buckets.capacity() * 16
            + self.prefixes.capacity() * 24
            + self.head_bits.capacity() * 8
    }
}

/// An occurrence: atom id in the high half, token position in the low half (sorts by atom).
#[inline]
pub(crate) fn pack(atom: AtomId, pos: u32) -> u64 {
    (u64::from(atom) << 32) | u64::from(pos)
}

/// The atom of an occurrence.
#[inline]
pub(crate) fn atom_of(occ: u64) -> AtomId {
    (occ >> 32) as u32
}

/// Every atom of every stored query.
#[derive(Debug, Default)]
pub(crate) struct Dict {
    ids: FxHashMap<AtomKey, AtomId>,
    keys: Vec<AtomKey>,
    body: FieldDict,
    title: FieldDict,
    raw: Option<AhoCorasick>,
    raw_atoms: Vec<AtomId>,
    filters: [Table; 4],
}

impl Dict {
    /// The id of `key`, interning it on first sight.
    pub(crate) fn intern(&mut self, key: AtomKey) -> AtomId {
        if let Some(&id) = self.ids.get(&key) {
            return id;
        }
        let id = self.keys.len() as AtomId;
        self.keys.push(key.clone());
        self.ids.insert(key, id);
        id
    }

    pub(crate) fn key(&self, atom: AtomId) -> &AtomKey {
        &self.keys[atom as usize]
    }

    pub(crate) fn len(&self) -> usize {
        self.keys.len()
    }

    /// Builds the lookup structures once every query is interned.
    pub(crate) fn seal(&mut self) -> Result<(), aho_corasick::BuildError> {
        let mut prefixes: [Vec<(Box<str>, AtomId)>; 2] = Default::default();
        let mut exact: [Vec<(&str, AtomId)>; 2] = Default::default();
        let mut filters: [Vec<(&str, AtomId)>; 4] = Default::default();
        let mut raw = Vec::new();
        for (id, key) in self.keys.iter().enumerate() {
            let id = id as AtomId;
            match key {
                AtomKey::Exact(f, t) => exact[usize::from(*f == TextField::Title)].push((t, id)),
                AtomKey::Prefix(f, p) => prefixes[usize::from(*f == TextField::Title)].push((p.clone(), id)),
                AtomKey::Raw(p) => raw.push((p.clone(), id)),
                AtomKey::Filter(k, v) => filters[kind_index(*k)].push((v, id)),
            }
        }
        let [body, title] = exact;
        self.body.exact = Table::new(body.into_iter());
        self.title.exact = Table::new(title.into_iter());
        self.filters = filters.map(|f| Table::new(f.into_iter()));
        for (i, mut list) in prefixes.into_iter().enumerate() {
            let fd = if i == 0 { &mut self.body } else { &mut self.title };
            list.sort_unstable_by(|a, b| a.0.cmp(&b.0));
            let mut start = 0;
            while start < list.len() {
                let h = head(list[start].0.as_bytes()).unwrap_or(0);
                let len = list[start..].iter().take_while(|(p, _)| head(p.as_bytes()) == Some(h)).count().max(1);
                fd.prefix_buckets.insert(h, (start as u32, len as u32));
                if fd.head_bits.is_empty() {
                    fd.head_bits = vec![0; 1024];
                }
                let (word, bit) = head_bit(h);
                fd.head_bits[word] |= bit;
                start += len;
            }
            fd.prefixes = list;
        }
        if !raw.is_empty() {
            self.raw = Some(AhoCorasick::new(raw.iter().map(|(p, _)| p.as_bytes()))?);
            self.raw_atoms = raw.into_iter().map(|(_, id)| id).collect();
        }
        Ok(())
    }

    /// Finds every atom occurring in `doc`: `occ` gets `(atom, position)` pairs, unsorted.
    /// The metadata of the filter kinds set in `kinds` (by [`kind_index`]) is probed; see
    /// [`Self::scan_meta`] for the others.
    pub(crate) fn scan(&self, doc: &Doc<'_>, kinds: [bool; 4], buf: &mut String, occ: &mut Vec<u64>) {
        let mut pos = 0;
        for_each_token_bytes(doc.text, buf, |tok| {
            self.body.scan(tok, pos, occ);
            pos += 1;
        });
        if let Some(title) = doc.title.filter(|_| !self.title.is_empty()) {
            let mut pos = 0;
            for_each_token_bytes(title, buf, |tok| {
                self.title.scan(tok, pos, occ);
                pos += 1;
            });
        }
        if let Some(ac) = &self.raw {
            for m in ac.find_overlapping_iter(doc.text) {
                if raw_boundary_ok(doc.text, m.start(), m.end()) {
                    occ.push(pack(self.raw_atoms[m.pattern().as_usize()], 0));
                }
            }
        }
        self.scan_meta(doc, kinds, buf, |a| occ.push(pack(a, 0)));
    }

    /// Calls `f` with every filter atom of the kinds set in `kinds` that the post's metadata
    /// satisfies.
    pub(crate) fn scan_meta(&self, doc: &Doc<'_>, kinds: [bool; 4], buf: &mut String, mut f: impl FnMut(AtomId)) {
        for kind in [FilterKind::Lang, FilterKind::Author, FilterKind::Domain, FilterKind::Source] {
            let map = &self.filters[kind_index(kind)];
            if let Some(v) = doc.meta(kind).filter(|_| kinds[kind_index(kind)] && !map.is_empty()) {
                for_each_meta_key_in(kind, v, buf, |k| {
                    if let Some(a) = map.get(k.as_bytes(), hash(k.as_bytes())) {
                        f(a);
                    }
                });
            }
        }
    }

    /// The filter kind of an atom, if it is a filter.
    pub(crate) fn filter_kind(&self, atom: AtomId) -> Option<FilterKind> {
        match self.key(atom) {
            AtomKey::Filter(k, _) => Some(*k),
            _ => None,
        }
    }

    /// An estimate of the heap held, in bytes.
    pub(crate) fn heap_bytes(&self) -> usize {
        let keys: usize = self.keys.iter().map(|k| 32 + key_len(k)).sum();
        let filters: usize = self.filters.iter().map(Table::heap_bytes).sum();
        keys * 2
            + self.ids.capacity() * 8
            + self.body.heap_bytes()
            + self.title.heap_bytes()
            + filters
            + self.raw.as_ref().map_or(0, AhoCorasick::memory_usage)
    }
}

fn key_len(k: &AtomKey) -> usize {
    match k {
        AtomKey::Exact(_, s) | AtomKey::Prefix(_, s) | AtomKey::Raw(s) | AtomKey::Filter(_, s) => s.len(),
    }
}

#[cfg(test)]
mod tests {
    use super::starts_with;

    #[test]
    fn starts_with_agrees_with_the_standard_one() {
        // Every prefix and token length up to 24, equal or differing at any one byte.
        let text: Vec<u8> = (0..24u8).map(|i| b'a' + i).collect();
        for n in 0..=24 {
            for m in 0..=24 {
                let (prefix, tok) = (&text[..n], &text[..m]);
                assert_eq!(starts_with(tok, prefix), tok.starts_with(prefix), "{n} {m}");
                for i in 0..n {
                    let mut other = prefix.to_vec();
                    other[i] = b'Z';
                    assert_eq!(starts_with(tok, &other), tok.starts_with(&other), "{n} {m} {i}");
                }
            }
        }
    }
}
