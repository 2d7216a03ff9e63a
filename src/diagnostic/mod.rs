//! Diagnostics: one type for every problem ripcord reports about user input, a registry of stable codes,
//! the renderers (miette for people, JSON for tools), and the "did you mean" help for a mistyped name.

mod codes;
mod render;
mod suggest;

pub use codes::Code;
pub use render::{Rendered, json_entry, render_human, render_plain};
pub use suggest::{closest, did_you_mean};

use crate::span::Span;

/// The builder methods of a report that has a `label: Option<String>`, `related: Vec<(Span, String)>` and
/// `help: Option<String>`: a [`Diagnostic`], and a lint rule's `Violation`.
macro_rules! annotation_builders {
    () => {
        /// What the primary span shows.
        pub fn label(mut self, label: impl Into<String>) -> Self {
            self.label = Some(label.into());
            self
        }

        /// A secondary span, such as the first definition of a duplicate.
        pub fn related(mut self, span: $crate::span::Span, label: impl Into<String>) -> Self {
            self.related.push((span, label.into()));
            self
        }

        /// What to do about it.
        pub fn help(mut self, help: impl Into<String>) -> Self {
            self.help = Some(help.into());
            self
        }
    };
}
pub(crate) use annotation_builders;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Warning,
    Error,
}

/// A problem in a runbook (or in a file a command reads), with where it is and what to do about it.
#[derive(Clone, Debug, PartialEq)]
pub struct Diagnostic {
    pub code: Code,
    pub severity: Severity,
    /// Lowercase, one line; user input in backticks.
    pub message: String,
    pub span: Span,
    /// What the primary span shows; defaults to the message.
    pub label: Option<String>,
    /// Secondary spans, such as the first definition of a duplicate.
    pub related: Vec<(Span, String)>,
    pub help: Option<String>,
}

impl Diagnostic {
    pub fn new(code: Code, span: Span, message: impl Into<String>) -> Self {
        Diagnostic {
            code,
            severity: code.severity(),
            message: message.into(),
            span,
            label: None,
            related: Vec::new(),
            help: None,
        }
    }

    annotation_builders!();

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// Sorts diagnostics by position, then code, so output is stable whatever order the checks ran in.
pub fn sort(diagnostics: &mut [Diagnostic]) {
    diagnostics.sort_by_key(|a| (a.span.start, a.span.end, a.code));
}
