//! The index schema (one tantivy field per role) and the three text analyzers, registered on every
//! index this crate opens.

use relais_query::text::{for_each_word, is_word_char};
use rustc_hash::FxHashMap;
use tantivy::schema::{
    FAST, Field, INDEXED, IndexRecordOption, NumericOptions, STORED, STRING, Schema, TextFieldIndexing, TextOptions,
};
use tantivy::tokenizer::{
    Language, RawTokenizer, Stemmer, StopWordFilter, TextAnalyzer, Token, TokenFilter, TokenStream, Tokenizer,
    TokenizerManager,
};

/// The version of what the analyzers put in the index. It is in the schema (an empty field
/// named after it), so an index written by another version is rebuilt on open
/// (`SearchIndex::open_or_create`). Bump it whenever a tokenizer or filter changes what is
/// indexed without changing the fields.
pub const LAYOUT_VERSION: u32 = 2;

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

/// The words of `text` as written, cut as the listening matcher cuts them ([`for_each_word`]:
/// runs of word characters), in order: what a `raw:` pattern asks of the exact field.
pub fn written_words(text: &str) -> Vec<String> {
    let mut words = Vec::new();
    for_each_word(text, &mut String::new(), |word, _| words.push(word.to_owned()));
    words
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

/// The folded fields' tokenizer: the listening matcher's words ([`for_each_word`]: runs of word
/// characters, folded the same way, hashtags and handles as their plain words), each at its own
/// position; words of [`MAX_TOKEN_BYTES`] or more (once folded) are skipped, their position left
/// empty. One pass over the text, where tantivy's `SimpleTokenizer → LowerCaser →
/// AsciiFoldingFilter` took three and cut words differently (at combining marks: decomposed
/// accents split `e\u{301}te\u{301}` there).
#[derive(Clone, Default)]
pub struct FoldWords {
    scratch: String,
    tokens: Buffered,
}

impl Tokenizer for FoldWords {
    type TokenStream<'a> = BufferedStream<'a>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> BufferedStream<'a> {
        let tokens = &mut self.tokens;
        tokens.clear();
        let mut position = 0;
        for_each_word(text, &mut self.scratch, |_, word| {
            // A word of combining marks alone folds to nothing: no token, as in the matcher.
            if word.is_empty() {
                return;
            }
            if word.len() < MAX_TOKEN_BYTES {
                tokens.push(word, position);
            }
            position += 1;
        });
        tokens.stream()
    }
}

/// The exact field's tokenizer. For each of the text's words ([`for_each_word`]) that folding
/// changes ([`is_exact_word`]'s `Orange`, `été`, `SNCF`), in order: the word as written, then a marker
/// `~x` for the folded token `x` the folded field gets from that word (`~orange`, `~ete`), if it
/// gets one ([`FoldWords`]: the fold is not empty and not too long).
///
/// So in a document, the folded field's frequency of a word `w` minus the exact field's
/// frequency of `~w` is how many times `w` occurs as written, a whole word: each word gives the
/// folded field at most one token, its fold, and a word that folding does not change (lower-case
/// ASCII letters and digits) gives exactly itself. That is how `raw:orange` is answered without
/// reading texts. Then each emoji of the text ([`is_emoji`]), one token each.
#[derive(Clone, Default)]
pub struct ExactWords {
    scratch: String,
    tokens: Buffered,
}

impl Tokenizer for ExactWords {
    type TokenStream<'a> = BufferedStream<'a>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> BufferedStream<'a> {
        let tokens = &mut self.tokens;
        tokens.clear();
        for_each_word(text, &mut self.scratch, |word, folded| {
            if is_folded_form(word) {
                return;
            }
            if is_exact_word(word) {
                tokens.push(word, tokens.len());
            }
            if !folded.is_empty() && folded.len() < MAX_TOKEN_BYTES {
                tokens.push_marked(folded, tokens.len());
            }
        });
        if !text.is_ascii() {
            for c in text.chars().filter(|c| is_emoji(*c)) {
                tokens.push(c.encode_utf8(&mut [0; 4]), tokens.len());
            }
        }
        tokens.stream()
    }
}

/// Tokens computed ahead into one buffer (the tokenizers above read a text in one push-style
/// pass; tantivy pulls tokens from a stream).
#[derive(Clone, Default)]
struct Buffered {
    token: Token,
    buf: String,
    /// Where each token ends in `buf`, and its position.
    ends: Vec<(usize, usize)>,
}

