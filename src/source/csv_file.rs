//! Reading CSV series files: a header naming the columns `time`, `metric` and `value`, and optionally
//! `labels` (in any order), then one sample per row. A series' labels are written in PromQL notation, in the
//! `labels` column (`{instance="a", job="x"}`, empty for none) or in the metric column itself
//! (`disk_used{instance="a"}`); either way through `labels.rs`, interned so that a repeated label text is
//! parsed once. `#` starts a comment line; blank lines are skipped; fields are trimmed.

use super::csv_rows::CsvRows;
use super::labels::LabelInterner;
use super::series::{Builder, Labels, SeriesSet, TimeBase, bad_labels, bad_metric_name, line_span, valid_metric_name};
use super::time::{parse_time, parse_value};
use crate::diagnostic::{Code, Diagnostic};
use crate::span::Span;

const COLUMNS: [&str; 4] = ["time", "metric", "value", "labels"];
const LABELS: usize = 3;

/// Column positions of `time`, `metric`, `value` and (when the header has it) `labels`.
struct Columns([usize; 4]);

pub(crate) fn read(text: &str) -> Result<SeriesSet, Diagnostic> {
    fast(text).map_or_else(|| read_full(text), Ok)
}

/// The fast path (`csv_rows.rs`): `None` when a row needs the full reader.
pub(crate) fn fast(text: &str) -> Option<SeriesSet> {
    // A comment on the last line, without a line break, is a row to the `csv` crate.
    if text.rsplit('\n').next().is_some_and(|last| last.starts_with('#')) {
        return None;
    }
    let mut lines = super::rows::lines(text).filter(|(l, _)| !l.is_empty() && !l.starts_with('#'));
    let (header, _) = lines.next()?;
    let mut rows = CsvRows::new(header).ok()?;
    let mut builder = Builder::new(text, TimeBase::Seconds);
    for (line, offset) in lines {
        rows.line(line, offset, &mut builder).ok()?;
    }
    Some(builder.finish())
}

/// The full reader: every form the `csv` crate reads, and the diagnostic for every bad row.
pub(crate) fn read_full(text: &str) -> Result<SeriesSet, Diagnostic> {
    let mut reader = ::csv::ReaderBuilder::new()
        .has_headers(true)
        .trim(::csv::Trim::All)
        .comment(Some(b'#'))
        .flexible(false)
        .from_reader(text.as_bytes());
    let header_error = |span: Span, found: &str| {
        Diagnostic::new(Code::SeriesSyntax, span, format!("the CSV header is `{found}`, not `time,metric,value`"))
            .label("header")
            .help("the first line of a CSV series file names the columns: `time,metric,value`, and `labels` if the series have labels")
    };
    let header = reader.headers().map_err(|e| csv_error(text, &e))?.clone();
    let header_span = header.position().map_or(Span::new(0, 0), |p| line_span(text, offset(p)));
    let found = header.iter().collect::<Vec<_>>().join(",");
    let mut positions = [usize::MAX; 4];
    for (i, name) in header.iter().enumerate() {
        let Some(c) = COLUMNS.iter().position(|c| c.eq_ignore_ascii_case(name)) else {
            return Err(header_error(header_span, &found));
        };
        if positions[c] != usize::MAX {
            return Err(header_error(header_span, &found));
        }
        positions[c] = i;
    }
    if positions[..LABELS].contains(&usize::MAX) {
        return Err(header_error(header_span, &found));
    }
    let columns = Columns(positions);

    let mut builder = Builder::new(text, TimeBase::Seconds);
    let mut interner = LabelInterner::default();
    let none = Labels::empty();
    // The base of the first time, and where it was written.
    let mut first_time: Option<(TimeBase, Span)> = None;
    let mut record = ::csv::StringRecord::new();
    loop {
        match reader.read_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => return Err(csv_error(text, &e)),
        }
        let line_start = record.position().map_or(0, offset);
        let line = line_span(text, line_start);
        let field = |c: usize| record.get(columns.0[c]).unwrap_or_default();
        // Spans are only worked out when something is reported.
        let span_of = |c: usize| field_span(text, line, columns.0[c]);
        let (time_text, metric, value_text) = (field(0), field(1), field(2));
        let labels_text = if columns.0[LABELS] == usize::MAX { "" } else { field(LABELS) };

        let (t_ms, base) = parse_time(time_text).map_err(|why| {
            Diagnostic::new(Code::SeriesTime, span_of(0), format!("`{time_text}` is not a time"))
                .label(why)
                .help("write times as seconds since the epoch (`1714564800.5`) or RFC 3339 (`2024-05-01T12:00:00Z`)")
        })?;
        match first_time {
            None => {
                first_time = Some((base, span_of(0)));
                builder.set_base(base);
            }
            Some((first, first_span)) if first != base => {
                return Err(mixed_times(span_of(0), first_span));
            }
            Some(_) => {}
        }
        let (name, labels) = if valid_metric_name(metric) {
            let labels = match labels_text {
                "" => &none,
                _ => interner
                    .label_set(labels_text)
                    .map_err(|e| bad_labels(e, |s, e| field_part(text, line, columns.0[LABELS], s, e)))?,
            };
            (metric, labels)
        } else if metric.contains('{') {
            if !labels_text.is_empty() {
                return Err(Diagnostic::new(Code::SeriesSyntax, span_of(LABELS), "this row gives labels twice")
                    .label("labels here")
                    .related(span_of(1), "and in the metric")
                    .help("write the labels in the `labels` column or after the metric name, not both"));
            }
            interner
                .series_name(metric)
                .map_err(|e| bad_labels(e, |s, e| field_part(text, line, columns.0[1], s, e)))?
        } else {
            return Err(bad_metric_name(metric, span_of(1)));
        };
        let v = parse_value(value_text).ok_or_else(|| bad_value(value_text, span_of(2)))?;
        builder.push(name, labels, t_ms, v, line)?;
    }
    Ok(builder.finish())
}

