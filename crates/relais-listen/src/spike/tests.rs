//! Unit tests of the spike detector: series helpers, seasonality, floors, cooldown and escalation,
//! the negative-share rule, no look-ahead, level shifts, bad input.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::eval::Rng;
use super::*;

/// Monday 2024-01-01 00:00 UTC.
const MONDAY: i64 = 1_704_067_200_000;

/// Hourly rate with a working-day rhythm: 2 at night, 40 at 9:00 on weekdays, half on weekends.
fn rhythm(t: i64) -> f64 {
    let how = hour_of_week(t, 0);
    let (day, hour) = (how / 24, how % 24);
    let base = match hour {
        0..=6 => 2.0,
        7 | 8 => 15.0,
        9 => 40.0,
        10..=18 => 25.0,
        _ => 8.0,
    };
    if day >= 5 { base / 2.0 } else { base }
}

/// `weeks` of hourly buckets from MONDAY with Poisson noise around `rate`, 10 % negative.
fn hourly(weeks: i64, seed: u64, rate: impl Fn(i64) -> f64) -> Vec<Bucket> {
    let mut rng = Rng::new(seed);
    (0..weeks * 168)
        .map(|i| {
            let start_ms = MONDAY + i * HOUR_MS;
            let count = rng.poisson(rate(start_ms));
            Bucket { start_ms, count, negative: rng.binomial(count, 0.1) }
        })
        .collect()
}

/// `weeks` of hourly buckets from MONDAY holding exactly `count` mentions, 10 % negative.
fn constant(weeks: i64, count: u32) -> Vec<Bucket> {
    (0..weeks * 168).map(|i| Bucket { start_ms: MONDAY + i * HOUR_MS, count, negative: count / 10 }).collect()
}

fn detector() -> Detector {
    Detector::new(DetectorConfig::new(Resolution::Hour)).unwrap()
}

fn volume_alerts(alerts: &[Alert]) -> Vec<&Alert> {
    alerts.iter().filter(|a| a.rule == Rule::Volume).collect()
}

#[test]
fn buckets_floor_in_the_offset_and_hours_of_week_start_on_monday() {
    assert_eq!(Resolution::Hour.bucket_start(MONDAY + 59 * MINUTE_MS, 0), MONDAY);
    assert_eq!(Resolution::FiveMinutes.bucket_start(MONDAY + 7 * MINUTE_MS, 0), MONDAY + 5 * MINUTE_MS);
    // +05:30: local hours start at :30 UTC.
    assert_eq!(Resolution::Hour.bucket_start(MONDAY + 40 * MINUTE_MS, 330), MONDAY + 30 * MINUTE_MS);
    // Before 1970 the floor still goes down.
    assert_eq!(Resolution::Hour.bucket_start(-1, 0), -HOUR_MS);
    assert_eq!(hour_of_week(MONDAY, 0), 0);
    assert_eq!(hour_of_week(MONDAY + 9 * HOUR_MS, 0), 9);
    assert_eq!(hour_of_week(MONDAY - 1, 0), 167);
    // Monday 00:30 UTC is Monday 01:30 in Paris (winter) and Sunday 23:30 in New York.
    assert_eq!(hour_of_week(MONDAY + 30 * MINUTE_MS, 60), 1);
    assert_eq!(hour_of_week(MONDAY + 30 * MINUTE_MS, -300), 6 * 24 + 19);
}

