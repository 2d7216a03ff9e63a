//! promtool unit-test YAML.

use super::{fails, ok, samples, spanned};
use crate::diagnostic::Code;
use crate::source::promtool::{parse_prometheus_duration, parse_series_name};
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
    assert_eq!(samples(&set, "http_errors"), [(0, 0.0), (15_000, 1.0), (30_000, 2.0), (45_000, 3.0), (75_000, 10.0)]);
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
    assert_eq!(samples(&set, "x"), [(0, 5.0)]);
    assert!(set.unlabelled("y").unwrap().is_empty());
}

#[test]
fn a_name_twice_with_different_labels_asks_to_aggregate() {
    let text = "input_series:\n  - series: 'x{a=\"1\"}'\n    values: 1\n  - series: 'x{a=\"2\"}'\n    values: 2\n";
    let d = fails("t.yaml", text, Code::SeriesSyntax);
    assert_eq!(d.message, "`x` appears twice with different labels");
    assert!(d.help.as_deref().unwrap().contains("aggregate"));
    assert!(spanned(text, &d).contains("x{a=\"2\"}"));
    assert!(text[d.related[0].0.start..d.related[0].0.end].contains("x{a=\"1\"}"));
    let text = "input_series:\n  - series: x\n  - series: ' x '\n";
    assert!(fails("t.yaml", text, Code::SeriesSyntax).message.contains("given twice"));
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
    assert!(fails("t.yaml", text, Code::SeriesSyntax).message.contains("quoted value"));
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

#[test]
fn series_names() {
    assert_eq!(parse_series_name(" up ").unwrap(), ("up".to_string(), vec![]));
    let (name, labels) = parse_series_name("x{b='2', a=\"1\\\"\",}").unwrap();
    assert_eq!(name, "x");
    assert_eq!(labels, [("a".into(), "1\"".into()), ("b".into(), "2".into())]);
    assert!(parse_series_name("{a=\"1\"}").is_err());
    assert!(parse_series_name("x{a=\"1\"} y").is_err());
    assert!(parse_series_name("x{a=\"1\"").is_err());
    assert!(parse_series_name("x{=\"1\"}").is_err());
    assert!(parse_series_name("9x").is_err());
}
