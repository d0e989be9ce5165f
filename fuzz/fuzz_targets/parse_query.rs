//! Fuzz target: the query parser never panics, errors point inside the query, and a parsed
//! query's canonical form parses back to the same tree.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    match relais_query::parse(text) {
        Ok(node) => assert_eq!(relais_query::parse(&node.to_string()), Ok(node)),
        Err(e) => assert!(e.pos <= text.len() && text.is_char_boundary(e.pos)),
    }
});
