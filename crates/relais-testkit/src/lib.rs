//! Test harnesses that start real local peers for Relais' tests (dev-dependency only): the
//! reference AT Protocol PDS ([`Pds`]) and the Mastodon API mock ([`MastodonMock`]).
//!
//! A peer that cannot start fails the test under `CI` and skips it (loudly) elsewhere: see
//! [`or_skip`]. Helpers panic on unexpected answers, as test code does. [`app`] builds an
//! application on a fresh database with a fake clock.

pub mod app;
mod mastodon;
mod pds;
mod skip;

pub use mastodon::MastodonMock;
pub use pds::Pds;
pub use skip::or_skip;

use std::path::PathBuf;
use std::process::Command;

/// A free TCP port on loopback (free when asked; the peer binds it right after).
pub fn free_port() -> Result<u16, String> {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| format!("no free port: {e}"))
}

/// A script of `scripts/peers/`.
fn script(name: &str) -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../scripts/peers")).join(name)
}

/// Runs `bash <script> <args>`, with extra environment; its stdout and stderr, or why it failed.
fn run_script(script: &PathBuf, args: &[&str], env: &[(&str, String)]) -> Result<String, String> {
    let out = Command::new("bash")
        .arg(script)
        .args(args)
        .envs(env.iter().map(|(k, v)| (k, v)))
        .output()
        .map_err(|e| format!("cannot run {}: {e}", script.display()))?;
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    if out.status.success() {
        Ok(text)
    } else {
        Err(format!("`{} {}` failed ({}):\n{text}", script.display(), args.join(" "), out.status))
    }
}
