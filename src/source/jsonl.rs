//! Reading JSON Lines series files: one object per line, `{"time": .., "metric": .., "value": ..}`, with an
//! optional `"labels": {"instance": "a", ...}` (string values; `null` or `{}` for none). A time is a number
//! of seconds or an RFC 3339 string; a value is a number or one of the strings `"NaN"`, `"+Inf"`, `"-Inf"`,
//! `"stale"` (or a number written as a string, as the Prometheus API writes them). The metric may also carry
//! its labels in PromQL notation (`"disk_used{instance=\"a\"}"`, read by `labels.rs`). Label sets are
//! interned, so a repeated one is built once. Blank lines are skipped; other fields are ignored.

use serde_json::Value;

use super::csv_file::{bad_value, mixed_times};
use super::jsonl_rows::JsonRows;
use super::labels::{LabelInterner, valid_label_name};
use super::series::{Builder, Labels, SeriesSet, TimeBase, bad_labels, bad_metric_name, valid_metric_name};
use super::time::{parse_time, parse_value, seconds_to_ms};
use crate::diagnostic::{Code, Diagnostic};
use crate::span::Span;

pub(crate) fn read(text: &str) -> Result<SeriesSet, Diagnostic> {
    fast(text).map_or_else(|| read_full(text), Ok)
}

/// The fast path (`jsonl_rows.rs`): `None` when a line needs the full reader.
pub(crate) fn fast(text: &str) -> Option<SeriesSet> {
    let mut rows = JsonRows::default();
    let mut builder = Builder::new(text, TimeBase::Seconds);
    for (line, offset) in super::rows::lines(text) {
        rows.line(line, offset, &mut builder).ok()?;
    }
    Some(builder.finish())
}

/// The full reader: every line serde_json reads, and the diagnostic for every bad line.
pub(crate) fn read_full(text: &str) -> Result<SeriesSet, Diagnostic> {
    let mut builder = Builder::new(text, TimeBase::Seconds);
    let mut interner = LabelInterner::default();
    let none = Labels::empty();
    let mut first_time: Option<(TimeBase, Span)> = None;
    let mut start = 0;
    for raw in text.split_inclusive('\n') {
        let line_start = start;
        start += raw.len();
        let line = raw.trim_end_matches(['\n', '\r']);
        if line.trim().is_empty() {
            continue;
        }
        let line_span = Span::new(line_start, line_start + line.len());
        let object: Value = serde_json::from_str(line).map_err(|e| {
            let at = line_start + byte_of_column(line, e.column());
            Diagnostic::new(Code::SeriesSyntax, Span::new(at, at), format!("this line is not JSON: {e}"))
                .label("here")
                .help("each line of a JSON Lines series file is one object: {\"time\": 1714564800, \"metric\": \"errors\", \"value\": 0.5}")
        })?;
        let Value::Object(fields) = &object else {
            return Err(Diagnostic::new(Code::SeriesSyntax, line_span, "this line is not a JSON object")
                .label("expected {\"time\": .., \"metric\": .., \"value\": ..}")
                .help("each line holds one sample as an object"));
        };
        let get = |key: &str| {
            fields.get(key).ok_or_else(|| {
                Diagnostic::new(Code::SeriesSyntax, line_span, format!("this sample has no `{key}`"))
                    .label("in this line")
                    .help("each sample needs `time`, `metric` and `value`")
            })
        };
        let (time, metric, value) = (get("time")?, get("metric")?, get("value")?);

        let time_span = field_span(line, line_span, "time");
        let (t_ms, base) = match time {
            Value::Number(n) => n.as_f64().and_then(seconds_to_ms).map(|ms| (ms, TimeBase::Seconds)).ok_or_else(|| {
                "seconds must be a finite number within a few hundred thousand years of 1970".to_string()
            }),
            Value::String(s) => parse_time(s),
            _ => Err("a time is a number of seconds or an RFC 3339 string".to_string()),
        }
        .map_err(|why| {
            Diagnostic::new(Code::SeriesTime, time_span, format!("`{time}` is not a time"))
                .label(why)
                .help("write times as seconds since the epoch (1714564800.5) or RFC 3339 (\"2024-05-01T12:00:00Z\")")
        })?;
        match first_time {
            None => {
                first_time = Some((base, time_span));
                builder.set_base(base);
            }
            Some((first, first_span)) if first != base => {
                return Err(mixed_times(time_span, first_span));
            }
            Some(_) => {}
        }

        let metric_span = field_span(line, line_span, "metric");
        let labels_field = fields.get("labels").filter(|l| !l.is_null());
        let (name, labels) = match metric {
            Value::String(s) if valid_metric_name(s) => match labels_field {
                None => (s.as_str(), &none),
                Some(Value::Object(pairs)) => {
                    let labels_span = field_span(line, line_span, "labels");
                    if let Some((k, v)) =
                        pairs.iter().find(|(k, v)| !valid_label_name(k) || k.as_str() == "__name__" || !v.is_string())
                    {
                        return Err(bad_label_field(k, v, line, line_span, labels_span));
                    }
                    (s.as_str(), interner.pairs(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str().unwrap_or("")))))
                }
                Some(other) => {
                    return Err(Diagnostic::new(
                        Code::SeriesSyntax,
                        field_span(line, line_span, "labels"),
                        format!("`{other}` is not a label set"),
                    )
                    .label("expected an object of strings")
                    .help("write labels as an object: \"labels\": {\"instance\": \"a\", \"job\": \"x\"}"));
                }
            },
            Value::String(s) if s.contains('{') => {
                if labels_field.is_some() {
                    return Err(Diagnostic::new(
                        Code::SeriesSyntax,
                        field_span(line, line_span, "labels"),
                        "this sample gives labels twice",
                    )
                    .label("labels here")
                    .related(metric_span, "and in the metric")
                    .help("write the labels in `labels` or after the metric name, not both"));
                }
                // Offsets into the string place only when it has no escapes; else the whole field.
                let verbatim = line
                    .get(metric_span.start - line_span.start..metric_span.end - line_span.start)
                    .and_then(|f| f.find(':').and_then(|c| f[c..].find('"').map(|q| metric_span.start + c + q + 1)))
                    .filter(|&at| text.get(at..at + s.len()) == Some(s.as_str()));
                interner.series_name(s).map_err(|e| {
                    bad_labels(e, |a, b| match verbatim {
                        Some(at) => Span::new(at + a, at + b),
                        None => metric_span,
                    })
                })?
            }
            Value::String(s) => return Err(bad_metric_name(s, metric_span)),
            other => return Err(bad_metric_name(&other.to_string(), metric_span)),
        };

        let value_span = field_span(line, line_span, "value");
        let v = match value {
            Value::Number(n) => n.as_f64(),
            Value::String(s) => parse_value(s),
            _ => None,
        }
        .ok_or_else(|| bad_value(&value.to_string(), value_span))?;
        builder.push(name, labels, t_ms, v, line_span)?;
    }
    Ok(builder.finish())
}

