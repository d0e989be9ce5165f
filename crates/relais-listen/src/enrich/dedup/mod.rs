//! Near-duplicate posts grouped into stories: copies of one message (retweets, the same text with
//! another link, an emoji added, capitals changed) get one story id and a count.
//!
//! A post is normalised (lower case, accents folded, links, @mentions, a leading "RT" and
//! punctuation dropped, spaces collapsed), cut into letter 5-grams (shingles), and summarised by a
//! 64-value MinHash. Identical normalised texts meet through an exact hash; others through LSH
//! (16 bands of 4 values: a pair at Jaccard 0.7 shares a band with probability 0.99, at 0.3 with
//! 0.12), and a candidate is confirmed only if the Jaccard similarity of the shingle sets is at least
//! [`StoriesConfig::threshold`] (0.7 by default, the reference's measured setting). Most
//! candidates are turned down before their shingles are read: each post keeps a 512-bit map of
//! its shingles, and the bits one map has that the other lacks bound what the two share (an
//! exact bound: it never turns down a pair that reaches the threshold).
//!
//! Work per post is bounded: a post is compared with at most 16 stories, and a bucket keeps its
//! 256 most recent stories. When its buckets hold more (posts of one template), the stories
//! sharing the most bands with the post are compared first: a copy then finds its story among
//! them nearly always (97.6 % of the merges that comparing every candidate finds, on generated
//! templated posts, against 81.6 % taking the buckets in band order), for a bounded cost.
//! Memory is bounded: at most [`StoriesConfig::capacity`] stories are kept; when full, the story
//! seen least recently is forgotten (a later copy of it starts a new story). About 1 KB per story.

use crate::enrich::fold::push_folded_char;
use rustc_hash::{FxHashMap, FxHasher};
use smallvec::SmallVec;
use std::collections::VecDeque;
use std::hash::Hasher;

/// Shingle length in characters.
const SHINGLE: usize = 5;
/// MinHash values per post.
const HASHES: usize = 64;
/// LSH rows per band.
const ROWS: usize = 4;
/// LSH bands.
const BANDS: usize = HASHES / ROWS;
/// Stories compared with a post at most, by default ([`StoriesConfig::max_compared`]).
const MAX_COMPARED: usize = 16;
/// Stories kept per LSH bucket at most (the most recent).
const MAX_BUCKET: usize = 256;

/// Settings of [`Stories`].
#[derive(Debug, Clone, Copy)]
pub struct StoriesConfig {
    /// Minimum Jaccard similarity of shingle sets for two posts to be one story.
    pub threshold: f64,
    /// Most stories remembered (least recently seen forgotten first).
    pub capacity: usize,
    /// Most stories a post is compared with (16 by default): bounds the work per post when many
    /// posts look alike. A copy whose story is not among them starts a new story (see
    /// `examples/stories_templated.rs` for what the bound misses on posts cut from templates).
    pub max_compared: usize,
}

impl Default for StoriesConfig {
    fn default() -> Self {
        Self { threshold: 0.7, capacity: 50_000, max_compared: MAX_COMPARED }
    }
}

/// Where a post went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Assignment {
    /// The story (ids start at 1 and are never reused).
    pub story: u64,
    /// Posts in the story so far, this one included.
    pub count: u32,
    /// This post started the story.
    pub new: bool,
}

#[derive(Debug, Default)]
struct Story {
    /// 0 when the slot is free.
    id: u64,
    shingles: Shingles,
    exact: u64,
    bands: [u64; BANDS],
    count: u32,
    last_seen: u64,
}

impl Story {
    /// Whether a recency entry `(seen, its slot)` is current: the slot holds a story, and that
    /// story was last seen at `seen` (a later sighting, or another story in the slot, makes it
    /// stale).
    fn last_seen_at(&self, seen: u64) -> bool {
        self.id != 0 && self.last_seen == seen
    }
}

/// What the grouper compares of a post, computed without the grouper (so in parallel): the hash of
/// its normalised text, its shingles and its LSH band keys.
#[derive(Debug, Clone)]
pub struct Sketch {
    exact: u64,
    parts: Option<(Shingles, [u64; BANDS])>,
}

/// A post's shingles: their sorted, deduplicated hashes, and a 512-bit map of them (one bit per
/// hash, chosen by the hash), from which an exact upper bound of what two posts share is read
/// without reading their hashes.
#[derive(Debug, Clone, Default)]
struct Shingles {
    hashes: Vec<u32>,
    map: [u64; 8],
    /// Bits set in `map`.
    bits: u32,
}

