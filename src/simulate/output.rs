//! The simulation's two outputs: JSON for tools (the exact shape documented in docs/simulation.md) and a
//! timeline for a person.

use std::fmt::Write;

use serde::Serialize;
use serde_json::Value as Json;

use super::{Simulation, TriggerState};
use crate::plan::{Labels, format_duration, format_number};
use crate::source::{TimeBase, format_time};

#[derive(Serialize)]
struct JsonOut<'a> {
    runbook: &'a str,
    /// The Prometheus major version whose semantics the evaluation followed (2 or 3).
    prometheus_version: crate::eval::PromVersion,
    interval_s: Json,
    start: Json,
    end: Json,
    transitions: Transitions<'a>,
    runs: Vec<JsonRun>,
}

/// The transitions, serialised one by one as they are written (a month of history may have many).
struct Transitions<'a>(&'a Simulation);

impl Serialize for Transitions<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let base = self.0.time_base;
        serializer.collect_seq(self.0.transitions.iter().map(|t| JsonTransition {
            t: time_json(t.t_ms, base),
            trigger: &t.trigger,
            labels: &t.labels,
            state: t.state,
            value: t.value.map(value_json),
        }))
    }
}

#[derive(Serialize)]
struct JsonTransition<'a> {
    t: Json,
    trigger: &'a str,
    #[serde(skip_serializing_if = "Labels::is_empty")]
    labels: &'a Labels,
    state: TriggerState,
    value: Option<Json>,
}

#[derive(Serialize)]
struct JsonRun {
    id: String,
    t: Json,
    level: u32,
    trigger: String,
    #[serde(skip_serializing_if = "Labels::is_empty")]
    labels: Labels,
    steps: Vec<JsonStep>,
    outcome: super::RunOutcome,
    escalated_to: Option<u32>,
}

#[derive(Serialize)]
struct JsonStep {
    id: String,
    kind: &'static str,
    t: Json,
    outcome: super::StepOutcome,
}

/// A time in the input's base: a number of seconds, or an RFC 3339 string.
fn time_json(t_ms: i64, base: TimeBase) -> Json {
    match base {
        TimeBase::Seconds => seconds_json(t_ms),
        TimeBase::Rfc3339 => Json::String(format_time(t_ms, base)),
    }
}

fn seconds_json(ms: i64) -> Json {
    if ms % 1000 == 0 {
        Json::from(ms / 1000)
    } else {
        serde_json::Number::from_f64(ms as f64 / 1000.0).map(Json::Number).unwrap_or(Json::Null)
    }
}

fn value_json(v: f64) -> Json {
    // JSON has no NaN or infinities; they are written as PromQL prints them, as strings.
    serde_json::Number::from_f64(v).map(Json::Number).unwrap_or_else(|| Json::String(format_number(v)))
}

/// A series' labels for the timeline: `{instance="a"}`, control characters escaped (labels come from the
/// input); nothing for a trigger of one series.
fn series(labels: &Labels) -> String {
    if labels.is_empty() { String::new() } else { crate::text::escape_control(&labels.to_string()).into_owned() }
}

pub fn to_json(sim: &Simulation) -> String {
    let mut out = Vec::new();
    let _ = write_json(sim, &mut out);
    String::from_utf8(out).unwrap_or_default()
}

/// The JSON document (docs/simulation.md), written to `w` as it is serialised.
pub fn write_json(sim: &Simulation, w: &mut impl std::io::Write) -> std::io::Result<()> {
    let base = sim.time_base;
    let out = JsonOut {
        runbook: &sim.runbook,
        prometheus_version: sim.version,
        interval_s: seconds_json(sim.interval_ms as i64),
        start: time_json(sim.start_ms, base),
        end: time_json(sim.end_ms, base),
        transitions: Transitions(sim),
        runs: sim
            .runs
            .iter()
            .map(|r| JsonRun {
                id: r.id.clone(),
                t: time_json(r.t_ms, base),
                level: r.level,
                trigger: r.trigger.clone(),
                labels: r.labels.clone(),
                steps: r
                    .steps
                    .iter()
                    .map(|s| JsonStep {
                        id: s.id.clone(),
                        kind: s.kind,
                        t: time_json(s.t_ms, base),
                        outcome: s.outcome,
                    })
                    .collect(),
                outcome: r.outcome,
                escalated_to: r.escalated_to,
            })
            .collect(),
    };
    serde_json::to_writer_pretty(&mut *w, &out).map_err(std::io::Error::other)?;
    w.write_all(b"\n")
}

