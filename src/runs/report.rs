//! Runs in words: one journal record as a sentence (`ripcord runs show`), and a whole run as Markdown for a
//! post-incident review (`ripcord report`): who and why, the timeline, what ran, the time each level took
//! against its deadline, and the outcome.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::StoredRun;
use super::record::{Event, Record, StepOutcome};
use crate::plan::{Labels, format_duration};
use crate::text::escape_control;

/// What a step's end record adds after its outcome: `, exit 1, HTTP 503: detail`, each part when present.
fn end_details(exit_code: Option<i32>, status: Option<u16>, detail: &str) -> String {
    let mut s = String::new();
    if let Some(c) = exit_code {
        s.push_str(&format!(", exit {c}"));
    }
    if let Some(c) = status {
        s.push_str(&format!(", HTTP {c}"));
    }
    if !detail.is_empty() {
        s.push_str(&format!(": {detail}"));
    }
    s
}

fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

/// The Markdown report of a run (`ripcord report`); `None` when its journal has no start record.
pub fn render(run: &StoredRun) -> Option<String> {
    let (summary, records) = (&run.summary, &run.records);
    let Some(Event::Start { runbook_path, plan_hash, .. }) = records.first().map(|r| &r.event) else {
        return None;
    };
    let t0 = summary.started_ms;
    let mut md = String::new();
    let _ = writeln!(md, "# Run {}: `{}` level {}\n", summary.id, summary.runbook, summary.level);
    let _ = writeln!(md, "| | |\n| --- | --- |");
    let _ = writeln!(md, "| runbook | `{}` ({}) |", summary.runbook, cell(runbook_path));
    if !summary.labels.is_empty() {
        let _ = writeln!(md, "| labels | `{}` |", cell(&summary.labels.to_string()).replace('`', "'"));
    }
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
        let deadline = run.plan.level(*level).and_then(|l| l.deadline_ms);
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
            let word = if *outcome == StepOutcome::Ok { "ok" } else { "**failed**" };
            let out = format!("{word}{}", end_details(*exit_code, *status, detail));
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
    // The report is read on a terminal as often as in a Markdown viewer.
    Some(crate::text::for_terminal(&md).into_owned())
}

/// ` for {instance="a", mountpoint="/"}` for a run with labels, control characters escaped; nothing for
/// none.
pub fn labels_suffix(labels: &Labels) -> String {
    if labels.is_empty() {
        return String::new();
    }
    format!(" for {}", escape_control(&labels.to_string()))
}

/// A record's time, RFC 3339 in UTC with milliseconds.
pub fn time(t_ms: i64) -> String {
    crate::source::format_rfc3339(t_ms.max(0), true)
}

/// One journal record in words, as `ripcord runs show` prints it and the report's timeline lists it. Free
/// text (names, reasons, details, messages) has its control characters escaped, line breaks included, so
/// that a value can neither reach the terminal as an escape sequence nor forge a line of its own.
pub fn describe(r: &Record) -> String {
    let e = |s: &str| escape_control(s).into_owned();
    match &r.event {
        Event::Start { runbook, level, labels, operator, reason, plan_hash, runbook_path, yes, .. } => format!(
            "started level {level} of `{}` ({}){} by {}: {}{}; plan sha256 {}",
            e(runbook),
            e(runbook_path),
            labels_suffix(labels),
            e(operator),
            e(reason),
            if *yes { " (--yes)" } else { "" },
            &plan_hash[..plan_hash.len().min(16)]
        ),
        Event::Resume { pid, .. } => format!("resumed (pid {pid})"),
        Event::LevelStart { level, attempt } => format!("level {level} attempt {attempt} started"),
        Event::WaitingApproval { level } => format!("level {level} waiting for approval"),
        Event::Approval { level, approved, operator, via } => {
            format!("level {level} {} by {} ({})", if *approved { "approved" } else { "denied" }, e(operator), e(via))
        }
        Event::StepStart { step, kind, detail, rerun, .. } => {
            format!(
                "{step} {kind} started{}: {}",
                if *rerun { " again (after an interruption)" } else { "" },
                e(detail)
            )
        }
        Event::StepProcess { step, group, .. } => format!("{step} started process group {}", group.pgid),
        Event::LeftoverEnded { step, pgid, signal, by_run } => format!(
            "{step}'s process group {pgid}, left running by an interrupted process, ended with {signal} by run {}",
            e(by_run)
        ),
        Event::StepRetry { step, try_, error, backoff_ms, .. } => {
            format!("{step} try {try_} failed: {}; retry in {}", e(error), format_duration(*backoff_ms))
        }
        Event::StepEnd { step, outcome, duration_ms, tries, exit_code, status, detail, files, .. } => {
            let mut s = format!(
                "{step} {} in {}",
                if *outcome == StepOutcome::Ok { "ok" } else { "FAILED" },
                format_duration(*duration_ms)
            );
            if *tries > 1 {
                s.push_str(&format!(" after {tries} tries"));
            }
            s.push_str(&end_details(*exit_code, *status, &e(detail)));
            for f in files {
                s.push_str(&format!(
                    "\n    {} {} sha256 {}",
                    f.role,
                    e(&f.path),
                    f.sha256.as_deref().unwrap_or("(none: did not exist)")
                ));
            }
            s
        }
        Event::Notify { step, channel, message, .. } => format!("{step} notify {channel}: {}", e(message)),
        Event::LevelEnd { level, attempt, outcome, reason } => {
            format!("level {level} attempt {attempt} {outcome}: {}", e(reason))
        }
        Event::Escalate { from, to, reason } => {
            format!("escalated from level {from} to level {to}: {}", e(reason))
        }
        Event::Interrupted { signal, steps } => {
            format!(
                "interrupted by {signal}{}",
                if steps.is_empty() { String::new() } else { format!(" during {}", steps.join(", ")) }
            )
        }
        Event::Takeover { replica, from, epoch, reason, .. } => {
            format!("taken over by {} from {} (lease epoch {epoch}): {}", e(replica), e(from), e(reason))
        }
        Event::WaitingDecision { step, .. } => format!(
            "{step} was running when the run's replica was lost and is not marked idempotent: waiting for a person \
             (`ripcord resume --rerun|--skip|--abort`)"
        ),
        Event::StepDecided { step, choice, operator, via, .. } => {
            format!("{step}: {} decided by {} ({})", choice.word(), e(operator), e(via))
        }
        Event::End { status, reason } => format!("ended: {status} ({})", e(reason)),
        Event::Undo { path, result, operator, .. } => format!("undo by {}: {}: {}", e(operator), e(path), e(result)),
    }
}
