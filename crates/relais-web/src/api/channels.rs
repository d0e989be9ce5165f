//! Channels and their queue slots.

use crate::WebState;
use crate::api::{ApiJson, ApiPath, ApiResult, Auth, Lang};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use relais_app::channels::ChannelInput;
use relais_app::oauth::{MastodonAuthorization, MastodonAuthorizeInput, MastodonConnectInput};
use relais_domain::ids::{ChannelId, WorkspaceId};
use relais_domain::schedule::WeeklySlot;
use relais_store::channels::ChannelRecord;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<WebState> {
    OpenApiRouter::new()
        .routes(routes!(list_channels, create_channel))
        .routes(routes!(get_channel, delete_channel))
        .routes(routes!(get_slots, set_slots))
        .routes(routes!(refresh_limits))
        .routes(routes!(reconnect))
        .routes(routes!(mastodon_authorize))
        .routes(routes!(mastodon_connect))
}

/// Starts connecting a Mastodon account by OAuth: registers Relais on the server and returns
/// the server's authorization page (the person approves there and gets a code).
#[utoipa::path(post, path = "/workspaces/{ws}/connect/mastodon", tag = "channels", params(("ws" = i64, Path)), request_body = MastodonAuthorizeInput, responses((status = 200, body = MastodonAuthorization), (status = 422), (status = 502)))]
async fn mastodon_authorize(
    State(s): State<WebState>,
    lang: Lang,
    Auth(actor): Auth,
    ApiPath(ws): ApiPath<i64>,
    ApiJson(req): ApiJson<MastodonAuthorizeInput>,
) -> ApiResult<Json<MastodonAuthorization>> {
    s.app.mastodon_authorize(&actor, WorkspaceId(ws), req).await.map(Json).map_err(|e| lang.problem(e))
}

/// Finishes connecting a Mastodon account: exchanges the code for a token (encrypted at rest)
/// and creates the channel.
#[utoipa::path(post, path = "/workspaces/{ws}/connect/mastodon/code", tag = "channels", params(("ws" = i64, Path)), request_body = MastodonConnectInput, responses((status = 201, body = ChannelRecord), (status = 422), (status = 502)))]
async fn mastodon_connect(
    State(s): State<WebState>,
    lang: Lang,
    Auth(actor): Auth,
    ApiPath(ws): ApiPath<i64>,
    ApiJson(req): ApiJson<MastodonConnectInput>,
) -> ApiResult<(StatusCode, Json<ChannelRecord>)> {
    s.app
        .mastodon_connect(&actor, WorkspaceId(ws), req)
        .await
        .map(|c| (StatusCode::CREATED, Json(c)))
        .map_err(|e| lang.problem(e))
}

/// The workspace's channels (credentials are never returned).
#[utoipa::path(get, path = "/workspaces/{ws}/channels", tag = "channels", params(("ws" = i64, Path)), responses((status = 200, body = Vec<ChannelRecord>)))]
async fn list_channels(
    State(s): State<WebState>,
    lang: Lang,
    Auth(actor): Auth,
    ApiPath(ws): ApiPath<i64>,
) -> ApiResult<Json<Vec<ChannelRecord>>> {
    s.app.channels(&actor, WorkspaceId(ws)).await.map(Json).map_err(|e| lang.problem(e))
}

/// Connects a channel; its credentials are encrypted at rest.
#[utoipa::path(post, path = "/workspaces/{ws}/channels", tag = "channels", params(("ws" = i64, Path)), request_body = ChannelInput, responses((status = 201, body = ChannelRecord), (status = 422)))]
async fn create_channel(
    State(s): State<WebState>,
    lang: Lang,
    Auth(actor): Auth,
    ApiPath(ws): ApiPath<i64>,
    ApiJson(req): ApiJson<ChannelInput>,
) -> ApiResult<(StatusCode, Json<ChannelRecord>)> {
    s.app
        .create_channel(&actor, WorkspaceId(ws), req)
        .await
        .map(|c| (StatusCode::CREATED, Json(c)))
        .map_err(|e| lang.problem(e))
}

