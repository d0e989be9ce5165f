//! Scores the VADER tweets 20 times and prints texts per second (profiling aid).
#![allow(clippy::print_stdout)]

use relais_listen::enrich::eval::{parse_vader_gold, vader_gold_dir};
use relais_listen::enrich::sentiment::SentimentAnalyzer;

fn main() -> std::io::Result<()> {
    let rated = parse_vader_gold(&std::fs::read(vader_gold_dir().join("tweets_GroundTruth.txt"))?);
    let analyzer = SentimentAnalyzer::english();
    let started = std::time::Instant::now();
    let mut total = 0.0;
    for _ in 0..20 {
        for r in &rated {
            total += analyzer.compound(&r.text);
        }
    }
    let rate = (20 * rated.len()) as f64 / started.elapsed().as_secs_f64();
    println!("{rate:.0} texts/s ({total:.1})");
    Ok(())
}
