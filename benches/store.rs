//! Journal append latency and run-start latency: the PostgreSQL store against the state dir, side by side in
//! one run (docs/benchmarks.md). Each store gets the same work: `RUNS` run starts (the lock of a new label
//! set with its level's `max parallel` counted, the start record written durably, the lock released), and
//! `APPENDS` appends of a step record to one open journal. Prints p50, p90, p99 and the mean per store.
//!
//! The PostgreSQL store is the one `RIPCORD_BENCH_PG` names (benches/store.sh starts a throwaway server with
//! PostgreSQL's default durability: fsync and synchronous_commit on); without it only the state dir is
//! measured. The state dir fsyncs every record, as `ripcord run` does.

use std::sync::Arc;
use std::time::{Duration, Instant};

use ripcord::plan::Labels;
use ripcord::runs::{Claim, Event, LeaseSettings, LevelSlot, RunStore, StoreOptions, open_store};

const RUNS: usize = 300;
const APPENDS: usize = 1000;

fn start_event(plan: &ripcord::plan::Plan, run_id: &str, labels: &Labels) -> Event {
    Event::Start {
        run_id: run_id.into(),
        runbook: plan.runbook.clone(),
        runbook_path: "bench.runbook".into(),
        workdir: ".".into(),
        level: 1,
        labels: labels.clone(),
        operator: "bench".into(),
        reason: "bench".into(),
        yes: true,
        prometheus: None,
        plan_hash: "0".into(),
        plan: Box::new(plan.clone()),
        pid: std::process::id(),
        version: "bench".into(),
    }
}

fn percentiles(name: &str, what: &str, mut samples: Vec<Duration>) {
    samples.sort();
    let at = |q: f64| samples[((samples.len() as f64 - 1.0) * q).round() as usize];
    let mean = samples.iter().sum::<Duration>() / samples.len() as u32;
    println!(
        "{name:<10} {what:<15} n={:<5} p50 {:>8.3} ms  p90 {:>8.3} ms  p99 {:>8.3} ms  mean {:>8.3} ms",
        samples.len(),
        at(0.5).as_secs_f64() * 1e3,
        at(0.9).as_secs_f64() * 1e3,
        at(0.99).as_secs_f64() * 1e3,
        mean.as_secs_f64() * 1e3
    );
}

fn measure(name: &str, store: Arc<dyn RunStore>) {
    let plan =
        ripcord::compile("runbook bench {\n  level 1 {\n    max parallel 10000\n    step shell \"true\"\n  }\n}\n")
            .plan
            .expect("the bench runbook compiles");
    store.prepare().expect("prepare");
    let prefix = format!("bench-{}-{}", name.replace(' ', "_"), std::process::id());
    // Run starts: lock (level counted), start record, lock released.
    let mut starts = Vec::with_capacity(RUNS);
    for i in 0..RUNS {
        let run_id = format!("{prefix}-{i}");
        let labels = Labels::from_pairs([("instance", i.to_string())]);
        let start = start_event(&plan, &run_id, &labels);
        let t = Instant::now();
        let claim = Claim {
            runbook: "bench",
            labels: &labels,
            run_id: &run_id,
            level: Some(LevelSlot { level: 1, max_parallel: 10_000 }),
            start_key: None,
            start: Some(&start),
        };
        let lock = store.lock_run(&claim).expect("lock");
        if !store.shared() {
            let mut j = store.create_run(&run_id).expect("create");
            j.append(start.clone()).expect("append the start record");
        }
        starts.push(t.elapsed());
        let mut j = store.reopen_run(&run_id).expect("reopen");
        j.append(Event::End { status: "succeeded".into(), reason: "bench".into() }).expect("end");
        drop(lock);
    }
    percentiles(name, "run start", starts);
    // Appends to one run's journal, as a step's start and end records are.
    let run_id = format!("{prefix}-appends");
    let labels = Labels::from_pairs([("instance", "appends")]);
    let start = start_event(&plan, &run_id, &labels);
    let claim =
        Claim { runbook: "bench", labels: &labels, run_id: &run_id, level: None, start_key: None, start: Some(&start) };
    let _lock = store.lock_run(&claim).expect("lock");
    let mut j = if store.shared() {
        store.reopen_run(&run_id).expect("reopen")
    } else {
        let mut j = store.create_run(&run_id).expect("create");
        j.append(start).expect("start");
        j
    };
    let mut appends = Vec::with_capacity(APPENDS);
    for i in 0..APPENDS {
        let event = Event::StepStart {
            level: 1,
            attempt: 1,
            step: format!("L1.S{i}"),
            kind: "shell".into(),
            detail: "echo bench".into(),
            idempotent: false,
            rerun: false,
        };
        let t = Instant::now();
        j.append(event).expect("append");
        appends.push(t.elapsed());
    }
    percentiles(name, "journal append", appends);
}

fn main() {
    let dir = tempfile::Builder::new().prefix("ripcord-bench").tempdir_in(".").expect("temp dir");
    let local = open_store(&StoreOptions::state_dir(dir.path())).expect("state dir");
    measure("state dir", local);
    match std::env::var("RIPCORD_BENCH_PG") {
        Ok(url) => {
            let pg = open_store(&StoreOptions {
                store: Some(url),
                lease: LeaseSettings::default(),
                takeover: true,
                ..StoreOptions::state_dir(dir.path())
            })
            .expect("the PostgreSQL store");
            measure("postgres", pg);
        }
        Err(_) => println!("postgres: RIPCORD_BENCH_PG is not set (benches/store.sh sets it); not measured"),
    }
}
