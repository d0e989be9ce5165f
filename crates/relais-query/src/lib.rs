//! The listening query language (« veille »): grammar, parser, AST, normalisation, error positions
//! and a naive evaluator (the reference semantics for the compiled matcher in relais-listen).
//!
//! # Grammar
//!
//! ```text
//! query     = or_expr                                  (at most 4,096 characters)
//! or_expr   = and_expr { "OR" and_expr }
//! and_expr  = not_expr { [ "AND" ] not_expr }          (a blank between two operands is AND)
//! not_expr  = ( "NOT" | "-" ) not_expr | near_expr     ("-" glued to what it negates: -promo)
//! near_expr = primary { ( "NEAR/" n | "ONEAR/" n ) primary }      (0 <= n <= 20)
//! primary   = "(" or_expr ")"
//!           | "title:" ( word | phrase | "(" or_expr ")" )
//!           | "raw:" ( bare | phrase )
//!           | ( "lang:" | "author:" | "site:" | "domain:" | "source:" ) ( bare | phrase )
//!           | phrase | word
//! phrase    = '"' any characters but '"' '"'
//! word      = bare, optionally ending with "*" (at least 3 letters before it)
//! bare      = characters other than blanks, "(", ")" and '"'
//! ```
//!
//! Precedence: `NEAR` binds tightest, then `NOT`, then `AND`, then `OR`; but **`AND` and `OR` at
//! the same level without parentheses are refused** with a hint (`a b OR c` is ambiguous for most
//! people: write `(a b) OR c` or `a (b OR c)`). Operators are upper-case; `and`, `or`, `near` in
//! lower case are words.
//!
//! # Meaning
//!
//! - Words are compared token to token after folding (see [`text`]): case and accents do not
//!   matter (`café` matches `CAFE`, `Café`), but a word is a whole token (`café` does not match
//!   `cafés`; `café*` does). A word that folds into several tokens is a phrase (`l'état` =
//!   `"l etat"`). `#tag` and `@handle` are tokens of their own: `#cafe` does not match `cafe`.
//! - `"a b c"`: the tokens consecutively. `x NEAR/n y`: both occur, in either order, with at most
//!   `n` tokens between them; `ONEAR/n`: `x` first. The sides of `NEAR` are words, phrases, `OR`
//!   groups of them or other `NEAR`s, all in the same text (title or body).
//! - `title:` looks in the title instead of the text. `raw:` looks for the characters exactly as
//!   typed (case, accents, punctuation: `raw:"C++"`, `raw:Orange`), not glued to a letter or
//!   digit at an end where the pattern has one.
//! - Filters on metadata: `lang:fr` (the primary language subtag), `author:alice.bsky.social`
//!   (`author:bob` also matches `bob@mastodon.social`; a DID, `author:did:plc:…`, for Bluesky
//!   authors whose handle is unknown), `site:lemonde.fr` or `domain:` (the domain
//!   or any subdomain; `www.`, scheme and path are ignored), `source:bluesky`.
//! - A query must require something present: `-promo` or `marque OR -promo` are refused,
//!   otherwise they would match nearly every post.
//!
//! Errors ([`QueryError`]) carry a stable code, the byte offset and character column, and a
//! message in English and French. The parser never panics (property test and `fuzz/`).

pub mod ast;
pub mod doc;
pub mod error;
pub mod eval;
pub mod explain;
mod lexer;
mod parser;
pub mod text;

pub use ast::{FilterKind, Node, TextField};
pub use doc::Doc;
pub use error::{ErrorCode, QueryError};
pub use lexer::MAX_NEAR;
pub use parser::{MAX_DEPTH, MAX_QUERY_CHARS, MIN_PREFIX_CHARS, parse};
