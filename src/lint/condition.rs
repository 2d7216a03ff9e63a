//! Conditions that can never be true, proved from the constants in them (`verify-never-true`,
//! `trigger-never-fires`).
//!
//! The proof is sound, not complete: a condition is reported only when no value of any metric makes it
//! true. Each comparison of a metric (or a window function, or a linear expression of one: `x * 100 + 1`)
//! with a constant narrows that metric's interval; `and` intersects, `or` unites, and an empty result is
//! proof. What the analysis cannot see through is assumed to be true:
//!
//! - `not` and `!=` are true for a metric with no value or a NaN, so they constrain nothing;
//! - a comparison of two different metrics constrains nothing;
//! - the only ranges known without constants are the language's own: `abs(e) >= 0` and `count_over(...) >= 1`
//!   (a window with no sample has no value). A metric's range is never guessed from its name.
//!
//! Comparisons with a metric that has no value or is NaN are false (PromQL semantics), which only makes a
//! condition harder to satisfy: what is impossible for every number stays impossible.

use std::collections::BTreeMap;

use crate::plan::{ArithOp, CmpOp, Condition, Value, WindowFunc, format_number};

/// Past this many alternatives (`or` of `and`s), the analysis gives up and assumes the condition can hold.
const MAX_ALTERNATIVES: usize = 64;

/// Why a condition can never be true, in words (`` `x < 0` and `x > 1` cannot both hold ``).
pub fn never_true(condition: &Condition) -> Option<String> {
    let mut reasons = Vec::new();
    match alternatives(condition, &mut reasons) {
        Some(alts) if alts.is_empty() => {
            Some(reasons.into_iter().next().unwrap_or_else(|| "no value of its metrics satisfies it".to_string()))
        }
        _ => None,
    }
}

/// A value as the analysis sees it: a constant, or `scale * key + offset` for an opaque `key`.
#[derive(Clone, Debug)]
enum Term {
    Const(f64),
    Linear { key: String, scale: f64, offset: f64, exact: bool, floor: Option<f64> },
}

impl Term {
    fn opaque(v: &Value, floor: Option<f64>) -> Term {
        Term::Linear { key: v.to_string(), scale: 1.0, offset: 0.0, exact: true, floor }
    }
}

fn term(v: &Value) -> Term {
    match v {
        Value::Number { value } => Term::Const(*value),
        Value::Metric { .. } => Term::opaque(v, None),
        Value::Window { func, .. } => Term::opaque(v, (*func == WindowFunc::CountOver).then_some(1.0)),
        Value::Abs { operand } => match term(operand) {
            Term::Const(c) => Term::Const(c.abs()),
            Term::Linear { .. } => Term::opaque(v, Some(0.0)),
        },
        Value::Neg { operand } => match term(operand) {
            Term::Const(c) => Term::Const(-c),
            Term::Linear { key, scale, offset, exact, floor } => {
                Term::Linear { key, scale: -scale, offset: -offset, exact, floor }
            }
        },
        Value::Arith { op, lhs, rhs, .. } => arith(v, *op, term(lhs), term(rhs)),
    }
}

fn arith(whole: &Value, op: ArithOp, a: Term, b: Term) -> Term {
    let linear = |key: String, scale: f64, offset: f64, floor: Option<f64>| {
        // `x - x` is 0 for every number and NaN otherwise; NaN fails every comparison we use, so 0 is safe.
        if scale == 0.0 { Term::Const(offset) } else { Term::Linear { key, scale, offset, exact: false, floor } }
    };
    match (a, b) {
        (Term::Const(x), Term::Const(y)) => Term::Const(op.apply(x, y)),
        (Term::Linear { key, scale, offset, floor, .. }, Term::Const(c)) => match op {
            ArithOp::Add => linear(key, scale, offset + c, floor),
            ArithOp::Sub => linear(key, scale, offset - c, floor),
            ArithOp::Mul if c.is_finite() => linear(key, scale * c, offset * c, floor),
            ArithOp::Div if c != 0.0 && c.is_finite() => linear(key, scale / c, offset / c, floor),
            _ => Term::opaque(whole, None),
        },
        (Term::Const(c), Term::Linear { key, scale, offset, floor, .. }) => match op {
            ArithOp::Add => linear(key, scale, c + offset, floor),
            ArithOp::Sub => linear(key, -scale, c - offset, floor),
            ArithOp::Mul if c.is_finite() => linear(key, scale * c, offset * c, floor),
            _ => Term::opaque(whole, None),
        },
        (
            Term::Linear { key: k1, scale: s1, offset: o1, floor, .. },
            Term::Linear { key: k2, scale: s2, offset: o2, .. },
        ) if k1 == k2 && matches!(op, ArithOp::Add | ArithOp::Sub) => {
            let (s, o) = if op == ArithOp::Add { (s1 + s2, o1 + o2) } else { (s1 - s2, o1 - o2) };
            linear(k1, s, o, floor)
        }
        _ => Term::opaque(whole, None),
    }
}

