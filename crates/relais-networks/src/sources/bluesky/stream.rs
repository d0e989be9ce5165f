//! The connection to `com.atproto.sync.subscribeRepos`: SSRF-vetted TCP, optional TLS, the
//! WebSocket handshake with size limits, and [`Firehose::next_batch`], which the application calls
//! in a loop (it reconnects from the cursor, with backoff, by itself).

use super::frame::{self, Event, FrameError};
use crate::guard::{FetchError, GuardedClient};
use futures_util::StreamExt;
use relais_domain::Msg;
use relais_domain::listen::IncomingPost;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio_rustls::rustls;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::error::CapacityError;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};

/// Bluesky's public AppView: where authors read through a relay are looked up by default.
pub const DEFAULT_APPVIEW: &str = "https://public.api.bsky.app";

/// The limits and delays of a [`Firehose`].
#[derive(Debug, Clone)]
pub struct FirehoseConfig {
    /// The largest message accepted (a commit's `blocks` is at most 2,000,000 bytes by the lexicon).
    pub max_message_bytes: usize,
    /// Time allowed for TCP, TLS and the WebSocket handshake together.
    pub connect_timeout: Duration,
    /// With no message (not even a ping) for this long, the connection is considered dead.
    pub idle_timeout: Duration,
    /// How long [`Firehose::next_batch`] waits for a first message before returning an empty batch.
    pub poll_wait: Duration,
    /// The most messages one batch reads.
    pub max_batch: usize,
    /// The first reconnection delay; it doubles on each failure in a row.
    pub backoff_base: Duration,
    /// The longest reconnection delay.
    pub backoff_max: Duration,
    /// Ask for the handle of authors no `#identity` event named (see [`Firehose::next_batch`]).
    pub describe_authors: bool,
    /// Where authors are looked up when the stream's host names no account (a relay): an AppView
    /// (`app.bsky.actor.getProfiles`), which verifies each handle both ways (the handle's domain
    /// names the DID, the DID's document names the handle). [`DEFAULT_APPVIEW`] by default; `None`
    /// leaves those authors as DIDs.
    pub appview: Option<url::Url>,
    /// Certificate authorities trusted for `wss://` besides the system's (a PDS behind an
    /// organisation's own authority); none by default.
    pub extra_roots: Vec<rustls::pki_types::CertificateDer<'static>>,
}

impl Default for FirehoseConfig {
    fn default() -> Self {
        FirehoseConfig {
            max_message_bytes: 5 * 1024 * 1024,
            connect_timeout: Duration::from_secs(15),
            idle_timeout: Duration::from_secs(120),
            poll_wait: Duration::from_secs(1),
            max_batch: 500,
            backoff_base: Duration::from_secs(1),
            backoff_max: Duration::from_secs(300),
            describe_authors: true,
            appview: url::Url::parse(DEFAULT_APPVIEW).ok(),
            extra_roots: Vec::new(),
        }
    }
}

/// A post with the sequence number of the event that carried it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamPost {
    /// The event's sequence number.
    pub seq: i64,
    /// The post.
    pub post: IncomingPost,
}

/// Something the application may want to log or act on.
#[derive(Debug, Clone, PartialEq)]
pub enum Notice {
    /// The server could not replay from the cursor (`#info OutdatedCursor`): events were missed.
    MissedEvents(Option<String>),
    /// A message could not be decoded; it was skipped.
    Unreadable(FrameError),
    /// A message was larger than the limit; the connection was dropped and resumes after it.
    TooLarge {
        /// The cursor the stream resumes from.
        resume_after: Option<i64>,
    },
    /// An account's status changed at the host (`deleted` and `takendown` accounts' posts should
    /// be removed from listening results).
    Account {
        /// The account.
        did: String,
        /// Whether it is active.
        active: bool,
        /// Its status when inactive.
        status: Option<String>,
    },
}

/// What one call to [`Firehose::next_batch`] read.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Batch {
    /// Created posts, in stream order.
    pub posts: Vec<StreamPost>,
    /// AT URIs of deleted posts.
    pub deleted: Vec<String>,
    /// The cursor to persist once `posts` and `deleted` are stored (`None`: nothing seen yet).
    pub cursor: Option<i64>,
    /// Things to log.
    pub notices: Vec<Notice>,
}