/// One channel.
#[utoipa::path(get, path = "/workspaces/{ws}/channels/{id}", tag = "channels", params(("ws" = i64, Path), ("id" = i64, Path)), responses((status = 200, body = ChannelRecord)))]
async fn get_channel(
    State(s): State<WebState>,
    lang: Lang,
    Auth(actor): Auth,
    ApiPath((ws, id)): ApiPath<(i64, i64)>,
) -> ApiResult<Json<ChannelRecord>> {
    s.app.channel(&actor, WorkspaceId(ws), ChannelId(id)).await.map(Json).map_err(|e| lang.problem(e))
}

/// Disconnects a channel.
#[utoipa::path(delete, path = "/workspaces/{ws}/channels/{id}", tag = "channels", params(("ws" = i64, Path), ("id" = i64, Path)), responses((status = 204)))]
async fn delete_channel(
    State(s): State<WebState>,
    lang: Lang,
    Auth(actor): Auth,
    ApiPath((ws, id)): ApiPath<(i64, i64)>,
) -> ApiResult<StatusCode> {
    s.app
        .delete_channel(&actor, WorkspaceId(ws), ChannelId(id))
        .await
        .map(|()| StatusCode::NO_CONTENT)
        .map_err(|e| lang.problem(e))
}

#[derive(serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct NewCredentials {
    /// The new credentials (app password, access token…), encrypted at rest, never returned.
    #[schema(value_type = Object)]
    credentials: serde_json::Map<String, serde_json::Value>,
}

/// Replaces a channel's credentials; a channel that needed reconnection publishes again.
#[utoipa::path(put, path = "/workspaces/{ws}/channels/{id}/credentials", tag = "channels", params(("ws" = i64, Path), ("id" = i64, Path)), request_body = NewCredentials, responses((status = 200, body = ChannelRecord)))]
async fn reconnect(
    State(s): State<WebState>,
    lang: Lang,
    Auth(actor): Auth,
    ApiPath((ws, id)): ApiPath<(i64, i64)>,
    ApiJson(req): ApiJson<NewCredentials>,
) -> ApiResult<Json<ChannelRecord>> {
    s.app
        .reconnect_channel(&actor, WorkspaceId(ws), ChannelId(id), req.credentials)
        .await
        .map(Json)
        .map_err(|e| lang.problem(e))
}

/// Reads a Mastodon channel's limits from its server again (`/api/v2/instance`).
#[utoipa::path(post, path = "/workspaces/{ws}/channels/{id}/limits", tag = "channels", params(("ws" = i64, Path), ("id" = i64, Path)), responses((status = 200, body = ChannelRecord), (status = 422)))]
async fn refresh_limits(
    State(s): State<WebState>,
    lang: Lang,
    Auth(actor): Auth,
    ApiPath((ws, id)): ApiPath<(i64, i64)>,
) -> ApiResult<Json<ChannelRecord>> {
    s.app.refresh_channel_limits(&actor, WorkspaceId(ws), ChannelId(id)).await.map(Json).map_err(|e| lang.problem(e))
}

/// The channel's weekly posting slots (local times in the workspace's time zone).
#[utoipa::path(get, path = "/workspaces/{ws}/channels/{id}/slots", tag = "channels", params(("ws" = i64, Path), ("id" = i64, Path)), responses((status = 200, body = Vec<Object>)))]
async fn get_slots(
    State(s): State<WebState>,
    lang: Lang,
    Auth(actor): Auth,
    ApiPath((ws, id)): ApiPath<(i64, i64)>,
) -> ApiResult<Json<Vec<WeeklySlot>>> {
    s.app.queue_slots(&actor, WorkspaceId(ws), ChannelId(id)).await.map(Json).map_err(|e| lang.problem(e))
}

/// Replaces the channel's weekly posting slots: `[{"weekday":"monday","time":"09:30"}, …]`.
#[utoipa::path(put, path = "/workspaces/{ws}/channels/{id}/slots", tag = "channels", params(("ws" = i64, Path), ("id" = i64, Path)), request_body = Vec<Object>, responses((status = 200, body = Vec<Object>)))]
async fn set_slots(
    State(s): State<WebState>,
    lang: Lang,
    Auth(actor): Auth,
    ApiPath((ws, id)): ApiPath<(i64, i64)>,
    ApiJson(slots): ApiJson<Vec<WeeklySlot>>,
) -> ApiResult<Json<Vec<WeeklySlot>>> {
    s.app.set_queue_slots(&actor, WorkspaceId(ws), ChannelId(id), &slots).await.map(Json).map_err(|e| lang.problem(e))
}
