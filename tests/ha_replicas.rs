//! `watch` replicas on one PostgreSQL store (docs/ha.md), against a real PostgreSQL 15 and a real Prometheus:
//! three replicas start one run per firing of a series; duplicate Alertmanager deliveries to two replicas
//! (and to a replica started again) start one run; a replica killed mid-run (with its step's process group)
//! has its run taken over: finished steps are not run again, an `idempotent` step is run again, a step
//! that is not waits for a person (the runbook's channel is told), whom `ripcord resume --skip` answers;
//! `ripcord run --store` killed mid-step is resumed by `ripcord resume` once its lease expires, not before;
//! a replica paused past its lease
//! writes nothing more to the run's journal once it is let go; a replica started after another was killed
//! continues its pending `for`; an approval given on any replica reaches the run; and `/api/status`,
//! `/metrics` and the status page say when PostgreSQL is down and when it is back.

mod support;

use std::path::Path;
use std::time::Duration;

use serde_json::Value;
use support::postgres::{Postgres, events, lines, records, replica, runs, signal, wait_until};
use support::prometheus::{PROMETHEUS, scraped};
use support::watch::request;

fn books(dir: &Path, runbook: &str) {
    std::fs::create_dir_all(dir.join("books")).expect("mkdir");
    std::fs::write(dir.join("books/ha.runbook"), runbook).expect("write the runbook");
}

#[test]
fn three_replicas_start_one_run_per_firing() {
    let test = "three_replicas_start_one_run_per_firing";
    if !support::installed(test, &[PROMETHEUS]) {
        return;
    }
    let Some(pg) = Postgres::start(test) else { return };
    let dir = support::temp_dir();
    let d = dir.path();
    books(
        d,
        "runbook ha {\n  evaluate every 1s\n  metric errors = promql \"app_errors_ratio\"\n  \
         trigger high: errors > 0.1 -> level 1\n  \
         level 1 {\n    step shell \"echo ${run_id} >> started.txt\"\n  }\n}\n",
    );
    let (exporter, prom) = scraped(d, 0.0);
    let replicas: Vec<_> = ["r1", "r2", "r3"].iter().map(|n| replica(d, &pg.url(), n, &prom.url)).collect();
    // Every replica evaluates (the trigger inactive) before the series turns firing.
    for r in &replicas {
        r.wait_status(Duration::from_secs(15), "an evaluation", |s| {
            support::watch::trigger(s, "ha", "high").is_some_and(|t| t["state"] == "inactive")
                && s["store"]["reachable"] == true
        });
    }
    std::thread::sleep(Duration::from_secs(2));
    for firing in 1..=2 {
        exporter.set(0.5);
        wait_until(Duration::from_secs(20), "the firing's run", || lines(&d.join("books"), "started.txt") >= firing);
        // Every replica has seen the firing, and a run that would start twice has had time to.
        for r in &replicas {
            r.wait_status(Duration::from_secs(10), "the firing", |s| {
                support::watch::trigger(s, "ha", "high").is_some_and(|t| t["state"] == "firing")
            });
        }
        std::thread::sleep(Duration::from_secs(3));
        assert_eq!(lines(&d.join("books"), "started.txt"), firing, "one run per firing");
        exporter.set(0.0);
        for r in &replicas {
            r.wait_status(Duration::from_secs(15), "the resolution", |s| {
                support::watch::trigger(s, "ha", "high").is_some_and(|t| t["state"] == "inactive")
            });
        }
    }
    let all = runs(d, &pg.url());
    assert_eq!(all.len(), 2, "{all:#?}");
    assert!(all.iter().all(|r| r["status"] == "succeeded"), "{all:#?}");
    let duplicates: String = replicas.iter().map(|r| r.text()).collect();
    assert!(duplicates.contains("already started run"), "the other replicas saw the firing taken:\n{duplicates}");
    drop(prom);
}

/// One Alertmanager webhook message with one firing alert.
fn alert_body(starts_at: &str) -> String {
    format!(
        r#"{{"version":"4","status":"firing","alerts":[{{"status":"firing","fingerprint":"fp-1",
        "startsAt":"{starts_at}","labels":{{"alertname":"Disk","ripcord_runbook":"ha","ripcord_level":"1",
        "instance":"a"}},"annotations":{{"summary":"disk full"}}}}]}}"#
    )
}

