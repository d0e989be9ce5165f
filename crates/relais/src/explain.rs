//! `relais listen explain`: why a post matches a listening query, from the command line. Prints to standard output on purpose.
#![allow(clippy::print_stdout)]

use crate::cli::ExplainArgs;
use anyhow::Context;
use relais_query::eval::{analyze, matches};
use relais_query::explain::explain as explain_steps;
use relais_query::{Doc, parse};
use std::io::Read;
use std::process::ExitCode;

/// `relais listen explain`: every node of the query, whether it holds for the post, and why.
pub fn explain(args: ExplainArgs) -> anyhow::Result<ExitCode> {
    let text = match args.text {
        Some(t) => t,
        None => {
            let mut t = String::new();
            std::io::stdin().read_to_string(&mut t).context("cannot read the text from standard input")?;
            t
        }
    };
    let node = match parse(&args.query) {
        Ok(node) => node,
        Err(e) => {
            println!("{}", args.query);
            println!("{}^", " ".repeat(e.column - 1));
            println!("[{}] {}", e.code.as_str(), e.message.in_locale(&args.lang));
            return Ok(ExitCode::from(2));
        }
    };
    let doc = Doc {
        text: &text,
        title: args.title.as_deref(),
        lang: args.post_lang.as_deref(),
        author: args.author.as_deref(),
        domain: args.domain.as_deref(),
        source: args.source.as_deref(),
    };
    let analyzed = analyze(&doc);
    for s in explain_steps(&node, &analyzed) {
        let mark = if s.holds { "✓" } else { "✗" };
        println!("{}{mark} {}  — {}", "  ".repeat(s.depth), s.node, s.why.in_locale(&args.lang));
    }
    let fr = args.lang.to_ascii_lowercase().starts_with("fr");
    if matches(&node, &analyzed) {
        println!("{}", if fr { "=> le post correspond" } else { "=> the post matches" });
        Ok(ExitCode::SUCCESS)
    } else {
        println!("{}", if fr { "=> le post ne correspond pas" } else { "=> the post does not match" });
        Ok(ExitCode::from(1))
    }
}
