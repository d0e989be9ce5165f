//! The publishing engine: claims due deliveries, publishes them part by part exactly once, and
//! records every attempt. `run_once` is one pass; `relais serve` and `relais worker` call it in
//! a loop.
//!
//! Exactly once: before any network call, the part's idempotency key is stored; the network
//! uses it (Mastodon's `Idempotency-Key`, Bluesky's record key, the sandbox's unique key). A
//! part whose key is stored but whose outcome is unknown (timeout, crash mid-call) is first
//! looked up on the network; it is published again, with the same key, only if the network
//! does not have it. Each part's remote id is stored as soon as it is published, so a crash
//! resumes at the next part.

use crate::notifications::Event;
use crate::{App, AppError, AppResult};
use futures_util::StreamExt;
use relais_domain::Network as NetworkId;
use relais_domain::delivery::{Lateness, MAX_ATTEMPTS, lateness, retry_delay_ms};
use relais_domain::ids::{ChannelId, MediaId, PostId, WorkspaceId};
use relais_domain::post::PostBody;
use relais_networks::{Account, NetError, Network, OutMedia, OutPost, Published, RemoteRef, ReplyTo};
use relais_store::channels::ChannelRecord;
use relais_store::delivery::{Claimed, DeliveryBatch, PartRecord, TargetUpdate};
use relais_store::posts::PostRecord;
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Instant;
use tokio::sync::OnceCell;

/// The networks Relais can publish to: one line per network.
#[derive(Clone, Default)]
pub struct Registry(HashMap<NetworkId, Arc<dyn Network>>);

impl Registry {
    /// Adds (or replaces) a network.
    pub fn with(mut self, network: Arc<dyn Network>) -> Self {
        self.0.insert(network.id(), network);
        self
    }

    /// The registry of every built-in network for this application.
    pub fn standard(app: &App) -> Self {
        let clock = app.clock.clone();
        Registry::default()
            .with(Arc::new(crate::sandbox::Sandbox {
                store: app.store.clone(),
                now_ms: Arc::new(move || clock().as_millisecond()),
            }))
            .with(Arc::new(relais_networks::bluesky::Bluesky::new(app.http.clone())))
            .with(Arc::new(relais_networks::mastodon::Mastodon::new(app.http.clone())))
    }

    fn get(&self, id: NetworkId) -> Option<&Arc<dyn Network>> {
        self.0.get(&id)
    }
}

/// One worker of the publishing engine.
#[derive(Clone)]
pub struct Publisher {
    /// The application.
    pub app: App,
    /// The networks.
    pub registry: Registry,
    /// This worker's name (host and process), recorded in leases and the log.
    pub worker: String,
    /// How long a claim holds before another worker may take over (ms).
    pub lease_ms: i64,
    /// Idempotency keys, unique within this process.
    pub keys: Arc<relais_networks::publish::KeyGenerator>,
    /// How many claimed deliveries one pass runs at the same time.
    pub concurrency: usize,
    /// When this worker last settled posts left unsettled by a crash (UTC ms).
    last_repair_ms: Arc<AtomicI64>,
}

/// How often a worker looks for posts a crashed worker left unsettled.
const REPAIR_EVERY_MS: i64 = 60_000;

/// What happened to one delivery in one pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Every part is on the network.
    Published,
    /// Will be tried again later.
    Retry,
    /// Final failure.
    Failed,
    /// Too late.
    Missed,
    /// Waiting for the channel to be reconnected.
    Waiting,
    /// Another worker took over (our lease expired).
    LostLease,
}

fn jitter() -> f64 {
    rand::random::<f64>()
}

impl Publisher {
    /// A worker with the standard networks and a 60 s lease.
    pub fn new(app: App, worker: impl Into<String>) -> Self {
        let registry = Registry::standard(&app);
        let keys = Arc::new(relais_networks::publish::KeyGenerator::new(rand::random::<u16>()));
        let last_repair_ms = Arc::new(AtomicI64::new(i64::MIN));
        Publisher { app, registry, worker: worker.into(), lease_ms: 60_000, keys, concurrency: 16, last_repair_ms }
    }

