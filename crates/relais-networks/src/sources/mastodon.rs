//! Mastodon as a listening source: hashtag and public timelines.
//!
//! [`poll_timeline`] reads `GET /api/v1/timelines/tag/{hashtag}` or `GET /api/v1/timelines/public`
//! (`local`, `remote`) of one server through the [`GuardedClient`], with an optional access token
//! (servers may require one for their timelines), and returns the new statuses as
//! [`IncomingPost`]s (`source: "mastodon"`), updating the timeline's [`TimelineState`] (plain
//! data: the caller stores it between polls). Polling is what makes listening complete; the
//! streaming API ([`super::mastodon_stream`]) only brings statuses sooner, between polls.
//!
//! **Cursor.** The first poll takes only the latest page (40 statuses, the most the API gives):
//! listening starts now, not with the server's history. Later polls ask for what came after the
//! newest status seen (`min_id`), a page at a time, at most [`MAX_PAGES_PER_POLL`] pages; a
//! backlog larger than that is read over the following polls, oldest first, without gaps.
//!
//! **Politeness.** A timeline is polled every [`DEFAULT_INTERVAL_SECS`] by default, never more
//! often than [`MIN_INTERVAL_SECS`]. Mastodon's rate-limit headers are kept in the state: when
//! `X-RateLimit-Remaining` falls to [`RATE_LIMIT_RESERVE`] or below, no request is made before
//! `X-RateLimit-Reset`; a `429` waits for `Retry-After` or the reset. Failures back off like
//! feeds (the interval doubled per failure in a row, up to 6 hours; see [`super::poll`]).
//!
//! **Mapping.** A reblog is replaced by the status it reblogs; the content warning
//! (`spoiler_text`) comes before the text; the HTML content becomes plain text through
//! [`html::to_text`]; `external_id` is the status's `uri` (unique across the fediverse); the
//! author is `user@server` (a local account's `acct` gets the server's domain).
//!
//! **Failures.** Nothing is fatal: an error is returned *and* recorded on the state
//! ([`PollSchedule::last_error`], in French and English); statuses that cannot be read are skipped.

use super::html;
use super::poll::PollSchedule;
use crate::guard::{FetchError, GuardedClient, RetryAfter};
use relais_domain::Msg;
use relais_domain::listen::IncomingPost;
use reqwest::header::{ACCEPT, AUTHORIZATION, HeaderMap, HeaderValue};
use serde::{Deserialize, Serialize};

/// The `source` of the posts read from Mastodon.
pub const SOURCE: &str = "mastodon";
/// The interval between two polls of a timeline by default: 2 minutes.
pub const DEFAULT_INTERVAL_SECS: u64 = 2 * 60;
/// The shortest interval a timeline can be polled at: 30 seconds.
pub const MIN_INTERVAL_SECS: u64 = 30;
/// Statuses asked per page (the API's maximum).
pub const PAGE_LIMIT: usize = 40;
/// The most pages read in one poll.
pub const MAX_PAGES_PER_POLL: usize = 4;
/// Requests kept in reserve: at or below this many remaining, wait for the rate-limit reset.
pub const RATE_LIMIT_RESERVE: u64 = 5;
/// The longest text kept from one status, in bytes.
pub const MAX_TEXT_BYTES: usize = 16 * 1024;
const MAX_HASHTAG_CHARS: usize = 100;
const MAX_ID_BYTES: usize = 2048;

/// Which timeline to listen to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Timeline {
    /// Public statuses with a hashtag (without `#`; see [`Timeline::hashtag`]).
    Hashtag {
        /// The hashtag.
        tag: String,
    },
    /// The server's public timeline.
    Public {
        /// Only statuses from accounts of this server.
        local: bool,
        /// Only statuses from other servers.
        remote: bool,
    },
    /// The home timeline of the account whose token is used: what it follows (competitors,
    /// partners, influencers). Needs a token.
    Home,
    /// One of the account's lists (`GET /api/v1/lists`). Needs a token.
    List {
        /// The list's id.
        id: String,
    },
}

