-- Publishing engine (SQLite): per-target delivery state, per-part remote ids, the publish log,
-- channel health, the workspace's late policy and the sandbox network's timeline.
ALTER TABLE post_targets ADD COLUMN state TEXT NOT NULL DEFAULT 'scheduled';
ALTER TABLE post_targets ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE post_targets ADD COLUMN next_attempt_at INTEGER;
ALTER TABLE post_targets ADD COLUMN lease_owner TEXT;
ALTER TABLE post_targets ADD COLUMN lease_until INTEGER;
ALTER TABLE post_targets ADD COLUMN last_error TEXT;
ALTER TABLE post_targets ADD COLUMN remote_id TEXT;
ALTER TABLE post_targets ADD COLUMN remote_url TEXT;
ALTER TABLE post_targets ADD COLUMN published_at INTEGER;
CREATE INDEX post_targets_state ON post_targets(state, next_attempt_at);

CREATE TABLE target_parts (
    post_id INTEGER NOT NULL,
    channel_id INTEGER NOT NULL,
    part INTEGER NOT NULL,
    idempotency_key TEXT NOT NULL,
    remote_id TEXT,
    remote_cid TEXT,
    remote_url TEXT,
    published_at INTEGER,
    PRIMARY KEY (post_id, channel_id, part),
    FOREIGN KEY (post_id, channel_id) REFERENCES post_targets(post_id, channel_id) ON DELETE CASCADE
);

CREATE TABLE publish_attempts (
    id INTEGER PRIMARY KEY,
    post_id INTEGER NOT NULL REFERENCES posts(id) ON DELETE CASCADE,
    channel_id INTEGER NOT NULL,
    part INTEGER NOT NULL,
    worker TEXT NOT NULL,
    at INTEGER NOT NULL,
    outcome TEXT NOT NULL,
    message TEXT,
    latency_ms INTEGER NOT NULL
);
CREATE INDEX publish_attempts_post ON publish_attempts(post_id, id);

ALTER TABLE channels ADD COLUMN needs_reconnection INTEGER NOT NULL DEFAULT 0;
ALTER TABLE workspaces ADD COLUMN late_publish_secs INTEGER NOT NULL DEFAULT 3600;

CREATE TABLE sandbox_posts (
    id INTEGER PRIMARY KEY,
    channel_id INTEGER NOT NULL REFERENCES channels(id) ON DELETE CASCADE,
    idempotency_key TEXT NOT NULL,
    text TEXT NOT NULL,
    reply_to INTEGER,
    media INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    UNIQUE (channel_id, idempotency_key)
);
