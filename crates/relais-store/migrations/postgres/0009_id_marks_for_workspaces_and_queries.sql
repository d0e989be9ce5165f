-- Nothing to do on PostgreSQL: workspaces and listening queries take their ids from sequences,
-- which never hand an id out twice. (On SQLite this migration adds id marks for them; the version
-- numbers of both backends stay the same.)
SELECT 1;
