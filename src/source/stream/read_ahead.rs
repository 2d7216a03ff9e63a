//! A [`SeriesStream`] read on a thread of its own, one fill ahead of the evaluation: each fill handed over
//! whole as a [`Chunk`], its samples' order against the times already evaluated checked where they arrive.

use super::{Filled, SeriesStream, Window};
use crate::diagnostic::Diagnostic;
use crate::plan::Labels;
use crate::source::series::TimeBase;
use crate::span::Span;

/// The samples one fill read on the reading thread, handed to the evaluating one: each series that has
/// samples, by its number in the reading thread's window (with its name the first time it comes).
pub struct Chunk {
    series: Vec<ChunkSeries>,
    base: TimeBase,
    range: Option<(i64, i64)>,
    /// The sample that stopped the fill by going back in time within its series.
    backwards: Option<(usize, i64, Span)>,
}

struct ChunkSeries {
    at: usize,
    name: Option<(String, Labels)>,
    t: Vec<i64>,
    v: Vec<f64>,
    first_line: Span,
}

impl Window {
    /// Moves the samples out as a [`Chunk`] (series numbered from `sent` on are new to the receiver).
    fn hand_over(&mut self, sent: &mut usize) -> Chunk {
        let mut series = Vec::new();
        for (at, s) in self.series.iter_mut().enumerate() {
            if s.t.is_empty() && at < *sent {
                continue;
            }
            series.push(ChunkSeries {
                at,
                name: (at >= *sent).then(|| (s.metric.clone(), s.labels.clone())),
                t: std::mem::take(&mut s.t),
                v: std::mem::take(&mut s.v),
                first_line: s.first_line,
            });
        }
        *sent = self.series.len();
        Chunk { series, base: self.base, range: self.time_range(), backwards: self.backwards.take() }
    }

    /// Takes a chunk's samples (after what the window holds), refusing it ([`crate::diagnostic::Code::SeriesStreamOrder`]) if a
    /// sample is at or before a time already evaluated: the first such row of the file is named, as
    /// [`Sink::sample`] names it for a stream read on this thread.
    fn absorb(&mut self, chunk: Chunk) -> Result<(), Diagnostic> {
        self.base = chunk.base;
        if let Some(evaluated) = self.evaluated_ms {
            // Each series' first sample is its oldest: the first row of the file at or before `evaluated`
            // is the first of those that are (or else the row that went back in time, read last).
            let early = chunk
                .series
                .iter()
                .filter_map(|c| c.t.first().filter(|&&t| t <= evaluated).map(|&t| (c.at, t, c.first_line)))
                .min_by_key(|(_, _, line)| line.start)
                .or(chunk.backwards.filter(|&(_, t, _)| t <= evaluated));
            if let Some((at, t, line)) = early {
                let named = chunk.series.iter().find(|c| c.at == at).and_then(|c| c.name.clone());
                let (metric, labels) = match (named, self.from_reader.get(at).and_then(|&i| self.series.get(i))) {
                    (Some(name), _) => name,
                    (None, Some(s)) => (s.metric.clone(), s.labels.clone()),
                    (None, None) => (String::new(), Labels::empty()),
                };
                return Err(self.refusal(&metric, &labels, t, evaluated, line));
            }
        }
        for mut c in chunk.series {
            let i = match (c.name.take(), self.from_reader.get(c.at)) {
                (_, Some(&i)) => i,
                (Some((metric, labels)), None) => {
                    let i = self.known(&metric, &labels, c.first_line);
                    self.from_reader.resize(c.at, usize::MAX);
                    self.from_reader.push(i);
                    i
                }
                (None, None) => continue,
            };
            let Some(s) = self.series.get_mut(i) else { continue };
            self.filled += c.t.len();
            s.last = c.t.last().copied().or(s.last);
            if s.t.is_empty() {
                s.first_line = c.first_line;
                s.t = std::mem::take(&mut c.t);
                s.v = std::mem::take(&mut c.v);
            } else {
                s.t.extend_from_slice(&c.t);
                s.v.extend_from_slice(&c.v);
            }
        }
        if let Some((first, last)) = chunk.range {
            self.first_ms = Some(self.first_ms.map_or(first, |f| f.min(first)));
            self.last_ms = Some(self.last_ms.map_or(last, |l| l.max(last)));
        }
        Ok(())
    }
}

/// A [`SeriesStream`] read on a thread of its own, one fill ahead of the evaluation: while the caller
/// evaluates a fill, the next is read. Each fill is handed over whole ([`Chunk`]), and the order of the
/// samples against the times already evaluated is checked where they arrive, so the results, refusals and
/// the rows the full reader is sent to are those of reading on the caller's thread.
pub struct ReadAhead {
    chunks: std::sync::mpsc::Receiver<(Chunk, Filled)>,
}

impl ReadAhead {
    /// Starts reading `stream`, `rows` samples per fill.
    pub fn start<R: std::io::Read + Send + 'static>(
        mut stream: SeriesStream<R>,
        path_for_messages: &str,
        rows: usize,
    ) -> ReadAhead {
        // One fill may wait while the next is read and the caller evaluates: neither side waits on the
        // other's slower fill, and no more than two fills are held beyond the caller's window.
        let (tx, chunks) = std::sync::mpsc::sync_channel(1);
        let mut staging = Window::new(path_for_messages);
        let spawned = std::thread::Builder::new().name("series-reader".into()).spawn(move || {
            let mut sent = 0;
            loop {
                let filled = stream.fill(&mut staging, rows);
                let chunk = staging.hand_over(&mut sent);
                let last = !matches!(filled, Filled::More);
                if tx.send((chunk, filled)).is_err() || last {
                    return;
                }
            }
        });
        if let Err(e) = spawned {
            // No thread to read on: the receiver reports it at the first fill.
            let (tx, chunks) = std::sync::mpsc::sync_channel(1);
            let failed = super::unreadable(0, e);
            let empty = Chunk { series: Vec::new(), base: TimeBase::default(), range: None, backwards: None };
            let _ = tx.send((empty, Filled::Failed(Box::new(failed))));
            return ReadAhead { chunks };
        }
        ReadAhead { chunks }
    }

    /// The next fill, into `window`: as [`SeriesStream::fill`].
    pub fn fill(&mut self, window: &mut Window) -> Filled {
        window.filled = 0;
        let Ok((chunk, filled)) = self.chunks.recv() else {
            return Filled::Failed(Box::new(super::unreadable(0, "its reading thread stopped")));
        };
        match window.absorb(chunk) {
            Ok(()) => filled,
            Err(refused) => Filled::Failed(Box::new(refused)),
        }
    }
}