    /// Settles the posts whose deliveries all ended but whose status a crashed worker never
    /// set (a worker may die between a target's last write and the post's), once a minute and
    /// on a worker's first pass, and schedules the next occurrence of evergreen ones.
    async fn repair(&self, now: i64) -> AppResult<()> {
        let last = self.last_repair_ms.load(Ordering::Relaxed);
        if now.saturating_sub(last) < REPAIR_EVERY_MS {
            return Ok(());
        }
        self.last_repair_ms.store(now, Ordering::Relaxed);
        for settled in self.app.store.settle_finished_posts(now).await? {
            tracing::warn!(post = settled.id, status = %settled.status, "Settled a post a stopped worker left unsettled.");
            if settled.status == "published" && settled.evergreen_secs.is_some() {
                let at = jiff::Timestamp::from_millisecond(now).map_err(AppError::internal)?;
                self.app.schedule_next_evergreen(WorkspaceId(settled.workspace_id), PostId(settled.id), at).await?;
            }
        }
        Ok(())
    }

    /// One pass: expires unapproved posts, claims due deliveries (at most `batch`) and delivers
    /// them. Returns how many deliveries were handled.
    pub async fn run_once(&self, batch: i64) -> AppResult<usize> {
        self.app.expire_overdue_approvals().await?;
        let now = self.app.now_ms();
        self.repair(now).await?;
        let claimed = self.app.store.claim_due(now, &self.worker, now + self.lease_ms, batch).await?;
        if claimed.is_empty() {
            return Ok(0);
        }
        // What the deliveries read is loaded once for the whole batch; credentials are refreshed
        // at most once per channel and pass.
        let loaded = self.app.store.delivery_batch(&claimed).await?;
        let refreshed: HashMap<i64, OnceCell<Refreshed>> =
            loaded.channels.keys().map(|id| (*id, OnceCell::new())).collect();
        let batch = Batch { loaded, refreshed };
        // Deliveries are independent (each one's parts stay in order inside `deliver`): several
        // run at once so that network latency and database round trips overlap.
        futures_util::stream::iter(&claimed)
            .for_each_concurrent(self.concurrency.max(1), |c| {
                let batch = &batch;
                async move {
                    if let Err(e) = self.deliver(batch, c).await {
                        tracing::error!(post = c.post_id, channel = c.channel_id, error = %e, "Delivery failed unexpectedly; its lease will expire and it will be retried.");
                    }
                }
            })
            .await;
        Ok(claimed.len())
    }

