//! RSS and Atom feeds as a listening source: polite polling with ETag and If-Modified-Since.
//!
//! [`poll_feed`] fetches one feed through the [`GuardedClient`] and returns its items as
//! [`IncomingPost`]s (`source: "rss"`), updating the feed's [`FeedState`] (plain data: the caller
//! stores it between polls). Formats: RSS 0.9x, 1.0 (RDF) and 2.0, Atom 1.0 and JSON Feed, all
//! parsed by feed-rs into one model.
//!
//! **Politeness.** A feed is polled at its interval ([`DEFAULT_INTERVAL_SECS`], never below
//! [`MIN_INTERVAL_SECS`]), or later when the server asks (`Cache-Control: max-age`,
//! `Retry-After` on 429/503); every request after the first is conditional (`If-None-Match`,
//! `If-Modified-Since`), so an unchanged feed costs a `304` and no body. Calling [`poll_feed`]
//! before the feed is due is refused ([`FeedError::NotDue`]) without a request. Permanent
//! redirects (301, 308) are followed (each hop vetted by the guard) and remembered in
//! [`FeedState::moved_to`], which later polls fetch instead.
//!
//! **Limits.** The client's size and time limits apply (2 MiB and 15 s by default); at most
//! [`MAX_ITEMS`] items per poll; titles, texts, authors, identifiers and links are bounded. Item
//! HTML is hostile: it becomes plain text through [`html::to_text`] (tags, scripts and styles
//! dropped, entities decoded); links other than http(s) are dropped. XML entities declared in a
//! DTD are never expanded (quick-xml does not), so entity bombs fail as malformed feeds.
//!
//! **Failures.** Nothing about one feed is fatal: an unreachable, refused, too large or malformed
//! feed is an error returned to the caller *and* recorded on the feed ([`PollSchedule::last_error`],
//! in French and English), the feed is skipped until its backoff ends (the interval doubled for
//! each failure in a row, up to 6 hours; see [`super::poll`]), and its validators are kept, so a
//! broken body is fetched again rather than hidden behind a `304`.
//!
//! **Identity and repeats.** An item's `external_id` is its id/guid when that looks globally
//! unique (an absolute URL, `urn:` or `tag:`), else the feed's URL, `#` and the id (RSS guids such
//! as `42` are only unique within a feed), else its link, else a hash of its title and text, with
//! the feed's URL. Items already returned may come back (the store keeps one per `source` and
//! `external_id`), but when items are dated, those published before the newest date a previous
//! poll saw are not returned again (dates more than a day in the future do not count as seen, so
//! a wrong date cannot hide later items).

use super::html;
use super::poll::PollSchedule;
use crate::guard::{Conditional, FetchError, Freshness, GuardedClient};
use relais_domain::Msg;
use relais_domain::listen::IncomingPost;
use serde::{Deserialize, Serialize};

/// The interval between two polls of a feed by default: 15 minutes.
pub const DEFAULT_INTERVAL_SECS: u64 = 15 * 60;
/// The shortest interval a feed can be polled at: 5 minutes.
pub const MIN_INTERVAL_SECS: u64 = 5 * 60;
/// The most items read from one poll of a feed (feeds list the newest first).
pub const MAX_ITEMS: usize = 500;
/// The longest text kept from one item, in bytes.
pub const MAX_TEXT_BYTES: usize = 16 * 1024;
/// The longest title kept, in bytes.
pub const MAX_TITLE_BYTES: usize = 1024;
const MAX_AUTHOR_BYTES: usize = 256;
const MAX_ID_BYTES: usize = 2048;
/// Dates further in the future than this do not count as seen.
const FUTURE_SLACK_MS: i64 = 24 * 3600 * 1000;

/// One feed's polling state, kept by the caller between polls (serialisable).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeedState {
    /// When to poll next, and the feed's health (last error, failures in a row).
    pub schedule: PollSchedule,
    /// The last `ETag`, sent back as `If-None-Match`.
    pub etag: Option<String>,
    /// The last `Last-Modified`, sent back as `If-Modified-Since`.
    pub last_modified: Option<String>,
    /// The newest item date seen so far (ms since the epoch), when items are dated.
    pub newest_seen_ms: Option<i64>,
    /// Where the feed moved (permanent redirects): later polls fetch this address.
    pub moved_to: Option<String>,
}

impl FeedState {
    /// A new feed's state, due now, polled every `interval_secs` (at least [`MIN_INTERVAL_SECS`]).
    pub fn new(interval_secs: u64) -> FeedState {
        FeedState {
            schedule: PollSchedule::new(interval_secs, MIN_INTERVAL_SECS),
            etag: None,
            last_modified: None,
            newest_seen_ms: None,
            moved_to: None,
        }
    }

