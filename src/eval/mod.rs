//! Evaluation: conditions over series, and the trigger state machine. Shared by `simulate` (over recorded
//! series) and the live `watch`, so that both mean the same thing by "fires".
//!
//! - `version`: [`PromVersion`], which Prometheus (2.42 or 3.5) evaluation follows, and its boundaries.
//! - `lookup`: instant values (Prometheus's 5-minute lookback, staleness) and ranges, by binary search or
//!   by forward-moving cursors.
//! - `window`: `*_over`, `rate`, `increase` over a range, as PromQL 2.42 or 3.5 computes them.
//! - `compiled`: a plan [`Condition`](crate::plan::Condition) compiled against a [`SeriesSet`](crate::source::SeriesSet)
//!   for one [`PromVersion`], evaluated per series with PromQL's label matching.
//! - `vector`: a node's series at one evaluation and how two operands' series join (PromQL matching).
//! - `trigger`: the [`TriggerMachine`] (Prometheus's alerting-rule semantics: `for`, `keep firing for`, the
//!   same in 2.42 and 3.5; and `for N of M`, `clear when`, `on no data`) and [`SeriesMachines`], one
//!   machine per series.
//! - `restore`: a trigger's timers after an outage ([`Outage`]), Prometheus's restore rules.
//! - `timeline`: every trigger of a plan run over a series set, one machine per series.
//!
//! INVARIANT: nothing here does I/O or reads a clock; time is always an argument, in ms since the epoch.

mod compiled;
mod lookup;
mod restore;
mod timeline;
mod trigger;
mod vector;
mod version;
mod window;

#[cfg(test)]
mod tests;

/// The series conditions are evaluated over, for callers that build them from elsewhere (a live `verify`).
pub use crate::source::{Series, SeriesSet};
pub use compiled::{CompiledCondition, EvalError, Hit, agrees, value_at};
pub use lookup::{Cursor, LOOKBACK_MS, instant_at, range_at};
pub use restore::Outage;
pub use timeline::{FailureRecord, Observed, TransitionRecord, evaluate_triggers, evaluation_times, run_trigger};
pub use trigger::{Evaluation, SeriesMachines, Transition, TriggerMachine, TriggerState, TriggerTimers};
pub use version::{Bounds, PromVersion};
pub use window::{WindowArgs, apply as apply_window};
