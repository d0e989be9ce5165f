//! The detector: scores a bucket against its baseline (volume: robust z on the seasonal baseline
//! times the level factor; negative share: against the median daily share), applies the
//! minimum volume, confirmation and cooldown, and returns alerts. Pure: history and the last
//! alerts are parameters.

use super::baseline::{Baseline, BaselineKind, BaselineParams, baseline, lower_bound, median, window};
use super::config::{ConfigError, DetectorConfig, Rule, Severity};
use super::series::{Bucket, DAY_MS, MINUTE_MS, WEEK_MS, hour_of_week};
use serde::{Deserialize, Serialize};

/// An alert, as stored and shown by the application.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alert {
    /// The rule that fired.
    pub rule: Rule,
    /// How serious.
    pub severity: Severity,
    /// Start of the bucket that fired (UTC epoch ms).
    pub bucket_start_ms: i64,
    /// Hour of the week of that bucket in the workspace's offset (0 = Monday 00:00).
    pub hour_of_week: u8,
    /// Mentions in the bucket (volume rule) or in the share window (share rule).
    pub observed: u32,
    /// Expected mentions in the bucket (volume rule: baseline × level factor; share rule: the
    /// volume baseline of the bucket, for context, 0 if unknown).
    pub expected: f64,
    /// The robust z-score that crossed the threshold.
    pub score: f64,
    /// Share of negative mentions in the share window, if any mention.
    pub negative_share: Option<f64>,
    /// Baseline share of negative mentions, if known.
    pub baseline_share: Option<f64>,
    /// Which history the volume baseline came from.
    pub baseline: Option<BaselineKind>,
}

/// The last alert of one rule for one query, kept by the caller for the cooldown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct LastAlert {
    /// Its severity.
    pub severity: Severity,
    /// Its bucket start (UTC epoch ms).
    pub bucket_start_ms: i64,
}

/// The last alert of each rule for one query.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertState {
    /// Last volume alert.
    pub volume: Option<LastAlert>,
    /// Last negative-share alert.
    pub negative_share: Option<LastAlert>,
}

impl AlertState {
    /// Remembers an alert.
    pub fn record(&mut self, alert: &Alert) {
        let last = Some(LastAlert { severity: alert.severity, bucket_start_ms: alert.bucket_start_ms });
        match alert.rule {
            Rule::Volume => self.volume = last,
            Rule::NegativeShare => self.negative_share = last,
        }
    }

    /// The last alert of a rule.
    pub fn last(&self, rule: Rule) -> Option<&LastAlert> {
        match rule {
            Rule::Volume => self.volume.as_ref(),
            Rule::NegativeShare => self.negative_share.as_ref(),
        }
    }
}

/// What one assessment found: at most one alert per rule.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Assessment {
    /// The volume alert, if any.
    pub volume: Option<Alert>,
    /// The negative-share alert, if any.
    pub negative_share: Option<Alert>,
}

impl Assessment {
    /// The alerts found (volume first).
    pub fn alerts(self) -> impl Iterator<Item = Alert> {
        self.volume.into_iter().chain(self.negative_share)
    }
}

/// The volume score of one bucket.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct VolumeScore {
    /// Expected mentions: the baseline times the level factor.
    pub expected: f64,
    /// Scale: `sqrt(dispersion × (expected + 1))`.
    pub sigma: f64,
    /// (observed - expected) / sigma.
    pub z: f64,
    /// The level factor applied (≥ 1).
    pub level: f64,
    /// Quasi-Poisson dispersion (≥ 1): squared robust spread of the recent Pearson residuals.
    pub dispersion: f64,
    /// The baseline tier.
    pub kind: BaselineKind,
}

/// Negative share of a window against its baseline.
#[derive(Debug, Clone, Copy)]
struct ShareScore {
    count: u32,
    share: f64,
    baseline: f64,
    z: f64,
    negative: u32,
}

/// The spike detector: built once from a validated configuration, cheap to call.
#[derive(Debug, Clone)]
pub struct Detector {
    config: DetectorConfig,
    params: BaselineParams,
    /// Buckets per hour.
    per_hour: i64,
    /// Buckets read by the level factor.
    level_buckets: i64,
    /// Buckets whose residuals give the dispersion.
    dispersion_buckets: i64,
}

/// Pseudo-count added to both sums of an hour's ratio in the level factor, so a few mentions on a
/// quiet query do not swing it.
const LEVEL_PSEUDO_COUNT: f64 = 2.0;
/// Most hours the level factor reads.
const MAX_LEVEL_HOURS: usize = 48;
/// Residuals needed before a dispersion, hence a score, exists.
const MIN_RESIDUALS: usize = 6;