    fn keep(&mut self, freshness: &Freshness) {
        if freshness.moved_to.is_some() {
            self.moved_to.clone_from(&freshness.moved_to);
        }
    }
}

impl Default for FeedState {
    fn default() -> Self {
        FeedState::new(DEFAULT_INTERVAL_SECS)
    }
}

/// Why a poll of a feed gave no items.
#[derive(Debug, Clone, thiserror::Error)]
pub enum FeedError {
    /// The feed is not due yet: no request was made.
    #[error("not due before {next_poll_at_ms}")]
    NotDue {
        /// When it is due (ms since the epoch).
        next_poll_at_ms: i64,
    },
    /// The fetch failed (refused address, unreachable, error status, too large …).
    #[error(transparent)]
    Fetch(#[from] FetchError),
    /// The answer is not a feed Relais can read.
    #[error("malformed feed: {0}")]
    Malformed(String),
}

impl FeedError {
    /// A message for people, in French and English.
    pub fn message(&self, url: &str) -> Msg {
        match self {
            FeedError::NotDue { .. } => Msg::new(
                format!("{url} is not due for polling yet"),
                format!("Ce n'est pas encore l'heure de relever {url}"),
            ),
            FeedError::Fetch(e) => e.message(url),
            FeedError::Malformed(detail) => Msg::new(
                format!("{url} is not a readable RSS, Atom or JSON feed ({detail}); it will be tried again later"),
                format!("{url} n'est pas un flux RSS, Atom ou JSON lisible ({detail}) ; il sera réessayé plus tard"),
            ),
        }
    }
}

/// Polls one feed at `now_ms` (ms since the epoch): a conditional GET of `url` (or of where it
/// moved), the items parsed, the state updated (validators, next poll, health). Errors are
/// recorded on the state as well as returned; see the module doc for the rules.
pub async fn poll_feed(
    client: &GuardedClient,
    url: &str,
    state: &mut FeedState,
    now_ms: i64,
) -> Result<Vec<IncomingPost>, FeedError> {
    if !state.schedule.is_due(now_ms) {
        return Err(FeedError::NotDue { next_poll_at_ms: state.schedule.next_poll_at_ms });
    }
    state.schedule.enforce_floor(MIN_INTERVAL_SECS);
    let target = state.moved_to.clone().unwrap_or_else(|| url.to_owned());
    let fetched = client.get_conditional(&target, state.etag.as_deref(), state.last_modified.as_deref()).await;
    let (body, freshness) = match fetched {
        Ok(Conditional::Fresh { body, freshness }) => (body, freshness),
        Ok(Conditional::NotModified(freshness)) => {
            state.keep(&freshness);
            state.etag = freshness.etag.or(state.etag.take());
            state.last_modified = freshness.last_modified.or(state.last_modified.take());
            state.schedule.succeeded(now_ms, freshness.max_age_secs);
            return Ok(Vec::new());
        }
        Err(e) => {
            let delay = match &e {
                FetchError::RetryLater { after, .. } => Some(after.delay_secs(now_ms)),
                _ => None,
            };
            let error = FeedError::Fetch(e);
            state.schedule.failed(now_ms, error.message(&target), delay);
            return Err(error);
        }
    };
    state.keep(&freshness);
    let base = state.moved_to.clone().unwrap_or(target);
    let items = match parse_items(&body, &base, now_ms) {
        Ok(items) => items,
        Err(error) => {
            state.schedule.failed(now_ms, error.message(&base), freshness.max_age_secs);
            return Err(error);
        }
    };
    (state.etag, state.last_modified) = (freshness.etag, freshness.last_modified);
    state.schedule.succeeded(now_ms, freshness.max_age_secs);
    Ok(keep_unseen(items, state, now_ms))
}

/// Parses a feed document fetched from `feed_url` into posts (pure: `now_ms` dates the items
/// that carry no date). Relative links resolve against `feed_url`.
pub fn parse_feed(body: &[u8], feed_url: &str, now_ms: i64) -> Result<Vec<IncomingPost>, FeedError> {
    Ok(parse_items(body, feed_url, now_ms)?.into_iter().map(|item| item.post).collect())
}

/// A post and the date its feed gave, if any.
struct Item {
    post: IncomingPost,
    dated_ms: Option<i64>,
}

fn parse_items(body: &[u8], feed_url: &str, now_ms: i64) -> Result<Vec<Item>, FeedError> {
    let parser = feed_rs::parser::Builder::new()
        .base_uri(Some(feed_url))
        .id_generator(|_, _, _| String::new()) // no invented ids: see `external_id`
        .build();
    let feed = parser.parse(body).map_err(|e| FeedError::Malformed(bounded(&e.to_string(), 300)))?;
    let context = FeedContext {
        url: feed_url,
        lang: feed.language.as_deref().and_then(language),
        author: feed.authors.first().and_then(person),
    };
    Ok(feed.entries.iter().take(MAX_ITEMS).filter_map(|entry| item(entry, &context, now_ms)).collect())
}

/// What items inherit from their feed.
struct FeedContext<'a> {
    url: &'a str,
    lang: Option<String>,
    author: Option<String>,
}

