//! A workspace's listening sources (RSS/Atom feeds, Mastodon timelines, the Bluesky repository
//! stream and search) and the poller that reads them into the pipeline.
//!
//! A source row keeps its specification and its poller's state (validators, cursors, backoff) as
//! JSON. [`SourcePoller::run_once`] claims the sources due (a lease keeps two workers from polling
//! one source at once), polls each through the SSRF-guarded client, sends what it read through the
//! pipeline (which answers once the posts are stored), then saves the new state: the cursor only
//! moves once its posts are stored, so a crash re-reads (and the store's uniqueness by source and
//! id makes the re-read harmless). A failure is recorded on the source, in French and English,
//! and the source is tried again later with backoff; it never stops the poller.

use super::check_post;
use crate::{Actor, App, AppError, AppResult};
use relais_domain::Msg;
use relais_domain::ids::{ChannelId, WorkspaceId};
use relais_domain::listen::IncomingPost;
use relais_domain::permissions::Action;
use relais_networks::GuardedClient;
use relais_networks::sources::bluesky::{BlueskySearch, Firehose, FirehoseConfig, Notice, SOURCE as BLUESKY};
use relais_networks::sources::feed::{FeedState, poll_feed};
use relais_networks::sources::mastodon::{SOURCE as MASTODON, Timeline, TimelineState, poll_timeline};
use relais_networks::sources::mastodon_stream::{StreamRead, TimelineStream};
use relais_networks::sources::poll::PollSchedule;
use relais_store::listen::{Erase, ListenSourceRecord};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::Arc;

/// Most sources per workspace.
pub const MAX_SOURCES: usize = 200;
/// How long a claimed source is kept from other workers while it is polled.
const LEASE_MS: i64 = 120_000;

/// What a source reads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum SourceSpec {
    /// An RSS, Atom or JSON feed.
    Rss {
        /// The feed's address.
        url: String,
        /// Seconds between polls (default 900, at least 300).
        #[serde(default)]
        interval_secs: Option<u64>,
    },
    /// The public statuses with a hashtag on a Mastodon server.
    MastodonTag {
        /// The server (`https://mastodon.social`).
        instance: String,
        /// The hashtag (with or without `#`).
        tag: String,
        /// Seconds between polls (default 120, at least 30).
        #[serde(default)]
        interval_secs: Option<u64>,
        /// A Mastodon channel of the workspace on this same server, whose token is sent (for
        /// servers that do not show their timelines to anonymous readers).
        #[serde(default)]
        channel_id: Option<i64>,
    },
    /// A Mastodon server's public timeline.
    MastodonPublic {
        /// The server.
        instance: String,
        /// Only its own accounts' statuses.
        #[serde(default)]
        local: bool,
        /// Seconds between polls (default 120, at least 30).
        #[serde(default)]
        interval_secs: Option<u64>,
        /// A Mastodon channel of the workspace on this same server, whose token is sent.
        #[serde(default)]
        channel_id: Option<i64>,
    },
    /// The home timeline of a connected Mastodon channel of the workspace (the accounts it
    /// follows: competitors, partners…), read with the channel's own token.
    MastodonHome {
        /// The channel (a Mastodon account connected in this workspace).
        channel_id: i64,
        /// Seconds between polls (default 120, at least 30).
        #[serde(default)]
        interval_secs: Option<u64>,
    },
    /// One of the lists of a connected Mastodon channel (a watch list of accounts).
    MastodonList {
        /// The channel.
        channel_id: i64,
        /// The list's id on the server.
        list_id: String,
        /// Seconds between polls (default 120, at least 30).
        #[serde(default)]
        interval_secs: Option<u64>,
    },
    /// The posts of an AT Protocol repository event stream (`com.atproto.sync.subscribeRepos`:
    /// a PDS, or a relay such as `wss://bsky.network`), read from a saved cursor every few seconds.
    BlueskyStream {
        /// The host serving the stream (`wss://…` or `https://…`).
        url: String,
    },
    /// Bluesky keyword search (`app.bsky.feed.searchPosts`) on an AppView.
    BlueskySearch {
        /// The AppView (`https://api.bsky.app`, or your own).
        appview: String,
        /// The search words (the AppView's syntax).
        query: String,
        /// Seconds between polls (default 120, at least 30).
        #[serde(default)]
        interval_secs: Option<u64>,
    },
}

