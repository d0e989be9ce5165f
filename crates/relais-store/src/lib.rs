//! Relais storage: one storage API over two backends, embedded SQLite (default) and PostgreSQL.
//!
//! Both backends go through sqlx's `Any` driver with the same SQL (`$N` placeholders, `RETURNING`,
//! `ON CONFLICT`, which both dialects accept); each backend has its own migration directory with
//! the same version numbers (`migrations/sqlite`, `migrations/postgres`). Where the dialects
//! differ, a method matches on [`Backend`]. This crate is the only place that contains SQL.
//!
//! Timestamps are stored as UTC milliseconds since the Unix epoch (`i64`), identifiers as `i64`.
//! The store does no authorisation: the service layer (relais-app) checks the workspace and the
//! member's role before calling it, and every query that reads or writes workspace data takes the
//! workspace id and filters on it, so a wrong id finds nothing instead of another tenant's row.

pub mod audit;
pub mod channels;
pub mod delivery;
pub mod listen;
pub mod media;
mod migrate;
pub mod notifications;
pub mod oauth;
pub mod posts;
pub mod testing;
pub mod users;
pub mod workspaces;

use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::{AnyPool, Executor};

/// Which database is behind the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// Embedded SQLite (one file, one writer).
    Sqlite,
    /// PostgreSQL (scale-out, several workers).
    Postgres,
}

/// What went wrong in the store, by kind (not by dependency).
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The row does not exist (or belongs to another workspace).
    #[error("not found")]
    NotFound,
    /// A uniqueness constraint refused the write.
    #[error("conflict: {0}")]
    Conflict(String),
    /// The database URL is not one Relais can use.
    #[error("unsupported database URL (use sqlite:… or postgres://…)")]
    UnsupportedUrl,
    /// The database failed or could not be reached.
    #[error("database error: {0}")]
    Database(String),
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        match &e {
            sqlx::Error::RowNotFound => StoreError::NotFound,
            sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::Conflict(db.message().to_owned()),
            _ => StoreError::Database(e.to_string()),
        }
    }
}

impl From<sqlx::migrate::MigrateError> for StoreError {
    fn from(e: sqlx::migrate::MigrateError) -> Self {
        StoreError::Database(e.to_string())
    }
}

/// Result of a store operation.
pub type StoreResult<T> = Result<T, StoreError>;

/// Settings of the SQLite bulk connection ([`Store::insert_mentions_reserving`] alone uses it).
///
/// Foreign keys are not enforced there: that transaction checks under its write lock that the
/// workspaces and queries it refers to exist, and links only the mentions it inserted. Enforced,
/// they made SQLite open a statement journal for every multi-row `INSERT` (a statement that
/// may abort halfway must be undone alone), which copied each page the statement changed, about
/// a thousand 4 KB pages of random index leaves per thousand mentions: the largest item of the
/// writer's profile. `OR IGNORE` on those statements removes the other reason (a `NOT NULL` or
/// `UNIQUE` constraint that could abort them).
const BULK_PRAGMAS: &str = "PRAGMA foreign_keys = OFF;";

/// The storage handle: a connection pool and the backend it talks to. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Store {
    pool: AnyPool,
    /// Where the listening pipeline's bulk inserts go ([`Store::insert_mentions_reserving`]). On
    /// SQLite, a pool of one connection of its own: a connection's page cache is dropped whenever
    /// another connection wrote since its last transaction, and the main pool hands its
    /// connections out in turn, so each batch used to start cold and read back the pages it was
    /// about to change (about 3,000 per batch). On PostgreSQL, and for an in-memory SQLite database
    /// (a second pool would open another database), the main pool.
    bulk: AnyPool,
    backend: Backend,
}

