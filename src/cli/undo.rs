//! `ripcord undo RUN_ID [--force]`: put back, byte for byte and with their permissions, the files that the
//! run's `restore` steps replaced (newest first), from the copies kept in the state dir. A file a restore
//! created is removed. Before touching a file, undo checks that it still holds what the run left there; a
//! file changed since is refused (exit 1) unless `--force`, which first keeps the newer content in the state
//! dir. Each file undone, refused or failed is recorded in the run's journal; a file undone once is not
//! undone again (a second `undo` says when and by whom it was).

use std::collections::HashMap;

use clap::Args;

use super::run::StateArgs;
use crate::actions::file_steps::{self, FileRecord};
use crate::runs::{Event, Record, RunStore, StoredRun, now_ms};

#[derive(Args, Debug)]
pub struct UndoArgs {
    /// The run whose restores to undo (see `ripcord runs`).
    pub run_id: String,
    /// Who undoes it (recorded in the journal; default: $USER).
    #[arg(long, env = "USER", default_value = "unknown")]
    pub operator: String,
    /// Undo files changed since the run too; their newer content is kept in the state dir first.
    #[arg(long)]
    pub force: bool,
    #[command(flatten)]
    pub state: StateArgs,
}

/// One file one restore step replaced.
struct Restore {
    step: String,
    replaced: FileRecord,
    /// What the restore wrote.
    restored: Option<String>,
}

/// An undo already journalled: when and by whom.
#[derive(Clone)]
struct Done {
    t_ms: i64,
    operator: String,
}

fn restores(records: &[Record]) -> Vec<Restore> {
    let mut out = Vec::new();
    for r in records {
        if let Event::StepEnd { step, files, .. } = &r.event {
            for f in files.iter().filter(|f| f.role == "replaced") {
                let restored =
                    files.iter().find(|g| g.role == "restored" && g.path == f.path).and_then(|g| g.sha256.clone());
                out.push(Restore { step: step.clone(), replaced: f.clone(), restored });
            }
        }
    }
    out
}

/// The undos done before, by `(step, path)`; an undo journalled before steps were recorded counts for every
/// restore of its path (it undid them all).
fn done_before(records: &[Record]) -> (HashMap<(String, String), Done>, HashMap<String, Done>) {
    let (mut by_step, mut by_path) = (HashMap::new(), HashMap::new());
    for r in records {
        if let Event::Undo { path, result, operator, step, outcome, .. } = &r.event {
            let ok = match outcome.as_deref() {
                Some(o) => o == "done",
                None => !result.starts_with("FAILED"),
            };
            if !ok {
                continue;
            }
            let done = Done { t_ms: r.t_ms, operator: operator.clone() };
            match step {
                Some(s) => by_step.insert((s.clone(), path.clone()), done),
                None => by_path.insert(path.clone(), done),
            };
        }
    }
    (by_step, by_path)
}

fn when(t_ms: i64) -> String {
    crate::source::format_rfc3339(t_ms.max(0) / 1000 * 1000, false)
}

fn sha_text(sha: Option<&String>) -> String {
    sha.map_or_else(|| "no file".to_string(), |s| format!("sha256 {s}"))
}

