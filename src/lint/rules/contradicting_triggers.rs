use std::collections::HashMap;

use crate::lint::{Context, TriggerRef, Violation};
use crate::plan::{CmpOp, Condition, Value, format_duration};

rule! {
    /// ## What it does
    /// Checks for triggers whose looser threshold, held no longer, starts a higher level than a stricter one.
    ///
    /// Both triggers compare the same metric with a constant in the same direction (`>`/`>=`, or `<`/`<=`);
    /// the looser one's threshold is lower (for `>`) or equal, its hold no longer, its level higher.
    ///
    /// Whenever the stricter trigger fires, the looser one has fired too, at the same evaluation or before,
    /// and the higher level wins. The stricter trigger's level then never runs first.
    ///
    /// ## Why is this bad?
    /// The thresholds and the levels say opposite things: a milder condition starts the more invasive
    /// procedure, and the severe condition's own level is dead code. Usually the two targets are swapped, or
    /// the looser trigger was meant to have a longer `for` (errors above 2% *for 10 minutes* escalate, errors
    /// above 5% *for 1 minute* act at once).
    ///
    /// ## Example
    /// ```runbook
    /// runbook api {
    ///   trigger critical: error_rate > 5% for 1m -> level 1
    ///   trigger warning: error_rate > 2% for 1m -> level 2
    ///   level 1 "Traffic rollback" {
    ///     step shell "./lb-weights old=100" timeout 10s
    ///     step verify error_rate < 1% within 2m
    ///   }
    ///   level 2 "Full rollback" {
    ///     approval required
    ///     step shell "./full-rollback" timeout 5m
    ///     step verify error_rate < 1% within 5m
    ///   }
    /// }
    /// ```
    ///
    /// ## Use instead
    /// ```runbook
    /// runbook api {
    ///   trigger critical: error_rate > 5% for 1m -> level 1
    ///   trigger warning: error_rate > 2% for 10m -> level 2
    ///   level 1 "Traffic rollback" {
    ///     step shell "./lb-weights old=100" timeout 10s
    ///     step verify error_rate < 1% within 2m
    ///   }
    ///   level 2 "Full rollback" {
    ///     approval required
    ///     step shell "./full-rollback" timeout 5m
    ///     step verify error_rate < 1% within 5m
    ///   }
    /// }
    /// ```
    name: "contradicting-triggers",
    severity: Warning,
    check: Some(check),
}

/// `key > t`, `key >= t` (above) or `key < t`, `key <= t` (below).
struct Threshold {
    key: String,
    above: bool,
    value: f64,
    inclusive: bool,
}

impl Threshold {
    fn of(c: &Condition) -> Option<Threshold> {
        let Condition::Compare { op, lhs, rhs, .. } = c else { return None };
        let (op, key, value) = match (lhs, rhs) {
            (Value::Number { .. }, Value::Number { .. }) => return None,
            (v, Value::Number { value }) => (*op, v, *value),
            (Value::Number { value }, v) => (mirror(*op)?, v, *value),
            _ => return None,
        };
        let (above, inclusive) = match op {
            CmpOp::Gt => (true, false),
            CmpOp::Ge => (true, true),
            CmpOp::Lt => (false, false),
            CmpOp::Le => (false, true),
            CmpOp::Eq | CmpOp::Ne => return None,
        };
        value.is_finite().then(|| Threshold { key: key.to_string(), above, value, inclusive })
    }

    /// Whether every value that passes `other` passes `self` too.
    fn covers(&self, other: &Threshold) -> bool {
        if self.key != other.key || self.above != other.above {
            return false;
        }
        let looser = if self.above { self.value < other.value } else { self.value > other.value };
        looser || (self.value == other.value && (self.inclusive || !other.inclusive))
    }
}

/// An ordering comparison the other way round; `None` for `==` and `!=`, which the rule leaves alone.
fn mirror(op: CmpOp) -> Option<CmpOp> {
    matches!(op, CmpOp::Gt | CmpOp::Ge | CmpOp::Lt | CmpOp::Le).then(|| op.mirrored())
}

/// A trigger that compares one value with a constant and starts a level: what the rule compares.
struct Simple<'c, 'a> {
    trigger: &'c TriggerRef<'a>,
    threshold: Threshold,
    level: u32,
    hold_ms: u64,
}

impl Simple<'_, '_> {
    /// Whether `self`, the looser trigger, fires no later than `strict` and starts a higher level.
    fn shadows(&self, strict: &Simple<'_, '_>) -> bool {
        self.trigger.plan.name != strict.trigger.plan.name
            && self.level > strict.level
            && self.threshold.covers(&strict.threshold)
            && self.hold_ms <= strict.hold_ms
    }
}

/// The triggers the rule reads, in order.
fn simple_triggers<'c, 'a>(cx: &'c Context<'a>) -> Vec<Simple<'c, 'a>> {
    let interval = cx.plan.evaluation_interval_ms;
    cx.triggers
        .iter()
        .filter_map(|t| {
            Some(Simple {
                trigger: t,
                threshold: Threshold::of(&t.plan.condition)?,
                level: t.level()?,
                hold_ms: t.hold_ms(interval),
            })
        })
        .collect()
}

