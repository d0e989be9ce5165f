//! The embedded migrations of each backend, same version numbers on both sides.

use crate::Backend;
use sqlx::migrate::{Migration, MigrationType, Migrator};
use sqlx::{AssertSqlSafe, SqlSafeStr};

/// (version, description, SQLite script, PostgreSQL script).
const MIGRATIONS: &[(i64, &str, &str, &str)] = &[
    (
        1,
        "foundation",
        include_str!("../migrations/sqlite/0001_foundation.sql"),
        include_str!("../migrations/postgres/0001_foundation.sql"),
    ),
    (
        2,
        "publishing",
        include_str!("../migrations/sqlite/0002_publishing.sql"),
        include_str!("../migrations/postgres/0002_publishing.sql"),
    ),
    (
        3,
        "notifications",
        include_str!("../migrations/sqlite/0003_notifications.sql"),
        include_str!("../migrations/postgres/0003_notifications.sql"),
    ),
    (
        4,
        "oauth",
        include_str!("../migrations/sqlite/0004_oauth.sql"),
        include_str!("../migrations/postgres/0004_oauth.sql"),
    ),
    (
        5,
        "listening",
        include_str!("../migrations/sqlite/0005_listening.sql"),
        include_str!("../migrations/postgres/0005_listening.sql"),
    ),
    (
        6,
        "mention_erasures",
        include_str!("../migrations/sqlite/0006_mention_erasures.sql"),
        include_str!("../migrations/postgres/0006_mention_erasures.sql"),
    ),
    (
        7,
        "mention_queries_by_mention",
        include_str!("../migrations/sqlite/0007_mention_queries_by_mention.sql"),
        include_str!("../migrations/postgres/0007_mention_queries_by_mention.sql"),
    ),
    (
        8,
        "listen_id_marks",
        include_str!("../migrations/sqlite/0008_listen_id_marks.sql"),
        include_str!("../migrations/postgres/0008_listen_id_marks.sql"),
    ),
    (
        9,
        "id_marks_for_workspaces_and_queries",
        include_str!("../migrations/sqlite/0009_id_marks_for_workspaces_and_queries.sql"),
        include_str!("../migrations/postgres/0009_id_marks_for_workspaces_and_queries.sql"),
    ),
    (
        10,
        "mention_erasures_by_mention",
        include_str!("../migrations/sqlite/0010_mention_erasures_by_mention.sql"),
        include_str!("../migrations/postgres/0010_mention_erasures_by_mention.sql"),
    ),
];

