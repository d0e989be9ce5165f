//! A post coming into the listening pipeline, whatever its source (RSS/Atom item, Bluesky post
//! from the repository stream, Mastodon status, or the ingest endpoint).

use serde::{Deserialize, Serialize};

/// One post to listen to. Every source produces this shape; the ingest endpoint accepts it as JSON
/// or NDJSON. Only `text` is required on ingest; sources fill what they know.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct IncomingPost {
    /// Where the post came from: `rss`, `bluesky`, `mastodon`, `ingest`, or a name the ingesting
    /// tool chooses (folded to lower case by the pipeline).
    #[serde(default)]
    pub source: String,
    /// The post's identifier at its source (AT URI, status URL or id, item GUID): with `source`,
    /// it makes a post unique, so a post seen twice is stored once.
    #[serde(default)]
    pub external_id: Option<String>,
    /// A link to the post.
    #[serde(default)]
    pub url: Option<String>,
    /// The author's handle (`alice.bsky.social`, `bob@mastodon.social`) or name.
    #[serde(default)]
    pub author: Option<String>,
    /// The title (articles, feed items).
    #[serde(default)]
    pub title: Option<String>,
    /// The text (plain: sources strip HTML).
    pub text: String,
    /// The language the network declares (`fr`, `en-US`), if any.
    #[serde(default)]
    pub lang: Option<String>,
    /// When it was published, in milliseconds since the Unix epoch (the time it was received
    /// when the source does not say).
    #[serde(default)]
    pub published_at: Option<i64>,
}
