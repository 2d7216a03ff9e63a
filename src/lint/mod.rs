//! Lint: rules about operational mistakes in runbooks that compile.
//!
//! `check` says whether a runbook means something; `lint` says whether what it means is wise: a trigger that
//! fires on one noisy sample, a restore with nothing to roll forward to, a deadline the steps cannot meet.
//!
//! The stages, in the order `lint_source` runs them:
//!
//! 1. Parse and analyse with the compile driver (`crate::compile::compile_tree`, on its stack). A file with a
//!    compile error gets its compile diagnostics as findings and no lint rules: rules read the `Plan`, and
//!    there is none.
//! 2. Run every enabled rule (`registry::RULES`, one file per rule in `rules/`) over a [`Context`] that pairs
//!    each plan item with its syntax node, so that a finding points at the text the author wrote.
//! 3. Apply the configuration (`ripcord.toml`, [`Config`]): a rule may be turned off or its severity changed.
//! 4. Apply `# ripcord: allow(RC801) reason` comments ([`suppress`]), which report reasonless and unused
//!    allows as findings of their own.
//!
//! INVARIANT: lint does no I/O and never fails: every input gives a list of findings. Output formats live in
//! `output/`; the command line (`cli/lint.rs`) only reads files and picks a format.

/// Declares a lint rule: the doc comment (with the sections `## What it does`, `## Why is this bad?`,
/// `## Example`, `## Use instead`) becomes the rule's documentation, kept in the binary for
/// `ripcord lint --explain` and for docs/lints.md. The rule's code is assigned in `registry.rs`.
macro_rules! rule {
    ($(#[doc = $doc:literal])+ name: $name:literal, severity: $severity:ident, check: $check:expr $(,)?) => {
        $(#[doc = $doc])+
        pub const RULE: $crate::lint::Rule = $crate::lint::Rule {
            name: $name,
            severity: $crate::diagnostic::Severity::$severity,
            raw_doc: concat!($($doc, "\n"),+),
            check: $check,
        };
    };
}

mod condition;
mod config;
mod context;
mod docs;
pub mod output;
pub mod registry;
mod rule;
mod rules;
mod suppress;

pub use config::{Config, ConfigError, Setting};
pub use context::{AstStep, Context, LevelRef, StepRef, TriggerRef};
pub use docs::{explain, lints_markdown};
pub use registry::{Entry, RULES};
pub use rule::{DOC_SECTIONS, Rule, Violation};

use std::borrow::Cow;

use crate::diagnostic::{Code, Diagnostic, Severity};
use crate::span::Span;

/// One problem `ripcord lint` reports: from a lint rule (`RC8xx`) or from compiling the file.
#[derive(Clone, Debug, PartialEq)]
pub struct Finding {
    /// `RC801`, or a compile diagnostic's code (`RC110`).
    pub code: &'static str,
    /// The rule's kebab-case name (`step-without-timeout`); for a compile diagnostic, its kind (`unknown-level`).
    pub name: Cow<'static, str>,
    pub severity: Severity,
    /// Lowercase, one line; user input in backticks.
    pub message: String,
    pub span: Span,
    /// What the primary span shows; defaults to the message.
    pub label: Option<String>,
    pub related: Vec<(Span, String)>,
    pub help: Option<String>,
}

impl Finding {
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    fn from_violation(entry: &Entry, severity: Severity, v: Violation) -> Finding {
        Finding {
            code: entry.code,
            name: Cow::Borrowed(entry.rule.name),
            severity,
            message: v.message,
            span: v.span,
            label: v.label,
            related: v.related,
            help: v.help,
        }
    }

    /// A compile diagnostic as a finding, with its own severity.
    pub fn from_diagnostic(d: &Diagnostic) -> Finding {
        Finding {
            code: d.code.as_str(),
            name: Cow::Owned(code_name(d.code)),
            severity: d.severity,
            message: d.message.clone(),
            span: d.span,
            label: d.label.clone(),
            related: d.related.clone(),
            help: d.help.clone(),
        }
    }
}

/// A compile diagnostic's kind in kebab case, from its name in the `Code` registry (`UnknownLevel` is
/// `unknown-level`).
pub fn code_name(code: Code) -> String {
    let variant = format!("{code:?}");
    let mut out = String::with_capacity(variant.len() + 4);
    for (i, c) in variant.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if i > 0 {
                out.push('-');
            }
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// Lints one runbook's text (byte-order mark already removed). Parsing, analysis and the rules that read
/// conditions recurse once per operator of an expression, so the work runs on the compile driver's stack.
pub fn lint_source(text: &str, config: &Config) -> Vec<Finding> {
    crate::compile::on_compile_stack(text, || lint_here(text, config))
}

fn lint_here(text: &str, config: &Config) -> Vec<Finding> {
    // Step one: the compiler, as `ripcord::compile` runs it, keeping the syntax tree for spans.
    let (runbook, compiled) = crate::compile::compile_tree(text);
    let mut findings: Vec<Finding> = compiled.diagnostics.iter().map(Finding::from_diagnostic).collect();
    let (Some(runbook), Some(plan)) = (runbook, compiled.plan) else {
        return findings;
    };

    // Step two: the rules, with the configuration's severities.
    let cx = Context::new(text, &runbook, &plan);
    let mut raised = Vec::new();
    for entry in RULES {
        let Some(check) = entry.rule.check else { continue };
        let setting = config.setting(entry.code);
        if setting == Some(Setting::Off) {
            continue;
        }
        let mut violations = Vec::new();
        check(&cx, &mut violations);
        for v in violations {
            let severity = match setting {
                Some(Setting::Warn) => Severity::Warning,
                Some(Setting::Error) => Severity::Error,
                _ => v.severity.unwrap_or(entry.rule.severity),
            };
            raised.push(Finding::from_violation(entry, severity, v));
        }
    }

    // Step three: allow comments, and what is wrong with them.
    findings.extend(suppress::apply(text, raised, config));
    sort(&mut findings);
    findings
}

/// Sorts findings by position, then code, so output is stable whatever order the rules ran in.
pub fn sort(findings: &mut [Finding]) {
    findings.sort_by(|a, b| (a.span.start, a.span.end, a.code).cmp(&(b.span.start, b.span.end, b.code)));
}
