//! Spike detection on listening series: volume and negative share per query, robust seasonal baseline (median and MAD by hour of week) plus EWMA, sensitivity, minimum volume, cooldown.

mod baseline;
mod config;
mod detect;
pub mod eval;
mod series;
#[cfg(test)]
mod tests;

pub use baseline::{Baseline, BaselineKind};
pub use config::{ConfigError, DetectorConfig, Rule, Sensitivity, Severity, ShareConfig};
pub use detect::{Alert, AlertState, Assessment, Detector, LastAlert, VolumeScore};
pub use series::{Bucket, DAY_MS, HOUR_MS, MINUTE_MS, Resolution, WEEK_MS, aggregate, hour_of_week, roll_up_hourly};
