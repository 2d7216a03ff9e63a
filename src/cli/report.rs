//! `ripcord report RUN_ID [-o FILE]`: the run as Markdown (built by `runs::report`), to stdout or a file.

use std::path::PathBuf;

use clap::Args;

use super::run::StateArgs;
use crate::runs::report;

#[derive(Args, Debug)]
pub struct ReportArgs {
    pub run_id: String,
    /// Write the report here instead of stdout.
    #[arg(long, short)]
    pub output: Option<PathBuf>,
    #[command(flatten)]
    pub state: StateArgs,
}

pub fn run(args: &ReportArgs) -> u8 {
    let Some((_, run)) = args.state.open_run(&args.run_id) else {
        return 1;
    };
    let Some(md) = report::render(&run) else {
        eprintln!("error: the journal of `{}` has no start record", args.run_id);
        return 1;
    };
    match &args.output {
        Some(path) => {
            if let Err(e) = std::fs::write(path, md) {
                eprintln!("error: cannot write `{}`: {e}", path.display());
                return 1;
            }
        }
        None => print!("{md}"),
    }
    0
}