impl Detector {
    /// Builds a detector; refuses invalid settings.
    pub fn new(config: DetectorConfig) -> Result<Self, ConfigError> {
        config.validate()?;
        let bucket_ms = config.resolution.millis();
        let params = BaselineParams {
            bucket_ms,
            weeks: usize::from(config.weeks),
            min_weeks: usize::from(config.min_weeks),
            // At 5 minutes a past week's level is the mean of the half hour around the same time; at
            // hourly, the hour itself (averaging neighbours flattened sharp peaks such as 9:00).
            level_half_ms: if bucket_ms >= 60 * MINUTE_MS { 0 } else { 15 * MINUTE_MS },
        };
        let per_hour = config.resolution.per_hour() as i64;
        let level_buckets = i64::from(config.level_hours) * per_hour;
        let dispersion_buckets = (i64::from(config.dispersion_window_minutes) * MINUTE_MS / bucket_ms).max(1);
        Ok(Detector { config, params, per_hour, level_buckets, dispersion_buckets })
    }

    /// The configuration.
    pub fn config(&self) -> &DetectorConfig {
        &self.config
    }

    /// How much history an assessment reads before the current bucket, in milliseconds: callers
    /// may pass only that much.
    pub fn history_needed_ms(&self) -> i64 {
        let bucket = self.params.bucket_ms;
        let tail = (self.tail_buckets() + 1) * bucket;
        let seasonal = i64::from(self.config.weeks) * WEEK_MS + self.params.level_half_ms;
        let share = i64::from(self.config.share.history_days) * DAY_MS
            + i64::from(self.config.share.window_minutes) * MINUTE_MS;
        (tail + seasonal).max(share)
    }

    /// Buckets before the current one whose scores or residuals an assessment needs.
    fn tail_buckets(&self) -> i64 {
        self.dispersion_buckets + self.level_buckets + i64::from(self.config.confirm_buckets)
    }

    /// Assesses `current` given `history` (buckets sorted by start; only those that start before
    /// `current` are read) and the last alerts of this query. Never reads the clock or the future.
    pub fn assess(&self, history: &[Bucket], current: &Bucket, state: &AlertState) -> Assessment {
        let (past, tail) = self.split(history, current);
        let confirm = usize::from(self.config.confirm_buckets);
        let scores = self.track(past, &tail, tail.len().saturating_sub(confirm));
        let share = self.share_score(
            current.start_ms,
            |from, to| sums(window(past, from, to.saturating_sub(1), self.params.bucket_ms)),
            *current,
        );
        self.decide(current, &scores, share, state)
    }

    /// Walks a whole series (sorted by start) as if each bucket were assessed when it closed, with
    /// the alerts found so far as the cooldown state; returns every alert. Gives the same alerts as
    /// calling `assess` on each prefix, in O(n × (level window + dispersion window)).
    pub fn scan(&self, series: &[Bucket]) -> Vec<Alert> {
        let mut state = AlertState::default();
        self.scan_with(series, &mut state)
    }

    /// `scan`, starting from and updating a saved alert state.
    pub fn scan_with(&self, series: &[Bucket], state: &mut AlertState) -> Vec<Alert> {
        let scores = self.track(series, series, 0);
        let mut prefix = Vec::with_capacity(series.len() + 1);
        prefix.push((0u64, 0u64));
        for b in series {
            let (c, n) = prefix[prefix.len() - 1];
            prefix.push((c + u64::from(b.count), n + u64::from(b.negative.min(b.count))));
        }
        let confirm = usize::from(self.config.confirm_buckets);
        let mut alerts = Vec::new();
        for (i, b) in series.iter().enumerate() {
            let range_sums = |from: i64, to: i64| {
                let lo = lower_bound(&series[..i], from, self.params.bucket_ms);
                let hi = lower_bound(&series[..i], to, self.params.bucket_ms).max(lo);
                (prefix[hi].0 - prefix[lo].0, prefix[hi].1 - prefix[lo].1)
            };
            let share = self.share_score(b.start_ms, range_sums, *b);
            let window = &scores[(i + 1).saturating_sub(confirm)..=i];
            for alert in self.decide(b, window, share, state).alerts() {
                state.record(&alert);
                alerts.push(alert);
            }
        }
        alerts
    }

    /// The volume score of `current` given `history` (no thresholds, no cooldown): what the
    /// application shows next to a series. `None` without enough history.
    pub fn score(&self, history: &[Bucket], current: &Bucket) -> Option<VolumeScore> {
        let (past, tail) = self.split(history, current);
        self.track(past, &tail, tail.len() - 1).pop().flatten()
    }

