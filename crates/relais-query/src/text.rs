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
//! ASCII is the fast path: one byte at a time, no decoding, and a lower-case ASCII token is handed
//! out as a slice of the text ([`for_each_token`]); other tokens are folded into one reusable
//! buffer, so tokenising a post allocates nothing once warm. [`for_each_token_bytes`] (the
//! matcher's) hands the same tokens out as bytes, and folds short words with capitals or accented
//! Latin letters into an array on the stack instead of the buffer.

use unicode_normalization::char::{decompose_compatible, is_combining_mark};

/// A post or query text cut into normalised tokens, all stored in one reusable buffer.
#[derive(Debug, Default, Clone)]
pub struct Tokens {
    buf: String,
    ends: Vec<u32>,
    scratch: String,
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
        let (buf, ends) = (&mut self.buf, &mut self.ends);
        for_each_token(text, &mut self.scratch, |t| {
            buf.push_str(t);
            ends.push(buf.len() as u32);
        });
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
}

/// Calls `f` with each token of `text` in order (see the module doc). A token already in folded
/// form (lower-case ASCII, the common case) is a slice of `text`; any other is folded into
/// `scratch` (reused, so nothing is allocated once warm).
#[inline(always)]
pub fn for_each_token(text: &str, scratch: &mut String, mut f: impl FnMut(&str)) {
    Scanner::<_, true, true, false>::new(text, scratch, |start, end, token: Tok<'_>| f(token.text(text, start, end)))
        .run();
}

/// [`for_each_token`], each token as bytes (UTF-8): the fastest way to read a post's tokens, for
/// the matcher. A short token with capitals or accented Latin letters is folded on the stack and
/// handed out as bytes: a `&str` would have to be checked again, which cost more than the copy it
/// saves.
#[inline(always)]
pub fn for_each_token_bytes(text: &str, scratch: &mut String, mut f: impl FnMut(&[u8])) {
    let bytes = text.as_bytes();
    Scanner::<_, true, true, true>::new(text, scratch, |start, end, token: Tok<'_>| {
        f(match token {
            Tok::Written => &bytes[start..end],
            Tok::Folded(t) => t.as_bytes(),
            Tok::Ascii(b) => b,
        })
    })
    .run();
}

/// Calls `f` with each word of `text` in order, as written and folded: runs of word characters,
/// without the sigil rules of [`for_each_token`] (`#Grève` gives `Grève`, `greve`;
/// `@alice.bsky.social` gives `alice`, `bsky`, `social`; `e\u{301}te\u{301}` gives one word,
/// `ete`; a word of combining marks alone is handed out with an empty fold, which is no token).
/// What the search index's folded fields hold. Same buffers and fast path as [`for_each_token`]:
/// a lower-case ASCII word is handed out as the same slice twice.
#[inline(always)]
pub fn for_each_word(text: &str, scratch: &mut String, mut f: impl FnMut(&str, &str)) {
    Scanner::<_, true, false, false>::new(text, scratch, |start, end, token: Tok<'_>| {
        f(&text[start..end], token.text(text, start, end))
    })
    .run();
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
    fold_into(text, &mut out);
    out
}

/// [`fold`], appending to `out`. Runs of ASCII are copied whole and lower-cased in place, and
/// accented Latin letters read straight from the bytes; other characters go through [`fold_char`]
/// (which every character went through before, each pushed on its own).
pub fn fold_into(text: &str, out: &mut String) {
    let bytes = text.as_bytes();
    let mut at = 0;
    while at < bytes.len() {
        let run = bytes[at..].iter().position(|b| !b.is_ascii()).unwrap_or(bytes.len() - at);
        if run > 0 {
            let from = out.len();
            out.push_str(&text[at..at + run]);
            out[from..].make_ascii_lowercase();
            at += run;
        } else if let Some(l) = latin_at(bytes, at) {
            out.push(char::from(l));
            at += 2;
        } else {
            let c = text[at..].chars().next().unwrap_or(' ');
            fold_char(c, out);
            at += c.len_utf8();
        }
    }
}

