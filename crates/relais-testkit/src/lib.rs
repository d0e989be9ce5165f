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

/// Starts a peer on `N` free ports with `start`, and again on other free ports when that fails
/// (three tries). Free ports are free when asked: two test processes starting peers at once may
/// be handed the same one, and then one start fails (or stops the other's server while it starts,
/// so that one fails too); each tries again. Every failure is in the error.
fn on_free_ports<T, const N: usize>(mut start: impl FnMut([u16; N]) -> Result<T, String>) -> Result<T, String> {
    let mut errors = Vec::new();
    for _ in 0..3 {
        let mut ports = [0; N];
        for port in &mut ports {
            *port = free_port()?;
        }
        match start(ports) {
            Ok(started) => return Ok(started),
            Err(e) => errors.push(format!("on ports {ports:?}: {e}")),
        }
    }
    Err(errors.join("\n"))
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

#[cfg(test)]
mod tests {
    use super::on_free_ports;

    #[test]
    fn a_failed_start_is_tried_again_on_other_ports() {
        let mut tried = Vec::new();
        let started = on_free_ports(|ports: [u16; 2]| {
            tried.push(ports);
            if tried.len() < 3 { Err("port busy".to_owned()) } else { Ok(ports) }
        });
        assert_eq!(started, Ok(tried[2]));
        assert!(tried.iter().flatten().all(|p| *p != 0));

        let mut calls = 0;
        let failed: Result<(), String> = on_free_ports(|[_]: [u16; 1]| {
            calls += 1;
            Err(format!("failure {calls}"))
        });
        let Err(e) = failed else { panic!("three failures are a failure") };
        assert_eq!(calls, 3);
        assert!(e.contains("failure 1") && e.contains("failure 3"), "{e}");
    }
}
