//! The process groups of shell steps: who a group is (its id, its leader's start time in clock ticks since
//! boot, and the boot it belongs to, so that a recycled id is never taken for the step's group), whether
//! any process of it still lives, and signalling it. Read from `/proc`; signals through rustix (the crate
//! forbids `unsafe`). Used by the shell steps (`shell.rs`) and by the interpreter, which journals a group
//! when its step starts and looks for groups an interrupted run left behind.

use std::time::Duration;

use rustix::process::{Pid, Signal};
use serde::{Deserialize, Serialize};

/// A shell step's process group as journalled.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProcessGroup {
    /// The group id, which is the pid of `sh`, its leader.
    pub pgid: u32,
    /// The leader's start time (`/proc/PID/stat` field 22, clock ticks since boot).
    pub start_ticks: u64,
    /// `/proc/sys/kernel/random/boot_id` when the group started: a group of another boot is gone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub boot_id: Option<String>,
}

/// What `/proc/PID/stat` says of a process: its state letter, group and start time.
struct ProcStat {
    state: char,
    pgrp: u32,
    start_ticks: u64,
}

fn proc_stat(pid: u32) -> Option<ProcStat> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name is in parentheses and may hold anything: fields start after the last `)`.
    let rest = &text[text.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    Some(ProcStat {
        state: fields.first()?.chars().next()?,
        pgrp: fields.get(2)?.parse().ok()?,
        start_ticks: fields.get(19)?.parse().ok()?,
    })
}

fn boot_id() -> Option<String> {
    std::fs::read_to_string("/proc/sys/kernel/random/boot_id").ok().map(|s| s.trim().to_string())
}

fn pid(pgid: u32) -> Option<Pid> {
    // Never group 0 (our own), 1 (every process) or our own group.
    let own = rustix::process::getpgrp();
    Pid::from_raw(i32::try_from(pgid).ok()?).filter(|p| p.as_raw_nonzero().get() > 1 && *p != own)
}

impl ProcessGroup {
    /// The group `leader` leads, read right after it started.
    pub fn of_leader(leader: u32) -> ProcessGroup {
        let start_ticks = proc_stat(leader).map_or(0, |s| s.start_ticks);
        ProcessGroup { pgid: leader, start_ticks, boot_id: boot_id() }
    }

    /// Whether a process of this group still lives (a zombie does not). A group of another boot, or one
    /// whose leader is a different process than the one journalled, is not this group.
    pub fn alive(&self) -> bool {
        if self.boot_id.is_some() && boot_id().is_some() && self.boot_id != boot_id() {
            return false;
        }
        if let Some(leader) = proc_stat(self.pgid)
            && leader.pgrp == self.pgid
            && leader.start_ticks != self.start_ticks
        {
            return false;
        }
        let Ok(entries) = std::fs::read_dir("/proc") else {
            return false;
        };
        entries.flatten().filter_map(|e| e.file_name().to_str().and_then(|n| n.parse::<u32>().ok())).any(|p| {
            proc_stat(p).is_some_and(|s| {
                s.pgrp == self.pgid && !matches!(s.state, 'Z' | 'X' | 'x') && s.start_ticks >= self.start_ticks
            })
        })
    }

    /// Sends `signal` to every process of the group (nothing if it is gone).
    pub fn signal(&self, signal: Signal) {
        if let Some(p) = pid(self.pgid) {
            let _ = rustix::process::kill_process_group(p, signal);
        }
    }

    /// Waits up to `limit` for the group to end; whether it did.
    pub fn wait_gone(&self, limit: Duration) -> bool {
        let start = std::time::Instant::now();
        loop {
            if !self.alive() {
                return true;
            }
            if start.elapsed() >= limit {
                return false;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// SIGTERM, then SIGKILL if it is still there after `grace`; whether it is gone, and the last signal.
    pub fn end(&self, grace: Duration) -> (bool, &'static str) {
        self.signal(Signal::TERM);
        if self.wait_gone(grace) {
            return (true, "SIGTERM");
        }
        self.signal(Signal::KILL);
        (self.wait_gone(grace), "SIGKILL")
    }
}

/// Sends SIGKILL to every process of group `pgid`.
pub fn kill_group(pgid: u32) {
    if let Some(p) = pid(pgid) {
        let _ = rustix::process::kill_process_group(p, Signal::KILL);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_live_group_is_seen_and_ended() {
        use std::os::unix::process::CommandExt;
        let mut child = std::process::Command::new("sleep").arg("30").process_group(0).spawn().expect("sleep");
        let group = ProcessGroup::of_leader(child.id());
        assert!(group.start_ticks > 0);
        assert!(group.alive());
        let recycled = ProcessGroup { start_ticks: group.start_ticks + 1, ..group.clone() };
        assert!(!recycled.alive(), "a different leader is not the group");
        group.signal(Signal::KILL);
        let _ = child.wait();
        assert!(group.wait_gone(Duration::from_secs(5)));
    }
}
