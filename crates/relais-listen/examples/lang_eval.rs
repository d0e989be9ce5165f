//! Language detection accuracy on the test data shipped in the crates.io packages
//! `lingua-{english,french,german,spanish,italian,portuguese,dutch}-language-model` 1.3.0
//! (Apache-2.0; 1,000 single words, 1,000 word pairs, 1,000 sentences per language; the reference
//! measured lingua and whatlang on the same files) and on the 4,200 English VADER tweets.
//! Usage: `lang_eval DIR` where DIR holds the unpacked crates (e.g. ~/.cargo/registry/src/<index>/);
//! lines 1–500 of each file are the development half, 501–1000 the held-out half.
#![allow(clippy::print_stdout)]

use relais_listen::enrich::eval::{parse_vader_gold, vader_gold_dir};
use relais_listen::enrich::lang::{LANGS, Lang, LangDetector};
use std::path::PathBuf;
use std::time::Instant;

fn main() -> std::io::Result<()> {
    let dir = PathBuf::from(std::env::args().nth(1).unwrap_or_else(|| ".".into()));
    let detector = LangDetector::new();
    let names = ["english", "french", "spanish", "german", "italian", "portuguese", "dutch"];
    for kind in ["single-words", "word-pairs", "sentences"] {
        for (half, range) in [("dev", 0..500), ("held-out", 500..1000)] {
            let (mut ok, mut n, mut per) = (0, 0, Vec::new());
            let mut elapsed = 0.0;
            for (lang, name) in LANGS.iter().zip(names) {
                let path = dir.join(format!("lingua-{name}-language-model-1.3.0/testdata/{kind}.txt"));
                let text = std::fs::read_to_string(&path)?;
                let lines: Vec<&str> = text.lines().collect();
                let lines = &lines[range.clone().start.min(lines.len())..range.end.min(lines.len())];
                let started = Instant::now();
                let good = lines.iter().filter(|l| detector.detect(l).lang == Some(*lang)).count();
                elapsed += started.elapsed().as_secs_f64();
                per.push(format!("{} {:.1}", lang.code(), 100.0 * good as f64 / lines.len() as f64));
                ok += good;
                n += lines.len();
            }
            println!(
                "{kind:<13} {half:<9} {:.1} % ({}) {:.2} µs/text",
                100.0 * ok as f64 / n as f64,
                per.join(", "),
                1e6 * elapsed / n as f64
            );
        }
    }
    if let Ok(bytes) = std::fs::read(vader_gold_dir().join("tweets_GroundTruth.txt")) {
        let tweets = parse_vader_gold(&bytes);
        let started = Instant::now();
        let ok = tweets.iter().filter(|t| detector.detect(&t.text).lang == Some(Lang::En)).count();
        let per = 1e6 * started.elapsed().as_secs_f64() / tweets.len() as f64;
        println!(
            "VADER tweets (English) {:.1} % of {}, {per:.2} µs/text",
            100.0 * ok as f64 / tweets.len() as f64,
            tweets.len()
        );
    }
    Ok(())
}
