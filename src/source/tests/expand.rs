//! promtool's expanding notation, case by case against promtool 2.42's grammar.

use crate::source::expand::{ExpandError, Item, expand};
use crate::source::is_stale;

fn run(s: &str) -> Result<Vec<Item>, ExpandError> {
    expand(s, &mut |_, _, _| Ok(()))
}

fn values(s: &str) -> Vec<Option<f64>> {
    match run(s) {
        Ok(items) => items
            .into_iter()
            .map(|i| match i {
                Item::Value(v) => Some(v),
                Item::Missing => None,
            })
            .collect(),
        Err(e) => panic!("`{s}` did not expand: {}", e.message),
    }
}

/// The error for `s`, and the text its range covers.
fn error(s: &str) -> (String, String) {
    match run(s) {
        Ok(items) => panic!("`{s}` expanded to {items:?}"),
        Err(e) => (e.message, s[e.start..e.end].to_string()),
    }
}

#[test]
fn growth_and_repetition_give_n_plus_one_values() {
    assert_eq!(values("1+1x3"), [Some(1.0), Some(2.0), Some(3.0), Some(4.0)]);
    assert_eq!(values("1-1x3"), [Some(1.0), Some(0.0), Some(-1.0), Some(-2.0)]);
    assert_eq!(values("5x2"), [Some(5.0); 3]);
    assert_eq!(values("5x0"), [Some(5.0)]);
    assert_eq!(values("-2-1x1"), [Some(-2.0), Some(-3.0)]);
    assert_eq!(values("+2+1x1"), [Some(2.0), Some(3.0)]);
    assert_eq!(values("1e3+1e3x1"), [Some(1000.0), Some(2000.0)]);
}

#[test]
fn growth_adds_step_by_step_like_promtool() {
    // 0.1 + 0.1 + 0.1 is not 3 * 0.1 in floating point; promtool adds.
    assert_eq!(values("0.1+0.1x2"), [Some(0.1), Some(0.2), Some(0.1 + 0.1 + 0.1)]);
}

#[test]
fn blanks_are_missing_and_blank_repetition_gives_n() {
    assert_eq!(values("1 _ 3"), [Some(1.0), None, Some(3.0)]);
    assert_eq!(values("_x3"), [None, None, None]);
    assert_eq!(values("_x0 1"), [Some(1.0)]);
}

#[test]
fn special_values() {
    let v = values("stale Inf -inf NaN +nan");
    assert!(is_stale(v[0].unwrap()));
    assert_eq!(v[1], Some(f64::INFINITY));
    assert_eq!(v[2], Some(f64::NEG_INFINITY));
    assert!(v[3].unwrap().is_nan() && !is_stale(v[3].unwrap()));
    assert!(v[4].unwrap().is_nan());
}

#[test]
fn numbers_read_as_go_reads_them() {
    assert_eq!(values("010 09 0 00 .5 1. 2.5e-1 0x1"), [8.0, 9.0, 0.0, 0.0, 0.5, 1.0, 0.25, 0.0, 0.0].map(Some));
    assert_eq!(values("99999999999999999999"), [Some(1e20)]);
}

#[test]
fn white_space_of_any_kind_separates() {
    assert_eq!(values("  1 \t 2\n3\r\n "), [Some(1.0), Some(2.0), Some(3.0)]);
    assert_eq!(values(""), []);
}

#[test]
fn mistakes_point_at_their_text() {
    assert_eq!(error("1 2x").1, "");
    assert!(error("1 2x").0.contains("repetition count"));
    assert_eq!(error("1x3.5").1, "3.5");
    assert_eq!(error("1+1 2").1, " ");
    assert_eq!(
        error("stalex3"),
        ("unknown word `stalex3` in values, expected a number or `stale`".into(), "stalex3".into())
    );
    assert_eq!(error("Stale").1, "Stale");
    assert_eq!(error("1a").1, "1a");
    assert_eq!(error("1,2").1, ",");
    assert_eq!(error("1 é").1, "é");
    assert_eq!(error("1 x3").1, "x");
    assert_eq!(error("1x3x2").1, "x");
    assert_eq!(error("-_").1, "_");
    // A step takes one sign, as in promtool: `+-1` is a sign followed by a sign.
    assert_eq!(error("-2+-1x1").1, "-");
    assert_eq!(error("1x99999999999999999999").1, "99999999999999999999");
    assert!(error("1x18446744073709551615").0.contains("too large"));
    assert!(error("1e").0.contains("not a number"));
}

#[test]
fn the_budget_is_asked_before_expanding() {
    let mut asked = Vec::new();
    let r = expand("1x3 _x2 7", &mut |n, _, _| {
        asked.push(n);
        Ok(())
    });
    assert_eq!(r.unwrap().len(), 7);
    assert_eq!(asked, [4, 2, 1]);
    let refuse =
        expand("1x1000000000000", &mut |n, s, e| Err(ExpandError { start: s, end: e, message: format!("{n}") }));
    assert_eq!(refuse.unwrap_err().message, "1000000000001");
}
