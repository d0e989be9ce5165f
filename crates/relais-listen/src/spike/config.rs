//! Detector settings: sensitivity, severities, rules, and the defaults per resolution, with their
//! validation (a bad setting is refused with a bilingual message).

use super::baseline::MAX_PERIODS;
use super::series::{MINUTE_MS, Resolution};
use relais_domain::i18n::Msg;
use serde::{Deserialize, Serialize};

/// How readily alerts fire: `Low` = fewest alerts (highest threshold).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sensitivity {
    /// Fewest alerts: only large deviations.
    Low,
    /// The default.
    Medium,
    /// Most alerts: moderate deviations too.
    High,
}

impl Sensitivity {
    /// All three, lowest first.
    pub const ALL: [Sensitivity; 3] = [Sensitivity::Low, Sensitivity::Medium, Sensitivity::High];

    /// The robust z-score a bucket must reach for the volume rule. Socialmetrix
    /// uses k = 3 / 2 / 1.5 standard deviations, but on a 24-hour average against 7 days; a
    /// single 5-minute or hourly bucket is far noisier, and the same k gave several false alarms
    /// per query and week on the generator (BENCHMARKS.md), hence higher values here.
    pub const fn threshold(self) -> f64 {
        match self {
            Sensitivity::Low => 6.0,
            Sensitivity::Medium => 4.5,
            Sensitivity::High => 3.5,
        }
    }

    /// The z-score the negative-share rule must reach. Lower than the volume threshold: the share
    /// rule also needs an absolute share (40 %) and a number of negative mentions, and its score
    /// already includes the hour-to-hour variation of the tone; at the volume thresholds it missed
    /// a third of the surges for a handful of false alarms fewer (BENCHMARKS.md).
    pub const fn share_threshold(self) -> f64 {
        match self {
            Sensitivity::Low => 4.5,
            Sensitivity::Medium => 3.5,
            Sensitivity::High => 2.75,
        }
    }

    /// Lower-case name (`low`, `medium`, `high`).
    pub const fn name(self) -> &'static str {
        match self {
            Sensitivity::Low => "low",
            Sensitivity::Medium => "medium",
            Sensitivity::High => "high",
        }
    }
}

/// How serious an alert is; ordered (`Elevated < High < Critical`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Above the sensitivity threshold.
    Elevated,
    /// Volume: z ≥ 2k and at least twice the expected volume. Share: z ≥ 2k and ≥ 55 % negative.
    High,
    /// Volume: z ≥ 4k and at least four times the expected volume. Share: z ≥ 3k and ≥ 70 % negative.
    Critical,
}

/// Which rule fired.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Rule {
    /// Mention volume far above its baseline.
    Volume,
    /// Share of negative mentions far above its baseline.
    NegativeShare,
}

/// Settings of the negative-share rule.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShareConfig {
    /// The share is measured over this trailing window ending with the assessed bucket (60: the
    /// last hour; at hourly resolution, the bucket itself).
    pub window_minutes: u32,
    /// No alert below this share of negative mentions in the window (0.4).
    pub min_share: f64,
    /// No alert below this many negative mentions in the window.
    pub min_negative: u32,
    /// Days of history for the baseline share (median of the daily shares; 7).
    pub history_days: u32,
    /// Hour-to-hour variation of the tone beyond the binomial noise (0.05): the score is
    /// `(share - baseline) / sqrt(baseline (1 - baseline) / n + noise²)`.
    pub noise: f64,
}

/// Every setting of the detector. `DetectorConfig::new` gives the defaults for a resolution.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DetectorConfig {
    /// Bucket width of the series given to the detector.
    pub resolution: Resolution,
    /// The workspace's offset from UTC in minutes (Paris: 60 in winter, 120 in summer); used for
    /// bucket alignment and the hour of week shown in alerts.
    pub utc_offset_minutes: i32,
    /// Threshold choice.
    pub sensitivity: Sensitivity,
    /// Past weeks read by the seasonal baseline (1–8, default 4).
    pub weeks: u8,
    /// Weeks of history needed before the seasonal baseline is used (default 2); before that, the
    /// same time of day over the past week, then the last 24 hours.
    pub min_weeks: u8,
    /// Hours read by the level factor (default 8; 0 turns it off): the median, over the last
    /// hours, of each hour's observed / expected mentions, multiplies the seasonal baseline.
    pub level_hours: u8,
    /// Window of the recent residuals whose spread gives the dispersion, in minutes (default
    /// 2,880 at hourly, 720 at 5 minutes).
    pub dispersion_window_minutes: u32,
    /// No volume alert below this many mentions in the bucket.
    pub min_count: u32,
    /// No volume alert below this multiple of the expected volume (default 1.3).
    pub min_ratio: f64,
    /// After an alert, no alert for the same rule within this many minutes unless the severity is
    /// higher (default 360).
    pub cooldown_minutes: u32,
    /// Consecutive buckets (the assessed one included) that must all pass the volume threshold
    /// (1 = no confirmation; default 1 at hourly, 2 at 5 minutes).
    pub confirm_buckets: u8,
    /// The negative-share rule.
    pub share: ShareConfig,
}

