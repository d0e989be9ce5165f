//! Contract tests of the Bluesky client against a real local PDS (`scripts/peers/atproto.sh`).
//!
//! One PDS serves every test of this file; it is started once, on free ports, and stopped by the
//! script's watchdog when this test process exits. Without a PDS the tests fail under `CI` and
//! are skipped (loudly) elsewhere.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use relais_networks::bluesky::new_tid;
use relais_networks::{Account, NetError, Network, OutMedia, OutPost, ReplyTo};
use relais_testkit::Pds;
use serde_json::{Value, json};
use std::sync::atomic::{AtomicU16, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

fn tid() -> String {
    static CLOCK: AtomicU16 = AtomicU16::new(0);
    let micros = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_micros() as u64;
    new_tid(micros, CLOCK.fetch_add(1, Ordering::Relaxed))
}

/// A fresh account `<name>-<n>.test` with an app password; returns it and its DID.
async fn account(pds: &Pds, name: &str) -> (Account, String) {
    let (handle, did, password) = pds.create_account(name).await;
    let credentials = json!({"app_password": password});
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

#[tokio::test]
async fn logs_in_refreshes_and_renews_a_rejected_token() {
    let Some(pds) = Pds::shared() else { return };
    let (alice, did) = account(pds, "login").await;
    let bsky = pds.client();
    let logged_in = bsky.refresh(&alice).await.unwrap().unwrap();
    assert_eq!(logged_in["session"]["did"], did.as_str());
    assert_eq!(logged_in["app_password"], alice.credentials["app_password"], "other fields kept");
    let kept = bsky.refresh(&Account { credentials: logged_in.clone(), ..alice.clone() }).await.unwrap();
    assert!(kept.is_none(), "a session valid for more than five minutes is kept");
    // An access token whose expiry cannot be read (or is near) is renewed with refreshSession.
    let mut unknown = logged_in.clone();
    unknown["session"]["accessJwt"] = json!("opaque");
    let refreshed = bsky.refresh(&Account { credentials: unknown, ..alice.clone() }).await.unwrap().unwrap();
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
    let Some(pds) = Pds::shared() else { return };
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
    let Some(pds) = Pds::shared() else { return };
    let (alice, did) = account(pds, "facets").await;
    let (bob, bob_did) = account(pds, "bob").await;
    let text = format!("Déjà vu ☕ https://example.com/a?b=1 #relais @{} @ghost-nobody.test", bob.handle);
    let key = tid();
    let published = pds.client().publish(&alice, &post(&text, &key)).await.unwrap();
    assert_eq!(published.remote.url, Some(format!("https://bsky.app/profile/{}/post/{key}", alice.handle)));
    let record = pds.get_record(&did, &key).await;
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
    let Some(pds) = Pds::shared() else { return };
    let (alice, did) = account(pds, "images").await;
    let path = std::env::temp_dir().join(format!("relais-bluesky-{}.png", std::process::id()));
    std::fs::write(&path, PNG).unwrap();
    let image = |alt: &str| OutMedia { path: path.clone(), mime: "image/png".into(), alt: alt.into() };
    let mut with_images = post("two pictures", &tid());
    with_images.media = vec![image("a red dot"), image("the same dot")];
    pds.client().publish(&alice, &with_images).await.unwrap();
    let value = &pds.get_record(&did, &with_images.idempotency_key).await["value"];
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
    let Some(pds) = Pds::shared() else { return };
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
    let second = pds.get_record(&did, &keys[0]).await;
    let third = pds.get_record(&did, &keys[1]).await;
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
    let Some(pds) = Pds::shared() else { return };
    let (alice, did) = account(pds, "idem").await;
    let bsky = pds.client();
    let once = post("only once", &tid());
    let first = bsky.publish(&alice, &once).await.unwrap();
    let second = bsky.publish(&alice, &once).await.unwrap();
    assert_eq!(first, second);
    assert_eq!(pds.count_posts(&did).await, 1);
    // The raw answer to the duplicate, pinned: if the PDS changes it, this test says so.
    let logged_in = bsky.refresh(&alice).await.unwrap().unwrap();
    let body = json!({"repo": did, "collection": "app.bsky.feed.post", "rkey": once.idempotency_key,
        "record": {"$type": "app.bsky.feed.post", "text": "only once", "createdAt": "2026-01-01T00:00:00.000Z"}});
    let jwt = logged_in["session"]["accessJwt"].as_str().unwrap();
    let (status, answer) = pds.xrpc("POST", "com.atproto.repo.createRecord", Some(jwt), body).await;
    assert_eq!((status, &answer["error"]), (500, &json!("InternalServerError")), "{answer}");
    // The same key with another text is refused, not silently merged.
    let other = post("something else", &once.idempotency_key);
    assert!(matches!(bsky.publish(&alice, &other).await, Err(NetError::Permanent { .. })));
    assert_eq!(pds.count_posts(&did).await, 1);
    // A key that is not a TID never reaches the PDS.
    assert!(matches!(bsky.publish(&alice, &post("x", "not-a-tid")).await, Err(NetError::Permanent { .. })));
}

#[tokio::test]
async fn looks_up_and_deletes() {
    let Some(pds) = Pds::shared() else { return };
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
