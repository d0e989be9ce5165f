//! Delivery: claiming due targets with a lease, their per-part remote ids, the publish log, and
//! the sandbox network's timeline.
//!
//! Claims are atomic on both backends: on PostgreSQL the candidate rows are locked with
//! `FOR UPDATE SKIP LOCKED` so concurrent workers take different targets; on SQLite the single
//! `UPDATE` runs in SQLite's one-writer transaction. Every later write on a target is fenced by
//! the lease owner, so a worker whose lease expired cannot overwrite its successor's work.

use crate::channels::{CH_COLUMNS, ChannelRecord};
use crate::posts::PostRecord;
use crate::{Backend, Store, StoreResult, found};
use relais_domain::ids::{ChannelId, PostId, WorkspaceId};
use serde::Serialize;
use std::collections::HashMap;

/// A target a worker now holds.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Claimed {
    /// The post.
    pub post_id: i64,
    /// The channel.
    pub channel_id: i64,
    /// The state after the claim: `claimed` for a fresh delivery, `sending` or `unconfirmed`
    /// when a previous worker died or timed out mid-call (its outcome must be checked first).
    pub state: String,
    /// Attempts so far.
    pub attempts: i64,
}

/// One part of a delivery (0 = the post, then thread parts, then the first comment).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow, Serialize, utoipa::ToSchema)]
pub struct PartRecord {
    /// Position.
    pub part: i64,
    /// Stored before the network call.
    pub idempotency_key: String,
    /// The network's id once published.
    pub remote_id: Option<String>,
    /// Content hash (Bluesky CID) once published.
    pub remote_cid: Option<String>,
    /// Public address once published.
    pub remote_url: Option<String>,
    /// When it was published (UTC ms).
    pub published_at: Option<i64>,
}

/// One entry of the publish log.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow, Serialize, utoipa::ToSchema)]
pub struct AttemptRecord {
    /// Identifier (increasing).
    pub id: i64,
    /// The channel.
    pub channel_id: i64,
    /// The part.
    pub part: i64,
    /// The worker that made it.
    pub worker: String,
    /// When (UTC ms).
    pub at: i64,
    /// `published`, `transient`, `rate_limited`, `refused`, `auth`, `unknown`, `reconciled`,
    /// `missed`, `not_found`.
    pub outcome: String,
    /// The network's status and message.
    pub message: Option<String>,
    /// How long the call took.
    pub latency_ms: i64,
}

/// A target's delivery state, as shown in the API.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow, Serialize, utoipa::ToSchema)]
pub struct TargetStatus {
    /// The channel.
    pub channel_id: i64,
    /// The delivery state.
    pub state: String,
    /// Attempts so far.
    pub attempts: i64,
    /// When the next attempt is due (UTC ms).
    pub next_attempt_at: Option<i64>,
    /// The last error, as the network said it.
    pub last_error: Option<String>,
    /// The network's id of the (first part of the) post.
    pub remote_id: Option<String>,
    /// Its public address.
    pub remote_url: Option<String>,
    /// When it was published (UTC ms).
    pub published_at: Option<i64>,
}

/// A post of the sandbox network's timeline.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow, Serialize, utoipa::ToSchema)]
pub struct SandboxPost {
    /// Identifier on the sandbox.
    pub id: i64,
    /// The sandbox channel.
    pub channel_id: i64,
    /// The key it was published with.
    pub idempotency_key: String,
    /// The text.
    pub text: String,
    /// The sandbox post it answers.
    pub reply_to: Option<i64>,
    /// How many media were attached.
    pub media: i64,
    /// When (UTC ms).
    pub created_at: i64,
}

/// What the engine reads before delivering a claimed batch (see [`Store::delivery_batch`]).
#[derive(Debug, Clone, Default)]
pub struct DeliveryBatch {
    /// The batch's posts by id, with their targets and media.
    pub posts: HashMap<i64, PostRecord>,
    /// The batch's channels by id (credentials still encrypted).
    pub channels: HashMap<i64, ChannelRecord>,
    /// Late policy (seconds) by workspace id.
    pub late_publish_secs: HashMap<i64, i64>,
    /// Parts recorded so far by (post, channel), in order.
    pub parts: HashMap<(i64, i64), Vec<PartRecord>>,
}