    /// Delivers one claimed target of a batch.
    async fn deliver(&self, batch: &Batch, c: &Claimed) -> AppResult<Outcome> {
        let (post_id, channel_id) = (PostId(c.post_id), ChannelId(c.channel_id));
        let post = batch.loaded.posts.get(&c.post_id).ok_or_else(|| AppError::not_found("post"))?;
        let ws = WorkspaceId(post.workspace_id);
        let now = self.app.now_ms();
        let max_late = batch
            .loaded
            .late_publish_secs
            .get(&post.workspace_id)
            .copied()
            .ok_or_else(|| AppError::not_found("workspace"))?;
        let mut done = batch.loaded.parts.get(&(c.post_id, c.channel_id)).cloned().unwrap_or_default();
        // The late policy applies to deliveries that never started: once a key is stored, the
        // network may have the post, and what was started is finished (a thread is completed).
        if done.is_empty() && lateness(post.due_at.unwrap_or(now), now, max_late) == Lateness::Missed {
            self.log(post_id, channel_id, 0, "missed", Some("too late under the workspace's policy"), 0).await?;
            let channel = self.channel_label(ws, channel_id).await?;
            self.app.notify(ws, &Event::PostMissed { post_id: post.id, channel }).await?;
            return self.finish(post, channel_id, "missed", None, Outcome::Missed).await;
        }
        // A target's channel always belongs to its post's workspace; checked all the same.
        let channel = batch.loaded.channels.get(&c.channel_id).filter(|ch| ch.workspace_id == ws.0);
        let channel = channel.ok_or_else(|| AppError::not_found("channel"))?;
        let network_id: NetworkId = channel.network.parse().map_err(AppError::internal_msg)?;
        let Some(network) = self.registry.get(network_id).cloned() else {
            let msg = format!("publishing to {network_id} is not available yet");
            self.log(post_id, channel_id, 0, "refused", Some(&msg), 0).await?;
            return self.fail(post, channel_id, &msg).await;
        };
        let mut account = Account {
            channel_id: channel.id,
            handle: channel.handle.clone(),
            instance_url: channel.instance_url.clone(),
            credentials: self.app.channel_credentials(channel)?.unwrap_or_else(|| serde_json::json!({})),
        };
        // Sessions and tokens are refreshed before use (once per channel and pass: a rotated
        // refresh token must not be spent twice); new ones are stored encrypted.
        let started = Instant::now();
        let cell = batch.refreshed.get(&channel.id).ok_or_else(|| AppError::not_found("channel"))?;
        match cell.get_or_init(|| self.refresh(&*network, channel, &account)).await {
            Refreshed::Fresh(fresh) => account.credentials = fresh.clone(),
            Refreshed::Same => {}
            Refreshed::Refused(e) => {
                return self.failed_call(post, channel_id, 0, e.clone(), elapsed(started)).await;
            }
        }
        let parts = self.parts(post, channel_id).await?;
        let mut first: Option<RemoteRef> = None;
        let mut previous: Option<RemoteRef> = None;
        let thread_len = parts.len() - usize::from(parts.last().is_some_and(|p| p.first_comment));
        for (index, part) in parts.iter().enumerate() {
            let reply_to = match (&first, &previous, part.first_comment) {
                (Some(root), _, true) => Some(ReplyTo { root: root.clone(), parent: root.clone() }),
                (Some(root), Some(parent), false) => Some(ReplyTo { root: root.clone(), parent: parent.clone() }),
                _ => None,
            };
            let result = self
                .deliver_part(post, channel_id, &*network, &account, index as i64, part, reply_to, &mut done)
                .await?;
            match result {
                Ok(remote) => {
                    if first.is_none() {
                        first = Some(remote.clone());
                    }
                    if index < thread_len {
                        previous = Some(remote);
                    }
                }
                Err(outcome) => return Ok(outcome),
            }
        }
        let head = first.ok_or_else(|| AppError::internal("a delivery without parts"))?;
        self.finish(post, channel_id, "published", Some(&head), Outcome::Published).await
    }

    /// Refreshes a channel's session or token if it is about to expire, and stores new ones.
    async fn refresh(&self, network: &dyn Network, channel: &ChannelRecord, account: &Account) -> Refreshed {
        match network.refresh(account).await {
            Ok(Some(fresh)) => {
                if let Err(e) = self.app.replace_channel_credentials(channel, &fresh).await {
                    tracing::error!(channel = channel.id, error = %e, "Storing refreshed credentials failed; using them for this pass only.");
                }
                Refreshed::Fresh(fresh)
            }
            Ok(None) => Refreshed::Same,
            Err(e @ NetError::Auth { .. }) => Refreshed::Refused(e),
            Err(e) => {
                tracing::warn!(channel = channel.id, error = %e, "Refreshing credentials failed; trying with the current ones.");
                Refreshed::Same
            }
        }
    }

    /// The texts to publish on this channel: the post (its variant), thread parts, first comment.
    async fn parts(&self, post: &PostRecord, channel: ChannelId) -> AppResult<Vec<Part>> {
        let body: PostBody = serde_json::from_str(&post.body).map_err(AppError::internal)?;
        let variant = post.targets.iter().find(|t| t.channel_id == channel.0).and_then(|t| t.variant.clone());
        let mut media = Vec::new();
        for m in &post.media {
            let record = self.app.store.media(WorkspaceId(post.workspace_id), MediaId(m.media_id)).await?;
            media.push(OutMedia {
                path: self.app.media_dir.join(&record.stored_path),
                mime: record.mime,
                alt: m.alt.clone(),
            });
        }
        let options = network_options(&body);
        let languages: Vec<String> = body.language.iter().cloned().collect();
        let part = |text, media, link, first_comment| Part {
            text,
            media,
            link,
            first_comment,
            languages: languages.clone(),
            options: options.clone(),
        };
        let mut parts = vec![part(variant.unwrap_or(body.text), media, body.link.clone(), false)];
        parts.extend(body.thread.into_iter().map(|text| part(text, Vec::new(), None, false)));
        if let Some(comment) = body.first_comment.filter(|c| !c.trim().is_empty()) {
            parts.push(part(comment, Vec::new(), None, true));
        }
        Ok(parts)
    }