    /// The history before `current`, and the buckets an assessment scores or reads residuals of:
    /// the end of that history plus `current`.
    fn split<'h>(&self, history: &'h [Bucket], current: &Bucket) -> (&'h [Bucket], Vec<Bucket>) {
        let past = &history[..lower_bound(history, current.start_ms, self.params.bucket_ms)];
        let reach = current.start_ms.saturating_sub(self.tail_buckets() * self.params.bucket_ms);
        let mut tail = past[lower_bound(past, reach, self.params.bucket_ms)..].to_vec();
        tail.push(*current);
        (past, tail)
    }

    /// Volume scores of `tail[score_from..]`. `tail` is the end of `past` (or `past` itself) plus
    /// possibly the current bucket; each bucket's baseline reads only the buckets of `past` that
    /// start before it. Same arithmetic in the same order for `assess` and `scan`.
    fn track(&self, past: &[Bucket], tail: &[Bucket], score_from: usize) -> Vec<Option<VolumeScore>> {
        let base: Vec<Option<Baseline>> = tail
            .iter()
            .map(|b| baseline(&past[..lower_bound(past, b.start_ms, self.params.bucket_ms)], b.start_ms, &self.params))
            .collect();
        // Levels and residuals are needed from the first bucket whose residual a score reads.
        let needed = score_from.saturating_sub(self.dispersion_buckets as usize);
        let levels: Vec<f64> =
            (0..tail.len()).map(|k| if k < needed { 1.0 } else { self.level_factor(tail, &base, k) }).collect();
        // Pearson residuals against the adjusted expectation: how well the baseline predicted.
        let residuals: Vec<Option<f64>> = (0..tail.len())
            .map(|k| {
                if k < needed {
                    return None;
                }
                let e = base[k]?.expected * levels[k];
                Some((f64::from(tail[k].count) - e) / (e + 1.0).sqrt())
            })
            .collect();
        let mut scratch = Vec::with_capacity(self.dispersion_buckets as usize);
        (score_from..tail.len())
            .map(|k| {
                let b = base[k]?;
                let t = tail[k].start_ms;
                scratch.clear();
                for j in (0..k).rev() {
                    if t.saturating_sub(tail[j].start_ms) / self.params.bucket_ms > self.dispersion_buckets {
                        break;
                    }
                    scratch.extend(residuals[j]);
                }
                let dispersion = robust_variance(&mut scratch)?.max(1.0);
                let expected = b.expected * levels[k];
                let sigma = (dispersion * (expected + 1.0)).sqrt();
                let z = (f64::from(tail[k].count) - expected) / sigma;
                Some(VolumeScore { expected, sigma, z, level: levels[k], dispersion, kind: b.kind })
            })
            .collect()
    }

    /// Level factor at `tail[k]`: the median, over the last `level_hours` hours, of each hour's
    /// (mentions + 2) / (expected + 2), at least 1 (the expected level is the larger of the seasonal
    /// baseline and the recent level); 1 with fewer than half the hours known.
    fn level_factor(&self, tail: &[Bucket], base: &[Option<Baseline>], k: usize) -> f64 {
        let hours = usize::from(self.config.level_hours).min(MAX_LEVEL_HOURS);
        let mut sums = [(0.0, 0.0, 0u32); MAX_LEVEL_HOURS];
        let t = tail[k].start_ms;
        for j in (0..k).rev() {
            let age = t.saturating_sub(tail[j].start_ms) / self.params.bucket_ms;
            if age > self.level_buckets {
                break;
            }
            let (Some(b), Some(hour)) = (base[j], sums.get_mut(((age - 1) / self.per_hour) as usize)) else { continue };
            hour.0 += f64::from(tail[j].count);
            hour.1 += b.expected;
            hour.2 += 1;
        }
        let mut ratios = [0.0; MAX_LEVEL_HOURS];
        let mut n = 0;
        for &(seen, expected, buckets) in &sums[..hours] {
            // An hour counts when at least half of its buckets have a baseline.
            if 2 * i64::from(buckets) >= self.per_hour {
                ratios[n] = (seen + LEVEL_PSEUDO_COUNT) / (expected + LEVEL_PSEUDO_COUNT);
                n += 1;
            }
        }
        if 2 * n < hours.max(1) {
            return 1.0;
        }
        median(&mut ratios[..n]).map_or(1.0, |m| m.max(1.0))
    }

    /// The share of negative mentions in the window ending with `current`, against the median of
    /// the daily shares before the window. `sums(from, to)` returns (mentions, negative) of the
    /// history buckets starting in `[from, to)`.
    fn share_score(&self, t: i64, sums: impl Fn(i64, i64) -> (u64, u64), current: Bucket) -> Option<ShareScore> {
        let share = &self.config.share;
        let window_ms = i64::from(share.window_minutes) * MINUTE_MS;
        let window_start = t.saturating_add(self.params.bucket_ms - window_ms);
        let (c, n) = sums(window_start, t);
        let count = c + u64::from(current.count);
        let negative = n + u64::from(current.negative.min(current.count));
        if count == 0 {
            return None;
        }
        let mut days = [0.0; 28];
        let mut known = 0;
        let (mut total, mut total_negative) = (0u64, 0u64);
        for d in 0..i64::from(share.history_days) {
            let (c, n) = sums(window_start.saturating_sub((d + 1) * DAY_MS), window_start.saturating_sub(d * DAY_MS));
            total += c;
            total_negative += n;
            // A day counts when it has enough mentions for its share to mean something.
            if c >= 10 {
                days[known] = n as f64 / c as f64;
                known += 1;
            }
        }
        let baseline = if known >= 3 {
            median(&mut days[..known])?
        } else if total >= 30 {
            total_negative as f64 / total as f64
        } else {
            return None;
        };
        let observed = negative as f64 / count as f64;
        let p = baseline.clamp(0.05, 0.95);
        let sigma = (p * (1.0 - p) / count as f64 + share.noise * share.noise).sqrt();
        let clamp = |v: u64| u32::try_from(v).unwrap_or(u32::MAX);
        Some(ShareScore {
            count: clamp(count),
            share: observed,
            baseline,
            z: (observed - baseline) / sigma,
            negative: clamp(negative),
        })
    }

    /// Thresholds, confirmation, minimum volume, cooldown.
    fn decide(
        &self,
        current: &Bucket,
        scores: &[Option<VolumeScore>],
        share: Option<ShareScore>,
        state: &AlertState,
    ) -> Assessment {
        let k = self.config.sensitivity.threshold();
        let cooldown = i64::from(self.config.cooldown_minutes) * MINUTE_MS;
        let allowed = |rule: Rule, severity: Severity| match state.last(rule) {
            None => true,
            Some(last) => current.start_ms.saturating_sub(last.bucket_start_ms) >= cooldown || severity > last.severity,
        };
        let how = hour_of_week(current.start_ms, self.config.utc_offset_minutes);
        let current_score = scores.last().copied().flatten();
        let mut out = Assessment::default();
        let confirmed = scores.len() == usize::from(self.config.confirm_buckets)
            && scores.iter().all(|s| s.is_some_and(|s| s.z >= k));
        if let Some(s) = current_score.filter(|_| confirmed) {
            let observed = f64::from(current.count);
            let ratio = observed / s.expected.max(f64::MIN_POSITIVE);
            if current.count >= self.config.min_count && ratio >= self.config.min_ratio {
                let severity = if s.z >= 4.0 * k && ratio >= 4.0 {
                    Severity::Critical
                } else if s.z >= 2.0 * k && ratio >= 2.0 {
                    Severity::High
                } else {
                    Severity::Elevated
                };
                if allowed(Rule::Volume, severity) {
                    out.volume = Some(Alert {
                        rule: Rule::Volume,
                        severity,
                        bucket_start_ms: current.start_ms,
                        hour_of_week: how,
                        observed: current.count,
                        expected: s.expected,
                        score: s.z,
                        negative_share: current.negative_share(),
                        baseline_share: share.map(|s| s.baseline),
                        baseline: Some(s.kind),
                    });
                }
            }
        }
        let k = self.config.sensitivity.share_threshold();
        let rule = &self.config.share;
        if let Some(s) = share.filter(|s| s.z >= k && s.share >= rule.min_share && s.negative >= rule.min_negative) {
            let severity = if s.z >= 3.0 * k && s.share >= 0.7 {
                Severity::Critical
            } else if s.z >= 2.0 * k && s.share >= 0.55 {
                Severity::High
            } else {
                Severity::Elevated
            };
            if allowed(Rule::NegativeShare, severity) {
                out.negative_share = Some(Alert {
                    rule: Rule::NegativeShare,
                    severity,
                    bucket_start_ms: current.start_ms,
                    hour_of_week: how,
                    observed: s.count,
                    expected: current_score.map_or(0.0, |v| v.expected),
                    score: s.z,
                    negative_share: Some(s.share),
                    baseline_share: Some(s.baseline),
                    baseline: current_score.map(|v| v.kind),
                });
            }
        }
        out
    }
}

/// Squared 1.4826 × MAD of the residuals (around their median); `None` with too few.
fn robust_variance(residuals: &mut [f64]) -> Option<f64> {
    if residuals.len() < MIN_RESIDUALS {
        return None;
    }
    let mid = median(residuals)?;
    for r in residuals.iter_mut() {
        *r = (*r - mid).abs();
    }
    let mad = median(residuals)?;
    Some((1.4826 * mad).powi(2))
}

/// (mentions, negative) of some buckets.
fn sums(buckets: &[Bucket]) -> (u64, u64) {
    buckets.iter().fold((0, 0), |(c, n), b| (c + u64::from(b.count), n + u64::from(b.negative.min(b.count))))
}
