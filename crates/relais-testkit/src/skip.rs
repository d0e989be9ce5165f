//! The rule for a peer that cannot start: a failure under `CI`, a loud skip elsewhere.

/// `Some(peer)` when it started; otherwise, under `CI`, a panic with the reason, and elsewhere a
/// `SKIPPED` notice on the real stderr (which the test harness does not capture) and `None`.
/// `what` names the peer, `hint` says how to install it.
pub fn or_skip<T>(what: &str, started: Result<T, String>, hint: &str) -> Option<T> {
    match started {
        Ok(peer) => Some(peer),
        Err(e) if std::env::var_os("CI").is_some() => panic!("{what} must run under CI, so this test fails: {e}"),
        Err(e) => {
            let notice = format!("\n*** SKIPPED ({what} unavailable): {e}\n*** {hint}\n\n");
            let _ = std::io::Write::write_all(&mut std::io::stderr(), notice.as_bytes());
            None
        }
    }
}
