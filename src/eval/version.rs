//! Which Prometheus an evaluation follows: [`PromVersion`] 2 (2.42) or 3 (3.5), and the boundaries each
//! implies, precomputed ([`Bounds`]) so that the per-sample work is the same for both.
//!
//! What differs (docs/simulation.md has a worked example of each):
//! - the lookback: 2 sees the newest sample in `[t - 5m, t]`, 3 in `(t - 5m, t]`;
//! - range selectors `[w]`: 2 holds the samples in `[t - w, t]`, 3 in `(t - w, t]`;
//! - `rate`/`increase`: 3 tests the 1.1-interval extrapolation threshold before it clamps at the counter's
//!   zero point, 2 clamps first;
//! - `avg_over_time`: 2 keeps a Kahan-compensated running mean, 3 a Kahan sum divided by the count
//!   (switching to a running mean only when the sum would overflow), and 3's compensated addition drops
//!   the compensation once the sum is infinite.
//!
//! What does not: staleness markers, `min`/`max`/`sum`/`count`/`quantile_over_time` on finite values, the
//! alerting-rule state machine (`for`, `keep_firing_for`).
//!
//! Timestamps are whole milliseconds, so a left-open `(a, b]` is the closed `[a + 1ms, b]`.

use std::fmt;

use serde::{Serialize, Serializer};

use super::lookup::LOOKBACK_MS;

/// The Prometheus major version whose query semantics an evaluation follows.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum PromVersion {
    /// Prometheus 2 (exactly as 2.42 computes).
    V2,
    /// Prometheus 3 (exactly as 3.5 computes), the default.
    #[default]
    V3,
}

impl PromVersion {
    /// The major version number, 2 or 3.
    pub fn major(self) -> u8 {
        match self {
            PromVersion::V2 => 2,
            PromVersion::V3 => 3,
        }
    }

    /// The version for a major version number; `None` for a Prometheus this crate does not model.
    pub fn from_major(major: u64) -> Option<PromVersion> {
        match major {
            2 => Some(PromVersion::V2),
            3 => Some(PromVersion::V3),
            _ => None,
        }
    }

    /// The release whose computations this version reproduces exactly (its promtool confirms the fixtures).
    pub fn reference_release(self) -> &'static str {
        match self {
            PromVersion::V2 => "2.42",
            PromVersion::V3 => "3.5",
        }
    }

    /// The sample boundaries of this version.
    pub const fn bounds(self) -> Bounds {
        let open_ms = match self {
            PromVersion::V2 => 0,
            PromVersion::V3 => 1,
        };
        Bounds { lookback_ms: LOOKBACK_MS - open_ms, open_ms }
    }
}

impl fmt::Display for PromVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.major())
    }
}

impl std::str::FromStr for PromVersion {
    type Err = String;

    /// `2` or `3` (a full version such as `3.5.3` is read by its major number).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let major = s.trim().trim_start_matches('v').split('.').next().unwrap_or_default();
        major
            .parse::<u64>()
            .ok()
            .and_then(PromVersion::from_major)
            .ok_or_else(|| format!("`{s}` is not a Prometheus version ripcord follows; use 2 or 3"))
    }
}

impl Serialize for PromVersion {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_u8(self.major())
    }
}

/// Where lookups and ranges begin, as whole-millisecond closed bounds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Bounds {
    /// An instant lookup at `t` sees samples at `t - lookback_ms` or later (5m for 2, 5m - 1ms for 3).
    pub lookback_ms: i64,
    /// A range `[w]` ending at `t` holds samples at `t - w + open_ms` or later (0 for 2, 1 for 3).
    pub open_ms: i64,
}
