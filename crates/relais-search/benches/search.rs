#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]
//! Search over many stored mentions: builds (once, cached on disk) an index of generated French
//! and English posts, then times a community manager's query mix with and without facets.
//!
//! `cargo bench -p relais-search --bench search`; environment:
//! - `RELAIS_BENCH_DOCS` (default 1,000,000): mentions in the index;
//! - `RELAIS_BENCH_DIR` (default `~/.cache/relais-bench/search-<docs>`): where the index is kept
//!   and reused (delete it to rebuild);
//! - `RELAIS_BENCH_QUERIES` (default 200): queries per kind, each run with and without facets;
//! - `RELAIS_BENCH_THREADS` (default 2) and `RELAIS_BENCH_HEAP_MB` (default 256, per thread):
//!   the writer's indexing threads and memory;
//! - `RELAIS_BENCH_COMMIT` (default 500,000): mentions per commit; each commit gives one segment
//!   per thread, of about COMMIT / THREADS mentions (fewer if the thread's memory fills first).
//!   `relais serve` indexes with one thread of 128 MB and commits up to 100,000 mentions a pass:
//!   `RELAIS_BENCH_THREADS=1 RELAIS_BENCH_HEAP_MB=128 RELAIS_BENCH_COMMIT=100000` builds its layout;
//! - `RELAIS_BENCH_MERGE=1`: merge the built index into one segment;
//! - `RELAIS_BENCH_PURGE=1`: after the queries, time an erasure's purge (one mention deleted, its
//!   segment rewritten without it; the mention is then added back).
//!
//! An index in the folder is reused only when it was built with the same settings and merge policy
//! (its marker file says how) and holds as many mentions; otherwise it is built again.

use relais_search::{Filters, MentionDoc, SearchIndex, SearchRequest, WriterOptions};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const DAY: i64 = 86_400_000;
/// The generated posts span the 90 days before this instant (2026-06-01T00:00:00Z).
const END_MS: i64 = 1_780_272_000_000;
const WORKSPACES: usize = 200;
const QUERIES_PER_WORKSPACE: usize = 5;
const SOURCES: [(&str, u32); 10] = [
    ("bluesky", 22),
    ("mastodon", 14),
    ("rss", 12),
    ("reddit", 10),
    ("youtube", 8),
    ("twitter", 12),
    ("facebook", 8),
    ("instagram", 6),
    ("forum", 4),
    ("ingest", 4),
];

const FR_HEAD: &str = "le la les de des du un une et à en est pas que qui pour dans sur avec ce il elle on nous vous \
    ils mais ou plus très tout fait être avoir comme bien aussi encore toujours jamais rien merci bonjour vraiment \
    trop peu service client panne réseau fibre mobile forfait prix promo offre commande livraison retard colis \
    remboursement magasin boutique application appli bug mise à jour compte facture abonnement résiliation conseiller \
    attente heure jour semaine mois année depuis hier aujourd'hui demain soir matin grève train gare retardé annulé \
    quai voyageurs billet contrôleur été hiver café cafés boulangerie marché ville paris lyon marseille lille bordeaux \
    nantes toulouse nouveau nouvelle nouveaux génial nul horrible super top déçu déçue content contente satisfait \
    scandale honte bravo enfin encore problème problèmes solution qualité produit produits écran batterie téléphone \
    ordinateur télé internet wifi box débit lent rapide cher gratuit moins jours semaines clients conseillers \
    personne personnes équipe équipes message messages réponse réponses mail appel appels numéro";
const EN_HEAD: &str = "the a an and to of in is it for on that this with was be you i not are but have my at so \
    just they we get can what all no your from out about like one will more up do there if when now time really \
    very good great bad worst best love hate customer service support help phone call wait waiting hours days \
    order delivery delayed late package refund store shop app update bug account bill subscription cancel price \
    deal sale offer new launch release review reviews quality product products screen battery laptop internet wifi \
    slow fast expensive free outage down working broken fixed issue issues problem problems team thanks thank \
    awesome terrible disappointed happy amazing train station strike cancelled coffee weather city london paris \
    people someone anyone everyone again still never always today yesterday tomorrow week month year";
const OTHER_HEAD: &str = "el la los de que y en un una por con para es servicio cliente der die das und ist nicht \
    mit kunden dienst il di che per con servizio";