impl Shingles {
    fn new(hashes: Vec<u32>) -> Self {
        let mut map = [0u64; 8];
        for &h in &hashes {
            let bit = h.wrapping_mul(0x9e37_79b1) >> 23;
            map[(bit >> 6) as usize] |= 1 << (bit & 63);
        }
        let bits = map.iter().map(|w| w.count_ones()).sum();
        Self { hashes, map, bits }
    }

    /// At most how many hashes two posts share: each bit of one map that the other lacks stands
    /// for at least one hash of the first that the second does not have, so each side bounds it
    /// by its hashes less its bits outside the maps' intersection (the smaller bound holds).
    fn shared_at_most(&self, other: &Self) -> usize {
        let both: u32 = self.map.iter().zip(&other.map).map(|(a, b)| (a & b).count_ones()).sum();
        let bound = |s: &Self| s.hashes.len() - (s.bits - both) as usize;
        bound(self).min(bound(other))
    }
}

impl Sketch {
    /// The sketch of a post's text; `scratch` is a reusable buffer.
    pub fn of(text: &str, scratch: &mut String) -> Self {
        normalise(text, scratch);
        if scratch.is_empty() {
            return Self { exact: 0, parts: None };
        }
        Self { exact: hash_str(scratch), parts: Some(parts(scratch)) }
    }
}

fn parts(normalised: &str) -> (Shingles, [u64; BANDS]) {
    let shingles = shingles(normalised);
    let bands = band_keys(&minhash(&shingles));
    (Shingles::new(shingles), bands)
}

/// The grouper. Not shared between threads: one per stream (or behind a lock).
///
/// Stories live in slots of one vector (at most [`StoriesConfig::capacity`] of them, a freed
/// slot is reused), and the exact-text and LSH indexes point at slots: a candidate costs one
/// indexed read, not a hash lookup.
#[derive(Debug, Default)]
pub struct Stories {
    config: StoriesConfig,
    slots: Vec<Story>,
    free: Vec<u32>,
    live: usize,
    /// The slot of the story of each normalised text hash.
    exact: FxHashMap<u64, u32>,
    /// Slots by LSH band key, oldest first; most buckets hold one story, kept inline (no
    /// allocation, no second cache miss).
    bands: Vec<FxHashMap<u64, SmallVec<[u32; 4]>>>,
    /// (clock when seen, slot), oldest first; an entry is stale when its slot's story was seen
    /// since (or is another story: a slot's new story is seen later than any entry of the old).
    recency: VecDeque<(u64, u32)>,
    next_id: u64,
    clock: u64,
    normalised: String,
    ranker: Ranker,
}

impl Stories {
    /// An empty grouper.
    pub fn new(config: StoriesConfig) -> Self {
        Self { config, bands: vec![FxHashMap::default(); BANDS], next_id: 1, ..Self::default() }
    }

    /// Number of stories remembered.
    pub fn len(&self) -> usize {
        self.live
    }

    /// No story remembered.
    pub fn is_empty(&self) -> bool {
        self.live == 0
    }

    /// Forgets the stories seen least recently until at most `keep` are remembered (a later copy
    /// of one starts a new story, as after eviction by capacity).
    /// When at most half the slots are left in use, the grouper moves its stories into storage
    /// of their size, so that the memory is given back, not only the stories' shingles.
    pub fn shrink_to(&mut self, keep: usize) {
        while self.live > keep && !self.recency.is_empty() {
            self.evict_oldest();
        }
        debug_assert!(self.live <= keep, "every story has a current recency entry");
        self.compact();
        if self.live <= self.slots.len() / 2 {
            self.repack();
        }
    }

