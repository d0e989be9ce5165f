//! Baselines: what a bucket is expected to hold, from history only. Seasonal (same time of the
//! week over past weeks), daily (same time of day over the past week) and recent (last 24 hours)
//! tiers, each a median.

use super::series::{Bucket, DAY_MS, HOUR_MS, WEEK_MS};
use serde::{Deserialize, Serialize};

/// The most past periods a baseline reads (weeks for the seasonal tier, days for the daily one).
pub const MAX_PERIODS: usize = 8;

/// Which history a baseline was computed from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BaselineKind {
    /// Same time of the week over past weeks.
    Seasonal,
    /// Same time of day over the past days (not enough weeks yet).
    Daily,
    /// The last 24 hours, no seasonality (less than a few days of history).
    Recent,
}

/// A bucket's expected level, before the EWMA correction.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Baseline {
    /// Expected mentions in the bucket.
    pub expected: f64,
    /// Which tier produced it.
    pub kind: BaselineKind,
}

/// How the baseline reads history.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct BaselineParams {
    /// Bucket width.
    pub bucket_ms: i64,
    /// Past weeks read by the seasonal tier.
    pub weeks: usize,
    /// Weeks needed before the seasonal tier is used.
    pub min_weeks: usize,
    /// Half-width of the window averaged for the level of one past period.
    pub level_half_ms: i64,
}

/// Days read by the daily tier, and days it needs.
const DAILY_PERIODS: usize = 7;
const DAILY_MIN: usize = 3;

/// The index of the first bucket of sorted `history` that starts at or after `t`. A dense series
/// (one bucket every `bucket_ms`) is indexed directly; the guess is checked, and a binary search
/// answers when it is wrong, so gaps only cost time.
pub(crate) fn lower_bound(history: &[Bucket], t: i64, bucket_ms: i64) -> usize {
    let Some(first) = history.first() else { return 0 };
    let Some(delta) = t.checked_sub(first.start_ms) else { return history.partition_point(|b| b.start_ms < t) };
    let guess = delta.div_euclid(bucket_ms) + i64::from(delta.rem_euclid(bucket_ms) != 0);
    let guess = guess.clamp(0, history.len() as i64) as usize;
    let after_ok = history.get(guess).is_none_or(|b| b.start_ms >= t);
    let before_ok = guess == 0 || history.get(guess - 1).is_some_and(|b| b.start_ms < t);
    if after_ok && before_ok { guess } else { history.partition_point(|b| b.start_ms < t) }
}

/// The buckets of sorted `history` whose start is in `[from, to]`.
pub(crate) fn window(history: &[Bucket], from: i64, to: i64, bucket_ms: i64) -> &[Bucket] {
    let lo = lower_bound(history, from, bucket_ms);
    let hi = lower_bound(history, to.saturating_add(1), bucket_ms);
    history.get(lo..hi.max(lo)).unwrap_or(&[])
}

/// Median of the values (reorders the slice); `None` when empty.
pub(crate) fn median(values: &mut [f64]) -> Option<f64> {
    let n = values.len();
    if n == 0 {
        return None;
    }
    let (_, upper, _) = values.select_nth_unstable_by(n / 2, f64::total_cmp);
    let upper = *upper;
    if n % 2 == 1 {
        return Some(upper);
    }
    let lower = values[..n / 2].iter().copied().fold(f64::NEG_INFINITY, f64::max);
    Some((lower + upper) / 2.0)
}

/// The baseline for a bucket starting at `t`, from buckets of `history` (sorted, all before `t`).
/// Tiers in order: seasonal, daily, recent; `None` without enough history.
pub(crate) fn baseline(history: &[Bucket], t: i64, p: &BaselineParams) -> Option<Baseline> {
    let tiers = [
        (WEEK_MS, p.weeks, p.min_weeks, BaselineKind::Seasonal),
        (DAY_MS, DAILY_PERIODS, DAILY_MIN, BaselineKind::Daily),
    ];
    for (period, periods, min_periods, kind) in tiers {
        if let Some(expected) = periodic(history, t, period, periods, min_periods, p) {
            return Some(Baseline { expected, kind });
        }
    }
    recent(history, t, p.bucket_ms)
}

/// Level = median over past periods of the mean of the window around the same time.
fn periodic(
    history: &[Bucket],
    t: i64,
    period: i64,
    periods: usize,
    min_periods: usize,
    p: &BaselineParams,
) -> Option<f64> {
    let periods = periods.min(MAX_PERIODS);
    let level_slots = (2 * p.level_half_ms / p.bucket_ms + 1) as usize;
    let mut levels = [0.0; MAX_PERIODS];
    let mut n = 0;
    for k in 1..=periods as i64 {
        let centre = t.saturating_sub(k * period);
        let w = window(
            history,
            centre.saturating_sub(p.level_half_ms),
            centre.saturating_add(p.level_half_ms),
            p.bucket_ms,
        );
        // A past period counts if at least half of its window is known.
        if !w.is_empty() && 2 * w.len() >= level_slots {
            levels[n] = w.iter().map(|b| f64::from(b.count)).sum::<f64>() / w.len() as f64;
            n += 1;
        }
    }
    if n < min_periods.max(1) {
        return None;
    }
    median(&mut levels[..n])
}

/// The last 24 hours, no seasonality: the median, once at least 6 hours are known.
fn recent(history: &[Bucket], t: i64, bucket_ms: i64) -> Option<Baseline> {
    let w = window(history, t.saturating_sub(DAY_MS), t.saturating_sub(1), bucket_ms);
    if (w.len() as i64) * bucket_ms < 6 * HOUR_MS {
        return None;
    }
    let mut values: Vec<f64> = w.iter().map(|b| f64::from(b.count)).collect();
    Some(Baseline { expected: median(&mut values)?, kind: BaselineKind::Recent })
}
