-- The ids of mentions and of their erasures are handed out by the store from these marks, in the
-- transaction that writes the rows (the mark's update is its first statement, so it holds the
-- write lock from the start). Ids then grow in commit order and are never handed out twice: the
-- search index follows both tables by id, and would miss a mention that took the id of a deleted
-- one (SQLite reuses the highest rowid once it is deleted).
CREATE TABLE listen_id_marks (
    name TEXT PRIMARY KEY,
    last INTEGER NOT NULL
);
INSERT INTO listen_id_marks (name, last) VALUES
    ('mentions', max(COALESCE((SELECT MAX(id) FROM mentions), 0),
                     COALESCE((SELECT MAX(mention_id) FROM mention_erasures), 0))),
    ('mention_erasures', COALESCE((SELECT MAX(id) FROM mention_erasures), 0));
