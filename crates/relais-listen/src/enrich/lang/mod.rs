//! Language of a post among English, French, Spanish, German, Italian, Portuguese and Dutch, built
//! for short texts and speed: one pass over the words, evidence from frequent words, letters with
//! diacritics and word endings (`words.rs`), plus an English-versus-French letter-trigram model
//! trained at start-up on the two vendored sentiment lexicons (about 16,000 words) for words that
//! no table knows. The language the network declares wins unless the text clearly says otherwise.

mod words;

use crate::enrich::fold::push_lower;
use rustc_hash::FxHashMap;
use serde::Serialize;

/// The languages told apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    /// English.
    En,
    /// French.
    Fr,
    /// Spanish.
    Es,
    /// German.
    De,
    /// Italian.
    It,
    /// Portuguese.
    Pt,
    /// Dutch.
    Nl,
}

/// All of them, in index order.
pub const LANGS: [Lang; 7] = [Lang::En, Lang::Fr, Lang::Es, Lang::De, Lang::It, Lang::Pt, Lang::Nl];

impl Lang {
    /// ISO 639-1 code.
    pub fn code(self) -> &'static str {
        ["en", "fr", "es", "de", "it", "pt", "nl"][self as usize]
    }

    /// From an ISO 639-1 code or a BCP 47 tag ("fr", "fr-CA", "EN_us").
    pub fn from_tag(tag: &str) -> Option<Self> {
        let primary = tag.split(['-', '_']).next().unwrap_or_default();
        LANGS.into_iter().find(|l| primary.eq_ignore_ascii_case(l.code()))
    }
}

/// What the detector found.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Detection {
    /// The language, or `None` when the text gives no evidence (digits, a link, an emoji).
    pub lang: Option<Lang>,
    /// In [0, 1]: share of the evidence for that language, damped when there is little evidence.
    pub confidence: f32,
    /// Total evidence (about 2 per known word).
    pub evidence: f32,
}

/// The detector: tables parsed once; share it between threads.
#[derive(Debug)]
pub struct LangDetector {
    words: FxHashMap<Box<str>, u8>,
    trigrams: Trigrams,
}

impl Default for LangDetector {
    fn default() -> Self {
        Self::new()
    }
}

impl LangDetector {
    /// Builds the tables (a few milliseconds).
    pub fn new() -> Self {
        let mut words: FxHashMap<Box<str>, u8> = FxHashMap::default();
        for (lang, list) in words::WORDS {
            for word in list.split_whitespace() {
                *words.entry(word.into()).or_default() |= 1 << (*lang as u8);
            }
        }
        Self { words, trigrams: Trigrams::train() }
    }

    /// The most likely language of `text`.
    pub fn detect(&self, text: &str) -> Detection {
        let mut scores = [0f32; 7];
        let mut buffer = String::with_capacity(32);
        let mut unknown = 0;
        for word in words_of(text) {
            buffer.clear();
            push_lower(&mut buffer, word);
            unknown += usize::from(!self.score_known(&buffer, &mut scores));
        }
        // Frequent words usually decide; the costlier word-shape evidence is only gathered when
        // they leave the two best languages within two words of each other.
        if unknown > 0 && margin(&scores) < 4.0 {
            for word in words_of(text) {
                buffer.clear();
                push_lower(&mut buffer, word);
                if !self.words.contains_key(buffer.as_str()) {
                    self.score_shape(&buffer, &mut scores);
                }
            }
        }
        conclude(&scores)
    }

    /// `detect`, then the declared language (a network's tag) unless the text clearly disagrees:
    /// the detection must reach 0.75 confidence on at least 8 of evidence (about four words).
    pub fn resolve(&self, text: &str, declared: Option<&str>) -> (LangCode, f32) {
        let detection = self.detect(text);
        let declared = declared.map(str::trim).filter(|t| !t.is_empty());
        match (declared, detection.lang) {
            (Some(tag), detected) => {
                let declared_lang = Lang::from_tag(tag);
                if detected.is_some() && detected == declared_lang {
                    return (LangCode::of(tag), detection.confidence.max(0.9));
                }
                let clear = detection.confidence >= 0.75 && detection.evidence >= 8.0;
                if let Some(lang) = detected.filter(|_| clear && declared_lang.is_some()) {
                    return (LangCode::from(lang), detection.confidence);
                }
                (LangCode::of(tag), 0.9)
            }
            (None, Some(lang)) => (LangCode::from(lang), detection.confidence),
            (None, None) => (LangCode::UNDETERMINED, 0.0),
        }
    }

    /// Frequent-word and letter evidence; whether the word is a frequent word.
    fn score_known(&self, word: &str, scores: &mut [f32; 7]) -> bool {
        let mut known = false;
        if let Some(&mask) = self.words.get(word) {
            known = true;
            let share = 2.0 / mask.count_ones() as f32;
            for (i, score) in scores.iter_mut().enumerate() {
                if mask & (1 << i) != 0 {
                    *score += share;
                }
            }
        }
        if !word.is_ascii() {
            for c in word.chars() {
                if let Some((_, weights)) = words::LETTERS.iter().find(|(l, _)| *l == c) {
                    for (lang, w) in *weights {
                        scores[*lang as usize] += w * 0.6;
                    }
                }
            }
        }
        known
    }

