//! The fault test of replicas on a shared PostgreSQL store (docs/ha.md): three `watch` replicas, trial after
//! trial a run started through one of them (an idempotency key per trial), and one fault injected mid-run at
//! a random moment: SIGKILL of the replica holding the run together with its step's process group (the
//! replica is started again), SIGSTOP of the holder past its lease then SIGCONT, or a restart of PostgreSQL.
//! After each trial: the trial started exactly one run; no step that is not `idempotent` ran twice (each
//! step appends the run's id to a marker file), the idempotent one ran at least once; the run ended, or
//! waited for a person (then `ripcord resume --skip` finished it); its journal reads back whole.
//!
//! `RIPCORD_FAULT_TRIALS` sets the number of trials (50 by default); `RIPCORD_FAULT_SEED` the seed.

mod support;

use std::path::Path;
use std::time::{Duration, Instant};

use support::Rng;
use support::postgres::{Postgres, events, records, replica, runs, signal, wait_until};
use support::watch::Watch;

const RUNBOOK: &str = "runbook ha {\n  level 1 {\n    \
    step shell \"echo $$ > cur.pid; echo ${run_id} >> m1\"\n    \
    step shell \"echo $$ > cur.pid; echo ${run_id} >> m2; sleep 0.4\" idempotent\n    \
    step shell \"echo $$ > cur.pid; echo ${run_id} >> m3; sleep 0.4\"\n    \
    step shell \"echo $$ > cur.pid; echo ${run_id} >> m4\"\n  }\n}\n";

/// How many lines of `books/name` are `run_id`.
fn marks(books: &Path, name: &str, run_id: &str) -> usize {
    std::fs::read_to_string(books.join(name)).map(|t| t.lines().filter(|l| *l == run_id).count()).unwrap_or(0)
}

fn status_of(d: &Path, url: &str, id: &str) -> String {
    runs(d, url).iter().find(|r| r["id"] == id).and_then(|r| r["status"].as_str()).unwrap_or("?").to_string()
}

#[derive(Default, Debug)]
struct Counts {
    kills: usize,
    pauses: usize,
    restarts: usize,
    ended: usize,
    waited_for_a_person: usize,
    takeovers: usize,
    idempotent_reruns: usize,
}

