//! Reading runbook files: the size limit, UTF-8, the byte-order mark, and directories expanded to the
//! `.runbook` files under them.

use std::io::Read;
use std::path::{Path, PathBuf};

use crate::diagnostic::{Code, Diagnostic};
use crate::span::Span;
use crate::syntax::MAX_FILE_BYTES;

/// A file as read, with what went wrong reading it (if anything).
pub struct LoadedFile {
    pub path: String,
    /// The text after the byte-order mark; empty when the file could not be read.
    pub text: String,
    pub error: Option<Diagnostic>,
}

/// Reads one runbook file. Never reads more than the limit plus one byte, so a huge file costs nothing.
pub fn load_runbook(path: &Path) -> LoadedFile {
    let display = path.display().to_string();
    let fail = |code: Code, message: String, help: &str| LoadedFile {
        path: display.clone(),
        text: String::new(),
        error: Some(Diagnostic::new(code, Span::new(0, 0), message).label("here").help(help.to_string())),
    };
    let file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) => {
            return fail(Code::Unreadable, format!("cannot read `{display}`: {e}"), "check the path and permissions");
        }
    };
    let mut bytes = Vec::new();
    if let Err(e) = file.take(MAX_FILE_BYTES as u64 + 1).read_to_end(&mut bytes) {
        return fail(Code::Unreadable, format!("cannot read `{display}`: {e}"), "check the path and permissions");
    }
    if bytes.len() > MAX_FILE_BYTES {
        return fail(
            Code::FileTooLarge,
            format!("`{display}` is larger than 8 MiB"),
            "split the runbook; no runbook needs megabytes of text",
        );
    }
    match String::from_utf8(bytes) {
        Ok(text) => {
            let text = crate::source_text(&text).to_string();
            LoadedFile { path: display, text, error: None }
        }
        Err(e) => {
            let offset = e.utf8_error().valid_up_to();
            let text = String::from_utf8_lossy(e.as_bytes()).into_owned();
            LoadedFile {
                path: display,
                error: Some(
                    Diagnostic::new(Code::NotUtf8, Span::new(offset, offset + 1), "file is not valid UTF-8")
                        .label("invalid byte here")
                        .help("save the runbook as UTF-8"),
                ),
                text,
            }
        }
    }
}

/// Reads and compiles one runbook for a command that needs its plan, writing every diagnostic (warnings
/// too) to stderr. `None` when the file cannot be read or has an error; the diagnostics say why.
pub fn compile_file(path: &Path) -> Option<(LoadedFile, crate::plan::Plan)> {
    let color = super::stderr_color();
    let file = load_runbook(path);
    if let Some(d) = &file.error {
        eprint!("{}", crate::diagnostic::render_human(&file.path, &file.text, d, color));
        return None;
    }
    let compiled = crate::compile(&file.text);
    for d in &compiled.diagnostics {
        eprint!("{}", crate::diagnostic::render_human(&file.path, &file.text, d, color));
    }
    let plan = compiled.plan?;
    Some((file, plan))
}

/// Files named on the command line, with directories expanded to the `.runbook` files below them (sorted).
pub fn expand_paths(paths: &[PathBuf]) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            let mut found = Vec::new();
            walk(p, &mut found);
            found.sort();
            out.extend(found);
        } else {
            out.push(p.clone());
        }
    }
    out
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        if kind.is_dir() {
            walk(&path, out);
        } else if path.extension().is_some_and(|e| e == "runbook") {
            out.push(path);
        }
    }
}
