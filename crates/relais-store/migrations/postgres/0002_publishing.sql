-- Publishing engine (PostgreSQL): per-target delivery state, per-part remote ids, the publish log,
-- channel health, the workspace's late policy and the sandbox network's timeline.
ALTER TABLE post_targets ADD COLUMN state TEXT NOT NULL DEFAULT 'scheduled';
ALTER TABLE post_targets ADD COLUMN attempts BIGINT NOT NULL DEFAULT 0;
ALTER TABLE post_targets ADD COLUMN next_attempt_at BIGINT;
ALTER TABLE post_targets ADD COLUMN lease_owner TEXT;
ALTER TABLE post_targets ADD COLUMN lease_until BIGINT;
ALTER TABLE post_targets ADD COLUMN last_error TEXT;
ALTER TABLE post_targets ADD COLUMN remote_id TEXT;
ALTER TABLE post_targets ADD COLUMN remote_url TEXT;
ALTER TABLE post_targets ADD COLUMN published_at BIGINT;
CREATE INDEX post_targets_state ON post_targets(state, next_attempt_at);

CREATE TABLE target_parts (
    post_id BIGINT NOT NULL,
    channel_id BIGINT NOT NULL,
    part BIGINT NOT NULL,
    idempotency_key TEXT NOT NULL,
    remote_id TEXT,
    remote_cid TEXT,
    remote_url TEXT,
    published_at BIGINT,
    PRIMARY KEY (post_id, channel_id, part),
    FOREIGN KEY (post_id, channel_id) REFERENCES post_targets(post_id, channel_id) ON DELETE CASCADE
);

CREATE TABLE publish_attempts (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    post_id BIGINT NOT NULL REFERENCES posts(id) ON DELETE CASCADE,
    channel_id BIGINT NOT NULL,
    part BIGINT NOT NULL,
    worker TEXT NOT NULL,
    at BIGINT NOT NULL,
    outcome TEXT NOT NULL,
    message TEXT,
    latency_ms BIGINT NOT NULL
);
CREATE INDEX publish_attempts_post ON publish_attempts(post_id, id);

ALTER TABLE channels ADD COLUMN needs_reconnection BIGINT NOT NULL DEFAULT 0;
ALTER TABLE workspaces ADD COLUMN late_publish_secs BIGINT NOT NULL DEFAULT 3600;

CREATE TABLE sandbox_posts (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    channel_id BIGINT NOT NULL REFERENCES channels(id) ON DELETE CASCADE,
    idempotency_key TEXT NOT NULL,
    text TEXT NOT NULL,
    reply_to BIGINT,
    media BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    UNIQUE (channel_id, idempotency_key)
);
