//! Steps: kinds, modifiers and their defaults, ids (`L1.S2`, parallel children `L3.S3.1`).

use std::collections::HashMap;

use super::Analyzer;
use super::text::Interp;
use crate::ast::{self, Modifier, ModifierKind, RestoreFrom, StepKind, StepNode, VerifyProbe};
use crate::diagnostic::{Code, Diagnostic, did_you_mean};
use crate::plan::{Action, RestoreSource, Step, Template, defaults};
use crate::span::Span;

const STEP_KINDS: &[&str] = &["shell", "http", "snapshot", "restore", "verify", "wait", "notify"];
const METHODS: &[&str] = &["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"];

/// Which modifiers each kind of step takes.
fn allowed(kind: &StepKind) -> &'static [&'static str] {
    match kind {
        StepKind::Shell(_) => &["timeout", "retry", "idempotent"],
        StepKind::Http { .. } => &["timeout", "retry", "idempotent", "header", "body", "expect"],
        StepKind::Snapshot(_) | StepKind::Restore { .. } => &["timeout", "idempotent"],
        StepKind::Verify(VerifyProbe::Http { .. }) => &["within", "every", "for N consecutive", "header", "expect"],
        StepKind::Verify(_) => &["within", "every", "for N consecutive"],
        StepKind::Wait(_) => &[],
        StepKind::Notify { .. } => &["timeout", "retry", "idempotent"],
        StepKind::Unknown(_) => {
            &["timeout", "retry", "idempotent", "within", "every", "for N consecutive", "header", "body", "expect"]
        }
    }
}

/// The modifiers of one step, checked.
#[derive(Default)]
struct Mods {
    timeout: Option<u64>,
    retry: Option<(u32, Option<u64>)>,
    idempotent: bool,
    within: Option<u64>,
    every: Option<u64>,
    headers: Vec<(String, Template)>,
    body: Option<Template>,
    expect: Option<u16>,
    consecutive: Option<u32>,
}