fn item(entry: &feed_rs::model::Entry, feed: &FeedContext<'_>, now_ms: i64) -> Option<Item> {
    let title = entry.title.as_ref().map(|t| text_of(&t.content, t.content_type.subty() == "plain", MAX_TITLE_BYTES));
    let title = title.filter(|t| !t.is_empty());
    let content = entry.content.as_ref().and_then(|c| Some((c.body.as_deref()?, c.content_type.subty() == "plain")));
    let summary = entry.summary.as_ref().map(|s| (s.content.as_str(), s.content_type.subty() == "plain"));
    let text = [content, summary]
        .into_iter()
        .flatten()
        .map(|(body, plain)| text_of(body, plain, MAX_TEXT_BYTES))
        .find(|t| !t.is_empty())
        .or_else(|| title.clone())?;
    let url = link(entry);
    let dated_ms = entry.published.or(entry.updated).map(|d| d.timestamp_millis());
    let post = IncomingPost {
        source: "rss".into(),
        external_id: Some(external_id(&entry.id, url.as_deref(), feed.url, title.as_deref(), &text)),
        url,
        author: entry.authors.first().and_then(person).or_else(|| feed.author.clone()),
        title,
        text,
        lang: entry.language.as_deref().and_then(language).or_else(|| feed.lang.clone()),
        published_at: Some(dated_ms.unwrap_or(now_ms)),
    };
    Some(Item { post, dated_ms })
}

fn text_of(body: &str, plain: bool, max: usize) -> String {
    if plain { html::plain(body, max) } else { html::to_text(body, max) }
}

/// The item's page: its alternate link (or first link that is not a comment feed), http(s) only.
fn link(entry: &feed_rs::model::Entry) -> Option<String> {
    let web = |l: &&feed_rs::model::Link| {
        l.target.is_none() && l.href.len() <= MAX_ID_BYTES && is_web_url(&l.href) && l.rel.as_deref() != Some("self")
    };
    let alternate = entry.links.iter().filter(web).find(|l| l.rel.as_deref().is_none_or(|r| r == "alternate"));
    alternate.or_else(|| entry.links.iter().find(web)).map(|l| l.href.trim().to_owned())
}

fn is_web_url(raw: &str) -> bool {
    url::Url::parse(raw.trim()).is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
}

/// See the module doc: ids that look globally unique as they are, others within the feed.
fn external_id(id: &str, url: Option<&str>, feed_url: &str, title: Option<&str>, text: &str) -> String {
    let id = id.trim();
    if !id.is_empty() && id.len() <= MAX_ID_BYTES {
        let global = is_web_url(id) || id.starts_with("urn:") || id.starts_with("tag:");
        return if global { id.to_owned() } else { format!("{feed_url}#{id}") };
    }
    if let Some(url) = url {
        return url.to_owned();
    }
    let mut hash = Fnv::default();
    hash.write(id.as_bytes());
    hash.write(title.unwrap_or_default().as_bytes());
    hash.write(text.as_bytes());
    format!("{feed_url}#fnv:{:016x}", hash.0)
}

/// FNV-1a, 64 bits: a stable id for items that have none (not a security boundary).
struct Fnv(u64);

