//! The post as the query language sees it: text, optional title, and metadata for the filters.

use crate::ast::FilterKind;
use crate::parser::filter_value_in;

/// A post to match: borrowed, so building one costs nothing.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Doc<'a> {
    /// The post's text.
    pub text: &'a str,
    /// Its title (articles, RSS items).
    pub title: Option<&'a str>,
    /// Its language (`fr`, `en`, `fr-CA`…), detected or declared.
    pub lang: Option<&'a str>,
    /// The author's handle (`alice.bsky.social`, `bob@mastodon.social`).
    pub author: Option<&'a str>,
    /// The site's domain (`www.lemonde.fr`), for links and articles.
    pub domain: Option<&'a str>,
    /// Where the post came from (`bluesky`, `mastodon`, `rss`, `ingest`…).
    pub source: Option<&'a str>,
}

impl<'a> Doc<'a> {
    /// A post with only a text.
    pub fn text(text: &'a str) -> Self {
        Self { text, ..Self::default() }
    }

    /// The raw metadata value a filter looks at.
    pub fn meta(&self, kind: FilterKind) -> Option<&'a str> {
        match kind {
            FilterKind::Lang => self.lang,
            FilterKind::Author => self.author,
            FilterKind::Domain => self.domain,
            FilterKind::Source => self.source,
        }
    }
}

/// Whether every byte of `value` is one of the bytes of a `kind` value in folded form (ASCII
/// lower-case letters and digits; `-`; `.` but in a source; `_` in an author or a source; `@` in
/// an author), and where its first `@` is (`value.len()` if none): eight bytes at a time (SWAR),
/// without a branch per byte (a table lookup per byte and then `split_once` before).
fn folded_meta(value: &[u8], kind: FilterKind) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    // Which optional bytes are allowed, as all-ones or zero masks (no branch in the loop).
    let when = |yes: bool| if yes { u64::MAX } else { 0 };
    let (dot, under, at_sign) =
        (when(kind != FilterKind::Source), when(kind != FilterKind::Domain), when(kind == FilterKind::Author));
    // The high bit of each byte of `x` that is allowed, and of each `@`.
    let classify = |x: u64| {
        let t = x & !HIGH;
        // Per byte, the high bit of `t + (0x80 - lo)` is set when `t >= lo` (no carry between bytes).
        let at_least = |lo: u8| t + u64::from(0x80 - lo) * ONES;
        let within = |lo: u8, hi: u8| at_least(lo) & !at_least(hi + 1);
        let at = within(b'@', b'@') & !x & HIGH;
        let ok = within(b'a', b'z')
            | within(b'0', b'9')
            | within(b'-', b'-')
            | (within(b'.', b'.') & dot)
            | (within(b'_', b'_') & under)
            | (at & at_sign);
        (ok & !x & HIGH, at)
    };
    let n = value.len();
    if n < 8 {
        // One word, the bytes past the value zero (a copy of a length known only here would call
        // `memcpy`): only the first `n` bytes count.
        let word = value.iter().rev().fold(0u64, |w, &b| (w << 8) | u64::from(b));
        let (ok, at) = classify(word);
        let mask = (1u64 << (8 * n)) - 1;
        return (ok & mask == HIGH & mask).then(|| if at == 0 { n } else { (at.trailing_zeros() / 8) as usize });
    }
    let (mut all_ok, mut first_at, mut start) = (true, n, 0);
    loop {
        // The last word overlaps the one before it rather than reading past the end.
        let from = start.min(n - 8);
        let mut word = [0u8; 8];
        word.copy_from_slice(&value[from..from + 8]);
        let (ok, at) = classify(u64::from_le_bytes(word));
        all_ok &= ok == HIGH;
        if at != 0 {
            first_at = first_at.min(from + (at.trailing_zeros() / 8) as usize);
        }
        if from + 8 == n {
            break;
        }
        start += 8;
    }
    all_ok.then_some(first_at)
}

/// Calls `f` with every filter value that the post's metadata `value` satisfies: the language's
/// primary subtag; the handle and, for `user@instance`, `user`; the domain and each parent domain.
/// Allocates only when `value` is not already in folded form (see [`for_each_meta_key_in`]).
pub fn for_each_meta_key(kind: FilterKind, value: &str, f: impl FnMut(&str)) {
    for_each_meta_key_in(kind, value, &mut String::new(), f);
}

