//! Checking literals against what their position needs: a duration, a whole number, a ratio.

use super::Analyzer;
use crate::ast::{DurationError, Quantity, QuantityValue};
use crate::diagnostic::{Code, Diagnostic};

impl Analyzer<'_> {
    /// A non-negative duration in milliseconds, or a diagnostic saying why `q` is not one.
    pub(super) fn duration(&mut self, q: &Quantity, what: &str) -> Option<u64> {
        match &q.value {
            QuantityValue::Duration(Ok(ms)) => {
                if q.negative && *ms > 0 {
                    self.push(
                        Diagnostic::new(Code::NegativeValue, q.span, format!("{what} cannot be negative"))
                            .label("negative duration")
                            .help("durations count forward from now; write a positive duration such as `5m`"),
                    );
                    return None;
                }
                Some(*ms)
            }
            QuantityValue::Duration(Err(e)) => {
                let (message, help) = match e {
                    DurationError::Fractional => (
                        "durations are whole numbers of their units",
                        "use a smaller unit: `90s` instead of `1.5m`, `1500ms` instead of `1.5s`",
                    ),
                    DurationError::Order => {
                        ("compound durations go largest unit first, each unit once", "write `1h30m`, not `30m1h`")
                    }
                    DurationError::Overflow => ("duration is too large", "no runbook needs to wait centuries"),
                };
                self.push(Diagnostic::new(Code::InvalidDuration, q.span, message).label("invalid duration").help(help));
                None
            }
            QuantityValue::Percent(_) | QuantityValue::Number { .. } => {
                let help = match q.value {
                    QuantityValue::Number { value: 0.0, .. } => "write `0s`".to_string(),
                    QuantityValue::Number { value, integer: true } => {
                        format!("add a unit: `{value}s`, `{value}m`, `{value}h`")
                    }
                    _ => "write a duration with a unit: `30s`, `5m`, `1h30m`".to_string(),
                };
                self.push(
                    Diagnostic::new(
                        Code::ExpectedDuration,
                        q.span,
                        format!("{what} needs a duration, found {}", q.kind_name()),
                    )
                    .label("expected a duration")
                    .help(help),
                );
                None
            }
        }
    }

    /// A whole number within `min..=max`, or a diagnostic.
    pub(super) fn count(&mut self, q: &Quantity, what: &str, min: u64, max: u64) -> Option<u32> {
        match q.value {
            QuantityValue::Number { value, integer: true } => {
                if q.negative && value > 0.0 {
                    self.push(
                        Diagnostic::new(Code::NegativeValue, q.span, format!("{what} cannot be negative"))
                            .label("negative count")
                            .help(format!("{what} is a whole number from {min} to {max}")),
                    );
                    return None;
                }
                if value < min as f64 || value > max as f64 {
                    self.push(
                        Diagnostic::new(Code::OutOfRange, q.span, format!("{what} must be from {min} to {max}"))
                            .label(format!("{} is out of range", crate::plan::format_number(value)))
                            .help(format!("{what} is a whole number from {min} to {max}")),
                    );
                    return None;
                }
                Some(value as u32)
            }
            QuantityValue::Number { .. } => {
                self.push(
                    Diagnostic::new(Code::ExpectedWholeNumber, q.span, format!("{what} must be a whole number"))
                        .label("not a whole number")
                        .help(format!("{what} is a whole number from {min} to {max}")),
                );
                None
            }
            QuantityValue::Percent(_) | QuantityValue::Duration(_) => {
                self.push(
                    Diagnostic::new(
                        Code::ExpectedNumber,
                        q.span,
                        format!("{what} needs a number, found {}", q.kind_name()),
                    )
                    .label("expected a whole number")
                    .help(format!("{what} is a count, written without a unit: a whole number from {min} to {max}")),
                );
                None
            }
        }
    }
}
