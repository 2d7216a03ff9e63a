//! Checking a test's expectations against its simulation. A failed expectation says what was expected and
//! what happened, as timeline lines, and which slice of the simulation's timeline to show with it.

use crate::eval::TriggerState;
use crate::plan::Labels;
use crate::simulate::{RunOutcome, RunRecord, Simulation, StepOutcome};

use super::spec::{Expect, Expectation, RunMatcher, Window};

/// One expectation that did not hold.
#[derive(Clone, Debug, PartialEq)]
pub struct Failure {
    /// 1-based line of the expectation in the test file.
    pub line: usize,
    /// The expectation in words.
    pub what: String,
    /// What should have happened, as timeline lines.
    pub expected: Vec<String>,
    /// What happened, as timeline lines.
    pub actual: Vec<String>,
    /// The part of the simulation's timeline that shows it: from, to (inclusive; `None` is the end).
    pub from_ms: i64,
    pub to_ms: Option<i64>,
}

/// A time as the simulation's timeline writes it: `HH:MM:SS`, with `.mmm` when it has milliseconds.
pub fn clock(t_ms: i64) -> String {
    let secs = t_ms.div_euclid(1000);
    let ms = t_ms.rem_euclid(1000);
    let frac = if ms == 0 { String::new() } else { format!(".{ms:03}") };
    if secs >= 100 * 3600 {
        format!("{secs}s{frac}")
    } else {
        format!("{:02}:{:02}:{:02}{frac}", secs / 3600, secs / 60 % 60, secs % 60)
    }
}

/// Reads back a [`clock`] reading.
pub fn parse_clock(s: &str) -> Option<i64> {
    let (whole, frac) = match s.split_once('.') {
        Some((w, f)) if f.len() == 3 && f.bytes().all(|b| b.is_ascii_digit()) => (w, f.parse::<i64>().ok()?),
        Some(_) => return None,
        None => (s, 0),
    };
    let secs = if let Some(n) = whole.strip_suffix('s') {
        n.parse::<i64>().ok()?
    } else {
        let mut parts = whole.split(':');
        let (h, m, sec) = (parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some() || [h, m, sec].iter().any(|p| p.len() != 2 || !p.bytes().all(|b| b.is_ascii_digit()))
        {
            return None;
        }
        h.parse::<i64>().ok()? * 3600 + m.parse::<i64>().ok()? * 60 + sec.parse::<i64>().ok()?
    };
    Some(secs * 1000 + frac)
}

fn state_word(s: TriggerState) -> &'static str {
    s.as_str()
}

fn window_words(w: &Window) -> String {
    match w.to_ms {
        Some(to) if to == w.from_ms => format!("at {}", clock(to)),
        Some(to) => format!("from {} to {}", clock(w.from_ms), clock(to)),
        None if w.from_ms == 0 => "at any time".to_string(),
        None => format!("from {} on", clock(w.from_ms)),
    }
}

fn outcome_word(o: RunOutcome) -> &'static str {
    match o {
        RunOutcome::Succeeded => "succeeded",
        RunOutcome::Failed => "failed",
        RunOutcome::Escalated => "escalated",
    }
}

/// The steps of a run that ran (not skipped), in order, and those that failed.
pub fn ran_steps(r: &RunRecord) -> (Vec<String>, Vec<String>) {
    let ran = r.steps.iter().filter(|s| s.outcome != StepOutcome::Skipped).map(|s| s.id.clone()).collect();
    let failed = r.steps.iter().filter(|s| s.outcome == StepOutcome::Failed).map(|s| s.id.clone()).collect();
    (ran, failed)
}

fn list(ids: &[String]) -> String {
    if ids.is_empty() { "none".to_string() } else { format!("[{}]", ids.join(", ")) }
}

/// A run as a timeline line: `00:02:00  run-1 level 1 by `t`: steps [...], failed [...]; escalated to level 2`.
fn describe_run(r: &RunRecord) -> String {
    let (ran, failed) = ran_steps(r);
    let outcome = match (r.outcome, r.escalated_to) {
        (RunOutcome::Escalated, Some(to)) => format!("escalated to level {to}"),
        (o, _) => outcome_word(o).to_string(),
    };
    let failed = if failed.is_empty() { String::new() } else { format!(", failed {}", list(&failed)) };
    let series = if r.labels.is_empty() { String::new() } else { format!(" for {}", r.labels) };
    format!(
        "{}  {} level {} by `{}`{series}: steps {}{failed}; {outcome}",
        clock(r.t_ms),
        r.id,
        r.level,
        r.trigger,
        list(&ran)
    )
}

