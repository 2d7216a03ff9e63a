//! Tests of the series readers, one file per format, plus garbage input that must never panic.

#![allow(clippy::unwrap_used, reason = "a failing unwrap is a failing test")]

mod csv;
mod expand;
mod fast;
mod garbage;
mod jsonl;
mod labels;
mod promtool;

use super::{Labels, SeriesSet, read_series};
use crate::diagnostic::{Code, Diagnostic};

/// Reads `text` as the file `path`, expecting success.
fn ok(path: &str, text: &str) -> SeriesSet {
    match read_series(path, text) {
        Ok(set) => set,
        Err(d) => panic!("expected {path} to read, got {}: {} (span {:?})", d.code, d.message, d.span),
    }
}

/// Reads `text` as the file `path`, expecting a diagnostic with `code`.
fn fails(path: &str, text: &str, code: Code) -> Diagnostic {
    match read_series(path, text) {
        Ok(set) => panic!("expected {path} to fail with {code}, read {set:?}"),
        Err(d) => {
            assert_eq!(d.code, code, "{}", d.message);
            assert!(d.span.end <= text.len(), "span {:?} outside the text", d.span);
            d
        }
    }
}

/// The text a diagnostic's span covers.
fn spanned<'a>(text: &'a str, d: &Diagnostic) -> &'a str {
    &text[d.span.start..d.span.end]
}

/// One series as (time in ms, value) pairs.
fn samples(set: &SeriesSet, metric: &str) -> Vec<(i64, f64)> {
    let s = set.unlabelled(metric).unwrap();
    s.t_ms.iter().copied().zip(s.v.iter().copied()).collect()
}

/// The series of `metric` with exactly `labels`, as (time in ms, value) pairs.
fn labelled(set: &SeriesSet, metric: &str, labels: &[(&str, &str)]) -> Vec<(i64, f64)> {
    let s = set.get(metric, &Labels::from_pairs(labels.iter().copied())).unwrap_or_else(|| {
        panic!("no series {metric}{labels:?} in {set:?}");
    });
    s.t_ms.iter().copied().zip(s.v.iter().copied()).collect()
}
