//! Embedding ripcord: compile a runbook in your own tool and read its plan.
//!
//! Run with `cargo run --example embed -- runbooks/storage-migration.runbook`.

use ripcord::plan::{Action, Target};

fn main() -> std::process::ExitCode {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: embed RUNBOOK");
        return std::process::ExitCode::from(2);
    };
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("cannot read {path}: {e}");
            return std::process::ExitCode::from(1);
        }
    };
    let compiled = ripcord::compile(ripcord::source_text(&text));
    for d in &compiled.diagnostics {
        eprint!("{}", ripcord::diagnostic::render_plain(&path, &text, d));
    }
    let Some(plan) = compiled.plan else {
        return std::process::ExitCode::from(1);
    };

    println!("runbook {} evaluates every {} ms", plan.runbook, plan.evaluation_interval_ms);
    for t in &plan.triggers {
        let target = match &t.target {
            Target::Level { level } => format!("level {level}"),
            Target::Notify { channel, .. } => format!("notify {channel}"),
        };
        println!("  trigger {:<20} {:<50} -> {target}", t.name, t.condition_text);
    }
    for level in &plan.levels {
        let shell = level.steps.iter().filter(|s| matches!(s.action, Action::Shell { .. })).count();
        println!("  {} has {} steps ({shell} shell), deadline {:?} ms", level.id, level.steps.len(), level.deadline_ms);
    }
    std::process::ExitCode::SUCCESS
}
