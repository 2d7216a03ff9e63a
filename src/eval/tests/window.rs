//! Window functions against hand-computed Prometheus 2.42 results.

use super::V2;
use crate::eval::{WindowArgs, apply_window};
use crate::plan::WindowFunc;
use crate::source::STALE_NAN;

/// `func` over samples `(seconds, value)` with the range `[start_s, end_s]`.
fn over(func: WindowFunc, samples: &[(i64, f64)], start_s: i64, end_s: i64) -> Option<f64> {
    quantile_over(func, 0.5, samples, start_s, end_s)
}

fn quantile_over(func: WindowFunc, q: f64, samples: &[(i64, f64)], start_s: i64, end_s: i64) -> Option<f64> {
    let t: Vec<i64> = samples.iter().map(|(t, _)| t * 1000).collect();
    let v: Vec<f64> = samples.iter().map(|(_, v)| *v).collect();
    let args = WindowArgs { func, quantile: q, range_start: start_s * 1000, range_end: end_s * 1000, version: V2 };
    apply_window(&args, &t, &v, &mut Vec::new())
}

fn close(a: Option<f64>, b: f64) -> bool {
    a.is_some_and(|a| (a - b).abs() <= 1e-12 * b.abs().max(1.0))
}

const RESET: [(i64, f64); 5] = [(0, 10.0), (15, 20.0), (30, 5.0), (45, 15.0), (60, 25.0)];

#[test]
fn increase_adds_back_a_counter_reset() {
    // Range [0, 60] holds all five samples: 25 - 10 = 15, plus 20 for the reset at 30 = 35.
    // Both boundaries are at a sample (0 s away), and the zero point (60 * 10/35 s before) is farther, so
    // there is no extrapolation: increase 35, rate 35 / 60.
    assert!(close(over(WindowFunc::Increase, &RESET, 0, 60), 35.0));
    assert!(close(over(WindowFunc::Rate, &RESET, 0, 60), 35.0 / 60.0));
}

#[test]
fn increase_extrapolates_to_both_boundaries_when_close() {
    // Range [10, 70] holds 20, 5, 15, 25 at 15..60: 25 - 20 + 20 (reset) = 25 over 45 s, average 15 s,
    // threshold 16.5 s; 5 s to the start and 10 s to the end are both extrapolated: 25 * 60 / 45.
    let samples = &RESET[1..];
    assert!(close(over(WindowFunc::Increase, samples, 10, 70), 25.0 * 60.0 / 45.0));
    assert!(close(over(WindowFunc::Rate, samples, 10, 70), 25.0 * 60.0 / 45.0 / 60.0));
}

#[test]
fn far_boundaries_get_half_an_interval() {
    // 0, 10, 20 at 0, 15, 30 in [0, 120]: 90 s to the end is past 16.5 s, so 7.5 s is added: 20 * 37.5 / 30.
    let samples = [(0, 0.0), (15, 10.0), (30, 20.0)];
    assert!(close(over(WindowFunc::Increase, &samples, 0, 120), 25.0));
    // A gauge-like fall is a reset too: 3 -> 1 counts 3, so 1 - 3 + 3 = 1 over 15 s in [0, 15].
    assert!(close(over(WindowFunc::Increase, &[(0, 3.0), (15, 1.0)], 0, 15), 1.0));
}

#[test]
fn the_zero_point_limits_extrapolation_before_the_threshold_test() {
    // 6, 16, 26 at 30, 45, 60 in [0, 60]: increase 20 over 30 s, average 15 s. 30 s to the start is past
    // the 16.5 s threshold, but 2.42 first shortens it to the zero point, 30 * 6/20 = 9 s, which is under
    // the threshold and so is used in full: 20 * (30 + 9) / 30 = 26. (Later versions apply the threshold
    // first and would give 25.)
    let samples = [(30, 6.0), (45, 16.0), (60, 26.0)];
    assert!(close(over(WindowFunc::Increase, &samples, 0, 60), 26.0));
    // 1, 11, 21: the zero point is 1.5 s before the first sample: 20 * 31.5 / 30 = 21.
    let samples = [(30, 1.0), (45, 11.0), (60, 21.0)];
    assert!(close(over(WindowFunc::Increase, &samples, 0, 60), 21.0));
    assert!(close(over(WindowFunc::Rate, &samples, 0, 60), 21.0 / 60.0));
}