const SYLLABLES: [&str; 24] = [
    "ba", "co", "di", "fa", "ge", "ki", "lo", "ma", "ne", "po", "ra", "si", "tu", "va", "ze", "bri", "cla", "dro",
    "fli", "gra", "pla", "stu", "tre", "vor",
];
const TOPIC_FR: [&str; 6] =
    ["service client", "en panne", "mise à jour", "prise de position", "rupture de stock", "temps d'attente"];
const TOPIC_EN: [&str; 6] =
    ["customer service", "out of stock", "waiting time", "price increase", "new release", "broken again"];
const TAGS: [&str; 8] = ["#grève", "#panne", "#bonplan", "#promo", "#fail", "#service", "#news", "#avis"];
const SITES: [&str; 8] = [
    "lemonde.fr",
    "www.lefigaro.fr",
    "blog.example.com",
    "news.bbc.co.uk",
    "actu.orange.fr",
    "medium.com",
    "forum.hardware.fr",
    "www.theguardian.com",
];

/// SplitMix64: small, fast, deterministic.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

/// Values drawn with Zipf-like weights (rank `r` has weight `1 / r^s`).
struct Zipf<T> {
    items: Vec<T>,
    cumulative: Vec<f64>,
}

impl<T: Clone> Zipf<T> {
    fn new(items: Vec<T>, s: f64) -> Self {
        let mut total = 0.0;
        let cumulative = (1..=items.len())
            .map(|r| {
                total += 1.0 / (r as f64).powf(s);
                total
            })
            .collect();
        Self { items, cumulative }
    }

    fn sample(&self, rng: &mut Rng) -> &T {
        let total = self.cumulative.last().copied().unwrap_or(1.0);
        let x = (rng.next() >> 11) as f64 / (1u64 << 53) as f64 * total;
        let i = self.cumulative.partition_point(|c| *c < x).min(self.items.len() - 1);
        &self.items[i]
    }
}

fn synthetic_words(rng: &mut Rng, n: usize, suffix: &str) -> Vec<String> {
    (0..n)
        .map(|_| {
            let k = 2 + rng.below(3);
            let mut w: String = (0..k).map(|_| SYLLABLES[rng.below(SYLLABLES.len())]).collect();
            w.push_str(suffix);
            w
        })
        .collect()
}

/// Everything the generator draws from, built from one seed.
struct World {
    fr: Zipf<String>,
    en: Zipf<String>,
    other: Zipf<String>,
    /// Per workspace, one brand per stored query.
    brands: Vec<[String; QUERIES_PER_WORKSPACE]>,
    workspaces: Zipf<usize>,
    sources: Vec<&'static str>,
}

impl World {
    fn new() -> Self {
        let mut rng = Rng(0x5EED);
        let lexicon = |head: &str, rng: &mut Rng, suffix: &str| {
            let mut words: Vec<String> = head.split_whitespace().map(str::to_owned).collect();
            words.extend(synthetic_words(rng, 20_000, suffix));
            Zipf::new(words, 1.0)
        };
        let fr = lexicon(FR_HEAD, &mut rng, "e");
        let en = lexicon(EN_HEAD, &mut rng, "y");
        let other = lexicon(OTHER_HEAD, &mut rng, "o");
        let mut brands = Vec::with_capacity(WORKSPACES);
        for w in 0..WORKSPACES {
            // Brand tokens: syllables plus the workspace number, so they never collide with words.
            let brand = |q: usize| {
                let mut b: String = (0..2).map(|i| SYLLABLES[(w * 7 + q * 3 + i * 5) % SYLLABLES.len()]).collect();
                b.push_str(&format!("{}x{q}", w));
                b
            };
            brands.push(std::array::from_fn(brand));
        }
        let sources = SOURCES.iter().flat_map(|(s, w)| std::iter::repeat_n(*s, *w as usize)).collect();
        Self { fr, en, other, brands, workspaces: Zipf::new((0..WORKSPACES).collect(), 0.7), sources }
    }

