//! Labelled mention series for the evaluation: French daily and weekly rhythm, overdispersed
//! counts, slow trends, non-crisis level shifts and one-bucket outliers, plus injected spikes and
//! negative-share surges whose windows are the ground truth. Deterministic from a seed.

use super::rng::Rng;
use crate::spike::series::{Bucket, DAY_MS, HOUR_MS, MINUTE_MS, Resolution, WEEK_MS};
use serde::{Deserialize, Serialize};

/// The volume class of a generated query.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum VolumeClass {
    /// 2–5 mentions per hour on average.
    Low,
    /// 20–60 per hour.
    Medium,
    /// 300–700 per hour.
    High,
}

impl VolumeClass {
    /// All classes.
    pub const ALL: [VolumeClass; 3] = [VolumeClass::Low, VolumeClass::Medium, VolumeClass::High];

    /// Lower-case name.
    pub const fn name(self) -> &'static str {
        match self {
            VolumeClass::Low => "low (2–5/h)",
            VolumeClass::Medium => "medium (20–60/h)",
            VolumeClass::High => "high (300–700/h)",
        }
    }

    fn hourly_range(self) -> (f64, f64) {
        match self {
            VolumeClass::Low => (2.0, 5.0),
            VolumeClass::Medium => (20.0, 60.0),
            VolumeClass::High => (300.0, 700.0),
        }
    }
}

/// What an injected window holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum WindowKind {
    /// Volume spike.
    Spike,
    /// Share of negative mentions rises, volume barely.
    NegativeSurge,
}

/// One injected event: the ground truth.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Window {
    /// Spike or negative surge.
    pub kind: WindowKind,
    /// Start (UTC epoch ms).
    pub start_ms: i64,
    /// End, exclusive.
    pub end_ms: i64,
    /// Spike: peak volume as a multiple of the query's average hourly volume (×1.5 … ×10);
    /// surge: the volume multiple (1.0–1.3).
    pub magnitude: f64,
    /// Rises over half of its duration instead of at once.
    pub gradual: bool,
    /// Surge: the negative share reached; spike: the share of the extra mentions.
    pub negative_share: f64,
}

/// A generated series: 5-minute buckets and the injected windows.
#[derive(Debug, Clone)]
pub struct LabelledSeries {
    /// The seed it was generated from.
    pub seed: u64,
    /// Its volume class.
    pub class: VolumeClass,
    /// Average hourly volume before trend and shifts.
    pub hourly_mean: f64,
    /// 5-minute buckets, dense.
    pub buckets: Vec<Bucket>,
    /// Injected windows, in time order (warm-up ones included).
    pub windows: Vec<Window>,
    /// Non-crisis events (not labelled, listed to explain false positives): start of each level
    /// change and time of each one-bucket burst.
    pub distractors: Vec<i64>,
    /// Scoring starts here: before, only history (detections and windows ignored).
    pub eval_from_ms: i64,
    /// The offset from UTC the rhythm follows (Paris in winter: 60).
    pub utc_offset_minutes: i32,
}

/// Shape of the generated corpus.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CorpusConfig {
    /// History before scoring starts (weeks).
    pub warmup_weeks: u32,
    /// Scored weeks.
    pub eval_weeks: u32,
    /// Series start (UTC epoch ms; a Monday 00:00 local keeps the weeks readable).
    pub start_ms: i64,
}

impl Default for CorpusConfig {
    fn default() -> Self {
        // 2024-01-01 is a Monday; 23:00 UTC the day before is midnight in Paris (UTC+1).
        CorpusConfig { warmup_weeks: 4, eval_weeks: 4, start_ms: 1_704_063_600_000 }
    }
}

/// Relative activity by local hour on a weekday (French social media: quiet nights, a morning
/// rise, lunch and evening peaks), linearly interpolated; normalised by `profile`.
const WEEKDAY: [(f64, f64); 12] = [
    (0.0, 0.45),
    (3.0, 0.12),
    (5.0, 0.10),
    (7.0, 0.45),
    (9.0, 1.35),
    (12.5, 1.55),
    (14.0, 1.25),
    (17.0, 1.3),
    (19.5, 1.6),
    (21.5, 1.4),
    (23.0, 0.8),
    (24.0, 0.45),
];

fn weekday_shape(hour: f64) -> f64 {
    for pair in WEEKDAY.windows(2) {
        let ((h0, v0), (h1, v1)) = (pair[0], pair[1]);
        if hour >= h0 && hour <= h1 {
            return v0 + (v1 - v0) * (hour - h0) / (h1 - h0);
        }
    }
    0.45
}

