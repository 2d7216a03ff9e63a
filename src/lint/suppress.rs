//! Allow comments: `# ripcord: allow(RC801, step-without-timeout) reason`.
//!
//! An allow names rules by code or name and must give a reason after the parenthesis. It covers its own line
//! when it follows code on that line, and the next line with code when it stands on a line of its own
//! (blank lines and other comments in between are skipped). A finding is allowed when it starts on a covered
//! line. Compile diagnostics cannot be allowed, and neither can the findings about allows themselves.
//!
//! Reasonless allows (`allow-without-reason`) suppress nothing; allows that suppress nothing are reported
//! (`unused-allow`), except for rules the configuration turns off.

use std::borrow::Cow;

use super::registry::{self, Entry};
use super::rules::{allow_without_reason, unused_allow};
use super::{Config, Finding, Setting};
use crate::diagnostic::{Code, Severity};
use crate::span::{LineIndex, Span};

/// A `#` comment: from the `#` to the end of its line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Comment {
    pub span: Span,
    /// Nothing but white space before it on its line.
    pub own_line: bool,
}

/// Every comment in the text, skipping `#` inside quoted and raw strings.
pub fn comments(text: &str) -> Vec<Comment> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    let mut code_on_line = false;
    while i < bytes.len() {
        match bytes[i] {
            b'\n' => {
                code_on_line = false;
                i += 1;
            }
            b'#' => {
                let end = text[i..].find('\n').map_or(text.len(), |n| i + n);
                out.push(Comment { span: Span::new(i, end), own_line: !code_on_line });
                i = end;
            }
            b'"' => {
                code_on_line = true;
                i += 1;
                while i < bytes.len() && !matches!(bytes[i], b'"' | b'\n') {
                    i += if bytes[i] == b'\\' && bytes.get(i + 1).is_some_and(|b| *b != b'\n') { 2 } else { 1 };
                }
                if i < bytes.len() && bytes[i] == b'"' {
                    i += 1;
                }
            }
            b'`' => {
                code_on_line = true;
                i += 1;
                while i < bytes.len() && bytes[i] != b'`' {
                    i += 1;
                }
                i += 1;
            }
            b' ' | b'\t' | b'\r' => i += 1,
            _ => {
                code_on_line = true;
                i += 1;
            }
        }
    }
    out
}

/// One rule named in an allow, as written.
#[derive(Clone, Debug)]
struct Named {
    text: String,
    span: Span,
    entry: Option<&'static Entry>,
    used: bool,
}

#[derive(Debug)]
struct Allow {
    /// The 1-based line whose findings it allows.
    covers: usize,
    rules: Vec<Named>,
    reason: bool,
}

enum Directive {
    NotOurs,
    Malformed,
    Allow { rules: Vec<(String, Span)>, reason: bool },
}

fn parse(text: &str, comment: Comment) -> Directive {
    let body = &text[comment.span.start + 1..comment.span.end];
    let offset = |s: &str| comment.span.start + 1 + (s.as_ptr() as usize - body.as_ptr() as usize);
    let Some(rest) = body.trim_start().strip_prefix("ripcord:") else { return Directive::NotOurs };
    let Some(rest) = rest.trim_start().strip_prefix("allow") else { return Directive::Malformed };
    let Some(list) = rest.trim_start().strip_prefix('(') else { return Directive::Malformed };
    let Some(close) = list.find(')') else { return Directive::Malformed };
    let mut rules = Vec::new();
    for item in list[..close].split(',') {
        let name = item.trim();
        if !name.is_empty() {
            let start = offset(name);
            rules.push((name.to_string(), Span::new(start, start + name.len())));
        }
    }
    if rules.is_empty() {
        return Directive::Malformed;
    }
    let reason = list[close + 1..].trim().trim_start_matches([':', '-', '\u{2014}']).trim();
    Directive::Allow { rules, reason: !reason.is_empty() }
}

/// For each 1-based line, whether it holds code (anything but white space and a comment).
fn code_lines(text: &str, comments: &[Comment]) -> Vec<bool> {
    let mut lines = Vec::new();
    let mut comment = comments.iter().peekable();
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let end = offset + line.len();
        let mut cut = line.len();
        while let Some(c) = comment.peek() {
            if c.span.start >= end {
                break;
            }
            if c.span.start >= offset {
                cut = cut.min(c.span.start - offset);
            }
            comment.next();
        }
        lines.push(!line[..cut].trim().is_empty());
        offset = end;
    }
    lines
}

