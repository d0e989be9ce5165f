//! Length counters: one pure function per way a network counts text.
//!
//! Every counter cuts the text into [`Unit`]s (a grapheme, or a whole URL / mention domain that
//! counts as a fixed amount) so that the total and the position where a limit is exceeded come
//! from the same computation.

use unicode_normalization::UnicodeNormalization;
use unicode_segmentation::UnicodeSegmentation;

use super::MastodonInstance;
use super::scan::{find_mentions, find_urls, has_scheme};

/// How a network measures a text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Counter {
    /// twitter-text v3 weighted length (X).
    XWeighted,
    /// Extended grapheme clusters (Bluesky).
    Graphemes,
    /// Unicode scalar values.
    Chars,
    /// UTF-8 bytes.
    Utf8Bytes,
    /// UTF-16 code units (TikTok).
    Utf16,
    /// Characters, emoji counting their UTF-8 byte length (Threads).
    Threads,
    /// Graphemes with URLs at a fixed weight and mention domains free (Mastodon).
    Mastodon,
}

impl Counter {
    /// The English name of the unit, as shown in [`super::Report::unit`].
    pub(crate) fn unit(self) -> &'static str {
        match self {
            Counter::XWeighted => "weighted characters",
            Counter::Graphemes => "graphemes",
            Counter::Chars | Counter::Threads | Counter::Mastodon => "characters",
            Counter::Utf8Bytes => "bytes",
            Counter::Utf16 => "UTF-16 units",
        }
    }
}

/// An indivisible piece of text and what it costs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Unit {
    /// Offset of the piece, in chars from the start of the text.
    pub char_start: usize,
    /// What it counts for.
    pub cost: usize,
}

/// A byte range of the text that counts as a fixed amount (a URL, a mention domain).
struct Span {
    start: usize,
    end: usize,
    cost: usize,
}

/// What every URL counts for on X (`transformedURLLength`).
const X_URL_WEIGHT: usize = 23;

/// Code point ranges that weigh 1 on X (twitter-text v3 `ranges`); everything else weighs 2.
const X_LIGHT_RANGES: [(u32, u32); 4] = [(0x0000, 0x10FF), (0x2000, 0x200D), (0x2010, 0x201F), (0x2032, 0x2037)];

/// Code point ranges treated as pictographic (emoji). An approximation of
/// `Extended_Pictographic` that errs on the side of counting more.
const EMOJI_RANGES: [(u32, u32); 5] = [
    (0x1F000, 0x1FAFF), // mahjong … symbols & pictographs extended-A, regional indicators
    (0x2600, 0x27BF),   // miscellaneous symbols, dingbats
    (0x2300, 0x23FF),   // miscellaneous technical (⌚ ⏰ …)
    (0x2B00, 0x2BFF),   // arrows, ⭐ ⬛ …
    (0x3297, 0x3299),   // ㊗ ㊙
];

/// Emoji presentation selector (VS16) and combining enclosing keycap.
const EMOJI_MARKERS: [char; 2] = ['\u{FE0F}', '\u{20E3}'];

/// The units of `text` under `counter`.
pub(crate) fn units(counter: Counter, text: &str, inst: &MastodonInstance) -> Vec<Unit> {
    match counter {
        Counter::XWeighted => split_units(text, &url_spans(text, X_URL_WEIGHT, false), x_weight),
        Counter::Graphemes => split_units(text, &[], |_| 1),
        Counter::Chars => split_units(text, &[], |g| g.chars().count()),
        Counter::Utf8Bytes => split_units(text, &[], str::len),
        Counter::Utf16 => split_units(text, &[], |g| g.encode_utf16().count()),
        Counter::Threads => split_units(text, &[], threads_weight),
        Counter::Mastodon => split_units(text, &mastodon_spans(text, inst), |_| 1),
    }
}

/// The total length of `text` under `counter`.
pub(crate) fn measure(counter: Counter, text: &str, inst: &MastodonInstance) -> usize {
    units(counter, text, inst).iter().map(|u| u.cost).sum()
}

