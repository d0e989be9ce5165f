//! Posts: composing (validated per network), scheduling (time zones, DST, queues), approval,
//! the calendar and its iCalendar feed.

use crate::{Actor, App, AppError, AppResult};
use jiff::Timestamp;
use relais_domain::Msg;
use relais_domain::Network;
use relais_domain::compose::{self, Context, Draft, MastodonInstance, MediaInfo, MediaKind, Report};
use relais_domain::ids::{ChannelId, MediaId, PostId, WorkspaceId};
use relais_domain::permissions::{Action, Role};
use relais_domain::post::{Decision, PostBody, PostStatus, review};
use relais_domain::schedule::{self, DstPolicy};
use relais_store::StoreError;
use relais_store::channels::ChannelRecord;
use relais_store::posts::{PostFilter, PostMediaRecord, PostRecord, PostWrite, TargetRecord};
use serde::{Deserialize, Serialize};
use serde_json::json;

/// One channel a post goes to, with an optional text replacing the base text there.
#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TargetInput {
    /// The channel.
    pub channel_id: i64,
    /// Text for this channel only.
    #[serde(default)]
    pub variant: Option<String>,
}

/// One media file attached to a post.
#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MediaInput {
    /// The uploaded media file.
    pub media_id: i64,
    /// Alternative text (accessibility).
    #[serde(default)]
    pub alt: String,
}

/// When a post should go out.
#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub enum ScheduleInput {
    /// At a wall-clock time in a time zone (the workspace's by default).
    At {
        /// Local date and time, `2027-03-28T09:30` (no offset: the zone decides).
        local: String,
        /// IANA time zone; the workspace's when absent.
        #[serde(default)]
        timezone: Option<String>,
        /// What to do when the time falls in a daylight-saving gap.
        #[serde(default)]
        dst: DstPolicy,
    },
    /// In the next free slot of a channel's queue (the channel must be a target).
    Queue {
        /// The channel whose queue to use.
        channel_id: i64,
    },
}

/// A post as written by a person.
#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PostInput {
    /// The content.
    #[serde(flatten)]
    pub body: PostBody,
    /// Where it goes.
    pub channels: Vec<TargetInput>,
    /// Attached media, in order.
    #[serde(default)]
    pub media: Vec<MediaInput>,
    /// When it goes; absent for a draft.
    #[serde(default)]
    pub schedule: Option<ScheduleInput>,
    /// Keep it as a draft (not scheduled, not validated against the networks' limits).
    #[serde(default)]
    pub draft: bool,
    /// Interval, in seconds, at which the post comes back after being published (evergreen).
    #[serde(default)]
    pub evergreen_secs: Option<i64>,
}

/// A post as returned: the record, its content decoded, and warnings (e.g. a DST shift).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PostView {
    /// Identifier.
    pub id: i64,
    /// Workspace.
    pub workspace_id: i64,
    /// Author.
    pub author_id: i64,
    /// Status.
    pub status: String,
    /// Content.
    pub body: PostBody,
    /// Due time, RFC 3339 UTC.
    pub due_at: Option<String>,
    /// The wall-clock time asked for.
    pub local_time: Option<String>,
    /// Time zone of the schedule.
    pub timezone: String,
    /// Queue channel, when queued.
    pub queue_channel_id: Option<i64>,
    /// Evergreen interval (s).
    pub evergreen_secs: Option<i64>,
    /// Reviewer's note.
    pub review_note: Option<String>,
    /// Reviewer.
    pub reviewed_by: Option<i64>,
    /// Targets.
    pub channels: Vec<TargetRecord>,
    /// Media.
    pub media: Vec<PostMediaRecord>,
    /// Created (RFC 3339).
    pub created_at: String,
    /// Updated (RFC 3339).
    pub updated_at: String,
    /// Warnings about what was done (only in the answer to a write).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<Msg>,
}

/// A post's deliveries and every attempt made.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PublishLog {
    /// One per channel.
    pub targets: Vec<relais_store::delivery::TargetStatus>,
    /// Every attempt, oldest first.
    pub attempts: Vec<relais_store::delivery::AttemptRecord>,
}

/// Formats stored UTC milliseconds as RFC 3339.
pub fn rfc3339(ms: i64) -> String {
    Timestamp::from_millisecond(ms).map(|t| t.to_string()).unwrap_or_default()
}

