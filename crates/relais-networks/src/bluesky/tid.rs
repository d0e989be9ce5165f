//! AT Protocol timestamp identifiers (TIDs) and record keys: <https://atproto.com/specs/tid>.
//!
//! A TID is a 64-bit integer (top bit 0, then 53 bits of microseconds since the UNIX epoch, then a
//! 10-bit clock identifier) written as 13 characters of the sortable base32 alphabet
//! `234567abcdefghijklmnopqrstuvwxyz`, so that TIDs sort as strings in time order. Bluesky posts
//! (`app.bsky.feed.post`) use a TID as record key; Relais uses it as the idempotency key.

const ALPHABET: &[u8; 32] = b"234567abcdefghijklmnopqrstuvwxyz";

/// A TID for `now_micros` (microseconds since the UNIX epoch, the time is a parameter) and a
/// clock identifier (only its low 10 bits are used).
pub fn new_tid(now_micros: u64, clock_id: u16) -> String {
    let value = ((now_micros & ((1 << 53) - 1)) << 10) | u64::from(clock_id & 0x3ff);
    (0..13).rev().map(|i| char::from(ALPHABET[((value >> (5 * i)) & 31) as usize])).collect()
}

/// Whether `s` is a syntactically valid TID (13 characters, sortable base32, top bit 0).
pub fn is_valid_tid(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 13 && b"234567abcdefghij".contains(&b[0]) && b.iter().all(|c| ALPHABET.contains(c))
}

/// Whether `s` is a syntactically valid record key: 1 to 512 characters of `A-Za-z0-9._:~-`,
/// not `.` nor `..`.
pub fn is_valid_rkey(s: &str) -> bool {
    (1..=512).contains(&s.len())
        && s != "."
        && s != ".."
        && s.bytes().all(|c| c.is_ascii_alphanumeric() || b"._:~-".contains(&c))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_like_the_reference_implementation() {
        // Values from @atproto/common-web `TID.fromTime(micros, clockId).toString()`.
        let check = |micros: u64, clock: u16, expected: &str| assert_eq!(new_tid(micros, clock), expected);
        check(1_700_000_000_000_000, 0, "3ke6kg3wk2222");
        check(1_700_000_000_000_000, 1023, "3ke6kg3wk22zz");
        check(1_763_897_000_123_456, 42, "3m6c753tr423e");
        // (the reference refuses times so small that they encode to fewer digits; this pads them)
        check(0, 0, "2222222222222");
        check(0, 1, "2222222222223");
    }

    #[test]
    fn sorts_in_time_order_and_is_valid() {
        let mut previous = String::new();
        for micros in [1, 2, 1_000, 1_600_000_000_000_000, 1_700_000_000_000_000, 1_800_000_000_000_001] {
            let tid = new_tid(micros, 7);
            assert!(is_valid_tid(&tid), "{tid}");
            assert!(is_valid_rkey(&tid), "{tid}");
            assert!(tid > previous, "{tid} after {previous}");
            previous = tid;
        }
        // The clock id keeps only 10 bits; the microseconds only 53.
        assert_eq!(new_tid(5, 1024), new_tid(5, 0));
        assert_eq!(new_tid(u64::MAX, 0).len(), 13);
        assert!(is_valid_tid(&new_tid(u64::MAX, 1023)));
    }

    #[test]
    fn validates_keys() {
        for bad in ["", "3ke6kg3wk222", "3ke6kg3wk22222", "kke6kg3wk2222", "3ke6kg3wk2221", "3KE6KG3WK2222"] {
            assert!(!is_valid_tid(bad), "{bad}");
        }
        for bad in ["", ".", "..", "a/b", "a b", "é"] {
            assert!(!is_valid_rkey(bad), "{bad}");
        }
        for good in ["self", "3ke6kg3wk2222", "a.b:c~d-e_f"] {
            assert!(is_valid_rkey(good), "{good}");
        }
    }
}