/// The char offset of the first unit that does not fit in `limit`, if any.
pub(crate) fn overflow_start(units: &[Unit], limit: usize) -> Option<usize> {
    let mut total = 0;
    units.iter().find_map(|u| {
        total += u.cost;
        (total > limit).then_some(u.char_start)
    })
}

/// The twitter-text v3 weighted length of `text` (X): NFC-normalised, code points in the light
/// ranges weigh 1 and others 2, an emoji sequence weighs 2 in total, every URL weighs 23.
///
/// Normalisation is applied per grapheme cluster, which is equivalent to normalising the whole
/// text since canonical composition never crosses a cluster boundary.
pub fn x_weighted_length(text: &str) -> usize {
    measure(Counter::XWeighted, text, &MastodonInstance::default())
}

/// The number of extended grapheme clusters (user-perceived characters) in `text`.
pub fn graphemes(text: &str) -> usize {
    text.graphemes(true).count()
}

/// The length Mastodon computes: graphemes, where every `http(s)://` URL counts
/// `characters_reserved_per_url` and `@user@domain` counts as `@user`.
///
/// Like the Mastodon server, only URLs with a scheme are shortened; `example.com` counts as
/// written.
pub fn mastodon_length(text: &str, inst: &MastodonInstance) -> usize {
    measure(Counter::Mastodon, text, inst)
}

/// The length Threads computes: an emoji counts its UTF-8 byte length, other chars count 1.
pub fn threads_length(text: &str) -> usize {
    measure(Counter::Threads, text, &MastodonInstance::default())
}

/// The number of UTF-16 code units in `text` (TikTok).
pub fn utf16_length(text: &str) -> usize {
    text.encode_utf16().count()
}

/// Cuts `text` into units: one per grapheme outside `spans` (cost given by `weight`), one per span.
fn split_units(text: &str, spans: &[Span], weight: impl Fn(&str) -> usize) -> Vec<Unit> {
    let mut out = Vec::new();
    let mut pos = 0;
    let mut chars = 0;
    for span in spans {
        push_graphemes(&text[pos..span.start], &mut chars, &weight, &mut out);
        out.push(Unit { char_start: chars, cost: span.cost });
        chars += text[span.start..span.end].chars().count();
        pos = span.end;
    }
    push_graphemes(&text[pos..], &mut chars, &weight, &mut out);
    out
}

fn push_graphemes(part: &str, chars: &mut usize, weight: &impl Fn(&str) -> usize, out: &mut Vec<Unit>) {
    for g in part.graphemes(true) {
        out.push(Unit { char_start: *chars, cost: weight(g) });
        *chars += g.chars().count();
    }
}

/// URL spans at a fixed cost; with `scheme_only`, URLs written without `http(s)://` are ignored.
fn url_spans(text: &str, cost: usize, scheme_only: bool) -> Vec<Span> {
    find_urls(text)
        .into_iter()
        .filter(|u| !scheme_only || has_scheme(&text[u.start..u.end]))
        .map(|u| Span { start: u.start, end: u.end, cost })
        .collect()
}

/// Mastodon: shortened URLs, plus the `@domain` part of every mention, which is free.
fn mastodon_spans(text: &str, inst: &MastodonInstance) -> Vec<Span> {
    let mut spans = url_spans(text, inst.characters_reserved_per_url, true);
    let domains: Vec<Span> = find_mentions(text)
        .into_iter()
        .filter(|m| m.end > m.user_end)
        .filter(|m| !spans.iter().any(|s| m.start < s.end && s.start < m.end))
        .map(|m| Span { start: m.user_end, end: m.end, cost: 0 })
        .collect();
    spans.extend(domains);
    spans.sort_by_key(|s| s.start);
    spans
}

/// True when a grapheme cluster is (or contains) an emoji.
pub(crate) fn is_emoji(grapheme: &str) -> bool {
    grapheme.chars().any(|c| {
        let cp = u32::from(c);
        EMOJI_MARKERS.contains(&c) || EMOJI_RANGES.iter().any(|&(lo, hi)| (lo..=hi).contains(&cp))
    })
}

