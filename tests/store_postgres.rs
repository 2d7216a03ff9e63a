//! The PostgreSQL run store's contract, against a real PostgreSQL 15: journals read back whole, locks per
//! label set with a level's `max parallel` counted atomically across processes, the first decision wins,
//! a start key starts one run, a holder whose lease was taken over writes nothing more, and a schema newer
//! than the binary is refused.

mod support;

use std::sync::Arc;
use std::time::Duration;

use ripcord::plan::Labels;
use ripcord::runs::{
    Claim, DecideError, Decision, Event, LeaseSettings, LevelSlot, LockError, RunStore, StepChoice, StepDecision,
    StoreOptions, open_store,
};
use support::postgres::Postgres;

fn store(pg: &Postgres, replica: &str, dir: &std::path::Path) -> Arc<dyn RunStore> {
    open_store(&StoreOptions {
        store: Some(pg.url()),
        state_dir: dir.to_path_buf(),
        replica_id: Some(replica.to_string()),
        lease: LeaseSettings { heartbeat: Duration::from_millis(200), expiry: Duration::from_millis(1000) },
        takeover: true,
    })
    .expect("open the store")
}

fn labels(instance: &str) -> Labels {
    Labels::from_pairs([("instance", instance)])
}

fn claim<'a>(labels: &'a Labels, run_id: &'a str, max_parallel: u32, key: Option<&'a str>) -> Claim<'a> {
    Claim {
        runbook: "disk",
        labels,
        run_id,
        level: Some(LevelSlot { level: 1, max_parallel }),
        start_key: key,
        start: None,
    }
}

fn start_event(run_id: &str) -> Event {
    let plan = ripcord::compile("runbook disk {\n  level 1 {\n    step shell \"true\"\n  }\n}\n").plan.expect("plan");
    Event::Start {
        run_id: run_id.into(),
        runbook: "disk".into(),
        runbook_path: "disk.runbook".into(),
        workdir: ".".into(),
        level: 1,
        labels: Labels::empty(),
        operator: "test".into(),
        reason: "contract".into(),
        yes: true,
        prometheus: None,
        plan_hash: "0".into(),
        plan: Box::new(plan),
        pid: 1,
        version: "test".into(),
    }
}

