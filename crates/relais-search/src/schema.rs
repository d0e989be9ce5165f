//! The index schema (one tantivy field per role) and the three text analyzers, registered on every
//! index this crate opens.

use tantivy::schema::{
    FAST, Field, INDEXED, IndexRecordOption, NumericOptions, STRING, Schema, TextFieldIndexing, TextOptions,
};
use tantivy::tokenizer::{
    AsciiFoldingFilter, Language, LowerCaser, RemoveLongFilter, SimpleTokenizer, Stemmer, StopWordFilter, TextAnalyzer,
    TokenizerManager,
};

/// Tokens longer than this many bytes are not indexed (tantivy's own default is 40; posts carry
/// long compound hashtags and URLs, so we keep more).
pub const MAX_TOKEN_BYTES: usize = 100;

/// Analyzer of the folded, unstemmed fields: every language, prefixes and `raw:`.
pub const FOLD_ANALYZER: &str = "relais_fold";
/// Analyzer of the French fields: folded, French stop words removed, French Snowball stems.
pub const FR_ANALYZER: &str = "relais_fr";
/// Analyzer of the English fields: folded, English stop words removed, English Snowball stems.
pub const EN_ANALYZER: &str = "relais_en";

/// The language-analyzed variants of a text (body or title), in the order queries OR them.
#[derive(Debug, Clone, Copy)]
pub struct TextFields {
    /// Folded, unstemmed: every document.
    pub fold: Field,
    /// French stems: documents whose language is `fr`.
    pub fr: Field,
    /// English stems: documents whose language is `en`.
    pub en: Field,
    /// Hashtags and mentions with their sigil (`#greve`, `@sncf`), one keyword each.
    pub tags: Field,
}

impl TextFields {
    /// The analyzed fields with their analyzer name: folded first.
    pub fn analyzed(&self) -> [(Field, &'static str); 3] {
        [(self.fold, FOLD_ANALYZER), (self.fr, FR_ANALYZER), (self.en, EN_ANALYZER)]
    }
}

/// Every field of the schema.
#[derive(Debug, Clone, Copy)]
pub struct Fields {
    /// The SQL mention id (indexed for deletes, fast for hits and cursors).
    pub id: Field,
    /// The workspace (tenant) id: indexed, every search requires it.
    pub workspace: Field,
    /// The stored queries the mention matched (multi-valued; indexed and fast for facets).
    pub query: Field,
    /// Folded source keyword (`bluesky`, `rss`…): indexed and fast.
    pub source: Field,
    /// Language primary subtag (`fr`, `en`, `und`): indexed and fast.
    pub lang: Field,
    /// Sentiment label (`negative`, `neutral`, `positive`): indexed and fast.
    pub sentiment: Field,
    /// Sentiment score (fast only).
    pub sentiment_score: Field,
    /// Publication time, UTC milliseconds (fast only: sort, time filter, day facet).
    pub published: Field,
    /// Author keys (`bob@mastodon.social` and `bob`).
    pub author: Field,
    /// Domain keys (the domain and each parent domain).
    pub domain: Field,
    /// The post's text.
    pub body: TextFields,
    /// The post's title.
    pub title: TextFields,
}

impl Fields {
    /// Builds the schema and its field handles.
    pub fn schema() -> (Schema, Fields) {
        let mut b = Schema::builder();
        let i64_key = NumericOptions::default().set_indexed().set_fast();
        let id = b.add_i64_field("id", i64_key.clone());
        let workspace = b.add_i64_field("workspace", INDEXED);
        let query = b.add_u64_field("query", INDEXED | FAST);
        let source = b.add_text_field("source", STRING | FAST);
        let lang = b.add_text_field("lang", STRING | FAST);
        let sentiment = b.add_text_field("sentiment", STRING | FAST);
        let sentiment_score = b.add_f64_field("sentiment_score", FAST);
        let published = b.add_i64_field("published", FAST);
        let author = b.add_text_field("author", STRING);
        let domain = b.add_text_field("domain", STRING);
        let mut text_fields = |prefix: &str| TextFields {
            fold: b.add_text_field(prefix, analyzed(FOLD_ANALYZER)),
            fr: b.add_text_field(&format!("{prefix}_fr"), analyzed(FR_ANALYZER)),
            en: b.add_text_field(&format!("{prefix}_en"), analyzed(EN_ANALYZER)),
            tags: b.add_text_field(&format!("{prefix}_tags"), STRING),
        };
        let body = text_fields("body");
        let title = text_fields("title");
        let fields = Fields {
            id,
            workspace,
            query,
            source,
            lang,
            sentiment,
            sentiment_score,
            published,
            author,
            domain,
            body,
            title,
        };
        (b.build(), fields)
    }
}

fn analyzed(analyzer: &str) -> TextOptions {
    TextOptions::default().set_indexing_options(
        TextFieldIndexing::default().set_tokenizer(analyzer).set_index_option(IndexRecordOption::WithFreqsAndPositions),
    )
}

/// Registers the three analyzers (they are not persisted with the index: every open registers them).
pub fn register_analyzers(manager: &TokenizerManager) {
    manager.register(FOLD_ANALYZER, fold_analyzer());
    manager.register(FR_ANALYZER, stemming_analyzer(Language::French));
    manager.register(EN_ANALYZER, stemming_analyzer(Language::English));
}

/// `SimpleTokenizer → RemoveLongFilter → LowerCaser → AsciiFoldingFilter`.
pub fn fold_analyzer() -> TextAnalyzer {
    TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(MAX_TOKEN_BYTES))
        .filter(LowerCaser)
        .filter(AsciiFoldingFilter)
        .build()
}

/// The folded chain followed by the language's stop words and Snowball stemmer.
pub fn stemming_analyzer(language: Language) -> TextAnalyzer {
    let builder = TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(MAX_TOKEN_BYTES))
        .filter(LowerCaser)
        .filter(AsciiFoldingFilter)
        .filter(StopWordFilter::new(language).unwrap_or_else(|| StopWordFilter::remove(Vec::new())))
        .filter(Stemmer::new(language));
    builder.build()
}
