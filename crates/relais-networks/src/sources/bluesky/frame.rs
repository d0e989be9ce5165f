//! One WebSocket message of `com.atproto.sync.subscribeRepos` decoded into an [`Event`]: a
//! DAG-CBOR header `{op, t}` followed by a DAG-CBOR body; for `#commit`, the created post records
//! are read from the CAR file in `blocks`.

use super::car::Blocks;
use super::cbor::{self, Value};
use super::post::{self, POST_COLLECTION, RecordFields};
use relais_domain::listen::IncomingPost;
use std::fmt;

/// A decoded stream message.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// A repository commit (`#commit`).
    Commit(Commit),
    /// An identity change (`#identity`, and the legacy `#handle`): the handle, when given.
    Identity {
        /// The event's sequence number.
        seq: i64,
        /// The account.
        did: String,
        /// Its handle, when the event carries a valid one.
        handle: Option<String>,
    },
    /// An account's status at the host changed (`#account`): deactivated, taken down, deleted…
    Account {
        /// The event's sequence number.
        seq: i64,
        /// The account.
        did: String,
        /// Whether the account is active.
        active: bool,
        /// The status when not active (`takendown`, `suspended`, `deleted`, `deactivated` …).
        status: Option<String>,
    },
    /// A message that carries a sequence number but nothing for listening (`#sync`, `#tombstone`,
    /// `#migrate`, or a type this decoder does not know: the specification says to skip those).
    Other {
        /// The event's sequence number, when it has one.
        seq: Option<i64>,
        /// The message type (`#sync` …).
        kind: String,
    },
    /// Information from the server (`#info`), e.g. `OutdatedCursor`: events were missed.
    Info {
        /// `OutdatedCursor`, or another name.
        name: String,
        /// The server's explanation.
        message: Option<String>,
    },
    /// An error frame (`op = -1`); the server closes the connection after it.
    Error {
        /// `FutureCursor`, `ConsumerTooSlow`, or another name.
        error: String,
        /// The server's explanation.
        message: Option<String>,
    },
}

impl Event {
    /// The sequence number, for the messages that have one.
    pub fn seq(&self) -> Option<i64> {
        match self {
            Event::Commit(c) => Some(c.seq),
            Event::Identity { seq, .. } | Event::Account { seq, .. } => Some(*seq),
            Event::Other { seq, .. } => *seq,
            Event::Info { .. } | Event::Error { .. } => None,
        }
    }
}

/// What a `#commit` means for listening.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Commit {
    /// The event's sequence number.
    pub seq: i64,
    /// The repository (account DID).
    pub repo: String,
    /// The posts it created, in operation order (`author` is the DID).
    pub posts: Vec<IncomingPost>,
    /// The AT URIs of the posts it deleted.
    pub deleted: Vec<String>,
    /// Post creations that could not be read: record missing from `blocks` (`tooBig` commits),
    /// undecodable, not a post, or with invalid identifiers.
    pub unreadable: usize,
}

/// Why a message could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrameError {
    /// The message's sequence number, when the body was read far enough to know it (the cursor can
    /// then move past it).
    pub seq: Option<i64>,
    /// What is wrong.
    pub why: String,
}

impl fmt::Display for FrameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.seq {
            Some(seq) => write!(f, "unreadable event {seq}: {}", self.why),
            None => write!(f, "unreadable event: {}", self.why),
        }
    }
}

impl std::error::Error for FrameError {}

fn invalid(seq: Option<i64>, why: impl fmt::Display) -> FrameError {
    FrameError { seq, why: why.to_string() }
}

/// Decodes one binary WebSocket message. `now_ms` is the fallback publication time of posts that
/// do not say (or claim a future date).
pub fn decode_frame(message: &[u8], now_ms: i64) -> Result<Event, FrameError> {
    let (header, rest) = cbor::decode_prefix(message).map_err(|e| invalid(None, format!("header: {e}")))?;
    let body = cbor::decode(rest).map_err(|e| invalid(None, format!("body: {e}")))?;
    if !matches!(body, Value::Map(_)) {
        return Err(invalid(None, "body is not a map"));
    }
    let text = |key: &str| body.get(key).and_then(Value::as_str).map(str::to_owned);
    match header.get("op").and_then(Value::as_i64) {
        Some(-1) => return Ok(Event::Error { error: text("error").unwrap_or_default(), message: text("message") }),
        Some(1) => {}
        _ => return Err(invalid(None, "header op is neither 1 nor -1")),
    }
    let kind = header.get("t").and_then(Value::as_str).ok_or_else(|| invalid(None, "header without t"))?;
    if kind == "#info" {
        return Ok(Event::Info { name: text("name").unwrap_or_default(), message: text("message") });
    }
    let seq = body.get("seq").and_then(Value::as_i64);
    let did_of = |key: &str| {
        let did = text(key).filter(|d| post::valid_did(d));
        did.ok_or_else(|| invalid(seq, format!("{kind} without a valid `{key}`")))
    };
    let seq_or_err = || seq.ok_or_else(|| invalid(None, format!("{kind} without seq")));
    match kind {
        "#commit" => commit(&body, seq_or_err()?, did_of("repo")?, now_ms).map(Event::Commit),
        "#identity" | "#handle" => {
            let handle = text("handle").filter(|h| post::valid_handle(h));
            Ok(Event::Identity { seq: seq_or_err()?, did: did_of("did")?, handle })
        }
        "#account" => Ok(Event::Account {
            seq: seq_or_err()?,
            did: did_of("did")?,
            active: body.get("active").and_then(Value::as_bool).unwrap_or(true),
            status: text("status"),
        }),
        _ => Ok(Event::Other { seq, kind: kind.to_owned() }),
    }
}

fn commit(body: &Value<'_>, seq: i64, repo: String, now_ms: i64) -> Result<Commit, FrameError> {
    let ops = body.get("ops").and_then(Value::as_array).ok_or_else(|| invalid(Some(seq), "#commit without ops"))?;
    let car = body.get("blocks").and_then(Value::as_bytes).unwrap_or_default();
    let blocks =
        if car.is_empty() { Blocks::default() } else { Blocks::read(car).map_err(|e| invalid(Some(seq), e))? };
    let mut found = Commit { seq, repo, posts: Vec::new(), deleted: Vec::new(), unreadable: 0 };
    for op in ops {
        let action = op.get("action").and_then(Value::as_str);
        let path = op.get("path").and_then(Value::as_str).unwrap_or_default();
        let Some(rkey) = path.strip_prefix(POST_COLLECTION).and_then(|p| p.strip_prefix('/')) else { continue };
        match action {
            Some("create") => {
                let record = op.get("cid").and_then(Value::as_link).and_then(|cid| blocks.get(cid));
                match record.and_then(|bytes| read_post(&found.repo, rkey, bytes, now_ms)) {
                    Some(post) => found.posts.push(post),
                    None => found.unreadable += 1,
                }
            }
            Some("delete") if post::valid_rkey(rkey) => found.deleted.push(post::post_uri(&found.repo, rkey)),
            _ => {}
        }
    }
    Ok(found)
}

fn read_post(did: &str, rkey: &str, block: &[u8], now_ms: i64) -> Option<IncomingPost> {
    let record = cbor::decode(block).ok()?;
    let fields = RecordFields {
        kind: record.get("$type").and_then(Value::as_str),
        text: record.get("text").and_then(Value::as_str),
        first_lang: record.get("langs").and_then(Value::as_array).and_then(|l| l.first()).and_then(Value::as_str),
        created_at: record.get("createdAt").and_then(Value::as_str),
    };
    post::to_incoming(did, rkey, did, fields, now_ms)
}