    /// Moves the stories into slots `0..live`, in slot order (buckets are rewritten in place, so
    /// they keep their order; the ranker breaks ties by slot, so slot order is kept too), and
    /// shrinks every container to what it holds.
    fn repack(&mut self) {
        let mut moved = vec![u32::MAX; self.slots.len()];
        let mut slots = Vec::with_capacity(self.live);
        for (old, story) in std::mem::take(&mut self.slots).into_iter().enumerate() {
            if story.id != 0 {
                moved[old] = slots.len() as u32;
                slots.push(story);
            }
        }
        self.slots = slots;
        self.free = Vec::new();
        for map in &mut self.bands {
            for bucket in map.values_mut() {
                bucket.iter_mut().for_each(|slot| *slot = moved[*slot as usize]);
                bucket.shrink_to_fit();
            }
            map.shrink_to_fit();
        }
        self.exact.values_mut().for_each(|slot| *slot = moved[*slot as usize]);
        self.exact.shrink_to_fit();
        // Stale entries point at freed slots: drop them before renumbering.
        let slots = &self.slots;
        self.recency.retain(|&(_, old)| moved[old as usize] != u32::MAX);
        self.recency.iter_mut().for_each(|(_, slot)| *slot = moved[*slot as usize]);
        self.recency.retain(|&(seen, slot)| slots[slot as usize].last_seen_at(seen));
        self.recency.shrink_to_fit();
    }

    /// An estimate of the heap held, in bytes, for tests and monitoring: a lower bound (the hash
    /// maps' deleted entries, the ranker's table and the text buffer are not counted).
    pub fn heap_bytes(&self) -> usize {
        let entry = std::mem::size_of::<(u64, SmallVec<[u32; 4]>)>() + 1;
        let bands: usize = self
            .bands
            .iter()
            .map(|m| m.capacity() * entry + m.values().filter(|b| b.spilled()).map(|b| b.capacity() * 4).sum::<usize>())
            .sum();
        self.slots.capacity() * std::mem::size_of::<Story>()
            + self.slots.iter().map(|s| s.shingles.hashes.capacity() * 4).sum::<usize>()
            + bands
            + self.exact.capacity() * (std::mem::size_of::<(u64, u32)>() + 1)
            + self.recency.capacity() * std::mem::size_of::<(u64, u32)>()
            + self.free.capacity() * 4
    }

    /// Posts counted in a remembered story (a scan of every story: for tests and tools).
    pub fn count(&self, story: u64) -> Option<u32> {
        self.slots.iter().find(|s| s.id == story && story != 0).map(|s| s.count)
    }

    /// Adds a post and returns its story.
    pub fn add(&mut self, text: &str) -> Assignment {
        let mut normalised = std::mem::take(&mut self.normalised);
        normalise(text, &mut normalised);
        self.clock += 1;
        let assignment = if normalised.is_empty() {
            self.alone()
        } else {
            // Shingles and MinHash only when no identical text is known (the common case for copies).
            let exact = hash_str(&normalised);
            match self.exact.get(&exact).copied() {
                Some(slot) => self.touch(slot),
                None => {
                    let (shingles, bands) = parts(&normalised);
                    self.place(shingles, bands, exact)
                }
            }
        };
        self.normalised = normalised;
        assignment
    }

    /// Adds a post summarised by [`Sketch::of`] (computed beforehand, possibly on another thread)
    /// and returns its story: the same story as [`Self::add`] with its text.
    pub fn add_sketch(&mut self, sketch: Sketch) -> Assignment {
        self.clock += 1;
        let Some((shingles, bands)) = sketch.parts else { return self.alone() };
        match self.exact.get(&sketch.exact).copied() {
            Some(slot) => self.touch(slot),
            None => self.place(shingles, bands, sketch.exact),
        }
    }

    /// A post with nothing left to compare (only emoji, links or mentions): a story of its own,
    /// not kept.
    fn alone(&mut self) -> Assignment {
        let story = self.next_id;
        self.next_id += 1;
        Assignment { story, count: 1, new: true }
    }

    /// A post whose text is not known exactly: the story of a similar one, or a new one.
    fn place(&mut self, shingles: Shingles, bands: [u64; BANDS], exact: u64) -> Assignment {
        let mut ranker = std::mem::take(&mut self.ranker);
        let similar = self.similar(&shingles, &bands, &mut ranker);
        self.ranker = ranker;
        match similar {
            Some(slot) => self.touch(slot),
            None => self.create(shingles, bands, exact),
        }
    }

