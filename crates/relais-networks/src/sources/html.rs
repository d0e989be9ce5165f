//! Hostile HTML (feed items, Mastodon statuses) to bounded plain text for listening.
//!
//! This is not a sanitiser for display: it produces *text*, never markup. Tags are dropped
//! (attributes, and so links and event handlers, never reach the output); the content of
//! `script`, `style` and the other non-text elements is dropped whole, even when it is never
//! closed; comments and declarations are dropped; entities are decoded once (numeric ones and a
//! table of named ones, so `&amp;lt;` stays `&lt;` in the text); runs of whitespace collapse to one
//! space as a browser would show them, block elements (`p`, `div`, `li`, headings …) and `<br>`
//! become line breaks (at most one blank line in a row); control characters and bidirectional
//! overrides are removed. The scan is linear in the input, and the output is cut at a character
//! boundary once it reaches the caller's limit (an ellipsis marks the cut).

/// Elements whose content is not text: dropped with everything inside.
const OPAQUE: &[&str] =
    &["script", "style", "noscript", "template", "iframe", "object", "svg", "math", "head", "title"];

/// Elements that start and end a block of text.
const BLOCKS: &[&str] = &[
    "p",
    "div",
    "ul",
    "ol",
    "dl",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "blockquote",
    "pre",
    "table",
    "section",
    "article",
    "header",
    "footer",
    "aside",
    "nav",
    "figure",
    "figcaption",
    "hr",
    "address",
    "details",
    "summary",
    "main",
];

/// Plain text from an HTML fragment, at most `max_bytes` bytes (UTF-8) long.
pub fn to_text(html: &str, max_bytes: usize) -> String {
    let mut out = Text::new(max_bytes);
    let mut rest = html;
    while !rest.is_empty() && !out.full {
        let Some(start) = rest.find('<') else {
            out.push_html_text(rest);
            break;
        };
        out.push_html_text(&rest[..start]);
        rest = &rest[start..];
        rest = match markup(rest) {
            Markup::Text => {
                out.push_html_text("<");
                &rest[1..]
            }
            Markup::Skip(len) => &rest[len..],
            Markup::Tag { len, name, closing } => {
                let after = &rest[len..];
                let name = name.to_ascii_lowercase();
                if !closing && OPAQUE.contains(&name.as_str()) {
                    skip_opaque(after, &name)
                } else {
                    if name == "br" {
                        out.line_break();
                    } else if matches!(name.as_str(), "li" | "dt" | "dd" | "tr") {
                        out.line_end();
                    } else if BLOCKS.contains(&name.as_str()) {
                        out.block_break();
                    } else if matches!(name.as_str(), "td" | "th") {
                        out.space();
                    }
                    after
                }
            }
        };
    }
    out.finish()
}

/// Plain text given as plain text: the same whitespace, control-character and length rules as
/// [`to_text`], without reading tags or entities.
pub fn plain(text: &str, max_bytes: usize) -> String {
    let mut out = Text::new(max_bytes);
    for line in text.split('\n') {
        out.push_chars(line.chars());
        out.line_break();
        if out.full {
            break;
        }
    }
    out.finish()
}

/// What starts at a `<`.
enum Markup<'a> {
    /// A lone `<` (`a < b`): text.
    Text,
    /// A comment, declaration or processing instruction, this many bytes long.
    Skip(usize),
    /// A tag, this many bytes long.
    Tag { len: usize, name: &'a str, closing: bool },
}

fn markup(at: &str) -> Markup<'_> {
    let after = &at[1..];
    if let Some(comment) = after.strip_prefix("!--") {
        return Markup::Skip(comment.find("-->").map_or(at.len(), |end| 4 + end + 3));
    }
    if after.starts_with(['!', '?']) {
        return Markup::Skip(after.find('>').map_or(at.len(), |end| end + 2));
    }
    let (closing, body) = match after.strip_prefix('/') {
        Some(body) => (true, body),
        None => (false, after),
    };
    if !body.starts_with(|c: char| c.is_ascii_alphabetic()) {
        return Markup::Text;
    }
    let name_len = body.find(|c: char| !c.is_ascii_alphanumeric() && c != '-').unwrap_or(body.len());
    let name = &body[..name_len];
    let offset = 1 + usize::from(closing) + name_len;
    Markup::Tag { len: offset + tag_end(&at[offset..]), name, closing }
}

/// The length up to and including the `>` closing a tag, skipping quoted attribute values; the
/// whole rest when the tag never closes.
fn tag_end(rest: &str) -> usize {
    let mut quote = None;
    for (i, c) in rest.char_indices() {
        match (quote, c) {
            (None, '>') => return i + 1,
            (None, '"' | '\'') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            _ => {}
        }
    }
    rest.len()
}

