//! The trigger state a store keeps for `watch`, so that a restart (or another replica) continues the same
//! timers: per runbook, the timers of every series of every trigger that has any, as of the last
//! evaluation. What a restart does with them is the evaluator's (`eval::Outage`, Prometheus's restore
//! rules); the store only keeps the latest copy.

use serde::{Deserialize, Serialize};

use crate::eval::TriggerTimers;
use crate::plan::Labels;

/// The version of the saved form this binary writes; a newer one is not read (the state starts afresh).
pub const TRIGGER_STATE_VERSION: u32 = 1;

/// One runbook's trigger state after an evaluation.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SavedTriggers {
    pub version: u32,
    pub runbook: String,
    /// The evaluation the state is from (ms since the epoch): where an outage begins.
    pub evaluated_at_ms: i64,
    pub triggers: Vec<SavedTrigger>,
}

/// One trigger's series, each with its timers.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SavedTrigger {
    pub name: String,
    /// What the timers belong to (the trigger's name, condition, hold and `keep firing for`, digested):
    /// timers of a trigger since changed are not restored, as a reload does not carry them.
    pub identity: String,
    pub series: Vec<SavedSeries>,
}

/// One series' timers, and when it entered its current state (for the status page).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SavedSeries {
    pub labels: Labels,
    pub timers: TriggerTimers,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since_ms: Option<i64>,
}

impl SavedTriggers {
    /// Whether no trigger has a series to remember.
    pub fn is_empty(&self) -> bool {
        self.triggers.iter().all(|t| t.series.is_empty())
    }
}

/// Reads a saved trigger state; an error for what is not one, or one a newer version wrote (its form may
/// differ: the caller starts afresh and says why).
pub fn decode(text: &str) -> Result<SavedTriggers, String> {
    #[derive(Deserialize)]
    struct Version {
        version: u32,
    }
    let v: Version = serde_json::from_str(text).map_err(|e| format!("not a saved trigger state: {e}"))?;
    if v.version > TRIGGER_STATE_VERSION {
        return Err(format!(
            "saved by a newer ripcord (form {}; this one reads up to {TRIGGER_STATE_VERSION})",
            v.version
        ));
    }
    serde_json::from_str(text).map_err(|e| format!("not a saved trigger state: {e}"))
}
