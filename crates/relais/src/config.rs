//! Configuration: one typed tree read from flags and environment variables (flags win), with
//! secrets redacted from `Debug`.

use clap::Args;
use std::path::PathBuf;

/// Where Relais keeps its data and how it reaches its database.
#[derive(Args, Clone)]
pub struct StorageConfig {
    /// Data directory: the SQLite database, media files and the secret key file live here.
    #[arg(long, env = "RELAIS_DATA_DIR", default_value = "relais-data", global = true)]
    pub data_dir: PathBuf,

    /// Database URL: `postgres://…` to run on PostgreSQL; the embedded SQLite database in the
    /// data directory when absent.
    #[arg(long, env = "RELAIS_DATABASE_URL", global = true)]
    pub database_url: Option<String>,

    /// The 32-byte key (base64) that encrypts channel credentials at rest. When absent, the key
    /// file `secret.key` in the data directory is used, created with 0600 permissions.
    #[arg(long, env = "RELAIS_SECRET_KEY", global = true, hide_env_values = true)]
    pub secret_key: Option<String>,

    /// Hosts (`host` or `host:port`, comma-separated) that Relais may reach even though they
    /// resolve to a loopback or private address (e.g. a Mastodon server on the local network).
    #[arg(long = "allow-host", env = "RELAIS_ALLOW_HOSTS", value_delimiter = ',', global = true)]
    pub allow_hosts: Vec<String>,

    /// How long (seconds) a worker holds a delivery before another may take it over after a
    /// crash. Longer than the slowest network call; shorter means faster recovery.
    #[arg(long, env = "RELAIS_LEASE_SECS", default_value_t = 60, global = true)]
    pub lease_secs: u32,

    /// The Bluesky AppView where listening looks up the handles of authors read through a relay
    /// (it verifies them both ways); `none` leaves them as DIDs.
    #[arg(long, env = "RELAIS_BLUESKY_APPVIEW", default_value = relais_networks::sources::bluesky::DEFAULT_APPVIEW, global = true)]
    pub bluesky_appview: String,
}

impl std::fmt::Debug for StorageConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StorageConfig")
            .field("data_dir", &self.data_dir)
            .field("database_url", &self.database_url.as_ref().map(|u| redact_url(u)))
            .field("secret_key", &self.secret_key.as_ref().map(|_| "<redacted>"))
            .field("allow_hosts", &self.allow_hosts)
            .field("lease_secs", &self.lease_secs)
            .field("bluesky_appview", &self.bluesky_appview)
            .finish()
    }
}

/// Hides the password of a database URL.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.find('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let userinfo = &url[scheme + 3..at];
            let user = userinfo.split(':').next().unwrap_or("");
            format!("{}://{}:***@{}", &url[..scheme], user, &url[at + 1..])
        }
        _ => url.to_owned(),
    }
}

impl StorageConfig {
    /// The Bluesky AppView, `None` for `none` (or nothing).
    pub fn bluesky_appview(&self) -> anyhow::Result<Option<url::Url>> {
        let value = self.bluesky_appview.trim();
        if value.is_empty() || value.eq_ignore_ascii_case("none") {
            return Ok(None);
        }
        let url = url::Url::parse(value)
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some())
            .ok_or_else(|| anyhow::anyhow!("--bluesky-appview must be an http(s) URL or none, not {value:?}"))?;
        Ok(Some(url))
    }

    /// The database URL to use.
    pub fn url(&self) -> String {
        self.database_url
            .clone()
            .unwrap_or_else(|| format!("sqlite://{}?mode=rwc", self.data_dir.join("relais.db").display()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_redacted() {
        assert_eq!(redact_url("postgres://relais:s3cret@db:5432/relais"), "postgres://relais:***@db:5432/relais");
        assert_eq!(redact_url("sqlite://relais-data/relais.db"), "sqlite://relais-data/relais.db");
    }

    #[test]
    fn bluesky_appview_is_an_http_url_or_none() {
        let with = |value: &str| StorageConfig {
            data_dir: PathBuf::from("d"),
            database_url: None,
            secret_key: None,
            allow_hosts: Vec::new(),
            lease_secs: 60,
            bluesky_appview: value.to_owned(),
        };
        let url = with("https://public.api.bsky.app").bluesky_appview().unwrap_or_default();
        assert_eq!(url.map(String::from).as_deref(), Some("https://public.api.bsky.app/"));
        for none in ["none", "NONE", " ", ""] {
            assert!(with(none).bluesky_appview().is_ok_and(|u| u.is_none()), "{none:?}");
        }
        for bad in ["ftp://appview.example", "public.api.bsky.app", "file:///etc/passwd"] {
            let error = with(bad).bluesky_appview().err().map(|e| e.to_string()).unwrap_or_default();
            assert!(error.contains("--bluesky-appview"), "{bad}: {error:?}");
        }
    }
}