#[test]
fn aggregate_is_dense_and_rolls_up_to_hours() {
    let events =
        [(MONDAY + 1, true), (MONDAY + 61 * MINUTE_MS, false), (MONDAY + 62 * MINUTE_MS, true), (MONDAY - 1, true)];
    let five = aggregate(events, Resolution::FiveMinutes, 0, MONDAY, MONDAY + 2 * HOUR_MS);
    assert_eq!(five.len(), 24);
    assert_eq!(five[0], Bucket { start_ms: MONDAY, count: 1, negative: 1 });
    assert_eq!(five[12], Bucket { start_ms: MONDAY + HOUR_MS, count: 2, negative: 1 });
    assert_eq!(five.iter().map(|b| b.count).sum::<u32>(), 3, "the event before the range is ignored");
    let hours = roll_up_hourly(&five, 0);
    assert_eq!(
        hours,
        vec![
            Bucket { start_ms: MONDAY, count: 1, negative: 1 },
            Bucket { start_ms: MONDAY + HOUR_MS, count: 2, negative: 1 }
        ]
    );
    assert!(aggregate([], Resolution::Hour, 0, MONDAY, MONDAY).is_empty());
    assert_eq!(Bucket::empty(0).negative_share(), None);
    assert_eq!(Bucket { start_ms: 0, count: 4, negative: 9 }.negative_share(), Some(1.0));
}

#[test]
fn a_normal_monday_morning_peak_is_not_a_spike_but_a_real_one_is() {
    let series = hourly(6, 7, rhythm);
    let detector = detector();
    let last_week = 5 * 168;
    let alerts = detector.scan(&series);
    let late: Vec<&Alert> = alerts.iter().filter(|a| a.bucket_start_ms >= series[last_week].start_ms).collect();
    assert!(late.is_empty(), "{late:?}");
    // The same Monday 9:00 with three times its usual volume is one.
    let nine = last_week + 9;
    let mut spiked = series.clone();
    spiked[nine].count = 120;
    let assessment = detector.assess(&spiked[..nine], &spiked[nine], &AlertState::default());
    let alert = assessment.volume.expect("a tripled Monday 9:00 is a spike");
    assert_eq!(alert.hour_of_week, 9);
    assert_eq!(alert.baseline, Some(BaselineKind::Seasonal));
    assert!((30.0..=55.0).contains(&alert.expected), "{alert:?}");
}

#[test]
fn a_flat_zero_history_does_not_make_every_mention_a_spike() {
    let series = hourly(5, 1, |_| 0.0);
    let detector = detector();
    let at = |count| Bucket { start_ms: MONDAY + 5 * WEEK_MS, count, negative: 0 };
    for count in [1, 3, 7] {
        assert_eq!(detector.assess(&series, &at(count), &AlertState::default()), Assessment::default(), "{count}");
    }
    let score = detector.score(&series, &at(1)).unwrap();
    assert_eq!((score.expected, score.sigma), (0.0, 1.0));
    let alert = detector.assess(&series, &at(40), &AlertState::default()).volume.unwrap();
    assert_eq!(alert.severity, Severity::Critical);
}

#[test]
fn minimum_volume_is_respected() {
    let series = hourly(5, 2, |_| 0.2);
    let at = |count| Bucket { start_ms: MONDAY + 5 * WEEK_MS, count, negative: 0 };
    let mut config = DetectorConfig::new(Resolution::Hour);
    let detector = Detector::new(config).unwrap();
    assert!(detector.score(&series, &at(7)).unwrap().z > 4.5, "the score alone would alert");
    assert!(detector.assess(&series, &at(7), &AlertState::default()).volume.is_none());
    assert!(detector.assess(&series, &at(8), &AlertState::default()).volume.is_some());
    config.min_count = 20;
    let detector = Detector::new(config).unwrap();
    assert!(detector.assess(&series, &at(19), &AlertState::default()).volume.is_none());
}

