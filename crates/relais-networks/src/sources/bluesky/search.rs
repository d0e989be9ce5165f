//! Keyword search on an AppView: `app.bsky.feed.searchPosts?q=…&sort=latest&since=…&cursor=…`,
//! through the SSRF guard, pages mapped to [`IncomingPost`]s.

use super::post::{self, POST_COLLECTION, RecordFields};
use crate::guard::{FetchError, GuardedClient};
use futures_util::StreamExt;
use relais_domain::Msg;
use relais_domain::listen::IncomingPost;
use serde_json::Value;

/// The most posts the lexicon lets one page hold.
pub const MAX_PAGE: u8 = 100;
/// The longest query sent (the AppView refuses longer ones anyway).
pub const MAX_QUERY_CHARS: usize = 1_000;

/// Why a search failed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum SearchError {
    /// The query is empty or longer than 1,000 characters; nothing was sent.
    #[error("a search query needs 1 to {MAX_QUERY_CHARS} characters")]
    InvalidQuery,
    /// The AppView could not be reached, refused, or answered something unreadable.
    #[error(transparent)]
    Fetch(#[from] FetchError),
}

impl SearchError {
    /// A message for people, in French and English.
    pub fn message(&self, appview: &str) -> Msg {
        match self {
            SearchError::InvalidQuery => Msg::new(
                format!("A Bluesky search needs 1 to {MAX_QUERY_CHARS} characters"),
                format!("Une recherche Bluesky demande de 1 à {MAX_QUERY_CHARS} caractères"),
            ),
            SearchError::Fetch(e) => e.message(appview),
        }
    }
}

/// One page of results.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SearchPage {
    /// The posts, newest first (`sort=latest`), those that could not be read left out.
    pub posts: Vec<IncomingPost>,
    /// The cursor of the next page, when there is one.
    pub cursor: Option<String>,
    /// How many results could not be read (not a post, invalid identifiers, no text).
    pub unreadable: usize,
}

/// A client of one AppView's `app.bsky.feed.searchPosts`.
#[derive(Debug, Clone)]
pub struct BlueskySearch {
    guard: GuardedClient,
    base: String,
    token: Option<String>,
}

impl BlueskySearch {
    /// A client of the AppView at `appview` (`https://api.bsky.app`, or a self-hosted one).
    pub fn new(guard: GuardedClient, appview: &str) -> Result<Self, FetchError> {
        let url = url::Url::parse(appview).map_err(|e| FetchError::InvalidUrl(e.to_string()))?;
        if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
            return Err(FetchError::InvalidUrl("an http or https AppView address".into()));
        }
        Ok(BlueskySearch { guard, base: url.origin().ascii_serialization(), token: None })
    }

    /// The same client sending `Authorization: Bearer <token>` (AppViews may require a session).
    pub fn with_token(mut self, token: String) -> Self {
        self.token = Some(token);
        self
    }

    /// The page of posts matching `query` published since `since_ms` (when given), after `cursor`.
    /// `limit` is clamped to 1..=100.
    pub async fn page(
        &self,
        query: &str,
        since_ms: Option<i64>,
        cursor: Option<&str>,
        limit: u8,
        now_ms: i64,
    ) -> Result<SearchPage, SearchError> {
        let url = self.page_url(query, since_ms, cursor, limit)?;
        let (client, url) = self.guard.pinned(url.as_str()).await?;
        let mut request = client.get(url).header("accept", "application/json");
        if let Some(token) = &self.token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.map_err(|e| FetchError::Unreachable(e.to_string()))?;
        if !response.status().is_success() {
            return Err(FetchError::Status(response.status().as_u16()).into());
        }
        let mut body = Vec::new();
        let mut stream = response.bytes_stream();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|e| FetchError::Unreachable(e.to_string()))?;
            if body.len() + chunk.len() > self.guard.max_bytes() {
                return Err(FetchError::TooLarge(self.guard.max_bytes()).into());
            }
            body.extend_from_slice(&chunk);
        }
        let json: Value = serde_json::from_slice(&body).map_err(|e| FetchError::Decode(e.to_string()))?;
        if !json["posts"].is_array() {
            return Err(FetchError::Decode("no `posts` array".into()).into());
        }
        Ok(map_page(&json, now_ms))
    }

    /// Every page since `since_ms`, at most `max_pages` of them (newest first); the returned
    /// cursor is set when pages were left.
    pub async fn all_since(
        &self,
        query: &str,
        since_ms: i64,
        max_pages: usize,
        now_ms: i64,
    ) -> Result<SearchPage, SearchError> {
        let mut all = SearchPage::default();
        for _ in 0..max_pages {
            let page = self.page(query, Some(since_ms), all.cursor.as_deref(), MAX_PAGE, now_ms).await?;
            let empty = page.posts.is_empty() && page.unreadable == 0;
            all.posts.extend(page.posts);
            all.unreadable += page.unreadable;
            all.cursor = page.cursor;
            if empty || all.cursor.is_none() {
                all.cursor = None;
                break;
            }
        }
        Ok(all)
    }

    fn page_url(
        &self,
        query: &str,
        since: Option<i64>,
        cursor: Option<&str>,
        limit: u8,
    ) -> Result<url::Url, SearchError> {
        let query = query.trim();
        if query.is_empty() || query.chars().count() > MAX_QUERY_CHARS {
            return Err(SearchError::InvalidQuery);
        }
        let mut url = url::Url::parse(&format!("{}/xrpc/app.bsky.feed.searchPosts", self.base))
            .map_err(|e| FetchError::InvalidUrl(e.to_string()))?;
        {
            let mut pairs = url.query_pairs_mut();
            pairs.append_pair("q", query).append_pair("sort", "latest");
            pairs.append_pair("limit", &limit.clamp(1, MAX_PAGE).to_string());
            if let Some(since) = since.and_then(|ms| jiff::Timestamp::from_millisecond(ms).ok()) {
                pairs.append_pair("since", &since.to_string());
            }
            if let Some(cursor) = cursor {
                pairs.append_pair("cursor", cursor);
            }
        }
        Ok(url)
    }
}

/// Maps a `searchPosts` answer (`{posts: [postView], cursor?}`) to a page. A result is left out
/// when its `uri` is not a post's AT URI, or its record is not a post with a text.
pub fn map_page(answer: &Value, now_ms: i64) -> SearchPage {
    let views = answer["posts"].as_array().map(Vec::as_slice).unwrap_or_default();
    let mut page = SearchPage { cursor: answer["cursor"].as_str().map(str::to_owned), ..SearchPage::default() };
    for view in views {
        match map_view(view, now_ms) {
            Some(post) => page.posts.push(post),
            None => page.unreadable += 1,
        }
    }
    page
}

fn map_view(view: &Value, now_ms: i64) -> Option<IncomingPost> {
    let uri = view["uri"].as_str()?.strip_prefix("at://")?;
    let (did, rest) = uri.split_once('/')?;
    let rkey = rest.strip_prefix(POST_COLLECTION)?.strip_prefix('/')?;
    if view["author"]["did"].as_str() != Some(did) {
        return None;
    }
    let handle = view["author"]["handle"].as_str().filter(|h| post::valid_handle(h));
    let record = &view["record"];
    let created = record["createdAt"].as_str().or_else(|| view["indexedAt"].as_str());
    let fields = RecordFields {
        kind: record["$type"].as_str(),
        text: record["text"].as_str(),
        first_lang: record["langs"][0].as_str(),
        created_at: created,
    };
    post::to_incoming(did, rkey, handle.unwrap_or(did), fields, now_ms)
}
