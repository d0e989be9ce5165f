//! Outgoing webhooks and the notification outbox.

use crate::{Store, StoreResult, found};
use relais_domain::ids::WorkspaceId;
use serde::Serialize;

/// A workspace's webhook. The URL is a secret (Slack and Discord URLs carry their key): only a
/// hint is shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct WebhookRecord {
    /// Identifier.
    pub id: i64,
    /// Owning workspace.
    pub workspace_id: i64,
    /// `slack`, `discord` or `matrix` (the JSON shape sent).
    pub kind: String,
    /// The encrypted URL; never serialised.
    #[serde(skip)]
    pub url_sealed: Vec<u8>,
    /// The URL's scheme and host, to recognise it.
    pub url_hint: String,
    /// Creation time (UTC ms).
    pub created_at: i64,
}

/// A notification waiting in the outbox.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct PendingNotification {
    /// Identifier.
    pub id: i64,
    /// The webhook to call.
    pub webhook_id: i64,
    /// The event name.
    pub event: String,
    /// The event's JSON.
    pub payload: String,
    /// Attempts so far.
    pub attempts: i64,
}

/// A notification as listed for people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct NotificationRecord {
    /// Identifier.
    pub id: i64,
    /// The webhook.
    pub webhook_id: i64,
    /// The event name.
    pub event: String,
    /// The event's JSON.
    pub payload: String,
    /// Attempts so far.
    pub attempts: i64,
    /// When it was delivered (UTC ms).
    pub delivered_at: Option<i64>,
    /// The last error.
    pub last_error: Option<String>,
    /// When it was raised (UTC ms).
    pub created_at: i64,
}

const HOOK_COLUMNS: &str = "id, workspace_id, kind, url_sealed, url_hint, created_at";

impl Store {
    /// Adds a webhook.
    pub async fn create_webhook(
        &self,
        ws: WorkspaceId,
        kind: &str,
        url_sealed: &[u8],
        url_hint: &str,
        now: i64,
    ) -> StoreResult<WebhookRecord> {
        let sql = format!(
            "INSERT INTO webhooks (workspace_id, kind, url_sealed, url_hint, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING {HOOK_COLUMNS}"
        );
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(ws.0)
            .bind(kind)
            .bind(url_sealed)
            .bind(url_hint)
            .bind(now)
            .fetch_one(&self.pool)
            .await?)
    }

    /// A workspace's webhooks.
    pub async fn webhooks(&self, ws: WorkspaceId) -> StoreResult<Vec<WebhookRecord>> {
        let sql = format!("SELECT {HOOK_COLUMNS} FROM webhooks WHERE workspace_id = $1 ORDER BY id");
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(ws.0).fetch_all(&self.pool).await?)
    }

    /// A webhook by id (for the notifier).
    pub async fn webhook(&self, id: i64) -> StoreResult<WebhookRecord> {
        let sql = format!("SELECT {HOOK_COLUMNS} FROM webhooks WHERE id = $1");
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(id).fetch_one(&self.pool).await?)
    }

    /// Removes a webhook of a workspace.
    pub async fn delete_webhook(&self, ws: WorkspaceId, id: i64) -> StoreResult<()> {
        found(
            sqlx::query("DELETE FROM webhooks WHERE id = $1 AND workspace_id = $2")
                .bind(id)
                .bind(ws.0)
                .execute(&self.pool)
                .await?,
        )
    }

    /// Queues one notification per webhook of the workspace. Returns how many were queued.
    pub async fn enqueue_notification(
        &self,
        ws: WorkspaceId,
        event: &str,
        payload: &str,
        now: i64,
    ) -> StoreResult<u64> {
        let done = sqlx::query(
            "INSERT INTO notifications (workspace_id, webhook_id, event, payload, next_attempt_at, created_at) \
             SELECT workspace_id, id, $1, $2, $3, $3 FROM webhooks WHERE workspace_id = $4",
        )
        .bind(event)
        .bind(payload)
        .bind(now)
        .bind(ws.0)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected())
    }

    /// Takes up to `limit` due notifications, pushing their next attempt to `lease_until` so
    /// that another notifier does not send them at the same time.
    pub async fn claim_notifications(
        &self,
        now: i64,
        lease_until: i64,
        limit: i64,
    ) -> StoreResult<Vec<PendingNotification>> {
        Ok(sqlx::query_as(
            "UPDATE notifications SET next_attempt_at = $1 WHERE id IN ( \
                 SELECT id FROM notifications WHERE delivered_at IS NULL AND next_attempt_at <= $2 AND attempts < $3 \
                 ORDER BY id LIMIT $4) \
             RETURNING id, webhook_id, event, payload, attempts",
        )
        .bind(lease_until)
        .bind(now)
        .bind(MAX_NOTIFICATION_ATTEMPTS)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Records the outcome of a delivery attempt.
    pub async fn notification_attempted(
        &self,
        id: i64,
        delivered_at: Option<i64>,
        next_attempt_at: i64,
        error: Option<&str>,
    ) -> StoreResult<()> {
        found(
            sqlx::query(
                "UPDATE notifications SET attempts = attempts + 1, delivered_at = $1, next_attempt_at = $2, last_error = $3 WHERE id = $4",
            )
            .bind(delivered_at)
            .bind(next_attempt_at)
            .bind(error)
            .bind(id)
            .execute(&self.pool)
            .await?,
        )
    }

    /// A workspace's newest notifications.
    pub async fn notifications(&self, ws: WorkspaceId, limit: i64) -> StoreResult<Vec<NotificationRecord>> {
        Ok(sqlx::query_as(
            "SELECT id, webhook_id, event, payload, attempts, delivered_at, last_error, created_at FROM notifications \
             WHERE workspace_id = $1 ORDER BY id DESC LIMIT $2",
        )
        .bind(ws.0)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?)
    }
}

/// Attempts before a notification is given up.
pub const MAX_NOTIFICATION_ATTEMPTS: i64 = 10;