/// [`for_each_meta_key`], folding a value that needs it into `buf` (reused: nothing is allocated
/// once warm).
pub fn for_each_meta_key_in(kind: FilterKind, value: &str, buf: &mut String, f: impl FnMut(&str)) {
    // A value already in folded form (the usual case) is its own key, less a leading `www.` for a
    // domain; `at`: where its first `@` is. Any other value is folded by the general path, which
    // strips the `www.` itself (once, as a query's value is).
    let stripped = if kind == FilterKind::Domain { value.strip_prefix("www.").unwrap_or(value) } else { value };
    let simple = match kind {
        FilterKind::Lang => {
            ((2..=3).contains(&value.len()) && value.bytes().all(|b| b.is_ascii_lowercase())).then_some(value.len())
        }
        _ if stripped.is_empty() || stripped.starts_with(['@', '.']) || stripped.ends_with('.') => None,
        _ => folded_meta(stripped.as_bytes(), kind),
    };
    let (v, at) = match simple {
        Some(at) => (stripped, Some(at)),
        None => match filter_value_in(kind, value, buf) {
            Some(v) => (v, None),
            None => return,
        },
    };
    for_each_key_of(kind, v, at, f);
}

/// Calls `f` with the folded value `v` and the keys it implies: for an author `user@instance`,
/// `user` (its first `@` at `at`, or looked for when `None`); for a domain, each parent domain.
fn for_each_key_of(kind: FilterKind, v: &str, at: Option<usize>, mut f: impl FnMut(&str)) {
    f(v);
    match kind {
        FilterKind::Author => {
            let at = at.unwrap_or_else(|| v.find('@').unwrap_or(v.len()));
            if let Some(local) = v.get(..at).filter(|_| at < v.len()) {
                f(local);
            }
        }
        FilterKind::Domain => {
            let mut rest = v;
            while let Some((_, parent)) = rest.split_once('.') {
                if !parent.is_empty() {
                    f(parent);
                }
                rest = parent;
            }
        }
        FilterKind::Lang | FilterKind::Source => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The keys of `value`, and the keys by the general path alone (folding every value, its `@`
    /// looked for).
    fn keys(kind: FilterKind, value: &str) -> (Vec<String>, Vec<String>) {
        let mut fast = Vec::new();
        for_each_meta_key_in(kind, value, &mut String::new(), |k| fast.push(k.to_owned()));
        let mut general = Vec::new();
        if let Some(v) = filter_value_in(kind, value, &mut String::new()) {
            for_each_key_of(kind, v, None, |k| general.push(k.to_owned()));
        }
        (fast, general)
    }

    #[test]
    fn keys_of_folded_values_agree_with_the_general_path() {
        assert_eq!(keys(FilterKind::Author, "bob@mastodon.social").0, ["bob@mastodon.social", "bob"]);
        assert_eq!(keys(FilterKind::Domain, "www.blog.lemonde.fr").0, ["blog.lemonde.fr", "lemonde.fr", "fr"]);
        // `www.` is stripped once, as from a query's `site:www.www.x`.
        assert_eq!(keys(FilterKind::Domain, "www.www.x").0, ["www.x", "x"]);
        assert_eq!(keys(FilterKind::Domain, "www.WWW.x").0, ["www.x", "x"]);
        // `\u{7F0}` (DF B0) and `\u{1E00}` (E1 B8 80) would pass for `_0` and `a8` without their high bits.
        let pieces = [
            "a", "z", "0", "9", "A", "é", "_", "-", ".", "@", "/", ":", " ", "`", "{", "ab", "www.", "xyz12",
            "\u{7F0}", "\u{1E00}",
        ];
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        for _ in 0..50_000 {
            state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            let len = (state >> 59) as usize;
            let mut value = String::new();
            for _ in 0..len {
                state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
                value.push_str(pieces[(state >> 33) as usize % pieces.len()]);
            }
            for kind in [FilterKind::Lang, FilterKind::Author, FilterKind::Domain, FilterKind::Source] {
                let (fast, general) = keys(kind, &value);
                assert_eq!(fast, general, "{kind:?} {value:?}");
            }
        }
    }
}
