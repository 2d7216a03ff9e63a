//! `ripcord report RUN_ID [-o FILE]`: the run as Markdown, for a post-incident review: who and why, the
//! timeline, what ran, the time each level took against its deadline, and the outcome.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::PathBuf;

use clap::Args;

use super::run::StateArgs;
use super::runs::{describe, time};
use crate::interpret::journal::{Event, Record, StepOutcome};
use crate::interpret::state::{self, StateDir};
use crate::plan::format_duration;

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
    let state = args.state.state();
    let records = match state::load_run(&state, &args.run_id) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return 1;
        }
    };
    let Some(md) = render(&state, &records) else {
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

fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

pub fn render(state: &StateDir, records: &[Record]) -> Option<String> {
    let summary = state::summarize(state, records)?;
    let Some(Event::Start { plan, runbook_path, plan_hash, .. }) = records.first().map(|r| &r.event) else {
        return None;
    };
    let t0 = summary.started_ms;
    let mut md = String::new();
    let _ = writeln!(md, "# Run {}: `{}` level {}\n", summary.id, summary.runbook, summary.level);
    let _ = writeln!(md, "| | |\n| --- | --- |");
    let _ = writeln!(md, "| runbook | `{}` ({}) |", summary.runbook, cell(runbook_path));
    let _ = writeln!(md, "| operator | {} |", cell(&summary.operator));
    let _ = writeln!(md, "| reason | {} |", cell(&summary.reason));
    let _ = writeln!(md, "| started | {} |", time(t0));
    if let Some(end) = summary.ended_ms {
        let _ =
            writeln!(md, "| ended | {} ({} after the start) |", time(end), format_duration((end - t0).max(0) as u64));
    }
    let _ = writeln!(md, "| outcome | **{}** |", summary.status);
    let _ = writeln!(md, "| plan sha256 | `{plan_hash}` |\n");

    let _ = writeln!(md, "## Levels against their deadlines\n");
    let _ = writeln!(
        md,
        "| level | first step | last record | took | deadline | within? |\n| --- | --- | --- | --- | --- | --- |"
    );
    let mut spans: BTreeMap<u32, (i64, i64)> = BTreeMap::new();
    for r in records {
        let level = match &r.event {
            Event::StepStart { level, .. } | Event::StepEnd { level, .. } | Event::LevelEnd { level, .. } => *level,
            _ => continue,
        };
        let is_start = matches!(r.event, Event::StepStart { .. });
        let e = spans.entry(level).or_insert((i64::MAX, r.t_ms));
        if is_start {
            e.0 = e.0.min(r.t_ms);
        }
        e.1 = e.1.max(r.t_ms);
    }
    for (level, (first, last)) in &spans {
        if *first == i64::MAX {
            continue;
        }
        let took = (last - first).max(0) as u64;
        let deadline = plan.level(*level).and_then(|l| l.deadline_ms);
        let _ = writeln!(
            md,
            "| {level} | {} | {} | {} | {} | {} |",
            time(*first),
            time(*last),
            format_duration(took),
            deadline.map(format_duration).unwrap_or_else(|| "none".into()),
            match deadline {
                Some(d) if took <= d => format!("yes ({} to spare)", format_duration(d - took)),
                Some(d) => format!("**no** ({} over)", format_duration(took - d)),
                None => "-".into(),
            }
        );
    }

    let _ = writeln!(md, "\n## What ran\n");
    let _ = writeln!(md, "| step | kind | what | outcome | took | tries |\n| --- | --- | --- | --- | --- | --- |");
    let mut details: BTreeMap<(u32, u32, String), (String, String)> = BTreeMap::new();
    for r in records {
        if let Event::StepStart { level, attempt, step, kind, detail, .. } = &r.event {
            details.insert((*level, *attempt, step.clone()), (kind.clone(), detail.clone()));
        }
    }
    for r in records {
        if let Event::StepEnd { level, attempt, step, outcome, duration_ms, tries, detail, exit_code, status, .. } =
            &r.event
        {
            let (kind, what) = details.get(&(*level, *attempt, step.clone())).cloned().unwrap_or_default();
            let mut out = if *outcome == StepOutcome::Ok { "ok".to_string() } else { "**failed**".to_string() };
            if let Some(c) = exit_code {
                out.push_str(&format!(", exit {c}"));
            }
            if let Some(c) = status {
                out.push_str(&format!(", HTTP {c}"));
            }
            if !detail.is_empty() {
                out.push_str(&format!(": {detail}"));
            }
            let attempt_note = if *attempt > 1 { format!(" (attempt {attempt})") } else { String::new() };
            let _ = writeln!(
                md,
                "| {step}{attempt_note} | {kind} | `{}` | {} | {} | {tries} |",
                cell(&what).replace('`', "'"),
                cell(&out),
                format_duration(*duration_ms)
            );
        }
    }

    let _ = writeln!(md, "\n## Timeline\n");
    let _ = writeln!(md, "| at | after | event |\n| --- | --- | --- |");
    for r in records {
        let _ = writeln!(
            md,
            "| {} | +{} | {} |",
            time(r.t_ms),
            format_duration((r.t_ms - t0).max(0) as u64),
            cell(&describe(r))
        );
    }
    let _ = writeln!(md, "\n## Outcome\n");
    let end = records.iter().rev().find_map(|r| match &r.event {
        Event::End { status, reason } => Some(format!("The run **{status}**: {reason}.")),
        _ => None,
    });
    let _ = writeln!(md, "{}", end.unwrap_or_else(|| format!("The run has not ended: it is **{}**.", summary.status)));
    Some(md)
}
