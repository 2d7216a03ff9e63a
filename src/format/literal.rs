//! Literals in their canonical spelling: strings re-escaped, numbers and durations as written except for
//! spellings that cannot differ in meaning (leading zeros, `E` for `e`, `e+3` for `e3`).
//!
//! What is deliberately kept as written: `5%` stays a percentage, `90s` stays `90s` (not `1m30s`), `1.0`
//! keeps its fraction (it is not a whole number to the analyser), a raw string stays raw.

use crate::ast::{Quantity, Text, TextPart};

/// A string literal: a raw string exactly as written, a quoted one with each character escaped only where
/// the language needs it.
pub(super) fn text(t: &Text) -> String {
    let mut out = String::new();
    if t.raw {
        out.push('`');
        for part in &t.parts {
            if let TextPart::Literal(s) = part {
                out.push_str(s);
            }
        }
        out.push('`');
        return out;
    }
    out.push('"');
    for part in &t.parts {
        match part {
            TextPart::Literal(s) => escape_into(&mut out, s),
            TextPart::Interpolation { path, .. } => {
                out.push_str("${");
                out.push_str(path);
                out.push('}');
            }
            TextPart::BadEscape { text, .. } => out.push_str(text),
        }
    }
    out.push('"');
    out
}

fn escape_into(out: &mut String, s: &str) {
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            // `$` is text unless `{` follows: only then would it start an interpolation.
            '$' if chars.peek() == Some(&'{') => out.push_str("\\$"),
            c => out.push(c),
        }
    }
}

/// A quantity (with its sign) in canonical spelling, from the text it was written as.
pub(super) fn quantity(src: &str, q: &Quantity) -> String {
    src.get(q.span.start..q.span.end).map(canonical_quantity).unwrap_or_default()
}

/// `007` -> `7`, `1E+03` -> `1e3`, `01h05m` -> `1h5m`; everything else as written.
pub(super) fn canonical_quantity(written: &str) -> String {
    let mut out = String::with_capacity(written.len());
    let mut rest = written;
    if let Some(r) = rest.strip_prefix('-') {
        out.push('-');
        rest = r;
    }
    let (digits, r) = split_digits(rest);
    push_integer(&mut out, digits);
    rest = r;
    if let Some(r) = rest.strip_prefix('.') {
        let (fraction, r) = split_digits(r);
        out.push('.');
        out.push_str(fraction);
        rest = r;
    }
    if let Some(r) = rest.strip_prefix(['e', 'E']) {
        out.push('e');
        let r = match r.strip_prefix('-') {
            Some(r) => {
                out.push('-');
                r
            }
            None => r.strip_prefix('+').unwrap_or(r),
        };
        let (exponent, r) = split_digits(r);
        push_integer(&mut out, exponent);
        rest = r;
    }
    // The suffix: `%`, or a duration's units with the numbers of its later parts.
    while !rest.is_empty() {
        let (digits, r) = split_digits(rest);
        if digits.is_empty() {
            let end = rest.find(|c: char| c.is_ascii_digit()).unwrap_or(rest.len());
            out.push_str(&rest[..end]);
            rest = &rest[end..];
        } else {
            push_integer(&mut out, digits);
            rest = r;
        }
    }
    out
}

fn split_digits(s: &str) -> (&str, &str) {
    s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()))
}

/// Digits without leading zeros (`0` stays `0`).
fn push_integer(out: &mut String, digits: &str) {
    let trimmed = digits.trim_start_matches('0');
    out.push_str(if trimmed.is_empty() && !digits.is_empty() { "0" } else { trimmed });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantities_keep_their_unit_and_lose_only_redundant_spelling() {
        for (written, canonical) in [
            ("5%", "5%"),
            ("90s", "90s"),
            ("1h30m", "1h30m"),
            ("007", "7"),
            ("0", "0"),
            ("00.50", "0.50"),
            ("1.0", "1.0"),
            ("1E+03", "1e3"),
            ("2.5e-3", "2.5e-3"),
            ("-5m", "-5m"),
            ("01h05m", "1h5m"),
            ("250ms", "250ms"),
            ("1m30s500ms", "1m30s500ms"),
        ] {
            assert_eq!(canonical_quantity(written), canonical, "{written}");
        }
    }

    #[test]
    fn strings_escape_only_what_needs_escaping() {
        let t = Text {
            span: crate::span::Span::default(),
            raw: false,
            parts: vec![
                TextPart::Literal("a \"q\" \\ \t\n $5 ${x} $".into()),
                TextPart::Interpolation { path: "trigger".into(), span: crate::span::Span::default() },
            ],
        };
        assert_eq!(text(&t), r#""a \"q\" \\ \t\n $5 \${x} $${trigger}""#);
    }
}
