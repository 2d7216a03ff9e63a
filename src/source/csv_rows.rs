//! The fast path of the CSV reader (see `rows.rs`): fields split in place, quoted ones unescaped into a
//! reused buffer, and nothing else; whatever it is not sure of goes to the full reader (`csv_file.rs`).

use super::labels::LabelInterner;
use super::rows::{RowError, Sink, agree_base, plain_decimal, whole_seconds_ms};
use super::series::{Labels, TimeBase, valid_metric_name};
use super::time::{parse_time, parse_value, seconds_to_ms};
use crate::span::Span;

const COLUMNS: [&str; 4] = ["time", "metric", "value", "labels"];
const LABELS: usize = 3;

/// Rows of one CSV file after its header.
pub(crate) struct CsvRows {
    /// Column positions of `time`, `metric`, `value`, `labels` (`usize::MAX`: no such column).
    columns: [usize; 4],
    fields: usize,
    interner: LabelInterner,
    base: Option<TimeBase>,
    /// Each field's text, as offsets into the line or into `unquoted`.
    spans: Vec<(bool, usize, usize)>,
    unquoted: String,
    none: Labels,
}

/// ASCII whitespace around a field, as the full reader trims it.
#[inline]
fn trim(s: &str) -> &str {
    s.trim_ascii()
}

impl CsvRows {
    /// Reads the header line; `Slow` for anything but plain column names.
    pub(crate) fn new(header: &str) -> Result<CsvRows, RowError> {
        if header.contains('"') {
            return Err(RowError::Slow);
        }
        let mut columns = [usize::MAX; 4];
        let mut fields = 0;
        for (i, name) in header.split(',').enumerate() {
            let c = COLUMNS.iter().position(|c| c.eq_ignore_ascii_case(trim(name))).ok_or(RowError::Slow)?;
            if columns[c] != usize::MAX {
                return Err(RowError::Slow);
            }
            columns[c] = i;
            fields += 1;
        }
        if columns[..LABELS].contains(&usize::MAX) {
            return Err(RowError::Slow);
        }
        Ok(CsvRows {
            columns,
            fields,
            interner: LabelInterner::default(),
            base: None,
            spans: Vec::with_capacity(fields),
            unquoted: String::new(),
            none: Labels::empty(),
        })
    }

    /// Splits `line` into `self.spans` as the `csv` crate does (a quote opens a quoted field only as its first
    /// byte, elsewhere it is a character); `Slow` for text after a closing quote, or a quoted field that runs
    /// past the line.
    fn split(&mut self, line: &str) -> Result<(), RowError> {
        self.spans.clear();
        self.unquoted.clear();
        // One pass for the common row: commas only. A lone carriage return ends a record for the `csv` crate.
        let mut start = 0;
        let mut quoted = false;
        for (i, &c) in line.as_bytes().iter().enumerate() {
            match c {
                b',' => {
                    self.spans.push((false, start, i));
                    start = i + 1;
                }
                b'"' => quoted = true,
                b'\r' => return Err(RowError::Slow),
                _ => {}
            }
        }
        if !quoted {
            self.spans.push((false, start, line.len()));
            return Ok(());
        }
        self.spans.clear();
        let b = line.as_bytes();
        let mut i = 0;
        loop {
            if b.get(i) == Some(&b'"') {
                let from = self.unquoted.len();
                i += 1;
                loop {
                    let close = line[i..].find('"').ok_or(RowError::Slow)? + i;
                    self.unquoted.push_str(&line[i..close]);
                    if b.get(close + 1) == Some(&b'"') {
                        self.unquoted.push('"');
                        i = close + 2;
                    } else {
                        i = close + 1;
                        break;
                    }
                }
                self.spans.push((true, from, self.unquoted.len()));
                let end = line[i..].find(',').map_or(line.len(), |k| i + k);
                if !trim(&line[i..end]).is_empty() {
                    return Err(RowError::Slow);
                }
                i = end;
            } else {
                let end = line[i..].find(',').map_or(line.len(), |k| i + k);
                self.spans.push((false, i, end));
                i = end;
            }
            if i >= line.len() {
                return Ok(());
            }
            i += 1;
            if i == line.len() {
                self.spans.push((false, i, i));
                return Ok(());
            }
        }
    }

    /// Reads one line (without its line break) starting at `offset` in the file.
    #[inline]
    pub(crate) fn line(&mut self, line: &str, offset: usize, sink: &mut impl Sink) -> Result<(), RowError> {
        if line.is_empty() || line.starts_with('#') {
            return Ok(());
        }
        let span = Span::new(offset, offset + line.len());
        // The common row: no quotes, no carriage return; fields cut at the commas in one scan.
        let mut cuts = [0usize; 5];
        let mut n = 0;
        let mut plain = true;
        for (i, &c) in line.as_bytes().iter().enumerate() {
            match c {
                b',' if n + 1 < self.fields => {
                    n += 1;
                    cuts[n] = i + 1;
                }
                b',' | b'"' | b'\r' => {
                    plain = false;
                    break;
                }
                _ => {}
            }
        }
        if plain {
            if n + 1 != self.fields {
                return Err(RowError::Slow);
            }
            cuts[n + 1] = line.len() + 1;
            let field = |c: usize| match self.columns[c] {
                usize::MAX => "",
                i => line.get(cuts[i]..cuts[i + 1] - 1).unwrap_or_default().trim_ascii(),
            };
            let (t, m, v, l) = (field(0), field(1), field(2), field(LABELS));
            return self.sample(t, m, v, l, span, sink);
        }
        self.split(line)?;
        if self.spans.len() != self.fields {
            return Err(RowError::Slow);
        }
        let unquoted = std::mem::take(&mut self.unquoted);
        let field = |c: usize| match self.columns[c] {
            usize::MAX => "",
            i => self.spans.get(i).map_or("", |&(q, s, e)| if q { &unquoted[s..e] } else { &line[s..e] }).trim_ascii(),
        };
        let (t, m, v, l) = (field(0), field(1), field(2), field(LABELS));
        let result = self.sample(t, m, v, l, span, sink);
        self.unquoted = unquoted;
        result
    }

    fn sample(
        &mut self,
        time_text: &str,
        metric: &str,
        value_text: &str,
        labels_text: &str,
        span: Span,
        sink: &mut impl Sink,
    ) -> Result<(), RowError> {
        let (t_ms, base) = match whole_seconds_ms(time_text) {
            Some(ms) => (ms, TimeBase::Seconds),
            None => match plain_decimal(time_text) {
                Some(secs) => (seconds_to_ms(secs).ok_or(RowError::Slow)?, TimeBase::Seconds),
                None => parse_time(time_text).map_err(|_| RowError::Slow)?,
            },
        };
        agree_base(&mut self.base, base, sink)?;
        let v = match plain_decimal(value_text) {
            Some(v) => v,
            None => parse_value(value_text).ok_or(RowError::Slow)?,
        };
        if valid_metric_name(metric) {
            let labels = if labels_text.is_empty() {
                Ok(&self.none)
            } else {
                self.interner.label_set(labels_text).map_err(|_| RowError::Slow)
            };
            labels.and_then(|labels| sink.sample(metric, labels, t_ms, v, span))
        } else if metric.contains('{') && labels_text.is_empty() {
            match self.interner.series_name(metric) {
                Ok((name, labels)) => sink.sample(name, labels, t_ms, v, span),
                Err(_) => Err(RowError::Slow),
            }
        } else {
            Err(RowError::Slow)
        }
    }
}
