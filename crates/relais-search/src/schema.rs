//! The index schema (one tantivy field per role) and the three text analyzers, registered on every
//! index this crate opens.

use relais_query::text::is_word_char;
use rustc_hash::FxHashMap;
use tantivy::schema::{
    FAST, Field, INDEXED, IndexRecordOption, NumericOptions, STORED, STRING, Schema, TextFieldIndexing, TextOptions,
};
use tantivy::tokenizer::{
    AsciiFoldingFilter, Language, LowerCaser, RawTokenizer, RemoveLongFilter, SimpleTokenizer, Stemmer, StopWordFilter,
    TextAnalyzer, TextAnalyzerBuilder, Token, TokenFilter, TokenStream, Tokenizer, TokenizerManager,
};

/// The version of what the analyzers put in the index. It is in the schema (an empty field
/// named after it), so an index written by another version is rebuilt on open
/// (`SearchIndex::open_or_create`). Bump it whenever a tokenizer or filter changes what is
/// indexed without changing the fields.
pub const LAYOUT_VERSION: u32 = 1;

/// Tokens of this many bytes or more are not indexed (tantivy's own default is 40; posts carry
/// long compound hashtags and URLs, so we keep more).
pub const MAX_TOKEN_BYTES: usize = 100;

/// Analyzer of the folded, unstemmed fields: every language, prefixes and `raw:`.
pub const FOLD_ANALYZER: &str = "relais_fold";
/// Analyzer of the French fields: folded, French stop words removed, French Snowball stems.
pub const FR_ANALYZER: &str = "relais_fr";
/// Analyzer of the English fields: folded, English stop words removed, English Snowball stems.
pub const EN_ANALYZER: &str = "relais_en";
/// Analyzer of the exact words field: words as written, those a fold would change ([`ExactWords`]).
pub const EXACT_ANALYZER: &str = "relais_exact";

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
    /// The post's text as received, stored (not indexed): what `raw:` checks its candidates
    /// against.
    pub raw: Field,
    /// The text's words as written, when folding would change them (`Orange`, `été`, `SNCF`),
    /// and a marker for each folded token they give (`~orange`), with frequencies, no
    /// positions: how `raw:` finds words exactly without reading texts ([`ExactWords`]).
    pub exact: Field,
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
        b.add_text_field(&format!("layout_{LAYOUT_VERSION}"), TextOptions::default());
        let raw = b.add_text_field("raw", STORED);
        let exact = b.add_text_field(
            "exact",
            TextOptions::default().set_indexing_options(
                TextFieldIndexing::default()
                    .set_tokenizer(EXACT_ANALYZER)
                    .set_index_option(IndexRecordOption::WithFreqs),
            ),
        );
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
            raw,
            exact,
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

/// Registers the four analyzers (they are not persisted with the index: every open registers them).
pub fn register_analyzers(manager: &TokenizerManager) {
    manager.register(FOLD_ANALYZER, fold_analyzer());
    manager.register(FR_ANALYZER, stemming_analyzer(Language::French));
    manager.register(EN_ANALYZER, stemming_analyzer(Language::English));
    manager.register(EXACT_ANALYZER, TextAnalyzer::from(ExactWords::default()));
}

/// The words of `text` as the listening matcher cuts them (runs of
/// [`relais_query::text::is_word_char`]), unfolded, with their byte ranges.
pub fn word_runs(text: &str) -> impl Iterator<Item = (usize, &str)> {
    let mut at = 0;
    std::iter::from_fn(move || {
        let start = at + text[at..].find(is_word_char)?;
        let end = text[start..].find(|c: char| !is_word_char(c)).map_or(text.len(), |e| start + e);
        at = end;
        Some((start, &text[start..end]))
    })
}

/// Whether `word` (a word run) goes in the exact field: folding would change it (an upper-case
/// letter, an accent, any non-ASCII letter) and it is not too long to index. Lower-case ASCII
/// words are their own folded form: the folded field already has them.
pub fn is_exact_word(word: &str) -> bool {
    word.len() < MAX_TOKEN_BYTES && !is_folded_form(word)
}

/// Whether `word` is its own folded form: lower-case ASCII letters and digits only.
pub fn is_folded_form(word: &str) -> bool {
    word.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
}

/// What a marker token of the exact field starts with (never in a word: not a word character).
pub const MARKER: char = '~';

/// Whether `c` is an emoji or a pictograph (U+1F000..U+1FAFF, U+2600..U+27BF) and not a word
/// character: each one in a text is a token of the exact field, so `raw:😡` is a lookup.
pub fn is_emoji(c: char) -> bool {
    matches!(c as u32, 0x1F000..=0x1FAFF | 0x2600..=0x27BF) && !is_word_char(c)
}

