//! OAuth authorization requests in flight (connecting a Mastodon account): stored under a random
//! `state` when the person is sent to their server, taken exactly once when they come back.

use crate::{Store, StoreError, StoreResult};
use relais_domain::ids::WorkspaceId;

/// One authorization request in flight.
#[derive(Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct OauthPending {
    /// The random value sent to the server and brought back with the code.
    pub state: String,
    /// The workspace the account will be connected to.
    pub workspace_id: i64,
    /// The network (`mastodon`).
    pub network: String,
    /// The server's base URL.
    pub instance_url: String,
    /// Where the server sends the person back (or the out-of-band URN).
    pub redirect_uri: String,
    /// Relais's app on that server.
    pub client_id: String,
    /// The app's secret, encrypted.
    pub client_secret_sealed: Vec<u8>,
    /// Who started the connection.
    pub created_by: i64,
    /// After this time (UTC ms) the request is void.
    pub expires_at: i64,
}

impl std::fmt::Debug for OauthPending {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OauthPending")
            .field("workspace_id", &self.workspace_id)
            .field("instance_url", &self.instance_url)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

impl Store {
    /// Stores a new authorization request and forgets the expired ones.
    pub async fn create_oauth_pending(&self, p: &OauthPending, now: i64) -> StoreResult<()> {
        sqlx::query("DELETE FROM oauth_pending WHERE expires_at <= $1").bind(now).execute(&self.pool).await?;
        sqlx::query(
            "INSERT INTO oauth_pending (state, workspace_id, network, instance_url, redirect_uri, client_id, \
             client_secret_sealed, created_by, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(&p.state)
        .bind(p.workspace_id)
        .bind(&p.network)
        .bind(&p.instance_url)
        .bind(&p.redirect_uri)
        .bind(&p.client_id)
        .bind(&p.client_secret_sealed)
        .bind(p.created_by)
        .bind(p.expires_at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Takes (deletes and returns) a workspace's authorization request: a state is used at most
    /// once. Unknown, another workspace's, or expired: not found.
    pub async fn take_oauth_pending(&self, workspace: WorkspaceId, state: &str, now: i64) -> StoreResult<OauthPending> {
        let taken: Option<OauthPending> = sqlx::query_as(
            "DELETE FROM oauth_pending WHERE state = $1 AND workspace_id = $2 RETURNING state, workspace_id, network, \
             instance_url, redirect_uri, client_id, client_secret_sealed, created_by, expires_at",
        )
        .bind(state)
        .bind(workspace.0)
        .fetch_optional(&self.pool)
        .await?;
        taken.filter(|p| p.expires_at > now).ok_or(StoreError::NotFound)
    }
}
