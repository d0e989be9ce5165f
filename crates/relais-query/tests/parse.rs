//! Parser tests, table-driven: a query and the canonical form it parses to, or the error code and
//! column it is refused with. Plus the evaluator's semantics on small posts.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use relais_query::eval::{analyze, matches};
use relais_query::{Doc, ErrorCode, parse};

/// `expected`: the canonical form (`Display`) or `err:<code>@<column>`.
fn check(input: &str, expected: &str) {
    let got = match parse(input) {
        Ok(node) => {
            let printed = node.to_string();
            assert_eq!(parse(&printed).as_ref(), Ok(&node), "canonical form of {input:?} must parse back");
            printed
        }
        Err(e) => {
            assert!(!e.message.en.is_empty() && !e.message.fr.is_empty());
            format!("err:{}@{}", e.code.as_str().trim_start_matches("query."), e.column)
        }
    };
    assert_eq!(got, expected, "query {input:?}");
}

#[test]
fn valid_queries() {
    check("Café", "cafe");
    check("café crème", "cafe AND creme");
    check("a AND b AND c", "a AND b AND c");
    check("a OR b OR c", "a OR b OR c");
    check("(a OR b) c", "(a OR b) AND c");
    check("(a b) OR c", "(a AND b) OR c");
    check("((a AND b) AND c)", "a AND b AND c");
    check("a -b NOT c", "a AND -b AND -c");
    check("a --b", "a AND b");
    check("\"Mise à jour\"", "\"mise a jour\"");
    check("\"seul\"", "seul");
    check("l'État", "\"l etat\"");
    check("boulang*", "boulang*");
    check("Déçu*", "decu*");
    check("#Macron* OR @Alice.bsky.social", "#macron* OR @alice.bsky.social");
    check("grève NEAR/3 SNCF", "greve NEAR/3 sncf");
    check("grève ONEAR/0 (train OR tgv)", "greve ONEAR/0 (train OR tgv)");
    check("a NEAR/2 b NEAR/5 c", "(a NEAR/2 b) NEAR/5 c");
    check("\"service client\" NEAR/4 nul*", "\"service client\" NEAR/4 nul*");
    check("lang:FR orange", "lang:fr AND orange");
    check("lang:fr-CA", "lang:fr");
    check("author:@Alice.bsky.social", "author:alice.bsky.social");
    check("author:did:plc:Z72i7hdynmk6r22z27h6tvur", "author:did:plc:z72i7hdynmk6r22z27h6tvur");
    check("author:did:web:example.com%3A8080", "author:did:web:example.com%3a8080");
    check("site:https://www.LeMonde.fr/politique x", "site:lemonde.fr AND x");
    check("domain:lemonde.fr", "site:lemonde.fr");
    check("source:bluesky -source:rss", "source:bluesky AND -source:rss");
    check("title:Orange", "title:orange");
    check("title:(grève OR \"mouvement social\")", "title:greve OR title:\"mouvement social\"");
    check("title:(a NEAR/2 b)", "title:a NEAR/2 title:b");
    check("raw:Google+", "raw:Google+");
    check("raw:\"C++ et Rust\"", "raw:\"C++ et Rust\"");
    check("raw:AND", "raw:AND");
    check("and or near", "and AND or AND near");
    check("10:30", "\"10 30\"");
    check("a\u{a0}b", "a AND b");
}

#[test]
fn refused_queries() {
    check("", "err:empty@1");
    check("   ", "err:empty@1");
    check("a b OR c", "err:mixed_and_or@5");
    check("a OR b c", "err:mixed_and_or@8");
    check("a AND b OR c", "err:mixed_and_or@9");
    check("\"abc", "err:unclosed_quote@1");
    check("é \"abc", "err:unclosed_quote@3");
    check("(a OR b", "err:unclosed_paren@1");
    check("a)", "err:unexpected_paren@2");
    check("()", "err:missing_operand@2");
    check("OR a", "err:missing_operand@1");
    check("a OR", "err:missing_operand@3");
    check("a AND", "err:missing_operand@3");
    check("a -", "err:missing_operand@3");
    check("a NEAR b", "err:bad_near@3");
    check("a NEAR/21 b", "err:bad_near@3");
    check("a NEAR/x b", "err:bad_near@3");
    check("(a b) NEAR/2 c", "err:bad_near_operand@1");
    check("a NEAR/2 -b", "err:bad_near_operand@10");
    check("a NEAR/2 lang:fr", "err:bad_near_operand@10");
    check("title:a NEAR/2 b", "err:bad_near_operand@9");
    check("bo*", "err:bad_wildcard@3");
    check("*abc", "err:bad_wildcard@1");
    check("ab*c", "err:bad_wildcard@3");
    check("l'éta*", "err:bad_wildcard@6");
    check("foo:bar", "err:unknown_field@1");
    check("http://example.com", "err:unknown_field@1");
    check("lang:", "err:bad_field_value@1");
    check("lang: fr", "err:bad_field_value@1");
    check("lang:français", "err:bad_field_value@6");
    check("source:a/b", "err:bad_field_value@8");
    check("author:alice:bob", "err:bad_field_value@8");
    check("title:lang:fr", "title:\"lang fr\"");
    check("+++", "err:no_word@1");
    check("-a", "err:only_negative@1");
    check("a OR -b", "err:only_negative@1");
    check("NOT (a b)", "err:only_negative@1");
}

