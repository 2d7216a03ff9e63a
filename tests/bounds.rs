//! Unbounded inputs and answers, through the real binary: `watch` against a fake Prometheus on loopback
//! whose answer never ends (memory stays bounded, the error is logged, SIGTERM still stops it), and
//! `simulate` over ranges that cannot finish (a stray time, an end in the year 9999, values a chart cannot
//! draw, an end before the start): each refused at once with a coded diagnostic.

mod support;

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::process::Command;
use std::time::{Duration, Instant};

use support::bin::{Test, code, describe, stderr};
use support::watch::Watch;

const RUNBOOK: &str = "runbook endless {\n  evaluate every 1s\n  metric errors = promql \"app_errors_ratio\"\n  trigger high: errors > 0.1 -> level 1\n  level 1 {\n    step shell \"true\"\n  }\n}\n";

/// A fake Prometheus on loopback: every request is answered 200 with a matrix whose `values` never end
/// (chunked, as fast as the reader takes them), or, with `drip`, one byte every 100 ms. Its base URL.
fn endless_prometheus(drip: bool) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { continue };
            std::thread::spawn(move || {
                let mut reader = BufReader::new(stream.try_clone().expect("clone"));
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 || line.trim().is_empty() {
                        break;
                    }
                }
                let mut out = stream;
                let head = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n";
                let start = r#"{"status":"success","data":{"resultType":"matrix","result":[{"metric":{},"values":["#;
                if write!(out, "{head}{:x}\r\n{start}\r\n", start.len()).is_err() {
                    return;
                }
                let chunk = "[1,\"1\"],".repeat(8192);
                loop {
                    let sent = if drip {
                        std::thread::sleep(Duration::from_millis(100));
                        write!(out, "1\r\n \r\n")
                    } else {
                        write!(out, "{:x}\r\n{chunk}\r\n", chunk.len())
                    };
                    if sent.is_err() {
                        return;
                    }
                }
            });
        }
    });
    url
}

/// The resident memory of `pid` in MiB, from /proc.
fn rss_mib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let kb: u64 =
        status.lines().find_map(|l| l.strip_prefix("VmRSS:"))?.trim().trim_end_matches("kB").trim().parse().ok()?;
    Some(kb / 1024)
}

/// Sends SIGTERM and returns how long `watch` took to exit, and its exit code.
fn terminate(w: &mut Watch) -> (Duration, Option<i32>) {
    let sent = Instant::now();
    let code = w.terminate();
    (sent.elapsed(), code)
}

#[test]
fn an_endless_answer_is_cut_at_the_cap_memory_stays_bounded_and_sigterm_stops_watch() {
    let dir = support::dir_with(&[("endless.runbook", RUNBOOK)]);
    let url = endless_prometheus(false);
    // The timeout is long: the cap, not the timeout, must stop each answer.
    let mut w = Watch::start(
        dir.path(),
        &["endless.runbook", "--prometheus", &url, "--state-dir", "state", "--query-timeout", "60s"],
    );
    let pid = w.child.id();
    let start = Instant::now();
    let mut peak = 0;
    loop {
        peak = peak.max(rss_mib(pid).unwrap_or(0));
        assert!(peak < 300, "watch holds {peak} MiB reading an endless answer:\n{}", w.text());
        if w.text().matches("the answer is larger than 67108864 bytes").count() >= 2 {
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(60), "no clear error about the answer's size:\n{}", w.text());
        std::thread::sleep(Duration::from_millis(50));
    }
    // A query is in flight again now (one per second); SIGTERM must not wait for it.
    let (took, code) = terminate(&mut w);
    assert_eq!(code, Some(0), "{}", w.text());
    assert!(took < Duration::from_secs(5), "SIGTERM took {took:?} with a query in flight");
    assert!(peak < 300, "{peak} MiB");
}