/// 1 to 64 letters or digits (servers' ids are numbers or snowflakes).
fn valid_list_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 64 && id.bytes().all(|b| b.is_ascii_alphanumeric())
}

impl Timeline {
    /// A hashtag timeline, from what a person typed (`#Relais` or `relais`): letters, digits,
    /// `_` and `·`, at most 100 characters.
    pub fn hashtag(typed: &str) -> Result<Timeline, TimelineError> {
        let tag = typed.trim().trim_start_matches('#');
        let valid = !tag.is_empty()
            && tag.chars().count() <= MAX_HASHTAG_CHARS
            && tag.chars().all(|c| c.is_alphanumeric() || c == '_' || c == '·');
        if !valid {
            return Err(TimelineError::InvalidHashtag(html::plain(typed, 200)));
        }
        Ok(Timeline::Hashtag { tag: tag.to_owned() })
    }

    /// A list timeline, from the list's id (1 to 64 letters or digits, as servers give them).
    pub fn list(id: &str) -> Result<Timeline, TimelineError> {
        let id = id.trim();
        if !valid_list_id(id) {
            return Err(TimelineError::InvalidList(html::plain(id, 200)));
        }
        Ok(Timeline::List { id: id.to_owned() })
    }

    /// The timeline's address on the server at `instance_url`, without the paging parameters.
    pub(crate) fn url(&self, instance_url: &str) -> Result<url::Url, TimelineError> {
        let invalid = || TimelineError::Fetch(FetchError::InvalidUrl(html::plain(instance_url, 200)));
        let mut url = url::Url::parse(instance_url.trim()).map_err(|_| invalid())?;
        if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
            return Err(invalid());
        }
        url.set_query(None);
        url.set_fragment(None);
        {
            let mut path = url.path_segments_mut().map_err(|_| invalid())?;
            path.pop_if_empty().extend(["api", "v1", "timelines"]);
            match self {
                Timeline::Hashtag { tag } => {
                    Timeline::hashtag(tag)?;
                    path.extend(["tag", tag]);
                }
                Timeline::Public { .. } => {
                    path.push("public");
                }
                Timeline::Home => {
                    path.push("home");
                }
                Timeline::List { id } => {
                    if !valid_list_id(id) {
                        return Err(TimelineError::InvalidList(html::plain(id, 200)));
                    }
                    path.extend(["list", id]);
                }
            }
        }
        if let Timeline::Public { local, remote } = self {
            let mut query = url.query_pairs_mut();
            if *local {
                query.append_pair("local", "true");
            }
            if *remote {
                query.append_pair("remote", "true");
            }
        }
        Ok(url)
    }
}

/// One timeline's polling state, kept by the caller between polls (serialisable).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimelineState {
    /// When to poll next, and the timeline's health.
    pub schedule: PollSchedule,
    /// The newest status id read (`min_id` of the next request); `None` before the first poll.
    pub min_id: Option<String>,
    /// `X-RateLimit-Remaining` of the last answer.
    pub rate_limit_remaining: Option<u64>,
    /// `X-RateLimit-Reset` of the last answer (ms since the epoch).
    pub rate_limit_reset_ms: Option<i64>,
}

impl TimelineState {
    /// A new timeline's state, due now, polled every `interval_secs` (at least
    /// [`MIN_INTERVAL_SECS`]).
    pub fn new(interval_secs: u64) -> TimelineState {
        TimelineState {
            schedule: PollSchedule::new(interval_secs, MIN_INTERVAL_SECS),
            min_id: None,
            rate_limit_remaining: None,
            rate_limit_reset_ms: None,
        }
    }
}

impl Default for TimelineState {
    fn default() -> Self {
        TimelineState::new(DEFAULT_INTERVAL_SECS)
    }
}