#[test]
fn rate_needs_two_samples_and_skips_stale_markers() {
    assert_eq!(over(WindowFunc::Rate, &[(0, 1.0)], 0, 60), None);
    assert_eq!(over(WindowFunc::Rate, &[], 0, 60), None);
    assert_eq!(over(WindowFunc::Rate, &[(0, 1.0), (15, STALE_NAN)], 0, 60), None);
    // The marker is not a sample: 1 -> 3 over 30 s in [0, 30], no reset.
    assert!(close(over(WindowFunc::Increase, &[(0, 1.0), (15, STALE_NAN), (30, 3.0)], 0, 30), 2.0));
}

#[test]
fn over_time_aggregations() {
    let v = [(0, 1.0), (15, 4.0), (30, 2.0), (45, 3.0)];
    assert_eq!(over(WindowFunc::CountOver, &v, 0, 45), Some(4.0));
    assert_eq!(over(WindowFunc::SumOver, &v, 0, 45), Some(10.0));
    assert_eq!(over(WindowFunc::AvgOver, &v, 0, 45), Some(2.5));
    assert_eq!(over(WindowFunc::MinOver, &v, 0, 45), Some(1.0));
    assert_eq!(over(WindowFunc::MaxOver, &v, 0, 45), Some(4.0));
    assert_eq!(over(WindowFunc::AvgOver, &[], 0, 45), None);
    assert_eq!(over(WindowFunc::CountOver, &[(0, STALE_NAN)], 0, 45), None);
    assert_eq!(over(WindowFunc::CountOver, &[(0, 1.0), (15, STALE_NAN), (30, f64::NAN)], 0, 45), Some(2.0));
}

#[test]
fn sums_are_compensated_as_in_promql() {
    // Naive addition gives 0; PromQL 2.42's Kahan-Neumaier sum gives 1.
    let v = [(0, 1e16), (15, 1.0), (30, -1e16)];
    assert_eq!(over(WindowFunc::SumOver, &v, 0, 30), Some(1.0));
}

#[test]
fn infinities_and_nans() {
    assert_eq!(over(WindowFunc::AvgOver, &[(0, f64::INFINITY), (15, 1.0)], 0, 15), Some(f64::INFINITY));
    assert!(over(WindowFunc::AvgOver, &[(0, f64::INFINITY), (15, f64::NEG_INFINITY)], 0, 15).unwrap().is_nan());
    assert_eq!(over(WindowFunc::SumOver, &[(0, f64::INFINITY), (15, 1.0)], 0, 15), Some(f64::INFINITY));
    // min/max replace a leading NaN by any later value, and ignore NaNs after a number.
    let v = [(0, f64::NAN), (15, 2.0), (30, 1.0)];
    assert_eq!(over(WindowFunc::MinOver, &v, 0, 30), Some(1.0));
    assert_eq!(over(WindowFunc::MaxOver, &v, 0, 30), Some(2.0));
    let v = [(0, 1.0), (15, f64::NAN)];
    assert_eq!(over(WindowFunc::MaxOver, &v, 0, 30), Some(1.0));
    assert!(over(WindowFunc::SumOver, &v, 0, 30).unwrap().is_nan());
}

