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
use relais_domain::ids::WorkspaceId;
use relais_domain::listen::IncomingPost;
use relais_domain::permissions::Action;
use relais_networks::sources::feed::{FeedState, poll_feed};
use relais_networks::sources::mastodon::{Timeline, TimelineState, poll_timeline};
use relais_store::listen::ListenSourceRecord;
use serde::{Deserialize, Serialize};

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
    },
}

impl SourceSpec {
    fn kind(&self) -> &'static str {
        match self {
            SourceSpec::Rss { .. } => "rss",
            SourceSpec::MastodonTag { .. } => "mastodon_tag",
            SourceSpec::MastodonPublic { .. } => "mastodon_public",
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
    let mut stored = Stored { spec: spec.clone(), feed: None, timeline: None };
    match spec {
        SourceSpec::Rss { url, interval_secs } => {
            check_http_url(url, "feed")?;
            stored.feed = Some(interval_secs.map(FeedState::new).unwrap_or_default());
        }
        SourceSpec::MastodonTag { instance, tag, interval_secs } => {
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

/// Polls the sources that are due.
#[derive(Clone)]
pub struct SourcePoller {
    /// The application.
    pub app: App,
}

impl SourcePoller {
    /// Claims up to `limit` due sources and polls them; returns how many were polled.
    pub async fn run_once(&self, limit: i64) -> AppResult<usize> {
        let now = self.app.now_ms();
        let due = self.app.store.claim_listen_sources(now, LEASE_MS, limit).await?;
        let n = due.len();
        for source in due {
            if let Err(e) = self.poll(&source).await {
                tracing::warn!(source = source.id, error = %e, "Polling a listening source failed.");
            }
        }
        Ok(n)
    }

    async fn poll(&self, source: &ListenSourceRecord) -> AppResult<()> {
        let now = self.app.now_ms();
        let mut stored: Stored = serde_json::from_str(&source.state).map_err(AppError::internal)?;
        let http = &self.app.http;
        let (posts, schedule) = match (&stored.spec, &mut stored.feed, &mut stored.timeline) {
            (SourceSpec::Rss { url, .. }, Some(state), _) => {
                let posts = poll_feed(http, url, state, now).await.unwrap_or_default();
                (posts, state.schedule.clone())
            }
            (SourceSpec::MastodonTag { instance, tag, .. }, _, Some(state)) => {
                let timeline = Timeline::hashtag(tag).map_err(|e| AppError::internal(e.to_string()))?;
                let posts = poll_timeline(http, instance, &timeline, None, state, now).await.unwrap_or_default();
                (posts, state.schedule.clone())
            }
            (SourceSpec::MastodonPublic { instance, local, .. }, _, Some(state)) => {
                let timeline = Timeline::Public { local: *local, remote: false };
                let posts = poll_timeline(http, instance, &timeline, None, state, now).await.unwrap_or_default();
                (posts, state.schedule.clone())
            }
            _ => return Err(AppError::internal("a listening source's state does not fit its kind")),
        };
        let posts = accept(posts, now);
        if !posts.is_empty() {
            self.app.listen_posts(WorkspaceId(source.workspace_id), posts).await?;
        }
        let state = serde_json::to_string(&stored).map_err(AppError::internal)?;
        let error = schedule.last_error.as_ref().map(|m| format!("{} / {}", m.fr, m.en));
        let ok_at = schedule.last_error.is_none().then_some(now);
        self.app
            .store
            .listen_source_polled(source.id, &state, schedule.next_poll_at_ms.max(now), ok_at, error.as_deref())
            .await?;
        Ok(())
    }
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
