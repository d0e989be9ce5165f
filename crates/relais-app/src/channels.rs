//! Channels: connecting an account on a network, its encrypted credentials and its queue slots.

use crate::{Actor, App, AppError, AppResult};
use relais_domain::Msg;
use relais_domain::Network;
use relais_domain::ids::{ChannelId, WorkspaceId};
use relais_domain::permissions::Action;
use relais_domain::schedule::WeeklySlot;
use relais_store::StoreError;
use relais_store::channels::{ChannelRecord, NewChannel};
use serde_json::json;

/// What a person gives to connect a channel.
#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChannelInput {
    /// Network identifier (`bluesky`, `mastodon`, `x`…).
    pub network: String,
    /// Account handle on the network (`@relais@mastodon.social`, `relais.bsky.social`).
    pub handle: String,
    /// Name shown in Relais (defaults to the handle).
    #[serde(default)]
    pub display_name: Option<String>,
    /// Server base URL, required for Mastodon (`https://mastodon.social`).
    #[serde(default)]
    pub instance_url: Option<String>,
    /// Credentials (app password, access token…), as a JSON object. Encrypted at rest and never
    /// returned.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub credentials: Option<serde_json::Map<String, serde_json::Value>>,
    /// Limits read from the network (e.g. a Mastodon `/api/v2/instance` document).
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub limits: Option<serde_json::Value>,
}

fn invalid(code: &'static str, en: String, fr: String) -> AppError {
    AppError::invalid(code, Msg::new(en, fr))
}

/// Checks an instance URL: absolute http(s), no credentials, no fragment.
pub fn check_instance_url(url: &str) -> AppResult<String> {
    let u = url.trim().trim_end_matches('/');
    let rest = u.strip_prefix("https://").or_else(|| u.strip_prefix("http://"));
    let ok = rest.is_some_and(|r| {
        let host = r.split('/').next().unwrap_or_default();
        !host.is_empty()
            && !host.contains('@')
            && !r.contains('#')
            && !r.chars().any(|c| c.is_whitespace() || c.is_control())
    });
    if !ok {
        return Err(invalid(
            "instance_url_invalid",
            format!("`{url}` is not a server address like https://mastodon.social"),
            format!("« {url} » n'est pas une adresse de serveur comme https://mastodon.social"),
        ));
    }
    Ok(u.to_owned())
}

fn check_handle(handle: &str) -> AppResult<String> {
    let h = handle.trim();
    if h.is_empty() || h.chars().count() > 200 || h.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(invalid(
            "handle_invalid",
            "the handle must have 1 to 200 characters, without spaces".into(),
            "l'identifiant doit compter de 1 à 200 caractères, sans espace".into(),
        ));
    }
    Ok(h.to_owned())
}

/// The AEAD context binding a channel's credentials to its row identity.
fn credentials_context(ws: WorkspaceId, network: Network, handle: &str) -> String {
    format!("channel:{}:{}:{}:credentials", ws.0, network.as_str(), handle)
}

