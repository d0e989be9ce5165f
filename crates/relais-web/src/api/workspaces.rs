//! Workspaces, members, pause/resume, calendar feed token, audit log.

use crate::WebState;
use crate::api::{ApiJson, ApiPath, ApiQuery, ApiResult, Auth, Lang};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use relais_app::notifications::WebhookKind;
use relais_domain::ids::{UserId, WorkspaceId};
use relais_domain::permissions::Role;
use relais_store::audit::AuditRecord;
use relais_store::notifications::{NotificationRecord, WebhookRecord};
use relais_store::workspaces::{MemberRecord, WorkspaceRecord};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<WebState> {
    OpenApiRouter::new()
        .routes(routes!(list_workspaces, create_workspace))
        .routes(routes!(get_workspace, update_workspace, delete_workspace))
        .routes(routes!(pause))
        .routes(routes!(resume))
        .routes(routes!(list_members, set_member))
        .routes(routes!(remove_member))
        .routes(routes!(rotate_calendar, disable_calendar))
        .routes(routes!(audit_log))
        .routes(routes!(list_webhooks, create_webhook))
        .routes(routes!(delete_webhook))
        .routes(routes!(list_notifications))
}

#[derive(Serialize, ToSchema)]
struct WorkspaceWithRole {
    #[serde(flatten)]
    workspace: WorkspaceRecord,
    role: String,
}