/// Activity multiplier at a local time: weekday shape, weekends 30 % lower and 1.5 h later.
fn profile(local_ms: i64) -> f64 {
    let day = (local_ms.div_euclid(DAY_MS) + 3).rem_euclid(7);
    let hour = local_ms.rem_euclid(DAY_MS) as f64 / HOUR_MS as f64;
    // The mean of the weekday shape is about 0.97; weekends are 0.7 of it.
    if day >= 5 { 0.7 * weekday_shape((hour - 1.5).rem_euclid(24.0)) } else { weekday_shape(hour) }
}

/// Generates a corpus: `n` series with seeds derived from `seed`, 40 % low, 40 % medium, 20 %
/// high volume.
pub fn corpus(seed: u64, n: usize, config: &CorpusConfig) -> Vec<LabelledSeries> {
    (0..n)
        .map(|i| {
            let class = match i % 5 {
                0 | 1 => VolumeClass::Low,
                2 | 3 => VolumeClass::Medium,
                _ => VolumeClass::High,
            };
            generate(seed.wrapping_mul(1_000_003).wrapping_add(i as u64), class, config)
        })
        .collect()
}

/// Per-5-minute plan of the rate: multiplier, additive extra rate and its negative share.
struct Plan {
    multiplier: Vec<f64>,
    extra: Vec<f64>,
    extra_share: Vec<f64>,
    share: Vec<f64>,
}

/// Generates one labelled series.
pub fn generate(seed: u64, class: VolumeClass, config: &CorpusConfig) -> LabelledSeries {
    let mut rng = Rng::new(seed);
    let offset = 60;
    let step = Resolution::FiveMinutes.millis();
    let weeks = config.warmup_weeks + config.eval_weeks;
    let n = (i64::from(weeks) * WEEK_MS / step) as usize;
    let (lo, hi) = class.hourly_range();
    let hourly_mean = rng.range(lo, hi);
    let base_share = rng.range(0.08, 0.25);
    let trend_per_week = rng.range(-0.05, 0.08);
    let mut plan =
        Plan { multiplier: vec![1.0; n], extra: vec![0.0; n], extra_share: vec![0.0; n], share: vec![base_share; n] };

    // Day-to-day level (AR(1) on the log) and tone drift.
    let days = n / (DAY_MS / step) as usize + 1;
    let (mut log_level, mut tone) = (0.0, 0.0);
    let mut day_level = Vec::with_capacity(days);
    let mut day_tone = Vec::with_capacity(days);
    for _ in 0..days {
        log_level = 0.5 * log_level + 0.08 * rng.normal();
        tone = 0.6 * tone + 0.015 * rng.normal();
        day_level.push(log_level.exp());
        day_tone.push(tone);
    }
    for i in 0..n {
        let t = i as i64 * step;
        let day = (t / DAY_MS) as usize;
        let weeks_in = t as f64 / WEEK_MS as f64;
        plan.multiplier[i] =
            day_level[day] * (trend_per_week * weeks_in).exp() * profile(config.start_ms + t + offset * MINUTE_MS)
                / 0.97;
        plan.share[i] = (base_share + day_tone[day]).clamp(0.02, 0.6);
    }
    let mut distractors: Vec<usize> = level_shift(&mut rng, &mut plan, step).into_iter().collect();
    distractors.extend(outliers(&mut rng, &mut plan, n, weeks));
    let mut distractors: Vec<i64> = distractors.iter().map(|&i| config.start_ms + i as i64 * step).collect();
    distractors.sort_unstable();
    let windows = inject(&mut rng, &mut plan, config, step);

    let mut buckets = Vec::with_capacity(n);
    for i in 0..n {
        let mean = hourly_mean / 12.0 * plan.multiplier[i];
        let normal = rng.negative_binomial(mean, 10.0);
        let extra = rng.poisson(hourly_mean / 12.0 * plan.extra[i]);
        let negative = rng.binomial(normal, plan.share[i]) + rng.binomial(extra, plan.extra_share[i]);
        buckets.push(Bucket { start_ms: config.start_ms + i as i64 * step, count: normal + extra, negative });
    }
    LabelledSeries {
        seed,
        class,
        hourly_mean,
        buckets,
        windows,
        distractors,
        eval_from_ms: config.start_ms + i64::from(config.warmup_weeks) * WEEK_MS,
        utc_offset_minutes: offset as i32,
    }
}

