//! Delivery of a post to one channel: the target's states, the retry schedule and the late
//! policy. Pure: the engine (relais-app) applies these decisions.
//!
//! ```text
//! scheduled ──claim──▶ claimed ──key stored──▶ sending ──ok──▶ published
//!     ▲                   │                      │
//!     │ (retry at)        │ late > policy        ├─ transient / 429 ──▶ scheduled (next_attempt_at)
//!     │                   ▼                      ├─ refused (4xx) ────▶ failed
//!     │                 missed                   ├─ auth ─────────────▶ scheduled, channel needs reconnection
//!     │                                          └─ unknown / crash ──▶ unconfirmed ──lookup──▶ published | scheduled
//! pending approval at due time ──▶ expired (the post, never its targets)
//! ```

use serde::{Deserialize, Serialize};

/// Where one (post, channel) delivery is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TargetState {
    /// Waiting for its due time (or its next attempt).
    Scheduled,
    /// A worker holds its lease.
    Claimed,
    /// A network call is (or was, before a crash) in flight: its outcome must be checked.
    Sending,
    /// On the network.
    Published,
    /// Refused by the network, or out of attempts.
    Failed,
    /// The outcome of a call is unknown: the network is asked before anything is retried.
    Unconfirmed,
    /// Too late to publish under the workspace's policy.
    Missed,
}

impl TargetState {
    /// Every state.
    pub const ALL: [TargetState; 7] = [
        TargetState::Scheduled,
        TargetState::Claimed,
        TargetState::Sending,
        TargetState::Published,
        TargetState::Failed,
        TargetState::Unconfirmed,
        TargetState::Missed,
    ];

    /// The stable identifier stored and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            TargetState::Scheduled => "scheduled",
            TargetState::Claimed => "claimed",
            TargetState::Sending => "sending",
            TargetState::Published => "published",
            TargetState::Failed => "failed",
            TargetState::Unconfirmed => "unconfirmed",
            TargetState::Missed => "missed",
        }
    }

    /// Whether nothing more will happen to this delivery.
    pub fn is_final(self) -> bool {
        matches!(self, TargetState::Published | TargetState::Failed | TargetState::Missed)
    }
}

impl std::str::FromStr for TargetState {
    type Err = crate::Msg;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        TargetState::ALL.into_iter().find(|t| t.as_str() == s).ok_or_else(|| {
            crate::Msg::new(format!("unknown delivery state `{s}`"), format!("état de livraison inconnu « {s} »"))
        })
    }
}

/// How many attempts a delivery gets before it fails for good.
pub const MAX_ATTEMPTS: i64 = 8;

/// The delay before attempt `attempt` (1-based) after a transient failure: exponential from
/// 5 s, capped at 15 minutes, with "full jitter" from `jitter` in [0, 1): the delay is drawn in
/// [base/2, base]. A delay the network asked for (Retry-After, rate-limit reset) wins when longer.
pub fn retry_delay_ms(attempt: i64, jitter: f64, network_says_ms: Option<i64>) -> i64 {
    let exp = attempt.clamp(1, 20) - 1;
    let base = (5_000_i64.saturating_mul(1_i64 << exp.min(20))).min(15 * 60 * 1000);
    let jittered = base / 2 + ((base / 2) as f64 * jitter.clamp(0.0, 1.0)) as i64;
    jittered.max(network_says_ms.unwrap_or(0))
}

/// What to do with a delivery that comes late (after downtime).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lateness {
    /// Publish now.
    Publish,
    /// Too late: mark it missed and tell the workspace.
    Missed,
}

/// The late policy: publish when less than `max_late_secs` late, otherwise missed.
pub fn lateness(due_ms: i64, now_ms: i64, max_late_secs: i64) -> Lateness {
    if now_ms - due_ms > max_late_secs.saturating_mul(1000) { Lateness::Missed } else { Lateness::Publish }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_delays() {
        let check = |attempt, jitter, says, expected| {
            assert_eq!(retry_delay_ms(attempt, jitter, says), expected, "{attempt} {jitter}")
        };
        check(1, 0.0, None, 2_500);
        check(1, 0.999_999, None, 4_999);
        check(2, 0.0, None, 5_000);
        check(3, 1.0, None, 20_000);
        check(20, 1.0, None, 900_000);
        check(1, 0.0, Some(60_000), 60_000);
        check(0, 0.5, None, 3_750);
    }

    #[test]
    fn late_policy() {
        let check = |due, now, max, expected| assert_eq!(lateness(due, now, max), expected);
        check(0, 3_599_999, 3600, Lateness::Publish);
        check(0, 3_600_000, 3600, Lateness::Publish);
        check(0, 3_600_001, 3600, Lateness::Missed);
        check(10_000, 0, 3600, Lateness::Publish);
    }

    #[test]
    fn states_round_trip() {
        for s in TargetState::ALL {
            assert_eq!(s.as_str().parse::<TargetState>().ok(), Some(s));
        }
        assert!(TargetState::Published.is_final() && !TargetState::Unconfirmed.is_final());
    }
}
