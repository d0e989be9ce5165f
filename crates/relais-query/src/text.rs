//! Text normalisation and tokenisation, shared by the parser (query terms), the naive evaluator
//! and the compiled matcher, so that a query term and a post's token always agree.
//!
//! Rules:
//! - a token is a run of word characters (Unicode letters, digits and combining marks);
//!   everything else separates tokens (so `l'état` gives `l`, `etat` and `e-mail` gives `e`, `mail`);
//! - each character is folded: compatibility decomposition (NFKD), combining marks dropped,
//!   lower-cased; `œ`, `æ`, `ß` become `oe`, `ae`, `ss` (`Œuvre` → `oeuvre`, `CAFÉ` → `cafe`);
//! - `#tag` and `@handle` keep their sigil and are distinct tokens (`#cafe` is not `cafe`). A sigil
//!   counts only at the start of the text or after a character that is neither a word character
//!   nor one of `/ . & : # @ _ -` (so URLs' `#fragment` and e-mail addresses are not tags or
//!   mentions). Hashtags also take `_`; handles take `_ . -` between word characters
//!   (`@alice.bsky.social`), and a Mastodon `@user@instance` gives the token `@user`.
//!
//! ASCII is the fast path: one byte at a time, no decoding; the tokeniser writes every token into
//! one reusable buffer ([`Tokens`]), so tokenising a post allocates nothing once warm.

use unicode_normalization::char::{decompose_compatible, is_combining_mark};

/// A post or query text cut into normalised tokens, all stored in one reusable buffer.
#[derive(Debug, Default, Clone)]
pub struct Tokens {
    buf: String,
    ends: Vec<u32>,
}

impl Tokens {
    /// An empty token list.
    pub fn new() -> Self {
        Self::default()
    }

    /// Tokenises `text` (see the module doc), replacing the previous content.
    pub fn tokenize(&mut self, text: &str) {
        self.buf.clear();
        self.ends.clear();
        Scanner { bytes: text.as_bytes(), text, at: 0, out: self }.run();
    }

    /// How many tokens.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// Whether there is no token.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// The token at `i` (position `i`), if any.
    pub fn get(&self, i: usize) -> Option<&str> {
        let end = *self.ends.get(i)? as usize;
        let start = if i == 0 { 0 } else { self.ends[i - 1] as usize };
        self.buf.get(start..end)
    }

    /// The tokens in order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = &str> + '_ {
        let mut start = 0usize;
        self.ends.iter().map(move |&end| {
            let s = &self.buf[start..end as usize];
            start = end as usize;
            s
        })
    }

    fn end_token(&mut self) {
        self.ends.push(self.buf.len() as u32);
    }
}

/// Tokenises `text` into owned tokens (convenient for queries and tests; posts use [`Tokens`]).
pub fn tokenize(text: &str) -> Vec<String> {
    let mut t = Tokens::new();
    t.tokenize(text);
    t.iter().map(str::to_owned).collect()
}

/// Folds one string the way tokens are folded, keeping every character (no splitting): used for
/// field values (`author:`, `site:`…) and metadata.
pub fn fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        fold_char(c, &mut out);
    }
    out
}

/// Whether `c` belongs to a token.
pub fn is_word_char(c: char) -> bool {
    if c.is_ascii() {
        c.is_ascii_alphanumeric()
    } else {
        latin(c).is_some() || c.is_alphanumeric() || is_combining_mark(c)
    }
}

/// The folded ASCII letter of an accented Latin letter of U+00C0..U+017F (`é` → `e`), from a
/// table built once: the fast path for French.
fn latin(c: char) -> Option<u8> {
    static TABLE: std::sync::OnceLock<[u8; 0xC0]> = std::sync::OnceLock::new();
    let i = (c as u32).checked_sub(0xC0).filter(|i| *i < 0xC0)?;
    let table = TABLE.get_or_init(|| {
        let mut t = [0u8; 0xC0];
        for (i, slot) in t.iter_mut().enumerate() {
            let Some(c) = char::from_u32(0xC0 + i as u32) else { continue };
            let mut folded = String::new();
            fold_slow(c, &mut folded);
            if let [b] = folded.as_bytes() {
                *slot = *b;
            }
        }
        t
    });
    Some(table[i as usize]).filter(|b| *b != 0)
}