    fn similar(&self, shingles: &Shingles, bands: &[u64; BANDS], ranker: &mut Ranker) -> Option<u32> {
        // Work per post is bounded: at most `max_compared` stories, each compared once.
        // Every bucket is looked up before any is read, so that their cache misses overlap.
        let buckets: [Option<&SmallVec<[u32; 4]>>; BANDS] =
            std::array::from_fn(|band| self.bands[band].get(&bands[band]));
        let max = self.config.max_compared;
        let mut slots: SmallVec<[u32; MAX_COMPARED]> = SmallVec::new();
        if buckets.iter().flatten().map(|b| b.len()).sum::<usize>() <= max {
            // Few enough to compare them all: the most recent of each bucket first.
            for &slot in buckets.iter().flatten().flat_map(|b| b.iter().rev()) {
                if !slots.contains(&slot) {
                    slots.push(slot);
                }
            }
        } else {
            ranker.rank(&buckets, max, &mut slots);
        }
        // Stories are far apart in memory, one cache miss each: they are all read before any is
        // compared, so that those misses overlap instead of following one another (this function
        // is the pipeline's one sequential stage).
        std::hint::black_box(slots.iter().fold(0, |acc, &slot| acc ^ self.slots[slot as usize].shingles.map[0]));
        // The first story similar enough, in that order, is the post's story.
        slots
            .into_iter()
            .find(|&slot| similar_enough(shingles, &self.slots[slot as usize].shingles, self.config.threshold))
    }

    fn touch(&mut self, slot: u32) -> Assignment {
        let clock = self.clock;
        let story = &mut self.slots[slot as usize];
        story.count += 1;
        story.last_seen = clock;
        let assignment = Assignment { story: story.id, count: story.count, new: false };
        self.recency.push_back((clock, slot));
        self.compact();
        assignment
    }

    fn create(&mut self, shingles: Shingles, bands: [u64; BANDS], exact: u64) -> Assignment {
        if self.config.capacity == 0 {
            return self.alone();
        }
        if self.live >= self.config.capacity {
            self.evict_oldest();
        }
        let id = self.next_id;
        self.next_id += 1;
        let story = Story { id, shingles, exact, bands, count: 1, last_seen: self.clock };
        let slot = match self.free.pop() {
            Some(slot) => {
                self.slots[slot as usize] = story;
                slot
            }
            None => {
                self.slots.push(story);
                (self.slots.len() - 1) as u32
            }
        };
        self.live += 1;
        for (band, key) in bands.iter().enumerate() {
            let bucket = self.bands[band].entry(*key).or_default();
            if bucket.len() >= MAX_BUCKET {
                // The oldest story leaves this bucket (it stays findable by its other bands and
                // its exact hash).
                bucket.remove(0);
            }
            bucket.push(slot);
        }
        self.exact.insert(exact, slot);
        self.recency.push_back((self.clock, slot));
        self.compact();
        Assignment { story: id, count: 1, new: true }
    }

    fn evict_oldest(&mut self) {
        while let Some((seen, slot)) = self.recency.pop_front() {
            if self.slots[slot as usize].last_seen_at(seen) {
                self.forget(slot);
                return;
            }
        }
    }

    fn forget(&mut self, slot: u32) {
        let story = std::mem::take(&mut self.slots[slot as usize]);
        self.free.push(slot);
        self.live -= 1;
        // Its 16 buckets are far apart in memory: all are looked up before any is changed, so
        // that their cache misses overlap (as in `similar`).
        std::hint::black_box(self.touch_buckets(&story.bands));
        if self.exact.get(&story.exact) == Some(&slot) {
            self.exact.remove(&story.exact);
        }
        for (band, key) in story.bands.iter().enumerate() {
            if let Some(slots) = self.bands[band].get_mut(key) {
                slots.retain(|other| *other != slot);
                if slots.is_empty() {
                    self.bands[band].remove(key);
                }
            }
        }
    }

    /// Looks up the bucket of each band key (what it returns means nothing: it loads them).
    fn touch_buckets(&self, bands: &[u64; BANDS]) -> usize {
        bands.iter().zip(&self.bands).fold(0, |acc, (key, map)| acc ^ map.get(key).map_or(0, |b| b.len()))
    }

    /// Drops stale recency entries so the queue stays proportional to the stories kept.
    fn compact(&mut self) {
        if self.recency.len() > 4 * self.live + 64 {
            let slots = &self.slots;
            self.recency.retain(|&(seen, slot)| slots[slot as usize].last_seen_at(seen));
        }
    }
}