/// Why the stream is not delivering.
#[derive(Debug, Clone, thiserror::Error)]
pub enum FirehoseError {
    /// The URL is invalid or the SSRF guard refused the address.
    #[error("{0}")]
    Guard(FetchError),
    /// TCP, TLS or the WebSocket handshake failed or timed out.
    #[error("connection failed: {0}")]
    Connect(String),
    /// The connection was closed, broke, or stayed silent past the idle timeout.
    #[error("connection lost: {0}")]
    Lost(String),
    /// The server sent an error frame (`FutureCursor`, `ConsumerTooSlow` …).
    #[error("server error {error}: {message}")]
    Server {
        /// The error name.
        error: String,
        /// The server's explanation.
        message: String,
    },
}

impl FirehoseError {
    /// A message for people, in French and English.
    pub fn message(&self, endpoint: &str) -> Msg {
        match self {
            FirehoseError::Guard(e) => e.message(endpoint),
            FirehoseError::Connect(e) => Msg::new(
                format!("The Bluesky stream {endpoint} could not be reached: {e}"),
                format!("Le flux Bluesky {endpoint} est injoignable : {e}"),
            ),
            FirehoseError::Lost(e) => Msg::new(
                format!("The connection to the Bluesky stream {endpoint} was lost: {e}"),
                format!("La connexion au flux Bluesky {endpoint} a été perdue : {e}"),
            ),
            FirehoseError::Server { error, message } => Msg::new(
                format!("The Bluesky stream {endpoint} refused the subscription ({error}): {message}"),
                format!("Le flux Bluesky {endpoint} a refusé l'abonnement ({error}) : {message}"),
            ),
        }
    }
}

/// The stream is down; the next attempt is due at `retry_at_ms`.
#[derive(Debug, Clone)]
pub struct Retry {
    /// What went wrong.
    pub error: FirehoseError,
    /// When [`Firehose::next_batch`] will try again (milliseconds since the epoch); calls before
    /// that return this same value without touching the network.
    pub retry_at_ms: i64,
}

/// The delay before reconnection attempt number `failures` (1 for the first failure): `base`
/// doubled per failure, at most `max`, times a factor in [0.8, 1.2) drawn from `seed` (so many
/// clients do not reconnect in step).
pub fn backoff(base: Duration, max: Duration, failures: u32, seed: u64) -> Duration {
    let doubled = base.saturating_mul(1u32 << failures.saturating_sub(1).min(20));
    let spread = (seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 32) % 1000;
    doubled.min(max).mul_f64(0.8 + 0.4 * spread as f64 / 1000.0)
}

trait Io: AsyncRead + AsyncWrite + Unpin + Send + Sync {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send + Sync> Io for T {}
type Socket = WebSocketStream<Box<dyn Io>>;

/// How many DID → handle pairs are remembered (the map is emptied when full).
const MAX_HANDLES: usize = 50_000;
/// Authors looked up per batch at most (the others keep their DID until a later batch).
const MAX_LOOKUPS: usize = 16;
/// The most DIDs asked of the AppView per batch (`getProfiles` takes at most 25).
const MAX_PROFILES: usize = 25;
/// The most `getProfiles` requests per batch, sent together (the public AppView allows about ten
/// a second to one address).
const MAX_PROFILE_REQUESTS: usize = 4;
/// How long a DID with no verified handle is not asked about again.
const UNNAMED_FOR_MS: i64 = 3_600_000;
/// How long after a failed lookup a DID is asked about again.
const LOOKUP_FAILED_FOR_MS: i64 = 300_000;

/// A subscription to one host's repository event stream (a PDS or a relay).
pub struct Firehose {
    guard: GuardedClient,
    endpoint: url::Url,
    config: FirehoseConfig,
    cursor: Option<i64>,
    socket: Option<Socket>,
    last_activity_ms: i64,
    failures: u32,
    waiting: Option<Retry>,
    /// Handles of DIDs, from `#identity` events and from the host.
    handles: HashMap<String, String>,
    /// DIDs the host gave no verified handle for, and when to ask again.
    unnamed: HashMap<String, i64>,
    /// The host is still asked for handles (a PDS names its accounts, a relay does not).
    describes: bool,
    /// When the AppView may be asked again after a failed request (ms since the epoch).
    appview_retry_at_ms: i64,
    /// The host named an account at least once (it is a PDS), and lookups in a row that named
    /// nobody.
    named_any: bool,
    unnamed_in_a_row: usize,
}

impl std::fmt::Debug for Firehose {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Firehose")
            .field("endpoint", &self.endpoint.as_str())
            .field("cursor", &self.cursor)
            .field("connected", &self.socket.is_some())
            .field("failures", &self.failures)
            .finish()
    }
}

