//! A bounded DAG-CBOR decoder: the subset of CBOR (RFC 8949) the AT Protocol uses, read from
//! untrusted bytes without copying strings and without panicking.
//!
//! Accepted: unsigned and negative integers, byte and text strings (UTF-8 checked), arrays, maps
//! with text keys, `false`/`true`/`null`, floats (half, single, double), and tag 42 (a CID link,
//! whose byte string starts with the `0x00` multibase prefix). Refused, as DAG-CBOR refuses them:
//! indefinite lengths, other tags, `undefined` and other simple values, non-text map keys.
//! Not checked (decoding stays lenient): the canonical key order, minimal integer encodings,
//! duplicate keys (the first wins on lookup).
//!
//! Limits: nesting depth [`MAX_DEPTH`], at most [`MAX_ITEMS`] values per call, and every length is
//! checked against the bytes that remain before anything is allocated, so a hostile length
//! prefix cannot make the decoder reserve memory it was not given.

use std::fmt;

/// The deepest nesting of arrays and maps accepted (a post record nests four or five levels).
pub const MAX_DEPTH: usize = 64;
/// The most values one decode call builds (a commit body has a few dozen; a record, a few hundred).
pub const MAX_ITEMS: usize = 100_000;

/// A decoded value, borrowing strings and bytes from the input.
#[derive(Debug, Clone, PartialEq)]
pub enum Value<'a> {
    /// An integer (CBOR major types 0 and 1 cover -2^64 ..= 2^64 - 1).
    Int(i128),
    /// A byte string.
    Bytes(&'a [u8]),
    /// A text string.
    Text(&'a str),
    /// An array.
    Array(Vec<Value<'a>>),
    /// A map with text keys, in the order they were read.
    Map(Vec<(&'a str, Value<'a>)>),
    /// A CID link (tag 42), without its `0x00` multibase prefix.
    Link(&'a [u8]),
    /// `true` or `false`.
    Bool(bool),
    /// `null`.
    Null,
    /// A floating-point number.
    Float(f64),
}

impl<'a> Value<'a> {
    /// The value of `key` when this is a map.
    pub fn get(&self, key: &str) -> Option<&Value<'a>> {
        match self {
            Value::Map(entries) => entries.iter().find(|(k, _)| *k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// The text, when this is a text string.
    pub fn as_str(&self) -> Option<&'a str> {
        match self {
            Value::Text(s) => Some(s),
            _ => None,
        }
    }

    /// The integer, when this is one that fits an `i64`.
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Int(i) => i64::try_from(*i).ok(),
            _ => None,
        }
    }

    /// The bytes, when this is a byte string.
    pub fn as_bytes(&self) -> Option<&'a [u8]> {
        match self {
            Value::Bytes(b) => Some(b),
            _ => None,
        }
    }

    /// The CID bytes, when this is a link.
    pub fn as_link(&self) -> Option<&'a [u8]> {
        match self {
            Value::Link(b) => Some(b),
            _ => None,
        }
    }

    /// The elements, when this is an array.
    pub fn as_array(&self) -> Option<&[Value<'a>]> {
        match self {
            Value::Array(items) => Some(items),
            _ => None,
        }
    }

    /// The boolean, when this is one.
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }
}

/// Why bytes are not DAG-CBOR this decoder accepts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CborError {
    /// The input ends inside a value.
    Truncated,
    /// Nesting deeper than [`MAX_DEPTH`].
    TooDeep,
    /// More than [`MAX_ITEMS`] values.
    TooManyItems,
    /// Something valid in CBOR that DAG-CBOR refuses, or malformed bytes.
    Invalid(&'static str),
    /// Bytes left after the value when the whole input had to be one value.
    TrailingBytes,
}

impl fmt::Display for CborError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CborError::Truncated => f.write_str("truncated CBOR"),
            CborError::TooDeep => write!(f, "CBOR nested deeper than {MAX_DEPTH}"),
            CborError::TooManyItems => write!(f, "more than {MAX_ITEMS} CBOR values"),
            CborError::Invalid(why) => write!(f, "invalid DAG-CBOR: {why}"),
            CborError::TrailingBytes => f.write_str("bytes after the CBOR value"),
        }
    }
}

impl std::error::Error for CborError {}

/// Decodes one value from the start of `input`; returns it and the bytes after it.
pub fn decode_prefix(input: &[u8]) -> Result<(Value<'_>, &[u8]), CborError> {
    let mut reader = Reader { input, pos: 0, items: 0 };
    let value = reader.value(0)?;
    Ok((value, &input[reader.pos..]))
}