/// The text after the closing tag of an opaque element (`</script>`), or nothing when it never
/// closes. Case-insensitive; linear.
fn skip_opaque<'a>(rest: &'a str, name: &str) -> &'a str {
    let bytes = rest.as_bytes();
    let mut from = 0;
    while let Some(pos) = rest[from..].find("</") {
        let start = from + pos + 2;
        let candidate = bytes.get(start..start + name.len());
        let boundary = bytes.get(start + name.len()).is_none_or(|b| !b.is_ascii_alphanumeric());
        if candidate.is_some_and(|c| c.eq_ignore_ascii_case(name.as_bytes())) && boundary {
            let tail = &rest[start + name.len()..];
            return &tail[tail.find('>').map_or(tail.len(), |end| end + 1)..];
        }
        from = start;
    }
    ""
}

/// The output being built: whitespace collapsed, breaks pending until text follows, bounded.
struct Text {
    out: String,
    max: usize,
    /// Whitespace seen since the last character written.
    space: bool,
    /// Line breaks owed before the next character (1 or 2).
    breaks: usize,
    full: bool,
}

impl Text {
    fn new(max: usize) -> Text {
        Text { out: String::new(), max, space: false, breaks: 0, full: false }
    }

    /// HTML text between tags: entities decoded.
    fn push_html_text(&mut self, text: &str) {
        let mut rest = text;
        while let Some(amp) = rest.find('&') {
            self.push_chars(rest[..amp].chars());
            let after = &rest[amp + 1..];
            match entity_at(after) {
                Some((c, len)) => {
                    self.push_chars(std::iter::once(c));
                    rest = &after[len..];
                }
                None => {
                    self.push_chars(std::iter::once('&'));
                    rest = after;
                }
            }
        }
        self.push_chars(rest.chars());
    }

    fn push_chars(&mut self, chars: impl Iterator<Item = char>) {
        for c in chars {
            if self.full {
                return;
            }
            if c.is_whitespace() {
                self.space = true;
            } else if !unwanted(c) {
                self.write(c);
            }
        }
    }

    fn write(&mut self, c: char) {
        let pending = if self.out.is_empty() {
            0
        } else if self.breaks > 0 {
            self.breaks
        } else {
            usize::from(self.space)
        };
        if self.out.len() + pending + c.len_utf8() > self.max {
            self.cut();
            return;
        }
        for _ in 0..pending {
            self.out.push(if self.breaks > 0 { '\n' } else { ' ' });
        }
        self.out.push(c);
        (self.space, self.breaks) = (false, 0);
    }

    /// Marks the output as cut: an ellipsis if it fits, else the last characters give way.
    fn cut(&mut self) {
        self.full = true;
        while !self.out.is_empty() && self.out.len() + '…'.len_utf8() > self.max {
            self.out.pop();
        }
        if self.out.len() + '…'.len_utf8() <= self.max {
            self.out.push('…');
        }
    }

    fn space(&mut self) {
        self.space = true;
    }

    fn line_break(&mut self) {
        self.breaks = (self.breaks + 1).min(2);
    }

    fn line_end(&mut self) {
        self.breaks = self.breaks.max(1);
    }

    fn block_break(&mut self) {
        self.breaks = 2;
    }

    fn finish(self) -> String {
        self.out
    }
}

/// Characters that never reach the text: controls, bidirectional embeddings/overrides/isolates
/// (which can make a text display differently from what it says), and the invisible characters
/// that split words (soft hyphen, zero-width space, BOM).
fn unwanted(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{feff}' | '\u{ad}' | '\u{200b}')
}

/// The entity at the start of `after` (the text after a `&`): the character and how many bytes
/// the entity takes, `;` included.
fn entity_at(after: &str) -> Option<(char, usize)> {
    let end = after.bytes().take(12).position(|b| b == b';')?;
    let name = &after[..end];
    let c = match name.strip_prefix('#') {
        Some(number) => {
            let code = match number.strip_prefix(['x', 'X']) {
                Some(hex) => u32::from_str_radix(hex, 16).ok()?,
                None => number.parse().ok()?,
            };
            // Like browsers: NUL, surrogates and out-of-range code points become U+FFFD.
            char::from_u32(code).filter(|&c| c != '\0').unwrap_or('\u{fffd}')
        }
        None => named(name)?,
    };
    Some((c, end + 1))
}

