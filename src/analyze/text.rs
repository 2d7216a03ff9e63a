//! Strings: escapes, interpolation variables, and where interpolation may appear.

use super::Analyzer;
use crate::ast::{Text, TextPart};
use crate::diagnostic::{Code, Diagnostic, did_you_mean};
use crate::plan::request::{self, UrlSlot};
use crate::plan::shell::{self, ShellSlot};
use crate::plan::{Template, TemplatePart, Variable};

/// Which interpolations a string may hold.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Interp {
    /// Any variable: commands, URLs, messages.
    Any,
    /// Only `${env.NAME}`: channel URLs, which exist before any run.
    EnvOnly,
    /// What an alert knows when it fires, before any run: `${labels.NAME}`, `${value}`, `${trigger}`,
    /// `${runbook}` (a trigger's annotations).
    Alert,
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
                        let help = if path.starts_with("labels.") {
                            "a label name is letters, digits and `_`, not starting with a digit: `${labels.instance}`"
                                .to_string()
                        } else {
                            did_you_mean(path, names).unwrap_or_else(|| {
                                format!(
                                    "the variables are {}, labels.NAME and env.NAME",
                                    Variable::NAMES.iter().map(|n| format!("${{{n}}}")).collect::<Vec<_>>().join(" ")
                                )
                            })
                        };
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
                        Interp::Alert => {
                            matches!(var, Variable::Label(_) | Variable::Value | Variable::Trigger | Variable::Runbook)
                        }
                        Interp::None => false,
                    };
                    if !ok {
                        let help = match allowed {
                            Interp::EnvOnly => "only `${env.NAME}` is known when the runbook loads".to_string(),
                            Interp::Alert => format!(
                                "{what} is written when the alert fires, before any run and on any machine: it may \
                                 use `${{labels.NAME}}`, `${{value}}`, `${{trigger}}` and `${{runbook}}`, not `${{{var}}}`"
                            ),
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

    /// The spans of `text`'s known variables, one per `TemplatePart::Var` of its template, in order.
    pub(super) fn var_spans(text: &Text) -> Vec<crate::span::Span> {
        text.parts
            .iter()
            .filter_map(|p| match p {
                TextPart::Interpolation { path, span } if Variable::parse(path).is_some() => Some(*span),
                _ => None,
            })
            .collect()
    }

    /// Rejects a shell command's `${...}` where no reference to the value can work (single quotes, a quoted
    /// here-document, ...); see `plan::shell`.
    pub(super) fn check_shell_values(&mut self, text: &Text, command: &Template) {
        let spans = Self::var_spans(text);
        for (slot, span) in shell::slots(command).into_iter().zip(spans) {
            if let ShellSlot::Unusable(why) = slot {
                self.push(
                    Diagnostic::new(
                        Code::UnsafeInterpolation,
                        span,
                        format!("a value cannot be interpolated {} in a shell command", why.place()),
                    )
                    .label(format!("{} the shell would not see the value", why.place()))
                    .help(why.fix()),
                );
            }
        }
    }

    /// Rejects a value other than `${env.NAME}` in a URL's scheme or host; see `plan::request`.
    pub(super) fn check_url_values(&mut self, text: &Text, url: &Template) {
        let spans = Self::var_spans(text);
        for (slot, span) in request::url_slots(url).into_iter().zip(spans) {
            if slot == UrlSlot::Host {
                self.push(
                    Diagnostic::new(Code::UnsafeInterpolation, span, "a value cannot choose a URL's scheme or host")
                        .label("in the scheme or host")
                        .help("write the host out, and put the value in the path or the query, where it is percent-encoded (`https://h/items/${reason}`); only `${env.NAME}` may stand for a whole base URL"),
                );
            }
        }
    }

    /// A string that must be plain text (no interpolation), checked and returned as a `String`.
    pub(super) fn plain(&mut self, text: &Text, what: &str) -> String {
        let t = self.template(text, Interp::None, what);
        t.render(|_| None)
    }
}