impl Firehose {
    /// A subscription to `host` (`wss://bsky.network`, `https://pds.example`, `http://localhost:2583`:
    /// only scheme, host and port are used), resuming after `cursor` (the last sequence number
    /// stored; `None` follows live events only, `Some(0)` replays everything the host keeps).
    /// Nothing is connected until [`Firehose::next_batch`].
    pub fn new(
        guard: GuardedClient,
        host: &str,
        cursor: Option<i64>,
        config: FirehoseConfig,
    ) -> Result<Self, FetchError> {
        let mut endpoint = url::Url::parse(host).map_err(|e| FetchError::InvalidUrl(e.to_string()))?;
        let scheme = match endpoint.scheme() {
            "wss" | "https" => "wss",
            "ws" | "http" => "ws",
            _ => return Err(FetchError::InvalidUrl("only wss, ws, https and http".into())),
        };
        if endpoint.host_str().is_none() || !endpoint.username().is_empty() || endpoint.password().is_some() {
            return Err(FetchError::InvalidUrl("a host, without credentials".into()));
        }
        let keep_port = endpoint.port();
        endpoint.set_scheme(scheme).map_err(|()| FetchError::InvalidUrl("scheme".into()))?;
        endpoint.set_port(keep_port).map_err(|()| FetchError::InvalidUrl("port".into()))?;
        endpoint.set_path("/xrpc/com.atproto.sync.subscribeRepos");
        endpoint.set_query(None);
        endpoint.set_fragment(None);
        let (socket, waiting, handles, unnamed) = (None, None, HashMap::new(), HashMap::new());
        Ok(Firehose {
            guard,
            endpoint,
            config,
            cursor,
            socket,
            last_activity_ms: 0,
            failures: 0,
            waiting,
            handles,
            unnamed,
            describes: true,
            appview_retry_at_ms: 0,
            named_any: false,
            unnamed_in_a_row: 0,
        })
    }

    /// The last sequence number delivered in a batch (where a reconnection resumes).
    pub fn cursor(&self) -> Option<i64> {
        self.cursor
    }

    /// The WebSocket URL without cursor, for messages.
    pub fn endpoint(&self) -> &str {
        self.endpoint.as_str()
    }

    /// Whether a connection is open.
    pub fn is_connected(&self) -> bool {
        self.socket.is_some()
    }

    /// Reads what the stream has: connects first if needed (unless a retry is not yet due at
    /// `now_ms`), waits up to `poll_wait` for a first message, then takes the messages already
    /// there, up to `max_batch`. An empty batch means "connected, nothing new". On failure the
    /// connection is dropped and the error says when the next attempt is due; the events after
    /// [`Firehose::cursor`] are replayed then.
    ///
    /// A post's author is its handle when known (from an `#identity` event, or asked of the host,
    /// see [`Firehose::name_authors`]), its DID otherwise.
    pub async fn next_batch(&mut self, now_ms: i64) -> Result<Batch, Retry> {
        let mut read = self.read_batch(now_ms).await;
        if let Ok(batch) = &mut read {
            self.name_authors(batch, now_ms).await;
        }
        read
    }

