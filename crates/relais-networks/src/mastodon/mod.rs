//! Mastodon (and compatible servers). API: <https://docs.joinmastodon.org/methods/instance/>.
//! Auth: a bearer access token per account, obtained by the OAuth authorization-code flow with
//! an app registered per server ([`oauth`]). Limits: read from each server's
//! `GET /api/v2/instance` (`configuration.statuses`, `configuration.media_attachments`); the
//! composer falls back to 500 characters and URL = 23 when the server does not say.
//! Publishing ([`Mastodon`]): media via `POST /api/v2/media` (polled until processed), statuses
//! via `POST /api/v1/statuses` with `Idempotency-Key` (kept about an hour by Mastodon); no lookup
//! by key, so reconciliation compares the text with the account's 40 latest statuses.

mod client;
mod http;
pub mod oauth;
mod text;

pub use client::{Mastodon, status_body};
pub use oauth::{AccessToken, AppRegistration, authorize_url, exchange_code, register_app, token_account};
pub use text::status_text;

use crate::guard::{FetchError, GuardedClient};

/// Fetches a server's `/api/v2/instance` document (its limits live in `configuration`).
pub async fn fetch_instance(client: &GuardedClient, instance_url: &str) -> Result<serde_json::Value, FetchError> {
    let base = instance_url.trim_end_matches('/');
    let doc = client.get_json(&format!("{base}/api/v2/instance")).await?;
    if doc.get("configuration").is_none() {
        return Err(FetchError::Decode("no `configuration` in the instance document".into()));
    }
    Ok(doc)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::Router;
    use axum::routing::get;

    async fn serve(router: Router) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap_or_else(|e| panic!("{e}"));
        let addr = listener.local_addr().unwrap_or_else(|e| panic!("{e}"));
        tokio::spawn(async move { axum::serve(listener, router).await });
        format!("127.0.0.1:{}", addr.port())
    }

    /// The `configuration` part of the example in Mastodon's documentation for `/api/v2/instance`.
    const INSTANCE: &str = r#"{"domain":"mastodon.social","title":"Mastodon","version":"4.0.0rc1","configuration":{"urls":{"streaming":"wss://mastodon.social"},"accounts":{"max_featured_tags":10},"statuses":{"max_characters":500,"max_media_attachments":4,"characters_reserved_per_url":23},"media_attachments":{"supported_mime_types":["image/jpeg"],"image_size_limit":10485760,"image_matrix_limit":16777216,"video_size_limit":41943040,"video_frame_rate_limit":60,"video_matrix_limit":2304000},"polls":{"max_options":4}}}"#;

    #[tokio::test]
    async fn reads_the_instance_document() {
        let host = serve(Router::new().route(
            "/api/v2/instance",
            get(|| async {
                (
                    [("content-type", "application/json")],
                    INSTANCE.replace("\"max_characters\":500", "\"max_characters\":1000"),
                )
            }),
        ))
        .await;
        let client = GuardedClient::new(vec![host.clone()]);
        let doc = fetch_instance(&client, &format!("http://{host}/")).await.unwrap_or_else(|e| panic!("{e}"));
        let limits = relais_domain::compose::MastodonInstance::from_instance_json(&doc);
        assert_eq!(
            (limits.max_characters, limits.characters_reserved_per_url, limits.image_size_limit),
            (1000, 23, 10_485_760)
        );
        // Without the allowance, the same loopback server is refused.
        let strict = GuardedClient::new(vec![]);
        assert!(matches!(fetch_instance(&strict, &format!("http://{host}")).await, Err(FetchError::Refused(_))));
    }

    #[tokio::test]
    async fn errors_are_clear() {
        let host = serve(
            Router::new()
                .route("/a/api/v2/instance", get(|| async { (axum::http::StatusCode::NOT_FOUND, "no") }))
                .route("/b/api/v2/instance", get(|| async { "not json" }))
                .route("/c/api/v2/instance", get(|| async { "x".repeat(3 * 1024 * 1024) })),
        )
        .await;
        let client = GuardedClient::new(vec![host.clone()]);
        assert!(matches!(fetch_instance(&client, &format!("http://{host}/a")).await, Err(FetchError::Status(404))));
        assert!(matches!(fetch_instance(&client, &format!("http://{host}/b")).await, Err(FetchError::Decode(_))));
        assert!(matches!(fetch_instance(&client, &format!("http://{host}/c")).await, Err(FetchError::TooLarge(_))));
    }
}
