//! The fast path of the line-based readers (CSV, JSON Lines): one row at a time from a borrowed line, with
//! no allocation per row (label sets through the file's [`LabelInterner`](super::labels::LabelInterner),
//! numbers through `fast-float2`), handing each sample to a [`Sink`]: the in-memory [`Builder`](super::series::Builder)
//! or the streaming window of `simulate`.
//!
//! The fast path takes only what it is sure of. A row it cannot read (a mistake, or a rare form such as a
//! quoted CSV field running over lines, a JSON string with escapes) is [`RowError::Slow`]: the caller then
//! reads the file with the full reader (`csv_file.rs`, `jsonl.rs`), which either reads it or gives the
//! diagnostic it always gave. So the diagnostics for bad rows are the full readers', by construction.

use super::series::{Labels, TimeBase};
use crate::span::Span;

/// Where rows go.
pub(crate) trait Sink {
    /// How the file writes its times (told once, at the first row).
    fn set_base(&mut self, base: TimeBase);
    /// One sample of the series `metric` with `labels`, read from `line`.
    fn sample(&mut self, metric: &str, labels: &Labels, t_ms: i64, v: f64, line: Span) -> Result<(), RowError>;
}

/// Why a row was not taken.
#[derive(Debug)]
pub(crate) enum RowError {
    /// The fast path cannot read this row: the full reader decides (and reports).
    Slow,
}

/// A row's time base against the file's: the first row's sets it (and tells `sink`); a row in another base
/// is left to the full reader.
pub(crate) fn agree_base(known: &mut Option<TimeBase>, base: TimeBase, sink: &mut impl Sink) -> Result<(), RowError> {
    match *known {
        None => {
            *known = Some(base);
            sink.set_base(base);
            Ok(())
        }
        Some(b) if b != base => Err(RowError::Slow),
        Some(_) => Ok(()),
    }
}

/// A finite decimal number (`-12.5`, `1714564800`, `.5`, `1e3`), parsed exactly as `str::parse::<f64>` would
/// (both round correctly, and `fast-float2` reads a subset of what the standard parser reads); `None` for
/// anything else (`NaN`, `Inf`, a word), which the caller reads the general way.
#[inline]
pub(crate) fn plain_decimal(text: &str) -> Option<f64> {
    match fast_float2::parse_partial::<f64, _>(text.as_bytes()) {
        Ok((v, n)) if n == text.len() && v.is_finite() => Some(v),
        _ => None,
    }
}

/// Whether a JSON number is short enough that every correctly rounded parser and serde_json agree on it
/// (at most 15 significant digits, no exponent: Clinger's exact case).
#[inline]
pub(crate) fn short_json_number(text: &str) -> bool {
    let b = text.as_bytes();
    b.len() <= 16 && b.iter().filter(|c| c.is_ascii_digit()).count() <= 15 && !b.iter().any(|&c| c == b'e' || c == b'E')
}

/// The lines of `text` with their starting offsets, without their line breaks (`\n`, or `\r\n`).
pub(crate) fn lines(text: &str) -> impl Iterator<Item = (&str, usize)> {
    let mut start = 0;
    text.split_inclusive('\n').map(move |raw| {
        let at = start;
        start += raw.len();
        let line = raw.strip_suffix('\n').unwrap_or(raw);
        (line.strip_suffix('\r').unwrap_or(line), at)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_decimals_agree_with_the_standard_parser() {
        for t in ["0", "-1", "1714564800", "1714564800.25", "0.1", ".5", "5.", "-0.000123", "123456789.123456789"] {
            assert_eq!(plain_decimal(t), t.parse::<f64>().ok(), "{t}");
        }
        for t in ["1e5", "-2.5E-3", "1e400"] {
            assert_eq!(plain_decimal(t), t.parse::<f64>().ok().filter(|v| v.is_finite()), "{t}");
        }
        for t in ["", "-", ".", "NaN", "nan", "+Inf", "inf", "infinity", "1.2.3", " 1", "0x10", "1_0", "1e"] {
            assert_eq!(plain_decimal(t), None, "{t}");
        }
    }
}
