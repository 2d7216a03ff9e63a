//! Dry-run simulation: what would this runbook have done over these recorded series?
//!
//! Triggers are evaluated on the Prometheus grid by the shared state machine in `eval` (the one `watch`
//! uses); their firings drive level runs on a simulated clock (`run`); the result renders as JSON, a
//! timeline (`output`) and an SVG chart (`chart`). `range` bounds what a simulation may take on. `stream` is
//! the one evaluation path: samples in time order, fill by fill; a series set in memory is one fill.
//!
//! INVARIANT: simulation has no side effects, ever: no process, request or file is touched.

mod chart;
mod lanes;
mod output;
mod range;
mod run;
mod stream;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_stream;

pub use chart::{check_chart, render_svg};
pub use lanes::play;
pub use output::{clock, to_json, to_text, write_json, write_text};
pub use range::{MAX_EVALUATIONS, MAX_TIME_MS, check_range};
pub use run::{Approval, Fire, Note, Probe, RunOptions, RunOutcome, RunRecord, StepOutcome, StepRecord};
pub use stream::{FILL_ROWS, Keep, StreamStop, simulate_stream};

use std::collections::BTreeMap;

use crate::diagnostic::{Code, Diagnostic};
use crate::eval::{CompiledCondition, PromVersion, TriggerState};
use crate::plan::{Action, Bindings, Condition, Labels, Plan, Step, Target};
use crate::source::{SeriesSet, TimeBase};
use crate::span::Span;

/// A trigger's series changing state at an evaluation.
#[derive(Clone, Debug, PartialEq)]
pub struct Transition {
    pub t_ms: i64,
    pub trigger: String,
    /// The series' labels (empty for a trigger of one series).
    pub labels: Labels,
    pub state: TriggerState,
    pub value: Option<f64>,
}

#[derive(Clone, Debug)]
pub struct Simulation {
    pub runbook: String,
    pub interval_ms: u64,
    pub start_ms: i64,
    pub end_ms: i64,
    pub time_base: TimeBase,
    /// Whose semantics the triggers and verify steps were evaluated with.
    pub version: PromVersion,
    pub transitions: Vec<Transition>,
    pub runs: Vec<RunRecord>,
    pub notes: Vec<Note>,
    pub level_titles: BTreeMap<u32, String>,
    /// The what-if options in words, for the timeline's header.
    pub injected: Vec<String>,
}

#[derive(Clone, Debug, Default)]
pub struct SimulateOptions {
    pub start_ms: Option<i64>,
    pub end_ms: Option<i64>,
    pub run: RunOptions,
    /// Evaluate as this Prometheus does (default 3).
    pub version: PromVersion,
}

/// Every metric the plan's triggers and verify steps read that the series do not have.
pub fn missing_metrics(plan: &Plan, series: &SeriesSet) -> Vec<String> {
    let mut needed = Vec::new();
    for t in &plan.triggers {
        t.condition.metrics(&mut needed);
    }
    for s in plan.all_steps() {
        if let Action::VerifyCondition { condition, .. } = &s.action {
            condition.metrics(&mut needed);
        }
    }
    let mut missing: Vec<String> = needed.into_iter().filter(|m| series.family(m).is_empty()).collect();
    missing.sort();
    missing.dedup();
    missing
}

/// Checks that `--fail` names steps that exist; the diagnostic has no span (it is about a flag).
pub fn check_options(plan: &Plan, options: &RunOptions) -> Vec<Diagnostic> {
    let ids: Vec<&str> = plan.all_steps().into_iter().map(|s| s.id.as_str()).collect();
    let mut out = Vec::new();
    for f in &options.fail {
        if !ids.contains(&f.as_str()) {
            let help = match crate::diagnostic::did_you_mean(f, ids.iter().copied()) {
                Some(suggestion) => format!("{suggestion} `ripcord plan` lists every step id"),
                None => "`ripcord plan` lists every step id (L1.S1, L3.S3.1, ...)".to_string(),
            };
            out.push(
                Diagnostic::new(
                    Code::SimulationArgument,
                    Span::new(0, 0),
                    format!("`--fail {f}`: no step has that id"),
                )
                .help(help),
            );
        }
    }
    for level in options.approvals.keys() {
        if plan.level(*level).is_none() {
            out.push(
                Diagnostic::new(
                    Code::SimulationArgument,
                    Span::new(0, 0),
                    format!("`--approve {level}=...`: level {level} is not declared"),
                )
                .help("name a declared level, such as `--approve 2=after:5m`"),
            );
        }
    }
    out
}

/// The range a simulation covers: the options' start and end, else the series' first and last times.
pub fn effective_range(series: &SeriesSet, options: &SimulateOptions) -> (i64, i64) {
    let (first, last) = series.time_range().unwrap_or((0, 0));
    (options.start_ms.unwrap_or(first), options.end_ms.unwrap_or(last))
}

/// Runs the whole simulation over series held in memory (a promtool file, `ripcord test`'s inputs, a
/// Prometheus history): one piece through the same evaluation as the stream of [`simulate_stream`]. The
/// caller has checked the options, the metrics and the range (see above).
///
/// INVARIANT: at most [`MAX_EVALUATIONS`] evaluations, within [`MAX_TIME_MS`] of 1970, whatever the caller
/// checked: a range beyond them is cut short rather than run for hours.
pub fn simulate(plan: &Plan, series: &SeriesSet, options: &SimulateOptions) -> Simulation {
    let (start_ms, end_ms) = effective_range(series, options);
    let start_ms = start_ms.clamp(-MAX_TIME_MS, MAX_TIME_MS);
    let interval_ms = plan.evaluation_interval_ms.max(1);
    let end_ms = range::bounded_end(start_ms, end_ms.clamp(-MAX_TIME_MS, MAX_TIME_MS), interval_ms).max(start_ms);
    let mut triggers = crate::eval::Triggers::new(plan, interval_ms, options.version);
    triggers.advance(series, crate::eval::evaluation_times(start_ms, end_ms, interval_ms));
    assemble(plan, series, options, (start_ms, end_ms), triggers)
}