impl SourceSpec {
    fn kind(&self) -> &'static str {
        match self {
            SourceSpec::Rss { .. } => "rss",
            SourceSpec::MastodonTag { .. } => "mastodon_tag",
            SourceSpec::MastodonPublic { .. } => "mastodon_public",
            SourceSpec::MastodonHome { .. } => "mastodon_home",
            SourceSpec::MastodonList { .. } => "mastodon_list",
            SourceSpec::BlueskyStream { .. } => "bluesky_stream",
            SourceSpec::BlueskySearch { .. } => "bluesky_search",
        }
    }

    /// What people see of it.
    fn target(&self) -> String {
        match self {
            SourceSpec::Rss { url, .. } => url.clone(),
            SourceSpec::MastodonTag { instance, tag, .. } => format!("{instance} #{}", tag.trim_start_matches('#')),
            SourceSpec::MastodonPublic { instance, local, .. } => {
                format!("{instance} ({})", if *local { "local" } else { "public" })
            }
            SourceSpec::MastodonHome { channel_id, .. } => format!("channel {channel_id} (home)"),
            SourceSpec::MastodonList { channel_id, list_id, .. } => format!("channel {channel_id} (list {list_id})"),
            SourceSpec::BlueskyStream { url } => url.clone(),
            SourceSpec::BlueskySearch { appview, query, .. } => format!("{appview} « {query} »"),
        }
    }

    /// The workspace channel whose account the source reads with, if any.
    fn channel(&self) -> Option<i64> {
        match self {
            SourceSpec::MastodonHome { channel_id, .. } | SourceSpec::MastodonList { channel_id, .. } => {
                Some(*channel_id)
            }
            SourceSpec::MastodonTag { channel_id, .. } | SourceSpec::MastodonPublic { channel_id, .. } => *channel_id,
            _ => None,
        }
    }
}

/// A source's stored state: its specification and its poller's state.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Stored {
    spec: SourceSpec,
    #[serde(default)]
    feed: Option<FeedState>,
    #[serde(default)]
    timeline: Option<TimelineState>,
    #[serde(default)]
    stream: Option<StreamState>,
    #[serde(default)]
    search: Option<SearchState>,
}

/// Where a repository stream was left.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct StreamState {
    schedule: PollSchedule,
    cursor: Option<i64>,
}

/// Where a search was left: posts published since `since_ms` are asked for.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct SearchState {
    schedule: PollSchedule,
    since_ms: Option<i64>,
}

/// Seconds between two reads of a repository stream.
const STREAM_INTERVAL_SECS: u64 = 5;
/// Batches read from a stream per poll (each waits at most a second for its first message).
const STREAM_BATCHES: usize = 5;
/// An open stream not read for this long is closed (its source is gone, paused, or read by
/// another process: the next read resumes from the saved cursor).
const STREAM_IDLE_MS: i64 = 120_000;
/// Milliseconds between two reads of an open Mastodon timeline stream.
const TIMELINE_STREAM_EVERY_MS: i64 = 5_000;
/// After a Mastodon stream could not be opened, or ended, how long before it is tried again.
const TIMELINE_STREAM_RETRY_MS: i64 = 60_000;

/// Whether two server addresses name the same server (scheme, host and port; a trailing `/` or
/// the case of the host does not matter).
fn same_server(a: &str, b: &str) -> bool {
    let origin = |s: &str| url::Url::parse(s.trim()).ok().map(|u| u.origin());
    matches!((origin(a), origin(b)), (Some(x), Some(y)) if x == y && x.is_tuple())
}

fn bad_source(en: String, fr: String) -> AppError {
    AppError::invalid_with(
        "invalid_source",
        Msg::new(en.clone(), fr.clone()),
        vec![serde_json::json!({"field": "source", "message": {"en": en, "fr": fr}})],
    )
}

