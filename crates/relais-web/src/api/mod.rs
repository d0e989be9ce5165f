//! The REST API under `/api/v1`: routing, authentication, request parsing and the OpenAPI
//! document. One file per resource.

mod accounts;
mod calendar;
mod channels;
mod compose;
mod listening;
mod media;
mod posts;
mod system;
mod workspaces;

pub use listening::parse_posts;

use crate::WebState;
use crate::problem::{Problem, locale_of};
use axum::extract::DefaultBodyLimit;
use axum::extract::rejection::JsonRejection;
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::{Json, Router};
use relais_app::error::ErrorKind;
use relais_app::{Actor, AppError};
use relais_domain::Msg;
use relais_domain::ids::UserId;
use std::net::SocketAddr;
use utoipa::OpenApi;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa_axum::router::OpenApiRouter;

/// The largest JSON body accepted (1 MiB).
pub const JSON_LIMIT: usize = 1024 * 1024;

/// The OpenAPI description's fixed parts; the paths come from the handlers.
#[derive(OpenApi)]
#[openapi(
    info(title = "Relais API", version = env!("CARGO_PKG_VERSION"), description = "The community manager's workbench: workspaces, channels, posts, calendar, listening.", license(name = "AGPL-3.0-or-later")),
    modifiers(&BearerAuth),
    security(("bearer" = []))
)]
struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// The API router with its generated OpenAPI document.
fn api() -> OpenApiRouter<WebState> {
    OpenApiRouter::new()
        .merge(accounts::routes())
        .merge(workspaces::routes())
        .merge(channels::routes())
        .merge(posts::routes())
        .merge(calendar::routes())
        .merge(compose::routes())
        .layer(DefaultBodyLimit::max(JSON_LIMIT * 4))
        .merge(media::routes())
        .merge(listening::routes())
}

/// The whole router: API, OpenAPI document, feed, health and metrics.
pub fn router(state: WebState) -> Router {
    let (api_router, openapi) = OpenApiRouter::with_openapi(ApiDoc::openapi()).nest("/api/v1", api()).split_for_parts();
    let openapi_json = openapi.to_pretty_json().unwrap_or_default();
    api_router
        .merge(system::routes(openapi_json))
        .fallback(|headers: HeaderMap| async move {
            Problem::new(
                AppError::new(
                    ErrorKind::NotFound,
                    "route_not_found",
                    Msg::new("no such route", "cette route n'existe pas"),
                ),
                &headers,
            )
        })
        .layer(axum::middleware::from_fn(plain_errors_as_problems))
        .layer(axum::middleware::from_fn(system::track))
        .with_state(state)
}

/// Rewrites the plain-text client errors that axum's own extractors and routing produce (body
/// too large, method not allowed, unreadable body…) as problem+json, so every error of the API
/// has one shape.
async fn plain_errors_as_problems(request: Request, next: axum::middleware::Next) -> axum::response::Response {
    let headers = request.headers().clone();
    let response = next.run(request).await;
    let status = response.status();
    let plain = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_none_or(|v| v.starts_with("text/plain"));
    if !status.is_client_error() || !plain {
        return response;
    }
    let body = axum::body::to_bytes(response.into_body(), 64 * 1024).await.unwrap_or_default();
    let detail = String::from_utf8_lossy(&body).into_owned();
    let (code, en, fr) = match status {
        StatusCode::PAYLOAD_TOO_LARGE => ("body_too_large", "the body is too large", "le corps est trop volumineux"),
        StatusCode::METHOD_NOT_ALLOWED => {
            ("method_not_allowed", "this method is not allowed here", "cette méthode n'est pas permise ici")
        }
        _ => ("bad_request", "the request is not valid", "la requête n'est pas valide"),
    };
    let msg = if detail.is_empty() {
        Msg::new(en, fr)
    } else {
        Msg::new(format!("{en}: {detail}"), format!("{fr} : {detail}"))
    };
    let mut problem = Problem::new(AppError::invalid(code, msg), &headers);
    problem.status = Some(status);
    axum::response::IntoResponse::into_response(problem)
}

/// The authenticated member making the request (from `Authorization: Bearer …`).
pub struct Auth(pub Actor);