pub fn run(args: &UndoArgs) -> u8 {
    let Some((state, StoredRun { plan, summary, .. })) = args.state.open_run(&args.run_id) else {
        return 1;
    };
    // The lock of the run's runbook and labels: no run for the same series goes while its files are put back.
    let claim = crate::runs::Claim {
        runbook: &plan.runbook,
        labels: &summary.labels,
        run_id: &args.run_id,
        level: None,
        start_key: None,
        start: None,
    };
    let _lock = match state.lock_run(&claim) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("error: {e}; undo waits until no run of it is going");
            return 1;
        }
    };
    // Read under the lock: another undo may have finished meanwhile.
    let records = match crate::runs::load_run(&state, &args.run_id) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return 1;
        }
    };
    let all = restores(&records);
    if all.is_empty() {
        println!("run {} replaced no file; nothing to undo", args.run_id);
        return 0;
    }
    let (by_step, by_path) = done_before(&records);
    let done_of = |r: &Restore| {
        by_step.get(&(r.step.clone(), r.replaced.path.clone())).or_else(|| by_path.get(&r.replaced.path)).cloned()
    };
    if all.iter().all(|r| done_of(r).is_some()) {
        let last = all.iter().filter_map(done_of).max_by_key(|d| d.t_ms);
        if let Some(d) = last {
            println!("run {} was already undone at {} by {}; nothing to do", args.run_id, when(d.t_ms), d.operator);
        }
        return 0;
    }
    let mut journal = match state.reopen_run(&args.run_id) {
        Ok(j) => j,
        Err(e) => {
            eprintln!("error: {e}");
            return 1;
        }
    };
    let mut failed = false;
    // What each file should hold now: what the newest restore of it wrote, or, once a newer restore is
    // undone, what that undo put back.
    let mut expected: HashMap<String, Option<String>> = HashMap::new();
    let mut blocked: HashMap<String, String> = HashMap::new();
    for r in all.iter().rev() {
        let path = r.replaced.path.clone();
        let want = expected.entry(path.clone()).or_insert_with(|| r.restored.clone()).clone();
        if let Some(d) = done_of(r) {
            println!("{path}: already undone ({}) at {} by {}", r.step, when(d.t_ms), d.operator);
            expected.insert(path, r.replaced.sha256.clone());
            continue;
        }
        if let Some(newer) = blocked.get(&path) {
            println!("{path}: not undone ({}): the undo of {newer} was not done first", r.step);
            continue;
        }
        let (outcome, text, kept_newer) = undo_one(args, &*state, &plan.files_under, r, want.as_ref());
        println!("{path}: {text}");
        if outcome == "done" {
            expected.insert(path.clone(), r.replaced.sha256.clone());
        } else {
            failed = true;
            blocked.insert(path.clone(), r.step.clone());
            if outcome == "refused" {
                eprintln!(
                    "error: `{path}` changed after the run, and undo would lose that change; nothing was put back \
                     for it. To undo anyway, keeping the current content in the state dir: \
                     `ripcord undo {} --force`",
                    args.run_id
                );
            }
        }
        let _ = journal.append(Event::Undo {
            path,
            result: text,
            operator: args.operator.clone(),
            step: Some(r.step.clone()),
            outcome: Some(outcome.to_string()),
            kept_newer,
        });
    }
    u8::from(failed)
}

/// Undoes one restore after checking the file holds `want`: `(outcome, words, where newer content went)`.
fn undo_one(
    args: &UndoArgs,
    state: &dyn crate::runs::RunStore,
    roots: &[String],
    r: &Restore,
    want: Option<&String>,
) -> (&'static str, String, Option<String>) {
    let path = &r.replaced.path;
    let now = match file_steps::current(path, roots) {
        Ok(now) => now,
        Err(e) => return ("failed", format!("FAILED: {e}"), None),
    };
    let mut kept_newer = None;
    if now.as_ref() != want {
        let differs = format!("it holds {} where {} left {}", sha_text(now.as_ref()), r.step, sha_text(want));
        if !args.force {
            return ("refused", format!("REFUSED: changed since the run ({differs})"), None);
        }
        if now.is_some() {
            let dest = state.kept(&args.run_id).join("newer").join(format!("{}-{}", r.step, now_ms()));
            if let Err(e) = file_steps::keep_aside(path, roots, &dest) {
                return ("failed", format!("FAILED: {e}; nothing was put back"), None);
            }
            kept_newer = Some(dest.display().to_string());
        }
        println!(
            "{path}: changed since the run ({differs}); --force: {}",
            kept_newer
                .as_ref()
                .map_or("there is nothing to keep".to_string(), |k| format!("the newer content is kept in {k}"))
        );
    }
    match file_steps::undo(&r.replaced, roots) {
        Ok(sha) if r.replaced.kept.is_some() => ("done", format!("put back (sha256 {sha})"), kept_newer),
        Ok(text) => ("done", text, kept_newer),
        Err(e) => ("failed", format!("FAILED: {e}"), kept_newer),
    }
}
