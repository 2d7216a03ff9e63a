//! A CSV or JSON Lines series file read as a stream: rows parsed from one reused line buffer by the fast
//! path (`rows.rs`) into a [`Window`], a bounded number at a time, so that `simulate` can evaluate what the
//! rows so far decide and let go of the samples no condition can reach any more. Memory is the window's,
//! not the file's.
//!
//! Samples are evaluated oldest first. A file that fits in one fill (see [`SeriesStream::fill`]) may list
//! its series in any order (each series in time order, as always); a longer one must be in time order
//! across series as well: a sample older than a time already evaluated is refused ([`Code::SeriesStreamOrder`])
//! with how to sort the file. A row the fast path cannot read makes the caller read the file whole with
//! the full readers ([`Filled::Slow`]), which read it or report the row as they always have.
//!
//! `simulate` reads through [`ReadAhead`] (`read_ahead.rs`): the same stream on a thread of its own, one
//! fill ahead of the evaluation, with the same results.

use std::collections::HashMap;
use std::hash::BuildHasherDefault;

use super::csv_rows::CsvRows;
use super::detect::Format;
use super::jsonl_rows::JsonRows;
use super::rows::{RowError, Sink};
use super::series::{Labels, Series, SeriesSet, TimeBase, format_time, series_name};
use crate::diagnostic::{Code, Diagnostic};
use crate::span::Span;

mod read_ahead;
pub use read_ahead::ReadAhead;

/// The samples at hand: every series seen so far (a series stays known once seen, with no samples once
/// they are all let go), with the samples not yet let go.
#[derive(Default)]
pub struct Window {
    series: Vec<Buffered>,
    /// Each metric's series: the one without labels, and the others by labels.
    index: HashMap<String, Family, BuildHasherDefault<Fnv>>,
    base: TimeBase,
    /// Samples read in the current fill.
    filled: usize,
    first_ms: Option<i64>,
    last_ms: Option<i64>,
    /// The latest time already evaluated: no sample may come at or before it.
    evaluated_ms: Option<i64>,
    /// The file's name for messages about its order.
    path: String,
    /// A sample refused for its order (the fast path's [`Sink`] can only say "slow").
    refused: Option<Diagnostic>,
    /// The series of the last sample: a file in time order names its series in the same order at every
    /// time, so the series that followed it last time is tried before the index.
    previous: usize,
    /// For samples handed over by a reading thread: its series' numbers in this window.
    from_reader: Vec<usize>,
    /// The sample that went back in time within its series (which stops the fast path), for the
    /// receiver of a [`Chunk`] to check against the times it evaluated.
    backwards: Option<(usize, i64, Span)>,
}

#[derive(Default)]
struct Family {
    plain: Option<usize>,
    labelled: HashMap<Labels, usize>,
}

impl Family {
    #[inline]
    fn get(&self, labels: &Labels) -> Option<usize> {
        if labels.is_empty() { self.plain } else { self.labelled.get(labels).copied() }
    }
}

/// FNV-1a over metric names: short keys hashed once per sample, no denial of service to fear from a file
/// the user chose to read.
#[derive(Default)]
struct Fnv(u64);

impl std::hash::Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }

    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut h = if self.0 == 0 { 0xcbf2_9ce4_8422_2325 } else { self.0 };
        for &b in bytes {
            h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
        self.0 = h;
    }
}

struct Buffered {
    metric: String,
    labels: Labels,
    t: Vec<i64>,
    v: Vec<f64>,
    last: Option<i64>,
    /// The series whose sample came after this one's last time.
    next: usize,
    /// The line of the first sample held (what an order refusal points at, for samples handed over by
    /// the reading thread).
    first_line: Span,
}

impl Window {
    pub fn new(path_for_messages: &str) -> Window {
        Window { path: path_for_messages.to_string(), ..Window::default() }
    }

    /// A window for samples that come as series sets (a Prometheus history, chunk by chunk), with times
    /// written in `base`.
    pub fn of_sets(base: TimeBase) -> Window {
        Window { base, ..Window::default() }
    }

