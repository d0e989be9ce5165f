//! Language detection on real short posts: our 327 French posts and the 4,200 English VADER
//! tweets (fetched by `scripts/data/vader-gold.sh`; skipped loudly without them, a failure in CI).
//! The seven-language figures on lingua's test data are printed by `examples/lang_eval.rs`.

use relais_listen::enrich::eval::{FRENCH_SET, parse_labelled, parse_vader_gold, vader_gold_dir};
use relais_listen::enrich::lang::{Lang, LangDetector};

#[test]
fn french_posts_are_french() {
    let detector = LangDetector::new();
    let posts = parse_labelled(FRENCH_SET);
    let wrong: Vec<&str> =
        posts.iter().filter(|p| detector.detect(&p.text).lang != Some(Lang::Fr)).map(|p| p.text.as_str()).collect();
    let accuracy = 1.0 - wrong.len() as f64 / posts.len() as f64;
    eprintln!("French posts: {accuracy:.4} of {} (wrong: {wrong:?})", posts.len());
    assert!(accuracy >= 0.97, "{accuracy}");
}

#[test]
fn english_tweets_are_english() {
    let path = vader_gold_dir().join("tweets_GroundTruth.txt");
    let bytes = match std::fs::read(&path) {
        Ok(bytes) => bytes,
        Err(e) if std::env::var_os("CI").is_some() => panic!("{}: {e}; run scripts/data/vader-gold.sh", path.display()),
        Err(e) => return eprintln!("SKIPPED: {}: {e}", path.display()),
    };
    let detector = LangDetector::new();
    let tweets = parse_vader_gold(&bytes);
    let good = tweets.iter().filter(|t| detector.detect(&t.text).lang == Some(Lang::En)).count();
    let accuracy = good as f64 / tweets.len() as f64;
    eprintln!("English tweets: {accuracy:.4} of {}", tweets.len());
    assert!(accuracy >= 0.98, "{accuracy}");
}
