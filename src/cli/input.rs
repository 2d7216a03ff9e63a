//! Reading runbooks for the commands: the library's file handling (`crate::files`), plus compiling with every
//! diagnostic written to stderr.

use std::path::Path;

pub use crate::files::{LoadedFile, dirs_without_runbooks, expand_paths, load_runbook};

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
