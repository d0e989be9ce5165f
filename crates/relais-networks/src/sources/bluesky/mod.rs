//! Bluesky as a listening source: the repository event stream (`com.atproto.sync.subscribeRepos`) and keyword search.
//!
//! # The repository event stream ([`Firehose`])
//!
//! A PDS or a relay publishes every repository change as a WebSocket stream of binary messages
//! (the AT Protocol "event stream" specification). Each message is two concatenated DAG-CBOR
//! objects: a header `{op, t}` (`op = 1` and `t = "#commit"`, `"#identity"`, `"#account"`,
//! `"#sync"`, `"#info"`; `op = -1` for an error frame `{error, message}`, after which the server
//! closes), then the body. A `#commit` body has `seq`, `repo` (the DID), `ops`
//! (`[{action, path: "collection/rkey", cid}]`) and `blocks`, a CAR v1 file with the new records
//! and repository tree nodes. For every `create` of an `app.bsky.feed.post` the record block is
//! looked up by CID, decoded, and mapped to an [`IncomingPost`](relais_domain::listen::IncomingPost):
//! `external_id` `at://{did}/app.bsky.feed.post/{rkey}`, `url`
//! `https://bsky.app/profile/{did}/post/{rkey}`, `author` the handle when an `#identity` event for
//! that DID was seen by this [`Firehose`] (a PDS emits one when an account is created or changes
//! handle; at most 50,000 are remembered) or when the host verifies it
//! (`com.atproto.repo.describeRepo` with `handleIsCorrect`; a PDS names its accounts, a relay
//! does not and is then no longer asked), the DID otherwise, `text`, `lang` = `langs[0]`,
//! `published_at` = `createdAt` (the time of reading when missing, unreadable or in the future).
//! Replies are posts like any other. Deletions of posts are reported ([`Batch::deleted`]) because
//! Bluesky's developer guidelines ask consumers to honour them; updates and every other
//! collection (likes, follows, reposts, profiles …) are ignored. `#account` changes are passed on
//! as [`Notice::Account`] (a deleted or taken-down account's posts should disappear too).
//!
//! ## Driving it
//!
//! The application owns the cursor. It creates a [`Firehose`] with the last sequence number it
//! stored, then loops: `next_batch(now)` → store `posts` (unique by `external_id`) and apply
//! `deleted` → persist `cursor`. On a failure `next_batch` returns a [`Retry`] with the time the
//! next attempt is due (exponential backoff from 1 s to 5 min with ±20 % jitter, reset by the
//! first message read); the loop sleeps until then and calls again, and the connection is opened
//! again with `?cursor=` the last sequence number delivered, so the server replays what followed.
//! `next_batch` never sleeps for a retry itself: time is a parameter. [`Firehose::run`] is that
//! loop (batches to an async sink, sleeps until retries are due) for callers that need nothing
//! more.
//!
//! ## What "exactly once" means here
//!
//! Delivery is **at least once**: the cursor is persisted after the posts, so a crash between the
//! two replays a few events, and a server may replay around a reconnection. Within one
//! [`Firehose`], events whose `seq` is not above the cursor are dropped. Across restarts,
//! uniqueness comes from the store (`source` + `external_id`). When the cursor is older than what
//! the server keeps, it says so (`#info OutdatedCursor`, passed on as [`Notice::MissedEvents`]) and
//! starts from its oldest event: those posts are lost to the stream (keyword search can fill the
//! gap). A `FutureCursor` error (the host's sequence was reset) keeps failing with backoff until an
//! operator resets the cursor; that is deliberate: silently jumping would hide lost events.
//!
//! ## Limits and hostile input
//!
//! Every connection goes through the SSRF guard ([`GuardedClient::vet`](crate::GuardedClient::vet),
//! with `wss`/`ws` checked as `https`/`http`), then TCP to the vetted address (no second DNS
//! lookup), TLS when `wss` (rustls with the aws-lc-rs provider and the platform verifier, as
//! reqwest), and the handshake, all within `connect_timeout`. A message larger than
//! `max_message_bytes` (5 MiB; the lexicon caps `blocks` at 2,000,000 bytes) drops the connection,
//! and the stream resumes one sequence number further, so an oversized event cannot wedge it.
//! A silent connection is dropped after `idle_timeout`. The decoders never panic and bound
//! everything: CBOR depth 64 and 100,000 values per decode, lengths checked against the bytes
//! left before any allocation, at most 10,000 blocks per CAR file, DIDs, record keys, handles and
//! language tags validated before they go into identifiers or URLs. A message that cannot be
//! decoded is skipped ([`Notice::Unreadable`]) and the stream goes on. There is no verification of
//! commit signatures or of the repository tree: the trust placed in the posts is the trust placed
//! in the host Relais connects to (the operator's choice), which is enough for listening.
//!
//! ## Why these crates
//!
//! * WebSocket: `tokio-tungstenite` with only its `handshake` feature. Its own `connect` would
//!   resolve the host again (defeating the guard's pinning) and its TLS features would bring a
//!   second certificate setup; here TCP comes from the vetted address and TLS from `tokio-rustls`,
//!   the same rustls and provider already linked by reqwest (no ring, see crates.md §0.4).
//! * DAG-CBOR and CAR: a small decoder of our own ([`cbor`], [`car`], ~400 lines with docs). The subset is
//!   small (seven major types, one tag), we need borrowed strings (no copy per field), hard limits
//!   on depth, item count and lengths, and lenient reading of unknown fields; `serde_ipld_dagcbor`
//!   would bring serde-driven decoding into typed structs (one type per event and record, strict
//!   on shapes we want to skip) plus the `cid`/`multihash` crates for what is a byte comparison
//!   here, and `ciborium` does not know tag 42 nor refuse what DAG-CBOR refuses. The decoders are
//!   property-tested on random and mutated bytes (`tests/bluesky_decode.rs`).
//!
//! # Keyword search ([`BlueskySearch`])
//!
//! When an AppView is configured (`https://api.bsky.app`, or one's own), `app.bsky.feed.searchPosts`
//! with `sort=latest`, `since` and `cursor` finds posts from before a subscription started or from
//! hosts the stream does not cover; results map to the same `IncomingPost` (same `external_id`, so
//! a post found both ways is stored once; `author` is the handle). Requests go through the guard
//! ([`GuardedClient::pinned`](crate::GuardedClient::pinned)) with its time and size limits.
//! Tested against an axum server answering lexicon-shaped JSON: the reference AppView needs
//! PostgreSQL, Redis and the whole dev-env, too heavy for these tests.

pub mod car;
pub mod cbor;
mod frame;
mod post;
mod search;
mod stream;

pub use frame::{Commit, Event, FrameError, decode_frame};
pub use post::{POST_COLLECTION, SOURCE};
pub use search::{BlueskySearch, MAX_PAGE, MAX_QUERY_CHARS, SearchError, SearchPage, map_page};
pub use stream::{Batch, DEFAULT_APPVIEW, Firehose, FirehoseConfig, FirehoseError, Notice, Retry, StreamPost, backoff};
