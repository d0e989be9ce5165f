//! Prints sentiment accuracy on the VADER ground truth (after `scripts/data/vader-gold.sh`), in
//! Python-parity mode and in our mode; `--diff` lists the texts whose class changed.
#![allow(clippy::print_stdout)]

use relais_listen::enrich::eval::{
    FRENCH_DEV_LAST_LINE, FRENCH_SET, accuracy, parse_labelled, parse_vader_gold, vader_gold_dir,
};
use relais_listen::enrich::sentiment::{Label, SentimentAnalyzer};

fn main() -> std::io::Result<()> {
    let diff = std::env::args().any(|a| a == "--diff");
    let fr = SentimentAnalyzer::french();
    let set = parse_labelled(FRENCH_SET);
    let (dev, test): (Vec<_>, Vec<_>) = set.iter().partition(|p| p.line <= FRENCH_DEV_LAST_LINE);
    let acc = |part: &[&relais_listen::enrich::eval::Labelled]| {
        accuracy(part.iter().map(|p| (p.label, fr.score(&p.text).label)))
    };
    println!(
        "french dev n {} accuracy {:.4}; held-out n {} accuracy {:.4}",
        dev.len(),
        acc(&dev),
        test.len(),
        acc(&test)
    );
    if std::env::args().any(|a| a == "--fr-dev") {
        for p in &dev {
            let s = fr.score(&p.text);
            if s.label != p.label {
                println!("F {} gold {:?} ours {} {}", p.line, p.label, s.score, p.text);
            }
        }
    }
    let (ours, python) = (SentimentAnalyzer::english(), SentimentAnalyzer::vader_3_3_2());
    for name in ["tweets", "movieReviewSnippets", "amazonReviewSnippets", "nytEditorialSnippets"] {
        let rated = parse_vader_gold(&std::fs::read(vader_gold_dir().join(format!("{name}_GroundTruth.txt")))?);
        let acc_ours = accuracy(rated.iter().map(|r| (r.label(), ours.score(&r.text).label)));
        let acc_python = accuracy(rated.iter().map(|r| (r.label(), Label::of(python.compound(&r.text)))));
        let started = std::time::Instant::now();
        let mut total = 0.0;
        for _ in 0..5 {
            for r in &rated {
                total += ours.compound(&r.text);
            }
        }
        let rate = (5 * rated.len()) as f64 / started.elapsed().as_secs_f64();
        println!(
            "{name:<22} n {:>6}  ours {acc_ours:.4}  python-parity {acc_python:.4}  {rate:.0} texts/s ({total:.0})",
            rated.len()
        );
        if std::env::args().any(|a| a == "--errors") && name == "tweets" {
            for r in &rated {
                let a = ours.score(&r.text);
                if a.label != r.label() {
                    println!("E gold {:?} {:.2} ours {} {}", r.label(), r.rating, a.score, r.text);
                }
            }
        }
        if diff && name == "tweets" {
            for r in &rated {
                let (a, b) = (ours.score(&r.text), python.score(&r.text));
                if a.label != b.label {
                    let mark = if a.label == r.label() {
                        "+"
                    } else if b.label == r.label() {
                        "-"
                    } else {
                        "~"
                    };
                    println!("{mark} gold {:?} ours {} python {} {}", r.label(), a.score, b.score, r.text);
                }
            }
        }
    }
    Ok(())
}
