//! Spike detection quality and speed on generated, labelled series (`relais_listen::spike::eval`):
//! precision, recall, detection delay and false alarms per sensitivity and resolution, recall by
//! magnitude, duration and volume class, then assessments per second. Prints markdown.
//! Usage: `spike_eval [--series N] [--seed S]` (defaults: 300 series, seed 20261123).
#![allow(clippy::print_stdout)]

use relais_listen::spike::eval::{
    LabelledSeries, Outcome, Report, VolumeClass, WindowKind, at_resolution, corpus, evaluate,
};
use relais_listen::spike::{AlertState, Detector, DetectorConfig, HOUR_MS, Resolution, Sensitivity, WEEK_MS};
use std::time::Instant;

const TOLERANCE_MS: i64 = HOUR_MS;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let arg = |name: &str, default: u64| -> u64 {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    };
    let (n, seed) = (arg("--series", 300) as usize, arg("--seed", 20_261_123));
    let config = relais_listen::spike::eval::CorpusConfig::default();
    let started = Instant::now();
    let series = corpus(seed, n, &config);
    let windows: usize = series.iter().map(|s| s.windows.iter().filter(|w| w.start_ms >= s.eval_from_ms).count()).sum();
    println!(
        "{n} series (seed {seed}; 40 % low, 40 % medium, 20 % high volume), {} warm-up + {} scored weeks each, \
         {windows} scored windows; generated in {:.1} s.\n",
        config.warmup_weeks,
        config.eval_weeks,
        started.elapsed().as_secs_f64()
    );
    let spike = |o: &Outcome| o.window.kind == WindowKind::Spike;
    let mut reports = Vec::new();
    for resolution in [Resolution::Hour, Resolution::FiveMinutes] {
        for sensitivity in Sensitivity::ALL {
            let started = Instant::now();
            let report =
                evaluate(&series, DetectorConfig::new(resolution).with_sensitivity(sensitivity), TOLERANCE_MS)?;
            let rate = report.assessments as f64 / started.elapsed().as_secs_f64();
            reports.push((resolution, sensitivity, report, rate));
        }
    }
    println!(
        "| resolution | sensitivity | precision | recall (spikes) | recall ≥ ×3 | recall ≥ ×3 lasting ≥ 1 h | recall (negative surges) | delay median: buckets / min | delay p90: buckets / min | false alarms / query-week (within 6 h of a non-crisis event) | false alarms of the share rule | alerts |"
    );
    println!("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for (resolution, sensitivity, r, _) in &reports {
        let (med, p90) = (r.delay(0.5, spike), r.delay(0.9, spike));
        println!(
            "| {} | {} | {:.3} | {} | {} | {} | {} | {} | {} | {:.2} ({:.2}) | {} | {} |",
            res_name(*resolution),
            sensitivity.name(),
            r.precision(),
            fraction(r, spike),
            fraction(r, |o| spike(o) && o.window.magnitude >= 3.0),
            fraction(r, |o| spike(o) && o.window.magnitude >= 3.0 && o.window.end_ms - o.window.start_ms >= HOUR_MS),
            fraction(r, |o| o.window.kind == WindowKind::NegativeSurge),
            delay(med),
            delay(p90),
            r.false_alarms_per_query_week(None),
            r.explained_false_positives as f64 / r.query_weeks.iter().sum::<f64>(),
            r.share_false_positives,
            r.alerts
        );
    }
    println!(
        "\nRecall of volume spikes by magnitude (peak extra volume = (m - 1) × the query's average hourly volume):\n"
    );
    println!("| resolution | sensitivity | ×1.5 | ×2 | ×3 | ×5 | ×10 |");
    println!("|---|---|---:|---:|---:|---:|---:|");
    for (resolution, sensitivity, r, _) in &reports {
        let cells: Vec<String> = [1.5, 2.0, 3.0, 5.0, 10.0]
            .iter()
            .map(|m| format!("{:.2}", r.recall(|o| spike(o) && o.window.magnitude == *m)))
            .collect();
        println!("| {} | {} | {} |", res_name(*resolution), sensitivity.name(), cells.join(" | "));
    }
    println!(
        "\nMedium sensitivity, by spike duration (recall of spikes ≥ ×3; all spikes), and by ramp (recall; median / p90 delay in minutes, spikes ≥ ×3):\n"
    );
    println!("| resolution | 5 min | 30 min | 1 h | 3 h | 6 h | 12 h | sudden ≥ ×3 | gradual ≥ ×3 |");
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    for (resolution, sensitivity, r, _) in &reports {
        if *sensitivity != Sensitivity::Medium {
            continue;
        }
        let mut cells: Vec<String> = [5, 30, 60, 180, 360, 720]
            .iter()
            .map(|m| {
                let len = |o: &Outcome| spike(o) && o.window.end_ms - o.window.start_ms == m * 60_000;
                format!("{:.2}; {:.2}", r.recall(|o| len(o) && o.window.magnitude >= 3.0), r.recall(len))
            })
            .collect();
        for gradual in [false, true] {
            let ramp = |o: &Outcome| spike(o) && o.window.gradual == gradual && o.window.magnitude >= 3.0;
            let minutes = |q| r.delay(q, ramp).map_or("–".into(), |(_, m)| format!("{m:.0}"));
            cells.push(format!("{:.2}; {} / {}", r.recall(ramp), minutes(0.5), minutes(0.9)));
        }
        println!("| {} | {} |", res_name(*resolution), cells.join(" | "));
    }
    println!("\nMedium sensitivity, by volume class:\n");
    println!("| resolution | class | recall (spikes) | recall ≥ ×3 | recall (surges) | false alarms / query-week |");
    println!("|---|---|---:|---:|---:|---:|");
    for (resolution, sensitivity, r, _) in &reports {
        if *sensitivity != Sensitivity::Medium {
            continue;
        }
        for class in VolumeClass::ALL {
            println!(
                "| {} | {} | {} | {} | {} | {:.2} |",
                res_name(*resolution),
                class.name(),
                fraction(r, |o| spike(o) && o.class == class),
                fraction(r, |o| spike(o) && o.class == class && o.window.magnitude >= 3.0),
                fraction(r, |o| o.window.kind == WindowKind::NegativeSurge && o.class == class),
                r.false_alarms_per_query_week(Some(class))
            );
        }
    }
    println!("\nSpeed (one thread):\n");
    println!("| resolution | `scan` (backfill) buckets/s | `assess` (one bucket, 5 weeks of history) per s |");
    println!("|---|---:|---:|");
    for resolution in [Resolution::Hour, Resolution::FiveMinutes] {
        let scan = reports.iter().filter(|r| r.0 == resolution).map(|r| r.3).fold(0.0, f64::max);
        println!("| {} | {:.0} | {:.0} |", res_name(resolution), scan, assess_rate(&series, resolution)?);
    }
    Ok(())
}

