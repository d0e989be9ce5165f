//! The Bluesky stream decoders: messages captured from the reference PDS
//! (`tests/fixtures/bluesky/capture.js`), hand-built messages for what the PDS does not send, and
//! property tests on random and mutated bytes (never a panic, round trips).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::cbor::{self as enc, C, m, t};
use proptest::prelude::*;
use relais_networks::sources::bluesky::car::Blocks;
use relais_networks::sources::bluesky::cbor::{self, Value};
use relais_networks::sources::bluesky::{Commit, Event, decode_frame};

const NOW: i64 = 1_900_000_000_000;

fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/fixtures/bluesky/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn fixtures() -> Vec<Vec<u8>> {
    ["00-identity", "01-account", "02-commit", "03-sync", "04-commit", "05-commit", "06-commit"]
        .iter()
        .map(|n| fixture(&format!("{n}.bin")))
        .collect()
}

fn captured() -> serde_json::Value {
    serde_json::from_slice(&fixture("events.json")).unwrap()
}

fn commit(event: Event) -> Commit {
    match event {
        Event::Commit(c) => c,
        other => panic!("not a commit: {other:?}"),
    }
}

#[test]
fn decodes_messages_captured_from_the_reference_pds() {
    let meta = captured();
    let (did, handle, uri) =
        (meta["did"].as_str().unwrap(), meta["handle"].as_str().unwrap(), meta["post_uri"].as_str());
    let events: Vec<Event> = fixtures().iter().map(|f| decode_frame(f, NOW).unwrap()).collect();
    let seqs: Vec<i64> = events.iter().filter_map(Event::seq).collect();
    assert_eq!(seqs.len(), 7, "every message has a sequence number");
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "{seqs:?}");

    assert_eq!(events[0], Event::Identity { seq: seqs[0], did: did.into(), handle: Some(handle.into()) });
    assert_eq!(events[1], Event::Account { seq: seqs[1], did: did.into(), active: true, status: None });
    let empty = commit(events[2].clone());
    assert_eq!(
        (empty.repo.as_str(), empty.posts.len(), empty.deleted.len()),
        (did, 0, 0),
        "the repository's first commit"
    );
    assert_eq!(events[3], Event::Other { seq: Some(seqs[3]), kind: "#sync".into() });

    let created = commit(events[4].clone());
    assert_eq!((created.posts.len(), created.unreadable), (1, 0));
    let post = &created.posts[0];
    assert_eq!(post.source, "bluesky");
    assert_eq!(post.external_id.as_deref(), uri);
    assert_eq!(post.url, Some(format!("https://bsky.app/profile/{did}/post/3lfixture2a22")));
    assert_eq!(post.author.as_deref(), Some(did), "the decoder knows the DID; the Firehose swaps in the handle");
    assert_eq!(post.text, "Déjà vu ☕ 🎉 #relais");
    assert_eq!(post.lang.as_deref(), Some("fr"));
    assert_eq!(post.published_at, Some(1_767_323_045_678));

    let like = commit(events[5].clone());
    assert_eq!((like.posts.len(), like.deleted.len(), like.unreadable), (0, 0, 0), "a like is not a post");
    let deleted = commit(events[6].clone());
    assert_eq!(deleted.deleted, vec![uri.unwrap().to_owned()]);
    assert!(deleted.posts.is_empty());
}

#[test]
fn the_captured_car_files_index_the_record_blocks() {
    let message = fixture("04-commit.bin");
    let (_, body) = cbor::decode_prefix(&message).unwrap();
    let body = cbor::decode(body).unwrap();
    let blocks = Blocks::read(body.get("blocks").and_then(Value::as_bytes).unwrap()).unwrap();
    assert!(blocks.len() >= 2, "the record, the commit and tree nodes");
    let op = &body.get("ops").and_then(Value::as_array).unwrap()[0];
    let record = cbor::decode(blocks.get(op.get("cid").and_then(Value::as_link).unwrap()).unwrap()).unwrap();
    assert_eq!(record.get("$type").and_then(Value::as_str), Some("app.bsky.feed.post"));
    let langs: Vec<_> =
        record.get("langs").and_then(Value::as_array).unwrap().iter().filter_map(Value::as_str).collect();
    assert_eq!(langs, ["fr", "en"]);
}