/// For each trigger that is shadowed, in order: (its index, the index of the trigger that shadows it). Of
/// several, the one with the highest level wins, and of those the last written.
///
/// Only triggers on the same value in the same direction can cover one another, so triggers are grouped by
/// (value, direction) and each is compared within its group only: linear when every trigger reads its own
/// metric. A group is kept from the highest level down (the last written first among equals), so the first
/// trigger that shadows is the answer, and the scan stops at the trigger's own level.
fn shadowed(simple: &[Simple<'_, '_>]) -> Vec<(usize, usize)> {
    let mut groups: HashMap<(&str, bool), Vec<usize>> = HashMap::new();
    for (i, s) in simple.iter().enumerate() {
        groups.entry((s.threshold.key.as_str(), s.threshold.above)).or_default().push(i);
    }
    for group in groups.values_mut() {
        group.sort_by(|&a, &b| simple[b].level.cmp(&simple[a].level).then(b.cmp(&a)));
    }
    simple
        .iter()
        .enumerate()
        .filter_map(|(i, strict)| {
            let group = groups.get(&(strict.threshold.key.as_str(), strict.threshold.above))?;
            let loose =
                group.iter().take_while(|&&j| simple[j].level > strict.level).find(|&&j| simple[j].shadows(strict))?;
            Some((i, *loose))
        })
        .collect()
}

fn check(cx: &Context<'_>, out: &mut Vec<Violation>) {
    let simple = simple_triggers(cx);
    let held = |s: &Simple<'_, '_>| match s.hold_ms {
        0 => "with no hold".to_string(),
        ms => format!("for {}", format_duration(ms)),
    };
    for (i, j) in shadowed(&simple) {
        let (s, l) = (&simple[i], &simple[j]);
        let (strict, loose) = (s.trigger, l.trigger);
        let (s_level, l_level) = (s.level, l.level);
        let how = if l.threshold.value == s.threshold.value { "the same threshold" } else { "a looser threshold" };
        out.push(
            Violation::new(
                strict.name_span(),
                format!(
                    "trigger `{}` (level {s_level}) never starts its level first: `{}` (level {l_level}) fires no later",
                    strict.plan.name, loose.plan.name
                ),
            )
            .label(format!("`{}` {}", cx.snippet(strict.ast.condition.span), held(s)))
            .related(
                loose.name_span(),
                format!("`{}` {}: {how}, no longer hold, higher level", cx.snippet(loose.ast.condition.span), held(l)),
            )
            .help(format!(
                "a milder condition should start a milder level: give `{}` a longer `for` than `{}`, or swap their levels",
                loose.plan.name, strict.plan.name
            )),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::{Simple, shadowed, simple_triggers};
    use crate::lint::Context;

    /// The rule's definition as written: every pair compared, the highest level (the last of equals) wins.
    fn naive(simple: &[Simple<'_, '_>]) -> Vec<(usize, usize)> {
        simple
            .iter()
            .enumerate()
            .filter_map(|(i, strict)| {
                let loose = simple
                    .iter()
                    .enumerate()
                    .filter(|(_, loose)| loose.shadows(strict))
                    .max_by_key(|(_, loose)| loose.level)?;
                Some((i, loose.0))
            })
            .collect()
    }

    /// Hundreds of triggers on three metrics, with few distinct thresholds, holds and levels: many overlaps.
    fn crowded_runbook() -> String {
        let ops = [">", ">=", "<", "<="];
        let holds = ["", " for 30s", " for 1m", " for 2m", " for 3 consecutive"];
        let mut s = String::from("runbook crowded {\n");
        for t in 0..400u32 {
            let metric = ["error_rate", "p95_latency", "queue_depth"][(t % 3) as usize];
            let op = ops[(t / 3 % 4) as usize];
            let value = t * 7 % 5 + 1;
            let condition =
                if t % 11 == 0 { format!("{value} {op} {metric}") } else { format!("{metric} {op} {value}") };
            let hold = holds[(t * 13 % 5) as usize];
            let target =
                if t % 17 == 0 { "notify ops \"hi\"".to_string() } else { format!("level {}", t * 31 % 6 + 1) };
            s.push_str(&format!("  trigger t{t}: {condition}{hold} -> {target}\n"));
        }
        s.push_str("  channel ops webhook \"https://hooks.example.com/ops\"\n");
        for l in 1..=6 {
            s.push_str(&format!("  level {l} \"Level {l}\" {{\n    step verify error_rate < 1 within 2m\n  }}\n"));
        }
        s.push_str("}\n");
        s
    }

    #[test]
    fn grouping_finds_the_same_pairs_as_every_pair() {
        let text = crowded_runbook();
        let (runbook, compiled) = crate::compile::compile_tree(&text);
        let (Some(runbook), Some(plan)) = (runbook, compiled.plan) else {
            panic!("the generated runbook compiles: {:?}", compiled.diagnostics)
        };
        let cx = Context::new(&text, &runbook, &plan);
        let simple = simple_triggers(&cx);
        assert!(simple.len() > 300, "most triggers are simple: {}", simple.len());
        let expected = naive(&simple);
        assert!(expected.len() > 100, "the set has many overlaps: {}", expected.len());
        assert_eq!(shadowed(&simple), expected);
    }
}