/// A matcher as a timeline line; what it does not check reads `any`.
fn describe_matcher(m: &RunMatcher) -> String {
    let at = m.at_ms.map_or_else(|| "any time".to_string(), clock);
    let level = m.level.map_or_else(|| "any level".to_string(), |l| format!("level {l}"));
    let by = m.trigger.as_ref().map(|t| format!(" by `{t}`")).unwrap_or_default();
    let by = match &m.labels {
        Some(l) => format!("{by} for {l}"),
        None => by,
    };
    let mut parts = Vec::new();
    if let Some(s) = &m.steps {
        parts.push(format!("steps {}", list(s)));
    }
    if let Some(f) = &m.failed {
        parts.push(format!("failed {}", list(f)));
    }
    let details = if parts.is_empty() { String::new() } else { format!(": {}", parts.join(", ")) };
    let outcome = match (m.outcome, m.escalated_to) {
        (_, Some(to)) => format!("; escalated to level {to}"),
        (Some(o), None) => format!("; {}", outcome_word(o)),
        (None, None) => String::new(),
    };
    format!("{at}  run of {level}{by}{details}{outcome}")
}

fn run_matches(m: &RunMatcher, r: &RunRecord) -> bool {
    let (ran, failed) = ran_steps(r);
    m.at_ms.is_none_or(|t| t == r.t_ms)
        && m.level.is_none_or(|l| l == r.level)
        && m.trigger.as_ref().is_none_or(|t| *t == r.trigger)
        && m.steps.as_ref().is_none_or(|s| *s == ran)
        && m.failed.as_ref().is_none_or(|f| *f == failed)
        && m.outcome.is_none_or(|o| o == r.outcome)
        && m.escalated_to.is_none_or(|l| r.escalated_to == Some(l) && r.outcome == RunOutcome::Escalated)
        && m.labels.as_ref().is_none_or(|l| has_labels(&r.labels, l))
}

/// Whether `series` has every label of `wanted`, with the same value.
fn has_labels(series: &Labels, wanted: &Labels) -> bool {
    wanted.iter().all(|(k, v)| series.get(k) == Some(v))
}

/// `disk_full` or `disk_full{instance="a"}`.
fn named(trigger: &str, labels: Option<&Labels>) -> String {
    match labels {
        Some(l) if !l.is_empty() => format!("{trigger}{l}"),
        _ => trigger.to_string(),
    }
}

/// The state of each trigger over time, from the simulation's transitions.
pub struct States<'a> {
    sim: &'a Simulation,
}

impl<'a> States<'a> {
    pub fn new(sim: &'a Simulation) -> Self {
        States { sim }
    }

    /// The trigger's state at `t` (as of the latest evaluation at or before `t`) over its series that have
    /// `labels` (every series when `None`): firing if one fires, else pending if one is; and since when the
    /// deciding series has been so.
    pub fn at(&self, trigger: &str, labels: Option<&Labels>, t: i64) -> (TriggerState, Option<i64>) {
        let mut latest: std::collections::BTreeMap<&Labels, (TriggerState, i64)> = Default::default();
        for tr in self.sim.transitions.iter().take_while(|tr| tr.t_ms <= t) {
            if tr.trigger == trigger && labels.is_none_or(|l| has_labels(&tr.labels, l)) {
                latest.insert(&tr.labels, (tr.state, tr.t_ms));
            }
        }
        let rank = |s: TriggerState| match s {
            TriggerState::Inactive => 0,
            TriggerState::Pending => 1,
            TriggerState::Firing => 2,
        };
        let best = latest.values().max_by_key(|(s, at)| (rank(*s), std::cmp::Reverse(*at)));
        match best {
            Some(&(s, at)) if s != TriggerState::Inactive => (s, Some(at)),
            _ => (TriggerState::Inactive, latest.values().map(|(_, at)| *at).max()),
        }
    }

    /// The trigger's state at the window's start and at each change inside it: (time, state).
    pub fn over(&self, trigger: &str, labels: Option<&Labels>, w: &Window) -> Vec<(i64, TriggerState)> {
        let mut out = vec![(w.from_ms, self.at(trigger, labels, w.from_ms).0)];
        for tr in self.sim.transitions.iter().filter(|tr| tr.trigger == trigger && tr.t_ms > w.from_ms) {
            if w.to_ms.is_some_and(|to| tr.t_ms > to) {
                break;
            }
            if labels.is_none_or(|l| has_labels(&tr.labels, l)) {
                let now = self.at(trigger, labels, tr.t_ms).0;
                if out.last().is_none_or(|(_, s)| *s != now) {
                    out.push((tr.t_ms, now));
                }
            }
        }
        out
    }
}