/// Why a poll of a timeline gave no statuses.
#[derive(Debug, Clone, thiserror::Error)]
pub enum TimelineError {
    /// The timeline is not due yet (interval, backoff or rate limit): no request was made.
    #[error("not due before {next_poll_at_ms}")]
    NotDue {
        /// When it is due (ms since the epoch).
        next_poll_at_ms: i64,
    },
    /// The hashtag cannot be one.
    #[error("invalid hashtag {0:?}")]
    InvalidHashtag(String),
    /// The list id cannot be one.
    #[error("invalid list id {0:?}")]
    InvalidList(String),
    /// The request failed before an answer (refused address, unreachable, too large …).
    #[error(transparent)]
    Fetch(#[from] FetchError),
    /// The server limits our requests (429).
    #[error("rate limited for {retry_after_secs:?} s")]
    RateLimited {
        /// How long it asked to wait, when it said.
        retry_after_secs: Option<u64>,
    },
    /// The server answered with an error status (its `error` text, bounded).
    #[error("HTTP status {status}: {message}")]
    Status {
        /// The status.
        status: u16,
        /// The server's explanation.
        message: String,
    },
    /// The answer is not a list of statuses.
    #[error("unreadable timeline: {0}")]
    Malformed(String),
}

impl TimelineError {
    /// A message for people, in French and English; `what` names the timeline.
    pub fn message(&self, what: &str) -> Msg {
        match self {
            TimelineError::NotDue { .. } => Msg::new(
                format!("{what} is not due for polling yet"),
                format!("Ce n'est pas encore l'heure de relever {what}"),
            ),
            TimelineError::InvalidHashtag(tag) => Msg::new(
                format!("« {tag} » is not a hashtag: use letters, digits and _ only"),
                format!("« {tag} » n'est pas un hashtag : lettres, chiffres et _ seulement"),
            ),
            TimelineError::InvalidList(id) => Msg::new(
                format!("« {id} » is not a list id: use 1 to 64 letters or digits"),
                format!("« {id} » n'est pas un identifiant de liste : de 1 à 64 lettres ou chiffres"),
            ),
            TimelineError::Fetch(e) => e.message(what),
            TimelineError::RateLimited { .. } => Msg::new(
                format!("{what}: the server limits our requests; Relais will try again later"),
                format!("{what} : le serveur limite nos requêtes ; Relais réessaiera plus tard"),
            ),
            TimelineError::Status { status: 401 | 403, message } => Msg::new(
                format!("{what} refused access (the access token is missing or invalid): {message}"),
                format!("{what} a refusé l'accès (jeton d'accès absent ou invalide) : {message}"),
            ),
            TimelineError::Status { status, message } => Msg::new(
                format!("{what} answered with HTTP status {status}: {message}"),
                format!("{what} a répondu avec le statut HTTP {status} : {message}"),
            ),
            TimelineError::Malformed(detail) => Msg::new(
                format!("{what} sent an unreadable timeline: {detail}"),
                format!("{what} a envoyé une timeline illisible : {detail}"),
            ),
        }
    }
}

/// Polls one timeline of the server at `instance_url` at `now_ms` (ms since the epoch), with an
/// optional access token; returns the statuses that came since the last poll (newest first) and
/// updates the state. Errors are recorded on the state as well as returned; see the module doc.
pub async fn poll_timeline(
    client: &GuardedClient,
    instance_url: &str,
    timeline: &Timeline,
    token: Option<&str>,
    state: &mut TimelineState,
    now_ms: i64,
) -> Result<Vec<IncomingPost>, TimelineError> {
    if !state.schedule.is_due(now_ms) {
        return Err(TimelineError::NotDue { next_poll_at_ms: state.schedule.next_poll_at_ms });
    }
    state.schedule.enforce_floor(MIN_INTERVAL_SECS);
    let what = html::plain(instance_url, 200);
    let result = read_pages(client, instance_url, timeline, token, state, now_ms).await;
    match result {
        Ok(posts) => {
            state.schedule.succeeded(now_ms, None);
            respect_rate_limit(state, now_ms);
            Ok(posts)
        }
        Err(error) => {
            let delay = match &error {
                TimelineError::RateLimited { retry_after_secs } => *retry_after_secs,
                _ => None,
            };
            state.schedule.failed(now_ms, error.message(&what), delay);
            respect_rate_limit(state, now_ms);
            Err(error)
        }
    }
}

/// When the server's budget is (nearly) spent, no poll before its reset.
fn respect_rate_limit(state: &mut TimelineState, now_ms: i64) {
    if let (Some(remaining), Some(reset)) = (state.rate_limit_remaining, state.rate_limit_reset_ms)
        && remaining <= RATE_LIMIT_RESERVE
    {
        state.schedule.not_before(now_ms, reset);
    }
}

async fn read_pages(
    client: &GuardedClient,
    instance_url: &str,
    timeline: &Timeline,
    token: Option<&str>,
    state: &mut TimelineState,
    now_ms: i64,
) -> Result<Vec<IncomingPost>, TimelineError> {
    let base = timeline.url(instance_url)?;
    let domain = authority(&base);
    let headers = headers(token)?;
    let (mut pages, mut min_id) = (Vec::new(), state.min_id.clone());
    let first_poll = min_id.is_none();
    for _ in 0..MAX_PAGES_PER_POLL {
        let mut url = base.clone();
        url.query_pairs_mut().append_pair("limit", &PAGE_LIMIT.to_string());
        if let Some(min_id) = &min_id {
            url.query_pairs_mut().append_pair("min_id", min_id);
        }
        let answer = client.get_answer(url.as_str(), headers.clone()).await?;
        keep_rate_limit(state, &answer);
        // On an error the cursor stays where it was: the pages read are read again next time.
        let page = page(answer, now_ms)?;
        let advanced = page.newest_id.is_some();
        if page.newest_id.is_some() {
            min_id = page.newest_id;
        }
        pages.push(page.statuses.iter().filter_map(|s| status_post(s, &domain, now_ms)).collect::<Vec<_>>());
        let spent = state.rate_limit_remaining.is_some_and(|r| r <= RATE_LIMIT_RESERVE);
        if first_poll || page.len < PAGE_LIMIT || spent || !advanced {
            break;
        }
    }
    state.min_id = min_id;
    // Pages come oldest chunk first, each newest first: the last page first is newest first overall.
    Ok(pages.into_iter().rev().flatten().collect())
}

pub(crate) fn headers(token: Option<&str>) -> Result<HeaderMap, TimelineError> {
    let mut headers = HeaderMap::new();
    headers.insert(ACCEPT, HeaderValue::from_static("application/json"));
    if let Some(token) = token.map(str::trim).filter(|t| !t.is_empty()) {
        let mut value = HeaderValue::from_str(&format!("Bearer {token}"))
            .map_err(|_| TimelineError::Status { status: 401, message: "the access token is not valid text".into() })?;
        value.set_sensitive(true);
        headers.insert(AUTHORIZATION, value);
    }
    Ok(headers)
}

/// `host[:port]` of the server, appended to local accounts' `acct`.
pub(crate) fn authority(url: &url::Url) -> String {
    let host = url.host_str().unwrap_or_default();
    match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_owned(),
    }
}