impl App {
    /// Connects a channel; its credentials are encrypted before they reach the store.
    pub async fn create_channel(
        &self,
        actor: &Actor,
        ws: WorkspaceId,
        input: ChannelInput,
    ) -> AppResult<ChannelRecord> {
        self.authorize(actor, ws, Action::ManageChannels).await?;
        let network: Network = input.network.parse().map_err(|m| AppError::invalid("network_unknown", m))?;
        let handle = check_handle(&input.handle)?;
        let display_name = crate::accounts::valid_name(input.display_name.as_deref().unwrap_or(&handle), 200)?;
        let instance_url = input.instance_url.as_deref().map(check_instance_url).transpose()?;
        if network == Network::Mastodon && instance_url.is_none() {
            return Err(invalid(
                "instance_url_required",
                "a Mastodon channel needs its server address (instance_url)".into(),
                "un canal Mastodon a besoin de l'adresse de son serveur (instance_url)".into(),
            ));
        }
        // Mastodon limits differ per server: read them from the server unless given.
        let mut limits = input.limits.as_ref().map(ToString::to_string);
        let mut limits_error = None;
        if let (Network::Mastodon, None, Some(url)) = (network, &limits, &instance_url) {
            match relais_networks::mastodon::fetch_instance(&self.http, url).await {
                Ok(doc) => limits = Some(doc.to_string()),
                Err(e) => {
                    tracing::warn!(instance = %url, error = %e, "Mastodon instance limits unavailable; defaults apply.");
                    limits_error = Some(e.to_string());
                }
            }
        }
        let credentials = match &input.credentials {
            Some(map) => {
                let plain = serde_json::to_vec(map).map_err(AppError::internal)?;
                Some(self.secrets.seal(&plain, &credentials_context(ws, network, &handle))?)
            }
            None => None,
        };
        let record = self
            .store
            .create_channel(NewChannel {
                workspace: ws,
                network: network.as_str(),
                handle: &handle,
                display_name: &display_name,
                instance_url: instance_url.as_deref(),
                credentials,
                limits,
                now: self.now_ms(),
            })
            .await
            .map_err(|e| match e {
                StoreError::Conflict(_) => AppError::conflict(
                    "channel_exists",
                    Msg::new(
                        "this account is already connected in this workspace",
                        "ce compte est déjà connecté dans cet espace de travail",
                    ),
                ),
                other => other.into(),
            })?;
        // Never the credentials: only which keys were given.
        let keys: Vec<&String> = input.credentials.iter().flat_map(|m| m.keys()).collect();
        self.audit(
            actor,
            Some(ws),
            "channel.create",
            format!("channel:{}", record.id),
            json!({ "network": network, "handle": handle, "credential_keys": keys, "limits_error": limits_error }),
        )
        .await?;
        Ok(record)
    }

    /// Reads a Mastodon channel's limits from its server again (`/api/v2/instance`).
    pub async fn refresh_channel_limits(
        &self,
        actor: &Actor,
        ws: WorkspaceId,
        id: ChannelId,
    ) -> AppResult<ChannelRecord> {
        self.authorize(actor, ws, Action::ManageChannels).await?;
        let channel = self.store.channel(ws, id).await.map_err(not_found_channel)?;
        let url = match (channel.network.as_str(), &channel.instance_url) {
            ("mastodon", Some(url)) => url.clone(),
            _ => {
                return Err(invalid(
                    "limits_not_remote",
                    "only Mastodon channels read their limits from their server".into(),
                    "seuls les canaux Mastodon lisent leurs limites sur leur serveur".into(),
                ));
            }
        };
        let doc = relais_networks::mastodon::fetch_instance(&self.http, &url)
            .await
            .map_err(|e| AppError::invalid("instance_unreachable", e.message(&format!("{url}/api/v2/instance"))))?;
        self.store.set_channel_limits(ws, id, &doc.to_string()).await?;
        self.audit(actor, Some(ws), "channel.limits", format!("channel:{}", id.0), json!({})).await?;
        self.store.channel(ws, id).await.map_err(not_found_channel)
    }

    /// Decrypts a channel's credentials (for the publishing engine; never for the API).
    pub fn channel_credentials(&self, channel: &ChannelRecord) -> AppResult<Option<serde_json::Value>> {
        let Some(sealed) = &channel.credentials else { return Ok(None) };
        let network: Network = channel.network.parse().map_err(AppError::internal_msg)?;
        let plain = self
            .secrets
            .open(sealed, &credentials_context(WorkspaceId(channel.workspace_id), network, &channel.handle))?;
        serde_json::from_slice(&plain).map(Some).map_err(AppError::internal)
    }

    /// Encrypts and stores new credentials for a channel (a refreshed session or token).
    pub async fn replace_channel_credentials(
        &self,
        channel: &ChannelRecord,
        credentials: &serde_json::Value,
    ) -> AppResult<()> {
        let network: Network = channel.network.parse().map_err(AppError::internal_msg)?;
        let plain = serde_json::to_vec(credentials).map_err(AppError::internal)?;
        let sealed = self
            .secrets
            .seal(&plain, &credentials_context(WorkspaceId(channel.workspace_id), network, &channel.handle))?;
        self.store.set_channel_credentials(ChannelId(channel.id), &sealed).await?;
        Ok(())
    }

