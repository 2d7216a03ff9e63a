//! `ripcord watch` against a REAL Prometheus (`/usr/bin/prometheus`) started on loopback with a temp TSDB,
//! scraping (every 1s) a tiny exporter this test serves: a trigger goes pending and fires on schedule and its
//! level's shell step really runs; a broken edit (saved by rename, as editors do) keeps the old runbook live
//! and `/api/status` shows the error; a good edit goes live and keeps an unchanged trigger's pending timer.
//!
//! Without the `prometheus` binary the test fails when `CI` is set and otherwise says it skips.

mod watch_support;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde_json::Value;
use watch_support::{Watch, runbook, trigger};

const PROMETHEUS: &str = "/usr/bin/prometheus";

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port()
}
/// Serves `GET /metrics` in the Prometheus text format with `app_errors_ratio` set to whatever `set` stored.
struct Exporter {
    addr: String,
    value: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Exporter {
    fn start(initial: f64) -> Exporter {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the exporter");
        let addr = listener.local_addr().expect("addr").to_string();
        let value = Arc::new(AtomicU64::new(initial.to_bits()));
        let stop = Arc::new(AtomicBool::new(false));
        let (v, s) = (Arc::clone(&value), Arc::clone(&stop));
        let thread = std::thread::spawn(move || {
            for stream in listener.incoming() {
                if s.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                serve_metrics(stream, f64::from_bits(v.load(Ordering::SeqCst)));
            }
        });
        Exporter { addr, value, stop, thread: Some(thread) }
    }

    fn set(&self, v: f64) {
        self.value.store(v.to_bits(), Ordering::SeqCst);
    }
}

fn serve_metrics(mut stream: TcpStream, value: f64) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let Ok(clone) = stream.try_clone() else { return };
    let mut reader = BufReader::new(clone);
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).is_err() {
        return;
    }
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).map_or(true, |n| n == 0) || h.trim().is_empty() {
            break;
        }
    }
    let (status, body) = if request_line.starts_with("GET /metrics") {
        (
            "200 OK",
            format!(
                "# HELP app_errors_ratio Share of failed requests.\n# TYPE app_errors_ratio gauge\napp_errors_ratio {value}\n"
            ),
        )
    } else {
        ("404 Not Found", "not found\n".to_string())
    };
    let _ = write!(
        stream,
        "HTTP/1.1 {status}\r\ncontent-type: text/plain; version=0.0.4\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = stream.flush();
    let _ = stream.shutdown(Shutdown::Both);
}