/// Whether `c` belongs to a token.
pub fn is_word_char(c: char) -> bool {
    if c.is_ascii() {
        c.is_ascii_alphanumeric()
    } else if matches!(c as u32, 0x2000..=0x206F | 0x1F300..=0x1FAFF) {
        // General punctuation (`’`, `…`, `«`, spaces) and emoji: frequent in posts, never letters.
        false
    } else {
        latin(c).is_some() || c.is_alphanumeric() || is_combining_mark(c)
    }
}

/// The folded ASCII letter of each character of U+00C0..U+017F (`é` → `e`), 0 where folding
/// does not give one ASCII letter (`æ`, `×`): the fast path for French. A test checks it against
/// the full folding.
const LATIN: &[u8; 0xC0] = b"aaaaaa\0ceeeeiiii\0nooooo\0\0uuuuy\0\0aaaaaa\0ceeeeiiii\0nooooo\0\0uuuuy\0y\
aaaaaaccccccccdd\0\0eeeeeeeeeegggggggghh\0\0iiiiiiiii\0\0\0jjkk\0llllllll\0\0nnnnnn\0\0\0oooooo\0\0rrrrrrsssssssstttt\0\0\
uuuuuuuuuuuuwwyyyzzzzzzs";

/// The folded ASCII letter of an accented Latin letter of U+00C0..U+017F, if it folds to one.
#[inline]
fn latin(c: char) -> Option<u8> {
    let i = (c as u32).checked_sub(0xC0).filter(|i| *i < 0xC0)?;
    Some(LATIN[i as usize]).filter(|b| *b != 0)
}

/// The folded letter of the two-byte character starting at `b[at]`, when it is an accented Latin
/// letter that folds to one ASCII letter.
#[inline]
fn latin_at(b: &[u8], at: usize) -> Option<u8> {
    let (lead, next) = (*b.get(at)?, *b.get(at + 1)?);
    if !(0xC3..=0xC5).contains(&lead) || next & 0xC0 != 0x80 {
        return None;
    }
    let cp = (u32::from(lead & 0x1F) << 6) | u32::from(next & 0x3F);
    cp.checked_sub(0xC0).map(|i| LATIN[i as usize]).filter(|l| *l != 0)
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
    if !push_ligature(c, out) {
        decompose_compatible(c, |d| {
            if !is_combining_mark(d) {
                for l in d.to_lowercase() {
                    // `Ǣ` decomposes to `Æ` + macron: its ligature is spelled out too, so that
                    // folding a folded text changes nothing.
                    if (l.is_ascii_alphanumeric() || (!l.is_ascii() && l.is_alphanumeric()))
                        && !is_combining_mark(l)
                        && !push_ligature(l, out)
                    {
                        out.push(l);
                    }
                }
            }
        });
    }
}

/// Appends the letters of `œ`, `æ` and `ß` (either case: `oe`, `ae`, `ss`); whether `c` was one.
fn push_ligature(c: char, out: &mut String) -> bool {
    let letters = match c {
        'œ' | 'Œ' => "oe",
        'æ' | 'Æ' => "ae",
        'ß' | 'ẞ' => "ss",
        _ => return false,
    };
    out.push_str(letters);
    true
}

/// Byte classes: ASCII lower-case letter or digit, upper-case letter, blank-like separator, other.
const LOWER: u8 = 0;
const UPPER: u8 = 1;
const SEP: u8 = 2;
const OTHER: u8 = 3;

