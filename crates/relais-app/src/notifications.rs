//! Notifications: when a post fails, cannot be confirmed, is missed or expires, or a channel
//! needs reconnection, the workspace's webhooks are told, in the JSON shapes Slack, Discord and
//! Matrix hookshot accept. Events go to an outbox in the same database and are delivered (and
//! retried with backoff) by [`Notifier::run_once`], never inline.

use crate::{Actor, App, AppError, AppResult};
use relais_domain::Msg;
use relais_domain::delivery::retry_delay_ms;
use relais_domain::ids::WorkspaceId;
use relais_domain::permissions::Action;
use relais_store::notifications::{NotificationRecord, WebhookRecord};
use serde::{Deserialize, Serialize};
use serde_json::json;

/// The JSON shape a webhook expects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum WebhookKind {
    /// Slack incoming webhook: `{"text": …}`.
    Slack,
    /// Discord webhook: `{"content": …}` (at most 2,000 characters).
    Discord,
    /// Matrix hookshot generic webhook: `{"text": …, "html": …}`.
    Matrix,
}

impl WebhookKind {
    fn as_str(self) -> &'static str {
        match self {
            WebhookKind::Slack => "slack",
            WebhookKind::Discord => "discord",
            WebhookKind::Matrix => "matrix",
        }
    }

    /// The body to send for a message.
    pub fn body(self, message: &Msg) -> serde_json::Value {
        let text = format!("{}\n{}", message.fr, message.en);
        match self {
            WebhookKind::Slack => json!({ "text": text }),
            WebhookKind::Discord => json!({ "content": text.chars().take(2000).collect::<String>() }),
            WebhookKind::Matrix => json!({
                "text": text,
                "html": format!("<p>{}</p><p>{}</p>", escape_html(&message.fr), escape_html(&message.en)),
            }),
        }
    }
}

/// Escapes text for HTML (user text in notifications is hostile).
pub fn escape_html(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&#39;")
}

/// Something the workspace must hear about.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    /// A delivery failed for good.
    PostFailed {
        /// The post.
        post_id: i64,
        /// The channel.
        channel: String,
        /// The network's message.
        message: String,
    },
    /// A call's outcome is unknown; the engine will check with the network.
    PostUnconfirmed {
        /// The post.
        post_id: i64,
        /// The channel.
        channel: String,
    },
    /// Too late to publish after downtime.
    PostMissed {
        /// The post.
        post_id: i64,
        /// The channel.
        channel: String,
    },
    /// Not approved before its due time.
    PostExpired {
        /// The post.
        post_id: i64,
    },
    /// The channel's credentials stopped working; its posts wait.
    ChannelNeedsReconnection {
        /// The channel.
        channel: String,
        /// The network's message.
        message: String,
    },
    /// A listening query's series spiked (volume, or share of negative mentions).
    ListeningSpike {
        /// The alert.
        alert_id: i64,
        /// The query.
        query_id: i64,
        /// Its name (user text).
        query: String,
        /// `volume` or `negative_share`.
        rule: String,
        /// `elevated`, `high`, `critical`.
        severity: String,
        /// Mentions (volume rule) or percentage of negative mentions (negative-share rule) seen.
        observed: f64,
        /// What the baseline expected.
        expected: f64,
        /// Start of the bucket that spiked (UTC ms).
        bucket_start: i64,
    },
}

impl Event {
    /// The event's name.
    pub fn name(&self) -> &'static str {
        match self {
            Event::PostFailed { .. } => "post.failed",
            Event::PostUnconfirmed { .. } => "post.unconfirmed",
            Event::PostMissed { .. } => "post.missed",
            Event::PostExpired { .. } => "post.expired",
            Event::ChannelNeedsReconnection { .. } => "channel.needs_reconnection",
            Event::ListeningSpike { .. } => "listening.spike",
        }
    }

    /// What people read.
    pub fn message(&self) -> Msg {
        match self {
            Event::PostFailed { post_id, channel, message } => Msg::new(
                format!("❌ Post {post_id} failed on {channel}: {message}"),
                format!("❌ La publication {post_id} a échoué sur {channel} : {message}"),
            ),
            Event::PostUnconfirmed { post_id, channel } => Msg::new(
                format!(
                    "⚠️ Post {post_id} on {channel}: no confirmation from the network; Relais is checking before any retry."
                ),
                format!(
                    "⚠️ Publication {post_id} sur {channel} : pas de confirmation du réseau ; Relais vérifie avant toute nouvelle tentative."
                ),
            ),
            Event::PostMissed { post_id, channel } => Msg::new(
                format!("⏰ Post {post_id} was not published on {channel}: too late after an interruption."),
                format!(
                    "⏰ La publication {post_id} n'a pas été publiée sur {channel} : trop tard après une interruption."
                ),
            ),
            Event::PostExpired { post_id } => Msg::new(
                format!("⌛ Post {post_id} expired: it was not approved before its time."),
                format!("⌛ La publication {post_id} a expiré : elle n'a pas été approuvée à temps."),
            ),
            Event::ChannelNeedsReconnection { channel, message } => Msg::new(
                format!("🔌 {channel} needs to be reconnected ({message}); its posts are waiting."),
                format!("🔌 {channel} doit être reconnecté ({message}) ; ses publications attendent."),
            ),
            Event::ListeningSpike { query, rule, severity, observed, expected, .. } if rule == "negative_share" => {
                Msg::new(
                    format!(
                        "📉 « {query} »: negative mentions at {observed:.0} % (usually {expected:.0} %), severity {severity}."
                    ),
                    format!(
                        "📉 « {query} » : {observed:.0} % de mentions négatives (d'habitude {expected:.0} %), gravité {severity}."
                    ),
                )
            }
            Event::ListeningSpike { query, severity, observed, expected, .. } => Msg::new(
                format!("📈 « {query} »: {observed:.0} mentions (usually about {expected:.0}), severity {severity}."),
                format!(
                    "📈 « {query} » : {observed:.0} mentions (d'habitude environ {expected:.0}), gravité {severity}."
                ),
            ),
        }
    }
}

