//! Sentiment against the VADER ground truth (PyPI vaderSentiment 3.3.2 sdist, fetched by
//! `scripts/data/vader-gold.sh`): parity of our port with Python on 23,703 texts, and the English
//! accuracy target on the 4,200 tweets.

use relais_listen::enrich::eval::{Rated, accuracy, parse_vader_gold, vader_gold_dir};
use relais_listen::enrich::sentiment::{Label, SentimentAnalyzer};

const CORPORA: [&str; 4] = ["tweets", "movieReviewSnippets", "amazonReviewSnippets", "nytEditorialSnippets"];

/// The corpus, or `None` (a loud skip) when the data was not fetched; under CI a failure.
fn corpus(name: &str) -> Option<Vec<Rated>> {
    let path = vader_gold_dir().join(format!("{name}_GroundTruth.txt"));
    match std::fs::read(&path) {
        Ok(bytes) => Some(parse_vader_gold(&bytes)),
        Err(e) if std::env::var_os("CI").is_some() => {
            panic!("{}: {e}; run scripts/data/vader-gold.sh first", path.display())
        }
        Err(e) => {
            eprintln!("SKIPPED: {}: {e} (run scripts/data/vader-gold.sh)", path.display());
            None
        }
    }
}

#[test]
fn parity_with_python_vader_3_3_2() {
    let analyzer = SentimentAnalyzer::vader_3_3_2();
    for name in CORPORA {
        let Some(rated) = corpus(name) else { return };
        let expected = include_str!("data/vader-3.3.2-python-tweets.tsv");
        let expected = match name {
            "tweets" => expected,
            "movieReviewSnippets" => include_str!("data/vader-3.3.2-python-movieReviewSnippets.tsv"),
            "amazonReviewSnippets" => include_str!("data/vader-3.3.2-python-amazonReviewSnippets.tsv"),
            _ => include_str!("data/vader-3.3.2-python-nytEditorialSnippets.tsv"),
        };
        let expected: Vec<f64> = expected.lines().filter_map(|l| l.split('\t').nth(1)?.parse().ok()).collect();
        assert_eq!(expected.len(), rated.len(), "{name}");
        let mut differ = Vec::new();
        for (r, want) in rated.iter().zip(&expected) {
            let got = analyzer.compound(&r.text);
            if (got - want).abs() > 1e-4 {
                differ.push(format!("{} {got} (python {want}): {}", r.id, r.text));
            }
        }
        eprintln!("{name}: {} texts, {} differ from Python", rated.len(), differ.len());
        assert!(differ.is_empty(), "{name}: {} differ, first: {:#?}", differ.len(), &differ[..differ.len().min(10)]);
    }
}

#[test]
fn english_accuracy_on_tweets() {
    let Some(rated) = corpus("tweets") else { return };
    let analyzer = SentimentAnalyzer::english();
    let acc = accuracy(rated.iter().map(|r| (r.label(), analyzer.score(&r.text).label)));
    let python = SentimentAnalyzer::vader_3_3_2();
    let python_acc = accuracy(rated.iter().map(|r| (r.label(), Label::of(python.compound(&r.text)))));
    eprintln!("tweets: accuracy {acc:.4} (Python-parity mode {python_acc:.4}), n = {}", rated.len());
    // Measured 0.8902 (3,739 of 4,200; Python 0.8850). The target is 0.89.
    assert!(acc >= 0.89, "accuracy {acc:.4} < 0.89");
}

#[test]
fn french_accuracy_on_the_held_out_half() {
    use relais_listen::enrich::eval::{FRENCH_DEV_LAST_LINE, FRENCH_SET, parse_labelled};
    let fr = SentimentAnalyzer::french();
    let held_out: Vec<_> = parse_labelled(FRENCH_SET).into_iter().filter(|p| p.line > FRENCH_DEV_LAST_LINE).collect();
    assert_eq!(held_out.len(), 164);
    let acc = accuracy(held_out.iter().map(|p| (p.label, fr.score(&p.text).label)));
    eprintln!("french held-out: accuracy {acc:.4}, n = {}", held_out.len());
    // Measured 0.7561 when the French corrections were chosen (on the other half only).
    assert!(acc >= 0.75, "accuracy {acc:.4}");
}
