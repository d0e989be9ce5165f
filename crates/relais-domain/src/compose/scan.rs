//! Hand-written scanners for URLs, mentions and hashtags, and Bluesky rich-text facets.
//!
//! URL rule (shared by X, Mastodon and Bluesky): a URL starts at a word boundary (not after a
//! letter, digit or one of `@ . _ - / # & = + ~ $ % :`), either with `http://` / `https://`
//! followed by a host, or without scheme when the host is `label(.label)+` in ASCII whose last
//! label is in [`SCHEMELESS_TLDS`] (a short list of common TLDs, so that `README.md`, `node.js`
//! or `e.g` are not links). It continues with an optional `:port` and a path/query/fragment up to
//! whitespace or `<` `>` `"`. Trailing `.,;:!?'"` and unbalanced closing `)` / `]` are dropped.
//! Emails are not URLs: a host right after `@` is never a start, and a host followed by `@` is
//! rejected.

use serde::Serialize;
use unicode_normalization::char::is_combining_mark;
use unicode_segmentation::UnicodeSegmentation;

/// Top-level domains accepted for URLs written without a scheme.
const SCHEMELESS_TLDS: [&str; 40] = [
    "com", "org", "net", "fr", "io", "dev", "app", "co", "uk", "de", "eu", "info", "social", "xyz", "be", "ch", "ca",
    "es", "it", "edu", "gov", "me", "tv", "us", "nl", "at", "pt", "pl", "ie", "jp", "au", "ai", "gg", "ly", "to",
    "blog", "news", "online", "site", "tech",
];

/// Chars that, right before a candidate, mean it is in the middle of a word or of another URL.
const NOT_A_BOUNDARY: &str = "@._-/#&=+~$%:";

/// Trailing chars never part of a URL.
const TRAILING_PUNCTUATION: &str = ".,;:!?'\"";

/// Chars that end a URL path.
const PATH_STOP: &str = "<>\"";

/// Longest hashtag Bluesky accepts in a tag facet, in graphemes.
const BLUESKY_TAG_MAX_GRAPHEMES: usize = 64;

/// A URL found in a text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UrlMatch {
    /// Byte offset of the first byte of the URL.
    pub start: usize,
    /// Byte offset just past the URL.
    pub end: usize,
    /// The URL, with `https://` prepended when it was written without scheme.
    pub url: String,
}

/// A Bluesky rich-text facet (`app.bsky.richtext.facet`), with UTF-8 byte offsets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Facet {
    /// Byte offset of the first byte covered.
    pub byte_start: usize,
    /// Byte offset just past the covered text.
    pub byte_end: usize,
    /// What the covered text is.
    pub feature: FacetFeature,
}

/// The feature of a Bluesky facet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum FacetFeature {
    /// A link to `uri`.
    Link {
        /// The full URI (with scheme).
        uri: String,
    },
    /// A mention of a handle, still to be resolved to a DID by the network layer.
    Mention {
        /// The handle, without `@`, e.g. `alice.bsky.social`.
        handle: String,
    },
    /// A hashtag.
    Tag {
        /// The tag, without `#`.
        tag: String,
    },
}

/// A `@user` or `@user@domain` mention, byte offsets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Mention {
    /// Offset of the `@`.
    pub start: usize,
    /// Offset just past the user name (where `@domain` starts, if any).
    pub user_end: usize,
    /// Offset just past the mention.
    pub end: usize,
}

/// Every URL in `text`, in order.
pub fn find_urls(text: &str) -> Vec<UrlMatch> {
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(c) = text[i..].chars().next() {
        if c.is_ascii_alphanumeric()
            && at_boundary(text, i)
            && let Some(end) = match_url(text, i)
        {
            out.push(url_match(text, i, end));
            i = end;
            continue;
        }
        i += c.len_utf8();
    }
    out
}

/// True when `url` starts with `http://` or `https://` (any case).
pub(crate) fn has_scheme(url: &str) -> bool {
    scheme_len(url) > 0
}

