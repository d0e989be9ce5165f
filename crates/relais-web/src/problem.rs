//! The one place where service errors become HTTP responses (RFC 9457 problem+json).

use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use relais_app::AppError;
use relais_app::error::ErrorKind;

/// The HTTP status of each error kind.
pub fn status_of(kind: ErrorKind) -> StatusCode {
    match kind {
        ErrorKind::Invalid => StatusCode::UNPROCESSABLE_ENTITY,
        ErrorKind::Unauthenticated => StatusCode::UNAUTHORIZED,
        ErrorKind::Forbidden => StatusCode::FORBIDDEN,
        ErrorKind::NotFound => StatusCode::NOT_FOUND,
        ErrorKind::Conflict => StatusCode::CONFLICT,
        ErrorKind::RateLimited => StatusCode::TOO_MANY_REQUESTS,
        ErrorKind::Upstream => StatusCode::BAD_GATEWAY,
        ErrorKind::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        ErrorKind::Internal => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// An error on its way out, with the language the client asked for.
pub struct Problem {
    /// The error.
    pub error: AppError,
    /// `fr` or `en`.
    pub locale: &'static str,
    /// Overrides the kind's status (e.g. 400 for malformed JSON, 413 for a body too large).
    pub status: Option<StatusCode>,
}

impl Problem {
    /// A problem in the language of the request's `Accept-Language` (French by default).
    pub fn new(error: AppError, headers: &HeaderMap) -> Self {
        Problem { error, locale: locale_of(headers), status: None }
    }
}

/// `en` when the client prefers English, else `fr`.
pub fn locale_of(headers: &HeaderMap) -> &'static str {
    let accept = headers.get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()).unwrap_or("");
    let first = accept.split(',').next().unwrap_or("").trim().to_ascii_lowercase();
    if first.starts_with("en") { "en" } else { "fr" }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = self.status.unwrap_or_else(|| status_of(self.error.kind));
        let e = &self.error;
        let mut body = serde_json::json!({
            "type": format!("urn:relais:problem:{}", e.code),
            "title": e.message.in_locale(self.locale),
            "status": status.as_u16(),
            "detail": e.message.in_locale(self.locale),
            "code": e.code,
            "message": e.message,
        });
        if !e.problems.is_empty() {
            body["problems"] = serde_json::Value::Array(e.problems.clone());
        }
        let mut response = (status, body.to_string()).into_response();
        response
            .headers_mut()
            .insert(header::CONTENT_TYPE, header::HeaderValue::from_static("application/problem+json"));
        if status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(header::WWW_AUTHENTICATE, header::HeaderValue::from_static("Bearer"));
        }
        response
    }
}

impl Problem {
    /// The same problem with another HTTP status.
    pub fn with_status(mut self, status: StatusCode) -> Self {
        self.status = Some(status);
        self
    }
}
