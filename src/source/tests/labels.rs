//! The one parser of label notation (`labels.rs`) and its interner, shared by every format.

use crate::source::Labels;
use crate::source::labels::{LabelInterner, parse_label_set, parse_series_name, valid_label_name};

fn labels(pairs: &[(&str, &str)]) -> Labels {
    Labels::from_pairs(pairs.iter().copied())
}

#[test]
fn series_names_with_and_without_labels() {
    let (name, l) = parse_series_name(" up ").unwrap();
    assert_eq!((name.as_ref(), l), ("up", Labels::empty()));
    let (name, l) = parse_series_name("x{b='2', a=\"1\\\"\",}").unwrap();
    assert_eq!((name.as_ref(), l), ("x", labels(&[("a", "1\""), ("b", "2")])));
    let (name, l) = parse_series_name("{__name__=\"job:up:sum\", job=`a\\b`}").unwrap();
    assert_eq!((name.as_ref(), l), ("job:up:sum", labels(&[("job", "a\\b")])));
    let (_, l) = parse_series_name("x { a = \"\" , b = \"c\" }").unwrap();
    assert_eq!(l, labels(&[("b", "c")]), "an empty value is no label");
    assert_eq!(parse_series_name("x{}").unwrap().1, Labels::empty());
}

#[test]
fn promql_escapes() {
    let value = |s: &str| parse_series_name(&format!("x{{a={s}}}")).map(|(_, l)| l.get("a").unwrap_or("").to_string());
    assert_eq!(value(r#""\a\b\f\n\r\t\v\\\"""#).unwrap(), "\u{7}\u{8}\u{c}\n\r\t\u{b}\\\"");
    assert_eq!(value(r"'\''").unwrap(), "'");
    assert_eq!(value(r#""\x41\101\u00e9\U0001F600""#).unwrap(), "AAé😀");
    assert_eq!(value(r#""\xc3\xa9""#).unwrap(), "é");
    assert!(value(r#""\xff""#).unwrap_err().message.contains("UTF-8"));
    assert!(value(r#""\'""#).unwrap_err().message.contains("not an escape"), "only the quote itself is escaped");
    assert!(value(r#""\ud800""#).unwrap_err().message.contains("not a Unicode character"));
    assert!(value(r#""\u00""#).unwrap_err().message.contains("not a complete escape"));
    assert!(parse_series_name(r#"x{a="\"#).unwrap_err().message.contains("no closing quote"));
    assert!(parse_series_name("x{a=\"1\n\"}").unwrap_err().message.contains("no closing quote"));
}

#[test]
fn mistakes_carry_their_spans() {
    let at = |s: &str| {
        let e = parse_series_name(s).unwrap_err();
        (s[e.start..e.end].to_string(), e.message)
    };
    assert_eq!(at("x{a=\"1\"").0, "{a=\"1\"");
    assert_eq!(at("x{a=\"1\",").0, "{a=\"1\",");
    assert_eq!(at("x{a.b=\"1\"}").0, "a.b");
    assert_eq!(at("x{a=~\"1\"}").0, "a=~");
    assert_eq!(at("x{a~\"1\"}").0, "a~");
    assert_eq!(at("x{,}").0, ",");
    assert_eq!(at("9x").0, "9x");
    assert_eq!(at(" -x ").1, "`-x` is not a metric name");
    assert_eq!(at("x y").1, "unexpected `y` after the series name");
    let e = parse_label_set(" \u{3000}").unwrap_err();
    assert!(e.start <= e.end);
    assert_eq!(at("x{a=\"é").0, "\"é");
    let e = parse_series_name("x{a=\"1\", b=\"2\", a=\"3\"}").unwrap_err();
    assert_eq!(e.first, Some((2, 7)));
    assert_eq!((e.start, e.end), (16, 21));
}

#[test]
fn label_sets_alone() {
    assert_eq!(parse_label_set("").unwrap(), Labels::empty());
    assert_eq!(parse_label_set(" {} ").unwrap(), Labels::empty());
    assert_eq!(parse_label_set("{job='x', instance=\"a\"}").unwrap(), labels(&[("instance", "a"), ("job", "x")]));
    assert!(parse_label_set("job=\"x\"").unwrap_err().message.contains("braces"));
    assert!(parse_label_set("{__name__=\"x\"}").unwrap_err().message.contains("`__name__`"));
    assert!(parse_label_set("{a=\"1\"} x").unwrap_err().message.contains("unexpected `x`"));
    assert!(valid_label_name("_a9") && !valid_label_name("9a") && !valid_label_name("") && !valid_label_name("a:b"));
}

#[test]
fn the_interner_shares_one_label_set_per_text_or_pairs() {
    let mut interner = LabelInterner::default();
    let first = interner.label_set("{a=\"1\"}").unwrap().clone();
    let again = interner.label_set("{a=\"1\"}").unwrap().clone();
    assert!(std::ptr::eq(first.iter().next().unwrap().0, again.iter().next().unwrap().0), "one allocation");
    let (name, l) = interner.series_name("m{a=\"1\"}").unwrap();
    assert_eq!((name, l), ("m", &first));
    let p1 = interner.pairs([("b", "2"), ("a", "1"), ("__name__", "m"), ("c", "")].into_iter()).clone();
    assert_eq!(p1, labels(&[("a", "1"), ("b", "2")]));
    let p2 = interner.pairs([("b", "2"), ("a", "1")].into_iter()).clone();
    assert!(std::ptr::eq(p1.iter().next().unwrap().0, p2.iter().next().unwrap().0), "one allocation");
    assert_eq!(interner.pairs([("a", "1")].into_iter()), &first);
    assert!(interner.series_name("m{").is_err());
    assert!(interner.label_set("{__name__=\"m\"}").is_err());
}
