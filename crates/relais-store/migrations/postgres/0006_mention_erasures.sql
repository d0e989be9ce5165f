-- Erased mentions (a post deleted on its network, an account deleted or taken down, an erasure
-- request): the mention rows are deleted, and their ids logged here (no content) so that the
-- search index, which follows the tables, removes them too.
CREATE TABLE mention_erasures (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    mention_id BIGINT NOT NULL,
    erased_at BIGINT NOT NULL
);