fn keep_rate_limit(state: &mut TimelineState, answer: &crate::guard::Answer) {
    if let Some(remaining) = answer.header("x-ratelimit-remaining").and_then(|v| v.trim().parse().ok()) {
        state.rate_limit_remaining = Some(remaining);
    }
    if let Some(reset) = answer.header("x-ratelimit-reset").and_then(|v| v.trim().parse::<jiff::Timestamp>().ok()) {
        state.rate_limit_reset_ms = Some(reset.as_millisecond());
    }
}

/// One page of a timeline: the statuses that could be read, and the cursor.
struct Page {
    statuses: Vec<Status>,
    /// Entries in the page, readable or not.
    len: usize,
    newest_id: Option<String>,
}

fn page(answer: crate::guard::Answer, now_ms: i64) -> Result<Page, TimelineError> {
    match answer.status {
        200..=299 => {}
        429 => {
            let retry = answer.header("retry-after").and_then(RetryAfter::parse).map(|r| r.delay_secs(now_ms));
            let reset = answer.header("x-ratelimit-reset").and_then(|v| v.trim().parse::<jiff::Timestamp>().ok());
            let reset = reset.map(|r| u64::try_from(r.as_millisecond().saturating_sub(now_ms)).unwrap_or(0) / 1000);
            return Err(TimelineError::RateLimited { retry_after_secs: retry.or(reset) });
        }
        status => return Err(TimelineError::Status { status, message: error_text(status, &answer.body) }),
    }
    let entries: Vec<serde_json::Value> =
        serde_json::from_slice(&answer.body).map_err(|e| TimelineError::Malformed(html::plain(&e.to_string(), 200)))?;
    let ids = entries.iter().filter_map(|e| e.get("id")?.as_str()).filter(|id| id.len() <= MAX_ID_BYTES);
    // Ids are ordered strings (Mastodon: numbers; other servers: fixed-length flakes or ULIDs).
    let newest_id = ids.max_by(|a, b| (a.len(), *a).cmp(&(b.len(), *b))).map(str::to_owned);
    let len = entries.len();
    let statuses = entries.into_iter().filter_map(|e| serde_json::from_value(e).ok()).collect();
    Ok(Page { statuses, len, newest_id })
}

