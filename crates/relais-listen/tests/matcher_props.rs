//! Property test: the compiled matcher finds exactly the queries the naive evaluator finds, on
//! random queries over a small vocabulary (so they match often) and random posts.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use proptest::prelude::*;
use relais_listen::matcher::{Matcher, Scratch};
use relais_query::eval::{analyze, matches};
use relais_query::{Doc, Node, parse};

const LEAVES: &[&str] = &[
    "cafe",
    "Café",
    "greve",
    "sncf",
    "train",
    "la",
    "prix",
    "orange",
    "#paris",
    "@bob",
    "tra*",
    "ora*",
    "gre*",
    "#par*",
    "\"la greve\"",
    "\"prix orange\"",
    "\"train train\"",
    "lang:fr",
    "lang:en",
    "source:bluesky",
    "author:bob",
    "site:lemonde.fr",
    "title:orange",
    "title:\"prix orange\"",
    "title:tra*",
    "raw:Orange",
    "raw:\"C++\"",
    "raw:la",
];

const WORDS: &[&str] = &[
    "café",
    "Café",
    "cafés",
    "CAFE",
    "greve",
    "GRÈVE",
    "grève",
    "sncf",
    "SNCF",
    "train",
    "trains",
    "la",
    "La",
    "prix",
    "Orange",
    "orange",
    "oranges",
    "#Paris",
    "#paris2024",
    "@bob",
    "@bob@mastodon.social",
    "C++",
    "Cpp",
    ",",
    "!",
    "l'orange",
    "tra",
    "#par",
    "x",
];

fn query() -> impl Strategy<Value = String> {
    let leaf = prop::sample::select(LEAVES).prop_map(str::to_owned);
    leaf.prop_recursive(4, 24, 3, |inner| {
        (inner.clone(), inner, 0..7u32, 0..3u32).prop_map(|(a, b, op, n)| match op {
            0 => format!("({a} AND {b})"),
            1 => format!("({a} OR {b})"),
            2 => format!("({a} {b})"),
            3 => format!("({a} -{b})"),
            4 => format!("({a} NEAR/{n} {b})"),
            5 => format!("({a} ONEAR/{n} {b})"),
            _ => format!("(NOT {a} {b})"),
        })
    })
}

#[derive(Debug, Clone)]
struct Post {
    text: String,
    title: Option<String>,
    lang: Option<&'static str>,
    author: Option<&'static str>,
    domain: Option<&'static str>,
    source: Option<&'static str>,
}

fn words(max: usize) -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(WORDS), 0..max).prop_map(|w| w.join(" "))
}

fn post() -> impl Strategy<Value = Post> {
    (
        prop_oneof![words(14), words(90)],
        prop::option::of(words(6)),
        prop::option::of(prop::sample::select(&["fr", "en", "fr-CA"][..])),
        prop::option::of(prop::sample::select(&["bob", "Bob@Mastodon.social", "alice.bsky.social"][..])),
        prop::option::of(prop::sample::select(&["www.lemonde.fr", "actu.lemonde.fr", "example.com"][..])),
        prop::option::of(prop::sample::select(&["bluesky", "rss"][..])),
    )
        .prop_map(|(text, title, lang, author, domain, source)| Post { text, title, lang, author, domain, source })
}

impl Post {
    fn doc(&self) -> Doc<'_> {
        Doc {
            text: &self.text,
            title: self.title.as_deref(),
            lang: self.lang,
            author: self.author,
            domain: self.domain,
            source: self.source,
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn compiled_matcher_equals_naive_evaluator(
        queries in prop::collection::vec(query(), 1..40),
        posts in prop::collection::vec(post(), 1..20),
    ) {
        let parsed: Vec<Node> = queries.iter().filter_map(|q| parse(q).ok()).collect();
        prop_assume!(!parsed.is_empty());
        let matcher = Matcher::new(&parsed).unwrap();
        let docs: Vec<Doc<'_>> = posts.iter().map(Post::doc).collect();
        let learned = Matcher::with_sample(&parsed, &docs[..docs.len() / 2]).unwrap();
        let mut scratch = Scratch::default();
        for p in &posts {
            let doc = p.doc();
            let analyzed = analyze(&doc);
            let expected: Vec<u32> = (0..parsed.len() as u32).filter(|i| matches(&parsed[*i as usize], &analyzed)).collect();
            let mut got = Vec::new();
            matcher.matches_into(&doc, &mut scratch, &mut got);
            got.sort_unstable();
            prop_assert_eq!(&got, &expected, "post {:?}", p);
            got.clear();
            learned.matches_into(&doc, &mut scratch, &mut got);
            got.sort_unstable();
            prop_assert_eq!(&got, &expected, "post {:?} (anchors from a sample)", p);
        }
    }
}

#[test]
fn hand_built_unanchored_query_is_always_evaluated() {
    let q = Node::Not(Box::new(parse("orange").unwrap()));
    let m = Matcher::new([&q]).unwrap();
    assert_eq!(m.stats().always, 1);
    assert_eq!(m.matches(&Doc::text("une pomme")), vec![0]);
    assert!(m.matches(&Doc::text("une orange")).is_empty());
}

#[test]
fn matches_examples() {
    let qs: Vec<Node> = ["café", "café*", "grève NEAR/2 sncf", "lang:fr orange", "title:prix", "raw:C++"]
        .iter()
        .map(|q| parse(q).unwrap())
        .collect();
    let m = Matcher::new(&qs).unwrap();
    assert_eq!(m.matches(&Doc::text("Deux CAFÉS")), vec![1]);
    assert_eq!(m.matches(&Doc::text("un café, la SNCF en grève")), vec![0, 1, 2]);
    let doc = Doc { text: "Orange et C++", title: Some("Les prix"), lang: Some("fr"), ..Doc::default() };
    assert_eq!(m.matches(&doc), vec![3, 4, 5]);
}

#[test]
fn anchors_prefer_terms_the_sample_shows_rare() {
    let q = [parse("\"livraison velotix\"").unwrap()];
    let sample = vec![Doc::text("ma livraison est en retard"); 10];
    let (mut s, mut out) = (Scratch::default(), Vec::new());
    // Without a sample, the longer word looks rarer: `livraison` is the anchor.
    let plain = Matcher::new(&q).unwrap();
    plain.matches_into(&Doc::text("livraison rapide"), &mut s, &mut out);
    assert_eq!(Matcher::last_candidates(&s), 1);
    // The sample shows `livraison` in every post: `velotix` becomes the anchor.
    let learned = Matcher::with_sample(&q, &sample).unwrap();
    learned.matches_into(&Doc::text("livraison rapide"), &mut s, &mut out);
    assert_eq!(Matcher::last_candidates(&s), 0);
    learned.matches_into(&Doc::text("velotix rapide"), &mut s, &mut out);
    assert_eq!(Matcher::last_candidates(&s), 1);
    assert!(out.is_empty());
    assert_eq!(learned.stats().always, 0);
}
