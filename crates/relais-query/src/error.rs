//! The one error type of the query language: a stable code, a position and a bilingual message.

use relais_domain::i18n::Msg;

/// Why a query was refused. The code (`as_str`) is stable: the API and the UI translate by it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    /// The query is empty or only blanks.
    Empty,
    /// Longer than [`crate::MAX_QUERY_CHARS`] characters.
    TooLong,
    /// Parentheses nested too deeply.
    TooDeep,
    /// A `"` without its closing `"`.
    UnclosedQuote,
    /// A `(` without its `)`.
    UnclosedParen,
    /// A `)` without its `(`.
    UnexpectedParen,
    /// An operator where a word, phrase or group was expected.
    MissingOperand,
    /// `AND` and `OR` at the same level without parentheses.
    MixedAndOr,
    /// `NEAR` or `ONEAR` without `/n`, or `n` out of range.
    BadNear,
    /// Something other than words, phrases and `OR` groups around `NEAR`.
    BadNearOperand,
    /// A `*` other than one at the end of a word of at least 3 letters.
    BadWildcard,
    /// `name:` with a name that is not a field.
    UnknownField,
    /// A field with no value or an invalid one.
    BadFieldValue,
    /// A word with no letter or digit (only punctuation).
    NoWord,
    /// The query could match a post containing none of its words or filters (`-a`, `a OR -b`).
    OnlyNegative,
}

impl ErrorCode {
    /// The stable code, e.g. `query.mixed_and_or`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Empty => "query.empty",
            Self::TooLong => "query.too_long",
            Self::TooDeep => "query.too_deep",
            Self::UnclosedQuote => "query.unclosed_quote",
            Self::UnclosedParen => "query.unclosed_paren",
            Self::UnexpectedParen => "query.unexpected_paren",
            Self::MissingOperand => "query.missing_operand",
            Self::MixedAndOr => "query.mixed_and_or",
            Self::BadNear => "query.bad_near",
            Self::BadNearOperand => "query.bad_near_operand",
            Self::BadWildcard => "query.bad_wildcard",
            Self::UnknownField => "query.unknown_field",
            Self::BadFieldValue => "query.bad_field_value",
            Self::NoWord => "query.no_word",
            Self::OnlyNegative => "query.only_negative",
        }
    }
}

/// A refused query: where (byte offset and 1-based character column) and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{} at column {column}: {message}", code.as_str())]
pub struct QueryError {
    /// The stable code.
    pub code: ErrorCode,
    /// Byte offset in the query where the problem starts.
    pub pos: usize,
    /// 1-based character column of `pos` (what a person counts).
    pub column: usize,
    /// What went wrong and how to fix it, in English and French.
    pub message: Msg,
}

impl QueryError {
    /// An error at byte `pos` of `query`.
    pub fn new(query: &str, pos: usize, code: ErrorCode, message: Msg) -> Self {
        let pos = pos.min(query.len());
        let column = query.char_indices().take_while(|(i, _)| *i < pos).count() + 1;
        Self { code, pos, column, message }
    }
}
