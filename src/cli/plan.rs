//! `ripcord plan FILE`: print the compiled plan (text, JSON, YAML or a Mermaid diagram).

use std::io::Write;
use std::path::PathBuf;

use clap::{Args, ValueEnum};

use super::input::compile_file;

#[derive(Args, Debug)]
pub struct PlanArgs {
    /// The runbook to compile.
    pub file: PathBuf,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Compare the plan with its snapshot `DIR/<runbook name>.plan.json` instead of printing it: exit 1 and
    /// print what changed in meaning when they differ, or when there is no snapshot.
    #[arg(long, value_name = "DIR")]
    pub check_snapshot: Option<PathBuf>,
    /// With `--check-snapshot`: write the snapshot (the JSON plan) instead of comparing with it.
    #[arg(long, requires = "check_snapshot")]
    pub update: bool,
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub enum Format {
    Text,
    Json,
    Yaml,
    Mermaid,
}

pub fn run(args: &PlanArgs) -> u8 {
    let Some((_, plan)) = compile_file(&args.file) else { return 1 };
    if let Some(dir) = &args.check_snapshot {
        return super::snapshot::check(&args.file, &plan, dir, args.update);
    }
    let out = match args.format {
        Format::Text => crate::plan::render_text(&plan),
        Format::Json => plan.to_json(),
        Format::Yaml => plan.to_yaml(),
        Format::Mermaid => crate::plan::render_mermaid(&plan),
    };
    let mut stdout = std::io::stdout().lock();
    if stdout.write_all(out.as_bytes()).is_err() {
        return 1;
    }
    0
}
