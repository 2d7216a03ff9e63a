//! Finding samples in a series, as Prometheus does: the instant value at `t` is the newest sample at
//! `t - lookback` or later (the lookback is given inclusive, so one value covers Prometheus 2's closed
//! `[t - 5m, t]` and 3's left-open `(t - 5m, t]`, see [`Bounds`](super::Bounds)), and no value when that newest
//! sample is a staleness marker; a range is every sample in `[start, end]`, inclusive at both ends (callers
//! pass a left-open range's start plus 1 ms).
//!
//! Two ways in: binary search for any time (`instant_at`, `range_at`), and [`Cursor`], which walks forward
//! as evaluation time increases, so a run of evaluations costs one pass over the samples.

use crate::source::is_stale;

/// Prometheus's default lookback delta (`--query.lookback-delta`), 5 minutes: the one definition is the
/// Prometheus client's, so that what is fetched and what is evaluated agree.
pub use crate::prometheus::LOOKBACK_MS;

/// The instant value of samples `(t, v)` at `at`, seeing samples at `at - lookback_ms` or later, or
/// `None` if the series has no value then.
pub fn instant_at(t: &[i64], v: &[f64], at: i64, lookback_ms: i64) -> Option<f64> {
    let end = t.partition_point(|&x| x <= at);
    newest(t, v, end, at, lookback_ms)
}

/// The instant value given `end`, the number of samples with time `<= at`.
#[inline]
fn newest(t: &[i64], v: &[f64], end: usize, at: i64, lookback_ms: i64) -> Option<f64> {
    let i = end.checked_sub(1)?;
    let (ti, vi) = (*t.get(i)?, *v.get(i)?);
    if ti < at.saturating_sub(lookback_ms) || is_stale(vi) { None } else { Some(vi) }
}

/// Indices `lo..hi` of the samples with `start <= time <= end`.
pub fn range_at(t: &[i64], start: i64, end: i64) -> std::ops::Range<usize> {
    let lo = t.partition_point(|&x| x < start);
    let hi = t.partition_point(|&x| x <= end).max(lo);
    lo..hi
}

/// A position in one series that moves forward with evaluation time. Moving backwards works too (it
/// falls back to binary search), it is only slower.
#[derive(Clone, Debug, Default)]
pub struct Cursor {
    /// Number of samples with time `< start` of the last range (ranges only).
    lo: usize,
    /// Number of samples with time `<= end` of the last lookup.
    hi: usize,
}

impl Cursor {
    /// Advances `hi` to the number of samples with time `<= at`.
    #[inline]
    fn seek_hi(&mut self, t: &[i64], at: i64) {
        if self.hi > t.len() || (self.hi > 0 && t[self.hi - 1] > at) {
            self.hi = t.partition_point(|&x| x <= at);
            return;
        }
        while self.hi < t.len() && t[self.hi] <= at {
            self.hi += 1;
        }
    }

    /// Advances `lo` to the number of samples with time `< start`.
    #[inline]
    fn seek_lo(&mut self, t: &[i64], start: i64) {
        if self.lo > t.len() || (self.lo > 0 && t[self.lo - 1] >= start) {
            self.lo = t.partition_point(|&x| x < start);
            return;
        }
        while self.lo < t.len() && t[self.lo] < start {
            self.lo += 1;
        }
    }

    /// The instant value at `at` (see [`instant_at`]).
    #[inline]
    pub fn instant(&mut self, t: &[i64], v: &[f64], at: i64, lookback_ms: i64) -> Option<f64> {
        self.seek_hi(t, at);
        newest(t, v, self.hi, at, lookback_ms)
    }

    /// Indices of the samples in `[start, end]` (see [`range_at`]).
    #[inline]
    pub fn range(&mut self, t: &[i64], start: i64, end: i64) -> std::ops::Range<usize> {
        self.seek_lo(t, start);
        self.seek_hi(t, end);
        self.lo..self.hi.max(self.lo)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::STALE_NAN;

    const T: [i64; 4] = [0, 60_000, 120_000, 600_000];
    const V: [f64; 4] = [1.0, 2.0, 3.0, 4.0];
    /// Prometheus 2's closed lookback.
    const L: i64 = LOOKBACK_MS;

    #[test]
    fn newest_sample_within_five_minutes_inclusive() {
        assert_eq!(instant_at(&T, &V, -1, L), None);
        assert_eq!(instant_at(&T, &V, 0, L), Some(1.0));
        assert_eq!(instant_at(&T, &V, 59_999, L), Some(1.0));
        assert_eq!(instant_at(&T, &V, 60_000, L), Some(2.0));
        // 120s + 5m = 420s is still inside the lookback; one millisecond later it has expired.
        assert_eq!(instant_at(&T, &V, 420_000, L), Some(3.0));
        assert_eq!(instant_at(&T, &V, 420_001, L), None);
        assert_eq!(instant_at(&T, &V, 600_000, L), Some(4.0));
        assert_eq!(instant_at(&[], &[], 0, L), None);
    }

    #[test]
    fn prometheus_3_lookback_is_open_on_the_left() {
        let l3 = crate::eval::PromVersion::V3.bounds().lookback_ms;
        assert_eq!(instant_at(&T, &V, 419_999, l3), Some(3.0));
        // 120s + 5m = 420s: the sample sits exactly on the open edge, so it is no longer seen.
        assert_eq!(instant_at(&T, &V, 420_000, l3), None);
        assert_eq!(instant_at(&T, &V, 420_000, L), Some(3.0));
    }

    #[test]
    fn a_stale_newest_sample_hides_older_ones() {
        let v = [1.0, STALE_NAN, 3.0, 4.0];
        assert_eq!(instant_at(&T, &v, 60_000, L), None);
        assert_eq!(instant_at(&T, &v, 119_999, L), None);
        assert_eq!(instant_at(&T, &v, 120_000, L), Some(3.0));
        let nan = [f64::NAN];
        assert!(instant_at(&[0], &nan, 0, L).is_some_and(f64::is_nan));
    }

    #[test]
    fn ranges_are_inclusive_at_both_ends() {
        assert_eq!(range_at(&T, 0, 120_000), 0..3);
        assert_eq!(range_at(&T, 1, 119_999), 1..2);
        assert_eq!(range_at(&T, 700_000, 800_000), 4..4);
        assert_eq!(range_at(&T, 10, 5), 1..1);
    }

    #[test]
    fn cursors_agree_with_binary_search_forwards_and_backwards() {
        let times: Vec<i64> = (-60..800).map(|s| s * 1_000 + 500).collect();
        let mut c = Cursor::default();
        let mut r = Cursor::default();
        let mut check = |at: i64| {
            assert_eq!(c.instant(&T, &V, at, L), instant_at(&T, &V, at, L), "instant at {at}");
            assert_eq!(r.range(&T, at - 90_000, at), range_at(&T, at - 90_000, at), "range at {at}");
        };
        for &at in &times {
            check(at);
        }
        for &at in times.iter().rev().step_by(7) {
            check(at);
        }
        for at in [T[0], T[1], T[2], T[3], 0, 600_000, 60_000] {
            check(at);
        }
    }
}