#[test]
fn messages_the_pds_did_not_send() {
    let check = |message: Vec<u8>, expected: Event| assert_eq!(decode_frame(&message, NOW).unwrap(), expected);
    let error = m(&[("op", C::N(0))]);
    let body = m(&[("error", t("FutureCursor")), ("message", t("Cursor in the future."))]);
    check(
        enc::frame(&error, &body),
        Event::Error { error: "FutureCursor".into(), message: Some("Cursor in the future.".into()) },
    );
    let info = m(&[("name", t("OutdatedCursor")), ("message", t("Possibly missing events"))]);
    check(
        enc::frame(&enc::header("#info"), &info),
        Event::Info { name: "OutdatedCursor".into(), message: Some("Possibly missing events".into()) },
    );
    let future = m(&[("seq", C::U(9)), ("anything", C::A(vec![C::Null]))]);
    check(enc::frame(&enc::header("#labels"), &future), Event::Other { seq: Some(9), kind: "#labels".into() });
    let bad_handle = m(&[("seq", C::U(3)), ("did", t("did:plc:abc")), ("handle", t("a/b"))]);
    check(
        enc::frame(&enc::header("#identity"), &bad_handle),
        Event::Identity { seq: 3, did: "did:plc:abc".into(), handle: None },
    );
}

#[test]
fn commits_keep_what_they_can_read() {
    let repo = "did:plc:abc";
    let post = enc::encode(&enc::post_record("Salut", &["fr"], "2026-01-02T03:04:05Z"));
    let like = enc::encode(&m(&[("$type", t("app.bsky.feed.like"))]));
    let (good, liar, missing, broken) = (enc::cid(1), enc::cid(2), enc::cid(3), enc::cid(4));
    let blocks = enc::car(&[(good.clone(), post), (liar.clone(), like), (broken.clone(), vec![0xff, 0x00])]);
    let ops = [
        ("create", "app.bsky.feed.post/3kaaaaaaaaaa2", Some(good)),
        ("create", "app.bsky.feed.post/3kaaaaaaaaaa3", Some(liar)), // a like under the post collection
        ("create", "app.bsky.feed.post/3kaaaaaaaaaa4", Some(missing)), // not in blocks (a tooBig commit)
        ("create", "app.bsky.feed.post/3kaaaaaaaaaa5", Some(broken)), // undecodable
        ("create", "app.bsky.feed.post/../../evil", Some(enc::cid(1))), // invalid record key
        ("update", "app.bsky.feed.post/3kaaaaaaaaaa2", Some(enc::cid(1))),
        ("delete", "app.bsky.feed.post/3kaaaaaaaaaa6", None),
        ("delete", "app.bsky.feed.like/3kaaaaaaaaaa7", None),
        ("create", "app.bsky.graph.follow/3kaaaaaaaaaa8", Some(enc::cid(1))),
    ];
    let found = commit(decode_frame(&enc::commit(42, repo, &ops, blocks), NOW).unwrap());
    assert_eq!(found.seq, 42);
    assert_eq!(found.posts.len(), 1);
    assert_eq!(found.posts[0].external_id.as_deref(), Some("at://did:plc:abc/app.bsky.feed.post/3kaaaaaaaaaa2"));
    assert_eq!(found.unreadable, 4);
    assert_eq!(found.deleted, ["at://did:plc:abc/app.bsky.feed.post/3kaaaaaaaaaa6"]);

    // A hostile repository DID is refused with the event's sequence number, so the cursor moves on.
    let evil = decode_frame(&enc::commit(43, "did:plc:x/../y", &[], vec![]), NOW).unwrap_err();
    assert_eq!(evil.seq, Some(43));
    // A broken CAR file too.
    let broken_car = decode_frame(&enc::commit(44, repo, &[], vec![0x05, 0xa0]), NOW).unwrap_err();
    assert_eq!(broken_car.seq, Some(44));
}

#[test]
fn every_truncation_of_every_captured_message_is_an_error_not_a_panic() {
    for message in fixtures() {
        for len in 0..message.len() {
            assert!(decode_frame(&message[..len], NOW).is_err(), "prefix of {len} bytes");
        }
    }
}

