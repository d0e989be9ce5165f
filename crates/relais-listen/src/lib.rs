//! The listening engine: compiled stored-query matcher and per-post enrichment. CPU only: no IO.

pub mod corpus;
pub mod enrich;
pub mod matcher;
pub mod spike;