fn check_http_url(url: &str, what: &str) -> AppResult<()> {
    let ok = url::Url::parse(url.trim()).is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some());
    if !ok || url.len() > 2048 {
        return Err(bad_source(
            format!("the {what} must be an http(s) address"),
            format!("l'adresse du {} doit être en http(s)", if what == "feed" { "flux" } else { "serveur" }),
        ));
    }
    Ok(())
}

/// Checks a specification and builds its initial state.
fn initial_state(spec: &SourceSpec) -> AppResult<Stored> {
    let mut stored = Stored { spec: spec.clone(), feed: None, timeline: None, stream: None, search: None };
    match spec {
        SourceSpec::Rss { url, interval_secs } => {
            check_http_url(url, "feed")?;
            stored.feed = Some(interval_secs.map(FeedState::new).unwrap_or_default());
        }
        SourceSpec::MastodonTag { instance, tag, interval_secs, .. } => {
            check_http_url(instance, "server")?;
            Timeline::hashtag(tag).map_err(|e| {
                let m = e.message(instance);
                bad_source(m.en, m.fr)
            })?;
            stored.timeline = Some(interval_secs.map(TimelineState::new).unwrap_or_default());
        }
        SourceSpec::MastodonPublic { instance, interval_secs, .. } => {
            check_http_url(instance, "server")?;
            stored.timeline = Some(interval_secs.map(TimelineState::new).unwrap_or_default());
        }
        SourceSpec::MastodonHome { interval_secs, .. } => {
            stored.timeline = Some(interval_secs.map(TimelineState::new).unwrap_or_default());
        }
        SourceSpec::MastodonList { list_id, interval_secs, .. } => {
            Timeline::list(list_id).map_err(|e| {
                let m = e.message("");
                bad_source(m.en, m.fr)
            })?;
            stored.timeline = Some(interval_secs.map(TimelineState::new).unwrap_or_default());
        }
        SourceSpec::BlueskyStream { url } => {
            let http = url.replacen("wss://", "https://", 1).replacen("ws://", "http://", 1);
            check_http_url(&http, "server")?;
            let schedule = PollSchedule::new(STREAM_INTERVAL_SECS, STREAM_INTERVAL_SECS);
            stored.stream = Some(StreamState { schedule, cursor: None });
        }
        SourceSpec::BlueskySearch { appview, query, interval_secs } => {
            check_http_url(appview, "server")?;
            if query.trim().is_empty() || query.len() > 512 {
                return Err(bad_source(
                    "the search must have 1 to 512 characters".into(),
                    "la recherche doit avoir de 1 à 512 caractères".into(),
                ));
            }
            let schedule = PollSchedule::new(interval_secs.unwrap_or(120), 30);
            stored.search = Some(SearchState { schedule, since_ms: None });
        }
    }
    Ok(stored)
}

impl App {
    /// Adds a listening source to a workspace (polled at once, then at its interval).
    pub async fn create_listen_source(
        &self,
        actor: &Actor,
        ws: WorkspaceId,
        spec: &SourceSpec,
    ) -> AppResult<ListenSourceRecord> {
        self.authorize(actor, ws, Action::ManageListening).await?;
        let stored = initial_state(spec)?;
        if let Some(id) = spec.channel() {
            // Only a Mastodon account connected in this very workspace.
            let channel = self.store.channel(ws, ChannelId(id)).await.ok().filter(|c| c.network == "mastodon");
            let Some(channel) = channel else {
                return Err(bad_source(
                    format!("channel {id} is not a Mastodon account of this workspace"),
                    format!("le canal {id} n'est pas un compte Mastodon de cet espace de travail"),
                ));
            };
            // A token is only ever sent to the server that issued it.
            if let SourceSpec::MastodonTag { instance, .. } | SourceSpec::MastodonPublic { instance, .. } = spec
                && !same_server(instance, channel.instance_url.as_deref().unwrap_or_default())
            {
                return Err(bad_source(
                    format!("channel {id} is an account of another server than {instance}"),
                    format!("le canal {id} est un compte d'un autre serveur que {instance}"),
                ));
            }
        }
        if self.store.listen_sources(ws).await?.len() >= MAX_SOURCES {
            return Err(bad_source(
                format!("a workspace has at most {MAX_SOURCES} sources"),
                format!("un espace de travail a au plus {MAX_SOURCES} sources"),
            ));
        }
        let state = serde_json::to_string(&stored).map_err(AppError::internal)?;
        let rec = self.store.create_listen_source(ws, spec.kind(), &spec.target(), &state, self.now_ms()).await?;
        self.audit(
            actor,
            Some(ws),
            "listen_source.create",
            format!("listen_source:{}", rec.id),
            serde_json::json!(spec),
        )
        .await?;
        Ok(rec)
    }

