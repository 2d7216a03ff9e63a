//! Plan snapshots: `DIR/<runbook name>.plan.json`, the JSON that `ripcord plan --format json` prints, kept
//! in the user's repository so that a review shows what changed in meaning (`ripcord diff`).
//!
//! Used by `plan --check-snapshot DIR [--update]` and by `diff`, whose inputs are runbooks or snapshots.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use super::input::load_runbook;
use crate::diagnostic::render_human;
use crate::diff::{diff_plans, render_text};
use crate::plan::PLAN_FORMAT;
use crate::plan::Plan;

/// Snapshot files larger than this are refused (a plan is a few kilobytes per level).
const MAX_SNAPSHOT_BYTES: u64 = 64 * 1024 * 1024;

/// Where the snapshot of `plan` lives in `dir`.
pub(super) fn snapshot_path(dir: &Path, plan: &Plan) -> PathBuf {
    dir.join(format!("{}.plan.json", plan.runbook))
}

/// `plan FILE --check-snapshot DIR [--update]`, once the runbook has compiled: 0 when the snapshot matches
/// (or was written), 1 when it differs, is missing or cannot be read.
pub(super) fn check(file: &Path, plan: &Plan, dir: &Path, update: bool) -> u8 {
    let path = snapshot_path(dir, plan);
    let shown = path.display();
    let mut stderr = std::io::stderr().lock();
    let json = plan.to_json();
    if update {
        if std::fs::read_to_string(&path).is_ok_and(|old| old == json) {
            let _ = writeln!(stderr, "{shown} is up to date");
            return 0;
        }
        let written = std::fs::create_dir_all(dir).and_then(|()| std::fs::write(&path, &json));
        return match written {
            Ok(()) => {
                let _ = writeln!(stderr, "wrote {shown}");
                0
            }
            Err(e) => {
                let _ = writeln!(stderr, "error: cannot write `{shown}`: {e}");
                1
            }
        };
    }
    let hint = format!("run `ripcord plan {} --check-snapshot {} --update` to write it", file.display(), dir.display());
    if !path.exists() {
        let _ = writeln!(stderr, "error: no snapshot `{shown}`\n  help: {hint}");
        return 1;
    }
    let old = match read_plan_json(&path) {
        Ok(old) => old,
        Err(message) => {
            let _ = writeln!(stderr, "error: {message}\n  help: {hint}");
            return 1;
        }
    };
    if old == *plan {
        return 0;
    }
    let changes = diff_plans(&old, plan);
    let _ = std::io::stdout().lock().write_all(render_text(&changes).as_bytes());
    if changes.is_empty() {
        let _ = writeln!(
            stderr,
            "`{shown}` differs from the plan only in what is marked as a default, not in meaning\n  help: {hint}"
        );
    } else {
        let n = changes.len();
        let _ = writeln!(
            stderr,
            "the plan differs from `{shown}`: {n} change{} in meaning\n  help: if they are intended, {hint}",
            if n == 1 { "" } else { "s" }
        );
    }
    1
}

/// A plan from a runbook (compiled) or from a snapshot (a `.json` file). Problems are printed on stderr;
/// `None` then.
pub(super) fn load_plan(path: &Path) -> Option<Plan> {
    let mut stderr = std::io::stderr().lock();
    if path.extension().is_some_and(|e| e == "json") {
        return match read_plan_json(path) {
            Ok(plan) => Some(plan),
            Err(message) => {
                let _ = writeln!(stderr, "error: {message}");
                None
            }
        };
    }
    let color = super::stderr_color();
    let file = load_runbook(path);
    if let Some(d) = &file.error {
        let _ = write!(stderr, "{}", render_human(&file.path, &file.text, d, color));
        return None;
    }
    let compiled = crate::compile(&file.text);
    if compiled.plan.is_none() {
        for d in compiled.diagnostics.iter().filter(|d| d.is_error()) {
            let _ = write!(stderr, "{}", render_human(&file.path, &file.text, d, color));
        }
    }
    compiled.plan
}

/// A snapshot read back: the size limit, UTF-8, JSON, and the plan format this ripcord writes.
fn read_plan_json(path: &Path) -> Result<Plan, String> {
    let shown = path.display();
    let file = std::fs::File::open(path).map_err(|e| format!("cannot read `{shown}`: {e}"))?;
    let mut bytes = Vec::new();
    file.take(MAX_SNAPSHOT_BYTES + 1).read_to_end(&mut bytes).map_err(|e| format!("cannot read `{shown}`: {e}"))?;
    if bytes.len() as u64 > MAX_SNAPSHOT_BYTES {
        return Err(format!("`{shown}` is larger than 64 MiB: not a plan snapshot"));
    }
    let value: serde_json::Value = serde_json::from_slice(&bytes).map_err(|e| format!("`{shown}` is not JSON: {e}"))?;
    match value.get("format").and_then(serde_json::Value::as_u64) {
        Some(f) if f == u64::from(PLAN_FORMAT) => {}
        Some(f) => {
            return Err(format!("`{shown}` is a plan of format {f}; this ripcord reads format {PLAN_FORMAT}"));
        }
        None => return Err(format!("`{shown}` is not a plan snapshot (no \"format\")")),
    }
    serde_json::from_value(value).map_err(|e| format!("`{shown}` is not a plan snapshot: {e}"))
}