/// The workspaces the member belongs to, with their role in each.
#[utoipa::path(get, path = "/workspaces", tag = "workspaces", responses((status = 200, body = Vec<WorkspaceWithRole>)))]
async fn list_workspaces(
    State(s): State<WebState>,
    lang: Lang,
    Auth(actor): Auth,
) -> ApiResult<Json<Vec<WorkspaceWithRole>>> {
    let list = s.app.my_workspaces(&actor).await.map_err(|e| lang.problem(e))?;
    Ok(Json(list.into_iter().map(|(workspace, role)| WorkspaceWithRole { workspace, role }).collect()))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct NewWorkspace {
    name: String,
    /// IANA time zone, e.g. Europe/Paris.
    #[serde(default = "default_tz")]
    timezone: String,
}

fn default_tz() -> String {
    "Europe/Paris".into()
}

/// Creates a workspace owned by the member.
#[utoipa::path(post, path = "/workspaces", tag = "workspaces", request_body = NewWorkspace, responses((status = 201, body = WorkspaceRecord), (status = 422)))]
async fn create_workspace(
    State(s): State<WebState>,
    lang: Lang,
    Auth(actor): Auth,
    ApiJson(req): ApiJson<NewWorkspace>,
) -> ApiResult<(StatusCode, Json<WorkspaceRecord>)> {
    s.app
        .create_workspace(&actor, &req.name, &req.timezone)
        .await
        .map(|w| (StatusCode::CREATED, Json(w)))
        .map_err(|e| lang.problem(e))
}

/// One workspace.
#[utoipa::path(get, path = "/workspaces/{ws}", tag = "workspaces", params(("ws" = i64, Path)), responses((status = 200, body = WorkspaceRecord), (status = 404)))]
async fn get_workspace(
    State(s): State<WebState>,
    lang: Lang,
    Auth(actor): Auth,
    ApiPath(ws): ApiPath<i64>,
) -> ApiResult<Json<WorkspaceRecord>> {
    s.app.workspace(&actor, WorkspaceId(ws)).await.map(Json).map_err(|e| lang.problem(e))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct WorkspaceChanges {
    name: Option<String>,
    timezone: Option<String>,
    /// Late policy: a post more than this many seconds late (after downtime) is missed instead
    /// of published (default 3,600).
    late_publish_secs: Option<i64>,
}

/// Renames a workspace or changes its default time zone.
#[utoipa::path(patch, path = "/workspaces/{ws}", tag = "workspaces", params(("ws" = i64, Path)), request_body = WorkspaceChanges, responses((status = 200, body = WorkspaceRecord)))]
async fn update_workspace(
    State(s): State<WebState>,
    lang: Lang,
    Auth(actor): Auth,
    ApiPath(ws): ApiPath<i64>,
    ApiJson(req): ApiJson<WorkspaceChanges>,
) -> ApiResult<Json<WorkspaceRecord>> {
    s.app
        .update_workspace(&actor, WorkspaceId(ws), req.name.as_deref(), req.timezone.as_deref(), req.late_publish_secs)
        .await
        .map(Json)
        .map_err(|e| lang.problem(e))
}

/// Deletes a workspace and everything in it (owner only).
#[utoipa::path(delete, path = "/workspaces/{ws}", tag = "workspaces", params(("ws" = i64, Path)), responses((status = 204)))]
async fn delete_workspace(
    State(s): State<WebState>,
    lang: Lang,
    Auth(actor): Auth,
    ApiPath(ws): ApiPath<i64>,
) -> ApiResult<StatusCode> {
    s.app.delete_workspace(&actor, WorkspaceId(ws)).await.map(|()| StatusCode::NO_CONTENT).map_err(|e| lang.problem(e))
}

/// Pauses the workspace's whole schedule (in a crisis): nothing is published until resumed.
#[utoipa::path(post, path = "/workspaces/{ws}/pause", tag = "workspaces", params(("ws" = i64, Path)), responses((status = 200, body = WorkspaceRecord)))]
async fn pause(
    State(s): State<WebState>,
    lang: Lang,
    Auth(actor): Auth,
    ApiPath(ws): ApiPath<i64>,
) -> ApiResult<Json<WorkspaceRecord>> {
    s.app.set_paused(&actor, WorkspaceId(ws), true).await.map(Json).map_err(|e| lang.problem(e))
}

/// Resumes the workspace's schedule.
#[utoipa::path(post, path = "/workspaces/{ws}/resume", tag = "workspaces", params(("ws" = i64, Path)), responses((status = 200, body = WorkspaceRecord)))]
async fn resume(
    State(s): State<WebState>,
    lang: Lang,
    Auth(actor): Auth,
    ApiPath(ws): ApiPath<i64>,
) -> ApiResult<Json<WorkspaceRecord>> {
    s.app.set_paused(&actor, WorkspaceId(ws), false).await.map(Json).map_err(|e| lang.problem(e))
}

/// The workspace's members.
#[utoipa::path(get, path = "/workspaces/{ws}/members", tag = "workspaces", params(("ws" = i64, Path)), responses((status = 200, body = Vec<MemberRecord>)))]
async fn list_members(
    State(s): State<WebState>,
    lang: Lang,
    Auth(actor): Auth,
    ApiPath(ws): ApiPath<i64>,
) -> ApiResult<Json<Vec<MemberRecord>>> {
    s.app.members(&actor, WorkspaceId(ws)).await.map(Json).map_err(|e| lang.problem(e))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct MemberRequest {
    /// E-mail of an existing account.
    email: String,
    role: Role,
}

/// Adds an account to the workspace or changes its role.
#[utoipa::path(post, path = "/workspaces/{ws}/members", tag = "workspaces", params(("ws" = i64, Path)), request_body = MemberRequest, responses((status = 200, body = MemberRecord)))]
async fn set_member(
    State(s): State<WebState>,
    lang: Lang,
    Auth(actor): Auth,
    ApiPath(ws): ApiPath<i64>,
    ApiJson(req): ApiJson<MemberRequest>,
) -> ApiResult<Json<MemberRecord>> {
    s.app.set_member(&actor, WorkspaceId(ws), &req.email, req.role).await.map(Json).map_err(|e| lang.problem(e))
}

/// Removes a member (never the last owner).
#[utoipa::path(delete, path = "/workspaces/{ws}/members/{user}", tag = "workspaces", params(("ws" = i64, Path), ("user" = i64, Path)), responses((status = 204)))]
async fn remove_member(
    State(s): State<WebState>,
    lang: Lang,
    Auth(actor): Auth,
    ApiPath((ws, user)): ApiPath<(i64, i64)>,
) -> ApiResult<StatusCode> {
    s.app
        .remove_member(&actor, WorkspaceId(ws), UserId(user))
        .await
        .map(|()| StatusCode::NO_CONTENT)
        .map_err(|e| lang.problem(e))
}

#[derive(Serialize, ToSchema)]
struct CalendarFeed {
    /// The secret token (shown once).
    token: String,
    /// The path to subscribe to, relative to the server's address.
    path: String,
}

/// Creates or replaces the private iCalendar feed's secret URL (the old one stops working).
#[utoipa::path(post, path = "/workspaces/{ws}/calendar-feed", tag = "workspaces", params(("ws" = i64, Path)), responses((status = 200, body = CalendarFeed)))]
async fn rotate_calendar(
    State(s): State<WebState>,
    lang: Lang,
    Auth(actor): Auth,
    ApiPath(ws): ApiPath<i64>,
) -> ApiResult<Json<CalendarFeed>> {
    let token = s.app.rotate_calendar_token(&actor, WorkspaceId(ws)).await.map_err(|e| lang.problem(e))?;
    Ok(Json(CalendarFeed { path: format!("/feeds/calendar/{token}.ics"), token }))
}

/// Turns the calendar feed off.
#[utoipa::path(delete, path = "/workspaces/{ws}/calendar-feed", tag = "workspaces", params(("ws" = i64, Path)), responses((status = 204)))]
async fn disable_calendar(
    State(s): State<WebState>,
    lang: Lang,
    Auth(actor): Auth,
    ApiPath(ws): ApiPath<i64>,
) -> ApiResult<StatusCode> {
    s.app.disable_calendar(&actor, WorkspaceId(ws)).await.map(|()| StatusCode::NO_CONTENT).map_err(|e| lang.problem(e))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct NewWebhook {
    /// The JSON shape to send.
    kind: WebhookKind,
    /// The webhook's URL (a secret: stored encrypted, never shown again).
    url: String,
}

/// The workspace's webhooks (notified when a post fails, is missed, expires, cannot be
/// confirmed, or a channel needs reconnection).
#[utoipa::path(get, path = "/workspaces/{ws}/webhooks", tag = "workspaces", params(("ws" = i64, Path)), responses((status = 200, body = Vec<WebhookRecord>)))]
async fn list_webhooks(
    State(s): State<WebState>,
    lang: Lang,
    Auth(actor): Auth,
    ApiPath(ws): ApiPath<i64>,
) -> ApiResult<Json<Vec<WebhookRecord>>> {
    s.app.webhooks(&actor, WorkspaceId(ws)).await.map(Json).map_err(|e| lang.problem(e))
}

/// Adds a webhook (Slack, Discord or Matrix hookshot).
#[utoipa::path(post, path = "/workspaces/{ws}/webhooks", tag = "workspaces", params(("ws" = i64, Path)), request_body = NewWebhook, responses((status = 201, body = WebhookRecord)))]
async fn create_webhook(
    State(s): State<WebState>,
    lang: Lang,
    Auth(actor): Auth,
    ApiPath(ws): ApiPath<i64>,
    ApiJson(req): ApiJson<NewWebhook>,
) -> ApiResult<(StatusCode, Json<WebhookRecord>)> {
    s.app
        .create_webhook(&actor, WorkspaceId(ws), req.kind, &req.url)
        .await
        .map(|w| (StatusCode::CREATED, Json(w)))
        .map_err(|e| lang.problem(e))
}

/// Removes a webhook.
#[utoipa::path(delete, path = "/workspaces/{ws}/webhooks/{id}", tag = "workspaces", params(("ws" = i64, Path), ("id" = i64, Path)), responses((status = 204)))]
async fn delete_webhook(
    State(s): State<WebState>,
    lang: Lang,
    Auth(actor): Auth,
    ApiPath((ws, id)): ApiPath<(i64, i64)>,
) -> ApiResult<StatusCode> {
    s.app
        .delete_webhook(&actor, WorkspaceId(ws), id)
        .await
        .map(|()| StatusCode::NO_CONTENT)
        .map_err(|e| lang.problem(e))
}

/// The workspace's newest notifications and whether they were delivered.
#[utoipa::path(get, path = "/workspaces/{ws}/notifications", tag = "workspaces", params(("ws" = i64, Path)), responses((status = 200, body = Vec<NotificationRecord>)))]
async fn list_notifications(
    State(s): State<WebState>,
    lang: Lang,
    Auth(actor): Auth,
    ApiPath(ws): ApiPath<i64>,
) -> ApiResult<Json<Vec<NotificationRecord>>> {
    s.app.notifications(&actor, WorkspaceId(ws)).await.map(Json).map_err(|e| lang.problem(e))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
struct AuditQuery {
    /// At most this many entries (default 100).
    limit: Option<i64>,
}

/// The newest entries of the workspace's audit log.
#[utoipa::path(get, path = "/workspaces/{ws}/audit", tag = "workspaces", params(("ws" = i64, Path), AuditQuery), responses((status = 200, body = Vec<AuditRecord>)))]
async fn audit_log(
    State(s): State<WebState>,
    lang: Lang,
    Auth(actor): Auth,
    ApiPath(ws): ApiPath<i64>,
    ApiQuery(q): ApiQuery<AuditQuery>,
) -> ApiResult<Json<Vec<AuditRecord>>> {
    s.app.audit_log(&actor, WorkspaceId(ws), q.limit.unwrap_or(100)).await.map(Json).map_err(|e| lang.problem(e))
}
