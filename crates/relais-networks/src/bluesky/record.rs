//! Pure mapping between Relais posts and `app.bsky.feed.post` records, facets and `at://` URIs.

use crate::publish::{Published, RemoteRef, ReplyTo};
use relais_domain::compose::{Facet, FacetFeature};
use serde_json::{Value, json};

/// The collection of Bluesky posts.
pub const POST_COLLECTION: &str = "app.bsky.feed.post";

/// Rich-text facets for the record: links and tags as found, mentions only when `did_of` knows
/// the handle's DID (an unresolved mention stays plain text).
pub fn facets_json(facets: &[Facet], did_of: impl Fn(&str) -> Option<String>) -> Vec<Value> {
    facets
        .iter()
        .filter_map(|f| {
            let feature = match &f.feature {
                FacetFeature::Link { uri } => json!({"$type": "app.bsky.richtext.facet#link", "uri": uri}),
                FacetFeature::Tag { tag } => json!({"$type": "app.bsky.richtext.facet#tag", "tag": tag}),
                FacetFeature::Mention { handle } => {
                    json!({"$type": "app.bsky.richtext.facet#mention", "did": did_of(handle)?})
                }
            };
            Some(json!({"index": {"byteStart": f.byte_start, "byteEnd": f.byte_end}, "features": [feature]}))
        })
        .collect()
}

/// The parts of a post record besides its text.
pub struct RecordParts<'a> {
    /// RFC 3339 creation time.
    pub created_at: &'a str,
    /// BCP-47 language tags.
    pub langs: &'a [String],
    /// Facets, already in record form.
    pub facets: Vec<Value>,
    /// `(blob, alt)` for each uploaded image.
    pub images: Vec<(Value, String)>,
    /// The thread position.
    pub reply_to: Option<&'a ReplyTo>,
}

/// The `app.bsky.feed.post` record.
pub fn post_record(text: &str, parts: RecordParts<'_>) -> Value {
    let mut record = json!({"$type": POST_COLLECTION, "text": text, "createdAt": parts.created_at});
    if !parts.langs.is_empty() {
        record["langs"] = json!(parts.langs);
    }
    if !parts.facets.is_empty() {
        record["facets"] = Value::Array(parts.facets);
    }
    if !parts.images.is_empty() {
        let images: Vec<Value> =
            parts.images.into_iter().map(|(image, alt)| json!({"image": image, "alt": alt})).collect();
        record["embed"] = json!({"$type": "app.bsky.embed.images", "images": images});
    }
    if let Some(reply) = parts.reply_to {
        let strong = |r: &RemoteRef| json!({"uri": r.id, "cid": r.cid});
        record["reply"] = json!({"root": strong(&reply.root), "parent": strong(&reply.parent)});
    }
    record
}

/// `(repo, collection, rkey)` of an `at://` URI.
pub fn parse_at_uri(uri: &str) -> Option<(&str, &str, &str)> {
    let mut parts = uri.strip_prefix("at://")?.split('/');
    let (repo, collection, rkey) = (parts.next()?, parts.next()?, parts.next()?);
    (parts.next().is_none() && !repo.is_empty() && !collection.is_empty() && !rkey.is_empty())
        .then_some((repo, collection, rkey))
}

/// The public web address of a post.
pub fn web_url(handle: &str, rkey: &str) -> String {
    format!("https://bsky.app/profile/{handle}/post/{rkey}")
}

/// The published reference from a `createRecord` or `getRecord` answer (`uri`, `cid`).
pub fn published(answer: &Value, handle: &str) -> Option<Published> {
    let uri = answer.get("uri")?.as_str()?;
    let (_, _, rkey) = parse_at_uri(uri)?;
    let cid = answer.get("cid").and_then(Value::as_str).map(str::to_owned);
    Some(Published { remote: RemoteRef { id: uri.to_owned(), cid, url: Some(web_url(handle, rkey)) } })
}

#[cfg(test)]
mod tests {
    use super::*;
    use relais_domain::compose::bluesky_facets;

    #[test]
    fn facets_in_record_form() {
        let text = "Café ☕ https://example.com #launch @bob.test @ghost.test";
        let facets = facets_json(&bluesky_facets(text), |h| (h == "bob.test").then(|| "did:plc:bob".to_owned()));
        let link_start = text.find("https").unwrap_or_default();
        assert_eq!(
            facets,
            vec![
                json!({"index": {"byteStart": link_start, "byteEnd": link_start + 19}, "features": [{"$type": "app.bsky.richtext.facet#link", "uri": "https://example.com"}]}),
                json!({"index": {"byteStart": link_start + 20, "byteEnd": link_start + 27}, "features": [{"$type": "app.bsky.richtext.facet#tag", "tag": "launch"}]}),
                json!({"index": {"byteStart": link_start + 28, "byteEnd": link_start + 37}, "features": [{"$type": "app.bsky.richtext.facet#mention", "did": "did:plc:bob"}]}),
            ]
        );
    }

    #[test]
    fn record_with_everything() {
        let root = RemoteRef { id: "at://did:plc:a/app.bsky.feed.post/3k1".into(), cid: Some("c1".into()), url: None };
        let parent =
            RemoteRef { id: "at://did:plc:a/app.bsky.feed.post/3k2".into(), cid: Some("c2".into()), url: None };
        let reply = ReplyTo { root, parent };
        let parts = RecordParts {
            created_at: "2026-01-01T00:00:00.000Z",
            langs: &["fr".to_owned()],
            facets: vec![],
            images: vec![(json!({"$type": "blob"}), "a cat".into())],
            reply_to: Some(&reply),
        };
        assert_eq!(
            post_record("hi", parts),
            json!({"$type": "app.bsky.feed.post", "text": "hi", "createdAt": "2026-01-01T00:00:00.000Z", "langs": ["fr"],
                "embed": {"$type": "app.bsky.embed.images", "images": [{"image": {"$type": "blob"}, "alt": "a cat"}]},
                "reply": {"root": {"uri": "at://did:plc:a/app.bsky.feed.post/3k1", "cid": "c1"},
                          "parent": {"uri": "at://did:plc:a/app.bsky.feed.post/3k2", "cid": "c2"}}})
        );
        let bare = RecordParts { created_at: "t", langs: &[], facets: vec![], images: vec![], reply_to: None };
        assert_eq!(post_record("x", bare), json!({"$type": "app.bsky.feed.post", "text": "x", "createdAt": "t"}));
    }

    #[test]
    fn at_uris() {
        assert_eq!(
            parse_at_uri("at://did:plc:abc/app.bsky.feed.post/3kabc"),
            Some(("did:plc:abc", "app.bsky.feed.post", "3kabc"))
        );
        for bad in ["https://x/y/z", "at://did:plc:abc/app.bsky.feed.post", "at://a/b/c/d", "at:///b/c"] {
            assert_eq!(parse_at_uri(bad), None, "{bad}");
        }
        let answer = json!({"uri": "at://did:plc:abc/app.bsky.feed.post/3kabc", "cid": "bafy"});
        let p = published(&answer, "alice.test").unwrap_or_else(|| panic!("no published"));
        assert_eq!(p.remote.url.as_deref(), Some("https://bsky.app/profile/alice.test/post/3kabc"));
        assert_eq!(p.remote.cid.as_deref(), Some("bafy"));
    }
}
