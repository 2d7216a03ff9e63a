//! `ripcord undo RUN_ID`: put back, byte for byte and with their permissions, the files that the run's
//! `restore` steps replaced (newest first), from the copies kept in the state dir. A file a restore created
//! is removed. Each file undone is recorded in the run's journal.

use clap::Args;

use super::run::StateArgs;
use crate::actions::file_steps;
use crate::runs::{Event, RunStore, StoredRun};

#[derive(Args, Debug)]
pub struct UndoArgs {
    /// The run whose restores to undo (see `ripcord runs`).
    pub run_id: String,
    /// Who undoes it (recorded in the journal; default: $USER).
    #[arg(long, env = "USER", default_value = "unknown")]
    pub operator: String,
    #[command(flatten)]
    pub state: StateArgs,
}

pub fn run(args: &UndoArgs) -> u8 {
    let Some((state, StoredRun { records, plan, .. })) = args.state.open_run(&args.run_id) else {
        return 1;
    };
    let _lock = match state.lock_runbook(&plan.runbook, &args.run_id) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("error: {e}; undo waits until no run of it is going");
            return 1;
        }
    };
    let replaced: Vec<file_steps::FileRecord> = records
        .iter()
        .filter_map(|r| match &r.event {
            Event::StepEnd { files, .. } => Some(files.iter().filter(|f| f.role == "replaced").cloned()),
            _ => None,
        })
        .flatten()
        .collect();
    if replaced.is_empty() {
        println!("run {} replaced no file; nothing to undo", args.run_id);
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
    for f in replaced.iter().rev() {
        // The path was resolved and checked when the run wrote it; check it again, links may have changed.
        let result = file_steps::resolve_under(&f.path, &plan.files_under).and_then(|_| file_steps::undo(f));
        let text = match &result {
            Ok(r) if f.kept.is_some() => format!("put back (sha256 {r})"),
            Ok(r) => r.clone(),
            Err(e) => {
                failed = true;
                format!("FAILED: {e}")
            }
        };
        println!("{}: {text}", f.path);
        let _ = journal.append(Event::Undo { path: f.path.clone(), result: text, operator: args.operator.clone() });
    }
    u8::from(failed)
}
