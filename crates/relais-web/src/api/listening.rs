//! Listening: queries (create, validate, test, edit, delete), the ingest endpoint (JSON or
//! NDJSON), mentions (list, filter, CSV export, erasure), series, alerts and the pipeline's status.

use crate::WebState;
use crate::api::{ApiJson, ApiPath, ApiQuery, ApiResult, Auth, Lang};
use axum::Json;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::IntoResponse;
use relais_app::AppError;
use relais_app::listening::pipeline::{IngestReport, PipelineStats};
use relais_app::listening::search::{SearchInput, SearchPage};
use relais_app::listening::sources::SourceSpec;
use relais_app::listening::{EraseInput, EraseReport, QueryCheck, QueryInput, QueryTest, SamplePost};
use relais_domain::Msg;
use relais_domain::ids::WorkspaceId;
use relais_domain::listen::IncomingPost;
use relais_search::Filters;
use relais_store::listen::{
    ListenAlertRecord, ListenQueryRecord, ListenSourceRecord, MentionFilter, MentionRecord, SeriesPoint,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The largest ingest body (64 MiB: about 100,000 posts).
pub const INGEST_LIMIT: usize = 64 * 1024 * 1024;

pub fn routes() -> OpenApiRouter<WebState> {
    OpenApiRouter::new()
        .routes(routes!(list_queries, create_query))
        .routes(routes!(get_query, update_query, delete_query))
        .routes(routes!(validate_query))
        .routes(routes!(test_query))
        .routes(routes!(query_series))
        .routes(routes!(list_mentions))
        .routes(routes!(export_mentions))
        .routes(routes!(erase_mentions))
        .routes(routes!(list_alerts))
        .routes(routes!(status))
        .routes(routes!(list_sources, create_source))
        .routes(routes!(delete_source))
        .routes(routes!(search))
        .merge(OpenApiRouter::new().routes(routes!(ingest)).layer(DefaultBodyLimit::max(INGEST_LIMIT)))
}

/// The workspace's listening queries.
#[utoipa::path(get, path = "/workspaces/{ws}/listen/queries", tag = "listening", params(("ws" = i64, Path)), responses((status = 200, body = Vec<ListenQueryRecord>)))]
async fn list_queries(
    State(s): State<WebState>,
    lang: Lang,
    Auth(actor): Auth,
    ApiPath(ws): ApiPath<i64>,
) -> ApiResult<Json<Vec<ListenQueryRecord>>> {
    s.app.listen_queries(&actor, WorkspaceId(ws)).await.map(Json).map_err(|e| lang.problem(e))
}

/// Creates a listening query (refused with the position of the error when it does not parse).
#[utoipa::path(post, path = "/workspaces/{ws}/listen/queries", tag = "listening", params(("ws" = i64, Path)), request_body = QueryInput,
    responses((status = 201, body = ListenQueryRecord), (status = 422, description = "Invalid query, with its position")))]
async fn create_query(
    State(s): State<WebState>,
    lang: Lang,
    Auth(actor): Auth,
    ApiPath(ws): ApiPath<i64>,
    ApiJson(input): ApiJson<QueryInput>,
) -> ApiResult<(StatusCode, Json<ListenQueryRecord>)> {
    s.app
        .create_listen_query(&actor, WorkspaceId(ws), &input)
        .await
        .map(|q| (StatusCode::CREATED, Json(q)))
        .map_err(|e| lang.problem(e))
}

/// One listening query.
#[utoipa::path(get, path = "/workspaces/{ws}/listen/queries/{id}", tag = "listening", params(("ws" = i64, Path), ("id" = i64, Path)), responses((status = 200, body = ListenQueryRecord)))]
async fn get_query(
    State(s): State<WebState>,
    lang: Lang,
    Auth(actor): Auth,
    ApiPath((ws, id)): ApiPath<(i64, i64)>,
) -> ApiResult<Json<ListenQueryRecord>> {
    s.app.listen_query(&actor, WorkspaceId(ws), id).await.map(Json).map_err(|e| lang.problem(e))
}