/// `assess` on the bucket after 5 weeks of history, for each series in turn, for about a second.
fn assess_rate(series: &[LabelledSeries], resolution: Resolution) -> Result<f64, Box<dyn std::error::Error>> {
    let detector = Detector::new(DetectorConfig::new(resolution))?;
    let cases: Vec<(Vec<relais_listen::spike::Bucket>, usize)> = series
        .iter()
        .take(50)
        .map(|s| {
            let b = at_resolution(s, resolution);
            let at = (5 * WEEK_MS / resolution.millis()) as usize;
            (b, at)
        })
        .collect();
    let state = AlertState::default();
    let (mut calls, mut alerts) = (0usize, 0usize);
    let started = Instant::now();
    while started.elapsed().as_secs_f64() < 1.0 {
        for (buckets, at) in &cases {
            for k in 0..20 {
                let i = (*at + k).min(buckets.len() - 1);
                alerts += detector.assess(&buckets[..i], &buckets[i], &state).alerts().count();
                calls += 1;
            }
        }
    }
    std::hint::black_box(alerts);
    Ok(calls as f64 / started.elapsed().as_secs_f64())
}

fn res_name(r: Resolution) -> &'static str {
    match r {
        Resolution::Hour => "hourly",
        Resolution::FiveMinutes => "5 min",
    }
}

fn fraction(r: &Report, filter: impl Fn(&Outcome) -> bool) -> String {
    let (hits, total) = r.recall_counts(filter);
    if total == 0 { "–".into() } else { format!("{:.3} ({hits}/{total})", hits as f64 / total as f64) }
}

fn delay(d: Option<(i64, f64)>) -> String {
    d.map_or("–".into(), |(b, m)| format!("{b} / {m:.0}"))
}
