//! Pure mapping of an `app.bsky.feed.post` record (from the stream or from search) to an
//! [`IncomingPost`], with the checks that keep hostile identifiers out of the URLs we build.

use relais_domain::listen::IncomingPost;

/// The collection of post records.
pub const POST_COLLECTION: &str = "app.bsky.feed.post";
/// The `source` of every post this module yields.
pub const SOURCE: &str = "bluesky";

/// Whether `did` is a syntactically valid DID (`did:method:identifier`, at most 2,048 characters,
/// the characters the DID specification allows): it goes into URLs and identifiers.
pub fn valid_did(did: &str) -> bool {
    let Some(rest) = did.strip_prefix("did:") else { return false };
    let Some((method, id)) = rest.split_once(':') else { return false };
    did.len() <= 2048
        && !method.is_empty()
        && method.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        && !id.is_empty()
        && !id.ends_with(':')
        && !id.ends_with('%')
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || b"._:%-".contains(&b))
}

/// A handle as the syntax allows (`alice.bsky.social`: dot-separated labels of letters, digits
/// and hyphens, at most 253 characters), other than `handle.invalid` (the marker of a handle that
/// failed verification).
pub fn valid_handle(handle: &str) -> bool {
    handle != "handle.invalid"
        && handle.len() <= 253
        && handle.contains('.')
        && handle.split('.').all(|label| {
            (1..=63).contains(&label.len())
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

/// Whether `rkey` is a valid record key (1 to 512 characters among `A-Za-z0-9._:~-`, not `.`
/// or `..`).
pub fn valid_rkey(rkey: &str) -> bool {
    (1..=512).contains(&rkey.len())
        && rkey != "."
        && rkey != ".."
        && rkey.bytes().all(|b| b.is_ascii_alphanumeric() || b"._:~-".contains(&b))
}

/// Whether `tag` looks like a BCP 47 language tag (`fr`, `en-US`, `zh-Hant-TW`): letters, digits
/// and hyphens, at most 35 characters, starting with a letter.
fn valid_lang(tag: &str) -> bool {
    (2..=35).contains(&tag.len())
        && tag.as_bytes()[0].is_ascii_alphabetic()
        && tag.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

/// The AT URI of a post.
pub fn post_uri(did: &str, rkey: &str) -> String {
    format!("at://{did}/{POST_COLLECTION}/{rkey}")
}

/// The fields of a post record, whatever it was decoded from (DAG-CBOR or JSON).
#[derive(Debug, Clone, Copy)]
pub struct RecordFields<'a> {
    /// `$type`.
    pub kind: Option<&'a str>,
    /// `text`.
    pub text: Option<&'a str>,
    /// `langs[0]`.
    pub first_lang: Option<&'a str>,
    /// `createdAt`.
    pub created_at: Option<&'a str>,
}

/// Builds the post `at://{did}/app.bsky.feed.post/{rkey}`, or `None` when the identifiers are
/// invalid or the record is not a post with a text. `published_at` is `createdAt` in
/// milliseconds, `now_ms` when it is missing or unreadable, and never later than `now_ms` (a
/// record may claim any date; a future one would sit at the top of every time window).
pub fn to_incoming(did: &str, rkey: &str, author: &str, fields: RecordFields<'_>, now_ms: i64) -> Option<IncomingPost> {
    if !valid_did(did) || !valid_rkey(rkey) || fields.kind != Some(POST_COLLECTION) {
        return None;
    }
    let text = fields.text?;
    let published = fields
        .created_at
        .and_then(|s| s.parse::<jiff::Timestamp>().ok())
        .map_or(now_ms, |t| t.as_millisecond().min(now_ms));
    Some(IncomingPost {
        source: SOURCE.into(),
        external_id: Some(post_uri(did, rkey)),
        url: Some(format!("https://bsky.app/profile/{did}/post/{rkey}")),
        author: Some(author.to_owned()),
        title: None,
        text: text.to_owned(),
        lang: fields.first_lang.filter(|l| valid_lang(l)).map(str::to_owned),
        published_at: Some(published),
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn identifiers() {
        for (did, ok) in [
            ("did:plc:abcdefghijklmnopqrstuvwx", true),
            ("did:web:example.com", true),
            ("did:web:localhost%3A2583", true),
            ("did:plc:", false),
            ("did:PLC:x", false),
            ("did:plc:a/b", false),
            ("did:plc:a?b", false),
            ("did:plc:abc:", false),
            ("plc:abc", false),
            ("did:plc:ab c", false),
        ] {
            assert_eq!(valid_did(did), ok, "{did}");
        }
        for (rkey, ok) in [
            ("3jzfcijpj2z2a", true),
            ("self", true),
            ("a:b~c", true),
            (".", false),
            ("..", false),
            ("a/b", false),
            ("", false),
        ] {
            assert_eq!(valid_rkey(rkey), ok, "{rkey}");
        }
        assert!(!valid_rkey(&"a".repeat(513)));
    }

    #[test]
    fn handles() {
        for (handle, ok) in [
            ("alice.test", true),
            ("alice.bsky.social", true),
            ("xn--dj-kia8a.fr", true),
            ("alice", false),
            ("-a.test", false),
            ("a..test", false),
            ("a b.test", false),
            ("a/b.test", false),
            ("handle.invalid", false),
        ] {
            assert_eq!(valid_handle(handle), ok, "{handle}");
        }
    }

    #[test]
    fn maps_a_record() {
        let now = 1_800_000_000_000;
        let fields = RecordFields {
            kind: Some(POST_COLLECTION),
            text: Some("Déjà vu ☕"),
            first_lang: Some("fr"),
            created_at: Some("2026-01-02T03:04:05.678Z"),
        };
        let post = to_incoming("did:plc:abc", "3k2a", "alice.test", fields, now).unwrap();
        assert_eq!(post.external_id.as_deref(), Some("at://did:plc:abc/app.bsky.feed.post/3k2a"));
        assert_eq!(post.url.as_deref(), Some("https://bsky.app/profile/did:plc:abc/post/3k2a"));
        assert_eq!(post.author.as_deref(), Some("alice.test"));
        assert_eq!((post.text.as_str(), post.lang.as_deref()), ("Déjà vu ☕", Some("fr")));
        assert_eq!(post.published_at, Some(1_767_323_045_678));
        // Missing, unreadable and future dates; a hostile language tag.
        for created in [None, Some("yesterday"), Some("2099-01-01T00:00:00Z")] {
            let post =
                to_incoming("did:plc:abc", "k", "a", RecordFields { created_at: created, ..fields }, now).unwrap();
            assert_eq!(post.published_at, Some(now), "{created:?}");
        }
        let odd = RecordFields { first_lang: Some("fr\"><script>"), ..fields };
        assert_eq!(to_incoming("did:plc:abc", "k", "a", odd, now).unwrap().lang, None);
        // Not a post, no text, bad identifiers.
        assert!(
            to_incoming("did:plc:abc", "k", "a", RecordFields { kind: Some("app.bsky.feed.like"), ..fields }, now)
                .is_none()
        );
        assert!(to_incoming("did:plc:abc", "k", "a", RecordFields { text: None, ..fields }, now).is_none());
        assert!(to_incoming("did:plc:abc", "../x", "a", fields, now).is_none());
        assert!(to_incoming("did:plc:a/b", "k", "a", fields, now).is_none());
    }
}
