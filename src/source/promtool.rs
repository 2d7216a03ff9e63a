//! Reading promtool unit-test YAML: the `input_series` of the first test (or of a top level that is itself
//! `{interval, input_series}`), sampled every `interval` (promtool's default: `evaluation_interval`, else
//! 1m) from time 0, with values in promtool's expanding notation (see `expand.rs`).

use std::collections::HashMap;

use serde::Deserialize;
use serde_saphyr::Spanned;

use super::expand::{self, ExpandError, Item};
use super::labels::parse_series_name;
use super::series::{Builder, Labels, SeriesSet, TimeBase, bad_labels, series_name};
use crate::diagnostic::{Code, Diagnostic};
use crate::span::Span;
use crate::yaml::Scalar;

const DEFAULT_INTERVAL_MS: u64 = 60_000;

#[derive(Deserialize)]
struct UnitTestFile {
    #[serde(default)]
    evaluation_interval: Option<Spanned<String>>,
    #[serde(default)]
    tests: Option<Vec<TestGroup>>,
    #[serde(default)]
    interval: Option<Spanned<String>>,
    #[serde(default)]
    input_series: Option<Vec<InputSeries>>,
}

#[derive(Deserialize)]
struct TestGroup {
    #[serde(default)]
    interval: Option<Spanned<String>>,
    #[serde(default)]
    input_series: Option<Vec<InputSeries>>,
}

#[derive(Deserialize)]
struct InputSeries {
    series: Spanned<String>,
    #[serde(default)]
    values: Option<Spanned<String>>,
}

pub(crate) fn read(text: &str) -> Result<SeriesSet, Diagnostic> {
    // A promtool test file carries its assertions too (100 alerts checked at 1,000 times is 100,000 list
    // entries), so the parser's default node budget is too small; the caller's 64 MiB cap bounds the work.
    let options = serde_saphyr::options! {
        budget: serde_saphyr::budget! {
            max_nodes: 50_000_000,
            max_events: 50_000_000,
        },
    };
    let file: UnitTestFile = serde_saphyr::from_str_with_options(text, options).map_err(|e| yaml_error(text, &e))?;
    let first_test = file.tests.and_then(|t| t.into_iter().next());
    let (interval, input) = match first_test {
        Some(t) if t.input_series.is_some() => (t.interval.or(file.interval), t.input_series),
        _ => (file.interval, file.input_series),
    };
    let Some(input) = input else {
        return Err(Diagnostic::new(Code::SeriesSyntax, Span::new(0, 0), "the YAML file has no `input_series`")
            .label("read as promtool unit-test YAML")
            .help("give `tests: [{interval: 1m, input_series: [{series: 'name', values: '1 2 3'}]}]`, or `input_series` at the top level"));
    };
    let interval_ms = match interval.as_ref().or(file.evaluation_interval.as_ref()) {
        Some(s) => {
            let scalar = Scalar::new(text, s);
            match parse_prometheus_duration(scalar.value) {
                Some(ms) if ms > 0 => ms,
                _ => {
                    return Err(Diagnostic::new(
                        Code::SeriesTime,
                        scalar.span,
                        format!("`{}` is not an interval", scalar.value),
                    )
                    .label("expected a duration such as `15s` or `1m`")
                    .help("write a positive Prometheus duration: whole numbers with units `ms s m h d w y`, largest first"));
                }
            }
        }
        None => DEFAULT_INTERVAL_MS,
    };
    let interval_ms = i64::try_from(interval_ms).unwrap_or(i64::MAX);
    let mut builder = Builder::new(text, TimeBase::Seconds);
    let mut seen: HashMap<(String, Labels), Span> = HashMap::new();
    for entry in &input {
        let name_scalar = Scalar::new(text, &entry.series);
        let (name, labels) =
            parse_series_name(name_scalar.value).map_err(|e| bad_labels(e, |s, e| name_scalar.part(s, e)))?;
        let key = (name.into_owned(), labels);
        if let Some(first_span) = seen.get(&key) {
            return Err(Diagnostic::new(
                Code::SeriesSyntax,
                name_scalar.span,
                format!("the series `{}` is given twice", series_name(&key.0, &key.1)),
            )
            .label("again here")
            .related(*first_span, "first here")
            .help("give each series (a metric name and its labels) once"));
        }
        builder.declare(&key.0, &key.1, name_scalar.span);
        seen.insert(key.clone(), name_scalar.span);
        let (name, labels) = key;
        let Some(values) = entry.values.as_ref() else {
            continue;
        };
        let values = Scalar::new(text, values);
        let mut over_limit = None;
        let expanded = {
            let mut budget = |n: u64, s: usize, e: usize| {
                builder.reserve(n, values.part(s, e)).map_err(|d| {
                    let error = ExpandError { start: s, end: e, message: d.message.clone() };
                    over_limit = Some(d);
                    error
                })
            };
            expand::expand(values.value, &mut budget)
        };
        if let Some(d) = over_limit {
            return Err(d);
        }
        let items = expanded.map_err(|e| {
            Diagnostic::new(Code::SeriesValue, values.part(e.start, e.end), e.message)
                .label("here")
                .help("promtool notation: `1 2 3`, `1+1x3` (1 2 3 4), `5x2` (5 5 5), `_` missing, `_x3` three missing, `stale`")
        })?;
        for (i, item) in items.into_iter().enumerate() {
            if let Item::Value(v) = item {
                let t = i64::try_from(i).ok().and_then(|i| i.checked_mul(interval_ms)).ok_or_else(|| {
                    Diagnostic::new(
                        Code::SeriesTime,
                        values.span,
                        "the series runs past the largest time ripcord can represent",
                    )
                    .help("use a shorter interval or fewer values")
                })?;
                builder.push_reserved(&name, &labels, t, v, values.span)?;
            }
        }
    }
    Ok(builder.finish())
}

fn yaml_error(text: &str, e: &serde_saphyr::Error) -> Diagnostic {
    let (at, reason) = crate::yaml::error_at(text, e);
    Diagnostic::new(Code::SeriesSyntax, Span::new(at, at), format!("cannot read the YAML series file: {reason}"))
        .label("here")
        .help("a promtool unit-test file: `tests:` with `interval:` and `input_series:` of `series:` and `values:`")
}

/// A Prometheus duration (`1m`, `1h30m`, `500ms`, `0`): whole numbers with units `y w d h m s ms`, largest
/// first, each at most once. Milliseconds, or `None` if it is not one.
pub(crate) fn parse_prometheus_duration(s: &str) -> Option<u64> {
    let s = s.trim();
    if s == "0" {
        return Some(0);
    }
    const UNITS: [(&str, u64); 7] = [
        ("y", 365 * 86_400_000),
        ("w", 7 * 86_400_000),
        ("d", 86_400_000),
        ("h", 3_600_000),
        ("m", 60_000),
        ("s", 1_000),
        ("ms", 1),
    ];
    let mut rest = s;
    let mut next_unit = 0;
    let mut total: u64 = 0;
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return None;
        }
        let n: u64 = rest[..digits].parse().ok()?;
        rest = &rest[digits..];
        // `ms` must be tried before `m`.
        let (idx, (unit, size)) = UNITS
            .iter()
            .enumerate()
            .skip(next_unit)
            .filter(|(_, (u, _))| rest.starts_with(u))
            .max_by_key(|(_, (u, _))| u.len())?;
        rest = &rest[unit.len()..];
        next_unit = idx + 1;
        total = total.checked_add(n.checked_mul(*size)?)?;
    }
    if s.is_empty() { None } else { Some(total) }
}
