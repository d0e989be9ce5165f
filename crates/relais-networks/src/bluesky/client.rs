//! The Bluesky client: the [`Network`] implementation over XRPC calls to the account's PDS.

use super::record::{POST_COLLECTION, RecordParts, facets_json, parse_at_uri, post_record, published};
use super::session::{self, Session};
use super::tid::is_valid_tid;
use super::xrpc::{Body, XrpcError, call};
use crate::guard::GuardedClient;
use crate::publish::{Account, Capabilities, NetError, Network, OutMedia, OutPost, Published, RemoteRef};
use relais_domain::Network as NetworkId;
use relais_domain::compose::{FacetFeature, bluesky_facets};
use serde_json::{Value, json};
use std::collections::HashMap;

/// The PDS used when an account names none.
pub const DEFAULT_PDS: &str = "https://bsky.social";
/// At most this many images per post (`app.bsky.embed.images`).
pub const MAX_IMAGES: usize = 4;
/// The largest image a post may embed, in bytes (`app.bsky.embed.images` lexicon).
pub const MAX_IMAGE_BYTES: usize = 1_000_000;

/// Bluesky through the account's PDS; every request goes through the guarded client.
#[derive(Debug, Clone)]
pub struct Bluesky {
    /// The SSRF-guarded client every request goes through.
    pub http: GuardedClient,
}

/// Runs `$call` (an expression using `$base: &str` and `$s: &Session`) with the cached session or
/// a new one; when the server rejects a cached access token (`ExpiredToken`…), renews the session
/// once and runs it again.
macro_rules! with_session {
    ($self:expr, $account:expr, |$base:ident, $s:ident| $call:expr) => {{
        let base_owned = base_url($account);
        let $base = base_owned.as_str();
        let (session, cached) = $self.session($base, $account).await?;
        let first = {
            let $s = &session;
            $call.await
        };
        match first {
            Err(e) if cached && e.session_rejected() => {
                let fresh = session::renew(&$self.http, $base, $account, Some(&session)).await?;
                let $s = &fresh;
                Ok($call.await?)
            }
            other => Ok(other?),
        }
    }};
}

fn permanent(message: impl Into<String>) -> XrpcError {
    XrpcError { status: None, error: String::new(), net: NetError::Permanent { message: message.into() } }
}

fn base_url(account: &Account) -> String {
    account
        .instance_url
        .as_deref()
        .filter(|u| !u.trim().is_empty())
        .unwrap_or(DEFAULT_PDS)
        .trim_end_matches('/')
        .to_owned()
}

impl Bluesky {
    /// A client sending every request through `http`.
    pub fn new(http: GuardedClient) -> Self {
        Bluesky { http }
    }

    /// The cached session (`true`) or a new one (`false`).
    async fn session(&self, base: &str, account: &Account) -> Result<(Session, bool), NetError> {
        match Session::cached(&account.credentials) {
            Some(cached) => Ok((cached, true)),
            None => Ok((session::create(&self.http, base, account).await?, false)),
        }
    }

    /// Deletes one of the account's posts; a missing record is already deleted.
    async fn delete_record(
        &self,
        base: &str,
        s: &Session,
        account: &Account,
        post: &RemoteRef,
    ) -> Result<(), XrpcError> {
        let (repo, collection, rkey) =
            parse_at_uri(&post.id).ok_or_else(|| permanent(format!("`{}` is not an at:// URI", post.id)))?;
        if repo != s.did {
            return Err(permanent(format!("{} does not belong to {}", post.id, account.handle)));
        }
        let body = json!({"repo": s.did, "collection": collection, "rkey": rkey});
        match call(&self.http, base, "com.atproto.repo.deleteRecord", Some(&s.access), Body::Json(body)).await {
            Err(e) if e.is("RecordNotFound") => Ok(()),
            other => other.map(|_| ()),
        }
    }

