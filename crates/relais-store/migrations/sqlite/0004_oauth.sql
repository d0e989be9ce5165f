-- Connecting a Mastodon account by OAuth (SQLite): the authorization requests in flight, each
-- keyed by its random `state`, used once and expiring. The app's secret is encrypted.
CREATE TABLE oauth_pending (
    state TEXT PRIMARY KEY,
    workspace_id INTEGER NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    network TEXT NOT NULL,
    instance_url TEXT NOT NULL,
    redirect_uri TEXT NOT NULL,
    client_id TEXT NOT NULL,
    client_secret_sealed BLOB NOT NULL,
    created_by INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    expires_at INTEGER NOT NULL
);
CREATE INDEX oauth_pending_expiry ON oauth_pending(expires_at);
