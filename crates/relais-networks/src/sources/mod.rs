//! Listening sources: where posts to listen to come from. Every fetch goes through the
//! [`GuardedClient`](crate::guard::GuardedClient) (SSRF guard, size and time limits); every
//! source yields [`IncomingPost`](relais_domain::listen::IncomingPost)s.

pub mod bluesky;
pub mod feed;
pub mod html;
pub mod mastodon;
pub mod mastodon_stream;
pub mod poll;
