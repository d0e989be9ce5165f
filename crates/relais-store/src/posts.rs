//! Posts, their per-channel targets (with optional text variants) and their media.

use crate::{Store, StoreError, StoreResult, found};
use relais_domain::ids::{ChannelId, PostId, UserId, WorkspaceId};
use serde::Serialize;

/// A post as stored, with its targets and media.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct PostRecord {
    /// Identifier.
    pub id: i64,
    /// Owning workspace.
    pub workspace_id: i64,
    /// Who wrote it.
    pub author_id: i64,
    /// Status (see relais_domain::post::PostStatus).
    pub status: String,
    /// Content (JSON of relais_domain::post::PostBody).
    pub body: String,
    /// Due time (UTC ms), when scheduled.
    pub due_at: Option<i64>,
    /// The wall-clock time the person asked for (`2027-03-28T09:30`), in `timezone`.
    pub local_time: Option<String>,
    /// IANA time zone of the schedule.
    pub timezone: String,
    /// The channel whose queue gave the due time, if queued.
    pub queue_channel_id: Option<i64>,
    /// Interval in seconds at which an evergreen post comes back.
    pub evergreen_secs: Option<i64>,
    /// Reviewer's note.
    pub review_note: Option<String>,
    /// Reviewer.
    pub reviewed_by: Option<i64>,
    /// Creation time (UTC ms).
    pub created_at: i64,
    /// Last change (UTC ms).
    pub updated_at: i64,
    /// Channels the post goes to, each with an optional text variant.
    pub targets: Vec<TargetRecord>,
    /// Attached media, in order.
    pub media: Vec<PostMediaRecord>,
}

/// One channel a post goes to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct TargetRecord {
    /// The channel.
    pub channel_id: i64,
    /// Text replacing the base text on this channel.
    pub variant: Option<String>,
}

/// One attached media file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct PostMediaRecord {
    /// The media file.
    pub media_id: i64,
    /// Alternative text.
    pub alt: String,
}

#[derive(sqlx::FromRow)]
struct PostRow {
    id: i64,
    workspace_id: i64,
    author_id: i64,
    status: String,
    body: String,
    due_at: Option<i64>,
    local_time: Option<String>,
    timezone: String,
    queue_channel_id: Option<i64>,
    evergreen_secs: Option<i64>,
    review_note: Option<String>,
    reviewed_by: Option<i64>,
    created_at: i64,
    updated_at: i64,
}

/// A post to write (create or replace).
#[derive(Debug, Clone)]
pub struct PostWrite {
    /// Owning workspace.
    pub workspace: WorkspaceId,
    /// Author.
    pub author: UserId,
    /// Status.
    pub status: String,
    /// Content JSON.
    pub body: String,
    /// Due time (UTC ms).
    pub due_at: Option<i64>,
    /// Wall-clock time asked for.
    pub local_time: Option<String>,
    /// Time zone.
    pub timezone: String,
    /// Queue channel.
    pub queue_channel: Option<ChannelId>,
    /// Evergreen interval (s).
    pub evergreen_secs: Option<i64>,
    /// Targets.
    pub targets: Vec<TargetRecord>,
    /// Media.
    pub media: Vec<PostMediaRecord>,
    /// Time of the write (UTC ms).
    pub now: i64,
}

/// Filters for listing posts.
#[derive(Debug, Clone, Default)]
pub struct PostFilter {
    /// Due at or after (UTC ms).
    pub from: Option<i64>,
    /// Due before (UTC ms).
    pub to: Option<i64>,
    /// Only posts going to this channel.
    pub channel: Option<ChannelId>,
    /// Only posts with this status.
    pub status: Option<String>,
    /// Include posts without a due time (drafts).
    pub include_undated: bool,
    /// At most this many.
    pub limit: i64,
}

const POST_COLUMNS: &str = "id, workspace_id, author_id, status, body, due_at, local_time, timezone, queue_channel_id, \
                            evergreen_secs, review_note, reviewed_by, created_at, updated_at";

type Conn = sqlx::AnyConnection;

async fn insert_post(conn: &mut Conn, p: &PostWrite) -> StoreResult<i64> {
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO posts (workspace_id, author_id, status, body, due_at, local_time, timezone, queue_channel_id, evergreen_secs, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10) RETURNING id",
    )
    .bind(p.workspace.0)
    .bind(p.author.0)
    .bind(&p.status)
    .bind(&p.body)
    .bind(p.due_at)
    .bind(&p.local_time)
    .bind(&p.timezone)
    .bind(p.queue_channel.map(|c| c.0))
    .bind(p.evergreen_secs)
    .bind(p.now)
    .fetch_one(&mut *conn)
    .await?;
    insert_children(conn, id, p).await?;
    Ok(id)
}

