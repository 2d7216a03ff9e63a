//! The in-memory form of recorded series (per metric name, one time-ordered list of samples per label
//! set), and the builder every reader feeds, which enforces the rules all formats share: strictly
//! increasing times per series, valid metric names, and a cap on the number of samples.

use std::collections::{BTreeMap, HashMap};

use super::labels::NameError;
use crate::diagnostic::{Code, Diagnostic};
pub use crate::plan::Labels;
use crate::span::{LineIndex, Span, floor_char_boundary};

/// The bit pattern Prometheus writes as a staleness marker: a NaN that no arithmetic produces.
pub const STALE_NAN_BITS: u64 = 0x7ff0_0000_0000_0002;

/// A staleness marker as a sample value. Compare with [`is_stale`], never with `==` (it is a NaN).
pub const STALE_NAN: f64 = f64::from_bits(STALE_NAN_BITS);

/// The most samples one series file may expand to (promtool notation can describe millions in a line).
pub const MAX_SAMPLES: usize = 10_000_000;

/// Whether a sample value is a staleness marker (and not an ordinary NaN).
#[inline]
pub fn is_stale(v: f64) -> bool {
    v.to_bits() == STALE_NAN_BITS
}

/// Every series of one file, by metric name; each metric's series sorted by labels, each label set once.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SeriesSet {
    pub series: BTreeMap<String, Vec<Series>>,
    /// How the file wrote its times, so that output can write them the same way.
    pub time_base: TimeBase,
}

/// How times were written in the input.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TimeBase {
    /// Seconds since the Unix epoch (or since 0 for promtool files), possibly fractional.
    #[default]
    Seconds,
    /// RFC 3339 timestamps such as `2024-05-01T12:00:00Z`.
    Rfc3339,
}

/// One series' samples. INVARIANT: `t_ms` is strictly increasing and as long as `v`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Series {
    /// What tells this series from the metric's others (no `__name__`); empty for a metric's only series.
    pub labels: Labels,
    pub t_ms: Vec<i64>,
    pub v: Vec<f64>,
}

impl Series {
    pub fn len(&self) -> usize {
        self.t_ms.len()
    }

    pub fn is_empty(&self) -> bool {
        self.t_ms.is_empty()
    }
}

impl SeriesSet {
    /// Every series of `metric` (none when the set lacks it), sorted by labels.
    pub fn family(&self, metric: &str) -> &[Series] {
        self.series.get(metric).map_or(&[], Vec::as_slice)
    }

    /// The series of `metric` with exactly `labels`.
    pub fn get(&self, metric: &str, labels: &Labels) -> Option<&Series> {
        let family = self.family(metric);
        family.binary_search_by(|s| s.labels.cmp(labels)).ok().and_then(|i| family.get(i))
    }

    /// The series of `metric` without labels: the metric's only one in a file that gives it no labels.
    pub fn unlabelled(&self, metric: &str) -> Option<&Series> {
        self.get(metric, &Labels::empty())
    }

    /// Adds a series, replacing one of the same metric and labels.
    pub fn insert(&mut self, metric: impl Into<String>, series: Series) {
        let family = self.series.entry(metric.into()).or_default();
        match family.binary_search_by(|s| s.labels.cmp(&series.labels)) {
            Ok(i) => family[i] = series,
            Err(i) => family.insert(i, series),
        }
    }

    /// Every series, with its metric name, in name then label order.
    pub fn all(&self) -> impl Iterator<Item = (&str, &Series)> {
        self.series.iter().flat_map(|(name, family)| family.iter().map(move |s| (name.as_str(), s)))
    }

    /// The earliest and latest sample time over all series, if there is any sample.
    pub fn time_range(&self) -> Option<(i64, i64)> {
        let first = self.all().filter_map(|(_, s)| s.t_ms.first()).min()?;
        let last = self.all().filter_map(|(_, s)| s.t_ms.last()).max()?;
        Some((*first, *last))
    }

    /// Total number of samples, staleness markers included.
    pub fn sample_count(&self) -> usize {
        self.all().map(|(_, s)| s.len()).sum()
    }
}

impl Series {
    /// A series without labels: a metric's only one.
    pub fn unlabelled(t_ms: Vec<i64>, v: Vec<f64>) -> Series {
        Series { labels: Labels::empty(), t_ms, v }
    }
}

/// Writes a time the way the input wrote it, for messages: `90.5` or `2024-05-01T12:00:00.500Z`.
pub fn format_time(t_ms: i64, base: TimeBase) -> String {
    match base {
        TimeBase::Seconds => {
            let sign = if t_ms < 0 { "-" } else { "" };
            let (secs, ms) = (t_ms.unsigned_abs() / 1000, t_ms.unsigned_abs() % 1000);
            if ms == 0 {
                format!("{sign}{secs}")
            } else {
                let frac = format!("{ms:03}");
                format!("{sign}{secs}.{}", frac.trim_end_matches('0'))
            }
        }
        TimeBase::Rfc3339 => super::time::format_rfc3339(t_ms, false),
    }
}

