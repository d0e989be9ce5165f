//! The recursive-descent parser: tokens to a normalised [`Node`], or the first problem with its
//! position. Precedence: `NEAR` > `NOT` > `AND` > `OR`; mixing `AND` and `OR` at one level is
//! refused.

use crate::ast::{FilterKind, Node, TextField};
use crate::error::{ErrorCode, QueryError};
use crate::lexer::{Lexed, Tok, lex, nothing_after};
use crate::text::{fold_into, tokenize};
use relais_domain::Msg;

/// Most characters in a query.
pub const MAX_QUERY_CHARS: usize = 4096;
/// Most nested parentheses, negations and `NEAR`s.
pub const MAX_DEPTH: usize = 64;
/// Fewest letters before a trailing `*`.
pub const MIN_PREFIX_CHARS: usize = 3;

/// Parses and normalises a query.
pub fn parse(query: &str) -> Result<Node, QueryError> {
    if let Some((pos, _)) = query.char_indices().nth(MAX_QUERY_CHARS) {
        return Err(QueryError::new(query, pos, ErrorCode::TooLong, too_long()));
    }
    let toks = lex(query)?;
    if toks.is_empty() {
        return Err(QueryError::new(query, 0, ErrorCode::Empty, empty()));
    }
    let mut p = Parser { query, toks, i: 0, depth: 0 };
    let node = p.or()?;
    if let Some(t) = p.peek() {
        return Err(p.err(t.start, ErrorCode::UnexpectedParen, unexpected_paren()));
    }
    if !node.is_anchored() {
        return Err(p.err(0, ErrorCode::OnlyNegative, only_negative()));
    }
    Ok(node)
}

struct Parser<'a> {
    query: &'a str,
    toks: Vec<Lexed<'a>>,
    i: usize,
    depth: usize,
}