/// Checks one test's expectations; returns those that failed.
pub fn check(sim: &Simulation, expectations: &[Expectation]) -> Vec<Failure> {
    let states = States::new(sim);
    let interval = i64::try_from(sim.interval_ms).unwrap_or(i64::MAX);
    let before = (8 * interval).max(180_000);
    let after = (2 * interval).max(30_000);
    let around = |w: &Window| (w.from_ms - interval, w.to_ms.map(|t| t + interval));
    let mut out = Vec::new();
    for e in expectations {
        let fail = |what: String, expected: Vec<String>, actual: Vec<String>, (from_ms, to_ms): (i64, Option<i64>)| {
            Failure { line: e.line, what, expected, actual, from_ms: from_ms.max(sim.start_ms), to_ms }
        };
        match &e.expect {
            Expect::State { trigger, labels, state, window } => {
                let labels = labels.as_ref();
                let trigger = &named(trigger, labels);
                let name = trigger.split('{').next().unwrap_or(trigger);
                let what = format!("`{trigger}` is {} {}", state_word(*state), window_words(window));
                let seen = states.over(name, labels, window);
                if seen.iter().all(|(_, s)| s == state) {
                    continue;
                }
                let expected = vec![format!("{}  trigger {trigger}  {}", clock(window.from_ms), state_word(*state))];
                let actual = if window.to_ms == Some(window.from_ms) {
                    let (s, since) = states.at(name, labels, window.from_ms);
                    let since = match since {
                        Some(t) => format!(" (since {})", clock(t)),
                        None => " (it never changed state before)".to_string(),
                    };
                    vec![format!("{}  trigger {trigger}  {}{since}", clock(window.from_ms), state_word(s))]
                } else {
                    seen.iter().map(|(t, s)| format!("{}  trigger {trigger}  {}", clock(*t), state_word(*s))).collect()
                };
                let slice = if window.to_ms == Some(window.from_ms) {
                    (window.from_ms - before, Some(window.from_ms + after))
                } else {
                    around(window)
                };
                out.push(fail(what, expected, actual, slice));
            }
            Expect::Run { run, window } => {
                let in_window: Vec<&RunRecord> = sim.runs.iter().filter(|r| window.contains(r.t_ms)).collect();
                if in_window.iter().any(|r| run_matches(run, r)) {
                    continue;
                }
                let what = format!("a matching run starts {}", window_words(window));
                // The runs worth comparing: those of the same level in the window, else every run.
                let same_level: Vec<&RunRecord> =
                    in_window.iter().copied().filter(|r| run.level.is_none_or(|l| l == r.level)).collect();
                let shown: Vec<&RunRecord> = if same_level.is_empty() { sim.runs.iter().collect() } else { same_level };
                let mut actual: Vec<String> = shown.iter().map(|r| describe_run(r)).collect();
                if actual.is_empty() {
                    actual.push("no run at all".to_string());
                } else if in_window.is_empty() {
                    actual.insert(0, format!("no run {}; the runs were:", window_words(window)));
                }
                let from = shown.iter().map(|r| r.t_ms).chain([window.from_ms]).min().unwrap_or(0);
                let to = shown.iter().map(|r| r.end_ms).chain(window.to_ms).max();
                out.push(fail(what, vec![describe_matcher(run)], actual, (from - before, to.map(|t| t + after))));
            }
            Expect::Runs { runs, window } => {
                let in_window: Vec<&RunRecord> = sim.runs.iter().filter(|r| window.contains(r.t_ms)).collect();
                if in_window.len() == runs.len() && runs.iter().zip(&in_window).all(|(m, r)| run_matches(m, r)) {
                    continue;
                }
                let what = match runs.len() {
                    1 => format!("exactly 1 run starts {}, as listed", window_words(window)),
                    n => format!("exactly {n} runs start {}, as listed", window_words(window)),
                };
                let mut actual: Vec<String> = in_window.iter().map(|r| describe_run(r)).collect();
                if actual.is_empty() {
                    actual.push(format!("no run {}", window_words(window)));
                }
                let expected = if runs.is_empty() {
                    vec![format!("no run {}", window_words(window))]
                } else {
                    runs.iter().map(describe_matcher).collect()
                };
                let to = in_window.iter().map(|r| r.end_ms).chain(window.to_ms).max();
                out.push(fail(what, expected, actual, (window.from_ms - interval, to.map(|t| t + after))));
            }
            Expect::NoRun { level, window } => {
                let bad: Vec<&RunRecord> =
                    sim.runs.iter().filter(|r| window.contains(r.t_ms) && level.is_none_or(|l| l == r.level)).collect();
                if bad.is_empty() {
                    continue;
                }
                let of = level.map(|l| format!(" of level {l}")).unwrap_or_default();
                let what = format!("no run{of} starts {}", window_words(window));
                let expected = vec![format!("no run{of} {}", window_words(window))];
                let actual = bad.iter().map(|r| describe_run(r)).collect();
                let to = bad.iter().map(|r| r.end_ms).chain(window.to_ms).max();
                out.push(fail(what, expected, actual, (window.from_ms - interval, to.map(|t| t + after))));
            }
            Expect::NoFiring { trigger, window } => {
                let names: Vec<String> = match trigger {
                    Some(t) => vec![t.clone()],
                    None => {
                        let mut n: Vec<String> = sim.transitions.iter().map(|t| t.trigger.clone()).collect();
                        n.sort();
                        n.dedup();
                        n
                    }
                };
                let mut actual = Vec::new();
                for name in &names {
                    for (t, s) in states.over(name, None, window) {
                        if s == TriggerState::Firing {
                            actual.push(format!("{}  trigger {name}  firing", clock(t)));
                        }
                    }
                }
                if actual.is_empty() {
                    continue;
                }
                actual.sort();
                let who = trigger.as_ref().map_or_else(|| "no trigger is".to_string(), |t| format!("`{t}` is not"));
                let what = format!("{who} firing {}", window_words(window));
                let expected = vec![what.clone()];
                out.push(fail(what, expected, actual, around(window)));
            }
        }
    }
    out
}

