//! `ripcord runs [--format json]` lists runs; `ripcord runs show ID` prints one run's audit trail.

use clap::{Args, Subcommand};

use super::run::{Format, StateArgs};
use crate::interpret::journal::{Event, Record};
use crate::interpret::state;
use crate::plan::format_duration;

#[derive(Args, Debug)]
pub struct RunsArgs {
    #[command(subcommand)]
    pub command: Option<RunsCommand>,
    #[command(flatten)]
    pub state: StateArgs,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

#[derive(Subcommand, Debug)]
pub enum RunsCommand {
    /// Print a run's audit trail: who ran it and why, each step with its outcome, approvals, escalations.
    Show {
        run_id: String,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
}

pub fn run(args: &RunsArgs) -> u8 {
    let state = args.state.state();
    match &args.command {
        None => {
            let runs: Vec<state::RunSummary> = state::all_runs(&state).into_iter().map(|(s, _)| s).collect();
            match args.format {
                Format::Json => match serde_json::to_string_pretty(&runs) {
                    Ok(s) => println!("{s}"),
                    Err(e) => {
                        eprintln!("error: {e}");
                        return 1;
                    }
                },
                Format::Text => {
                    if runs.is_empty() {
                        println!("no runs in `{}`", state.root.display());
                    }
                    for r in &runs {
                        println!(
                            "{}  {}  level {}{}  {}  {} ({})",
                            r.id,
                            time(r.started_ms),
                            r.level,
                            if r.current_level != r.level { format!(" -> {}", r.current_level) } else { String::new() },
                            r.status,
                            r.operator,
                            r.reason
                        );
                    }
                }
            }
            0
        }
        Some(RunsCommand::Show { run_id, format }) => {
            let records = match state::load_run(&state, run_id) {
                Ok(r) => r,
                Err(e) => {
                    eprintln!("error: {e}");
                    return 1;
                }
            };
            match format {
                Format::Json => {
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
                Format::Text => {
                    if let Some(s) = state::summarize(&state, &records) {
                        println!("run {} of `{}`: {}", s.id, s.runbook, s.status);
                    }
                    for r in &records {
                        println!("{}  {}", time(r.t_ms), describe(r));
                    }
                }
            }
            0
        }
    }
}

pub fn time(t_ms: i64) -> String {
    let t = std::time::UNIX_EPOCH + std::time::Duration::from_millis(t_ms.max(0) as u64);
    humantime::format_rfc3339_millis(t).to_string()
}

/// One journal record in words.
pub fn describe(r: &Record) -> String {
    match &r.event {
        Event::Start { runbook, level, operator, reason, plan_hash, runbook_path, yes, .. } => format!(
            "started level {level} of `{runbook}` ({runbook_path}) by {operator}: {reason}{}; plan sha256 {}",
            if *yes { " (--yes)" } else { "" },
            &plan_hash[..plan_hash.len().min(16)]
        ),
        Event::Resume { pid, .. } => format!("resumed (pid {pid})"),
        Event::LevelStart { level, attempt } => format!("level {level} attempt {attempt} started"),
        Event::WaitingApproval { level } => format!("level {level} waiting for approval"),
        Event::Approval { level, approved, operator, via } => {
            format!("level {level} {} by {operator} ({via})", if *approved { "approved" } else { "denied" })
        }
        Event::StepStart { step, kind, detail, rerun, .. } => {
            format!("{step} {kind} started{}: {detail}", if *rerun { " again (after an interruption)" } else { "" })
        }
        Event::StepRetry { step, try_, error, backoff_ms, .. } => {
            format!("{step} try {try_} failed: {error}; retry in {}", format_duration(*backoff_ms))
        }
        Event::StepEnd { step, outcome, duration_ms, tries, exit_code, status, detail, files, .. } => {
            let mut s = format!(
                "{step} {} in {}",
                if *outcome == crate::interpret::journal::StepOutcome::Ok { "ok" } else { "FAILED" },
                format_duration(*duration_ms)
            );
            if *tries > 1 {
                s.push_str(&format!(" after {tries} tries"));
            }
            if let Some(c) = exit_code {
                s.push_str(&format!(", exit {c}"));
            }
            if let Some(c) = status {
                s.push_str(&format!(", HTTP {c}"));
            }
            if !detail.is_empty() {
                s.push_str(&format!(": {detail}"));
            }
            for f in files {
                s.push_str(&format!(
                    "\n    {} {} sha256 {}",
                    f.role,
                    f.path,
                    f.sha256.as_deref().unwrap_or("(none: did not exist)")
                ));
            }
            s
        }
        Event::Notify { step, channel, message, .. } => format!("{step} notify {channel}: {message}"),
        Event::LevelEnd { level, attempt, outcome, reason } => {
            format!("level {level} attempt {attempt} {outcome}: {reason}")
        }
        Event::Escalate { from, to, reason } => format!("escalated from level {from} to level {to}: {reason}"),
        Event::Interrupted { signal, steps } => {
            format!(
                "interrupted by {signal}{}",
                if steps.is_empty() { String::new() } else { format!(" during {}", steps.join(", ")) }
            )
        }
        Event::End { status, reason } => format!("ended: {status} ({reason})"),
        Event::Undo { path, result, operator } => format!("undo by {operator}: {path}: {result}"),
    }
}
