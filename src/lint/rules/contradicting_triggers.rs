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
        let Condition::Compare { op, lhs, rhs } = c else { return None };
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

fn mirror(op: CmpOp) -> Option<CmpOp> {
    Some(match op {
        CmpOp::Gt => CmpOp::Lt,
        CmpOp::Ge => CmpOp::Le,
        CmpOp::Lt => CmpOp::Gt,
        CmpOp::Le => CmpOp::Ge,
        _ => return None,
    })
}

fn check(cx: &Context<'_>, out: &mut Vec<Violation>) {
    let interval = cx.plan.evaluation_interval_ms;
    let simple: Vec<(&TriggerRef<'_>, Threshold, u32)> =
        cx.triggers.iter().filter_map(|t| Some((t, Threshold::of(&t.plan.condition)?, t.level()?))).collect();
    for (strict, s, s_level) in &simple {
        let shadow = simple
            .iter()
            .filter(|(loose, l, l_level)| {
                loose.plan.name != strict.plan.name
                    && l_level > s_level
                    && l.covers(s)
                    && loose.hold_ms(interval) <= strict.hold_ms(interval)
            })
            .max_by_key(|(_, _, l_level)| *l_level);
        let Some((loose, l, l_level)) = shadow else { continue };
        let held = |t: &TriggerRef<'_>| match t.hold_ms(interval) {
            0 => "with no hold".to_string(),
            ms => format!("for {}", format_duration(ms)),
        };
        let how = if l.value == s.value { "the same threshold" } else { "a looser threshold" };
        out.push(
            Violation::new(
                strict.name_span(),
                format!(
                    "trigger `{}` (level {s_level}) never starts its level first: `{}` (level {l_level}) fires no later",
                    strict.plan.name, loose.plan.name
                ),
            )
            .label(format!("`{}` {}", cx.snippet(strict.ast.condition.span), held(strict)))
            .related(
                loose.name_span(),
                format!("`{}` {}: {how}, no longer hold, higher level", cx.snippet(loose.ast.condition.span), held(loose)),
            )
            .help(format!(
                "a milder condition should start a milder level: give `{}` a longer `for` than `{}`, or swap their levels",
                loose.plan.name, strict.plan.name
            )),
        );
    }
}