fn deliver(base: &str, body: &str) -> Option<(u16, String)> {
    request(base, "POST", "/api/alertmanager", &[("Authorization", "Bearer s3cret")], body)
}

#[test]
fn duplicate_alertmanager_deliveries_to_two_replicas_start_one_run() {
    let Some(pg) = Postgres::start("duplicate_alertmanager_deliveries_to_two_replicas_start_one_run") else { return };
    let dir = support::temp_dir();
    let d = dir.path();
    books(d, "runbook ha {\n  level 1 {\n    step shell \"echo ${labels.instance} >> started.txt\"\n  }\n}\n");
    let prom = "http://127.0.0.1:9";
    let a = replica(d, &pg.url(), "a", prom);
    let mut b = replica(d, &pg.url(), "b", prom);
    // Alertmanager in HA delivers each alert from every peer: ten deliveries to each replica at once.
    let body = alert_body("2026-01-01T00:00:00Z");
    let answers: Vec<String> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..20)
            .map(|i| {
                let base = if i % 2 == 0 { a.base.clone() } else { b.base.clone() };
                let body = body.clone();
                scope.spawn(move || deliver(&base, &body).map(|(_, b)| b).unwrap_or_default())
            })
            .collect();
        handles.into_iter().filter_map(|h| h.join().ok()).collect()
    });
    let started = answers.iter().filter(|a| a.contains("\"result\":\"started\"")).count();
    assert_eq!(started, 1, "{answers:#?}");
    assert!(answers.iter().all(|a| a.contains("\"started\"") || a.contains("\"duplicate\"")), "{answers:#?}");
    wait_until(Duration::from_secs(10), "the run", || lines(&d.join("books"), "started.txt") == 1);
    // A replica started again remembers nothing itself: the store does.
    b.terminate();
    let b2 = replica(d, &pg.url(), "b2", prom);
    let (_, again) = deliver(&b2.base, &body).expect("deliver");
    assert!(again.contains("\"duplicate\""), "{again}");
    // A new firing of the same alert (a later startsAt) is a new incident.
    let (_, later) = deliver(&a.base, &alert_body("2026-01-01T01:00:00Z")).expect("deliver");
    assert!(later.contains("\"started\""), "{later}");
    wait_until(Duration::from_secs(10), "the second run", || lines(&d.join("books"), "started.txt") == 2);
    assert_eq!(runs(d, &pg.url()).len(), 2);
}

/// Waits for `file` (in the runbook's directory) to hold a process group id the step wrote, and returns it.
fn pgid(books: &Path, file: &str) -> i64 {
    wait_until(Duration::from_secs(20), file, || {
        std::fs::read_to_string(books.join(file)).is_ok_and(|t| t.trim().parse::<i64>().is_ok())
    });
    std::fs::read_to_string(books.join(file)).ok().and_then(|t| t.trim().parse().ok()).unwrap_or(0)
}

fn status_of(d: &Path, url: &str, id: &str) -> String {
    runs(d, url).iter().find(|r| r["id"] == id).and_then(|r| r["status"].as_str()).unwrap_or("?").to_string()
}