/// Every `@user` / `@user@domain` mention (Mastodon syntax; also used to count Instagram mentions).
pub(crate) fn find_mentions(text: &str) -> Vec<Mention> {
    at_signs(text)
        .filter(|&i| prev_char(text, i).is_none_or(|p| !(is_word(p) || "=/@".contains(p))))
        .filter_map(|i| match_mention(text, i))
        .collect()
}

/// Every hashtag, as byte ranges including the `#`, ignoring those inside URLs.
pub(crate) fn find_hashtags(text: &str) -> Vec<(usize, usize)> {
    let urls = find_urls(text);
    text.char_indices()
        .filter(|&(_, c)| c == '#' || c == '＃')
        .filter(|&(i, _)| !urls.iter().any(|u| u.start <= i && i < u.end))
        .filter(|&(i, _)| prev_char(text, i).is_none_or(|p| !(is_word(p) || "&#".contains(p))))
        .filter_map(|(i, c)| match_hashtag(text, i, c.len_utf8()))
        .collect()
}

/// The Bluesky facets of `text` (links, mentions, hashtags), sorted by `byte_start`.
pub fn bluesky_facets(text: &str) -> Vec<Facet> {
    let urls = find_urls(text);
    let outside_urls = |s: usize| !urls.iter().any(|u| u.start <= s && s < u.end);
    let mut facets: Vec<Facet> =
        urls.iter().map(|u| facet(u.start, u.end, FacetFeature::Link { uri: u.url.clone() })).collect();
    facets.extend(
        find_handles(text)
            .into_iter()
            .filter(|&(s, _)| outside_urls(s))
            .map(|(s, e)| facet(s, e, FacetFeature::Mention { handle: text[s + 1..e].to_string() })),
    );
    facets.extend(find_hashtags(text).into_iter().filter_map(|(s, e)| tag_facet(text, s, e)));
    facets.sort_by_key(|f| f.byte_start);
    facets
}

fn facet(byte_start: usize, byte_end: usize, feature: FacetFeature) -> Facet {
    Facet { byte_start, byte_end, feature }
}

fn tag_facet(text: &str, start: usize, end: usize) -> Option<Facet> {
    let hash_len = text[start..].chars().next().map_or(1, char::len_utf8);
    let tag = &text[start + hash_len..end];
    (tag.graphemes(true).count() <= BLUESKY_TAG_MAX_GRAPHEMES)
        .then(|| facet(start, end, FacetFeature::Tag { tag: tag.to_string() }))
}

/// Bluesky handles: `@` after start, whitespace or `(`, then a domain name.
fn find_handles(text: &str) -> Vec<(usize, usize)> {
    at_signs(text)
        .filter(|&i| prev_char(text, i).is_none_or(|p| p.is_whitespace() || p == '('))
        .filter_map(|i| match_handle(text, i))
        .collect()
}

fn match_handle(text: &str, at: usize) -> Option<(usize, usize)> {
    let body = take_while(text, at + 1, |c| c.is_ascii_alphanumeric() || c == '.' || c == '-');
    let end = trim_end_matching(text, at + 1, body, |c| c == '.' || c == '-');
    let labels: Vec<&str> = text[at + 1..end].split('.').collect();
    let tld = labels.last().copied().unwrap_or_default();
    let valid = labels.len() >= 2
        && labels.iter().all(|l| !l.is_empty() && !l.starts_with('-') && !l.ends_with('-'))
        && tld.len() >= 2
        && tld.chars().all(|c| c.is_ascii_alphabetic());
    (valid && next_char(text, end) != Some('@')).then_some((at, end))
}

fn at_signs(text: &str) -> impl Iterator<Item = usize> + '_ {
    text.char_indices().filter(|&(_, c)| c == '@').map(|(i, _)| i)
}

