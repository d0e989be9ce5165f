//! The full-text index of listening mentions: tantivy with French and English analyzers, searched
//! with the listening query language, with facets by query, source, language, sentiment and day.
//!
//! The SQL mention row stays the source of truth: the index holds what search needs (no stored
//! text), a hit returns the mention id, and the index can be rebuilt from SQL at any time.
//!
//! # Schema ([`schema::Fields`])
//!
//! | field | content | how |
//! |---|---|---|
//! | `id` | SQL mention id | i64, indexed (deletes) and fast (hits, cursors) |
//! | `workspace` | tenant | i64, indexed: **every search requires it** |
//! | `query` | stored query ids matched | u64 multi-valued, indexed (filter) and fast (facet) |
//! | `source`, `lang`, `sentiment` | folded source, language primary subtag (`und` if none), label | keyword, indexed and fast (filters, facets by term ordinal) |
//! | `sentiment_score`, `published` | score, UTC ms | fast (sort, time range, day facet) |
//! | `author`, `domain` | every key [`relais_query::doc::for_each_meta_key`] gives: `bob@mastodon.social` and `bob`; `blog.lemonde.fr`, `lemonde.fr`, `fr` | keyword |
//! | `raw` | the text as received | stored (document store, LZ4 blocks of 1 KB): what `raw:` checks |
//! | `exact` | the text's words as written, when folding would change them (`Orange`, `été`), cut as the matcher cuts words, with a marker for the folded word it gives (`~orange`; also for words too long to hold themselves); each emoji | frequencies, no positions: `raw:` |
//! | `body`, `title` | text, title: **folded, unstemmed, every document** | analyzer `relais_fold`, positions |
//! | `body_fr`, `title_fr` | the same text for documents whose language is `fr` | `relais_fr`, positions |
//! | `body_en`, `title_en` | for documents whose language is `en` | `relais_en`, positions |
//! | `body_tags`, `title_tags` | `#hashtags` and `@mentions` with their sigil, from [`relais_query::text::tokenize`] | keyword |
//!
//! # Analyzers ([`schema`])
//!
//! - `relais_exact`: [`schema::ExactWords`], the matcher's words as written, only those folding
//!   changes, with their folded markers;
//! - `relais_fold`: [`schema::FoldWords`], the matcher's words cut and folded as the matcher does
//!   ([`relais_query::text::for_each_word`]: hashtags and handles as their plain words), each at
//!   its position; a word of 100 bytes or more leaves its position empty;
//! - `relais_fr`: the same, then `StopWordFilter(French) → Stemmer(French)` (Snowball, via
//!   tantivy's `frostem`, behind a cache of the words already stemmed: `schema::CachedStemmer`);
//!   `relais_en` likewise in English.
//!
//! Stemming runs after folding on both sides (documents and query words), so it is consistent
//! even though Snowball is written for accented words. Stop words are matched after folding:
//! accented ones (`été`, `à`) stay indexed in their folded form, which only costs space.
//!
//! # Query translation ([`relais_query::Node`] → tantivy)
//!
//! - **Word**: analysed by each analyzer and OR'ed across the folded, French and English fields
//!   (a stop word simply drops out of the stemmed fields). Search is therefore **stemmed** in
//!   French and English documents: `cafés` finds `café`, `run` finds `running`. The listening
//!   matcher compares whole folded tokens (`café` does not match `cafés`). Other languages are
//!   only folded.
//! - **`word*`**: every term of the folded field starting with the folded prefix (a regex
//!   automaton over the term dictionary), in any language, like the matcher.
//! - **`#tag`, `@handle`**: a keyword lookup, exactly like the matcher (`#cafe` does not find the
//!   word `cafe`; `@sncf` finds `@sncf@mastodon.social`). `#tag*` is a prefix over the keywords.
//!   Difference: the text fields hold a hashtag's or a handle's plain words, so the plain word
//!   `greve` also finds `#grève` in search, which the matcher does not.
//! - **`"a b c"`**: a phrase in each field whose analyzer keeps every word; with a stop word inside,
//!   only the folded field (exact) is used. Sigils inside phrases are ignored.
//! - **`x NEAR/n y`, `ONEAR/n`**: when each side is a word or an `OR` of words and there are at most
//!   [`MAX_NEAR_PAIRS`] word pairs, each pair becomes phrases with slop in each field whose
//!   analyzer keeps both words, exactly as the matcher counts (at most `n` words between, `ONEAR`
//!   ordered). tantivy's slop is symmetric (`[(0, a), (c, b)]` with slop `s` accepts
//!   `pos(b) - pos(a)` in `[c - s, c + s]`), so the interval `[1, n + 1]` is covered by one or two
//!   phrases and `NEAR` adds the reversed pair. Other sides (phrases, prefixes, nested `NEAR`,
//!   larger groups) become a `near::NearQuery` in each field that can express them (a prefix:
//!   the folded field only), which computes the matcher's spans from the positions: exact too. A
//!   side with a `#tag` or an `@handle` (keywords, no positions) becomes an **`AND`** of both
//!   sides: broader than the matcher.
//! - For phrases and `NEAR`, when both stemmed fields have the words, the folded clause is
//!   restricted to documents in other languages (stems of equal folded words are equal, so it
//!   would only find French and English documents again, at the cost of a second walk over
//!   positions): same results, about half the work (BENCHMARKS.md).
//! - **`AND` / `OR` / `NOT`**: boolean must / should / must-not; a `NOT` with no positive sibling
//!   is paired with the workspace clause (`a OR (b -c)` works without matching other tenants).
//! - **`raw:`**: exactly the matcher's `raw:` (case, accents, punctuation, not glued to a word
//!   character; [`relais_query::eval::raw_occurs`]), anywhere in the query (`raw.rs`), from
//!   postings alone when the pattern is one word:
//!   - a word folding would change (`raw:Orange`, `raw:SNCF`, `raw:Éric`): a lookup in the
//!     `exact` field;
//!   - a word it does not change (`raw:orange`): the documents whose folded field holds the word
//!     more often than the `exact` field holds its marker `~orange` (one per word written
//!     otherwise that folds to it, [`schema::ExactWords`]);
//!   - one emoji (`raw:😡`): a lookup in the `exact` field, which holds each emoji of a text;
//!   - any other pattern (`raw:"C++"`, `raw:"Service Client"`, `raw:👍🏽`): the documents holding
//!     its folded words in sequence, its words folding would change and its emoji, each checked
//!     against its stored text, about 2 µs per candidate at 10M mentions. A pattern with none of
//!     these (`raw:":)"`) checks every text of the workspace.
//! - **Filters** (`lang:`, `author:`, `site:`, `source:`): a keyword lookup on the keys the matcher
//!   uses, so `site:lemonde.fr` finds `www.blog.lemonde.fr` and `author:bob` finds
//!   `bob@mastodon.social`, exactly as in listening.
//! - Text fields cut and fold words as the matcher does (one tokenizer, [`relais_query::text`];
//!   decomposed accents and every script included); they differ on sigils (above): a handle or a
//!   hashtag joined by `_`, `.` or `-` is one token in the matcher and several words in search
//!   (`@alice.bsky.social`: three; `@user@instance`: three), so a phrase or a `NEAR` counted
//!   across one counts more words in search; and on words of 100 bytes or more (not indexed).
//!
//! On unstemmed documents (language `und`) of plain words, for words, prefixes, phrases, `title:`,
//! `source:`, `AND`/`OR`/`NOT` and `NEAR` between words, prefixes, phrases, `OR`s of them and
//! nested `NEAR`, search finds exactly what the naive evaluator matches (property test
//! `tests/props.rs`), and `raw:` finds exactly what the matcher's `raw:` does (same file, on texts
//! of mixed case, accents, punctuation and glued words). Search never panics on a query the parser accepts (same test file; one
//! tantivy 0.27 debug assertion on excluded phrases is worked around in `guard.rs`).
//!
//! # Searching ([`SearchIndex::search`])
//!
//! The query is always `workspace AND query AND filters` (filters: query ids, sources, languages,
//! sentiments as term lookups that do not score; the time range inside the collector). One
//! collector pass computes the total, the top `offset + limit` hits (newest first by default, ties
//! by id; or BM25 relevance) after an optional search-after [`Cursor`], and, with `facets`, the
//! counts over the **whole matching set** by query id, source, language, sentiment (per segment by
//! term ordinal) and day (UTC, or a fixed offset). Offsets stop at [`request::MAX_WINDOW`]; cursors
//! go on.
//!
//! # Writing ([`MentionWriter`])
//!
//! One writer per index (tantivy locks the directory; a second one gets [`SearchError::Locked`]).
//! Changes are buffered and become durable and searchable at [`MentionWriter::commit`], which
//! syncs a segment: commit in batches. `add` indexes a new mention, `replace` re-indexes one,
//! `delete` removes one from the results; its words and stored text stay in the segment's files
//! until the segment is merged, which [`MentionWriter::purge_deleted`] does at once for every
//! segment holding deleted documents (erasures must leave the disk too). Changes reach tantivy's
//! indexing threads in batches of 64 (one channel message each). Throughput, size and latency at
//! 10 million mentions: BENCHMARKS.md.
//!
//! An index whose schema is not this version's (written by an earlier one, or with other
//! analyzers: the schema holds [`schema::LAYOUT_VERSION`]), or that cannot be read (a damaged
//! `meta.json`, a missing segment file), is replaced by an empty index on open
//! ([`SearchIndex::was_rebuilt`]): the SQL rows are the truth, it is rebuilt from them.

mod collect;
pub mod doc;
pub mod error;
mod guard;
pub mod index;
mod near;
mod raw;
pub mod request;
pub mod schema;
mod translate;

pub use doc::MentionDoc;
pub use error::SearchError;
pub use index::{MERGE_SEGMENTS, MentionWriter, Rebuilt, SearchIndex, WriterOptions};
pub use request::{Cursor, DayCount, FacetCount, Facets, Filters, Hit, SearchRequest, SearchResults, Sort};
pub use translate::MAX_NEAR_PAIRS;
