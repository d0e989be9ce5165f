//! Contract tests of the Bluesky client against a real local PDS (`scripts/peers/atproto.sh`).
//!
//! One PDS serves every test of this file; it is started once, on free ports, and stopped by the
//! script's watchdog when this test process exits. Without a PDS the tests fail under `CI` and
//! are skipped (loudly) elsewhere.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use relais_networks::bluesky::{Bluesky, new_tid};
use relais_networks::{Account, GuardedClient, NetError, Network, OutMedia, OutPost, ReplyTo};
use serde_json::{Value, json};
use std::process::Command;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU16, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

struct Pds {
    port: u16,
}

impl Pds {
    fn base(&self) -> String {
        format!("http://localhost:{}", self.port)
    }

    fn client(&self) -> Bluesky {
        Bluesky::new(GuardedClient::new(vec![format!("localhost:{}", self.port)]))
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn start_pds() -> Result<Pds, String> {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../../scripts/peers/atproto.sh");
    let run = |args: &[&str]| -> Result<String, String> {
        let out = Command::new("bash")
            .arg(script)
            .args(args)
            .env("RELAIS_PEERS_WATCH_PID", std::process::id().to_string())
            .output()
            .map_err(|e| format!("cannot run {script}: {e}"))?;
        let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        if out.status.success() { Ok(text) } else { Err(format!("{script} {args:?} failed:\n{text}")) }
    };
    run(&["setup"])?;
    let (pds_port, plc_port) = (free_port(), free_port());
    let started = run(&["start", &pds_port.to_string(), &plc_port.to_string()])?;
    eprintln!("local PDS: {}", started.trim());
    Ok(Pds { port: pds_port })
}

/// The shared PDS, or `None` when it cannot start outside CI (said once, on the real stderr,
/// which the test harness does not capture).
fn pds() -> Option<&'static Pds> {
    static PDS: OnceLock<Result<Pds, String>> = OnceLock::new();
    let started = PDS.get_or_init(|| {
        let started = start_pds();
        if let Err(e) = &started
            && std::env::var_os("CI").is_none()
        {
            let notice =
                format!("\n*** SKIPPED (local PDS unavailable): {e}\n*** run scripts/peers/atproto.sh setup\n\n");
            let _ = std::io::Write::write_all(&mut std::io::stderr(), notice.as_bytes());
        }
        started
    });
    match started {
        Ok(pds) => Some(pds),
        Err(e) if std::env::var_os("CI").is_some() => panic!("the local PDS must run in CI: {e}"),
        Err(_) => None,
    }
}

fn tid() -> String {
    static CLOCK: AtomicU16 = AtomicU16::new(0);
    let micros = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_micros() as u64;
    new_tid(micros, CLOCK.fetch_add(1, Ordering::Relaxed))
}

async fn xrpc(pds: &Pds, method: &str, nsid: &str, token: Option<&str>, body: Value) -> (u16, Value) {
    let http = reqwest::Client::new();
    let mut url = url::Url::parse(&format!("{}/xrpc/{nsid}", pds.base())).unwrap();
    let mut request = if method == "GET" {
        for (k, v) in body.as_object().unwrap() {
            url.query_pairs_mut().append_pair(k, v.as_str().unwrap());
        }
        http.get(url)
    } else {
        http.post(url).json(&body)
    };
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// A fresh account `<name>-<n>.test` with an app password; returns it and its DID.
async fn account(pds: &Pds, name: &str) -> (Account, String) {
    static N: AtomicU16 = AtomicU16::new(0);
    let handle = format!("{name}{}-{}.test", std::process::id() % 1000, N.fetch_add(1, Ordering::Relaxed));
    let body = json!({"handle": handle, "email": format!("{handle}@example.com"), "password": "account-pass"});
    let (status, created) = xrpc(pds, "POST", "com.atproto.server.createAccount", None, body).await;
    assert_eq!(status, 200, "{created}");
    let jwt = created["accessJwt"].as_str().unwrap();
    let (status, app) =
        xrpc(pds, "POST", "com.atproto.server.createAppPassword", Some(jwt), json!({"name": "relais"})).await;
    assert_eq!(status, 200, "{app}");
    let credentials = json!({"app_password": app["password"]});
    let did = created["did"].as_str().unwrap().to_owned();
    (Account { channel_id: 1, handle, instance_url: Some(pds.base()), credentials }, did)
}

fn post(text: &str, key: &str) -> OutPost {
    OutPost {
        text: text.into(),
        media: vec![],
        link: None,
        reply_to: None,
        languages: vec!["fr".into()],
        idempotency_key: key.into(),
        options: json!({}),
    }
}

async fn get_record(pds: &Pds, did: &str, rkey: &str) -> Value {
    let query = json!({"repo": did, "collection": "app.bsky.feed.post", "rkey": rkey});
    let (status, answer) = xrpc(pds, "GET", "com.atproto.repo.getRecord", None, query).await;
    assert_eq!(status, 200, "{answer}");
    answer
}

async fn count_posts(pds: &Pds, did: &str) -> usize {
    let query = json!({"repo": did, "collection": "app.bsky.feed.post", "limit": "100"});
    let (_, answer) = xrpc(pds, "GET", "com.atproto.repo.listRecords", None, query).await;
    answer["records"].as_array().unwrap().len()
}

#[tokio::test]
async fn logs_in_refreshes_and_renews_a_rejected_token() {
    let Some(pds) = pds() else { return };
    let (alice, did) = account(pds, "login").await;
    let bsky = pds.client();
    let logged_in = bsky.refresh(&alice).await.unwrap().unwrap();
    assert_eq!(logged_in["session"]["did"], did.as_str());
    assert_eq!(logged_in["app_password"], alice.credentials["app_password"], "other fields kept");
    let refreshed = bsky.refresh(&Account { credentials: logged_in.clone(), ..alice.clone() }).await.unwrap().unwrap();
    assert_ne!(refreshed["session"]["refreshJwt"], logged_in["session"]["refreshJwt"], "refreshSession rotates");
    // A cached access token the server rejects is renewed once, transparently.
    let mut stale = refreshed.clone();
    stale["session"]["accessJwt"] = json!("not-a-jwt");
    let stale = Account { credentials: stale, ..alice.clone() };
    let published = bsky.publish(&stale, &post("after renewal", &tid())).await.unwrap();
    assert!(published.remote.id.starts_with(&format!("at://{did}/app.bsky.feed.post/")));
}

#[tokio::test]
async fn wrong_password_is_an_auth_error() {
    let Some(pds) = pds() else { return };
    let (alice, _) = account(pds, "wrongpw").await;
    let bsky = pds.client();
    let wrong = Account { credentials: json!({"app_password": "nope-nope-nope-nope"}), ..alice };
    assert!(matches!(bsky.refresh(&wrong).await, Err(NetError::Auth { .. })), "{:?}", bsky.refresh(&wrong).await);
    assert!(matches!(bsky.publish(&wrong, &post("x", &tid())).await, Err(NetError::Auth { .. })));
    let none = Account { credentials: json!({}), ..wrong };
    assert!(matches!(bsky.refresh(&none).await, Err(NetError::Auth { .. })));
}

#[tokio::test]
async fn facets_have_byte_offsets_and_resolved_mentions() {
    let Some(pds) = pds() else { return };
    let (alice, did) = account(pds, "facets").await;
    let (bob, bob_did) = account(pds, "bob").await;
    let text = format!("Déjà vu ☕ https://example.com/a?b=1 #relais @{} @ghost-nobody.test", bob.handle);
    let key = tid();
    let published = pds.client().publish(&alice, &post(&text, &key)).await.unwrap();
    assert_eq!(published.remote.url, Some(format!("https://bsky.app/profile/{}/post/{key}", alice.handle)));
    let record = get_record(pds, &did, &key).await;
    assert_eq!(record["cid"], published.remote.cid.clone().unwrap().as_str());
    let value = &record["value"];
    assert_eq!(value["text"], text.as_str());
    assert_eq!(value["langs"], json!(["fr"]));
    let at = |needle: &str| {
        let start = text.find(needle).unwrap();
        json!({"byteStart": start, "byteEnd": start + needle.len()})
    };
    assert!(at("https").as_object().unwrap()["byteStart"].as_u64().unwrap() > "Déjà vu ☕ ".chars().count() as u64);
    let mention = format!("@{}", bob.handle);
    assert_eq!(
        value["facets"],
        json!([
            {"index": at("https://example.com/a?b=1"), "features": [{"$type": "app.bsky.richtext.facet#link", "uri": "https://example.com/a?b=1"}]},
            {"index": at("#relais"), "features": [{"$type": "app.bsky.richtext.facet#tag", "tag": "relais"}]},
            {"index": at(&mention), "features": [{"$type": "app.bsky.richtext.facet#mention", "did": bob_did}]},
        ]),
        "the unresolvable @ghost-nobody.test stays plain text"
    );
}

/// A 1×1 PNG.
const PNG: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52, 0x00, 0x00, 0x00,
    0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1f, 0x15, 0xc4, 0x89, 0x00, 0x00, 0x00, 0x0d, 0x49,
    0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0xf8, 0xcf, 0xc0, 0xf0, 0x1f, 0x00, 0x05, 0x00, 0x01, 0xff, 0x89, 0x99, 0x3d,
    0x1d, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82,
];

#[tokio::test]
async fn uploads_images_with_alt_text() {
    let Some(pds) = pds() else { return };
    let (alice, did) = account(pds, "images").await;
    let path = std::env::temp_dir().join(format!("relais-bluesky-{}.png", std::process::id()));
    std::fs::write(&path, PNG).unwrap();
    let image = |alt: &str| OutMedia { path: path.clone(), mime: "image/png".into(), alt: alt.into() };
    let mut with_images = post("two pictures", &tid());
    with_images.media = vec![image("a red dot"), image("the same dot")];
    pds.client().publish(&alice, &with_images).await.unwrap();
    let value = &get_record(pds, &did, &with_images.idempotency_key).await["value"];
    assert_eq!(value["embed"]["$type"], "app.bsky.embed.images");
    let images = value["embed"]["images"].as_array().unwrap();
    assert_eq!(images.len(), 2);
    assert_eq!(images[0]["alt"], "a red dot");
    assert_eq!(images[1]["alt"], "the same dot");
    assert_eq!(images[0]["image"]["mimeType"], "image/png");
    assert_eq!(images[0]["image"]["size"], PNG.len());
    assert!(images[0]["image"]["ref"]["$link"].as_str().unwrap().starts_with("baf"));
    let mut too_many = post("five", &tid());
    too_many.media = (0..5).map(|_| image("x")).collect();
    assert!(matches!(pds.client().publish(&alice, &too_many).await, Err(NetError::Permanent { .. })));
    std::fs::remove_file(&path).unwrap();
}

#[tokio::test]
async fn publishes_a_thread_of_three() {
    let Some(pds) = pds() else { return };
    let (alice, did) = account(pds, "thread").await;
    let bsky = pds.client();
    let root = bsky.publish(&alice, &post("1/3", &tid())).await.unwrap().remote;
    let mut parent = root.clone();
    let mut keys = vec![];
    for text in ["2/3", "3/3"] {
        let mut part = post(text, &tid());
        part.reply_to = Some(ReplyTo { root: root.clone(), parent: parent.clone() });
        keys.push(part.idempotency_key.clone());
        parent = bsky.publish(&alice, &part).await.unwrap().remote;
    }
    let second = get_record(pds, &did, &keys[0]).await;
    let third = get_record(pds, &did, &keys[1]).await;
    let strong = |r: &Value| json!({"uri": r["uri"], "cid": r["cid"]});
    let root_ref = json!({"uri": root.id, "cid": root.cid});
    assert_eq!(second["value"]["reply"], json!({"root": root_ref, "parent": root_ref}));
    assert_eq!(third["value"]["reply"], json!({"root": root_ref, "parent": strong(&second)}));
    assert_eq!(third["value"]["text"], "3/3");
    assert!(root.id.as_str() < second["uri"].as_str().unwrap(), "TID keys sort in publication order");
}

/// The PDS answers a second `createRecord` under the same key with HTTP 500
/// `{"error":"InternalServerError"}` (PDS 0.4.217); the client must not report that as a failure.
#[tokio::test]
async fn republishing_the_same_key_is_idempotent() {
    let Some(pds) = pds() else { return };
    let (alice, did) = account(pds, "idem").await;
    let bsky = pds.client();
    let once = post("only once", &tid());
    let first = bsky.publish(&alice, &once).await.unwrap();
    let second = bsky.publish(&alice, &once).await.unwrap();
    assert_eq!(first, second);
    assert_eq!(count_posts(pds, &did).await, 1);
    // The raw answer to the duplicate, pinned: if the PDS changes it, this test says so.
    let logged_in = bsky.refresh(&alice).await.unwrap().unwrap();
    let body = json!({"repo": did, "collection": "app.bsky.feed.post", "rkey": once.idempotency_key,
        "record": {"$type": "app.bsky.feed.post", "text": "only once", "createdAt": "2026-01-01T00:00:00.000Z"}});
    let jwt = logged_in["session"]["accessJwt"].as_str().unwrap();
    let (status, answer) = xrpc(pds, "POST", "com.atproto.repo.createRecord", Some(jwt), body).await;
    assert_eq!((status, &answer["error"]), (500, &json!("InternalServerError")), "{answer}");
    // The same key with another text is refused, not silently merged.
    let other = post("something else", &once.idempotency_key);
    assert!(matches!(bsky.publish(&alice, &other).await, Err(NetError::Permanent { .. })));
    assert_eq!(count_posts(pds, &did).await, 1);
    // A key that is not a TID never reaches the PDS.
    assert!(matches!(bsky.publish(&alice, &post("x", "not-a-tid")).await, Err(NetError::Permanent { .. })));
}

#[tokio::test]
async fn looks_up_and_deletes() {
    let Some(pds) = pds() else { return };
    let (alice, _) = account(pds, "lookup").await;
    let bsky = pds.client();
    let key = tid();
    let published = bsky.publish(&alice, &post("find me", &key)).await.unwrap();
    assert_eq!(bsky.lookup(&alice, &key, "find me").await.unwrap(), Some(published.clone()));
    assert_eq!(bsky.lookup(&alice, &tid(), "never sent").await.unwrap(), None);
    bsky.delete(&alice, &published.remote).await.unwrap();
    bsky.delete(&alice, &published.remote).await.unwrap();
    assert_eq!(bsky.lookup(&alice, &key, "find me").await.unwrap(), None);
    let metrics = bsky.metrics(&alice, &published.remote).await;
    assert!(
        matches!(&metrics, Err(NetError::Permanent { message }) if message.contains("AppView")),
        "a bare PDS has no AppView: {metrics:?}"
    );
}
