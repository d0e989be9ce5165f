//! The one error type of the search crate: what failed, with a bilingual message for what the
//! caller can fix.

use relais_domain::i18n::Msg;
use relais_query::QueryError;

/// Why an index operation or a search failed.
#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    /// The query text was refused by the query language (code, position, message).
    #[error("invalid query: {0}")]
    Query(#[from] QueryError),
    /// The search request is invalid (page too deep, bad filter value…); nothing was searched.
    #[error("invalid search request: {}", .0.en)]
    InvalidRequest(Msg),
    /// A mention cannot be indexed as given; nothing was indexed.
    #[error("invalid mention: {}", .0.en)]
    InvalidMention(Msg),
    /// Another writer holds the index (one writer per index directory, in any process).
    #[error("the search index is locked by another writer")]
    Locked,
    /// The index could not be read or written (disk, corruption).
    #[error("search index failure: {0}")]
    Index(String),
}

impl SearchError {
    /// A stable code for the API and the UI.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Query(e) => e.code.as_str(),
            Self::InvalidRequest(_) => "search.invalid_request",
            Self::InvalidMention(_) => "search.invalid_mention",
            Self::Locked => "search.locked",
            Self::Index(_) => "search.index",
        }
    }

    /// The message for a person, in English and French.
    pub fn message(&self) -> Msg {
        match self {
            Self::Query(e) => e.message.clone(),
            Self::InvalidRequest(m) | Self::InvalidMention(m) => m.clone(),
            Self::Locked => Msg::new(
                "the search index is being written by another process: try again later",
                "l’index de recherche est en cours d’écriture par un autre processus : réessayez plus tard",
            ),
            Self::Index(detail) => Msg::new(
                format!("the search index failed: {detail}"),
                format!("l’index de recherche a échoué : {detail}"),
            ),
        }
    }
}

impl From<tantivy::TantivyError> for SearchError {
    fn from(e: tantivy::TantivyError) -> Self {
        match e {
            tantivy::TantivyError::LockFailure(..) => Self::Locked,
            tantivy::TantivyError::InvalidArgument(m) if m.starts_with(crate::near::PREFIX_TOO_BROAD) => {
                let prefix = &m[crate::near::PREFIX_TOO_BROAD.len()..];
                let max = crate::near::MAX_PREFIX_WORDS;
                Self::InvalidRequest(Msg::new(
                    format!("`{prefix}*` stands for more than {max} words in a NEAR: make the prefix longer"),
                    format!("`{prefix}*` correspond à plus de {max} mots dans un NEAR : allongez le préfixe"),
                ))
            }
            other => Self::Index(other.to_string()),
        }
    }
}

impl From<tantivy::directory::error::OpenDirectoryError> for SearchError {
    fn from(e: tantivy::directory::error::OpenDirectoryError) -> Self {
        Self::Index(e.to_string())
    }
}

impl From<tantivy::directory::error::OpenReadError> for SearchError {
    fn from(e: tantivy::directory::error::OpenReadError) -> Self {
        Self::Index(e.to_string())
    }
}

impl From<std::io::Error> for SearchError {
    fn from(e: std::io::Error) -> Self {
        Self::Index(e.to_string())
    }
}
