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

/// The bytes of an author or a domain already in folded form.
const fn folded_bytes(extra: &[u8]) -> [bool; 256] {
    let mut t = [false; 256];
    let mut b = 0;
    while b < 128 {
        t[b] = (b as u8).is_ascii_lowercase() || (b as u8).is_ascii_digit();
        b += 1;
    }
    let mut i = 0;
    while i < extra.len() {
        t[extra[i] as usize] = true;
        i += 1;
    }
    t
}
const AUTHOR_BYTES: [bool; 256] = folded_bytes(b".-_@");
const DOMAIN_BYTES: [bool; 256] = folded_bytes(b".-");

/// Calls `f` with every filter value that the post's metadata `value` satisfies: the language's
/// primary subtag; the handle and, for `user@instance`, `user`; the domain and each parent domain.
/// Allocates only when `value` is not already in folded form (see [`for_each_meta_key_in`]).
pub fn for_each_meta_key(kind: FilterKind, value: &str, f: impl FnMut(&str)) {
    for_each_meta_key_in(kind, value, &mut String::new(), f);
}

/// [`for_each_meta_key`], folding a value that needs it into `buf` (reused: nothing is allocated
/// once warm).
pub fn for_each_meta_key_in(kind: FilterKind, value: &str, buf: &mut String, mut f: impl FnMut(&str)) {
    let value = if kind == FilterKind::Domain { value.strip_prefix("www.").unwrap_or(value) } else { value };
    let simple = match kind {
        FilterKind::Lang => (2..=3).contains(&value.len()) && value.bytes().all(|b| b.is_ascii_lowercase()),
        _ => {
            let allowed = if kind == FilterKind::Author { &AUTHOR_BYTES } else { &DOMAIN_BYTES };
            !value.is_empty()
                && !value.starts_with(['@', '.'])
                && !value.ends_with('.')
                && value.bytes().all(|b| allowed[b as usize])
        }
    };
    let v = if simple {
        value
    } else {
        match filter_value_in(kind, value, buf) {
            Some(v) => v,
            None => return,
        }
    };
    f(v);
    match kind {
        FilterKind::Author => {
            if let Some((local, _)) = v.split_once('@') {
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