    fn mention(&self, id: i64) -> MentionDoc {
        let mut rng = Rng(id as u64 ^ 0xA5A5_0000_0000);
        let ws = *self.workspaces.sample(&mut rng);
        let q = rng.below(QUERIES_PER_WORKSPACE);
        let mut query_ids = vec![(ws * 10 + q) as i64];
        if rng.chance(15) {
            let q2 = (q + 1 + rng.below(QUERIES_PER_WORKSPACE - 1)) % QUERIES_PER_WORKSPACE;
            query_ids.push((ws * 10 + q2) as i64);
        }
        let roll = rng.below(100);
        let (lang, vocab, topics): (&str, &Zipf<String>, &[&str]) = match roll {
            0..55 => ("fr", &self.fr, &TOPIC_FR),
            55..95 => ("en", &self.en, &TOPIC_EN),
            95..97 => ("es", &self.other, &[]),
            97..99 => ("de", &self.other, &[]),
            _ => ("und", &self.other, &[]),
        };
        let source = self.sources[rng.below(self.sources.len())];
        let len = 6 + rng.below(24);
        let brand_at = rng.below(len);
        let mut text = String::with_capacity(200);
        if rng.chance(20) {
            text.push_str(&format!("@user{} ", rng.below(50_000)));
        }
        for i in 0..len {
            if i == brand_at {
                let brand = &self.brands[ws][q];
                text.push_str(if rng.chance(10) { "#" } else { "" });
                text.push_str(&if rng.chance(30) { capitalise(brand) } else { brand.clone() });
            } else if i == brand_at + 2 && !topics.is_empty() && rng.chance(30) {
                text.push_str(topics[rng.below(topics.len())]);
            } else {
                text.push_str(vocab.sample(&mut rng));
            }
            text.push(if rng.chance(8) { ',' } else { ' ' });
        }
        if rng.chance(25) {
            text.push_str(TAGS[rng.below(TAGS.len())]);
            text.push(' ');
        }
        let domain = (source == "rss" || rng.chance(15)).then(|| SITES[rng.below(SITES.len())].to_owned());
        if let Some(d) = &domain {
            text.push_str(&format!("https://{d}/article/{}", rng.below(1_000_000)));
        }
        let sentiment = match rng.below(100) {
            0..25 => ("negative", -0.6),
            25..75 => ("neutral", 0.0),
            _ => ("positive", 0.7),
        };
        let author = match source {
            "mastodon" => format!("user{}@mastodon.social", rng.below(50_000)),
            "bluesky" => format!("user{}.bsky.social", rng.below(50_000)),
            _ => format!("user{}", rng.below(50_000)),
        };
        MentionDoc {
            id,
            workspace_id: ws as i64,
            query_ids,
            source: source.to_owned(),
            lang: lang.to_owned(),
            sentiment: sentiment.0.to_owned(),
            sentiment_score: sentiment.1,
            published_at_ms: END_MS - 1 - (rng.next() % (90 * DAY as u64)) as i64,
            author: Some(author),
            domain,
            title: (source == "rss").then(|| format!("{} : {}", self.brands[ws][q], vocab.sample(&mut rng))),
            text,
        }
    }
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    c.next().map(|f| f.to_uppercase().chain(c).collect()).unwrap_or_default()
}

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.replace('_', "").parse().ok()).unwrap_or(default)
}

fn dir_size(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .map(|rd| rd.flatten().filter_map(|e| e.metadata().ok()).filter(|m| m.is_file()).map(|m| m.len()).sum())
        .unwrap_or(0)
}

/// `VmRSS` and `VmHWM` of this process, in MB.
fn rss_mb() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse::<u64>().ok())
            .map_or(0, |kb| kb / 1024)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// Opens the cached index, or builds it; returns the index and the build report line.
fn open_or_build(world: &World, docs: usize, dir: &Path) -> (SearchIndex, String) {
    let marker = dir.join("relais-bench-built.txt");
    let threads = env_usize("RELAIS_BENCH_THREADS", 2);
    let heap = env_usize("RELAIS_BENCH_HEAP_MB", 256) << 20;
    let batch = env_usize("RELAIS_BENCH_COMMIT", 500_000).max(1);
    let merge_all = std::env::var("RELAIS_BENCH_MERGE").is_ok_and(|v| v == "1");
    // An index built another way (other settings, another merge policy) is not reused.
    let layout = format!(
        "layout: {threads} threads of {} MB, {batch} per commit, {} segments per merge{}",
        heap >> 20,
        relais_search::MERGE_SEGMENTS,
        if merge_all { ", merged into one" } else { "" }
    );
    if let Ok(report) = std::fs::read_to_string(&marker)
        && report.starts_with(&layout)
    {
        let index = SearchIndex::open_or_create(dir).unwrap();
        if index.num_docs() == docs as u64 {
            return (index, format!("reused {} ({report})", dir.display()));
        }
    }
    let _ = std::fs::remove_dir_all(dir);
    let index = SearchIndex::open_or_create(dir).unwrap();
    let mut writer = index.writer(WriterOptions { threads, heap_bytes_per_thread: heap }).unwrap();
    let start = Instant::now();
    for id in 1..=docs as i64 {
        writer.add(&world.mention(id)).unwrap();
        if (id as usize).is_multiple_of(batch) {
            writer.commit().unwrap();
            let secs = start.elapsed().as_secs_f64();
            eprintln!("indexed {id} mentions in {secs:.0} s ({:.0}/s), RSS {:?} MB", id as f64 / secs, rss_mb());
        }
    }
    writer.commit().unwrap();
    let indexed = start.elapsed();
    if merge_all {
        writer.merge_all().unwrap();
    } else {
        writer.finish().unwrap();
    }
    let total = start.elapsed();
    let report = format!(
        "{layout}; built {docs} mentions: {:.0} s to index ({:.0} docs/s), {:.0} s with merges; build peak RSS {} MB",
        indexed.as_secs_f64(),
        docs as f64 / indexed.as_secs_f64(),
        total.as_secs_f64(),
        rss_mb().1
    );
    std::fs::write(&marker, &report).unwrap();
    (index, report)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Brand,
    And,
    OrNot,
    Phrase,
    Near,
    Wildcard,
    Hashtag,
    Filtered,
    Everything,
    NearSpans,
    Raw,
    RawLower,
    RawChecked,
}