/// One series in three gets a lasting non-crisis level change (×0.6–0.8 or ×1.3–1.8), at once or
/// over a day, somewhere after the first two weeks.
fn level_shift(rng: &mut Rng, plan: &mut Plan, step: i64) -> Option<usize> {
    if !rng.chance(1.0 / 3.0) {
        return None;
    }
    let n = plan.multiplier.len();
    let from = (2 * WEEK_MS / step) as usize;
    let at = from + rng.below(n.saturating_sub(from).max(1));
    let factor = if rng.chance(0.3) { rng.range(0.6, 0.8) } else { rng.range(1.3, 1.8) };
    let ramp = if rng.chance(0.5) { 1 } else { (DAY_MS / step) as usize };
    for i in at..n {
        let progress = ((i - at + 1) as f64 / ramp as f64).min(1.0);
        plan.multiplier[i] *= 1.0 + (factor - 1.0) * progress;
    }
    Some(at)
}

/// About two one-bucket bursts a week (a retweet wave): 0.2–0.8 times the average hourly volume
/// within 5 minutes.
fn outliers(rng: &mut Rng, plan: &mut Plan, n: usize, weeks: u32) -> Vec<usize> {
    let mut at = Vec::new();
    for _ in 0..2 * weeks {
        let i = rng.below(n);
        at.push(i);
        // `extra` is in average hourly volumes per hour: 12 × (share of an hour in 5 minutes).
        plan.extra[i] += 12.0 * rng.range(0.2, 0.8);
        plan.extra_share[i] = plan.share[i];
    }
    at
}

const MAGNITUDES: [f64; 5] = [1.5, 2.0, 3.0, 5.0, 10.0];
const SPIKE_MINUTES: [i64; 6] = [5, 30, 60, 180, 360, 720];
const SURGE_MINUTES: [i64; 4] = [60, 180, 360, 720];

/// One event per 3.5 days (three spikes for one negative surge), starting in the first half of
/// its slot so that the series recovers before the next one.
fn inject(rng: &mut Rng, plan: &mut Plan, config: &CorpusConfig, step: i64) -> Vec<Window> {
    let slot = DAY_MS * 7 / 2;
    let total = i64::from(config.warmup_weeks + config.eval_weeks) * WEEK_MS;
    let mut windows = Vec::new();
    let mut slot_start = 0;
    while slot_start + slot <= total {
        let start = (slot_start + (rng.uniform() * (slot / 2) as f64) as i64) / step * step;
        let spike = rng.chance(0.75);
        let minutes = if spike { SPIKE_MINUTES[rng.below(6)] } else { SURGE_MINUTES[rng.below(4)] };
        let len = minutes * MINUTE_MS;
        let gradual = minutes >= 60 && rng.chance(0.5);
        let (magnitude, share) = if spike {
            (MAGNITUDES[rng.below(5)], rng.range(0.1, 0.8))
        } else {
            (rng.range(1.0, 1.3), rng.range(0.45, 0.8))
        };
        let first = (start / step) as usize;
        let buckets = (len / step) as usize;
        for b in 0..buckets {
            let Some(m) = plan.multiplier.get(first + b).copied() else { break };
            // Gradual: linear rise over the first half. Surges rise over their first quarter.
            let rise = if spike { if gradual { buckets / 2 } else { 1 } } else { (buckets / 4).max(1) };
            let progress = ((b + 1) as f64 / rise as f64).min(1.0);
            let i = first + b;
            if spike {
                // Extra volume relative to the query's usual hourly volume that day, not to the
                // time of day: a crisis at 3 a.m. is as loud as one at noon.
                let day_level = m / profile(config.start_ms + i as i64 * step + 60 * MINUTE_MS) * 0.97;
                plan.extra[i] += (magnitude - 1.0) * progress * day_level;
                plan.extra_share[i] = share;
            } else {
                plan.multiplier[i] *= 1.0 + (magnitude - 1.0) * progress;
                let s = plan.share[i];
                plan.share[i] = s + (share - s) * progress;
            }
        }
        windows.push(Window {
            kind: if spike { WindowKind::Spike } else { WindowKind::NegativeSurge },
            start_ms: config.start_ms + start,
            end_ms: config.start_ms + start + len,
            magnitude,
            gradual,
            negative_share: share,
        });
        slot_start += slot;
    }
    windows
}
