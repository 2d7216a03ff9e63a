//! A real Prometheus on loopback for the tests that need one: a tiny exporter the test controls (one gauge,
//! `app_errors_ratio`), and Prometheus 2.42 scraping it every second from a temporary TSDB, or serving a TSDB
//! the test filled, or loading the test's own configuration. Both are stopped when their guards drop, also
//! when a test panics.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde_json::Value;

use super::daemon::Daemon;

/// Where Debian's package installs Prometheus (.ci/run installs it).
pub const PROMETHEUS: &str = "/usr/bin/prometheus";

/// Where Debian's package installs promtool.
pub const PROMTOOL: &str = "/usr/bin/promtool";

/// The two Prometheus versions ripcord follows exactly, and where their binaries are: 2.42 from the system's
/// package (above), 3.5 wherever `.ci/prometheus3.sh` unpacked it (`PROMETHEUS3`, `PROMTOOL3`; the
/// repository's `.cache-prom3` when those are unset).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Version {
    V2,
    V3,
}

impl Version {
    pub const ALL: [Version; 2] = [Version::V2, Version::V3];

    /// The `--prometheus-version` value.
    pub fn flag(self) -> &'static str {
        match self {
            Version::V2 => "2",
            Version::V3 => "3",
        }
    }

    pub fn prometheus(self) -> String {
        self.binary("PROMETHEUS3", "prometheus", PROMETHEUS)
    }

    pub fn promtool(self) -> String {
        self.binary("PROMTOOL3", "promtool", PROMTOOL)
    }

    fn binary(self, var: &str, name: &str, v2: &str) -> String {
        match self {
            Version::V2 => v2.to_string(),
            Version::V3 => std::env::var(var)
                .unwrap_or_else(|_| super::root().join(".cache-prom3/root/usr/bin").join(name).display().to_string()),
        }
    }
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port()
}

/// Serves `GET /metrics` in the Prometheus text format with `app_errors_ratio` set to whatever `set` stored.
pub struct Exporter {
    pub addr: String,
    pub value: Arc<AtomicU64>,
    pub stop: Arc<AtomicBool>,
    pub thread: Option<JoinHandle<()>>,
}