const KINDS: [(Kind, &str); 13] = [
    (Kind::Brand, "brand word"),
    (Kind::And, "AND"),
    (Kind::OrNot, "OR + NOT"),
    (Kind::Phrase, "phrase"),
    (Kind::Near, "NEAR/3"),
    (Kind::Wildcard, "wildcard"),
    (Kind::Hashtag, "hashtag"),
    (Kind::Filtered, "brand + lang/sentiment/7 days"),
    (Kind::Everything, "everything (no query)"),
    (Kind::NearSpans, "NEAR/5, phrase or prefix side"),
    (Kind::Raw, "raw:Brand (capitalised)"),
    (Kind::RawLower, "raw:brand (lower case)"),
    (Kind::RawChecked, "raw:\"Brand word\" (candidates' texts checked)"),
];

fn request(world: &World, kind: Kind, rng: &mut Rng) -> (i64, SearchRequest) {
    let ws = *world.workspaces.sample(rng);
    let brands = &world.brands[ws];
    let b = &brands[rng.below(QUERIES_PER_WORKSPACE)];
    let b2 = &brands[rng.below(QUERIES_PER_WORKSPACE)];
    let common = ["panne", "service", "retard", "prix", "app", "bug", "late", "refund", "great", "client"];
    let w = common[rng.below(common.len())];
    let prefixes = ["pann*", "rembours*", "livr*", "deliver*", "cancel*", "serv*", "probl*", "conseil*"];
    let phrases =
        ["\"service client\"", "\"customer service\"", "\"en panne\"", "\"out of stock\"", "\"temps d'attente\""];
    let text = match kind {
        Kind::Brand => b.clone(),
        Kind::And => format!("{b} {w}"),
        Kind::OrNot => format!("({b} OR {b2}) -promo"),
        Kind::Phrase => phrases[rng.below(phrases.len())].to_owned(),
        Kind::Near => format!("{b} NEAR/3 ({w} OR problème OR bad)"),
        Kind::Wildcard => prefixes[rng.below(prefixes.len())].to_owned(),
        Kind::Hashtag => {
            if rng.chance(50) {
                format!("#{b}")
            } else {
                TAGS[rng.below(TAGS.len())].to_owned()
            }
        }
        Kind::Filtered => b.clone(),
        Kind::Everything => String::new(),
        Kind::NearSpans => {
            let side =
                if rng.chance(50) { phrases[rng.below(phrases.len())] } else { prefixes[rng.below(prefixes.len())] };
            format!("{b} NEAR/5 {side}")
        }
        Kind::Raw => format!("raw:{}", capitalise(b)),
        Kind::RawLower => format!("raw:{b}"),
        Kind::RawChecked => format!("raw:\"{} {w}\"", capitalise(b)),
    };
    let mut req = SearchRequest::parse(&text).unwrap();
    if kind == Kind::Filtered {
        req.filters = Filters {
            langs: vec![if rng.chance(60) { "fr" } else { "en" }.to_owned()],
            sentiments: vec!["negative".to_owned()],
            from_ms: Some(END_MS - 7 * DAY),
            ..Filters::default()
        };
        if rng.chance(50) {
            req.filters.sources = vec![SOURCES[rng.below(4)].0.to_owned()];
        }
    }
    (ws as i64, req)
}

struct Stats(Vec<Duration>);

