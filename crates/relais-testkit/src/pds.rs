//! The reference AT Protocol PDS (`scripts/peers/atproto.sh`), one per test process.

use relais_networks::GuardedClient;
use relais_networks::bluesky::Bluesky;
use serde_json::{Value, json};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU16, Ordering};

/// A running PDS on `localhost`, stopped by the script's watchdog when the test process exits.
#[derive(Debug)]
pub struct Pds {
    port: u16,
}

impl Pds {
    /// The PDS shared by every test of this process, started on first use (on free ports), or
    /// `None` when it cannot start outside CI (see [`crate::or_skip`]; said once).
    pub fn shared() -> Option<&'static Pds> {
        static PDS: OnceLock<Option<Pds>> = OnceLock::new();
        let hint = "run scripts/peers/atproto.sh setup";
        PDS.get_or_init(|| crate::or_skip("local PDS", Pds::start(), hint)).as_ref()
    }

    fn start() -> Result<Pds, String> {
        let script = crate::script("atproto.sh");
        let watch = [("RELAIS_PEERS_WATCH_PID", std::process::id().to_string())];
        crate::run_script(&script, &["setup"], &watch)?;
        crate::on_free_ports(|[pds_port, plc_port]| {
            let started = crate::run_script(&script, &["start", &pds_port.to_string(), &plc_port.to_string()], &watch)?;
            eprintln!("local PDS: {}", started.trim());
            Ok(Pds { port: pds_port })
        })
    }

    /// Its base URL, `http://localhost:<port>`.
    pub fn base(&self) -> String {
        format!("http://localhost:{}", self.port)
    }

    /// Its `host:port`, as the SSRF guard allows it.
    pub fn host(&self) -> String {
        format!("localhost:{}", self.port)
    }

    /// A Bluesky client allowed to reach this PDS.
    pub fn client(&self) -> Bluesky {
        Bluesky::new(GuardedClient::new(vec![self.host()]))
    }

    /// One XRPC call, bypassing Relais: `GET` sends `body`'s string fields as the query.
    /// Returns the HTTP status and the JSON answer (`null` when it is not JSON).
    pub async fn xrpc(&self, method: &str, nsid: &str, token: Option<&str>, body: Value) -> (u16, Value) {
        let http = reqwest::Client::new();
        let Ok(mut url) = url::Url::parse(&format!("{}/xrpc/{nsid}", self.base())) else { panic!("bad NSID {nsid}") };
        let mut request = if method == "GET" {
            for (k, v) in body.as_object().into_iter().flatten() {
                url.query_pairs_mut().append_pair(k, v.as_str().unwrap_or_default());
            }
            http.get(url)
        } else {
            http.post(url).json(&body)
        };
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = match request.send().await {
            Ok(r) => r,
            Err(e) => panic!("{nsid}: {e}"),
        };
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// Takes an account down as the PDS administrator (`scripts/peers/atproto.sh` sets the admin
    /// password): the repository stream then reports the account as `takendown`.
    pub async fn take_down(&self, did: &str) {
        let body = serde_json::json!({
            "subject": {"$type": "com.atproto.admin.defs#repoRef", "did": did},
            "takedown": {"applied": true, "ref": "relais-test"},
        });
        let response = reqwest::Client::new()
            .post(format!("{}/xrpc/com.atproto.admin.updateSubjectStatus", self.base()))
            .basic_auth("admin", Some("admin-pass"))
            .json(&body)
            .send()
            .await
            .unwrap_or_else(|e| panic!("takedown: {e}"));
        let status = response.status();
        assert!(status.is_success(), "takedown: {status} {}", response.text().await.unwrap_or_default());
    }

    /// A fresh account `<name><pid>-<n>.test` with an app password: `(handle, did, app_password)`.
    pub async fn create_account(&self, name: &str) -> (String, String, String) {
        static N: AtomicU16 = AtomicU16::new(0);
        let handle = format!("{name}{}-{}.test", std::process::id() % 1000, N.fetch_add(1, Ordering::Relaxed));
        let body = json!({"handle": handle, "email": format!("{handle}@example.com"), "password": "account-pass"});
        let (status, created) = self.xrpc("POST", "com.atproto.server.createAccount", None, body).await;
        assert_eq!(status, 200, "{created}");
        let jwt = created["accessJwt"].as_str().unwrap_or_default();
        let name = json!({"name": "relais"});
        let (status, app) = self.xrpc("POST", "com.atproto.server.createAppPassword", Some(jwt), name).await;
        assert_eq!(status, 200, "{app}");
        let (did, password) = (created["did"].as_str(), app["password"].as_str());
        (handle, did.unwrap_or_default().to_owned(), password.unwrap_or_default().to_owned())
    }

    /// A post record of `did` (`com.atproto.repo.getRecord`: `uri`, `cid`, `value`).
    pub async fn get_record(&self, did: &str, rkey: &str) -> Value {
        let query = json!({"repo": did, "collection": "app.bsky.feed.post", "rkey": rkey});
        let (status, answer) = self.xrpc("GET", "com.atproto.repo.getRecord", None, query).await;
        assert_eq!(status, 200, "{answer}");
        answer
    }

    /// Every post record of `did`, newest first (all pages).
    pub async fn list_records(&self, did: &str) -> Vec<Value> {
        let mut records = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let mut query = json!({"repo": did, "collection": "app.bsky.feed.post", "limit": "100"});
            if let Some(c) = &cursor {
                query["cursor"] = json!(c);
            }
            let (status, answer) = self.xrpc("GET", "com.atproto.repo.listRecords", None, query).await;
            assert_eq!(status, 200, "{answer}");
            let page = answer["records"].as_array().cloned().unwrap_or_default();
            let done = page.is_empty();
            records.extend(page);
            cursor = answer["cursor"].as_str().map(str::to_owned);
            if done || cursor.is_none() {
                return records;
            }
        }
    }

    /// How many post records `did` has.
    pub async fn count_posts(&self, did: &str) -> usize {
        self.list_records(did).await.len()
    }
}
