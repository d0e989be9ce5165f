//! Posts: compose, schedule, review, delete; bulk CSV import.

use crate::WebState;
use crate::api::{ApiJson, ApiPath, ApiQuery, ApiResult, Auth, Lang};
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use relais_app::import::ImportReport;
use relais_app::posts::{PostInput, PostView, PublishLog};
use relais_domain::csv_import::DateOrder;
use relais_domain::ids::{PostId, WorkspaceId};
use relais_domain::post::Decision;
use relais_store::delivery::SandboxPost;
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<WebState> {
    OpenApiRouter::new()
        .routes(routes!(create_post))
        .routes(routes!(get_post, update_post, delete_post))
        .routes(routes!(review_post))
        .routes(routes!(publish_log))
        .routes(routes!(sandbox_timeline))
        .routes(routes!(import_csv))
}

/// Creates a post: a draft, a scheduled post, or (for a contributor) a post pending approval.
/// Every problem with every channel's rules is returned at once.
#[utoipa::path(post, path = "/workspaces/{ws}/posts", tag = "posts", params(("ws" = i64, Path)), request_body = PostInput,
    responses((status = 201, body = PostView), (status = 422, description = "Invalid post; `problems` lists every problem per channel")))]
async fn create_post(
    State(s): State<WebState>,
    lang: Lang,
    Auth(actor): Auth,
    ApiPath(ws): ApiPath<i64>,
    ApiJson(req): ApiJson<PostInput>,
) -> ApiResult<(StatusCode, Json<PostView>)> {
    s.app
        .create_post(&actor, WorkspaceId(ws), req)
        .await
        .map(|p| (StatusCode::CREATED, Json(p)))
        .map_err(|e| lang.problem(e))
}

/// One post.
#[utoipa::path(get, path = "/workspaces/{ws}/posts/{id}", tag = "posts", params(("ws" = i64, Path), ("id" = i64, Path)), responses((status = 200, body = PostView)))]
async fn get_post(
    State(s): State<WebState>,
    lang: Lang,
    Auth(actor): Auth,
    ApiPath((ws, id)): ApiPath<(i64, i64)>,
) -> ApiResult<Json<PostView>> {
    s.app.post(&actor, WorkspaceId(ws), PostId(id)).await.map(Json).map_err(|e| lang.problem(e))
}

/// Replaces a post's content and schedule.
#[utoipa::path(put, path = "/workspaces/{ws}/posts/{id}", tag = "posts", params(("ws" = i64, Path), ("id" = i64, Path)), request_body = PostInput, responses((status = 200, body = PostView)))]
async fn update_post(
    State(s): State<WebState>,
    lang: Lang,
    Auth(actor): Auth,
    ApiPath((ws, id)): ApiPath<(i64, i64)>,
    ApiJson(req): ApiJson<PostInput>,
) -> ApiResult<Json<PostView>> {
    s.app.update_post(&actor, WorkspaceId(ws), PostId(id), req).await.map(Json).map_err(|e| lang.problem(e))
}

/// Deletes a post.
#[utoipa::path(delete, path = "/workspaces/{ws}/posts/{id}", tag = "posts", params(("ws" = i64, Path), ("id" = i64, Path)), responses((status = 204)))]
async fn delete_post(
    State(s): State<WebState>,
    lang: Lang,
    Auth(actor): Auth,
    ApiPath((ws, id)): ApiPath<(i64, i64)>,
) -> ApiResult<StatusCode> {
    s.app
        .delete_post(&actor, WorkspaceId(ws), PostId(id))
        .await
        .map(|()| StatusCode::NO_CONTENT)
        .map_err(|e| lang.problem(e))
}

/// A post's deliveries (state per channel, remote id and address) and its publish log.
#[utoipa::path(get, path = "/workspaces/{ws}/posts/{id}/log", tag = "posts", params(("ws" = i64, Path), ("id" = i64, Path)), responses((status = 200, body = PublishLog)))]
async fn publish_log(
    State(s): State<WebState>,
    lang: Lang,
    Auth(actor): Auth,
    ApiPath((ws, id)): ApiPath<(i64, i64)>,
) -> ApiResult<Json<PublishLog>> {
    s.app.publish_log(&actor, WorkspaceId(ws), PostId(id)).await.map(Json).map_err(|e| lang.problem(e))
}

/// The timeline of a sandbox channel: what Relais published there, newest first.
#[utoipa::path(get, path = "/workspaces/{ws}/channels/{id}/sandbox", tag = "channels", params(("ws" = i64, Path), ("id" = i64, Path)), responses((status = 200, body = Vec<SandboxPost>)))]
async fn sandbox_timeline(
    State(s): State<WebState>,
    lang: Lang,
    Auth(actor): Auth,
    ApiPath((ws, id)): ApiPath<(i64, i64)>,
) -> ApiResult<Json<Vec<SandboxPost>>> {
    s.app
        .sandbox_timeline(&actor, WorkspaceId(ws), relais_domain::ids::ChannelId(id))
        .await
        .map(Json)
        .map_err(|e| lang.problem(e))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct ReviewRequest {
    decision: Decision,
    /// A note for the author (why it was rejected, what to change).
    note: Option<String>,
}

/// Approves or rejects a post pending approval (an editor or above; never one's own post).
#[utoipa::path(post, path = "/workspaces/{ws}/posts/{id}/review", tag = "posts", params(("ws" = i64, Path), ("id" = i64, Path)), request_body = ReviewRequest, responses((status = 200, body = PostView), (status = 409)))]
async fn review_post(
    State(s): State<WebState>,
    lang: Lang,
    Auth(actor): Auth,
    ApiPath((ws, id)): ApiPath<(i64, i64)>,
    ApiJson(req): ApiJson<ReviewRequest>,
) -> ApiResult<Json<PostView>> {
    s.app
        .review_post(&actor, WorkspaceId(ws), PostId(id), req.decision, req.note.as_deref())
        .await
        .map(Json)
        .map_err(|e| lang.problem(e))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
struct ImportQuery {
    /// Only report problems; write nothing.
    #[serde(default)]
    dry_run: bool,
    /// How to read dates like 03/04/2027 (`auto`: day first for `;` files, month first otherwise).
    #[serde(default)]
    date_order: DateOrder,
}

/// Imports posts from a CSV body (date, time_24hr, message_text, link, image URL, channel; up to
/// 1,000 rows; UTF-8 or Windows-1252, `,` or `;`). All rows or none.
#[utoipa::path(post, path = "/workspaces/{ws}/import", tag = "posts", params(("ws" = i64, Path), ImportQuery), request_body(content = String, content_type = "text/csv"),
    responses((status = 200, body = ImportReport), (status = 422, description = "Problems; nothing imported")))]
async fn import_csv(
    State(s): State<WebState>,
    lang: Lang,
    Auth(actor): Auth,
    ApiPath(ws): ApiPath<i64>,
    ApiQuery(q): ApiQuery<ImportQuery>,
    body: Bytes,
) -> ApiResult<Json<ImportReport>> {
    s.app
        .import_csv(&actor, WorkspaceId(ws), &body, q.date_order, q.dry_run)
        .await
        .map(Json)
        .map_err(|e| lang.problem(e))
}