/// The exact field's tokenizer. For each of the text's [`word_runs`] that folding changes
/// ([`is_exact_word`]'s `Orange`, `été`, `SNCF`), in order: the word as written, then a marker
/// `~x` for each folded token `x` the folded field gets from that word (`~orange`, `~ete`).
///
/// So in a document, the folded field's frequency of a word `w` minus the exact field's
/// frequency of `~w` is how many times `w` occurs as written, a whole word: every folded token
/// comes from one word of the matcher (tantivy's words are runs of letters and digits, always
/// inside one), and a word that folding does not change (lower-case ASCII letters and digits)
/// gives exactly itself. That is how `raw:orange` is answered without reading texts. Then each
/// emoji of the text ([`is_emoji`]), one token each.
#[derive(Clone)]
pub struct ExactWords {
    fold: TextAnalyzer,
    token: Token,
    /// The tokens of the text being read, back to back, and where each ends.
    buf: String,
    ends: Vec<usize>,
}

impl Default for ExactWords {
    fn default() -> Self {
        Self { fold: fold_analyzer(), token: Token::default(), buf: String::new(), ends: Vec::new() }
    }
}

impl Tokenizer for ExactWords {
    type TokenStream<'a> = ExactWordStream<'a>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> ExactWordStream<'a> {
        self.token.reset();
        self.buf.clear();
        self.ends.clear();
        for (_, word) in word_runs(text).filter(|(_, w)| !is_folded_form(w)) {
            if is_exact_word(word) {
                self.buf.push_str(word);
                self.ends.push(self.buf.len());
            }
            let mut folded = self.fold.token_stream(word);
            while folded.advance() {
                self.buf.push(MARKER);
                self.buf.push_str(&folded.token().text);
                self.ends.push(self.buf.len());
            }
        }
        for c in text.chars().filter(|c| !c.is_ascii() && is_emoji(*c)) {
            self.buf.push(c);
            self.ends.push(self.buf.len());
        }
        ExactWordStream { buf: &self.buf, ends: &self.ends, next: 0, token: &mut self.token }
    }
}

/// The token stream of [`ExactWords`].
pub struct ExactWordStream<'a> {
    buf: &'a str,
    ends: &'a [usize],
    next: usize,
    token: &'a mut Token,
}

impl TokenStream for ExactWordStream<'_> {
    fn advance(&mut self) -> bool {
        let Some(&end) = self.ends.get(self.next) else { return false };
        let start = if self.next == 0 { 0 } else { self.ends[self.next - 1] };
        self.next += 1;
        self.token.position = self.token.position.wrapping_add(1);
        self.token.text.clear();
        self.token.text.push_str(&self.buf[start..end]);
        true
    }

    fn token(&self) -> &Token {
        self.token
    }

    fn token_mut(&mut self) -> &mut Token {
        self.token
    }
}

/// `SimpleTokenizer → RemoveLongFilter → LowerCaser → AsciiFoldingFilter`, to build on.
fn folded_chain() -> TextAnalyzerBuilder<impl Tokenizer> {
    TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(MAX_TOKEN_BYTES))
        .filter(LowerCaser)
        .filter(AsciiFoldingFilter)
}

/// The language's stop words (none for a language tantivy has no list for).
fn stop_words(language: Language) -> StopWordFilter {
    StopWordFilter::new(language).unwrap_or_else(|| StopWordFilter::remove(Vec::new()))
}

/// `SimpleTokenizer → RemoveLongFilter → LowerCaser → AsciiFoldingFilter`.
pub fn fold_analyzer() -> TextAnalyzer {
    folded_chain().build()
}

/// The folded chain followed by the language's stop words and Snowball stemmer.
pub fn stemming_analyzer(language: Language) -> TextAnalyzer {
    folded_chain().filter(stop_words(language)).filter(CachedStemmer(language)).build()
}

/// Words a [`CachedStemmer`] remembers before it starts over (about 1 MB per analyzer, four per
/// indexing thread; the Zipf head of a language fits).
const STEM_CACHE_WORDS: usize = 20_000;

/// tantivy's Snowball [`Stemmer`] behind a cache of the words it already stemmed: words follow a
/// Zipf law, so most tokens of a segment are words seen before, and a hash lookup costs a
/// fraction of the stemming (which took about 10 % of an indexing run's CPU). Same stems as
/// [`Stemmer`]: a miss asks it.
#[derive(Debug, Clone, Copy)]
pub struct CachedStemmer(pub Language);

