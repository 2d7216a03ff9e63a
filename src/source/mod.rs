//! Metric sources. Today: recorded series files for `ripcord simulate`, in three formats (CSV, JSON Lines,
//! promtool unit-test YAML), read into one [`SeriesSet`] of time-ordered samples per series (a metric name and
//! its labels, written in PromQL notation and read by `labels.rs`, the one parser of it); and history
//! from a live Prometheus for `simulate --from-prometheus` (`prometheus.rs`, over the `crate::prometheus`
//! client).
//!
//! CSV and JSON Lines files are also read as a stream (`stream.rs`), row by row through the fast row parsers
//! (`rows.rs`), for `simulate` to evaluate in memory bounded by a window; any row those are not sure of goes
//! to the full readers, so every diagnostic for a bad row is theirs.
//!
//! Readers never panic on bad input: every problem is a [`Diagnostic`] (codes RC401-RC405, RC411) whose span
//! is a byte range of the series file's text. A file read whole may expand to at most [`MAX_SAMPLES`] (the
//! promtool notation can describe millions in a line); a streamed one has no limit.

mod csv_file;
mod csv_rows;
mod detect;
mod expand;
mod jsonl;
mod jsonl_rows;
mod labels;
mod prometheus;
mod promtool;
mod rows;
mod series;
mod stream;
mod time;

#[cfg(test)]
mod tests;

pub use detect::{Format, detect};
/// promtool's expanding notation, for `ripcord test`, whose input series are written in it.
pub(crate) use expand::{ExpandError, Item, expand as expand_values};
pub(crate) use labels::parse_series_name;
pub use prometheus::{HistoryFetch, HistoryPlan, fetch_history, history_plan};
pub(crate) use promtool::parse_prometheus_duration;
pub(crate) use series::bad_labels;
pub use series::{
    Labels, MAX_SAMPLES, STALE_NAN, STALE_NAN_BITS, Series, SeriesSet, TimeBase, format_time, is_stale, series_name,
};
pub use stream::{Filled, ReadAhead, SeriesStream, Window};
pub use time::format_rfc3339;

use crate::diagnostic::Diagnostic;
use crate::span::Span;

/// Reads a series file. `path_for_messages` names the file (its extension is a hint to the format);
/// spans in the error point into `text`.
pub fn read_series(path_for_messages: &str, text: &str) -> Result<SeriesSet, Diagnostic> {
    let body = text.strip_prefix('\u{feff}').unwrap_or(text);
    let shift = text.len() - body.len();
    detect::detect(path_for_messages, body).and_then(|format| read_series_as(format, body)).map_err(|mut d| {
        if shift > 0 {
            let move_span = |s: Span| Span::new(s.start + shift, s.end + shift);
            d.span = move_span(d.span);
            for (span, _) in &mut d.related {
                *span = move_span(*span);
            }
        }
        d
    })
}

/// Reads a series file in a given format, skipping detection.
pub fn read_series_as(format: Format, text: &str) -> Result<SeriesSet, Diagnostic> {
    match format {
        Format::Csv => csv_file::read(text),
        Format::JsonLines => jsonl::read(text),
        Format::PromtoolYaml => promtool::read(text),
    }
}
