//! Enrichment of every post: language, sentiment, near-duplicate grouping (work in progress, issue 4).
