//! promtool unit-test YAML.

use super::{fails, labelled, ok, samples, spanned};
use crate::diagnostic::Code;
use crate::source::promtool::parse_prometheus_duration;
use crate::source::{TimeBase, is_stale};

const UNIT_TEST: &str = "\
rule_files:
  - alerts.yml
evaluation_interval: 1m
tests:
  - interval: 15s
    input_series:
      - series: 'http_errors{job=\"api\"}'
        values: '0+1x3 _ 10'
      - series: latency
        values: \"1 stale 3\"
    alert_rule_test:
      - eval_time: 1m
        alertname: HighErrors
  - interval: 1h
    input_series:
      - series: other
        values: '1'
";

#[test]
fn reads_the_first_test_at_its_interval() {
    let set = ok("t.yml", UNIT_TEST);
    assert_eq!(set.time_base, TimeBase::Seconds);
    let errors = [(0, 0.0), (15_000, 1.0), (30_000, 2.0), (45_000, 3.0), (75_000, 10.0)];
    assert_eq!(labelled(&set, "http_errors", &[("job", "api")]), errors);
    assert!(set.unlabelled("http_errors").is_none());
    let latency = set.unlabelled("latency").unwrap();
    assert_eq!(latency.t_ms, [0, 15_000, 30_000]);
    assert!(is_stale(latency.v[1]));
    assert!(set.unlabelled("other").is_none());
}

#[test]
fn interval_defaults_to_evaluation_interval_then_one_minute() {
    let set =
        ok("t.yaml", "evaluation_interval: 30s\ntests:\n  - input_series:\n      - series: x\n        values: 1 2\n");
    assert_eq!(set.unlabelled("x").unwrap().t_ms, [0, 30_000]);
    let set = ok("t.yaml", "tests:\n  - input_series:\n      - series: x\n        values: '1x2'\n");
    assert_eq!(set.unlabelled("x").unwrap().t_ms, [0, 60_000, 120_000]);
}

#[test]
fn the_top_level_may_be_the_input_itself() {
    let set = ok(
        "t.yaml",
        "interval: 1m30s\ninput_series:\n  - series: '{__name__=\"x\", a=\"b\"}'\n    values: 5\n  - series: y\n",
    );
    assert_eq!(labelled(&set, "x", &[("a", "b")]), [(0, 5.0)]);
    assert!(set.unlabelled("y").unwrap().is_empty());
}

#[test]
fn each_label_set_is_its_own_series() {
    let text = "input_series:\n  - series: 'x{a=\"1\"}'\n    values: 1 2\n  - series: 'x{a=\"2\", b=\"\\u00e9\\n\"}'\n    values: 3\n  - series: x\n    values: 4\n";
    let set = ok("t.yaml", text);
    assert_eq!(labelled(&set, "x", &[("a", "1")]), [(0, 1.0), (60_000, 2.0)]);
    assert_eq!(labelled(&set, "x", &[("a", "2"), ("b", "é\n")]), [(0, 3.0)]);
    assert_eq!(samples(&set, "x"), [(0, 4.0)]);
    assert_eq!(set.family("x").len(), 3);
    assert_eq!(set.sample_count(), 4);
}

#[test]
fn a_series_twice_is_refused() {
    let text = "input_series:\n  - series: 'x{a=\"1\", b=\"2\"}'\n    values: 1\n  - series: 'x{b=\"2\",a=\"1\"}'\n    values: 2\n";
    let d = fails("t.yaml", text, Code::SeriesSyntax);
    assert_eq!(d.message, "the series `x{a=\"1\", b=\"2\"}` is given twice");
    assert!(spanned(text, &d).contains("x{b=\"2\",a=\"1\"}"));
    assert!(text[d.related[0].0.start..d.related[0].0.end].contains("x{a=\"1\", b=\"2\"}"));
    let text = "input_series:\n  - series: x\n  - series: ' x '\n";
    assert!(fails("t.yaml", text, Code::SeriesSyntax).message.contains("given twice"));
}