impl Store {
    /// Connects to `url` (`sqlite://path?mode=rwc`, `sqlite::memory:` or `postgres://…`).
    /// Does not migrate: call [`Store::migrate`].
    pub async fn connect(url: &str) -> StoreResult<Store> {
        install_default_drivers();
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Backend::Postgres
        } else {
            return Err(StoreError::UnsupportedUrl);
        };
        // One writer at a time on SQLite: WAL lets readers go on while it writes.
        // - A page cache of up to 32 MB per connection (SQLite's default is 2 MB): the listening
        //   pipeline's writer inserts into indexes that outgrow 2 MB after some ten thousand
        //   mentions.
        // - The WAL is copied back into the database once it holds 8,192 pages (32 MB; SQLite's
        //   default is 1,000): a batch of mentions rewrites about a thousand of the same pages (the
        //   tail of each query's links, its series), which used to be copied back after every
        //   batch, and now once every few. The WAL file keeps its largest size, about 32 MB plus a
        //   batch.
        let sqlite_pool = |connections, pragmas: &'static str| {
            AnyPoolOptions::new().max_connections(connections).after_connect(move |conn, _| {
                Box::pin(async move {
                    conn.execute(
                        "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 10000; \
                         PRAGMA cache_size = -32768; PRAGMA wal_autocheckpoint = 8192;",
                    )
                    .await?;
                    conn.execute(pragmas).await?;
                    Ok(())
                })
            })
        };
        let options = match backend {
            Backend::Sqlite => sqlite_pool(8, ""),
            Backend::Postgres => AnyPoolOptions::new().max_connections(16),
        };
        // Slow statements are logged at debug level: a batch of a thousand mentions is one long
        // statement, and a warning would print all of its placeholders.
        let connect: sqlx::any::AnyConnectOptions = url.parse()?;
        let connect = sqlx::ConnectOptions::log_slow_statements(
            connect,
            log::LevelFilter::Debug,
            std::time::Duration::from_secs(1),
        );
        let pool = options.connect_with(connect.clone()).await?;
        let in_memory = url.contains(":memory:") || url.contains("mode=memory");
        let bulk = if backend == Backend::Sqlite && !in_memory {
            sqlite_pool(1, BULK_PRAGMAS).connect_with(connect).await?
        } else {
            pool.clone()
        };
        Ok(Store { pool, bulk, backend })
    }

    /// Applies every pending migration of this backend.
    pub async fn migrate(&self) -> StoreResult<()> {
        migrate::migrator(self.backend).run(&self.pool).await?;
        Ok(())
    }

    /// The backend behind this store.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Checks that the database answers (used by `/healthz`).
    pub async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// Starts a transaction: everything written through it lands together or not at all.
    pub async fn begin(&self) -> StoreResult<Tx> {
        Ok(Tx(self.pool.begin().await?))
    }

    /// Closes the pools, waiting for connections to be returned.
    pub async fn close(&self) {
        self.bulk.close().await;
        self.pool.close().await;
    }
}

/// An open transaction (see [`Store::begin`]); dropped without [`Tx::commit`], it rolls back.
pub struct Tx(sqlx::Transaction<'static, sqlx::Any>);

impl Tx {
    /// Commits the transaction.
    pub async fn commit(self) -> StoreResult<()> {
        self.0.commit().await?;
        Ok(())
    }
}

/// Turns "no row changed" into [`StoreError::NotFound`] (the row is absent or in another
/// workspace).
pub(crate) fn found(done: sqlx::any::AnyQueryResult) -> StoreResult<()> {
    if done.rows_affected() == 0 { Err(StoreError::NotFound) } else { Ok(()) }
}

/// `$1, $2, …, $n`: the placeholders of an `IN (…)` list.
fn placeholders(n: usize) -> String {
    numbered(1, n)
}

/// `n` numbered placeholders from `$from`: `$from, $from+1, …`.
pub(crate) fn numbered(from: usize, n: usize) -> String {
    (from..from + n).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ")
}

impl Store {
    /// The rows of `sql(list)` for `ids`, in chunks of 500: `list` is a chunk's placeholders, to
    /// put in an `IN (…)`; each id is bound in order. One query per chunk instead of one per id.
    pub(crate) async fn fetch_in<T>(&self, ids: &[i64], sql: impl Fn(&str) -> String) -> StoreResult<Vec<T>>
    where
        T: for<'r> sqlx::FromRow<'r, sqlx::any::AnyRow> + Send + Unpin,
    {
        let mut rows = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(500) {
            let mut q = sqlx::query_as::<_, T>(sqlx::AssertSqlSafe(sql(&placeholders(chunk.len()))));
            for id in chunk {
                q = q.bind(*id);
            }
            rows.extend(q.fetch_all(&self.pool).await?);
        }
        Ok(rows)
    }
}

/// Serialises a 0/1 integer column as a JSON boolean.
pub(crate) fn as_bool<S: serde::Serializer>(v: &i64, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_bool(*v != 0)
}

/// Converts a 0/1 integer column into a bool (the portable boolean of both backends).
pub(crate) fn flag(v: i64) -> bool {
    v != 0
}
