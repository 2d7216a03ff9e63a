//! `ripcord runs [--format json]` lists runs, and the journals it cannot read as `unreadable` (exit 1 then);
//! `ripcord runs show ID` prints one run's audit trail.

use clap::{Args, Subcommand};

use super::TextOrJson;
use super::run::StateArgs;
use crate::runs::{self, RunStore, report};
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
    let Some(state) = args.state.state() else { return 1 };
    match &args.command {
        None => {
            let listing = runs::list_all(&state);
            let runs: Vec<&runs::RunSummary> = listing.runs.iter().map(|(s, _)| s).collect();
            match args.format {
                TextOrJson::Json => {
                    let unreadable = listing
                        .unreadable
                        .iter()
                        .map(|u| serde_json::json!({ "id": u.id, "status": "unreadable", "error": u.error }));
                    let all: Vec<serde_json::Value> =
                        runs.iter().filter_map(|r| serde_json::to_value(r).ok()).chain(unreadable).collect();
                    match serde_json::to_string_pretty(&all) {
                        Ok(s) => println!("{s}"),
                        Err(e) => {
                            eprintln!("error: {e}");
                            return 1;
                        }
                    }
                }
                TextOrJson::Text => {
                    if runs.is_empty() && listing.unreadable.is_empty() {
                        println!("no runs in `{}`", state.location());
                    }
                    for r in &runs {
                        println!(
                            "{}  {}  level {}{}  {}  {} ({}){}",
                            escape_control(&r.id),
                            report::time(r.started_ms),
                            r.level,
                            if r.current_level != r.level { format!(" -> {}", r.current_level) } else { String::new() },
                            escape_control(&r.status),
                            escape_control(&r.operator),
                            escape_control(&r.reason),
                            report::labels_suffix(&r.labels)
                        );
                    }
                    for u in &listing.unreadable {
                        println!("{}  unreadable: {}", u.id, u.error);
                    }
                }
            }
            if listing.unreadable.is_empty() {
                0
            } else {
                eprintln!(
                    "error: {} journal(s) in `{}` cannot be read (listed as unreadable); fix or move them aside",
                    listing.unreadable.len(),
                    state.location()
                );
                1
            }
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
                    let Some(s) = runs::summarize(&state, &records) else {
                        eprintln!("error: the journal of `{}` has no start record", escape_control(run_id));
                        return 1;
                    };
                    println!(
                        "run {} of `{}`{}: {}",
                        escape_control(&s.id),
                        escape_control(&s.runbook),
                        report::labels_suffix(&s.labels),
                        escape_control(&s.status)
                    );
                    for r in &records {
                        println!("{}  {}", report::time(r.t_ms), for_terminal(&report::describe(r)));
                    }
                }
            }
            0
        }
    }
}