    /// Gives the posts whose author is a DID the handle the host reports for it
    /// (`com.atproto.repo.describeRepo`), kept only when the host says the handle resolves back to
    /// the DID (`handleIsCorrect`: a DID document may claim any handle). At most [`MAX_LOOKUPS`]
    /// DIDs per batch, eight at a time; a DID without a verified handle is not asked about again
    /// for an hour. A host that does not serve the method, or names none of the first
    /// [`MAX_LOOKUPS`] accounts it is asked about (a relay: it hosts no repository), is not asked
    /// again. From then on the AppView ([`FirehoseConfig::appview`]) is asked instead, up to
    /// [`MAX_PROFILES`] DIDs a request and [`MAX_PROFILE_REQUESTS`] requests per batch, with the
    /// same hour for the DIDs it does not name; after a failed request it is left alone for five
    /// minutes. An account's own PDS is not asked: behind a relay it is whatever server the account
    /// chose, and it could claim any handle. Without an AppView, the authors read through a relay
    /// keep their DID until an `#identity` event names the account.
    async fn name_authors(&mut self, batch: &mut Batch, now_ms: i64) {
        let by_host = self.describes;
        // After a failed request the AppView is left alone for a while (it may be unreachable:
        // each request would delay the stream by its timeout).
        let appview = self.config.appview.clone().filter(|_| !by_host && now_ms >= self.appview_retry_at_ms);
        if self.config.describe_authors && (by_host || appview.is_some()) {
            let mut unknown: Vec<String> = batch
                .posts
                .iter()
                .filter_map(|p| p.post.author.as_deref())
                .filter(|a| a.starts_with("did:") && !self.handles.contains_key(*a))
                .filter(|a| self.unnamed.get(*a).is_none_or(|&until| until <= now_ms))
                .map(str::to_owned)
                .collect();
            unknown.sort_unstable();
            unknown.dedup();
            unknown.truncate(if by_host { MAX_LOOKUPS } else { MAX_PROFILES * MAX_PROFILE_REQUESTS });
            let answers: Vec<(String, Result<Option<String>, FetchError>)> = match &appview {
                Some(appview) => {
                    // Owned per request: the futures must be `Send` for any lifetime (the stream
                    // is read in a spawned task).
                    let requests: Vec<_> = unknown
                        .chunks(MAX_PROFILES)
                        .map(|dids| {
                            let (guard, appview, dids) = (self.guard.clone(), appview.clone(), dids.to_vec());
                            async move {
                                let answer = get_profiles(&guard, &appview, &dids).await;
                                (dids, answer)
                            }
                        })
                        .collect();
                    let answered: Vec<_> =
                        futures_util::stream::iter(requests).buffer_unordered(MAX_PROFILE_REQUESTS).collect().await;
                    let mut answers = Vec::with_capacity(unknown.len());
                    for (dids, answer) in answered {
                        match answer {
                            Ok(mut handles) => answers.extend(dids.iter().map(|did| {
                                let handle = handles.remove(did);
                                (did.clone(), Ok(handle))
                            })),
                            Err(error) => {
                                if self.appview_retry_at_ms <= now_ms {
                                    tracing::info!(%appview, %error, "The Bluesky AppView did not answer: authors \
                                        read through the relay keep their DID for five minutes.");
                                }
                                self.appview_retry_at_ms = now_ms + LOOKUP_FAILED_FOR_MS;
                                answers.extend(dids.iter().map(|did| (did.clone(), Err(error.clone()))));
                            }
                        }
                    }
                    answers
                }
                None => {
                    let (guard, endpoint) = (&self.guard, &self.endpoint);
                    let lookups = unknown.into_iter().map(|did| async move {
                        let answer = describe_repo(guard, endpoint, &did).await;
                        (did, answer)
                    });
                    futures_util::stream::iter(lookups).buffer_unordered(8).collect().await
                }
            };
            for (did, answer) in answers {
                match answer {
                    Ok(Some(handle)) => {
                        self.unnamed.remove(&did);
                        self.remember_handle(did, Some(handle));
                        self.named_any = true;
                        self.unnamed_in_a_row = 0;
                    }
                    Ok(None) => self.remember_unnamed(did, now_ms + UNNAMED_FOR_MS),
                    Err(error) => {
                        tracing::debug!(endpoint = %self.endpoint, %did, %error, "Bluesky handle lookup failed.");
                        let unsupported = by_host && matches!(error, FetchError::Status(404 | 405 | 501));
                        self.remember_unnamed(did, now_ms + LOOKUP_FAILED_FOR_MS);
                        if unsupported {
                            self.unnamed_in_a_row = MAX_LOOKUPS;
                        }
                    }
                }
            }
            if by_host && !self.named_any && self.unnamed_in_a_row >= MAX_LOOKUPS {
                tracing::info!(endpoint = %self.endpoint, "The stream's host names no account (a relay): \
                    authors are asked of the AppView, when one is configured.");
                self.describes = false;
                // Those were asked of the relay: ask the AppView at the next batch.
                self.unnamed.clear();
            }
        }
        for p in &mut batch.posts {
            if let Some(handle) = p.post.author.as_deref().and_then(|a| self.handles.get(a)) {
                p.post.author = Some(handle.clone());
            }
        }
    }

