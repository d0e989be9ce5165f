//! Mastodon's streaming API for one timeline: statuses as the server learns of them, between
//! polls.
//!
//! [`TimelineStream::open`] connects to `/api/v1/streaming/…` (`hashtag?tag=`, `public`,
//! `public/local`, `public/remote`, `user` for the home timeline, `list?list=`) through the
//! [`GuardedClient`] (vetted and pinned address, no redirect), with the optional access token;
//! [`TimelineStream::read`] takes the events that arrived, waiting a little for the first. The
//! answer is server-sent events: `update` events carry a status (mapped exactly as the polled
//! timeline maps it, [`super::mastodon::poll_timeline`]); `delete` events name a status by the
//! server's id, which is turned back into its `uri` (the posts' `external_id`) for the statuses
//! this stream delivered, the last [`MAX_REMEMBERED`] of them; comments (`:thump`) are
//! keep-alives; other events (`status.update`…) are ignored.
//!
//! **Streaming brings statuses sooner; polling keeps listening complete.** A stream has no cursor:
//! what is sent while it is down is not replayed. So the polled timeline's `min_id` is never moved
//! by the stream: polls go on at their interval and find whatever a stream missed (the store drops
//! what both delivered). A stream that ends, breaks, stays silent past its idle limit, or sends an
//! event over [`MAX_EVENT_BYTES`] is an error: the caller drops it and opens a new one later.

use super::mastodon::{Status, Timeline, TimelineError, authority, headers, status_post};
use crate::guard::{FetchError, GuardedClient};
use relais_domain::listen::IncomingPost;
use reqwest::header::{ACCEPT, HeaderValue};
use std::time::Duration;

/// The largest event accepted (a status with its account and media is a few kilobytes).
pub const MAX_EVENT_BYTES: usize = 1024 * 1024;
/// The most events one [`TimelineStream::read`] takes (the others wait for the next read).
pub const MAX_EVENTS_PER_READ: usize = 2_000;
/// With no byte for this long (servers send a keep-alive every 15 seconds or so), the stream is
/// considered dead.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(90);

/// Statuses whose id this stream remembers, to name them when a `delete` event comes.
pub const MAX_REMEMBERED: usize = 10_000;

/// What one [`TimelineStream::read`] brought.
#[derive(Debug, Default)]
pub struct StreamRead {
    /// New statuses, in the order they came.
    pub posts: Vec<IncomingPost>,
    /// The `uri`s (`external_id`s) of statuses deleted since, among those this stream delivered.
    pub deleted: Vec<String>,
}

/// An open stream of one timeline.
pub struct TimelineStream {
    response: reqwest::Response,
    buf: Vec<u8>,
    domain: String,
    ended: Option<String>,
    /// The server's ids of the statuses delivered, and their `uri`s.
    delivered: std::collections::HashMap<String, String>,
}

impl std::fmt::Debug for TimelineStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TimelineStream").field("domain", &self.domain).field("ended", &self.ended).finish()
    }
}

impl Timeline {
    /// The timeline's streaming address on the server at `instance_url`.
    fn stream_url(&self, instance_url: &str) -> Result<url::Url, TimelineError> {
        // The polled address validates the server, the hashtag and the list id.
        let polled = self.url(instance_url)?;
        let mut url = polled.clone();
        url.set_query(None);
        let invalid = || TimelineError::Fetch(FetchError::InvalidUrl("streaming path".into()));
        {
            let mut path = url.path_segments_mut().map_err(|_| invalid())?;
            // `…/api/v1/timelines/<kind>[/<arg>]` → `…/api/v1/streaming/…`
            let drop = match self {
                Timeline::Hashtag { .. } | Timeline::List { .. } => 3,
                Timeline::Public { .. } | Timeline::Home => 2,
            };
            for _ in 0..drop {
                path.pop();
            }
            path.push("streaming");
            match self {
                Timeline::Hashtag { .. } => {
                    path.push("hashtag");
                }
                Timeline::Public { local: true, .. } => {
                    path.extend(["public", "local"]);
                }
                Timeline::Public { remote: true, .. } => {
                    path.extend(["public", "remote"]);
                }
                Timeline::Public { .. } => {
                    path.push("public");
                }
                Timeline::Home => {
                    path.push("user");
                }
                Timeline::List { .. } => {
                    path.push("list");
                }
            }
        }
        match self {
            Timeline::Hashtag { tag } => {
                url.query_pairs_mut().append_pair("tag", tag);
            }
            Timeline::List { id } => {
                url.query_pairs_mut().append_pair("list", id);
            }
            Timeline::Public { .. } | Timeline::Home => {}
        }
        Ok(url)
    }
}

impl TimelineStream {
    /// Opens the stream of `timeline` on the server at `instance_url`.
    pub async fn open(
        client: &GuardedClient,
        instance_url: &str,
        timeline: &Timeline,
        token: Option<&str>,
    ) -> Result<TimelineStream, TimelineError> {
        let url = timeline.stream_url(instance_url)?;
        let (http, url) = client.pinned_stream(url.as_str(), IDLE_TIMEOUT).await?;
        let mut headers = headers(token)?;
        headers.insert(ACCEPT, HeaderValue::from_static("text/event-stream"));
        let response = http
            .get(url.clone())
            .headers(headers)
            .send()
            .await
            .map_err(|e| TimelineError::Fetch(FetchError::Unreachable(e.to_string())))?;
        let status = response.status().as_u16();
        if status == 429 {
            let retry = response.headers().get("retry-after").and_then(|v| v.to_str().ok()?.trim().parse().ok());
            return Err(TimelineError::RateLimited { retry_after_secs: retry });
        }
        if status != 200 {
            return Err(TimelineError::Status { status, message: format!("streaming answered HTTP {status}") });
        }
        let content_type = response.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default();
        if !content_type.starts_with("text/event-stream") {
            return Err(TimelineError::Malformed(format!(
                "streaming answered {content_type:?}, not server-sent events"
            )));
        }
        Ok(TimelineStream {
            response,
            buf: Vec::new(),
            domain: authority(&url),
            ended: None,
            delivered: Default::default(),
        })
    }