#[test]
fn a_lost_replicas_run_is_taken_over_and_a_cut_step_waits_for_a_person() {
    let Some(pg) = Postgres::start("a_lost_replicas_run_is_taken_over_and_a_cut_step_waits_for_a_person") else {
        return;
    };
    let dir = support::temp_dir();
    let d = dir.path();
    let bk = d.join("books");
    let ops = support::http::Recorder::start(200, "{}");
    books(
        d,
        &format!(
            "runbook ha {{\n  channel ops webhook \"{}/hook\"\n  level 1 {{\n    \
         step shell \"echo x >> s1.count\"\n    \
         step shell \"echo x >> s2.count; echo $$ > s2.pid; while [ ! -f go2 ]; do sleep 0.05; done\" idempotent\n    \
         step shell \"echo x >> s3.count; echo $$ > s3.pid; while [ ! -f go3 ]; do sleep 0.05; done\"\n    \
         step shell \"echo x >> s4.count\"\n  }}\n}}\n",
            ops.url
        ),
    );
    let prom = "http://127.0.0.1:9";
    let mut a = replica(d, &pg.url(), "a", prom);
    let (code, v) =
        a.post("/api/runs", Some("s3cret"), r#"{"runbook":"ha","level":1,"operator":"op","reason":"test"}"#);
    assert_eq!(code, 201, "{v}");
    let id = v["id"].as_str().expect("run id").to_string();
    // 1. Replica a dies with the idempotent step running: b takes over, runs step 1 never again and step 2
    //    again.
    let group = pgid(&bk, "s2.pid");
    let b = replica(d, &pg.url(), "b", prom);
    std::fs::remove_file(bk.join("s2.pid")).expect("rm");
    signal(i64::from(a.child.id() as i32), "KILL");
    signal(-group, "KILL");
    let _ = a.child.wait();
    let group = pgid(&bk, "s2.pid");
    assert_eq!(lines(&bk, "s2.count"), 2, "the idempotent step ran again:\n{}", b.text());
    assert_eq!(lines(&bk, "s1.count"), 1, "the finished step did not run again");
    assert!(b.text().contains(&format!("taking over run {id} from a")), "{}", b.text());
    std::fs::write(bk.join("go2"), "").expect("go2");
    // 2. Replica b dies in the step that is not idempotent: c takes over and waits for a person.
    let _ = group;
    let group = pgid(&bk, "s3.pid");
    let c = replica(d, &pg.url(), "c", prom);
    let mut b = b;
    signal(i64::from(b.child.id() as i32), "KILL");
    signal(-group, "KILL");
    let _ = b.child.wait();
    wait_until(Duration::from_secs(20), "the run to wait for a person", || {
        status_of(d, &pg.url(), &id) == "waiting_decision"
    });
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(lines(&bk, "s3.count"), 1, "the step that is not idempotent was not run again");
    let page = c.get("/").1;
    assert!(page.contains("--rerun|--skip|--abort"), "the status page says how to decide:\n{page}");
    // The runbook's channel is told that the run waits, for which step, and how to decide.
    let told = ops.requests().iter().map(|r| r.text()).filter(|t| t.contains(&id)).collect::<Vec<_>>().join("\n");
    assert!(told.contains("resume") && told.contains("L1.S3"), "the channel heard of the wait:\n{told}");
    // 3. A person decides, from anywhere: the run goes on where c holds it.
    let out = support::bin::ripcord(d, &["resume", &id, "--skip", "--operator", "alice", "--store", &pg.url()]);
    assert_eq!(out.status.code(), Some(0), "{}", support::bin::describe(&out));
    assert!(support::bin::stdout(&out).contains("c continues the run"), "{}", support::bin::describe(&out));
    wait_until(Duration::from_secs(20), "the run to end", || status_of(d, &pg.url(), &id) == "succeeded");
    assert_eq!((lines(&bk, "s1.count"), lines(&bk, "s3.count"), lines(&bk, "s4.count")), (1, 1, 1));
    let recs = records(d, &pg.url(), &id);
    let ev = events(&recs);
    assert_eq!(ev.iter().filter(|e| *e == "takeover").count(), 2, "{ev:?}");
    assert!(ev.contains(&"waiting_decision".to_string()) && ev.contains(&"step_decided".to_string()), "{ev:?}");
    let told: Vec<&Value> = recs.iter().filter(|r| r["event"] == "takeover").collect();
    assert_eq!((told[0]["from"].as_str(), told[0]["replica"].as_str()), (Some("a"), Some("b")), "{told:?}");
    drop(c);
}

#[test]
fn a_replica_paused_past_its_lease_writes_nothing_more() {
    let Some(pg) = Postgres::start("a_replica_paused_past_its_lease_writes_nothing_more") else { return };
    let dir = support::temp_dir();
    let d = dir.path();
    let bk = d.join("books");
    books(
        d,
        "runbook ha {\n  level 1 {\n    \
         step shell \"echo x >> s1.count; sleep 1.5\" idempotent\n    step shell \"echo x >> s2.count\"\n  }\n}\n",
    );
    let prom = "http://127.0.0.1:9";
    let a = replica(d, &pg.url(), "a", prom);
    let b = replica(d, &pg.url(), "b", prom);
    let (code, v) =
        a.post("/api/runs", Some("s3cret"), r#"{"runbook":"ha","level":1,"operator":"op","reason":"test"}"#);
    assert_eq!(code, 201, "{v}");
    let id = v["id"].as_str().expect("run id").to_string();
    wait_until(Duration::from_secs(10), "step 1", || lines(&bk, "s1.count") == 1);
    let pid = i64::from(a.child.id() as i32);
    signal(pid, "STOP");
    wait_until(Duration::from_secs(20), "the takeover", || b.text().contains(&format!("taking over run {id}")));
    wait_until(Duration::from_secs(20), "the run to end on b", || status_of(d, &pg.url(), &id) == "succeeded");
    let before = records(d, &pg.url(), &id);
    signal(pid, "CONT");
    // The stale holder wakes up: its step ended (killed by b as a leftover, or on its own); it is refused.
    wait_until(Duration::from_secs(10), "the stale holder to stop the run", || {
        a.text().contains("its lease was lost") || a.text().contains("stops here")
    });
    std::thread::sleep(Duration::from_secs(1));
    let after = records(d, &pg.url(), &id);
    assert_eq!(before.len(), after.len(), "the stale holder wrote nothing:\n{}", a.text());
    let ev = events(&after);
    assert!(!ev.contains(&"interrupted".to_string()), "{ev:?}");
    assert_eq!(ev.iter().filter(|e| *e == "end").count(), 1, "{ev:?}");
    assert_eq!(lines(&bk, "s2.count"), 1, "step 2 ran once");
}

#[test]
fn a_replica_started_after_another_was_killed_continues_its_pending_for() {
    let test = "a_replica_started_after_another_was_killed_continues_its_pending_for";
    if !support::installed(test, &[PROMETHEUS]) {
        return;
    }
    let Some(pg) = Postgres::start(test) else { return };
    let dir = support::temp_dir();
    let d = dir.path();
    books(
        d,
        "runbook ha {\n  evaluate every 1s\n  metric errors = promql \"app_errors_ratio\"\n  \
         trigger high: errors > 0.1 for 12s -> level 1\n  \
         level 1 {\n    step shell \"echo ${run_id} >> started.txt\"\n  }\n}\n",
    );
    let (_exporter, prom) = scraped(d, 0.2);
    let high = |s: &Value| {
        let t = support::watch::trigger(s, "ha", "high");
        (t.and_then(|t| t["state"].as_str()).unwrap_or("?").to_string(), t.and_then(|t| t["since"].as_i64()))
    };
    // Pending for about 4 of its 12 seconds on replica a, which is then killed outright.
    let mut a = replica(d, &pg.url(), "a", &prom.url);
    let s = a.wait_status(Duration::from_secs(15), "`high` pending", |s| high(s).0 == "pending");
    let pending_since = high(&s).1.expect("pending since");
    std::thread::sleep(Duration::from_secs(4));
    signal(i64::from(a.child.id() as i32), "KILL");
    let _ = a.child.wait();
    std::thread::sleep(Duration::from_secs(2));
    // Replica b, on another machine as far as files go (its own state dir), continues from the store.
    let restarted = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|t| t.as_millis() as i64);
    let restarted = restarted.unwrap_or(0);
    let b = replica(d, &pg.url(), "b", &prom.url);
    let s = b.wait_status(Duration::from_secs(10), "`high` restored", |s| high(s).0 != "inactive");
    assert_eq!(high(&s), ("pending".to_string(), Some(pending_since)), "{}", b.text());
    let s = b.wait_status(Duration::from_secs(20), "`high` firing", |s| high(s).0 == "firing");
    let fired_at = high(&s).1.expect("firing since");
    assert!(fired_at < restarted + 10_000, "the pending clock started again:\n{}", b.text());
    wait_until(Duration::from_secs(10), "the run", || lines(&d.join("books"), "started.txt") == 1);
}

#[test]
fn an_approval_given_on_any_replica_reaches_the_run_where_it_runs() {
    let Some(mut pg) = Postgres::start("an_approval_given_on_any_replica_reaches_the_run_where_it_runs") else {
        return;
    };
    let dir = support::temp_dir();
    let d = dir.path();
    books(
        d,
        "runbook ha {\n  level 1 {\n    approval required\n    step shell \"echo ${operator} >> approved.txt\"\n  }\n}\n",
    );
    let prom = "http://127.0.0.1:9";
    let a = replica(d, &pg.url(), "a", prom);
    let b = replica(d, &pg.url(), "b", prom);
    let (code, v) =
        a.post("/api/runs", Some("s3cret"), r#"{"runbook":"ha","level":1,"operator":"op","reason":"test"}"#);
    assert_eq!(code, 201, "{v}");
    let id = v["id"].as_str().expect("run id").to_string();
    wait_until(Duration::from_secs(10), "the run to wait", || status_of(d, &pg.url(), &id) == "waiting_approval");
    // Approved through replica b: the run, held by a, goes on.
    let (code, v) = b.post(&format!("/api/runs/{id}/approve"), Some("s3cret"), r#"{"operator":"alice"}"#);
    assert_eq!(code, 200, "{v}");
    wait_until(Duration::from_secs(10), "the run to end", || status_of(d, &pg.url(), &id) == "succeeded");
    assert_eq!(std::fs::read_to_string(d.join("books/approved.txt")).unwrap_or_default(), "alice\n");
    // A second decision, from the CLI, comes too late and says who came first.
    let out = support::bin::ripcord(d, &["deny", &id, "--operator", "bob", "--store", &pg.url()]);
    assert_eq!(out.status.code(), Some(1), "{}", support::bin::describe(&out));
    // PostgreSQL down: the status and the metrics say so; back: they say that too.
    pg.stop();
    a.wait_status(Duration::from_secs(10), "the store to be unreachable", |s| s["store"]["reachable"] == false);
    assert!(a.get("/metrics").1.contains("ripcord_store_up 0"));
    assert!(a.get("/").1.contains("is unreachable"));
    pg.run();
    a.wait_status(Duration::from_secs(10), "the store to be back", |s| s["store"]["reachable"] == true);
    assert!(a.get("/metrics").1.contains("ripcord_store_up 1"));
}

#[test]
fn a_run_command_killed_mid_step_is_resumed_from_the_store_once_its_lease_expires() {
    let Some(pg) = Postgres::start("a_run_command_killed_mid_step_is_resumed_from_the_store_once_its_lease_expires")
    else {
        return;
    };
    let dir = support::temp_dir();
    let d = dir.path();
    let bk = d.join("books");
    books(
        d,
        "runbook ha {\n  level 1 {\n    \
         step shell \"echo x >> s1.count\"\n    \
         step shell \"echo x >> s2.count; echo $$ > s2.pid; while [ ! -f go2 ]; do sleep 0.05; done\"\n    \
         step shell \"echo x >> s3.count\"\n  }\n}\n",
    );
    let url = pg.url();
    let lease = ["--store", url.as_str(), "--heartbeat", "100ms", "--lease-expiry", "3s"];
    let mut run = support::bin::Test::in_dir(&bk)
        .args(["run", "ha.runbook", "--level", "1", "--operator", "op", "--reason", "test", "--yes"])
        .args(lease)
        .args(["--replica-id", "cli"])
        .spawn();
    let group = pgid(&bk, "s2.pid");
    signal(i64::from(run.id() as i32), "KILL");
    signal(-group, "KILL");
    let _ = run.wait();
    let all = runs(d, &url);
    assert_eq!(all.len(), 1, "{all:?}");
    let id = all[0]["id"].as_str().expect("run id").to_string();
    // While the dead process's lease lasts, the run counts as held: nobody resumes it.
    let out = support::bin::ripcord(&bk, &[&["resume", &id], &lease[..]].concat());
    let text = support::bin::describe(&out);
    assert!(out.status.code() != Some(0) && text.contains("is running"), "{text}");
    // Once it expires the run is `interrupted`, and `resume` (the person who types it decides) takes the lease
    // under a new epoch and runs the cut step again, saying so in the journal; the finished step is not.
    std::fs::write(bk.join("go2"), "").expect("go2");
    wait_until(Duration::from_secs(20), "the run to be interrupted", || runs(d, &url)[0]["status"] == "interrupted");
    let out = support::bin::ripcord(&bk, &[&["resume", &id], &lease[..]].concat());
    assert_eq!(out.status.code(), Some(0), "{}", support::bin::describe(&out));
    assert_eq!((lines(&bk, "s1.count"), lines(&bk, "s2.count"), lines(&bk, "s3.count")), (1, 2, 1));
    let recs = records(d, &url, &id);
    let ev = events(&recs);
    assert_eq!(ev.last().map(String::as_str), Some("end"), "{ev:?}");
    assert!(ev.contains(&"resume".to_string()), "{ev:?}");
    let again = recs.iter().any(|r| r["event"] == "step_start" && r["step"] == "L1.S2" && r["rerun"] == true);
    assert!(again, "the journal says the cut step was run again: {recs:?}");
    assert_eq!(runs(d, &url)[0]["status"], "succeeded");
}