/// The migrator for `backend`.
pub(crate) fn migrator(backend: Backend) -> Migrator {
    let migrations = MIGRATIONS
        .iter()
        .map(|(version, description, sqlite, postgres)| {
            let sql = match backend {
                Backend::Sqlite => *sqlite,
                Backend::Postgres => *postgres,
            };
            Migration::new(
                *version,
                (*description).into(),
                MigrationType::Simple,
                AssertSqlSafe(sql).into_sql_str(),
                false,
            )
        })
        .collect();
    Migrator::with_migrations(migrations)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use crate::Store;
    use crate::listen::{MentionFilter, QueryFields};
    use relais_domain::ids::{UserId, WorkspaceId};

    /// The migrator with versions up to `last` only.
    fn migrator_until(backend: Backend, last: i64) -> Migrator {
        let mut m = migrator(backend);
        m.migrations = std::borrow::Cow::Owned(m.migrations.iter().filter(|x| x.version <= last).cloned().collect());
        m
    }

    /// Migration 0007 rebuilds the query links: links written before it are still there after it,
    /// and a link is still unique per mention and query.
    async fn links_survive_0007(store: Store) {
        migrator_until(store.backend(), 6).run(&store.pool).await.unwrap();
        let user = store.create_user("m@relais.localhost", "M", "x", "fr", 1).await.unwrap();
        let ws = raw_workspace(&store, UserId(user.id), "W").await;
        let a = raw_query(&store, ws, "a").await;
        let b = raw_query(&store, ws, "b").await;
        let mention = |id: &str, query_ids| crate::testing::mention(ws.0, id, 1_000, query_ids);
        // Written as the code of that time did (the store's own insert needs a later schema).
        let one = raw_mention(&store, ws, "1").await;
        let two = raw_mention(&store, ws, "2").await;
        for (query, mention) in [(a, one), (b, one), (b, two)] {
            sqlx::query("INSERT INTO mention_queries (query_id, mention_id, published_at) VALUES ($1, $2, 1000)")
                .bind(query)
                .bind(mention)
                .execute(&store.pool)
                .await
                .unwrap();
        }

        store.migrate().await.unwrap();
        let by_query = |q| MentionFilter { query_id: Some(q), ..MentionFilter::default() };
        let all = store.mentions(ws, &MentionFilter::default(), 10).await.unwrap();
        let mut links: Vec<(String, Vec<i64>)> = all.into_iter().map(|m| (m.external_id, m.query_ids)).collect();
        links.sort();
        assert_eq!(links, vec![("1".to_owned(), vec![a, b]), ("2".to_owned(), vec![b])]);
        assert_eq!(store.mentions(ws, &by_query(a), 10).await.unwrap().len(), 1);
        assert_eq!(store.mentions(ws, &by_query(b), 10).await.unwrap().len(), 2);
        // Written after 0007: the same links again are ignored, a new one is added.
        store.insert_mentions(&[mention("3", vec![a])]).await.unwrap();
        sqlx::query("INSERT INTO mention_queries (query_id, mention_id, published_at) SELECT query_id, mention_id, 5 FROM mention_queries WHERE true ON CONFLICT DO NOTHING")
            .execute(&store.pool)
            .await
            .unwrap();
        assert_eq!(store.mentions(ws, &by_query(a), 10).await.unwrap().len(), 2);
        let count: (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM mention_queries").fetch_one(&store.pool).await.unwrap();
        assert_eq!(count.0, 4);
        store.close().await;
    }

    /// A workspace (owned by `owner`) as the schema before 0009 stored it: its id given by the
    /// database.
    async fn raw_workspace(store: &Store, owner: UserId, name: &str) -> WorkspaceId {
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO workspaces (name, timezone, created_at, updated_at) VALUES ($1, 'UTC', 1, 1) RETURNING id",
        )
        .bind(name)
        .fetch_one(&store.pool)
        .await
        .unwrap();
        sqlx::query("INSERT INTO memberships (workspace_id, user_id, role, created_at) VALUES ($1, $2, 'owner', 1)")
            .bind(id)
            .bind(owner.0)
            .execute(&store.pool)
            .await
            .unwrap();
        WorkspaceId(id)
    }

    /// A listening query as the schema before 0009 stored it; returns its id.
    async fn raw_query(store: &Store, ws: WorkspaceId, name: &str) -> i64 {
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO listen_queries (workspace_id, name, query, sensitivity, min_volume, created_at, updated_at) \
             VALUES ($1, $2, 'relais', 'medium', 10, 1, 1) RETURNING id",
        )
        .bind(ws.0)
        .bind(name)
        .fetch_one(&store.pool)
        .await
        .unwrap();
        id
    }

    /// Migration 0009: workspaces and listening queries created after it take ids after every
    /// existing one, and never the id of one deleted since.
    async fn ids_continue_after_0009(store: Store) {
        migrator_until(store.backend(), 8).run(&store.pool).await.unwrap();
        let owner = UserId(store.create_user("m@relais.localhost", "M", "x", "fr", 1).await.unwrap().id);
        let first = raw_workspace(&store, owner, "first").await;
        let last = raw_workspace(&store, owner, "last").await;
        let query = raw_query(&store, last, "q").await;

        store.migrate().await.unwrap();
        store.delete_workspace(last, 2).await.unwrap();
        let next = store.create_workspace("next", "UTC", owner, 3).await.unwrap().id;
        assert!(next > last.0 && last.0 > first.0, "{next} after {last:?}");
        let fields = QueryFields { name: "q", query: "relais", sensitivity: "medium", min_volume: 10 };
        let next_query = store.create_listen_query(first, &fields, None, 3).await.unwrap().id;
        assert!(next_query > query, "{next_query} after {query}");
        store.close().await;
    }

    /// A mention as the schema before 0008 stored it (its id given by the database); returns its id.
    async fn raw_mention(store: &Store, ws: WorkspaceId, external_id: &str) -> i64 {
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO mentions (workspace_id, source, external_id, text, lang, sentiment, sentiment_label, \
             story_id, published_at, received_at) VALUES ($1, 'ingest', $2, $3, 'fr', 0, 'neutral', 1, 1000, 2000) \
             RETURNING id",
        )
        .bind(ws.0)
        .bind(external_id)
        .bind(format!("relais {external_id}"))
        .fetch_one(&store.pool)
        .await
        .unwrap();
        id
    }

    /// Migration 0008: the ids handed out after it come after every mention id ever used, even
    /// one whose mention was deleted since (SQLite would give the highest rowid again), and after
    /// every erasure logged.
    async fn ids_continue_after_0008(store: Store) {
        migrator_until(store.backend(), 7).run(&store.pool).await.unwrap();
        let user = store.create_user("m@relais.localhost", "M", "x", "fr", 1).await.unwrap();
        let ws = raw_workspace(&store, UserId(user.id), "W").await;
        let mut ids = Vec::new();
        for external_id in ["1", "2", "3"] {
            ids.push(raw_mention(&store, ws, external_id).await);
        }
        // The last mention was erased (logged), the one before deleted without a log.
        sqlx::query("INSERT INTO mention_erasures (mention_id, erased_at) VALUES ($1, 5)")
            .bind(ids[2])
            .execute(&store.pool)
            .await
            .unwrap();
        sqlx::query("DELETE FROM mentions WHERE id >= $1").bind(ids[1]).execute(&store.pool).await.unwrap();

        store.migrate().await.unwrap();
        let stored = store.insert_mentions(&[crate::testing::mention(ws.0, "4", 1_000, vec![])]).await.unwrap();
        assert_eq!(stored, vec![Some(ids[2] + 1)], "ids before: {ids:?}");
        let erased = store.erase_mentions(ws, crate::listen::Erase::Ids(&[ids[2] + 1]), 6).await.unwrap();
        assert_eq!(erased, vec![ids[2] + 1]);
        let log = store.mention_erasures_after(0, 10).await.unwrap();
        assert_eq!(log.len(), 2, "{log:?}");
        assert!(log[1].0 > log[0].0 && log[1].1 == ids[2] + 1, "{log:?}");
        store.close().await;
    }

    /// One `#[tokio::test]` per backend for a check that takes a store not migrated yet.
    macro_rules! on_both_backends {
        ($($check:ident => $sqlite:ident, $postgres:ident;)*) => {$(
            #[tokio::test]
            async fn $sqlite() {
                let dir = tempfile::tempdir().unwrap();
                let url = format!("sqlite://{}?mode=rwc", dir.path().join("relais.db").display());
                $check(Store::connect(&url).await.unwrap()).await;
            }

            #[tokio::test]
            async fn $postgres() {
                let Some(admin) = crate::testing::postgres_admin_url(stringify!($postgres)) else { return };
                let url = crate::testing::fresh_postgres_url(&admin).await.unwrap();
                $check(Store::connect(&url).await.unwrap()).await;
            }
        )*};
    }

    on_both_backends! {
        links_survive_0007 => links_survive_0007_sqlite, links_survive_0007_postgres;
        ids_continue_after_0008 => ids_continue_after_0008_sqlite, ids_continue_after_0008_postgres;
        ids_continue_after_0009 => ids_continue_after_0009_sqlite, ids_continue_after_0009_postgres;
    }
}
