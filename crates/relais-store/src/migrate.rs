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
