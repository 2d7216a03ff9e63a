//! `ripcord fmt`: runbooks rewritten in one canonical layout (docs/formatting.md), comments kept.
//!
//! The pipeline: compile, keeping the syntax tree (a runbook with errors is never formatted), find the
//! comments again (`comments`), attach them and the blank lines to nodes (`trivia`), print the tree
//! (`printer`, `expr`, `literal`) into lines and align them (`layout`).
//!
//! INVARIANT: formatting never changes meaning. Every result is compiled again and its plan compared with
//! the original's (and its comments counted) before it is returned; a difference is an error, not output.

mod comments;
mod expr;
mod layout;
mod literal;
mod printer;
mod trivia;
mod udiff;

pub use udiff::unified as unified_diff;

use crate::diagnostic::{Code, Diagnostic};

/// Why a runbook was not formatted.
#[derive(Debug)]
pub enum FormatError {
    /// The runbook has errors (every diagnostic, warnings included): it is left as it is.
    Invalid(Vec<Diagnostic>),
    /// The formatted text would not mean the same, or would lose a comment: a bug in the formatter, and
    /// the runbook is left as it is.
    Unsafe(String),
}

/// The runbook `text` (without a byte-order mark) in canonical layout. Parsing and printing recurse once per
/// operator of an expression, so the work runs on the compile driver's stack.
pub fn format_source(text: &str) -> Result<String, FormatError> {
    crate::compile::on_compile_stack(text, || format_here(text))
}

fn format_here(text: &str) -> Result<String, FormatError> {
    let (runbook, compiled) = crate::compile::compile_tree(text);
    if compiled.has_errors() {
        return Err(FormatError::Invalid(compiled.diagnostics));
    }
    let Some(runbook) = runbook else {
        return Err(FormatError::Invalid(compiled.diagnostics));
    };
    let found = comments::scan(text);
    let trivia = trivia::attach(text, &runbook, &found);
    let out = printer::print(text, &runbook, &trivia);
    check_same_meaning(&compiled, &found, &out)?;
    Ok(out)
}

/// The formatted text compiles to the same plan, with the same warnings, and holds the same comments.
fn check_same_meaning(
    before: &crate::compile::Compiled,
    comments: &[comments::Comment],
    out: &str,
) -> Result<(), FormatError> {
    let after = crate::compile(out);
    if after.has_errors() {
        let codes: Vec<Code> = after.diagnostics.iter().map(|d| d.code).collect();
        return Err(FormatError::Unsafe(format!("the formatted text does not compile ({codes:?})")));
    }
    if after.plan != before.plan {
        return Err(FormatError::Unsafe("the formatted text compiles to a different plan".to_string()));
    }
    let codes = |c: &crate::compile::Compiled| {
        let mut v: Vec<Code> = c.diagnostics.iter().map(|d| d.code).collect();
        v.sort();
        v
    };
    if codes(&after) != codes(before) {
        return Err(FormatError::Unsafe("the formatted text has different warnings".to_string()));
    }
    let texts = |c: &[comments::Comment]| {
        let mut v: Vec<String> = c.iter().map(|c| c.text.clone()).collect();
        v.sort();
        v
    };
    if texts(&comments::scan(out)) != texts(comments) {
        return Err(FormatError::Unsafe("the formatted text would lose or change a comment".to_string()));
    }
    Ok(())
}
