//! JSON Lines series files.

use super::{fails, labelled, ok, samples, spanned};
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

#[test]
fn a_labels_object_makes_one_series_per_label_set() {
    let text = "\
{\"time\": 0, \"metric\": \"disk\", \"labels\": {\"mount\": \"/\", \"host\": \"a\"}, \"value\": 1}
{\"time\": 0, \"metric\": \"disk\", \"labels\": {\"mount\": \"/data\\n\"}, \"value\": 2}
{\"time\": 0, \"metric\": \"disk\", \"labels\": null, \"value\": 7}
{\"time\": 15, \"metric\": \"disk\", \"labels\": {\"host\": \"a\", \"mount\": \"/\", \"empty\": \"\"}, \"value\": 3}
{\"time\": 15, \"metric\": \"disk{mount='/data\\\\n'}\", \"value\": 4}
";
    let set = ok("s.jsonl", text);
    assert_eq!(labelled(&set, "disk", &[("host", "a"), ("mount", "/")]), [(0, 1.0), (15_000, 3.0)]);
    assert_eq!(labelled(&set, "disk", &[("mount", "/data\n")]), [(0, 2.0), (15_000, 4.0)]);
    assert_eq!(samples(&set, "disk"), [(0, 7.0)]);
    assert_eq!(set.family("disk").len(), 3);
}

#[test]
fn order_is_per_series_and_repeats_are_refused() {
    let text = "\
{\"time\": 10, \"metric\": \"x\", \"labels\": {\"a\": \"1\"}, \"value\": 1}
{\"time\": 5, \"metric\": \"x\", \"labels\": {\"a\": \"2\"}, \"value\": 1}
{\"time\": 5, \"metric\": \"x\", \"labels\": {\"a\": \"1\"}, \"value\": 1}
";
    let d = fails("s.jsonl", text, Code::SeriesOrder);
    assert_eq!(d.message, "`x{a=\"1\"}` goes back in time: 5 comes after 10");
    assert!(spanned(text, &d).starts_with("{\"time\": 5, \"metric\": \"x\", \"labels\": {\"a\": \"1\"}"));
    let text = "{\"time\": 1, \"metric\": \"x\", \"labels\": {\"a\": \"1\"}, \"value\": 1}\n{\"time\": 1, \"metric\": \"x{a='1'}\", \"value\": 2}\n";
    assert_eq!(fails("s.jsonl", text, Code::SeriesOrder).message, "`x{a=\"1\"}` has two samples at 1");
}

#[test]
fn bad_labels_point_at_the_label() {
    let cases = [
        (r#"{"a": "1", "9b": "2"}"#, r#""9b": "2""#, "not a label name"),
        (r#"{"a": 1}"#, r#""a": 1"#, "not a string"),
        (r#"{"__name__": "y"}"#, r#""__name__": "y""#, "`__name__`"),
        (r#"["a"]"#, r#""labels": ["a"]"#, "not a label set"),
    ];
    for (labels, at, message) in cases {
        let text = format!("{{\"time\": 0, \"metric\": \"x\", \"labels\": {labels}, \"value\": 1}}\n");
        let d = fails("s.jsonl", &text, Code::SeriesSyntax);
        assert!(d.message.contains(message), "{labels}: {}", d.message);
        assert_eq!(spanned(&text, &d), at, "{labels}: {}", d.message);
    }
    let text = "{\"time\": 0, \"metric\": \"x{a='1'\", \"value\": 1}\n";
    let d = fails("s.jsonl", text, Code::SeriesSyntax);
    assert_eq!((spanned(text, &d), d.message.as_str()), ("{a='1'", "the labels are not closed: `}` is missing"));
    let text = "{\"time\": 0, \"metric\": \"x{a='1'}\", \"labels\": {\"b\": \"2\"}, \"value\": 1}\n";
    assert_eq!(fails("s.jsonl", text, Code::SeriesSyntax).message, "this sample gives labels twice");
}