/// Decodes `input` as exactly one value.
pub fn decode(input: &[u8]) -> Result<Value<'_>, CborError> {
    let (value, rest) = decode_prefix(input)?;
    if rest.is_empty() { Ok(value) } else { Err(CborError::TrailingBytes) }
}

struct Reader<'a> {
    input: &'a [u8],
    pos: usize,
    items: usize,
}

impl<'a> Reader<'a> {
    fn remaining(&self) -> usize {
        self.input.len() - self.pos
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], CborError> {
        if n > self.remaining() {
            return Err(CborError::Truncated);
        }
        let bytes = &self.input[self.pos..self.pos + n];
        self.pos += n;
        Ok(bytes)
    }

    fn byte(&mut self) -> Result<u8, CborError> {
        Ok(self.take(1)?[0])
    }

    /// The argument of an initial byte: the additional information, or the integer after it.
    fn argument(&mut self, info: u8) -> Result<u64, CborError> {
        let width = match info {
            0..=23 => return Ok(u64::from(info)),
            24 => 1,
            25 => 2,
            26 => 4,
            27 => 8,
            31 => return Err(CborError::Invalid("indefinite length")),
            _ => return Err(CborError::Invalid("reserved additional information")),
        };
        Ok(self.take(width)?.iter().fold(0u64, |acc, b| (acc << 8) | u64::from(*b)))
    }

    /// A length that must fit in what remains (each element takes at least one byte).
    fn length(&mut self, info: u8) -> Result<usize, CborError> {
        let n = self.argument(info)?;
        match usize::try_from(n) {
            Ok(n) if n <= self.remaining() => Ok(n),
            _ => Err(CborError::Truncated),
        }
    }

    fn value(&mut self, depth: usize) -> Result<Value<'a>, CborError> {
        if depth > MAX_DEPTH {
            return Err(CborError::TooDeep);
        }
        self.items += 1;
        if self.items > MAX_ITEMS {
            return Err(CborError::TooManyItems);
        }
        let initial = self.byte()?;
        let (major, info) = (initial >> 5, initial & 0x1f);
        match major {
            0 => Ok(Value::Int(i128::from(self.argument(info)?))),
            1 => Ok(Value::Int(-1 - i128::from(self.argument(info)?))),
            2 => {
                let n = self.length(info)?;
                Ok(Value::Bytes(self.take(n)?))
            }
            3 => {
                let n = self.length(info)?;
                let bytes = self.take(n)?;
                std::str::from_utf8(bytes).map(Value::Text).map_err(|_| CborError::Invalid("text is not UTF-8"))
            }
            4 => {
                let n = self.length(info)?;
                let mut items = Vec::with_capacity(n.min(1024));
                for _ in 0..n {
                    items.push(self.value(depth + 1)?);
                }
                Ok(Value::Array(items))
            }
            5 => {
                let n = self.length(info)?;
                let mut entries = Vec::with_capacity(n.min(1024));
                for _ in 0..n {
                    let Value::Text(key) = self.value(depth + 1)? else {
                        return Err(CborError::Invalid("map key is not text"));
                    };
                    entries.push((key, self.value(depth + 1)?));
                }
                Ok(Value::Map(entries))
            }
            6 => self.tagged(info, depth),
            _ => self.simple(info),
        }
    }

    fn tagged(&mut self, info: u8, depth: usize) -> Result<Value<'a>, CborError> {
        if self.argument(info)? != 42 {
            return Err(CborError::Invalid("tag other than 42"));
        }
        match self.value(depth + 1)? {
            Value::Bytes([0, cid @ ..]) if !cid.is_empty() => Ok(Value::Link(cid)),
            _ => Err(CborError::Invalid("tag 42 without a 0x00-prefixed CID")),
        }
    }

    fn simple(&mut self, info: u8) -> Result<Value<'a>, CborError> {
        match info {
            20 => Ok(Value::Bool(false)),
            21 => Ok(Value::Bool(true)),
            22 => Ok(Value::Null),
            25 => Ok(Value::Float(half_to_f64(self.argument(info)? as u16))),
            26 => Ok(Value::Float(f64::from(f32::from_bits(self.argument(info)? as u32)))),
            27 => Ok(Value::Float(f64::from_bits(self.argument(info)?))),
            _ => Err(CborError::Invalid("simple value other than false, true, null or a float")),
        }
    }
}

