//! The audit log: who changed what, when, from where.

use crate::{Store, StoreResult};
use relais_domain::ids::{UserId, WorkspaceId};
use serde::Serialize;

/// One audited change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct AuditRecord {
    /// Identifier (increasing).
    pub id: i64,
    /// The workspace concerned, if any.
    pub workspace_id: Option<i64>,
    /// Who made the change (None for the system or a deleted user).
    pub actor_id: Option<i64>,
    /// What was done, e.g. `post.create`.
    pub action: String,
    /// What it was done to, e.g. `post:42`.
    pub target: String,
    /// JSON details (never secrets).
    pub detail: String,
    /// Client address, if the change came over the network.
    pub ip: Option<String>,
    /// When (UTC ms).
    pub at: i64,
}

/// A change to record.
#[derive(Debug, Clone)]
pub struct AuditEntry<'a> {
    /// The workspace concerned, if any.
    pub workspace: Option<WorkspaceId>,
    /// Who made the change.
    pub actor: Option<UserId>,
    /// What was done.
    pub action: &'a str,
    /// What it was done to.
    pub target: String,
    /// JSON details.
    pub detail: serde_json::Value,
    /// Client address.
    pub ip: Option<&'a str>,
    /// When (UTC ms).
    pub at: i64,
}

impl Store {
    /// Appends an entry to the audit log.
    pub async fn audit(&self, entry: AuditEntry<'_>) -> StoreResult<()> {
        sqlx::query("INSERT INTO audit_log (workspace_id, actor_id, action, target, detail, ip, at) VALUES ($1, $2, $3, $4, $5, $6, $7)")
            .bind(entry.workspace.map(|w| w.0))
            .bind(entry.actor.map(|a| a.0))
            .bind(entry.action)
            .bind(entry.target)
            .bind(entry.detail.to_string())
            .bind(entry.ip)
            .bind(entry.at)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// The newest entries of a workspace's log, newest first.
    pub async fn audit_log(&self, workspace: WorkspaceId, limit: i64) -> StoreResult<Vec<AuditRecord>> {
        Ok(sqlx::query_as(
            "SELECT id, workspace_id, actor_id, action, target, detail, ip, at FROM audit_log WHERE workspace_id = $1 ORDER BY id DESC LIMIT $2",
        )
        .bind(workspace.0)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?)
    }
}