impl FromRequestParts<WebState> for Auth {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &WebState) -> Result<Self, Self::Rejection> {
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
            .map(str::trim);
        let Some(token) = token else { return Err(Problem::new(AppError::unauthenticated(), &parts.headers)) };
        let user = state.app.authenticate(token).await.map_err(|e| Problem::new(e, &parts.headers))?;
        Ok(Auth(Actor { user: UserId(user.id), ip: client_ip(parts) }))
    }
}

/// The client's address, when the server knows it.
pub fn client_ip(parts: &Parts) -> Option<String> {
    parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|ConnectInfo(addr)| addr.ip().to_string())
}

/// The request's preferred language, for error messages.
pub struct Lang(pub HeaderMap);

impl<S: Send + Sync> FromRequestParts<S> for Lang {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Lang(parts.headers.clone()))
    }
}

impl Lang {
    /// Wraps a service error in a problem response in this request's language.
    pub fn problem(&self, e: AppError) -> Problem {
        Problem::new(e, &self.0)
    }
}

/// A JSON body whose rejections (malformed JSON, wrong types, unknown fields, too large, wrong
/// content type) are problem+json in the client's language.
pub struct ApiJson<T>(pub T);

impl<T, S> FromRequest<S> for ApiJson<T>
where
    Json<T>: FromRequest<S, Rejection = JsonRejection>,
    S: Send + Sync,
{
    type Rejection = Problem;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let headers = req.headers().clone();
        match Json::<T>::from_request(req, state).await {
            Ok(Json(v)) => Ok(ApiJson(v)),
            Err(rejection) => Err(json_problem(&rejection, &headers)),
        }
    }
}

fn json_problem(rejection: &JsonRejection, headers: &HeaderMap) -> Problem {
    let detail = rejection.body_text();
    let (status, code, en, fr) = match rejection {
        JsonRejection::JsonDataError(_) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            "body_invalid",
            "the body does not match the expected fields or types",
            "le corps ne correspond pas aux champs ou types attendus",
        ),
        JsonRejection::JsonSyntaxError(_) => (
            StatusCode::BAD_REQUEST,
            "body_malformed",
            "the body is not valid JSON",
            "le corps n'est pas du JSON valide",
        ),
        JsonRejection::MissingJsonContentType(_) => (
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "content_type",
            "send the body as application/json",
            "envoyez le corps en application/json",
        ),
        _ if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            (StatusCode::PAYLOAD_TOO_LARGE, "body_too_large", "the body is too large", "le corps est trop volumineux")
        }
        _ => (rejection.status(), "body_unreadable", "the body could not be read", "le corps n'a pas pu être lu"),
    };
    let error = AppError::invalid(code, Msg::new(format!("{en}: {detail}"), format!("{fr} : {detail}")));
    Problem { error, locale: locale_of(headers), status: Some(status) }
}

/// The result type of handlers.
pub type ApiResult<T> = Result<T, Problem>;

/// The client's address as an extractor.
pub struct ClientIp(pub Option<String>);

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientIp(client_ip(parts)))
    }
}

/// Path parameters whose rejections are problem+json.
pub struct ApiPath<T>(pub T);

impl<T, S> FromRequestParts<S> for ApiPath<T>
where
    T: serde::de::DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(v)) => Ok(ApiPath(v)),
            Err(rejection) => Err(bad_request(
                "path_invalid",
                "invalid path parameter",
                "paramètre de chemin invalide",
                &rejection.body_text(),
                &parts.headers,
            )),
        }
    }
}

/// Query parameters whose rejections are problem+json (unknown parameters refused when `T`
/// denies unknown fields).
pub struct ApiQuery<T>(pub T);

impl<T, S> FromRequestParts<S> for ApiQuery<T>
where
    T: serde::de::DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(v)) => Ok(ApiQuery(v)),
            Err(rejection) => Err(bad_request(
                "query_invalid",
                "invalid query parameter",
                "paramètre de requête invalide",
                &rejection.body_text(),
                &parts.headers,
            )),
        }
    }
}

fn bad_request(code: &'static str, en: &str, fr: &str, detail: &str, headers: &HeaderMap) -> Problem {
    let error = AppError::invalid(code, Msg::new(format!("{en}: {detail}"), format!("{fr} : {detail}")));
    Problem { error, locale: locale_of(headers), status: Some(StatusCode::BAD_REQUEST) }
}