/// Replaces a listening query (its stored mentions stay; new posts are matched with the new text).
#[utoipa::path(put, path = "/workspaces/{ws}/listen/queries/{id}", tag = "listening", params(("ws" = i64, Path), ("id" = i64, Path)), request_body = QueryInput, responses((status = 200, body = ListenQueryRecord)))]
async fn update_query(
    State(s): State<WebState>,
    lang: Lang,
    Auth(actor): Auth,
    ApiPath((ws, id)): ApiPath<(i64, i64)>,
    ApiJson(input): ApiJson<QueryInput>,
) -> ApiResult<Json<ListenQueryRecord>> {
    s.app.update_listen_query(&actor, WorkspaceId(ws), id, &input).await.map(Json).map_err(|e| lang.problem(e))
}

/// Deletes a listening query.
#[utoipa::path(delete, path = "/workspaces/{ws}/listen/queries/{id}", tag = "listening", params(("ws" = i64, Path), ("id" = i64, Path)), responses((status = 204)))]
async fn delete_query(
    State(s): State<WebState>,
    lang: Lang,
    Auth(actor): Auth,
    ApiPath((ws, id)): ApiPath<(i64, i64)>,
) -> ApiResult<StatusCode> {
    s.app
        .delete_listen_query(&actor, WorkspaceId(ws), id)
        .await
        .map(|()| StatusCode::NO_CONTENT)
        .map_err(|e| lang.problem(e))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct QueryText {
    /// The query to check.
    query: String,
}

/// Checks a query without storing it: its canonical form, or the error with its position.
#[utoipa::path(post, path = "/workspaces/{ws}/listen/queries/validate", tag = "listening", params(("ws" = i64, Path)), request_body = QueryText, responses((status = 200, body = QueryCheck)))]
async fn validate_query(
    State(s): State<WebState>,
    lang: Lang,
    Auth(actor): Auth,
    ApiPath(ws): ApiPath<i64>,
    ApiJson(body): ApiJson<QueryText>,
) -> ApiResult<Json<QueryCheck>> {
    s.app.validate_listen_query(&actor, WorkspaceId(ws), &body.query).await.map(Json).map_err(|e| lang.problem(e))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct QueryTrial {
    /// The query to try.
    query: String,
    /// Sample posts (at most 100).
    #[serde(default)]
    samples: Vec<SamplePost>,
}

/// Tries a query on sample posts (why each matches or not, node by node) and on the workspace's
/// latest 5,000 stored mentions.
#[utoipa::path(post, path = "/workspaces/{ws}/listen/queries/test", tag = "listening", params(("ws" = i64, Path)), request_body = QueryTrial, responses((status = 200, body = QueryTest)))]
async fn test_query(
    State(s): State<WebState>,
    lang: Lang,
    Auth(actor): Auth,
    ApiPath(ws): ApiPath<i64>,
    ApiJson(body): ApiJson<QueryTrial>,
) -> ApiResult<Json<QueryTest>> {
    s.app
        .test_listen_query(&actor, WorkspaceId(ws), &body.query, &body.samples)
        .await
        .map(Json)
        .map_err(|e| lang.problem(e))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct SeriesParams {
    /// `5m` (default) or `1h`.
    #[serde(default)]
    resolution: Option<String>,
    /// Start (UTC ms, included; default: 7 days before `to`).
    #[serde(default)]
    from: Option<i64>,
    /// End (UTC ms, excluded; default: now).
    #[serde(default)]
    to: Option<i64>,
}

/// A query's volume and negative-mention series, at 5-minute or hourly resolution.
#[utoipa::path(get, path = "/workspaces/{ws}/listen/queries/{id}/series", tag = "listening", params(("ws" = i64, Path), ("id" = i64, Path), SeriesParams), responses((status = 200, body = Vec<SeriesPoint>)))]
async fn query_series(
    State(s): State<WebState>,
    lang: Lang,
    Auth(actor): Auth,
    ApiPath((ws, id)): ApiPath<(i64, i64)>,
    ApiQuery(p): ApiQuery<SeriesParams>,
) -> ApiResult<Json<Vec<SeriesPoint>>> {
    let hourly = match p.resolution.as_deref().unwrap_or("5m") {
        "5m" => false,
        "1h" => true,
        other => {
            return Err(lang.problem(AppError::invalid(
                "invalid_resolution",
                Msg::new(
                    format!("unknown resolution `{other}` (5m, 1h)"),
                    format!("résolution inconnue « {other} » (5m, 1h)"),
                ),
            )));
        }
    };
    let to = p.to.unwrap_or_else(|| s.app.now_ms());
    let from = p.from.unwrap_or(to - 7 * 86_400_000);
    s.app.listen_series(&actor, WorkspaceId(ws), id, hourly, from, to).await.map(Json).map_err(|e| lang.problem(e))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct MentionParams {
    /// Only mentions that matched this query.
    #[serde(default)]
    query_id: Option<i64>,
    /// Only from this source (`rss`, `bluesky`, `mastodon`, `ingest`…).
    #[serde(default)]
    source: Option<String>,
    /// Only in this language (`fr`, `en`…).
    #[serde(default)]
    lang: Option<String>,
    /// Only with this sentiment (`negative`, `neutral`, `positive`).
    #[serde(default)]
    sentiment: Option<String>,
    /// Published at or after (UTC ms).
    #[serde(default)]
    from: Option<i64>,
    /// Published before (UTC ms).
    #[serde(default)]
    to: Option<i64>,
    /// The previous page's `next` cursor.
    #[serde(default)]
    after: Option<String>,
    /// Page size (1 to 1,000; default 50). For the CSV export: most rows (default 100,000).
    #[serde(default)]
    limit: Option<i64>,
}

impl MentionParams {
    fn filter(&self) -> Result<MentionFilter, AppError> {
        let after = match &self.after {
            None => None,
            Some(c) => Some(parse_cursor(c).ok_or_else(|| {
                AppError::invalid("invalid_cursor", Msg::new("the cursor is not valid", "le curseur n'est pas valide"))
            })?),
        };
        check_sentiment(self.sentiment.as_deref())?;
        Ok(MentionFilter {
            query_id: self.query_id,
            source: self.source.clone(),
            lang: self.lang.clone(),
            sentiment: self.sentiment.clone(),
            from: self.from,
            to: self.to,
            after,
        })
    }
}

/// A sentiment filter must name a label (the mention list and the search refuse the same values).
fn check_sentiment(sentiment: Option<&str>) -> Result<(), AppError> {
    match sentiment {
        None | Some("negative" | "neutral" | "positive") => Ok(()),
        Some(s) => Err(AppError::invalid(
            "invalid_sentiment",
            Msg::new(
                format!("unknown sentiment `{s}` (negative, neutral, positive)"),
                format!("sentiment inconnu « {s} » (negative, neutral, positive)"),
            ),
        )),
    }
}

fn parse_cursor(c: &str) -> Option<(i64, i64)> {
    let (at, id) = c.split_once(':')?;
    Some((at.parse().ok()?, id.parse().ok()?))
}

/// A page of mentions.
#[derive(Serialize, ToSchema)]
struct MentionPage {
    /// The mentions, newest first.
    mentions: Vec<MentionRecord>,
    /// The cursor of the next page (`after=`), when the page is full.
    next: Option<String>,
}

/// The workspace's mentions, newest first, filtered.
#[utoipa::path(get, path = "/workspaces/{ws}/listen/mentions", tag = "listening", params(("ws" = i64, Path), MentionParams), responses((status = 200, body = MentionPage)))]
async fn list_mentions(
    State(s): State<WebState>,
    lang: Lang,
    Auth(actor): Auth,
    ApiPath(ws): ApiPath<i64>,
    ApiQuery(p): ApiQuery<MentionParams>,
) -> ApiResult<Json<MentionPage>> {
    let filter = p.filter().map_err(|e| lang.problem(e))?;
    let limit = p.limit.unwrap_or(50).clamp(1, 1000);
    let mentions = s.app.mentions(&actor, WorkspaceId(ws), &filter, limit).await.map_err(|e| lang.problem(e))?;
    let next = (mentions.len() as i64 == limit)
        .then(|| mentions.last().map(|m| format!("{}:{}", m.published_at, m.id)))
        .flatten();
    Ok(Json(MentionPage { mentions, next }))
}

/// The workspace's mentions as CSV (UTF-8 with BOM; formulas defused), same filters as the list.
#[utoipa::path(get, path = "/workspaces/{ws}/listen/mentions.csv", tag = "listening", params(("ws" = i64, Path), MentionParams),
    responses((status = 200, content_type = "text/csv", body = String)))]
async fn export_mentions(
    State(s): State<WebState>,
    lang: Lang,
    Auth(actor): Auth,
    ApiPath(ws): ApiPath<i64>,
    ApiQuery(p): ApiQuery<MentionParams>,
) -> ApiResult<impl IntoResponse> {
    let filter = p.filter().map_err(|e| lang.problem(e))?;
    let limit = p.limit.unwrap_or(100_000);
    let csv = s.app.mentions_csv(&actor, WorkspaceId(ws), &filter, limit).await.map_err(|e| lang.problem(e))?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (header::CONTENT_DISPOSITION, "attachment; filename=\"mentions.csv\""),
        ],
        csv,
    ))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct AlertParams {
    /// Only this query's alerts.
    #[serde(default)]
    query_id: Option<i64>,
    /// Most alerts (1 to 1,000; default 100).
    #[serde(default)]
    limit: Option<i64>,
}

