//! Functions over a window of samples, computing what Prometheus 2.42's `*_over_time`, `rate` and
//! `increase` compute over the same range (promql/functions.go), so that simulation and exported rules
//! agree. Staleness markers are not part of a range (Prometheus drops them when it builds range vectors).
//! An empty range has no value; `rate` and `increase` need two samples.

use crate::plan::WindowFunc;
use crate::source::is_stale;

/// Everything a window function needs besides the samples.
#[derive(Clone, Copy, Debug)]
pub struct WindowArgs {
    pub func: WindowFunc,
    /// `quantile_over`'s `q` (ignored by the other functions).
    pub quantile: f64,
    /// Range boundaries in ms, inclusive: `[t - offset - window, t - offset]`.
    pub range_start: i64,
    pub range_end: i64,
}

/// Applies `args.func` to samples `(t, v)` that all lie inside the range. `scratch` is reused between
/// calls by `quantile_over`, which sorts.
pub fn apply(args: &WindowArgs, t: &[i64], v: &[f64], scratch: &mut Vec<f64>) -> Option<f64> {
    let mut samples = t.iter().zip(v).filter(|(_, v)| !is_stale(**v)).map(|(t, v)| (*t, *v));
    match args.func {
        WindowFunc::CountOver => {
            let n = samples.count();
            (n > 0).then_some(n as f64)
        }
        WindowFunc::SumOver => sum_over(samples.map(|(_, v)| v)),
        WindowFunc::AvgOver => avg_over(samples.map(|(_, v)| v)),
        WindowFunc::MinOver => {
            let first = samples.next()?.1;
            // As PromQL: a NaN is replaced by any later value, and is kept only if nothing else comes.
            Some(samples.fold(first, |m, (_, v)| if v < m || m.is_nan() { v } else { m }))
        }
        WindowFunc::MaxOver => {
            let first = samples.next()?.1;
            Some(samples.fold(first, |m, (_, v)| if v > m || m.is_nan() { v } else { m }))
        }
        WindowFunc::QuantileOver => {
            scratch.clear();
            scratch.extend(samples.map(|(_, v)| v));
            quantile(args.quantile, scratch)
        }
        WindowFunc::Rate => extrapolated_rate(args, samples, true),
        WindowFunc::Increase => extrapolated_rate(args, samples, false),
    }
}

/// Neumaier-compensated addition, as PromQL's `kahanSumInc`.
#[inline]
fn kahan_inc(inc: f64, sum: f64, c: f64) -> (f64, f64) {
    let t = sum + inc;
    let c = if sum.abs() >= inc.abs() { c + ((sum - t) + inc) } else { c + ((inc - t) + sum) };
    (t, c)
}

fn sum_over(values: impl Iterator<Item = f64>) -> Option<f64> {
    let (mut sum, mut c, mut any) = (0.0, 0.0, false);
    for v in values {
        (sum, c) = kahan_inc(v, sum, c);
        any = true;
    }
    any.then(|| if sum.is_infinite() { sum } else { sum + c })
}

/// The running mean of PromQL's `avg_over_time`, including its handling of infinities.
fn avg_over(values: impl Iterator<Item = f64>) -> Option<f64> {
    let (mut mean, mut count, mut c, mut any) = (0.0f64, 0.0f64, 0.0f64, false);
    for v in values {
        any = true;
        count += 1.0;
        if mean.is_infinite() {
            if v.is_infinite() && (mean > 0.0) == (v > 0.0) {
                // Infinities of the same sign cannot be subtracted, and the mean is right already.
                continue;
            }
            if !v.is_infinite() && !v.is_nan() {
                // A finite value leaves an infinite mean infinite.
                continue;
            }
        }
        (mean, c) = kahan_inc(v / count - mean / count, mean, c);
    }
    any.then(|| if mean.is_infinite() { mean } else { mean + c })
}

/// PromQL's `quantile`: NaNs sort first; `q` outside [0, 1] gives -Inf or +Inf; between two samples the
/// result is interpolated linearly.
fn quantile(q: f64, values: &mut [f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    if q.is_nan() {
        return Some(f64::NAN);
    }
    if q < 0.0 {
        return Some(f64::NEG_INFINITY);
    }
    if q > 1.0 {
        return Some(f64::INFINITY);
    }
    values.sort_unstable_by(|a, b| match (a.is_nan(), b.is_nan()) {
        (true, true) => std::cmp::Ordering::Equal,
        (true, false) => std::cmp::Ordering::Less,
        (false, true) => std::cmp::Ordering::Greater,
        (false, false) => a.total_cmp(b),
    });
    let n = values.len() as f64;
    let rank = q * (n - 1.0);
    let lower = rank.floor().max(0.0);
    let upper = (lower + 1.0).min(n - 1.0);
    let weight = rank - rank.floor();
    Some(values[lower as usize] * (1.0 - weight) + values[upper as usize] * weight)
}

/// Prometheus 2.42's `extrapolatedRate` for counters: the increase over the samples, with counter resets
/// added back, extrapolated towards the range boundaries (all the way when the gap is under 1.1 average
/// sample intervals, else half an interval), never back past the counter's zero point; per second for
/// `rate`.
fn extrapolated_rate(args: &WindowArgs, mut samples: impl Iterator<Item = (i64, f64)>, is_rate: bool) -> Option<f64> {
    let (first_t, first_v) = samples.next()?;
    let (mut last_t, mut prev) = (first_t, first_v);
    let mut result = 0.0;
    let mut n = 1usize;
    for (t, v) in samples {
        if v < prev {
            // A counter reset: what was counted before it is part of the increase.
            result += prev;
        }
        prev = v;
        last_t = t;
        n += 1;
    }
    if n < 2 {
        return None;
    }
    result += prev - first_v;

    let seconds = |from: i64, to: i64| to.saturating_sub(from) as f64 / 1000.0;
    let duration_to_start = seconds(args.range_start, first_t);
    let duration_to_end = seconds(last_t, args.range_end);
    let sampled_interval = seconds(first_t, last_t);
    let average_between_samples = sampled_interval / (n - 1) as f64;

    let mut duration_to_start = duration_to_start;
    if result > 0.0 && first_v >= 0.0 {
        let duration_to_zero = sampled_interval * (first_v / result);
        if duration_to_zero < duration_to_start {
            duration_to_start = duration_to_zero;
        }
    }
    let threshold = average_between_samples * 1.1;
    let mut extrapolate_to = sampled_interval;
    extrapolate_to += if duration_to_start < threshold { duration_to_start } else { average_between_samples / 2.0 };
    extrapolate_to += if duration_to_end < threshold { duration_to_end } else { average_between_samples / 2.0 };
    // Prometheus 2.42 folds the per-second division into the factor before multiplying; the order matters
    // at a threshold (45 * (1/300) is 0.15000000000000002, 45 / 300 is 0.15).
    let mut factor = extrapolate_to / sampled_interval;
    if is_rate {
        factor /= seconds(args.range_start, args.range_end);
    }
    result *= factor;
    Some(result)
}
