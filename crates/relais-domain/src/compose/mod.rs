//! Composer validation: the per-network rules a draft must satisfy before it can be published.
//!
//! Everything here is pure (no IO, no clock). The entry points are [`check`] and [`check_all`],
//! which return *every* problem found, each with a stable code, the field it concerns, an optional
//! character range to highlight and a bilingual message. The building blocks (length counters,
//! URL detection, Bluesky facets) are public too so the UI counters and the network layer use the
//! exact same rules.
//!
//! Layout: `count` (length counters), `scan` (URLs, mentions, hashtags, facets), `rules` (one
//! const table of limits per network), `validate` (turns a draft into problems) and `messages`
//! (the bilingual texts).

mod count;
mod messages;
mod rules;
mod scan;
mod validate;

#[cfg(test)]
mod tests;

use serde::{Deserialize, Serialize};

use crate::{Msg, Network};

pub use count::{graphemes, mastodon_length, threads_length, utf16_length, x_weighted_length};
pub use scan::{Facet, FacetFeature, UrlMatch, bluesky_facets, find_urls};
pub use validate::{check, check_all};

/// The kind of a media attachment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MediaKind {
    /// A still image (JPEG, PNG, WebP…).
    Image,
    /// An animated GIF.
    Gif,
    /// A video.
    Video,
}

/// What the composer knows about one attached media file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MediaInfo {
    /// Image, GIF or video.
    pub kind: MediaKind,
    /// The MIME type, e.g. `image/jpeg`.
    pub mime: String,
    /// The file size in bytes.
    pub bytes: u64,
    /// The width in pixels, when known.
    pub width: Option<u32>,
    /// The height in pixels, when known.
    pub height: Option<u32>,
}

/// A post being composed, as seen by the validator (borrowed, nothing is copied).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Draft<'a> {
    /// The main text (the description on YouTube and Pinterest).
    pub text: &'a str,
    /// The attached media, in order.
    pub media: &'a [MediaInfo],
    /// An optional link attached to the post (not part of the text).
    pub link: Option<&'a str>,
    /// The title (YouTube, Pinterest).
    pub title: Option<&'a str>,
    /// The Pinterest board.
    pub board: Option<&'a str>,
    /// Further thread parts after `text`, each validated as a post text.
    pub thread: &'a [String],
    /// A first comment published right after the post.
    pub first_comment: Option<&'a str>,
    /// A content warning (Mastodon counts it in the post's length, on every part).
    pub content_warning: Option<&'a str>,
}

/// The limits of one Mastodon server, as published by `GET /api/v2/instance`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MastodonInstance {
    /// Maximum post length in characters.
    pub max_characters: usize,
    /// How many characters every URL counts for, whatever its real length.
    pub characters_reserved_per_url: usize,
    /// Maximum number of media attachments per post.
    pub max_media_attachments: usize,
    /// Maximum image size in bytes.
    pub image_size_limit: u64,
    /// Maximum video size in bytes.
    pub video_size_limit: u64,
}

impl Default for MastodonInstance {
    /// The mastodon.social defaults.
    fn default() -> Self {
        Self {
            max_characters: 500,
            characters_reserved_per_url: 23,
            max_media_attachments: 4,
            image_size_limit: 16_777_216,
            video_size_limit: 103_809_024,
        }
    }
}

impl MastodonInstance {
    /// Reads the limits from a `GET /api/v2/instance` response, keeping the default for every
    /// field that is missing or malformed.
    pub fn from_instance_json(v: &serde_json::Value) -> Self {
        let d = Self::default();
        let num = |path: &str| v.pointer(path).and_then(serde_json::Value::as_u64);
        let size = |path: &str, fallback: usize| num(path).and_then(|n| usize::try_from(n).ok()).unwrap_or(fallback);
        Self {
            max_characters: size("/configuration/statuses/max_characters", d.max_characters),
            characters_reserved_per_url: size(
                "/configuration/statuses/characters_reserved_per_url",
                d.characters_reserved_per_url,
            ),
            max_media_attachments: size("/configuration/statuses/max_media_attachments", d.max_media_attachments),
            image_size_limit: num("/configuration/media_attachments/image_size_limit").unwrap_or(d.image_size_limit),
            video_size_limit: num("/configuration/media_attachments/video_size_limit").unwrap_or(d.video_size_limit),
        }
    }
}

/// Limits that are not constants: they depend on the account or the server.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Context {
    /// The limits of the Mastodon server the post goes to.
    pub mastodon: MastodonInstance,
}

/// The part of a draft a problem concerns.
///
/// Serialised as `{"field": "text"}`, `{"field": "thread", "index": 0}`… (flattened into
/// [`Problem`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "field", content = "index", rename_all = "snake_case")]
pub enum Field {
    /// The main text.
    Text,
    /// A further thread part, by index into [`Draft::thread`] (0 = the second post).
    Thread(usize),
    /// The first comment.
    FirstComment,
    /// The title.
    Title,
    /// The Pinterest board.
    Board,
    /// The attached link.
    Link,
    /// The media attachments.
    Media,
}

/// One thing that prevents the draft from being published on a network.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// Stable snake_case code, e.g. `text_too_long`.
    pub code: &'static str,
    /// The field concerned.
    #[serde(flatten)]
    pub field: Field,
    /// Start of the range to highlight, in chars (Unicode scalars) into the field's text; for
    /// [`Field::Media`], the index of the attachment. For `*_too_long`, the first char past the
    /// limit.
    pub start: Option<usize>,
    /// End (exclusive) of the range to highlight, same unit as `start`.
    pub end: Option<usize>,
    /// What is wrong, in English and French.
    pub message: Msg,
}

/// The outcome of validating one draft for one network.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    /// The network checked.
    pub network: Network,
    /// Length of the main text in the network's main unit.
    pub counted: usize,
    /// The network's limit for the main text, in the same unit.
    pub limit: usize,
    /// The unit of `counted` and `limit`: "weighted characters", "graphemes", "characters",
    /// "UTF-16 units" or "bytes".
    pub unit: &'static str,
    /// Every problem found (empty when the draft can be published).
    pub problems: Vec<Problem>,
}

impl Report {
    /// True when there is no problem.
    pub fn ok(&self) -> bool {
        self.problems.is_empty()
    }
}
