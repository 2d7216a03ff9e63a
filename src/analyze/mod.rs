//! Analysis: the syntax tree checked and resolved into a `Plan`.
//!
//! Reports every problem it finds, not the first. Does no I/O: file paths are checked lexically, URLs by
//! their scheme, and nothing is read from the file system or the network.

mod clear;
mod condition;
mod hold;
mod level;
mod matching;
mod quantity;
mod query;
mod roots;
mod step;
mod text;
mod trigger;

pub use roots::normalize;

use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::ast::{self, ItemKind, Runbook};
use crate::diagnostic::{Code, Diagnostic, did_you_mean};
use crate::plan::{self, Channel, ChannelKind, Escalation, Metric, OnFailure, Plan, defaults};
use crate::span::Span;
use text::Interp;

/// Checks a parsed runbook; returns a plan when no error was found.
pub fn analyze(runbook: &Runbook, text: &str) -> (Option<Plan>, Vec<Diagnostic>) {
    let mut a = Analyzer { text, ..Analyzer::default() };
    let plan = a.runbook(runbook);
    let has_errors = a.diagnostics.iter().any(|d| d.is_error());
    (if has_errors { None } else { Some(plan) }, a.diagnostics)
}

#[derive(Default)]
pub(crate) struct Analyzer<'t> {
    text: &'t str,
    diagnostics: Vec<Diagnostic>,
    levels: BTreeMap<u32, Span>,
    channels: BTreeMap<String, Span>,
    declared_metrics: BTreeMap<String, Span>,
    /// The shape of each declared metric's query, for typing conditions (`condition.rs`).
    metric_shapes: BTreeMap<String, plan::Shape>,
    used_metrics: Vec<(String, Span)>,
    roots: Vec<(PathBuf, Span)>,
    reported_no_roots: bool,
    escalation_spans: BTreeMap<u32, Span>,
}

impl<'t> Analyzer<'t> {
    pub(super) fn push(&mut self, d: Diagnostic) {
        self.diagnostics.push(d);
    }

    /// How many errors have been reported so far: a part is good when it adds none.
    pub(super) fn error_count(&self) -> usize {
        self.diagnostics.iter().filter(|d| d.is_error()).count()
    }

