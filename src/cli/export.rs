//! `ripcord export prometheus-rules RUNBOOK [--strict]`: the runbook's triggers as a Prometheus
//! alerting-rule group on stdout; triggers that cannot be exported are listed on stderr.

use std::io::Write;
use std::path::PathBuf;

use clap::{Args, Subcommand};

use super::input::compile_file;

#[derive(Args, Debug)]
pub struct ExportArgs {
    #[command(subcommand)]
    pub target: ExportTarget,
}

#[derive(Subcommand, Debug)]
pub enum ExportTarget {
    /// Prometheus alerting rules (one group) for the triggers whose metrics are declared with `promql`.
    PrometheusRules(PrometheusRulesArgs),
}

#[derive(Args, Debug)]
pub struct PrometheusRulesArgs {
    /// The runbook to export.
    pub runbook: PathBuf,
    /// Exit 1 when a trigger cannot be exported (it is listed on stderr either way).
    #[arg(long)]
    pub strict: bool,
    #[command(flatten)]
    pub version: super::PromVersionArg,
}

pub fn run(args: &ExportArgs) -> u8 {
    match &args.target {
        ExportTarget::PrometheusRules(a) => prometheus_rules(a),
    }
}

fn prometheus_rules(args: &PrometheusRulesArgs) -> u8 {
    let Some((file, plan)) = compile_file(&args.runbook) else { return 1 };
    let mut stderr = std::io::stderr().lock();
    let export = crate::export::prometheus_rules(&plan, args.version.or_default());
    for s in &export.skipped {
        let _ = writeln!(stderr, "{}: trigger `{}` is not exported: {}", file.path, s.trigger, s.reason);
    }
    if !export.skipped.is_empty() {
        let _ = writeln!(
            stderr,
            "{}: exported {} of {} triggers",
            file.path,
            export.rules.len(),
            export.rules.len() + export.skipped.len()
        );
    }
    if std::io::stdout().lock().write_all(export.yaml.as_bytes()).is_err() {
        return 1;
    }
    u8::from(args.strict && !export.skipped.is_empty())
}