impl Drop for Exporter {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wakes the accept loop so that it sees `stop`.
        let _ = TcpStream::connect(&self.addr);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// A Prometheus child process, killed (and reaped) when dropped, even when the test panics.
struct Prometheus {
    child: Child,
    url: String,
    log: PathBuf,
}

impl Prometheus {
    fn start(dir: &Path, target: &str) -> Prometheus {
        let port = free_port();
        let config = dir.join("prometheus.yml");
        std::fs::write(
            &config,
            format!(
                "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1s\n\
                 scrape_configs:\n  - job_name: app\n    static_configs:\n      - targets: ['{target}']\n"
            ),
        )
        .expect("write the Prometheus config");
        let data = dir.join("tsdb");
        std::fs::create_dir(&data).expect("mkdir tsdb");
        let log = dir.join("prometheus.log");
        let out = std::fs::File::create(&log).expect("log file");
        let err = out.try_clone().expect("log file");
        let child = Command::new(PROMETHEUS)
            .arg(format!("--config.file={}", config.display()))
            .arg(format!("--storage.tsdb.path={}", data.display()))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .arg("--storage.tsdb.retention.time=1h")
            .arg("--log.level=warn")
            .current_dir(dir)
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .expect("start prometheus");
        Prometheus { child, url: format!("http://127.0.0.1:{port}"), log }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Waits until `/-/ready` answers 200 and the first scrape of the exporter can be queried.
    fn wait_for_first_scrape(&mut self, timeout: Duration) {
        let start = Instant::now();
        let mut ready = false;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("prometheus exited ({status}) before it was ready:\n{}", self.log());
            }
            if !ready {
                ready = http_get(&self.url, "/-/ready").is_some_and(|(status, _)| status == 200);
            }
            if ready
                && let Some((200, body)) = http_get(&self.url, "/api/v1/query?query=app_errors_ratio")
                && let Ok(doc) = serde_json::from_str::<Value>(&body)
                && doc.pointer("/data/result/0/value/1").is_some()
            {
                return;
            }
            assert!(
                start.elapsed() < timeout,
                "prometheus at {} was not ready (ready: {ready}) with a first scrape after {timeout:?}:\n{}",
                self.url,
                self.log()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A plain HTTP/1.0 GET on loopback: the status and the body, or `None` when nothing answers.
fn http_get(base: &str, path: &str) -> Option<(u16, String)> {
    let host = base.strip_prefix("http://")?;
    let mut stream = TcpStream::connect(host).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    write!(stream, "GET {path} HTTP/1.0\r\nHost: {host}\r\n\r\n").ok()?;
    let mut raw = String::new();
    stream.read_to_string(&mut raw).ok()?;
    let (head, body) = raw.split_once("\r\n\r\n")?;
    let status = head.split_whitespace().nth(1)?.parse().ok()?;
    Some((status, body.to_string()))
}

fn runbook_text(high_hold: &str) -> String {
    format!(
        "runbook live {{\n  evaluate every 1s\n  metric errors = promql \"app_errors_ratio\"\n  \
         trigger high: errors > 0.1 for {high_hold} -> level 1\n  trigger slow: errors > 0.1 for 1h -> level 1\n  \
         level 1 {{\n    step shell \"echo ran > fired.txt\"\n  }}\n}}\n"
    )
}

/// Saves like an editor that writes a temporary file and renames it over the original.
fn save_by_rename(path: &Path, text: &str) {
    let tmp = path.with_extension("runbook.swp~");
    std::fs::write(&tmp, text).expect("write the temporary file");
    std::fs::rename(&tmp, path).expect("rename over");
}

fn since(s: &Value, name: &str) -> Option<i64> {
    trigger(s, "live", name).and_then(|t| t["since"].as_i64())
}

fn state<'a>(s: &'a Value, name: &str) -> &'a str {
    trigger(s, "live", name).and_then(|t| t["state"].as_str()).unwrap_or("?")
}

#[test]
fn watch_fires_runs_and_reloads_against_a_real_prometheus() {
    if !Path::new(PROMETHEUS).exists() {
        assert!(std::env::var_os("CI").is_none(), "{PROMETHEUS} is missing, and CI is set");
        eprintln!("skipping: {PROMETHEUS} is not installed");
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let exporter = Exporter::start(0.2);
    let mut prom = Prometheus::start(d, &exporter.addr);
    prom.wait_for_first_scrape(Duration::from_secs(30));
    let books = d.join("books");
    std::fs::create_dir(&books).expect("mkdir");
    let rb = books.join("live.runbook");
    std::fs::write(&rb, runbook_text("3s")).expect("write");
    let mut w = Watch::start(d, &["books", "--prometheus", &prom.url, "--state-dir", "state"]);

    // 1. Pending at the first evaluation, firing 3s later (one evaluation interval of slack), and the level's
    //    shell step runs.
    let s = w.wait_status(Duration::from_secs(10), "`high` pending", |s| state(s, "high") == "pending");
    let pending_since = since(&s, "high").expect("pending since");
    let slow_since = since(&s, "slow").expect("slow pending since");
    let s = w.wait_status(Duration::from_secs(10), "`high` firing", |s| state(s, "high") == "firing");
    let fired_at = since(&s, "high").expect("firing since");
    let held = fired_at - pending_since;
    assert!((3000..=4100).contains(&held), "fired {held} ms after going pending\n{}", w.text());
    let start = Instant::now();
    while !books.join("fired.txt").exists() {
        assert!(start.elapsed() < Duration::from_secs(10), "the step did not run:\n{}", w.text());
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(state(&s, "slow"), "pending");

    // 2. A broken edit: the old version stays live (still evaluated), the error shows in /api/status.
    save_by_rename(&rb, "runbook live {\n  trigger oops: nope >\n}\n");
    let s = w.wait_status(Duration::from_secs(10), "the failed reload", |s| {
        runbook(s, "live").is_some_and(|r| r["last_reload"]["ok"] == false)
    });
    let error = runbook(&s, "live").and_then(|r| r["last_reload"]["error"].as_str()).unwrap_or_default().to_string();
    assert!(!error.is_empty(), "{s}");
    assert_eq!(state(&s, "high"), "firing", "{s}");
    assert_eq!(since(&s, "slow"), Some(slow_since), "{s}");
    let (_, m) = w.get("/metrics");
    assert!(m.contains("ripcord_reload_failures_total 1"), "{m}");

    // 3. A good edit goes live: `slow` is unchanged and keeps its pending timer; `high` changed its hold and
    //    starts over.
    save_by_rename(&rb, &runbook_text("2s"));
    let s = w.wait_status(Duration::from_secs(10), "the good reload", |s| {
        runbook(s, "live").is_some_and(|r| r["last_reload"]["ok"] == true)
    });
    assert_eq!(state(&s, "slow"), "pending", "{s}");
    assert_eq!(since(&s, "slow"), Some(slow_since), "{s}");
    assert_ne!(since(&s, "high"), Some(fired_at), "{s}");

    // 4. A new file is picked up, a deleted one dropped.
    std::fs::write(books.join("extra.runbook"), runbook_text("5s").replace("runbook live", "runbook extra"))
        .expect("write");
    w.wait_status(Duration::from_secs(10), "the new runbook", |s| runbook(s, "extra").is_some());
    std::fs::remove_file(books.join("extra.runbook")).expect("rm");
    w.wait_status(Duration::from_secs(10), "the deleted runbook to go", |s| runbook(s, "extra").is_none());

    exporter.set(0.0);
    assert_eq!(w.terminate(), Some(0), "{}", w.text());
    drop(prom);
}