async fn insert_children(conn: &mut Conn, id: i64, p: &PostWrite) -> StoreResult<()> {
    for t in &p.targets {
        // The channel must belong to the post's workspace: checked here, in the same statement.
        let done = sqlx::query(
            "INSERT INTO post_targets (post_id, channel_id, variant) SELECT $1, id, $2 FROM channels WHERE id = $3 AND workspace_id = $4",
        )
        .bind(id)
        .bind(&t.variant)
        .bind(t.channel_id)
        .bind(p.workspace.0)
        .execute(&mut *conn)
        .await?;
        if done.rows_affected() != 1 {
            return Err(StoreError::NotFound);
        }
    }
    for (position, m) in p.media.iter().enumerate() {
        let done = sqlx::query(
            "INSERT INTO post_media (post_id, media_id, position, alt) SELECT $1, id, $2, $3 FROM media WHERE id = $4 AND workspace_id = $5",
        )
        .bind(id)
        .bind(position as i64)
        .bind(&m.alt)
        .bind(m.media_id)
        .bind(p.workspace.0)
        .execute(&mut *conn)
        .await?;
        if done.rows_affected() != 1 {
            return Err(StoreError::NotFound);
        }
    }
    Ok(())
}

impl Store {
    /// Creates posts, all of them or none (a bulk import is atomic). Returns their ids in order.
    pub async fn create_posts(&self, posts: &[PostWrite]) -> StoreResult<Vec<PostId>> {
        let mut tx = self.pool.begin().await?;
        let mut ids = Vec::with_capacity(posts.len());
        for p in posts {
            ids.push(PostId(insert_post(&mut tx, p).await?));
        }
        tx.commit().await?;
        Ok(ids)
    }

