//! A trigger's timers after an outage: what a restarted (or taking-over) engine continues from, following
//! Prometheus's restore of alert state (`rules/group.go`, `RestoreForState`), written down in
//! docs/watch.md, "Restarts".
//!
//! - State saved longer ago than the outage tolerance is not restored at all (the caller's decision, with
//!   [`Outage::within`]): Prometheus looks for `ALERTS_FOR_STATE` only that far back.
//! - No clock runs while nobody was evaluating: a pending `for D` continues with the time it had already
//!   spent (its start moves forward by the outage); `keep firing for` likewise. Counts of evaluations
//!   (`for N consecutive`, `for N of M`) are kept as they were: no evaluation happened.
//! - A firing series stays firing (Prometheus sets it firing again at the next evaluation if its condition
//!   still holds; ripcord keeps the state itself, so that a restart never starts a second run for it).
//! - The grace period (Prometheus's `--rules.alert.for-grace-period`): a pending `for D` whose remaining
//!   time is shorter than the grace fires no sooner than the grace after the restart, and a pending `for D`
//!   shorter than the grace starts its hold again. With a grace of 0 (ripcord's default: the Prometheus it
//!   reads kept scraping during the outage, which is what the grace guards against in Prometheus) neither
//!   applies.

use super::trigger::{TriggerState, TriggerTimers};
use crate::plan::Hold;

/// When evaluations stopped and resumed, and the rules that apply.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Outage {
    /// The last evaluation before the outage (ms since the epoch).
    pub down_at_ms: i64,
    /// When evaluations resume (ms since the epoch).
    pub resumed_at_ms: i64,
    /// Prometheus's `for` grace period, in ms (0: none).
    pub grace_ms: u64,
}

impl Outage {
    /// How long nobody evaluated (never negative: a clock that went back counts as no outage).
    pub fn length_ms(&self) -> i64 {
        self.resumed_at_ms.saturating_sub(self.down_at_ms).max(0)
    }

    /// Whether state saved at `down_at_ms` is young enough to restore under `tolerance_ms`.
    pub fn within(&self, tolerance_ms: u64) -> bool {
        i128::from(self.length_ms()) <= i128::from(tolerance_ms)
    }
}

impl TriggerTimers {
    /// These timers (saved at `outage.down_at_ms`) as they continue at `outage.resumed_at_ms` under `hold`.
    #[must_use]
    pub fn after_outage(self, hold: Hold, outage: &Outage) -> TriggerTimers {
        let gap = outage.length_ms();
        let shift = |t: Option<i64>| t.map(|t| t.saturating_add(gap));
        let mut timers = TriggerTimers {
            keep_firing_since_ms: shift(self.keep_firing_since_ms),
            last_eval_ms: shift(self.last_eval_ms),
            ..self
        };
        if self.state != TriggerState::Pending {
            // Firing: it stays firing, since when it became active is history. Inactive: nothing runs.
            return timers;
        }
        timers.active_since_ms = match (hold, self.active_since_ms) {
            (Hold::For { ms }, Some(since)) => {
                let hold_ms = i64::try_from(ms).unwrap_or(i64::MAX);
                let grace = i64::try_from(outage.grace_ms).unwrap_or(i64::MAX);
                let remaining = hold_ms.saturating_sub(outage.down_at_ms.saturating_sub(since));
                if remaining <= 0 {
                    // It had held long enough: it fires at the next evaluation where the condition holds.
                    Some(since)
                } else if hold_ms < grace {
                    Some(outage.resumed_at_ms)
                } else if remaining < grace {
                    Some(outage.resumed_at_ms.saturating_add(grace).saturating_sub(hold_ms))
                } else {
                    Some(since.saturating_add(gap))
                }
            }
            (_, since) => shift(since),
        };
        timers
    }
}
