//! Bulk import from CSV (Sprout Social's bulk columns plus a channel column): a dry run that
//! reports every row's problems, and a real import that creates all rows or none.

use crate::posts::{check_url, validate_for_channels};
use crate::{Actor, App, AppError, AppResult};
use relais_domain::Msg;
use relais_domain::compose::{MediaInfo, MediaKind};
use relais_domain::csv_import::{self, DateOrder, ImportRow};
use relais_domain::ids::WorkspaceId;
use relais_domain::permissions::Action;
use relais_domain::post::{PostBody, PostStatus};
use relais_domain::schedule::{self, DstPolicy};
use relais_store::channels::ChannelRecord;
use relais_store::posts::{PostWrite, TargetRecord};
use serde::Serialize;
use serde_json::json;

/// One problem of one row.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ImportProblem {
    /// Line in the file (the header is line 1).
    pub line: usize,
    /// Column, as named in the file's header, when the problem is in one cell.
    pub column: Option<String>,
    /// What is wrong.
    pub message: Msg,
}

/// The outcome of an import or a dry run.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ImportReport {
    /// Whether this was a dry run (nothing written).
    pub dry_run: bool,
    /// Data rows read.
    pub rows: usize,
    /// Encoding detected (`utf-8`, `windows-1252`…).
    pub encoding: String,
    /// Separator detected.
    pub delimiter: String,
    /// Every problem of every row; a real import with problems writes nothing.
    pub problems: Vec<ImportProblem>,
    /// Ids of the posts created (empty for a dry run).
    pub created: Vec<i64>,
}

/// Finds the channel a cell names: its id, `network:handle`, its handle or its display name.
fn resolve_channel<'a>(channels: &'a [ChannelRecord], reference: &str) -> Option<&'a ChannelRecord> {
    let r = reference.trim();
    let by_id = r.parse::<i64>().ok().and_then(|id| channels.iter().find(|c| c.id == id));
    let by_pair = r.split_once(':').and_then(|(n, h)| {
        channels.iter().find(|c| c.network.eq_ignore_ascii_case(n.trim()) && same_handle(&c.handle, h))
    });
    by_id.or(by_pair).or_else(|| {
        let matches: Vec<_> =
            channels.iter().filter(|c| same_handle(&c.handle, r) || c.display_name.eq_ignore_ascii_case(r)).collect();
        if matches.len() == 1 { matches.first().copied() } else { None }
    })
}

fn same_handle(a: &str, b: &str) -> bool {
    a.trim_start_matches('@').eq_ignore_ascii_case(b.trim().trim_start_matches('@'))
}

impl App {
    /// Imports posts from a CSV file. With `dry_run`, only reports. Otherwise creates every row's
    /// post in one transaction, or nothing when any row has a problem.
    pub async fn import_csv(
        &self,
        actor: &Actor,
        ws: WorkspaceId,
        bytes: &[u8],
        order: DateOrder,
        dry_run: bool,
    ) -> AppResult<ImportReport> {
        let role = self.authorize(actor, ws, Action::WritePosts).await?;
        let parsed = csv_import::parse(bytes, order).map_err(|m| AppError::invalid("csv_invalid", m))?;
        let workspace = self.store.workspace(ws).await?;
        let zone = schedule::parse_time_zone(&workspace.timezone).map_err(AppError::internal_msg)?;
        let channels = self.store.channels(ws).await?;
        let status =
            if role.can(Action::PublishWithoutApproval) { PostStatus::Scheduled } else { PostStatus::PendingApproval };
        let mut problems: Vec<ImportProblem> = parsed
            .problems
            .iter()
            .map(|p| ImportProblem { line: p.line, column: p.column.clone(), message: p.message.clone() })
            .collect();
        let mut writes = Vec::with_capacity(parsed.rows.len());
        for row in &parsed.rows {
            match self.import_row(actor, ws, row, &zone, &workspace.timezone, &channels, status) {
                Ok(write) => writes.push(write),
                Err(mut row_problems) => problems.append(&mut row_problems),
            }
        }
        problems.sort_by_key(|p| p.line);
        let mut report = ImportReport {
            dry_run,
            rows: parsed.rows.len()
                + parsed.problems.iter().map(|p| p.line).collect::<std::collections::BTreeSet<_>>().len(),
            encoding: parsed.encoding.to_owned(),
            delimiter: char::from(parsed.delimiter).to_string(),
            problems,
            created: Vec::new(),
        };
        if dry_run {
            return Ok(report);
        }
        if !report.problems.is_empty() {
            return Err(AppError::invalid_with(
                "import_invalid",
                Msg::new(
                    "the file has problems: nothing was imported",
                    "le fichier comporte des problèmes : rien n'a été importé",
                ),
                report.problems.iter().map(|p| json!(p)).collect(),
            ));
        }
        let ids = self.store.create_posts(&writes).await?;
        report.created = ids.iter().map(|id| id.0).collect();
        self.audit(
            actor,
            Some(ws),
            "post.import",
            format!("workspace:{}", ws.0),
            json!({ "created": report.created.len() }),
        )
        .await?;
        Ok(report)
    }

