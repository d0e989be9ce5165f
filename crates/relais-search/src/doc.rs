//! What is indexed for one mention ([`MentionDoc`]) and how it becomes a tantivy document:
//! language routing, hashtag and mention keywords, metadata keys for the filters.

use crate::error::SearchError;
use crate::schema::{Fields, TextFields};
use relais_domain::i18n::Msg;
use relais_query::FilterKind;
use relais_query::doc::for_each_meta_key;
use relais_query::text::Tokens;
use serde::{Deserialize, Serialize};
use tantivy::TantivyDocument;

/// A stored mention as the search index sees it (the SQL row stays the source of truth).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MentionDoc {
    /// The SQL mention id: what a hit returns.
    pub id: i64,
    /// The workspace it belongs to: every search is restricted to one.
    pub workspace_id: i64,
    /// The stored queries it matched.
    pub query_ids: Vec<i64>,
    /// Where it came from (`bluesky`, `mastodon`, `rss`…).
    pub source: String,
    /// Its language tag, detected or declared (`fr`, `en`, `fr-CA`, `und`).
    pub lang: String,
    /// Its sentiment label: `negative`, `neutral` or `positive`.
    pub sentiment: String,
    /// Its sentiment score.
    pub sentiment_score: f32,
    /// Publication time, UTC milliseconds.
    pub published_at_ms: i64,
    /// The author's handle.
    pub author: Option<String>,
    /// The site's domain (links, articles).
    pub domain: Option<String>,
    /// The title (articles, RSS items).
    pub title: Option<String>,
    /// The text.
    pub text: String,
}

/// The sentiment labels a mention may carry.
pub const SENTIMENTS: [&str; 3] = ["negative", "neutral", "positive"];

/// The language key a tag is indexed and filtered under: its primary subtag (`fr-CA` → `fr`),
/// `und` when the tag is not a language tag.
pub fn lang_key(tag: &str) -> String {
    let mut key = None;
    for_each_meta_key(FilterKind::Lang, tag, |k| {
        key.get_or_insert_with(|| k.to_owned());
    });
    key.unwrap_or_else(|| "und".to_owned())
}

/// The folded source key (`Bluesky` → `bluesky`), `None` when it is not a valid source name.
pub fn source_key(source: &str) -> Option<String> {
    let mut key = None;
    for_each_meta_key(FilterKind::Source, source, |k| {
        key.get_or_insert_with(|| k.to_owned());
    });
    key
}

/// Converts mentions into tantivy documents, reusing one token buffer.
pub(crate) struct DocBuilder {
    fields: Fields,
    tokens: Tokens,
}

impl DocBuilder {
    pub(crate) fn new(fields: Fields) -> Self {
        Self { fields, tokens: Tokens::new() }
    }

    /// The tantivy document of `m`, or why `m` is refused (nothing is indexed then).
    pub(crate) fn build(&mut self, m: &MentionDoc) -> Result<TantivyDocument, SearchError> {
        let f = self.fields;
        let source = source_key(&m.source).ok_or_else(|| invalid_source(&m.source))?;
        if !SENTIMENTS.contains(&m.sentiment.as_str()) {
            return Err(invalid_sentiment(&m.sentiment));
        }
        let mut d = TantivyDocument::new();
        d.add_i64(f.id, m.id);
        d.add_i64(f.workspace, m.workspace_id);
        for q in &m.query_ids {
            d.add_u64(f.query, *q as u64);
        }
        d.add_text(f.source, &source);
        let lang = lang_key(&m.lang);
        d.add_text(f.lang, &lang);
        d.add_text(f.sentiment, &m.sentiment);
        d.add_f64(f.sentiment_score, f64::from(m.sentiment_score));
        d.add_i64(f.published, m.published_at_ms);
        for (kind, field, value) in
            [(FilterKind::Author, f.author, &m.author), (FilterKind::Domain, f.domain, &m.domain)]
        {
            if let Some(v) = value {
                for_each_meta_key(kind, v, |k| d.add_text(field, k));
            }
        }
        d.add_text(f.raw, &m.text);
        d.add_text(f.exact, &m.text);
        self.add_text(&mut d, &f.body, &lang, &m.text);
        if let Some(title) = &m.title {
            self.add_text(&mut d, &f.title, &lang, title);
        }
        Ok(d)
    }

    /// Adds `text` to the folded field, to the stemmed field of its language (if French or
    /// English), and its hashtags and mentions to the keyword field.
    fn add_text(&mut self, d: &mut TantivyDocument, fields: &TextFields, lang: &str, text: &str) {
        d.add_text(fields.fold, text);
        match lang {
            "fr" => d.add_text(fields.fr, text),
            "en" => d.add_text(fields.en, text),
            _ => {}
        }
        // Most texts have no sigil at all: one byte scan instead of the tokenizer.
        if text.bytes().any(|b| b == b'#' || b == b'@') {
            self.tokens.tokenize(text);
            for t in self.tokens.iter().filter(|t| t.starts_with(['#', '@'])) {
                d.add_text(fields.tags, t);
            }
        }
    }
}

fn invalid_source(source: &str) -> SearchError {
    SearchError::InvalidMention(Msg::new(
        format!("invalid source {source:?}: letters, digits, `-` and `_` only"),
        format!("source invalide {source:?} : lettres, chiffres, `-` et `_` uniquement"),
    ))
}

fn invalid_sentiment(sentiment: &str) -> SearchError {
    SearchError::InvalidMention(Msg::new(
        format!("invalid sentiment {sentiment:?}: expected negative, neutral or positive"),
        format!("sentiment invalide {sentiment:?} : attendu negative, neutral ou positive"),
    ))
}
