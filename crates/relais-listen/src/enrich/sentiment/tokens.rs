//! One pass over a post that yields VADER's "words and emoticons": whitespace-separated, ASCII
//! punctuation (plus « » … “ ”) stripped from both ends unless that leaves two characters or fewer (":)" stays),
//! emoji replaced by the words of their description; French also splits on apostrophes (l'/d'/qu').
//! Each token keeps its original slice, its lower-case (French: also accent-free) form in one
//! shared buffer, and its lexicon entry, looked up once.

use super::lexicon::{Entry, Lexicon};
use crate::enrich::fold::{is_upper, push_folded, push_lower};

/// One token (its text is `Words::lo`).
#[derive(Debug, Clone, Copy)]
pub struct Tok {
    start: u32,
    end: u32,
    /// Python's `isupper()` of the token.
    pub upper: bool,
    /// Written with a comma, full stop, colon, "!" or "?" at its end (a clause ends there).
    pub clause_end: bool,
    /// The lexicon entry of the normalised form.
    pub entry: Option<Entry>,
}

/// The tokens of a post.
#[derive(Debug, Default)]
pub struct Words {
    /// The tokens in order.
    pub toks: Vec<Tok>,
    lower: String,
    scratch: String,
    french: bool,
    improved: bool,
}

impl Words {
    /// Empty, with room for a text of `len` bytes.
    pub fn with_capacity(len: usize) -> Self {
        Self { toks: Vec::with_capacity(len / 4 + 4), lower: String::with_capacity(len + 32), ..Self::default() }
    }

    /// Normalised form of token `i`.
    #[inline]
    pub fn lo(&self, i: usize) -> &str {
        let t = &self.toks[i];
        &self.lower[t.start as usize..t.end as usize]
    }

    /// Valence of token `i`, if it is a lexicon word.
    #[inline]
    pub fn valence(&self, i: usize) -> Option<f64> {
        self.toks[i].entry.and_then(|e| e.valence)
    }

    /// Number of tokens.
    #[inline]
    pub fn len(&self) -> usize {
        self.toks.len()
    }

    /// Splits `text` into tokens; `french` folds accents and splits on apostrophes; `improved`
    /// also looks up short words without their punctuation ("no!") and squeezes elongations.
    pub fn tokenize(&mut self, text: &str, lex: &Lexicon, french: bool, improved: bool) {
        self.toks.clear();
        self.lower.clear();
        self.french = french;
        self.improved = improved;
        let ascii = text.is_ascii();
        let chunks: Box<dyn Iterator<Item = &str>> =
            if ascii { Box::new(text.split_ascii_whitespace()) } else { Box::new(text.split_whitespace()) };
        for chunk in chunks {
            if !french && (ascii || chunk.is_ascii()) {
                self.push(chunk, lex);
                continue;
            }
            let mut start = 0;
            for (at, c) in chunk.char_indices() {
                let apostrophe = french && matches!(c, '\'' | '\u{2019}');
                let emoji = if apostrophe { None } else { lex.emoji(c) };
                let ignorable = matches!(c, '\u{FE0F}' | '\u{200D}' | '\u{1F3FB}'..='\u{1F3FF}');
                if !apostrophe && emoji.is_none() && !ignorable {
                    continue;
                }
                if start < at {
                    self.push(&chunk[start..at], lex);
                }
                start = at + c.len_utf8();
                for word in emoji.unwrap_or_default() {
                    self.push(word, lex);
                }
            }
            if start < chunk.len() {
                self.push(&chunk[start..], lex);
            }
        }
    }

    fn push(&mut self, raw: &str, lex: &Lexicon) {
        if let Some((word, emoticon)) = glued_emoticon(raw, lex).filter(|_| self.improved) {
            self.push_one(word, lex);
            self.push_one(emoticon, lex);
            return;
        }
        self.push_one(raw, lex);
    }

