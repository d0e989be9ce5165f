-- The erasure log by erased mention id: the mentions id mark is kept above every id the log
-- holds (`Store::reserve_ids`), as migration 0008 started it, and that largest id must be one
-- index lookup, not a scan of the log, on every batch of mentions. An erased id handed out again
-- would be removed from the search index with the erasure (a log restored or written beside the
-- marks could otherwise lead there).
CREATE INDEX mention_erasures_mention ON mention_erasures(mention_id);