/// Ranks the stories of a post's crowded buckets (posts of one template): those sharing the most
/// bands with the post first; among equals, those nearest the recent end of a bucket first. A
/// story at Jaccard 0.7 shares about 4 of the 16 bands, one at 0.3 shares one in 8 times: taking
/// the buckets in band order instead filled the places with the template's other stories, and a
/// copy whose story came later started a new one (`examples/stories_templated.rs`). Of each bucket
/// only the most recent stories are counted (16, or as many as are compared if more, up to the
/// 256 a bucket keeps), in a small open-addressing table reset after each post.
#[derive(Debug, Default)]
struct Ranker {
    /// (slot + 1, bands shared, best recency); slot 0 marks an empty entry.
    table: Vec<(u32, u16, u16)>,
    /// Entries in use.
    used: Vec<u32>,
    keys: Vec<u64>,
}

/// Stories of each crowded bucket ranked for comparison at least (the most recent).
const RANKED_PER_BUCKET: usize = 16;

impl Ranker {
    /// Appends the `max` best stories of `buckets` to `slots`, best first.
    fn rank(
        &mut self,
        buckets: &[Option<&SmallVec<[u32; 4]>>; BANDS],
        max: usize,
        slots: &mut SmallVec<[u32; MAX_COMPARED]>,
    ) {
        let per_bucket = max.clamp(RANKED_PER_BUCKET, MAX_BUCKET);
        // At most half full.
        let size = (2 * BANDS * per_bucket).next_power_of_two();
        if self.table.len() < size {
            self.table = vec![(0, 0, 0); size];
        }
        let mask = self.table.len() - 1;
        for bucket in buckets.iter().flatten() {
            for (recency, &slot) in bucket.iter().rev().take(per_bucket).enumerate() {
                let mut i = (slot.wrapping_mul(0x9e37_79b1) >> 16) as usize & mask;
                loop {
                    let entry = &mut self.table[i];
                    if entry.0 == slot + 1 {
                        entry.1 += 1;
                        entry.2 = entry.2.min(recency as u16);
                        break;
                    }
                    if entry.0 == 0 {
                        *entry = (slot + 1, 1, recency as u16);
                        self.used.push(i as u32);
                        break;
                    }
                    i = (i + 1) & mask;
                }
            }
        }
        // (16 − bands shared, best place from a bucket's recent end, slot): smallest first.
        self.keys.clear();
        for &i in &self.used {
            let (slot, shared, recency) = std::mem::take(&mut self.table[i as usize]);
            self.keys.push(
                (((BANDS - usize::from(shared)) as u64) << 56) | (u64::from(recency) << 32) | u64::from(slot - 1),
            );
        }
        self.used.clear();
        if self.keys.len() > max {
            self.keys.select_nth_unstable(max);
            self.keys.truncate(max);
        }
        self.keys.sort_unstable();
        slots.extend(self.keys.iter().map(|k| *k as u32));
    }
}

/// The comparable form of a post: lower case without accents, links, @mentions, a leading "RT",
/// punctuation and emoji; words separated by one space.
pub fn normalise(text: &str, out: &mut String) {
    out.clear();
    let mut first = true;
    for token in text.split_whitespace() {
        let skip = token.starts_with('@')
            || token.contains("://")
            || token.starts_with("www.")
            || (first && (token == "RT" || token == "rt" || token == "RT:"));
        first = false;
        if skip {
            continue;
        }
        let mut wrote = false;
        for c in token.chars() {
            if c.is_alphanumeric() {
                if !wrote && !out.is_empty() && !out.ends_with(' ') {
                    out.push(' ');
                }
                push_folded_char(out, c);
                wrote = true;
            } else if wrote && !out.ends_with(' ') {
                out.push(' ');
            }
        }
    }
    while out.ends_with(' ') {
        out.pop();
    }
}

fn hash_str(s: &str) -> u64 {
    hash_bytes(s.as_bytes())
}

fn hash_bytes(bytes: &[u8]) -> u64 {
    let mut h = FxHasher::default();
    h.write(bytes);
    h.finish()
}

/// Sorted, deduplicated hashes of the 5-character shingles (the whole text if shorter).
fn shingles(normalised: &str) -> Vec<u32> {
    let mut out: Vec<u32> = if normalised.is_ascii() {
        // One byte per character (the common case): the shingles are the 5-byte windows.
        if normalised.len() <= SHINGLE {
            vec![hash_str(normalised) as u32]
        } else {
            normalised.as_bytes().windows(SHINGLE).map(|w| hash_bytes(w) as u32).collect()
        }
    } else {
        let starts: Vec<usize> = normalised.char_indices().map(|(i, _)| i).chain([normalised.len()]).collect();
        let n = starts.len() - 1;
        if n <= SHINGLE {
            vec![hash_str(normalised) as u32]
        } else {
            (0..=n - SHINGLE).map(|i| hash_str(&normalised[starts[i]..starts[i + SHINGLE]]) as u32).collect()
        }
    };
    out.sort_unstable();
    out.dedup();
    out
}

