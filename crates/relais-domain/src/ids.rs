//! Typed identifiers: a `PostId` can never be passed where a `ChannelId` is expected.

use serde::{Deserialize, Serialize};

macro_rules! id_type {
    ($(#[$doc:meta] $name:ident),* $(,)?) => {$(
        #[$doc]
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub i64);

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(f, "{}", self.0)
            }
        }
    )*};
}

id_type!(
    /// A person's account.
    UserId,
    /// A workspace (one brand or client).
    WorkspaceId,
    /// A connected account on one network.
    ChannelId,
    /// A post (with its per-channel targets).
    PostId,
    /// An uploaded media file.
    MediaId,
    /// An API token.
    TokenId,
);
