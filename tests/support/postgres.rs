//! A real PostgreSQL 15 on loopback for the tests of the shared store: `initdb` into a temporary directory and
//! `postgres -k DIR -h 127.0.0.1 -p PORT`, as an unprivileged user when the test runs as root (the server
//! refuses root: `nobody`, through `setpriv`). Stopped (fast shutdown) when its guard drops; it can be
//! stopped and started again on the same data (a restart mid-run).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tempfile::TempDir;

/// Where Debian's `postgresql-15` installs the server (.ci/run installs it).
pub const BIN: &str = "/usr/lib/postgresql/15/bin";

pub struct Postgres {
    _dir: TempDir,
    data: PathBuf,
    sockets: PathBuf,
    log: PathBuf,
    pub port: u16,
    child: Option<Child>,
}

fn running_as_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("Uid:")).map(|l| l.split_whitespace().nth(1) == Some("0")))
        .unwrap_or(false)
}

/// `program ARGS`, as `nobody` when this process is root.
fn command(program: &str) -> Command {
    let program = format!("{BIN}/{program}");
    if running_as_root() {
        let mut c = Command::new("setpriv");
        c.args(["--reuid=65534", "--regid=65534", "--clear-groups", &program]);
        c
    } else {
        Command::new(program)
    }
}

fn give_to_nobody(path: &Path) {
    if running_as_root() {
        std::os::unix::fs::chown(path, Some(65534), Some(65534)).expect("chown to nobody");
    }
}

impl Postgres {
    /// A fresh server, or `None` (SKIPPED, a failure under `CI`) when PostgreSQL is not installed.
    pub fn start(test: &str) -> Option<Postgres> {
        if !super::installed(test, &[&format!("{BIN}/initdb"), &format!("{BIN}/postgres")]) {
            return None;
        }
        let dir = tempfile::Builder::new().prefix("ripcord-pg").tempdir().expect("temp dir");
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).expect("chmod");
        let (data, sockets) = (dir.path().join("data"), dir.path().join("sockets"));
        for d in [&data, &sockets] {
            std::fs::create_dir(d).expect("mkdir");
            give_to_nobody(d);
        }
        let out = command("initdb")
            .args(["-D", &data.display().to_string(), "-U", "ripcord", "--auth=trust", "-E", "UTF8", "--no-sync"])
            .stdin(Stdio::null())
            .output()
            .expect("run initdb");
        assert!(out.status.success(), "initdb failed:\n{}", String::from_utf8_lossy(&out.stderr));
        let log = dir.path().join("postgres.log");
        let mut pg = Postgres { data, sockets, log, port: super::prometheus::free_port(), child: None, _dir: dir };
        pg.run();
        Some(pg)
    }

    /// `postgres://ripcord@127.0.0.1:PORT/postgres?sslmode=disable`.
    pub fn url(&self) -> String {
        format!("postgres://ripcord@127.0.0.1:{}/postgres?sslmode=disable", self.port)
    }

    /// Starts the server on its data and waits until it accepts connections.
    pub fn run(&mut self) {
        let out = std::fs::OpenOptions::new().create(true).append(true).open(&self.log).expect("log");
        let err = out.try_clone().expect("log");
        let child = command("postgres")
            .args(["-D", &self.data.display().to_string(), "-k", &self.sockets.display().to_string()])
            .args(["-h", "127.0.0.1", "-p", &self.port.to_string()])
            // Test speed: a crash of the machine is not what these tests are about.
            .args(["-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off"])
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .expect("start postgres");
        self.child = Some(child);
        let start = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            if let Some(c) = self.child.as_mut()
                && let Ok(Some(status)) = c.try_wait()
            {
                panic!("postgres exited ({status}):\n{}", self.log());
            }
            assert!(start.elapsed() < Duration::from_secs(30), "postgres did not listen:\n{}", self.log());
            std::thread::sleep(Duration::from_millis(50));
        }
        // Accepting TCP comes a moment before accepting sessions.
        std::thread::sleep(Duration::from_millis(200));
    }

    /// Stops the server (fast shutdown: sessions are cut) and waits for it to exit.
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = Command::new("kill").args(["-INT", &c.id().to_string()]).status();
            let start = Instant::now();
            while start.elapsed() < Duration::from_secs(20) {
                if let Ok(Some(_)) = c.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// What the server logged.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// One SQL statement through `psql`, its rows unaligned (`|` between columns).
    pub fn sql(&self, statement: &str) -> String {
        let out = command("psql")
            .args(["-h", "127.0.0.1", "-p", &self.port.to_string(), "-U", "ripcord", "-d", "postgres"])
            .args(["-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-c", statement])
            .stdin(Stdio::null())
            .output()
            .expect("run psql");
        assert!(out.status.success(), "psql `{statement}` failed:\n{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Starts `ripcord watch BOOKS` in `dir` as replica `name` of the store at `url`, with short leases
/// (heartbeat 200ms, expiry 1s), the token `s3cret` (in `dir/token`) and its own state dir.
pub fn replica(dir: &Path, url: &str, name: &str, prometheus: &str) -> super::watch::Watch {
    std::fs::write(dir.join("token"), "s3cret\n").expect("write the token");
    let state = format!("state-{name}");
    super::watch::Watch::start_with_grace(
        dir,
        &[
            "books",
            "--prometheus",
            prometheus,
            "--state-dir",
            &state,
            "--store",
            url,
            "--replica-id",
            name,
            "--heartbeat",
            "200ms",
            "--lease-expiry",
            "1s",
            "--token-file",
            "token",
        ],
        "2s",
    )
}

/// Every run in the store at `url`, as `ripcord runs --format json` lists them.
pub fn runs(dir: &Path, url: &str) -> Vec<serde_json::Value> {
    let out = super::bin::ripcord(dir, &["runs", "--store", url, "--format", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", super::bin::describe(&out));
    serde_json::from_slice(&out.stdout).expect("runs JSON")
}

/// The records of `run_id` (`ripcord runs show ID --format json`: one JSON object per line), each read back.
pub fn records(dir: &Path, url: &str, run_id: &str) -> Vec<serde_json::Value> {
    let out = super::bin::ripcord(dir, &["runs", "show", run_id, "--store", url, "--format", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", super::bin::describe(&out));
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("record `{l}` does not read back: {e}")))
        .collect()
}

/// The `event` of each record.
pub fn events(records: &[serde_json::Value]) -> Vec<String> {
    records.iter().map(|r| r["event"].as_str().unwrap_or_default().to_string()).collect()
}

/// Sends `signal` (`KILL`, `STOP`, `CONT`) to `pid`; a negative pid names a process group.
pub fn signal(pid: i64, signal: &str) {
    let _ = Command::new("kill").args([format!("-{signal}"), "--".into(), pid.to_string()]).status();
}

/// How many lines `dir/name` has (0 when it does not exist).
pub fn lines(dir: &Path, name: &str) -> usize {
    std::fs::read_to_string(dir.join(name)).map(|t| t.lines().count()).unwrap_or(0)
}

/// Polls `f` every 50ms until it holds, for at most `timeout`; panics naming `what` otherwise.
pub fn wait_until(timeout: Duration, what: &str, mut f: impl FnMut() -> bool) {
    let start = Instant::now();
    while !f() {
        assert!(start.elapsed() < timeout, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}