    /// The workspace's sources, with their health.
    pub async fn listen_sources(&self, actor: &Actor, ws: WorkspaceId) -> AppResult<Vec<ListenSourceRecord>> {
        self.authorize(actor, ws, Action::Read).await?;
        Ok(self.store.listen_sources(ws).await?)
    }

    /// Removes a source.
    pub async fn delete_listen_source(&self, actor: &Actor, ws: WorkspaceId, id: i64) -> AppResult<()> {
        self.authorize(actor, ws, Action::ManageListening).await?;
        self.store.delete_listen_source(ws, id).await.map_err(|_| AppError::not_found("source"))?;
        self.audit(actor, Some(ws), "listen_source.delete", format!("listen_source:{id}"), serde_json::json!({})).await
    }
}

/// Polls the sources that are due. Repository streams stay connected between polls (so nothing
/// published between two polls is missed); only their cursor is saved, and a new process resumes
/// from it. A connection is read again only if it stands at the saved cursor, and is closed after
/// two idle minutes: a poll whose posts were not stored is read again, and several processes can
/// share the sources (each due source is leased to one of them at a time).
///
/// Mastodon timelines are polled at their interval, which keeps listening complete, and also
/// streamed where the server allows it: the stream stays open, is read every five seconds, and
/// brings statuses between polls (a stream has no cursor, so it never moves the polls' `min_id`;
/// the store drops what both bring). A status the stream delivered and then reports deleted has
/// its mention erased. A server that serves no stream is asked again after a minute.
#[derive(Clone)]
pub struct SourcePoller {
    /// The application.
    pub app: App,
    /// Open repository streams by source, with when each was last read.
    streams: Arc<tokio::sync::Mutex<HashMap<i64, (Firehose, i64)>>>,
    /// Mastodon timeline streams.
    timelines: Arc<tokio::sync::Mutex<TimelineStreams>>,
}

/// Mastodon timeline streams, by source.
#[derive(Default)]
struct TimelineStreams {
    /// Open streams, with when each was last read.
    open: HashMap<i64, (TimelineStream, i64)>,
    /// When a source whose stream failed may try again.
    retry_at: HashMap<i64, i64>,
}

impl SourcePoller {
    /// A poller for the application's sources.
    pub fn new(app: App) -> Self {
        Self { app, streams: Arc::default(), timelines: Arc::default() }
    }

    /// Claims up to `limit` due sources and polls them; returns how many were polled.
    pub async fn run_once(&self, limit: i64) -> AppResult<usize> {
        let now = self.app.now_ms();
        let due = self.app.store.claim_listen_sources(now, LEASE_MS, limit).await?;
        // A stream not read for a while belongs to a source removed, paused, or polled by another
        // process now: its connection is closed.
        self.streams.lock().await.retain(|_, (_, read_at)| now - *read_at < STREAM_IDLE_MS);
        self.timelines.lock().await.open.retain(|_, (_, read_at)| now - *read_at < STREAM_IDLE_MS);
        let n = due.len();
        for source in due {
            if let Err(e) = self.poll(&source).await {
                tracing::warn!(source = source.id, error = %e, "Polling a listening source failed.");
            }
        }
        Ok(n)
    }

