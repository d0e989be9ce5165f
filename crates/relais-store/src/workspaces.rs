//! Workspaces (one per brand or client) and their members.

use crate::{Store, StoreResult, flag, found};
use relais_domain::ids::{UserId, WorkspaceId};
use serde::Serialize;

/// A workspace as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct WorkspaceRecord {
    /// Identifier.
    pub id: i64,
    /// Name shown to people.
    pub name: String,
    /// Default IANA time zone of the workspace's schedule.
    pub timezone: String,
    /// Whether the whole schedule is paused (a crisis).
    pub paused: bool,
    /// How late (seconds) a post may still be published after downtime; later, it is missed.
    pub late_publish_secs: i64,
    /// Whether a private calendar feed is enabled.
    pub calendar_feed: bool,
    /// Creation time (UTC ms).
    pub created_at: i64,
    /// Last change (UTC ms).
    pub updated_at: i64,
}

#[derive(sqlx::FromRow)]
struct WorkspaceRow {
    id: i64,
    name: String,
    timezone: String,
    paused: i64,
    ical_token_hash: Option<String>,
    late_publish_secs: i64,
    created_at: i64,
    updated_at: i64,
}

#[derive(sqlx::FromRow)]
struct MembershipRow {
    #[sqlx(flatten)]
    workspace: WorkspaceRow,
    role: String,
}

