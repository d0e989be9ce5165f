//! The post as the query language sees it: text, optional title, and metadata for the filters.

use crate::ast::FilterKind;
use crate::parser::filter_value;
use std::borrow::Cow;

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

/// Calls `f` with every filter value that the post's metadata `value` satisfies: the language's
/// primary subtag; the handle and, for `user@instance`, `user`; the domain and each parent domain.
/// Allocates only when `value` is not already in folded form.
pub fn for_each_meta_key(kind: FilterKind, value: &str, mut f: impl FnMut(&str)) {
    let value = if kind == FilterKind::Domain { value.strip_prefix("www.").unwrap_or(value) } else { value };
    let simple = match kind {
        FilterKind::Lang => (2..=3).contains(&value.len()) && value.bytes().all(|b| b.is_ascii_lowercase()),
        _ => {
            let extra: &[u8] = if kind == FilterKind::Author { b".-_@" } else { b".-" };
            !value.is_empty()
                && !value.starts_with(['@', '.'])
                && !value.ends_with('.')
                && value.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || extra.contains(&b))
        }
    };
    let folded: Cow<'_, str> = if simple {
        Cow::Borrowed(value)
    } else {
        match filter_value(kind, value) {
            Some(v) => Cow::Owned(v),
            None => return,
        }
    };
    let v = folded.as_ref();
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
