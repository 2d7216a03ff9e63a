//! ripcord: recovery runbooks as code.
//!
//! The pipeline, each stage in its own module: `syntax` (text -> `ast`) -> `analyze` (checks, names, types ->
//! `plan::Plan`), driven by `compile`. The plan's consumers: `eval` (the one trigger state machine),
//! `simulate` (dry-run over recorded series), `interpret` (real runs, journalled in `runs`, side effects in
//! `actions`), `lint`, `format`, `diff`, `export`, `testing` and `watch` (live over `prometheus`); `cli` is the
//! thin layer on top. ARCHITECTURE.md has the code map and the layering `tests/architecture.rs` enforces.
//!
//! Embedding: [`compile`] turns source text into a plan or the diagnostics that explain why not.

pub mod actions;
pub mod analyze;
pub mod ast;
pub mod cli;
pub mod compile;
pub mod diagnostic;
pub mod diff;
pub mod eval;
pub mod export;
pub mod files;
pub mod format;
pub mod interpret;
pub mod lint;
pub mod lsp;
pub mod net;
pub mod plan;
pub mod prometheus;
pub mod runs;
pub mod simulate;
pub mod source;
pub mod span;
pub mod syntax;
pub mod testing;
pub mod text;
pub mod watch;
mod yaml;

pub use compile::{Compiled, compile};
pub use diagnostic::{Code, Diagnostic, Severity};
pub use plan::Plan;

/// Strips a UTF-8 byte-order mark, which editors on some systems write and the grammar should not see.
pub fn source_text(text: &str) -> &str {
    text.strip_prefix('\u{feff}').unwrap_or(text)
}
