//! Media uploads: the raw body is streamed to disk with a size cap and hashed on the way; the
//! service then reads the type and dimensions from the file itself.

use crate::WebState;
use crate::api::{ApiPath, ApiQuery, ApiResult, Auth, Lang};
use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::StatusCode;
use futures_util::StreamExt;
use relais_app::AppError;
use relais_app::media::MAX_MEDIA_BYTES;
use relais_domain::Msg;
use relais_domain::ids::{MediaId, WorkspaceId};
use relais_store::media::MediaRecord;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<WebState> {
    OpenApiRouter::new().routes(routes!(upload)).routes(routes!(get_media))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
struct UploadQuery {
    /// The file's name, for display.
    name: Option<String>,
}

/// Uploads an image or video as the raw request body (at most 300 MB). Its type, size and
/// dimensions are read from the content, whatever the client claims.
#[utoipa::path(post, path = "/workspaces/{ws}/media", tag = "media", params(("ws" = i64, Path), UploadQuery),
    request_body(content = Vec<u8>, content_type = "application/octet-stream"), responses((status = 201, body = MediaRecord), (status = 413), (status = 422)))]
async fn upload(
    State(s): State<WebState>,
    lang: Lang,
    Auth(actor): Auth,
    ApiPath(ws): ApiPath<i64>,
    ApiQuery(q): ApiQuery<UploadQuery>,
    body: Body,
) -> ApiResult<(StatusCode, Json<MediaRecord>)> {
    // Membership first, so a stranger cannot make us write anything to disk.
    s.app.workspace(&actor, WorkspaceId(ws)).await.map_err(|e| lang.problem(e))?;
    let dir = s.app.upload_dir();
    tokio::fs::create_dir_all(&dir).await.map_err(|e| lang.problem(AppError::internal(e)))?;
    let temp = dir.join(relais_app::crypto::new_token("up_"));
    let written = receive(body, &temp).await;
    let (bytes, sha) = match written {
        Ok(v) => v,
        Err(problem) => {
            let _ = tokio::fs::remove_file(&temp).await;
            return Err(lang.problem(problem.0).with_status(problem.1));
        }
    };
    let name = q.name.unwrap_or_default();
    s.app
        .store_media(&actor, WorkspaceId(ws), &name, &temp, bytes, &sha)
        .await
        .map(|m| (StatusCode::CREATED, Json(m)))
        .map_err(|e| lang.problem(e))
}

async fn receive(body: Body, temp: &std::path::Path) -> Result<(u64, String), (AppError, StatusCode)> {
    let internal = |e: std::io::Error| (AppError::internal(e), StatusCode::INTERNAL_SERVER_ERROR);
    let mut file = tokio::fs::File::create(temp).await.map_err(internal)?;
    let mut hasher = Sha256::new();
    let mut total: u64 = 0;
    let mut stream = body.into_data_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| {
            (
                AppError::invalid(
                    "body_unreadable",
                    Msg::new(format!("upload interrupted: {e}"), format!("envoi interrompu : {e}")),
                ),
                StatusCode::BAD_REQUEST,
            )
        })?;
        total += chunk.len() as u64;
        if total > MAX_MEDIA_BYTES {
            let msg = Msg::new(
                format!("the file is larger than {} MB", MAX_MEDIA_BYTES / 1024 / 1024),
                format!("le fichier dépasse {} Mo", MAX_MEDIA_BYTES / 1024 / 1024),
            );
            return Err((AppError::invalid("media_too_large", msg), StatusCode::PAYLOAD_TOO_LARGE));
        }
        hasher.update(&chunk);
        file.write_all(&chunk).await.map_err(internal)?;
    }
    file.flush().await.map_err(internal)?;
    Ok((total, hex::encode(hasher.finalize())))
}

/// One media file's metadata.
#[utoipa::path(get, path = "/workspaces/{ws}/media/{id}", tag = "media", params(("ws" = i64, Path), ("id" = i64, Path)), responses((status = 200, body = MediaRecord)))]
async fn get_media(
    State(s): State<WebState>,
    lang: Lang,
    Auth(actor): Auth,
    ApiPath((ws, id)): ApiPath<(i64, i64)>,
) -> ApiResult<Json<MediaRecord>> {
    s.app.media(&actor, WorkspaceId(ws), MediaId(id)).await.map(Json).map_err(|e| lang.problem(e))
}