/// The lines of a simulation timeline (`simulate::to_text`) whose time is in `[from, to]`, at most `max`
/// of them (the first and last halves, with a note in between).
pub fn timeline_slice(timeline: &str, from_ms: i64, to_ms: Option<i64>, max: usize) -> Vec<String> {
    let lines: Vec<&str> = timeline
        .lines()
        .filter(|l| {
            let Some(rest) = l.strip_prefix("  ") else { return false };
            let stamp = rest.split_whitespace().next().unwrap_or_default();
            parse_clock(stamp).is_some_and(|t| t >= from_ms && to_ms.is_none_or(|to| t <= to))
        })
        .collect();
    if lines.len() <= max {
        return lines.into_iter().map(|l| l.trim_start().to_string()).collect();
    }
    let half = max / 2;
    let mut out: Vec<String> = lines[..half].iter().map(|l| l.trim_start().to_string()).collect();
    out.push(format!("... {} more lines ...", lines.len() - 2 * half));
    out.extend(lines[lines.len() - half..].iter().map(|l| l.trim_start().to_string()));
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "a failing unwrap is a failing test")]
mod tests {
    use super::*;

    #[test]
    fn clock_round_trips() {
        for t in [0, 15_000, 3_599_000, 3_600_500, 359_999_000, 360_000_000, 360_000_250] {
            assert_eq!(parse_clock(&clock(t)), Some(t), "{}", clock(t));
        }
        assert_eq!(clock(90_000), "00:01:30");
        assert_eq!(parse_clock("simulation"), None);
        assert_eq!(parse_clock("1:2:3"), None);
        assert_eq!(parse_clock("00:00:01.5"), None);
    }

    #[test]
    fn slices_keep_lines_in_the_window() {
        let text = "simulation of runbook `r` from 00:00:00 to 00:05:00, evaluating every 15s\n\n  00:00:15  a\n  00:01:00  b\n  00:02:00  c\n\nsummary: none\n";
        assert_eq!(timeline_slice(text, 15_000, Some(60_000), 10), vec!["00:00:15  a", "00:01:00  b"]);
        assert_eq!(timeline_slice(text, 60_000, None, 10), vec!["00:01:00  b", "00:02:00  c"]);
        assert_eq!(timeline_slice(text, 0, None, 2), vec!["00:00:15  a", "... 1 more lines ...", "00:02:00  c"]);
    }
}
