//! Why a post matches a query or not, node by node (for `relais listen explain` and the UI).

use crate::ast::{FilterKind, Node, TextField};
use crate::eval::{Analyzed, kind_index, matches, raw_occurs, spans};
use relais_domain::Msg;

/// One line of an explanation: a node of the query, whether it holds, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// Nesting depth (0 for the whole query).
    pub depth: usize,
    /// Whether this node holds for the post.
    pub holds: bool,
    /// The node, in canonical form.
    pub node: String,
    /// Why, in English and French.
    pub why: Msg,
}

/// Explains every node of `node` on the analysed post, parents before children.
pub fn explain(node: &Node, doc: &Analyzed) -> Vec<Step> {
    let mut out = Vec::new();
    walk(node, doc, 0, &mut out);
    out
}

fn walk(node: &Node, doc: &Analyzed, depth: usize, out: &mut Vec<Step>) {
    let holds = matches(node, doc);
    let why = match node {
        Node::And(_) => Msg::new("all of these must hold", "toutes ces conditions doivent être remplies"),
        Node::Or(_) => Msg::new("at least one of these must hold", "au moins une de ces conditions doit être remplie"),
        Node::Not(_) => Msg::new("what follows must be absent", "ce qui suit doit être absent"),
        Node::Raw(p) if raw_occurs(&doc.raw, p) => Msg::new("found exactly as typed", "trouvé tel quel"),
        Node::Raw(_) => Msg::new("not found exactly as typed", "absent tel quel"),
        Node::Filter(kind, _) => filter_why(*kind, &doc.meta[kind_index(*kind)]),
        Node::Term { field, .. } | Node::Phrase { field, .. } => positions_why(&spans(node, doc), *field),
        Node::Near { .. } => positions_why(&spans(node, doc), node.positional_field().unwrap_or(TextField::Body)),
    };
    out.push(Step { depth, holds, node: node.to_string(), why });
    match node {
        Node::And(c) | Node::Or(c) => c.iter().for_each(|n| walk(n, doc, depth + 1, out)),
        Node::Not(n) => walk(n, doc, depth + 1, out),
        Node::Near { left, right, .. } => {
            walk(left, doc, depth + 1, out);
            walk(right, doc, depth + 1, out);
        }
        _ => {}
    }
}

fn positions_why(spans: &[(u32, u32)], field: TextField) -> Msg {
    let (en_where, fr_where) = match field {
        TextField::Body => ("text", "texte"),
        TextField::Title => ("title", "titre"),
    };
    if spans.is_empty() {
        return Msg::new(format!("absent from the {en_where}"), format!("absent du {fr_where}"));
    }
    let mut list: Vec<String> =
        spans.iter().map(|(s, e)| if s == e { format!("{}", s + 1) } else { format!("{}–{}", s + 1, e + 1) }).collect();
    list.dedup();
    let list = list.join(", ");
    Msg::new(format!("found in the {en_where} at word {list}"), format!("trouvé dans le {fr_where} au mot {list}"))
}

fn filter_why(kind: FilterKind, values: &[String]) -> Msg {
    let (en, fr) = match kind {
        FilterKind::Lang => ("language", "langue"),
        FilterKind::Author => ("author", "auteur"),
        FilterKind::Domain => ("site", "site"),
        FilterKind::Source => ("source", "source"),
    };
    match values.first() {
        None => Msg::new(format!("the post has no {en}"), format!("le post n'a pas de {fr}")),
        Some(v) => Msg::new(format!("the post's {en}: {v}"), format!("{fr} du post : {v}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Doc;
    use crate::eval::analyze;

    #[test]
    fn explains_each_node() {
        let q = crate::parse("café (grève OR sncf) -promo lang:fr").unwrap_or_else(|e| panic!("{e}"));
        let doc = Doc { text: "Un café, la SNCF en grève", lang: Some("en"), ..Doc::default() };
        let steps = explain(&q, &analyze(&doc));
        let lines: Vec<String> =
            steps.iter().map(|s| format!("{} {} {} | {}", s.depth, s.holds, s.node, s.why.en)).collect();
        assert_eq!(
            lines,
            [
                "0 false cafe AND (greve OR sncf) AND -promo AND lang:fr | all of these must hold",
                "1 true cafe | found in the text at word 2",
                "1 true greve OR sncf | at least one of these must hold",
                "2 true greve | found in the text at word 6",
                "2 true sncf | found in the text at word 4",
                "1 true -promo | what follows must be absent",
                "2 false promo | absent from the text",
                "1 false lang:fr | the post's language: en",
            ]
        );
    }
}
