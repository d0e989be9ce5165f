//! `relais serve` as a newcomer runs it: the real binary, a fresh data directory, a free port.
//! First start creates the owner and prints the password once; the API, health and metrics
//! answer; a second start keeps the data and prints no password. Also on PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

struct Server {
    child: Child,
    base: String,
    output: Vec<String>,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `relais serve` on a free port and waits for the line announcing the address.
fn start(data_dir: &std::path::Path, database_url: Option<&str>) -> Server {
    start_with(data_dir, database_url, &[])
}

fn start_with(data_dir: &std::path::Path, database_url: Option<&str>, extra: &[&str]) -> Server {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_relais"));
    cmd.args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(data_dir)
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    cmd.env_remove("RELAIS_DATABASE_URL");
    if let Some(url) = database_url {
        cmd.env("RELAIS_DATABASE_URL", url);
    }
    let mut server = Server { child: cmd.spawn().unwrap(), base: String::new(), output: Vec::new() };
    let stdout = server.child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        let line = lines.next().expect("server exited before listening").unwrap();
        server.output.push(line.clone());
        if let Some(rest) = line.strip_prefix("Relais listens on ") {
            server.base = rest.split_whitespace().next().unwrap().to_owned();
            return server;
        }
    }
    panic!("no listening line in {:?}", server.output);
}

/// Logs the owner in; the session token.
async fn login(http: &reqwest::Client, base: &str, password: &str) -> String {
    let login = serde_json::json!({ "email": "owner@relais.localhost", "password": password });
    let res = http.post(format!("{base}/api/v1/auth/login")).json(&login).send().await.unwrap();
    assert_eq!(res.status(), 200);
    res.json::<serde_json::Value>().await.unwrap()["token"].as_str().unwrap().to_owned()
}

/// `GET url` with the token; the JSON answer.
async fn get_json(http: &reqwest::Client, url: String, token: &str) -> serde_json::Value {
    http.get(url).bearer_auth(token).send().await.unwrap().json().await.unwrap()
}

async fn scenario(database_url: Option<String>) {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path(), database_url.as_deref());
    let password = server
        .output
        .iter()
        .find_map(|l| l.trim().strip_prefix("password: "))
        .expect("password printed on first start")
        .to_owned();
    let http = reqwest::Client::new();
    let health: serde_json::Value =
        http.get(format!("{}/healthz", server.base)).send().await.unwrap().json().await.unwrap();
    assert_eq!(health["status"], "ok");
    // Transparent huge pages are off for the process (main.rs: they cost the pipeline page
    // zeroing and memory). Linux reports it since 5.0; the flag is inherited, so it means
    // something only where this test's own process has them on.
    #[cfg(target_os = "linux")]
    {
        let thp = |pid: u32| {
            let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
            status.lines().find_map(|l| l.strip_prefix("THP_enabled:")).map(|v| v.trim().to_owned())
        };
        let checkable = match thp(std::process::id()).as_deref() {
            Some("1") => Ok(()),
            other => Err(format!("this test's own process reports THP_enabled {other:?}")),
        };
        if relais_testkit::or_skip("transparent huge pages", checkable, "needs Linux 5.0 or later with THP").is_some() {
            assert_eq!(thp(server.child.id()).as_deref(), Some("0"));
        }
    }
    let token = login(&http, &server.base, &password).await;
    let workspaces = get_json(&http, format!("{}/api/v1/workspaces", server.base), &token).await;
    assert_eq!(workspaces[0]["name"], "Mon espace");
    let metrics = http.get(format!("{}/metrics", server.base)).send().await.unwrap().text().await.unwrap();
    assert!(
        metrics.contains("relais_http_requests_total{method=\"POST\",route=\"/api/v1/auth/login\",status=\"200\"} 1"),
        "{metrics}"
    );
    let openapi: serde_json::Value =
        http.get(format!("{}/api/v1/openapi.json", server.base)).send().await.unwrap().json().await.unwrap();
    assert!(openapi["paths"].as_object().unwrap().len() > 15);
    drop(server);

    // The second start keeps everything and prints no password.
    let again = start(dir.path(), database_url.as_deref());
    assert!(!again.output.iter().any(|l| l.contains("password")), "{:?}", again.output);
    let res = http.get(format!("{}/api/v1/me", again.base)).bearer_auth(&token).send().await.unwrap();
    assert_eq!(res.status(), 200);
    if database_url.is_none() {
        assert!(dir.path().join("relais.db").exists());
    }
}