impl DetectorConfig {
    /// The defaults for a resolution, at Medium sensitivity, UTC.
    pub fn new(resolution: Resolution) -> Self {
        let hourly = resolution == Resolution::Hour;
        DetectorConfig {
            resolution,
            utc_offset_minutes: 0,
            sensitivity: Sensitivity::Medium,
            weeks: 4,
            min_weeks: 2,
            level_hours: 8,
            dispersion_window_minutes: if hourly { 2880 } else { 720 },
            min_count: if hourly { 8 } else { 5 },
            min_ratio: 1.3,
            cooldown_minutes: 360,
            confirm_buckets: if hourly { 1 } else { 2 },
            share: ShareConfig { window_minutes: 60, min_share: 0.4, min_negative: 5, history_days: 7, noise: 0.05 },
        }
    }

    /// The same settings at another sensitivity.
    pub fn with_sensitivity(self, sensitivity: Sensitivity) -> Self {
        DetectorConfig { sensitivity, ..self }
    }

    /// Checks every setting; the first problem found, in English and French.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let bucket_minutes = self.resolution.millis() / MINUTE_MS;
        let checks: [(bool, &str, &str); 11] = [
            (
                (1..=MAX_PERIODS as u8).contains(&self.weeks),
                "weeks must be between 1 and 8",
                "weeks doit être entre 1 et 8",
            ),
            (
                self.min_weeks >= 1 && self.min_weeks <= self.weeks,
                "min_weeks must be between 1 and weeks",
                "min_weeks doit être entre 1 et weeks",
            ),
            (
                (-14 * 60..=14 * 60).contains(&self.utc_offset_minutes),
                "the UTC offset must be within ±14 hours",
                "le décalage UTC doit être compris entre -14 et +14 heures",
            ),
            (self.level_hours <= 48, "level_hours must be at most 48", "level_hours doit valoir au plus 48"),
            (
                (6 * bucket_minutes as u32..=7 * 24 * 60).contains(&self.dispersion_window_minutes),
                "the dispersion window must span 6 buckets to 7 days",
                "la fenêtre de dispersion doit couvrir de 6 tranches à 7 jours",
            ),
            (
                self.min_ratio.is_finite() && self.min_ratio >= 1.0,
                "min_ratio must be at least 1",
                "min_ratio doit valoir au moins 1",
            ),
            (
                self.cooldown_minutes <= 7 * 24 * 60,
                "the cooldown must be at most 7 days",
                "le délai de carence doit être d'au plus 7 jours",
            ),
            (
                (1..=12).contains(&self.confirm_buckets),
                "confirm_buckets must be between 1 and 12",
                "confirm_buckets doit être entre 1 et 12",
            ),
            (
                self.share.window_minutes as i64 >= bucket_minutes && self.share.window_minutes <= 24 * 60,
                "the share window must span at least one bucket and at most a day",
                "la fenêtre de part négative doit couvrir au moins une tranche et au plus un jour",
            ),
            (
                self.share.min_share.is_finite() && (0.0..=1.0).contains(&self.share.min_share),
                "min_share must be between 0 and 1",
                "min_share doit être entre 0 et 1",
            ),
            (
                (1..=28).contains(&self.share.history_days) && self.share.noise.is_finite() && self.share.noise >= 0.0,
                "history_days must be between 1 and 28 and noise a non-negative number",
                "history_days doit être entre 1 et 28 et noise un nombre positif ou nul",
            ),
        ];
        match checks.iter().find(|(ok, _, _)| !ok) {
            Some((_, en, fr)) => Err(ConfigError {
                message: Msg::new(format!("Spike detector: {en}."), format!("Détection de pics : {fr}.")),
            }),
            None => Ok(()),
        }
    }
}

/// A refused detector setting.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ConfigError {
    /// What is wrong, in English and French.
    pub message: Msg,
}
