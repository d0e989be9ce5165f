//! `relais bench enrich`: throughput of the enrichment on one core (sentiment, language, both,
//! near-duplicate grouping) and of `relais listen enrich` end to end on a generated NDJSON file.
//! Texts: the 4,200 VADER tweets when `scripts/data/vader-gold.sh` has fetched them, plus the 327
//! French posts of relais-listen's test set; each pass goes over them in a loop.
#![allow(clippy::print_stdout)]

use anyhow::Context;
use relais_listen::enrich::Enricher;
use relais_listen::enrich::dedup::{Stories, StoriesConfig};
use relais_listen::enrich::eval::{FRENCH_SET, parse_labelled, parse_vader_gold, vader_gold_dir};
use relais_listen::enrich::lang::Lang;
use std::io::Write;
use std::time::{Duration, Instant};

/// Runs every measurement `runs` times and prints the best of each.
pub fn enrich(posts: usize, runs: usize) -> anyhow::Result<()> {
    let english: Vec<String> = std::fs::read(vader_gold_dir().join("tweets_GroundTruth.txt"))
        .map(|b| parse_vader_gold(&b).into_iter().map(|r| r.text).collect())
        .unwrap_or_default();
    let french: Vec<String> = parse_labelled(FRENCH_SET).into_iter().map(|p| p.text).collect();
    if english.is_empty() {
        println!("(VADER tweets not fetched: run scripts/data/vader-gold.sh; English passes skipped)");
    }
    let enricher = Enricher::new();
    let en = enricher.analyzer(Lang::En);
    let fr = enricher.analyzer(Lang::Fr);
    let mixed: Vec<&String> = english.iter().chain(&french).collect();
    println!("one thread, {posts} posts per pass, best of {runs}:");
    if !english.is_empty() {
        report("sentiment, English tweets", posts, runs, &english, |t| en.compound(t));
        report("language, English tweets", posts, runs, &english, |t| {
            f64::from(enricher.detector().detect(t).confidence)
        });
    }
    report("sentiment, French posts", posts, runs, &french, |t| fr.compound(t));
    report("language, French posts", posts, runs, &french, |t| f64::from(enricher.detector().detect(t).confidence));
    report("enrich (lang + sentiment), mixed", posts, runs, &mixed, |t| {
        f64::from(enricher.enrich(t, None).sentiment.score)
    });
    let mut stories = Stories::new(StoriesConfig::default());
    let mut n = 0u64;
    report("near-duplicate stories, mixed", posts, runs, &mixed, |t| {
        n += 1;
        let text = if n.is_multiple_of(2) { format!("RT @x: {t} {n}") } else { t.to_string() };
        stories.add(&text).count as f64
    });
    end_to_end(&mixed, posts, runs)
}

fn report<T: AsRef<str>>(label: &str, posts: usize, runs: usize, texts: &[T], mut f: impl FnMut(&str) -> f64) {
    let mut best = Duration::MAX;
    let mut sink = 0.0;
    for _ in 0..runs {
        let started = Instant::now();
        for text in texts.iter().cycle().take(posts) {
            sink += f(text.as_ref());
        }
        best = best.min(started.elapsed());
    }
    let rate = posts as f64 / best.as_secs_f64();
    println!("  {label:<36} {rate:>12.0} posts/s  {:>7.2} µs/post  ({sink:.0})", 1e6 / rate);
}

/// Writes `posts` NDJSON lines and times this binary's `listen enrich` on them.
fn end_to_end<T: AsRef<str>>(texts: &[T], posts: usize, runs: usize) -> anyhow::Result<()> {
    let dir = tempfile_dir()?;
    let input = dir.join("posts.ndjson");
    let mut file = std::io::BufWriter::new(std::fs::File::create(&input)?);
    for (i, text) in texts.iter().cycle().take(posts).enumerate() {
        serde_json::to_writer(&mut file, &serde_json::json!({"id": i, "text": text.as_ref()}))?;
        file.write_all(b"\n")?;
    }
    file.flush()?;
    drop(file);
    let bytes = std::fs::metadata(&input)?.len();
    let mut best = Duration::MAX;
    for _ in 0..runs {
        let started = Instant::now();
        let status = std::process::Command::new(std::env::current_exe()?)
            .args(["listen", "enrich"])
            .arg(&input)
            .stdout(std::fs::File::create(dir.join("out.ndjson"))?)
            .status()
            .context("cannot run relais listen enrich")?;
        anyhow::ensure!(status.success(), "relais listen enrich failed");
        best = best.min(started.elapsed());
    }
    let rate = posts as f64 / best.as_secs_f64();
    println!(
        "  {:<36} {rate:>12.0} posts/s  ({:.1} MB in {:.2} s, process start included)",
        "relais listen enrich FILE (end to end)",
        bytes as f64 / 1e6,
        best.as_secs_f64()
    );
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}

fn tempfile_dir() -> anyhow::Result<std::path::PathBuf> {
    let dir = std::env::temp_dir().join(format!("relais-bench-enrich-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}
