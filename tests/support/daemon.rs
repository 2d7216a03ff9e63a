//! An external server (Prometheus, Alertmanager) as a child process: its stdout and stderr in a log file, and
//! killed (and reaped) when dropped, also when a test panics.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::prometheus::http_get;

pub struct Daemon {
    pub child: Child,
    pub log: PathBuf,
}

impl Daemon {
    /// Starts `program ARGS` in `dir`, logging to `log`.
    pub fn spawn(program: &str, args: &[String], dir: &Path, log: &Path) -> Daemon {
        let out = std::fs::File::create(log).expect("log file");
        let err = out.try_clone().expect("log file");
        let child = Command::new(program)
            .args(args)
            .current_dir(dir)
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .unwrap_or_else(|e| panic!("start {program}: {e}"));
        Daemon { child, log: log.to_path_buf() }
    }

    /// What it has logged so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Fails the test when it has exited.
    pub fn assert_running(&mut self, what: &str) {
        if let Ok(Some(status)) = self.child.try_wait() {
            panic!("{what} exited ({status}) before it was ready:\n{}", self.log());
        }
    }

    /// Waits until `GET base/-/ready` answers 200 (at most 30s).
    pub fn wait_ready(&mut self, base: &str, what: &str) {
        let start = Instant::now();
        loop {
            self.assert_running(what);
            if http_get(base, "/-/ready").is_some_and(|(status, _)| status == 200) {
                return;
            }
            assert!(start.elapsed() < Duration::from_secs(30), "{what} at {base} was not ready:\n{}", self.log());
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
