//! Channels (one account on one network) and their weekly queue slots.

use crate::{Store, StoreError, StoreResult, found};
use relais_domain::ids::{ChannelId, WorkspaceId};
use serde::Serialize;

/// A channel as stored. The credentials are ciphertext and are never serialised.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct ChannelRecord {
    /// Identifier.
    pub id: i64,
    /// Owning workspace.
    pub workspace_id: i64,
    /// Network identifier (see relais_domain::Network).
    pub network: String,
    /// Account handle on the network.
    pub handle: String,
    /// Name shown to people.
    pub display_name: String,
    /// Server base URL (Mastodon, self-hosted PDS…).
    pub instance_url: Option<String>,
    /// Encrypted credentials (AEAD ciphertext); never leaves the service layer.
    #[serde(skip)]
    pub credentials: Option<Vec<u8>>,
    /// Limits read from the network (JSON), e.g. a Mastodon instance's configuration.
    pub limits: Option<String>,
    /// Creation time (UTC ms).
    pub created_at: i64,
    /// Whether the credentials stopped working: its posts wait until it is reconnected.
    #[serde(serialize_with = "crate::as_bool")]
    #[schema(value_type = bool)]
    pub needs_reconnection: i64,
}

/// What is needed to create a channel.
#[derive(Debug, Clone)]
pub struct NewChannel<'a> {
    /// Owning workspace.
    pub workspace: WorkspaceId,
    /// Network identifier.
    pub network: &'a str,
    /// Account handle.
    pub handle: &'a str,
    /// Display name.
    pub display_name: &'a str,
    /// Server base URL.
    pub instance_url: Option<&'a str>,
    /// Encrypted credentials.
    pub credentials: Option<Vec<u8>>,
    /// Limits JSON.
    pub limits: Option<String>,
    /// Creation time.
    pub now: i64,
}

pub(crate) const CH_COLUMNS: &str = "id, workspace_id, network, handle, display_name, instance_url, credentials, limits, created_at, needs_reconnection";

impl Store {
    /// Creates a channel; the same handle twice on one network in one workspace is a conflict.
    pub async fn create_channel(&self, c: NewChannel<'_>) -> StoreResult<ChannelRecord> {
        let sql = format!(
            "INSERT INTO channels (workspace_id, network, handle, display_name, instance_url, credentials, limits, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING {CH_COLUMNS}"
        );
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(c.workspace.0)
            .bind(c.network)
            .bind(c.handle)
            .bind(c.display_name)
            .bind(c.instance_url)
            .bind(c.credentials)
            .bind(c.limits)
            .bind(c.now)
            .fetch_one(&self.pool)
            .await?)
    }

    /// A channel of a workspace (a channel of another workspace is not found).
    pub async fn channel(&self, workspace: WorkspaceId, id: ChannelId) -> StoreResult<ChannelRecord> {
        let sql = format!("SELECT {CH_COLUMNS} FROM channels WHERE id = $1 AND workspace_id = $2");
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(id.0).bind(workspace.0).fetch_one(&self.pool).await?)
    }

    /// The channels of a workspace.
    pub async fn channels(&self, workspace: WorkspaceId) -> StoreResult<Vec<ChannelRecord>> {
        let sql = format!("SELECT {CH_COLUMNS} FROM channels WHERE workspace_id = $1 ORDER BY id");
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(workspace.0).fetch_all(&self.pool).await?)
    }

    /// Deletes a channel of a workspace.
    pub async fn delete_channel(&self, workspace: WorkspaceId, id: ChannelId) -> StoreResult<()> {
        found(
            sqlx::query("DELETE FROM channels WHERE id = $1 AND workspace_id = $2")
                .bind(id.0)
                .bind(workspace.0)
                .execute(&self.pool)
                .await?,
        )
    }

    /// Replaces a channel's encrypted credentials (e.g. a refreshed session).
    pub async fn set_channel_credentials(&self, id: ChannelId, sealed: &[u8]) -> StoreResult<()> {
        found(
            sqlx::query("UPDATE channels SET credentials = $1 WHERE id = $2")
                .bind(sealed)
                .bind(id.0)
                .execute(&self.pool)
                .await?,
        )
    }

    /// Stores the limits read from a channel's network (JSON).
    pub async fn set_channel_limits(&self, workspace: WorkspaceId, id: ChannelId, limits: &str) -> StoreResult<()> {
        found(
            sqlx::query("UPDATE channels SET limits = $1 WHERE id = $2 AND workspace_id = $3")
                .bind(limits)
                .bind(id.0)
                .bind(workspace.0)
                .execute(&self.pool)
                .await?,
        )
    }

    /// Replaces a channel's weekly slots: (weekday 1 = Monday … 7 = Sunday, minute of the day).
    pub async fn set_queue_slots(
        &self,
        workspace: WorkspaceId,
        id: ChannelId,
        slots: &[(i64, i64)],
    ) -> StoreResult<()> {
        let mut tx = self.pool.begin().await?;
        let found: Option<(i64,)> = sqlx::query_as("SELECT id FROM channels WHERE id = $1 AND workspace_id = $2")
            .bind(id.0)
            .bind(workspace.0)
            .fetch_optional(&mut *tx)
            .await?;
        if found.is_none() {
            return Err(StoreError::NotFound);
        }
        sqlx::query("DELETE FROM queue_slots WHERE channel_id = $1").bind(id.0).execute(&mut *tx).await?;
        for (weekday, minute) in slots {
            sqlx::query(
                "INSERT INTO queue_slots (channel_id, weekday, minute) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
            )
            .bind(id.0)
            .bind(weekday)
            .bind(minute)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// A channel's weekly slots, ordered.
    pub async fn queue_slots(&self, workspace: WorkspaceId, id: ChannelId) -> StoreResult<Vec<(i64, i64)>> {
        Ok(sqlx::query_as(
            "SELECT s.weekday, s.minute FROM queue_slots s JOIN channels c ON c.id = s.channel_id \
             WHERE s.channel_id = $1 AND c.workspace_id = $2 ORDER BY s.weekday, s.minute",
        )
        .bind(id.0)
        .bind(workspace.0)
        .fetch_all(&self.pool)
        .await?)
    }
}