    /// Records (or, with `None`, forgets) the handle of a DID; the map is emptied when full.
    fn remember_handle(&mut self, did: String, handle: Option<String>) {
        if self.handles.len() >= MAX_HANDLES {
            self.handles.clear();
        }
        match handle {
            Some(handle) => self.handles.insert(did, handle),
            None => self.handles.remove(&did),
        };
    }

    fn remember_unnamed(&mut self, did: String, until: i64) {
        self.unnamed_in_a_row = self.unnamed_in_a_row.saturating_add(1);
        if self.unnamed.len() >= MAX_HANDLES {
            self.unnamed.clear();
        }
        self.unnamed.insert(did, until);
    }

    async fn read_batch(&mut self, now_ms: i64) -> Result<Batch, Retry> {
        if let Some(retry) = &self.waiting {
            if now_ms < retry.retry_at_ms {
                return Err(retry.clone());
            }
            self.waiting = None;
        }
        let mut socket = match self.socket.take() {
            Some(socket) => socket,
            None => match self.connect().await {
                Ok(socket) => {
                    self.last_activity_ms = now_ms;
                    socket
                }
                Err(error) => return Err(self.fail(error, now_ms)),
            },
        };
        let mut batch = Batch::default();
        let mut wait = self.config.poll_wait;
        let mut read = 0;
        while read < self.config.max_batch {
            let message = match tokio::time::timeout(wait, socket.next()).await {
                Err(_elapsed)
                    if read == 0 && idle_for(now_ms, self.last_activity_ms, wait) > self.config.idle_timeout =>
                {
                    return self.end(batch, FirehoseError::Lost("no message before the idle timeout".into()), now_ms);
                }
                Err(_elapsed) => break,
                Ok(None) => return self.end(batch, FirehoseError::Lost("closed by the server".into()), now_ms),
                Ok(Some(Err(WsError::Capacity(CapacityError::MessageTooLong { .. })))) => {
                    // Reconnecting from the same cursor would read the same message again.
                    self.cursor = self.cursor.map(|c| c + 1);
                    batch.notices.push(Notice::TooLarge { resume_after: self.cursor });
                    batch.cursor = self.cursor;
                    let error = FirehoseError::Lost("message larger than the limit".into());
                    return self.end(batch, error, now_ms);
                }
                Ok(Some(Err(e))) => return self.end(batch, FirehoseError::Lost(e.to_string()), now_ms),
                Ok(Some(Ok(message))) => message,
            };
            (wait, read) = (Duration::ZERO, read + 1);
            self.last_activity_ms = now_ms;
            match message {
                Message::Binary(bytes) => {
                    if let Some(error) = self.absorb(&bytes, now_ms, &mut batch) {
                        return self.end(batch, error, now_ms);
                    }
                }
                Message::Close(frame) => {
                    let why =
                        frame.map_or_else(|| "closed by the server".to_owned(), |f| format!("closed: {}", f.reason));
                    return self.end(batch, FirehoseError::Lost(why), now_ms);
                }
                _ => {} // pings are answered by tungstenite; text frames are not part of the protocol
            }
        }
        if read > 0 {
            self.failures = 0;
        }
        self.socket = Some(socket);
        Ok(batch)
    }