/// MinHash by double hashing: the k-th function of a shingle is `h1 + k·h2` (two halves of one
/// 64-bit mix). The values of one shingle are built by adding `h2` (no multiplication), and kept
/// with their top bit flipped, so that their unsigned order is the signed order of `i32` (the
/// minimum of each lane is then one signed comparison, which every x86-64 vector unit has).
fn minhash(shingles: &[u32]) -> [u32; HASHES] {
    const LANES: usize = 8;
    const FLIP: u32 = 0x8000_0000;
    let mut signature = [i32::MAX; HASHES];
    for &s in shingles {
        let h = mix64(u64::from(s));
        let (h1, h2) = ((h as u32) ^ FLIP, ((h >> 32) as u32) | 1);
        // (x + k·h2) ^ FLIP == (x ^ FLIP) + k·h2: flipping the top bit is adding 2^31.
        let mut values: [i32; LANES] = std::array::from_fn(|k| h1.wrapping_add((k as u32).wrapping_mul(h2)) as i32);
        let step = (LANES as u32).wrapping_mul(h2) as i32;
        for chunk in signature.chunks_exact_mut(LANES) {
            for (slot, value) in chunk.iter_mut().zip(values.iter_mut()) {
                *slot = (*slot).min(*value);
                *value = value.wrapping_add(step);
            }
        }
    }
    signature.map(|v| (v as u32) ^ FLIP)
}

fn band_keys(signature: &[u32; HASHES]) -> [u64; BANDS] {
    let mut keys = [0u64; BANDS];
    for (band, key) in keys.iter_mut().enumerate() {
        let mut h = FxHasher::default();
        for value in &signature[band * ROWS..(band + 1) * ROWS] {
            h.write_u32(*value);
        }
        *key = h.finish();
    }
    keys
}

/// The splitmix64 finaliser.
#[inline]
fn mix64(mut x: u64) -> u64 {
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// Jaccard similarity of two sorted sets.
#[cfg(test)]
fn jaccard(a: &[u32], b: &[u32]) -> f64 {
    let both = common(a, b, 0).unwrap_or(0);
    let union = a.len() + b.len() - both;
    if union == 0 { 1.0 } else { both as f64 / union as f64 }
}

/// Whether two posts' shingle sets have a Jaccard similarity of at least `threshold`: the same
/// answer as computing it, but most dissimilar pairs are given up on from their maps alone or
/// part of the way through their hashes.
fn similar_enough(a: &Shingles, b: &Shingles, threshold: f64) -> bool {
    // J >= t  <=>  common >= t (|a| + |b|) / (1 + t); rounded down, so the bound never prunes a
    // pair that reaches the threshold (the exact test below decides).
    // (A float-to-integer cast rounds toward zero and saturates: the floor of a non-negative value.)
    let need = (threshold * (a.hashes.len() + b.hashes.len()) as f64 / (1.0 + threshold)) as usize;
    if a.shared_at_most(b) < need {
        return false;
    }
    let (a, b) = (&a.hashes, &b.hashes);
    let Some(both) = common(a, b, need) else { return false };
    let union = a.len() + b.len() - both;
    (if union == 0 { 1.0 } else { both as f64 / union as f64 }) >= threshold
}

/// The number of elements two sorted sets share, or `None` as soon as it cannot reach `need`.
fn common(a: &[u32], b: &[u32], need: usize) -> Option<usize> {
    let (mut i, mut j, mut both) = (0, 0, 0usize);
    while i < a.len() && j < b.len() {
        if both + (a.len() - i).min(b.len() - j) < need {
            return None;
        }
        // Branch-free step: the comparison outcome is unpredictable.
        let (x, y) = (a[i], b[j]);
        both += usize::from(x == y);
        i += usize::from(x <= y);
        j += usize::from(y <= x);
    }
    (both >= need).then_some(both)
}

#[cfg(test)]
mod tests;
