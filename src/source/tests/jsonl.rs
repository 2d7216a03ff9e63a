//! JSON Lines series files.

use super::{fails, ok, samples, spanned};
use crate::diagnostic::Code;
use crate::source::{TimeBase, is_stale};

#[test]
fn reads_numbers_and_strings() {
    let text = "{\"time\": 0, \"metric\": \"x\", \"value\": 1}\r\n\n{\"time\": 15.5, \"metric\": \"x\", \"value\": \"0.5\", \"labels\": {}}\n{\"time\":\"30\",\"metric\":\"y\",\"value\":\"+Inf\"}";
    let set = ok("s.jsonl", text);
    assert_eq!(set.time_base, TimeBase::Seconds);
    assert_eq!(samples(&set, "x"), [(0, 1.0), (15_500, 0.5)]);
    assert_eq!(samples(&set, "y"), [(30_000, f64::INFINITY)]);
}

#[test]
fn rfc3339_times_and_markers() {
    let text = "{\"time\":\"2024-05-01T12:00:00Z\",\"metric\":\"x\",\"value\":\"NaN\"}\n{\"time\":\"2024-05-01T12:00:15Z\",\"metric\":\"x\",\"value\":\"stale\"}\n";
    let set = ok("s.jsonl", text);
    assert_eq!(set.time_base, TimeBase::Rfc3339);
    let v = &set.unlabelled("x").unwrap().v;
    assert!(v[0].is_nan() && !is_stale(v[0]) && is_stale(v[1]));
}

#[test]
fn broken_lines_are_located() {
    let text = "{\"time\":0,\"metric\":\"x\",\"value\":1}\n{\"time\":1,\"metric\":\"x\" \"value\":2}\n";
    let d = fails("s.jsonl", text, Code::SeriesSyntax);
    assert!(d.message.starts_with("this line is not JSON"), "{}", d.message);
    assert_eq!(&text[d.span.start..d.span.start + 1], "\"");
    let text = "[1, \"x\", 2]\n";
    assert!(fails("s.jsonl", text, Code::SeriesSyntax).message.contains("not a JSON object"));
    let text = "{\"time\":0,\"metric\":\"x\"}\n";
    assert!(fails("s.jsonl", text, Code::SeriesSyntax).message.contains("no `value`"));
}

#[test]
fn bad_fields_point_at_the_field() {
    let text = "{\"time\": true, \"metric\": \"x\", \"value\": 1}\n";
    let d = fails("s.jsonl", text, Code::SeriesTime);
    assert_eq!(spanned(text, &d), "\"time\": true");
    let text = "{\"time\": 1, \"metric\": \"x\", \"value\": null}\n";
    assert_eq!(spanned(text, &fails("s.jsonl", text, Code::SeriesValue)), "\"value\": null");
    let text = "{\"time\": 1, \"metric\": \"x\", \"value\": \"high\"}\n";
    assert_eq!(spanned(text, &fails("s.jsonl", text, Code::SeriesValue)), "\"value\": \"high\"");
    let text = "{\"time\": 1, \"metric\": 7, \"value\": 1}\n";
    assert_eq!(spanned(text, &fails("s.jsonl", text, Code::SeriesSyntax)), "\"metric\": 7");
    let text = "{\"time\": 1e300, \"metric\": \"x\", \"value\": 1}\n";
    fails("s.jsonl", text, Code::SeriesTime);
}

#[test]
fn mixing_and_order() {
    let text =
        "{\"time\":1,\"metric\":\"x\",\"value\":1}\n{\"time\":\"2024-05-01T12:00:00Z\",\"metric\":\"x\",\"value\":1}\n";
    fails("s.jsonl", text, Code::SeriesTime);
    let text = "{\"time\":2,\"metric\":\"x\",\"value\":1}\n{\"time\":1,\"metric\":\"x\",\"value\":1}\n";
    let d = fails("s.jsonl", text, Code::SeriesOrder);
    assert_eq!(d.message, "`x` goes back in time: 1 comes after 2");
    assert_eq!(d.related[0].1, "previous sample of `x` (line 1), at 2");
}