    #[allow(clippy::too_many_arguments)]
    fn import_row(
        &self,
        actor: &Actor,
        ws: WorkspaceId,
        row: &ImportRow,
        zone: &jiff::tz::TimeZone,
        tz_name: &str,
        channels: &[ChannelRecord],
        status: PostStatus,
    ) -> Result<PostWrite, Vec<ImportProblem>> {
        let problem = |column: Option<&str>, message: Msg| ImportProblem {
            line: row.line,
            column: column.map(str::to_owned),
            message,
        };
        let mut problems = Vec::new();
        let mut targets: Vec<(ChannelRecord, Option<String>)> = Vec::new();
        for reference in &row.channels {
            match resolve_channel(channels, reference) {
                Some(c) if !targets.iter().any(|(t, _)| t.id == c.id) => targets.push((c.clone(), None)),
                Some(_) => {}
                None => problems.push(problem(
                    Some("channel"),
                    Msg::new(format!("unknown channel `{reference}`"), format!("canal inconnu « {reference} »")),
                )),
            }
        }
        for url in row.link.iter().chain(row.image_url.iter()) {
            if let Err(e) = check_url(url) {
                problems.push(problem(None, e.message));
            }
        }
        let due = schedule::resolve_local(row.local, zone, DstPolicy::Reject)
            .and_then(|r| schedule::ensure_future(r.at, self.now()).map(|()| r.at));
        if let Err(m) = &due {
            problems.push(problem(Some("date"), m.clone()));
        }
        let body = PostBody {
            text: row.text.clone(),
            link: row.link.clone(),
            image_url: row.image_url.clone(),
            ..Default::default()
        };
        // The image is downloaded later; for the rules, it counts as one image.
        let media: Vec<MediaInfo> = row
            .image_url
            .iter()
            .map(|_| MediaInfo {
                kind: MediaKind::Image,
                mime: "image/jpeg".into(),
                bytes: 0,
                width: None,
                height: None,
            })
            .collect();
        for (channel_id, report) in validate_for_channels(&body, &targets, &media) {
            for p in report.problems {
                problems.push(problem(
                    Some("message_text"),
                    Msg::new(
                        format!("channel {channel_id} ({}): {}", report.network, p.message.en),
                        format!("canal {channel_id} ({}) : {}", report.network, p.message.fr),
                    ),
                ));
            }
        }
        match (due, problems.is_empty()) {
            (Ok(at), true) => Ok(PostWrite {
                workspace: ws,
                author: actor.user,
                status: status.as_str().to_owned(),
                body: serde_json::to_string(&body).unwrap_or_default(),
                due_at: Some(at.as_millisecond()),
                local_time: Some(row.local.to_string()),
                timezone: tz_name.to_owned(),
                queue_channel: None,
                evergreen_secs: None,
                targets: targets.iter().map(|(c, _)| TargetRecord { channel_id: c.id, variant: None }).collect(),
                media: Vec::new(),
                now: self.now_ms(),
            }),
            _ => Err(problems),
        }
    }
}
