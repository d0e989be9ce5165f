//! Fuzz target: for a query and a post cut from the input (at the first NUL byte), the compiled
//! matcher agrees with the naive evaluator and nothing panics.
#![no_main]

use libfuzzer_sys::fuzz_target;
use relais_listen::matcher::Matcher;
use relais_query::eval::{analyze, matches};
use relais_query::{Doc, parse};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let (query, post) = text.split_once('\0').unwrap_or((text, ""));
    let Ok(node) = parse(query) else { return };
    let doc = Doc { text: post, title: Some(post), lang: Some("fr"), ..Doc::default() };
    let expected = matches(&node, &analyze(&doc));
    let m = Matcher::new([&node]).expect("matcher");
    assert_eq!(m.matches(&doc) == vec![0], expected);
});
