//! Helpers shared by the integration tests.

use relais_search::{MentionDoc, SearchIndex, WriterOptions};

/// An index in memory holding `docs`, committed.
pub fn index_of(docs: &[MentionDoc]) -> SearchIndex {
    let index = SearchIndex::in_ram().unwrap();
    let mut w = index.writer(WriterOptions { threads: 1, heap_bytes_per_thread: 15 << 20 }).unwrap();
    for d in docs {
        w.add(d).unwrap();
    }
    w.commit().unwrap();
    w.finish().unwrap();
    index
}