/// An IEEE 754 half-precision float, widened.
fn half_to_f64(bits: u16) -> f64 {
    let sign = if bits & 0x8000 == 0 { 1.0 } else { -1.0 };
    let exponent = i32::from((bits >> 10) & 0x1f);
    let mantissa = f64::from(bits & 0x3ff);
    sign * match exponent {
        0 => mantissa * 2f64.powi(-24),
        31 if mantissa == 0.0 => f64::INFINITY,
        31 => f64::NAN,
        _ => (1.0 + mantissa / 1024.0) * 2f64.powi(exponent - 15),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(hex: &str, expected: Result<Value<'_>, CborError>) {
        let bytes = hex_bytes(hex);
        assert_eq!(decode(&bytes), expected, "{hex}");
    }

    fn hex_bytes(hex: &str) -> Vec<u8> {
        let hex: String = hex.split_whitespace().collect();
        (0..hex.len()).step_by(2).map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap_or(0)).collect()
    }

    #[test]
    fn rfc_8949_examples_and_dag_cbor_refusals() {
        check("00", Ok(Value::Int(0)));
        check("17", Ok(Value::Int(23)));
        check("1818", Ok(Value::Int(24)));
        check("1bffffffffffffffff", Ok(Value::Int(18446744073709551615)));
        check("3bffffffffffffffff", Ok(Value::Int(-18446744073709551616)));
        check("20", Ok(Value::Int(-1)));
        check("3903e7", Ok(Value::Int(-1000)));
        check("f93c00", Ok(Value::Float(1.0)));
        check("f9c400", Ok(Value::Float(-4.0)));
        check("fa47c35000", Ok(Value::Float(100000.0)));
        check("fb3ff199999999999a", Ok(Value::Float(1.1)));
        check("f4", Ok(Value::Bool(false)));
        check("f6", Ok(Value::Null));
        check("6449455446", Ok(Value::Text("IETF")));
        check("62c3bc", Ok(Value::Text("ü")));
        check("4401020304", Ok(Value::Bytes(&[1, 2, 3, 4])));
        check("83010203", Ok(Value::Array(vec![Value::Int(1), Value::Int(2), Value::Int(3)])));
        check("a2616101616202", Ok(Value::Map(vec![("a", Value::Int(1)), ("b", Value::Int(2))])));
        check("d82a4500017112aa", Ok(Value::Link(&[0x01, 0x71, 0x12, 0xaa])));
        // Refused by DAG-CBOR.
        check("5f42010243030405ff", Err(CborError::Invalid("indefinite length")));
        check("f7", Err(CborError::Invalid("simple value other than false, true, null or a float")));
        check("c11a514b67b0", Err(CborError::Invalid("tag other than 42")));
        check("d82a4401710000", Err(CborError::Invalid("tag 42 without a 0x00-prefixed CID")));
        check("a10102", Err(CborError::Invalid("map key is not text")));
        check("62c328", Err(CborError::Invalid("text is not UTF-8")));
        check("1c", Err(CborError::Invalid("reserved additional information")));
        // Truncated, lying lengths, trailing bytes.
        check("", Err(CborError::Truncated));
        check("19ff", Err(CborError::Truncated));
        check("5bffffffffffffffff00", Err(CborError::Truncated));
        check("9bffffffffffffffff", Err(CborError::Truncated));
        check("830102", Err(CborError::Truncated));
        check("0000", Err(CborError::TrailingBytes));
    }

    #[test]
    fn nesting_and_item_counts_are_bounded() {
        let deep = vec![0x81; MAX_DEPTH + 1].into_iter().chain([0x00]).collect::<Vec<u8>>();
        assert_eq!(decode(&deep), Err(CborError::TooDeep));
        let ok = vec![0x81; MAX_DEPTH].into_iter().chain([0x00]).collect::<Vec<u8>>();
        assert!(decode(&ok).is_ok());
        // An array of MAX_ITEMS zeros (plus the array itself) is one value too many.
        let mut many = vec![0x9a];
        many.extend_from_slice(&(MAX_ITEMS as u32).to_be_bytes());
        many.resize(many.len() + MAX_ITEMS, 0);
        assert_eq!(decode(&many), Err(CborError::TooManyItems));
        many[4] -= 1;
        many.pop();
        assert!(decode(&many).is_ok());
    }
}