    /// Publishes one part exactly once. `Ok(Ok(remote))` when it is on the network, `Ok(Err(outcome))`
    /// when the delivery stops here for now.
    #[allow(clippy::too_many_arguments)]
    async fn deliver_part(
        &self,
        post: &PostRecord,
        channel: ChannelId,
        network: &dyn Network,
        account: &Account,
        index: i64,
        part: &Part,
        reply_to: Option<ReplyTo>,
        done: &mut Vec<PartRecord>,
    ) -> AppResult<Result<RemoteRef, Outcome>> {
        let post_id = PostId(post.id);
        let known = done.iter().find(|p| p.part == index).cloned();
        if let Some(PartRecord { remote_id: Some(id), remote_cid, remote_url, .. }) = &known {
            return Ok(Ok(RemoteRef { id: id.clone(), cid: remote_cid.clone(), url: remote_url.clone() }));
        }
        let key = match &known {
            // The key was stored and the call may have happened: ask the network first.
            Some(k) => {
                let started = Instant::now();
                match network.lookup(account, &k.idempotency_key, &part.text).await {
                    Ok(Some(found)) => {
                        self.part_done(post_id, channel, index, &found).await?;
                        self.log(
                            post_id,
                            channel,
                            index,
                            "reconciled",
                            Some("found on the network after an uncertain outcome"),
                            elapsed(started),
                        )
                        .await?;
                        return Ok(Ok(found.remote));
                    }
                    Ok(None) => {
                        self.log(
                            post_id,
                            channel,
                            index,
                            "not_found",
                            Some("not on the network: publishing again with the same key"),
                            elapsed(started),
                        )
                        .await?;
                        let update = TargetUpdate { state: "sending", keep_lease: true, ..Default::default() };
                        if self
                            .fenced(self.app.store.update_target(post_id, channel, &self.worker, update).await)?
                            .is_none()
                        {
                            return Ok(Err(Outcome::LostLease));
                        }
                        k.idempotency_key.clone()
                    }
                    Err(e) => return self.failed_call(post, channel, index, e, elapsed(started)).await.map(Err),
                }
            }
            None => {
                let key = self.keys.next(u64::try_from(self.app.now().as_microsecond()).unwrap_or(0));
                if self.fenced(self.app.store.begin_part(post_id, channel, index, &key, &self.worker).await)?.is_none()
                {
                    return Ok(Err(Outcome::LostLease));
                }
                done.push(PartRecord {
                    part: index,
                    idempotency_key: key.clone(),
                    remote_id: None,
                    remote_cid: None,
                    remote_url: None,
                    published_at: None,
                });
                key
            }
        };
        let out = OutPost {
            text: part.text.clone(),
            media: part.media.clone(),
            link: part.link.clone(),
            reply_to,
            languages: part.languages.clone(),
            idempotency_key: key,
            options: part.options.clone(),
        };
        let started = Instant::now();
        match network.publish(account, &out).await {
            Ok(published) => {
                let r = &published.remote;
                let remote = (r.id.as_str(), r.cid.as_deref(), r.url.as_deref());
                let (now, latency) = (self.app.now_ms(), elapsed(started));
                let store = &self.app.store;
                store.part_published_logged(post_id, channel, index, remote, now, &self.worker, latency).await?;
                Ok(Ok(published.remote))
            }
            Err(e) => self.failed_call(post, channel, index, e, elapsed(started)).await.map(Err),
        }
    }