    /// Drives the stream for ever: each batch with something in it (posts, deletions, notices or
    /// a new cursor) goes to `sink`, which stores it and persists its cursor; failures wait until
    /// the retry is due (logged by [`Firehose::next_batch`]). `now` reads the caller's clock.
    /// Returns when `sink` answers `false`. Cancel-safe: dropping the future loses nothing that
    /// was not already handed to `sink`, and the cursor stays in `self`.
    pub async fn run<F, Fut>(&mut self, now: impl Fn() -> i64, mut sink: F)
    where
        F: FnMut(Batch) -> Fut,
        Fut: Future<Output = bool>,
    {
        loop {
            match self.next_batch(now()).await {
                Ok(batch) if batch == Batch::default() => {}
                Ok(batch) => {
                    if !sink(batch).await {
                        return;
                    }
                }
                Err(retry) => {
                    let wait = u64::try_from(retry.retry_at_ms.saturating_sub(now())).unwrap_or(0);
                    tokio::time::sleep(Duration::from_millis(wait)).await;
                }
            }
        }
    }

    /// Folds one message into the batch; an error frame ends the connection.
    fn absorb(&mut self, bytes: &[u8], now_ms: i64, batch: &mut Batch) -> Option<FirehoseError> {
        let event = match frame::decode_frame(bytes, now_ms) {
            Ok(event) => event,
            Err(error) => {
                tracing::warn!(endpoint = %self.endpoint, %error, "Bluesky stream message skipped.");
                if let Some(seq) = error.seq {
                    self.advance(seq, batch);
                }
                batch.notices.push(Notice::Unreadable(error));
                return None;
            }
        };
        if let Some(seq) = event.seq()
            && !self.advance(seq, batch)
        {
            return None; // already delivered (a replay overlapping the cursor)
        }
        match event {
            Event::Commit(commit) => {
                // Authors are named when the batch is complete (see `name_authors`).
                batch.posts.extend(commit.posts.into_iter().map(|post| StreamPost { seq: commit.seq, post }));
                batch.deleted.extend(commit.deleted);
            }
            Event::Identity { did, handle, .. } => self.remember_handle(did, handle),
            Event::Account { did, active, status, .. } => batch.notices.push(Notice::Account { did, active, status }),
            Event::Info { name, message } if name == "OutdatedCursor" => {
                batch.notices.push(Notice::MissedEvents(message))
            }
            Event::Info { name, message } => {
                tracing::info!(endpoint = %self.endpoint, name, message, "Bluesky stream information.");
            }
            Event::Error { error, message } => {
                return Some(FirehoseError::Server { error, message: message.unwrap_or_default() });
            }
            Event::Other { .. } => {}
        }
        None
    }

    /// Moves the cursor to `seq` if it is new; false for an event already delivered.
    fn advance(&mut self, seq: i64, batch: &mut Batch) -> bool {
        if self.cursor.is_some_and(|c| seq <= c) {
            return false;
        }
        self.cursor = Some(seq);
        batch.cursor = Some(seq);
        true
    }

    /// Drops the connection; returns what was read, or the error when nothing was. A connection
    /// that delivered events resets the backoff; one that only sent an error frame does not.
    fn end(&mut self, batch: Batch, error: FirehoseError, now_ms: i64) -> Result<Batch, Retry> {
        let read_something = !batch.posts.is_empty() || !batch.deleted.is_empty() || batch.cursor.is_some();
        if read_something {
            self.failures = 0;
        }
        let retry = self.fail(error, now_ms);
        if read_something { Ok(batch) } else { Err(retry) }
    }

