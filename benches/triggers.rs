//! Trigger evaluation throughput: 100 triggers (`x_i > 5 for 1m`), each over its own series of 1,000
//! samples at 15s, evaluated every 15s (100,000 evaluations per run). Reports evaluations per second:
//! criterion's `thrpt` line (elements are evaluations), and a plain line printed first under `cargo bench`.
//!
//! `core` is the compiled condition plus the state machine, walking forward (what `simulate` does per
//! trigger); `evaluate_triggers` adds building the transition records.
//!
//! Trigger kinds: the state machine alone over 1,000,000 evaluations of one series, for `for D` and for
//! each newer form (`for N of M`, `clear when`, `on no data keep`).
//!
//! Per series: one trigger over a metric of 10,000 series (100 samples each at 15s, so 1,000,000 series
//! evaluations per run), as a threshold (`usage > 0.9 for 1m`) and as a join guarded per host
//! (`usage > 0.9 and on(instance) readonly == 0`, usage per (instance, mountpoint), readonly per instance),
//! each through `evaluate_triggers` (one machine per series). Reports series evaluations per second.

use std::hint::black_box;
use std::time::Instant;

use criterion::{Criterion, Throughput, criterion_group};
use ripcord::eval::{
    CompiledCondition, PromVersion, SeriesMachines, TriggerMachine, evaluate_triggers, evaluation_times,
};
use ripcord::plan::{CmpOp, Condition, Hold, Labels, PLAN_FORMAT, Plan, Shapes, Target, Trigger, Value};
use ripcord::source::{Series, SeriesSet, TimeBase};

const TRIGGERS: usize = 100;
const SAMPLES: usize = 1_000;
const STEP_MS: i64 = 15_000;
const EVALUATIONS: u64 = (TRIGGERS * SAMPLES) as u64;

/// Slow waves around the threshold with a little noise, so triggers go pending and fire now and then.
fn series() -> SeriesSet {
    let mut set = SeriesSet { time_base: TimeBase::Seconds, ..SeriesSet::default() };
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    for i in 0..TRIGGERS {
        let mut s = Series::default();
        for k in 0..SAMPLES {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let noise = (state % 1000) as f64 / 1000.0 - 0.5;
            s.t_ms.push(k as i64 * STEP_MS);
            s.v.push(5.0 + 3.0 * ((k as f64) / 40.0 + i as f64).sin() + noise);
        }
        set.insert(format!("x{i:03}"), s);
    }
    set
}

fn plan() -> Plan {
    let triggers = (0..TRIGGERS)
        .map(|i| {
            let metric = format!("x{i:03}");
            let condition = Condition::Compare {
                op: CmpOp::Gt,
                lhs: Value::Metric { name: metric.clone(), offset_ms: 0 },
                rhs: Value::Number { value: 5.0 },
                matching: None,
            };
            Trigger {
                name: format!("t{i:03}"),
                generated_name: false,
                condition_text: condition.to_string(),
                condition,
                hold: Hold::For { ms: 60_000 },
                keep_firing_for_ms: 0,
                target: Target::Level { level: 1 },
                metrics: vec![metric],
                shape: Default::default(),
                alert: None,
                labels: Vec::new(),
                annotations: Vec::new(),
                clear_when: None,
                on_no_data: Default::default(),
            }
        })
        .collect();
    Plan {
        format: PLAN_FORMAT,
        runbook: "bench".into(),
        description: None,
        owner: None,
        evaluation_interval_ms: STEP_MS as u64,
        evaluation_interval_default: false,
        files_under: Vec::new(),
        channels: Vec::new(),
        metrics: Vec::new(),
        triggers,
        levels: Vec::new(),
        escalations: Vec::new(),
        max_series: 1000,
        max_series_default: true,
    }
}

const END_MS: i64 = (SAMPLES as i64 - 1) * STEP_MS;

/// Every trigger over its series through the compiled condition and the state machine; returns the
/// number of transitions (so the work cannot be optimised away).
fn core(plan: &Plan, set: &SeriesSet) -> usize {
    let mut transitions = 0;
    let shapes = Shapes::new(&plan.metrics);
    for trigger in &plan.triggers {
        let mut condition = CompiledCondition::compile(&trigger.condition, &shapes, set, PromVersion::default());
        let mut machine = TriggerMachine::new(trigger);
        for t in evaluation_times(0, END_MS, STEP_MS as u64) {
            let holds = condition.holds_forward(t);
            transitions += usize::from(machine.observe(t, holds).is_some());
        }
    }
    transitions
}

