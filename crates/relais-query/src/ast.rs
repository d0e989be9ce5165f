//! The parsed query (AST), already normalised: terms folded, `AND`/`OR` flattened, `title:` pushed
//! down to the words it covers. `Display` prints the canonical form, which parses back to the same
//! tree.

use std::fmt;

/// Which text of a post a word is looked for in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TextField {
    /// The post's text.
    Body,
    /// The post's title (`title:`), for sources that have one (RSS, articles).
    Title,
}

/// A metadata filter (`lang:fr`, `author:alice`, `site:lemonde.fr`, `source:bluesky`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FilterKind {
    /// `lang:` the post's language (primary subtag: `fr`, `en`).
    Lang,
    /// `author:` the author's handle (without `@`; `alice` also matches `alice@instance`).
    Author,
    /// `site:` or `domain:` the post's domain or any of its parent domains.
    Domain,
    /// `source:` where the post came from (`bluesky`, `mastodon`, `rss`, `ingest`…).
    Source,
}

impl FilterKind {
    /// The field name as written in queries.
    pub fn name(self) -> &'static str {
        match self {
            Self::Lang => "lang",
            Self::Author => "author",
            Self::Domain => "site",
            Self::Source => "source",
        }
    }
}

/// One node of a query.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Node {
    /// All children match (at least two).
    And(Vec<Node>),
    /// At least one child matches (at least two).
    Or(Vec<Node>),
    /// The child does not match.
    Not(Box<Node>),
    /// Both sides occur with at most `distance` tokens between them; `ordered`: left before right.
    Near {
        /// The left operand (a word, phrase, `OR` group or `NEAR`).
        left: Box<Node>,
        /// The right operand.
        right: Box<Node>,
        /// Most tokens allowed between the two sides.
        distance: u32,
        /// `ONEAR`: the left side must come first.
        ordered: bool,
    },
    /// One folded token; `prefix`: any token starting with it (`term*`).
    Term {
        /// Where to look.
        field: TextField,
        /// The folded token (with its `#`/`@` sigil if any).
        token: String,
        /// A trailing-wildcard term.
        prefix: bool,
    },
    /// Consecutive folded tokens (at least two).
    Phrase {
        /// Where to look.
        field: TextField,
        /// The folded tokens.
        tokens: Vec<String>,
    },
    /// `raw:` the exact characters, as typed, in the post's text (case, accents, punctuation).
    Raw(String),
    /// A metadata filter with its folded value.
    Filter(FilterKind, String),
}

impl Node {
    /// Whether a post matching this node must contain one of its words or match one of its
    /// filters (false for `-a` or `a OR -b`: those would match almost every post).
    pub fn is_anchored(&self) -> bool {
        match self {
            Node::And(c) => c.iter().any(Node::is_anchored),
            Node::Or(c) => c.iter().all(Node::is_anchored),
            Node::Not(_) => false,
            _ => true,
        }
    }

    /// Whether this node is a positional operand (word, phrase, `OR` of them, `NEAR`).
    pub fn is_positional(&self) -> bool {
        match self {
            Node::Term { .. } | Node::Phrase { .. } | Node::Near { .. } => true,
            Node::Or(c) => c.iter().all(Node::is_positional),
            _ => false,
        }
    }

    /// The text field of a positional node, if all its words share one.
    pub fn positional_field(&self) -> Option<TextField> {
        match self {
            Node::Term { field, .. } | Node::Phrase { field, .. } => Some(*field),
            Node::Near { left, right, .. } => same(left.positional_field()?, right.positional_field()?),
            Node::Or(c) => {
                let first = c.first()?.positional_field()?;
                c.iter().try_fold(first, |f, n| same(f, n.positional_field()?))
            }
            _ => None,
        }
    }
}

fn same(a: TextField, b: TextField) -> Option<TextField> {
    (a == b).then_some(a)
}

impl fmt::Display for Node {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Node::And(c) => join(f, c, " AND "),
            Node::Or(c) => join(f, c, " OR "),
            Node::Not(c) => {
                f.write_str("-")?;
                operand(f, c)
            }
            Node::Near { left, right, distance, ordered } => {
                operand(f, left)?;
                write!(f, " {}NEAR/{distance} ", if *ordered { "O" } else { "" })?;
                operand(f, right)
            }
            Node::Term { field, token, prefix } => {
                write!(f, "{}{token}{}", field_prefix(*field), if *prefix { "*" } else { "" })
            }
            Node::Phrase { field, tokens } => write!(f, "{}\"{}\"", field_prefix(*field), tokens.join(" ")),
            Node::Raw(s) if s.contains(|c: char| c.is_whitespace() || "()\"".contains(c)) => {
                write!(f, "raw:\"{s}\"")
            }
            Node::Raw(s) => write!(f, "raw:{s}"),
            Node::Filter(kind, value) => write!(f, "{}:{value}", kind.name()),
        }
    }
}

fn field_prefix(field: TextField) -> &'static str {
    match field {
        TextField::Body => "",
        TextField::Title => "title:",
    }
}

fn join(f: &mut fmt::Formatter<'_>, children: &[Node], sep: &str) -> fmt::Result {
    for (i, c) in children.iter().enumerate() {
        if i > 0 {
            f.write_str(sep)?;
        }
        operand(f, c)?;
    }
    Ok(())
}

/// Writes a child, in parentheses when it is an `AND`, `OR` or `NEAR`.
fn operand(f: &mut fmt::Formatter<'_>, node: &Node) -> fmt::Result {
    if matches!(node, Node::And(_) | Node::Or(_) | Node::Near { .. }) {
        write!(f, "({node})")
    } else {
        write!(f, "{node}")
    }
}
