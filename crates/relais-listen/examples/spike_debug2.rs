#![allow(clippy::print_stdout, clippy::unwrap_used, missing_docs)]
use relais_listen::spike::eval::{CorpusConfig, WindowKind, corpus, evaluate};
use relais_listen::spike::{DetectorConfig, HOUR_MS, Resolution};

fn main() {
    let series = corpus(20_261_123, 60, &CorpusConfig::default());
    for res in [Resolution::Hour, Resolution::FiveMinutes] {
        let r = evaluate(&series, DetectorConfig::new(res), HOUR_MS).unwrap();
        println!(
            "{res:?} FP {:?} explained {} share {}",
            r.false_positives, r.explained_false_positives, r.share_false_positives
        );
        for gradual in [false, true] {
            let mut d: Vec<i64> = r
                .outcomes
                .iter()
                .filter(|o| {
                    o.window.kind == WindowKind::Spike && o.window.gradual == gradual && o.window.magnitude >= 3.0
                })
                .filter_map(|o| o.delay_buckets)
                .collect();
            d.sort();
            println!("{res:?} gradual {gradual}: {d:?}");
        }
    }
}
#[allow(dead_code)]
fn fp() {}
