//! Spike alerts: every query with alerts on is assessed on its series at 5-minute and hourly
//! resolution as buckets close ([`relais_listen::spike`] is the detector). An alert is stored once
//! per query, rule and bucket (a unique key: two workers assessing together raise it once) with
//! the figures and the series that triggered it, then sent to the workspace's webhooks.

use crate::notifications::Event;
use crate::{App, AppError, AppResult};
use relais_domain::ids::WorkspaceId;
use relais_listen::spike::{
    AlertState, Bucket, Detector, DetectorConfig, LastAlert, Resolution, Rule, Sensitivity, Severity,
};
use relais_store::listen::{BUCKET_MS, ListenQueryRecord, NewAlert};

/// Buckets of the series kept in an alert's detail, up to the one that fired.
const SERIES_IN_ALERT: usize = 48;

/// Assesses the queries' series.
#[derive(Clone)]
pub struct SpikeWatch {
    /// The application.
    pub app: App,
}

fn sensitivity(name: &str) -> Option<Sensitivity> {
    Sensitivity::ALL.into_iter().find(|s| s.name() == name)
}

fn rule_name(rule: Rule) -> &'static str {
    match rule {
        Rule::Volume => "volume",
        Rule::NegativeShare => "negative_share",
    }
}

fn severity_name(s: Severity) -> &'static str {
    match s {
        Severity::Elevated => "elevated",
        Severity::High => "high",
        Severity::Critical => "critical",
    }
}

fn severity_of(name: &str) -> Severity {
    match name {
        "critical" => Severity::Critical,
        "high" => Severity::High,
        _ => Severity::Elevated,
    }
}

impl SpikeWatch {
    /// Assesses every query with alerts on at `now` (the buckets that closed last, at both
    /// resolutions); returns the alerts raised.
    pub async fn run_once(&self) -> AppResult<usize> {
        let now = self.app.now_ms();
        let mut raised = 0;
        let mut offsets = std::collections::HashMap::new();
        for q in self.app.store.alerting_listen_queries().await? {
            let offset = match offsets.get(&q.workspace_id) {
                Some(o) => *o,
                None => {
                    let o = self.app.workspace_utc_offset_minutes(WorkspaceId(q.workspace_id), now).await.unwrap_or(0);
                    offsets.insert(q.workspace_id, o);
                    o
                }
            };
            for resolution in [Resolution::FiveMinutes, Resolution::Hour] {
                match self.assess(&q, resolution, offset, now).await {
                    Ok(n) => raised += n,
                    Err(e) => tracing::warn!(query = q.id, error = %e, "Assessing a listening series failed."),
                }
            }
        }
        Ok(raised)
    }

    async fn assess(&self, q: &ListenQueryRecord, resolution: Resolution, offset: i32, now: i64) -> AppResult<usize> {
        let Some(sensitivity) = sensitivity(&q.sensitivity) else { return Ok(0) };
        let mut config = DetectorConfig::new(resolution).with_sensitivity(sensitivity);
        config.utc_offset_minutes = offset;
        config.min_count = u32::try_from(q.min_volume).unwrap_or(u32::MAX).max(1);
        let detector = Detector::new(config).map_err(|e| AppError::internal(e.message.en))?;
        let width = resolution.millis();
        // The last bucket that closed, and the history the detector reads before it.
        let current = resolution.bucket_start(now, offset) - width;
        let from = (current - detector.history_needed_ms()).div_euclid(BUCKET_MS) * BUCKET_MS;
        let points = self.app.store.listen_series(q.id, from, current + width).await?;
        let first = resolution.bucket_start(from, offset);
        let buckets: Vec<Bucket> = super::fill_series(&points, first, current + width, width)
            .into_iter()
            .map(|p| Bucket {
                start_ms: p.bucket_start,
                count: u32::try_from(p.volume).unwrap_or(u32::MAX),
                negative: u32::try_from(p.negative).unwrap_or(u32::MAX),
            })
            .collect();
        let Some((current_bucket, history)) = buckets.split_last() else { return Ok(0) };
        let mut state = AlertState::default();
        for rule in [Rule::Volume, Rule::NegativeShare] {
            if let Some(last) = self.app.store.last_listen_alert(q.id, rule_name(rule)).await? {
                let last = LastAlert { severity: severity_of(&last.severity), bucket_start_ms: last.bucket_start };
                match rule {
                    Rule::Volume => state.volume = Some(last),
                    Rule::NegativeShare => state.negative_share = Some(last),
                }
            }
        }
        let mut raised = 0;
        for alert in detector.assess(history, current_bucket, &state).alerts() {
            let series: Vec<_> = buckets
                .iter()
                .rev()
                .take(SERIES_IN_ALERT)
                .rev()
                .map(|b| serde_json::json!({"bucket_start": b.start_ms, "volume": b.count, "negative": b.negative}))
                .collect();
            let resolution_name = if resolution == Resolution::Hour { "1h" } else { "5m" };
            let detail = serde_json::json!({"resolution": resolution_name, "alert": alert, "series": series});
            let ws = WorkspaceId(q.workspace_id);
            let (rule, severity) = (rule_name(alert.rule), severity_name(alert.severity));
            let detail = detail.to_string();
            let new = NewAlert {
                workspace: ws,
                query_id: q.id,
                rule,
                severity,
                bucket_start: alert.bucket_start_ms,
                detail: &detail,
            };
            let stored = self.app.store.insert_listen_alert(&new, now).await?;
            let Some(stored) = stored else { continue };
            raised += 1;
            let (observed, expected) = match alert.rule {
                Rule::Volume => (f64::from(alert.observed), alert.expected),
                Rule::NegativeShare => {
                    (100.0 * alert.negative_share.unwrap_or(0.0), 100.0 * alert.baseline_share.unwrap_or(0.0))
                }
            };
            let event = Event::ListeningSpike {
                alert_id: stored.id,
                query_id: q.id,
                query: q.name.clone(),
                rule: rule.to_owned(),
                severity: severity.to_owned(),
                observed,
                expected,
                bucket_start: alert.bucket_start_ms,
            };
            self.app.notify(ws, &event).await?;
        }
        Ok(raised)
    }
}
