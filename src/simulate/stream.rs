//! Simulation in one pass over a stream of samples in time order (a series file read by
//! [`SeriesStream`](crate::source::SeriesStream)): after each fill of the [`Window`], every evaluation time
//! the samples read so far decide (those before the newest sample) is evaluated, and each series lets go of
//! the samples no condition can reach any more: older than the next evaluation less the metric's reach
//! (the longest window and offset a condition reads it with, plus the 5-minute lookback). Memory is
//! bounded by the window and the fill, not by the length of the history.
//!
//! What needs samples at any time keeps them whole: the metrics `verify` steps read (a run's steps come
//! after the firing that starts it, once the stream is read) and, with `--chart`, every metric.

use std::collections::HashMap;

use super::{SimulateOptions, Simulation, assemble, check_range};
use crate::diagnostic::Diagnostic;
use crate::eval::{LOOKBACK_MS, Triggers, evaluation_times};
use crate::plan::{Action, Condition, Plan, Value};
use crate::source::{SeriesSet, Window};

/// Samples read per fill: 512 Ki samples is 8 MiB of times and values, and few enough fills that
/// compiling the conditions once per fill costs nothing.
pub const FILL_ROWS: usize = 1 << 19;

/// What the stream keeps beyond what the conditions reach.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Keep {
    /// Only the reach of each metric (and `verify` steps' metrics whole).
    Reach,
    /// Every sample (for a chart of the whole range).
    All,
}

/// Why a streamed simulation stopped.
#[derive(Debug)]
pub enum StreamStop<E> {
    /// The fill failed (the caller's error: a bad row, an unreadable file).
    Read(E),
    /// The range the samples give cannot be simulated (RC407, RC408, RC409).
    Range(Diagnostic),
}

/// How far back from an evaluation each metric's samples are read (`None`: kept whole).
fn reach(plan: &Plan, keep: Keep) -> HashMap<String, Option<i64>> {
    fn value(v: &Value, out: &mut HashMap<String, Option<i64>>) {
        let (name, back) = match v {
            Value::Number { .. } => return,
            Value::Metric { name, offset_ms } => (name, *offset_ms),
            Value::Window { metric, window_ms, offset_ms, .. } => (metric, window_ms.saturating_add(*offset_ms)),
            Value::Abs { operand } | Value::Neg { operand } => return value(operand, out),
            Value::Arith { lhs, rhs, .. } => {
                value(lhs, out);
                return value(rhs, out);
            }
        };
        let back = i64::try_from(back).unwrap_or(i64::MAX).saturating_add(LOOKBACK_MS);
        let slot = out.entry(name.clone()).or_insert(Some(0));
        if let Some(r) = slot {
            *r = (*r).max(back);
        }
    }
    fn condition(c: &Condition, out: &mut HashMap<String, Option<i64>>) {
        match c {
            Condition::Compare { lhs, rhs, .. } => {
                value(lhs, out);
                value(rhs, out);
            }
            Condition::And { lhs, rhs, .. } | Condition::Or { lhs, rhs, .. } | Condition::Unless { lhs, rhs, .. } => {
                condition(lhs, out);
                condition(rhs, out);
            }
            Condition::Not { operand } => condition(operand, out),
        }
    }
    let mut out = HashMap::new();
    for t in &plan.triggers {
        condition(&t.condition, &mut out);
        if let Some(w) = &t.clear_when {
            condition(&w.condition, &mut out);
        }
    }
    let mut whole = Vec::new();
    for s in plan.all_steps() {
        if let Action::VerifyCondition { condition, .. } = &s.action {
            condition.metrics(&mut whole);
        }
    }
    if keep == Keep::All {
        out.values_mut().for_each(|r| *r = None);
    }
    for m in whole {
        out.insert(m, None);
    }
    out
}

/// Simulates `plan` over the samples `fill` reads into `window` (returning whether more follow), evaluating
/// as it goes. Returns the simulation and the samples still held at the end (what `verify` steps and the
/// chart read; every series the stream met is in it, so that a missing metric can be told).
pub fn simulate_stream<E>(
    plan: &Plan,
    window: &mut Window,
    mut fill: impl FnMut(&mut Window) -> Result<bool, E>,
    options: &SimulateOptions,
    keep: Keep,
) -> Result<(Simulation, SeriesSet), StreamStop<E>> {
    let interval_ms = plan.evaluation_interval_ms.max(1);
    let step = i64::try_from(interval_ms).unwrap_or(i64::MAX);
    let reach = reach(plan, keep);
    let mut triggers = Triggers::new(plan, interval_ms, options.version);
    let explicit = options.start_ms.is_some() && options.end_ms.is_some();
    // The first evaluation time, once something is evaluated, and the next one.
    let mut start: Option<i64> = None;
    let mut next: Option<i64> = None;
    loop {
        let more = fill(window).map_err(StreamStop::Read)?;
        let (first, last) = window.time_range().unwrap_or((0, 0));
        let from = start.unwrap_or(options.start_ms.unwrap_or(first));
        // Before the end, a time is decided once a later sample is read (the file is in time order).
        let upto = match (more, options.end_ms) {
            (true, Some(end)) => end.min(last.saturating_sub(1)),
            (true, None) => last.saturating_sub(1),
            (false, end) => end.unwrap_or(last),
        };
        if !more {
            check_range(from, upto, interval_ms, explicit, window.time_base()).map_err(StreamStop::Range)?;
        }
        let at = next.unwrap_or(from);
        if upto >= at {
            check_range(from, upto, interval_ms, false, window.time_base()).map_err(StreamStop::Range)?;
            start = Some(from);
            let times = evaluation_times(at, upto, interval_ms);
            let done = times.clone().last().unwrap_or(at);
            window.with_set(|set| triggers.advance(set, times));
            window.evaluated(done);
            let following = done.saturating_add(step);
            next = Some(following);
            window.release(|metric| match reach.get(metric) {
                Some(None) => None,
                Some(Some(back)) => Some(following.saturating_sub(*back).saturating_sub(1)),
                None => Some(following),
            });
        }
        if !more {
            let range = (start.unwrap_or(from), upto.max(start.unwrap_or(from)));
            let series = window.take_set();
            let sim = assemble(plan, &series, options, range, triggers);
            return Ok((sim, series));
        }
    }
}
