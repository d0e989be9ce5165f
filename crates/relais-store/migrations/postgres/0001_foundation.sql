-- Relais foundation schema (PostgreSQL). Timestamps are UTC milliseconds since the Unix epoch.
CREATE TABLE users (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    locale TEXT NOT NULL DEFAULT 'fr',
    created_at BIGINT NOT NULL
);

CREATE TABLE workspaces (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name TEXT NOT NULL,
    timezone TEXT NOT NULL,
    paused BIGINT NOT NULL DEFAULT 0,
    ical_token_hash TEXT UNIQUE,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE memberships (
    workspace_id BIGINT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    role TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, user_id)
);
CREATE INDEX memberships_user ON memberships(user_id);

CREATE TABLE api_tokens (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL,
    expires_at BIGINT,
    revoked_at BIGINT,
    last_used_at BIGINT
);

CREATE TABLE audit_log (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    workspace_id BIGINT REFERENCES workspaces(id) ON DELETE CASCADE,
    actor_id BIGINT REFERENCES users(id) ON DELETE SET NULL,
    action TEXT NOT NULL,
    target TEXT NOT NULL,
    detail TEXT NOT NULL,
    ip TEXT,
    at BIGINT NOT NULL
);
CREATE INDEX audit_log_workspace ON audit_log(workspace_id, id);

CREATE TABLE channels (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    workspace_id BIGINT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    network TEXT NOT NULL,
    handle TEXT NOT NULL,
    display_name TEXT NOT NULL,
    instance_url TEXT,
    credentials BYTEA,
    limits TEXT,
    created_at BIGINT NOT NULL,
    UNIQUE (workspace_id, network, handle)
);

CREATE TABLE queue_slots (
    channel_id BIGINT NOT NULL REFERENCES channels(id) ON DELETE CASCADE,
    weekday BIGINT NOT NULL,
    minute BIGINT NOT NULL,
    PRIMARY KEY (channel_id, weekday, minute)
);

CREATE TABLE posts (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    workspace_id BIGINT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    author_id BIGINT NOT NULL REFERENCES users(id),
    status TEXT NOT NULL,
    body TEXT NOT NULL,
    due_at BIGINT,
    local_time TEXT,
    timezone TEXT NOT NULL,
    queue_channel_id BIGINT REFERENCES channels(id) ON DELETE SET NULL,
    evergreen_secs BIGINT,
    review_note TEXT,
    reviewed_by BIGINT REFERENCES users(id),
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX posts_workspace_due ON posts(workspace_id, due_at);
CREATE INDEX posts_status_due ON posts(status, due_at);

CREATE TABLE post_targets (
    post_id BIGINT NOT NULL REFERENCES posts(id) ON DELETE CASCADE,
    channel_id BIGINT NOT NULL REFERENCES channels(id) ON DELETE CASCADE,
    variant TEXT,
    PRIMARY KEY (post_id, channel_id)
);
CREATE INDEX post_targets_channel ON post_targets(channel_id);

CREATE TABLE media (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    workspace_id BIGINT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    file_name TEXT NOT NULL,
    stored_path TEXT NOT NULL,
    mime TEXT NOT NULL,
    kind TEXT NOT NULL,
    bytes BIGINT NOT NULL,
    width BIGINT,
    height BIGINT,
    sha256 TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE post_media (
    post_id BIGINT NOT NULL REFERENCES posts(id) ON DELETE CASCADE,
    media_id BIGINT NOT NULL REFERENCES media(id),
    position BIGINT NOT NULL,
    alt TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (post_id, position)
);
