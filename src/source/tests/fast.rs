//! The fast path of the line readers against the full readers: the same series, or the same diagnostic,
//! for every file of the corpus and every truncation, byte flip and random assembly of pieces.

use super::garbage::{PIECES, Rng, VALID};
use crate::diagnostic::Diagnostic;
use crate::source::{SeriesSet, csv_file, jsonl};

/// A read's outcome with values as bits (a staleness marker is a NaN, which `==` never matches).
type Outcome = Result<Vec<(String, String, Vec<i64>, Vec<u64>)>, Diagnostic>;

fn outcome(read: Result<SeriesSet, Diagnostic>) -> Outcome {
    read.map(|set| {
        set.all()
            .map(|(m, s)| {
                (m.to_string(), s.labels.to_string(), s.t_ms.clone(), s.v.iter().map(|v| v.to_bits()).collect())
            })
            .collect()
    })
}

fn same(path: &str, text: &str) {
    if path.ends_with(".csv") {
        assert_eq!(outcome(csv_file::read(text)), outcome(csv_file::read_full(text)), "{path}: {text:?}");
    } else {
        assert_eq!(outcome(jsonl::read(text)), outcome(jsonl::read_full(text)), "{path}: {text:?}");
    }
}

fn corpus() -> Vec<(String, String)> {
    let root = env!("CARGO_MANIFEST_DIR");
    let mut out = Vec::new();
    for dir in ["fuzz/corpus/series", "examples/incidents"] {
        let Ok(entries) = std::fs::read_dir(format!("{root}/{dir}")) else { continue };
        for e in entries.flatten() {
            let path = e.path().display().to_string();
            if (path.ends_with(".csv") || path.ends_with(".jsonl"))
                && let Ok(text) = std::fs::read_to_string(&path)
            {
                out.push((path, text.trim_start_matches('\u{feff}').to_string()));
            }
        }
    }
    out.extend(VALID.iter().filter(|(p, _)| !p.ends_with(".yaml")).map(|(p, t)| (p.to_string(), t.to_string())));
    out
}

#[test]
fn the_incidents_take_the_fast_path() {
    for (path, text) in corpus().iter().filter(|(p, _)| p.contains("incidents")) {
        assert!(csv_file::fast(text).is_some(), "{path} left the fast path");
    }
}

#[test]
fn fast_and_full_readers_agree_on_every_corpus_file_and_its_mutations() {
    let mut rng = Rng(7);
    for (path, text) in corpus() {
        same(&path, &text);
        // Every cut of a small file, some of a large one (each read is linear).
        let step = (text.len() / 80).max(1);
        for cut in (0..=text.len()).step_by(step).filter(|&i| text.is_char_boundary(i)) {
            same(&path, &text[..cut]);
        }
        let flips = if text.len() > 4096 { 20 } else { 200 };
        for _ in 0..flips {
            let mut bytes = text.as_bytes().to_vec();
            let at = rng.below(bytes.len().max(1));
            if let Some(b) = bytes.get_mut(at) {
                *b = PIECES[rng.below(PIECES.len())].as_bytes()[0];
            }
            if let Ok(mutated) = String::from_utf8(bytes) {
                same(&path, &mutated);
            }
        }
    }
}

#[test]
fn fast_and_full_readers_agree_on_random_pieces() {
    let mut rng = Rng(0x5eed);
    for round in 0..4000 {
        let mut text = String::from(if round % 2 == 0 { "time,metric,value,labels\n" } else { "" });
        for _ in 0..rng.below(40) {
            text.push_str(PIECES[rng.below(PIECES.len())]);
        }
        same(if round % 2 == 0 { "r.csv" } else { "r.jsonl" }, &text);
    }
}

#[test]
fn quoted_fields_and_label_objects_are_read_on_the_fast_path() {
    let csv = "time,metric,value,labels\n0,m,1,\"{a=\"\"x\"\"}\"\n15, m ,2.5,\"{a=\"\"y\"\"}\" \n30,m{a=\"x\"},NaN,\n";
    assert!(csv_file::fast(csv).is_some());
    same("q.csv", csv);
    let jsonl = "{\"time\":0,\"metric\":\"m\",\"value\":1,\"labels\":{\"a\":\"x\"}}\n{\"time\": 15, \"metric\": \"m\", \"value\": \"stale\", \"labels\": {\"a\": \"x\"}, \"other\": true}\n";
    assert!(jsonl::fast(jsonl).is_some());
    same("q.jsonl", jsonl);
}