/// The diagnostic for a label of a `labels` object that is not one: a bad name, `__name__`, or a value that is
/// not a string. The span is the label's `"name": value` when it can be found, else the whole object.
fn bad_label_field(name: &str, value: &Value, line: &str, line_span: Span, labels_span: Span) -> Diagnostic {
    // Inside the object, `"name": value` is found by text (a name written with escapes is not).
    let (object_at, object_end) = (labels_span.start - line_span.start, labels_span.end - line_span.start);
    let span = line
        .get(object_at..object_end)
        .and_then(|field| field.find('{'))
        .and_then(|brace| line.get(object_at + brace + 1..object_end))
        .map_or(labels_span, |inner| {
            field_span(inner, Span::new(labels_span.end - inner.len(), labels_span.end), name)
        });
    let (message, label) = if name == "__name__" {
        ("`__name__` is not a label here: the metric is named by `metric`".to_string(), "name the metric in `metric`")
    } else if !valid_label_name(name) {
        (format!("`{name}` is not a label name: letters, digits and `_`, not starting with a digit"), "this label")
    } else {
        (format!("the label `{name}` has the value `{value}`, not a string"), "expected a string")
    };
    Diagnostic::new(Code::SeriesSyntax, span, message)
        .label(label)
        .help("write labels as an object of strings: \"labels\": {\"instance\": \"a\", \"job\": \"x\"}")
}

/// The byte offset of a 1-based character column (serde_json counts characters).
fn byte_of_column(line: &str, column: usize) -> usize {
    line.char_indices().nth(column.saturating_sub(1)).map_or(line.len(), |(i, _)| i)
}

/// The span of `"key": value` on the line, found by text; the whole line if it cannot be placed.
fn field_span(line: &str, line_span: Span, key: &str) -> Span {
    let needle = format!("\"{key}\"");
    let Some(at) = line.find(&needle) else {
        return line_span;
    };
    let rest = &line[at..];
    let mut depth = 0i32;
    let mut in_string = false;
    let mut escaped = false;
    let mut end = rest.len();
    for (i, c) in rest.char_indices().skip(needle.len()) {
        if in_string {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => in_string = true,
            '[' | '{' => depth += 1,
            ']' | '}' if depth > 0 => depth -= 1,
            ',' | '}' if depth == 0 => {
                end = i;
                break;
            }
            _ => {}
        }
    }
    let s = line_span.start + at;
    Span::new(s, s + rest[..end].trim_end().len())
}
