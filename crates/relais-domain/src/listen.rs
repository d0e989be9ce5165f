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
    /// when the source does not say). On input, an RFC 3339 date with its offset
    /// (`2026-11-23T10:00:00Z`, `2026-11-23T11:00:00+01:00`) is accepted too, as exports of other
    /// tools carry.
    #[serde(default, deserialize_with = "epoch_ms_or_rfc3339")]
    #[schema(value_type = Option<i64>)]
    pub published_at: Option<i64>,
}

/// Milliseconds since the epoch, or an RFC 3339 date converted to them.
fn epoch_ms_or_rfc3339<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum When {
        Ms(i64),
        Date(String),
    }
    match Option::<When>::deserialize(d) {
        Ok(None) => Ok(None),
        Ok(Some(When::Ms(ms))) => Ok(Some(ms)),
        Ok(Some(When::Date(text))) => match text.trim().parse::<jiff::Timestamp>() {
            Ok(t) => Ok(Some(t.as_millisecond())),
            Err(_) => Err(serde::de::Error::custom(format!(
                "published_at {text:?} is neither milliseconds since 1970 nor an RFC 3339 date such as \
                 2026-11-23T10:00:00Z"
            ))),
        },
        Err(_) => Err(serde::de::Error::custom(
            "published_at must be milliseconds since 1970 or an RFC 3339 date such as 2026-11-23T10:00:00Z",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn published(json: &str) -> Result<Option<i64>, String> {
        serde_json::from_str::<IncomingPost>(json).map(|p| p.published_at).map_err(|e| e.to_string())
    }

    #[test]
    fn published_at_takes_milliseconds_or_rfc3339() {
        assert_eq!(published(r#"{"text": "a"}"#), Ok(None));
        assert_eq!(published(r#"{"text": "a", "published_at": null}"#), Ok(None));
        assert_eq!(published(r#"{"text": "a", "published_at": 1763892000000}"#), Ok(Some(1_763_892_000_000)));
        assert_eq!(published(r#"{"text": "a", "published_at": "2025-11-23T10:00:00Z"}"#), Ok(Some(1_763_892_000_000)));
        assert_eq!(
            published(r#"{"text": "a", "published_at": "2025-11-23T11:00:00.5+01:00"}"#),
            Ok(Some(1_763_892_000_500))
        );
        for bad in [r#""23/11/2025""#, r#""2025-11-23T10:00:00""#, "true", "1.5"] {
            let result = published(&format!(r#"{{"text": "a", "published_at": {bad}}}"#));
            assert!(result.as_ref().is_err_and(|e| e.contains("RFC 3339")), "{bad}: {result:?}");
        }
    }
}