/// The workspace's spike alerts, newest first, each with the figures and series that triggered it.
#[utoipa::path(get, path = "/workspaces/{ws}/listen/alerts", tag = "listening", params(("ws" = i64, Path), AlertParams), responses((status = 200, body = Vec<ListenAlertRecord>)))]
async fn list_alerts(
    State(s): State<WebState>,
    lang: Lang,
    Auth(actor): Auth,
    ApiPath(ws): ApiPath<i64>,
    ApiQuery(p): ApiQuery<AlertParams>,
) -> ApiResult<Json<Vec<ListenAlertRecord>>> {
    s.app
        .listen_alerts(&actor, WorkspaceId(ws), p.query_id, p.limit.unwrap_or(100))
        .await
        .map(Json)
        .map_err(|e| lang.problem(e))
}

/// The workspace's own post counts in the listening pipeline (this process) and the pipeline's
/// capacity and lag, shared by every workspace.
#[utoipa::path(get, path = "/workspaces/{ws}/listen/status", tag = "listening", params(("ws" = i64, Path)), responses((status = 200, body = PipelineStats)))]
async fn status(
    State(s): State<WebState>,
    lang: Lang,
    Auth(actor): Auth,
    ApiPath(ws): ApiPath<i64>,
) -> ApiResult<Json<PipelineStats>> {
    s.app.listen_queries(&actor, WorkspaceId(ws)).await.map_err(|e| lang.problem(e))?;
    Ok(Json(s.app.pipeline_stats_for(WorkspaceId(ws))))
}

