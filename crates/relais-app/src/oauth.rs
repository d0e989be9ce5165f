//! Connecting a Mastodon account by OAuth: Relais registers itself on the person's server, sends
//! them to the server's authorization page, and exchanges the code they bring back for a token;
//! the channel is then created like any other (token encrypted, limits read from the server).
//!
//! The request in flight is stored under a random `state` for 15 minutes and used once. Without
//! a public address, the out-of-band redirect (`urn:ietf:wg:oauth:2.0:oob`) makes the server
//! show the code, which the person pastes into Relais.

use crate::channels::{ChannelInput, check_instance_url};
use crate::{Actor, App, AppError, AppResult};
use relais_domain::Msg;
use relais_domain::ids::WorkspaceId;
use relais_domain::permissions::Action;
use relais_networks::NetError;
use relais_networks::mastodon::{AppRegistration, authorize_url, exchange_code, register_app, token_account};
use relais_store::StoreError;
use relais_store::channels::ChannelRecord;
use relais_store::oauth::OauthPending;
use serde::{Deserialize, Serialize};

/// The redirect URI that makes the server display the code instead of redirecting.
pub const OUT_OF_BAND: &str = "urn:ietf:wg:oauth:2.0:oob";
/// What Relais asks for: reading the account, writing statuses and media.
pub const SCOPES: &str = "read write";
/// How long an authorization request stays valid.
const PENDING_MS: i64 = 15 * 60 * 1000;

/// Starting a Mastodon connection.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MastodonAuthorizeInput {
    /// The server, e.g. `https://mastodon.social`.
    pub instance_url: String,
    /// Where the server sends the person back with `code` and `state`; by default the server
    /// shows the code to paste (out of band).
    #[serde(default)]
    pub redirect_uri: Option<String>,
}

/// Where to send the person, and the state to bring back with the code.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct MastodonAuthorization {
    /// The server's authorization page.
    pub authorize_url: String,
    /// Bring it back with the code (one use).
    pub state: String,
    /// Until when (RFC 3339 UTC).
    pub expires_at: String,
}

/// Finishing a Mastodon connection with the code the server gave.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MastodonConnectInput {
    /// The state returned by the authorize step.
    pub state: String,
    /// The authorization code.
    pub code: String,
    /// The channel's name in Relais (default: the account's handle).
    #[serde(default)]
    pub display_name: Option<String>,
}

fn secret_context(ws: WorkspaceId, state: &str) -> String {
    format!("oauth:{}:{state}:client_secret", ws.0)
}

fn check_redirect_uri(uri: &str) -> AppResult<String> {
    if uri == OUT_OF_BAND {
        return Ok(uri.to_owned());
    }
    let parsed = url::Url::parse(uri).ok().filter(|u| matches!(u.scheme(), "https" | "http") && u.fragment().is_none());
    match parsed {
        Some(u) if u.host_str().is_some() && uri.len() <= 2_000 => Ok(uri.to_owned()),
        _ => Err(AppError::invalid(
            "redirect_uri_invalid",
            Msg::new(
                format!("the redirect address must be an http(s) URL without fragment or {OUT_OF_BAND}"),
                format!("l'adresse de retour doit être une URL http(s) sans fragment ou {OUT_OF_BAND}"),
            ),
        )),
    }
}

fn server_error(what: (&str, &str)) -> impl Fn(NetError) -> AppError {
    move |e| AppError::upstream("mastodon_oauth_failed", what, &e.to_string())
}

impl App {
    /// Registers Relais on the server and returns its authorization page.
    pub async fn mastodon_authorize(
        &self,
        actor: &Actor,
        ws: WorkspaceId,
        input: MastodonAuthorizeInput,
    ) -> AppResult<MastodonAuthorization> {
        self.authorize(actor, ws, Action::ManageChannels).await?;
        let instance_url = check_instance_url(&input.instance_url)?;
        let redirect_uri = check_redirect_uri(input.redirect_uri.as_deref().unwrap_or(OUT_OF_BAND))?;
        let app = register_app(&self.http, &instance_url, &redirect_uri, SCOPES).await.map_err(server_error((
            "registering Relais on the server failed",
            "l'inscription de Relais sur le serveur a échoué",
        )))?;
        let state = hex::encode(rand::random::<[u8; 24]>());
        let url = authorize_url(&instance_url, &app, &redirect_uri, SCOPES, &state)
            .map_err(server_error(("invalid server address", "adresse de serveur invalide")))?;
        let now = self.now_ms();
        let pending = OauthPending {
            client_secret_sealed: self.secrets.seal(app.client_secret.as_bytes(), &secret_context(ws, &state))?,
            state: state.clone(),
            workspace_id: ws.0,
            network: "mastodon".into(),
            instance_url,
            redirect_uri,
            client_id: app.client_id,
            created_by: actor.user.0,
            expires_at: now + PENDING_MS,
        };
        self.store.create_oauth_pending(&pending, now).await?;
        let expires_at = jiff::Timestamp::from_millisecond(pending.expires_at).map_err(AppError::internal)?;
        Ok(MastodonAuthorization { authorize_url: url, state, expires_at: expires_at.to_string() })
    }

    /// Exchanges the code for a token and connects the account as a channel.
    pub async fn mastodon_connect(
        &self,
        actor: &Actor,
        ws: WorkspaceId,
        input: MastodonConnectInput,
    ) -> AppResult<ChannelRecord> {
        self.authorize(actor, ws, Action::ManageChannels).await?;
        let pending =
            self.store.take_oauth_pending(ws, input.state.trim(), self.now_ms()).await.map_err(|e| match e {
                StoreError::NotFound => AppError::invalid(
                    "oauth_state_unknown",
                    Msg::new(
                        "this connection request is unknown, used or expired: start again",
                        "cette demande de connexion est inconnue, déjà utilisée ou expirée : recommencez",
                    ),
                ),
                other => other.into(),
            })?;
        let secret = self.secrets.open(&pending.client_secret_sealed, &secret_context(ws, &pending.state))?;
        let app = AppRegistration {
            client_id: pending.client_id.clone(),
            client_secret: String::from_utf8(secret).map_err(AppError::internal)?,
        };
        let token = exchange_code(&self.http, &pending.instance_url, &app, &pending.redirect_uri, input.code.trim())
            .await
            .map_err(server_error(("the server refused the code", "le serveur a refusé le code")))?;
        let handle = token_account(&self.http, &pending.instance_url, &token)
            .await
            .map_err(server_error(("reading the account failed", "la lecture du compte a échoué")))?;
        let input = ChannelInput {
            network: "mastodon".into(),
            handle,
            display_name: input.display_name,
            instance_url: Some(pending.instance_url),
            credentials: token.credentials().as_object().cloned(),
            ..Default::default()
        };
        self.create_channel(actor, ws, input).await
    }
}
