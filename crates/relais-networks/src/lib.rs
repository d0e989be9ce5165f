//! Relais networks: how Relais talks to the outside world.
//!
//! Every outgoing request goes through [`guard::GuardedClient`], which refuses loopback,
//! private, link-local and metadata addresses unless an administrator allowed the host, pins the
//! vetted address (no DNS rebinding), follows no redirect blindly, and bounds size and time.
//! Each network has its own folder (`bluesky/`, `mastodon/` …); the publishing interface comes with the
//! publishing engine.

pub mod bluesky;
pub mod guard;
pub mod mastodon;
pub mod publish;
pub mod sources;

pub use guard::{FetchError, GuardedClient};
pub use publish::{Account, Capabilities, NetError, Network, OutMedia, OutPost, Published, RemoteRef, ReplyTo};