fn value() -> impl Strategy<Value = C> {
    let leaf = prop_oneof![
        any::<u64>().prop_map(C::U),
        any::<u64>().prop_map(C::N),
        proptest::collection::vec(any::<u8>(), 0..40).prop_map(C::B),
        ".{0,20}".prop_map(C::T),
        proptest::collection::vec(any::<u8>(), 1..40).prop_map(C::Link),
        any::<bool>().prop_map(C::Bool),
        Just(C::Null),
    ];
    leaf.prop_recursive(6, 64, 8, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..8).prop_map(C::A),
            proptest::collection::vec((".{0,8}", inner), 0..8).prop_map(C::M),
        ]
    })
}

fn same(encoded: &C, decoded: &Value<'_>) -> bool {
    match (encoded, decoded) {
        (C::U(n), Value::Int(i)) => i128::from(*n) == *i,
        (C::N(n), Value::Int(i)) => -1 - i128::from(*n) == *i,
        (C::B(b), Value::Bytes(d)) => b == d,
        (C::T(s), Value::Text(d)) => s == d,
        (C::Link(b), Value::Link(d)) => b == d,
        (C::Bool(b), Value::Bool(d)) => b == d,
        (C::Null, Value::Null) => true,
        (C::A(items), Value::Array(d)) => items.len() == d.len() && items.iter().zip(d).all(|(a, b)| same(a, b)),
        (C::M(entries), Value::Map(d)) => {
            entries.len() == d.len() && entries.iter().zip(d).all(|((k, v), (dk, dv))| k == dk && same(v, dv))
        }
        _ => false,
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2_000))]

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2_000)) {
        let _ = decode_frame(&bytes, NOW);
        let _ = cbor::decode(&bytes);
        let _ = Blocks::read(&bytes);
    }

    #[test]
    fn mutated_captured_messages_never_panic(
        which in 0usize..7,
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0u8..3), 1..8),
    ) {
        let mut message = fixtures().swap_remove(which);
        for (at, byte, kind) in edits {
            let i = at.index(message.len());
            match kind {
                0 => message[i] = byte,
                1 => message.insert(i, byte),
                _ => { message.remove(i); }
            }
            if message.is_empty() { break; }
        }
        if let Ok(Event::Commit(commit)) = decode_frame(&message, NOW) {
            for post in commit.posts {
                let id = post.external_id.unwrap();
                prop_assert!(!id.contains(['?', '#', ' ']) && id.matches('/').count() == 4, "{id}");
            }
        }
    }

    #[test]
    fn encoded_values_decode_to_themselves(value in value()) {
        let bytes = enc::encode(&value);
        let decoded = cbor::decode(&bytes).unwrap();
        prop_assert!(same(&value, &decoded), "{value:?} -> {decoded:?}");
    }

    #[test]
    fn built_post_commits_round_trip(text in "\\PC{0,300}", lang in "[a-z]{2}(-[A-Z]{2})?", seq in 0u64..1 << 53) {
        let message = enc::post_commit(seq, "did:plc:abc", "3kaaaaaaaaaa2", &text, &[&lang]);
        let found = commit(decode_frame(&message, NOW).unwrap());
        prop_assert_eq!(found.seq, seq as i64);
        prop_assert_eq!(&found.posts[0].text, &text);
        prop_assert_eq!(found.posts[0].lang.as_deref(), Some(lang.as_str()));
    }
}

/// Decoding throughput on the captured post commit, for BENCHMARKS (prints, asserts nothing about
/// time): `cargo test --release -p relais-networks --test bluesky_decode -- --ignored --nocapture`.
#[test]
#[ignore = "a measurement, run in release"]
fn decode_throughput() {
    let message = fixture("04-commit.bin");
    let n = 200_000;
    let start = std::time::Instant::now();
    let mut posts = 0;
    for _ in 0..n {
        posts += commit(decode_frame(std::hint::black_box(&message), NOW).unwrap()).posts.len();
    }
    let secs = start.elapsed().as_secs_f64();
    assert_eq!(posts, n);
    let per_sec = n as f64 / secs;
    let mb = per_sec * message.len() as f64 / 1e6;
    eprintln!(
        "decode_frame: {n} commits of {} bytes in {secs:.2} s = {per_sec:.0} messages/s ({mb:.1} MB/s)",
        message.len()
    );
}
