use crate::span::Span;

/// A literal number with its unit as written: `42`, `0.05`, `5%`, `250ms`, `1h30m`, `-1m`.
///
/// Positions that want a duration, a count or a ratio all accept any quantity; the analyser checks the kind
/// so that `for 5%` gets a diagnostic that says what was expected instead of a parse error.
#[derive(Clone, Debug)]
pub struct Quantity {
    pub span: Span,
    pub negative: bool,
    pub value: QuantityValue,
}

#[derive(Clone, Debug, PartialEq)]
pub enum QuantityValue {
    /// A plain number; `integer` is true when it was written without a fraction or exponent.
    Number { value: f64, integer: bool },
    /// `5%`, stored as the ratio (0.05).
    Percent(f64),
    /// A duration in milliseconds, or why it is not a valid one.
    Duration(Result<u64, DurationError>),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DurationError {
    /// `1.5m`: durations are whole numbers of their units.
    Fractional,
    /// `30m1h`: compound durations go largest unit first, each unit once.
    Order,
    /// Larger than any clock can wait.
    Overflow,
}

impl Quantity {
    /// The kind of the literal in words, for diagnostics ("a percentage").
    pub fn kind_name(&self) -> &'static str {
        match self.value {
            QuantityValue::Number { integer: true, .. } => "a whole number",
            QuantityValue::Number { .. } => "a number",
            QuantityValue::Percent(_) => "a percentage",
            QuantityValue::Duration(_) => "a duration",
        }
    }

    /// The value as a number in a condition: percentages as ratios, durations as seconds (as in PromQL).
    pub fn as_scalar(&self) -> Option<f64> {
        let v = match &self.value {
            QuantityValue::Number { value, .. } => *value,
            QuantityValue::Percent(r) => *r,
            QuantityValue::Duration(Ok(ms)) => *ms as f64 / 1000.0,
            QuantityValue::Duration(Err(_)) => return None,
        };
        Some(if self.negative { -v } else { v })
    }
}