#[test]
fn the_postgres_store_keeps_its_contract() {
    let Some(pg) = Postgres::start("the_postgres_store_keeps_its_contract") else { return };
    let dir = support::temp_dir();
    let a = store(&pg, "replica-a", dir.path());
    let b = store(&pg, "replica-b", dir.path());
    assert!(a.shared() && a.health().is_ok());

    // Journals: appended in order, read back whole by any process; a run id is taken once.
    let (la, lb, lc) = (labels("a"), labels("b"), labels("c"));
    let lock1 = a.lock_run(&claim(&la, "run-1", 2, Some("trigger:disk:1:full:a:1000"))).expect("lock run-1");
    let mut j = a.create_run("run-1").expect("create");
    j.append(start_event("run-1")).expect("append start");
    for i in 0..20 {
        j.append(Event::LevelStart { level: 1, attempt: i }).expect("append");
    }
    assert!(a.create_run("run-1").is_err(), "a run id is taken once");
    let records = b.read_run("run-1").expect("read");
    assert_eq!(records.len(), 21);
    let attempts: Vec<u32> = records
        .iter()
        .filter_map(|r| match r.event {
            Event::LevelStart { attempt, .. } => Some(attempt),
            _ => None,
        })
        .collect();
    assert_eq!(attempts, (0..20).collect::<Vec<_>>());
    assert!(b.read_run("no-such-run").expect_err("no such run").contains("no run `no-such-run`"));
    assert_eq!(b.list_runs().len(), 1);
    assert_eq!(b.lock_holder("disk", &la).as_deref(), Some("run-1"));

    // Locks: one run per label set, the level's `max parallel` across label sets, start keys once.
    match b.lock_run(&claim(&la, "run-2", 2, None)) {
        Err(LockError::Held(m)) => assert!(m.contains("run-1") && m.contains("replica-a"), "{m}"),
        other => panic!("{:?}", other.map(|_| ())),
    }
    match b.lock_run(&claim(&lb, "run-3", 2, Some("trigger:disk:1:full:a:1000"))) {
        Err(LockError::Duplicate(id)) => assert_eq!(id, "run-1"),
        other => panic!("{:?}", other.map(|_| ())),
    }
    let lock3 = b.lock_run(&claim(&lb, "run-3", 2, Some("trigger:disk:1:full:b:1000"))).expect("lock b");
    match a.lock_run(&claim(&lc, "run-4", 2, None)) {
        Err(LockError::LevelFull(m)) => assert!(m.contains("max parallel 2") && m.contains("run-3"), "{m}"),
        other => panic!("{:?}", other.map(|_| ())),
    }
    drop(lock3);
    assert_eq!(a.lock_holder("disk", &lb), None, "a dropped lock is released");

    // The level's count is atomic across processes: 8 claims at once, 2 slots left of 3.
    let handles: Vec<_> = (0..8)
        .map(|i| {
            let s = if i % 2 == 0 { Arc::clone(&a) } else { Arc::clone(&b) };
            std::thread::spawn(move || {
                let l = labels(&format!("x{i}"));
                let id = format!("race-{i}");
                let got = s.lock_run(&claim(&l, &id, 3, None)).ok();
                std::thread::sleep(Duration::from_millis(500));
                got.is_some()
            })
        })
        .collect();
    let taken = handles.into_iter().filter_map(|h| h.join().ok()).filter(|t| *t).count();
    assert_eq!(taken, 2, "run-1 holds one of the 3 slots");

    // Decisions: the first wins, across processes.
    a.write_decision("run-1", &Decision::now(true, "alice", 1)).expect("first decision");
    match b.write_decision("run-1", &Decision::now(false, "bob", 1)) {
        Err(DecideError::AlreadyDecided(d)) => assert_eq!((d.operator.as_str(), d.approved), ("alice", true)),
        other => panic!("{other:?}"),
    }
    assert_eq!(b.read_decision("run-1", 1).map(|d| d.operator), Some("alice".into()));
    let skip = StepDecision { step: "L1.S1".into(), choice: StepChoice::Skip, operator: "carol".into(), at_ms: 1 };
    b.write_step_decision("run-1", &skip).expect("step decision");
    let rerun = StepDecision { choice: StepChoice::Rerun, operator: "dave".into(), ..skip.clone() };
    assert!(a.write_step_decision("run-1", &rerun).is_err(), "the first step decision wins");
    assert_eq!(a.read_step_decision("run-1", "L1.S1"), Some(skip));

    // Fencing: once the lease expired and another replica took the run over, the old holder's appends are
    // refused and it is told; the new holder's go through. Replica a stops renewing (as if paused).
    let lost = j.lease_lost().expect("a fenced journal");
    pg.sql("UPDATE ripcord_leases SET holder = 'replica-a-paused', expires_at = now() - interval '1 second' WHERE run_id = 'run-1'");
    let taken = b.take_over();
    assert_eq!(taken.len(), 1);
    assert_eq!((taken[0].run_id.as_str(), taken[0].from.as_str()), ("run-1", "replica-a-paused"));
    let before = b.read_run("run-1").expect("read").len();
    let refused = j.append(Event::LevelStart { level: 1, attempt: 99 }).expect_err("a stale holder is fenced");
    assert!(ripcord::runs::is_fenced(&refused), "{refused}");
    assert!(lost.borrow().is_some(), "the stale holder is told its lease is lost");
    assert_eq!(b.read_run("run-1").expect("read").len(), before, "nothing was written by the stale holder");
    let mut jb = b.reopen_run("run-1").expect("reopen");
    jb.append(Event::End { status: "succeeded".into(), reason: "done".into() }).expect("the new holder writes");
    drop(taken);
    drop(lock1);

    // A schema newer than the binary knows is refused, with a clear error.
    pg.sql("UPDATE ripcord_schema SET version = 999");
    let refused =
        open_store(&StoreOptions { store: Some(pg.url()), takeover: false, ..StoreOptions::state_dir(dir.path()) })
            .map(|_| ())
            .expect_err("a newer schema is refused");
    assert!(refused.contains("version 999, newer than this ripcord knows"), "{refused}");
}