/// The simulation from the triggers' evaluation over `[start, end]`: the level runs their firings start
/// (`verify` steps read `series`), notes, and the header.
fn assemble(
    plan: &Plan,
    series: &SeriesSet,
    options: &SimulateOptions,
    (start_ms, end_ms): (i64, i64),
    triggers: crate::eval::Triggers<'_>,
) -> Simulation {
    let interval_ms = plan.evaluation_interval_ms.max(1);
    let version = options.version;
    let (records, failures) = triggers.finish();
    let transitions: Vec<Transition> = records
        .into_iter()
        .map(|r| Transition { t_ms: r.t_ms, trigger: r.trigger, labels: r.labels, state: r.state, value: r.value })
        .collect();

    let mut fires = Vec::new();
    let mut notes: Vec<Note> = failures
        .iter()
        .map(|f| {
            let times = if f.count > 1 {
                format!(" ({} evaluations in a row, until {})", f.count, clock(f.last_ms, series.time_base))
            } else {
                String::new()
            };
            Note { t_ms: f.t_ms, text: format!("`{}` could not be evaluated{times}: {}", f.trigger, f.message) }
        })
        .collect();
    // When each trigger's series fire, for a run that waits for a free slot.
    let mut firing: BTreeMap<(&str, &Labels), Vec<(i64, bool)>> = BTreeMap::new();
    for t in &transitions {
        firing.entry((t.trigger.as_str(), &t.labels)).or_default().push((t.t_ms, t.state == TriggerState::Firing));
    }
    for t in transitions.iter().filter(|t| t.state == TriggerState::Firing) {
        let Some(trigger) = plan.trigger(&t.trigger) else {
            continue;
        };
        let labels = t.labels.with(&trigger.labels);
        match &trigger.target {
            Target::Level { level } => {
                fires.push(Fire { t_ms: t.t_ms, trigger: t.trigger.clone(), level: *level, labels })
            }
            Target::Notify { channel, message } => {
                let bindings = Bindings {
                    runbook: Some(plan.runbook.clone()),
                    trigger: Some(t.trigger.clone()),
                    value: t.value.map(crate::plan::format_number),
                    labels,
                    ..Bindings::default()
                };
                // No environment in a simulation: `${env.X}` stays unfilled.
                let text = message.render(|v| match v {
                    crate::plan::Variable::Env(_) => None,
                    v => bindings.get(v),
                });
                notes.push(Note { t_ms: t.t_ms, text: format!("notify {channel}: {text}") });
            }
        }
    }
    // A fire's labels hold the trigger's own labels on top of the series'; the series is found by both.
    let still_firing = |fire: &Fire, at: i64| {
        firing.iter().any(|((trigger, labels), changes)| {
            *trigger == fire.trigger
                && labels.with(&plan.trigger(trigger).map(|t| t.labels.clone()).unwrap_or_default()) == fire.labels
                && changes.iter().take_while(|(t, _)| *t <= at).last().is_some_and(|(_, firing)| *firing)
        })
    };

    let shapes = crate::plan::Shapes::new(&plan.metrics);
    let probe = SeriesProbe { series, shapes, version, cache: std::cell::RefCell::new(Vec::new()) };
    let (runs, more_notes) = play(plan, &fires, &probe, &options.run, &still_firing);
    notes.extend(more_notes);
    notes.sort_by_key(|n| n.t_ms);

    let mut injected: Vec<String> = options.run.fail.iter().map(|f| format!("--fail {f}")).collect();
    for (level, a) in &options.run.approvals {
        injected.push(match a {
            Approval::After(ms) => format!("--approve {level}=after:{}", crate::plan::format_duration(*ms)),
            Approval::Deny => format!("--approve {level}=deny"),
        });
    }
    Simulation {
        runbook: plan.runbook.clone(),
        interval_ms,
        start_ms,
        end_ms,
        time_base: series.time_base,
        version,
        transitions,
        runs,
        notes,
        level_titles: plan.levels.iter().filter_map(|l| l.title.clone().map(|t| (l.number, t))).collect(),
        injected,
    }
}

/// Evaluates `verify` conditions on the recorded series, compiling each condition once.
struct SeriesProbe<'a> {
    series: &'a SeriesSet,
    shapes: crate::plan::Shapes<'a>,
    version: PromVersion,
    cache: std::cell::RefCell<Vec<(Condition, CompiledCondition<'a>)>>,
}

impl Probe for SeriesProbe<'_> {
    fn holds(&self, condition: &Condition, t_ms: i64, labels: &Labels) -> bool {
        let mut cache = self.cache.borrow_mut();
        let index = match cache.iter().position(|(c, _)| c == condition) {
            Some(i) => i,
            None => {
                cache.push((
                    condition.clone(),
                    CompiledCondition::compile(condition, &self.shapes, self.series, self.version),
                ));
                cache.len() - 1
            }
        };
        cache[index].1.holds_for(t_ms, labels).unwrap_or(false)
    }
}

/// The steps of a level in order, parallel children included (used by tests and reports).
pub fn flatten(steps: &[Step]) -> Vec<&Step> {
    let mut out = Vec::new();
    for s in steps {
        out.push(s);
        if let Action::Parallel { steps } = &s.action {
            out.extend(flatten(steps));
        }
    }
    out
}
