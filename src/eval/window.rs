//! Functions over a window of samples, computing what Prometheus's `*_over_time`, `rate` and `increase`
//! compute over the same range (promql/functions.go) in the version asked for (2.42 or 3.5; see
//! [`PromVersion`] for the differences), so that simulation and exported rules agree. Staleness markers are
//! not part of a range (Prometheus drops them when it builds range vectors). An empty range has no value;
//! `rate` and `increase` need two samples.

use super::version::PromVersion;
use crate::plan::WindowFunc;
use crate::source::is_stale;

/// Everything a window function needs besides the samples.
#[derive(Clone, Copy, Debug)]
pub struct WindowArgs {
    pub func: WindowFunc,
    /// `quantile_over`'s `q` (ignored by the other functions).
    pub quantile: f64,
    /// The nominal range in ms, `t - offset - window` to `t - offset` (what `rate` extrapolates to). Which
    /// samples it holds is the caller's business (the samples passed in); Prometheus 2 takes the closed
    /// range, 3 leaves the start out.
    pub range_start: i64,
    pub range_end: i64,
    /// Whose arithmetic: `avg_over_time` and the `rate` clamp differ between versions.
    pub version: PromVersion,
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
        WindowFunc::SumOver => match args.version {
            PromVersion::V2 => sum_over(samples.map(|(_, v)| v), kahan_inc),
            PromVersion::V3 => sum_over(samples.map(|(_, v)| v), kahan_inc_v3),
        },
        WindowFunc::AvgOver => match args.version {
            PromVersion::V2 => avg_over(samples.map(|(_, v)| v)),
            PromVersion::V3 => avg_over_v3(samples.map(|(_, v)| v)),
        },
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

/// Prometheus 3's compensated addition: as [`kahan_inc`], but an infinite sum drops the compensation.
#[inline]
fn kahan_inc_v3(inc: f64, sum: f64, c: f64) -> (f64, f64) {
    let t = sum + inc;
    if t.is_infinite() { (t, 0.0) } else { kahan_inc(inc, sum, c) }
}

fn sum_over(values: impl Iterator<Item = f64>, add: fn(f64, f64, f64) -> (f64, f64)) -> Option<f64> {
    let (mut sum, mut c, mut any) = (0.0, 0.0, false);
    for v in values {
        (sum, c) = add(v, sum, c);
        any = true;
    }
    any.then(|| if sum.is_infinite() { sum } else { sum + c })
}

/// Prometheus 3's `avg_over_time`: the compensated sum over the count while the sum stays finite; once it
/// would overflow, a compensated running mean from there on (each step scales the mean so far by
/// `(n - 1) / n` and adds `v / n`).
fn avg_over_v3(mut values: impl Iterator<Item = f64>) -> Option<f64> {
    let mut sum = values.next()?;
    let (mut c, mut count, mut mean, mut running) = (0.0f64, 1.0f64, 0.0f64, false);
    for v in values {
        count += 1.0;
        if !running {
            let (next, next_c) = kahan_inc_v3(v, sum, c);
            if !next.is_infinite() {
                (sum, c) = (next, next_c);
                continue;
            }
            running = true;
            mean = sum / (count - 1.0);
            c /= count - 1.0;
        }
        let q = (count - 1.0) / count;
        (mean, c) = kahan_inc_v3(v / count, q * mean, q * c);
    }
    Some(if running { mean + c } else { sum / count + c / count })
}

/// Prometheus 2.42's `avg_over_time`: a running mean, including its handling of infinities.
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

/// Prometheus's `extrapolatedRate` for counters: the increase over the samples, with counter resets
/// added back, extrapolated towards the range boundaries (all the way when the gap is under 1.1 average
/// sample intervals, else half an interval), never back past the counter's zero point; per second for
/// `rate`. Prometheus 2.42 clamps at the zero point before the 1.1-interval test, 3 after it.
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

    let threshold = average_between_samples * 1.1;
    let limit = |gap: f64| if gap < threshold { gap } else { average_between_samples / 2.0 };
    let clamp = |gap: f64| {
        let to_zero = sampled_interval * (first_v / result);
        if result > 0.0 && first_v >= 0.0 && to_zero < gap { to_zero } else { gap }
    };
    let to_start = match args.version {
        PromVersion::V2 => limit(clamp(duration_to_start)),
        PromVersion::V3 => clamp(limit(duration_to_start)),
    };
    let extrapolate_to = sampled_interval + to_start + limit(duration_to_end);
    // Prometheus (2.42 and 3.5 alike) folds the per-second division into the factor before multiplying; the
    // order matters at a threshold (45 * (1/300) is 0.15000000000000002, 45 / 300 is 0.15).
    let mut factor = extrapolate_to / sampled_interval;
    if is_rate {
        factor /= seconds(args.range_start, args.range_end);
    }
    result *= factor;
    Some(result)
}
