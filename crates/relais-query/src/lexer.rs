//! The lexer: a query string becomes operators, parentheses, bare words, quoted phrases and field
//! names, each with its byte span.

use crate::error::{ErrorCode, QueryError};
use relais_domain::Msg;

/// Most tokens allowed between the two sides of `NEAR/n`.
pub const MAX_NEAR: u32 = 20;

/// One lexical token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Tok<'a> {
    LParen,
    RParen,
    And,
    Or,
    Not,
    /// `-` glued to the next word, phrase, field or group.
    Minus,
    Near {
        distance: u32,
        ordered: bool,
    },
    /// A bare run of characters (neither blank nor `(`, `)`, `"`).
    Word(&'a str),
    /// The inside of a `"…"`.
    Phrase(&'a str),
    /// `name:` (the name, without the colon).
    Field(&'a str),
}

/// A token and its byte span in the query.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Lexed<'a> {
    pub tok: Tok<'a>,
    pub start: usize,
    pub end: usize,
}

/// Cuts `query` into tokens.
pub(crate) fn lex(query: &str) -> Result<Vec<Lexed<'_>>, QueryError> {
    let mut out = Vec::new();
    let mut at = 0;
    let mut after_field = false;
    while let Some(c) = query[at..].chars().next() {
        let start = at;
        if c.is_whitespace() {
            at += c.len_utf8();
            after_field = false;
            continue;
        }
        let tok = match c {
            '(' => {
                at += 1;
                Tok::LParen
            }
            ')' => {
                at += 1;
                Tok::RParen
            }
            '"' => {
                let Some(len) = query[at + 1..].find('"') else {
                    return Err(QueryError::new(query, at, ErrorCode::UnclosedQuote, unclosed_quote()));
                };
                at += len + 2;
                Tok::Phrase(&query[start + 1..at - 1])
            }
            '-' if !after_field => {
                at += 1;
                match query[at..].chars().next() {
                    Some(n) if !n.is_whitespace() && n != ')' => Tok::Minus,
                    _ => return Err(QueryError::new(query, start, ErrorCode::MissingOperand, nothing_after("-"))),
                }
            }
            _ => {
                let len =
                    query[at..].find(|c: char| c.is_whitespace() || "()\"".contains(c)).unwrap_or(query.len() - at);
                let run = &query[at..at + len];
                match field_name(run) {
                    Some(name) if !after_field => {
                        at += name.len() + 1;
                        out.push(Lexed { tok: Tok::Field(name), start, end: at });
                        after_field = true;
                        continue;
                    }
                    _ => {}
                }
                at += len;
                if after_field { Tok::Word(run) } else { keyword(query, run, start)? }
            }
        };
        after_field = false;
        out.push(Lexed { tok, start, end: at });
    }
    Ok(out)
}

/// `name` when `run` starts with `name:` and `name` is ASCII letters.
fn field_name(run: &str) -> Option<&str> {
    let colon = run.find(':')?;
    let name = &run[..colon];
    (!name.is_empty() && name.bytes().all(|b| b.is_ascii_alphabetic())).then_some(name)
}

fn keyword<'a>(query: &str, run: &'a str, start: usize) -> Result<Tok<'a>, QueryError> {
    let near = |rest: &str, ordered: bool| -> Result<Tok<'a>, QueryError> {
        let distance = rest.strip_prefix('/').and_then(|n| n.parse::<u32>().ok()).filter(|n| *n <= MAX_NEAR);
        match distance {
            Some(distance) => Ok(Tok::Near { distance, ordered }),
            None => Err(QueryError::new(query, start, ErrorCode::BadNear, bad_near())),
        }
    };
    Ok(match run {
        "AND" => Tok::And,
        "OR" => Tok::Or,
        "NOT" => Tok::Not,
        _ if run.starts_with("ONEAR/") || run == "ONEAR" => near(&run[5..], true)?,
        _ if run.starts_with("NEAR/") || run == "NEAR" => near(&run[4..], false)?,
        _ => Tok::Word(run),
    })
}

fn unclosed_quote() -> Msg {
    Msg::new(
        "this quote is never closed: add the closing \"",
        "ce guillemet n'est jamais fermé : ajoutez le \" fermant",
    )
}

pub(crate) fn nothing_after(what: &str) -> Msg {
    Msg::new(
        format!("nothing follows `{what}`: write a word, a \"phrase\" or a (group) right after it"),
        format!("rien ne suit `{what}` : écrivez un mot, une \"expression\" ou un (groupe) juste après"),
    )
}

fn bad_near() -> Msg {
    Msg::new(
        format!("write NEAR/n or ONEAR/n with n between 0 and {MAX_NEAR} (words allowed between), e.g. NEAR/3"),
        format!("écrivez NEAR/n ou ONEAR/n avec n entre 0 et {MAX_NEAR} (mots autorisés entre), par exemple NEAR/3"),
    )
}