#[tokio::test]
async fn serve_on_sqlite() {
    scenario(None).await;
}

#[tokio::test]
async fn serve_on_postgres() {
    let Some(admin) = relais_store::testing::postgres_admin_url("serve_on_postgres") else { return };
    let url = relais_store::testing::fresh_postgres_url(&admin).await.unwrap();
    scenario(Some(url)).await;
}

#[tokio::test]
async fn serve_demo_prepares_a_sandbox_workspace_once() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_with(dir.path(), None, &["--demo"]);
    let password = server.output.iter().find_map(|l| l.trim().strip_prefix("password: ")).unwrap().to_owned();
    assert!(server.output.iter().any(|l| l.contains("Démo Relais")), "{:?}", server.output);
    let http = reqwest::Client::new();
    let token = login(&http, &server.base, &password).await;
    let get = |path: String| get_json(&http, path, &token);
    let workspaces = get(format!("{}/api/v1/workspaces", server.base)).await;
    let demo =
        workspaces.as_array().unwrap().iter().find(|w| w["name"] == "Démo Relais").unwrap()["id"].as_i64().unwrap();
    let channels = get(format!("{}/api/v1/workspaces/{demo}/channels", server.base)).await;
    assert_eq!(channels[0]["network"], "sandbox");
    let posts = get(format!("{}/api/v1/workspaces/{demo}/calendar", server.base)).await;
    assert_eq!(posts.as_array().unwrap().len(), 3);
    assert!(posts.as_array().unwrap().iter().all(|p| p["status"] == "scheduled"));
    drop(server);
    // A second start with --demo does not add a second demo workspace.
    let again = start_with(dir.path(), None, &["--demo"]);
    let workspaces = get(format!("{}/api/v1/workspaces", again.base)).await;
    assert_eq!(workspaces.as_array().unwrap().iter().filter(|w| w["name"] == "Démo Relais").count(), 1);
}

/// A stop (SIGTERM) once the search index has a writer: `serve` exits cleanly and promptly, and
/// the index it leaves opens as it is (not rebuilt) with what was indexed.
#[tokio::test]
async fn serve_stops_cleanly_with_its_search_index_closed() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = start(dir.path(), None);
    let password = server.output.iter().find_map(|l| l.trim().strip_prefix("password: ")).unwrap().to_owned();
    let http = reqwest::Client::new();
    let api = format!("{}/api/v1", server.base);
    let token = login(&http, &server.base, &password).await;
    let workspaces = get_json(&http, format!("{api}/workspaces"), &token).await;
    let listen = format!("{api}/workspaces/{}/listen", workspaces[0]["id"]);
    let query = serde_json::json!({ "name": "Marque", "query": "relais" });
    let res = http.post(format!("{listen}/queries")).bearer_auth(&token).json(&query).send().await.unwrap();
    assert_eq!(res.status(), 201);
    let posts = serde_json::json!([{ "external_id": "s1", "text": "Relais est en panne" }]);
    let res = http.post(format!("{listen}/ingest")).bearer_auth(&token).json(&posts).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let page = get_json(&http, format!("{listen}/search?q=panne"), &token).await;
        if page["total"] == 1 {
            break;
        }
        assert!(Instant::now() < deadline, "not indexed: {page}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    let pid = server.child.id().to_string();
    assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = server.child.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "serve did not stop");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "{status}");
    let index = relais_search::SearchIndex::open_or_create(&dir.path().join("search")).unwrap();
    assert_eq!((index.was_rebuilt(), index.num_docs()), (None, 1));
    index.writer(relais_search::WriterOptions::default()).unwrap();
}