    /// The statuses that arrived: waits up to `wait` for the first bytes, then takes what is
    /// already there (at most [`MAX_EVENTS_PER_READ`] events). An error means the stream is over
    /// (ended, broken, silent too long, or sent an oversized event); statuses read before it are
    /// returned first.
    pub async fn read(&mut self, wait: Duration, now_ms: i64) -> Result<StreamRead, TimelineError> {
        if let Some(why) = &self.ended {
            return Err(TimelineError::Fetch(FetchError::Unreachable(why.clone())));
        }
        let mut got = StreamRead::default();
        let mut events = 0;
        let mut timeout = wait;
        while events < MAX_EVENTS_PER_READ {
            let chunk = match tokio::time::timeout(timeout, self.response.chunk()).await {
                Err(_) => break,
                Ok(Ok(Some(chunk))) => chunk,
                Ok(Ok(None)) => {
                    self.ended = Some("the server closed the stream".into());
                    break;
                }
                Ok(Err(e)) => {
                    self.ended = Some(format!("the stream broke: {e}"));
                    break;
                }
            };
            timeout = Duration::ZERO;
            self.buf.extend_from_slice(&chunk);
            events += self.take_events(&mut got, now_ms);
            if self.buf.len() > MAX_EVENT_BYTES {
                self.ended = Some(format!("an event larger than {MAX_EVENT_BYTES} bytes"));
                break;
            }
        }
        match (&self.ended, got.posts.is_empty() && got.deleted.is_empty()) {
            (Some(why), true) => Err(TimelineError::Fetch(FetchError::Unreachable(why.clone()))),
            _ => Ok(got),
        }
    }

    /// Parses the complete events in the buffer; returns how many.
    fn take_events(&mut self, read: &mut StreamRead, now_ms: i64) -> usize {
        let mut taken = 0;
        while let Some((end, gap)) = event_end(&self.buf) {
            let raw: Vec<u8> = self.buf.drain(..end + gap).collect();
            taken += 1;
            let text = String::from_utf8_lossy(&raw[..end]);
            let (mut name, mut data) = ("message", String::new());
            for line in text.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l)) {
                if let Some(value) = line.strip_prefix("event:") {
                    name = value.trim();
                } else if let Some(value) = line.strip_prefix("data:") {
                    if !data.is_empty() {
                        data.push('\n');
                    }
                    data.push_str(value.strip_prefix(' ').unwrap_or(value));
                }
            }
            match name {
                "update" => {
                    let Ok(status) = serde_json::from_str::<Status>(&data) else { continue };
                    let Some(post) = status_post(&status, &self.domain, now_ms) else { continue };
                    // The post is the status itself, or the one it boosts: remember the id of
                    // that one (deleting a boost does not delete what it boosted).
                    let shown = status.reblog.as_deref().unwrap_or(&status);
                    if let (Some(id), Some(uri)) = (&shown.id, &post.external_id) {
                        if self.delivered.len() >= MAX_REMEMBERED {
                            self.delivered.clear();
                        }
                        self.delivered.insert(id.clone(), uri.clone());
                    }
                    read.posts.push(post);
                }
                "delete" => {
                    if let Some(uri) = self.delivered.remove(data.trim()) {
                        read.deleted.push(uri);
                    }
                }
                _ => {}
            }
        }
        taken
    }
}

/// Where the first event of `buf` ends (a blank line): its length and the separator's.
fn event_end(buf: &[u8]) -> Option<(usize, usize)> {
    let lf = buf.windows(2).position(|w| w == b"\n\n").map(|i| (i, 2));
    let crlf = buf.windows(4).position(|w| w == b"\r\n\r\n").map(|i| (i, 4));
    match (lf, crlf) {
        (Some(a), Some(b)) => Some(if a.0 <= b.0 { a } else { b }),
        (a, b) => a.or(b),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streaming_addresses() {
        let url = |t: Timeline| t.stream_url("https://mastodon.example/").map(String::from).unwrap_or_default();
        assert_eq!(
            url(Timeline::hashtag("#Relais").unwrap_or(Timeline::Home)),
            "https://mastodon.example/api/v1/streaming/hashtag?tag=Relais"
        );
        assert_eq!(
            url(Timeline::Public { local: false, remote: false }),
            "https://mastodon.example/api/v1/streaming/public"
        );
        assert_eq!(
            url(Timeline::Public { local: true, remote: false }),
            "https://mastodon.example/api/v1/streaming/public/local"
        );
        assert_eq!(
            url(Timeline::Public { local: false, remote: true }),
            "https://mastodon.example/api/v1/streaming/public/remote"
        );
        assert_eq!(url(Timeline::Home), "https://mastodon.example/api/v1/streaming/user");
        assert_eq!(url(Timeline::List { id: "42".into() }), "https://mastodon.example/api/v1/streaming/list?list=42");
        assert!(Timeline::List { id: "../x".into() }.stream_url("https://mastodon.example").is_err());
    }

    #[test]
    fn events_end_at_a_blank_line() {
        assert_eq!(event_end(b"event: update\ndata: {}\n\nrest"), Some((22, 2)));
        assert_eq!(event_end(b":thump\r\n\r\n"), Some((6, 4)));
        assert_eq!(event_end(b"event: update\ndata: {"), None);
    }
}
