//! Evaluation helpers shared by the accuracy tests and `relais bench enrich`: the VADER ground
//! truth format and the three-class protocol of the reference (gold = mean rating / 4 with a
//! ±0.05 neutral band, prediction = score with the same band).

use super::sentiment::Label;
use std::path::PathBuf;

/// One rated text of the VADER ground truth (`id <TAB> mean rating -4..+4 <TAB> text`).
#[derive(Debug, Clone)]
pub struct Rated {
    /// Identifier in the file.
    pub id: String,
    /// Mean human rating, -4..+4.
    pub rating: f64,
    /// The text.
    pub text: String,
}

impl Rated {
    /// The gold class: rating / 4 beyond ±0.05.
    pub fn label(&self) -> Label {
        let r = self.rating / 4.0;
        if r > 0.05 {
            Label::Positive
        } else if r < -0.05 {
            Label::Negative
        } else {
            Label::Neutral
        }
    }
}

/// Parses a `*_GroundTruth.txt` file (bytes: the files are not all valid UTF-8).
pub fn parse_vader_gold(bytes: &[u8]) -> Vec<Rated> {
    let text = String::from_utf8_lossy(bytes);
    text.split('\n')
        .filter_map(|line| {
            let line = line.trim_end_matches('\r');
            let mut parts = line.splitn(3, '\t');
            let (id, rating, text) = (parts.next()?, parts.next()?, parts.next()?);
            Some(Rated { id: id.to_owned(), rating: rating.parse().ok()?, text: text.to_owned() })
        })
        .collect()
}

/// One post of our French set (`tests/data/fr-sentiment.tsv`: `label <TAB> text`).
#[derive(Debug, Clone)]
pub struct Labelled {
    /// 1-based line number.
    pub line: usize,
    /// The hand label.
    pub label: Label,
    /// The post.
    pub text: String,
}

/// Parses the French set; lines with an unknown label are skipped.
pub fn parse_labelled(text: &str) -> Vec<Labelled> {
    text.lines()
        .enumerate()
        .filter_map(|(i, line)| {
            let (label, text) = line.split_once('\t')?;
            let label = match label {
                "pos" => Label::Positive,
                "neg" => Label::Negative,
                "neu" => Label::Neutral,
                _ => return None,
            };
            Some(Labelled { line: i + 1, label, text: text.to_owned() })
        })
        .collect()
}

/// The French set: 327 posts written and labelled by hand (see `tests/data/README.md`); lines
/// 1–163 are the development half (the only ones looked at when choosing French rules and
/// valences), lines 164–327 the held-out half.
pub const FRENCH_SET: &str = include_str!("../../tests/data/fr-sentiment.tsv");

/// Last line of the development half of [`FRENCH_SET`].
pub const FRENCH_DEV_LAST_LINE: usize = 163;

/// Where `scripts/data/vader-gold.sh` puts the ground truth:
/// `${RELAIS_DATA_DIR:-$HOME/.cache/relais-data}/vader-3.3.2/hutto_ICWSM_2014`.
pub fn vader_gold_dir() -> PathBuf {
    let base = std::env::var_os("RELAIS_DATA_DIR").map(PathBuf::from).unwrap_or_else(|| {
        PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".cache").join("relais-data")
    });
    base.join("vader-3.3.2").join("hutto_ICWSM_2014")
}

/// Share of `(gold, predicted)` pairs that agree.
pub fn accuracy(pairs: impl IntoIterator<Item = (Label, Label)>) -> f64 {
    let (mut ok, mut n) = (0usize, 0usize);
    for (gold, predicted) in pairs {
        ok += usize::from(gold == predicted);
        n += 1;
    }
    if n == 0 { 0.0 } else { ok as f64 / n as f64 }
}
