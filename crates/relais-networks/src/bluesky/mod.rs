//! Bluesky (AT Protocol). API: XRPC over HTTPS to the account's PDS (`https://bsky.social` by
//! default, which also proxies to the user's own PDS): `com.atproto.server.createSession` /
//! `refreshSession`, `com.atproto.repo.{createRecord, getRecord, deleteRecord, uploadBlob}`,
//! `com.atproto.identity.resolveHandle` for mentions, `app.bsky.feed.getPosts` (AppView) for metrics.
//! <https://docs.bsky.app/docs/api/at-protocol-xrpc-api>.
//!
//! Auth: the handle and an app password (`{"app_password": "..."}` in the credentials); the session
//! (`{"session": {"accessJwt", "refreshJwt", "did"}}`) is cached there by [`crate::Network::refresh`].
//! A call without a cached session logs in; a rejected access token is renewed once per call.
//!
//! Idempotency: a post's record key is the engine's idempotency key, a TID ([`tid::new_tid`]); the
//! PDS refuses a second record under the same key, and the client then returns the existing one.
//!
//! Limits: 300 graphemes of text (counted by `relais_domain::compose`), at most 4 images of at most
//! 1,000,000 bytes each, facets with UTF-8 byte offsets. Not done yet: link cards
//! (`app.bsky.embed.external`), video, quote posts. Metrics need an AppView: a bare PDS answers
//! `app.bsky.*` reads with `InvalidRequest`, reported as a permanent error.

pub mod client;
pub mod record;
mod session;
pub mod tid;
mod xrpc;

#[cfg(test)]
mod mock_tests;

pub use client::Bluesky;
pub use tid::new_tid;