/// Appends the folded form of `c` to `out` (nothing for a combining mark).
fn fold_char(c: char, out: &mut String) {
    if c.is_ascii() {
        out.push(c.to_ascii_lowercase());
    } else if let Some(b) = latin(c) {
        out.push(b as char);
    } else {
        fold_slow(c, out);
    }
}

fn fold_slow(c: char, out: &mut String) {
    match c {
        'œ' | 'Œ' => out.push_str("oe"),
        'æ' | 'Æ' => out.push_str("ae"),
        'ß' | 'ẞ' => out.push_str("ss"),
        _ => decompose_compatible(c, |d| {
            if !is_combining_mark(d) {
                for l in d.to_lowercase() {
                    if (l.is_ascii_alphanumeric() || (!l.is_ascii() && l.is_alphanumeric())) && !is_combining_mark(l) {
                        out.push(l);
                    }
                }
            }
        }),
    }
}

/// Byte classes: ASCII lower-case letter or digit, upper-case letter, blank-like separator, other.
const LOWER: u8 = 0;
const UPPER: u8 = 1;
const SEP: u8 = 2;
const OTHER: u8 = 3;

/// The class of every byte. `SEP` is only for bytes after which a sigil may start a tag or mention
/// (so not `/ . & : # @ _ -`, nor bytes of non-ASCII characters).
static CLASS: [u8; 256] = {
    let mut t = [OTHER; 256];
    let mut i = 0;
    while i < 128 {
        let b = i as u8;
        t[i] = if b.is_ascii_lowercase() || b.is_ascii_digit() {
            LOWER
        } else if b.is_ascii_uppercase() {
            UPPER
        } else if matches!(b, b'/' | b'.' | b'&' | b':' | b'#' | b'@' | b'_' | b'-') {
            OTHER
        } else {
            SEP
        };
        i += 1;
    }
    t
};

struct Scanner<'a> {
    bytes: &'a [u8],
    text: &'a str,
    at: usize,
    out: &'a mut Tokens,
}

