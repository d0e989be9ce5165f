//! Fresh databases for tests: a temporary SQLite file, or a new PostgreSQL database per test so
//! tests run in parallel without sharing state.

use crate::listen::NewMention;
use crate::{Store, StoreResult};

/// The environment variable naming the PostgreSQL server used by tests
/// (e.g. `postgres://postgres@127.0.0.1:5432/test`).
pub const PG_ENV: &str = "RELAIS_TEST_DATABASE_URL";

/// The PostgreSQL server tests run against ([`PG_ENV`]), or `None` with a loud message when it is
/// not set and the test must skip its PostgreSQL variant. Under `CI` a missing server fails the
/// test instead: the PostgreSQL backend must not go untested.
pub fn postgres_admin_url(test: &str) -> Option<String> {
    match std::env::var(PG_ENV) {
        Ok(url) if !url.trim().is_empty() => Some(url),
        _ if std::env::var_os("CI").is_some() => {
            panic!("{test}: {PG_ENV} is not set but CI is: the PostgreSQL tests must run in CI")
        }
        _ => {
            eprintln!("SKIPPED ({PG_ENV} not set): {test} did not run against PostgreSQL");
            None
        }
    }
}

/// Creates a new, empty PostgreSQL database next to the one `admin_url` points at and returns
/// its URL. The name is random, so parallel tests never collide.
pub async fn fresh_postgres_url(admin_url: &str) -> StoreResult<String> {
    use sqlx::Connection;
    sqlx::any::install_default_drivers();
    let name = format!("relais_test_{:016x}", rand::random::<u64>());
    let mut conn = sqlx::AnyConnection::connect(admin_url).await?;
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}"))).execute(&mut conn).await?;
    conn.close().await?;
    let base = match admin_url.rfind('/') {
        Some(slash) if slash > "postgres://".len() => &admin_url[..slash],
        _ => admin_url,
    };
    let query = admin_url.find('?').map(|q| &admin_url[q..]).unwrap_or("");
    Ok(format!("{base}/{name}{query}"))
}

/// A migrated store on a fresh database: PostgreSQL when `postgres` is true, else SQLite in `dir`.
pub async fn fresh_store(postgres: Option<&str>, dir: &std::path::Path) -> StoreResult<Store> {
    let url = match postgres {
        Some(admin) => fresh_postgres_url(admin).await?,
        None => format!("sqlite://{}?mode=rwc", dir.join("relais.db").display()),
    };
    let store = Store::connect(&url).await?;
    store.migrate().await?;
    Ok(store)
}

/// Runs `sql` on the store's database as it is, around the store's API and its invariants: only
/// for tests that need a state the API never writes (rows written beside the id marks). Returns
/// the rows changed.
#[doc(hidden)]
pub async fn execute_unchecked(store: &Store, sql: &str) -> StoreResult<u64> {
    Ok(sqlx::query(sqlx::AssertSqlSafe(sql.to_owned())).execute(&store.pool).await?.rows_affected())
}

/// A neutral French mention of `workspace_id` from the ingest endpoint, published at `at`
/// (received then too), text `relais <external_id>`, linked to `query_ids`.
pub fn mention(workspace_id: i64, external_id: &str, at: i64, query_ids: Vec<i64>) -> NewMention {
    NewMention {
        workspace_id,
        source: "ingest".into(),
        external_id: external_id.into(),
        url: None,
        author: None,
        title: None,
        text: format!("relais {external_id}"),
        lang: "fr".into(),
        sentiment: 0.0,
        sentiment_label: "neutral".into(),
        story_id: 1,
        published_at: at,
        received_at: at,
        query_ids,
    }
}