#[test]
fn replicas_survive_kills_pauses_and_store_restarts() {
    let Some(mut pg) = Postgres::start("replicas_survive_kills_pauses_and_store_restarts") else { return };
    let trials: usize = std::env::var("RIPCORD_FAULT_TRIALS").ok().and_then(|v| v.parse().ok()).unwrap_or(50);
    let seed: u64 = std::env::var("RIPCORD_FAULT_SEED").ok().and_then(|v| v.parse().ok()).unwrap_or(20261205);
    let mut rng = Rng::new(seed);
    let dir = support::temp_dir();
    let d = dir.path();
    let books = d.join("books");
    std::fs::create_dir(&books).expect("mkdir");
    std::fs::write(books.join("ha.runbook"), RUNBOOK).expect("write");
    let url = pg.url();
    let prom = "http://127.0.0.1:9";
    let mut names: Vec<String> = vec!["a".into(), "b".into(), "c".into()];
    let mut replicas: Vec<Watch> = names.iter().map(|n| replica(d, &url, n, prom)).collect();
    let mut counts = Counts::default();
    let began = Instant::now();
    for trial in 0..trials {
        let at = rng.below(3);
        let body = format!(
            r#"{{"runbook":"ha","level":1,"operator":"fault","reason":"trial {trial}","idempotency_key":"t{trial}"}}"#
        );
        let (code, v) = replicas[at].post("/api/runs", Some("s3cret"), &body);
        assert_eq!(code, 201, "trial {trial}: {v}\n{}", replicas[at].text());
        let id = v["id"].as_str().expect("run id").to_string();
        // A retried request (same key) to another replica starts nothing more.
        let (code, again) = replicas[(at + 1) % 3].post("/api/runs", Some("s3cret"), &body);
        assert_eq!((code, again["result"].as_str()), (200, Some("duplicate")), "trial {trial}: {again}");
        std::thread::sleep(Duration::from_millis(rng.below(900) as u64));
        match rng.below(3) {
            0 => {
                // The holder dies with its step's process group.
                let holder = pg.sql(&format!("SELECT holder FROM ripcord_leases WHERE run_id = '{id}'"));
                if let Some(i) = names.iter().position(|n| *n == holder) {
                    counts.kills += 1;
                    signal(i64::from(replicas[i].child.id() as i32), "KILL");
                    if let Some(g) =
                        std::fs::read_to_string(books.join("cur.pid")).ok().and_then(|t| t.trim().parse::<i64>().ok())
                    {
                        signal(-g, "KILL");
                    }
                    let _ = replicas[i].child.wait();
                    names[i] = format!("{}~{trial}", &names[i][..1]);
                    replicas[i] = replica(d, &url, &names[i], prom);
                }
            }
            1 => {
                // The holder is paused past its lease, then let go.
                let holder = pg.sql(&format!("SELECT holder FROM ripcord_leases WHERE run_id = '{id}'"));
                if let Some(i) = names.iter().position(|n| *n == holder) {
                    counts.pauses += 1;
                    let pid = i64::from(replicas[i].child.id() as i32);
                    signal(pid, "STOP");
                    std::thread::sleep(Duration::from_millis(1600));
                    signal(pid, "CONT");
                }
            }
            _ => {
                counts.restarts += 1;
                pg.stop();
                std::thread::sleep(Duration::from_millis(300));
                pg.run();
            }
        }
        let deadline = Instant::now() + Duration::from_secs(30);
        let mut decided = false;
        loop {
            let status = status_of(d, &url, &id);
            match status.as_str() {
                "succeeded" | "failed" => break,
                "waiting_decision" if !decided => {
                    let out =
                        support::bin::ripcord(d, &["resume", &id, "--skip", "--operator", "fault", "--store", &url]);
                    assert_eq!(out.status.code(), Some(0), "trial {trial}: {}", support::bin::describe(&out));
                    counts.waited_for_a_person += 1;
                    decided = true;
                }
                _ => {}
            }
            let logs: String = replicas.iter().map(|r| r.text()).collect();
            assert!(Instant::now() < deadline, "trial {trial}: run {id} is still {status}\n{logs}");
            std::thread::sleep(Duration::from_millis(100));
        }
        let recs = records(d, &url, &id);
        let ev = events(&recs);
        assert_eq!(ev.first().map(String::as_str), Some("start"), "trial {trial}: {ev:?}");
        assert_eq!(ev.iter().filter(|e| *e == "end").count(), 1, "trial {trial}: {ev:?}");
        assert_eq!(status_of(d, &url, &id), "succeeded", "trial {trial}: {ev:?}");
        for (step, marker) in [("L1.S1", "m1"), ("L1.S3", "m3"), ("L1.S4", "m4")] {
            let n = marks(&books, marker, &id);
            assert!(n <= 1, "trial {trial}: {step} (not idempotent) ran {n} times: {ev:?}");
            let ends = recs.iter().filter(|r| r["event"] == "step_end" && r["step"] == step).count();
            assert_eq!(ends, 1, "trial {trial}: {step} has {ends} end records: {ev:?}");
        }
        let n2 = marks(&books, "m2", &id);
        assert!(n2 >= 1, "trial {trial}: the idempotent step never ran: {ev:?}");
        counts.idempotent_reruns += n2 - 1;
        counts.takeovers += ev.iter().filter(|e| *e == "takeover").count();
        counts.ended += 1;
        wait_until(Duration::from_secs(10), "the lease to be released", || {
            pg.sql(&format!("SELECT count(*) FROM ripcord_leases WHERE run_id = '{id}'")) == "0"
        });
    }
    let all = runs(d, &url);
    assert_eq!(all.len(), trials, "one run per trial, none lost");
    eprintln!("fault test: {trials} trials in {:.0?}, seed {seed}: {counts:?}", began.elapsed());
}