impl TokenFilter for CachedStemmer {
    type Tokenizer<T: Tokenizer> = CachedStemmerFilter<T>;

    fn transform<T: Tokenizer>(self, inner: T) -> CachedStemmerFilter<T> {
        let stemmer = TextAnalyzer::builder(RawTokenizer::default()).filter(Stemmer::new(self.0)).build();
        CachedStemmerFilter { inner, stemmer, cache: FxHashMap::default() }
    }
}

/// The tokenizer a [`CachedStemmer`] makes; the cache lives as long as the analyzer (one per
/// field of a segment being written).
#[derive(Clone)]
pub struct CachedStemmerFilter<T> {
    inner: T,
    stemmer: TextAnalyzer,
    cache: FxHashMap<String, String>,
}

impl<T: Tokenizer> Tokenizer for CachedStemmerFilter<T> {
    type TokenStream<'a> = CachedStemmerStream<'a, T::TokenStream<'a>>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> Self::TokenStream<'a> {
        CachedStemmerStream { tail: self.inner.token_stream(text), stemmer: &mut self.stemmer, cache: &mut self.cache }
    }
}

/// The token stream of a [`CachedStemmerFilter`].
pub struct CachedStemmerStream<'a, S> {
    tail: S,
    stemmer: &'a mut TextAnalyzer,
    cache: &'a mut FxHashMap<String, String>,
}

impl<S: TokenStream> TokenStream for CachedStemmerStream<'_, S> {
    fn advance(&mut self) -> bool {
        if !self.tail.advance() {
            return false;
        }
        let token = self.tail.token_mut();
        if let Some(stem) = self.cache.get(token.text.as_str()) {
            token.text.clear();
            token.text.push_str(stem);
            return true;
        }
        let mut stream = self.stemmer.token_stream(&token.text);
        let stem = if stream.advance() { stream.token().text.clone() } else { token.text.clone() };
        drop(stream);
        if self.cache.len() >= STEM_CACHE_WORDS {
            self.cache.clear();
        }
        let word = std::mem::replace(&mut token.text, stem.clone());
        self.cache.insert(word, stem);
        true
    }

    fn token(&self) -> &Token {
        self.tail.token()
    }

    fn token_mut(&mut self) -> &mut Token {
        self.tail.token_mut()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(analyzer: &mut TextAnalyzer, text: &str) -> Vec<(usize, String)> {
        let mut out = Vec::new();
        let mut stream = analyzer.token_stream(text);
        while stream.advance() {
            out.push((stream.token().position, stream.token().text.clone()));
        }
        out
    }

    #[test]
    fn exact_words_are_the_matchers_words_that_folding_changes() {
        let mut exact = TextAnalyzer::from(ExactWords::default());
        let words: Vec<String> = tokens(&mut exact, "L'été de C++ à Paris, orange 2026 SNCF e\u{301}te\u{301}…5G")
            .into_iter()
            .map(|(_, t)| t)
            .collect();
        assert_eq!(
            words,
            [
                "L",
                "~l",
                "été",
                "~ete",
                "C",
                "~c",
                "à",
                "~a",
                "Paris",
                "~paris",
                "SNCF",
                "~sncf",
                "e\u{301}te\u{301}",
                "~e",
                "~te",
                "5G",
                "~5g"
            ]
        );
        assert!(tokens(&mut exact, "tout en minuscules 42").is_empty());
        let emoji: Vec<String> = tokens(&mut exact, "grève 😡😡 ✈️ ➀").into_iter().map(|(_, t)| t).collect();
        // U+FE0F (the variation selector of `✈️`) is a combining mark, so a word to the matcher;
        // `➀` is a digit.
        assert_eq!(emoji, ["grève", "~greve", "\u{fe0f}", "➀", "~1", "😡", "😡", "✈"]);
    }

    #[test]
    fn the_cached_stemmer_gives_the_snowball_stems() {
        let text = "Les grèves continuent, les trains ne circulent pas : grève reconduite ! \
                    The customers were running and complaining; running customers complain";
        for language in [Language::French, Language::English] {
            let mut plain = folded_chain().filter(stop_words(language)).filter(Stemmer::new(language)).build();
            let mut cached = stemming_analyzer(language);
            let expected = tokens(&mut plain, text);
            assert!(expected.iter().any(|(_, t)| t == "grev" || t == "custom"), "{language:?}: {expected:?}");
            // Twice: the second pass is served by the cache.
            assert_eq!(tokens(&mut cached, text), expected, "{language:?}");
            assert_eq!(tokens(&mut cached, text), expected, "{language:?}, cached");
        }
    }
}
