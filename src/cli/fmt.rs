//! `ripcord fmt [--check] PATH...`: rewrite runbooks in the canonical layout (docs/formatting.md).
//!
//! A file with errors is never touched: its diagnostics are printed and the exit code is 1. With `--check`
//! nothing is written: each file that would change is named on stdout, followed by a unified diff of its
//! first differences, and the exit code is 1 if any would change.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use clap::Args;

use super::input::{dirs_without_runbooks, expand_paths, load_runbook};
use crate::diagnostic::render_human;
use crate::format::{FormatError, format_source, unified_diff};

/// Hunks of the diff shown per file by `--check`.
const CHECK_HUNKS: usize = 3;

#[derive(Args, Debug)]
pub struct FmtArgs {
    /// Runbook files, or directories to search for `*.runbook` files.
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// Write nothing: name each file that is not formatted and show its first differences; exit 1 if any.
    #[arg(long)]
    pub check: bool,
}

pub fn run(args: &FmtArgs) -> u8 {
    let color = super::stderr_color();
    let mut failed = false;
    let mut stdout = std::io::stdout().lock();
    let mut stderr = std::io::stderr().lock();
    for file in dirs_without_runbooks(&args.paths) {
        if let Some(d) = &file.error {
            let _ = write!(stderr, "{}", render_human(&file.path, &file.text, d, color));
        }
        failed = true;
    }
    for path in expand_paths(&args.paths) {
        let file = load_runbook(&path);
        if let Some(d) = &file.error {
            let _ = write!(stderr, "{}", render_human(&file.path, &file.text, d, color));
            failed = true;
            continue;
        }
        let formatted = match format_source(&file.text) {
            Ok(formatted) => formatted,
            Err(FormatError::Invalid(diagnostics)) => {
                for d in &diagnostics {
                    let _ = write!(stderr, "{}", render_human(&file.path, &file.text, d, color));
                }
                let _ = writeln!(stderr, "{}: not formatted: fix its errors first", file.path);
                failed = true;
                continue;
            }
            Err(FormatError::Unsafe(reason)) => {
                let _ = writeln!(stderr, "error: {}: not formatted: {reason} (a bug in ripcord fmt)", file.path);
                failed = true;
                continue;
            }
        };
        if formatted == file.text {
            continue;
        }
        if args.check {
            let _ = writeln!(stdout, "{}", file.path);
            let _ = write!(stdout, "{}", unified_diff(&file.path, &file.text, &formatted, CHECK_HUNKS));
            failed = true;
            continue;
        }
        // The byte-order mark, if the file had one, stays: the formatter sees the text after it.
        let bom = if starts_with_bom(&path) { "\u{feff}" } else { "" };
        match std::fs::write(&path, format!("{bom}{formatted}")) {
            Ok(()) => {
                let _ = writeln!(stdout, "formatted {}", file.path);
            }
            Err(e) => {
                let _ = writeln!(stderr, "error: cannot write `{}`: {e}", file.path);
                failed = true;
            }
        }
    }
    u8::from(failed)
}

fn starts_with_bom(path: &Path) -> bool {
    let mut head = [0u8; 3];
    std::fs::File::open(path).and_then(|mut f| f.read_exact(&mut head)).is_ok() && head == [0xEF, 0xBB, 0xBF]
}
