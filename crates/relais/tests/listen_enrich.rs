//! `relais listen enrich` on the built binary: NDJSON in (file or standard input), NDJSON out,
//! bad lines reported with their number and a non-zero exit.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Write;
use std::process::{Command, Output, Stdio};

fn relais(args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_relais"))
        .args(args)
        .env("RELAIS_DATA_DIR", std::env::temp_dir().join("relais-listen-enrich-unused"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    child.wait_with_output().unwrap()
}

fn lines(output: &Output) -> Vec<serde_json::Value> {
    String::from_utf8_lossy(&output.stdout).lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

#[test]
fn enriches_standard_input() {
    let input = concat!(
        "{\"id\":1,\"text\":\"Le service client ne répond jamais, je suis vraiment déçu.\"}\n",
        "{\"id\":2,\"text\":\"I love this new phone, the camera is amazing!\",\"author\":{\"handle\":\"a\"}}\n",
        "{\"id\":3,\"text\":\"Top !\",\"lang\":\"fr\"}\n",
        "{\"id\":4,\"text\":\"Rendez-vous à la gare à midi\"}\n",
    );
    let output = relais(&["listen", "enrich"], input);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let got = lines(&output);
    let summary: Vec<(i64, &str, &str)> = got
        .iter()
        .map(|v| (v["id"].as_i64().unwrap(), v["lang"].as_str().unwrap(), v["label"].as_str().unwrap()))
        .collect();
    assert_eq!(summary, [(1, "fr", "negative"), (2, "en", "positive"), (3, "fr", "positive"), (4, "fr", "neutral")]);
    assert_eq!(got[1]["author"]["handle"], "a", "input fields are kept");
    assert!(got[0]["sentiment"].as_f64().unwrap() < -0.05);
}

#[test]
fn enriches_a_file_and_reports_bad_lines() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("posts.ndjson");
    std::fs::write(&path, "{\"text\":\"great\"}\n{\"text\": }\n\n{\"txt\":\"x\"}\n{\"text\":\"awful\"}\n").unwrap();
    let output = relais(&["listen", "enrich", path.to_str().unwrap()], "");
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("line 2:") && stderr.contains("line 4:"), "{stderr}");
    assert!(!stderr.contains("line 3:"), "blank lines are not errors: {stderr}");
    let labels: Vec<String> = lines(&output).iter().map(|v| v["label"].as_str().unwrap().to_owned()).collect();
    assert_eq!(labels, ["positive", "negative"]);
}

#[test]
fn missing_file_is_a_clear_error() {
    let output = relais(&["listen", "enrich", "/nonexistent/posts.ndjson"], "");
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("cannot open /nonexistent/posts.ndjson"));
}

#[test]
fn help_describes_the_format() {
    let output = relais(&["listen", "enrich", "--help"], "");
    assert!(output.status.success());
    let help = String::from_utf8_lossy(&output.stdout);
    assert!(help.contains("NDJSON") && help.contains("Usage: relais listen enrich"), "{help}");
}
