//! CSV series files.

use super::{fails, labelled, ok, samples, spanned};
use crate::diagnostic::Code;
use crate::source::{TimeBase, is_stale};

#[test]
fn reads_rows_per_metric() {
    let set = ok("s.csv", "time,metric,value\n0,errors,0.5\n15,errors,1\n0,latency,2.5\n30.25,errors,1e-3\n");
    assert_eq!(set.time_base, TimeBase::Seconds);
    assert_eq!(samples(&set, "errors"), [(0, 0.5), (15_000, 1.0), (30_250, 0.001)]);
    assert_eq!(samples(&set, "latency"), [(0, 2.5)]);
    assert_eq!(set.sample_count(), 4);
    assert_eq!(set.time_range(), Some((0, 30_250)));
}

#[test]
fn columns_in_any_order_with_comments_blanks_crlf_and_spaces() {
    let text = "# recorded 2024-05-01\r\nMetric , value , TIME\r\n\r\n errors , 1 , 10 \r\n# a comment\r\n\"errors\",\"2\",\"20\"\r\n";
    let set = ok("s.txt", text);
    assert_eq!(samples(&set, "errors"), [(10_000, 1.0), (20_000, 2.0)]);
}

#[test]
fn rfc3339_times_set_the_base() {
    let set = ok("s.csv", "time,metric,value\n2024-05-01T12:00:00Z,x,1\n2024-05-01T12:00:15.5+00:00,x,2\n");
    assert_eq!(set.time_base, TimeBase::Rfc3339);
    assert_eq!(samples(&set, "x"), [(1_714_564_800_000, 1.0), (1_714_564_815_500, 2.0)]);
}

#[test]
fn special_values() {
    let set = ok("s.csv", "time,metric,value\n1,x,NaN\n2,x,+Inf\n3,x,-Inf\n4,x,stale\n");
    let v = &set.unlabelled("x").unwrap().v;
    assert!(v[0].is_nan() && !is_stale(v[0]));
    assert_eq!((v[1], v[2]), (f64::INFINITY, f64::NEG_INFINITY));
    assert!(is_stale(v[3]));
}

#[test]
fn a_header_alone_is_an_empty_set() {
    assert!(ok("s.csv", "time,metric,value\n").series.is_empty());
}

#[test]
fn a_missing_or_wrong_header_is_explained() {
    let d = fails("s.csv", "0,x,1\n1,x,2\n", Code::SeriesSyntax);
    assert!(d.message.contains("`0,x,1`"), "{}", d.message);
    assert_eq!(d.span.start, 0);
    let d = fails("s.csv", "time,metric,metric\n0,x,1\n", Code::SeriesSyntax);
    assert!(d.help.unwrap().contains("time,metric,value"));
}

#[test]
fn a_short_row_names_its_line() {
    let text = "time,metric,value\n0,x,1\n1,x\n";
    let d = fails("s.csv", text, Code::SeriesSyntax);
    assert_eq!(spanned(text, &d), "1,x");
    assert!(d.message.contains("2 fields"), "{}", d.message);
}

#[test]
fn bad_times_values_and_names_point_at_the_field() {
    let text = "time,metric,value\n0,x,1\nsoon,x,2\n";
    assert_eq!(spanned(text, &fails("s.csv", text, Code::SeriesTime)), "soon");
    let text = "time,metric,value\n0,x,1\n 5 , x , lots \n";
    let d = fails("s.csv", text, Code::SeriesValue);
    assert_eq!(spanned(text, &d), "lots");
    let text = "time,metric,value\n0,9x,1\n";
    let d = fails("s.csv", text, Code::SeriesSyntax);
    assert_eq!(spanned(text, &d), "9x");
    let text = "time,metric,value\n0,,1\n";
    assert!(fails("s.csv", text, Code::SeriesSyntax).message.contains("no metric name"));
}

#[test]
fn mixing_seconds_and_rfc3339_is_an_error() {
    let text = "time,metric,value\n0,x,1\n2024-05-01T12:00:00Z,y,2\n";
    let d = fails("s.csv", text, Code::SeriesTime);
    assert_eq!(spanned(text, &d), "2024-05-01T12:00:00Z");
    assert_eq!(&text[d.related[0].0.start..d.related[0].0.end], "0");
}