/// The server's `error` text, else the status, bounded.
fn error_text(status: u16, body: &[u8]) -> String {
    let json: Option<serde_json::Value> = serde_json::from_slice(body).ok();
    let error = json.as_ref().and_then(|j| j.get("error")?.as_str().map(str::to_owned));
    html::plain(&error.unwrap_or_else(|| format!("HTTP status {status}")), 300)
}

/// The parts of a status the listening pipeline reads (other fields are ignored).
#[derive(Debug, Deserialize)]
pub(crate) struct Status {
    /// The server's own id of the status (what a streamed `delete` event names).
    #[serde(default)]
    pub(crate) id: Option<String>,
    pub(crate) uri: String,
    url: Option<String>,
    created_at: Option<String>,
    account: StatusAccount,
    #[serde(default)]
    content: String,
    #[serde(default)]
    spoiler_text: String,
    language: Option<String>,
    pub(crate) reblog: Option<Box<Status>>,
}

#[derive(Debug, Deserialize)]
struct StatusAccount {
    acct: String,
}

/// A status as a post (a reblog as the status it reblogs); `domain` completes local accounts.
pub(crate) fn status_post(status: &Status, domain: &str, now_ms: i64) -> Option<IncomingPost> {
    let status = status.reblog.as_deref().unwrap_or(status);
    if status.uri.is_empty() || status.uri.len() > MAX_ID_BYTES {
        return None;
    }
    let warning = html::plain(&status.spoiler_text, MAX_TEXT_BYTES);
    let content = html::to_text(&status.content, MAX_TEXT_BYTES);
    let text = match (warning.is_empty(), content.is_empty()) {
        (true, _) => content,
        (false, true) => warning,
        (false, false) => html::plain(&format!("{warning}\n\n{content}"), MAX_TEXT_BYTES),
    };
    let acct = html::plain(status.account.acct.trim_start_matches('@'), 256);
    let author = if acct.is_empty() || acct.contains('@') { acct } else { format!("{acct}@{domain}") };
    let web = |u: &&String| is_web_url(u) && u.len() <= MAX_ID_BYTES;
    let published = status.created_at.as_deref().and_then(|c| c.parse::<jiff::Timestamp>().ok());
    Some(IncomingPost {
        source: SOURCE.into(),
        external_id: Some(status.uri.clone()),
        url: status.url.as_ref().filter(web).or(Some(&status.uri).filter(web)).cloned(),
        author: Some(author).filter(|a| !a.is_empty()),
        title: None,
        text,
        lang: status.language.as_deref().and_then(language),
        published_at: Some(published.map_or(now_ms, |p| p.as_millisecond())),
    })
}

fn is_web_url(raw: &str) -> bool {
    url::Url::parse(raw).is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
}

