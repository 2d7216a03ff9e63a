//! `ripcord resume RUN_ID [--yes]`: continue an interrupted run with the plan it started with. Steps that
//! finished are not run again; a step that started but did not finish runs again (the output says so, and
//! whether the step is marked `idempotent`), never beside its first copy if that still runs
//! (`--wait-leftover`, `--kill-leftover`). `--rerun`, `--skip` or `--abort` (with `--operator`) decide
//! about such a step instead; on a shared store, a run a replica took over and holds waits for exactly
//! this decision, which reaches it through the store.

use clap::Args;

use super::TextOrJson;
use super::run::{LeftoverArgs, StateArgs, finish};
use crate::interpret::Unfinished;
use crate::runs::{self, Lease, RunStore, StepChoice, StepDecision};

#[derive(Args, Debug)]
pub struct ResumeArgs {
    /// The run to continue (see `ripcord runs`).
    pub run_id: String,
    #[command(flatten)]
    pub state: StateArgs,
    /// Approve, in advance, every level still waiting for approval.
    #[arg(long)]
    pub yes: bool,
    /// Prometheus base URL for `verify CONDITION` steps (default: the one the run started with).
    #[arg(long, value_name = "URL")]
    pub prometheus: Option<String>,
    #[command(flatten)]
    pub leftover: LeftoverArgs,
    #[command(flatten)]
    pub version: super::PromVersionArg,
    /// Run again the step that was cut off (not marked `idempotent`).
    #[arg(long, group = "choice", requires = "operator")]
    pub rerun: bool,
    /// Count the step that was cut off as done (you checked what it did).
    #[arg(long, group = "choice", requires = "operator")]
    pub skip: bool,
    /// End the run, failed, at the step that was cut off.
    #[arg(long, group = "choice", requires = "operator")]
    pub abort: bool,
    /// Who decides (with --rerun, --skip or --abort; recorded in the journal).
    #[arg(long)]
    pub operator: Option<String>,
    #[arg(long, value_enum, default_value_t = TextOrJson::Text)]
    pub format: TextOrJson,
}

impl ResumeArgs {
    fn choice(&self) -> Option<StepChoice> {
        if self.rerun {
            Some(StepChoice::Rerun)
        } else if self.skip {
            Some(StepChoice::Skip)
        } else if self.abort {
            Some(StepChoice::Abort)
        } else {
            None
        }
    }
}

pub fn run(args: &ResumeArgs) -> u8 {
    let Some(state) = args.state.state() else { return 1 };
    let unfinished = match (args.choice(), &args.operator) {
        (Some(choice), Some(operator)) => {
            if let Some(lease) = state.lease_of(&args.run_id) {
                return decide_held(&*state, &args.run_id, choice, operator, &lease);
            }
            Unfinished::Decided(choice, operator.clone())
        }
        _ => Unfinished::Rerun,
    };
    let result = crate::interpret::resume_deciding(
        &state,
        &args.run_id,
        args.yes,
        (args.prometheus.clone(), args.version.or_default()),
        args.format == TextOrJson::Text,
        &args.leftover.policy(),
        unfinished,
    );
    finish(result, args.format)
}

/// A run that a live process holds (a replica that took it over): the decision goes to it through the store.
fn decide_held(state: &dyn RunStore, run_id: &str, choice: StepChoice, operator: &str, lease: &Lease) -> u8 {
    let records = match runs::load_run(state, run_id) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return 1;
        }
    };
    let Some((_, step)) = runs::waiting_step(&records) else {
        eprintln!(
            "error: run `{run_id}` is held by {} and is not waiting for a decision about a step; nothing to decide",
            lease.holder
        );
        return 1;
    };
    let decision = StepDecision { step: step.clone(), choice, operator: operator.to_string(), at_ms: runs::now_ms() };
    match state.write_step_decision(run_id, &decision) {
        Ok(()) => {
            println!(
                "step {step} of run {run_id}: {} decided by {operator}; {} continues the run",
                choice.word(),
                lease.holder
            );
            0
        }
        Err(e) => {
            eprintln!("error: run `{run_id}`: {e}");
            1
        }
    }
}