impl Buffered {
    fn clear(&mut self) {
        self.token.reset();
        self.buf.clear();
        self.ends.clear();
    }

    fn len(&self) -> usize {
        self.ends.len()
    }

    fn push(&mut self, token: &str, position: usize) {
        self.buf.push_str(token);
        self.ends.push((self.buf.len(), position));
    }

    /// Pushes [`MARKER`] and `token` as one token.
    fn push_marked(&mut self, token: &str, position: usize) {
        self.buf.push(MARKER);
        self.push(token, position);
    }

    fn stream(&mut self) -> BufferedStream<'_> {
        BufferedStream { buf: &self.buf, ends: &self.ends, next: 0, token: &mut self.token }
    }
}

/// The token stream of [`FoldWords`] and [`ExactWords`].
pub struct BufferedStream<'a> {
    buf: &'a str,
    ends: &'a [(usize, usize)],
    next: usize,
    token: &'a mut Token,
}

impl TokenStream for BufferedStream<'_> {
    fn advance(&mut self) -> bool {
        let Some(&(end, position)) = self.ends.get(self.next) else { return false };
        let start = if self.next == 0 { 0 } else { self.ends[self.next - 1].0 };
        self.next += 1;
        self.token.position = position;
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

/// The language's stop words (none for a language tantivy has no list for).
fn stop_words(language: Language) -> StopWordFilter {
    StopWordFilter::new(language).unwrap_or_else(|| StopWordFilter::remove(Vec::new()))
}

/// [`FoldWords`] alone.
pub fn fold_analyzer() -> TextAnalyzer {
    TextAnalyzer::from(FoldWords::default())
}

/// [`FoldWords`] followed by the language's stop words and Snowball stemmer.
pub fn stemming_analyzer(language: Language) -> TextAnalyzer {
    TextAnalyzer::builder(FoldWords::default()).filter(stop_words(language)).filter(CachedStemmer(language)).build()
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
    fn folded_words_are_the_matchers_plain_words_at_their_positions() {
        let long = "x".repeat(MAX_TOKEN_BYTES);
        let text = format!("#Grève e\u{301}te\u{301} {long} @bob@Mastodon.social Ωμέγα ½");
        let got = tokens(&mut fold_analyzer(), &text);
        let expected = [(0, "greve"), (1, "ete"), (3, "bob"), (4, "mastodon"), (5, "social"), (6, "ωμεγα"), (7, "12")];
        assert_eq!(got, expected.map(|(p, t)| (p, t.to_owned())));
        // Stop words leave their position empty in the stemmed fields, as a long word does.
        let stemmed = tokens(&mut stemming_analyzer(Language::French), "La grève des TRAINS");
        assert_eq!(stemmed, [(1, "grev".to_owned()), (3, "train".to_owned())]);
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
                "~ete",
                "5G",
                "~5g"
            ]
        );
        assert!(tokens(&mut exact, "tout en minuscules 42").is_empty());
        let emoji: Vec<String> = tokens(&mut exact, "grève 😡😡 ✈️ ➀").into_iter().map(|(_, t)| t).collect();
        // U+FE0F (the variation selector of `✈️`) is a combining mark, so a word to the matcher;
        // `➀` is a digit (its own fold: it has no compatibility decomposition).
        assert_eq!(emoji, ["grève", "~greve", "\u{fe0f}", "➀", "~➀", "😡", "😡", "✈"]);
    }

    #[test]
    fn the_cached_stemmer_gives_the_snowball_stems() {
        let text = "Les grèves continuent, les trains ne circulent pas : grève reconduite ! \
                    The customers were running and complaining; running customers complain";
        for language in [Language::French, Language::English] {
            let mut plain = TextAnalyzer::builder(FoldWords::default())
                .filter(stop_words(language))
                .filter(Stemmer::new(language))
                .build();
            let mut cached = stemming_analyzer(language);
            let expected = tokens(&mut plain, text);
            assert!(expected.iter().any(|(_, t)| t == "grev" || t == "custom"), "{language:?}: {expected:?}");
            // Twice: the second pass is served by the cache.
            assert_eq!(tokens(&mut cached, text), expected, "{language:?}");
            assert_eq!(tokens(&mut cached, text), expected, "{language:?}, cached");
        }
    }
}
