//! Evaluation of the spike detector on generated, labelled series (shared by
//! `tests/spike_eval.rs` and `examples/spike_eval.rs`). Rules as NAB's: no look-ahead (the
//! detector walks the series with `Detector::scan`), one parameter set for every series, a
//! detection counts if its bucket falls in a labelled window (from the bucket holding the start,
//! to the end plus a tolerance), several detections in one window count once, and detections
//! outside every window are false positives. Only the weeks after the warm-up are scored.

mod generate;
mod rng;

pub use generate::{CorpusConfig, LabelledSeries, VolumeClass, Window, WindowKind, corpus, generate};
pub use rng::Rng;

use super::config::{ConfigError, DetectorConfig, Rule};
use super::detect::{Alert, Detector};
use super::series::{Bucket, HOUR_MS, MINUTE_MS, Resolution, WEEK_MS, roll_up_hourly};

/// How one scored window ended.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Outcome {
    /// The injected window.
    pub window: Window,
    /// Volume class of its series.
    pub class: VolumeClass,
    /// The rule of the first detection, if detected.
    pub detected_by: Option<Rule>,
    /// Buckets from the one holding the start to the first detection (0 = that bucket).
    pub delay_buckets: Option<i64>,
    /// Minutes from the start to the end of the detecting bucket (when the alert can be sent).
    pub delay_minutes: Option<f64>,
}

/// The result of one detector configuration on one corpus.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    /// Every scored window.
    pub outcomes: Vec<Outcome>,
    /// Detections outside every window, per volume class (low, medium, high).
    pub false_positives: [usize; 3],
    /// Of those, the ones within 6 hours after a non-crisis event (level change or burst).
    pub explained_false_positives: usize,
    /// False positives of the negative-share rule (the rest are the volume rule's).
    pub share_false_positives: usize,
    /// Scored weeks per volume class.
    pub query_weeks: [f64; 3],
    /// Alerts raised in the scored weeks.
    pub alerts: usize,
    /// Buckets assessed (the whole series, warm-up included).
    pub assessments: usize,
}

fn class_index(class: VolumeClass) -> usize {
    match class {
        VolumeClass::Low => 0,
        VolumeClass::Medium => 1,
        VolumeClass::High => 2,
    }
}

impl Report {
    /// Windows detected / (windows detected + false positives).
    pub fn precision(&self) -> f64 {
        let hits = self.outcomes.iter().filter(|o| o.detected_by.is_some()).count();
        let fp: usize = self.false_positives.iter().sum();
        if hits + fp == 0 { 1.0 } else { hits as f64 / (hits + fp) as f64 }
    }

    /// (detected, total) among the windows that pass `filter`.
    pub fn recall_counts(&self, filter: impl Fn(&Outcome) -> bool) -> (usize, usize) {
        let chosen: Vec<&Outcome> = self.outcomes.iter().filter(|o| filter(o)).collect();
        (chosen.iter().filter(|o| o.detected_by.is_some()).count(), chosen.len())
    }

    /// Share of the windows passing `filter` that were detected (1 when there are none).
    pub fn recall(&self, filter: impl Fn(&Outcome) -> bool) -> f64 {
        let (hits, total) = self.recall_counts(filter);
        if total == 0 { 1.0 } else { hits as f64 / total as f64 }
    }

    /// Quantile `q` (0..1, nearest rank) of the delays of detected windows passing `filter`:
    /// (buckets, minutes). `None` if none was detected.
    pub fn delay(&self, q: f64, filter: impl Fn(&Outcome) -> bool) -> Option<(i64, f64)> {
        let mut buckets: Vec<i64> =
            self.outcomes.iter().filter(|o| filter(o)).filter_map(|o| o.delay_buckets).collect();
        let mut minutes: Vec<f64> =
            self.outcomes.iter().filter(|o| filter(o)).filter_map(|o| o.delay_minutes).collect();
        if buckets.is_empty() {
            return None;
        }
        buckets.sort_unstable();
        minutes.sort_unstable_by(f64::total_cmp);
        let rank = |n: usize| ((q * n as f64).ceil() as usize).clamp(1, n) - 1;
        Some((buckets[rank(buckets.len())], minutes[rank(minutes.len())]))
    }

