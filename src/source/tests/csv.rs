//! CSV series files.

use super::{fails, ok, samples, spanned};
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
    let text = "time,metric,value\n0,x{a=\"b\"},1\n";
    let d = fails("s.csv", text, Code::SeriesSyntax);
    assert!(d.help.unwrap().contains("aggregate"));
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