impl Default for Fnv {
    fn default() -> Self {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
}

impl Fnv {
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes.iter().chain(&[0xff]) {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
    }
}

fn person(p: &feed_rs::model::Person) -> Option<String> {
    let name = [p.name.as_deref(), p.email.as_deref()].into_iter().flatten().find(|n| !n.trim().is_empty())?;
    Some(html::plain(name, MAX_AUTHOR_BYTES)).filter(|n| !n.is_empty())
}

/// A language tag as declared (`fr`, `en-US`), or nothing when it does not look like one.
fn language(tag: &str) -> Option<String> {
    let tag = tag.trim().replace('_', "-");
    let valid = !tag.is_empty() && tag.len() <= 35 && tag.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    valid.then_some(tag)
}

fn bounded(text: &str, max: usize) -> String {
    html::plain(text, max)
}

/// Drops the dated items older than what the state saw, and moves the mark forward.
fn keep_unseen(items: Vec<Item>, state: &mut FeedState, now_ms: i64) -> Vec<IncomingPost> {
    let seen = state.newest_seen_ms;
    let newest = items.iter().filter_map(|i| i.dated_ms).filter(|&d| d <= now_ms.saturating_add(FUTURE_SLACK_MS)).max();
    state.newest_seen_ms = seen.max(newest);
    items
        .into_iter()
        .filter(|i| match (i.dated_ms, seen) {
            (Some(date), Some(seen)) => date >= seen,
            _ => true,
        })
        .map(|i| i.post)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_750_000_000_000;

    fn parse(doc: &str) -> Vec<IncomingPost> {
        parse_feed(doc.as_bytes(), "https://blog.example/feed.xml", NOW).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn rss_items() {
        let posts = parse(
            r#"<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"><channel>
<title>Blog</title><link>https://blog.example/</link><language>fr-FR</language>
<item><title>Premier &amp; billet</title><link>https://blog.example/1</link><guid isPermaLink="false">42</guid>
<description>&lt;p&gt;Bonjour &lt;b&gt;le monde&lt;/b&gt;&lt;/p&gt;&lt;script&gt;x()&lt;/script&gt;</description>
<dc:creator>Alice</dc:creator><pubDate>Mon, 02 Jun 2025 10:00:00 +0200</pubDate></item>
<item><title>Sans date</title><link>/relatif</link></item>
<item><title>Lien hostile</title><link>javascript:alert(1)</link><guid>https://blog.example/3</guid></item>
</channel></rss>"#,
        );
        assert_eq!(posts.len(), 3, "{posts:?}");
        assert_eq!(
            posts[0],
            IncomingPost {
                source: "rss".into(),
                external_id: Some("https://blog.example/feed.xml#42".into()),
                url: Some("https://blog.example/1".into()),
                author: Some("Alice".into()),
                title: Some("Premier & billet".into()),
                text: "Bonjour le monde".into(),
                lang: Some("fr-fr".into()),
                published_at: Some(1_748_851_200_000),
            }
        );
        assert_eq!(posts[1].url.as_deref(), Some("https://blog.example/relatif"));
        assert_eq!(posts[1].external_id, posts[1].url, "no guid: the link");
        assert_eq!((posts[1].text.as_str(), posts[1].published_at), ("Sans date", Some(NOW)));
        assert_eq!((posts[2].url.as_deref(), posts[2].external_id.as_deref()), (None, Some("https://blog.example/3")));
    }

    #[test]
    fn items_without_id_or_link_get_a_stable_id() {
        let doc = r#"<rss version="2.0"><channel><title>t</title>
<item><description>one</description></item><item><description>two</description></item></channel></rss>"#;
        let (a, b) = (parse(doc), parse(doc));
        assert_eq!(a, b);
        assert_ne!(a[0].external_id, a[1].external_id);
        assert!(a[0].external_id.as_deref().is_some_and(|id| id.starts_with("https://blog.example/feed.xml#fnv:")));
    }

    #[test]
    fn malformed_documents() {
        for doc in
            ["", "not xml", "<html><body>Not a feed</body></html>", "<rss version=\"2.0\"><channel><item>", "{\"x\":"]
        {
            let result = parse_feed(doc.as_bytes(), "https://blog.example/feed.xml", NOW);
            assert!(matches!(result, Err(FeedError::Malformed(_))), "{doc}: {result:?}");
        }
        let message = FeedError::Malformed("no root element".into()).message("https://x.example/f");
        assert!(message.fr.contains("n'est pas un flux") && message.en.contains("not a readable"), "{message:?}");
    }

    #[test]
    fn entity_bombs_are_not_expanded() {
        let lol = "lol".repeat(10);
        let mut doc = String::from("<?xml version=\"1.0\"?><!DOCTYPE rss [<!ENTITY a \"");
        doc.push_str(&lol);
        doc.push('"');
        doc.push('>');
        for i in 0..9 {
            let prev = if i == 0 { "a".to_owned() } else { format!("b{}", i - 1) };
            doc.push_str(&format!("<!ENTITY b{i} \"{}\">", format!("&{prev};").repeat(10)));
        }
        doc.push_str("]><rss version=\"2.0\"><channel><title>t</title><item><description>&b8;</description></item></channel></rss>");
        match parse_feed(doc.as_bytes(), "https://blog.example/feed.xml", NOW) {
            Err(FeedError::Malformed(_)) => {}
            Ok(posts) => assert!(posts.iter().all(|p| p.text.len() < 100), "{posts:?}"),
            Err(e) => panic!("{e}"),
        }
    }
}