    /// Adds a chunk of series, in time order after what the window holds (a sample at or before the
    /// series' latest, where chunks meet, is the same point again and is skipped).
    pub fn extend(&mut self, set: &SeriesSet) {
        for (metric, s) in set.all() {
            for (&t, &v) in s.t_ms.iter().zip(&s.v) {
                let _ = self.sample(metric, &s.labels, t, v, Span::new(0, 0));
            }
        }
    }

    /// The earliest and latest sample time read so far.
    pub fn time_range(&self) -> Option<(i64, i64)> {
        Some((self.first_ms?, self.last_ms?))
    }

    pub fn time_base(&self) -> TimeBase {
        self.base
    }

    /// Samples held now.
    pub fn held(&self) -> usize {
        self.series.iter().map(|s| s.t.len()).sum()
    }

    /// Notes that every time up to `t_ms` has been evaluated: a later sample at or before it is refused.
    pub fn evaluated(&mut self, t_ms: i64) {
        self.evaluated_ms = Some(t_ms);
    }

    /// Lets go of each series' samples before `keep_from(metric)` (`None`: keep all of that metric's).
    pub fn release(&mut self, keep_from: impl Fn(&str) -> Option<i64>) {
        for s in &mut self.series {
            if let Some(from) = keep_from(&s.metric) {
                let n = s.t.partition_point(|&t| t < from);
                if n > 0 {
                    s.t.drain(..n);
                    s.v.drain(..n);
                }
            }
        }
    }

    /// Lends the samples as a [`SeriesSet`] to `f` (moved out and back, not copied).
    pub fn with_set<R>(&mut self, f: impl FnOnce(&SeriesSet) -> R) -> R {
        let set = self.take_set();
        let r = f(&set);
        self.put_back(set);
        r
    }

    /// The samples held, as a series set (the window keeps the series it knows, without samples).
    pub fn take_set(&mut self) -> SeriesSet {
        let mut set = SeriesSet { series: Default::default(), time_base: self.base };
        for s in &mut self.series {
            let series =
                Series { labels: s.labels.clone(), t_ms: std::mem::take(&mut s.t), v: std::mem::take(&mut s.v) };
            set.insert(s.metric.clone(), series);
        }
        set
    }

    fn put_back(&mut self, mut set: SeriesSet) {
        for (metric, family) in &mut set.series {
            for series in family.iter_mut() {
                let Some(i) = self.index.get(metric.as_str()).and_then(|f| f.get(&series.labels)) else { continue };
                if let Some(b) = self.series.get_mut(i) {
                    b.t = std::mem::take(&mut series.t_ms);
                    b.v = std::mem::take(&mut series.v);
                }
            }
        }
    }

    fn refusal(&self, metric: &str, labels: &Labels, t_ms: i64, evaluated: i64, line: Span) -> Diagnostic {
        let name = series_name(metric, labels);
        let sort = if self.path.ends_with(".csv") {
            format!("(head -n 1 {p}; tail -n +2 {p} | sort -t, -k1,1n) > sorted.csv", p = self.path)
        } else {
            format!("jq -c -s 'sort_by(.time)[]' {} > sorted.jsonl", self.path)
        };
        Diagnostic::new(
            Code::SeriesStreamOrder,
            line,
            format!(
                "`{name}` at {} comes after samples up to {} were evaluated",
                format_time(t_ms, self.base),
                format_time(evaluated, self.base)
            ),
        )
        .label("older than what was already evaluated")
        .help(format!(
            "a series file is read in one pass, oldest first: a long file must be in time order across \
             series, not series by series; sort it by time, e.g. `{sort}`"
        ))
    }
}

impl Window {
    /// The number of the series `metric` with `labels`, added if new.
    fn known(&mut self, metric: &str, labels: &Labels, line: Span) -> usize {
        if let Some(i) = self.index.get(metric).and_then(|f| f.get(labels)) {
            return i;
        }
        let i = self.series.len();
        self.series.push(Buffered {
            metric: metric.to_string(),
            labels: labels.clone(),
            t: Vec::new(),
            v: Vec::new(),
            last: None,
            next: usize::MAX,
            first_line: line,
        });
        let family = self.index.entry(metric.to_string()).or_default();
        if labels.is_empty() {
            family.plain = Some(i);
        } else {
            family.labelled.insert(labels.clone(), i);
        }
        i
    }
}

impl Sink for Window {
    fn set_base(&mut self, base: TimeBase) {
        self.base = base;
    }