/// The class of every byte. `SEP` is only for bytes after which a sigil may start a tag or mention
/// (so not `/ . & : # @ _ -`, nor bytes of non-ASCII characters).
///
/// A `const` reference, not a `static`: the scanner is generic, so it is compiled in the crates that
/// call it, which reached a `static` of this crate through one more load (its address, from the
/// global offset table) on every byte. A reference, not an array: an unoptimised build would copy
/// a `const` array at each use.
const CLASS: &[u8; 256] = &{
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

/// How many of the first bytes of `chunk` (8 bytes) are ASCII letters or digits, and whether one
/// of those is upper-case: a few word operations (SWAR), no branch per byte.
#[inline]
fn alnum_run(chunk: &[u8]) -> (usize, bool) {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let mut w = [0u8; 8];
    w.copy_from_slice(chunk);
    let x = u64::from_le_bytes(w);
    let t = x & !HIGH;
    // Per byte, the high bit of `t + (0x80 - lo)` is set when `t >= lo` (no carry between bytes).
    let at_least = |lo: u64| t + (0x80 - lo) * ONES;
    let lower = at_least(0x61) & !at_least(0x7B);
    let digit = at_least(0x30) & !at_least(0x3A);
    let upper = at_least(0x41) & !at_least(0x5B);
    let alnum = (lower | digit | upper) & !x & HIGH;
    let run = ((!alnum & HIGH).trailing_zeros() / 8) as usize;
    let in_run = if run == 8 { u64::MAX } else { (1u64 << (run * 8)) - 1 };
    (run, upper & HIGH & in_run != 0)
}

/// A token as the scanner hands it out with its place in the text: as written, folded into the
/// buffer, or folded into the scanner's `lower` array (with `ASCII` only).
enum Tok<'s> {
    Written,
    Folded(&'s str),
    Ascii(&'s [u8]),
}

impl<'s> Tok<'s> {
    /// The token, at `text[start..end]`, as a `&str`: for a scanner without `ASCII`, which makes no
    /// [`Tok::Ascii`].
    #[inline(always)]
    fn text<'t>(self, text: &'t str, start: usize, end: usize) -> &'t str
    where
        's: 't,
    {
        match self {
            Tok::Written => &text[start..end],
            Tok::Folded(t) => t,
            Tok::Ascii(_) => unreachable!("no stack-folded token without ASCII"),
        }
    }
}

/// The tokeniser; `FAST` enables the slice fast path of [`Scanner::word`] (tests compare it with
/// the general path alone); without `SIGILS`, `#` and `@` separate words like any punctuation;
/// `ASCII` enables the stack-folded tokens ([`Folded::Lower`]), for a caller that takes bytes.
struct Scanner<'a, F, const FAST: bool, const SIGILS: bool, const ASCII: bool> {
    bytes: &'a [u8],
    text: &'a str,
    at: usize,
    buf: &'a mut String,
    /// The folded form of a short token, built in registers and on the stack (see [`Folded::Lower`]).
    lower: [u8; LOWER_MAX],
    f: F,
}

/// The longest token folded into [`Scanner::lower`] (bytes, sigil included); longer ones go
/// through the buffer.
const LOWER_MAX: usize = 32;

/// What a word folds to: the text as written (lower-case ASCII), the first bytes of the scanner's
/// `lower` array, the scanner's buffer, or nothing (combining marks alone).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Folded {
    Written,
    /// `lower[..n]` (with `ASCII` only): a short token with capitals (up to 16 bytes, with 16
    /// bytes of text left from its start) or with accented Latin letters (up to 32 bytes; no `_`,
    /// `.` or `-` inside a tag or handle), or a lower-case one that `’`, `…` or an emoji ends,
    /// folded without the buffer (copying into a `String` called `memcpy` twice per token; its
    /// lower-casing went a byte at a time).
    Lower(u8),
    Buf,
    Nothing,
}

