//! Lexicons parsed once into one hash map per language: a normalised word gives its valence,
//! its booster (intensifier or dampener) weight and whether it negates, in one lookup.

use rustc_hash::FxHashMap;

/// What the rules know about one normalised word.
#[derive(Debug, Clone, Copy, Default)]
pub struct Entry {
    /// Valence from the lexicon (-4..+4), when the word is in it.
    pub valence: Option<f64>,
    /// Booster weight (+0.293 intensifier, -0.293 dampener), when the word is one.
    pub booster: Option<f64>,
    /// The word negates what follows ("not", « pas »…).
    pub negator: bool,
    /// The word starts an idiom or a two-word booster ("the" of "the bomb", "kind" of "kind of").
    pub phrase: bool,
}

/// A language's words and emoji.
#[derive(Debug, Default)]
pub struct Lexicon {
    words: FxHashMap<Box<str>, Entry>,
    emoji: FxHashMap<char, Box<[Box<str>]>>,
}

impl Lexicon {
    /// The entry of a normalised word.
    #[inline]
    pub fn get(&self, word: &str) -> Option<&Entry> {
        self.words.get(word)
    }

    /// The description words of a single-code-point emoji ("😁" → "beaming face with smiling eyes").
    #[inline]
    pub fn emoji(&self, c: char) -> Option<&[Box<str>]> {
        if c.is_ascii() {
            return None;
        }
        self.emoji.get(&c).map(|words| &words[..])
    }

    fn entry_mut(&mut self, word: &str) -> &mut Entry {
        self.words.entry(word.into()).or_default()
    }

    /// Adds `word → valence` lines: `separator` splits the word from the score, later lines win.
    pub fn add_valences(&mut self, text: &str, separator: &str, normalise: fn(&mut String, &str)) {
        let mut key = String::new();
        for line in text.lines() {
            let line = line.trim_end_matches('\r');
            let Some((word, rest)) = line.split_once(separator) else { continue };
            let score = rest.split('\t').next().unwrap_or_default().trim();
            let Ok(valence) = score.parse::<f64>() else { continue };
            key.clear();
            normalise(&mut key, word.trim());
            if !key.is_empty() {
                self.entry_mut(&key).valence = Some(valence);
            }
        }
    }

    /// Sets or overrides valences from a table.
    pub fn set_valences(&mut self, table: &[(&str, f64)]) {
        for &(word, valence) in table {
            self.entry_mut(word).valence = Some(valence);
        }
    }

    /// Removes valences (the words stay boosters or negators if they are).
    pub fn remove_valences(&mut self, words: &[&str]) {
        for word in words {
            if let Some(entry) = self.words.get_mut(*word) {
                entry.valence = None;
            }
        }
    }

    /// Marks boosters.
    pub fn set_boosters(&mut self, table: &[(&str, f64)]) {
        for &(word, weight) in table {
            self.entry_mut(word).booster = Some(weight);
        }
    }

    /// Marks the first words of idioms and phrases.
    pub fn set_phrase_starts(&mut self, words: impl IntoIterator<Item = &'static str>) {
        for word in words {
            self.entry_mut(word).phrase = true;
        }
    }

    /// Marks negators.
    pub fn set_negators(&mut self, words: &[&str]) {
        for word in words {
            self.entry_mut(word).negator = true;
        }
    }

    /// Adds `emoji <TAB> description` lines; only single-code-point emoji are kept (as VADER 3.3.2,
    /// which looks emoji up one character at a time).
    pub fn add_emoji(&mut self, text: &str) {
        for line in text.lines() {
            let Some((emoji, description)) = line.trim_end_matches('\r').split_once('\t') else { continue };
            let mut chars = emoji.trim().chars();
            let (Some(c), None) = (chars.next(), chars.next()) else { continue };
            let words: Box<[Box<str>]> = description.split_whitespace().map(Into::into).collect();
            if !words.is_empty() {
                self.emoji.insert(c, words);
            }
        }
    }
}
