//! Property tests: the parser never panics on arbitrary input, errors point inside the query,
//! and a parsed query's canonical form parses back to the same tree.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use proptest::prelude::*;
use relais_query::parse;

/// Query-like strings: operators, fields, quotes, parentheses, accents and noise.
fn query_like() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("AND".to_owned()),
        Just("OR".to_owned()),
        Just("NOT".to_owned()),
        Just("-".to_owned()),
        Just("(".to_owned()),
        Just(")".to_owned()),
        Just("\"".to_owned()),
        Just("*".to_owned()),
        Just("NEAR/2".to_owned()),
        Just("ONEAR/".to_owned()),
        Just("title:".to_owned()),
        Just("raw:".to_owned()),
        Just("lang:".to_owned()),
        Just("site:".to_owned()),
        Just("#".to_owned()),
        Just("@".to_owned()),
        Just(" ".to_owned()),
        "[a-zA-Zéèçœ'’0-9._:/-]{1,6}",
        any::<char>().prop_map(String::from),
    ];
    prop::collection::vec(piece, 0..24).prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4000))]

    #[test]
    fn never_panics_on_any_string(s in any::<String>()) {
        if let Err(e) = parse(&s) {
            prop_assert!(e.pos <= s.len() && s.is_char_boundary(e.pos));
        }
    }

    #[test]
    fn canonical_form_round_trips(s in query_like()) {
        match parse(&s) {
            Ok(node) => prop_assert_eq!(parse(&node.to_string()), Ok(node)),
            Err(e) => {
                prop_assert!(e.pos <= s.len() && s.is_char_boundary(e.pos));
                prop_assert_eq!(e.column, s[..e.pos].chars().count() + 1);
            }
        }
    }
}
