//! Reading CSV series files: a header naming the columns `time`, `metric` and `value` (in any order), then
//! one sample per row. `#` starts a comment line; blank lines are skipped; fields are trimmed.

use super::series::{Builder, Labels, SeriesSet, TimeBase, bad_metric_name, line_span, valid_metric_name};
use super::time::{parse_time, parse_value};
use crate::diagnostic::{Code, Diagnostic};
use crate::span::Span;

const COLUMNS: [&str; 3] = ["time", "metric", "value"];

/// Column positions of `time`, `metric` and `value`.
struct Columns([usize; 3]);

pub(crate) fn read(text: &str) -> Result<SeriesSet, Diagnostic> {
    let mut reader = ::csv::ReaderBuilder::new()
        .has_headers(true)
        .trim(::csv::Trim::All)
        .comment(Some(b'#'))
        .flexible(false)
        .from_reader(text.as_bytes());
    let header_error = |span: Span, found: &str| {
        Diagnostic::new(Code::SeriesSyntax, span, format!("the CSV header is `{found}`, not `time,metric,value`"))
            .label("header")
            .help("the first line of a CSV series file names the columns: `time,metric,value`")
    };
    let header = reader.headers().map_err(|e| csv_error(text, &e))?.clone();
    let header_span = header.position().map_or(Span::new(0, 0), |p| line_span(text, offset(p)));
    let found = header.iter().collect::<Vec<_>>().join(",");
    let mut positions = [usize::MAX; 3];
    for (i, name) in header.iter().enumerate() {
        let Some(c) = COLUMNS.iter().position(|c| c.eq_ignore_ascii_case(name)) else {
            return Err(header_error(header_span, &found));
        };
        if positions[c] != usize::MAX {
            return Err(header_error(header_span, &found));
        }
        positions[c] = i;
    }
    if positions.contains(&usize::MAX) {
        return Err(header_error(header_span, &found));
    }
    let columns = Columns(positions);

    let mut builder = Builder::new(text, TimeBase::Seconds);
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
        if !valid_metric_name(metric) {
            return Err(bad_metric_name(metric, span_of(1)));
        }
        let v = parse_value(value_text).ok_or_else(|| bad_value(value_text, span_of(2)))?;
        builder.push(metric, &Labels::empty(), t_ms, v, line)?;
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

/// The span of field `index` on the line, trimmed; the whole line if quoting makes it hard to place.
fn field_span(text: &str, line: Span, index: usize) -> Span {
    let Some(line_text) = text.get(line.start..line.end) else {
        return line;
    };
    if line_text.contains('"') {
        return line;
    }
    let mut start = 0;
    for (i, part) in line_text.split(',').enumerate() {
        if i == index {
            let lead = part.len() - part.trim_start().len();
            let s = line.start + start + lead;
            return Span::new(s, s + part.trim().len());
        }
        start += part.len() + 1;
    }
    line
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
    Diagnostic::new(Code::SeriesSyntax, span, message).label("this row").help("each row is `time,metric,value`")
}
