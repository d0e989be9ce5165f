-- Connecting a Mastodon account by OAuth (PostgreSQL): the authorization requests in flight,
-- each keyed by its random `state`, used once and expiring. The app's secret is encrypted.
CREATE TABLE oauth_pending (
    state TEXT PRIMARY KEY,
    workspace_id BIGINT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    network TEXT NOT NULL,
    instance_url TEXT NOT NULL,
    redirect_uri TEXT NOT NULL,
    client_id TEXT NOT NULL,
    client_secret_sealed BYTEA NOT NULL,
    created_by BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    expires_at BIGINT NOT NULL
);
CREATE INDEX oauth_pending_expiry ON oauth_pending(expires_at);
