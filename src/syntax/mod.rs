//! Text to syntax tree: the size and nesting pre-scan, pest, and lowering pest's pairs into `ast`.
//!
//! INVARIANT: pest types never leave this module. Parsing never panics: every failure is a `Diagnostic`.

mod errors;
mod expr;
mod limits;
mod lower;
mod parser;

pub use limits::{MAX_DEPTH, MAX_FILE_BYTES, MAX_LINE_BYTES, operator_count};

use crate::ast::Runbook;
use crate::diagnostic::{Code, Diagnostic};
use crate::span::Span;

/// Parses one runbook file. Returns the tree when the text follows the grammar, and every problem found.
///
/// The text should already have its byte-order mark removed (see `crate::source_text`).
pub fn parse(text: &str) -> (Option<Runbook>, Vec<Diagnostic>) {
    let early = limits::prescan(text);
    if !early.is_empty() {
        return (None, early);
    }
    let pairs = match parser::parse_file(text) {
        Ok(pairs) => pairs,
        Err(error) => return (None, vec![errors::translate(text, &error)]),
    };
    let mut lowering = lower::Lowering::default();
    let runbook = lowering.file(pairs);
    let mut diagnostics = lowering.diagnostics;
    if runbook.is_none() && diagnostics.is_empty() {
        diagnostics.push(
            Diagnostic::new(Code::EmptyFile, Span::new(0, text.len().min(1)), "empty file: no runbook here")
                .label("a runbook file holds one `runbook NAME { ... }`")
                .help("start with `runbook my_service { ... }`; see docs/language.md"),
        );
    }
    (runbook, diagnostics)
}

/// The span of a pest span: the one conversion, kept here so that pest types never leave `syntax/`.
fn span_of(span: pest::Span<'_>) -> Span {
    Span::new(span.start(), span.end())
}

/// The offset of the first byte at or after `from` that is neither white space nor inside a `#` comment.
pub fn skip_trivia(bytes: &[u8], mut from: usize) -> usize {
    while let Some(&b) = bytes.get(from) {
        match b {
            b' ' | b'\t' | b'\r' | b'\n' => from += 1,
            b'#' => {
                while bytes.get(from).is_some_and(|&c| c != b'\n') {
                    from += 1;
                }
            }
            _ => break,
        }
    }
    from
}
