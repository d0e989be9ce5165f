//! The full-text index of listening mentions: tantivy with French and English analyzers, searched
//! with the listening query language, with facets by query, source, language, sentiment and day.

mod collect;
pub mod doc;
pub mod error;
mod guard;
pub mod index;
pub mod request;
pub mod schema;
mod translate;

pub use doc::MentionDoc;
pub use error::SearchError;
pub use index::{MentionWriter, SearchIndex, WriterOptions};
pub use request::{Cursor, DayCount, FacetCount, Facets, Filters, Hit, SearchRequest, SearchResults, Sort};
pub use translate::MAX_NEAR_PAIRS;
