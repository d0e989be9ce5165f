//! The publishing interface every network implements, and the types that cross it.
//!
//! The engine (relais-app) decides when and what; a network only knows how. Every network call
//! is classified by its outcome ([`NetError`]): the engine retries transient failures, shows
//! permanent ones to people, asks for reconnection on auth failures, and never blindly retries
//! an [`NetError::Unknown`] outcome: it first calls [`Network::lookup`] with the same
//! idempotency key.

use relais_domain::Network as NetworkId;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// One connected account, as a network client needs it (credentials decrypted).
#[derive(Clone)]
pub struct Account {
    /// Relais's id of the channel (for networks that live inside Relais, like the sandbox).
    pub channel_id: i64,
    /// Handle on the network.
    pub handle: String,
    /// Server base URL (Mastodon, a PDS…), when the network has several.
    pub instance_url: Option<String>,
    /// Decrypted credentials (JSON object: app password, tokens, session…).
    pub credentials: serde_json::Value,
}

impl std::fmt::Debug for Account {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Account")
            .field("handle", &self.handle)
            .field("instance_url", &self.instance_url)
            .finish_non_exhaustive()
    }
}

/// A media file to attach.
#[derive(Debug, Clone)]
pub struct OutMedia {
    /// Where the bytes are.
    pub path: std::path::PathBuf,
    /// MIME type (read from the file at upload).
    pub mime: String,
    /// Alternative text.
    pub alt: String,
}

/// A reference to a post on the network (to reply to it, delete it, read its metrics).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RemoteRef {
    /// The network's identifier (Mastodon status id, Bluesky `at://` URI…).
    pub id: String,
    /// Content hash where the network needs one to reference a post (Bluesky CID).
    pub cid: Option<String>,
    /// Public web address.
    pub url: Option<String>,
}

/// Where a reply goes in a thread.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplyTo {
    /// The first post of the thread.
    pub root: RemoteRef,
    /// The post answered.
    pub parent: RemoteRef,
}

/// One post (or one thread part) to publish.
#[derive(Debug, Clone)]
pub struct OutPost {
    /// The text, already adapted to this network.
    pub text: String,
    /// Attached media, in order.
    pub media: Vec<OutMedia>,
    /// A link to attach (card), when the network supports it.
    pub link: Option<String>,
    /// The post this one answers (thread parts, first comments).
    pub reply_to: Option<ReplyTo>,
    /// BCP-47 language tags.
    pub languages: Vec<String>,
    /// Stored before the call: the network's own idempotency (Mastodon's `Idempotency-Key`,
    /// Bluesky's record key) and the key to look the post up after an unknown outcome.
    pub idempotency_key: String,
    /// Network-specific options (Mastodon visibility, content warning…).
    pub options: serde_json::Value,
}

/// What a network says about a post it has.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Published {
    /// The post's reference.
    pub remote: RemoteRef,
}

/// How a network call failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum NetError {
    /// Try again later (5xx, network error before the request was sent).
    #[error("transient: {message}")]
    Transient {
        /// What happened.
        message: String,
        /// When the network said to retry, if it did.
        retry_after: Option<Duration>,
    },
    /// Rate limited (429): retry after the reset.
    #[error("rate limited")]
    RateLimited {
        /// When to retry.
        retry_after: Option<Duration>,
    },
    /// The network refused the content or the request (validation, other 4xx): do not retry.
    #[error("refused by the network: {message}")]
    Permanent {
        /// The network's own message, shown to the user.
        message: String,
    },
    /// The credentials no longer work: the channel needs reconnection.
    #[error("authentication failed: {message}")]
    Auth {
        /// The network's own message.
        message: String,
    },
    /// The request may or may not have taken effect (timeout after sending, connection cut).
    #[error("outcome unknown: {message}")]
    Unknown {
        /// What happened.
        message: String,
    },
}