#[test]
fn quantiles_interpolate_and_sort_nan_first() {
    let v = [(0, 4.0), (15, 1.0), (30, 3.0), (45, 2.0)];
    let q = |q| quantile_over(WindowFunc::QuantileOver, q, &v, 0, 45);
    // Sorted 1 2 3 4: rank 0.5 * 3 = 1.5 -> 2.5; rank 0.9 * 3 = 2.7 -> 3 * 0.3 + 4 * 0.7.
    assert_eq!(q(0.5), Some(2.5));
    assert!(close(q(0.9), 3.7));
    assert_eq!(q(0.0), Some(1.0));
    assert_eq!(q(1.0), Some(4.0));
    assert_eq!(q(-0.1), Some(f64::NEG_INFINITY));
    assert_eq!(q(1.1), Some(f64::INFINITY));
    assert!(q(f64::NAN).unwrap().is_nan());
    let with_nan = [(0, 2.0), (15, f64::NAN), (30, 1.0)];
    assert!(quantile_over(WindowFunc::QuantileOver, 0.0, &with_nan, 0, 30).unwrap().is_nan());
    assert_eq!(quantile_over(WindowFunc::QuantileOver, 1.0, &with_nan, 0, 30), Some(2.0));
    assert_eq!(quantile_over(WindowFunc::QuantileOver, 0.5, &[(0, 7.0)], 0, 30), Some(7.0));
    assert_eq!(quantile_over(WindowFunc::QuantileOver, 0.5, &[], 0, 30), None);
}

/// `func` under Prometheus 3 over samples `(seconds, value)` with the nominal range `[start_s, end_s]`.
fn over_v3(func: WindowFunc, samples: &[(i64, f64)], start_s: i64, end_s: i64) -> Option<f64> {
    let t: Vec<i64> = samples.iter().map(|(t, _)| t * 1000).collect();
    let v: Vec<f64> = samples.iter().map(|(_, v)| *v).collect();
    let version = crate::eval::PromVersion::V3;
    let args = WindowArgs { func, quantile: 0.5, range_start: start_s * 1000, range_end: end_s * 1000, version };
    apply_window(&args, &t, &v, &mut Vec::new())
}

#[test]
fn avg_over_time_in_3_divides_a_compensated_sum() {
    // 2.42's running mean lands one ulp above the exact mean 6.725; 3.5 sums (53.8) and divides by 8.
    let vals = [6.8, 2.8, 8.6, 6.7, 4.9, 8.0, 6.3, 9.7];
    let samples: Vec<(i64, f64)> = vals.iter().enumerate().map(|(i, v)| (i as i64 * 15, *v)).collect();
    assert_eq!(over(WindowFunc::AvgOver, &samples, 0, 105), Some(6.7250000000000005));
    assert_eq!(over_v3(WindowFunc::AvgOver, &samples, 0, 105), Some(6.725));
    // A sum that would overflow switches to the running mean: the mean of two values near f64::MAX is finite.
    let big = [(0, f64::MAX), (15, f64::MAX)];
    assert_eq!(over_v3(WindowFunc::AvgOver, &big, 0, 15), Some(f64::MAX));
}

#[test]
fn rate_in_3_tests_the_threshold_before_the_zero_clamp() {
    // A counter 1, 2, 3, 4 at 60..105 s in the range [0, 120]: increase 3, sampled 45 s, average gap 15 s.
    // The start gap (60 s) is past 1.1 gaps, so 3 first cuts it to 7.5 s, then the zero point (45 * 1/3 =
    // 15 s) is farther: 45 + 7.5 + 15 (end gap, under the threshold) = 67.5 s, x 3/45 = 4.5.
    // 2.42 clamps first (60 -> 15 s), then the threshold test cuts 15 s to 7.5 s as well: 4.5 too; the
    // clamp decides only when the zero point is nearer than half a gap.
    let c = [(60, 1.0), (75, 2.0), (90, 3.0), (105, 4.0)];
    assert!(close(over_v3(WindowFunc::Increase, &c, 0, 120), 4.5));
    // Starting at 0.1: the zero point is 45 * 0.1/3.9 = 1.15 s before the first sample. 3.x: 60 -> 7.5 ->
    // 1.15 s; 2.42: 60 -> 1.15 s, under the threshold, kept: the same here. With the first sample 10 s into
    // the range (under 1.1 gaps) and the zero point farther than that, both extrapolate 10 s.
    let c = [(10, 0.1), (25, 1.4), (40, 2.7), (55, 4.0)];
    let both = 3.9 * (45.0 + 45.0 * 0.1 / 3.9 + 15.0) / 45.0;
    assert!(close(over_v3(WindowFunc::Increase, &c, 0, 70), both));
    assert!(close(over(WindowFunc::Increase, &c, 0, 70), both));
}
