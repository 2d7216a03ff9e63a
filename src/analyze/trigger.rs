//! Triggers: names (given or generated), conditions, hold clauses and targets.

use std::collections::BTreeMap;

use super::Analyzer;
use super::text::Interp;
use crate::ast::{self, Hold, Target};
use crate::diagnostic::{Code, Diagnostic};
use crate::plan;
use crate::span::Span;

impl Analyzer<'_> {
    pub(super) fn triggers(&mut self, triggers: &[&ast::Trigger], interval_ms: u64) -> Vec<plan::Trigger> {
        let mut names: BTreeMap<String, Span> = BTreeMap::new();
        let mut out = Vec::new();
        for (i, t) in triggers.iter().enumerate() {
            let (name, name_span, generated) = match &t.name {
                Some(n) => (n.name.clone(), n.span, false),
                None => (format!("trigger_{}", i + 1), t.condition.span, true),
            };
            if let Some(first) = names.get(&name) {
                let first = *first;
                self.push(
                    Diagnostic::new(Code::DuplicateTrigger, name_span, format!("trigger `{name}` is declared twice"))
                        .label("second declaration")
                        .related(first, "first declared here")
                        .help(if generated {
                            "an unnamed trigger is called `trigger_N` by its position; rename the named one".to_string()
                        } else {
                            "give each trigger its own name".to_string()
                        }),
                );
                continue;
            }
            names.insert(name.clone(), name_span);
            if let Some(trigger) = self.trigger(t, name, generated, interval_ms) {
                out.push(trigger);
            }
        }
        out
    }

    fn trigger(&mut self, t: &ast::Trigger, name: String, generated: bool, interval_ms: u64) -> Option<plan::Trigger> {
        let condition = self.condition(&t.condition);
        let hold = match &t.hold {
            None => Some(plan::Hold::For { ms: 0 }),
            Some(Hold::For(q)) => {
                let ms = self.duration(q, "`for`");
                if let Some(ms) = ms
                    && ms % interval_ms != 0
                {
                    let fires = ms.div_ceil(interval_ms) * interval_ms;
                    self.push(
                        Diagnostic::new(
                            Code::HoldNotMultiple,
                            q.span,
                            format!(
                                "`for {}` is not a multiple of the evaluation interval ({})",
                                plan::format_duration(ms),
                                plan::format_duration(interval_ms)
                            ),
                        )
                        .label(format!("fires {} after the condition turns true", plan::format_duration(fires)))
                        .help(format!(
                            "write `for {}` to say what happens; evaluations are {} apart",
                            plan::format_duration(fires),
                            plan::format_duration(interval_ms)
                        )),
                    );
                }
                ms.map(|ms| plan::Hold::For { ms })
            }
            Some(Hold::Consecutive(q)) => self
                .count(q, "`for N consecutive`", 1, 100_000)
                .map(|evaluations| plan::Hold::Consecutive { evaluations }),
        };
        let keep = match &t.keep_firing_for {
            Some(q) => self.duration(q, "`keep firing for`"),
            None => Some(0),
        };
        let target = match &t.target {
            Target::Level { number, .. } => {
                let level = self.count(number, "a level number", 1, super::level::MAX_LEVEL);
                match level {
                    Some(n) if !self.levels.contains_key(&n) => {
                        let help = self.level_help(n);
                        self.push(
                            Diagnostic::new(
                                Code::UnknownLevel,
                                number.span,
                                format!("trigger `{name}` targets level {n}, which is not declared"),
                            )
                            .label("no such level")
                            .help(help),
                        );
                        None
                    }
                    Some(n) => Some(plan::Target::Level { level: n }),
                    None => None,
                }
            }
            Target::Notify { channel, message, .. } => {
                let known = self.use_channel(channel);
                let message = self.template(message, Interp::Any, "a message");
                known.then(|| plan::Target::Notify { channel: channel.name.clone(), message })
            }
        };
        let (condition, hold, keep_firing_for_ms, target) = (condition?, hold?, keep?, target?);
        let mut metrics = Vec::new();
        condition.metrics(&mut metrics);
        metrics.sort();
        metrics.dedup();
        Some(plan::Trigger {
            name,
            generated_name: generated,
            condition_text: condition.to_string(),
            condition,
            hold,
            keep_firing_for_ms,
            target,
            metrics,
            shape: plan::Shape::default(),
            alert: None,
            labels: Vec::new(),
            annotations: Vec::new(),
        })
    }
}