/// A new idempotency key in the AT Protocol TID format (13 characters, sortable base32 of the
/// time in microseconds and a clock id), valid as a Bluesky record key and as any network's
/// idempotency key.
pub fn new_idempotency_key(now_micros: u64, clock_id: u16) -> String {
    crate::bluesky::new_tid(now_micros, clock_id)
}

/// Makes idempotency keys that never repeat within a process: the time part is strictly
/// increasing (a key made in the same microsecond as the previous one takes the next
/// microsecond), and the clock id, fixed per generator, separates processes.
#[derive(Debug)]
pub struct KeyGenerator {
    last: std::sync::atomic::AtomicU64,
    clock_id: u16,
}

impl KeyGenerator {
    /// A generator with this clock id (10 bits are used; pick it at random per process).
    pub fn new(clock_id: u16) -> Self {
        KeyGenerator { last: std::sync::atomic::AtomicU64::new(0), clock_id: clock_id & 0x3ff }
    }

    /// The next key for the time `now_micros`.
    pub fn next(&self, now_micros: u64) -> String {
        use std::sync::atomic::Ordering;
        let mut last = self.last.load(Ordering::SeqCst);
        loop {
            let candidate = now_micros.max(last + 1);
            match self.last.compare_exchange(last, candidate, Ordering::SeqCst, Ordering::SeqCst) {
                Ok(_) => return new_idempotency_key(candidate, self.clock_id),
                Err(seen) => last = seen,
            }
        }
    }
}

/// What a network can do, for the composer and the engine.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Capabilities {
    /// Threads through replies.
    pub threads: bool,
    /// Deleting published posts.
    pub delete: bool,
    /// Looking a post up by its idempotency key (else: reconciliation by recent posts).
    pub lookup_by_key: bool,
}

/// A social network Relais publishes to. One implementation per folder of this crate, listed
/// once in [`crate::registry`].
#[async_trait::async_trait]
pub trait Network: Send + Sync {
    /// Which network this is.
    fn id(&self) -> NetworkId;

    /// What it can do.
    fn capabilities(&self) -> Capabilities;

    /// Publishes one post (or thread part). Must use `post.idempotency_key` so that repeating
    /// the same call cannot create a second post where the network allows it.
    async fn publish(&self, account: &Account, post: &OutPost) -> Result<Published, NetError>;

    /// Finds the post published with this idempotency key (after an unknown outcome). `text` is
    /// the text sent, for networks that can only reconcile by content.
    async fn lookup(&self, account: &Account, idempotency_key: &str, text: &str)
    -> Result<Option<Published>, NetError>;

    /// Deletes a published post.
    async fn delete(&self, account: &Account, post: &RemoteRef) -> Result<(), NetError>;

    /// Refreshes the session or tokens when needed; returns new credentials to store, if any.
    async fn refresh(&self, account: &Account) -> Result<Option<serde_json::Value>, NetError>;

    /// Public metrics of a post (likes, reposts, replies…), as the network names them.
    async fn metrics(&self, account: &Account, post: &RemoteRef) -> Result<serde_json::Value, NetError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn idempotency_keys_are_tids() {
        let check = |micros: u64, clock: u16, expected: &str| assert_eq!(new_idempotency_key(micros, clock), expected);
        check(0, 0, "2222222222222");
        // 2023-01-01T00:00:00Z, clock id 0 (a TID sorts by time).
        check(1_672_531_200_000_000, 0, "3jl7442uk2222");
        let generator = KeyGenerator::new(5);
        let keys: std::collections::BTreeSet<String> =
            (0..1000).map(|_| generator.next(1_700_000_000_000_000)).collect();
        assert_eq!(keys.len(), 1000, "the same microsecond never gives the same key");
        let a = new_idempotency_key(1_700_000_000_000_000, 7);
        let b = new_idempotency_key(1_700_000_000_000_001, 7);
        assert!(a < b && a.len() == 13);
    }
}
