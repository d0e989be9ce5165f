//! Near-duplicates on real posts: the reference's experiment (§6) redone with our grouper on the
//! 4,200 VADER tweets (fetched by `scripts/data/vader-gold.sh`): each tweet plus one trivial edit
//! of it must land in the same story; distinct tweets must rarely merge.

use relais_listen::enrich::dedup::{Stories, StoriesConfig, normalise};
use std::collections::HashSet;

/// Jaccard similarity of the normalised word sets.
fn word_jaccard(a: &str, b: &str) -> f64 {
    let (mut x, mut y) = (String::new(), String::new());
    normalise(a, &mut x);
    normalise(b, &mut y);
    let x: HashSet<&str> = x.split(' ').collect();
    let y: HashSet<&str> = y.split(' ').collect();
    x.intersection(&y).count() as f64 / x.union(&y).count() as f64
}
use relais_listen::enrich::eval::{parse_vader_gold, vader_gold_dir};

fn tweets() -> Option<Vec<String>> {
    let path = vader_gold_dir().join("tweets_GroundTruth.txt");
    match std::fs::read(&path) {
        Ok(bytes) => Some(parse_vader_gold(&bytes).into_iter().map(|r| r.text).collect()),
        Err(e) if std::env::var_os("CI").is_some() => panic!("{}: {e}; run scripts/data/vader-gold.sh", path.display()),
        Err(e) => {
            eprintln!("SKIPPED: {}: {e}", path.display());
            None
        }
    }
}

fn drop_last_word(t: &str) -> String {
    t.rsplit_once(' ').map_or(t.to_owned(), |(a, _)| a.to_owned())
}

#[test]
fn trivial_edits_group_and_distinct_tweets_do_not() {
    let Some(tweets) = tweets() else { return };
    type Edit = (&'static str, fn(&str) -> String);
    let edits: [Edit; 6] = [
        ("RT prefix", |t| format!("RT @someone: {t}")),
        ("URL appended", |t| format!("{t} https://example.org/x")),
        ("emoji appended", |t| format!("{t} 😂🔥")),
        ("hashtag appended", |t| format!("{t} #news")),
        ("upper case, no punctuation", |t| t.to_uppercase().replace(['.', ',', '!', '?'], "")),
        ("last word dropped", drop_last_word),
    ];
    for (name, edit) in edits {
        let (mut grouped, mut eligible) = (0, 0);
        for t in &tweets {
            if t.split_whitespace().count() < 6 {
                continue;
            }
            eligible += 1;
            let mut stories = Stories::new(StoriesConfig::default());
            let first = stories.add(t);
            grouped += usize::from(stories.add(&edit(t)).story == first.story);
        }
        let rate = grouped as f64 / eligible as f64;
        eprintln!("{name:<28} grouped {:.1} % of {eligible}", 100.0 * rate);
        let floor = if name == "last word dropped" || name == "hashtag appended" { 0.85 } else { 0.95 };
        assert!(rate >= floor, "{name}: {rate:.3}");
    }
    let mut stories = Stories::new(StoriesConfig::default());
    let mut first_of = std::collections::HashMap::new();
    let (mut merged, mut unlike) = (0, 0);
    for t in &tweets {
        let a = stories.add(t);
        if a.new {
            first_of.insert(a.story, t.clone());
        } else {
            merged += 1;
            // The set holds 200 contrived variants of a few tweets (capitals, "!", "very"):
            // merges of those are right; a merge of texts sharing under half their words is not.
            if word_jaccard(t, &first_of[&a.story]) < 0.5 {
                unlike += 1;
                eprintln!("  unlike merge: {t:?}\n          with: {:?}", first_of[&a.story]);
            }
        }
    }
    eprintln!(
        "tweets merged into an earlier story: {merged} of {}, of which {unlike} share under half their words",
        tweets.len()
    );
    assert!(unlike as f64 / tweets.len() as f64 <= 0.002, "{unlike}");
}
