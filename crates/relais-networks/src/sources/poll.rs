//! When to poll a source next: a pure, serialisable schedule shared by the polled sources
//! (feeds, Mastodon timelines).
//!
//! Politeness rules: a source is polled at its interval, never more often than its floor; a
//! server's own hint (`Cache-Control: max-age`, `Retry-After`, a rate-limit reset) wins when it
//! asks for a longer wait, up to [`MAX_SERVER_DELAY_SECS`] (a server cannot silence a source for
//! ever); each failure in a row doubles the wait, from the interval up to
//! [`MAX_BACKOFF_SECS`]; the first success resets it. The time is a parameter (milliseconds since
//! the Unix epoch); nothing here reads the clock.

use relais_domain::Msg;
use serde::{Deserialize, Serialize};

/// The longest wait that failures in a row lead to: 6 hours.
pub const MAX_BACKOFF_SECS: u64 = 6 * 3600;

/// The longest wait a server's hint is honoured for: 24 hours.
pub const MAX_SERVER_DELAY_SECS: u64 = 24 * 3600;

/// The longest interval a source can be given: 24 hours.
pub const MAX_INTERVAL_SECS: u64 = 24 * 3600;

/// A source's polling schedule and health.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PollSchedule {
    /// The interval between two polls when all goes well, in seconds.
    pub interval_secs: u64,
    /// When the next poll is due (ms since the epoch); `0`: now.
    pub next_poll_at_ms: i64,
    /// Failures in a row since the last success.
    pub failures: u32,
    /// Why the last poll failed, for people (cleared by a success).
    pub last_error: Option<Msg>,
    /// When a poll last succeeded.
    pub last_ok_at_ms: Option<i64>,
}

impl PollSchedule {
    /// A schedule due now, with `interval_secs` clamped to `[floor_secs, MAX_INTERVAL_SECS]`.
    pub fn new(interval_secs: u64, floor_secs: u64) -> PollSchedule {
        PollSchedule {
            interval_secs: interval_secs.clamp(floor_secs, MAX_INTERVAL_SECS),
            next_poll_at_ms: 0,
            failures: 0,
            last_error: None,
            last_ok_at_ms: None,
        }
    }

    /// Whether a poll is due at `now_ms`.
    pub fn is_due(&self, now_ms: i64) -> bool {
        now_ms >= self.next_poll_at_ms
    }

    /// Clamps the interval again (a stored state may have been edited) to `[floor_secs, MAX_INTERVAL_SECS]`.
    pub fn enforce_floor(&mut self, floor_secs: u64) {
        self.interval_secs = self.interval_secs.clamp(floor_secs, MAX_INTERVAL_SECS);
    }

    /// Records a successful poll: health reset, next poll after the interval or the server's
    /// longer hint.
    pub fn succeeded(&mut self, now_ms: i64, server_delay_secs: Option<u64>) {
        self.failures = 0;
        self.last_error = None;
        self.last_ok_at_ms = Some(now_ms);
        self.next_poll_at_ms = after(now_ms, self.wait(self.interval_secs, server_delay_secs));
    }

    /// Records a failed poll: the error kept for people, next poll after the backoff or the
    /// server's longer hint.
    pub fn failed(&mut self, now_ms: i64, error: Msg, server_delay_secs: Option<u64>) {
        self.failures = self.failures.saturating_add(1);
        self.last_error = Some(error);
        self.next_poll_at_ms = after(now_ms, self.wait(self.backoff_secs(), server_delay_secs));
    }

    /// Postpones the next poll so that it is not before `at_ms` (a rate-limit reset), within
    /// [`MAX_SERVER_DELAY_SECS`] of `now_ms`.
    pub fn not_before(&mut self, now_ms: i64, at_ms: i64) {
        let limit = after(now_ms, MAX_SERVER_DELAY_SECS);
        self.next_poll_at_ms = self.next_poll_at_ms.max(at_ms.min(limit));
    }

    /// The wait after the current run of failures: the interval, doubled for each failure after
    /// the first, capped at [`MAX_BACKOFF_SECS`] (and never below the interval).
    pub fn backoff_secs(&self) -> u64 {
        let doublings = self.failures.saturating_sub(1).min(32);
        let backoff = self.interval_secs.saturating_mul(1 << doublings).min(MAX_BACKOFF_SECS);
        backoff.max(self.interval_secs)
    }

    fn wait(&self, own_secs: u64, server_delay_secs: Option<u64>) -> u64 {
        own_secs.max(server_delay_secs.unwrap_or(0).min(MAX_SERVER_DELAY_SECS))
    }
}

fn after(now_ms: i64, secs: u64) -> i64 {
    now_ms.saturating_add(i64::try_from(secs.saturating_mul(1000)).unwrap_or(i64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: i64 = 60_000;

    #[test]
    fn interval_is_clamped() {
        assert_eq!(PollSchedule::new(10, 300).interval_secs, 300);
        assert_eq!(PollSchedule::new(900, 300).interval_secs, 900);
        assert_eq!(PollSchedule::new(u64::MAX, 300).interval_secs, MAX_INTERVAL_SECS);
        let mut edited = PollSchedule { interval_secs: 1, ..PollSchedule::new(900, 300) };
        edited.enforce_floor(300);
        assert_eq!(edited.interval_secs, 300);
    }

    #[test]
    fn success_and_server_hints() {
        let mut s = PollSchedule::new(900, 300);
        assert!(s.is_due(0));
        s.succeeded(1_000, None);
        assert_eq!((s.next_poll_at_ms, s.last_ok_at_ms), (1_000 + 15 * MIN, Some(1_000)));
        assert!(!s.is_due(1_000 + 15 * MIN - 1) && s.is_due(1_000 + 15 * MIN));
        s.succeeded(0, Some(60)); // a shorter max-age does not make us poll more often
        assert_eq!(s.next_poll_at_ms, 15 * MIN);
        s.succeeded(0, Some(3600));
        assert_eq!(s.next_poll_at_ms, 60 * MIN);
        s.succeeded(0, Some(10 * 24 * 3600)); // capped at a day
        assert_eq!(s.next_poll_at_ms, 24 * 60 * MIN);
    }

    #[test]
    fn backoff_doubles_and_is_capped() {
        let mut s = PollSchedule::new(900, 300);
        let error = Msg::new("down", "en panne");
        let mut waits = vec![];
        for _ in 0..8 {
            s.failed(0, error.clone(), None);
            waits.push(s.next_poll_at_ms / MIN);
        }
        assert_eq!(waits, [15, 30, 60, 120, 240, 360, 360, 360]);
        assert_eq!((s.failures, s.last_error.as_ref()), (8, Some(&error)));
        s.failed(0, error.clone(), Some(12 * 3600)); // Retry-After longer than the backoff wins
        assert_eq!(s.next_poll_at_ms, 12 * 60 * MIN);
        s.succeeded(5, None);
        assert_eq!((s.failures, s.last_error.clone(), s.next_poll_at_ms), (0, None, 5 + 15 * MIN));
        s.failures = u32::MAX;
        assert_eq!(s.backoff_secs(), MAX_BACKOFF_SECS);
    }

    #[test]
    fn not_before_a_reset() {
        let mut s = PollSchedule::new(60, 30);
        s.succeeded(0, None);
        s.not_before(0, 5 * MIN);
        assert_eq!(s.next_poll_at_ms, 5 * MIN);
        s.not_before(0, MIN); // never earlier
        assert_eq!(s.next_poll_at_ms, 5 * MIN);
        s.not_before(0, i64::MAX);
        assert_eq!(s.next_poll_at_ms, 24 * 60 * MIN);
    }
}
