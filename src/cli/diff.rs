//! `ripcord diff OLD NEW [--format text|json]`: what changed in meaning between two runbooks or plan
//! snapshots. Exit codes as `diff(1)`: 0 no change, 1 changes, 2 trouble (usage, an input that cannot be
//! read or does not compile).

use std::io::Write;
use std::path::PathBuf;

use clap::Args;

use super::TextOrJson;
use super::snapshot::load_plan;
use crate::diff::{diff_plans, render_json, render_text};

#[derive(Args, Debug)]
pub struct DiffArgs {
    /// The old version: a runbook, or a plan snapshot (`.plan.json`, from `plan --format json`).
    pub old: PathBuf,
    /// The new version: a runbook, or a plan snapshot.
    pub new: PathBuf,
    /// One line per change, or `{"changes":[...]}` for tools.
    #[arg(long, value_enum, default_value_t = TextOrJson::Text)]
    pub format: TextOrJson,
}

pub fn run(args: &DiffArgs) -> u8 {
    let old = load_plan(&args.old);
    let new = load_plan(&args.new);
    let (Some(old), Some(new)) = (old, new) else {
        return 2;
    };
    let changes = diff_plans(&old, &new);
    let out = match args.format {
        TextOrJson::Text => render_text(&changes),
        TextOrJson::Json => render_json(&changes),
    };
    if std::io::stdout().lock().write_all(out.as_bytes()).is_err() {
        return 2;
    }
    u8::from(!changes.is_empty())
}