/// The values a key may take, with the comparisons that set each end (for the explanation).
#[derive(Clone, Debug)]
struct Interval {
    lo: f64,
    lo_open: bool,
    lo_from: Option<String>,
    hi: f64,
    hi_open: bool,
    hi_from: Option<String>,
    /// False once a bound came through arithmetic, where rounding could move it by an ulp or two.
    exact: bool,
}

impl Interval {
    fn all() -> Interval {
        Interval {
            lo: f64::NEG_INFINITY,
            lo_open: false,
            lo_from: None,
            hi: f64::INFINITY,
            hi_open: false,
            hi_from: None,
            exact: true,
        }
    }

    fn is_empty(&self) -> bool {
        if self.lo.is_nan() || self.hi.is_nan() {
            return true;
        }
        if self.exact {
            self.lo > self.hi || (self.lo == self.hi && (self.lo_open || self.hi_open))
        } else {
            // Only a clear gap counts as proof when a bound came through arithmetic.
            let tolerance = 1e-9 * self.lo.abs().max(self.hi.abs()).max(1.0);
            self.lo - self.hi > tolerance
        }
    }

    fn raise_lo(&mut self, lo: f64, open: bool, from: Option<String>) {
        if lo > self.lo || (lo == self.lo && open && !self.lo_open) {
            self.lo = lo;
            self.lo_open = open;
            self.lo_from = from;
        }
    }

    fn lower_hi(&mut self, hi: f64, open: bool, from: Option<String>) {
        if hi < self.hi || (hi == self.hi && open && !self.hi_open) {
            self.hi = hi;
            self.hi_open = open;
            self.hi_from = from;
        }
    }

    fn intersect(&mut self, other: &Interval) {
        self.exact &= other.exact;
        self.raise_lo(other.lo, other.lo_open, other.lo_from.clone());
        self.lower_hi(other.hi, other.hi_open, other.hi_from.clone());
    }

    fn explain(&self) -> String {
        match (&self.lo_from, &self.hi_from) {
            (Some(a), Some(b)) if a != b => format!("`{a}` and `{b}` cannot both hold"),
            (Some(a), _) | (_, Some(a)) => format!("`{a}` is never true"),
            (None, None) => "no value of its metrics satisfies it".to_string(),
        }
    }
}

/// One way for the condition to be true: an interval per key, all at once.
type Alternative = BTreeMap<String, Interval>;

/// Every way the condition can be true; empty when it never is; `None` when the analysis gave up.
fn alternatives(c: &Condition, reasons: &mut Vec<String>) -> Option<Vec<Alternative>> {
    match c {
        Condition::Compare { op, lhs, rhs, .. } => Some(compare(*op, lhs, rhs, reasons).into_iter().collect()),
        Condition::Not { .. } => Some(vec![Alternative::new()]),
        // `unless` only takes series away: the left side's ways are a superset of its own.
        Condition::Unless { lhs, .. } => alternatives(lhs, reasons),
        Condition::Or { lhs, rhs, .. } => {
            let mut a = alternatives(lhs, reasons)?;
            a.extend(alternatives(rhs, reasons)?);
            (a.len() <= MAX_ALTERNATIVES).then_some(a)
        }
        Condition::And { lhs, rhs, .. } => {
            let a = alternatives(lhs, reasons);
            if a.as_ref().is_some_and(Vec::is_empty) {
                return Some(Vec::new());
            }
            let b = alternatives(rhs, reasons);
            if b.as_ref().is_some_and(Vec::is_empty) {
                return Some(Vec::new());
            }
            let (a, b) = (a?, b?);
            let mut out = Vec::new();
            for x in &a {
                for y in &b {
                    if let Some(both) = merge(x, y, reasons) {
                        out.push(both);
                        if out.len() > MAX_ALTERNATIVES {
                            return None;
                        }
                    }
                }
            }
            Some(out)
        }
    }
}

fn merge(a: &Alternative, b: &Alternative, reasons: &mut Vec<String>) -> Option<Alternative> {
    let mut out = a.clone();
    for (key, interval) in b {
        let entry = out.entry(key.clone()).or_insert_with(Interval::all);
        entry.intersect(interval);
        if entry.is_empty() {
            reasons.push(entry.explain());
            return None;
        }
    }
    Some(out)
}

