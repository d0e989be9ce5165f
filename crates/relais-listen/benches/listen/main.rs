//! Benchmark of the listening matcher (issue 4 §2): posts per second on one thread against 1k,
//! 10k and 100k stored queries, with (a) tokenising alone, (b) a naive evaluate-every-query loop
//! and (c) the `mokaccino` percolator on the same queries and posts; memory per engine is measured
//! in a child process (RSS growth while building it).
//!
//! `cargo bench -p relais-listen --bench listen [-- --sizes 1000,10000,100000 --posts 20000 --runs 3]`
#![allow(clippy::print_stdout, clippy::unwrap_used, clippy::expect_used, missing_docs)]

use mokaccino::prelude::{CNFQueryable, Document, Percolator, Query};
use relais_listen::corpus::{self, Post, Rng};
use relais_listen::matcher::{Matcher, Scratch};
use relais_query::doc::for_each_meta_key;
use relais_query::eval::{analyze, matches};
use relais_query::text::{Tokens, for_each_token, for_each_token_bytes};
use relais_query::{Doc, FilterKind, Node, TextField, parse};
use std::hint::black_box;
use std::time::{Duration, Instant};

const SEED: u64 = 0x005E_1A15;
const BRANDS: usize = 20_000;
const PROBE: &str = "RELAIS_BENCH_PROBE";
const SAMPLE: usize = 2_000;

struct Opts {
    sizes: Vec<usize>,
    posts: usize,
    runs: usize,
    /// `--profile`: only the compiled matcher, many passes (for `perf record`).
    profile: bool,
}

fn args_has(flag: &str) -> bool {
    std::env::args().any(|a| a == flag)
}

fn opts() -> Opts {
    let mut o = Opts { sizes: vec![1_000, 10_000, 100_000], posts: 20_000, runs: 3, profile: args_has("--profile") };
    let args: Vec<String> = std::env::args().collect();
    for w in args.windows(2) {
        match w[0].as_str() {
            "--sizes" => o.sizes = w[1].split(',').map(|s| s.parse().unwrap()).collect(),
            "--posts" => o.posts = w[1].parse().unwrap(),
            "--runs" => o.runs = w[1].parse().unwrap(),
            _ => {}
        }
    }
    o
}

fn doc(p: &Post) -> Doc<'_> {
    Doc {
        text: &p.text,
        title: p.title.as_deref(),
        lang: Some(p.lang),
        author: Some(&p.author),
        domain: p.domain,
        source: Some(p.source),
    }
}

/// The stored queries, the measured posts and a separate sample of posts (other seed) from which
/// the matcher learns term frequencies, as a deployment would from recent posts.
fn data(n_queries: usize, n_posts: usize) -> (Vec<Node>, Vec<Post>, Vec<Post>) {
    let mut rng = Rng::new(SEED);
    let brands = corpus::brands(BRANDS, &mut rng);
    let posts = corpus::posts(n_posts, &brands, &mut rng);
    let sample = corpus::posts(if n_posts > 0 { SAMPLE } else { 0 }, &brands, &mut Rng::new(SEED + 1));
    let mut qrng = Rng::new(SEED ^ n_queries as u64);
    let texts = corpus::queries(n_queries, &brands, &mut qrng);
    let nodes: Vec<Node> = texts.iter().map(|q| parse(q).unwrap_or_else(|e| panic!("{q}: {e}"))).collect();
    (nodes, posts, sample)
}

/// Best (shortest) of `runs` timings of `f`, with its result.
fn best<T>(runs: usize, mut f: impl FnMut() -> T) -> (Duration, T) {
    let mut best: Option<(Duration, T)> = None;
    for _ in 0..runs {
        let t = Instant::now();
        let r = f();
        let d = t.elapsed();
        if best.as_ref().is_none_or(|(b, _)| d < *b) {
            best = Some((d, r));
        }
    }
    best.unwrap()
}

