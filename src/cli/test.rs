//! `ripcord test FILE|DIR... [--junit OUT.xml]`: run runbook unit tests (YAML files, docs/testing.md).
//! Exit 0 when every test passes, 1 when a test fails or a file is invalid, 2 for a usage error.

use std::io::Write;
use std::path::PathBuf;

use clap::Args;

use super::PromVersionArg;
use crate::diagnostic::render_human;
use crate::testing::{FileReport, Source};

#[derive(Args, Debug)]
pub struct TestArgs {
    /// Test files (`*.test.yml`), or directories to search for them.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Also write the results as JUnit XML to this file.
    #[arg(long, value_name = "OUT.xml")]
    pub junit: Option<PathBuf>,
    #[command(flatten)]
    pub version: PromVersionArg,
}

pub fn run(args: &TestArgs) -> u8 {
    let color = super::stderr_color();
    let files = crate::testing::expand_paths(&args.files);
    let mut stdout = std::io::stdout().lock();
    let mut reports: Vec<FileReport> = Vec::new();
    if files.is_empty() {
        let _ = writeln!(std::io::stderr(), "error: no `*.test.yml` files under {}", display_list(&args.files));
        return 1;
    }
    for path in &files {
        let report = crate::testing::run_file(path, args.version.or_default());
        if report.is_invalid() {
            let mut stderr = std::io::stderr().lock();
            for p in &report.problems {
                let (path, text) = match p.source {
                    Source::TestFile => (&report.path, &report.text),
                    Source::Runbook => (&report.runbook_path, &report.runbook_text),
                };
                let _ = write!(stderr, "{}", render_human(path, text, &p.diagnostic, color));
            }
        }
        let _ = write!(stdout, "{}", crate::testing::render_file(&report));
        reports.push(report);
    }
    let totals = crate::testing::totals(&reports);
    let ok = totals.failed == 0 && totals.invalid_files == 0;
    let invalid = match totals.invalid_files {
        0 => String::new(),
        1 => "; 1 file invalid".to_string(),
        n => format!("; {n} files invalid"),
    };
    let _ = writeln!(
        stdout,
        "\ntest result: {}. {} passed; {} failed{invalid}",
        if ok { "ok" } else { "FAILED" },
        totals.passed,
        totals.failed
    );
    if let Some(out) = &args.junit {
        let written =
            crate::testing::junit(&reports).and_then(|xml| std::fs::write(out, xml).map_err(|e| e.to_string()));
        if let Err(e) = written {
            let _ = writeln!(std::io::stderr(), "error: cannot write the JUnit report to `{}`: {e}", out.display());
            return 1;
        }
    }
    u8::from(!ok)
}

fn display_list(paths: &[PathBuf]) -> String {
    paths.iter().map(|p| format!("`{}`", p.display())).collect::<Vec<_>>().join(", ")
}
