//! Level runs per series: one lane per label set, `max parallel`, a waiting series, verify per series.

#![allow(clippy::unwrap_used, reason = "a failing unwrap is a failing test")]

use super::{SimulateOptions, simulate};
use crate::plan::{Labels, Plan};
use crate::source::{Series, SeriesSet};

fn plan(text: &str, max_parallel: u32) -> Plan {
    let mut plan = crate::compile(text).plan.unwrap();
    for level in &mut plan.levels {
        level.max_parallel = max_parallel;
    }
    plan
}

/// `usage{instance=NAME}` crossing 0.9 at the given second and staying above until `until`.
fn series(crossings: &[(&str, i64, i64)]) -> SeriesSet {
    let mut set = SeriesSet::default();
    for (instance, at, until) in crossings {
        let t: Vec<i64> = (0..=40).map(|k| k * 15_000).collect();
        let v = t.iter().map(|&t| if t >= at * 1000 && t < until * 1000 { 0.95 } else { 0.5 }).collect();
        set.insert("usage", Series { labels: Labels::from_pairs([("instance", *instance)]), t_ms: t, v });
    }
    set
}

const RUNBOOK: &str = r#"runbook disk {
  trigger full: usage > 0.9 -> level 1
  level 1 {
    step shell "clean" timeout 10s
    step wait 2m
  }
}"#;

fn brief(sim: &super::Simulation) -> Vec<(i64, String)> {
    sim.runs.iter().map(|r| (r.t_ms / 1000, r.labels.to_string())).collect()
}

#[test]
fn each_firing_series_gets_its_own_run_up_to_max_parallel() {
    let set = series(&[("a", 30, 600), ("b", 60, 600), ("c", 90, 600)]);
    let sim = simulate(&plan(RUNBOOK, 2), &set, &SimulateOptions::default());
    // a and b run at once; c waits for a's slot (a ends at 30 + 120 = 150) and starts then.
    assert_eq!(
        brief(&sim),
        [(30, r#"{instance="a"}"#.into()), (60, r#"{instance="b"}"#.into()), (150, r#"{instance="c"}"#.into())]
    );
    assert!(sim.notes.iter().any(|n| n.t_ms == 90_000 && n.text.contains("so it waits")), "{:?}", sim.notes);
}

#[test]
fn a_waiting_series_that_stops_firing_never_runs() {
    // c fires at 90 s and stops at 120 s, before a slot frees at 150 s.
    let set = series(&[("a", 30, 600), ("c", 90, 120)]);
    let sim = simulate(&plan(RUNBOOK, 1), &set, &SimulateOptions::default());
    assert_eq!(brief(&sim), [(30, r#"{instance="a"}"#.into())]);
    assert!(sim.notes.iter().any(|n| n.text.contains("no longer fires")), "{:?}", sim.notes);
}

#[test]
fn the_same_series_never_runs_twice_at_once_and_cools_down_alone() {
    let text = RUNBOOK.replace("step wait 2m", "step wait 2m\n    cooldown 10m");
    // a fires, resolves and fires again within its cooldown; b fires meanwhile and runs at once.
    let mut set = series(&[("b", 200, 600)]);
    let t: Vec<i64> = (0..=40).map(|k| k * 15_000).collect();
    let v = t
        .iter()
        .map(|&t| if (30_000..60_000).contains(&t) || (300_000..400_000).contains(&t) { 0.95 } else { 0.5 })
        .collect();
    set.insert("usage", Series { labels: Labels::from_pairs([("instance", "a")]), t_ms: t, v });
    let sim = simulate(&plan(&text, 5), &set, &SimulateOptions::default());
    assert_eq!(brief(&sim), [(30, r#"{instance="a"}"#.into()), (210, r#"{instance="b"}"#.into())]);
    assert!(sim.notes.iter().any(|n| n.t_ms == 300_000 && n.text.contains("cooling down")), "{:?}", sim.notes);
}

#[test]
fn a_verify_in_a_run_checks_the_runs_own_series() {
    let text = r#"runbook disk {
  trigger full: usage > 0.9 -> level 1
  level 1 {
    step verify usage < 0.9 within 1m
  }
}"#;
    // a recovers 30 s after its run starts; b never does. Each run's verify looks at its own series.
    let set = series(&[("a", 30, 60), ("b", 30, 600)]);
    let sim = simulate(&plan(text, 5), &set, &SimulateOptions::default());
    let outcomes: Vec<(String, super::RunOutcome)> =
        sim.runs.iter().map(|r| (r.labels.to_string(), r.outcome)).collect();
    assert_eq!(
        outcomes,
        [
            (r#"{instance="a"}"#.to_string(), super::RunOutcome::Succeeded),
            (r#"{instance="b"}"#.to_string(), super::RunOutcome::Failed)
        ]
    );
}

/// `usage` above 0.9 from 30s; from 60s the verify sees it below at 60, above at 75, below from 90 on.
fn flapping() -> SeriesSet {
    let mut set = SeriesSet::default();
    let t: Vec<i64> = (0..=40).map(|k| k * 15_000).collect();
    let v = t.iter().map(|&t| if t == 30_000 || t == 45_000 || t == 75_000 { 0.95 } else { 0.5 }).collect();
    set.insert("usage", Series { labels: Labels::empty(), t_ms: t, v });
    set
}

const VERIFY: &str = r#"runbook disk {
  trigger full: usage > 0.9 -> level 1
  level 1 {
    step wait 30s
    step verify usage < 0.9 within 2m every 15s
  }
}"#;

/// The verify step of the first run: (start s, end s, passed, detail).
fn verify_step(consecutive: u32) -> (i64, i64, bool, String) {
    let mut plan = plan(VERIFY, 1);
    for level in &mut plan.levels {
        for step in &mut level.steps {
            if let crate::plan::Action::VerifyCondition { consecutive: c, .. } = &mut step.action {
                *c = consecutive;
            }
        }
    }
    let sim = simulate(&plan, &flapping(), &SimulateOptions::default());
    let step = sim.runs[0].steps.iter().find(|s| s.kind.contains("verify")).unwrap();
    (step.t_ms / 1000, step.end_ms / 1000, step.outcome == super::StepOutcome::Ok, step.detail.clone())
}

#[test]
fn verify_for_n_consecutive_passes_at_the_nth_passing_check_in_a_row() {
    // The run starts at 30s; the verify checks from 60s: below (1), above at 75s (reset), below from 90s.
    let (start, end, ok, _) = verify_step(1);
    assert_eq!((start, end, ok), (60, 60, true));
    let (_, end, ok, detail) = verify_step(3);
    assert_eq!((end, ok), (120, true), "{detail}");
    assert!(detail.contains("3 checks in a row"), "{detail}");
    // Nine in a row cannot happen within 2m (60s to 180s is nine checks, one of them failing).
    let (_, end, ok, detail) = verify_step(9);
    assert_eq!((end, ok), (180, false), "{detail}");
}