#[test]
fn out_of_order_names_metric_line_and_previous_time() {
    let text = "time,metric,value\n10,x,1\n5,y,1\n20,x,2\n15,x,3\n";
    let d = fails("s.csv", text, Code::SeriesOrder);
    assert_eq!(d.message, "`x` goes back in time: 15 comes after 20");
    assert_eq!(spanned(text, &d), "15,x,3");
    assert_eq!(d.related[0].1, "previous sample of `x` (line 4), at 20");
    let text = "time,metric,value\n2024-05-01T12:00:00Z,x,1\n2024-05-01T12:00:00Z,x,2\n";
    let d = fails("s.csv", text, Code::SeriesOrder);
    assert_eq!(d.message, "`x` has two samples at 2024-05-01T12:00:00Z");
}

#[test]
fn a_labels_column_makes_one_series_per_label_set() {
    let text = "time,metric,labels,value\n\
        0,disk,\"{mount=\"\"/\"\", host='a'}\",1\n\
        0,disk,{mount='/data'},2\n\
        0,errors,,5\n\
        15,disk,\"{host='a',mount=\"\"/\"\"}\",3\n\
        15,disk,{mount='/data'},4\n\
        30,disk, {} ,6\n";
    let set = ok("s.csv", text);
    assert_eq!(labelled(&set, "disk", &[("host", "a"), ("mount", "/")]), [(0, 1.0), (15_000, 3.0)]);
    assert_eq!(labelled(&set, "disk", &[("mount", "/data")]), [(0, 2.0), (15_000, 4.0)]);
    assert_eq!(samples(&set, "disk"), [(30_000, 6.0)]);
    assert_eq!(samples(&set, "errors"), [(0, 5.0)]);
    assert_eq!(set.family("disk").len(), 3);
    assert_eq!(set.sample_count(), 6);
}

#[test]
fn labels_may_follow_the_metric_name_instead() {
    let text = "value,time,metric\n1,0,disk{mount='/'}\n2,0,\"disk{mount=\"\"/a\\\\b\"\"}\"\n3,10,disk{mount='/'}\n";
    let set = ok("s.csv", text);
    assert_eq!(labelled(&set, "disk", &[("mount", "/")]), [(0, 1.0), (10_000, 3.0)]);
    assert_eq!(labelled(&set, "disk", &[("mount", "/a\\b")]), [(0, 2.0)]);
    let text = "time,metric,labels,value\n0,disk{mount='/'},{host='a'},1\n";
    let d = fails("s.csv", text, Code::SeriesSyntax);
    assert_eq!(d.message, "this row gives labels twice");
    assert_eq!(spanned(text, &d), "{host='a'}");
}

#[test]
fn order_is_per_series() {
    let text = "time,metric,labels,value\n10,x,{a='1'},1\n5,x,{a='2'},1\n20,x,{a='1'},2\n15,x,{a='1'},3\n";
    let d = fails("s.csv", text, Code::SeriesOrder);
    assert_eq!(d.message, "`x{a=\"1\"}` goes back in time: 15 comes after 20");
    assert_eq!(spanned(text, &d), "15,x,{a='1'},3");
    assert_eq!(d.related[0].1, "previous sample of `x{a=\"1\"}` (line 4), at 20");
    let text = "time,metric,labels,value\n10,x,{a='1'},1\n10,x,{a='2'},1\n10,x,\"{a=\"\"1\"\"}\",2\n";
    let d = fails("s.csv", text, Code::SeriesOrder);
    assert_eq!(d.message, "`x{a=\"1\"}` has two samples at 10");
}

#[test]
fn label_mistakes_point_into_the_field() {
    let cases = [
        ("{a='1'", "{a='1'", "not closed"),
        ("\"{a='1', a='2'}\"", "a='2'", "given twice"),
        ("\"{a=\"\"\\q\"\"}\"", "\\q", "not an escape"),
        ("{9a='1'}", "9a", "not a label name"),
        ("{__name__='x'}", "__name__='x'", "`__name__`"),
        ("a='1'", "a='1'", "braces"),
    ];
    for (field, at, message) in cases {
        let text = format!("time,metric,labels,value\n0,x,{field},1\n");
        let d = fails("s.csv", &text, Code::SeriesSyntax);
        assert!(d.message.contains(message), "{field}: {}", d.message);
        assert_eq!(spanned(&text, &d), at, "{field}: {}", d.message);
    }
    // Unquoted, `""` is an empty value followed by `1`.
    let text = "time,metric,value\n0,x{a=\"\"1\"\"},1\n";
    assert_eq!(spanned(text, &fails("s.csv", text, Code::SeriesSyntax)), "1");
    let text = "time,metric,value\n0,\" x{a='1' \",1\n";
    assert_eq!(spanned(text, &fails("s.csv", text, Code::SeriesSyntax)), "{a='1'");
}
