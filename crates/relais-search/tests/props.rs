#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Properties: search never panics on a query the parser accepts, and on unstemmed documents
//! (language `und`, plain words) it finds exactly what the naive evaluator (the matcher's
//! reference semantics) matches, for every operator it translates exactly.

mod common;
use common::index_of;
use proptest::prelude::*;
use relais_query::Doc;
use relais_query::eval::{analyze, matches};
use relais_search::{MentionDoc, SearchIndex, SearchRequest};
use std::collections::BTreeSet;
use std::sync::OnceLock;

const WORDS: [&str; 6] = ["orange", "sosh", "panne", "reseau", "promo", "fibre"];
const SOURCES: [&str; 2] = ["bluesky", "rss"];

/// A seeded generator: `next(m)` is in `0..m`.
fn rng(seed: u64) -> impl FnMut(u64) -> u64 {
    let mut state = seed;
    move |m| {
        state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        (state >> 33) % m
    }
}

/// A neutral mention in no language (`und`: folded, not stemmed), published at `id` ms.
fn und_doc(id: i64, workspace_id: i64, source: &str, title: Option<&str>, text: String) -> MentionDoc {
    MentionDoc {
        id,
        workspace_id,
        query_ids: vec![],
        source: source.into(),
        lang: "und".into(),
        sentiment: "neutral".into(),
        sentiment_score: 0.0,
        published_at_ms: id,
        author: None,
        domain: None,
        title: title.map(str::to_owned),
        text,
    }
}

fn corpus() -> &'static (SearchIndex, Vec<MentionDoc>) {
    static CORPUS: OnceLock<(SearchIndex, Vec<MentionDoc>)> = OnceLock::new();
    CORPUS.get_or_init(|| {
        let mut next = rng(42);
        let docs: Vec<MentionDoc> = (1..=400)
            .map(|id| {
                let len = 1 + next(9) as usize;
                let words: Vec<&str> = (0..len).map(|_| WORDS[next(WORDS.len() as u64) as usize]).collect();
                und_doc(
                    id,
                    1 + next(2) as i64,
                    SOURCES[next(2) as usize],
                    Some(WORDS[next(WORDS.len() as u64) as usize]),
                    words.join(" "),
                )
            })
            .collect();
        (index_of(&docs), docs)
    })
}

/// A `NEAR` operand other than words: a phrase, a prefix, an `OR` mixing them, a nested `NEAR`.
fn near_side() -> impl Strategy<Value = String> {
    let word = prop::sample::select(WORDS.to_vec()).prop_map(str::to_owned);
    let leaf = prop_oneof![
        2 => word.clone(),
        2 => prop::sample::select(WORDS.to_vec()).prop_map(|w| format!("{}*", &w[..3])),
        2 => prop::collection::vec(word, 2..4).prop_map(|v| format!("\"{}\"", v.join(" "))),
    ];
    leaf.prop_recursive(2, 6, 3, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 2..4).prop_map(|v| format!("({})", v.join(" OR "))),
            (inner.clone(), inner, 0u32..3, any::<bool>())
                .prop_map(|(l, r, d, o)| format!("({l} {}NEAR/{d} {r})", if o { "O" } else { "" })),
        ]
    })
}

/// The ids of workspace 1's documents the naive evaluator matches.
fn naive(node: &relais_query::Node, docs: &[MentionDoc]) -> BTreeSet<i64> {
    docs.iter()
        .filter(|d| d.workspace_id == 1)
        .filter(|d| {
            let doc = Doc {
                text: &d.text,
                title: d.title.as_deref(),
                lang: Some(&d.lang),
                source: Some(&d.source),
                ..Doc::default()
            };
            matches(node, &analyze(&doc))
        })
        .map(|d| d.id)
        .collect()
}

