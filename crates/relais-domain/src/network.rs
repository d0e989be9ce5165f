//! The social networks Relais knows, by stable identifier.

use serde::{Deserialize, Serialize};

/// A social network. The identifier (`as_str`) is stable: it is stored and appears in the API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Network {
    /// Bluesky (AT Protocol).
    Bluesky,
    /// Mastodon and compatible fediverse servers.
    Mastodon,
    /// X (formerly Twitter).
    X,
    /// Threads (Meta).
    Threads,
    /// LinkedIn.
    Linkedin,
    /// Facebook Pages.
    Facebook,
    /// Instagram professional accounts.
    Instagram,
    /// TikTok.
    Tiktok,
    /// YouTube.
    Youtube,
    /// Pinterest.
    Pinterest,
    /// The sandbox network built into Relais (rehearsal, training, demos).
    Sandbox,
}

impl Network {
    /// Every network, in display order.
    pub const ALL: [Network; 11] = [
        Network::Bluesky,
        Network::Mastodon,
        Network::X,
        Network::Threads,
        Network::Linkedin,
        Network::Facebook,
        Network::Instagram,
        Network::Tiktok,
        Network::Youtube,
        Network::Pinterest,
        Network::Sandbox,
    ];

    /// The stable identifier.
    pub fn as_str(self) -> &'static str {
        match self {
            Network::Bluesky => "bluesky",
            Network::Mastodon => "mastodon",
            Network::X => "x",
            Network::Threads => "threads",
            Network::Linkedin => "linkedin",
            Network::Facebook => "facebook",
            Network::Instagram => "instagram",
            Network::Tiktok => "tiktok",
            Network::Youtube => "youtube",
            Network::Pinterest => "pinterest",
            Network::Sandbox => "sandbox",
        }
    }

    /// The name shown to people.
    pub fn display_name(self) -> &'static str {
        match self {
            Network::Bluesky => "Bluesky",
            Network::Mastodon => "Mastodon",
            Network::X => "X",
            Network::Threads => "Threads",
            Network::Linkedin => "LinkedIn",
            Network::Facebook => "Facebook",
            Network::Instagram => "Instagram",
            Network::Tiktok => "TikTok",
            Network::Youtube => "YouTube",
            Network::Pinterest => "Pinterest",
            Network::Sandbox => "Sandbox",
        }
    }
}

impl std::fmt::Display for Network {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Network {
    type Err = crate::Msg;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = s.trim().to_ascii_lowercase();
        let alias = match wanted.as_str() {
            "twitter" => "x",
            "bsky" => "bluesky",
            other => other,
        };
        Network::ALL
            .into_iter()
            .find(|n| n.as_str() == alias)
            .ok_or_else(|| crate::Msg::new(format!("unknown network `{s}`"), format!("réseau inconnu « {s} »")))
    }
}
