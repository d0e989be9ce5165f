-- The links of mentions to the queries they matched, keyed by mention: a batch of new mentions
-- appends to this key instead of inserting at a thousand places, and the reads (a mention's
-- queries, "does this mention match that query", erasure) are by mention. Without a rowid and
-- without the separate mention index, a link costs two B-tree inserts instead of four (the
-- listening pipeline writes about three links per stored mention).
CREATE TABLE mention_queries_by_mention (
    mention_id INTEGER NOT NULL REFERENCES mentions(id) ON DELETE CASCADE,
    query_id INTEGER NOT NULL REFERENCES listen_queries(id) ON DELETE CASCADE,
    published_at INTEGER NOT NULL,
    PRIMARY KEY (mention_id, query_id)
) WITHOUT ROWID;
INSERT INTO mention_queries_by_mention (mention_id, query_id, published_at)
    SELECT mention_id, query_id, published_at FROM mention_queries;
DROP TABLE mention_queries;
ALTER TABLE mention_queries_by_mention RENAME TO mention_queries;
CREATE INDEX mention_queries_time ON mention_queries(query_id, published_at);