impl PostView {
    fn from_record(r: PostRecord, warnings: Vec<Msg>) -> AppResult<PostView> {
        let body: PostBody = serde_json::from_str(&r.body).map_err(AppError::internal)?;
        Ok(PostView {
            id: r.id,
            workspace_id: r.workspace_id,
            author_id: r.author_id,
            status: r.status,
            body,
            due_at: r.due_at.map(rfc3339),
            local_time: r.local_time,
            timezone: r.timezone,
            queue_channel_id: r.queue_channel_id,
            evergreen_secs: r.evergreen_secs,
            review_note: r.review_note,
            reviewed_by: r.reviewed_by,
            channels: r.targets,
            media: r.media,
            created_at: rfc3339(r.created_at),
            updated_at: rfc3339(r.updated_at),
            warnings,
        })
    }
}

/// The limits context of a channel: its Mastodon instance configuration when known.
pub fn channel_context(channel: &ChannelRecord) -> Context {
    let mastodon = channel
        .limits
        .as_deref()
        .and_then(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .map(|v| MastodonInstance::from_instance_json(&v))
        .unwrap_or_default();
    Context { mastodon }
}

/// Validates a post's content for each target channel; returns every problem of every channel.
pub fn validate_for_channels(
    body: &PostBody,
    targets: &[(ChannelRecord, Option<String>)],
    media: &[MediaInfo],
) -> Vec<(i64, Report)> {
    let mut out = Vec::new();
    for (channel, variant) in targets {
        let Ok(network) = channel.network.parse::<Network>() else { continue };
        let draft = Draft {
            text: variant.as_deref().unwrap_or(&body.text),
            media,
            link: body.link.as_deref(),
            title: body.title.as_deref(),
            board: body.board.as_deref(),
            thread: &body.thread,
            first_comment: body.first_comment.as_deref(),
            content_warning: body.content_warning.as_deref(),
        };
        let report = compose::check(network, &draft, &channel_context(channel));
        if !report.ok() {
            out.push((channel.id, report));
        }
    }
    out
}

fn problems_json(reports: &[(i64, Report)]) -> Vec<serde_json::Value> {
    reports.iter().map(|(channel, report)| json!({ "channel_id": channel, "report": report })).collect()
}

fn invalid(code: &'static str, en: impl Into<String>, fr: impl Into<String>) -> AppError {
    AppError::invalid(code, Msg::new(en, fr))
}

/// Checks a link or image URL: absolute http(s), at most 2,048 characters.
pub fn check_url(url: &str) -> AppResult<()> {
    let ok = (url.starts_with("https://") || url.starts_with("http://"))
        && url.len() <= 2048
        && url.len() > "https://".len()
        && !url.chars().any(|c| c.is_whitespace() || c.is_control());
    if !ok {
        return Err(invalid(
            "url_invalid",
            format!("`{url}` is not a web address (http or https)"),
            format!("« {url} » n'est pas une adresse web (http ou https)"),
        ));
    }
    Ok(())
}

/// A fully checked write, ready for the store.
struct Prepared {
    write: PostWrite,
    warnings: Vec<Msg>,
}

impl App {
    /// Turns a person's input into a checked write: every rule is checked before anything is
    /// stored. `role` decides whether the post needs approval.
    async fn prepare(&self, actor: &Actor, ws: WorkspaceId, role: Role, input: &PostInput) -> AppResult<Prepared> {
        let workspace = self.store.workspace(ws).await?;
        if input.channels.is_empty() {
            return Err(invalid("channels_required", "choose at least one channel", "choisissez au moins un canal"));
        }
        if input.channels.len() > 50 || input.media.len() > 35 || input.body.thread.len() > 50 {
            return Err(invalid(
                "too_many_items",
                "too many channels, media or thread parts",
                "trop de canaux, de médias ou de parties de fil",
            ));
        }
        for url in input.body.link.iter().chain(input.body.image_url.iter()) {
            check_url(url)?;
        }
        if let Some(lang) = &input.body.language {
            let ok = !lang.is_empty()
                && lang.len() <= 35
                && lang.split('-').all(|p| (1..=8).contains(&p.len()) && p.chars().all(|c| c.is_ascii_alphanumeric()));
            if !ok {
                return Err(invalid(
                    "language_invalid",
                    format!("`{lang}` is not a language tag like fr or en-GB"),
                    format!("« {lang} » n'est pas une étiquette de langue comme fr ou en-GB"),
                ));
            }
        }
        let mut targets = Vec::with_capacity(input.channels.len());
        for t in &input.channels {
            if targets.iter().any(|(c, _): &(ChannelRecord, Option<String>)| c.id == t.channel_id) {
                return Err(invalid(
                    "channel_duplicate",
                    format!("channel {} is listed twice", t.channel_id),
                    format!("le canal {} figure deux fois", t.channel_id),
                ));
            }
            let channel = self.store.channel(ws, ChannelId(t.channel_id)).await.map_err(|e| match e {
                StoreError::NotFound => invalid(
                    "channel_unknown",
                    format!("unknown channel {}", t.channel_id),
                    format!("canal inconnu : {}", t.channel_id),
                ),
                other => other.into(),
            })?;
            targets.push((channel, t.variant.clone()));
        }
        let mut media = Vec::with_capacity(input.media.len());
        for m in &input.media {
            let record = self.store.media(ws, MediaId(m.media_id)).await.map_err(|e| match e {
                StoreError::NotFound => invalid(
                    "media_unknown",
                    format!("unknown media {}", m.media_id),
                    format!("média inconnu : {}", m.media_id),
                ),
                other => other.into(),
            })?;
            media.push(crate::media::media_info(&record));
        }
        let evergreen_secs = match input.evergreen_secs {
            Some(secs) => Some(
                schedule::validate_evergreen_interval(secs)
                    .map_err(|m| AppError::invalid("evergreen_invalid", m))?
                    .as_secs(),
            ),
            None => None,
        };
        let mut warnings = Vec::new();
        let timezone;
        let (status, due_at, local_time, queue_channel) = if input.draft {
            if input.schedule.is_some() {
                return Err(invalid(
                    "draft_scheduled",
                    "a draft has no schedule",
                    "un brouillon n'a pas de date de publication",
                ));
            }
            timezone = workspace.timezone.clone();
            (PostStatus::Draft, None, None, None)
        } else {
            let reports = validate_for_channels(&input.body, &targets, &media);
            if !reports.is_empty() {
                return Err(AppError::invalid_with(
                    "post_invalid",
                    Msg::new(
                        "the post breaks the rules of some networks",
                        "la publication enfreint les règles de certains réseaux",
                    ),
                    problems_json(&reports),
                ));
            }
            let status = if role.can(Action::PublishWithoutApproval) {
                PostStatus::Scheduled
            } else {
                PostStatus::PendingApproval
            };
            match &input.schedule {
                None => {
                    return Err(invalid(
                        "schedule_required",
                        "give a schedule (a time or a queue) or save as a draft",
                        "indiquez une date (une heure ou une file) ou enregistrez en brouillon",
                    ));
                }
                Some(ScheduleInput::At { local, timezone: tz, dst }) => {
                    let tz_name = tz.clone().unwrap_or_else(|| workspace.timezone.clone());
                    let zone =
                        schedule::parse_time_zone(&tz_name).map_err(|m| AppError::invalid("timezone_invalid", m))?;
                    let civil: jiff::civil::DateTime = local.parse().map_err(|_| {
                        invalid(
                            "local_time_invalid",
                            format!("`{local}` is not a local date and time like 2027-03-28T09:30"),
                            format!("« {local} » n'est pas une date et heure locales comme 2027-03-28T09:30"),
                        )
                    })?;
                    let resolved = schedule::resolve_local(civil, &zone, *dst)
                        .map_err(|m| AppError::invalid("local_time_impossible", m))?;
                    schedule::ensure_future(resolved.at, self.now())
                        .map_err(|m| AppError::invalid("in_the_past", m))?;
                    warnings.extend(resolved.warning);
                    timezone = tz_name;
                    (status, Some(resolved.at.as_millisecond()), Some(civil.to_string()), None)
                }
                Some(ScheduleInput::Queue { channel_id }) => {
                    if !targets.iter().any(|(c, _)| c.id == *channel_id) {
                        return Err(invalid(
                            "queue_channel_not_target",
                            "the queue must be one of the post's channels",
                            "la file doit être celle d'un des canaux de la publication",
                        ));
                    }
                    let at = self.next_queue_slot(ws, ChannelId(*channel_id), &workspace.timezone).await?;
                    timezone = workspace.timezone.clone();
                    let zone = schedule::parse_time_zone(&timezone).map_err(AppError::internal_msg)?;
                    let local = at.to_zoned(zone).datetime().to_string();
                    (status, Some(at.as_millisecond()), Some(local), Some(ChannelId(*channel_id)))
                }
            }
        };
        Ok(Prepared {
            write: PostWrite {
                workspace: ws,
                author: actor.user,
                status: status.as_str().to_owned(),
                body: serde_json::to_string(&input.body).map_err(AppError::internal)?,
                due_at,
                local_time,
                timezone,
                queue_channel,
                evergreen_secs,
                targets: input
                    .channels
                    .iter()
                    .map(|t| TargetRecord { channel_id: t.channel_id, variant: t.variant.clone() })
                    .collect(),
                media: input
                    .media
                    .iter()
                    .map(|m| PostMediaRecord { media_id: m.media_id, alt: m.alt.clone() })
                    .collect(),
                now: self.now_ms(),
            },
            warnings,
        })
    }

    /// The next free slot of a channel's queue after now.
    async fn next_queue_slot(&self, ws: WorkspaceId, channel: ChannelId, tz_name: &str) -> AppResult<Timestamp> {
        let zone = schedule::parse_time_zone(tz_name).map_err(AppError::internal_msg)?;
        let slots: Vec<_> = self
            .store
            .queue_slots(ws, channel)
            .await?
            .into_iter()
            .map(crate::channels::slot_from_row)
            .collect::<AppResult<_>>()?;
        let now = self.now();
        let taken: Vec<Timestamp> = self
            .store
            .taken_times(ws, channel, now.as_millisecond())
            .await?
            .into_iter()
            .filter_map(|ms| Timestamp::from_millisecond(ms).ok())
            .collect();
        schedule::next_free_slot(&slots, &zone, now, &taken).ok_or_else(|| {
            invalid(
                "queue_empty",
                "this channel's queue has no free slot: set its weekly slots first",
                "la file de ce canal n'a aucun créneau libre : définissez d'abord ses créneaux hebdomadaires",
            )
        })
    }

    /// Creates a post (draft, scheduled, or pending approval for a contributor).
    pub async fn create_post(&self, actor: &Actor, ws: WorkspaceId, input: PostInput) -> AppResult<PostView> {
        let role = self.authorize(actor, ws, Action::WritePosts).await?;
        let prepared = self.prepare(actor, ws, role, &input).await?;
        let ids = self.store.create_posts(std::slice::from_ref(&prepared.write)).await?;
        let id = ids.first().copied().ok_or_else(|| AppError::internal("no id returned"))?;
        self.audit(
            actor,
            Some(ws),
            "post.create",
            format!("post:{}", id.0),
            json!({ "status": prepared.write.status }),
        )
        .await?;
        PostView::from_record(self.store.post(ws, id).await?, prepared.warnings)
    }

    /// Replaces a post's content and schedule. A contributor's edit sends it back to approval.
    pub async fn update_post(
        &self,
        actor: &Actor,
        ws: WorkspaceId,
        id: PostId,
        input: PostInput,
    ) -> AppResult<PostView> {
        let role = self.authorize(actor, ws, Action::WritePosts).await?;
        let current = self.store.post(ws, id).await.map_err(not_found_post)?;
        let status: PostStatus = current.status.parse().map_err(AppError::internal_msg)?;
        if !status.editable() {
            return Err(AppError::conflict(
                "post_not_editable",
                Msg::new(
                    format!("a post that is {} can no longer be edited", status.as_str()),
                    format!("une publication à l'état {} ne peut plus être modifiée", status.as_str()),
                ),
            ));
        }
        if role == Role::Contributor && current.author_id != actor.user.0 {
            return Err(AppError::forbidden(Action::PublishWithoutApproval));
        }
        let prepared = self.prepare(actor, ws, role, &input).await?;
        let mut write = prepared.write;
        write.author = relais_domain::ids::UserId(current.author_id);
        self.store.replace_post(id, &current.status, &write).await?;
        self.audit(actor, Some(ws), "post.update", format!("post:{}", id.0), json!({ "status": write.status })).await?;
        PostView::from_record(self.store.post(ws, id).await?, prepared.warnings)
    }

    /// A post.
    pub async fn post(&self, actor: &Actor, ws: WorkspaceId, id: PostId) -> AppResult<PostView> {
        self.authorize(actor, ws, Action::Read).await?;
        PostView::from_record(self.store.post(ws, id).await.map_err(not_found_post)?, Vec::new())
    }

    /// Deletes a post (a contributor only their own).
    pub async fn delete_post(&self, actor: &Actor, ws: WorkspaceId, id: PostId) -> AppResult<()> {
        let role = self.authorize(actor, ws, Action::WritePosts).await?;
        let current = self.store.post(ws, id).await.map_err(not_found_post)?;
        if role == Role::Contributor && current.author_id != actor.user.0 {
            return Err(AppError::forbidden(Action::PublishWithoutApproval));
        }
        self.store.delete_post(ws, id).await?;
        self.audit(actor, Some(ws), "post.delete", format!("post:{}", id.0), json!({})).await
    }

    /// Approves or rejects a post pending approval (never one's own; never once it is due).
    pub async fn review_post(
        &self,
        actor: &Actor,
        ws: WorkspaceId,
        id: PostId,
        decision: Decision,
        note: Option<&str>,
    ) -> AppResult<PostView> {
        self.authorize(actor, ws, Action::ApprovePosts).await?;
        if note.is_some_and(|n| n.chars().count() > 2000) {
            return Err(invalid(
                "note_too_long",
                "the note may have at most 2,000 characters",
                "la note compte au plus 2 000 caractères",
            ));
        }
        let current = self.store.post(ws, id).await.map_err(not_found_post)?;
        let status: PostStatus = current.status.parse().map_err(AppError::internal_msg)?;
        let next = review(status, relais_domain::ids::UserId(current.author_id), actor.user, decision)
            .map_err(|m| AppError::conflict("review_refused", m))?;
        if let Some(due) = current.due_at.and_then(|ms| Timestamp::from_millisecond(ms).ok())
            && schedule::approval_expired(due, self.now())
        {
            self.expire_overdue_approvals().await?;
            return Err(AppError::conflict(
                "post_expired",
                Msg::new(
                    "the post was not approved before its due time: it has expired",
                    "la publication n'a pas été approuvée avant son heure : elle a expiré",
                ),
            ));
        }
        self.store
            .transition_post(ws, id, status.as_str(), next.as_str(), Some((actor.user, note)), self.now_ms())
            .await?;
        let action = if decision == Decision::Approve { "post.approve" } else { "post.reject" };
        self.audit(actor, Some(ws), action, format!("post:{}", id.0), json!({ "note": note })).await?;
        PostView::from_record(self.store.post(ws, id).await?, Vec::new())
    }

    /// Schedules the next occurrence of an evergreen post that was published at
    /// `published_at`: a new scheduled post with the same content, channels and media, due one
    /// interval later (or at the first interval step after now, when Relais was down). Returns
    /// None for a post that is not evergreen. The publishing engine calls it after each
    /// successful publication; the new occurrence is audited as a system action.
    pub async fn schedule_next_evergreen(
        &self,
        ws: WorkspaceId,
        id: PostId,
        published_at: Timestamp,
    ) -> AppResult<Option<PostView>> {
        let post = self.store.post(ws, id).await.map_err(not_found_post)?;
        let Some(secs) = post.evergreen_secs else { return Ok(None) };
        let interval = schedule::validate_evergreen_interval(secs).map_err(AppError::internal_msg)?;
        let due = schedule::next_evergreen(published_at, interval, self.now());
        let zone = schedule::parse_time_zone(&post.timezone).map_err(AppError::internal_msg)?;
        let write = PostWrite {
            workspace: ws,
            author: relais_domain::ids::UserId(post.author_id),
            status: PostStatus::Scheduled.as_str().to_owned(),
            body: post.body.clone(),
            due_at: Some(due.as_millisecond()),
            local_time: Some(due.to_zoned(zone).datetime().to_string()),
            timezone: post.timezone.clone(),
            queue_channel: None,
            evergreen_secs: Some(secs),
            targets: post.targets.clone(),
            media: post.media.clone(),
            now: self.now_ms(),
        };
        let ids = self.store.create_posts(std::slice::from_ref(&write)).await?;
        let next = ids.first().copied().ok_or_else(|| AppError::internal("no id returned"))?;
        self.store
            .audit(relais_store::audit::AuditEntry {
                workspace: Some(ws),
                actor: None,
                action: "post.evergreen",
                target: format!("post:{}", next.0),
                detail: json!({ "from": id.0 }),
                ip: None,
                at: self.now_ms(),
            })
            .await?;
        PostView::from_record(self.store.post(ws, next).await?, Vec::new()).map(Some)
    }

    /// A post's deliveries (one per channel) and its publish log.
    pub async fn publish_log(&self, actor: &Actor, ws: WorkspaceId, id: PostId) -> AppResult<PublishLog> {
        self.authorize(actor, ws, Action::Read).await?;
        self.store.post(ws, id).await.map_err(not_found_post)?;
        Ok(PublishLog {
            targets: self.store.target_statuses(ws, id).await?,
            attempts: self.store.publish_log(ws, id).await?,
        })
    }

    /// The sandbox timeline of one of the workspace's sandbox channels, newest first.
    pub async fn sandbox_timeline(
        &self,
        actor: &Actor,
        ws: WorkspaceId,
        channel: ChannelId,
    ) -> AppResult<Vec<relais_store::delivery::SandboxPost>> {
        self.authorize(actor, ws, Action::Read).await?;
        let c = self.store.channel(ws, channel).await.map_err(|_| AppError::not_found("channel"))?;
        if c.network != "sandbox" {
            return Err(invalid(
                "not_sandbox",
                "this channel is not a sandbox channel",
                "ce canal n'est pas un canal bac à sable",
            ));
        }
        Ok(self.store.sandbox_timeline(ws, channel, 200).await?)
    }

    /// Expires every post still pending approval whose due time has come. Run by the
    /// background loop every few seconds and before any review.
    pub async fn expire_overdue_approvals(&self) -> AppResult<usize> {
        let expired = self.store.expire_pending(self.now_ms()).await?;
        for (ws, post) in &expired {
            self.notify(*ws, &crate::notifications::Event::PostExpired { post_id: post.0 }).await?;
            self.store
                .audit(relais_store::audit::AuditEntry {
                    workspace: Some(*ws),
                    actor: None,
                    action: "post.expire",
                    target: format!("post:{}", post.0),
                    detail: json!({}),
                    ip: None,
                    at: self.now_ms(),
                })
                .await?;
        }
        Ok(expired.len())
    }

    /// Posts between two instants (drafts included when asked), filtered by channel and status.
    pub async fn calendar(&self, actor: &Actor, ws: WorkspaceId, filter: PostFilter) -> AppResult<Vec<PostView>> {
        self.authorize(actor, ws, Action::Read).await?;
        let records = self.store.posts(ws, &PostFilter { limit: filter.limit.clamp(1, 5000), ..filter }).await?;
        records.into_iter().map(|r| PostView::from_record(r, Vec::new())).collect()
    }

    /// The private iCalendar feed of the workspace whose feed token this is (no login: the
    /// token is the secret). Covers 31 days back to 366 days ahead.
    pub async fn calendar_feed(&self, token: &str) -> AppResult<String> {
        let ws = self
            .store
            .workspace_by_ical_hash(&crate::crypto::token_hash(token))
            .await?
            .ok_or_else(|| AppError::not_found("calendar"))?;
        let now = self.now();
        let day = 24 * 3600 * 1000;
        let filter = PostFilter {
            from: Some(now.as_millisecond() - 31 * day),
            to: Some(now.as_millisecond() + 366 * day),
            limit: 5000,
            ..Default::default()
        };
        let channels = self.store.channels(WorkspaceId(ws.id)).await?;
        let posts = self.store.posts(WorkspaceId(ws.id), &filter).await?;
        let events: Vec<_> = posts.iter().filter_map(|p| calendar_event(p, &channels)).collect();
        Ok(relais_domain::ical::render_calendar(&ws.name, &events, now))
    }
}

fn calendar_event(p: &PostRecord, channels: &[ChannelRecord]) -> Option<relais_domain::ical::CalEvent> {
    let start = Timestamp::from_millisecond(p.due_at?).ok()?;
    let body: PostBody = serde_json::from_str(&p.body).ok()?;
    let names: Vec<String> = p
        .targets
        .iter()
        .filter_map(|t| channels.iter().find(|c| c.id == t.channel_id))
        .map(|c| format!("{} {}", c.network, c.handle))
        .collect();
    let summary: String = body.text.chars().take(80).collect();
    Some(relais_domain::ical::CalEvent {
        uid: format!("post-{}", p.id),
        start,
        duration_minutes: 15,
        summary: if summary.is_empty() { format!("Post {}", p.id) } else { summary },
        description: format!("{}\n\n{}", body.text, names.join(", ")),
        url: body.link.clone(),
        status: p.status.clone(),
        categories: p
            .targets
            .iter()
            .filter_map(|t| channels.iter().find(|c| c.id == t.channel_id))
            .map(|c| c.network.clone())
            .collect(),
        last_modified: Timestamp::from_millisecond(p.updated_at).ok()?,
    })
}

fn not_found_post(e: StoreError) -> AppError {
    match e {
        StoreError::NotFound => AppError::not_found("post"),
        other => other.into(),
    }
}

/// Media metadata as the composer sees it.
pub fn kind_of(kind: &str) -> MediaKind {
    match kind {
        "video" => MediaKind::Video,
        "gif" => MediaKind::Gif,
        _ => MediaKind::Image,
    }
}