fn bench(c: &mut Criterion) {
    let (plan, set) = (plan(), series());
    let mut group = c.benchmark_group("triggers_100x1000");
    group.throughput(Throughput::Elements(EVALUATIONS));
    group.bench_function("core", |b| b.iter(|| core(black_box(&plan), black_box(&set))));
    group.bench_function("evaluate_triggers", |b| {
        b.iter(|| {
            evaluate_triggers(black_box(&plan), black_box(&set), 0, END_MS, STEP_MS as u64, PromVersion::default())
                .0
                .len()
        })
    });
    group.finish();
}

/// Millions of `elements` per second over `rounds` runs of `run`, after one run to warm up.
fn millions_per_second(elements: u64, rounds: u64, run: impl Fn() -> usize) -> f64 {
    black_box(run());
    let started = Instant::now();
    for _ in 0..rounds {
        black_box(run());
    }
    (elements * rounds) as f64 / started.elapsed().as_secs_f64() / 1e6
}

/// A plain measurement, printed before criterion's, in the unit the target is stated in.
fn report() {
    let (plan, set) = (plan(), series());
    for (name, run) in [
        ("core", &(|| core(&plan, &set)) as &dyn Fn() -> usize),
        ("evaluate_triggers", &|| {
            evaluate_triggers(&plan, &set, 0, END_MS, STEP_MS as u64, PromVersion::default()).0.len()
        }),
    ] {
        let rate = millions_per_second(EVALUATIONS, 200, run);
        println!("{name}: {rate:.1} million trigger evaluations per second");
    }
}

/// The same 100 x 1,000 workload through `evaluate_triggers` (compiled condition, the `clear when` and
/// no-data look-ups, one machine per series, records) with each trigger of the given kind.
fn kind_plan(kind: &str) -> Plan {
    let mut plan = plan();
    for trigger in &mut plan.triggers {
        match kind {
            "for 3 of 5" => trigger.hold = Hold::OfLast { n: 3, m: 5 },
            "clear when x < 4" => {
                let metric = trigger.metrics[0].clone();
                let condition = Condition::Compare {
                    op: CmpOp::Lt,
                    lhs: Value::Metric { name: metric.clone(), offset_ms: 0 },
                    rhs: Value::Number { value: 4.0 },
                    matching: None,
                };
                trigger.clear_when = Some(ripcord::plan::ClearWhen {
                    condition_text: condition.to_string(),
                    condition,
                    metrics: vec![metric],
                });
            }
            "on no data keep" => trigger.on_no_data = ripcord::plan::NoData::Keep,
            _ => {}
        }
    }
    plan
}

fn report_kinds_end_to_end() {
    let set = series();
    for kind in ["for 1m", "for 3 of 5", "clear when x < 4", "on no data keep"] {
        let plan = kind_plan(kind);
        let run = || evaluate_triggers(&plan, &set, 0, END_MS, STEP_MS as u64, PromVersion::default()).0.len();
        let rate = millions_per_second(EVALUATIONS, 100, run);
        println!("evaluate_triggers, {kind}: {rate:.1} million trigger evaluations per second");
    }
}

const SERIES: usize = 10_000;
const SERIES_SAMPLES: usize = 100;
const SERIES_EVALUATIONS: u64 = (SERIES * SERIES_SAMPLES) as u64;