/// Applies allow comments to the rules' findings; returns the findings that remain and the findings about
/// the allows themselves.
pub(super) fn apply(text: &str, raised: Vec<Finding>, config: &Config) -> Vec<Finding> {
    let comments = comments(text);
    let index = LineIndex::new(text);
    let code = code_lines(text, &comments);
    let mut allows = Vec::new();
    let mut out = Vec::new();
    let meta = |rule: &super::Rule| registry::entry_of(rule).filter(|e| config.setting(e.code) != Some(Setting::Off));
    let unused = meta(&unused_allow::RULE);
    let reasonless = meta(&allow_without_reason::RULE);
    for c in &comments {
        match parse(text, *c) {
            Directive::NotOurs => {}
            Directive::Malformed => {
                if let Some(e) = unused {
                    out.push(meta_finding(
                        e,
                        config,
                        c.span,
                        "`# ripcord:` comment is not an allow".to_string(),
                        "write `# ripcord: allow(RC801) reason` (codes or names, separated by commas)",
                    ));
                }
            }
            Directive::Allow { rules, reason } => {
                let line = index.line(c.span.start);
                let covers = if c.own_line {
                    (line + 1..=code.len()).find(|l| code.get(l - 1).copied().unwrap_or(false)).unwrap_or(line)
                } else {
                    line
                };
                if !reason && let Some(e) = reasonless {
                    out.push(meta_finding(
                        e,
                        config,
                        c.span,
                        "allow comment gives no reason".to_string(),
                        "say why after the parenthesis, such as `# ripcord: allow(RC801) level 1 waits for approval`; until then it allows nothing",
                    ));
                }
                let rules = rules
                    .into_iter()
                    .map(|(text, span)| Named { entry: registry::find(&text), text, span, used: false })
                    .collect();
                allows.push(Allow { covers, rules, reason });
            }
        }
    }

    let is_meta = |f: &Finding| f.name == unused_allow::RULE.name || f.name == allow_without_reason::RULE.name;
    for finding in raised {
        let line = index.line(finding.span.start);
        let mut allowed = false;
        for allow in allows.iter_mut().filter(|a| a.reason && a.covers == line) {
            for named in allow.rules.iter_mut() {
                if named.entry.is_some_and(|e| e.code == finding.code) && !is_meta(&finding) {
                    named.used = true;
                    allowed = true;
                }
            }
        }
        if !allowed {
            out.push(finding);
        }
    }

    let Some(unused) = unused else { return out };
    for allow in allows.iter().filter(|a| a.reason) {
        for named in allow.rules.iter().filter(|n| !n.used) {
            let (message, help) = match named.entry {
                Some(e) if config.setting(e.code) == Some(Setting::Off) => continue,
                Some(e) => (
                    format!(
                        "`{}` ({}) reports nothing on line {}",
                        named.text,
                        if named.text.eq_ignore_ascii_case(e.code) { e.rule.name } else { e.code },
                        allow.covers
                    ),
                    "remove the allow: nothing here needs it".to_string(),
                ),
                None if Code::ALL.iter().any(|c| c.as_str().eq_ignore_ascii_case(&named.text)) => (
                    format!("`{}` is a compile diagnostic, which cannot be allowed", named.text),
                    "fix what `ripcord check` reports; only lint rules (RC8xx) can be allowed".to_string(),
                ),
                None => {
                    let names = registry::RULES.iter().map(|e| e.rule.name);
                    let help = crate::diagnostic::did_you_mean(&named.text, names).unwrap_or_else(|| {
                        "name a lint rule by code (RC801) or name (trigger-without-for); docs/lints.md lists them"
                            .to_string()
                    });
                    (format!("`{}` is not a lint rule", named.text), help)
                }
            };
            out.push(meta_finding(unused, config, named.span, message, &help));
        }
    }
    out
}

fn meta_finding(entry: &Entry, config: &Config, span: Span, message: String, help: &str) -> Finding {
    let severity = match config.setting(entry.code) {
        Some(Setting::Warn) => Severity::Warning,
        Some(Setting::Error) => Severity::Error,
        _ => entry.rule.severity,
    };
    Finding {
        code: entry.code,
        name: Cow::Borrowed(entry.rule.name),
        severity,
        message,
        span,
        label: Some(if entry.rule.name == allow_without_reason::RULE.name {
            "no reason after the parenthesis".to_string()
        } else {
            "allows nothing".to_string()
        }),
        related: Vec::new(),
        help: Some(help.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comments_skip_strings() {
        let text = "a \"x # y\" # one\n  # two\n`raw # not`\n";
        let found: Vec<(&str, bool)> =
            comments(text).iter().map(|c| (&text[c.span.start..c.span.end], c.own_line)).collect();
        assert_eq!(found, vec![("# one", false), ("# two", true)]);
    }

    #[test]
    fn lines_with_code() {
        let text = "runbook x { # a\n\n  # b\n  level 1 {\n";
        assert_eq!(code_lines(text, &comments(text)), vec![true, false, false, true]);
    }
}