#[test]
fn cooldown_holds_a_second_alert_of_the_same_severity_and_escalation_breaks_it() {
    let series = constant(5, 20);
    let detector = detector();
    let t0 = MONDAY + 5 * WEEK_MS;
    let first = detector.assess(&series, &Bucket { start_ms: t0, count: 50, negative: 0 }, &AlertState::default());
    let first = first.volume.unwrap();
    assert_eq!(first.severity, Severity::Elevated);
    let mut state = AlertState::default();
    state.record(&first);
    // Two hours later, same severity: held.
    let again = Bucket { start_ms: t0 + 2 * HOUR_MS, count: 50, negative: 0 };
    assert!(detector.assess(&series, &again, &state).volume.is_none());
    assert!(detector.assess(&series, &again, &AlertState::default()).volume.is_some(), "held by the cooldown only");
    // Higher severity within the cooldown: sent.
    let worse = detector.assess(&series, &Bucket { start_ms: t0 + 2 * HOUR_MS, count: 200, negative: 0 }, &state);
    assert!(worse.volume.unwrap().severity > Severity::Elevated);
    // After the cooldown (6 hours), the same severity is sent again.
    let later = Bucket { start_ms: t0 + 6 * HOUR_MS, count: 50, negative: 0 };
    assert!(detector.assess(&series, &later, &state).volume.is_some());
    // The cooldown is per rule: a volume alert does not hold a negative-share alert.
    let bad = Bucket { start_ms: t0 + HOUR_MS, count: 22, negative: 18 };
    assert!(detector.assess(&series, &bad, &state).negative_share.is_some());
}

#[test]
fn tone_turning_without_volume_change_fires_the_negative_share_rule() {
    let series = hourly(5, 4, |_| 30.0);
    let detector = detector();
    let t = MONDAY + 5 * WEEK_MS;
    let bad = Bucket { start_ms: t, count: 31, negative: 19 };
    let assessment = detector.assess(&series, &bad, &AlertState::default());
    assert!(assessment.volume.is_none());
    let alert = assessment.negative_share.unwrap();
    assert_eq!(alert.rule, Rule::NegativeShare);
    assert!((alert.baseline_share.unwrap() - 0.1).abs() < 0.03, "{alert:?}");
    assert!((alert.negative_share.unwrap() - 19.0 / 31.0).abs() < 1e-9);
    // Below the absolute share, or with too few negative mentions: nothing.
    let mild = Bucket { start_ms: t, count: 31, negative: 11 };
    assert!(detector.assess(&series, &mild, &AlertState::default()).negative_share.is_none());
    let few = Bucket { start_ms: t, count: 6, negative: 4 };
    assert!(detector.assess(&series, &few, &AlertState::default()).negative_share.is_none());
}

#[test]
fn assess_never_reads_the_future() {
    let mut series = hourly(6, 5, rhythm);
    let i = 5 * 168 + 30;
    let current = series[i];
    let alone = detector().assess(&series[..i], &current, &AlertState::default());
    // Whatever follows the current bucket (here a huge spike) changes nothing.
    for b in &mut series[i + 1..] {
        b.count = 10_000;
        b.negative = 10_000;
    }
    assert_eq!(detector().assess(&series, &current, &AlertState::default()), alone);
    assert_eq!(detector().score(&series, &current), detector().score(&series[..i], &current));
    // History older than `history_needed_ms` is not read either.
    for resolution in [Resolution::Hour, Resolution::FiveMinutes] {
        let config = eval::CorpusConfig { warmup_weeks: 5, eval_weeks: 1, ..Default::default() };
        let series = eval::at_resolution(&eval::generate(3, eval::VolumeClass::High, &config), resolution);
        let detector = Detector::new(DetectorConfig::new(resolution).with_sensitivity(Sensitivity::High)).unwrap();
        let last = series.len() - 1;
        for i in (last - 40)..=last {
            let from = series.partition_point(|b| b.start_ms < series[i].start_ms - detector.history_needed_ms());
            assert!(from > 0, "{resolution:?}: the series is longer than what is needed");
            let full = detector.assess(&series[..i], &series[i], &AlertState::default());
            assert_eq!(detector.assess(&series[from..i], &series[i], &AlertState::default()), full);
            let score = detector.score(&series[..i], &series[i]);
            assert!(score.is_some());
            assert_eq!(detector.score(&series[from..i], &series[i]), score);
        }
    }
    // And a scan of a prefix finds the same alerts as the scan of the whole series, up to there.
    let full = detector().scan(&series);
    let prefix = detector().scan(&series[..=i]);
    assert_eq!(prefix, full.into_iter().filter(|a| a.bucket_start_ms <= current.start_ms).collect::<Vec<_>>());
}