/// The named entities feeds use in practice (HTML's full list has 2,231; the rest stay as text).
fn named(name: &str) -> Option<char> {
    let c = match name {
        "amp" => '&',
        "lt" => '<',
        "gt" => '>',
        "quot" => '"',
        "apos" => '\'',
        "nbsp" => '\u{a0}',
        "hellip" => '…',
        "mdash" => '—',
        "ndash" => '–',
        "laquo" => '«',
        "raquo" => '»',
        "lsquo" => '‘',
        "rsquo" => '’',
        "ldquo" => '“',
        "rdquo" => '”',
        "bull" => '•',
        "middot" => '·',
        "euro" => '€',
        "copy" => '©',
        "reg" => '®',
        "trade" => '™',
        "deg" => '°',
        "times" => '×',
        "shy" => '\u{ad}',
        "thinsp" => '\u{2009}',
        "eacute" => 'é',
        "Eacute" => 'É',
        "egrave" => 'è',
        "Egrave" => 'È',
        "ecirc" => 'ê',
        "Ecirc" => 'Ê',
        "euml" => 'ë',
        "agrave" => 'à',
        "Agrave" => 'À',
        "acirc" => 'â',
        "Acirc" => 'Â',
        "auml" => 'ä',
        "ccedil" => 'ç',
        "Ccedil" => 'Ç',
        "icirc" => 'î',
        "iuml" => 'ï',
        "ocirc" => 'ô',
        "Ocirc" => 'Ô',
        "ouml" => 'ö',
        "ugrave" => 'ù',
        "ucirc" => 'û',
        "uuml" => 'ü',
        "yuml" => 'ÿ',
        "oelig" => 'œ',
        "OElig" => 'Œ',
        "aelig" => 'æ',
        "szlig" => 'ß',
        "ntilde" => 'ñ',
        "aacute" => 'á',
        "iacute" => 'í',
        "oacute" => 'ó',
        "uacute" => 'ú',
        _ => return None,
    };
    Some(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(html: &str, expected: &str) {
        assert_eq!(to_text(html, 10_000), expected, "{html:?}");
    }

    #[test]
    fn tags_and_blocks() {
        check("<p>Hello <b>world</b></p>", "Hello world");
        check("<p>first</p><p>second</p>", "first\n\nsecond");
        check("line one<br>line two<br/>three<BR >", "line one\nline two\nthree");
        check("<ul><li>a</li><li>b</li></ul><p>c</p>", "a\nb\n\nc");
        check("  lots   of\n\t whitespace  ", "lots of whitespace");
        check("<div><div><p>deep</p></div></div>end", "deep\n\nend");
        check("<table><tr><td>a</td><td>b</td></tr></table>", "a b");
        check("a<span>b</span>c", "abc");
        check(
            r#"<p>Hi <span class="h-card"><a href="https://x.example/@bob" class="u-url mention">@<span>bob</span></a></span> see <a href="https://relais.example/a?b=1&amp;c=2"><span class="invisible">https://</span><span class="ellipsis">relais.example/a</span><span class="invisible">?b=1&amp;c=2</span></a></p>"#,
            "Hi @bob see https://relais.example/a?b=1&c=2",
        );
    }

    #[test]
    fn hostile_markup() {
        check("a<script>alert('<p>x</p>')</script>b", "ab");
        check("a<SCRIPT type=x>document.write(\"</scr\" + \"ipt>\")</ScRiPt >b", "ab");
        check("a<style>p { color: red }</style>b", "ab");
        check("before<script>never closed <p>secret</p>", "before");
        check("a<scripts>kept</scripts>b", "akeptb");
        check(r#"<img src=x onerror="alert('>')">after"#, "after");
        check(r#"<a href="javascript:alert(1)" title='a>b'>link</a>"#, "link");
        check("a<!-- <script>x</script> -->b<!-- unclosed", "ab");
        check("<?xml version=\"1.0\"?><!DOCTYPE html>text", "text");
        check("a < b and c<3 and <> and </ >", "a < b and c<3 and <> and </ >");
        check("<b", "");
        check("x<iframe src=evil><p>in</p></iframe>y", "xy");
        check("a\u{202e}evil\u{0007}b\u{feff}", "aevilb");
    }

    #[test]
    fn entities() {
        check("a &amp; b &lt;c&gt; &quot;d&quot; it&#39;s &apos;", "a & b <c> \"d\" it's '");
        check("caf&eacute; &#xe9;t&#233; &euro;&nbsp;5 &laquo;oui&raquo; &oelig;uvre", "café été € 5 «oui» œuvre");
        check("&amp;lt;script&amp;gt;", "&lt;script&gt;");
        check("&lt;script&gt;alert(1)&lt;/script&gt;", "<script>alert(1)</script>");
        check(
            "&unknown; &amp &#xZZ; & alone &#0; &#xD800; &#x110000;",
            "&unknown; &amp &#xZZ; & alone \u{fffd} \u{fffd} \u{fffd}",
        );
        check("&#10;&#x7;x", "x");
    }

    #[test]
    fn bounded() {
        let long = "<p>".to_owned() + &"é".repeat(100) + "</p>";
        let text = to_text(&long, 21);
        assert!(text.len() <= 21, "{text}");
        assert_eq!(text, "é".repeat(9) + "…");
        assert_eq!(to_text("abc", 3), "abc");
        assert_eq!(to_text("abcd", 3), "…");
        assert_eq!(to_text("abcd", 2), "");
        assert_eq!(plain("  one\n\n\n two <b>  ", 100), "one\n\ntwo <b>");
        assert_eq!(plain(&"x".repeat(50), 10), "x".repeat(7) + "…");
        // Linear: a large hostile input is handled quickly and bounded.
        let bomb = "<a title=\"".repeat(20_000) + &"<script>".repeat(20_000) + &"&amp;".repeat(20_000);
        assert!(to_text(&bomb, 1000).len() <= 1000);
    }
}
