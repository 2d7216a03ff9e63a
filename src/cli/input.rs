//! Reading runbooks for the commands: the library's file handling (`crate::files`), plus compiling with every
//! diagnostic written to stderr.

use std::path::Path;

pub use crate::files::{LoadedFile, dirs_without_runbooks, expand_paths, load_runbook};

/// Reads and compiles one runbook for a command that needs its plan, writing every diagnostic (warnings
/// too) to stderr. `None` when the file cannot be read or has an error; the diagnostics say why.
pub fn compile_file(path: &Path) -> Option<(LoadedFile, crate::plan::Plan)> {
    compile_file_folding(path, false)
}

/// [`compile_file`], with `fold` showing a warning repeated under one code once, followed by how many
/// more there are and on which lines (`simulate`: 20 triggers with the same RC210 are one warning, not 20
/// renderings before the timeline). Errors are all shown.
pub fn compile_file_folding(path: &Path, fold: bool) -> Option<(LoadedFile, crate::plan::Plan)> {
    let color = super::stderr_color();
    let file = load_runbook(path);
    if let Some(d) = &file.error {
        eprint!("{}", crate::diagnostic::render_human(&file.path, &file.text, d, color));
        return None;
    }
    let compiled = crate::compile(&file.text);
    let lines = crate::span::LineIndex::new(&file.text);
    let mut shown: Vec<crate::diagnostic::Code> = Vec::new();
    for (i, d) in compiled.diagnostics.iter().enumerate() {
        if fold && !d.is_error() {
            if shown.contains(&d.code) {
                continue;
            }
            shown.push(d.code);
            eprint!("{}", crate::diagnostic::render_human(&file.path, &file.text, d, color));
            let more: Vec<usize> = compiled.diagnostics[i + 1..]
                .iter()
                .filter(|o| o.code == d.code && !o.is_error())
                .map(|o| lines.line(o.span.start))
                .collect();
            if !more.is_empty() {
                let at: Vec<String> = more.iter().take(10).map(usize::to_string).collect();
                let etc = if more.len() > 10 { ", ..." } else { "" };
                eprintln!(
                    "{} more {} warning{} like this one, at line{} {}{etc} (`ripcord check` shows each)\n",
                    more.len(),
                    d.code,
                    if more.len() == 1 { "" } else { "s" },
                    if more.len() == 1 { "" } else { "s" },
                    at.join(", ")
                );
            }
            continue;
        }
        eprint!("{}", crate::diagnostic::render_human(&file.path, &file.text, d, color));
    }
    let plan = compiled.plan?;
    Some((file, plan))
}
