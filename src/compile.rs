//! The compile driver: text to syntax tree to plan, and the one place that decides whether that work needs
//! a thread with a large stack. Used by the library API ([`compile`]), `check`, `lint`, `fmt`, `test` and
//! `watch`; lint and fmt use [`compile_tree`] because they need the syntax tree as well as the plan.
//!
//! INVARIANT: this is the only module in the crate that starts a thread with a large stack. Whatever recurses
//! once per operator of an expression (parsing, analysis, lint rules over conditions, the formatter's
//! printer) runs inside [`on_compile_stack`], which gives it that stack when the pre-scan
//! ([`crate::syntax::operator_count`]) says the text could be deep.

use crate::ast::Runbook;
use crate::diagnostic::{self, Diagnostic, Severity};
use crate::plan::Plan;

/// The result of compiling one runbook: the plan when there were no errors, and every diagnostic.
#[derive(Debug)]
pub struct Compiled {
    pub plan: Option<Plan>,
    pub diagnostics: Vec<Diagnostic>,
}

impl Compiled {
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(|d| d.severity == Severity::Error)
    }
}

/// Stack for compiling long expressions: analysis recurses once per operator of an expression (up to 1,000),
/// and debug builds use large frames. The memory is only reserved; a runbook touches a few pages of it.
const COMPILE_STACK_BYTES: usize = 256 * 1024 * 1024;

/// Sources with at most this many operator characters compile on the caller's thread: their expressions
/// cannot be deep enough to matter, and a new thread per call costs more than a small runbook's whole compile.
const INLINE_OPERATOR_LIMIT: usize = 256;

/// Text to plan: parse, analyse, compile. This is the library's main entry point.
///
/// A source with long expressions compiles on a thread of its own with a large stack, so that the answer for
/// deep input is the same in every build and on every caller's thread.
pub fn compile(text: &str) -> Compiled {
    on_compile_stack(text, || compile_tree(text).1)
}

/// Runs `work`, which parses or walks `text`, on a stack deep enough for the deepest input the parser
/// accepts: the caller's own when the pre-scan finds few operators, else a scoped thread with a large stack.
/// If no thread can be started, `work` runs on the caller's thread.
pub fn on_compile_stack<T: Send>(text: &str, work: impl Fn() -> T + Sync) -> T {
    if crate::syntax::operator_count(text) <= INLINE_OPERATOR_LIMIT {
        return work();
    }
    std::thread::scope(|scope| {
        std::thread::Builder::new()
            .name("ripcord-compile".to_string())
            .stack_size(COMPILE_STACK_BYTES)
            .spawn_scoped(scope, &work)
            .ok()
            .and_then(|handle| handle.join().ok())
            .unwrap_or_else(&work)
    })
}

/// Parses and compiles on the caller's thread, keeping the syntax tree (present whenever the text parsed,
/// errors or not). Call it inside [`on_compile_stack`].
pub fn compile_tree(text: &str) -> (Option<Runbook>, Compiled) {
    let (runbook, mut diagnostics) = crate::syntax::parse(text);
    let plan = match &runbook {
        Some(runbook) if diagnostics.iter().all(|d| !d.is_error()) => {
            let (plan, more) = crate::analyze::analyze(runbook, text);
            diagnostics.extend(more);
            plan
        }
        _ => None,
    };
    diagnostic::sort(&mut diagnostics);
    let plan = if diagnostics.iter().any(|d| d.is_error()) { None } else { plan };
    (runbook, Compiled { plan, diagnostics })
}
