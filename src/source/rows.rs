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
    if let Some(v) = short_decimal(text.as_bytes()) {
        return Some(v);
    }
    match fast_float2::parse_partial::<f64, _>(text.as_bytes()) {
        Ok((v, n)) if n == text.len() && v.is_finite() => Some(v),
        _ => None,
    }
}

/// Powers of ten that are exact as `f64`.
const POW10: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20,
    1e21, 1e22,
];

/// The common number of a series file, `-?digits[.digits]` with at most 15 digits in all, read the short way:
/// its digits are an integer exact in an `f64`, and so is the power of ten it is divided by, so the one
/// division rounds correctly (Clinger's fast path) and the result is the standard parser's. `None` for any
/// other form.
#[inline]
fn short_decimal(b: &[u8]) -> Option<f64> {
    let (negative, digits) = match b.first() {
        Some(b'-') => (true, &b[1..]),
        _ => (false, b),
    };
    if digits.is_empty() || digits.len() > 16 {
        return None;
    }
    let mut m: u64 = 0;
    let mut count = 0usize;
    let mut point = None;
    for (i, &c) in digits.iter().enumerate() {
        match c {
            b'0'..=b'9' => {
                m = m * 10 + u64::from(c - b'0');
                count += 1;
            }
            b'.' if point.is_none() => point = Some(i),
            _ => return None,
        }
    }
    if count == 0 || count > 15 {
        return None;
    }
    let scale = point.map_or(0, |p| digits.len() - 1 - p);
    #[allow(clippy::cast_precision_loss, reason = "at most 15 digits: below 2^53, exact")]
    let v = m as f64 / POW10[scale];
    Some(if negative { -v } else { v })
}

/// A time written as whole seconds (`1714564800`, at most 15 digits, no sign), in milliseconds: what
/// [`seconds_to_ms`](super::time::seconds_to_ms) gives for it, without going through a float.
#[inline]
pub(crate) fn whole_seconds_ms(text: &str) -> Option<i64> {
    let b = text.as_bytes();
    if b.is_empty() || b.len() > 15 {
        return None;
    }
    let mut secs: i64 = 0;
    for &c in b {
        if !c.is_ascii_digit() {
            return None;
        }
        secs = secs * 10 + i64::from(c - b'0');
    }
    // Within 2^53 ms, as `seconds_to_ms` bounds it.
    let ms = secs * 1000;
    (ms <= 1 << 53).then_some(ms)
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
        for t in ["-0", "-.5", "0.000000000000001", "999999999999999", "9999999999999999", "12345678.1234567"] {
            assert_eq!(plain_decimal(t), t.parse::<f64>().ok(), "{t}");
        }
        for t in ["", "-", ".", "NaN", "nan", "+Inf", "inf", "infinity", "1.2.3", " 1", "0x10", "1_0", "1e"] {
            assert_eq!(plain_decimal(t), None, "{t}");
        }
    }

    /// Every short decimal form against the standard parser, bit for bit (the sign of zero included).
    #[test]
    fn short_decimals_are_the_standard_parsers_to_the_bit() {
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for _ in 0..200_000 {
            let r = next();
            let digits = 1 + (r % 16) as usize;
            let mut t = String::new();
            if r & (1 << 40) != 0 {
                t.push('-');
            }
            let point = (r >> 8) as usize % (digits + 2);
            for i in 0..digits {
                if i == point {
                    t.push('.');
                }
                t.push(char::from(b'0' + (next() % 10) as u8));
            }
            let ours = plain_decimal(&t).map(f64::to_bits);
            assert_eq!(ours, t.parse::<f64>().ok().filter(|v| v.is_finite()).map(f64::to_bits), "{t}");
        }
        for t in ["0", "1714564800", "999999999999999", "000000000000001"] {
            let secs: f64 = t.parse().expect("a number");
            assert_eq!(whole_seconds_ms(t), super::super::time::seconds_to_ms(secs), "{t}");
        }
        for t in ["", "-1", "1.5", "1e3", "1234567890123456", " 1"] {
            assert_eq!(whole_seconds_ms(t), None, "{t}");
        }
    }
}