#[test]
fn scan_gives_the_alerts_of_assess_on_every_prefix() {
    for resolution in [Resolution::Hour, Resolution::FiveMinutes] {
        let config = eval::CorpusConfig { warmup_weeks: 2, eval_weeks: 1, ..Default::default() };
        let generated = eval::generate(11, eval::VolumeClass::Medium, &config);
        let series = eval::at_resolution(&generated, resolution);
        let detector = Detector::new(DetectorConfig::new(resolution).with_sensitivity(Sensitivity::High)).unwrap();
        let scanned = detector.scan(&series);
        // Assess two days one bucket at a time (all of it is slow in debug builds), around the last
        // alert, starting from the state the scan had then.
        let bucket = |t: i64| series.partition_point(|b| b.start_ms < t);
        let last = scanned.last().unwrap().bucket_start_ms;
        let (start, end) = (bucket(last - 36 * HOUR_MS), bucket(last + 12 * HOUR_MS));
        let (from, to) = (series[start].start_ms, series[end - 1].start_ms);
        let mut state = AlertState::default();
        scanned.iter().filter(|a| a.bucket_start_ms < from).for_each(|a| state.record(a));
        let scanned: Vec<Alert> = scanned.into_iter().filter(|a| (from..=to).contains(&a.bucket_start_ms)).collect();
        let mut assessed = Vec::new();
        for i in start..end {
            for alert in detector.assess(&series[..i], &series[i], &state).alerts() {
                state.record(&alert);
                assessed.push(alert);
            }
        }
        assert!(!scanned.is_empty());
        assert_eq!(scanned, assessed, "{resolution:?}");
    }
}

#[test]
fn a_lasting_level_shift_alerts_once_then_becomes_the_norm() {
    let shift = MONDAY + 5 * WEEK_MS + 3 * DAY_MS + 10 * HOUR_MS;
    let series = hourly(6, 6, |t| if t >= shift { 3.0 * rhythm(t) } else { rhythm(t) });
    let alerts = detector().scan(&series);
    let after: Vec<&Alert> = volume_alerts(&alerts).into_iter().filter(|a| a.bucket_start_ms >= shift).collect();
    assert!(!after.is_empty(), "the shift itself is news");
    assert!(after.iter().all(|a| a.bucket_start_ms < shift + 6 * HOUR_MS), "{after:?}");
    assert!(after.len() <= 2, "one alert, at most one escalation: {after:?}");
    let score = detector().score(&series[..series.len() - 1], &series[series.len() - 1]).unwrap();
    assert!(score.level > 2.0, "the level factor follows the shift: {score:?}");
}

#[test]
fn short_history_falls_back_to_daily_then_recent_baselines() {
    let detector = detector();
    let three_days = hourly(1, 8, |_| 10.0)[..72].to_vec();
    let next = Bucket { start_ms: MONDAY + 72 * HOUR_MS, count: 10, negative: 0 };
    assert_eq!(detector.score(&three_days, &next).unwrap().kind, BaselineKind::Daily);
    let half_day = &three_days[..12];
    let next = Bucket { start_ms: MONDAY + 12 * HOUR_MS, count: 10, negative: 0 };
    assert_eq!(detector.score(half_day, &next).unwrap().kind, BaselineKind::Recent);
    assert_eq!(detector.score(&half_day[..3], &next), None, "three hours: no baseline yet");
}