impl Stats {
    fn line(&mut self) -> String {
        self.0.sort_unstable();
        let n = self.0.len();
        let q = |p: f64| self.0[((n as f64 * p).ceil() as usize).clamp(1, n) - 1];
        let ms = |d: Duration| d.as_secs_f64() * 1e3;
        format!("{:.1} | {:.1} | {:.1} | {:.1}", ms(q(0.50)), ms(q(0.95)), ms(q(0.99)), ms(self.0[n - 1]))
    }
}

fn main() {
    let docs = env_usize("RELAIS_BENCH_DOCS", 1_000_000);
    let per_kind = env_usize("RELAIS_BENCH_QUERIES", 200);
    let dir = std::env::var("RELAIS_BENCH_DIR").map(PathBuf::from).unwrap_or_else(|_| {
        let home = std::env::var("HOME").unwrap_or_else(|_| "/root".to_owned());
        PathBuf::from(home).join(format!(".cache/relais-bench/search-{docs}"))
    });
    let world = World::new();
    let (index, build) = open_or_build(&world, docs, &dir);
    println!("{build}");
    let mut sizes = vec![0u64; WORKSPACES];
    for id in 1..=docs.min(200_000) as i64 {
        sizes[world.mention(id).workspace_id as usize] += 1;
    }
    let largest = sizes.iter().max().copied().unwrap_or(0) as f64 / docs.min(200_000) as f64;
    println!(
        "index: {} mentions, {} segments, {:.2} GB on disk; largest workspace ≈ {:.1} % of mentions",
        index.num_docs(),
        index.num_segments(),
        dir_size(&dir) as f64 / 1e9,
        largest * 100.0
    );
    // Warm up: the page cache and tantivy's term dictionaries.
    let mut rng = Rng(7);
    for _ in 0..200 {
        for (kind, _) in KINDS {
            let (ws, req) = request(&world, kind, &mut rng);
            index.search(ws, &SearchRequest { facets: true, ..req }).unwrap();
        }
    }
    let mut rng = Rng(11);
    let mut overall = [Stats(Vec::new()), Stats(Vec::new())];
    println!("\n| query kind | facets | p50 ms | p95 ms | p99 ms | max ms | mean total hits |");
    println!("|---|---|---|---|---|---|---|");
    for (kind, name) in KINDS {
        let mut stats = [Stats(Vec::new()), Stats(Vec::new())];
        let mut totals = 0u64;
        for _ in 0..per_kind {
            let (ws, req) = request(&world, kind, &mut rng);
            for (f, facets) in [false, true].into_iter().enumerate() {
                let req = SearchRequest { facets, ..req.clone() };
                let t = Instant::now();
                let res = index.search(ws, &req).unwrap();
                let d = t.elapsed();
                stats[f].0.push(d);
                overall[f].0.push(d);
                totals += res.total;
                assert!(res.hits.len() as u64 == res.total.min(50));
            }
        }
        for (f, s) in stats.iter_mut().enumerate() {
            let mean = totals as f64 / (2 * per_kind) as f64;
            println!("| {name} | {} | {} | {mean:.0} |", if f == 1 { "on" } else { "off" }, s.line());
        }
    }
    for (f, s) in overall.iter_mut().enumerate() {
        println!("| **all kinds** | {} | {} | |", if f == 1 { "on" } else { "off" }, s.line());
    }
    let (rss, hwm) = rss_mb();
    println!("\nprocess RSS after the queries: {rss} MB (peak {hwm} MB; mapped index pages count in RSS)");
    if std::env::var("RELAIS_BENCH_PURGE").is_ok_and(|v| v == "1") {
        purge(&world, &index, docs, &dir);
    }
}

/// An erasure's cost: one mention deleted, then its segment rewritten without it
/// (`purge_deleted`); the mention is added back, so the cached index keeps its size.
fn purge(world: &World, index: &SearchIndex, docs: usize, dir: &Path) {
    let id = (docs / 2) as i64;
    let mut writer = index.writer(WriterOptions::default()).unwrap();
    writer.delete(id).unwrap();
    writer.commit().unwrap();
    let t = Instant::now();
    let left = writer.purge_deleted().unwrap();
    let took = t.elapsed();
    writer.add(&world.mention(id)).unwrap();
    writer.commit().unwrap();
    writer.finish().unwrap();
    println!(
        "erasure: one mention deleted, its segment rewritten without it in {:.1} s ({left} left); {} segments, {:.2} GB",
        took.as_secs_f64(),
        index.num_segments(),
        dir_size(dir) as f64 / 1e9
    );
}
