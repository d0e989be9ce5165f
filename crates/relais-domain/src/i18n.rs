//! Bilingual (French / English) user-facing messages.
//!
//! Every problem Relais reports to a person carries both languages; the API returns both and the
//! CLI and UI pick one from the user's locale (`fr` by default, most of our users are French).

use serde::{Deserialize, Serialize};

/// A user-facing message in English and French.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Msg {
    /// The English text.
    pub en: String,
    /// The French text.
    pub fr: String,
}

impl Msg {
    /// Builds a message from its English and French texts.
    pub fn new(en: impl Into<String>, fr: impl Into<String>) -> Self {
        Self { en: en.into(), fr: fr.into() }
    }

    /// The text in the given locale: French for any locale starting with `fr`, English otherwise.
    pub fn in_locale(&self, locale: &str) -> &str {
        if locale.to_ascii_lowercase().starts_with("fr") { &self.fr } else { &self.en }
    }
}

impl std::fmt::Display for Msg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} / {}", self.en, self.fr)
    }
}
