-- Relais foundation schema (SQLite). Timestamps are UTC milliseconds since the Unix epoch.
CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    email TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    locale TEXT NOT NULL DEFAULT 'fr',
    created_at INTEGER NOT NULL
);

CREATE TABLE workspaces (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    timezone TEXT NOT NULL,
    paused INTEGER NOT NULL DEFAULT 0,
    ical_token_hash TEXT UNIQUE,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);

CREATE TABLE memberships (
    workspace_id INTEGER NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    role TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (workspace_id, user_id)
);
CREATE INDEX memberships_user ON memberships(user_id);

CREATE TABLE api_tokens (
    id INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL,
    expires_at INTEGER,
    revoked_at INTEGER,
    last_used_at INTEGER
);

CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY,
    workspace_id INTEGER REFERENCES workspaces(id) ON DELETE CASCADE,
    actor_id INTEGER REFERENCES users(id) ON DELETE SET NULL,
    action TEXT NOT NULL,
    target TEXT NOT NULL,
    detail TEXT NOT NULL,
    ip TEXT,
    at INTEGER NOT NULL
);
CREATE INDEX audit_log_workspace ON audit_log(workspace_id, id);

CREATE TABLE channels (
    id INTEGER PRIMARY KEY,
    workspace_id INTEGER NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    network TEXT NOT NULL,
    handle TEXT NOT NULL,
    display_name TEXT NOT NULL,
    instance_url TEXT,
    credentials BLOB,
    limits TEXT,
    created_at INTEGER NOT NULL,
    UNIQUE (workspace_id, network, handle)
);

CREATE TABLE queue_slots (
    channel_id INTEGER NOT NULL REFERENCES channels(id) ON DELETE CASCADE,
    weekday INTEGER NOT NULL,
    minute INTEGER NOT NULL,
    PRIMARY KEY (channel_id, weekday, minute)
);

CREATE TABLE posts (
    id INTEGER PRIMARY KEY,
    workspace_id INTEGER NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    author_id INTEGER NOT NULL REFERENCES users(id),
    status TEXT NOT NULL,
    body TEXT NOT NULL,
    due_at INTEGER,
    local_time TEXT,
    timezone TEXT NOT NULL,
    queue_channel_id INTEGER REFERENCES channels(id) ON DELETE SET NULL,
    evergreen_secs INTEGER,
    review_note TEXT,
    reviewed_by INTEGER REFERENCES users(id),
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX posts_workspace_due ON posts(workspace_id, due_at);
CREATE INDEX posts_status_due ON posts(status, due_at);

CREATE TABLE post_targets (
    post_id INTEGER NOT NULL REFERENCES posts(id) ON DELETE CASCADE,
    channel_id INTEGER NOT NULL REFERENCES channels(id) ON DELETE CASCADE,
    variant TEXT,
    PRIMARY KEY (post_id, channel_id)
);
CREATE INDEX post_targets_channel ON post_targets(channel_id);

CREATE TABLE media (
    id INTEGER PRIMARY KEY,
    workspace_id INTEGER NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    file_name TEXT NOT NULL,
    stored_path TEXT NOT NULL,
    mime TEXT NOT NULL,
    kind TEXT NOT NULL,
    bytes INTEGER NOT NULL,
    width INTEGER,
    height INTEGER,
    sha256 TEXT NOT NULL,
    created_at INTEGER NOT NULL
);

CREATE TABLE post_media (
    post_id INTEGER NOT NULL REFERENCES posts(id) ON DELETE CASCADE,
    media_id INTEGER NOT NULL REFERENCES media(id),
    position INTEGER NOT NULL,
    alt TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (post_id, position)
);