    /// False positives per query and scored week, all classes or one.
    pub fn false_alarms_per_query_week(&self, class: Option<VolumeClass>) -> f64 {
        let (fp, weeks) = match class {
            Some(c) => (self.false_positives[class_index(c)] as f64, self.query_weeks[class_index(c)]),
            None => (self.false_positives.iter().sum::<usize>() as f64, self.query_weeks.iter().sum()),
        };
        if weeks > 0.0 { fp / weeks } else { 0.0 }
    }
}

/// The series at a resolution: the generated 5-minute buckets or their hourly roll-up.
pub fn at_resolution(series: &LabelledSeries, resolution: Resolution) -> Vec<Bucket> {
    match resolution {
        Resolution::FiveMinutes => series.buckets.clone(),
        Resolution::Hour => roll_up_hourly(&series.buckets, series.utc_offset_minutes),
    }
}

/// Runs the detector over every series of the corpus (each at `config.resolution`, with the
/// series' UTC offset) and scores the alerts; `tolerance_ms` extends each window after its end.
pub fn evaluate(corpus: &[LabelledSeries], config: DetectorConfig, tolerance_ms: i64) -> Result<Report, ConfigError> {
    let mut report = Report {
        outcomes: Vec::new(),
        false_positives: [0; 3],
        explained_false_positives: 0,
        share_false_positives: 0,
        query_weeks: [0.0; 3],
        alerts: 0,
        assessments: 0,
    };
    for series in corpus {
        let detector = Detector::new(DetectorConfig { utc_offset_minutes: series.utc_offset_minutes, ..config })?;
        let buckets = at_resolution(series, config.resolution);
        let alerts = detector.scan(&buckets);
        report.assessments += buckets.len();
        let end = buckets.last().map_or(series.eval_from_ms, |b| b.start_ms + config.resolution.millis());
        report.query_weeks[class_index(series.class)] += (end - series.eval_from_ms).max(0) as f64 / WEEK_MS as f64;
        score_series(series, &alerts, config.resolution, tolerance_ms, &mut report);
    }
    Ok(report)
}

fn score_series(
    series: &LabelledSeries,
    alerts: &[Alert],
    resolution: Resolution,
    tolerance_ms: i64,
    report: &mut Report,
) {
    let width = resolution.millis();
    let offset = series.utc_offset_minutes;
    let mut index_of = Vec::with_capacity(series.windows.len());
    for w in &series.windows {
        if w.start_ms >= series.eval_from_ms {
            index_of.push(Some(report.outcomes.len()));
            report.outcomes.push(Outcome {
                window: *w,
                class: series.class,
                detected_by: None,
                delay_buckets: None,
                delay_minutes: None,
            });
        } else {
            index_of.push(None);
        }
    }
    for alert in alerts.iter().filter(|a| a.bucket_start_ms >= series.eval_from_ms) {
        report.alerts += 1;
        let t = alert.bucket_start_ms;
        let hit = series
            .windows
            .iter()
            .position(|w| resolution.bucket_start(w.start_ms, offset) <= t && t < w.end_ms + tolerance_ms);
        match hit {
            None => {
                report.false_positives[class_index(series.class)] += 1;
                report.share_false_positives += usize::from(alert.rule == Rule::NegativeShare);
                let width = resolution.millis();
                if series
                    .distractors
                    .iter()
                    .any(|&d| resolution.bucket_start(d, offset) <= t && t < d + 6 * HOUR_MS + width)
                {
                    report.explained_false_positives += 1;
                }
            }
            Some(i) => {
                // A warm-up window: neither a hit nor a false positive.
                let Some(Some(o)) = index_of.get(i).copied() else { continue };
                let outcome = &mut report.outcomes[o];
                if outcome.detected_by.is_none() {
                    let start_bucket = resolution.bucket_start(outcome.window.start_ms, offset);
                    outcome.detected_by = Some(alert.rule);
                    outcome.delay_buckets = Some((t - start_bucket) / width);
                    outcome.delay_minutes = Some((t + width - outcome.window.start_ms) as f64 / MINUTE_MS as f64);
                }
            }
        }
    }
}
