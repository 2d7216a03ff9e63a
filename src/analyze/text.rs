//! Strings: escapes, interpolation variables, and where interpolation may appear.

use super::Analyzer;
use crate::ast::{Text, TextPart};
use crate::diagnostic::{Code, Diagnostic, did_you_mean};
use crate::plan::{Template, TemplatePart, Variable};

/// Which interpolations a string may hold.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Interp {
    /// Any variable: commands, URLs, messages.
    Any,
    /// Only `${env.NAME}`: channel URLs, which exist before any run.
    EnvOnly,
    /// None: file paths, descriptions, queries; they must be known when the runbook is checked.
    None,
}

impl Analyzer<'_> {
    /// Checks a string and turns it into a template.
    pub(super) fn template(&mut self, text: &Text, allowed: Interp, what: &str) -> Template {
        let mut parts = Vec::new();
        for part in &text.parts {
            match part {
                TextPart::Literal(s) => {
                    if s.contains('\0') {
                        self.push(
                            Diagnostic::new(Code::NulByte, text.span, format!("{what} holds a NUL byte"))
                                .label("a NUL byte is in here")
                                .help("a command, URL, path or header cannot carry a NUL byte (it ends the text there); remove it"),
                        );
                    }
                    parts.push(TemplatePart::Text(s.clone()))
                }
                TextPart::BadEscape { text: esc, span } => {
                    self.push(
                        Diagnostic::new(Code::InvalidEscape, *span, format!("unknown escape `{esc}`"))
                            .label("not an escape the language defines")
                            .help("the escapes are \\\" \\\\ \\n \\t \\$; for a literal backslash write \\\\, or use a raw `backtick` string"),
                    );
                }
                TextPart::Interpolation { path, span } => {
                    let Some(var) = Variable::parse(path) else {
                        let names = Variable::NAMES.iter().copied();
                        let help = did_you_mean(path, names).unwrap_or_else(|| {
                            format!(
                                "the variables are {}, and env.NAME",
                                Variable::NAMES.iter().map(|n| format!("${{{n}}}")).collect::<Vec<_>>().join(" ")
                            )
                        });
                        self.push(
                            Diagnostic::new(Code::UnknownVariable, *span, format!("unknown variable `{path}`"))
                                .label("no such variable")
                                .help(help),
                        );
                        continue;
                    };
                    let ok = match allowed {
                        Interp::Any => true,
                        Interp::EnvOnly => matches!(var, Variable::Env(_)),
                        Interp::None => false,
                    };
                    if !ok {
                        let help = match allowed {
                            Interp::EnvOnly => "only `${env.NAME}` is known when the runbook loads".to_string(),
                            _ => format!(
                                "{what} must be known when the runbook is checked; write it out, or escape it as `\\${{`"
                            ),
                        };
                        self.push(
                            Diagnostic::new(
                                Code::InterpolationNotAllowed,
                                *span,
                                format!("interpolation is not allowed in {what}"),
                            )
                            .label("interpolation here")
                            .help(help),
                        );
                    }
                    parts.push(TemplatePart::Var(var));
                }
            }
        }
        // Adjacent literals can only come from dropped parts; merge them so templates compare by meaning.
        let mut merged: Vec<TemplatePart> = Vec::with_capacity(parts.len());
        for part in parts {
            match (merged.last_mut(), part) {
                (Some(TemplatePart::Text(a)), TemplatePart::Text(b)) => a.push_str(&b),
                (_, p) => merged.push(p),
            }
        }
        Template { parts: merged }
    }

    /// A string that must be plain text (no interpolation), checked and returned as a `String`.
    pub(super) fn plain(&mut self, text: &Text, what: &str) -> String {
        let t = self.template(text, Interp::None, what);
        t.render(|_| None)
    }
}
