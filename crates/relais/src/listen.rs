//! `relais listen …`: the listening engine on files. `enrich` reads posts as NDJSON (one
//! `{"text": …, "lang"?: …}` per line) and writes each back with its language, sentiment score and
//! label added (and, with `--stories`, the near-duplicate story it belongs to); input fields are
//! kept byte for byte when they do not collide with the added ones.

use relais_listen::enrich::dedup::{Stories, StoriesConfig};
use relais_listen::enrich::{Enricher, Enrichment};
use serde::Deserialize;
use serde::de::IgnoredAny;
use std::borrow::Cow;
use std::io::{BufRead, BufReader, BufWriter, Read, Write};
use std::path::Path;
use std::process::ExitCode;

/// The fields we read; anything else is passed through.
#[derive(Deserialize)]
struct Post<'a> {
    #[serde(borrow)]
    text: Cow<'a, str>,
    #[serde(default, borrow)]
    lang: Option<Cow<'a, str>>,
    #[serde(default)]
    sentiment: Option<IgnoredAny>,
    #[serde(default)]
    label: Option<IgnoredAny>,
    #[serde(default)]
    story: Option<IgnoredAny>,
}

/// Enriches `file` (standard input when `None`) to standard output. Bad lines are reported on
/// standard error with their number and skipped; the exit status is 1 if there was any.
/// With `stories`, each post also gets `"story"`: copies of one message (retweets, the same text
/// with another link…) share a story id.
pub fn enrich(file: Option<&Path>, stories: bool) -> anyhow::Result<ExitCode> {
    let input: Box<dyn Read> = match file {
        Some(path) => {
            Box::new(std::fs::File::open(path).map_err(|e| anyhow::anyhow!("cannot open {}: {e}", path.display()))?)
        }
        None => Box::new(std::io::stdin().lock()),
    };
    let stdout = std::io::stdout().lock();
    let stderr = std::io::stderr().lock();
    let mut grouper = stories.then(|| Stories::new(StoriesConfig::default()));
    let bad = enrich_stream(
        &Enricher::new(),
        grouper.as_mut(),
        BufReader::with_capacity(1 << 18, input),
        BufWriter::with_capacity(1 << 18, stdout),
        stderr,
    )?;
    Ok(if bad == 0 { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

/// The loop, on any reader and writers; returns the number of bad lines.
pub fn enrich_stream(
    enricher: &Enricher,
    mut stories: Option<&mut Stories>,
    mut input: impl BufRead,
    mut out: impl Write,
    mut errors: impl Write,
) -> anyhow::Result<usize> {
    let (mut line, mut number, mut bad) = (Vec::with_capacity(4096), 0usize, 0usize);
    loop {
        line.clear();
        if input.read_until(b'\n', &mut line)? == 0 {
            break;
        }
        number += 1;
        let trimmed = line.trim_ascii();
        if trimmed.is_empty() {
            continue;
        }
        if let Err(problem) = enrich_line(enricher, stories.as_deref_mut(), trimmed, &mut out) {
            bad += 1;
            writeln!(errors, "relais listen enrich: line {number}: {problem}")?;
        }
    }
    out.flush()?;
    if bad > 0 {
        writeln!(errors, "relais listen enrich: {bad} bad line(s) of {number} skipped")?;
    }
    Ok(bad)
}

fn enrich_line(
    enricher: &Enricher,
    stories: Option<&mut Stories>,
    line: &[u8],
    out: &mut impl Write,
) -> Result<(), String> {
    let post: Post<'_> = serde_json::from_slice(line)
        .map_err(|e| format!("expected a JSON object with a string \"text\" field ({e})"))?;
    let enrichment = enricher.enrich(&post.text, post.lang.as_deref());
    let story = stories.map(|s| s.add(&post.text).story);
    let collides = post.lang.is_some() || post.sentiment.is_some() || post.label.is_some() || post.story.is_some();
    let result = if collides { rewrite(line, &enrichment, story, out) } else { append(line, &enrichment, story, out) };
    result.map_err(|e| format!("cannot write: {e}"))
}

/// Fast path: the input object up to its closing brace, then the new fields.
fn append(line: &[u8], e: &Enrichment, story: Option<u64>, out: &mut impl Write) -> std::io::Result<()> {
    let body = line.strip_suffix(b"}").unwrap_or(line).trim_ascii_end();
    out.write_all(body)?;
    let separator = if body.ends_with(b"{") { "" } else { "," };
    write!(
        out,
        "{separator}\"lang\":\"{}\",\"sentiment\":{},\"label\":\"{}\"",
        e.lang.as_str(),
        e.sentiment.score,
        e.sentiment.label.as_str()
    )?;
    if let Some(story) = story {
        write!(out, ",\"story\":{story}")?;
    }
    out.write_all(b"}\n")
}

/// Input with a field of the same name: re-serialised with ours replacing it.
fn rewrite(line: &[u8], e: &Enrichment, story: Option<u64>, out: &mut impl Write) -> std::io::Result<()> {
    let mut object: serde_json::Map<String, serde_json::Value> = serde_json::from_slice(line)?;
    object.insert("lang".into(), e.lang.as_str().into());
    object.insert("sentiment".into(), f64::from(e.sentiment.score).into());
    object.insert("label".into(), e.sentiment.label.as_str().into());
    if let Some(story) = story {
        object.insert("story".into(), story.into());
    }
    serde_json::to_writer(&mut *out, &object)?;
    out.write_all(b"\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(input: &str) -> (String, String, usize) {
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let bad = enrich_stream(&Enricher::new(), None, input.as_bytes(), &mut out, &mut err).unwrap_or(usize::MAX);
        (String::from_utf8_lossy(&out).into_owned(), String::from_utf8_lossy(&err).into_owned(), bad)
    }

    #[test]
    fn keeps_fields_and_adds_ours() {
        let (out, err, bad) =
            run("{\"id\": 7, \"text\": \"C'est génial !\"}\n\n{\"text\":\"bad day\",\"lang\":\"en\"}\n");
        assert_eq!(bad, 0, "{err}");
        let lines: Vec<serde_json::Value> = out.lines().filter_map(|l| serde_json::from_str(l).ok()).collect();
        assert_eq!(lines.len(), 2, "{out}");
        assert_eq!(lines[0]["id"], 7);
        assert_eq!(lines[0]["lang"], "fr");
        assert_eq!(lines[0]["label"], "positive");
        assert_eq!(lines[1]["lang"], "en");
        assert_eq!(lines[1]["label"], "negative");
    }

    #[test]
    fn reports_bad_lines_with_their_number() {
        let (out, err, bad) = run("{\"text\": \"ok\"}\nnot json\n{\"texte\": \"x\"}\n{\"text\": 3}\n");
        assert_eq!(bad, 3);
        assert_eq!(out.lines().count(), 1);
        for n in [2, 3, 4] {
            assert!(err.contains(&format!("line {n}:")), "{err}");
        }
    }

    #[test]
    fn stories_group_copies_of_a_message() {
        let input = "{\"text\": \"Grève SNCF demain, aucun train entre Lyon et Paris\"}\n\
                     {\"text\": \"RT @info: Grève SNCF demain, aucun train entre Lyon et Paris https://t.co/x\", \"story\": 9}\n\
                     {\"text\": \"Rien à voir : la boulangerie ouvre dimanche\"}\n";
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let mut stories = Stories::new(StoriesConfig::default());
        let bad = enrich_stream(&Enricher::new(), Some(&mut stories), input.as_bytes(), &mut out, &mut err);
        assert_eq!(bad.ok(), Some(0), "{}", String::from_utf8_lossy(&err));
        let lines: Vec<serde_json::Value> =
            String::from_utf8_lossy(&out).lines().filter_map(|l| serde_json::from_str(l).ok()).collect();
        assert_eq!(lines.len(), 3);
        assert_eq!(lines[0]["story"], lines[1]["story"], "{lines:?}");
        assert_ne!(lines[0]["story"], lines[2]["story"], "{lines:?}");
        assert_eq!(lines[2]["label"], "neutral");
    }
}