/// A clock reading for the timeline: `HH:MM:SS` from the epoch of the input for seconds (which usually
/// start at 0), the RFC 3339 time for dated input.
pub fn clock(t_ms: i64, base: TimeBase) -> String {
    match base {
        TimeBase::Rfc3339 => format_time(t_ms, base),
        TimeBase::Seconds => {
            let secs = t_ms.div_euclid(1000);
            let ms = t_ms.rem_euclid(1000);
            let frac = if ms == 0 { String::new() } else { format!(".{ms:03}") };
            if secs >= 100 * 3600 {
                format!("{}s{frac}", secs)
            } else {
                format!("{:02}:{:02}:{:02}{frac}", secs / 3600, secs / 60 % 60, secs % 60)
            }
        }
    }
}

/// The timeline a person reads: every trigger change, run, step and note, in time order.
pub fn to_text(sim: &Simulation) -> String {
    let mut out = Vec::new();
    let _ = write_text(sim, None, &mut out);
    String::from_utf8(out).unwrap_or_default()
}

/// The timeline, written to `w`, printing at most `limit` events (then saying how many were left out, with
/// a summary per trigger).
pub fn write_text(sim: &Simulation, limit: Option<usize>, w: &mut impl std::io::Write) -> std::io::Result<()> {
    w.write_all(timeline(sim, limit).as_bytes())
}

fn timeline(sim: &Simulation, limit: Option<usize>) -> String {
    let base = sim.time_base;
    let mut events: Vec<(i64, u8, String)> = Vec::new();
    for t in &sim.transitions {
        let value = t.value.map(|v| format!("  (value {})", format_number(v))).unwrap_or_default();
        let state = match t.state {
            TriggerState::Pending => "pending",
            TriggerState::Firing => "FIRING",
            TriggerState::Inactive => "inactive",
        };
        let name = format!("{}{}", t.trigger, series(&t.labels));
        events.push((t.t_ms, 0, format!("trigger {name:<20} {state}{value}")));
    }
    for n in &sim.notes {
        events.push((n.t_ms, 1, format!("note    {}", n.text)));
    }
    for r in &sim.runs {
        let title = sim.level_titles.get(&r.level).map(|t| format!(" \"{t}\"")).unwrap_or_default();
        let for_series = if r.labels.is_empty() { String::new() } else { format!(" for {}", series(&r.labels)) };
        events.push((
            r.t_ms,
            2,
            format!("{:<7} level {}{title} started by `{}`{for_series}", r.id, r.level, r.trigger),
        ));
        if let Some((at, approved)) = r.approval {
            let text = match (approved, at - r.t_ms) {
                (true, 0) => "approved at once".to_string(),
                (true, d) => format!("approved after {}", format_duration(d.max(0) as u64)),
                (false, _) => "DENIED".to_string(),
            };
            events.push((at, 3, format!("{:<7}   approval {text}", r.id)));
        }
        for s in &r.steps {
            let outcome = match s.outcome {
                super::StepOutcome::Ok => "ok",
                super::StepOutcome::Failed => "FAILED",
                super::StepOutcome::Skipped => "skipped",
            };
            let took = if s.end_ms > s.t_ms {
                format!(" after {}", format_duration((s.end_ms - s.t_ms) as u64))
            } else {
                String::new()
            };
            let detail = if s.detail.is_empty() { String::new() } else { format!(": {}", s.detail) };
            let attempt = if s.attempt > 1 { format!(" (attempt {})", s.attempt) } else { String::new() };
            events.push((s.t_ms, 4, format!("{:<7}   {} {}{attempt} {outcome}{took}{detail}", r.id, s.id, s.kind)));
        }
        let outcome = match (r.outcome, r.escalated_to) {
            (super::RunOutcome::Escalated, Some(to)) => format!("escalated to level {to}"),
            (super::RunOutcome::Succeeded, _) => "succeeded".to_string(),
            _ => "FAILED".to_string(),
        };
        events.push((
            r.end_ms,
            5,
            format!(
                "{:<7} level {} {outcome} after {}: {}",
                r.id,
                r.level,
                format_duration((r.end_ms - r.t_ms).max(0) as u64),
                r.reason
            ),
        ));
    }
    // Stable: by time, then in the order produced (trigger changes and notes before runs, each run's events
    // in the order they happened).
    events.sort_by_key(|(t, _, _)| *t);

    let mut out = String::new();
    let _ = writeln!(
        out,
        "simulation of runbook `{}` from {} to {}, evaluating every {} as Prometheus {} does",
        sim.runbook,
        clock(sim.start_ms, base),
        clock(sim.end_ms, base),
        format_duration(sim.interval_ms),
        sim.version
    );
    if !sim.injected.is_empty() {
        let _ = writeln!(out, "what-if: {}", sim.injected.join(", "));
    }
    let _ = writeln!(out);
    if events.is_empty() {
        let _ = writeln!(out, "  nothing happened: no trigger left inactive");
    }
    let shown = limit.unwrap_or(usize::MAX).min(events.len());
    for (t, _, text) in events.iter().take(shown) {
        let _ = writeln!(out, "  {}  {text}", clock(*t, base));
    }
    if shown < events.len() {
        let _ = writeln!(
            out,
            "  ... {} more event{} left out (`--limit {}`); by trigger:",
            events.len() - shown,
            if events.len() - shown == 1 { "" } else { "s" },
            shown
        );
        per_trigger(sim, &mut out);
    }
    let _ = writeln!(out);
    let fired: std::collections::BTreeSet<&str> =
        sim.transitions.iter().filter(|t| t.state == TriggerState::Firing).map(|t| t.trigger.as_str()).collect();
    // Runs grouped by level and outcome, in order of first appearance: "L1 escalated, L2 succeeded x3".
    let mut groups: Vec<(String, usize)> = Vec::new();
    for r in &sim.runs {
        let o = match r.outcome {
            super::RunOutcome::Succeeded => "succeeded",
            super::RunOutcome::Failed => "failed",
            super::RunOutcome::Escalated => "escalated",
        };
        let key = format!("L{} {o}", r.level);
        match groups.iter_mut().find(|(k, _)| *k == key) {
            Some((_, n)) => *n += 1,
            None => groups.push((key, 1)),
        }
    }
    let runs: Vec<String> = groups.into_iter().map(|(k, n)| if n == 1 { k } else { format!("{k} x{n}") }).collect();
    // A trigger of several series says how many fired.
    let mut series_fired: std::collections::BTreeMap<&str, std::collections::BTreeSet<&Labels>> = Default::default();
    for t in sim.transitions.iter().filter(|t| t.state == TriggerState::Firing) {
        series_fired.entry(t.trigger.as_str()).or_default().insert(&t.labels);
    }
    let fired_list: Vec<String> = fired
        .iter()
        .map(|name| match series_fired.get(name).map(|s| s.len()) {
            Some(n) if n > 1 || series_fired.get(name).is_some_and(|s| s.iter().any(|l| !l.is_empty())) => {
                format!("{name} for {n} series")
            }
            _ => (*name).to_string(),
        })
        .collect();
    let fired_text = match fired_list.len() {
        0 => "none".to_string(),
        n if n > 12 => format!("{} and {} more", fired_list[..10].join(", "), n - 10),
        _ => fired_list.join(", "),
    };
    let _ = writeln!(
        out,
        "summary: {} trigger{} fired ({fired_text}); {} run{}{}",
        fired.len(),
        if fired.len() == 1 { "" } else { "s" },
        sim.runs.len(),
        if sim.runs.len() == 1 { "" } else { "s" },
        if runs.is_empty() { String::new() } else { format!(": {}", runs.join(", ")) }
    );
    out
}