/// `usage{instance, mountpoint}` (10,000 series: 2,500 hosts x 4 mounts) wandering around 0.9, and
/// `readonly{instance}`, 1 on every tenth host.
fn wide_series() -> SeriesSet {
    let mut set = SeriesSet { time_base: TimeBase::Seconds, ..SeriesSet::default() };
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let times: Vec<i64> = (0..SERIES_SAMPLES as i64).map(|k| k * STEP_MS).collect();
    for i in 0..SERIES {
        let (host, mount) = (i / 4, i % 4);
        let v = (0..SERIES_SAMPLES)
            .map(|k| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                0.9 + 0.05 * ((k as f64) / 9.0 + i as f64).sin() + ((state % 100) as f64 / 10_000.0)
            })
            .collect();
        let labels =
            Labels::from_pairs([("instance", format!("host-{host:04}")), ("mountpoint", format!("/m{mount}"))]);
        set.insert("usage", Series { labels, t_ms: times.clone(), v });
    }
    for host in 0..SERIES / 4 {
        let labels = Labels::from_pairs([("instance", format!("host-{host:04}"))]);
        let v = vec![if host % 10 == 0 { 1.0 } else { 0.0 }; SERIES_SAMPLES];
        set.insert("readonly", Series { labels, t_ms: times.clone(), v });
    }
    set
}

fn wide_plan(text: &str) -> Plan {
    let runbook = format!(
        "runbook wide {{\n  evaluate every 15s\n  trigger t: {text} for 1m -> level 1\n  level 1 {{ step shell \"true\" }}\n}}\n"
    );
    ripcord::compile(&runbook).plan.unwrap_or_else(|| panic!("the benchmark's runbook compiles: {runbook}"))
}

const WIDE: [(&str, &str); 2] = [("threshold", "usage > 0.9"), ("join", "usage > 0.9 and on(instance) readonly == 0")];

fn wide_end() -> i64 {
    (SERIES_SAMPLES as i64 - 1) * STEP_MS
}

fn bench_wide(c: &mut Criterion) {
    let set = wide_series();
    let mut group = c.benchmark_group("triggers_10000_series");
    group.throughput(Throughput::Elements(SERIES_EVALUATIONS));
    group.sample_size(10);
    for (name, text) in WIDE {
        let plan = wide_plan(text);
        group.bench_function(name, |b| {
            b.iter(|| {
                evaluate_triggers(
                    black_box(&plan),
                    black_box(&set),
                    0,
                    wide_end(),
                    STEP_MS as u64,
                    PromVersion::default(),
                )
                .0
                .len()
            })
        });
    }
    group.finish();
}

fn report_wide() {
    let set = wide_series();
    for (name, text) in WIDE {
        let plan = wide_plan(text);
        let run = || evaluate_triggers(&plan, &set, 0, wide_end(), STEP_MS as u64, PromVersion::default()).0.len();
        let rate = millions_per_second(SERIES_EVALUATIONS, 10, run);
        println!("10,000 series, {name}: {rate:.1} million series evaluations per second");
    }
}

/// What `watch` does per evaluation for 1,000 runbooks of one per-series trigger over 100 series each
/// (the query answers already in memory): compile each condition over its runbook's answer, evaluate it,
/// and feed one machine per series, keyed by labels. Returns the time one whole evaluation round takes.
fn watch_round(plans: &[Plan], sets: &[SeriesSet], machines: &mut [SeriesMachines<Labels>], t: i64) -> usize {
    let mut changes = 0;
    let mut out = Vec::new();
    for ((plan, set), m) in plans.iter().zip(sets).zip(machines.iter_mut()) {
        let shapes = Shapes::new(&plan.metrics);
        let Some(trigger) = plan.triggers.first() else { continue };
        let compiled = CompiledCondition::compile(&trigger.condition, &shapes, set, PromVersion::default());
        let keys: Vec<Labels> = match compiled.hits_at(t) {
            Ok(hits) => hits.iter().map(|h| compiled.labels(h.series).clone()).collect(),
            Err(_) => continue,
        };
        out.clear();
        m.observe(t, Some(&keys), &mut out);
        changes += out.len();
    }
    changes
}

