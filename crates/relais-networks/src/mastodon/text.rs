//! Turning a status's HTML `content` back into the plain text that was sent (for reconciliation).

/// The plain text of a status's HTML: `<br>` becomes a newline, a paragraph break a blank line,
/// other tags are dropped, the common entities are decoded, and the result is trimmed.
pub fn status_text(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(start) = rest.find('<') {
        out.push_str(&rest[..start]);
        let Some(len) = rest[start..].find('>') else {
            out.push_str(&rest[start..]);
            rest = "";
            break;
        };
        let tag = rest[start + 1..start + len].trim().to_ascii_lowercase();
        let name = tag.trim_start_matches('/').split([' ', '/']).next().unwrap_or_default();
        match (name, tag.starts_with('/')) {
            ("br", _) => out.push('\n'),
            ("p", false) if !out.is_empty() => out.push_str("\n\n"),
            _ => {}
        }
        rest = &rest[start + len + 1..];
    }
    out.push_str(rest);
    decode_entities(&out).trim().to_owned()
}

/// Decodes `&amp; &lt; &gt; &quot; &#39; &apos; &nbsp;` and numeric entities.
fn decode_entities(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find('&') {
        out.push_str(&rest[..start]);
        let after = &rest[start..];
        let end = after.find(';').filter(|&e| e <= 10);
        let decoded = end.and_then(|e| entity(&after[1..e]));
        match (end, decoded) {
            (Some(e), Some(c)) => {
                out.push(c);
                rest = &after[e + 1..];
            }
            _ => {
                out.push('&');
                rest = &after[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

fn entity(name: &str) -> Option<char> {
    match name {
        "amp" => Some('&'),
        "lt" => Some('<'),
        "gt" => Some('>'),
        "quot" => Some('"'),
        "apos" => Some('\''),
        "nbsp" => Some('\u{a0}'),
        _ => {
            let number = name.strip_prefix('#')?;
            let code = match number.strip_prefix(['x', 'X']) {
                Some(hex) => u32::from_str_radix(hex, 16).ok()?,
                None => number.parse().ok()?,
            };
            char::from_u32(code)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_to_text() {
        let check = |html: &str, expected: &str| assert_eq!(status_text(html), expected, "{html}");
        check("<p>Hello world</p>", "Hello world");
        check("<p>a &amp; b &lt;c&gt; &quot;d&quot; it&#39;s</p>", "a & b <c> \"d\" it's");
        check("<p>line one<br>line two<br />three</p>", "line one\nline two\nthree");
        check("<p>first</p><p>second</p>", "first\n\nsecond");
        check(
            r#"<p>Hi <span class="h-card"><a href="https://x.example/@bob" class="u-url mention">@<span>bob</span></a></span> see <a href="https://relais.example/a?b=1&amp;c=2" rel="nofollow noopener" target="_blank"><span class="invisible">https://</span><span class="">relais.example/a?b=1&amp;c=2</span><span class="invisible"></span></a></p>"#,
            "Hi @bob see https://relais.example/a?b=1&c=2",
        );
        check("  plain &unknown; &amp  text  ", "plain &unknown; &amp  text");
        check("<p>caf&#xe9; &#8364;</p>", "café €");
        check("<p>unclosed <b", "unclosed <b");
    }
}