    /// The server and access token of the workspace's Mastodon channel `id`, or why not.
    async fn channel_account(&self, workspace: i64, id: i64) -> Result<(String, String), Msg> {
        let gone = || {
            Msg::new(
                format!("channel {id} is no longer a connected Mastodon account of this workspace"),
                format!("le canal {id} n'est plus un compte Mastodon connecté de cet espace de travail"),
            )
        };
        let channel = self.app.store.channel(WorkspaceId(workspace), ChannelId(id)).await.map_err(|_| gone())?;
        let credentials = self.app.channel_credentials(&channel).map_err(|_| gone())?;
        let token = credentials.as_ref().and_then(|c| c.get("access_token")).and_then(|t| t.as_str());
        match (channel.network.as_str(), channel.instance_url, token) {
            ("mastodon", Some(instance), Some(token)) => Ok((instance, token.to_owned())),
            _ => Err(gone()),
        }
    }

    /// What a Mastodon source reads: the server, the timeline and the token to send (a channel's,
    /// only ever to the server that issued it), or why it cannot be read now.
    async fn mastodon_timeline(
        &self,
        spec: &SourceSpec,
        workspace: i64,
    ) -> AppResult<Result<(String, Timeline, Option<String>), Msg>> {
        let (instance, channel_id, timeline) = match spec {
            SourceSpec::MastodonTag { instance, tag, channel_id, .. } => {
                (instance, channel_id, Timeline::hashtag(tag).map_err(|e| AppError::internal(e.to_string()))?)
            }
            SourceSpec::MastodonPublic { instance, local, channel_id, .. } => {
                (instance, channel_id, Timeline::Public { local: *local, remote: false })
            }
            SourceSpec::MastodonHome { channel_id, .. } => {
                return Ok(self
                    .channel_account(workspace, *channel_id)
                    .await
                    .map(|(server, token)| (server, Timeline::Home, Some(token))));
            }
            SourceSpec::MastodonList { channel_id, list_id, .. } => {
                let timeline = Timeline::List { id: list_id.trim().to_owned() };
                return Ok(self
                    .channel_account(workspace, *channel_id)
                    .await
                    .map(|(server, token)| (server, timeline, Some(token))));
            }
            _ => return Err(AppError::internal("not a Mastodon source")),
        };
        let Some(id) = *channel_id else { return Ok(Ok((instance.clone(), timeline, None))) };
        Ok(match self.channel_account(workspace, id).await {
            Ok((server, token)) if same_server(instance, &server) => Ok((instance.clone(), timeline, Some(token))),
            Ok(_) => Err(Msg::new(
                format!("channel {id} is now an account of another server than {instance}"),
                format!("le canal {id} est maintenant un compte d'un autre serveur que {instance}"),
            )),
            Err(message) => Err(message),
        })
    }

