//! The Mastodon publishing client: statuses, media, reconciliation, deletion and metrics.

use super::http::{Reply, send};
use super::text::status_text;
use crate::guard::GuardedClient;
use crate::publish::{Account, Capabilities, NetError, Network, OutMedia, OutPost, Published, RemoteRef};
use relais_domain::Network as NetworkId;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::time::Duration;

/// How many recent statuses reconciliation reads (Mastodon's maximum page).
const LOOKUP_PAGE: u32 = 40;

/// A Mastodon (or compatible) server client. Every request goes through the guarded client,
/// with the account's bearer token (`credentials.access_token`) on `account.instance_url`.
#[derive(Debug, Clone)]
pub struct Mastodon {
    /// The SSRF-guarded client all requests go through.
    pub http: GuardedClient,
    /// Wait between two checks of a media still being processed.
    media_poll_interval: Duration,
    /// How many checks before giving up on a media being processed.
    media_poll_attempts: u32,
}

impl Mastodon {
    /// A client waiting up to 60 s (30 checks, 2 s apart) for media processing.
    pub fn new(http: GuardedClient) -> Self {
        Mastodon { http, media_poll_interval: Duration::from_secs(2), media_poll_attempts: 30 }
    }

    /// The same client with another media-processing wait.
    pub fn with_media_polling(mut self, interval: Duration, attempts: u32) -> Self {
        self.media_poll_interval = interval;
        self.media_poll_attempts = attempts;
        self
    }

    /// Sends one authenticated request to the account's server.
    async fn request(
        &self,
        account: &Account,
        method: Method,
        path: &str,
        build: impl FnOnce(reqwest::RequestBuilder) -> reqwest::RequestBuilder,
    ) -> Result<Reply, NetError> {
        let (base, token) = endpoint(account)?;
        send(&self.http, method, &format!("{base}{path}"), Some(token), build).await
    }

    /// GETs a JSON document.
    async fn get(&self, account: &Account, path: &str) -> Result<Value, NetError> {
        self.request(account, Method::GET, path, |r| r).await?.json(true)
    }

    /// Uploads one media (`POST /api/v2/media`) and waits until it is processed; returns its id.
    async fn upload(&self, account: &Account, media: &OutMedia) -> Result<String, NetError> {
        let bytes = tokio::fs::read(&media.path)
            .await
            .map_err(|e| NetError::Permanent { message: format!("cannot read {}: {e}", media.path.display()) })?;
        let name = media.path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "media".into());
        let part = reqwest::multipart::Part::bytes(bytes)
            .file_name(name)
            .mime_str(&media.mime)
            .map_err(|e| NetError::Permanent { message: format!("bad MIME type `{}`: {e}", media.mime) })?;
        let form = reqwest::multipart::Form::new().part("file", part).text("description", media.alt.clone());
        // An upload whose outcome is unknown leaves at most an unattached media, which the server
        // removes: unlike a status, it is safe to upload again.
        let uploaded = self.request(account, Method::POST, "/api/v2/media", |r| r.multipart(form)).await;
        let mut attachment = uploaded.and_then(|reply| reply.json(false)).map_err(unknown_is_transient)?;
        let id = string_field(&attachment, "id")?;
        let mut attempts = 0;
        while attachment.get("url").is_none_or(Value::is_null) {
            if attempts >= self.media_poll_attempts {
                return Err(NetError::Transient {
                    message: format!("media {id} still processing after {attempts} checks"),
                    retry_after: None,
                });
            }
            attempts += 1;
            tokio::time::sleep(self.media_poll_interval).await;
            let reply = self.request(account, Method::GET, &format!("/api/v1/media/{id}"), |r| r).await?;
            // 206 Partial Content: still processing.
            if reply.status != StatusCode::PARTIAL_CONTENT {
                attachment = reply.json(true)?;
            }
        }
        Ok(id)
    }

    /// The account's own id (`verify_credentials`).
    async fn own_id(&self, account: &Account) -> Result<String, NetError> {
        string_field(&self.get(account, "/api/v1/accounts/verify_credentials").await?, "id")
    }
}

/// An unknown outcome that is harmless to repeat.
fn unknown_is_transient(e: NetError) -> NetError {
    match e {
        NetError::Unknown { message } => NetError::Transient { message, retry_after: None },
        other => other,
    }
}

/// The account's server base URL (without trailing slash) and access token.
fn endpoint(account: &Account) -> Result<(&str, &str), NetError> {
    let base = account
        .instance_url
        .as_deref()
        .map(|u| u.trim_end_matches('/'))
        .filter(|u| !u.is_empty())
        .ok_or_else(|| NetError::Permanent { message: "the Mastodon account has no server URL".into() })?;
    let token = account
        .credentials
        .get("access_token")
        .and_then(Value::as_str)
        .ok_or_else(|| NetError::Auth { message: "no access token stored for this account".into() })?;
    Ok((base, token))
}

/// A string field of an answer (ids are strings in Mastodon's API).
fn string_field(value: &Value, name: &str) -> Result<String, NetError> {
    value
        .get(name)
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| NetError::Unknown { message: format!("the server's answer has no `{name}`") })
}

