//! Garbage in, a diagnostic out: no input may panic a reader.

use crate::source::read_series;

/// A small deterministic generator, so that failures reproduce.
pub(super) struct Rng(pub(super) u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    pub(super) fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

pub(super) const PIECES: &[&str] = &[
    "time",
    "metric",
    "value",
    ",",
    "\n",
    "\r\n",
    " ",
    "\t",
    "{",
    "}",
    "[",
    "]",
    "\"",
    "'",
    ":",
    "-",
    "+",
    "x",
    "_",
    ".",
    "e",
    "0",
    "1",
    "9",
    "007",
    "1e308",
    "-1e999",
    "NaN",
    "Inf",
    "stale",
    "é",
    "\u{feff}",
    "#",
    "2024-05-01T12:00:00Z",
    "1969-12-31T23:59:59+99:99",
    "tests:",
    "input_series:",
    "series:",
    "values:",
    "interval:",
    "- ",
    "  ",
    "&a",
    "*a",
    "!!str",
    "\\",
    "null",
    "true",
    "99999999999999999999",
    "x99999999",
    "labels",
    "=",
    "!=",
    "=~",
    "`",
    "__name__",
    "\\x",
    "\\u00",
    "{a=\"b\"}",
    "\"\"",
];

pub(super) const VALID: &[(&str, &str)] = &[
    ("a.csv", "time,metric,value\n0,x,1\n15,x,2\n2.5,y,NaN\n"),
    ("a.jsonl", "{\"time\":0,\"metric\":\"x\",\"value\":1}\n{\"time\":\"15\",\"metric\":\"x\",\"value\":\"stale\"}\n"),
    ("l.csv", "time,metric,labels,value\n0,x,\"{a=\"\"\\u00e9\"\",b='c'}\",1\n0,x{a='é'},,2\n"),
    (
        "l.jsonl",
        "{\"time\":0,\"metric\":\"x\",\"labels\":{\"a\":\"é\"},\"value\":1}\n{\"time\":0,\"metric\":\"x{a=`b`}\",\"value\":1}\n",
    ),
    (
        "a.yaml",
        "tests:\n  - interval: 15s\n    input_series:\n      - series: 'x{a=\"b\"}'\n        values: '0+1x3 _x2 stale'\n",
    ),
];

/// A diagnostic's spans lie inside the text, on character boundaries.
fn assert_placed(path: &str, text: &str, d: &crate::diagnostic::Diagnostic) {
    for span in std::iter::once(d.span).chain(d.related.iter().map(|(s, _)| *s)) {
        assert!(
            span.start <= span.end && text.get(span.start..span.end).is_some(),
            "{path} {text:?}: span {span:?} ({})",
            d.message
        );
    }
}

#[test]
fn random_pieces_never_panic() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for round in 0..3000 {
        let mut text = String::new();
        for _ in 0..rng.below(40) {
            text.push_str(PIECES[rng.below(PIECES.len())]);
        }
        let path = ["g.csv", "g.jsonl", "g.yaml", "g"][round % 4];
        if let Err(d) = read_series(path, &text) {
            assert_placed(path, &text, &d);
        }
    }
}

#[test]
fn every_truncation_and_byte_flip_of_valid_files_is_handled() {
    let mut rng = Rng(42);
    for (path, text) in VALID {
        assert!(read_series(path, text).is_ok(), "{path} should read");
        for cut in (0..=text.len()).filter(|&i| text.is_char_boundary(i)) {
            if let Err(d) = read_series(path, &text[..cut]) {
                assert_placed(path, &text[..cut], &d);
            }
        }
        for _ in 0..500 {
            let mut bytes = text.as_bytes().to_vec();
            let at = rng.below(bytes.len());
            bytes[at] = PIECES[rng.below(PIECES.len())].as_bytes()[0];
            if let Ok(mutated) = String::from_utf8(bytes)
                && let Err(d) = read_series(path, &mutated)
            {
                assert_placed(path, &mutated, &d);
            }
        }
    }
}

#[test]
fn a_byte_order_mark_is_skipped_and_spans_still_point_into_the_text() {
    let text = "\u{feff}time,metric,value\n0,x,oops\n";
    let d = read_series("b.csv", text).unwrap_err();
    assert_eq!(&text[d.span.start..d.span.end], "oops");
    assert!(read_series("b.csv", "\u{feff}time,metric,value\n0,x,1\n").is_ok());
}
