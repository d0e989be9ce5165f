//! Enrichment of every post: language, sentiment, near-duplicate grouping.

pub mod eval;
pub mod fold;
pub mod lang;
pub mod sentiment;