    async fn poll(&self, source: &ListenSourceRecord) -> AppResult<()> {
        let now = self.app.now_ms();
        let mut stored: Stored = serde_json::from_str(&source.state).map_err(AppError::internal)?;
        let http = &self.app.http;
        let mut gone = Gone::default();
        let mut streaming = false;
        // Statuses deleted on their Mastodon server, as a stream reported them (their uris).
        let mut deleted_statuses = Vec::new();
        let (posts, schedule) =
            match (&stored.spec, &mut stored.feed, &mut stored.timeline, &mut stored.stream, &mut stored.search) {
                (SourceSpec::Rss { url, .. }, Some(state), ..) => {
                    let posts = poll_feed(http, url, state, now).await.unwrap_or_default();
                    (posts, state.schedule.clone())
                }
                (
                    SourceSpec::MastodonTag { .. }
                    | SourceSpec::MastodonPublic { .. }
                    | SourceSpec::MastodonHome { .. }
                    | SourceSpec::MastodonList { .. },
                    _,
                    Some(state),
                    ..,
                ) => {
                    let posts = match self.mastodon_timeline(&stored.spec, source.workspace_id).await? {
                        Ok((server, timeline, token)) => {
                            // Polling (at its interval) keeps listening complete; the stream brings
                            // statuses sooner, between polls.
                            let mut posts = poll_timeline(http, &server, &timeline, token.as_deref(), state, now)
                                .await
                                .unwrap_or_default();
                            let read = self.read_timeline_stream(source.id, &server, &timeline, token.as_deref(), now);
                            if let Some(more) = read.await {
                                posts.extend(more.posts);
                                deleted_statuses = more.deleted;
                                streaming = true;
                            }
                            posts
                        }
                        Err(message) => {
                            self.timelines.lock().await.open.remove(&source.id);
                            state.schedule.failed(now, message, None);
                            Vec::new()
                        }
                    };
                    (posts, state.schedule.clone())
                }
                (SourceSpec::BlueskyStream { url }, _, _, Some(state), _) => {
                    let open = self.streams.lock().await.remove(&source.id).map(|(stream, _)| stream);
                    let appview = self.app.listening.bluesky_appview().cloned();
                    let (posts, stream) = read_stream(http, url, appview, open, state, &mut gone, now).await;
                    if let Some(stream) = stream {
                        self.streams.lock().await.insert(source.id, (stream, now));
                    }
                    (posts, state.schedule.clone())
                }
                (SourceSpec::BlueskySearch { appview, query, .. }, _, _, _, Some(state)) => {
                    let since = state.since_ms.unwrap_or(now - 86_400_000);
                    let found = match BlueskySearch::new(http.clone(), appview) {
                        Ok(client) => client.all_since(query, since, 4, now).await.map_err(|e| e.message(appview)),
                        Err(e) => Err(e.message(appview)),
                    };
                    let posts = match found {
                        Ok(page) => {
                            // The next search starts a little before the newest post seen (late indexing).
                            let newest = page.posts.iter().filter_map(|p| p.published_at).max();
                            state.since_ms = Some(newest.map_or(since, |n| n - 600_000).max(since));
                            state.schedule.succeeded(now, None);
                            page.posts
                        }
                        Err(message) => {
                            state.schedule.failed(now, message, None);
                            Vec::new()
                        }
                    };
                    (posts, state.schedule.clone())
                }
                _ => return Err(AppError::internal("a listening source's state does not fit its kind")),
            };
        let mut posts = accept(posts, now);
        if streaming {
            // A status both polled and streamed is stored once.
            let mut seen = std::collections::HashSet::new();
            posts.retain(|p| seen.insert(p.external_id.clone()));
        }
        let ws = WorkspaceId(source.workspace_id);
        if !posts.is_empty() {
            self.app.listen_posts(ws, posts).await?;
        }
        // After the posts: a post created and deleted within one read is stored, then erased.
        if !deleted_statuses.is_empty() {
            let erase = Erase::External { source: MASTODON, external_ids: &deleted_statuses };
            self.app.store.erase_mentions(ws, erase, now).await?;
        }
        if !gone.posts.is_empty() {
            self.app
                .store
                .erase_mentions(ws, Erase::External { source: BLUESKY, external_ids: &gone.posts }, now)
                .await?;
        }
        for did in &gone.accounts {
            let prefix = format!("at://{did}/");
            self.app.store.erase_mentions(ws, Erase::ExternalPrefix { source: BLUESKY, prefix: &prefix }, now).await?;
        }
        let state = serde_json::to_string(&stored).map_err(AppError::internal)?;
        let error = schedule.last_error.as_ref().map(|m| format!("{} / {}", m.fr, m.en));
        let ok_at = schedule.last_error.is_none().then_some(now);
        // An open stream is read again soon, whatever the polling interval.
        let next = if streaming {
            schedule.next_poll_at_ms.min(now + TIMELINE_STREAM_EVERY_MS)
        } else {
            schedule.next_poll_at_ms
        };
        self.app.store.listen_source_polled(source.id, &state, next.max(now), ok_at, error.as_deref()).await?;
        Ok(())
    }