impl From<WorkspaceRow> for WorkspaceRecord {
    fn from(r: WorkspaceRow) -> Self {
        WorkspaceRecord {
            id: r.id,
            name: r.name,
            timezone: r.timezone,
            paused: flag(r.paused),
            calendar_feed: r.ical_token_hash.is_some(),
            late_publish_secs: r.late_publish_secs,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

/// A member of a workspace.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct MemberRecord {
    /// The member's user id.
    pub user_id: i64,
    /// The member's e-mail.
    pub email: String,
    /// The member's name.
    pub name: String,
    /// The member's role (see relais_domain::permissions).
    pub role: String,
}

const WS_COLUMNS: &str = "id, name, timezone, paused, ical_token_hash, late_publish_secs, created_at, updated_at";

impl Store {
    /// Creates a workspace and makes `owner` its owner, in one transaction.
    pub async fn create_workspace(
        &self,
        name: &str,
        timezone: &str,
        owner: UserId,
        now: i64,
    ) -> StoreResult<WorkspaceRecord> {
        let mut tx = self.pool.begin().await?;
        let id = Self::raise_id_mark(&mut tx, self.backend, crate::listen::IdMark::Workspaces).await?;
        let (id_column, id_value) = if id.is_some() { (", id", ", $4") } else { ("", "") };
        let sql = format!(
            "INSERT INTO workspaces (name, timezone, created_at, updated_at{id_column}) VALUES ($1, $2, $3, $3{id_value}) \
             RETURNING {WS_COLUMNS}"
        );
        let insert = sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(name).bind(timezone).bind(now);
        let row: WorkspaceRow = match id {
            Some(id) => insert.bind(id),
            None => insert,
        }
        .fetch_one(&mut *tx)
        .await?;
        sqlx::query("INSERT INTO memberships (workspace_id, user_id, role, created_at) VALUES ($1, $2, 'owner', $3)")
            .bind(row.id)
            .bind(owner.0)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(row.into())
    }

    /// A workspace by id.
    pub async fn workspace(&self, id: WorkspaceId) -> StoreResult<WorkspaceRecord> {
        let sql = format!("SELECT {WS_COLUMNS} FROM workspaces WHERE id = $1");
        let row: WorkspaceRow = sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(id.0).fetch_one(&self.pool).await?;
        Ok(row.into())
    }

    /// The workspaces a user belongs to, with their role in each.
    pub async fn workspaces_of(&self, user: UserId) -> StoreResult<Vec<(WorkspaceRecord, String)>> {
        let rows: Vec<MembershipRow> = sqlx::query_as(
            "SELECT w.id, w.name, w.timezone, w.paused, w.ical_token_hash, w.late_publish_secs, w.created_at, w.updated_at, m.role \
             FROM memberships m JOIN workspaces w ON w.id = m.workspace_id WHERE m.user_id = $1 ORDER BY w.id",
        )
        .bind(user.0)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(|r| (r.workspace.into(), r.role)).collect())
    }

    /// Renames a workspace and/or changes its time zone.
    pub async fn update_workspace(
        &self,
        id: WorkspaceId,
        name: &str,
        timezone: &str,
        late_publish_secs: i64,
        now: i64,
    ) -> StoreResult<WorkspaceRecord> {
        let sql = format!(
            "UPDATE workspaces SET name = $1, timezone = $2, late_publish_secs = $5, updated_at = $3 WHERE id = $4 RETURNING {WS_COLUMNS}"
        );
        let row: WorkspaceRow = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(name)
            .bind(timezone)
            .bind(now)
            .bind(id.0)
            .bind(late_publish_secs)
            .fetch_one(&self.pool)
            .await?;
        Ok(row.into())
    }

    /// Pauses or resumes a workspace's whole schedule.
    pub async fn set_paused(&self, id: WorkspaceId, paused: bool, now: i64) -> StoreResult<()> {
        found(
            sqlx::query("UPDATE workspaces SET paused = $1, updated_at = $2 WHERE id = $3")
                .bind(i64::from(paused))
                .bind(now)
                .bind(id.0)
                .execute(&self.pool)
                .await?,
        )
    }

    /// Sets (or clears) the hash of the workspace's calendar-feed token.
    pub async fn set_ical_token_hash(&self, id: WorkspaceId, hash: Option<&str>, now: i64) -> StoreResult<()> {
        found(
            sqlx::query("UPDATE workspaces SET ical_token_hash = $1, updated_at = $2 WHERE id = $3")
                .bind(hash)
                .bind(now)
                .bind(id.0)
                .execute(&self.pool)
                .await?,
        )
    }

    /// The workspace whose calendar-feed token has this hash.
    pub async fn workspace_by_ical_hash(&self, hash: &str) -> StoreResult<Option<WorkspaceRecord>> {
        let sql = format!("SELECT {WS_COLUMNS} FROM workspaces WHERE ical_token_hash = $1");
        let row: Option<WorkspaceRow> =
            sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(hash).fetch_optional(&self.pool).await?;
        Ok(row.map(Into::into))
    }

    /// Deletes a workspace and everything in it. Its mentions are logged as erased at `now`, so
    /// that the search index drops them too.
    pub async fn delete_workspace(&self, id: WorkspaceId, now: i64) -> StoreResult<()> {
        let mut tx = self.pool.begin().await?;
        Self::reserve_ids(&mut tx, self.backend, crate::listen::IdMark::MentionErasures, 0).await?;
        if self.backend == crate::Backend::Postgres {
            // Waits for the listening writes that hold the workspace (`FOR KEY SHARE`), so that
            // their mentions are counted and logged below; later ones find it gone. (On SQLite the
            // mark above already took the one write lock.)
            sqlx::query("SELECT id FROM workspaces WHERE id = $1 FOR UPDATE").bind(id.0).execute(&mut *tx).await?;
        }
        let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM mentions WHERE workspace_id = $1")
            .bind(id.0)
            .fetch_one(&mut *tx)
            .await?;
        let first = Self::reserve_ids(
            &mut tx,
            self.backend,
            crate::listen::IdMark::MentionErasures,
            usize::try_from(n).unwrap_or(0),
        )
        .await?;
        sqlx::query(
            "INSERT INTO mention_erasures (id, mention_id, erased_at) \
             SELECT $2 - 1 + ROW_NUMBER() OVER (ORDER BY id), id, $3 FROM mentions WHERE workspace_id = $1",
        )
        .bind(id.0)
        .bind(first)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        found(sqlx::query("DELETE FROM workspaces WHERE id = $1").bind(id.0).execute(&mut *tx).await?)?;
        tx.commit().await?;
        Ok(())
    }

    /// A user's role in a workspace, or None when they are not a member.
    pub async fn role_of(&self, workspace: WorkspaceId, user: UserId) -> StoreResult<Option<String>> {
        let row: Option<(String,)> =
            sqlx::query_as("SELECT role FROM memberships WHERE workspace_id = $1 AND user_id = $2")
                .bind(workspace.0)
                .bind(user.0)
                .fetch_optional(&self.pool)
                .await?;
        Ok(row.map(|(r,)| r))
    }

    /// The members of a workspace.
    pub async fn members(&self, workspace: WorkspaceId) -> StoreResult<Vec<MemberRecord>> {
        Ok(sqlx::query_as(
            "SELECT u.id AS user_id, u.email, u.name, m.role FROM memberships m JOIN users u ON u.id = m.user_id WHERE m.workspace_id = $1 ORDER BY u.id",
        )
        .bind(workspace.0)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Adds a member or changes their role.
    pub async fn upsert_member(&self, workspace: WorkspaceId, user: UserId, role: &str, now: i64) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO memberships (workspace_id, user_id, role, created_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (workspace_id, user_id) DO UPDATE SET role = excluded.role",
        )
        .bind(workspace.0)
        .bind(user.0)
        .bind(role)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Removes a member.
    pub async fn remove_member(&self, workspace: WorkspaceId, user: UserId) -> StoreResult<()> {
        found(
            sqlx::query("DELETE FROM memberships WHERE workspace_id = $1 AND user_id = $2")
                .bind(workspace.0)
                .bind(user.0)
                .execute(&self.pool)
                .await?,
        )
    }

    /// How many owners a workspace has (the last one cannot leave or be demoted).
    pub async fn owner_count(&self, workspace: WorkspaceId) -> StoreResult<i64> {
        let (n,): (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM memberships WHERE workspace_id = $1 AND role = 'owner'")
                .bind(workspace.0)
                .fetch_one(&self.pool)
                .await?;
        Ok(n)
    }
}