/// Sends posts to listen to: a JSON array of posts (or one post) with `Content-Type:
/// application/json`, or one post per line with `application/x-ndjson`. Every post is checked
/// first: one bad post refuses the request and nothing is stored. The answer comes once the
/// matching posts are stored; when the pipeline is full, the request waits (backpressure).
#[utoipa::path(post, path = "/workspaces/{ws}/listen/ingest", tag = "listening", params(("ws" = i64, Path)),
    request_body(content = Vec<IncomingPost>, content_type = "application/json"),
    responses((status = 200, body = IngestReport), (status = 422, description = "Invalid posts, by line; nothing stored")))]
async fn ingest(
    State(s): State<WebState>,
    lang: Lang,
    Auth(actor): Auth,
    ApiPath(ws): ApiPath<i64>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<IngestReport>> {
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    let posts = parse_posts(content_type, &body).map_err(|e| lang.problem(e))?;
    s.app.ingest(&actor, WorkspaceId(ws), posts).await.map(Json).map_err(|e| lang.problem(e))
}

/// Reads an ingest body: JSON (an array of posts or one post) or NDJSON (one post per line;
/// blank lines skipped). Errors name the line.
pub fn parse_posts(content_type: &str, body: &[u8]) -> Result<Vec<IncomingPost>, AppError> {
    let media = content_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    let unreadable = |line: usize, e: &serde_json::Error| {
        AppError::invalid_with(
            "body_invalid",
            Msg::new(
                format!("post {line} is not valid JSON of a post: {e}"),
                format!("la publication {line} n'est pas du JSON de publication valide : {e}"),
            ),
            vec![serde_json::json!({"line": line, "message": e.to_string()})],
        )
    };
    match media.as_str() {
        "application/x-ndjson" | "application/jsonl" | "application/jsonlines" => {
            let text = std::str::from_utf8(body).map_err(|_| {
                AppError::invalid("body_invalid", Msg::new("the body is not UTF-8", "le corps n'est pas en UTF-8"))
            })?;
            let mut posts = Vec::new();
            for (i, line) in text.lines().enumerate() {
                if line.trim().is_empty() {
                    continue;
                }
                posts.push(serde_json::from_str(line).map_err(|e| unreadable(i + 1, &e))?);
            }
            Ok(posts)
        }
        "application/json" => {
            let value: serde_json::Value = serde_json::from_slice(body).map_err(|e| unreadable(e.line(), &e))?;
            if value.is_array() {
                serde_json::from_value(value).map_err(|e| unreadable(0, &e))
            } else {
                Ok(vec![serde_json::from_value(value).map_err(|e| unreadable(1, &e))?])
            }
        }
        _ => Err(AppError::invalid(
            "content_type",
            Msg::new(
                "send posts as application/json or application/x-ndjson",
                "envoyez les publications en application/json ou application/x-ndjson",
            ),
        )),
    }
}

/// The workspace's listening sources, with their health (last success, last error).
#[utoipa::path(get, path = "/workspaces/{ws}/listen/sources", tag = "listening", params(("ws" = i64, Path)), responses((status = 200, body = Vec<ListenSourceRecord>)))]
async fn list_sources(
    State(s): State<WebState>,
    lang: Lang,
    Auth(actor): Auth,
    ApiPath(ws): ApiPath<i64>,
) -> ApiResult<Json<Vec<ListenSourceRecord>>> {
    s.app.listen_sources(&actor, WorkspaceId(ws)).await.map(Json).map_err(|e| lang.problem(e))
}

/// Adds a listening source: an RSS/Atom/JSON feed, or a Mastodon server's hashtag or public
/// timeline. It is polled at once, then at its interval.
#[utoipa::path(post, path = "/workspaces/{ws}/listen/sources", tag = "listening", params(("ws" = i64, Path)), request_body = SourceSpec, responses((status = 201, body = ListenSourceRecord)))]
async fn create_source(
    State(s): State<WebState>,
    lang: Lang,
    Auth(actor): Auth,
    ApiPath(ws): ApiPath<i64>,
    ApiJson(spec): ApiJson<SourceSpec>,
) -> ApiResult<(StatusCode, Json<ListenSourceRecord>)> {
    s.app
        .create_listen_source(&actor, WorkspaceId(ws), &spec)
        .await
        .map(|r| (StatusCode::CREATED, Json(r)))
        .map_err(|e| lang.problem(e))
}

/// Erases mentions for good (an erasure request under the GDPR): by ids, or every mention by one
/// author. The search index drops them on its next pass; the volume series keep their counts.
#[utoipa::path(post, path = "/workspaces/{ws}/listen/mentions/erase", tag = "listening", params(("ws" = i64, Path)), request_body = EraseInput, responses((status = 200, body = EraseReport)))]
async fn erase_mentions(
    State(s): State<WebState>,
    lang: Lang,
    Auth(actor): Auth,
    ApiPath(ws): ApiPath<i64>,
    ApiJson(input): ApiJson<EraseInput>,
) -> ApiResult<Json<EraseReport>> {
    s.app.erase_mentions(&actor, WorkspaceId(ws), input).await.map(Json).map_err(|e| lang.problem(e))
}

/// Removes a listening source (its mentions stay).
#[utoipa::path(delete, path = "/workspaces/{ws}/listen/sources/{id}", tag = "listening", params(("ws" = i64, Path), ("id" = i64, Path)), responses((status = 204)))]
async fn delete_source(
    State(s): State<WebState>,
    lang: Lang,
    Auth(actor): Auth,
    ApiPath((ws, id)): ApiPath<(i64, i64)>,
) -> ApiResult<StatusCode> {
    s.app
        .delete_listen_source(&actor, WorkspaceId(ws), id)
        .await
        .map(|()| StatusCode::NO_CONTENT)
        .map_err(|e| lang.problem(e))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct SearchParams {
    /// The query, in the listening query language (stemmed: `cafés` finds `café`); empty: all.
    #[serde(default)]
    q: String,
    /// Only mentions of this stored query.
    #[serde(default)]
    query_id: Option<i64>,
    /// Only from this source.
    #[serde(default)]
    source: Option<String>,
    /// Only in this language.
    #[serde(default)]
    lang: Option<String>,
    /// Only with this sentiment.
    #[serde(default)]
    sentiment: Option<String>,
    /// Published at or after (UTC ms).
    #[serde(default)]
    from: Option<i64>,
    /// Published before (UTC ms).
    #[serde(default)]
    to: Option<i64>,
    /// `newest` (default) or `relevance`.
    #[serde(default)]
    sort: Option<String>,
    /// Page size (1 to 1,000; default 50).
    #[serde(default)]
    limit: Option<usize>,
    /// The previous page's `next`.
    #[serde(default)]
    after: Option<String>,
    /// Count by query, source, language, sentiment and day.
    #[serde(default)]
    facets: bool,
    /// Days of the day facet start at this offset from UTC, in minutes (default: the workspace's).
    #[serde(default)]
    day_offset_minutes: Option<i32>,
}

/// Full-text search over the workspace's mentions, with the listening query language, stemmed
/// French and English, filters and facets.
#[utoipa::path(get, path = "/workspaces/{ws}/listen/search", tag = "listening", params(("ws" = i64, Path), SearchParams), responses((status = 200, body = SearchPage)))]
async fn search(
    State(s): State<WebState>,
    lang: Lang,
    Auth(actor): Auth,
    ApiPath(ws): ApiPath<i64>,
    ApiQuery(p): ApiQuery<SearchParams>,
) -> ApiResult<Json<SearchPage>> {
    let relevance = match p.sort.as_deref().unwrap_or("newest") {
        "newest" => false,
        "relevance" => true,
        other => {
            return Err(lang.problem(AppError::invalid(
                "invalid_sort",
                Msg::new(
                    format!("unknown sort `{other}` (newest, relevance)"),
                    format!("tri inconnu « {other} » (newest, relevance)"),
                ),
            )));
        }
    };
    check_sentiment(p.sentiment.as_deref()).map_err(|e| lang.problem(e))?;
    let filters = Filters {
        query_ids: p.query_id.into_iter().collect(),
        sources: p.source.into_iter().collect(),
        langs: p.lang.into_iter().collect(),
        sentiments: p.sentiment.into_iter().collect(),
        from_ms: p.from,
        until_ms: p.to,
    };
    let input = SearchInput {
        q: p.q,
        filters,
        relevance,
        limit: p.limit.unwrap_or(50),
        after: p.after,
        facets: p.facets,
        day_offset_minutes: p.day_offset_minutes,
    };
    s.app.search_mentions(&actor, WorkspaceId(ws), input).await.map(Json).map_err(|e| lang.problem(e))
}