    /// Like, repost, reply and quote counts from the AppView behind the PDS.
    async fn post_metrics(&self, base: &str, s: &Session, post: &RemoteRef) -> Result<Value, XrpcError> {
        let query = Body::Query(vec![("uris", post.id.clone())]);
        let answer = call(&self.http, base, "app.bsky.feed.getPosts", Some(&s.access), query).await.map_err(|e| {
            if e.is("InvalidRequest") || e.is("MethodNotImplemented") || e.status == Some(404) {
                permanent(format!("metrics need a Bluesky AppView, which {base} does not provide: {}", e.net))
            } else {
                e
            }
        })?;
        let found = answer.get("posts").and_then(Value::as_array).and_then(|p| p.first());
        let found = found.ok_or_else(|| permanent(format!("the AppView does not know {}", post.id)))?;
        let count = |k: &str| found.get(k).cloned().unwrap_or(Value::Null);
        Ok(
            json!({"likes": count("likeCount"), "reposts": count("repostCount"), "replies": count("replyCount"), "quotes": count("quoteCount")}),
        )
    }

    /// `getRecord` of one post: its reference and its record, or `None` when there is none.
    async fn get_post(
        &self,
        base: &str,
        repo: &str,
        rkey: &str,
        handle: &str,
    ) -> Result<Option<(Published, Value)>, XrpcError> {
        let query =
            vec![("repo", repo.to_owned()), ("collection", POST_COLLECTION.to_owned()), ("rkey", rkey.to_owned())];
        match call(&self.http, base, "com.atproto.repo.getRecord", None, Body::Query(query)).await {
            Ok(answer) => {
                let found = published(&answer, handle).ok_or_else(|| permanent("getRecord answer without a uri"))?;
                Ok(Some((found, answer.get("value").cloned().unwrap_or(Value::Null))))
            }
            Err(e) if e.is("RecordNotFound") => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Resolves each mentioned handle to a DID; handles that do not resolve are left out.
    async fn resolve_mentions(&self, base: &str, text: &str) -> Result<HashMap<String, String>, XrpcError> {
        let mut dids = HashMap::new();
        for facet in bluesky_facets(text) {
            let FacetFeature::Mention { handle } = facet.feature else { continue };
            if dids.contains_key(&handle) {
                continue;
            }
            let query = Body::Query(vec![("handle", handle.clone())]);
            match call(&self.http, base, "com.atproto.identity.resolveHandle", None, query).await {
                Ok(answer) => {
                    if let Some(did) = answer.get("did").and_then(Value::as_str) {
                        dids.insert(handle, did.to_owned());
                    }
                }
                Err(e) if matches!(e.status, Some(400..500)) => {
                    tracing::debug!(handle, error = %e.net, "Bluesky mention left as text: the handle does not resolve.");
                }
                Err(e) => return Err(e),
            }
        }
        Ok(dids)
    }

    /// Uploads the images (`uploadBlob`), returning `(blob, alt)` pairs in order.
    async fn upload_images(
        &self,
        base: &str,
        s: &Session,
        media: &[OutMedia],
    ) -> Result<Vec<(Value, String)>, XrpcError> {
        if media.len() > MAX_IMAGES {
            return Err(permanent(format!("Bluesky takes at most {MAX_IMAGES} images per post, not {}", media.len())));
        }
        let mut images = Vec::with_capacity(media.len());
        for m in media {
            if !m.mime.starts_with("image/") {
                return Err(permanent(format!("Bluesky posts embed images only, not {}", m.mime)));
            }
            let bytes = tokio::fs::read(&m.path).await.map_err(|e| permanent(format!("{}: {e}", m.path.display())))?;
            if bytes.len() > MAX_IMAGE_BYTES {
                return Err(permanent(format!(
                    "image of {} bytes, Bluesky takes at most {MAX_IMAGE_BYTES}",
                    bytes.len()
                )));
            }
            let body = Body::Bytes(bytes, m.mime.clone());
            let answer = call(&self.http, base, "com.atproto.repo.uploadBlob", Some(&s.access), body).await?;
            let blob = answer.get("blob").cloned().ok_or_else(|| permanent("uploadBlob answer without a blob"))?;
            images.push((blob, m.alt.clone()));
        }
        Ok(images)
    }

    /// Creates the post record under `post.idempotency_key`. A repeated call finds the record
    /// already there (the PDS refuses the second create) and returns it instead.
    async fn create_post(
        &self,
        base: &str,
        s: &Session,
        account: &Account,
        post: &OutPost,
    ) -> Result<Published, XrpcError> {
        let rkey = &post.idempotency_key;
        let dids = self.resolve_mentions(base, &post.text).await?;
        let images = self.upload_images(base, s, &post.media).await?;
        let created_at = jiff::Timestamp::now().strftime("%Y-%m-%dT%H:%M:%S%.3fZ").to_string();
        let facets = facets_json(&bluesky_facets(&post.text), |h| dids.get(h).cloned());
        let parts = RecordParts {
            created_at: &created_at,
            langs: &post.languages,
            facets,
            images,
            reply_to: post.reply_to.as_ref(),
        };
        let body = json!({"repo": s.did, "collection": POST_COLLECTION, "rkey": rkey, "record": post_record(&post.text, parts)});
        match call(&self.http, base, "com.atproto.repo.createRecord", Some(&s.access), Body::Json(body)).await {
            Ok(answer) => {
                published(&answer, &account.handle).ok_or_else(|| permanent("createRecord answer without a uri"))
            }
            Err(e)
                if matches!(e.net, NetError::Permanent { .. } | NetError::Transient { .. }) && e.status.is_some() =>
            {
                match self.get_post(base, &s.did, rkey, &account.handle).await {
                    Ok(Some((found, record))) if record.get("text").and_then(Value::as_str) == Some(&post.text) => {
                        tracing::info!(rkey = %rkey, "Bluesky post already published under this key: idempotent success.");
                        Ok(found)
                    }
                    Ok(Some(_)) => Err(permanent(format!("record key {rkey} is already used by another post"))),
                    _ => Err(e),
                }
            }
            Err(e) => Err(e),
        }
    }
}

#[async_trait::async_trait]
impl Network for Bluesky {
    fn id(&self) -> NetworkId {
        NetworkId::Bluesky
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities { threads: true, delete: true, lookup_by_key: true }
    }

    async fn publish(&self, account: &Account, post: &OutPost) -> Result<Published, NetError> {
        if !is_valid_tid(&post.idempotency_key) {
            return Err(NetError::Permanent {
                message: format!("`{}` is not a TID, the record key Bluesky posts need", post.idempotency_key),
            });
        }
        with_session!(self, account, |base, s| self.create_post(base, s, account, post))
    }

    async fn lookup(
        &self,
        account: &Account,
        idempotency_key: &str,
        _text: &str,
    ) -> Result<Option<Published>, NetError> {
        if !is_valid_tid(idempotency_key) {
            return Ok(None);
        }
        let base = base_url(account);
        let repo = Session::cached(&account.credentials).map(|s| s.did).unwrap_or_else(|| account.handle.clone());
        Ok(self.get_post(&base, &repo, idempotency_key, &account.handle).await?.map(|(found, _)| found))
    }

    async fn delete(&self, account: &Account, post: &RemoteRef) -> Result<(), NetError> {
        with_session!(self, account, |base, s| self.delete_record(base, s, account, post))
    }

    async fn refresh(&self, account: &Account) -> Result<Option<Value>, NetError> {
        let cached = Session::cached(&account.credentials);
        // A session whose access token is valid for more than five more minutes is kept: the
        // refresh token rotates on every renewal, so renewing only when needed saves calls
        // and rate-limit budget.
        let now = jiff::Timestamp::now().as_second();
        if cached.as_ref().and_then(Session::access_expires_at).is_some_and(|exp| exp > now + 300) {
            return Ok(None);
        }
        let fresh = session::renew(&self.http, &base_url(account), account, cached.as_ref()).await?;
        Ok(Some(fresh.into_credentials(&account.credentials)))
    }

    /// Counts come from the AppView (`app.bsky.feed.getPosts`, which a PDS such as bsky.social
    /// proxies); a PDS without an AppView cannot count likes, and this says so as a permanent error.
    async fn metrics(&self, account: &Account, post: &RemoteRef) -> Result<Value, NetError> {
        with_session!(self, account, |base, s| self.post_metrics(base, s, post))
    }
}