impl<'a> Parser<'a> {
    fn peek(&self) -> Option<Lexed<'a>> {
        self.toks.get(self.i).copied()
    }

    fn bump(&mut self) -> Option<Lexed<'a>> {
        let t = self.peek();
        self.i += 1;
        t
    }

    fn err(&self, pos: usize, code: ErrorCode, message: Msg) -> QueryError {
        QueryError::new(self.query, pos, code, message)
    }

    fn deeper(&mut self, pos: usize) -> Result<(), QueryError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.err(pos, ErrorCode::TooDeep, too_deep()));
        }
        Ok(())
    }

    /// `and_expr { OR and_expr }`.
    fn or(&mut self) -> Result<Node, QueryError> {
        let (first, mut and_at) = self.and()?;
        let mut children = vec![first];
        let mut or_at = None;
        while let Some(t @ Lexed { tok: Tok::Or, .. }) = self.peek() {
            or_at.get_or_insert(t.start);
            self.bump();
            let (next, next_and) = self.and()?;
            and_at = and_at.or(next_and);
            children.push(next);
        }
        if let (Some(or_at), Some(and_at)) = (or_at, and_at) {
            return Err(self.err(or_at.max(and_at), ErrorCode::MixedAndOr, mixed()));
        }
        Ok(flatten(children, Node::Or))
    }

    /// `not_expr { [AND] not_expr }`; also returns where the first `AND` (or juxtaposition) is.
    fn and(&mut self) -> Result<(Node, Option<usize>), QueryError> {
        let mut children = vec![self.unary()?];
        let mut and_at = None;
        while let Some(t) = self.peek() {
            match t.tok {
                Tok::And => {
                    and_at.get_or_insert(t.start);
                    self.bump();
                }
                Tok::Word(_) | Tok::Phrase(_) | Tok::Field(_) | Tok::LParen | Tok::Not | Tok::Minus => {
                    and_at.get_or_insert(t.start);
                }
                _ => break,
            }
            children.push(self.unary()?);
        }
        Ok((flatten(children, Node::And), and_at))
    }

    /// `(NOT | -) not_expr | near_expr`.
    fn unary(&mut self) -> Result<Node, QueryError> {
        match self.peek() {
            Some(t @ Lexed { tok: Tok::Not | Tok::Minus, .. }) => {
                self.bump();
                self.deeper(t.start)?;
                let inner = self.unary()?;
                self.depth -= 1;
                Ok(match inner {
                    Node::Not(n) => *n,
                    n => Node::Not(Box::new(n)),
                })
            }
            _ => self.near(),
        }
    }

    /// `primary { NEAR/n primary }`.
    fn near(&mut self) -> Result<Node, QueryError> {
        let start = self.peek().map_or(self.query.len(), |t| t.start);
        let mut left = self.primary()?;
        let depth = self.depth;
        while let Some(t @ Lexed { tok: Tok::Near { distance, ordered }, .. }) = self.peek() {
            self.bump();
            self.deeper(t.start)?;
            let right_at = self.peek().map_or(self.query.len(), |t| t.start);
            let right = self.primary()?;
            for (node, at) in [(&left, start), (&right, right_at)] {
                if !node.is_positional() {
                    return Err(self.err(at, ErrorCode::BadNearOperand, bad_near_operand()));
                }
            }
            if left.positional_field().zip(right.positional_field()).is_none_or(|(l, r)| l != r) {
                return Err(self.err(t.start, ErrorCode::BadNearOperand, near_fields()));
            }
            left = Node::Near { left: Box::new(left), right: Box::new(right), distance, ordered };
        }
        self.depth = depth;
        Ok(left)
    }

    fn primary(&mut self) -> Result<Node, QueryError> {
        let Some(t) = self.bump() else {
            let at = self.toks.last().map_or(0, |t| t.start);
            return Err(self.err(at, ErrorCode::MissingOperand, ends_with_operator()));
        };
        match t.tok {
            Tok::LParen => {
                self.deeper(t.start)?;
                let node = self.or()?;
                match self.bump() {
                    Some(Lexed { tok: Tok::RParen, .. }) => {}
                    _ => return Err(self.err(t.start, ErrorCode::UnclosedParen, unclosed_paren())),
                }
                self.depth -= 1;
                Ok(node)
            }
            Tok::Word(w) => self.word(w, t.start),
            Tok::Phrase(p) => self.phrase(p, t.start),
            Tok::Field(name) => self.field(name, t),
            Tok::RParen => Err(self.err(t.start, ErrorCode::MissingOperand, nothing_before(")"))),
            Tok::And | Tok::Or | Tok::Near { .. } => {
                let op = &self.query[t.start..t.end];
                Err(self.err(t.start, ErrorCode::MissingOperand, nothing_before(op)))
            }
            Tok::Not | Tok::Minus => Err(self.err(t.start, ErrorCode::BadNearOperand, bad_near_operand())),
        }
    }

    fn word(&self, w: &str, at: usize) -> Result<Node, QueryError> {
        let field = TextField::Body;
        if let Some(star) = w.find('*') {
            let stem = &w[..star];
            let tokens = tokenize(stem);
            let letters = tokens.first().map_or(0, |t| t.trim_start_matches(['#', '@']).chars().count());
            if star + 1 != w.len()
                || tokens.len() != 1
                || letters < MIN_PREFIX_CHARS
                || !stem.ends_with(char::is_alphanumeric)
            {
                return Err(self.err(at + star, ErrorCode::BadWildcard, bad_wildcard()));
            }
            let token = tokens.into_iter().next().unwrap_or_default();
            return Ok(Node::Term { field, token, prefix: true });
        }
        self.tokens_node(tokenize(w), at)
    }

    fn phrase(&self, p: &str, at: usize) -> Result<Node, QueryError> {
        self.tokens_node(tokenize(p), at)
    }

    fn tokens_node(&self, mut tokens: Vec<String>, at: usize) -> Result<Node, QueryError> {
        let field = TextField::Body;
        match tokens.len() {
            0 => Err(self.err(at, ErrorCode::NoWord, no_word())),
            1 => Ok(Node::Term { field, token: tokens.pop().unwrap_or_default(), prefix: false }),
            _ => Ok(Node::Phrase { field, tokens }),
        }
    }

    fn field(&mut self, name: &str, t: Lexed<'a>) -> Result<Node, QueryError> {
        let kind = match name.to_ascii_lowercase().as_str() {
            "title" => None,
            "raw" => Some(None),
            "lang" => Some(Some(FilterKind::Lang)),
            "author" => Some(Some(FilterKind::Author)),
            "site" | "domain" => Some(Some(FilterKind::Domain)),
            "source" => Some(Some(FilterKind::Source)),
            _ => return Err(self.err(t.start, ErrorCode::UnknownField, unknown_field(name))),
        };
        let missing = || nothing_after(&format!("{name}:"));
        let Some(next) = self.peek().filter(|n| n.start == t.end) else {
            return Err(self.err(t.start, ErrorCode::BadFieldValue, missing()));
        };
        let value = match (next.tok, kind) {
            (Tok::Word(_) | Tok::Phrase(_) | Tok::LParen, None) => return self.title(next.start),
            (Tok::Word(v) | Tok::Phrase(v), Some(_)) if !v.trim().is_empty() => v,
            _ => return Err(self.err(next.start, ErrorCode::BadFieldValue, missing())),
        };
        self.bump();
        let Some(Some(kind)) = kind else { return Ok(Node::Raw(value.to_owned())) };
        match filter_value(kind, value) {
            Some(v) => Ok(Node::Filter(kind, v)),
            None => Err(self.err(next.start, ErrorCode::BadFieldValue, bad_value(kind))),
        }
    }

    /// `title:` followed by a word, phrase or group: every word inside looks in the title.
    fn title(&mut self, at: usize) -> Result<Node, QueryError> {
        let mut node = self.primary()?;
        if to_title(&mut node) { Ok(node) } else { Err(self.err(at, ErrorCode::BadFieldValue, title_words())) }
    }
}