/// A post settled by [`Store::settle_finished_posts`].
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct SettledPost {
    /// The post.
    pub id: i64,
    /// Its workspace.
    pub workspace_id: i64,
    /// Its new status.
    pub status: String,
    /// Its evergreen interval, if any.
    pub evergreen_secs: Option<i64>,
}

#[derive(sqlx::FromRow)]
struct PartRow {
    post_id: i64,
    channel_id: i64,
    #[sqlx(flatten)]
    part: PartRecord,
}

/// What a fenced write on a target changes.
#[derive(Debug, Clone, Default)]
pub struct TargetUpdate<'a> {
    /// New state.
    pub state: &'a str,
    /// Add one to the attempts.
    pub count_attempt: bool,
    /// Next attempt time (UTC ms).
    pub next_attempt_at: Option<i64>,
    /// Last error.
    pub last_error: Option<&'a str>,
    /// Remote id and URL of the first part.
    pub remote: Option<(&'a str, Option<&'a str>)>,
    /// Publication time.
    pub published_at: Option<i64>,
    /// Keep the lease (an intermediate state) or release it.
    pub keep_lease: bool,
}

impl Store {
    /// Claims up to `limit` due targets for `worker` until `lease_until`: targets of scheduled
    /// posts due by `now`, in unpaused workspaces, on channels that do not need reconnection,
    /// that are waiting (and whose next attempt is due), or whose previous holder's lease expired.
    pub async fn claim_due(&self, now: i64, worker: &str, lease_until: i64, limit: i64) -> StoreResult<Vec<Claimed>> {
        let lock = match self.backend {
            Backend::Postgres => "FOR UPDATE OF t SKIP LOCKED",
            Backend::Sqlite => "",
        };
        let sql = format!(
            "UPDATE post_targets SET lease_owner = $1, lease_until = $2, \
                 state = CASE WHEN state = 'scheduled' THEN 'claimed' ELSE state END \
             WHERE (post_id, channel_id) IN ( \
                 SELECT t.post_id, t.channel_id FROM post_targets t \
                 JOIN posts p ON p.id = t.post_id \
                 JOIN workspaces w ON w.id = p.workspace_id \
                 JOIN channels c ON c.id = t.channel_id \
                 WHERE p.status = 'scheduled' AND p.due_at <= $3 AND w.paused = 0 AND c.needs_reconnection = 0 \
                   AND ((t.state = 'scheduled' AND (t.next_attempt_at IS NULL OR t.next_attempt_at <= $3)) \
                        OR (t.state IN ('claimed', 'sending', 'unconfirmed') AND (t.lease_until IS NULL OR t.lease_until < $3))) \
                 ORDER BY p.due_at, t.post_id, t.channel_id LIMIT $4 {lock}) \
             RETURNING post_id, channel_id, state, attempts"
        );
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(worker)
            .bind(lease_until)
            .bind(now)
            .bind(limit)
            .fetch_all(&self.pool)
            .await?)
    }

    /// Extends a lease the worker still holds.
    pub async fn renew_lease(
        &self,
        post: PostId,
        channel: ChannelId,
        worker: &str,
        lease_until: i64,
    ) -> StoreResult<()> {
        found(
            sqlx::query(
                "UPDATE post_targets SET lease_until = $1 WHERE post_id = $2 AND channel_id = $3 AND lease_owner = $4",
            )
            .bind(lease_until)
            .bind(post.0)
            .bind(channel.0)
            .bind(worker)
            .execute(&self.pool)
            .await?,
        )
    }

    /// Writes a target's state if `worker` still holds its lease (else "not found": someone
    /// else took over).
    pub async fn update_target(
        &self,
        post: PostId,
        channel: ChannelId,
        worker: &str,
        u: TargetUpdate<'_>,
    ) -> StoreResult<()> {
        update_target_on(&self.pool, post, channel, worker, u).await
    }

    /// The parts of a delivery recorded so far.
    pub async fn target_parts(&self, post: PostId, channel: ChannelId) -> StoreResult<Vec<PartRecord>> {
        Ok(sqlx::query_as(
            "SELECT part, idempotency_key, remote_id, remote_cid, remote_url, published_at FROM target_parts \
             WHERE post_id = $1 AND channel_id = $2 ORDER BY part",
        )
        .bind(post.0)
        .bind(channel.0)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Stores a part's idempotency key before the network is called (fenced by the lease).
    pub async fn store_part_key(
        &self,
        post: PostId,
        channel: ChannelId,
        part: i64,
        key: &str,
        worker: &str,
    ) -> StoreResult<()> {
        found(
            sqlx::query(
                "INSERT INTO target_parts (post_id, channel_id, part, idempotency_key) \
                 SELECT post_id, channel_id, $1, $2 FROM post_targets WHERE post_id = $3 AND channel_id = $4 AND lease_owner = $5",
            )
            .bind(part)
            .bind(key)
            .bind(post.0)
            .bind(channel.0)
            .bind(worker)
            .execute(&self.pool)
            .await?,
        )
    }

    /// Stores a part's idempotency key and marks the delivery `sending`, before the network is
    /// called; fenced by the lease (else "not found"). One statement on PostgreSQL.
    pub async fn begin_part(
        &self,
        post: PostId,
        channel: ChannelId,
        part: i64,
        key: &str,
        worker: &str,
    ) -> StoreResult<()> {
        match self.backend {
            Backend::Postgres => found(
                sqlx::query(
                    "WITH t AS (UPDATE post_targets SET state = 'sending', next_attempt_at = NULL, last_error = NULL \
                                WHERE post_id = $3 AND channel_id = $4 AND lease_owner = $5 RETURNING post_id, channel_id) \
                     INSERT INTO target_parts (post_id, channel_id, part, idempotency_key) \
                     SELECT post_id, channel_id, $1, $2 FROM t",
                )
                .bind(part)
                .bind(key)
                .bind(post.0)
                .bind(channel.0)
                .bind(worker)
                .execute(&self.pool)
                .await?,
            ),
            // In-process: two statements cost nothing.
            Backend::Sqlite => {
                self.store_part_key(post, channel, part, key, worker).await?;
                let sending = TargetUpdate { state: "sending", keep_lease: true, ..Default::default() };
                self.update_target(post, channel, worker, sending).await
            }
        }
    }

    /// Records a part's remote identity as soon as it is published and logs the attempt. One
    /// statement on PostgreSQL.
    #[allow(clippy::too_many_arguments)]
    pub async fn part_published_logged(
        &self,
        post: PostId,
        channel: ChannelId,
        part: i64,
        remote: (&str, Option<&str>, Option<&str>),
        at: i64,
        worker: &str,
        latency_ms: i64,
    ) -> StoreResult<()> {
        match self.backend {
            Backend::Postgres => found(
                sqlx::query(
                    "WITH p AS (UPDATE target_parts SET remote_id = $1, remote_cid = $2, remote_url = $3, published_at = $4 \
                                WHERE post_id = $5 AND channel_id = $6 AND part = $7 RETURNING post_id) \
                     INSERT INTO publish_attempts (post_id, channel_id, part, worker, at, outcome, message, latency_ms) \
                     SELECT $5, $6, $7, $8, $4, 'published', NULL, $9 FROM p",
                )
                .bind(remote.0)
                .bind(remote.1)
                .bind(remote.2)
                .bind(at)
                .bind(post.0)
                .bind(channel.0)
                .bind(part)
                .bind(worker)
                .bind(latency_ms)
                .execute(&self.pool)
                .await?,
            ),
            Backend::Sqlite => {
                self.part_published(post, channel, part, remote, at).await?;
                self.record_attempt(post, channel, part, worker, at, "published", None, latency_ms).await
            }
        }
    }

    /// Forgets a part's key when the network definitively refused the call (e.g. 401): nothing
    /// can be on the network under it. Fenced by the lease; never forgets a published part.
    pub async fn forget_part_key(&self, post: PostId, channel: ChannelId, part: i64, worker: &str) -> StoreResult<()> {
        sqlx::query(
            "DELETE FROM target_parts WHERE post_id = $1 AND channel_id = $2 AND part = $3 AND remote_id IS NULL \
             AND EXISTS (SELECT 1 FROM post_targets t WHERE t.post_id = $1 AND t.channel_id = $2 AND t.lease_owner = $4)",
        )
        .bind(post.0)
        .bind(channel.0)
        .bind(part)
        .bind(worker)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Records a part's remote identity as soon as it is published.
    pub async fn part_published(
        &self,
        post: PostId,
        channel: ChannelId,
        part: i64,
        remote: (&str, Option<&str>, Option<&str>),
        at: i64,
    ) -> StoreResult<()> {
        found(
            sqlx::query(
                "UPDATE target_parts SET remote_id = $1, remote_cid = $2, remote_url = $3, published_at = $4 \
                 WHERE post_id = $5 AND channel_id = $6 AND part = $7",
            )
            .bind(remote.0)
            .bind(remote.1)
            .bind(remote.2)
            .bind(at)
            .bind(post.0)
            .bind(channel.0)
            .bind(part)
            .execute(&self.pool)
            .await?,
        )
    }

    /// Appends to the publish log.
    #[allow(clippy::too_many_arguments)]
    pub async fn record_attempt(
        &self,
        post: PostId,
        channel: ChannelId,
        part: i64,
        worker: &str,
        at: i64,
        outcome: &str,
        message: Option<&str>,
        latency_ms: i64,
    ) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO publish_attempts (post_id, channel_id, part, worker, at, outcome, message, latency_ms) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(post.0)
        .bind(channel.0)
        .bind(part)
        .bind(worker)
        .bind(at)
        .bind(outcome)
        .bind(message)
        .bind(latency_ms)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The publish log of a post of a workspace, oldest first.
    pub async fn publish_log(&self, workspace: WorkspaceId, post: PostId) -> StoreResult<Vec<AttemptRecord>> {
        Ok(sqlx::query_as(
            "SELECT a.id, a.channel_id, a.part, a.worker, a.at, a.outcome, a.message, a.latency_ms FROM publish_attempts a \
             JOIN posts p ON p.id = a.post_id WHERE a.post_id = $1 AND p.workspace_id = $2 ORDER BY a.id",
        )
        .bind(post.0)
        .bind(workspace.0)
        .fetch_all(&self.pool)
        .await?)
    }

    /// The delivery state of each target of a post of a workspace.
    pub async fn target_statuses(&self, workspace: WorkspaceId, post: PostId) -> StoreResult<Vec<TargetStatus>> {
        Ok(sqlx::query_as(
            "SELECT t.channel_id, t.state, t.attempts, t.next_attempt_at, t.last_error, t.remote_id, t.remote_url, t.published_at \
             FROM post_targets t JOIN posts p ON p.id = t.post_id WHERE t.post_id = $1 AND p.workspace_id = $2 ORDER BY t.channel_id",
        )
        .bind(post.0)
        .bind(workspace.0)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Writes a delivery's final state (fenced by the lease, else "not found"), then settles its
    /// post (see `settle_post_on`; returns the post's new status when this call settled it).
    /// On SQLite both land in one transaction: its single writer serialises concurrent finishers,
    /// so the last one sees every other final state. On PostgreSQL they are two statements (two
    /// finishers in one transaction each could both miss the other's uncommitted state); a crash
    /// in between is repaired by [`Store::settle_finished_posts`].
    pub async fn finish_target(
        &self,
        post: PostId,
        channel: ChannelId,
        worker: &str,
        u: TargetUpdate<'_>,
        now: i64,
    ) -> StoreResult<Option<String>> {
        match self.backend {
            Backend::Sqlite => {
                let mut tx = self.pool.begin().await?;
                update_target_on(&mut *tx, post, channel, worker, u).await?;
                let settled = settle_post_on(&mut *tx, post, now).await?;
                tx.commit().await?;
                Ok(settled)
            }
            Backend::Postgres => {
                update_target_on(&self.pool, post, channel, worker, u).await?;
                settle_post_on(&self.pool, post, now).await
            }
        }
    }

    /// Settles every post whose targets are all final but whose own status was never set: the
    /// repair for a worker that died between a target's last write and its post's.
    /// Returns the posts it settled (id, workspace, new status, evergreen interval).
    pub async fn settle_finished_posts(&self, now: i64) -> StoreResult<Vec<SettledPost>> {
        let sql = format!(
            "UPDATE posts SET updated_at = $1, status = {SETTLED_STATUS} WHERE status = 'scheduled' AND {ALL_TARGETS_FINAL} \
             RETURNING id, workspace_id, status, evergreen_secs"
        );
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(now).fetch_all(&self.pool).await?)
    }

    /// Marks a channel as needing reconnection (its posts wait) or as healthy again.
    pub async fn set_needs_reconnection(&self, channel: ChannelId, needs: bool) -> StoreResult<()> {
        found(
            sqlx::query("UPDATE channels SET needs_reconnection = $1 WHERE id = $2")
                .bind(i64::from(needs))
                .bind(channel.0)
                .execute(&self.pool)
                .await?,
        )
    }

    /// Everything the engine reads before delivering a claimed batch, with five queries per
    /// batch of up to 500 posts instead of six per delivery: the posts (with targets and media),
    /// their channels, their workspaces' late policies and the parts recorded so far. Nobody
    /// else writes these parts while the batch's leases hold.
    pub async fn delivery_batch(&self, claimed: &[Claimed]) -> StoreResult<DeliveryBatch> {
        let mut post_ids: Vec<PostId> = claimed.iter().map(|c| PostId(c.post_id)).collect();
        post_ids.sort_unstable_by_key(|p| p.0);
        post_ids.dedup();
        let posts: HashMap<i64, PostRecord> =
            self.posts_for_delivery(&post_ids).await?.into_iter().map(|p| (p.id, p)).collect();
        let mut channel_ids: Vec<i64> = claimed.iter().map(|c| c.channel_id).collect();
        channel_ids.sort_unstable();
        channel_ids.dedup();
        let mut workspace_ids: Vec<i64> = posts.values().map(|p| p.workspace_id).collect();
        workspace_ids.sort_unstable();
        workspace_ids.dedup();
        let mut batch = DeliveryBatch { posts, ..Default::default() };
        let channels: Vec<ChannelRecord> = self
            .fetch_in(&channel_ids, |list| format!("SELECT {} FROM channels WHERE id IN ({list})", CH_COLUMNS))
            .await?;
        batch.channels.extend(channels.into_iter().map(|c| (c.id, c)));
        let policies: Vec<(i64, i64)> = self
            .fetch_in(&workspace_ids, |list| {
                format!("SELECT id, late_publish_secs FROM workspaces WHERE id IN ({list})")
            })
            .await?;
        batch.late_publish_secs.extend(policies);
        let post_ids: Vec<i64> = post_ids.iter().map(|p| p.0).collect();
        let parts: Vec<PartRow> = self
            .fetch_in(&post_ids, |list| {
                format!(
                    "SELECT post_id, channel_id, part, idempotency_key, remote_id, remote_cid, remote_url, published_at \
                     FROM target_parts WHERE post_id IN ({list}) ORDER BY part"
                )
            })
            .await?;
        for row in parts {
            batch.parts.entry((row.post_id, row.channel_id)).or_default().push(row.part);
        }
        Ok(batch)
    }

    /// Publishes on the sandbox: idempotent by (channel, key). Returns the sandbox post.
    pub async fn sandbox_publish(
        &self,
        channel: ChannelId,
        key: &str,
        text: &str,
        reply_to: Option<i64>,
        media: i64,
        now: i64,
    ) -> StoreResult<SandboxPost> {
        sqlx::query(
            "INSERT INTO sandbox_posts (channel_id, idempotency_key, text, reply_to, media, created_at) VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (channel_id, idempotency_key) DO NOTHING",
        )
        .bind(channel.0)
        .bind(key)
        .bind(text)
        .bind(reply_to)
        .bind(media)
        .bind(now)
        .execute(&self.pool)
        .await?;
        self.sandbox_find(channel, key).await?.ok_or(crate::StoreError::NotFound)
    }

    /// The sandbox post published with this key, if any.
    pub async fn sandbox_find(&self, channel: ChannelId, key: &str) -> StoreResult<Option<SandboxPost>> {
        Ok(sqlx::query_as(
            "SELECT id, channel_id, idempotency_key, text, reply_to, media, created_at FROM sandbox_posts \
             WHERE channel_id = $1 AND idempotency_key = $2",
        )
        .bind(channel.0)
        .bind(key)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// Deletes a sandbox post (absent is fine).
    pub async fn sandbox_delete(&self, channel: ChannelId, id: i64) -> StoreResult<()> {
        sqlx::query("DELETE FROM sandbox_posts WHERE channel_id = $1 AND id = $2")
            .bind(channel.0)
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// The sandbox timeline of a workspace's channel, newest first.
    pub async fn sandbox_timeline(
        &self,
        workspace: WorkspaceId,
        channel: ChannelId,
        limit: i64,
    ) -> StoreResult<Vec<SandboxPost>> {
        Ok(sqlx::query_as(
            "SELECT s.id, s.channel_id, s.idempotency_key, s.text, s.reply_to, s.media, s.created_at FROM sandbox_posts s \
             JOIN channels c ON c.id = s.channel_id WHERE s.channel_id = $1 AND c.workspace_id = $2 ORDER BY s.id DESC LIMIT $3",
        )
        .bind(channel.0)
        .bind(workspace.0)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?)
    }
}

/// The status a post settles to once its targets are final: `published` when all were
/// published, else `failed` when one failed, else `missed` (SQL, on the `posts` row being updated).
const SETTLED_STATUS: &str = "CASE \
    WHEN NOT EXISTS (SELECT 1 FROM post_targets t WHERE t.post_id = posts.id AND t.state <> 'published') THEN 'published' \
    WHEN EXISTS (SELECT 1 FROM post_targets t WHERE t.post_id = posts.id AND t.state = 'failed') THEN 'failed' \
    ELSE 'missed' END";

/// The `posts` row being updated has targets, and every one is final.
const ALL_TARGETS_FINAL: &str = "EXISTS (SELECT 1 FROM post_targets t WHERE t.post_id = posts.id) \
    AND NOT EXISTS (SELECT 1 FROM post_targets t WHERE t.post_id = posts.id AND t.state NOT IN ('published', 'failed', 'missed'))";

/// [`Store::update_target`] on any executor (the pool, or a transaction).
async fn update_target_on<'e>(
    db: impl sqlx::Executor<'e, Database = sqlx::Any>,
    post: PostId,
    channel: ChannelId,
    worker: &str,
    u: TargetUpdate<'_>,
) -> StoreResult<()> {
    let (remote_id, remote_url) = u.remote.map_or((None, None), |(id, url)| (Some(id), url));
    found(
        sqlx::query(
            "UPDATE post_targets SET state = $1, attempts = attempts + $2, next_attempt_at = $3, last_error = $4, \
             remote_id = COALESCE($5, remote_id), remote_url = COALESCE($6, remote_url), \
             published_at = COALESCE($7, published_at), \
             lease_owner = CASE WHEN $8 = 1 THEN lease_owner ELSE NULL END, \
             lease_until = CASE WHEN $8 = 1 THEN lease_until ELSE NULL END \
             WHERE post_id = $9 AND channel_id = $10 AND lease_owner = $11",
        )
        .bind(u.state)
        .bind(i64::from(u.count_attempt))
        .bind(u.next_attempt_at)
        .bind(u.last_error)
        .bind(remote_id)
        .bind(remote_url)
        .bind(u.published_at)
        .bind(i64::from(u.keep_lease))
        .bind(post.0)
        .bind(channel.0)
        .bind(worker)
        .execute(db)
        .await?,
    )
}

/// When every target of a post is final, sets the post's status (see [`SETTLED_STATUS`]) and
/// returns it when this call settled the post (one statement: concurrent deliveries of one post
/// settle it once).
async fn settle_post_on<'e>(
    db: impl sqlx::Executor<'e, Database = sqlx::Any>,
    post: PostId,
    now: i64,
) -> StoreResult<Option<String>> {
    let sql = format!(
        "UPDATE posts SET updated_at = $2, status = {SETTLED_STATUS} \
         WHERE id = $1 AND status = 'scheduled' AND {ALL_TARGETS_FINAL} RETURNING status"
    );
    let row: Option<(String,)> =
        sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(post.0).bind(now).fetch_optional(db).await?;
    Ok(row.map(|(s,)| s))
}
