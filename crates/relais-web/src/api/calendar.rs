//! The calendar: posts between two dates across channels.

use crate::WebState;
use crate::api::{ApiPath, ApiQuery, ApiResult, Auth, Lang};
use axum::Json;
use axum::extract::State;
use relais_app::AppError;
use relais_app::posts::PostView;
use relais_domain::Msg;
use relais_domain::ids::{ChannelId, WorkspaceId};
use relais_domain::post::PostStatus;
use relais_store::posts::PostFilter;
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<WebState> {
    OpenApiRouter::new().routes(routes!(calendar))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
struct CalendarQuery {
    /// Start (RFC 3339 instant, e.g. 2027-03-01T00:00:00Z), inclusive.
    from: Option<String>,
    /// End (RFC 3339 instant), exclusive.
    to: Option<String>,
    /// Only posts going to this channel.
    channel: Option<i64>,
    /// Only posts with this status.
    status: Option<String>,
    /// Also list drafts without a date.
    #[serde(default)]
    drafts: bool,
    /// At most this many posts (default 500).
    limit: Option<i64>,
}

fn instant(field: &str, value: Option<&str>) -> Result<Option<i64>, AppError> {
    value
        .map(|v| {
            v.parse::<jiff::Timestamp>().map(|t| t.as_millisecond()).map_err(|_| {
                AppError::invalid(
                    "instant_invalid",
                    Msg::new(
                        format!("`{field}` must be an instant like 2027-03-01T00:00:00Z"),
                        format!("« {field} » doit être un instant comme 2027-03-01T00:00:00Z"),
                    ),
                )
            })
        })
        .transpose()
}

/// Posts between two instants, across channels, filterable by channel and status.
#[utoipa::path(get, path = "/workspaces/{ws}/calendar", tag = "posts", params(("ws" = i64, Path), CalendarQuery), responses((status = 200, body = Vec<PostView>)))]
async fn calendar(
    State(s): State<WebState>,
    lang: Lang,
    Auth(actor): Auth,
    ApiPath(ws): ApiPath<i64>,
    ApiQuery(q): ApiQuery<CalendarQuery>,
) -> ApiResult<Json<Vec<PostView>>> {
    let from = instant("from", q.from.as_deref()).map_err(|e| lang.problem(e))?;
    let to = instant("to", q.to.as_deref()).map_err(|e| lang.problem(e))?;
    if let Some(status) = &q.status {
        status.parse::<PostStatus>().map_err(|m| lang.problem(AppError::invalid("status_unknown", m)))?;
    }
    let filter = PostFilter {
        from,
        to,
        channel: q.channel.map(ChannelId),
        status: q.status,
        include_undated: q.drafts,
        limit: q.limit.unwrap_or(500),
    };
    s.app.calendar(&actor, WorkspaceId(ws), filter).await.map(Json).map_err(|e| lang.problem(e))
}