/// Query texts built from the corpus' words with every exactly-translated operator.
fn query() -> impl Strategy<Value = String> {
    let word = prop::sample::select(WORDS.to_vec()).prop_map(str::to_owned);
    let leaf = prop_oneof![
        4 => word.clone(),
        1 => prop::sample::select(WORDS.to_vec()).prop_map(|w| format!("{}*", &w[..3])),
        1 => (word.clone(), word.clone()).prop_map(|(a, b)| format!("\"{a} {b}\"")),
        1 => word.clone().prop_map(|w| format!("title:{w}")),
        1 => prop::sample::select(SOURCES.to_vec()).prop_map(|s| format!("source:{s}")),
        2 => (prop::collection::vec(word.clone(), 1..3), prop::collection::vec(word.clone(), 1..3), 0u32..4, any::<bool>())
            .prop_map(|(l, r, d, o)| {
                let side = |v: Vec<String>| if v.len() == 1 { v[0].clone() } else { format!("({})", v.join(" OR ")) };
                format!("{} {}NEAR/{d} {}", side(l), if o { "O" } else { "" }, side(r))
            }),
        3 => (near_side(), near_side(), 0u32..4, any::<bool>())
            .prop_map(|(l, r, d, o)| format!("{l} {}NEAR/{d} {r}", if o { "O" } else { "" })),
    ];
    leaf.prop_recursive(3, 12, 3, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 2..4).prop_map(|v| format!("({})", v.join(" OR "))),
            prop::collection::vec(inner.clone(), 2..4).prop_map(|v| format!("({})", v.join(" AND "))),
            (inner.clone(), inner).prop_map(|(a, b)| format!("({a} -{b})")),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn search_equals_the_naive_evaluator_on_unstemmed_text(q in query()) {
        let Ok(node) = relais_query::parse(&q) else { return Ok(()) };
        let (index, docs) = corpus();
        let req = SearchRequest { query: Some(node.clone()), limit: 1000, ..SearchRequest::default() };
        let got: BTreeSet<i64> = index.search(1, &req).unwrap().hits.iter().map(|h| h.id).collect();
        prop_assert_eq!(got, naive(&node, docs), "query {}", node);
    }

    #[test]
    fn near_operands_other_than_words_are_searched_exactly(
        (l, r, d, o) in (near_side(), near_side(), 0u32..4, any::<bool>())
    ) {
        // The parser must accept them, or the test above would skip them.
        let q = format!("{l} {}NEAR/{d} {r}", if o { "O" } else { "" });
        let node = relais_query::parse(&q);
        prop_assert!(node.is_ok(), "query {} refused: {:?}", q, node.err());
        let node = node.unwrap();
        let (index, docs) = corpus();
        let req = SearchRequest { query: Some(node.clone()), limit: 1000, ..SearchRequest::default() };
        let got: BTreeSet<i64> = index.search(1, &req).unwrap().hits.iter().map(|h| h.id).collect();
        prop_assert_eq!(got, naive(&node, docs), "query {}", node);
    }

    #[test]
    fn search_never_panics(q in "[a-zé#@*:\"()\\- /0-9]{0,60}|(NEAR/[0-9]|ONEAR/2|OR|AND|NOT| |raw:|title:|site:|\\(|\\)|\"|[a-z]{1,4}\\*?|#[a-z]{2}|-){1,12}") {
        let Ok(req) = SearchRequest::parse(&q) else { return Ok(()) };
        let (index, _) = corpus();
        for sort in [relais_search::Sort::Newest, relais_search::Sort::Relevance] {
            let req = SearchRequest { sort, facets: true, ..req.clone() };
            prop_assert!(index.search(1, &req).is_ok(), "query {:?}", q);
        }
    }
}

/// Pieces of texts for `raw:`: case, accents (also decomposed: a combining mark belongs to its
/// word, in the folded fields as in the matcher), punctuation, and words glued to others.
const RAW_PIECES: [&str; 24] = [
    "e\u{301}te\u{301}",
    "E\u{301}TE\u{301}",
    "\u{301}",
    "Orange",
    "orange",
    "ORANGE",
    "C++",
    "C",
    "c#",
    "l'été",
    "L'ETE",
    "été",
    "Apple",
    "Applesauce",
    "apple-pie",
    "5G",
    "+33",
    "!",
    "Sosh.",
    "Œuvre",
    "😡",
    "✈️",
    "👍🏽",
    "👍",
];

/// Documents (language `und`) made of [`RAW_PIECES`], separated by a space or glued together.
fn raw_corpus() -> &'static (SearchIndex, Vec<MentionDoc>) {
    static CORPUS: OnceLock<(SearchIndex, Vec<MentionDoc>)> = OnceLock::new();
    CORPUS.get_or_init(|| {
        let mut next = rng(7);
        let docs: Vec<MentionDoc> = (1..=300)
            .map(|id| {
                let mut text = String::new();
                for i in 0..1 + next(6) {
                    if i > 0 && next(4) > 0 {
                        text.push(' ');
                    }
                    text.push_str(RAW_PIECES[next(RAW_PIECES.len() as u64) as usize]);
                }
                und_doc(id, 1, "rss", None, text)
            })
            .collect();
        (index_of(&docs), docs)
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn raw_is_checked_exactly_against_the_stored_text(
        pieces in prop::collection::vec(prop::sample::select(RAW_PIECES.to_vec()), 1..3),
        glue in any::<bool>(),
        shape in 0..4u8,
    ) {
        let pattern = pieces.join(if glue { "" } else { " " });
        let raw = format!("raw:\"{}\"", pattern.replace('"', ""));
        let q = match shape {
            0 => raw,
            1 => format!("{raw} OR orange"),
            2 => format!("orange -{raw}"),
            _ => format!("({raw} OR sosh) AND (c OR apple OR ete OR orange)"),
        };
        let Ok(node) = relais_query::parse(&q) else { return Ok(()) };
        let (index, docs) = raw_corpus();
        let req = SearchRequest { query: Some(node.clone()), limit: 1000, ..SearchRequest::default() };
        let got: BTreeSet<i64> = index.search(1, &req).unwrap().hits.iter().map(|h| h.id).collect();
        prop_assert_eq!(got, naive(&node, docs), "query {}", node);
    }
}
