//! The Mastodon API mock (PyPI `mastodon_mock`, `scripts/peers/mastodon-mock.sh`), one per handle.

use relais_networks::GuardedClient;
use relais_networks::mastodon::{AppRegistration, authorize_url, exchange_code, register_app};
use serde_json::Value;
use std::path::PathBuf;

const OOB: &str = "urn:ietf:wg:oauth:2.0:oob";
const SCOPES: &str = "read write follow";

/// A running mock on `127.0.0.1`, stopped on drop.
#[derive(Debug)]
pub struct MastodonMock {
    script: PathBuf,
    port: u16,
}

impl MastodonMock {
    /// Starts a mock on a free port, or `None` when it cannot start outside CI (see
    /// [`crate::or_skip`]).
    pub fn start_or_skip() -> Option<MastodonMock> {
        crate::or_skip("mastodon_mock", MastodonMock::start(), "run scripts/peers/mastodon-mock.sh setup")
    }

    /// Starts a mock on a free port.
    pub fn start() -> Result<MastodonMock, String> {
        let script = crate::script("mastodon-mock.sh");
        crate::run_script(&script, &["setup"], &[])?;
        let port = crate::on_free_ports(|[port]| {
            crate::run_script(&script, &["start", &port.to_string()], &[]).map(|_| port)
        })?;
        Ok(MastodonMock { script, port })
    }

    /// Its base URL, `http://127.0.0.1:<port>`.
    pub fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Its `host:port`, as the SSRF guard allows it.
    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// A user token obtained the way a person connects an account: app registration (through
    /// Relais' client), then (mock only) signing `username` up with an app token, then the
    /// authorization page and the code exchange (Relais' client; a bad code is refused).
    pub async fn connect(&self, username: &str) -> String {
        let (guarded, base) = (GuardedClient::new(vec![self.host()]), self.base());
        let app = register_app(&guarded, &base, OOB, SCOPES).await.unwrap_or_else(|e| panic!("register_app: {e}"));
        self.sign_up(&app, username).await;
        let url = authorize_url(&base, &app, OOB, SCOPES, "xyz").unwrap_or_else(|e| panic!("authorize_url: {e}"));
        let code = self.approve(&url, username).await;
        let token = exchange_code(&guarded, &base, &app, OOB, &code).await;
        let token = token.unwrap_or_else(|e| panic!("exchange_code: {e}"));
        assert!(exchange_code(&guarded, &base, &app, OOB, "not-a-code").await.is_err());
        token.access_token
    }

    /// Creates the account `username` (the mock signs people up with an app token).
    pub async fn sign_up(&self, app: &AppRegistration, username: &str) {
        let (raw, base) = (reqwest::Client::new(), self.base());
        let form = [
            ("grant_type", "client_credentials"),
            ("client_id", &app.client_id),
            ("client_secret", &app.client_secret),
            ("scope", SCOPES),
        ];
        let app_token: Value = json(raw.post(format!("{base}/oauth/token")).form(&form)).await;
        let email = format!("{username}@example.com");
        let signup = raw
            .post(format!("{base}/api/v1/accounts"))
            .bearer_auth(app_token["access_token"].as_str().unwrap_or_default())
            .form(&[
                ("username", username),
                ("email", &email),
                ("password", "a-pass-123456"),
                ("agreement", "true"),
                ("locale", "en"),
            ]);
        let signup = send(signup).await;
        assert!(signup.status().is_success(), "signup: {}", signup.text().await.unwrap_or_default());
    }

    /// What a person does on the server's authorization page (`authorize_url`, as Relais built
    /// it): approves as `username` and gets the code (out-of-band redirect: the page shows it).
    pub async fn approve(&self, authorize_url: &str, username: &str) -> String {
        let raw = reqwest::Client::new();
        // A real server shows a login; the mock lists its accounts.
        let page = send(raw.get(authorize_url)).await.text().await.unwrap_or_default();
        assert!(page.contains(username), "{page}");
        let url = reqwest::Url::parse(authorize_url).unwrap_or_else(|e| panic!("{e}"));
        let query: std::collections::HashMap<String, String> = url.query_pairs().into_owned().collect();
        let param = |name: &str| query.get(name).cloned().unwrap_or_default();
        let grant = [
            ("username", username.to_owned()),
            ("redirect_uri", param("redirect_uri")),
            ("client_id", param("client_id")),
            ("state", param("state")),
        ];
        let granted = send(raw.post(format!("{}/oauth/authorize", self.base())).form(&grant)).await.text().await;
        let granted = granted.unwrap_or_default();
        let code = granted.split("Authorization code: ").nth(1).and_then(|s| s.split('<').next());
        let Some(code) = code else { panic!("no authorization code in {granted}") };
        code.to_owned()
    }
}

impl Drop for MastodonMock {
    fn drop(&mut self) {
        let _ = crate::run_script(&self.script, &["stop", &self.port.to_string()], &[]);
    }
}

async fn send(request: reqwest::RequestBuilder) -> reqwest::Response {
    request.send().await.unwrap_or_else(|e| panic!("{e}"))
}

async fn json(request: reqwest::RequestBuilder) -> Value {
    send(request).await.json().await.unwrap_or_else(|e| panic!("{e}"))
}
