//! A condition of the simple shape `VALUE OP number` (or `number OP VALUE`) as the set of values it holds
//! for, so that two of them on the same value can be compared: whether one implies the other, whether one
//! is the other's negation. Analysis uses it for a trigger's `clear when` against its condition (RC220,
//! RC221), and lint for a `clear when` with no band between the two (`clear-without-hysteresis`).
//!
//! Every other shape (`and`, `or`, two values, matching) gives `None`: nothing is claimed about it.

use super::{CmpOp, Condition, Value};

/// `value op number`, with the value on the left.
#[derive(Clone, Debug, PartialEq)]
pub struct Threshold<'c> {
    pub value: &'c Value,
    pub op: CmpOp,
    pub number: f64,
}

impl<'c> Threshold<'c> {
    /// The threshold a condition is, if it is one comparison of a value with a number.
    pub fn of(condition: &'c Condition) -> Option<Threshold<'c>> {
        let Condition::Compare { op, lhs, rhs, matching: None } = condition else {
            return None;
        };
        let (value, op, number) = match (lhs, rhs) {
            (Value::Number { .. }, Value::Number { .. }) => return None,
            (v, Value::Number { value }) => (v, *op, *value),
            (Value::Number { value }, v) => (v, op.mirrored(), *value),
            _ => return None,
        };
        number.is_finite().then_some(Threshold { value, op, number })
    }

    /// Whether every number this holds for, `other` holds for too (on the same value).
    pub fn implies(&self, other: &Threshold<'_>) -> bool {
        if self.value != other.value {
            return false;
        }
        let (a, b) = (self.number, other.number);
        use CmpOp::*;
        match (self.op, other.op) {
            (Eq, _) => other.op.test(a, b),
            (Gt, Gt | Ge) | (Ge, Ge) => a >= b,
            (Ge, Gt) => a > b,
            (Gt, Ne) => b <= a,
            (Ge, Ne) => b < a,
            (Lt, Lt | Le) | (Le, Le) => a <= b,
            (Le, Lt) => a < b,
            (Lt, Ne) => b >= a,
            (Le, Ne) => b > a,
            (Ne, Ne) => a == b,
            _ => false,
        }
    }

    /// Whether `other` holds exactly where this does not (on the same value): `x > 90` and `x <= 90`.
    pub fn negates(&self, other: &Threshold<'_>) -> bool {
        self.value == other.value && self.number == other.number && self.op.negated() == other.op
    }

    /// The negation, as a threshold on the same value: `x > 90` gives `x <= 90`.
    pub fn negation(&self) -> Threshold<'c> {
        Threshold { value: self.value, op: self.op.negated(), number: self.number }
    }
}

impl Threshold<'_> {
    /// An example of a clear condition that leaves a band on the other side of this threshold, for help
    /// lines: `x > 90` gives `x < 80`, `x < 5` gives `x > 6`, `x == 1` gives `x != 1`.
    pub fn band_example(&self) -> String {
        let (step, decimals) = band_width(self.number);
        let (op, edge) = match self.op {
            CmpOp::Gt | CmpOp::Ge => ("<", self.number - step),
            CmpOp::Lt | CmpOp::Le => (">", self.number + step),
            CmpOp::Eq | CmpOp::Ne => return self.negation().to_string(),
        };
        let edge: f64 = format!("{edge:.decimals$}").parse().unwrap_or(edge);
        format!("{} {op} {}", self.value, super::format_number(edge))
    }
}

/// A round step near a threshold and its decimals: 90 gives 10, 5 gives 1, 0.05 gives 0.01, 0 gives 1.
fn band_width(n: f64) -> (f64, usize) {
    if n == 0.0 {
        return (1.0, 0);
    }
    let power = (n.abs() / 2.0).log10().floor().clamp(-12.0, 300.0);
    let decimals = (-power).max(0.0) as usize;
    (10f64.powf(power), decimals)
}

impl std::fmt::Display for Threshold<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {} {}", self.value, self.op.symbol(), super::format_number(self.number))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cond(op: CmpOp, n: f64) -> Condition {
        Condition::Compare {
            op,
            lhs: Value::Metric { name: "x".into(), offset_ms: 0 },
            rhs: Value::Number { value: n },
            matching: None,
        }
    }

    fn implies(a: (CmpOp, f64), b: (CmpOp, f64)) -> bool {
        let (a, b) = (cond(a.0, a.1), cond(b.0, b.1));
        Threshold::of(&a).expect("a threshold").implies(&Threshold::of(&b).expect("a threshold"))
    }

    #[test]
    fn implication_between_half_lines_and_points() {
        use CmpOp::*;
        assert!(implies((Gt, 90.0), (Gt, 50.0)));
        assert!(implies((Gt, 90.0), (Ge, 90.0)));
        assert!(!implies((Ge, 90.0), (Gt, 90.0)));
        assert!(!implies((Gt, 90.0), (Lt, 95.0)));
        assert!(!implies((Gt, 50.0), (Gt, 90.0)));
        assert!(implies((Lt, 10.0), (Le, 10.0)));
        assert!(implies((Eq, 3.0), (Gt, 2.0)));
        assert!(implies((Gt, 3.0), (Ne, 3.0)));
        assert!(!implies((Ge, 3.0), (Ne, 3.0)));
        assert!(implies((Ne, 3.0), (Ne, 3.0)));
        assert!(!implies((Ne, 3.0), (Gt, 3.0)));
    }

    #[test]
    fn a_number_on_the_left_is_turned_round_and_other_shapes_are_not_thresholds() {
        let c = Condition::Compare {
            op: CmpOp::Lt,
            lhs: Value::Number { value: 90.0 },
            rhs: Value::Metric { name: "x".into(), offset_ms: 0 },
            matching: None,
        };
        let t = Threshold::of(&c).expect("a threshold");
        assert_eq!(t.to_string(), "x > 90");
        assert!(t.negates(&Threshold::of(&cond(CmpOp::Le, 90.0)).expect("a threshold")));
        let both = Condition::And { lhs: Box::new(cond(CmpOp::Gt, 1.0)), rhs: Box::new(c), matching: None };
        assert!(Threshold::of(&both).is_none());
    }

    #[test]
    fn band_examples_are_round_numbers_on_the_other_side() {
        let band = |op, n| Threshold::of(&cond(op, n)).expect("a threshold").band_example();
        assert_eq!(band(CmpOp::Gt, 90.0), "x < 80");
        assert_eq!(band(CmpOp::Ge, 0.05), "x < 0.04");
        assert_eq!(band(CmpOp::Lt, 5.0), "x > 6");
        assert_eq!(band(CmpOp::Gt, 0.0), "x < -1");
        assert_eq!(band(CmpOp::Eq, 1.0), "x != 1");
    }
}