fn report_watch() {
    const RUNBOOKS: usize = 1_000;
    const PER_RUNBOOK: usize = 100;
    let plan = wide_plan("usage > 0.9");
    let plans: Vec<Plan> = (0..RUNBOOKS).map(|_| plan.clone()).collect();
    // Each runbook's answer: 100 series with 21 samples (the 5m lookback at 15s), as a query_range brings.
    let sets: Vec<SeriesSet> = (0..RUNBOOKS)
        .map(|r| {
            let mut set = SeriesSet::default();
            for i in 0..PER_RUNBOOK {
                let labels = Labels::from_pairs([("instance", format!("r{r}-h{i}"))]);
                let t: Vec<i64> = (0..21).map(|k| k * STEP_MS).collect();
                let v = (0..21).map(|k| if (i + k) % 7 == 0 { 0.95 } else { 0.5 }).collect();
                set.insert("usage", Series { labels, t_ms: t, v });
            }
            set
        })
        .collect();
    let mut machines: Vec<SeriesMachines<Labels>> =
        plans.iter().filter_map(|p| p.triggers.first()).map(SeriesMachines::new).collect();
    let rounds = 20;
    let started = Instant::now();
    for k in 0..rounds {
        black_box(watch_round(&plans, &sets, &mut machines, 20 * STEP_MS + k));
    }
    let per_round = started.elapsed().as_secs_f64() / rounds as f64;
    println!(
        "watch, 1,000 runbooks x 100 series: {:.1} ms per evaluation round (queries answered), {:.1} million series per second",
        per_round * 1e3,
        (RUNBOOKS * PER_RUNBOOK) as f64 / per_round / 1e6
    );
}

const KIND_EVALUATIONS: usize = 1_000_000;

/// Inputs for the machine alone: runs of true and false, with a run of no data now and then.
fn kind_inputs() -> Vec<(bool, bool, bool)> {
    let mut state: u64 = 0x51_7cc1_b727_220a;
    let (mut cond, mut clear, mut no_data) = (false, false, 0u32);
    (0..KIND_EVALUATIONS)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            if state.is_multiple_of(8) {
                cond = !cond;
            }
            if state.is_multiple_of(11) {
                clear = !clear;
            }
            if no_data == 0 && state.is_multiple_of(97) {
                no_data = 3;
            }
            no_data = no_data.saturating_sub(1);
            (cond, clear, no_data > 0)
        })
        .collect()
}

/// The machine alone, one series: `for 1m`, `for 3 of 5`, `clear when` (with `for 1m`), `on no data keep`
/// (with `for 1m`). Returns the number of transitions.
fn kind_run(kind: &str, inputs: &[(bool, bool, bool)]) -> usize {
    let hold = if kind == "for N of M" { Hold::OfLast { n: 3, m: 5 } } else { Hold::For { ms: 60_000 } };
    let mut m = TriggerMachine::with_hold(hold, 0).on_no_data(ripcord::plan::NoData::Keep);
    let mut n = 0;
    let t = |i: usize| i as i64 * STEP_MS;
    match kind {
        "clear when" => {
            for (i, &(cond, clear, _)) in inputs.iter().enumerate() {
                n += usize::from(m.observe_clear_when(t(i), cond, clear).is_some());
            }
        }
        "on no data keep" => {
            for (i, &(cond, _, no_data)) in inputs.iter().enumerate() {
                let tr = if no_data { m.observe_no_data(t(i)) } else { m.observe(t(i), Some(cond)) };
                n += usize::from(tr.is_some());
            }
        }
        _ => {
            for (i, &(cond, _, _)) in inputs.iter().enumerate() {
                n += usize::from(m.observe(t(i), Some(cond)).is_some());
            }
        }
    }
    n
}

const KINDS: [&str; 4] = ["for D", "for N of M", "clear when", "on no data keep"];

fn bench_kinds(c: &mut Criterion) {
    let inputs = kind_inputs();
    let mut group = c.benchmark_group("trigger_kinds");
    group.throughput(Throughput::Elements(KIND_EVALUATIONS as u64));
    for kind in KINDS {
        group.bench_function(kind, |b| b.iter(|| kind_run(black_box(kind), black_box(&inputs))));
    }
    group.finish();
}

fn report_kinds() {
    let inputs = kind_inputs();
    for kind in KINDS {
        let rate = millions_per_second(KIND_EVALUATIONS as u64, 50, || kind_run(black_box(kind), &inputs));
        println!("state machine alone, {kind}: {rate:.1} million evaluations per second");
    }
}

criterion_group!(benches, bench, bench_wide, bench_kinds);

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` runs each benchmark once, quietly.
    if std::env::args().any(|a| a == "--bench") {
        report();
        report_wide();
        report_watch();
        report_kinds();
        report_kinds_end_to_end();
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}
