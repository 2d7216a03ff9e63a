//! The command line: a thin layer over the library. Each subcommand has its own file; this one parses
//! arguments and turns outcomes into exit codes (0 success, 1 a problem in the input, 2 a usage error).

mod approve;
mod check;
mod diff;
mod export;
mod fmt;
mod input;
mod lint;
mod lsp;
mod plan;
mod report;
mod resume;
mod run;
mod runs;
mod simulate;
mod snapshot;
mod test;
mod undo;
mod watch;

use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

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
    /// Run a level of a runbook for real, journalled (docs/running.md); exits 0 if it succeeded, 1 if not, 130 if interrupted.
    Run(run::RunArgs),
    /// Continue an interrupted run with the plan it started with.
    Resume(resume::ResumeArgs),
    /// Approve the level a run is waiting on.
    Approve(approve::DecideArgs),
    /// Deny the level a run is waiting on: the level fails and the run stops.
    Deny(approve::DecideArgs),
    /// List runs (`runs show ID` prints one run's audit trail).
    Runs(runs::RunsArgs),
    /// Write a run's report as Markdown.
    Report(report::ReportArgs),
    /// Put back the files a run's restore steps replaced.
    Undo(undo::UndoArgs),
    /// Evaluate runbooks' triggers against a live Prometheus and start their levels; serves an HTTP API (docs/watch.md).
    Watch(watch::WatchArgs),
    /// Serve the language server protocol over stdio, for editors (docs/editors.md).
    Lsp(lsp::LspArgs),
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
        Command::Run(args) => run::run(&args),
        Command::Resume(args) => resume::run(&args),
        Command::Approve(args) => approve::run(&args, true),
        Command::Deny(args) => approve::run(&args, false),
        Command::Runs(args) => runs::run(&args),
        Command::Report(args) => report::run(&args),
        Command::Undo(args) => undo::run(&args),
        Command::Watch(args) => watch::run(&args),
        Command::Lsp(args) => lsp::run(&args),
    };
    ExitCode::from(code)
}

/// `--prometheus-version 2|3`, for every command that evaluates conditions or writes rules: whose query
/// semantics to follow (docs/simulation.md, "Prometheus 2 and 3"). `None` when not given: the default is 3,
/// except for `watch`, which then asks its server.
#[derive(clap::Args, Clone, Copy, Debug, Default)]
pub struct PromVersionArg {
    /// Follow this Prometheus major version's semantics: 2 (as 2.42 computes) or 3 (as 3.5 does) [default: 3].
    #[arg(long = "prometheus-version", value_name = "2|3", value_parser = clap::value_parser!(crate::eval::PromVersion))]
    pub prometheus_version: Option<crate::eval::PromVersion>,
}

impl PromVersionArg {
    /// The version asked for, or the default (3).
    pub fn or_default(self) -> crate::eval::PromVersion {
        self.prometheus_version.unwrap_or_default()
    }
}

/// `--format text|json`, for the commands that print text for people or JSON for tools.
#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub enum TextOrJson {
    Text,
    Json,
}

/// Whether stderr should get colour: a terminal, and NO_COLOR unset or empty.
pub(crate) fn stderr_color() -> bool {
    use std::io::IsTerminal;
    color_wanted(std::io::stderr().is_terminal())
}

/// Whether stdout should get colour: a terminal, and NO_COLOR unset or empty.
pub(crate) fn stdout_color() -> bool {
    use std::io::IsTerminal;
    color_wanted(std::io::stdout().is_terminal())
}

fn color_wanted(is_terminal: bool) -> bool {
    std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()) && is_terminal
}

/// `--max-answer-bytes`: the largest Prometheus answer read, for every command that queries Prometheus.
#[derive(clap::Args, Debug, Clone, Copy)]
pub struct AnswerLimitArgs {
    /// The largest Prometheus answer read (bytes, or with KiB/MiB/GiB); a larger one is refused unread.
    #[arg(long, default_value = "64MiB", value_parser = parse_bytes, value_name = "BYTES")]
    pub max_answer_bytes: u64,
}

/// A positive byte count: digits, optionally followed by `KiB`, `MiB` or `GiB` (or `K`, `M`, `G`).
fn parse_bytes(s: &str) -> Result<u64, String> {
    let s = s.trim();
    let digits = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (n, unit) = s.split_at(digits);
    let usage = || format!("`{s}` is not a size: write bytes (1048576) or 64KiB, 64MiB, 1GiB");
    let n: u64 = n.parse().map_err(|_| usage())?;
    let scale: u64 = match unit.trim() {
        "" | "B" => 1,
        "K" | "KiB" => 1 << 10,
        "M" | "MiB" => 1 << 20,
        "G" | "GiB" => 1 << 30,
        _ => return Err(usage()),
    };
    match n.checked_mul(scale) {
        Some(0) => Err("the size must be at least 1 byte".into()),
        Some(b) => Ok(b),
        None => Err(usage()),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn sizes_parse() {
        assert_eq!(super::parse_bytes("64MiB"), Ok(64 << 20));
        assert_eq!(super::parse_bytes("1000"), Ok(1000));
        assert_eq!(super::parse_bytes("2K"), Ok(2048));
        assert!(super::parse_bytes("0").is_err());
        assert!(super::parse_bytes("1TB").is_err());
        assert!(super::parse_bytes("99999999999G").is_err());
    }
}