#[test]
fn label_mistakes_point_at_the_label() {
    let cases = [
        ("x{a=\"1\"", "{a=\"1\"", "not closed"),
        ("x{9a=\"1\"}", "9a", "not a label name"),
        ("x{a=\"1\", a=\"2\"}", "a=\"2\"", "given twice"),
        ("x{a=\"\\q\"}", "\\q", "not an escape"),
        ("x{a=\"\\x4\"}", "\\x4\"", "not a complete escape"),
        ("x{a=1}", "1", "must be quoted"),
        ("x{a!=\"1\"}", "a!=", "only match"),
        ("x{a=\"1\" b=\"2\"}", "b", "expected `,` or `}`"),
        ("x{a=\"1\"} y", "y", "unexpected `y`"),
        ("x{__name__=\"y\"}", "__name__=\"y\"", "given twice"),
        ("{a=\"1\"}", "{a=\"1\"}", "no metric name"),
        ("{__name__=\"9\"}", "__name__=\"9\"", "not a metric name"),
    ];
    for (series, at, message) in cases {
        let text = format!("input_series:\n  - series: '{series}'\n    values: 1\n");
        let d = fails("t.yaml", &text, Code::SeriesSyntax);
        assert!(d.message.contains(message), "{series}: {}", d.message);
        assert_eq!(spanned(&text, &d), at, "{series}: {}", d.message);
        assert!(d.help.as_deref().unwrap().contains("name{label="), "{series}");
    }
}

#[test]
fn value_mistakes_point_inside_the_string() {
    let text = "input_series:\n  - series: x\n    values: '1 2 3x2.5 4'\n";
    let d = fails("t.yaml", text, Code::SeriesValue);
    assert_eq!(spanned(text, &d), "2.5");
    let text = "input_series:\n  - series: x\n    values: 1 2 lots\n";
    assert_eq!(spanned(text, &fails("t.yaml", text, Code::SeriesValue)), "lots");
}

#[test]
fn bad_intervals_names_and_structure() {
    let text = "interval: soon\ninput_series: []\n";
    assert_eq!(spanned(text, &fails("t.yaml", text, Code::SeriesTime)), "soon");
    fails("t.yaml", "interval: 0s\ninput_series: []\n", Code::SeriesTime);
    let text = "input_series:\n  - series: 'x{a=1}'\n";
    assert!(fails("t.yaml", text, Code::SeriesSyntax).message.contains("must be quoted"));
    fails("t.yaml", "tests: []\n", Code::SeriesSyntax);
    let d = fails("t.yaml", "tests: [unclosed\n", Code::SeriesSyntax);
    assert_eq!(d.message, "cannot read the YAML series file: unclosed bracket '['");
    assert_eq!(d.span.start, 7);
    fails("t.yaml", "just a string\n", Code::SeriesSyntax);
    fails("t.yaml", "input_series:\n  - values: 1\n", Code::SeriesSyntax);
}

#[test]
fn huge_expansions_are_refused() {
    let text = "input_series:\n  - series: x\n    values: 0+1x100000000000\n";
    let d = fails("t.yaml", text, Code::SeriesSyntax);
    assert!(d.message.contains("more than 10,000,000 samples"), "{}", d.message);
}

#[test]
fn prometheus_durations() {
    assert_eq!(parse_prometheus_duration("1m"), Some(60_000));
    assert_eq!(parse_prometheus_duration("1h30m"), Some(5_400_000));
    assert_eq!(parse_prometheus_duration("500ms"), Some(500));
    assert_eq!(parse_prometheus_duration("1m500ms"), Some(60_500));
    assert_eq!(parse_prometheus_duration("2d1w"), None);
    assert_eq!(parse_prometheus_duration("1y"), Some(31_536_000_000));
    assert_eq!(parse_prometheus_duration("0"), Some(0));
    assert_eq!(parse_prometheus_duration("15"), None);
    assert_eq!(parse_prometheus_duration(""), None);
    assert_eq!(parse_prometheus_duration("1.5m"), None);
    assert_eq!(parse_prometheus_duration("99999999999999y"), None);
}