/// Builds `And`/`Or` from children, splicing nested ones of the same kind; one child stays alone.
fn flatten(children: Vec<Node>, make: fn(Vec<Node>) -> Node) -> Node {
    if children.len() == 1 {
        return children.into_iter().next().unwrap_or(Node::And(Vec::new()));
    }
    let mut out = Vec::with_capacity(children.len());
    for c in children {
        match (make(Vec::new()), c) {
            (Node::And(_), Node::And(inner)) | (Node::Or(_), Node::Or(inner)) => out.extend(inner),
            (_, c) => out.push(c),
        }
    }
    make(out)
}

/// Moves every word of `node` to the title; false if it holds a filter or `raw:`.
fn to_title(node: &mut Node) -> bool {
    match node {
        Node::And(c) | Node::Or(c) => c.iter_mut().all(to_title),
        Node::Not(n) => to_title(n),
        Node::Near { left, right, .. } => to_title(left) && to_title(right),
        Node::Term { field, .. } | Node::Phrase { field, .. } => {
            *field = TextField::Title;
            true
        }
        Node::Raw(_) | Node::Filter(..) => false,
    }
}

/// The folded, checked value of a filter, or `None` if invalid.
pub(crate) fn filter_value(kind: FilterKind, raw: &str) -> Option<String> {
    filter_value_in(kind, raw, &mut String::new()).map(str::to_owned)
}

/// [`filter_value`] folding into `buf` (reused by callers that normalise many values).
pub(crate) fn filter_value_in<'b>(kind: FilterKind, raw: &str, buf: &'b mut String) -> Option<&'b str> {
    buf.clear();
    fold_into(raw.trim(), buf);
    let v = buf.as_str();
    let ok_chars = |v: &str, extra: &str| v.chars().all(|c| c.is_alphanumeric() || extra.contains(c));
    let v = match kind {
        FilterKind::Lang => {
            let primary = v.split(['-', '_']).next().unwrap_or_default();
            (primary.bytes().all(|b| b.is_ascii_lowercase()) && (2..=3).contains(&primary.len())).then_some(primary)?
        }
        // A handle, or a DID (`did:plc:…`, `did:web:…`: Bluesky authors whose handle is unknown).
        FilterKind::Author if v.starts_with("did:") => ok_chars(v, ":._-%").then_some(v)?,
        FilterKind::Author => {
            let h = v.strip_prefix('@').unwrap_or(v);
            ok_chars(h, "._-@").then_some(h)?
        }
        FilterKind::Domain => {
            let d = v.split_once("://").map_or(v, |(_, rest)| rest);
            let d = d.split('/').next().unwrap_or_default();
            let d = d.strip_prefix("www.").unwrap_or(d).trim_end_matches('.');
            ok_chars(d, ".-").then_some(d)?
        }
        FilterKind::Source => ok_chars(v, "_-").then_some(v)?,
    };
    (!v.is_empty()).then_some(v)
}

fn too_long() -> Msg {
    Msg::new(
        format!("a query may not exceed {MAX_QUERY_CHARS} characters: split it into several queries"),
        format!("une requête ne peut dépasser {MAX_QUERY_CHARS} caractères : découpez-la en plusieurs requêtes"),
    )
}

fn too_deep() -> Msg {
    Msg::new(
        format!("too many nested parentheses, negations or NEAR (at most {MAX_DEPTH})"),
        format!("trop de parenthèses, négations ou NEAR imbriqués (au plus {MAX_DEPTH})"),
    )
}