#[test]
fn empty_history_and_bad_settings_are_safe() {
    let detector = detector();
    let current = Bucket { start_ms: MONDAY, count: 1_000, negative: 2_000 };
    assert_eq!(detector.assess(&[], &current, &AlertState::default()), Assessment::default());
    assert_eq!(detector.score(&[], &current), None);
    assert!(detector.scan(&[]).is_empty());
    // Unsorted history with duplicates: no panic.
    let mess = [current, Bucket::empty(MONDAY - HOUR_MS), current, Bucket::empty(i64::MIN), Bucket::empty(i64::MAX)];
    let _ = detector.assess(&mess, &current, &AlertState::default());
    let _ = detector.scan(&mess);
    let mut config = DetectorConfig::new(Resolution::Hour);
    config.min_ratio = f64::NAN;
    let err = Detector::new(config).unwrap_err();
    assert!(err.message.en.contains("min_ratio") && err.message.fr.contains("min_ratio"), "{err}");
    let mut config = DetectorConfig::new(Resolution::Hour);
    config.share.noise = f64::INFINITY;
    assert!(Detector::new(config).is_err());
    let mut config = DetectorConfig::new(Resolution::Hour);
    config.weeks = 0;
    assert!(Detector::new(config).is_err());
}

#[test]
fn alerts_and_state_round_trip_through_json() {
    let series = hourly(5, 9, |_| 20.0);
    let alert = detector()
        .assess(&series, &Bucket { start_ms: MONDAY + 5 * WEEK_MS, count: 90, negative: 60 }, &AlertState::default())
        .volume
        .unwrap();
    let json = serde_json::to_string(&alert).unwrap();
    assert!(json.contains("\"rule\":\"volume\""), "{json}");
    let back: Alert = serde_json::from_str(&json).unwrap();
    // serde_json without `float_roundtrip` may move a float by one unit in the last place.
    assert!((back.expected - alert.expected).abs() < 1e-9 && (back.score - alert.score).abs() < 1e-9);
    assert_eq!((back.rule, back.severity, back.bucket_start_ms), (alert.rule, alert.severity, alert.bucket_start_ms));
    let mut state = AlertState::default();
    state.record(&alert);
    assert_eq!(serde_json::from_str::<AlertState>(&serde_json::to_string(&state).unwrap()).unwrap(), state);
    let config = DetectorConfig::new(Resolution::FiveMinutes);
    assert_eq!(serde_json::from_str::<DetectorConfig>(&serde_json::to_string(&config).unwrap()).unwrap(), config);
}

#[test]
fn the_generator_is_deterministic_and_its_samplers_have_the_right_moments() {
    let config = eval::CorpusConfig { warmup_weeks: 1, eval_weeks: 1, ..Default::default() };
    let a = eval::generate(5, eval::VolumeClass::High, &config);
    let b = eval::generate(5, eval::VolumeClass::High, &config);
    assert_eq!((a.buckets.clone(), a.windows.clone()), (b.buckets, b.windows));
    assert_ne!(a.buckets, eval::generate(6, eval::VolumeClass::High, &config).buckets);
    let mut rng = Rng::new(42);
    for (lambda, n) in [(0.3, 20_000), (4.0, 20_000), (250.0, 20_000)] {
        let draws: Vec<f64> = (0..n).map(|_| f64::from(rng.poisson(lambda))).collect();
        let mean = draws.iter().sum::<f64>() / n as f64;
        let var = draws.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n as f64;
        assert!((mean / lambda - 1.0).abs() < 0.05 && (var / lambda - 1.0).abs() < 0.1, "{lambda}: {mean} {var}");
    }
    let draws: Vec<f64> = (0..20_000).map(|_| f64::from(rng.negative_binomial(40.0, 10.0))).collect();
    let mean = draws.iter().sum::<f64>() / 20_000.0;
    let var = draws.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / 20_000.0;
    assert!((mean / 40.0 - 1.0).abs() < 0.05 && (var / (40.0 + 160.0) - 1.0).abs() < 0.1, "{mean} {var}");
}