    /// Reconnects a channel: replaces its credentials (encrypted) and lets its waiting posts go.
    pub async fn reconnect_channel(
        &self,
        actor: &Actor,
        ws: WorkspaceId,
        id: ChannelId,
        credentials: serde_json::Map<String, serde_json::Value>,
    ) -> AppResult<ChannelRecord> {
        self.authorize(actor, ws, Action::ManageChannels).await?;
        let channel = self.store.channel(ws, id).await.map_err(not_found_channel)?;
        self.replace_channel_credentials(&channel, &serde_json::Value::Object(credentials.clone())).await?;
        self.store.set_needs_reconnection(id, false).await?;
        let keys: Vec<&String> = credentials.keys().collect();
        self.audit(
            actor,
            Some(ws),
            "channel.reconnect",
            format!("channel:{}", id.0),
            json!({ "credential_keys": keys }),
        )
        .await?;
        self.store.channel(ws, id).await.map_err(not_found_channel)
    }

    /// The channels of a workspace.
    pub async fn channels(&self, actor: &Actor, ws: WorkspaceId) -> AppResult<Vec<ChannelRecord>> {
        self.authorize(actor, ws, Action::Read).await?;
        Ok(self.store.channels(ws).await?)
    }

    /// One channel of a workspace.
    pub async fn channel(&self, actor: &Actor, ws: WorkspaceId, id: ChannelId) -> AppResult<ChannelRecord> {
        self.authorize(actor, ws, Action::Read).await?;
        self.store.channel(ws, id).await.map_err(not_found_channel)
    }

    /// Disconnects a channel.
    pub async fn delete_channel(&self, actor: &Actor, ws: WorkspaceId, id: ChannelId) -> AppResult<()> {
        self.authorize(actor, ws, Action::ManageChannels).await?;
        self.store.delete_channel(ws, id).await.map_err(not_found_channel)?;
        self.audit(actor, Some(ws), "channel.delete", format!("channel:{}", id.0), json!({})).await
    }

    /// Replaces a channel's weekly posting slots.
    pub async fn set_queue_slots(
        &self,
        actor: &Actor,
        ws: WorkspaceId,
        id: ChannelId,
        slots: &[WeeklySlot],
    ) -> AppResult<Vec<WeeklySlot>> {
        self.authorize(actor, ws, Action::ManageChannels).await?;
        if slots.len() > 200 {
            return Err(invalid(
                "too_many_slots",
                "at most 200 weekly slots per channel".into(),
                "au plus 200 créneaux hebdomadaires par canal".into(),
            ));
        }
        let rows: Vec<(i64, i64)> = slots.iter().map(slot_to_row).collect();
        self.store.set_queue_slots(ws, id, &rows).await.map_err(not_found_channel)?;
        self.audit(actor, Some(ws), "channel.slots", format!("channel:{}", id.0), json!({ "slots": slots })).await?;
        self.queue_slots(actor, ws, id).await
    }

    /// A channel's weekly posting slots.
    pub async fn queue_slots(&self, actor: &Actor, ws: WorkspaceId, id: ChannelId) -> AppResult<Vec<WeeklySlot>> {
        self.authorize(actor, ws, Action::Read).await?;
        self.store.channel(ws, id).await.map_err(not_found_channel)?;
        let rows = self.store.queue_slots(ws, id).await?;
        rows.into_iter().map(slot_from_row).collect()
    }
}

fn not_found_channel(e: StoreError) -> AppError {
    match e {
        StoreError::NotFound => AppError::not_found("channel"),
        other => other.into(),
    }
}

fn slot_to_row(s: &WeeklySlot) -> (i64, i64) {
    (i64::from(s.weekday.to_monday_one_offset()), i64::from(s.time.hour()) * 60 + i64::from(s.time.minute()))
}

/// Converts a stored (weekday 1–7, minute of day) into a slot.
pub(crate) fn slot_from_row((weekday, minute): (i64, i64)) -> AppResult<WeeklySlot> {
    let weekday = i8::try_from(weekday).ok().and_then(|w| jiff::civil::Weekday::from_monday_one_offset(w).ok());
    let time = i8::try_from(minute / 60)
        .ok()
        .zip(i8::try_from(minute % 60).ok())
        .and_then(|(h, m)| jiff::civil::Time::new(h, m, 0, 0).ok());
    match (weekday, time) {
        (Some(weekday), Some(time)) => Ok(WeeklySlot { weekday, time }),
        _ => Err(AppError::internal("corrupt queue slot")),
    }
}
