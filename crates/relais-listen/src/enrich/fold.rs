//! Character folding shared by the enrichers: lower case, Latin accents removed, typographic
//! apostrophes made plain, all appended to a caller's buffer (no allocation per token).

/// Appends `s` in lower case to `out`.
pub fn push_lower(out: &mut String, s: &str) {
    if s.is_ascii() {
        let start = out.len();
        out.push_str(s);
        out[start..].make_ascii_lowercase();
    } else {
        for c in s.chars() {
            push_lower_char(out, c);
        }
    }
}

/// Appends one character in lower case (typographic apostrophes become `'`).
pub fn push_lower_char(out: &mut String, c: char) {
    match c {
        'A'..='Z' => out.push(c.to_ascii_lowercase()),
        '\u{2019}' | '\u{2018}' | '\u{02BC}' => out.push('\''),
        c if c.is_ascii() => out.push(c),
        c => out.extend(c.to_lowercase()),
    }
}

/// Appends `s` in lower case without accents (`Été` → `ete`, `œuvre` → `oeuvre`).
pub fn push_folded(out: &mut String, s: &str) {
    if s.is_ascii() {
        push_lower(out, s);
        return;
    }
    for c in s.chars() {
        push_folded_char(out, c);
    }
}

/// Appends one character in lower case without accent.
pub fn push_folded_char(out: &mut String, c: char) {
    if c.is_ascii() {
        out.push(c.to_ascii_lowercase());
        return;
    }
    match strip_accent(c) {
        Some(plain) => out.push_str(plain),
        None => push_lower_char(out, c),
    }
}

/// The unaccented lower-case spelling of a Latin letter with a diacritic, if it is one.
pub fn strip_accent(c: char) -> Option<&'static str> {
    Some(match c {
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'À' | 'Á' | 'Â' | 'Ã' | 'Ä' | 'Å' => "a",
        'ç' | 'Ç' => "c",
        'è' | 'é' | 'ê' | 'ë' | 'È' | 'É' | 'Ê' | 'Ë' => "e",
        'ì' | 'í' | 'î' | 'ï' | 'Ì' | 'Í' | 'Î' | 'Ï' => "i",
        'ñ' | 'Ñ' => "n",
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'Ò' | 'Ó' | 'Ô' | 'Õ' | 'Ö' => "o",
        'ù' | 'ú' | 'û' | 'ü' | 'Ù' | 'Ú' | 'Û' | 'Ü' => "u",
        'ý' | 'ÿ' | 'Ý' | 'Ÿ' => "y",
        'œ' | 'Œ' => "oe",
        'æ' | 'Æ' => "ae",
        'ß' => "ss",
        '\u{2019}' | '\u{2018}' | '\u{02BC}' => "'",
        _ => return None,
    })
}

/// Python's `str.isupper()`: at least one cased character and no lower-case one.
pub fn is_upper(s: &str) -> bool {
    if s.is_ascii() {
        let b = s.as_bytes();
        return b.iter().any(u8::is_ascii_uppercase) && !b.iter().any(u8::is_ascii_lowercase);
    }
    let mut cased = false;
    for c in s.chars() {
        if c.is_lowercase() {
            return false;
        }
        cased |= c.is_uppercase();
    }
    cased
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_french() {
        let mut out = String::new();
        push_folded(&mut out, "Très DÉÇU, l’œuvre");
        assert_eq!(out, "tres decu, l'oeuvre");
        out.clear();
        push_lower(&mut out, "Don’t ÉTÉ");
        assert_eq!(out, "don't été");
    }

    #[test]
    fn upper_like_python() {
        assert!(is_upper("GOOD!"));
        assert!(is_upper("ÉTÉ"));
        assert!(!is_upper(":)"));
        assert!(!is_upper("Good"));
    }
}
