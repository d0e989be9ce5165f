-- The links of mentions to the queries they matched, keyed by mention (as on SQLite, where it
-- halves the B-tree inserts per link): the reads are by mention, and a batch of new mentions
-- appends to this key. The separate mention index is then redundant.
ALTER TABLE mention_queries DROP CONSTRAINT mention_queries_pkey;
ALTER TABLE mention_queries ADD PRIMARY KEY (mention_id, query_id);
DROP INDEX mention_queries_mention;