/// The published reference of a status entity.
fn published(status: &Value) -> Result<Published, NetError> {
    let url = status.get("url").and_then(Value::as_str).map(str::to_owned);
    Ok(Published { remote: RemoteRef { id: string_field(status, "id")?, cid: None, url } })
}

/// The `POST /api/v1/statuses` body for a post whose media are uploaded. Mastodon builds the
/// link card from the text's first link, so `post.link` is expected to be in the text already.
pub fn status_body(post: &OutPost, media_ids: &[String]) -> Value {
    let mut body = json!({ "status": post.text, "media_ids": media_ids });
    if let Some(reply) = &post.reply_to {
        body["in_reply_to_id"] = json!(reply.parent.id);
    }
    if let Some(language) = post.languages.first() {
        body["language"] = json!(language);
    }
    for option in ["visibility", "spoiler_text", "sensitive"] {
        if let Some(value) = post.options.get(option).filter(|v| !v.is_null()) {
            body[option] = value.clone();
        }
    }
    body
}

#[async_trait::async_trait]
impl Network for Mastodon {
    fn id(&self) -> NetworkId {
        NetworkId::Mastodon
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities { threads: true, delete: true, lookup_by_key: false }
    }

    async fn publish(&self, account: &Account, post: &OutPost) -> Result<Published, NetError> {
        let mut media_ids = Vec::with_capacity(post.media.len());
        for media in &post.media {
            media_ids.push(self.upload(account, media).await?);
        }
        let body = status_body(post, &media_ids);
        let key = post.idempotency_key.as_str();
        let reply = self
            .request(account, Method::POST, "/api/v1/statuses", |r| r.header("Idempotency-Key", key).json(&body))
            .await?;
        published(&reply.json(false)?)
    }

    async fn lookup(
        &self,
        account: &Account,
        _idempotency_key: &str,
        text: &str,
    ) -> Result<Option<Published>, NetError> {
        let id = self.own_id(account).await?;
        let statuses = self.get(account, &format!("/api/v1/accounts/{id}/statuses?limit={LOOKUP_PAGE}")).await?;
        let wanted = text.trim();
        let found = statuses.as_array().into_iter().flatten().find(|status| {
            status.get("content").and_then(Value::as_str).is_some_and(|html| status_text(html) == wanted)
        });
        found.map(published).transpose()
    }

    async fn delete(&self, account: &Account, post: &RemoteRef) -> Result<(), NetError> {
        let reply = self.request(account, Method::DELETE, &format!("/api/v1/statuses/{}", post.id), |r| r).await?;
        if reply.status == StatusCode::NOT_FOUND {
            return Ok(());
        }
        reply.json(true).map(|_| ())
    }

    async fn refresh(&self, account: &Account) -> Result<Option<Value>, NetError> {
        // Mastodon access tokens do not expire: checking them is enough.
        self.own_id(account).await.map(|_| None)
    }

    async fn metrics(&self, account: &Account, post: &RemoteRef) -> Result<Value, NetError> {
        let status = self.get(account, &format!("/api/v1/statuses/{}", post.id)).await?;
        let count = |name: &str| status.get(name).and_then(Value::as_u64).unwrap_or(0);
        Ok(json!({
            "replies": count("replies_count"),
            "reblogs": count("reblogs_count"),
            "favourites": count("favourites_count"),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::publish::ReplyTo;

    fn post(options: Value) -> OutPost {
        OutPost {
            text: "Hello".into(),
            media: vec![],
            link: None,
            reply_to: None,
            languages: vec![],
            idempotency_key: "k".into(),
            options,
        }
    }

    #[test]
    fn status_bodies() {
        assert_eq!(status_body(&post(json!({})), &[]), json!({"status": "Hello", "media_ids": []}));
        let parent = RemoteRef { id: "109".into(), cid: None, url: None };
        let mut reply = post(json!({"visibility": "unlisted", "spoiler_text": "cw", "other": 1}));
        reply.reply_to = Some(ReplyTo { root: RemoteRef { id: "100".into(), ..parent.clone() }, parent });
        reply.languages = vec!["fr".into(), "en".into()];
        assert_eq!(
            status_body(&reply, &["1".into(), "2".into()]),
            json!({"status": "Hello", "media_ids": ["1", "2"], "in_reply_to_id": "109", "language": "fr",
                   "visibility": "unlisted", "spoiler_text": "cw"})
        );
    }

    #[test]
    fn endpoints() {
        let account = |url: Option<&str>, credentials: Value| Account {
            channel_id: 1,
            handle: "a".into(),
            instance_url: url.map(str::to_owned),
            credentials,
        };
        let ok = account(Some("https://m.example/"), json!({"access_token": "t"}));
        assert_eq!(endpoint(&ok).ok(), Some(("https://m.example", "t")));
        assert!(matches!(endpoint(&account(None, json!({"access_token": "t"}))), Err(NetError::Permanent { .. })));
        assert!(matches!(endpoint(&account(Some("https://m.example"), json!({}))), Err(NetError::Auth { .. })));
    }
}