    fn push_one(&mut self, raw: &str, lex: &Lexicon) {
        let stripped = if raw.is_ascii() {
            let b = raw.as_bytes();
            let from = b.iter().position(|c| !c.is_ascii_punctuation()).unwrap_or(b.len());
            let to = b.iter().rposition(|c| !c.is_ascii_punctuation()).map_or(from, |p| p + 1);
            &raw[from..to.max(from)]
        } else {
            raw.trim_matches(is_punctuation)
        };
        let short = stripped.chars().nth(2).is_none();
        let text = if short { raw } else { stripped };
        let start = self.lower.len();
        self.normalise(text);
        let mut entry = lex.get(&self.lower[start..]).copied();
        if self.improved && entry.is_none() {
            let entity = raw.starts_with('&') && raw.ends_with(';'); // "&gt;" is not "gt"
            if short && !entity && !stripped.is_empty() && stripped.len() < raw.len() {
                // "no!", "ok.": VADER keeps short tokens whole (for emoticons); try the bare word.
                self.lower.truncate(start);
                self.normalise(stripped);
                entry = lex.get(&self.lower[start..]).copied();
                if entry.is_none() {
                    self.lower.truncate(start);
                    self.normalise(raw);
                }
            }
            if entry.is_none() && !self.french && is_capital_emoticon(text) {
                // Emoticons written with capitals in the lexicon (":D", "O_o") are missed by
                // VADER's lower-case lookup.
                entry = lex.get(text).copied();
            }
            if entry.is_none() {
                entry = self.unelongate(start, lex);
            }
            if entry.is_none() {
                entry = self.g_dropped(start, lex);
            }
            if entry.is_none() {
                entry = self.laughter(start, lex);
            }
            if entry.is_none() {
                entry = self.inflected(start, lex);
            }
        }
        let end = self.lower.len() as u32;
        let clause_end = raw.ends_with([',', '.', ';', ':', '!', '?', '…']);
        let tok = Tok { start: start as u32, end, upper: is_upper(text), clause_end, entry };
        self.toks.push(tok);
    }

    fn normalise(&mut self, text: &str) {
        if self.french {
            push_folded(&mut self.lower, text);
        } else {
            push_lower(&mut self.lower, text);
        }
    }

    /// "hahahaha" → "hahaha", "lolol" → "lol".
    fn laughter(&mut self, start: usize, lex: &Lexicon) -> Option<Entry> {
        let word = &self.lower[start..];
        let canonical = if word.len() >= 8 && word.trim_end_matches('h').as_bytes().chunks(2).all(|c| c == b"ha") {
            "hahaha"
        } else if word.len() >= 5 && word.starts_with("lo") && word.bytes().all(|b| b == b'l' || b == b'o') {
            "lol"
        } else {
            return None;
        };
        let entry = *lex.get(canonical)?;
        self.lower.truncate(start);
        self.lower.push_str(canonical);
        Some(entry)
    }

    /// "lovin" → "loving", "amazin" → "amazing" (dropped g).
    fn g_dropped(&mut self, start: usize, lex: &Lexicon) -> Option<Entry> {
        let word = &self.lower[start..];
        if self.french || word.len() < 4 || !word.ends_with("in") {
            return None;
        }
        self.scratch.clear();
        self.scratch.push_str(word);
        self.scratch.push('g');
        let entry = *lex.get(&self.scratch)?;
        self.lower.push('g');
        Some(entry)
    }

    /// English plurals and comparatives of lexicon words: "smiles" → "smile", "coolest" → "cool",
    /// "nicer" → "nice", "biggest" → "big". The token keeps its written form.
    fn inflected(&mut self, start: usize, lex: &Lexicon) -> Option<Entry> {
        let word = &self.lower[start..];
        if self.french || word.len() < 5 || !word.is_ascii() {
            return None;
        }
        let stems: [(&str, &[usize]); 1] = [("est", &[3, 2])];
        for (suffix, cuts) in stems {
            if !word.ends_with(suffix) {
                continue;
            }
            for &cut in cuts {
                let stem = &word[..word.len() - cut];
                if let Some(entry) = lex.get(stem).filter(|e| e.valence.is_some()) {
                    return Some(*entry);
                }
            }
            let stem = &word.as_bytes()[..word.len() - suffix.len()];
            if let [.., a, b] = stem
                && a == b
            {
                return lex.get(&word[..word.len() - suffix.len() - 1]).filter(|e| e.valence.is_some()).copied();
            }
            return None;
        }
        None
    }

