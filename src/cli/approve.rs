//! `ripcord approve RUN_ID --operator NAME` and `ripcord deny RUN_ID --operator NAME`: decide for a run that
//! waits for approval. The decision is written atomically into the state dir, where the waiting process
//! finds it; the first decision for a level wins, and a later one exits 1 saying which
//! decision came first (by whom, when). A denial fails the level and stops the run (it is never escalated past).

use clap::Args;

use super::run::StateArgs;
use crate::runs::{Decision, Event, RunStore, StoredRun};

#[derive(Args, Debug)]
pub struct DecideArgs {
    /// The waiting run (see `ripcord runs`).
    pub run_id: String,
    /// Who decides (recorded in the journal; `${operator}` for the level's steps).
    #[arg(long)]
    pub operator: String,
    #[command(flatten)]
    pub state: StateArgs,
}

pub fn run(args: &DecideArgs, approved: bool) -> u8 {
    let Some((state, StoredRun { records, summary, .. })) = args.state.open_run(&args.run_id) else {
        return 1;
    };
    // The level it waits for: the last `waiting_approval` with no decision after it.
    let mut waiting = None;
    for r in &records {
        match &r.event {
            Event::WaitingApproval { level } => waiting = Some(*level),
            Event::Approval { level, .. } if Some(*level) == waiting => waiting = None,
            _ => {}
        }
    }
    let Some(level) = waiting else {
        eprintln!("error: run `{}` is not waiting for approval (it is {})", args.run_id, summary.status);
        return 1;
    };
    if summary.status == "succeeded" || summary.status == "failed" {
        eprintln!("error: run `{}` has already ended ({})", args.run_id, summary.status);
        return 1;
    }
    let decision = Decision::now(approved, args.operator.clone(), level);
    if let Err(e) = state.write_decision(&args.run_id, &decision) {
        eprintln!("error: run `{}`: {e}", args.run_id);
        return 1;
    }
    let word = decision.word();
    if summary.status == "interrupted" {
        println!(
            "level {level} of run {} {word} by {}; the run is interrupted: `ripcord resume {}` continues it",
            args.run_id, args.operator, args.run_id
        );
    } else {
        println!("level {level} of run {} {word} by {}", args.run_id, args.operator);
    }
    0
}