/// Whether `name` can be a metric name: Prometheus's `[a-zA-Z_:][a-zA-Z0-9_:]*`.
pub(crate) fn valid_metric_name(name: &str) -> bool {
    let mut chars = name.chars();
    match chars.next() {
        Some(c) if c.is_ascii_alphabetic() || c == '_' || c == ':' => {}
        _ => return false,
    }
    chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
}

/// The diagnostic for a metric name that is not one.
pub(crate) fn bad_metric_name(name: &str, span: Span) -> Diagnostic {
    let (message, help) = if name.is_empty() {
        ("a sample has no metric name".to_string(), "every sample needs the metric it belongs to")
    } else {
        (
            format!("`{name}` is not a metric name"),
            "metric names are letters, digits, `_` and `:`, not starting with a digit",
        )
    };
    Diagnostic::new(Code::SeriesSyntax, span, message).label("this name").help(help)
}

/// The diagnostic for a mistake in label notation (`name{label="value"}`): `error`'s offsets are relative
/// to the text that `place` maps into the file.
pub(crate) fn bad_labels(error: NameError, place: impl Fn(usize, usize) -> Span) -> Diagnostic {
    let d = Diagnostic::new(Code::SeriesSyntax, place(error.start, error.end), error.message)
        .label("here")
        .help(super::labels::NOTATION_HELP);
    match error.first {
        Some((s, e)) => d.related(place(s, e), "first here"),
        None => d,
    }
}

/// Collects samples from a reader, checking order per metric as they arrive.
pub(crate) struct Builder<'t> {
    text: &'t str,
    base: TimeBase,
    /// Index into `series` by name, then labels (hashing beats comparing names in a tree, once per sample;
    /// looking up by `&str` and `&Labels` allocates nothing).
    index: HashMap<String, HashMap<Labels, usize>>,
    /// Each series with its name and the span of its latest sample.
    series: Vec<(String, Series, Span)>,
    samples: usize,
}

impl<'t> Builder<'t> {
    pub(crate) fn new(text: &'t str, base: TimeBase) -> Self {
        Builder { text, base, index: HashMap::new(), series: Vec::new(), samples: 0 }
    }

    pub(crate) fn set_base(&mut self, base: TimeBase) {
        self.base = base;
    }

    /// Starts a series with no samples yet (so that a series written without values still exists), and
    /// returns its index.
    pub(crate) fn declare(&mut self, metric: &str, labels: &Labels, span: Span) -> usize {
        if let Some(&i) = self.index.get(metric).and_then(|family| family.get(labels)) {
            return i;
        }
        let i = self.series.len();
        self.series.push((metric.to_string(), Series { labels: labels.clone(), ..Series::default() }, span));
        self.index.entry(metric.to_string()).or_default().insert(labels.clone(), i);
        i
    }

    /// Counts `n` more samples against the cap before they are produced; `span` is what produced them.
    pub(crate) fn reserve(&mut self, n: u64, span: Span) -> Result<(), Diagnostic> {
        let total = (self.samples as u64).saturating_add(n);
        if total > MAX_SAMPLES as u64 {
            return Err(Diagnostic::new(
                Code::SeriesSyntax,
                span,
                format!("the series file holds more than {} samples", group_thousands(MAX_SAMPLES as u64)),
            )
            .label("the limit is passed here")
            .help("simulate a shorter period, or record samples less often"));
        }
        self.samples = total as usize;
        Ok(())
    }

    /// Adds one sample that `reserve` has already counted.
    pub(crate) fn push_reserved(
        &mut self,
        metric: &str,
        labels: &Labels,
        t_ms: i64,
        v: f64,
        span: Span,
    ) -> Result<(), Diagnostic> {
        let i = self.declare(metric, labels, span);
        let Some((_, series, last_span)) = self.series.get_mut(i) else {
            return Ok(());
        };
        if let Some(&prev) = series.t_ms.last()
            && t_ms <= prev
        {
            let metric = &series_name(metric, labels);
            let line = LineIndex::new(self.text).line(last_span.start);
            let (message, label) = if t_ms == prev {
                (format!("`{metric}` has two samples at {}", format_time(t_ms, self.base)), "repeated time".to_string())
            } else {
                (
                    format!(
                        "`{metric}` goes back in time: {} comes after {}",
                        format_time(t_ms, self.base),
                        format_time(prev, self.base)
                    ),
                    format!("earlier than the previous sample of `{metric}`"),
                )
            };
            return Err(Diagnostic::new(Code::SeriesOrder, span, message)
                .label(label)
                .related(
                    *last_span,
                    format!("previous sample of `{metric}` (line {line}), at {}", format_time(prev, self.base)),
                )
                .help("samples of one series (a metric and its labels) must be in order of time, each time once; sort the file by time"));
        }
        series.t_ms.push(t_ms);
        series.v.push(v);
        *last_span = span;
        Ok(())
    }