    /// Replaces a post's content, schedule, targets and media, if it is still in `expected_status`.
    pub async fn replace_post(&self, id: PostId, expected_status: &str, p: &PostWrite) -> StoreResult<()> {
        let mut tx = self.pool.begin().await?;
        let done = sqlx::query(
            "UPDATE posts SET status = $1, body = $2, due_at = $3, local_time = $4, timezone = $5, queue_channel_id = $6, \
             evergreen_secs = $7, updated_at = $8, review_note = NULL, reviewed_by = NULL \
             WHERE id = $9 AND workspace_id = $10 AND status = $11",
        )
        .bind(&p.status)
        .bind(&p.body)
        .bind(p.due_at)
        .bind(&p.local_time)
        .bind(&p.timezone)
        .bind(p.queue_channel.map(|c| c.0))
        .bind(p.evergreen_secs)
        .bind(p.now)
        .bind(id.0)
        .bind(p.workspace.0)
        .bind(expected_status)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() != 1 {
            return Err(StoreError::Conflict("the post changed meanwhile".into()));
        }
        sqlx::query("DELETE FROM post_targets WHERE post_id = $1").bind(id.0).execute(&mut *tx).await?;
        sqlx::query("DELETE FROM post_media WHERE post_id = $1").bind(id.0).execute(&mut *tx).await?;
        insert_children(&mut tx, id.0, p).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Many posts by id whatever their workspace (for the publishing engine: one claimed batch
    /// loads its posts with three queries instead of three per delivery). Absent ids are skipped.
    pub async fn posts_for_delivery(&self, ids: &[PostId]) -> StoreResult<Vec<PostRecord>> {
        let ids: Vec<i64> = ids.iter().map(|p| p.0).collect();
        let rows: Vec<PostRow> =
            self.fetch_in(&ids, |list| format!("SELECT {POST_COLUMNS} FROM posts WHERE id IN ({list})")).await?;
        self.hydrate_all(rows).await
    }

    /// A post of a workspace, with its targets and media.
    pub async fn post(&self, workspace: WorkspaceId, id: PostId) -> StoreResult<PostRecord> {
        let sql = format!("SELECT {POST_COLUMNS} FROM posts WHERE id = $1 AND workspace_id = $2");
        let row: PostRow =
            sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(id.0).bind(workspace.0).fetch_one(&self.pool).await?;
        self.hydrate(row).await
    }

    async fn hydrate(&self, r: PostRow) -> StoreResult<PostRecord> {
        let mut all = self.hydrate_all(vec![r]).await?;
        all.pop().ok_or(StoreError::NotFound)
    }

    /// Loads the targets and media of many posts with one query each per chunk of 500 posts,
    /// instead of two queries per post.
    async fn hydrate_all(&self, rows: Vec<PostRow>) -> StoreResult<Vec<PostRecord>> {
        use std::collections::HashMap;
        let mut targets: HashMap<i64, Vec<TargetRecord>> = HashMap::new();
        let mut media: HashMap<i64, Vec<PostMediaRecord>> = HashMap::new();
        let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
        let target_rows: Vec<(i64, i64, Option<String>)> = self
            .fetch_in(&ids, |list| {
                format!("SELECT post_id, channel_id, variant FROM post_targets WHERE post_id IN ({list}) ORDER BY channel_id")
            })
            .await?;
        for (post, channel_id, variant) in target_rows {
            targets.entry(post).or_default().push(TargetRecord { channel_id, variant });
        }
        let media_rows: Vec<(i64, i64, String)> = self
            .fetch_in(&ids, |list| {
                format!("SELECT post_id, media_id, alt FROM post_media WHERE post_id IN ({list}) ORDER BY position")
            })
            .await?;
        for (post, media_id, alt) in media_rows {
            media.entry(post).or_default().push(PostMediaRecord { media_id, alt });
        }
        Ok(rows
            .into_iter()
            .map(|r| PostRecord {
                targets: targets.remove(&r.id).unwrap_or_default(),
                media: media.remove(&r.id).unwrap_or_default(),
                id: r.id,
                workspace_id: r.workspace_id,
                author_id: r.author_id,
                status: r.status,
                body: r.body,
                due_at: r.due_at,
                local_time: r.local_time,
                timezone: r.timezone,
                queue_channel_id: r.queue_channel_id,
                evergreen_secs: r.evergreen_secs,
                review_note: r.review_note,
                reviewed_by: r.reviewed_by,
                created_at: r.created_at,
                updated_at: r.updated_at,
            })
            .collect())
    }

    /// Lists a workspace's posts by due time (drafts without a due time last, if asked for).
    pub async fn posts(&self, workspace: WorkspaceId, f: &PostFilter) -> StoreResult<Vec<PostRecord>> {
        let undated = if f.include_undated { "OR due_at IS NULL" } else { "" };
        let sql = format!(
            "SELECT {POST_COLUMNS} FROM posts WHERE workspace_id = $1 \
             AND ((due_at >= $2 AND due_at < $3) {undated}) \
             AND ($4 = 0 OR id IN (SELECT post_id FROM post_targets WHERE channel_id = $5)) \
             AND ($6 = '' OR status = $6) \
             ORDER BY CASE WHEN due_at IS NULL THEN 1 ELSE 0 END, due_at, id LIMIT $7"
        );
        let rows: Vec<PostRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(workspace.0)
            .bind(f.from.unwrap_or(i64::MIN))
            .bind(f.to.unwrap_or(i64::MAX))
            .bind(i64::from(f.channel.is_some()))
            .bind(f.channel.map_or(0, |c| c.0))
            .bind(f.status.clone().unwrap_or_default())
            .bind(f.limit)
            .fetch_all(&self.pool)
            .await?;
        self.hydrate_all(rows).await
    }

    /// Moves a post from `from` to `to` status, recording the reviewer and note; fails with a
    /// conflict when the post is no longer in `from` (someone else acted first).
    pub async fn transition_post(
        &self,
        workspace: WorkspaceId,
        id: PostId,
        from: &str,
        to: &str,
        reviewer: Option<(UserId, Option<&str>)>,
        now: i64,
    ) -> StoreResult<()> {
        let done = sqlx::query(
            "UPDATE posts SET status = $1, reviewed_by = COALESCE($2, reviewed_by), review_note = COALESCE($3, review_note), updated_at = $4 \
             WHERE id = $5 AND workspace_id = $6 AND status = $7",
        )
        .bind(to)
        .bind(reviewer.map(|(u, _)| u.0))
        .bind(reviewer.and_then(|(_, n)| n))
        .bind(now)
        .bind(id.0)
        .bind(workspace.0)
        .bind(from)
        .execute(&self.pool)
        .await?;
        if done.rows_affected() != 1 {
            return Err(StoreError::Conflict("the post is no longer in that state".into()));
        }
        Ok(())
    }

    /// Deletes a post of a workspace.
    pub async fn delete_post(&self, workspace: WorkspaceId, id: PostId) -> StoreResult<()> {
        found(
            sqlx::query("DELETE FROM posts WHERE id = $1 AND workspace_id = $2")
                .bind(id.0)
                .bind(workspace.0)
                .execute(&self.pool)
                .await?,
        )
    }

    /// Expires every post still pending approval whose due time has come (all workspaces).
    /// Returns (workspace, post) of each expired post.
    pub async fn expire_pending(&self, now: i64) -> StoreResult<Vec<(WorkspaceId, PostId)>> {
        let rows: Vec<(i64, i64)> = sqlx::query_as(
            "UPDATE posts SET status = 'expired', updated_at = $1 WHERE status = 'pending_approval' AND due_at IS NOT NULL AND due_at <= $1 \
             RETURNING workspace_id, id",
        )
        .bind(now)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(|(w, p)| (WorkspaceId(w), PostId(p))).collect())
    }

    /// Due times already taken on a channel at or after `from` (for the queue's next free slot).
    pub async fn taken_times(&self, workspace: WorkspaceId, channel: ChannelId, from: i64) -> StoreResult<Vec<i64>> {
        let rows: Vec<(i64,)> = sqlx::query_as(
            "SELECT p.due_at FROM posts p JOIN post_targets t ON t.post_id = p.id \
             WHERE p.workspace_id = $1 AND t.channel_id = $2 AND p.due_at >= $3 AND p.status IN ('scheduled', 'pending_approval')",
        )
        .bind(workspace.0)
        .bind(channel.0)
        .bind(from)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(|(t,)| t).collect())
    }
}