    async fn part_done(&self, post: PostId, channel: ChannelId, index: i64, p: &Published) -> AppResult<()> {
        let r = &p.remote;
        self.app
            .store
            .part_published(post, channel, index, (&r.id, r.cid.as_deref(), r.url.as_deref()), self.app.now_ms())
            .await?;
        Ok(())
    }

    /// Applies the engine's rules to a failed network call.
    async fn failed_call(
        &self,
        post: &PostRecord,
        channel: ChannelId,
        index: i64,
        e: NetError,
        latency: i64,
    ) -> AppResult<Outcome> {
        let post_id = PostId(post.id);
        let now = self.app.now_ms();
        let message = e.to_string();
        match e {
            NetError::Transient { retry_after, .. } | NetError::RateLimited { retry_after } => {
                let outcome = if matches!(e, NetError::RateLimited { .. }) { "rate_limited" } else { "transient" };
                self.log(post_id, channel, index, outcome, Some(&message), latency).await?;
                let attempt = self.attempts(post, channel).await? + 1;
                if attempt >= MAX_ATTEMPTS {
                    return self.fail(post, channel, &format!("gave up after {attempt} attempts: {message}")).await;
                }
                let says = retry_after.map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
                let next = now + retry_delay_ms(attempt, jitter(), says);
                self.retry_at(post_id, channel, "scheduled", next, &message).await
            }
            NetError::Unknown { .. } => {
                self.log(post_id, channel, index, "unknown", Some(&message), latency).await?;
                let label = self.channel_label(WorkspaceId(post.workspace_id), channel).await?;
                self.app
                    .notify(
                        WorkspaceId(post.workspace_id),
                        &Event::PostUnconfirmed { post_id: post.id, channel: label },
                    )
                    .await?;
                let attempt = self.attempts(post, channel).await? + 1;
                let next = now + retry_delay_ms(attempt, jitter(), None);
                self.retry_at(post_id, channel, "unconfirmed", next, &message).await
            }
            NetError::Permanent { message: network_message } => {
                self.log(post_id, channel, index, "refused", Some(&network_message), latency).await?;
                self.fail(post, channel, &network_message).await
            }
            NetError::Auth { .. } => {
                self.log(post_id, channel, index, "auth", Some(&message), latency).await?;
                // Refused before anything was posted: the delivery has not started.
                self.app.store.forget_part_key(post_id, channel, index, &self.worker).await?;
                self.app.store.set_needs_reconnection(channel, true).await?;
                let label = self.channel_label(WorkspaceId(post.workspace_id), channel).await?;
                self.app
                    .notify(
                        WorkspaceId(post.workspace_id),
                        &Event::ChannelNeedsReconnection { channel: label, message: message.clone() },
                    )
                    .await?;
                let update = TargetUpdate { state: "scheduled", last_error: Some(&message), ..Default::default() };
                let written =
                    self.fenced(self.app.store.update_target(post_id, channel, &self.worker, update).await)?;
                Ok(written.map_or(Outcome::LostLease, |()| Outcome::Waiting))
            }
        }
    }

    async fn attempts(&self, post: &PostRecord, channel: ChannelId) -> AppResult<i64> {
        let statuses = self.app.store.target_statuses(WorkspaceId(post.workspace_id), PostId(post.id)).await?;
        Ok(statuses.iter().find(|s| s.channel_id == channel.0).map_or(0, |s| s.attempts))
    }

    async fn retry_at(
        &self,
        post: PostId,
        channel: ChannelId,
        state: &str,
        next: i64,
        message: &str,
    ) -> AppResult<Outcome> {
        let update = TargetUpdate {
            state,
            count_attempt: true,
            next_attempt_at: Some(next),
            last_error: Some(message),
            ..Default::default()
        };
        let written = self.fenced(self.app.store.update_target(post, channel, &self.worker, update).await)?;
        Ok(written.map_or(Outcome::LostLease, |()| Outcome::Retry))
    }

