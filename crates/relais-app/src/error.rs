//! The service layer's error: a stable code, a kind that maps to an HTTP status in exactly one
//! place (relais-web), and a message in French and English.

use relais_domain::Msg;
use relais_domain::permissions::Action;
use relais_store::StoreError;
use serde::Serialize;

/// What kind of failure, independent of the transport.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// The input is malformed or breaks a rule; nothing was changed.
    Invalid,
    /// No valid credentials.
    Unauthenticated,
    /// Authenticated, but the role does not allow it.
    Forbidden,
    /// The thing does not exist (or is in a workspace the actor cannot see).
    NotFound,
    /// The state changed meanwhile, or a uniqueness rule refused it.
    Conflict,
    /// Too many attempts: try again later.
    RateLimited,
    /// A network or server Relais talked to refused or failed (its message is relayed).
    Upstream,
    /// This process does not offer it (e.g. search in a worker process).
    Unavailable,
    /// Something broke on our side.
    Internal,
}

/// A service error.
#[derive(Debug, Clone, Serialize)]
pub struct AppError {
    /// The kind.
    pub kind: ErrorKind,
    /// Stable machine-readable code, e.g. `post_invalid`.
    pub code: &'static str,
    /// Human message, French and English.
    pub message: Msg,
    /// Details: every problem found (per field, per row, per network).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub problems: Vec<serde_json::Value>,
}

/// Result of a service call.
pub type AppResult<T> = Result<T, AppError>;

impl AppError {
    /// A network or server refused or failed while doing `what` (English, French); `message`
    /// is its own message.
    pub fn upstream(code: &'static str, what: (&str, &str), message: &str) -> Self {
        let (en, fr) = what;
        Self::new(ErrorKind::Upstream, code, Msg::new(format!("{en}: {message}"), format!("{fr} : {message}")))
    }

    /// A generic error.
    pub fn new(kind: ErrorKind, code: &'static str, message: Msg) -> Self {
        AppError { kind, code, message, problems: Vec::new() }
    }

    /// Invalid input with a code and message.
    pub fn invalid(code: &'static str, message: Msg) -> Self {
        Self::new(ErrorKind::Invalid, code, message)
    }

    /// Invalid input carrying every problem found.
    pub fn invalid_with(code: &'static str, message: Msg, problems: Vec<serde_json::Value>) -> Self {
        AppError { problems, ..Self::invalid(code, message) }
    }

    /// Something (named in English and French) was not found.
    pub fn not_found(what: &str) -> Self {
        let fr = match what {
            "workspace" => "espace de travail",
            "channel" => "canal",
            "post" => "publication",
            "user" => "utilisateur",
            "token" => "jeton",
            "media" => "média",
            "member" => "membre",
            other => other,
        };
        Self::new(ErrorKind::NotFound, "not_found", Msg::new(format!("{what} not found"), format!("{fr} introuvable")))
    }

    /// The actor's role does not allow `action`.
    pub fn forbidden(action: Action) -> Self {
        let name = serde_json::to_value(action).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default();
        Self::new(
            ErrorKind::Forbidden,
            "forbidden",
            Msg::new(
                format!("your role in this workspace does not allow this ({name})"),
                format!("votre rôle dans cet espace de travail ne le permet pas ({name})"),
            ),
        )
    }

    /// No or bad credentials.
    pub fn unauthenticated() -> Self {
        Self::new(
            ErrorKind::Unauthenticated,
            "unauthenticated",
            Msg::new(
                "missing, invalid, expired or revoked credentials",
                "identifiants absents, invalides, expirés ou révoqués",
            ),
        )
    }

    /// A conflict with the current state.
    pub fn conflict(code: &'static str, message: Msg) -> Self {
        Self::new(ErrorKind::Conflict, code, message)
    }

    /// An internal error with a message meant for the logs.
    pub fn internal(detail: impl std::fmt::Display) -> Self {
        tracing::error!(error = %detail, "Internal error.");
        Self::new(ErrorKind::Internal, "internal", Msg::new("internal error", "erreur interne"))
    }

    /// An internal error from a bilingual message.
    pub fn internal_msg(m: Msg) -> Self {
        Self::internal(m)
    }
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => AppError::not_found("resource"),
            StoreError::Conflict(detail) => AppError::conflict(
                "conflict",
                Msg::new(
                    format!("conflict with the current state: {detail}"),
                    format!("conflit avec l'état actuel : {detail}"),
                ),
            ),
            other => AppError::internal(other),
        }
    }
}

impl std::fmt::Display for AppError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for AppError {}
