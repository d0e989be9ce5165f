-- The ids of mentions and of their erasures are handed out by the store from these marks, in the
-- transaction that writes the rows. The mark's row stays locked until that transaction commits,
-- so ids grow in commit order across every process: the search index follows both tables by id,
-- and with identity columns a transaction committing after a later one would leave its rows
-- behind the index's watermark, never indexed (or an erasure never applied).
CREATE TABLE listen_id_marks (
    name TEXT PRIMARY KEY,
    last BIGINT NOT NULL
);
INSERT INTO listen_id_marks (name, last) VALUES
    ('mentions', GREATEST(COALESCE((SELECT MAX(id) FROM mentions), 0),
                          COALESCE((SELECT MAX(mention_id) FROM mention_erasures), 0))),
    ('mention_erasures', COALESCE((SELECT MAX(id) FROM mention_erasures), 0));
ALTER TABLE mentions ALTER COLUMN id DROP IDENTITY;
ALTER TABLE mention_erasures ALTER COLUMN id DROP IDENTITY;
