//! Login, the current member, API tokens.

use crate::WebState;
use crate::api::{ApiJson, ApiPath, ApiResult, Auth, ClientIp, Lang};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use relais_app::accounts::NewToken;
use relais_domain::ids::TokenId;
use relais_store::users::{TokenRecord, UserRecord};
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<WebState> {
    OpenApiRouter::new()
        .routes(routes!(login))
        .routes(routes!(me))
        .routes(routes!(list_tokens, create_token))
        .routes(routes!(revoke_token))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct LoginRequest {
    email: String,
    password: String,
}

/// Exchanges an e-mail and password for a bearer token valid 30 days.
#[utoipa::path(post, path = "/auth/login", tag = "accounts", security(), request_body = LoginRequest,
    responses((status = 200, body = NewToken), (status = 401, description = "Wrong e-mail or password")))]
async fn login(
    State(state): State<WebState>,
    lang: Lang,
    ClientIp(ip): ClientIp,
    ApiJson(req): ApiJson<LoginRequest>,
) -> ApiResult<Json<NewToken>> {
    state.app.login(&req.email, &req.password, ip).await.map(Json).map_err(|e| lang.problem(e))
}

/// The authenticated member's account.
#[utoipa::path(get, path = "/me", tag = "accounts", responses((status = 200, body = UserRecord)))]
async fn me(State(state): State<WebState>, lang: Lang, Auth(actor): Auth) -> ApiResult<Json<UserRecord>> {
    state.app.me(&actor).await.map(Json).map_err(|e| lang.problem(e))
}

/// The member's API tokens (never their secrets).
#[utoipa::path(get, path = "/tokens", tag = "accounts", responses((status = 200, body = Vec<TokenRecord>)))]
async fn list_tokens(
    State(state): State<WebState>,
    lang: Lang,
    Auth(actor): Auth,
) -> ApiResult<Json<Vec<TokenRecord>>> {
    state.app.tokens(&actor).await.map(Json).map_err(|e| lang.problem(e))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct TokenRequest {
    /// A label, e.g. "CI" or "Zapier".
    name: String,
}

/// Creates an API token; its secret is shown in this answer only.
#[utoipa::path(post, path = "/tokens", tag = "accounts", request_body = TokenRequest, responses((status = 201, body = NewToken)))]
async fn create_token(
    State(state): State<WebState>,
    lang: Lang,
    Auth(actor): Auth,
    ApiJson(req): ApiJson<TokenRequest>,
) -> ApiResult<(StatusCode, Json<NewToken>)> {
    state
        .app
        .issue_token(&actor, &req.name, None)
        .await
        .map(|t| (StatusCode::CREATED, Json(t)))
        .map_err(|e| lang.problem(e))
}

/// Revokes one of the member's tokens.
#[utoipa::path(delete, path = "/tokens/{id}", tag = "accounts", params(("id" = i64, Path)), responses((status = 204)))]
async fn revoke_token(
    State(state): State<WebState>,
    lang: Lang,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<StatusCode> {
    state.app.revoke_token(&actor, TokenId(id)).await.map(|()| StatusCode::NO_CONTENT).map_err(|e| lang.problem(e))
}