    pub(super) fn snippet(&self, span: Span) -> &'t str {
        self.text.get(span.start..span.end).unwrap_or("")
    }

    pub(super) fn use_metric(&mut self, name: &str, span: Span) {
        self.used_metrics.push((name.to_string(), span));
    }

    pub(super) fn use_channel(&mut self, channel: &ast::Ident) -> bool {
        if channel.name == "log" || self.channels.contains_key(&channel.name) {
            return true;
        }
        let names: Vec<&str> = self.channels.keys().map(String::as_str).chain(["log"]).collect();
        let help = did_you_mean(&channel.name, names.iter().copied()).unwrap_or_else(|| {
            format!("declare it: `channel {} webhook \"https://...\"`, or use the built-in `log`", channel.name)
        });
        self.push(
            Diagnostic::new(Code::UnknownChannel, channel.span, format!("unknown channel `{}`", channel.name))
                .label("not declared")
                .help(help),
        );
        false
    }

    fn runbook(&mut self, rb: &Runbook) -> Plan {
        let mut settings: BTreeMap<&'static str, Span> = BTreeMap::new();
        let mut description = None;
        let mut owner = None;
        let mut interval = None;
        let mut files_under = Vec::new();
        let mut channels = Vec::new();
        let mut metrics = Vec::new();
        let mut max_series = None;

        // Settings, channels and metrics first: triggers and steps refer to them.
        for item in &rb.items {
            let setting = match &item.kind {
                ItemKind::Description(_) => "description",
                ItemKind::Owner(_) => "owner",
                ItemKind::EvaluateEvery(_) => "evaluate every",
                ItemKind::FilesUnder(_) => "files under",
                ItemKind::MaxSeries(_) => "max series",
                _ => "",
            };
            if !setting.is_empty() {
                if let Some(first) = settings.get(setting) {
                    self.push(
                        Diagnostic::new(Code::DuplicateSetting, item.span, format!("`{setting}` is given twice"))
                            .label("second one here")
                            .related(*first, "first given here")
                            .help(if setting == "files under" {
                                "list every root in one `files under \"/a\", \"/b\"`".to_string()
                            } else {
                                format!("keep one `{setting}`")
                            }),
                    );
                    continue;
                }
                settings.insert(setting, item.span);
            }
            match &item.kind {
                ItemKind::Description(t) => description = Some(self.plain(t, "a description")),
                ItemKind::Owner(t) => owner = Some(self.plain(t, "an owner")),
                ItemKind::EvaluateEvery(q) => interval = self.positive_duration(q, "the evaluation interval"),
                ItemKind::MaxSeries(q) => max_series = self.max_series(q),
                ItemKind::FilesUnder(roots) => {
                    for r in roots {
                        if let Some(root) = self.file_root(r) {
                            files_under.push(root.display().to_string());
                            self.roots.push((root, r.span));
                        }
                    }
                }
                ItemKind::Channel(c) => {
                    if c.name.name == "log" {
                        self.push(
                            Diagnostic::new(Code::ChannelReserved, c.name.span, "`log` is a built-in channel")
                                .label("reserved name")
                                .help("choose another name; `notify log \"...\"` already writes to the run's log"),
                        );
                        continue;
                    }
                    if let Some(first) = self.channels.get(&c.name.name) {
                        let first = *first;
                        self.push(
                            Diagnostic::new(
                                Code::DuplicateChannel,
                                c.name.span,
                                format!("channel `{}` is declared twice", c.name.name),
                            )
                            .label("second declaration")
                            .related(first, "first declared here")
                            .help("give each channel its own name"),
                        );
                        continue;
                    }
                    self.channels.insert(c.name.name.clone(), c.name.span);
                    let url = self.url(&c.url, Interp::EnvOnly);
                    channels.push(Channel { name: c.name.name.clone(), kind: ChannelKind::Webhook, url: Some(url) });
                }
                ItemKind::Metric(m) => {
                    if let Some(first) = self.declared_metrics.get(&m.name.name) {
                        let first = *first;
                        self.push(
                            Diagnostic::new(
                                Code::DuplicateMetric,
                                m.name.span,
                                format!("metric `{}` is declared twice", m.name.name),
                            )
                            .label("second declaration")
                            .related(first, "first declared here")
                            .help("give each metric its own name"),
                        );
                        continue;
                    }
                    self.declared_metrics.insert(m.name.name.clone(), m.name.span);
                    let query = self.plain(&m.query, "a metric query");
                    if query.trim().is_empty() {
                        self.push(
                            Diagnostic::new(Code::EmptyCommand, m.query.span, "empty query")
                                .label("no PromQL here")
                                .help("write the PromQL query that returns this metric as one series"),
                        );
                    }
                    let shape = self.query_shape(&query, m.query.span);
                    self.metric_shapes.insert(m.name.name.clone(), shape.clone());
                    metrics.push(Metric { name: m.name.name.clone(), promql: Some(query), shape });
                }
                _ => {}
            }
        }
        let interval_ms = interval.unwrap_or(defaults::EVALUATION_INTERVAL_MS);

        let levels_ast: Vec<&ast::Level> =
            rb.items.iter().filter_map(|i| if let ItemKind::Level(l) = &i.kind { Some(l) } else { None }).collect();
        self.declare_levels(&levels_ast);

        let triggers_ast: Vec<&ast::Trigger> = rb
            .items
            .iter()
            .filter_map(|i| if let ItemKind::Trigger(t) = &i.kind { Some(t.as_ref()) } else { None })
            .collect();
        let triggers = self.triggers(&triggers_ast, interval_ms);

        let mut levels: Vec<plan::Level> = levels_ast.iter().filter_map(|l| self.level(l)).collect();
        levels.sort_by_key(|l| l.number);
        let escalations: Vec<Escalation> = levels
            .iter()
            .filter_map(|l| match l.on_failure {
                OnFailure::Escalate { level } => Some(Escalation { from: l.number, to: level }),
                _ => None,
            })
            .collect();
        self.escalation_cycles(&escalations);

        // Metrics read but not declared: allowed (they read the series of the same name in simulation),
        // but one typo away from a declared name is almost always a mistake.
        let mut undeclared: Vec<String> = Vec::new();
        let used = std::mem::take(&mut self.used_metrics);
        for (name, span) in &used {
            if self.declared_metrics.contains_key(name) {
                continue;
            }
            if let Some(suggestion) = did_you_mean(name, self.declared_metrics.keys().map(String::as_str)) {
                self.push(
                    Diagnostic::new(Code::MetricLooksMistyped, *span, format!("metric `{name}` is not declared"))
                        .label("undeclared metric")
                        .help(format!("{suggestion} An undeclared metric has no live source")),
                );
            }
            if !undeclared.contains(name) {
                undeclared.push(name.clone());
            }
        }
        metrics.extend(undeclared.into_iter().map(|name| Metric { name, promql: None, shape: plan::Shape::default() }));

        let uses_log =
            triggers.iter().any(|t| matches!(&t.target, plan::Target::Notify { channel, .. } if channel == "log"))
                || levels.iter().any(|l| uses_log_channel(&l.steps));
        if uses_log {
            channels.push(Channel { name: "log".to_string(), kind: ChannelKind::Log, url: None });
        }

        Plan {
            format: plan::PLAN_FORMAT,
            runbook: rb.name.name.clone(),
            description,
            owner,
            evaluation_interval_ms: interval_ms,
            evaluation_interval_default: interval.is_none(),
            files_under,
            channels,
            metrics,
            triggers,
            levels,
            escalations,
            max_series: max_series.unwrap_or(defaults::MAX_SERIES),
            max_series_default: max_series.is_none(),
        }
    }

    /// `max series N`: from 1 to 1,000,000 (Prometheus's rule `limit` has no upper bound; a runbook that
    /// starts a run per series has one).
    fn max_series(&mut self, q: &ast::Quantity) -> Option<u32> {
        if q.as_scalar() == Some(0.0) && matches!(q.value, ast::QuantityValue::Number { .. }) {
            self.push(
                Diagnostic::new(Code::OutOfRange, q.span, "`max series 0` would let no trigger hold for any series")
                    .label("0 is out of range")
                    .help(format!(
                        "write the most series one trigger may hold for, from 1 to 1000000; leave it out for {}",
                        defaults::MAX_SERIES
                    )),
            );
            return None;
        }
        self.count(q, "`max series`", 1, 1_000_000)
    }
}

fn uses_log_channel(steps: &[plan::Step]) -> bool {
    steps.iter().any(|s| match &s.action {
        plan::Action::Notify { channel, .. } => channel == "log",
        plan::Action::Parallel { steps } => uses_log_channel(steps),
        _ => false,
    })
}