#[test]
fn limits() {
    let long = "a ".repeat(2048) + "b";
    check(&long, "err:too_long@4097");
    let ok = "a ".repeat(2047) + "b";
    assert!(parse(&ok).is_ok());
    let deep = "(".repeat(100) + "a" + &")".repeat(100);
    check(&deep, "err:too_deep@65");
    let nots = "-".repeat(100) + "a";
    check(&nots, "err:too_deep@65");
}

fn m(query: &str, doc: Doc<'_>) -> bool {
    matches(&parse(query).unwrap(), &analyze(&doc))
}

#[test]
fn semantics() {
    let t = Doc::text;
    assert!(m("café", t("Un CAFE svp")));
    assert!(m("CAFE", t("Un café svp")));
    assert!(!m("café", t("deux cafés")));
    assert!(m("café*", t("deux cafés")));
    assert!(!m("deceu*", t("Très déçue")));
    assert!(m("decu*", t("Très déçue")));
    assert!(m("\"mise à jour\"", t("La MISE A JOUR est là")));
    assert!(!m("\"mise à jour\"", t("mise en jour à")));
    assert!(m("grève NEAR/2 sncf", t("sncf : la grève continue")));
    assert!(!m("grève ONEAR/2 sncf", t("sncf : la grève continue")));
    assert!(m("grève ONEAR/2 sncf", t("grève à la sncf")));
    assert!(!m("grève NEAR/1 sncf", t("grève à la sncf")));
    assert!(m("a NEAR/0 a", t("a a")));
    assert!(!m("a NEAR/0 a", t("a b")));
    assert!(m("#cafe", t("Vive le #Café !")));
    assert!(!m("cafe", t("Vive le #Café !")));
    assert!(m("@bob", t("merci @bob@mastodon.social")));
    assert!(m("raw:Orange", t("Chez Orange, rien")));
    assert!(!m("raw:Orange", t("une orange")));
    assert!(!m("raw:Orange", t("Oranges")));
    assert!(m("raw:\"C++\"", t("J'aime le C++!")));
    assert!(m("orange -raw:orange", t("ORANGE")));
    let doc = Doc {
        text: "Nouvelle offre",
        title: Some("Orange baisse ses prix"),
        lang: Some("fr-FR"),
        author: Some("Bob@Mastodon.Social"),
        domain: Some("www.actu.lemonde.fr"),
        source: Some("rss"),
    };
    assert!(m("title:orange offre", doc));
    assert!(!m("orange", doc));
    assert!(m("lang:fr source:rss offre", doc));
    assert!(m("author:bob offre", doc));
    assert!(m("author:bob@mastodon.social", doc));
    assert!(m("site:lemonde.fr", doc) && m("site:actu.lemonde.fr", doc) && !m("site:monde.fr", doc));
    assert!(!m("lang:en offre", doc));
    // A Bluesky author whose handle is unknown is its DID.
    let did = Doc { author: Some("did:plc:z72i7hdynmk6r22z27h6tvur"), ..doc };
    assert!(m("author:did:plc:z72i7hdynmk6r22z27h6tvur offre", did));
    assert!(!m("author:did:plc:other offre", did) && !m("author:bob", did));
}

#[test]
fn error_positions_count_characters() {
    let e = parse("éé a OR b c").unwrap_err();
    assert_eq!((e.code, e.pos, e.column), (ErrorCode::MixedAndOr, 7, 6));
}
