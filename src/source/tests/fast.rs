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