impl Analyzer<'_> {
    pub(super) fn step_nodes(&mut self, nodes: &[&StepNode], prefix: &str, level: u32) -> Vec<Step> {
        let mut out = Vec::new();
        for (i, node) in nodes.iter().enumerate() {
            let id = format!("{prefix}{}", i + 1);
            match node {
                StepNode::Parallel(p) => {
                    if p.children.is_empty() {
                        self.push(
                            Diagnostic::new(Code::EmptyParallel, p.span, "empty `parallel` block")
                                .label("no steps inside")
                                .help("put the steps to run together inside `parallel { ... }`, or remove it"),
                        );
                        continue;
                    }
                    let children: Vec<&StepNode> = p.children.iter().collect();
                    let steps = self.step_nodes(&children, &format!("{id}."), level);
                    out.push(Step {
                        id,
                        action: Action::Parallel { steps },
                        timeout_ms: 0,
                        retries: 0,
                        backoff_ms: 0,
                        idempotent: false,
                        defaulted: Vec::new(),
                    });
                }
                StepNode::Step(step) => {
                    if let Some(s) = self.step(step, id) {
                        out.push(s);
                    }
                }
            }
        }
        let _ = level;
        out
    }

    fn step(&mut self, step: &ast::Step, id: String) -> Option<Step> {
        let mods = self.modifiers(step);
        let mut defaulted = Vec::new();
        let timeout = |default: u64, defaulted: &mut Vec<String>| {
            mods.timeout.unwrap_or_else(|| {
                defaulted.push("timeout".to_string());
                default
            })
        };
        let (action, timeout_ms) = match &step.kind {
            StepKind::Shell(cmd) => {
                let command = self.command(cmd);
                (Action::Shell { command }, timeout(defaults::SHELL_TIMEOUT_MS, &mut defaulted))
            }
            StepKind::Http { method, url } => {
                let method = self.method(method);
                let url = self.url(url, Interp::Any);
                let expect = mods.expect.unwrap_or_else(|| {
                    defaulted.push("expect".to_string());
                    defaults::HTTP_EXPECT
                });
                let action =
                    Action::Http { method, url, headers: mods.headers.clone(), body: mods.body.clone(), expect };
                (action, timeout(defaults::HTTP_TIMEOUT_MS, &mut defaulted))
            }
            StepKind::Snapshot(path) => {
                let path = self.file_path(path, "a snapshot path").unwrap_or_default();
                (Action::Snapshot { path }, timeout(defaults::FILE_TIMEOUT_MS, &mut defaulted))
            }
            StepKind::Restore { path, from } => {
                let path = self.file_path(path, "a restore target").unwrap_or_default();
                let from = match from {
                    RestoreFrom::Snapshot(_) => RestoreSource::Snapshot,
                    RestoreFrom::Path(p) => {
                        RestoreSource::Path(self.file_path(p, "a restore source").unwrap_or_default())
                    }
                };
                (Action::Restore { path, from }, timeout(defaults::FILE_TIMEOUT_MS, &mut defaulted))
            }
            StepKind::Verify(probe) => {
                let every_ms = mods.every.unwrap_or_else(|| {
                    defaulted.push("every".to_string());
                    defaults::VERIFY_EVERY_MS
                });
                let within = mods.within.unwrap_or_else(|| {
                    defaulted.push("within".to_string());
                    defaults::VERIFY_WITHIN_MS
                });
                let action = match probe {
                    VerifyProbe::Condition(expr) => {
                        let condition = self.condition(expr).map(|(c, _)| c);
                        let condition_text = condition.as_ref().map(|c| c.to_string()).unwrap_or_default();
                        Action::VerifyCondition {
                            condition_text,
                            condition: condition.unwrap_or(crate::plan::Condition::Not {
                                operand: Box::new(crate::plan::Condition::Compare {
                                    op: crate::plan::CmpOp::Eq,
                                    lhs: crate::plan::Value::Number { value: 0.0 },
                                    rhs: crate::plan::Value::Number { value: 0.0 },
                                    matching: None,
                                }),
                            }),
                            every_ms,
                            consecutive: mods.consecutive.unwrap_or(1),
                        }
                    }
                    VerifyProbe::Shell(cmd) => Action::VerifyShell {
                        command: self.command(cmd),
                        every_ms,
                        consecutive: mods.consecutive.unwrap_or(1),
                    },
                    VerifyProbe::Http { method, url } => {
                        let expect = mods.expect.unwrap_or_else(|| {
                            defaulted.push("expect".to_string());
                            defaults::HTTP_EXPECT
                        });
                        Action::VerifyHttp {
                            method: self.method(method),
                            url: self.url(url, Interp::Any),
                            expect,
                            every_ms,
                            consecutive: mods.consecutive.unwrap_or(1),
                        }
                    }
                };
                (action, within)
            }
            StepKind::Wait(q) => {
                let ms = self.duration(q, "`wait`").unwrap_or_default();
                (Action::Wait { ms }, ms)
            }
            StepKind::Notify { channel, message } => {
                self.use_channel(channel);
                let message = self.template(message, Interp::Any, "a message");
                (
                    Action::Notify { channel: channel.name.clone(), message },
                    timeout(defaults::NOTIFY_TIMEOUT_MS, &mut defaulted),
                )
            }
            StepKind::Unknown(name) => {
                let help = did_you_mean(&name.name, STEP_KINDS.iter().copied())
                    .unwrap_or_else(|| format!("the step kinds are {}", STEP_KINDS.join(", ")));
                self.push(
                    Diagnostic::new(Code::UnknownStepKind, name.span, format!("unknown step kind `{}`", name.name))
                        .label("not a step kind")
                        .help(help),
                );
                return None;
            }
        };
        let takes_retry = allowed(&step.kind).contains(&"retry");
        let (retries, backoff_ms) = match mods.retry {
            Some((n, backoff)) => (
                n,
                backoff.unwrap_or_else(|| {
                    defaulted.push("backoff".to_string());
                    defaults::RETRY_BACKOFF_MS
                }),
            ),
            None if takes_retry => {
                defaulted.push("retry".to_string());
                (0, defaults::RETRY_BACKOFF_MS)
            }
            None => (0, 0),
        };
        Some(Step { id, action, timeout_ms, retries, backoff_ms, idempotent: mods.idempotent, defaulted })
    }

    fn modifiers(&mut self, step: &ast::Step) -> Mods {
        let allowed = allowed(&step.kind);
        let mut seen: HashMap<&'static str, Span> = HashMap::new();
        let mut m = Mods::default();
        for Modifier { span, kind } in &step.modifiers {
            let word = kind.keyword();
            if !allowed.contains(&word) {
                let help = if word == "timeout" && matches!(step.kind, StepKind::Verify(_)) {
                    "a verify step waits `within D`; write `within 2m` instead of a timeout".to_string()
                } else if word == "within" {
                    "`within` is for verify steps; other steps take `timeout D`".to_string()
                } else if allowed.is_empty() {
                    format!("a `{}` step takes no modifiers", step.kind.keyword())
                } else {
                    format!("a `{}` step takes: {}", step.kind.keyword(), allowed.join(", "))
                };
                self.push(
                    Diagnostic::new(
                        Code::ModifierNotAllowed,
                        *span,
                        format!("`{word}` does not apply to a `{}` step", step.kind.keyword()),
                    )
                    .label("not for this step")
                    .help(help),
                );
                continue;
            }
            if word != "header" {
                if let Some(first) = seen.get(word) {
                    self.push(
                        Diagnostic::new(Code::DuplicateModifier, *span, format!("`{word}` is given twice"))
                            .label("second one here")
                            .related(*first, "first given here")
                            .help(format!("keep one `{word}`")),
                    );
                    continue;
                }
                seen.insert(word, *span);
            }
            match kind {
                ModifierKind::Timeout(q) => m.timeout = self.positive_duration(q, "a timeout"),
                ModifierKind::Retry { count, backoff } => {
                    let n = self.count(count, "a retry count", 0, 100);
                    let b = backoff.as_ref().and_then(|q| self.duration(q, "a backoff"));
                    if let Some(n) = n {
                        m.retry = Some((n, b));
                    }
                }
                ModifierKind::Idempotent => m.idempotent = true,
                ModifierKind::Within(q) => m.within = self.positive_duration(q, "`within`"),
                ModifierKind::Every(q) => m.every = self.positive_duration(q, "`every`"),
                ModifierKind::Header(k, v) => {
                    let k = self.plain(k, "a header name");
                    let v = self.template(v, Interp::Any, "a header");
                    m.headers.push((k, v));
                }
                ModifierKind::Body(b) => m.body = Some(self.template(b, Interp::Any, "a body")),
                ModifierKind::Expect(q) => {
                    m.expect = self.count(q, "an expected HTTP status", 100, 599).map(|n| n as u16);
                }
                ModifierKind::Consecutive(q) => m.consecutive = self.verify_consecutive(q),
            }
        }
        m
    }

    /// `for N consecutive` on a verify step: 1 to 100,000 checks in a row.
    fn verify_consecutive(&mut self, q: &crate::ast::Quantity) -> Option<u32> {
        if let crate::ast::QuantityValue::Number { value, integer: true } = q.value
            && value == 0.0
        {
            self.push(
                Diagnostic::new(Code::ConsecutiveZero, q.span, "`for 0 consecutive` asks for no passing check")
                    .label("zero")
                    .help(
                        "write `for N consecutive` with N at least 1 (`for 3 consecutive`: three passing checks in                          a row), or remove it to pass at the first passing check",
                    ),
            );
            return None;
        }
        self.count(q, "`for N consecutive`", 1, 100_000)
    }

    pub(super) fn positive_duration(&mut self, q: &crate::ast::Quantity, what: &str) -> Option<u64> {
        let ms = self.duration(q, what)?;
        if ms == 0 {
            self.push(
                Diagnostic::new(Code::OutOfRange, q.span, format!("{what} must be longer than zero"))
                    .label("zero")
                    .help("write a positive duration such as `30s`"),
            );
            return None;
        }
        Some(ms)
    }

    fn method(&mut self, method: &crate::ast::Ident) -> String {
        if !METHODS.contains(&method.name.as_str()) {
            let help = did_you_mean(&method.name, METHODS.iter().copied())
                .unwrap_or_else(|| format!("the methods are {}", METHODS.join(", ")));
            self.push(
                Diagnostic::new(Code::UnknownMethod, method.span, format!("unknown HTTP method `{}`", method.name))
                    .label("not an HTTP method")
                    .help(help),
            );
        }
        method.name.clone()
    }

    pub(super) fn url(&mut self, text: &crate::ast::Text, allowed: Interp) -> Template {
        let t = self.template(text, allowed, "a URL");
        if allowed == Interp::Any {
            self.check_url_values(text, &t);
        }
        let literal_prefix = match t.parts.first() {
            Some(crate::plan::TemplatePart::Text(s)) => Some(s.as_str()),
            Some(_) => None,
            None => Some(""),
        };
        if let Some(prefix) = literal_prefix
            && !(prefix.starts_with("http://") || prefix.starts_with("https://"))
        {
            self.push(
                Diagnostic::new(Code::BadUrl, text.span, "a URL must start with `http://` or `https://`")
                    .label("not an http(s) URL")
                    .help("write the full URL, such as \"https://flags.example.com/api/disable\""),
            );
        }
        t
    }

    /// A shell command: not empty, and every value where the shell can take it as a value.
    fn command(&mut self, text: &crate::ast::Text) -> Template {
        let t = self.non_empty(text, "a shell command");
        self.check_shell_values(text, &t);
        t
    }

    fn non_empty(&mut self, text: &crate::ast::Text, what: &str) -> Template {
        let t = self.template(text, Interp::Any, what);
        let only_literals = text.parts.iter().all(|p| matches!(p, crate::ast::TextPart::Literal(_)));
        if only_literals && t.render(|_| None).trim().is_empty() {
            self.push(
                Diagnostic::new(Code::EmptyCommand, text.span, format!("{what} is empty"))
                    .label("nothing to run")
                    .help("write the command to run, or remove the step"),
            );
        }
        t
    }
}