    #[inline]
    fn sample(&mut self, metric: &str, labels: &Labels, t_ms: i64, v: f64, line: Span) -> Result<(), RowError> {
        if let Some(evaluated) = self.evaluated_ms
            && t_ms <= evaluated
        {
            self.refused = Some(self.refusal(metric, labels, t_ms, evaluated, line));
            return Err(RowError::Slow);
        }
        let guess = self.series.get(self.previous).map_or(usize::MAX, |s| s.next);
        let known = match self.series.get(guess) {
            Some(s) if s.metric == metric && s.labels == *labels => Some(guess),
            _ => self.index.get(metric).and_then(|f| f.get(labels)),
        };
        let i = match known {
            Some(i) => i,
            None => self.known(metric, labels, line),
        };
        if let Some(p) = self.series.get_mut(self.previous) {
            p.next = i;
        }
        self.previous = i;
        let Some(s) = self.series.get_mut(i) else { return Err(RowError::Slow) };
        // Out of order within a series: the full reader says where.
        if s.last.is_some_and(|last| t_ms <= last) {
            self.backwards = Some((i, t_ms, line));
            return Err(RowError::Slow);
        }
        s.last = Some(t_ms);
        if s.t.is_empty() {
            s.first_line = line;
        }
        s.t.push(t_ms);
        s.v.push(v);
        self.filled += 1;
        self.first_ms = Some(self.first_ms.map_or(t_ms, |f| f.min(t_ms)));
        self.last_ms = Some(self.last_ms.map_or(t_ms, |l| l.max(t_ms)));
        Ok(())
    }
}

/// What a fill found.
#[derive(Debug)]
pub enum Filled {
    /// More rows follow.
    More,
    /// The file is read.
    End,
    /// A row the fast path cannot read, ending before this byte offset: the full reader decides, on the
    /// file's text through that row (which shows a mistake there or before it) or on the whole file.
    Slow(usize),
    /// A problem to report as it is (a sample older than evaluated time, a read error), whose span is
    /// a byte range of the file.
    Failed(Box<Diagnostic>),
}

/// A series file being read.
pub struct SeriesStream<R> {
    reader: R,
    rows: Rows,
    /// Bytes read: `buf[pos..end]` not yet taken as rows; `buf[0]` is byte `consumed` of the file.
    buf: Vec<u8>,
    pos: usize,
    end: usize,
    consumed: usize,
    eof: bool,
}

enum Rows {
    /// Before the header.
    CsvHeader,
    Csv(Box<CsvRows>),
    Json(Box<JsonRows>),
}

/// Bytes read from the file at a time: lines are cut from this block and its UTF-8 checked once for all of
/// them (a line longer than the block grows it).
const BLOCK: usize = 1 << 20;

/// How a line was taken.
enum Line {
    Taken,
    /// The fill has its rows.
    Full,
    Stop(Filled),
}

impl<R: std::io::Read> SeriesStream<R> {
    /// A stream of a file in `format` (CSV or JSON Lines; `None` for promtool YAML, which is read whole).
    pub fn new(format: Format, reader: R) -> Option<Self> {
        let rows = match format {
            Format::Csv => Rows::CsvHeader,
            Format::JsonLines => Rows::Json(Box::default()),
            Format::PromtoolYaml => return None,
        };
        Some(SeriesStream { reader, rows, buf: vec![0; BLOCK], pos: 0, end: 0, consumed: 0, eof: false })
    }