    /// Reads the statuses that came on the source's timeline stream (opening it first if needed),
    /// and those it says were deleted;
    /// `None` when there is no stream: the server serves none (it is tried again after
    /// [`TIMELINE_STREAM_RETRY_MS`]), or it just ended. The stream stays open between polls.
    async fn read_timeline_stream(
        &self,
        source: i64,
        server: &str,
        timeline: &Timeline,
        token: Option<&str>,
        now: i64,
    ) -> Option<StreamRead> {
        let open = {
            let mut timelines = self.timelines.lock().await;
            if timelines.retry_at.get(&source).is_some_and(|&at| now < at) {
                return None;
            }
            timelines.open.remove(&source).map(|(stream, _)| stream)
        };
        let opened = match open {
            Some(stream) => Ok(stream),
            None => TimelineStream::open(&self.app.http, server, timeline, token).await,
        };
        let read = match opened {
            // What arrived since the last read (the connection keeps it): a short wait, so that
            // sources polled one after the other are not held up.
            Ok(mut stream) => stream.read(std::time::Duration::from_millis(50), now).await.map(|got| (stream, got)),
            Err(e) => Err(e),
        };
        let mut timelines = self.timelines.lock().await;
        match read {
            Ok((stream, got)) => {
                timelines.open.insert(source, (stream, now));
                Some(got)
            }
            Err(error) => {
                tracing::debug!(source, %error, "A Mastodon timeline stream is not available: polling only for now.");
                timelines.retry_at.insert(source, now + TIMELINE_STREAM_RETRY_MS);
                None
            }
        }
    }
}

/// What a repository stream said is gone: deleted posts (AT URIs) and accounts deleted or taken
/// down (DIDs). Their mentions are erased once the batch's posts are stored.
#[derive(Debug, Default)]
struct Gone {
    posts: Vec<String>,
    accounts: Vec<String>,
}

/// Reads a few batches of a repository stream (the open one when it is where the saved cursor
/// is, or a new connection from the saved cursor; without a cursor, from the live end: listening
/// starts now); the cursor moves in the state (saved by the caller only once the posts are
/// stored). Returns the stream to keep open.
async fn read_stream(
    http: &GuardedClient,
    url: &str,
    appview: Option<url::Url>,
    open: Option<Firehose>,
    state: &mut StreamState,
    gone: &mut Gone,
    now: i64,
) -> (Vec<IncomingPost>, Option<Firehose>) {
    let config = FirehoseConfig { max_batch: 2_000, appview, ..FirehoseConfig::default() };
    // The open connection is used only if it stands where the saved state does. Otherwise what it
    // read since was not saved (the write of its posts failed, or the process stopped before) or
    // another process read the stream meanwhile: a new connection resumes from the saved cursor,
    // so no post read but not stored is skipped.
    let open = open.filter(|stream| stream.cursor() == state.cursor);
    let mut stream = match open.map_or_else(|| Firehose::new(http.clone(), url, state.cursor, config), Ok) {
        Ok(stream) => stream,
        Err(e) => {
            state.schedule.failed(now, e.message(url), None);
            return (Vec::new(), None);
        }
    };
    let mut posts = Vec::new();
    for _ in 0..STREAM_BATCHES {
        match stream.next_batch(now).await {
            Ok(batch) => {
                let empty = batch.posts.is_empty() && batch.deleted.is_empty();
                posts.extend(batch.posts.into_iter().map(|p| p.post));
                gone.posts.extend(batch.deleted);
                for notice in batch.notices {
                    // A deactivated account may come back; a deleted or taken-down one does not.
                    if let Notice::Account { did, active: false, status: Some(status) } = notice
                        && matches!(status.as_str(), "deleted" | "takendown")
                    {
                        gone.accounts.push(did);
                    }
                }
                state.cursor = batch.cursor.or(state.cursor);
                if empty {
                    break;
                }
            }
            Err(retry) => {
                state.schedule.failed(now, retry.error.message(url), None);
                return (posts, Some(stream));
            }
        }
    }
    state.schedule.succeeded(now, None);
    (posts, Some(stream))
}

/// Keeps the posts that pass the ingest checks (a source's post that does not, e.g. empty once its
/// HTML is stripped, is dropped and logged).
fn accept(posts: Vec<IncomingPost>, now: i64) -> Vec<IncomingPost> {
    posts
        .into_iter()
        .enumerate()
        .filter_map(|(i, mut p)| match check_post(&mut p, i + 1, now) {
            Ok(()) => Some(p),
            Err(problem) => {
                tracing::debug!(%problem, "A post from a source was dropped.");
                None
            }
        })
        .collect()
}