fn x_weight(grapheme: &str) -> usize {
    if is_emoji(grapheme) {
        return 2;
    }
    grapheme.nfc().map(x_char_weight).sum()
}

fn x_char_weight(c: char) -> usize {
    let cp = u32::from(c);
    if X_LIGHT_RANGES.iter().any(|&(lo, hi)| (lo..=hi).contains(&cp)) { 1 } else { 2 }
}

fn threads_weight(grapheme: &str) -> usize {
    if is_emoji(grapheme) { grapheme.len() } else { grapheme.chars().count() }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn check(f: impl Fn(&str) -> usize, cases: &[(&str, usize)]) {
        for &(input, expected) in cases {
            assert_eq!(f(input), expected, "input {input:?}");
        }
    }

    #[test]
    fn x_weighted() {
        let a280 = "a".repeat(280);
        let cjk140 = "中".repeat(140);
        check(
            x_weighted_length,
            &[
                ("", 0),
                ("abc", 3),
                ("😷", 2),
                ("👨‍👩‍👧‍👦", 2),
                ("🇫🇷", 2),
                ("🇫🇷🇩🇪", 4),
                ("👍🏽", 2),
                ("1️⃣", 2),
                ("❤️", 2),
                ("é", 1),
                ("e\u{301}", 1),
                ("中", 2),
                ("中文", 4),
                ("日本語", 6),
                ("こんにちは", 10),
                ("مرحبا", 5),    // Arabic is inside U+0000–U+10FF: weight 1
                ("שלום", 4),     // Hebrew too
                ("\u{2014}", 1), // em dash, in U+2010–U+201F
                ("\u{2026}", 2), // ellipsis U+2026 is outside the light ranges
                ("abc https://example.com/very/long/path/that/is/long", 27),
                ("example.com", 23),
                ("see example.com/x and https://a.io", 4 + 23 + 5 + 23),
                (&a280, 280),
                (&cjk140, 280),
            ],
        );
    }

    #[test]
    fn grapheme_count() {
        check(graphemes, &[("", 0), ("abc", 3), ("e\u{301}", 1), ("👨‍👩‍👧‍👦", 1), ("🇫🇷", 1), ("中文", 2), ("مرحبا", 5)]);
    }

    #[test]
    fn mastodon() {
        let inst = MastodonInstance::default();
        let wide = MastodonInstance { characters_reserved_per_url: 10, ..MastodonInstance::default() };
        check(
            |t| mastodon_length(t, &inst),
            &[
                ("hello", 5),
                ("@alice@mastodon.social", 6),
                ("hi @alice@mastodon.social!", 10),
                ("@alice", 6),
                ("https://example.com/a/very/long/path/indeed", 23),
                ("example.com/a/very/long", 23), // no scheme: counted as written
                ("mail a@b.com", 12),
                ("👨‍👩‍👧‍👦", 1),
            ],
        );
        check(|t| mastodon_length(t, &wide), &[("x https://example.com/long/path", 12)]);
    }

    #[test]
    fn threads() {
        check(threads_length, &[("abc", 3), ("é", 1), ("中", 1), ("😷", 4), ("🇫🇷", 8), ("👨‍👩‍👧‍👦", 25), ("a😷b", 6)]);
    }

    #[test]
    fn utf16() {
        check(utf16_length, &[("abc", 3), ("é", 1), ("😷", 2), ("🇫🇷", 4), ("中", 1)]);
    }

    #[test]
    fn overflow_position() {
        let inst = MastodonInstance::default();
        let u = units(Counter::XWeighted, "ab中d", &inst);
        assert_eq!(overflow_start(&u, 4), Some(3));
        assert_eq!(overflow_start(&u, 3), Some(2));
        assert_eq!(overflow_start(&u, 5), None);
        let u = units(Counter::XWeighted, "x https://example.com y", &inst);
        assert_eq!(overflow_start(&u, 10), Some(2));
    }
}
