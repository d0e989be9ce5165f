//! What a search asks for ([`SearchRequest`]) and what it returns ([`SearchResults`]).

use crate::doc::{SENTIMENTS, lang_key, source_key};
use crate::error::SearchError;
use relais_domain::i18n::Msg;
use relais_query::Node;
use serde::{Deserialize, Serialize};

/// Most hits one page may hold.
pub const MAX_LIMIT: usize = 1_000;
/// Deepest hit an offset page may reach (`offset + limit`); go further with a cursor.
pub const MAX_WINDOW: usize = 10_000;
/// Largest fixed offset from UTC accepted for the day facet, in minutes (±18 h, as RFC 3339 allows).
pub const MAX_DAY_OFFSET_MINUTES: i32 = 18 * 60;

/// How hits are ordered. Ties are broken by the mention id, descending, so the order is total.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sort {
    /// Newest publication time first (the default).
    #[default]
    Newest,
    /// Best BM25 score first.
    Relevance,
}

/// Where the previous page ended: the next page starts strictly after this hit.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "sort")]
pub enum Cursor {
    /// For [`Sort::Newest`].
    Newest {
        /// The last hit's publication time.
        published_at_ms: i64,
        /// The last hit's id.
        id: i64,
    },
    /// For [`Sort::Relevance`] (valid while the index does not change).
    Relevance {
        /// The last hit's score.
        score: f32,
        /// The last hit's id.
        id: i64,
    },
}

/// Restrictions on top of the query; an empty list means no restriction, several values any of them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Filters {
    /// Mentions that matched one of these stored queries.
    pub query_ids: Vec<i64>,
    /// From one of these sources (`bluesky`, `rss`…).
    pub sources: Vec<String>,
    /// In one of these languages (`fr`, `en`, `und`; `fr-CA` counts as `fr`).
    pub langs: Vec<String>,
    /// With one of these sentiment labels.
    pub sentiments: Vec<String>,
    /// Published at or after this instant (UTC milliseconds).
    pub from_ms: Option<i64>,
    /// Published strictly before this instant (UTC milliseconds).
    pub until_ms: Option<i64>,
}

/// One search in one workspace.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchRequest {
    /// The parsed query ([`relais_query::parse`]); `None` finds every mention of the workspace.
    pub query: Option<Node>,
    /// Restrictions on metadata and time.
    pub filters: Filters,
    /// Hit order.
    pub sort: Sort,
    /// Hits per page (1..=[`MAX_LIMIT`]).
    pub limit: usize,
    /// Hits to skip (`offset + limit` at most [`MAX_WINDOW`]).
    pub offset: usize,
    /// Start after this hit instead (the `next` of the previous page); excludes `offset`.
    pub after: Option<Cursor>,
    /// Whether to count the whole matching set by query, source, language, sentiment and day.
    pub facets: bool,
    /// The day facet's fixed offset from UTC, in minutes (`120` for UTC+2).
    pub day_offset_minutes: i32,
}

impl Default for SearchRequest {
    fn default() -> Self {
        Self {
            query: None,
            filters: Filters::default(),
            sort: Sort::Newest,
            limit: 50,
            offset: 0,
            after: None,
            facets: false,
            day_offset_minutes: 0,
        }
    }
}

impl SearchRequest {
    /// A request for `query` as typed by a person (blank finds everything), other fields default.
    pub fn parse(query: &str) -> Result<Self, SearchError> {
        let query = if query.trim().is_empty() { None } else { Some(relais_query::parse(query)?) };
        Ok(Self { query, ..Self::default() })
    }