/// One line per trigger that changed: how often it went pending and fired, over how many series, and its
/// first and last firing.
fn per_trigger(sim: &Simulation, out: &mut String) {
    struct Counts<'a> {
        pending: usize,
        firing: usize,
        series: std::collections::BTreeSet<&'a Labels>,
        first: Option<i64>,
        last: Option<i64>,
    }
    let mut by: Vec<(&str, Counts<'_>)> = Vec::new();
    for t in &sim.transitions {
        let i = match by.iter().position(|(n, _)| *n == t.trigger) {
            Some(i) => i,
            None => {
                let c = Counts { pending: 0, firing: 0, series: Default::default(), first: None, last: None };
                by.push((t.trigger.as_str(), c));
                by.len() - 1
            }
        };
        let Some((_, c)) = by.get_mut(i) else { continue };
        c.series.insert(&t.labels);
        match t.state {
            TriggerState::Pending => c.pending += 1,
            TriggerState::Firing => {
                c.firing += 1;
                c.first = c.first.or(Some(t.t_ms));
                c.last = Some(t.t_ms);
            }
            TriggerState::Inactive => {}
        }
    }
    for (name, c) in by {
        let series = if c.series.len() > 1 || c.series.iter().any(|l| !l.is_empty()) {
            format!(" over {} series", c.series.len())
        } else {
            String::new()
        };
        let when = match (c.first, c.last) {
            (Some(f), Some(l)) if f != l => {
                format!(", first at {}, last at {}", clock(f, sim.time_base), clock(l, sim.time_base))
            }
            (Some(f), _) => format!(", at {}", clock(f, sim.time_base)),
            _ => String::new(),
        };
        let _ = writeln!(
            out,
            "    {name:<20} fired {} time{}, pending {}{series}{when}",
            c.firing,
            if c.firing == 1 { "" } else { "s" },
            c.pending
        );
    }
}