    fn fail(&mut self, error: FirehoseError, now_ms: i64) -> Retry {
        self.socket = None;
        self.failures = self.failures.saturating_add(1);
        let delay = backoff(self.config.backoff_base, self.config.backoff_max, self.failures, now_ms as u64);
        let retry_at_ms = now_ms.saturating_add(i64::try_from(delay.as_millis()).unwrap_or(i64::MAX));
        let failures = self.failures;
        tracing::warn!(endpoint = %self.endpoint, %error, failures, retry_at_ms, "Bluesky stream down.");
        let retry = Retry { error, retry_at_ms };
        self.waiting = Some(retry.clone());
        retry
    }

    async fn connect(&self) -> Result<Socket, FirehoseError> {
        let mut url = self.endpoint.clone();
        if let Some(cursor) = self.cursor {
            url.set_query(Some(&format!("cursor={cursor}")));
        }
        let secure = url.scheme() == "wss";
        let mut check = url.clone();
        let port = check.port();
        let _ = check.set_scheme(if secure { "https" } else { "http" });
        let _ = check.set_port(port);
        let (_, addr) = self.guard.vet(check.as_str()).await.map_err(FirehoseError::Guard)?;
        let host = url.host_str().unwrap_or_default().trim_matches(['[', ']']).to_owned();
        let limit = self.config.connect_timeout;
        let handshake = async {
            let tcp = TcpStream::connect(addr).await.map_err(|e| FirehoseError::Connect(e.to_string()))?;
            let _ = tcp.set_nodelay(true);
            let io: Box<dyn Io> =
                if secure { Box::new(tls(&host, tcp, &self.config.extra_roots).await?) } else { Box::new(tcp) };
            let mut request = url.as_str().into_client_request().map_err(|e| FirehoseError::Connect(e.to_string()))?;
            let agent = concat!("Relais/", env!("CARGO_PKG_VERSION"));
            request
                .headers_mut()
                .insert("user-agent", tokio_tungstenite::tungstenite::http::HeaderValue::from_static(agent));
            let config = WebSocketConfig::default()
                .max_message_size(Some(self.config.max_message_bytes))
                .max_frame_size(Some(self.config.max_message_bytes));
            let (socket, _) = tokio_tungstenite::client_async_with_config(request, io, Some(config))
                .await
                .map_err(|e| FirehoseError::Connect(e.to_string()))?;
            Ok(socket)
        };
        tokio::time::timeout(limit, handshake)
            .await
            .map_err(|_| FirehoseError::Connect(format!("no handshake within {} s", limit.as_secs())))?
    }
}

/// The verified handle of `did` according to the stream's host, `None` when it has none.
async fn describe_repo(guard: &GuardedClient, endpoint: &url::Url, did: &str) -> Result<Option<String>, FetchError> {
    let mut url = endpoint.clone();
    let scheme = if url.scheme() == "wss" { "https" } else { "http" };
    url.set_scheme(scheme).map_err(|()| FetchError::InvalidUrl("scheme".into()))?;
    url.set_path("/xrpc/com.atproto.repo.describeRepo");
    url.query_pairs_mut().clear().append_pair("repo", did);
    let answer = guard.get_answer(url.as_str(), reqwest::header::HeaderMap::new()).await?;
    match answer.status {
        200 => {}
        // An XRPC error for this repository (unknown, taken down): no handle.
        400 => return Ok(None),
        status => return Err(FetchError::Status(status)),
    }
    let body: serde_json::Value =
        serde_json::from_slice(&answer.body).map_err(|e| FetchError::Decode(e.to_string()))?;
    let verified = body["did"].as_str() == Some(did) && body["handleIsCorrect"].as_bool() == Some(true);
    Ok(body["handle"].as_str().filter(|h| verified && !h.is_empty() && *h != "handle.invalid").map(str::to_owned))
}

