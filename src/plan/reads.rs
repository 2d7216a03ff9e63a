//! What conditions read: the metric names and how far back they look (longest window plus offset), and the
//! query a metric is declared with. The one answer to "which metrics does this plan read", for the
//! Prometheus fetches (`verify`, `simulate --from-prometheus`, `watch`) and the export.

use std::collections::BTreeSet;

use super::{Action, Condition, Plan, Trigger, Value};

/// The metrics some conditions read, and how far back from the evaluation time they look, in ms (the
/// longest `window + offset`; Prometheus's lookback is not included).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Reads {
    pub metrics: BTreeSet<String>,
    pub back_ms: u64,
}

impl Reads {
    /// What one condition reads.
    pub fn of(condition: &Condition) -> Reads {
        let mut reads = Reads::default();
        reads.add(condition);
        reads
    }

    /// What a trigger reads: its condition and its `clear when` condition.
    pub fn of_trigger(trigger: &Trigger) -> Reads {
        let mut reads = Reads::default();
        reads.add_trigger(trigger);
        reads
    }

    /// Adds what a trigger's condition and `clear when` condition read.
    pub fn add_trigger(&mut self, trigger: &Trigger) {
        self.add(&trigger.condition);
        if let Some(w) = &trigger.clear_when {
            self.add(&w.condition);
        }
    }

    /// Adds what `condition` reads.
    pub fn add(&mut self, condition: &Condition) {
        match condition {
            Condition::Compare { lhs, rhs, .. } => {
                self.add_value(lhs);
                self.add_value(rhs);
            }
            Condition::And { lhs, rhs, .. } | Condition::Or { lhs, rhs, .. } | Condition::Unless { lhs, rhs, .. } => {
                self.add(lhs);
                self.add(rhs);
            }
            Condition::Not { operand } => self.add(operand),
        }
    }

    fn add_value(&mut self, value: &Value) {
        match value {
            Value::Number { .. } => {}
            Value::Metric { name, offset_ms } => {
                self.metrics.insert(name.clone());
                self.back_ms = self.back_ms.max(*offset_ms);
            }
            Value::Window { metric, window_ms, offset_ms, .. } => {
                self.metrics.insert(metric.clone());
                self.back_ms = self.back_ms.max(window_ms.saturating_add(*offset_ms));
            }
            Value::Abs { operand } | Value::Neg { operand } => self.add_value(operand),
            Value::Arith { lhs, rhs, .. } => {
                self.add_value(lhs);
                self.add_value(rhs);
            }
        }
    }
}

impl Plan {
    /// What the plan reads: its triggers' conditions and its `verify CONDITION` steps'.
    pub fn reads(&self) -> Reads {
        let mut reads = Reads::default();
        for t in &self.triggers {
            reads.add_trigger(t);
        }
        for s in self.all_steps() {
            if let Action::VerifyCondition { condition, .. } = &s.action {
                reads.add(condition);
            }
        }
        reads
    }

    /// The PromQL query `metric` is declared with (`metric NAME = promql "..."`), as written.
    pub fn declared_query(&self, metric: &str) -> Option<&str> {
        self.metrics.iter().find(|m| m.name == metric).and_then(|m| m.promql.as_deref())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "a failing unwrap is a failing test")]
mod tests {
    #[test]
    fn a_plan_reads_its_triggers_and_verify_steps() {
        let text = "runbook a {\n  metric e = promql \"x\"\n  trigger t: avg_over(e, 10m) offset 5m > 1 -> level 1\n  level 1 {\n    step verify f > 1 within 1m\n  }\n}\n";
        let plan = crate::compile(text).plan.unwrap();
        let reads = plan.reads();
        assert_eq!(reads.metrics.into_iter().collect::<Vec<_>>(), vec!["e".to_string(), "f".to_string()]);
        assert_eq!(reads.back_ms, 15 * 60 * 1000);
        assert_eq!(plan.declared_query("e"), Some("x"));
        assert_eq!(plan.declared_query("f"), None);
    }
}
