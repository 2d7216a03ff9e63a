//! `ripcord check FILE...`: compile each runbook and report every diagnostic.

use std::io::Write;
use std::path::PathBuf;

use clap::Args;
use serde::Serialize;

use super::TextOrJson;
use super::input::{dirs_without_runbooks, expand_paths, load_runbook};
use crate::diagnostic::{Diagnostic, Rendered, json_entry, render_human};
use crate::span::LineIndex;

#[derive(Args, Debug)]
pub struct CheckArgs {
    /// Runbook files, or directories to search for `*.runbook` files.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Output format: human-readable diagnostics on stderr, or JSON on stdout.
    #[arg(long, value_enum, default_value_t = TextOrJson::Text)]
    pub format: TextOrJson,
}

#[derive(Serialize)]
struct JsonOutput {
    diagnostics: Vec<Rendered>,
}

pub fn run(args: &CheckArgs) -> u8 {
    let color = super::stderr_color();
    let mut any_error = false;
    let mut json = Vec::new();
    let mut stderr = std::io::stderr().lock();
    let empty = dirs_without_runbooks(&args.files);
    for file in empty.into_iter().chain(expand_paths(&args.files).iter().map(|p| load_runbook(p))) {
        let diagnostics: Vec<Diagnostic> = match &file.error {
            Some(d) => vec![d.clone()],
            None => crate::compile(&file.text).diagnostics,
        };
        any_error |= diagnostics.iter().any(Diagnostic::is_error);
        match args.format {
            TextOrJson::Json => {
                let index = LineIndex::new(&file.text);
                json.extend(diagnostics.iter().map(|d| json_entry(&file.path, &index, d)));
            }
            TextOrJson::Text => {
                for d in &diagnostics {
                    let _ = write!(stderr, "{}", render_human(&file.path, &file.text, d, color));
                }
            }
        }
    }
    if args.format == TextOrJson::Json {
        let out = serde_json::to_string(&JsonOutput { diagnostics: json }).unwrap_or_default();
        println!("{out}");
    }
    u8::from(any_error)
}
