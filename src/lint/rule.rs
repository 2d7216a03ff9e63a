//! What a lint rule is: a name, a default severity, its documentation and the check that raises violations.

use super::Context;
use crate::diagnostic::Severity;
use crate::span::Span;

/// The documentation sections every rule has, in this order.
pub const DOC_SECTIONS: [&str; 4] = ["What it does", "Why is this bad?", "Example", "Use instead"];

/// A lint rule. Declared with `rule!` in its own file under `rules/`; its code is given in `registry.rs`.
#[derive(Clone, Copy, Debug)]
pub struct Rule {
    /// Kebab case, naming the pattern the rule flags (`step-without-timeout`), never the fix.
    pub name: &'static str,
    /// The severity of its findings unless the configuration says otherwise. A rule may raise a finding at
    /// a lower severity than this (its documentation then says when).
    pub severity: Severity,
    /// The doc comment as rustc keeps it: one line per `///` line, each with its leading space.
    pub raw_doc: &'static str,
    /// `None` for rules that are not checks over the plan (allow comments are checked in `suppress.rs`).
    pub check: Option<fn(&Context<'_>, &mut Vec<Violation>)>,
}

impl Rule {
    /// The documentation as Markdown.
    pub fn doc(&self) -> String {
        let mut out = String::with_capacity(self.raw_doc.len());
        for line in self.raw_doc.lines() {
            out.push_str(line.strip_prefix(' ').unwrap_or(line));
            out.push('\n');
        }
        out
    }

    /// The text of one `## Title` section, trimmed; `None` when the rule has no such section.
    pub fn section(&self, title: &str) -> Option<String> {
        let doc = self.doc();
        let heading = format!("## {title}\n");
        let start = doc.find(&heading)? + heading.len();
        let rest = &doc[start..];
        let end = rest.find("\n## ").map_or(rest.len(), |i| i + 1);
        Some(rest[..end].trim().to_string())
    }

    /// The first sentence of `## What it does`: one line for tables and SARIF's `shortDescription`.
    pub fn summary(&self) -> String {
        let what = self.section("What it does").unwrap_or_default();
        let paragraph = what.split("\n\n").next().unwrap_or_default().replace('\n', " ");
        match paragraph.find(". ") {
            Some(i) => paragraph[..=i].to_string(),
            // "Checks for retries that cannot help:" introduces a list; as a summary it is a sentence.
            None => match paragraph.strip_suffix(':') {
                Some(s) => format!("{s}."),
                None => paragraph,
            },
        }
    }
}

/// A problem a rule found, before the registry gives it a code and the configuration a severity.
#[derive(Clone, Debug, PartialEq)]
pub struct Violation {
    pub span: Span,
    pub message: String,
    pub label: Option<String>,
    pub related: Vec<(Span, String)>,
    pub help: Option<String>,
    /// Set when this violation is less severe than the rule's default.
    pub severity: Option<Severity>,
}

impl Violation {
    pub fn new(span: Span, message: impl Into<String>) -> Self {
        Violation { span, message: message.into(), label: None, related: Vec::new(), help: None, severity: None }
    }

    crate::diagnostic::annotation_builders!();

    pub fn severity(mut self, severity: Severity) -> Self {
        self.severity = Some(severity);
        self
    }
}
