//! The sandbox network: built into Relais, posts land in a timeline stored in Relais's own
//! database. For rehearsing, training new team members and demos; never a substitute for the
//! real-network tests. Idempotent by (channel, key) like a real network with idempotency keys.

use async_trait::async_trait;
use relais_domain::Network as NetworkId;
use relais_domain::ids::ChannelId;
use relais_networks::{Account, Capabilities, NetError, Network, OutPost, Published, RemoteRef};
use relais_store::Store;
use relais_store::delivery::SandboxPost;

/// The sandbox network over the store.
pub struct Sandbox {
    /// Where the timeline lives.
    pub store: Store,
    /// The clock (UTC ms).
    pub now_ms: std::sync::Arc<dyn Fn() -> i64 + Send + Sync>,
}

fn store_error(e: relais_store::StoreError) -> NetError {
    NetError::Transient { message: e.to_string(), retry_after: None }
}

fn published(p: &SandboxPost) -> Published {
    Published {
        remote: RemoteRef {
            id: p.id.to_string(),
            cid: None,
            url: Some(format!("sandbox://{}/{}", p.channel_id, p.id)),
        },
    }
}

#[async_trait]
impl Network for Sandbox {
    fn id(&self) -> NetworkId {
        NetworkId::Sandbox
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities { threads: true, delete: true, lookup_by_key: true }
    }

    async fn publish(&self, account: &Account, post: &OutPost) -> Result<Published, NetError> {
        if post.text.trim().is_empty() && post.media.is_empty() {
            return Err(NetError::Permanent { message: "empty post".into() });
        }
        let reply_to = post.reply_to.as_ref().and_then(|r| r.parent.id.parse::<i64>().ok());
        let media = i64::try_from(post.media.len()).unwrap_or(i64::MAX);
        let stored = self
            .store
            .sandbox_publish(
                ChannelId(account.channel_id),
                &post.idempotency_key,
                &post.text,
                reply_to,
                media,
                (self.now_ms)(),
            )
            .await
            .map_err(store_error)?;
        Ok(published(&stored))
    }

    async fn lookup(&self, account: &Account, key: &str, _text: &str) -> Result<Option<Published>, NetError> {
        Ok(self
            .store
            .sandbox_find(ChannelId(account.channel_id), key)
            .await
            .map_err(store_error)?
            .as_ref()
            .map(published))
    }

    async fn delete(&self, account: &Account, post: &RemoteRef) -> Result<(), NetError> {
        let id = post.id.parse::<i64>().map_err(|_| NetError::Permanent { message: "not a sandbox post".into() })?;
        self.store.sandbox_delete(ChannelId(account.channel_id), id).await.map_err(store_error)
    }

    async fn refresh(&self, _account: &Account) -> Result<Option<serde_json::Value>, NetError> {
        Ok(None)
    }

    async fn metrics(&self, _account: &Account, _post: &RemoteRef) -> Result<serde_json::Value, NetError> {
        Ok(serde_json::json!({ "likes": 0, "reposts": 0, "replies": 0 }))
    }
}