    /// "goooood" → "good", "sooo" → "so": letters repeated three times or more, squeezed to two,
    /// then to one; the token's form is replaced when the lexicon knows the result.
    fn unelongate(&mut self, start: usize, lex: &Lexicon) -> Option<Entry> {
        let word = &self.lower[start..];
        let bytes = word.as_bytes();
        if !bytes.windows(3).any(|w| w[0] == w[1] && w[1] == w[2] && w[0].is_ascii_alphabetic()) {
            return None;
        }
        for keep in [2, 1] {
            self.scratch.clear();
            let mut run = 0;
            let mut previous = None;
            for c in word.chars() {
                run = if Some(c) == previous { run + 1 } else { 1 };
                previous = Some(c);
                if run <= keep {
                    self.scratch.push(c);
                }
            }
            if let Some(&entry) = lex.get(&self.scratch) {
                self.lower.truncate(start);
                self.lower.push_str(&self.scratch);
                return Some(entry);
            }
        }
        None
    }
}

/// A word with an emoticon glued at its end ("home:(", "girl;)"): the two parts, when the
/// emoticon is in the lexicon and the whole token is not.
fn glued_emoticon<'a>(raw: &'a str, lex: &Lexicon) -> Option<(&'a str, &'a str)> {
    let bytes = raw.as_bytes();
    if bytes.len() < 4 || !matches!(bytes[bytes.len() - 2], b':' | b';' | b'=') {
        return None;
    }
    let at = raw.len() - 2;
    let (word, emoticon) = (&raw[..at], &raw[at..]);
    if !word.bytes().last().is_some_and(|b| b.is_ascii_alphabetic()) || lex.get(raw).is_some() {
        return None;
    }
    let known = lex.get(emoticon).or_else(|| lex.get(&emoticon.to_ascii_lowercase())).is_some();
    known.then_some((word, emoticon))
}

/// A token with a capital and a non-letter (":D", "XD", "O_o"): worth a case-sensitive lookup.
fn is_capital_emoticon(text: &str) -> bool {
    text.bytes().any(|b| b.is_ascii_uppercase()) && !text.bytes().all(|b| b.is_ascii_alphabetic())
}

/// ASCII punctuation (Python's `string.punctuation`) plus the typographic marks of French posts.
fn is_punctuation(c: char) -> bool {
    c.is_ascii_punctuation() || matches!(c, '«' | '»' | '…' | '“' | '”' | '‘' | '’' | '¡' | '¿')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lexicon() -> Lexicon {
        let mut lex = Lexicon::default();
        lex.add_emoji("😁\tbeaming face\n");
        lex
    }

    fn check(text: &str, french: bool, expected: &[&str]) {
        let lex = lexicon();
        let mut words = Words::default();
        words.tokenize(text, &lex, french, false);
        let got: Vec<&str> = (0..words.len()).map(|i| words.lo(i)).collect();
        assert_eq!(got, expected, "{text}");
    }

    #[test]
    fn vader_tokens() {
        check("Good!!! :) (great) I'm OK.", false, &["good", ":)", "great", "i'm", "ok."]);
        check("so happy😁!", false, &["so", "happy", "beaming", "face", "!"]);
        check("  ", false, &[]);
    }

    #[test]
    fn french_tokens() {
        check("L'été n’est PAS génial…", true, &["l", "ete", "n", "est", "pas", "genial"]);
        check("qu'il", true, &["qu", "il"]);
    }
}
