//! `ripcord runs [--format json]` lists runs; `ripcord runs show ID` prints one run's audit trail.

use clap::{Args, Subcommand};

use super::TextOrJson;
use super::run::StateArgs;
use crate::runs::{self, report};
use crate::text::{escape_control, for_terminal};

#[derive(Args, Debug)]
pub struct RunsArgs {
    #[command(subcommand)]
    pub command: Option<RunsCommand>,
    #[command(flatten)]
    pub state: StateArgs,
    #[arg(long, value_enum, default_value_t = TextOrJson::Text)]
    pub format: TextOrJson,
}

#[derive(Subcommand, Debug)]
pub enum RunsCommand {
    /// Print a run's audit trail: who ran it and why, each step with its outcome, approvals, escalations.
    Show {
        run_id: String,
        #[arg(long, value_enum, default_value_t = TextOrJson::Text)]
        format: TextOrJson,
    },
}

pub fn run(args: &RunsArgs) -> u8 {
    let state = args.state.state();
    match &args.command {
        None => {
            let runs: Vec<runs::RunSummary> = runs::all_runs(&state).into_iter().map(|(s, _)| s).collect();
            match args.format {
                TextOrJson::Json => match serde_json::to_string_pretty(&runs) {
                    Ok(s) => println!("{s}"),
                    Err(e) => {
                        eprintln!("error: {e}");
                        return 1;
                    }
                },
                TextOrJson::Text => {
                    if runs.is_empty() {
                        println!("no runs in `{}`", state.root.display());
                    }
                    for r in &runs {
                        println!(
                            "{}  {}  level {}{}  {}  {} ({})",
                            escape_control(&r.id),
                            report::time(r.started_ms),
                            r.level,
                            if r.current_level != r.level { format!(" -> {}", r.current_level) } else { String::new() },
                            escape_control(&r.status),
                            escape_control(&r.operator),
                            escape_control(&r.reason)
                        );
                    }
                }
            }
            0
        }
        Some(RunsCommand::Show { run_id, format }) => {
            let records = match runs::load_run(&state, run_id) {
                Ok(r) => r,
                Err(e) => {
                    eprintln!("error: {e}");
                    return 1;
                }
            };
            match format {
                TextOrJson::Json => {
                    for r in &records {
                        match serde_json::to_string(r) {
                            Ok(s) => println!("{s}"),
                            Err(e) => {
                                eprintln!("error: {e}");
                                return 1;
                            }
                        }
                    }
                }
                TextOrJson::Text => {
                    if let Some(s) = runs::summarize(&state, &records) {
                        println!(
                            "run {} of `{}`: {}",
                            escape_control(&s.id),
                            escape_control(&s.runbook),
                            escape_control(&s.status)
                        );
                    }
                    for r in &records {
                        println!("{}  {}", report::time(r.t_ms), for_terminal(&report::describe(r)));
                    }
                }
            }
            0
        }
    }
}