    /// Endings, letter sequences and the English/French trigram lean of an unknown word.
    fn score_shape(&self, word: &str, scores: &mut [f32; 7]) {
        if word.chars().nth(2).is_none() {
            return;
        }
        let mut seen = 0u8;
        for (ending, lang, w) in words::ENDINGS {
            if seen & (1 << (*lang as u8)) == 0 && word.ends_with(ending) {
                seen |= 1 << (*lang as u8);
                scores[*lang as usize] += w;
            }
        }
        for (inside, lang, w) in words::INSIDE {
            if word.contains(inside) {
                scores[*lang as usize] += w * 0.5;
            }
        }
        let lean = self.trigrams.english_minus_french(word);
        if lean > 0.0 {
            scores[Lang::En as usize] += lean.min(1.0);
        } else {
            scores[Lang::Fr as usize] += (-lean).min(1.0);
        }
    }
}

/// The words of a text: letters only, mentions, hashtags and links skipped.
fn words_of(text: &str) -> impl Iterator<Item = &str> {
    text.split_whitespace()
        .filter(|t| !(t.starts_with(['@', '#']) || t.contains("://") || t.starts_with("www.")))
        .flat_map(|t| t.split(|c: char| !c.is_alphabetic()))
        .filter(|w| !w.is_empty())
}

/// Best score minus the second best.
fn margin(scores: &[f32; 7]) -> f32 {
    let (mut first, mut second) = (0f32, 0f32);
    for &s in scores {
        if s > first {
            (first, second) = (s, first);
        } else if s > second {
            second = s;
        }
    }
    first - second
}

fn conclude(scores: &[f32; 7]) -> Detection {
    let total: f32 = scores.iter().sum();
    let (best, &top) = scores.iter().enumerate().fold((0, &0.0), |a, b| if b.1 > a.1 { b } else { a });
    if top < 0.5 {
        return Detection { lang: None, confidence: 0.0, evidence: total };
    }
    let share = top / total;
    let confidence = share * (1.0 - (-total / 2.0).exp());
    Detection { lang: Some(LANGS[best]), confidence, evidence: total }
}

/// A language tag of at most 8 ASCII bytes, kept without allocation ("fr", "en", "pt-BR", "und").
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct LangCode {
    bytes: [u8; 8],
    len: u8,
}

impl LangCode {
    /// "und": no language found.
    pub const UNDETERMINED: Self = Self { bytes: *b"und\0\0\0\0\0", len: 3 };

    /// The primary subtag of a declared tag, lower case ("fr-CA" → "fr"); "und" if unusable.
    pub fn of(tag: &str) -> Self {
        let primary = tag.split(['-', '_']).next().unwrap_or_default();
        if primary.is_empty() || primary.len() > 8 || !primary.bytes().all(|b| b.is_ascii_alphabetic()) {
            return Self::UNDETERMINED;
        }
        let mut bytes = [0u8; 8];
        bytes[..primary.len()].copy_from_slice(primary.as_bytes());
        bytes.make_ascii_lowercase();
        Self { bytes, len: primary.len() as u8 }
    }

    /// The tag.
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.bytes[..self.len as usize]).unwrap_or("und")
    }
}

impl From<Lang> for LangCode {
    fn from(lang: Lang) -> Self {
        Self::of(lang.code())
    }
}

impl std::fmt::Debug for LangCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for LangCode {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// English and French letter-trigram log-probabilities (add-one smoothing).
#[derive(Debug, Default)]
struct Trigrams {
    en: FxHashMap<u64, f32>,
    fr: FxHashMap<u64, f32>,
    en_unknown: f32,
    fr_unknown: f32,
}

impl Trigrams {
    fn train() -> Self {
        let english = include_str!("../../../data/vader-3.3.2/vader_lexicon.txt");
        let french = include_str!("../../../data/vadersentiment-fr-1.3.4/fr_lexicon.txt");
        let english_words = english.lines().filter_map(|l| l.split('\t').next());
        let french_words = french.lines().filter_map(|l| l.split("->").next());
        let (en, en_unknown) = model(english_words.chain(words::WORDS[0].1.split_whitespace()));
        let (fr, fr_unknown) = model(french_words.chain(words::WORDS[1].1.split_whitespace()));
        Self { en, fr, en_unknown, fr_unknown }
    }

    /// Mean log-likelihood difference per trigram (positive: more English).
    fn english_minus_french(&self, word: &str) -> f32 {
        let (mut sum, mut n) = (0.0, 0);
        for_trigrams(word, |key| {
            let en = self.en.get(&key).copied().unwrap_or(self.en_unknown);
            let fr = self.fr.get(&key).copied().unwrap_or(self.fr_unknown);
            sum += en - fr;
            n += 1;
        });
        if n == 0 { 0.0 } else { sum / n as f32 }
    }
}

fn model<'a>(words: impl Iterator<Item = &'a str>) -> (FxHashMap<u64, f32>, f32) {
    let mut counts: FxHashMap<u64, u32> = FxHashMap::default();
    let mut lower = String::new();
    for word in words {
        if word.is_empty() || !word.chars().all(char::is_alphabetic) {
            continue;
        }
        lower.clear();
        push_lower(&mut lower, word);
        for_trigrams(&lower, |key| *counts.entry(key).or_default() += 1);
    }
    let total: u32 = counts.values().sum();
    let denominator = (total + counts.len() as u32 + 1) as f32;
    let logs = counts.into_iter().map(|(k, c)| (k, ((c + 1) as f32 / denominator).ln())).collect();
    (logs, (1.0 / denominator).ln())
}

/// Calls `f` with each letter trigram of " word " (spaces mark the ends).
fn for_trigrams(word: &str, mut f: impl FnMut(u64)) {
    let (mut a, mut b) = (0u64, u64::from(' '));
    for c in word.chars().chain(std::iter::once(' ')) {
        let c = u64::from(c);
        if a != 0 {
            f((a << 42) | (b << 21) | c);
        }
        (a, b) = (b, c);
    }
}

#[cfg(test)]
mod tests;
