//! Near-duplicate grouping on posts cut from templates (from the generator of `relais bench
//! listen-pipeline`, `relais_listen::corpus`, with its 200-brand list of `--brands 200`; not the
//! very posts the benchmark draws), comparing each post with at most 16 stories (the default), 64,
//! or every candidate: how many stories each leaves, and the time per post on one core. Prints
//! markdown.
//! Usage: `stories_templated [--posts N]` (default 300,000).
#![allow(clippy::print_stdout)]

use relais_listen::corpus::{self, Rng};
use relais_listen::enrich::dedup::{Sketch, Stories, StoriesConfig};
use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let posts = args
        .iter()
        .position(|a| a == "--posts")
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(300_000usize);
    let mut rng = Rng::new(0x005E_1A15);
    let brands = corpus::brands(200, &mut rng);
    let texts: Vec<String> = corpus::posts(posts, &brands, &mut rng).into_iter().map(|p| p.text).collect();
    let mut scratch = String::new();
    let started = Instant::now();
    let sketches: Vec<Sketch> = texts.iter().map(|t| Sketch::of(t, &mut scratch)).collect();
    let sketch_us = started.elapsed().as_secs_f64() * 1e6 / posts as f64;
    println!("{posts} posts, 20,000 stories remembered (the pipeline's setting); sketches {sketch_us:.2} µs/post\n");
    println!("| stories compared per post at most | stories | posts joining an earlier story | grouping µs/post |");
    println!("|---|---:|---:|---:|");
    for max_compared in [16, 64, usize::MAX] {
        let config = StoriesConfig { capacity: 20_000, max_compared, ..StoriesConfig::default() };
        let mut stories = Stories::new(config);
        let started = Instant::now();
        let new: usize = sketches.iter().map(|s| usize::from(stories.add_sketch(s.clone()).new)).sum();
        let us = started.elapsed().as_secs_f64() * 1e6 / posts as f64;
        let label = if max_compared == usize::MAX { "every candidate".to_owned() } else { max_compared.to_string() };
        println!("| {label} | {new} | {} | {us:.2} |", posts - new);
    }
}