    /// Counts and adds one sample.
    pub(crate) fn push(
        &mut self,
        metric: &str,
        labels: &Labels,
        t_ms: i64,
        v: f64,
        span: Span,
    ) -> Result<(), Diagnostic> {
        self.reserve(1, span)?;
        self.push_reserved(metric, labels, t_ms, v, span)
    }

    pub(crate) fn finish(self) -> SeriesSet {
        let mut set = SeriesSet { series: BTreeMap::new(), time_base: self.base };
        for (name, s, _) in self.series {
            set.insert(name, s);
        }
        set
    }
}

impl super::rows::Sink for Builder<'_> {
    fn set_base(&mut self, base: TimeBase) {
        Builder::set_base(self, base);
    }

    /// Any problem goes to the full reader, which reports it as it always has.
    #[inline]
    fn sample(
        &mut self,
        metric: &str,
        labels: &Labels,
        t_ms: i64,
        v: f64,
        line: Span,
    ) -> Result<(), super::rows::RowError> {
        self.push(metric, labels, t_ms, v, line).map_err(|_| super::rows::RowError::Slow)
    }
}

/// A series as messages name it: `metric` or `metric{instance="a"}`.
pub fn series_name(metric: &str, labels: &Labels) -> String {
    if labels.is_empty() { metric.to_string() } else { format!("{metric}{labels}") }
}

fn group_thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The span of the line holding `offset`, without its line break.
pub(crate) fn line_span(text: &str, offset: usize) -> Span {
    let offset = floor_char_boundary(text, offset.min(text.len()));
    let start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
    let end = text[offset..].find('\n').map_or(text.len(), |i| offset + i);
    let end = if end > start && text.as_bytes().get(end - 1) == Some(&b'\r') { end - 1 } else { end };
    Span::new(start, end)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "a failing unwrap is a failing test")]
mod tests {
    use super::*;

    #[test]
    fn stale_marker_is_a_nan_that_is_not_an_ordinary_nan() {
        assert!(STALE_NAN.is_nan());
        assert!(is_stale(STALE_NAN));
        assert!(!is_stale(f64::NAN));
        assert!(!is_stale(1.0));
    }

    #[test]
    fn times_are_written_in_the_input_base() {
        assert_eq!(format_time(90_500, TimeBase::Seconds), "90.5");
        assert_eq!(format_time(-1_500, TimeBase::Seconds), "-1.5");
        assert_eq!(format_time(60_000, TimeBase::Seconds), "60");
        assert_eq!(format_time(1_714_564_800_000, TimeBase::Rfc3339), "2024-05-01T12:00:00Z");
        assert_eq!(format_time(1_714_564_800_250, TimeBase::Rfc3339), "2024-05-01T12:00:00.250Z");
    }

    #[test]
    fn metric_names_follow_prometheus() {
        assert!(valid_metric_name("http_requests_total"));
        assert!(valid_metric_name("job:errors:rate5m"));
        assert!(!valid_metric_name("5xx"));
        assert!(!valid_metric_name(""));
        assert!(!valid_metric_name("a{b=\"c\"}"));
        assert!(!valid_metric_name("a b"));
    }

    #[test]
    fn builder_rejects_out_of_order_and_repeated_times() {
        let text = "a\nb\nc\n";
        let mut b = Builder::new(text, TimeBase::Seconds);
        b.push("x", &Labels::empty(), 1000, 1.0, Span::new(0, 1)).unwrap();
        b.push("y", &Labels::empty(), 500, 1.0, Span::new(2, 3)).unwrap();
        let err = b.push("x", &Labels::empty(), 1000, 2.0, Span::new(4, 5)).unwrap_err();
        assert_eq!(err.code, Code::SeriesOrder);
        assert!(err.message.contains("two samples at 1"), "{}", err.message);
        assert_eq!(err.related[0].0, Span::new(0, 1));
        assert!(err.related[0].1.contains("line 1"), "{}", err.related[0].1);
        let err = b.push("x", &Labels::empty(), 0, 2.0, Span::new(4, 5)).unwrap_err();
        assert!(err.message.contains("goes back in time: 0 comes after 1"), "{}", err.message);
    }

    #[test]
    fn builder_caps_the_number_of_samples() {
        let mut b = Builder::new("", TimeBase::Seconds);
        assert!(b.reserve(MAX_SAMPLES as u64, Span::default()).is_ok());
        let err = b.reserve(1, Span::default()).unwrap_err();
        assert!(err.message.contains("10,000,000"), "{}", err.message);
        assert!(b.reserve(u64::MAX, Span::default()).is_err());
    }

    #[test]
    fn line_spans_exclude_the_line_break() {
        let text = "ab\r\ncd\nef";
        assert_eq!(line_span(text, 0), Span::new(0, 2));
        assert_eq!(line_span(text, 5), Span::new(4, 6));
        assert_eq!(line_span(text, 9), Span::new(7, 9));
        assert_eq!(line_span(text, 100), Span::new(7, 9));
    }
}