    /// Checks the request and returns its filters in indexed (normalised) form.
    pub(crate) fn validate(&self) -> Result<Filters, SearchError> {
        if self.limit == 0 || self.limit > MAX_LIMIT {
            return Err(bad(
                format!("the page size must be between 1 and {MAX_LIMIT}"),
                format!("la taille de page doit être comprise entre 1 et {MAX_LIMIT}"),
            ));
        }
        if self.offset.saturating_add(self.limit) > MAX_WINDOW {
            return Err(bad(
                format!("pages stop at hit {MAX_WINDOW}: continue with the cursor of the previous page"),
                format!(
                    "les pages s’arrêtent au résultat {MAX_WINDOW} : continuez avec le curseur de la page précédente"
                ),
            ));
        }
        if self.after.is_some() && self.offset > 0 {
            return Err(bad(
                "give either an offset or a cursor, not both",
                "donnez soit un décalage, soit un curseur, pas les deux",
            ));
        }
        match (self.after, self.sort) {
            (Some(Cursor::Newest { .. }), Sort::Relevance) | (Some(Cursor::Relevance { .. }), Sort::Newest) => {
                return Err(bad(
                    "the cursor belongs to another sort order",
                    "le curseur appartient à un autre ordre de tri",
                ));
            }
            (Some(Cursor::Relevance { score, .. }), _) if !score.is_finite() => {
                return Err(bad("the cursor's score is not a number", "le score du curseur n’est pas un nombre"));
            }
            _ => {}
        }
        if self.day_offset_minutes.abs() > MAX_DAY_OFFSET_MINUTES {
            return Err(bad(
                "the day offset must be within ±18 hours",
                "le décalage horaire des jours doit être compris entre -18 et +18 heures",
            ));
        }
        self.normalized_filters()
    }

    fn normalized_filters(&self) -> Result<Filters, SearchError> {
        let f = &self.filters;
        let mut sources = Vec::with_capacity(f.sources.len());
        for s in &f.sources {
            sources.push(
                source_key(s).ok_or_else(|| bad(format!("unknown source {s:?}"), format!("source inconnue {s:?}")))?,
            );
        }
        let mut sentiments = Vec::with_capacity(f.sentiments.len());
        for s in &f.sentiments {
            let key = s.trim().to_ascii_lowercase();
            if !SENTIMENTS.contains(&key.as_str()) {
                return Err(bad(
                    format!("unknown sentiment {s:?}: expected negative, neutral or positive"),
                    format!("sentiment inconnu {s:?} : attendu negative, neutral ou positive"),
                ));
            }
            sentiments.push(key);
        }
        Ok(Filters {
            query_ids: f.query_ids.clone(),
            sources,
            langs: f.langs.iter().map(|l| lang_key(l)).collect(),
            sentiments,
            from_ms: f.from_ms,
            until_ms: f.until_ms,
        })
    }
}

fn bad(en: impl Into<String>, fr: impl Into<String>) -> SearchError {
    SearchError::InvalidRequest(Msg::new(en, fr))
}

/// One matching mention.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Hit {
    /// The SQL mention id.
    pub id: i64,
    /// Its BM25 score (0 when sorted by time: scores are not computed then).
    pub score: f32,
    /// Its publication time (UTC milliseconds).
    pub published_at_ms: i64,
}

/// A value of a facet and how many matching mentions have it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FacetCount<T> {
    /// The value.
    pub value: T,
    /// Matching mentions with it.
    pub count: u64,
}

/// A day (in the request's fixed offset) and how many matching mentions were published on it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayCount {
    /// The date, `YYYY-MM-DD`.
    pub date: String,
    /// When that day starts, UTC milliseconds.
    pub start_ms: i64,
    /// Matching mentions published that day.
    pub count: u64,
}

/// Counts over the whole matching set (not only the page). Values are sorted by count, descending
/// (ties by value); days chronologically.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Facets {
    /// By stored query (a mention matching two queries counts for both).
    pub queries: Vec<FacetCount<i64>>,
    /// By source.
    pub sources: Vec<FacetCount<String>>,
    /// By language key.
    pub langs: Vec<FacetCount<String>>,
    /// By sentiment label.
    pub sentiments: Vec<FacetCount<String>>,
    /// By day.
    pub days: Vec<DayCount>,
}

/// The answer to a search.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SearchResults {
    /// How many mentions match (the whole set, not the page).
    pub total: u64,
    /// The page.
    pub hits: Vec<Hit>,
    /// The cursor for the next page, when this page is full.
    pub next: Option<Cursor>,
    /// The facets, when asked for.
    pub facets: Option<Facets>,
}