/// The handles `appview` has verified for `dids` (`app.bsky.actor.getProfiles`): accounts it does
/// not know, and handles it could not verify (`handle.invalid`), are left out.
async fn get_profiles(
    guard: &GuardedClient,
    appview: &url::Url,
    dids: &[String],
) -> Result<HashMap<String, String>, FetchError> {
    let mut url = appview.clone();
    url.set_path("/xrpc/app.bsky.actor.getProfiles");
    {
        let mut query = url.query_pairs_mut();
        query.clear();
        for did in dids {
            query.append_pair("actors", did);
        }
    }
    let answer = guard.get_answer(url.as_str(), reqwest::header::HeaderMap::new()).await?;
    if answer.status != 200 {
        return Err(FetchError::Status(answer.status));
    }
    let body: serde_json::Value =
        serde_json::from_slice(&answer.body).map_err(|e| FetchError::Decode(e.to_string()))?;
    let profiles = body["profiles"].as_array().map(Vec::as_slice).unwrap_or_default();
    Ok(profiles
        .iter()
        .filter_map(|p| {
            let (did, handle) = (p["did"].as_str()?, p["handle"].as_str()?);
            let asked = dids.iter().any(|d| d == did);
            let valid = !handle.is_empty() && handle != "handle.invalid" && handle.len() <= 253;
            (asked && valid).then(|| (did.to_owned(), handle.to_ascii_lowercase()))
        })
        .collect())
}

fn idle_for(now_ms: i64, last_ms: i64, waited: Duration) -> Duration {
    Duration::from_millis(u64::try_from(now_ms.saturating_sub(last_ms)).unwrap_or(0)) + waited
}

/// TLS with the operating system's roots, plus `extra_roots` (the same rustls, aws-lc-rs provider
/// and platform verifier reqwest uses), chosen explicitly so the process-wide provider does not
/// matter.
async fn tls(
    host: &str,
    tcp: TcpStream,
    extra_roots: &[rustls::pki_types::CertificateDer<'static>],
) -> Result<tokio_rustls::client::TlsStream<TcpStream>, FirehoseError> {
    let failed = |e: &dyn std::fmt::Display| FirehoseError::Connect(format!("TLS: {e}"));
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let verifier = rustls_platform_verifier::Verifier::new_with_extra_roots(extra_roots.to_vec(), provider.clone())
        .map_err(|e| failed(&e))?;
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| failed(&e))?
        .dangerous() // the platform's verifier: the name of rustls's API for a verifier of one's own
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth();
    let name = rustls::pki_types::ServerName::try_from(host.to_owned()).map_err(|e| failed(&e))?;
    tokio_rustls::TlsConnector::from(Arc::new(config)).connect(name, tcp).await.map_err(|e| failed(&e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_maximum_with_jitter() {
        let (base, max) = (Duration::from_secs(1), Duration::from_secs(300));
        let check = |failures: u32, nominal: f64| {
            for seed in [0, 1, 42, 1_800_000_000_000, u64::MAX] {
                let d = backoff(base, max, failures, seed).as_secs_f64();
                assert!(d >= nominal * 0.8 && d < nominal * 1.2, "{failures} failures, seed {seed}: {d}");
            }
        };
        check(1, 1.0);
        check(2, 2.0);
        check(5, 16.0);
        check(9, 256.0);
        check(10, 300.0);
        check(u32::MAX, 300.0);
        let spread: std::collections::HashSet<_> = (0..50).map(|s| backoff(base, max, 3, s)).collect();
        assert!(spread.len() > 10, "the jitter spreads reconnections");
    }

    #[test]
    fn endpoints() {
        let guard = GuardedClient::new(vec![]);
        let check = |host: &str, expected: Option<&str>| {
            let got = Firehose::new(guard.clone(), host, None, FirehoseConfig::default()).ok();
            assert_eq!(got.as_ref().map(Firehose::endpoint), expected, "{host}");
        };
        check("wss://bsky.network", Some("wss://bsky.network/xrpc/com.atproto.sync.subscribeRepos"));
        check("https://pds.example/x?y#z", Some("wss://pds.example/xrpc/com.atproto.sync.subscribeRepos"));
        check("http://localhost:2583", Some("ws://localhost:2583/xrpc/com.atproto.sync.subscribeRepos"));
        check("ws://[::1]:80", Some("ws://[::1]/xrpc/com.atproto.sync.subscribeRepos"));
        check("ftp://example.com", None);
        check("wss://user:pw@example.com", None);
        check("not a url", None);
    }
}
