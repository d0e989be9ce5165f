//! Uploaded media files' metadata (the bytes live on disk, under the data directory).

use crate::{Store, StoreResult};
use relais_domain::ids::{MediaId, WorkspaceId};
use serde::Serialize;

/// A stored media file. Type, size and dimensions were read from the file itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct MediaRecord {
    /// Identifier.
    pub id: i64,
    /// Owning workspace.
    pub workspace_id: i64,
    /// The name the uploader gave (display only, never used as a path).
    pub file_name: String,
    /// Path relative to the media directory.
    #[serde(skip)]
    pub stored_path: String,
    /// MIME type detected from the content.
    pub mime: String,
    /// image, gif or video.
    pub kind: String,
    /// Size in bytes.
    pub bytes: i64,
    /// Width in pixels, when known.
    pub width: Option<i64>,
    /// Height in pixels, when known.
    pub height: Option<i64>,
    /// SHA-256 of the content, hex.
    pub sha256: String,
    /// Upload time (UTC ms).
    pub created_at: i64,
}

const MEDIA_COLUMNS: &str =
    "id, workspace_id, file_name, stored_path, mime, kind, bytes, width, height, sha256, created_at";

impl Store {
    /// Records an uploaded file.
    pub async fn create_media(&self, m: &MediaRecord) -> StoreResult<MediaRecord> {
        let sql = format!(
            "INSERT INTO media (workspace_id, file_name, stored_path, mime, kind, bytes, width, height, sha256, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING {MEDIA_COLUMNS}"
        );
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(m.workspace_id)
            .bind(&m.file_name)
            .bind(&m.stored_path)
            .bind(&m.mime)
            .bind(&m.kind)
            .bind(m.bytes)
            .bind(m.width)
            .bind(m.height)
            .bind(&m.sha256)
            .bind(m.created_at)
            .fetch_one(&self.pool)
            .await?)
    }

    /// A media file of a workspace.
    pub async fn media(&self, workspace: WorkspaceId, id: MediaId) -> StoreResult<MediaRecord> {
        let sql = format!("SELECT {MEDIA_COLUMNS} FROM media WHERE id = $1 AND workspace_id = $2");
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(id.0).bind(workspace.0).fetch_one(&self.pool).await?)
    }
}