impl<'a, F: FnMut(usize, usize, Tok<'_>), const FAST: bool, const SIGILS: bool, const ASCII: bool>
    Scanner<'a, F, FAST, SIGILS, ASCII>
{
    /// A scanner of `text` folding into `buf`, calling `f` with each token's place and form.
    #[inline(always)]
    fn new(text: &'a str, buf: &'a mut String, f: F) -> Self {
        Self { bytes: text.as_bytes(), text, at: 0, buf, lower: [0; LOWER_MAX], f }
    }

    /// The scan. Its position is a local (`self.at` only carries it into and out of the slow
    /// paths): as a field of a struct whose address the slow paths take, it was stored and
    /// reloaded on every byte. And `f` is called from one place, so that it is inlined into the
    /// loop (with three call sites it was not: a call per token).
    #[inline(always)]
    fn run(&mut self) {
        let bytes = self.bytes;
        // Whether the previous character allows a sigil (`#`, `@`) to start a tag or mention.
        let mut sigil_ok = true;
        let mut at = 0;
        while at < bytes.len() {
            let b = bytes[at];
            let class = CLASS[b as usize];
            let (start, tag, mention) = if class == SEP {
                // The most frequent case: a blank between words.
                at += 1;
                sigil_ok = true;
                continue;
            } else if class <= UPPER {
                (at, false, false)
            } else if b < 0x80 {
                if SIGILS && (b == b'#' || b == b'@') && sigil_ok && self.word_starts_at(at + 1) {
                    at += 1;
                    (at - 1, b == b'#', b == b'@')
                } else {
                    sigil_ok = !matches!(b, b'/' | b'.' | b'&' | b':' | b'#' | b'@' | b'_' | b'-');
                    at += 1;
                    continue;
                }
            } else if latin_at(bytes, at).is_some() {
                (at, false, false)
            } else {
                let c = self.char_at(at);
                if !is_word_char(c) {
                    sigil_ok = true;
                    at += c.len_utf8();
                    continue;
                }
                (at, false, false)
            };
            sigil_ok = false;
            let folded;
            (at, folded) = self.word(start, at, tag, mention);
            if folded != Folded::Nothing {
                let token = match folded {
                    Folded::Written => Tok::Written,
                    Folded::Lower(n) => Tok::Ascii(&self.lower[..usize::from(n)]),
                    _ => Tok::Folded(self.buf.as_str()),
                };
                (self.f)(start, at, token);
            }
            if mention && bytes.get(at) == Some(&b'@') {
                self.at = at;
                self.skip_instance();
                at = self.at;
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

    /// Reads one token from `at` (its sigil, if any, at `start`): where it ends and what it folds
    /// to.
    #[inline(always)]
    fn word(&mut self, start: usize, at: usize, tag: bool, mention: bool) -> (usize, Folded) {
        // Fast path: a run of ASCII letters and digits that ends the token is its own folded form
        // (once lower-cased).
        // (`fold_word` has its own byte loop: one shared helper measured about 5 % slower at 1k
        // queries, in interleaved runs.)
        let (mut end, mut upper) = (at, false);
        // Eight bytes at a time while they are all ASCII letters or digits; one at a time only
        // for the last few bytes of the text (a shorter run already ends at a byte that is not).
        let mut ended = false;
        while let Some(chunk) = self.bytes.get(end..end + 8) {
            let (run, up) = alnum_run(chunk);
            upper |= up;
            end += run;
            if run < 8 {
                ended = true;
                break;
            }
        }
        while let Some(&c) = self.bytes.get(end)
            && !ended
        {
            match CLASS[c as usize] {
                LOWER => {}
                UPPER => upper = true,
                _ => break,
            }
            end += 1;
        }
        let continues = match self.bytes.get(end) {
            None => false,
            Some(&b) if b >= 0x80 => true,
            Some(&b) => (tag && b == b'_') || (mention && matches!(b, b'_' | b'.' | b'-')),
        };
        if FAST && !continues && end > at {
            if !upper {
                return (end, Folded::Written);
            }
            // Capitals (a sentence's first word, a name): lower-cased sixteen bytes at once.
            if ASCII
                && end - start <= 16
                && let Some(chunk) = self.bytes.get(start..start + 16)
            {
                // (Lower-cased in a local array, then stored: in place, it cost about 8 more
                // instructions a post.)
                let mut w = [0u8; 16];
                w.copy_from_slice(chunk);
                w.make_ascii_lowercase();
                self.lower[..16].copy_from_slice(&w);
                return (end, Folded::Lower((end - start) as u8));
            }
            self.buf.clear();
            self.buf.push_str(&self.text[start..end]);
            self.buf.make_ascii_lowercase();
            return (end, Folded::Buf);
        }
        if FAST
            && ASCII
            && let Some((end, n)) = self.fold_latin(start, end, tag, mention)
        {
            return (end, Folded::Lower(n));
        }
        self.at = at;
        // The ASCII letters and digits read so far need not be read again (the general path
        // reads them again: it is what the fast path is tested against).
        let folded = if FAST {
            self.slow_word(start, end, upper, tag, mention)
        } else {
            self.slow_word(start, at, false, tag, mention)
        };
        (self.at, folded)
    }

    /// [`Self::word`] for a short token of ASCII letters and digits and accented Latin letters
    /// that fold to one ASCII letter (`é`, `À`, `ç`: French), its sigil at `start`, the ASCII
    /// letters and digits from after the sigil up to `ascii_end` already read: where it ends and
    /// its length folded into `self.lower`. `None` for anything else (longer than
    /// [`LOWER_MAX`], another word character, a `_`, `.` or `-` that may continue a tag or a
    /// handle), left to the general path.
    #[inline(always)]
    fn fold_latin(&mut self, start: usize, ascii_end: usize, tag: bool, mention: bool) -> Option<(usize, u8)> {
        let bytes = self.bytes;
        let out = &mut self.lower;
        let mut n = ascii_end - start;
        out.get_mut(..n)?.copy_from_slice(bytes.get(start..ascii_end)?);
        out[..n].make_ascii_lowercase();
        let mut at = ascii_end;
        while let Some(&b) = bytes.get(at) {
            let folded = if b < 0x80 {
                match CLASS[b as usize] {
                    LOWER => b,
                    UPPER => b | 0x20,
                    _ if (tag && b == b'_') || (mention && matches!(b, b'_' | b'.' | b'-')) => return None,
                    _ => break,
                }
            } else if let Some(l) = latin_at(bytes, at) {
                at += 1;
                l
            } else if is_word_char(self.char_at(at)) {
                return None;
            } else {
                // Punctuation (`’`, `…`) or an emoji ends the token.
                break;
            };
            *out.get_mut(n)? = folded;
            n += 1;
            at += 1;
        }
        Some((at, n as u8))
    }

    /// [`Self::word`] for a token that is not all ASCII letters and digits, whose first bytes up to
    /// `ascii_end` are ASCII letters and digits (`upper`: some upper-case) already read; the token's
    /// first character after its sigil is at `self.at`, which it leaves after the token.
    #[inline(never)]
    fn slow_word(&mut self, start: usize, ascii_end: usize, upper: bool, tag: bool, mention: bool) -> Folded {
        self.buf.clear();
        self.buf.push_str(&self.text[start..self.at]);
        let sigil = self.buf.len();
        self.buf.push_str(&self.text[self.at..ascii_end]);
        if upper {
            self.buf[sigil..].make_ascii_lowercase();
        }
        self.at = ascii_end;
        self.fold_word(tag, mention);
        // Combining marks alone (a stray accent, a Tibetan vowel sign) fold to nothing: no token
        // (a word, with its empty fold, for `for_each_word`).
        if self.buf.len() > sigil || !SIGILS { Folded::Buf } else { Folded::Nothing }
    }

    /// After a mention, at `@`: skips the instance of `@user@instance`, which belongs to the
    /// mention and is not a token.
    #[inline(never)]
    fn skip_instance(&mut self) {
        if self.word_starts_at(self.at + 1) {
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

    /// The general case of [`Self::word`]: reads the token's characters from `self.at`, folding
    /// them into the buffer.
    fn fold_word(&mut self, tag: bool, mention: bool) {
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
                let from = self.buf.len();
                self.buf.push_str(&self.text[self.at..end]);
                if upper {
                    self.buf[from..].make_ascii_lowercase();
                }
                self.at = end;
            } else if let Some(l) = latin_at(self.bytes, self.at) {
                self.buf.push(l as char);
                self.at += 2;
            } else if b >= 0x80 {
                let c = self.char_at(self.at);
                if !is_word_char(c) {
                    break;
                }
                fold_char(c, self.buf);
                self.at += c.len_utf8();
            } else if self.joins(b, tag, mention) {
                self.buf.push(b as char);
                self.at += 1;
            } else {
                break;
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
        // Combining marks with nothing to mark fold to nothing: no empty token, no bare sigil.
        check("\u{f71} a \u{301}\u{301} #\u{301} b", &["a", "b"]);
    }

    #[test]
    fn latin_fast_path_agrees_with_full_folding() {
        for c in (0xC0..0x180).filter_map(char::from_u32) {
            let mut slow = String::new();
            fold_slow(c, &mut slow);
            let one = match slow.as_bytes() {
                [b] if b.is_ascii_alphanumeric() => Some(*b),
                _ => None,
            };
            assert_eq!(latin(c), one, "{c}");
            let mut utf8 = [0; 4];
            assert_eq!(latin_at(c.encode_utf8(&mut utf8).as_bytes(), 0), one, "{c}");
            let mut fast = String::new();
            fold_char(c, &mut fast);
            assert_eq!(fast, slow, "{c}");
            assert_eq!(is_word_char(c), c.is_alphanumeric(), "{c}");
        }
    }

    #[test]
    fn eight_bytes_at_a_time_agrees_with_one_at_a_time() {
        let alphabet = b"aAzZ09/:@[`{\x7f\x80\xff _-.#Ee";
        let mut state = 0x2545_f491_4f6c_dd1du64;
        for _ in 0..20_000 {
            let mut chunk = [0u8; 8];
            for b in &mut chunk {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                *b = alphabet[(state % alphabet.len() as u64) as usize];
            }
            let run = chunk.iter().take_while(|b| b.is_ascii_alphanumeric()).count();
            let upper = chunk[..run].iter().any(u8::is_ascii_uppercase);
            assert_eq!(alnum_run(&chunk), (run, upper), "{chunk:?}");
        }
        for b in 0..=255u8 {
            assert_eq!(alnum_run(&[b; 8]).0, if b.is_ascii_alphanumeric() { 8 } else { 0 }, "{b}");
        }
    }

    /// 20,000 seeded texts of up to `max_pieces` of `pieces`, each given to `check`.
    fn random_texts(pieces: &[&str], max_pieces: u64, seed: u64, mut check: impl FnMut(&str)) {
        // A linear congruential generator: its high bits only (the low ones cycle with short
        // periods; the piece count taken from them gave five lengths, all odd).
        let mut state = seed;
        let mut next = move |n: u64| {
            state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            (state >> 33) % n
        };
        for _ in 0..20_000 {
            let mut text = String::new();
            for _ in 0..next(max_pieces + 1) {
                text.push_str(pieces[next(pieces.len() as u64) as usize]);
            }
            check(&text);
        }
    }

    #[test]
    fn fast_path_agrees_with_the_general_path() {
        let pieces = [
            "a", "Z", "7", "é", "É", "ç", "œ", "ß", "ı", "日", "😀", "\u{301}", " ", "\n", "#", "@", "_", ".", "-",
            "/", ":", "'", "’", "…", "café", "CAFÉ", "x@y", "a_b", "«", "½",
        ];
        let (mut scratch, mut fast) = (String::new(), Vec::new());
        random_texts(&pieces, 24, 0x853c_49e6_748f_ea9b, |text| {
            fast.clear();
            for_each_token(text, &mut scratch, |t| fast.push(t.to_owned()));
            let general = general_tokens(text);
            assert_eq!(fast, general, "{text:?}");
            assert_eq!(token_bytes(text), general, "bytes of {text:?}");
        });
    }

    #[test]
    fn long_words_and_texts_agree_with_the_general_path() {
        // Runs of ASCII letters longer than the fast path's 8-byte steps, ending anywhere.
        let pieces =
            ["abcdefghij", "ABCDEFG", "é", "#Tag", "@a.b", " ", "  ", "x", "0123456789", "œ", "-", "_", "Ç", "’", "…"];
        random_texts(&pieces, 80, 0x1234_5678_9abc_def1, |text| {
            let general = general_tokens(text);
            assert_eq!(tokenize(text), general, "{text:?}");
            assert_eq!(token_bytes(text), general, "bytes of {text:?}");
        });
    }

    /// The tokens of `text` by [`for_each_token_bytes`] (its stack-folded tokens included).
    fn token_bytes(text: &str) -> Vec<String> {
        let mut tokens = Vec::new();
        for_each_token_bytes(text, &mut String::new(), |t| tokens.push(String::from_utf8_lossy(t).into_owned()));
        tokens
    }

    /// The tokens of `text` by the general path alone (one character at a time, no fast path).
    fn general_tokens(text: &str) -> Vec<String> {
        let (mut general, mut tokens) = (String::new(), Vec::new());
        Scanner::<_, false, true, false>::new(text, &mut general, |_, _, t: Tok<'_>| match t {
            Tok::Folded(t) => tokens.push(t.to_owned()),
            _ => unreachable!("the general path folds every token into the buffer"),
        })
        .run();
        tokens
    }

    #[test]
    fn words_are_the_folded_runs_of_word_characters() {
        let words = |text: &str| {
            let mut out = Vec::new();
            for_each_word(text, &mut String::new(), |written, w| out.push((written.to_owned(), w.to_owned())));
            out
        };
        let folded = |text: &str| words(text).into_iter().map(|(_, w)| w).collect::<Vec<_>>();
        assert_eq!(
            folded("#Grève @Alice.bsky.social @bob@mastodon.social e\u{301}te\u{301} l'ÉTÉ #\u{301}"),
            ["greve", "alice", "bsky", "social", "bob", "mastodon", "social", "ete", "l", "ete", ""]
        );
        // Against the definition: runs of `is_word_char`, each with its fold.
        let pieces = [
            "a", "Z", "7", "é", "É", "œ", "ß", "日", "😀", "\u{301}", " ", "#", "@", "_", ".", "-", "'", "’", "café",
            "CAFÉ", "x@y", "#a_b", "½", "ﬁ",
        ];
        random_texts(&pieces, 20, 0x2f69_31c1_0b6e_a7d5, |text| {
            let expected: Vec<(String, String)> = text
                .split(|c: char| !is_word_char(c))
                .filter(|w| !w.is_empty())
                .map(|w| (w.to_owned(), fold(w)))
                .collect();
            assert_eq!(words(text), expected, "{text:?}");
        });
    }

    #[test]
    fn punctuation_and_emoji_shortcut_agrees_with_unicode() {
        for c in (0x2000..=0x206F).chain(0x1F300..=0x1FAFF).filter_map(char::from_u32) {
            assert!(!(c.is_alphanumeric() || is_combining_mark(c)), "{c:?}");
        }
    }

    #[test]
    fn folding_a_folded_text_changes_nothing() {
        // Query words arrive folded and the search index folds them again: every character.
        let failures: Vec<(char, String, String)> = (0..=0x10_FFFF)
            .filter_map(char::from_u32)
            .filter_map(|c| {
                let once = fold(&c.to_string());
                let twice = fold(&once);
                (once != twice).then_some((c, once, twice))
            })
            .collect();
        assert!(failures.is_empty(), "{} characters, first: {:?}", failures.len(), &failures[..failures.len().min(20)]);
    }

    #[test]
    fn fold_agrees_with_folding_each_character() {
        let pieces =
            ["a", "Z", "7", "é", "É", "ç", "œ", "ß", "ı", "日", "😀", "\u{301}", " ", "-", "@", "ﬁ", "ÀB", "x.Y"];
        random_texts(&pieces, 24, 0x6a09_e667_f3bc_c908, |text| {
            let mut each = String::new();
            text.chars().for_each(|c| fold_char(c, &mut each));
            assert_eq!(fold(text), each, "{text:?}");
        });
    }

    #[test]
    fn fold_keeps_punctuation() {
        assert_eq!(fold("Le-Monde.FR"), "le-monde.fr");
        assert_eq!(fold("Élysée"), "elysee");
    }
}