fn match_mention(text: &str, at: usize) -> Option<Mention> {
    let user_start = at + 1;
    let raw = take_while(text, user_start, |c| c.is_ascii_alphanumeric() || "_.-".contains(c));
    let user_end = trim_end_matching(text, user_start, raw, |c| c == '.' || c == '-');
    let first = text[user_start..user_end].chars().next()?;
    if !(first.is_ascii_alphanumeric() || first == '_') {
        return None;
    }
    let end = match next_char(text, user_end) {
        Some('@') => mention_domain_end(text, user_end + 1).unwrap_or(user_end),
        _ => user_end,
    };
    Some(Mention { start: at, user_end, end })
}

fn mention_domain_end(text: &str, from: usize) -> Option<usize> {
    let raw = take_while(text, from, |c| is_word(c) || c == '.' || c == '-');
    let end = trim_end_matching(text, from, raw, |c| c == '.' || c == '-');
    (end > from).then_some(end)
}

fn match_hashtag(text: &str, hash: usize, hash_len: usize) -> Option<(usize, usize)> {
    let from = hash + hash_len;
    let end = take_while(text, from, |c| is_word(c) || is_combining_mark(c));
    let body = &text[from..end];
    (!body.is_empty() && !body.chars().all(char::is_numeric)).then_some((hash, end))
}

fn url_match(text: &str, start: usize, end: usize) -> UrlMatch {
    let raw = &text[start..end];
    let url = if has_scheme(raw) { raw.to_string() } else { format!("https://{raw}") };
    UrlMatch { start, end, url }
}

/// The end of the URL starting at `start`, if one starts there.
fn match_url(text: &str, start: usize) -> Option<usize> {
    let scheme = scheme_len(&text[start..]);
    let host_end = host_end(text, start + scheme, scheme > 0)?;
    let end = port_end(text, host_end);
    match next_char(text, end) {
        Some('/' | '?' | '#') => Some(trim_trailing(text, host_end, path_end(text, end))),
        Some(c) if is_word(c) || c == '@' || c == '-' => None,
        _ => Some(end),
    }
}

fn scheme_len(s: &str) -> usize {
    let starts = |p: &str| s.get(..p.len()).is_some_and(|h| h.eq_ignore_ascii_case(p));
    if starts("https://") {
        8
    } else if starts("http://") {
        7
    } else {
        0
    }
}

/// Scans `label(.label)*` from `from`; returns its end when it is an acceptable host.
fn host_end(text: &str, from: usize, scheme: bool) -> Option<usize> {
    let is_label_char = |c: char| {
        if scheme { c.is_alphanumeric() || c == '-' } else { c.is_ascii_alphanumeric() || c == '-' }
    };
    let mut labels = Vec::new();
    let mut i = from;
    loop {
        let end = take_while(text, i, is_label_char);
        if end == i {
            break;
        }
        labels.push(&text[i..end]);
        i = end;
        let continues = text[i..].starts_with('.') && take_while(text, i + 1, is_label_char) > i + 1;
        if !continues {
            break;
        }
        i += 1;
    }
    valid_host(&labels, scheme).then_some(i)
}

fn valid_host(labels: &[&str], scheme: bool) -> bool {
    let Some(tld) = labels.last() else { return false };
    if labels.iter().any(|l| l.starts_with('-') || l.ends_with('-')) {
        return false;
    }
    if !scheme {
        return labels.len() >= 2 && SCHEMELESS_TLDS.contains(&tld.to_ascii_lowercase().as_str());
    }
    let alpha_tld = tld.chars().count() >= 2 && tld.chars().all(char::is_alphabetic);
    let ipv4 = labels.len() == 4 && labels.iter().all(|l| l.chars().all(|c| c.is_ascii_digit()));
    let localhost = matches!(labels, [only] if only.eq_ignore_ascii_case("localhost"));
    (labels.len() >= 2 && alpha_tld) || ipv4 || localhost
}

fn port_end(text: &str, host_end: usize) -> usize {
    if next_char(text, host_end) != Some(':') {
        return host_end;
    }
    let end = take_while(text, host_end + 1, |c| c.is_ascii_digit());
    if end > host_end + 1 { end } else { host_end }
}