    async fn fail(&self, post: &PostRecord, channel: ChannelId, message: &str) -> AppResult<Outcome> {
        let update =
            TargetUpdate { state: "failed", count_attempt: true, last_error: Some(message), ..Default::default() };
        let finished = self.app.store.finish_target(PostId(post.id), channel, &self.worker, update, self.app.now_ms());
        if self.fenced(finished.await)?.is_none() {
            return Ok(Outcome::LostLease);
        }
        let ws = WorkspaceId(post.workspace_id);
        let label = self.channel_label(ws, channel).await?;
        self.app
            .notify(ws, &Event::PostFailed { post_id: post.id, channel: label, message: message.to_owned() })
            .await?;
        Ok(Outcome::Failed)
    }

    /// "network @handle", as people name a channel.
    async fn channel_label(&self, ws: WorkspaceId, channel: ChannelId) -> AppResult<String> {
        let c = self.app.store.channel(ws, channel).await?;
        Ok(format!(
            "{} {}",
            relais_domain::Network::ALL
                .iter()
                .find(|n| n.as_str() == c.network)
                .map_or(c.network.as_str(), |n| n.display_name()),
            c.handle
        ))
    }

    async fn finish(
        &self,
        post: &PostRecord,
        channel: ChannelId,
        state: &str,
        head: Option<&RemoteRef>,
        outcome: Outcome,
    ) -> AppResult<Outcome> {
        let now = self.app.now_ms();
        let update = TargetUpdate {
            state,
            remote: head.map(|h| (h.id.as_str(), h.url.as_deref())),
            published_at: head.map(|_| now),
            ..Default::default()
        };
        let finished = self.app.store.finish_target(PostId(post.id), channel, &self.worker, update, now).await;
        let Some(settled) = self.fenced(finished)? else { return Ok(Outcome::LostLease) };
        if settled.as_deref() == Some("published") && post.evergreen_secs.is_some() {
            let at = jiff::Timestamp::from_millisecond(now).map_err(AppError::internal)?;
            self.app.schedule_next_evergreen(WorkspaceId(post.workspace_id), PostId(post.id), at).await?;
        }
        Ok(outcome)
    }

    async fn log(
        &self,
        post: PostId,
        channel: ChannelId,
        part: i64,
        outcome: &str,
        message: Option<&str>,
        latency_ms: i64,
    ) -> AppResult<()> {
        self.app
            .store
            .record_attempt(post, channel, part, &self.worker, self.app.now_ms(), outcome, message, latency_ms)
            .await?;
        Ok(())
    }

    /// `Ok(Some(value))` when a fenced write went through, `Ok(None)` when another worker holds the
    /// lease now.
    fn fenced<T>(&self, r: relais_store::StoreResult<T>) -> AppResult<Option<T>> {
        match r {
            Ok(v) => Ok(Some(v)),
            Err(relais_store::StoreError::NotFound) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }
}

/// A claimed batch: what its deliveries read, loaded once, and each channel's refresh outcome.
struct Batch {
    loaded: DeliveryBatch,
    refreshed: HashMap<i64, OnceCell<Refreshed>>,
}

/// The outcome of refreshing a channel's credentials before a pass's first call.
enum Refreshed {
    /// New credentials (already stored).
    Fresh(serde_json::Value),
    /// The current credentials are still good (or refreshing failed transiently).
    Same,
    /// The network refused the credentials: the channel needs reconnection.
    Refused(NetError),
}

/// One thing to publish on one channel.
struct Part {
    text: String,
    media: Vec<OutMedia>,
    link: Option<String>,
    first_comment: bool,
    languages: Vec<String>,
    options: serde_json::Value,
}

/// The post's options in the shape connectors read (`OutPost::options`): Mastodon's
/// visibility and content warning (which also marks media sensitive), on every part.
fn network_options(body: &PostBody) -> serde_json::Value {
    let mut options = serde_json::Map::new();
    if let Some(visibility) = body.visibility {
        options.insert("visibility".into(), visibility.as_str().into());
    }
    if let Some(cw) = body.content_warning.as_deref().filter(|cw| !cw.trim().is_empty()) {
        options.insert("spoiler_text".into(), cw.into());
        options.insert("sensitive".into(), true.into());
    }
    serde_json::Value::Object(options)
}

fn elapsed(started: Instant) -> i64 {
    i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX)
}