impl Exporter {
    pub fn start(initial: f64) -> Exporter {
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

    pub fn set(&self, v: f64) {
        self.value.store(v.to_bits(), Ordering::SeqCst);
    }
}

pub fn serve_metrics(mut stream: TcpStream, value: f64) {
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
pub struct Prometheus {
    pub daemon: Daemon,
    pub url: String,
}

impl Prometheus {
    /// Scraping the exporter at `target` every second, with a fresh TSDB in `dir/tsdb`.
    pub fn start(dir: &Path, target: &str) -> Prometheus {
        Prometheus::start_version(Version::V2, dir, target)
    }

    /// [`start`](Self::start) with the Prometheus of `version`.
    pub fn start_version(version: Version, dir: &Path, target: &str) -> Prometheus {
        let config = format!(
            "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1s\n\
             scrape_configs:\n  - job_name: app\n    static_configs:\n      - targets: ['{target}']\n"
        );
        let data = dir.join("tsdb");
        std::fs::create_dir(&data).expect("mkdir tsdb");
        Prometheus::launch_version(version, dir, &config, &data, "1h")
    }

    /// Writes `config` to `dir/prometheus.yml` and starts Prometheus on a free port of loopback with its TSDB
    /// in `tsdb`, kept for `retention`, and its log in `dir/prometheus.log`. Does not wait.
    pub fn launch(dir: &Path, config: &str, tsdb: &Path, retention: &str) -> Prometheus {
        Prometheus::launch_version(Version::V2, dir, config, tsdb, retention)
    }

    /// [`launch`](Self::launch) with the Prometheus of `version`.
    pub fn launch_version(version: Version, dir: &Path, config: &str, tsdb: &Path, retention: &str) -> Prometheus {
        let port = free_port();
        let config_file = dir.join("prometheus.yml");
        std::fs::write(&config_file, config).expect("write the Prometheus config");
        let daemon = Daemon::spawn(
            &version.prometheus(),
            &[
                format!("--config.file={}", config_file.display()),
                format!("--storage.tsdb.path={}", tsdb.display()),
                format!("--web.listen-address=127.0.0.1:{port}"),
                format!("--storage.tsdb.retention.time={retention}"),
                "--log.level=warn".to_string(),
            ],
            dir,
            &dir.join("prometheus.log"),
        );
        Prometheus { daemon, url: format!("http://127.0.0.1:{port}") }
    }

    pub fn log(&self) -> String {
        self.daemon.log()
    }

    /// Waits (at most 30s) until `/-/ready` answers 200.
    pub fn wait_ready(&mut self) {
        let url = self.url.clone();
        self.daemon.wait_ready(&url, "prometheus");
    }

    /// Waits until `/-/ready` answers 200 and the first scrape of the exporter can be queried.
    pub fn wait_for_first_scrape(&mut self, timeout: Duration) {
        self.wait_for_query("/api/v1/query?query=app_errors_ratio", timeout);
    }

    /// Waits until `/-/ready` answers 200 and the instant query `path` has a result.
    pub fn wait_for_query(&mut self, path: &str, timeout: Duration) {
        let start = Instant::now();
        let mut ready = false;
        loop {
            self.daemon.assert_running("prometheus");
            if !ready {
                ready = http_get(&self.url, "/-/ready").is_some_and(|(status, _)| status == 200);
            }
            if ready
                && let Some((200, body)) = http_get(&self.url, path)
                && let Ok(doc) = serde_json::from_str::<Value>(&body)
                && doc.pointer("/data/result/0/value/1").is_some()
            {
                return;
            }
            assert!(
                start.elapsed() < timeout,
                "prometheus at {} was not ready (ready: {ready}) with a result for {path} after {timeout:?}:\n{}",
                self.url,
                self.log()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// The latest scraped value of `app_errors_ratio`, as Prometheus answers an instant query now.
    pub fn current(&self) -> Option<f64> {
        let (status, body) = http_get(&self.url, "/api/v1/query?query=app_errors_ratio")?;
        if status != 200 {
            return None;
        }
        let doc: Value = serde_json::from_str(&body).ok()?;
        doc.pointer("/data/result/0/value/1")?.as_str()?.parse().ok()
    }
}

/// A plain HTTP/1.0 GET on loopback: the status and the body, or `None` when nothing answers.
pub fn http_get(base: &str, path: &str) -> Option<(u16, String)> {
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

/// Waits (at most 10s) until Prometheus has scraped `value`.
pub fn wait_for_value(prom: &Prometheus, value: f64) {
    let start = Instant::now();
    while prom.current() != Some(value) {
        assert!(start.elapsed() < Duration::from_secs(10), "prometheus did not scrape {value}:\n{}", prom.log());
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// An exporter at `initial` and a Prometheus in `dir` scraping it, once the first scrape can be queried
/// (at most 30s).
pub fn scraped(dir: &Path, initial: f64) -> (Exporter, Prometheus) {
    scraped_by(Version::V2, dir, initial)
}

/// [`scraped`] with the Prometheus of `version`.
pub fn scraped_by(version: Version, dir: &Path, initial: f64) -> (Exporter, Prometheus) {
    let exporter = Exporter::start(initial);
    let mut prom = Prometheus::start_version(version, dir, &exporter.addr);
    prom.wait_for_first_scrape(Duration::from_secs(30));
    (exporter, prom)
}

/// Serves `GET /metrics` with one gauge family, one series per `instance` label, each set by the test: what a
/// trigger per series reads. Prometheus scrapes it with `honor_labels`, so the series keep their `instance`.
pub struct FamilyExporter {
    pub addr: String,
    values: Arc<std::sync::Mutex<std::collections::BTreeMap<String, f64>>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl FamilyExporter {
    /// `metric{instance="NAME"} VALUE` for each of `initial`.
    pub fn start(metric: &'static str, initial: &[(&str, f64)]) -> FamilyExporter {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the exporter");
        let addr = listener.local_addr().expect("addr").to_string();
        let values = Arc::new(std::sync::Mutex::new(initial.iter().map(|(k, v)| (k.to_string(), *v)).collect()));
        let stop = Arc::new(AtomicBool::new(false));
        let (v, s) = (Arc::clone(&values), Arc::clone(&stop));
        let thread = std::thread::spawn(move || {
            for stream in listener.incoming() {
                if s.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                let body: String = {
                    let values: &std::collections::BTreeMap<String, f64> = &v.lock().expect("values");
                    let mut b = format!("# TYPE {metric} gauge\n");
                    for (instance, value) in values {
                        b.push_str(&format!("{metric}{{instance=\"{instance}\"}} {value}\n"));
                    }
                    b
                };
                serve_body(stream, &body);
            }
        });
        FamilyExporter { addr, values, stop, thread: Some(thread) }
    }

    pub fn set(&self, instance: &str, value: f64) {
        self.values.lock().expect("values").insert(instance.to_string(), value);
    }

    /// A Prometheus of `version` in `dir` scraping this exporter every second with `honor_labels`, once
    /// `metric` can be queried (at most 30s).
    pub fn scraped_by(&self, version: Version, dir: &Path, metric: &str) -> Prometheus {
        let config = format!(
            "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1s\n\
             scrape_configs:\n  - job_name: app\n    honor_labels: true\n    static_configs:\n      - targets: ['{}']\n",
            self.addr
        );
        let data = dir.join("tsdb");
        std::fs::create_dir(&data).expect("mkdir tsdb");
        let mut prom = Prometheus::launch_version(version, dir, &config, &data, "1h");
        prom.wait_for_query(&format!("/api/v1/query?query={metric}"), Duration::from_secs(30));
        prom
    }
}

impl Drop for FamilyExporter {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(&self.addr);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Answers one request: `body` for `GET /metrics`, 404 for anything else.
fn serve_body(mut stream: TcpStream, body: &str) {
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
    let (status, body) =
        if request_line.starts_with("GET /metrics") { ("200 OK", body) } else { ("404 Not Found", "not found\n") };
    let _ = write!(
        stream,
        "HTTP/1.1 {status}\r\ncontent-type: text/plain; version=0.0.4\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = stream.flush();
    let _ = stream.shutdown(Shutdown::Both);
}
