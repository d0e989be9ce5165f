-- Listening (PostgreSQL): stored queries, the sources polled for a workspace, the mentions (posts that
-- matched at least one query) with their enrichment, which queries each matched, the 5-minute
-- volume series per query, and the spike alerts.
CREATE TABLE listen_queries (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    workspace_id BIGINT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    query TEXT NOT NULL,
    sensitivity TEXT NOT NULL,
    min_volume BIGINT NOT NULL,
    created_by BIGINT REFERENCES users(id) ON DELETE SET NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX listen_queries_workspace ON listen_queries(workspace_id);

-- Bumped on every change of a workspace's queries: matchers compiled by any process are rebuilt.
CREATE TABLE listen_versions (
    workspace_id BIGINT PRIMARY KEY REFERENCES workspaces(id) ON DELETE CASCADE,
    version BIGINT NOT NULL
);

CREATE TABLE listen_sources (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    workspace_id BIGINT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    target TEXT NOT NULL,
    state TEXT NOT NULL,
    enabled BIGINT NOT NULL DEFAULT 1,
    next_poll_at BIGINT NOT NULL,
    last_ok_at BIGINT,
    last_error TEXT,
    created_at BIGINT NOT NULL
);
CREATE INDEX listen_sources_due ON listen_sources(enabled, next_poll_at);

CREATE TABLE mentions (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    workspace_id BIGINT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    source TEXT NOT NULL,
    external_id TEXT NOT NULL,
    url TEXT,
    author TEXT,
    title TEXT,
    text TEXT NOT NULL,
    lang TEXT NOT NULL,
    sentiment DOUBLE PRECISION NOT NULL,
    sentiment_label TEXT NOT NULL,
    story_id BIGINT,
    published_at BIGINT NOT NULL,
    received_at BIGINT NOT NULL,
    UNIQUE (workspace_id, source, external_id)
);
CREATE INDEX mentions_workspace_time ON mentions(workspace_id, published_at);

CREATE TABLE mention_queries (
    query_id BIGINT NOT NULL REFERENCES listen_queries(id) ON DELETE CASCADE,
    mention_id BIGINT NOT NULL REFERENCES mentions(id) ON DELETE CASCADE,
    published_at BIGINT NOT NULL,
    PRIMARY KEY (query_id, mention_id)
);
CREATE INDEX mention_queries_time ON mention_queries(query_id, published_at);
CREATE INDEX mention_queries_mention ON mention_queries(mention_id);

CREATE TABLE listen_series (
    query_id BIGINT NOT NULL REFERENCES listen_queries(id) ON DELETE CASCADE,
    bucket_start BIGINT NOT NULL,
    volume BIGINT NOT NULL,
    negative BIGINT NOT NULL,
    PRIMARY KEY (query_id, bucket_start)
);

CREATE TABLE listen_alerts (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    workspace_id BIGINT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    query_id BIGINT NOT NULL REFERENCES listen_queries(id) ON DELETE CASCADE,
    rule TEXT NOT NULL,
    severity TEXT NOT NULL,
    bucket_start BIGINT NOT NULL,
    detail TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE (query_id, rule, bucket_start)
);
CREATE INDEX listen_alerts_workspace ON listen_alerts(workspace_id, created_at);
