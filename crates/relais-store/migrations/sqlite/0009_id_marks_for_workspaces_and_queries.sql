-- SQLite hands the highest rowid out again once its row is deleted (`INTEGER PRIMARY KEY` without
-- `AUTOINCREMENT`). A workspace or a listening query created just after the newest one was
-- deleted took its id, so anything still holding the old id (posts in the listening pipeline,
-- matched against a snapshot of the queries) reached the new row: another tenant's workspace.
-- Their ids now come from these marks, like the mentions' (0008): the store raises the mark and
-- inserts the row with it, in one transaction, so no id is handed out twice. (The marks start at
-- the highest id present: the id of a newest row deleted before this migration may still be
-- handed out once more; nothing holds it across the restart an upgrade takes.)
INSERT INTO listen_id_marks (name, last) VALUES
    ('workspaces', COALESCE((SELECT MAX(id) FROM workspaces), 0)),
    ('listen_queries', COALESCE((SELECT MAX(id) FROM listen_queries), 0));