/// The scheme and host of a URL, shown instead of the URL (which is a secret).
fn url_hint(url: &str) -> String {
    let rest = url.split("://").nth(1).unwrap_or("");
    let host = rest.split('/').next().unwrap_or("");
    format!("{}://{host}/…", url.split("://").next().unwrap_or("https"))
}

fn context(ws: WorkspaceId) -> String {
    format!("workspace:{}:webhook", ws.0)
}

impl App {
    /// Adds a webhook; its URL is encrypted at rest.
    pub async fn create_webhook(
        &self,
        actor: &Actor,
        ws: WorkspaceId,
        kind: WebhookKind,
        url: &str,
    ) -> AppResult<WebhookRecord> {
        self.authorize(actor, ws, Action::ManageWorkspace).await?;
        crate::posts::check_url(url)?;
        let sealed = self.secrets.seal(url.as_bytes(), &context(ws))?;
        let hook = self.store.create_webhook(ws, kind.as_str(), &sealed, &url_hint(url), self.now_ms()).await?;
        self.audit(
            actor,
            Some(ws),
            "webhook.create",
            format!("webhook:{}", hook.id),
            json!({ "kind": kind, "host": hook.url_hint }),
        )
        .await?;
        Ok(hook)
    }

    /// The workspace's webhooks (hints only).
    pub async fn webhooks(&self, actor: &Actor, ws: WorkspaceId) -> AppResult<Vec<WebhookRecord>> {
        self.authorize(actor, ws, Action::ManageWorkspace).await?;
        Ok(self.store.webhooks(ws).await?)
    }

    /// Removes a webhook.
    pub async fn delete_webhook(&self, actor: &Actor, ws: WorkspaceId, id: i64) -> AppResult<()> {
        self.authorize(actor, ws, Action::ManageWorkspace).await?;
        self.store.delete_webhook(ws, id).await.map_err(|_| AppError::not_found("webhook"))?;
        self.audit(actor, Some(ws), "webhook.delete", format!("webhook:{id}"), json!({})).await
    }

    /// The workspace's newest notifications and their delivery.
    pub async fn notifications(&self, actor: &Actor, ws: WorkspaceId) -> AppResult<Vec<NotificationRecord>> {
        self.authorize(actor, ws, Action::Read).await?;
        Ok(self.store.notifications(ws, 200).await?)
    }

    /// Queues an event for every webhook of the workspace (delivered by the notifier).
    pub async fn notify(&self, ws: WorkspaceId, event: &Event) -> AppResult<()> {
        let payload = serde_json::to_string(event).map_err(AppError::internal)?;
        self.store.enqueue_notification(ws, event.name(), &payload, self.now_ms()).await?;
        Ok(())
    }
}

/// Delivers queued notifications.
#[derive(Clone)]
pub struct Notifier {
    /// The application.
    pub app: App,
}

impl Notifier {
    /// One pass: sends up to `batch` due notifications. Returns how many were delivered.
    pub async fn run_once(&self, batch: i64) -> AppResult<usize> {
        let app = &self.app;
        let now = app.now_ms();
        let pending = app.store.claim_notifications(now, now + 60_000, batch).await?;
        let mut delivered = 0;
        for n in pending {
            let hook = app.store.webhook(n.webhook_id).await?;
            let kind: WebhookKind = serde_json::from_value(json!(hook.kind)).map_err(AppError::internal)?;
            let url = String::from_utf8(app.secrets.open(&hook.url_sealed, &context(WorkspaceId(hook.workspace_id)))?)
                .map_err(AppError::internal)?;
            let event: Event = serde_json::from_str(&n.payload).map_err(AppError::internal)?;
            let outcome = app.http.post_json(&url, &kind.body(&event.message())).await;
            let now = app.now_ms();
            match outcome {
                Ok(status) if (200..300).contains(&status) => {
                    app.store.notification_attempted(n.id, Some(now), now, None).await?;
                    delivered += 1;
                }
                other => {
                    let error = match other {
                        Ok(status) => format!("HTTP status {status}"),
                        Err(e) => e.to_string(),
                    };
                    let next = now + retry_delay_ms(n.attempts + 1, rand::random::<f64>(), None);
                    app.store.notification_attempted(n.id, None, next, Some(&error)).await?;
                }
            }
        }
        Ok(delivered)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes() {
        let m = Msg::new("<b>x</b> & y", "<b>x</b> & y");
        assert_eq!(WebhookKind::Slack.body(&m), json!({ "text": "<b>x</b> & y\n<b>x</b> & y" }));
        assert_eq!(
            WebhookKind::Discord.body(&Msg::new("a".repeat(3000), "b"))["content"].as_str().map(|s| s.chars().count()),
            Some(2000)
        );
        let matrix = WebhookKind::Matrix.body(&m);
        assert_eq!(matrix["html"], "<p>&lt;b&gt;x&lt;/b&gt; &amp; y</p><p>&lt;b&gt;x&lt;/b&gt; &amp; y</p>");
    }

    #[test]
    fn hints_hide_the_secret() {
        assert_eq!(url_hint("https://hooks.slack.com/services/T000/B000/XXXXSECRET"), "https://hooks.slack.com/…");
    }
}
