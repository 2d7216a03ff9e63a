//! Levels: numbers, options, steps, and the escalation graph between levels.

use std::collections::BTreeMap;

use super::Analyzer;
use crate::ast::{self, LevelItem, StepNode};
use crate::diagnostic::{Code, Diagnostic};
use crate::plan::{Escalation, Level, OnFailure, defaults};
use crate::span::Span;

/// The highest level number a runbook may use.
pub const MAX_LEVEL: u64 = 99;

impl Analyzer<'_> {
    /// First pass: level numbers, so triggers and escalations can be checked against them.
    pub(super) fn declare_levels(&mut self, levels: &[&ast::Level]) {
        for level in levels {
            let Some(n) = self.count(&level.number, "a level number", 1, MAX_LEVEL) else {
                continue;
            };
            if let Some(first) = self.levels.get(&n) {
                let first = *first;
                self.push(
                    Diagnostic::new(Code::DuplicateLevel, level.header_span, format!("level {n} is declared twice"))
                        .label("second declaration")
                        .related(first, "first declared here")
                        .help("give each level its own number, or merge the two"),
                );
                continue;
            }
            self.levels.insert(n, level.header_span);
        }
    }

    /// Second pass: each level's options and steps.
    pub(super) fn level(&mut self, level: &ast::Level) -> Option<Level> {
        let number = match &level.number.value {
            ast::QuantityValue::Number { value, integer: true } if !level.number.negative => *value as u32,
            _ => return None,
        };
        if self.levels.get(&number) != Some(&level.header_span) {
            return None;
        }
        let mut seen: BTreeMap<&'static str, Span> = BTreeMap::new();
        let mut deadline_ms = None;
        let mut approval_required = false;
        let mut cooldown_ms = 0;
        let mut max_attempts = defaults::MAX_ATTEMPTS;
        let mut max_parallel = defaults::MAX_PARALLEL;
        let mut on_failure = OnFailure::Abort;
        let mut steps: Vec<&StepNode> = Vec::new();
        for item in &level.items {
            let (word, span) = match item {
                LevelItem::Deadline(_, s) => ("deadline", *s),
                LevelItem::Approval(s) => ("approval required", *s),
                LevelItem::Cooldown(_, s) => ("cooldown", *s),
                LevelItem::MaxAttempts(_, s) => ("max attempts", *s),
                LevelItem::MaxParallel(_, s) => ("max parallel", *s),
                LevelItem::OnFailure(_, s) => ("on failure", *s),
                LevelItem::Step(node) => {
                    steps.push(node);
                    continue;
                }
            };
            if let Some(first) = seen.get(word) {
                self.push(
                    Diagnostic::new(Code::DuplicateOption, span, format!("`{word}` is given twice in level {number}"))
                        .label("second one here")
                        .related(*first, "first given here")
                        .help(format!("keep one `{word}`")),
                );
                continue;
            }
            seen.insert(word, span);
            match item {
                LevelItem::Deadline(q, _) => deadline_ms = self.positive_duration(q, "a deadline"),
                LevelItem::Approval(_) => approval_required = true,
                LevelItem::Cooldown(q, _) => cooldown_ms = self.duration(q, "a cooldown").unwrap_or(0),
                LevelItem::MaxAttempts(q, _) => {
                    max_attempts = self.count(q, "`max attempts`", 1, 1000).unwrap_or(defaults::MAX_ATTEMPTS)
                }
                LevelItem::MaxParallel(q, _) => {
                    max_parallel = self.max_parallel(number, q).unwrap_or(defaults::MAX_PARALLEL)
                }
                LevelItem::OnFailure(action, span) => {
                    on_failure = match action {
                        ast::OnFailure::Abort => OnFailure::Abort,
                        ast::OnFailure::Continue => OnFailure::Continue,
                        ast::OnFailure::Escalate(q) => match self.escalation_target(number, q, *span) {
                            Some(to) => OnFailure::Escalate { level: to },
                            None => OnFailure::Abort,
                        },
                    }
                }
                LevelItem::Step(_) => {}
            }
        }
        if steps.is_empty() {
            self.push(
                Diagnostic::new(Code::EmptyLevel, level.header_span, format!("level {number} has no steps"))
                    .label("empty level")
                    .help(
                        "add the steps this level runs, such as `step shell \"...\" timeout 30s`, or remove the level",
                    ),
            );
        }
        let steps = self.step_nodes(&steps, &format!("L{number}.S"), number);
        let title = level.title.as_ref().map(|t| self.plain(t, "a level title"));
        let defaulted = ["deadline", "cooldown", "max attempts", "max parallel", "on failure"]
            .into_iter()
            .filter(|o| !seen.contains_key(o))
            .map(str::to_string)
            .collect();
        Some(Level {
            defaulted,
            id: format!("L{number}"),
            number,
            title,
            deadline_ms,
            approval_required,
            cooldown_ms,
            max_attempts,
            on_failure,
            max_parallel,
            steps,
        })
    }

    /// `max parallel N`: runs of the level for different series at once, from 1 to 10,000.
    fn max_parallel(&mut self, number: u32, q: &ast::Quantity) -> Option<u32> {
        if q.as_scalar() == Some(0.0) && matches!(q.value, ast::QuantityValue::Number { .. }) {
            self.push(
                Diagnostic::new(Code::OutOfRange, q.span, format!("`max parallel 0` would never run level {number}"))
                    .label("0 is out of range")
                    .help(format!(
                        "write how many series may have a run of this level at once, from 1 to 10000; leave it \
                         out for {} at a time",
                        defaults::MAX_PARALLEL
                    )),
            );
            return None;
        }
        self.count(q, "`max parallel`", 1, 10_000)
    }

    fn escalation_target(&mut self, from: u32, q: &ast::Quantity, span: Span) -> Option<u32> {
        let to = self.count(q, "a level number", 1, MAX_LEVEL)?;
        if to == from {
            self.push(
                Diagnostic::new(Code::SelfEscalation, q.span, format!("level {from} escalates to itself"))
                    .label("same level")
                    .help("escalate to a higher level, or use `max attempts N` to run this level again"),
            );
            return None;
        }
        if !self.levels.contains_key(&to) {
            let mut d = Diagnostic::new(
                Code::EscalationMissing,
                q.span,
                format!("escalation to level {to}, which is not declared"),
            )
            .label("no such level");
            d = d.help(self.level_help(to));
            self.push(d);
            return None;
        }
        self.escalation_spans.insert(from, span);
        Some(to)
    }

    pub(super) fn level_help(&self, missing: u32) -> String {
        if self.levels.is_empty() {
            return format!("declare it: `level {missing} \"title\" {{ ... }}`");
        }
        let declared: Vec<String> = self.levels.keys().map(|n| n.to_string()).collect();
        format!("the declared levels are {}; declare level {missing} or target one of them", declared.join(", "))
    }

    /// Reports every cycle in the escalation graph once, at the edge that closes it.
    pub(super) fn escalation_cycles(&mut self, edges: &[Escalation]) {
        let next: BTreeMap<u32, u32> = edges.iter().map(|e| (e.from, e.to)).collect();
        let mut reported: Vec<u32> = Vec::new();
        for &start in next.keys() {
            let mut path = vec![start];
            let mut current = start;
            while let Some(&to) = next.get(&current) {
                if let Some(pos) = path.iter().position(|&n| n == to) {
                    let cycle: Vec<u32> = path[pos..].to_vec();
                    let min = cycle.iter().copied().min().unwrap_or(to);
                    if !reported.contains(&min) {
                        reported.push(min);
                        self.report_cycle(&cycle);
                    }
                    break;
                }
                path.push(to);
                current = to;
            }
        }
    }

    fn report_cycle(&mut self, cycle: &[u32]) {
        // Report at the escalation of the highest level in the cycle: that is the edge pointing back down.
        let Some(&closing) = cycle.iter().max() else {
            return;
        };
        let Some(&span) = self.escalation_spans.get(&closing) else {
            return;
        };
        let mut ring: Vec<String> = cycle.iter().map(|n| n.to_string()).collect();
        ring.push(cycle[0].to_string());
        let mut d = Diagnostic::new(
            Code::EscalationCycle,
            span,
            format!("escalation cycle: level {}", ring.join(" -> level ")),
        )
        .label("this escalation closes the cycle")
        .help("escalation must end somewhere: make the last level `on failure abort`, or escalate upward only");
        for n in cycle {
            if *n != closing
                && let Some(&s) = self.escalation_spans.get(n)
            {
                d = d.related(s, format!("level {n} escalates here"));
            }
        }
        self.push(d);
    }
}
