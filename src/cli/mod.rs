//! The command line: a thin layer over the library. Each subcommand has its own file; this one parses
//! arguments and turns outcomes into exit codes (0 success, 1 a problem in the input, 2 a usage error).

mod check;
mod diff;
mod export;
mod fmt;
mod input;
mod lint;
mod plan;
mod simulate;
mod snapshot;
mod test;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

pub use input::{LoadedFile, load_runbook};

#[derive(Parser, Debug)]
#[command(name = "ripcord", version, about = "Recovery runbooks as code: check, plan, simulate", long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Check runbooks for errors; exits 1 if any file has an error (warnings alone exit 0).
    Check(check::CheckArgs),
    /// Print a runbook's compiled execution plan.
    Plan(plan::PlanArgs),
    /// Replay recorded metrics through a runbook: when triggers go pending and fire, what each level does.
    Simulate(simulate::SimulateArgs),
    /// Write a runbook for another system: `export prometheus-rules RUNBOOK` prints Prometheus alerting rules.
    Export(export::ExportArgs),
    /// Lint runbooks for operational mistakes (docs/lints.md); exits 1 if an error-severity finding remains.
    Lint(lint::LintArgs),
    /// Run runbook unit tests (YAML files of input series and expectations); exits 1 if any test fails.
    Test(test::TestArgs),
    /// Rewrite runbooks in the canonical layout, comments kept; `--check` only reports (exit 1 if any would change).
    Fmt(fmt::FmtArgs),
    /// What changed in meaning between two runbooks or plan snapshots; exits 0 with no change, 1 with changes.
    Diff(diff::DiffArgs),
}

/// Runs the CLI with the process's arguments and returns the exit code.
pub fn run() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    let code = match cli.command {
        Command::Check(args) => check::run(&args),
        Command::Plan(args) => plan::run(&args),
        Command::Simulate(args) => simulate::run(&args),
        Command::Export(args) => export::run(&args),
        Command::Test(args) => test::run(&args),
        Command::Lint(args) => lint::run(&args),
        Command::Fmt(args) => fmt::run(&args),
        Command::Diff(args) => diff::run(&args),
    };
    ExitCode::from(code)
}

/// Whether stderr should get colour: a terminal, and NO_COLOR unset or empty.
pub(crate) fn stderr_color() -> bool {
    use std::io::IsTerminal;
    std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()) && std::io::stderr().is_terminal()
}
