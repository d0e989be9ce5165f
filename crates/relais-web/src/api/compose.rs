//! Checking a text against networks' rules without saving anything (the same functions the
//! composer and `relais post check` use).

use crate::WebState;
use crate::api::{ApiJson, ApiResult, Auth, Lang};
use axum::Json;
use relais_app::AppError;
use relais_domain::Network;
use relais_domain::compose::{Context, Draft, MastodonInstance, MediaInfo, Report, check_all};
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<WebState> {
    OpenApiRouter::new().routes(routes!(check))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct CheckRequest {
    networks: Vec<Network>,
    text: String,
    #[serde(default)]
    #[schema(value_type = Vec<Object>)]
    media: Vec<MediaInfo>,
    link: Option<String>,
    title: Option<String>,
    board: Option<String>,
    #[serde(default)]
    thread: Vec<String>,
    first_comment: Option<String>,
    /// A content warning (Mastodon counts it in every part's length).
    content_warning: Option<String>,
    /// A Mastodon instance's limits (`/api/v2/instance` document) to check against.
    #[schema(value_type = Option<Object>)]
    mastodon_instance: Option<serde_json::Value>,
}

/// Validates a text for several networks: counted length, limit and every problem per network.
#[utoipa::path(post, path = "/check", tag = "posts", request_body = CheckRequest, responses((status = 200, body = Vec<Object>)))]
async fn check(lang: Lang, Auth(_actor): Auth, ApiJson(req): ApiJson<CheckRequest>) -> ApiResult<Json<Vec<Report>>> {
    if req.networks.is_empty() || req.text.len() > 200_000 {
        return Err(lang.problem(AppError::invalid(
            "check_invalid",
            relais_domain::Msg::new(
                "give at least one network and at most 200 kB of text",
                "indiquez au moins un réseau et au plus 200 ko de texte",
            ),
        )));
    }
    let draft = Draft {
        text: &req.text,
        media: &req.media,
        link: req.link.as_deref(),
        title: req.title.as_deref(),
        board: req.board.as_deref(),
        thread: &req.thread,
        first_comment: req.first_comment.as_deref(),
        content_warning: req.content_warning.as_deref(),
    };
    let ctx = Context {
        mastodon: req.mastodon_instance.as_ref().map(MastodonInstance::from_instance_json).unwrap_or_default(),
    };
    Ok(Json(check_all(&req.networks, &draft, &ctx)))
}