fn empty() -> Msg {
    Msg::new("the query is empty: write at least one word", "la requête est vide : écrivez au moins un mot")
}

fn unexpected_paren() -> Msg {
    Msg::new(
        "this `)` closes nothing: remove it or add its `(`",
        "cette `)` ne ferme rien : supprimez-la ou ajoutez sa `(`",
    )
}

fn unclosed_paren() -> Msg {
    Msg::new("this `(` is never closed: add its `)`", "cette `(` n'est jamais fermée : ajoutez sa `)`")
}

fn only_negative() -> Msg {
    Msg::new(
        "this query could match posts that contain none of its words: add a word or filter that must be present, e.g. `brand -promo`",
        "cette requête pourrait trouver des posts ne contenant aucun de ses mots : ajoutez un mot ou un filtre obligatoire, par ex. `marque -promo`",
    )
}

fn mixed() -> Msg {
    Msg::new(
        "AND and OR are mixed without parentheses: write `(a AND b) OR c` or `a AND (b OR c)` (a space between words means AND)",
        "AND et OR sont mélangés sans parenthèses : écrivez `(a AND b) OR c` ou `a AND (b OR c)` (une espace entre deux mots vaut AND)",
    )
}

fn ends_with_operator() -> Msg {
    Msg::new(
        "the query ends with an operator: add a word after it or remove it",
        "la requête se termine par un opérateur : ajoutez un mot après ou supprimez-le",
    )
}

fn nothing_before(op: &str) -> Msg {
    Msg::new(
        format!("`{op}` needs a word, a \"phrase\" or a (group) before it"),
        format!("`{op}` doit être précédé d'un mot, d'une \"expression\" ou d'un (groupe)"),
    )
}

fn bad_near_operand() -> Msg {
    Msg::new(
        "around NEAR, use words, \"phrases\" or (groups joined by OR): not AND, NOT, raw: or filters",
        "autour de NEAR, utilisez des mots, des \"expressions\" ou des (groupes reliés par OR) : pas de AND, NOT, raw: ni de filtre",
    )
}

fn near_fields() -> Msg {
    Msg::new(
        "both sides of NEAR must look in the same place (both in title: or both in the text)",
        "les deux côtés de NEAR doivent chercher au même endroit (tous deux dans title: ou tous deux dans le texte)",
    )
}

fn bad_wildcard() -> Msg {
    Msg::new(
        format!("`*` is only allowed at the end of one word of at least {MIN_PREFIX_CHARS} letters, e.g. `boulang*`"),
        format!("`*` n'est permis qu'à la fin d'un seul mot d'au moins {MIN_PREFIX_CHARS} lettres, par ex. `boulang*`"),
    )
}

fn no_word() -> Msg {
    Msg::new(
        "this has no letter or digit to search for: use raw: for punctuation, e.g. raw:\"C++\"",
        "il n'y a ici ni lettre ni chiffre à chercher : utilisez raw: pour la ponctuation, par ex. raw:\"C++\"",
    )
}

fn unknown_field(name: &str) -> Msg {
    Msg::new(
        format!(
            "unknown field `{name}:` (known: lang, author, site, domain, source, title, raw); to search the text itself, put it in quotes"
        ),
        format!(
            "champ `{name}:` inconnu (connus : lang, author, site, domain, source, title, raw) ; pour chercher ce texte, mettez-le entre guillemets"
        ),
    )
}

fn bad_value(kind: FilterKind) -> Msg {
    let (en, fr) = match kind {
        FilterKind::Lang => {
            ("a language code such as lang:fr or lang:en", "un code de langue comme lang:fr ou lang:en")
        }
        FilterKind::Author => (
            "a handle such as author:alice.bsky.social, or a DID such as author:did:plc:…",
            "un identifiant comme author:alice.bsky.social, ou un DID comme author:did:plc:…",
        ),
        FilterKind::Domain => ("a domain such as site:lemonde.fr", "un domaine comme site:lemonde.fr"),
        FilterKind::Source => ("a source such as source:bluesky", "une source comme source:bluesky"),
    };
    Msg::new(format!("invalid value: expected {en}"), format!("valeur invalide : attendu {fr}"))
}

fn title_words() -> Msg {
    Msg::new(
        "title: applies to words, \"phrases\" and (groups) of them, not to filters or raw:",
        "title: s'applique aux mots, aux \"expressions\" et à leurs (groupes), pas aux filtres ni à raw:",
    )
}