#[test]
fn the_query_timeout_bounds_the_body_and_a_smaller_cap_is_honoured() {
    let dir = support::dir_with(&[("endless.runbook", RUNBOOK)]);
    let slow = endless_prometheus(true);
    let mut w = Watch::start(
        dir.path(),
        &["endless.runbook", "--prometheus", &slow, "--state-dir", "state", "--query-timeout", "1s"],
    );
    let start = Instant::now();
    while !w.text().contains("timed out") && !w.text().contains("no complete answer within 1s") {
        assert!(start.elapsed() < Duration::from_secs(20), "a dripping answer outlived the timeout:\n{}", w.text());
        std::thread::sleep(Duration::from_millis(50));
    }
    let (took, code) = terminate(&mut w);
    assert_eq!(code, Some(0), "{}", w.text());
    assert!(took < Duration::from_secs(5), "SIGTERM took {took:?}");

    let fast = endless_prometheus(false);
    let mut w = Watch::start(
        dir.path(),
        &["endless.runbook", "--prometheus", &fast, "--state-dir", "state2", "--max-answer-bytes", "1MiB"],
    );
    let start = Instant::now();
    while !w.text().contains("the answer is larger than 1048576 bytes") {
        assert!(start.elapsed() < Duration::from_secs(20), "the 1 MiB cap was not applied:\n{}", w.text());
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(w.terminate(), Some(0), "{}", w.text());
}

const SIMULATED: &str = "runbook sim {\n  evaluate every 15s\n  metric m = promql \"m\"\n  trigger t: m > 1 for 30s -> level 1\n  level 1 {\n    step shell \"true\"\n  }\n}\n";

#[test]
fn simulations_that_cannot_finish_are_refused_with_a_code() {
    let dir = support::dir_with(&[
        ("sim.runbook", SIMULATED),
        ("stray.csv", "time,metric,value\n1700000000,m,1\n1700000015,m,2\n1700000030123,m,3\n"),
        ("big.csv", "time,metric,value\n0,m,1\n15,m,1e308\n30,m,-1e308\n45,m,1\n"),
        ("ok.csv", "time,metric,value\n0,m,1\n15,m,2\n30,m,2\n45,m,2\n60,m,2\n"),
    ]);
    let cases: &[(&[&str], &str, &str)] = &[
        (&["--series", "stray.csv"], "RC409", "milliseconds among seconds"),
        (&["--series", "ok.csv", "--end", "9999-12-31T00:00:00Z"], "RC408", "narrow the range"),
        (&["--series", "ok.csv", "--end", "10000000000"], "RC408", "more than 100000000"),
        (&["--series", "big.csv", "--chart", "c.svg"], "RC410", "too far apart"),
        (&["--series", "ok.csv", "--start", "100", "--end", "50"], "RC407", "the start must come before the end"),
        (&["--series", "ok.csv", "--start", "30", "--end", "30"], "RC407", "the start must come before the end"),
        (&["--series", "ok.csv", "--start", "100"], "RC407", "the start must come before the end"),
        (&["--from-prometheus", "http://127.0.0.1:9", "--start", "0", "--end", "9999-12-31T00:00:00Z"], "RC408", ""),
        (&["--from-prometheus", "http://127.0.0.1:9", "--start", "100", "--end", "50"], "RC407", ""),
    ];
    for (args, want, says) in cases {
        let started = Instant::now();
        let out = Test::in_dir(dir.path()).arg("simulate").arg("sim.runbook").args(*args).run();
        assert!(started.elapsed() < Duration::from_secs(10), "{args:?} took {:?}", started.elapsed());
        assert_eq!(code(&out), 1, "{args:?}: {}", describe(&out));
        let err = stderr(&out);
        assert!(err.contains(&format!("error[{want}]")) && err.contains(says), "{args:?}: {err}");
    }
    assert!(!dir.path().join("c.svg").exists(), "no chart is written when it cannot be drawn");
    // What can be done still is.
    let out =
        Test::in_dir(dir.path()).args(["simulate", "sim.runbook", "--series", "ok.csv", "--chart", "c.svg"]).run();
    assert_eq!(code(&out), 0, "{}", describe(&out));
    assert!(dir.path().join("c.svg").exists());
}

#[test]
fn max_answer_bytes_takes_sizes_and_refuses_nonsense() {
    let out = Command::new(support::bin::RIPCORD)
        .args(["simulate", "x.runbook", "--series", "s.csv", "--max-answer-bytes", "0"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2), "{}", describe(&out));
    let out = Command::new(support::bin::RIPCORD)
        .args(["run", "x.runbook", "--level", "1", "--operator", "a", "--reason", "r", "--max-answer-bytes", "1TB"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2), "{}", describe(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("64MiB"), "{}", describe(&out));
}
