//! The full-text index of listening mentions: tantivy with French and English analyzers, searched
//! with the listening query language, with facets by query, source, language, sentiment and day.