fn path_end(text: &str, from: usize) -> usize {
    take_while(text, from, |c| !(c.is_whitespace() || c.is_control() || PATH_STOP.contains(c)))
}

/// Drops trailing punctuation and unbalanced closing brackets, never going before `min`.
fn trim_trailing(text: &str, min: usize, mut end: usize) -> usize {
    while end > min {
        let url = &text[min..end];
        let Some(last) = url.chars().next_back() else { break };
        let unbalanced = |open: char| url.matches(open).count() < url.matches(last).count();
        let drop =
            TRAILING_PUNCTUATION.contains(last) || (last == ')' && unbalanced('(')) || (last == ']' && unbalanced('['));
        if !drop {
            break;
        }
        end -= last.len_utf8();
    }
    end
}

/// A URL may start at `i` only if the previous char does not glue it to a word.
fn at_boundary(text: &str, i: usize) -> bool {
    prev_char(text, i).is_none_or(|p| !(p.is_alphanumeric() || NOT_A_BOUNDARY.contains(p)))
}

fn is_word(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

fn prev_char(text: &str, i: usize) -> Option<char> {
    text[..i].chars().next_back()
}

fn next_char(text: &str, i: usize) -> Option<char> {
    text[i..].chars().next()
}

/// Byte offset just past the run of chars satisfying `keep` starting at `from`.
fn take_while(text: &str, from: usize, keep: impl Fn(char) -> bool) -> usize {
    text[from..].char_indices().find(|&(_, c)| !keep(c)).map_or(text.len(), |(i, _)| from + i)
}

/// Moves `end` back over chars satisfying `drop`, never before `min`.
fn trim_end_matching(text: &str, min: usize, end: usize, drop: impl Fn(char) -> bool) -> usize {
    min + text[min..end].trim_end_matches(drop).len()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// Checks the URLs found: (input, [(matched text, normalised url)]).
    fn check_urls(cases: &[(&str, &[(&str, &str)])]) {
        for &(input, expected) in cases {
            let got: Vec<(&str, String)> =
                find_urls(input).into_iter().map(|u| (&input[u.start..u.end], u.url)).collect();
            let want: Vec<(&str, String)> = expected.iter().map(|&(m, u)| (m, u.to_string())).collect();
            assert_eq!(got, want, "input {input:?}");
        }
    }

    #[test]
    fn urls() {
        check_urls(&[
            ("https://example.com", &[("https://example.com", "https://example.com")]),
            ("HTTP://Example.com/x", &[("HTTP://Example.com/x", "HTTP://Example.com/x")]),
            ("go to example.com/path now", &[("example.com/path", "https://example.com/path")]),
            ("example.com", &[("example.com", "https://example.com")]),
            ("relais.social.", &[("relais.social", "https://relais.social")]),
            ("(see https://example.com/a)", &[("https://example.com/a", "https://example.com/a")]),
            (
                "https://en.wikipedia.org/wiki/Rust_(language)",
                &[("https://en.wikipedia.org/wiki/Rust_(language)", "https://en.wikipedia.org/wiki/Rust_(language)")],
            ),
            (
                "(https://en.wikipedia.org/wiki/Rust_(language))",
                &[("https://en.wikipedia.org/wiki/Rust_(language)", "https://en.wikipedia.org/wiki/Rust_(language)")],
            ),
            ("Wow, https://a.io/x?y=1&z=2#f!", &[("https://a.io/x?y=1&z=2#f", "https://a.io/x?y=1&z=2#f")]),
            ("http://localhost:8080/x", &[("http://localhost:8080/x", "http://localhost:8080/x")]),
            ("https://exemple.fr:443", &[("https://exemple.fr:443", "https://exemple.fr:443")]),
            ("a: https://x.org, b: site.dev.", &[("https://x.org", "https://x.org"), ("site.dev", "https://site.dev")]),
            ("日本語https://example.jp/ok", &[]), // glued to a word
            ("日本語 https://例え.jp/ok", &[("https://例え.jp/ok", "https://例え.jp/ok")]),
            ("مرحبا https://example.com/ar", &[("https://example.com/ar", "https://example.com/ar")]),
            ("write to alice@example.com", &[]),
            ("alice@example.com/x", &[]),
            ("@bob@mastodon.social", &[]),
            ("README.md node.js e.g. file.txt", &[]),
            ("https://", &[]),
            ("nothttps://example.com", &[]),
            ("example.comfoo", &[]),
            ("\"https://example.com/q\"", &[("https://example.com/q", "https://example.com/q")]),
        ]);
    }

    #[test]
    fn url_offsets_are_bytes() {
        let u = find_urls("é example.com");
        assert_eq!((u[0].start, u[0].end), (3, 14));
    }

    fn check_facets(cases: &[(&str, Vec<Facet>)]) {
        for (input, expected) in cases {
            assert_eq!(&bluesky_facets(input), expected, "input {input:?}");
        }
    }

    fn link(s: usize, e: usize, uri: &str) -> Facet {
        facet(s, e, FacetFeature::Link { uri: uri.to_string() })
    }
    fn mention(s: usize, e: usize, handle: &str) -> Facet {
        facet(s, e, FacetFeature::Mention { handle: handle.to_string() })
    }
    fn tag(s: usize, e: usize, tag: &str) -> Facet {
        facet(s, e, FacetFeature::Tag { tag: tag.to_string() })
    }

    #[test]
    fn facets() {
        check_facets(&[
            ("plain text", vec![]),
            // "héllo " is 7 bytes (é = 2).
            ("héllo https://example.com", vec![link(7, 26, "https://example.com")]),
            // "✨ " = 4 bytes; "@alice.bsky.social" = 18 bytes.
            ("✨ @alice.bsky.social hi", vec![mention(4, 22, "alice.bsky.social")]),
            // "日本 " = 7 bytes; "#rust" = 5 bytes.
            ("日本 #rust", vec![tag(7, 12, "rust")]),
            // 👨‍👩‍👧‍👦 = 25 bytes + space.
            ("👨‍👩‍👧‍👦 #café example.fr/x", vec![tag(26, 32, "café"), link(33, 45, "https://example.fr/x")]),
            ("(@bob.example.com) see #Été2026!", vec![mention(1, 17, "bob.example.com"), tag(23, 33, "Été2026")]),
            ("@alice no domain, @bob@mastodon.social, #123 #_ok", vec![tag(45, 49, "_ok")]),
            ("https://example.com/#frag", vec![link(0, 25, "https://example.com/#frag")]),
            ("mail a@b.com", vec![]),
        ]);
    }

    #[test]
    fn mentions() {
        let cases: &[(&str, &[(&str, &str)])] = &[
            ("@alice", &[("@alice", "@alice")]),
            ("hi @alice@mastodon.social.", &[("@alice", "@alice@mastodon.social")]),
            ("a@b.com", &[]),
            ("@a.b_c. x", &[("@a.b_c", "@a.b_c")]),
            ("@@x", &[]),
        ];
        for &(input, expected) in cases {
            let got: Vec<(&str, &str)> = find_mentions(input)
                .into_iter()
                .map(|m| (&input[m.start..m.user_end], &input[m.start..m.end]))
                .collect();
            assert_eq!(got, expected, "input {input:?}");
        }
    }

    #[test]
    fn hashtags() {
        let cases: &[(&str, &[&str])] = &[
            ("#rust #Été #日本 #a1", &["#rust", "#Été", "#日本", "#a1"]),
            ("#123 a#b &#39; ##x", &[]),
            ("https://x.com/#frag #ok", &["#ok"]),
            ("(#tag)", &["#tag"]),
        ];
        for &(input, expected) in cases {
            let got: Vec<&str> = find_hashtags(input).into_iter().map(|(s, e)| &input[s..e]).collect();
            assert_eq!(got, expected, "input {input:?}");
        }
    }
}
