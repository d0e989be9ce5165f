//! Listening series: buckets of mention counts (and how many are negative) at 5-minute or hourly
//! resolution, aggregation of events into buckets, the 5-minute to hourly roll-up, hour of week.

use serde::{Deserialize, Serialize};

/// One minute in milliseconds.
pub const MINUTE_MS: i64 = 60_000;
/// One hour in milliseconds.
pub const HOUR_MS: i64 = 60 * MINUTE_MS;
/// One day in milliseconds.
pub const DAY_MS: i64 = 24 * HOUR_MS;
/// One week in milliseconds.
pub const WEEK_MS: i64 = 7 * DAY_MS;

/// The width of a bucket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Resolution {
    /// Five minutes: fast alerts, noisier.
    FiveMinutes,
    /// One hour.
    Hour,
}

impl Resolution {
    /// The bucket width in milliseconds.
    pub const fn millis(self) -> i64 {
        match self {
            Resolution::FiveMinutes => 5 * MINUTE_MS,
            Resolution::Hour => HOUR_MS,
        }
    }

    /// Buckets per hour (12 or 1).
    pub const fn per_hour(self) -> usize {
        (HOUR_MS / self.millis()) as usize
    }

    /// The start of the bucket holding `ts_ms` (UTC epoch milliseconds): the floor to the bucket
    /// width, in a time zone `utc_offset_minutes` away from UTC. The offset only matters for
    /// offsets that are not whole hours (e.g. +05:30: hourly buckets start at :30 UTC).
    pub const fn bucket_start(self, ts_ms: i64, utc_offset_minutes: i32) -> i64 {
        let offset = utc_offset_minutes as i64 * MINUTE_MS;
        ts_ms.saturating_add(offset).div_euclid(self.millis()).saturating_mul(self.millis()).saturating_sub(offset)
    }
}

/// Hour of the week of `ts_ms` in a zone `utc_offset_minutes` away from UTC: 0 = Monday 00:00–01:00,
/// 167 = Sunday 23:00–24:00. A fixed offset is an approximation across daylight-saving changes
/// (see the module doc).
pub const fn hour_of_week(ts_ms: i64, utc_offset_minutes: i32) -> u8 {
    let local = ts_ms.saturating_add(utc_offset_minutes as i64 * MINUTE_MS);
    // 1970-01-01 was a Thursday: day 0 is weekday 3 when Monday is 0.
    let day = (local.div_euclid(DAY_MS) + 3).rem_euclid(7);
    let hour = local.rem_euclid(DAY_MS) / HOUR_MS;
    (day * 24 + hour) as u8
}

/// Mentions of one query in one bucket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bucket {
    /// Bucket start, UTC epoch milliseconds.
    pub start_ms: i64,
    /// Mentions in the bucket.
    pub count: u32,
    /// Of which classified negative (never more than `count` when built by this module).
    pub negative: u32,
}

impl Bucket {
    /// An empty bucket.
    pub const fn empty(start_ms: i64) -> Self {
        Bucket { start_ms, count: 0, negative: 0 }
    }

    /// Share of negative mentions, `None` for an empty bucket.
    pub fn negative_share(&self) -> Option<f64> {
        (self.count > 0).then(|| f64::from(self.negative.min(self.count)) / f64::from(self.count))
    }
}

/// Aggregates `(timestamp_ms, is_negative)` events into a dense series of buckets covering
/// `[from_ms, to_ms)` (both floored to the resolution): one bucket per period, empty ones
/// included, because the detector reads a missing bucket as "no data", not as zero. Events
/// outside the range are ignored; events need not be sorted.
pub fn aggregate(
    events: impl IntoIterator<Item = (i64, bool)>,
    resolution: Resolution,
    utc_offset_minutes: i32,
    from_ms: i64,
    to_ms: i64,
) -> Vec<Bucket> {
    let width = resolution.millis();
    let first = resolution.bucket_start(from_ms, utc_offset_minutes);
    let n = if to_ms > first { (to_ms.saturating_sub(first).saturating_add(width - 1) / width) as usize } else { 0 };
    let mut buckets: Vec<Bucket> = (0..n).map(|i| Bucket::empty(first + i as i64 * width)).collect();
    for (ts, negative) in events {
        if ts < from_ms || ts >= to_ms {
            continue;
        }
        let index = (ts.saturating_sub(first) / width) as usize;
        if let Some(bucket) = buckets.get_mut(index) {
            bucket.count = bucket.count.saturating_add(1);
            bucket.negative = bucket.negative.saturating_add(u32::from(negative));
        }
    }
    buckets
}

/// Rolls 5-minute buckets (sorted by start) up to hourly buckets, aligned on hours in the zone
/// `utc_offset_minutes` away from UTC. An hour appears if at least one of its 5-minute buckets is
/// present; the sums are saturating.
pub fn roll_up_hourly(buckets: &[Bucket], utc_offset_minutes: i32) -> Vec<Bucket> {
    let mut hours: Vec<Bucket> = Vec::with_capacity(buckets.len() / 12 + 1);
    for b in buckets {
        let start = Resolution::Hour.bucket_start(b.start_ms, utc_offset_minutes);
        match hours.last_mut() {
            Some(last) if last.start_ms == start => {
                last.count = last.count.saturating_add(b.count);
                last.negative = last.negative.saturating_add(b.negative);
            }
            _ => hours.push(Bucket { start_ms: start, count: b.count, negative: b.negative }),
        }
    }
    hours
}
