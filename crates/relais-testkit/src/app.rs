//! An application for tests: a fresh database (SQLite in a temporary directory, or a new
//! PostgreSQL database per test), a fake clock, and an HTTP client allowed to reach given peers.

use relais_app::App;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

/// "Now" in tests: 2026-11-23T10:00:00Z.
pub const NOW_MS: i64 = 1_795_428_000_000;

/// The PostgreSQL server for a test, following the rule of every backend-parameterised test:
/// `Some(None)` for SQLite; `Some(server)` of `RELAIS_TEST_DATABASE_URL` for PostgreSQL; when
/// that is not set, a failure under `CI` and a loud skip elsewhere (`None`: skip the test).
pub fn postgres_or_skip(postgres: bool, what: &str) -> Option<Option<String>> {
    if !postgres {
        return Some(None);
    }
    relais_store::testing::postgres_admin_url(what).map(Some)
}

/// A fake clock, shared between the test and the application.
#[derive(Clone)]
pub struct FakeClock(Arc<AtomicI64>);

impl FakeClock {
    /// A clock showing [`NOW_MS`].
    pub fn new() -> Self {
        FakeClock(Arc::new(AtomicI64::new(NOW_MS)))
    }

    /// The time it shows (UTC ms).
    pub fn now_ms(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }

    /// Moves it forward.
    pub fn advance(&self, ms: i64) {
        self.0.fetch_add(ms, Ordering::SeqCst);
    }

    /// The application's clock reading it.
    pub fn clock(&self) -> relais_app::Clock {
        let c = self.0.clone();
        Arc::new(move || {
            jiff::Timestamp::from_millisecond(c.load(Ordering::SeqCst)).unwrap_or(jiff::Timestamp::UNIX_EPOCH)
        })
    }
}

impl Default for FakeClock {
    fn default() -> Self {
        Self::new()
    }
}

/// An application on a fresh, migrated database (`postgres`: the server to create it on), with
/// its media under `dir`, the given clock, and an HTTP client that may reach `hosts`.
pub async fn test_app(postgres: Option<&str>, dir: &Path, clock: relais_app::Clock, hosts: Vec<String>) -> App {
    let store = match relais_store::testing::fresh_store(postgres, dir).await {
        Ok(store) => store,
        Err(e) => panic!("cannot create a test database: {e}"),
    };
    App {
        store,
        secrets: Arc::new(relais_app::crypto::SecretBox::new(&[3; 32])),
        media_dir: dir.join("media"),
        clock,
        http: relais_networks::GuardedClient::new(hosts),
        login_failures: Default::default(),
        listening: Default::default(),
    }
}
