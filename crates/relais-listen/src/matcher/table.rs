//! A read-only string → atom table built for the one question the scan asks of every token: "is
//! this one of the atoms?", where the answer is almost always no.
//!
//! - A token is hashed once (a wyhash-style multiply-fold over 8-byte words, with overlapping loads
//!   for the tail: no per-byte loop and no copy).
//! - A bit array in front (about 16 bits per string, so it stays in the first-level cache for a few
//!   thousand atoms) answers most misses with one load.
//! - Behind it, open addressing with linear probing over a power-of-two array at most half full;
//!   each slot keeps the full hash, so strings are compared only when the hashes agree.

use super::dict::AtomId;

const EMPTY: AtomId = AtomId::MAX;

#[derive(Debug, Clone, Copy)]
struct Slot {
    hash: u64,
    atom: AtomId,
    /// The string is `arena[start..start + len]`.
    start: u32,
    len: u32,
}

/// Strings of one kind (the body's words, the title's words, one filter's values) and their atoms.
#[derive(Debug, Clone)]
pub(crate) struct Table {
    bits: Vec<u64>,
    bits_shift: u32,
    slots: Vec<Slot>,
    slots_shift: u32,
    arena: String,
    len: usize,
}

impl Default for Table {
    fn default() -> Self {
        Self::new(std::iter::empty())
    }
}

#[inline]
fn fold_mul(a: u64, b: u64) -> u64 {
    let r = u128::from(a) * u128::from(b);
    (r as u64) ^ ((r >> 64) as u64)
}

const K0: u64 = 0xa076_1d64_78bd_642f;
const K1: u64 = 0xe703_7ed1_a0b4_28db;

#[inline]
fn read8(b: &[u8], at: usize) -> u64 {
    let mut w = [0u8; 8];
    w.copy_from_slice(&b[at..at + 8]);
    u64::from_le_bytes(w)
}

#[inline]
fn read4(b: &[u8], at: usize) -> u64 {
    let mut w = [0u8; 4];
    w.copy_from_slice(&b[at..at + 4]);
    u64::from(u32::from_le_bytes(w))
}

/// The hash of a string's bytes (not cryptographic: the atoms are the workspace's own terms).
#[inline]
pub(crate) fn hash(b: &[u8]) -> u64 {
    let n = b.len();
    let (a, c) = if n <= 16 {
        if n >= 8 {
            (read8(b, 0), read8(b, n - 8))
        } else if n >= 4 {
            (read4(b, 0), read4(b, n - 4))
        } else if n > 0 {
            ((u64::from(b[0]) << 16) | (u64::from(b[n / 2]) << 8) | u64::from(b[n - 1]), 0)
        } else {
            (0, 0)
        }
    } else {
        let mut h = K0;
        let mut at = 0;
        while at + 16 < n {
            h = fold_mul(read8(b, at) ^ K1, read8(b, at + 8) ^ h);
            at += 16;
        }
        (read8(b, n - 16) ^ h, read8(b, n - 8))
    };
    fold_mul(a ^ K1 ^ n as u64, c ^ K0)
}

/// Whether `stored[..len]` is `probe`: short strings (most tokens) with two overlapping loads
/// instead of a call to `memcmp`.
#[inline]
pub(crate) fn same(stored: &[u8], len: usize, probe: &[u8]) -> bool {
    let n = probe.len();
    if n != len {
        return false;
    }
    if (8..=16).contains(&n) {
        read8(stored, 0) == read8(probe, 0) && read8(stored, n - 8) == read8(probe, n - 8)
    } else if (4..8).contains(&n) {
        read4(stored, 0) == read4(probe, 0) && read4(stored, n - 4) == read4(probe, n - 4)
    } else if (1..4).contains(&n) {
        stored[0] == probe[0] && stored[n / 2] == probe[n / 2] && stored[n - 1] == probe[n - 1]
    } else {
        stored[..n] == *probe
    }
}