/// One comparison: `None` when it is never true, else what it requires.
fn compare(op: CmpOp, lhs: &Value, rhs: &Value, reasons: &mut Vec<String>) -> Option<Alternative> {
    let text = format!("{lhs} {} {rhs}", op.symbol());
    let never = |reasons: &mut Vec<String>| {
        reasons.push(format!("`{text}` is never true"));
        None
    };
    if op == CmpOp::Ne {
        // True for NaN and for a metric with no value: no constraint.
        return match (term(lhs), term(rhs)) {
            (Term::Const(a), Term::Const(b)) if a == b => never(reasons),
            _ => Some(Alternative::new()),
        };
    }
    // Bring the comparison to `scale * key + offset OP bound`.
    let (op, key, scale, offset, exact, floor, bound) = match (term(lhs), term(rhs)) {
        (Term::Const(a), Term::Const(b)) => {
            return if op.test(a, b) { Some(Alternative::new()) } else { never(reasons) };
        }
        (Term::Linear { key, scale, offset, exact, floor }, Term::Const(c)) => {
            (op, key, scale, offset, exact, floor, c)
        }
        (Term::Const(c), Term::Linear { key, scale, offset, exact, floor }) => {
            (op.mirrored(), key, scale, offset, exact, floor, c)
        }
        (
            Term::Linear { key: k1, scale: s1, offset: o1, exact: e1, floor },
            Term::Linear { key: k2, scale: s2, offset: o2, exact: e2, .. },
        ) if k1 == k2 => {
            // `s1 k + o1 OP s2 k + o2` is `(s1 - s2) k OP o2 - o1`.
            let s = s1 - s2;
            if s == 0.0 {
                return if op.test(o1, o2) { Some(Alternative::new()) } else { never(reasons) };
            }
            (op, k1, s, 0.0, e1 && e2 && o1 == 0.0 && o2 == 0.0, floor, o2 - o1)
        }
        _ => return Some(Alternative::new()),
    };
    let exact = exact && scale == 1.0 && offset == 0.0;
    let (op, bound) = {
        let b = (bound - offset) / scale;
        if scale < 0.0 { (op.mirrored(), b) } else { (op, b) }
    };
    let mut interval = Interval::all();
    interval.exact = exact;
    if let Some(floor) = floor {
        interval.raise_lo(floor, false, None);
    }
    let from = Some(text.clone());
    match op {
        CmpOp::Gt => interval.raise_lo(bound, true, from),
        CmpOp::Ge => interval.raise_lo(bound, false, from),
        CmpOp::Lt => interval.lower_hi(bound, true, from),
        CmpOp::Le => interval.lower_hi(bound, false, from),
        CmpOp::Eq => {
            interval.raise_lo(bound, false, from.clone());
            interval.lower_hi(bound, false, from);
        }
        CmpOp::Ne => {}
    }
    if interval.is_empty() {
        let why = match floor {
            Some(f) if interval.lo_from.is_none() => {
                format!("`{text}` is never true (`{key}` is at least {})", format_number(f))
            }
            _ => format!("`{text}` is never true"),
        };
        reasons.push(why);
        return None;
    }
    Some(Alternative::from([(key, interval)]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn condition(src: &str) -> Condition {
        let text = format!("runbook t {{ level 1 {{ step verify {src} }} }}");
        let compiled = crate::compile(&text);
        let plan = compiled.plan.unwrap_or_else(|| panic!("{src}: {:?}", compiled.diagnostics));
        match &plan.levels[0].steps[0].action {
            crate::plan::Action::VerifyCondition { condition, .. } => condition.clone(),
            other => panic!("not a verify condition: {other:?}"),
        }
    }

    #[track_caller]
    fn impossible(src: &str) {
        assert!(never_true(&condition(src)).is_some(), "`{src}` should be reported as never true");
    }

    #[track_caller]
    fn possible(src: &str) {
        assert_eq!(never_true(&condition(src)), None, "`{src}` can be true");
    }

    #[test]
    fn contradictory_bounds_on_one_metric() {
        impossible("x < 0 and x > 1");
        impossible("x > 5 and x < 5");
        impossible("x >= 5% and x <= 1%");
        impossible("x == 1 and x == 2");
        impossible("(x < 0 or y < 0) and x > 1 and y > 1");
        impossible("x * 100 > 50 and x < 0.1");
        impossible("1 - x > 0.5 and x > 0.9");
        possible("x >= 5 and x <= 5");
        possible("x < 0 or x > 1");
        possible("x * 3 >= 1 and x <= 0.3333333333333333");
    }

    #[test]
    fn constants_and_self_comparisons() {
        impossible("1 > 2");
        impossible("x > x");
        impossible("x - x > 0");
        impossible("x offset 1h < x offset 1h");
        possible("x >= x");
        possible("x > x offset 1h");
    }

    #[test]
    fn ranges_the_language_guarantees() {
        impossible("abs(x) < 0");
        impossible("count_over(x, 5m) < 1");
        possible("abs(x) <= 0");
        possible("rate(x, 5m) < 0");
    }

    #[test]
    fn nan_and_missing_values_keep_not_and_not_equal_open() {
        possible("not x > 1 and not x < 2");
        possible("x != 1 and x == 1");
        impossible("x != x and 1 > 2");
        possible("x > 1 and y < 0");
    }
}
