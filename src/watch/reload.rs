//! Hot reload: finding the runbook files under the given paths, reading them (through the capped reader in
//! `crate::files`), compiling them off to the side, and putting a version live only when it compiles. A
//! directory watch (notify, debounced) rescans after each batch of file events.
//!
//! INVARIANT: a reload never replaces a live plan with a broken one, nor a readable file's plan with
//! nothing because the file became unreadable: the previous version stays live, and the failure is logged
//! and kept in the runbook's `last_reload` (shown by `/api/status`).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use super::state::{LiveTrigger, ReloadStatus, WatchState, WatchedRunbook, lock, log};
use crate::diagnostic::render_plain;
use crate::plan::Plan;
use crate::runs::now_ms;

/// Every `*.runbook` under `roots` (files given by name are taken whatever they are called).
pub fn discover(roots: &[PathBuf]) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = crate::files::expand_paths(roots).into_iter().filter(|p| p.is_file()).collect();
    out.sort();
    out.dedup();
    out
}

/// A runbook file as read: its text (`None` when it could not be read at all) and its plan, or the reason
/// there is none (read or compile errors, rendered as plain text).
struct ReadRunbook {
    text: Option<String>,
    plan: Result<Plan, String>,
}

/// Reads and compiles one runbook file.
fn read_runbook(path: &Path) -> ReadRunbook {
    let file = crate::files::load_runbook(path);
    let shown = path.display().to_string();
    match file.error {
        Some(d) => {
            let error = render_plain(&shown, &file.text, &d).trim_end().to_string();
            let text = (!file.text.is_empty()).then_some(file.text);
            ReadRunbook { text, plan: Err(error) }
        }
        None => {
            let plan = compile_text(path, &file.text);
            ReadRunbook { text: Some(file.text), plan }
        }
    }
}

/// Compiles a runbook's text: the plan, or the errors rendered as plain text.
fn compile_text(path: &Path, text: &str) -> Result<Plan, String> {
    let compiled = crate::compile(crate::source_text(text));
    match compiled.plan {
        Some(p) => Ok(p),
        None => {
            let shown = path.display().to_string();
            let errors: Vec<String> = compiled
                .diagnostics
                .iter()
                .filter(|d| d.is_error())
                .map(|d| render_plain(&shown, text, d).trim_end().to_string())
                .collect();
            Err(if errors.is_empty() { "the runbook has errors".into() } else { errors.join("\n") })
        }
    }
}

/// The triggers of `plan` with fresh state machines, except those unchanged from `old`, which keep every
/// series' timers.
pub(super) fn live_triggers(plan: &Plan, old: &[LiveTrigger]) -> Vec<LiveTrigger> {
    plan.triggers
        .iter()
        .map(|t| {
            let mut live = LiveTrigger::new(t);
            if let Some(prev) = old.iter().find(|o| o.identity == live.identity) {
                for (series, machine) in prev.machines.tracked() {
                    live.machines.carry_over(series.clone(), machine.timers());
                }
                live.since = prev.since.clone();
            }
            live
        })
        .collect()
}

impl WatchState {
    /// Brings the watched set in line with the files: new files load, changed ones compile off to the side
    /// and go live only when valid, deleted ones are dropped.
    pub fn rescan(&self) {
        let files = discover(&self.roots);
        let now = now_ms();
        let mut books = lock(&self.runbooks);
        books.retain(|path, l| {
            let keep = files.contains(path);
            if !keep {
                log(&format!("`{}` was removed; runbook `{}` is no longer watched", path.display(), l.name()));
            }
            keep
        });
        for path in files {
            let read = read_runbook(&path);
            match books.get_mut(&path) {
                Some(l) if l.text == read.text => {}
                Some(l) => self.reload(l, read, now),
                None => {
                    let l = self.first_load(path.clone(), read, now);
                    books.insert(path, l);
                }
            }
        }
    }

    /// A changed file of a watched runbook: the new version goes live if it compiles, else the old stays.
    fn reload(&self, l: &mut WatchedRunbook, read: ReadRunbook, now: i64) {
        l.text = read.text;
        match read.plan {
            Ok(plan) => {
                l.triggers = match &l.plan {
                    Some(_) => live_triggers(&plan, &l.triggers),
                    None => self.restored_triggers(&plan, now),
                };
                l.plan = Some(Arc::new(plan));
                l.last_reload = ReloadStatus { ok: true, at: now, error: None };
                self.metrics.reloads.inc();
                log(&format!("reloaded `{}`", l.path.display()));
            }
            Err(e) => {
                log(&format!("`{}` has errors; the previous version stays live:\n{e}", l.path.display()));
                l.last_reload = ReloadStatus { ok: false, at: now, error: Some(e) };
                self.metrics.reload_failures.inc();
            }
        }
    }

    /// A file seen for the first time: watched from now on, live only if it compiles.
    fn first_load(&self, path: PathBuf, read: ReadRunbook, now: i64) -> WatchedRunbook {
        let (plan, last_reload) = match read.plan {
            Ok(p) => (Some(Arc::new(p)), ReloadStatus { ok: true, at: now, error: None }),
            Err(e) => {
                log(&format!("`{}` has errors; it is not watched until fixed:\n{e}", path.display()));
                (None, ReloadStatus { ok: false, at: now, error: Some(e) })
            }
        };
        let triggers = plan.as_ref().map(|p| self.restored_triggers(p, now)).unwrap_or_default();
        // Replicas sharing a store evaluate at the same instants (multiples of the interval), so that they see
        // the same samples and a series turns firing at the same time on each: its firing starts one run.
        let next_due_ms = match &plan {
            Some(p) if self.store.shared() => {
                let step = i64::try_from(p.evaluation_interval_ms.max(100)).unwrap_or(1000);
                (now / step + 1) * step
            }
            _ => now,
        };
        WatchedRunbook { path, text: read.text, plan, triggers, last_reload, next_due_ms, saved: true }
    }
}

