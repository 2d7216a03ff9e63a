//! `ripcord resume RUN_ID [--yes]`: continue an interrupted run with the plan it started with. Steps that
//! finished are not run again; a step that started but did not finish runs again (the output says so, and
//! whether the step is marked `idempotent`), never beside its first copy if that still runs
//! (`--wait-leftover`, `--kill-leftover`).

use clap::Args;

use super::TextOrJson;
use super::run::{LeftoverArgs, StateArgs, finish};

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
    #[arg(long, value_enum, default_value_t = TextOrJson::Text)]
    pub format: TextOrJson,
}

pub fn run(args: &ResumeArgs) -> u8 {
    let state = args.state.state();
    let result = crate::interpret::resume(
        &state,
        &args.run_id,
        args.yes,
        (args.prometheus.clone(), args.version.or_default()),
        args.format == TextOrJson::Text,
        &args.leftover.policy(),
    );
    finish(result, args.format)
}
