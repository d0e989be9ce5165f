//! One pass over a post that yields VADER's "words and emoticons": whitespace-separated, ASCII
//! punctuation (plus « » … “ ”) stripped from both ends unless that leaves two characters or fewer (":)" stays),
//! emoji replaced by the words of their description; French also splits on apostrophes (l'/d'/qu').
//! Each token keeps its original slice, its lower-case (French: also accent-free) form in one
//! shared buffer, and its lexicon entry, looked up once.

use super::lexicon::{Entry, Lexicon};
use crate::enrich::fold::{is_upper, push_folded, push_lower};

/// One token (its text is `Words::lo`).
#[derive(Debug, Clone, Copy)]
pub struct Tok<'a> {
    start: u32,
    end: u32,
    /// Python's `isupper()` of the token.
    pub upper: bool,
    /// Written with a comma, full stop, colon, "!" or "?" at its end (a clause ends there).
    pub clause_end: bool,
    /// The lexicon entry of the normalised form.
    pub entry: Option<&'a Entry>,
}

/// The tokens of a post.
#[derive(Debug, Default)]
pub struct Words<'a> {
    /// The tokens in order.
    pub toks: Vec<Tok<'a>>,
    lower: String,
}

impl<'a> Words<'a> {
    /// Empty, with room for a text of `len` bytes.
    pub fn with_capacity(len: usize) -> Self {
        Self { toks: Vec::with_capacity(len / 4 + 4), lower: String::with_capacity(len + 32) }
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

    /// Splits `text` into tokens; `french` folds accents and splits on apostrophes.
    pub fn tokenize(&mut self, text: &'a str, lex: &'a Lexicon, french: bool) {
        self.toks.clear();
        self.lower.clear();
        for chunk in text.split_whitespace() {
            if chunk.is_ascii() && !french {
                self.push(chunk, lex, french);
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
                    self.push(&chunk[start..at], lex, french);
                }
                start = at + c.len_utf8();
                for word in emoji.unwrap_or_default() {
                    self.push(word, lex, french);
                }
            }
            if start < chunk.len() {
                self.push(&chunk[start..], lex, french);
            }
        }
    }

    fn push(&mut self, raw: &'a str, lex: &'a Lexicon, french: bool) {
        let stripped = raw.trim_matches(is_punctuation);
        let text = if stripped.len() <= 2 || stripped.chars().nth(2).is_none() { raw } else { stripped };
        let start = self.lower.len() as u32;
        if french {
            push_folded(&mut self.lower, text);
        } else {
            push_lower(&mut self.lower, text);
        }
        let end = self.lower.len() as u32;
        let entry = lex.get(&self.lower[start as usize..end as usize]);
        let clause_end = raw.ends_with([',', '.', ';', ':', '!', '?', '…']);
        self.toks.push(Tok { start, end, upper: is_upper(text), clause_end, entry });
    }
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
        words.tokenize(text, &lex, french);
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
