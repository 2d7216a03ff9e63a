//! Shell steps: `sh -c COMMAND` through duct, in its own process group so that a timeout, a deadline or an
//! interruption ends the command *and everything it started*.

use std::os::unix::process::CommandExt;
use std::path::Path;
use std::sync::Arc;

use super::process::ProcessGroup;

/// How a command ended.
#[derive(Debug)]
pub struct ShellResult {
    /// `None` when a signal ended it.
    pub exit_code: Option<i32>,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
}

impl ShellResult {
    pub fn success(&self) -> bool {
        self.exit_code == Some(0)
    }
}

/// Kills a process group when dropped unless disarmed: dropping the future of a running command (timeout,
/// deadline, Ctrl-C) must not leave its processes behind.
struct GroupGuard {
    pgid: Option<u32>,
}

impl GroupGuard {
    fn disarm(&mut self) {
        self.pgid = None;
    }
}

impl Drop for GroupGuard {
    fn drop(&mut self) {
        if let Some(pgid) = self.pgid {
            super::process::kill_group(pgid);
        }
    }
}

/// Runs `command` with `sh -c` in `dir`, with `env` added to the environment, capturing its output;
/// `started` is told the command's process group as soon as it exists (the interpreter journals it, so that
/// a later process can find a group a killed run left behind). Cancel-safe: dropping the future kills the
/// command's process group.
pub async fn run(
    command: &str,
    dir: &Path,
    env: &[(String, String)],
    started: impl FnOnce(&ProcessGroup),
) -> std::io::Result<ShellResult> {
    let mut expr = duct::cmd!("sh", "-c", command)
        .dir(dir)
        .stdin_null()
        .stdout_capture()
        .stderr_capture()
        .unchecked()
        .before_spawn(|c| {
            c.process_group(0);
            Ok(())
        });
    for (k, v) in env {
        expr = expr.env(k, v);
    }
    let handle = Arc::new(expr.start()?);
    let mut guard = GroupGuard { pgid: handle.pids().first().copied() };
    if let Some(pgid) = guard.pgid {
        started(&ProcessGroup::of_leader(pgid));
    }
    let waiter = Arc::clone(&handle);
    let joined = tokio::task::spawn_blocking(move || {
        waiter.wait().map(|o| (o.status.code(), o.stdout.clone(), o.stderr.clone()))
    })
    .await;
    guard.disarm();
    let (exit_code, stdout, stderr) = joined.map_err(std::io::Error::other)??;
    Ok(ShellResult { exit_code, stdout, stderr })
}