fn language(tag: &str) -> Option<String> {
    let valid = !tag.is_empty() && tag.len() <= 35 && tag.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    valid.then(|| tag.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashtags() {
        for (typed, tag) in [("#Relais", "Relais"), ("  écologie ", "écologie"), ("a_b·c", "a_b·c"), ("日本", "日本")]
        {
            assert_eq!(Timeline::hashtag(typed).ok(), Some(Timeline::Hashtag { tag: tag.into() }), "{typed}");
        }
        for typed in ["", "#", "a b", "../admin", "a/b", "a?b", "tag#x", &"a".repeat(101)] {
            assert!(matches!(Timeline::hashtag(typed), Err(TimelineError::InvalidHashtag(_))), "{typed}");
        }
        let url = |t: &Timeline, base: &str| t.url(base).map(|u| u.to_string()).unwrap_or_else(|e| e.to_string());
        let tag = Timeline::Hashtag { tag: "écologie".into() };
        assert_eq!(url(&tag, "https://m.example/"), "https://m.example/api/v1/timelines/tag/%C3%A9cologie");
        let public = Timeline::Public { local: true, remote: false };
        assert_eq!(url(&public, "https://m.example?x=1"), "https://m.example/api/v1/timelines/public?local=true");
        let sneaky = Timeline::Hashtag { tag: "../../admin".into() };
        assert!(matches!(sneaky.url("https://m.example"), Err(TimelineError::InvalidHashtag(_))));
        let home = Timeline::Home.url("https://m.example/").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(home.as_str(), "https://m.example/api/v1/timelines/home");
        let list = Timeline::list(" 42 ").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            list.url("https://m.example").map(|u| u.to_string()).ok().as_deref(),
            Some("https://m.example/api/v1/timelines/list/42")
        );
        for bad in ["", "../admin", "4 2", "x".repeat(65).as_str()] {
            assert!(matches!(Timeline::list(bad), Err(TimelineError::InvalidList(_))), "{bad}");
            assert!(Timeline::List { id: bad.to_owned() }.url("https://m.example").is_err(), "{bad}");
        }
        assert!(matches!(tag.url("ftp://m.example"), Err(TimelineError::Fetch(FetchError::InvalidUrl(_)))));
    }

    fn status(json: serde_json::Value) -> Status {
        serde_json::from_value(json).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn statuses_become_posts() {
        let local = status(serde_json::json!({
            "id": "1", "uri": "https://m.example/users/alice/statuses/1", "url": "https://m.example/@alice/1",
            "created_at": "2025-06-02T08:00:00.000Z", "account": {"acct": "alice"},
            "content": "<p>Bonjour <script>x</script>&amp; merci</p>", "spoiler_text": "CW: politique",
            "language": "fr", "reblog": null
        }));
        let post = status_post(&local, "m.example", 0).unwrap_or_default();
        assert_eq!(
            post,
            IncomingPost {
                source: "mastodon".into(),
                external_id: Some("https://m.example/users/alice/statuses/1".into()),
                url: Some("https://m.example/@alice/1".into()),
                author: Some("alice@m.example".into()),
                title: None,
                text: "CW: politique\n\nBonjour & merci".into(),
                lang: Some("fr".into()),
                published_at: Some(1_748_851_200_000),
            }
        );
        let reblog = status(serde_json::json!({
            "id": "2", "uri": "https://m.example/users/bob/statuses/2/activity", "url": null,
            "created_at": "2025-06-02T09:00:00Z", "account": {"acct": "bob"}, "content": "", "spoiler_text": "",
            "language": null,
            "reblog": {"id": "3", "uri": "https://other.example/notes/9", "url": "javascript:alert(1)",
                "created_at": "2025-06-01T09:00:00Z", "account": {"acct": "carol@other.example"},
                "content": "<p>original</p>", "spoiler_text": "", "language": "en<script>", "reblog": null}
        }));
        let post = status_post(&reblog, "m.example", 0).unwrap_or_default();
        assert_eq!(post.external_id.as_deref(), Some("https://other.example/notes/9"));
        assert_eq!(post.url.as_deref(), Some("https://other.example/notes/9"), "a javascript: url is dropped");
        assert_eq!(post.author.as_deref(), Some("carol@other.example"));
        assert_eq!((post.text.as_str(), post.lang.as_deref()), ("original", None));
    }
}