fn offset(p: &::csv::Position) -> usize {
    usize::try_from(p.byte()).unwrap_or(usize::MAX)
}

pub(crate) fn mixed_times(span: Span, first: Span) -> Diagnostic {
    Diagnostic::new(Code::SeriesTime, span, "the file mixes seconds and RFC 3339 times")
        .label("this time is written differently")
        .related(first, "the first time is written this way")
        .help("write every time in one form: seconds since the epoch, or RFC 3339")
}

pub(crate) fn bad_value(text: &str, span: Span) -> Diagnostic {
    Diagnostic::new(Code::SeriesValue, span, format!("`{text}` is not a sample value"))
        .label("expected a number")
        .help("a value is a number, `NaN`, `+Inf`, `-Inf`, or `stale` for a staleness marker")
}

/// The span of field `index` on the line, trimmed (inside its quotes, if quoted); the whole line if it
/// cannot be placed.
fn field_span(text: &str, line: Span, index: usize) -> Span {
    match locate(text, line, index) {
        Some(f) => Span::new(f.start, f.end),
        None => line,
    }
}

/// The span of bytes `start..end` of field `index`'s value (as the CSV reader gives it: unquoted, trimmed).
fn field_part(text: &str, line: Span, index: usize, start: usize, end: usize) -> Span {
    match locate(text, line, index) {
        Some(f) => Span::new(f.offset(text, start), f.offset(text, end)),
        None => line,
    }
}

/// Where a field's value lies in the file: `start..end`, and whether `""` inside stands for one `"`.
struct Field {
    start: usize,
    end: usize,
    quoted: bool,
}

impl Field {
    /// The file offset of byte `k` of the field's value.
    fn offset(&self, text: &str, k: usize) -> usize {
        let b = text.as_bytes();
        let (mut raw, mut value) = (self.start, 0);
        while value < k && raw < self.end {
            raw += if self.quoted && b[raw] == b'"' && b.get(raw + 1) == Some(&b'"') { 2 } else { 1 };
            value += 1;
        }
        raw.min(self.end)
    }
}

/// Finds field `index` on the line, following CSV quoting; `None` for a field that runs past the line.
fn locate(text: &str, line: Span, index: usize) -> Option<Field> {
    let b = text.as_bytes().get(line.start..line.end)?;
    let (mut field, mut start, mut in_quotes) = (0, 0, false);
    let mut i = 0;
    let mut raw = None;
    while i <= b.len() {
        match b.get(i) {
            Some(b'"') if in_quotes && b.get(i + 1) == Some(&b'"') => i += 1,
            Some(b'"') => in_quotes = !in_quotes,
            Some(b',') | None if !in_quotes => {
                if field == index {
                    raw = Some((start, i));
                    break;
                }
                field += 1;
                start = i + 1;
            }
            _ => {}
        }
        i += 1;
    }
    let (s, e) = raw?;
    let part = std::str::from_utf8(&b[s..e]).ok()?;
    let lead = part.len() - part.trim_start().len();
    let trimmed = part.trim();
    let (inner, quoted, skip) = match trimmed.strip_prefix('"').and_then(|t| t.strip_suffix('"')) {
        Some(inner) => (inner, true, lead + 1),
        None => (trimmed, false, lead),
    };
    let inner_lead = inner.len() - inner.trim_start().len();
    let begin = line.start + s + skip + inner_lead;
    Some(Field { start: begin, end: begin + inner.trim().len(), quoted })
}

fn csv_error(text: &str, e: &::csv::Error) -> Diagnostic {
    let span = e.position().map_or(Span::new(0, 0), |p| line_span(text, offset(p)));
    let message = match e.kind() {
        ::csv::ErrorKind::UnequalLengths { expected_len, len, .. } => {
            format!("this row has {len} fields, the header has {expected_len}")
        }
        ::csv::ErrorKind::Utf8 { .. } => "this row is not valid UTF-8".to_string(),
        _ => format!("cannot read the CSV: {e}"),
    };
    Diagnostic::new(Code::SeriesSyntax, span, message)
        .label("this row")
        .help("each row has the header's fields: `time,metric,value` (and `labels`, if the header names it)")
}
