//! The listening query language (« veille »): grammar, parser, AST and error positions.
//!
//! Work in progress (issue 4): the grammar is documented here as it lands.