/// A reader that gives a few bytes at a time (so lines, multi-byte characters and a byte-order mark are cut
/// across reads), and sometimes is interrupted.
struct Trickle {
    bytes: Vec<u8>,
    at: usize,
    rng: Rng,
}

impl std::io::Read for Trickle {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.rng.below(9) == 0 {
            return Err(std::io::ErrorKind::Interrupted.into());
        }
        let n = (1 + self.rng.below(7)).min(buf.len()).min(self.bytes.len() - self.at);
        buf[..n].copy_from_slice(&self.bytes[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

/// What a stream read to its end gives: every sample, and how it ended.
fn streamed(mut fill: impl FnMut(&mut crate::source::Window) -> crate::source::Filled, path: &str) -> String {
    use crate::source::{Filled, Window};
    let mut window = Window::new(path);
    let end = loop {
        match fill(&mut window) {
            Filled::More => {}
            Filled::End => break "end".to_string(),
            Filled::Slow(at) => break format!("slow before byte {at}"),
            Filled::Failed(d) => break format!("{}: {}", d.code, d.message),
        }
    };
    format!("{:?} {end}", outcome(Ok(window.take_set())))
}

/// The stream cuts lines from blocks it reads: whatever the reads give it at a time, and whether it reads on
/// a thread of its own, it takes the same samples and stops at the same row (a byte that is not UTF-8 sends
/// the row it is in to the full reader).
#[test]
fn a_stream_reads_the_same_however_its_bytes_arrive() {
    use crate::source::{Format, ReadAhead, SeriesStream};
    let mut rng = Rng(11);
    let mut checked = 0;
    for (path, text) in corpus().into_iter().filter(|(_, t)| t.len() < 20_000) {
        let format = if path.ends_with(".csv") { Format::Csv } else { Format::JsonLines };
        let mut variants = vec![text.as_bytes().to_vec(), [b"\xef\xbb\xbf".as_slice(), text.as_bytes()].concat()];
        for _ in 0..6 {
            let mut bytes = text.as_bytes().to_vec();
            let at = rng.below(bytes.len().max(1));
            if let Some(b) = bytes.get_mut(at) {
                *b = [0xff, 0xc3, b'\n', b',', b'"'][rng.below(5)];
            }
            variants.push(bytes);
        }
        for bytes in variants {
            for rows in [1, 5, 1 << 19] {
                let mut whole = SeriesStream::new(format, bytes.as_slice()).unwrap();
                let expected = streamed(|w| whole.fill(w, rows), &path);
                let trickle = Trickle { bytes: bytes.clone(), at: 0, rng: Rng(rows as u64 + 3) };
                let mut trickled = SeriesStream::new(format, trickle).unwrap();
                assert_eq!(streamed(|w| trickled.fill(w, rows), &path), expected, "{path}, trickled, fills of {rows}");
                let stream = SeriesStream::new(format, std::io::Cursor::new(bytes.clone())).unwrap();
                let mut ahead = ReadAhead::start(stream, &path, rows);
                assert_eq!(streamed(|w| ahead.fill(w), &path), expected, "{path}, read ahead, fills of {rows}");
                checked += 1;
            }
        }
    }
    assert!(checked > 100, "{checked}");
}

#[test]
fn a_byte_that_is_not_utf8_sends_its_row_to_the_full_reader() {
    use crate::source::{Format, SeriesStream};
    let bytes = b"time,metric,value\n0,m,1\n15,m,\xff2\n30,m,3\n".to_vec();
    for rows in [1, 1 << 19] {
        let trickle = Trickle { bytes: bytes.clone(), at: 0, rng: Rng(5) };
        let mut stream = SeriesStream::new(Format::Csv, trickle).unwrap();
        let got = streamed(|w| stream.fill(w, rows), "s.csv");
        // The samples before the row, and the end of the row (byte 32) as where the full reader looks.
        assert!(got.ends_with("slow before byte 32"), "{got}");
        assert!(got.contains("[0]"), "{got}");
    }
}