impl Table {
    /// A table of `entries` (distinct strings).
    pub(crate) fn new<'a>(entries: impl Iterator<Item = (&'a str, AtomId)>) -> Self {
        let entries: Vec<(&str, AtomId)> = entries.collect();
        // About 32 bits per string while the array fits in 16 KB (a quarter of the first-level
        // cache), 8 beyond: fewer false "maybe" answers where it is cheap to keep them few.
        let per_string = if entries.len() <= 4_096 { 32 } else { 8 };
        let bits_log = (entries.len().max(1) * per_string).next_power_of_two().trailing_zeros().max(6);
        let slots_log = (entries.len().max(1) * 2).next_power_of_two().trailing_zeros().max(1);
        let empty = Slot { hash: 0, atom: EMPTY, start: 0, len: 0 };
        let mut t = Self {
            bits: vec![0; 1 << (bits_log - 6)],
            bits_shift: 64 - bits_log,
            slots: vec![empty; 1 << slots_log],
            slots_shift: 64 - slots_log,
            arena: String::with_capacity(entries.iter().map(|(s, _)| s.len()).sum()),
            len: entries.len(),
        };
        for (s, atom) in entries {
            let h = hash(s.as_bytes());
            let bit = (h >> t.bits_shift) as usize;
            t.bits[bit >> 6] |= 1 << (bit & 63);
            let mask = t.slots.len() - 1;
            let mut i = (h.rotate_left(32) >> t.slots_shift) as usize;
            while t.slots[i].atom != EMPTY {
                i = (i + 1) & mask;
            }
            t.slots[i] = Slot { hash: h, atom, start: t.arena.len() as u32, len: s.len() as u32 };
            t.arena.push_str(s);
        }
        t
    }

    /// Whether the table holds nothing.
    pub(crate) fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The atom of `s`, whose [`hash`] is `h`.
    #[inline(always)]
    pub(crate) fn get(&self, s: &[u8], h: u64) -> Option<AtomId> {
        let bit = (h >> self.bits_shift) as usize;
        if self.bits[bit >> 6] & (1 << (bit & 63)) == 0 {
            return None;
        }
        self.find(s, h)
    }

    /// [`Self::get`] past the bit array.
    #[inline(never)]
    fn find(&self, s: &[u8], h: u64) -> Option<AtomId> {
        let mask = self.slots.len() - 1;
        let mut i = (h.rotate_left(32) >> self.slots_shift) as usize;
        loop {
            let slot = &self.slots[i];
            if slot.atom == EMPTY {
                return None;
            }
            if slot.hash == h && same(&self.arena.as_bytes()[slot.start as usize..], slot.len as usize, s) {
                return Some(slot.atom);
            }
            i = (i + 1) & mask;
        }
    }

    pub(crate) fn heap_bytes(&self) -> usize {
        self.bits.capacity() * 8 + self.slots.capacity() * std::mem::size_of::<Slot>() + self.arena.capacity()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_exactly_its_strings() {
        let words: Vec<String> = (0..5_000).map(|i| format!("w{i}{}", "x".repeat(i % 23))).collect();
        let t = Table::new(words.iter().enumerate().map(|(i, w)| (w.as_str(), i as AtomId)));
        for (i, w) in words.iter().enumerate() {
            let w = w.as_bytes();
            assert_eq!(t.get(w, hash(w)), Some(i as AtomId), "{w:?}");
            let other = [w, b"y"].concat();
            assert_eq!(t.get(&other, hash(&other)), None, "{other:?}");
        }
        for s in ["", "a", "ab", "abc", "w1xx"] {
            assert_eq!(t.get(s.as_bytes(), hash(s.as_bytes())), None, "{s}");
        }
        let empty = Table::default();
        assert!(empty.is_empty() && empty.get(b"a", hash(b"a")).is_none());
    }

    #[test]
    fn hash_reads_every_byte() {
        // Strings differing in one byte at any position, for every length up to 40.
        for n in 1..40 {
            let base: String = (0..n).map(|i| (b'a' + (i % 26) as u8) as char).collect();
            let h = hash(base.as_bytes());
            for i in 0..n {
                let mut other = base.clone().into_bytes();
                other[i] = b'Z';
                assert_ne!(hash(&other), h, "length {n}, byte {i}");
            }
        }
    }
}
