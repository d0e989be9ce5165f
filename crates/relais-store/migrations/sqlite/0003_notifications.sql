-- Outgoing webhooks (SQLite): the workspace's endpoints (URLs encrypted: they are secrets) and the
-- notification outbox, delivered with retries.
CREATE TABLE webhooks (
    id INTEGER PRIMARY KEY,
    workspace_id INTEGER NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    url_sealed BLOB NOT NULL,
    url_hint TEXT NOT NULL,
    created_at INTEGER NOT NULL
);

CREATE TABLE notifications (
    id INTEGER PRIMARY KEY,
    workspace_id INTEGER NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    webhook_id INTEGER NOT NULL REFERENCES webhooks(id) ON DELETE CASCADE,
    event TEXT NOT NULL,
    payload TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    delivered_at INTEGER,
    last_error TEXT,
    created_at INTEGER NOT NULL
);
CREATE INDEX notifications_due ON notifications(delivered_at, next_attempt_at);