/// The median of `rounds` (at least one) values of `f`.
fn median_of(rounds: usize, mut f: impl FnMut() -> f64) -> f64 {
    let mut values: Vec<f64> = (0..rounds.max(1)).map(|_| f()).collect();
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn rate(posts: usize, d: Duration) -> f64 {
    posts as f64 / d.as_secs_f64()
}

fn rss_kb() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

fn to_mokaccino(n: &Node) -> Query {
    let field = |f: TextField| if f == TextField::Title { "title" } else { "body" };
    match n {
        Node::Term { field: f, token, prefix: false } => field(*f).has_value(token.as_str()),
        Node::Term { field: f, token, prefix: true } => field(*f).has_prefix(token.as_str()),
        // Approximations (mokaccino has no positions): a phrase is the AND of its words, NEAR the AND of its sides.
        Node::Phrase { field: f, tokens } => {
            tokens.iter().map(|t| field(*f).has_value(t.as_str())).reduce(|a, b| a & b).unwrap()
        }
        Node::Near { left, right, .. } => to_mokaccino(left) & to_mokaccino(right),
        Node::Raw(p) => "raw".has_value(p.as_str()),
        Node::Filter(k, v) => k.name().has_value(v.as_str()),
        Node::And(c) => c.iter().map(to_mokaccino).reduce(|a, b| a & b).unwrap(),
        Node::Or(c) => c.iter().map(to_mokaccino).reduce(|a, b| a | b).unwrap(),
        Node::Not(c) => !to_mokaccino(c),
    }
}

fn mokaccino_doc(p: &Doc<'_>, buf: &mut String) -> Document {
    let mut d = Document::default();
    for_each_token(p.text, buf, |t| d.with_value_mut("body", t));
    if let Some(title) = p.title {
        for_each_token(title, buf, |t| d.with_value_mut("title", t));
    }
    for kind in [FilterKind::Lang, FilterKind::Author, FilterKind::Domain, FilterKind::Source] {
        if let Some(v) = p.meta(kind) {
            for_each_meta_key(kind, v, |k| d.with_value_mut(kind.name(), k));
        }
    }
    d
}

/// Child process: builds one engine and prints how much the RSS grew.
fn probe(spec: &str) {
    let (engine, n) = spec.split_once(':').unwrap();
    let (nodes, _, _) = data(n.parse().unwrap(), 0);
    let before = rss_kb();
    let kept: Box<dyn std::any::Any> = match engine {
        "relais" => Box::new(Matcher::new(&nodes).unwrap()),
        _ => {
            let mut p = Percolator::default();
            for q in &nodes {
                p.add_query(to_mokaccino(q));
            }
            Box::new(p)
        }
    };
    let after = rss_kb();
    black_box(&kept);
    println!("{}", after.saturating_sub(before));
}

fn probe_child(engine: &str, n: usize) -> String {
    let exe = std::env::current_exe().unwrap();
    let out = std::process::Command::new(exe).env(PROBE, format!("{engine}:{n}")).output().unwrap();
    let kb: f64 = String::from_utf8_lossy(&out.stdout).trim().parse().unwrap_or(f64::NAN);
    format!("{:.1} MB", kb / 1024.0)
}

fn main() {
    if let Ok(spec) = std::env::var(PROBE) {
        return probe(&spec);
    }
    let o = opts();
    let (_, posts, sample) = data(0, o.posts);
    let docs: Vec<Doc<'_>> = posts.iter().map(doc).collect();
    let sample: Vec<Doc<'_>> = sample.iter().map(doc).collect();
    let mut tokens = Tokens::new();
    let (bytes, toks): (usize, usize) = docs.iter().fold((0, 0), |(b, t), d| {
        tokens.tokenize(d.text);
        (b + d.text.len(), t + tokens.len())
    });
    println!(
        "corpus: {} posts ({:.0} % French), {:.0} bytes and {:.1} tokens per post on average; best of {} runs, one thread",
        docs.len(),
        100.0 * posts.iter().filter(|p| p.lang == "fr").count() as f64 / posts.len() as f64,
        bytes as f64 / docs.len() as f64,
        toks as f64 / docs.len() as f64,
        o.runs
    );
    let mut buf = String::new();
    let (d, _) = best(o.runs, || {
        let mut n = 0usize;
        for d in &docs {
            for_each_token_bytes(d.text, &mut buf, |t| n += t.len());
            if let Some(t) = d.title {
                for_each_token_bytes(t, &mut buf, |t| n += t.len());
            }
        }
        black_box(n)
    });
    let floor = rate(docs.len(), d);
    println!("(a) floor, folding and tokenising alone: {floor:.0} posts/s\n");
    println!(
        "| stored queries | relais posts/s | matches/post | candidates/post | relais, heuristic anchors: posts/s (candidates/post) | relais memory (RSS / heap est.) | build | (b) naive posts/s | (c) mokaccino posts/s | mokaccino memory (RSS) | mokaccino build | relais ÷ mokaccino (bests) | relais ÷ mokaccino (adjacent passes, median) | relais ÷ mokaccino (adjacent equal times, median) |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for &n in &o.sizes {
        row(n, &docs, &sample, &o);
    }
}

/// One pass: every post matched; the matches and candidates found.
fn pass(matcher: &Matcher, docs: &[Doc<'_>], scratch: &mut Scratch, out: &mut Vec<u32>) -> (usize, usize) {
    let (mut found, mut cands) = (0usize, 0usize);
    for doc in docs {
        out.clear();
        matcher.matches_into(doc, scratch, out);
        found += out.len();
        cands += Matcher::last_candidates(scratch);
    }
    (found, cands)
}

/// Passes until at least `least` has passed: the time taken and how many passes.
fn for_at_least(matcher: &Matcher, docs: &[Doc<'_>], least: Duration) -> (Duration, usize) {
    let (mut scratch, mut out) = (Scratch::default(), Vec::new());
    let (t, mut passes) = (Instant::now(), 0);
    while passes == 0 || t.elapsed() < least {
        black_box(pass(matcher, docs, &mut scratch, &mut out));
        passes += 1;
    }
    (t.elapsed(), passes)
}

/// The best of `runs` passes: its time, matches and candidates.
fn run(matcher: &Matcher, docs: &[Doc<'_>], runs: usize) -> (Duration, (usize, usize)) {
    let (mut scratch, mut out) = (Scratch::default(), Vec::new());
    best(runs, || pass(matcher, docs, &mut scratch, &mut out))
}

fn row(n: usize, docs: &[Doc<'_>], sample: &[Doc<'_>], o: &Opts) {
    let (nodes, _, _) = data(n, 0);
    let t = Instant::now();
    let matcher = Matcher::with_sample(&nodes, sample).unwrap();
    let build = t.elapsed();
    let (d, (found, cands)) = run(&matcher, docs, o.runs);
    let ours = rate(docs.len(), d);
    if o.profile {
        println!("{n} queries: {ours:.0} posts/s");
        return;
    }
    let plain = Matcher::new(&nodes).unwrap();
    let (dp, (found_plain, cands_plain)) = run(&plain, docs, o.runs);
    assert_eq!(found, found_plain);
    drop(plain);

    // (b) naive: every query on every post; sampled so that a run stays around a second.
    let sample = (20_000_000 / n).clamp(100, docs.len());
    let analyzed: Vec<_> = docs[..sample].iter().map(analyze).collect();
    let (dn, naive_found) = best(o.runs, || {
        let mut f = 0;
        for (doc, a) in docs[..sample].iter().zip(&analyzed) {
            let a2 = analyze(doc);
            f += nodes.iter().filter(|q| matches(q, &a2)).count();
            black_box(a);
        }
        f
    });
    let naive = rate(sample, dn);
    let ours_sample: usize = docs[..sample].iter().map(|d| matcher.matches(d).len()).sum();
    assert_eq!(ours_sample, naive_found, "compiled and naive disagree on the sample");

    // (c) mokaccino, same queries (phrases and NEAR approximated by AND), same tokeniser.
    let t = Instant::now();
    let mut perc = Percolator::default();
    for q in &nodes {
        perc.add_query(to_mokaccino(q));
    }
    let mbuild = t.elapsed();
    let mut buf = String::new();
    let mut percolate_all = || docs.iter().map(|p| perc.percolate(&mokaccino_doc(p, &mut buf)).count()).sum::<usize>();
    let (dm, _) = best(o.runs, &mut percolate_all);
    let moka = rate(docs.len(), dm);
    // The same ratio from adjacent passes: each round times one pass of each engine, one right
    // after the other, and the median of the rounds' ratios is kept. On a shared host whose speed
    // changes over seconds, the two bests above may come from different phases; adjacent passes
    // see the same one.
    let paired = median_of(o.runs, || {
        let (relais, _) = run(&matcher, docs, 1);
        let (moka, _) = best(1, &mut percolate_all);
        moka.as_secs_f64() / relais.as_secs_f64()
    });
    // And over equal times: one `mokaccino` pass (a quarter of a second at 1k queries), then
    // Relais passes for at least as long. A single Relais pass (about 10 ms) right after a
    // `mokaccino` pass is slower than its best by more than the long `mokaccino` pass is (see
    // BENCHMARKS.md); timing both over the same length of time is another reading.
    let equal = median_of(o.runs, || {
        let (moka, _) = best(1, &mut percolate_all);
        let (elapsed, passes) = for_at_least(&matcher, docs, moka);
        rate(docs.len() * passes, elapsed) / rate(docs.len(), moka)
    });
    println!(
        "| {n} | {ours:.0} | {:.2} | {:.1} | {:.0} ({:.1}) | {} / {:.1} MB | {:.2} s | {naive:.0} ({sample} posts) | {moka:.0} | {} | {:.2} s | {:.0}× | {paired:.0}× | {equal:.0}× |",
        found as f64 / docs.len() as f64,
        cands as f64 / docs.len() as f64,
        rate(docs.len(), dp),
        cands_plain as f64 / docs.len() as f64,
        probe_child("relais", n),
        matcher.heap_bytes() as f64 / 1e6,
        build.as_secs_f64(),
        probe_child("mokaccino", n),
        mbuild.as_secs_f64(),
        ours / moka
    );
}