/// The directories to watch for `roots`: a directory given is watched recursively; for a file given by
/// name, its directory alone (never the file: an editor's rename-over would leave a file watch deaf).
fn watched_dirs(roots: &[PathBuf]) -> Vec<(PathBuf, notify::RecursiveMode)> {
    use notify::RecursiveMode;
    let mut dirs: Vec<(PathBuf, RecursiveMode)> = Vec::new();
    for root in roots {
        let abs = std::path::absolute(root).unwrap_or_else(|_| root.clone());
        let entry = if abs.is_dir() {
            (abs, RecursiveMode::Recursive)
        } else {
            (abs.parent().map(PathBuf::from).unwrap_or(abs), RecursiveMode::NonRecursive)
        };
        if !dirs.iter().any(|(d, m)| *d == entry.0 && *m == entry.1) {
            dirs.push(entry);
        }
    }
    dirs
}

/// Watches the directories of the state's roots and rescans after each debounced batch of events that
/// touches a `*.runbook` file. Dropping the value returned stops the watch.
pub fn start_file_watcher(state: Arc<WatchState>, debounce: Duration) -> Result<impl Drop, String> {
    use notify_debouncer_full::new_debouncer;
    let (tx, rx) = std::sync::mpsc::channel();
    let mut debouncer = new_debouncer(debounce, None, tx).map_err(|e| format!("cannot watch files: {e}"))?;
    for (dir, mode) in watched_dirs(&state.roots) {
        debouncer.watch(&dir, mode).map_err(|e| format!("cannot watch `{}`: {e}", dir.display()))?;
    }
    std::thread::spawn(move || {
        for batch in rx {
            if state.stopping.load(Ordering::SeqCst) {
                break;
            }
            let relevant = match batch {
                Ok(events) => events.iter().any(|e| e.paths.iter().any(|p| crate::files::is_runbook(p))),
                Err(errors) => {
                    log(&format!("file watch errors: {errors:?}"));
                    true
                }
            };
            if relevant {
                state.rescan();
            }
        }
    });
    Ok(debouncer)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::TriggerState;
    use crate::plan::Labels;

    fn plan(text: &str) -> Plan {
        crate::compile(text).plan.expect("compiles")
    }

    const V1: &str = "runbook r {\n  metric e = promql \"x\"\n  trigger a: e > 1 for 1m -> level 1\n  trigger b: e > 2 for 1m -> level 1\n  level 1 {\n    step shell \"true\"\n  }\n}\n";

    #[test]
    fn reload_keeps_timers_of_unchanged_triggers_only() {
        let old_plan = plan(V1);
        let mut old = live_triggers(&old_plan, &[]);
        let (a, b) = (Labels::from_pairs([("instance", "a")]), Labels::from_pairs([("instance", "b")]));
        for t in &mut old {
            t.machines.observe(1000, Some(std::slice::from_ref(&a)), &mut Vec::new());
            t.machines.observe(2000, Some(&[a.clone(), b.clone()]), &mut Vec::new());
            t.since.insert(a.clone(), 1000);
            t.since.insert(b.clone(), 2000);
        }
        let new_plan = plan(&V1.replace("e > 2 for 1m", "e > 2 for 2m"));
        let new = live_triggers(&new_plan, &old);
        assert_eq!(new[0].state(), TriggerState::Pending);
        assert_eq!(new[0].machines.len(), 2, "every series' timers are carried");
        let series = new[0].series();
        assert_eq!(series.iter().map(|s| (s.0.clone(), s.2)).collect::<Vec<_>>(), [(a, Some(1000)), (b, Some(2000))]);
        assert_eq!(new[0].machines.active().find_map(|(_, m)| m.active_since()).map(|t| t >= 1000), Some(true));
        assert_eq!(new[0].since_ms(), Some(1000));
        assert_eq!(new[1].state(), TriggerState::Inactive);
        assert_eq!(new[1].since_ms(), None);
    }

    #[test]
    fn compile_errors_are_rendered() {
        let e = compile_text(Path::new("r.runbook"), "runbook r {\n  trigger t: nope >\n}\n").expect_err("broken");
        assert!(e.contains("r.runbook"), "{e}");
    }

    #[test]
    fn an_unreadable_file_is_reported_not_skipped() {
        let dir = std::env::temp_dir().join(format!("ripcord-watch-reload-{}", std::process::id()));
        let _ = std::fs::create_dir_all(&dir);
        let path = dir.join("big.runbook");
        let _ = std::fs::write(&path, vec![b'#'; crate::syntax::MAX_FILE_BYTES + 1]);
        let read = read_runbook(&path);
        let _ = std::fs::remove_dir_all(&dir);
        assert_eq!(read.text, None);
        let e = read.plan.expect_err("too large");
        assert!(e.contains("larger than 8 MiB"), "{e}");
    }
}