impl Scanner<'_> {
    fn run(&mut self) {
        // Whether the previous character allows a sigil (`#`, `@`) to start a tag or mention.
        let mut sigil_ok = true;
        while self.at < self.bytes.len() {
            let b = self.bytes[self.at];
            let class = CLASS[b as usize];
            if class == SEP {
                // The most frequent case: a blank between words.
                self.at += 1;
                sigil_ok = true;
            } else if class <= UPPER {
                self.word(false, false);
                sigil_ok = false;
            } else if b < 0x80 {
                if (b == b'#' || b == b'@') && sigil_ok && self.word_starts_at(self.at + 1) {
                    self.out.buf.push(b as char);
                    self.at += 1;
                    self.word(b == b'#', b == b'@');
                    sigil_ok = false;
                } else {
                    sigil_ok = !matches!(b, b'/' | b'.' | b'&' | b':' | b'#' | b'@' | b'_' | b'-');
                    self.at += 1;
                }
            } else {
                let c = self.char_at(self.at);
                if is_word_char(c) {
                    self.word(false, false);
                    sigil_ok = false;
                } else {
                    sigil_ok = true;
                    self.at += c.len_utf8();
                }
            }
        }
    }

    fn char_at(&self, at: usize) -> char {
        self.text[at..].chars().next().unwrap_or(' ')
    }

    fn word_starts_at(&self, at: usize) -> bool {
        match self.bytes.get(at) {
            None => false,
            Some(b) if b.is_ascii() => b.is_ascii_alphanumeric(),
            Some(_) => is_word_char(self.char_at(at)),
        }
    }

    /// Reads one token's characters from `self.at`, folding them into the buffer.
    fn word(&mut self, tag: bool, mention: bool) {
        while let Some(&b) = self.bytes.get(self.at) {
            if CLASS[b as usize] <= UPPER {
                // ASCII run: copy it whole, then lower-case it in place if needed.
                let (mut end, mut upper) = (self.at, false);
                while let Some(&c) = self.bytes.get(end) {
                    match CLASS[c as usize] {
                        LOWER => {}
                        UPPER => upper = true,
                        _ => break,
                    }
                    end += 1;
                }
                let from = self.out.buf.len();
                self.out.buf.push_str(&self.text[self.at..end]);
                if upper {
                    self.out.buf[from..].make_ascii_lowercase();
                }
                self.at = end;
            } else if b >= 0x80 {
                let c = self.char_at(self.at);
                if !is_word_char(c) {
                    break;
                }
                fold_char(c, &mut self.out.buf);
                self.at += c.len_utf8();
            } else if self.joins(b, tag, mention) {
                self.out.buf.push(b as char);
                self.at += 1;
            } else {
                break;
            }
        }
        self.out.end_token();
        if mention && self.bytes.get(self.at) == Some(&b'@') && self.word_starts_at(self.at + 1) {
            // `@user@instance`: the instance belongs to the mention, it is not a token.
            self.at += 1;
            while let Some(&b) = self.bytes.get(self.at) {
                let c = if b < 0x80 { b as char } else { self.char_at(self.at) };
                if is_word_char(c) || (matches!(c, '.' | '-' | '_') && self.word_starts_at(self.at + 1)) {
                    self.at += c.len_utf8();
                } else {
                    break;
                }
            }
        }
    }

    /// Whether the ASCII punctuation `b` continues a hashtag or a handle.
    fn joins(&self, b: u8, tag: bool, mention: bool) -> bool {
        let allowed = (tag && b == b'_') || (mention && matches!(b, b'_' | b'.' | b'-'));
        allowed && self.word_starts_at(self.at + 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(input: &str, expected: &[&str]) {
        assert_eq!(tokenize(input), expected, "tokens of {input:?}");
    }

    #[test]
    fn tokens() {
        check("", &[]);
        check("Hello, World!", &["hello", "world"]);
        check("CAFÉ café Cafe\u{301}", &["cafe", "cafe", "cafe"]);
        check("l'État d’urgence", &["l", "etat", "d", "urgence"]);
        check("Œuvre, cœur, Straße", &["oeuvre", "coeur", "strasse"]);
        check("e-mail 3.14", &["e", "mail", "3", "14"]);
        check("#Café #black_friday #", &["#cafe", "#black_friday"]);
        check("@Alice.bsky.social: hi", &["@alice.bsky.social", "hi"]);
        check("@bob@mastodon.social merci", &["@bob", "merci"]);
        check("mail bob@example.com", &["mail", "bob", "example", "com"]);
        check("https://ex.com/a#frag", &["https", "ex", "com", "a", "frag"]);
        check("(#tag) «@moi»", &["#tag", "@moi"]);
        check("ﬁn ½", &["fin", "12"]);
        check("日本語 テスト", &["日本語", "テスト"]);
        check("😀👍 ok", &["ok"]);
    }

    #[test]
    fn latin_fast_path_agrees_with_full_folding() {
        for c in (0xC0..0x180).filter_map(char::from_u32) {
            let (mut fast, mut slow) = (String::new(), String::new());
            fold_char(c, &mut fast);
            fold_slow(c, &mut slow);
            assert_eq!(fast, slow, "{c}");
            assert_eq!(is_word_char(c), c.is_alphanumeric(), "{c}");
        }
    }

    #[test]
    fn fold_keeps_punctuation() {
        assert_eq!(fold("Le-Monde.FR"), "le-monde.fr");
        assert_eq!(fold("Élysée"), "elysee");
    }
}