    /// Reads up to `rows` more samples into `window`.
    pub fn fill(&mut self, window: &mut Window, rows: usize) -> Filled {
        window.filled = 0;
        loop {
            // The whole lines at hand, checked as UTF-8 at once; a line with a byte that is not is the full
            // reader's, as is a last line without its line break that is not.
            let whole = match memchr::memrchr(b'\n', &self.buf[self.pos..self.end]) {
                Some(k) => self.pos + k + 1,
                None if self.eof => self.end,
                None => self.pos,
            };
            if whole > self.pos {
                let (text, bad) = match std::str::from_utf8(&self.buf[self.pos..whole]) {
                    Ok(t) => (t, false),
                    Err(e) => {
                        let good = &self.buf[self.pos..self.pos + e.valid_up_to()];
                        let cut = memchr::memrchr(b'\n', good).map_or(0, |k| k + 1);
                        (std::str::from_utf8(&good[..cut]).unwrap_or_default(), true)
                    }
                };
                let at = self.consumed + self.pos;
                let mut taken = 0;
                let mut stop = None;
                let mut from = 0;
                let breaks = memchr::memchr_iter(b'\n', text.as_bytes()).map(|k| k + 1);
                for to in breaks.chain((!text.is_empty()).then_some(text.len())) {
                    if to <= from {
                        continue;
                    }
                    let line = text.get(from..to).unwrap_or_default();
                    from = to;
                    let start = at + taken;
                    taken += line.len();
                    match take_line(&mut self.rows, window, line, start, rows) {
                        Line::Taken => {}
                        Line::Full => {
                            stop = Some(Filled::More);
                            break;
                        }
                        Line::Stop(f) => {
                            stop = Some(f);
                            break;
                        }
                    }
                }
                self.pos += taken;
                if let Some(f) = stop {
                    return f;
                }
                if bad {
                    // The line with the byte that is not UTF-8 ends at the next line break, or the file's end.
                    let rest = &self.buf[self.pos..whole];
                    let n = memchr::memchr(b'\n', rest).map_or(rest.len(), |k| k + 1);
                    return Filled::Slow(self.consumed + self.pos + n);
                }
                if window.filled >= rows {
                    return Filled::More;
                }
            }
            if self.eof {
                return Filled::End;
            }
            if let Err(d) = self.read_more() {
                return Filled::Failed(d);
            }
        }
    }

    /// Moves the bytes not yet taken to the front and reads after them (growing the block for a line
    /// longer than it).
    fn read_more(&mut self) -> Result<(), Box<Diagnostic>> {
        if self.pos > 0 {
            self.buf.copy_within(self.pos..self.end, 0);
            self.consumed += self.pos;
            self.end -= self.pos;
            self.pos = 0;
        }
        if self.end == self.buf.len() {
            self.buf.resize(self.buf.len() * 2, 0);
        }
        loop {
            match self.reader.read(&mut self.buf[self.end..]) {
                Ok(0) => {
                    self.eof = true;
                    return Ok(());
                }
                Ok(n) => {
                    self.end += n;
                    return Ok(());
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(Box::new(unreadable(self.consumed + self.end, e))),
            }
        }
    }
}

/// The series file could not be read (at byte `at`), and why.
fn unreadable(at: usize, why: impl std::fmt::Display) -> Diagnostic {
    Diagnostic::new(Code::SeriesSyntax, Span::new(at, at), format!("cannot read the series file: {why}"))
        .help("give a CSV, JSON Lines or promtool YAML file")
}

/// Takes one line (with its line break, if it has one) starting at byte `start` of the file.
#[inline]
fn take_line(rows_of: &mut Rows, window: &mut Window, line: &str, start: usize, rows: usize) -> Line {
    let end = start + line.len();
    let (text, start) = match line.strip_prefix('\u{feff}') {
        Some(rest) if start == 0 => (rest, start + 3),
        _ => (line, start),
    };
    let ended = text.ends_with('\n');
    let text = text.strip_suffix('\n').unwrap_or(text);
    let text = text.strip_suffix('\r').unwrap_or(text);
    let result = match rows_of {
        Rows::CsvHeader => {
            if text.is_empty() || text.starts_with('#') {
                if !ended && text.starts_with('#') {
                    return Line::Stop(Filled::Slow(end));
                }
                return Line::Taken;
            }
            match CsvRows::new(text) {
                Ok(rows) => {
                    *rows_of = Rows::Csv(Box::new(rows));
                    Ok(())
                }
                Err(e) => Err(e),
            }
        }
        Rows::Csv(r) => {
            if !ended && text.starts_with('#') {
                return Line::Stop(Filled::Slow(end));
            }
            r.line(text, start, window)
        }
        Rows::Json(r) => r.line(text, start, window),
    };
    match result {
        Ok(()) if window.filled >= rows => Line::Full,
        Ok(()) => Line::Taken,
        Err(_) => Line::Stop(match window.refused.take() {
            Some(d) => Filled::Failed(Box::new(d)),
            None => Filled::Slow(end),
        }),
    }
}
