//! The simulated range, checked before anything is fetched or evaluated: `--start` before `--end`, both
//! within the years a time can be written in, and few enough evaluations to finish. Every bound refuses
//! with a coded diagnostic that says how to narrow the range, instead of running for hours.

use crate::diagnostic::{Code, Diagnostic};
use crate::source::{TimeBase, format_time};
use crate::span::Span;

/// The most evaluation times one simulation takes: 100 million (a month at 15s is 172,800; a year at a
/// 1-second interval is 31.5 million). Memory no longer depends on the range (the series stream through a
/// window, and only changes are kept), so this bounds time alone: beyond it a range is almost always a
/// mistake (a stray timestamp in milliseconds among seconds, an end in the year 9999) that would run for hours.
pub const MAX_EVALUATIONS: u64 = 100_000_000;

/// The latest time (and, negated, the earliest) a simulation takes: 9999-12-31T23:59:59.999Z, so that
/// arithmetic on times (windows, lookback, deadlines) never nears the ends of `i64`.
pub const MAX_TIME_MS: i64 = 253_402_300_799_999;

/// Checks the range `[start_ms, end_ms]` evaluated every `interval_ms`. `explicit` says whether the user gave
/// both ends (then an empty range is refused too; a range derived from a one-sample series may be a point).
pub fn check_range(
    start_ms: i64,
    end_ms: i64,
    interval_ms: u64,
    explicit: bool,
    base: TimeBase,
) -> Result<(), Diagnostic> {
    let flag = Span::new(0, 0);
    let time = |t: i64| format_time(t, base);
    for t in [start_ms, end_ms] {
        if !(-MAX_TIME_MS..=MAX_TIME_MS).contains(&t) {
            return Err(Diagnostic::new(
                Code::TimeOutOfRange,
                flag,
                format!("the simulated range reaches {} seconds from 1970, beyond the year 9999", t / 1000),
            )
            .help(
                "check the series for a stray time (one in milliseconds among seconds?), or give `--start` and `--end`",
            ));
        }
    }
    if start_ms > end_ms || (explicit && start_ms == end_ms) {
        return Err(Diagnostic::new(
            Code::SimulationRange,
            flag,
            format!(
                "the simulation starts at {} and ends at {}: the start must come before the end",
                time(start_ms),
                time(end_ms)
            ),
        )
        .help("give an `--end` later than `--start` (a `--start` after the last sample is refused too)"));
    }
    let evaluations = (i128::from(end_ms) - i128::from(start_ms)) / i128::from(interval_ms.max(1)) + 1;
    if evaluations > i128::from(MAX_EVALUATIONS) {
        return Err(Diagnostic::new(
            Code::TooManyEvaluations,
            flag,
            format!(
                "from {} to {} every {} is {evaluations} evaluations, more than {MAX_EVALUATIONS}",
                time(start_ms),
                time(end_ms),
                crate::plan::format_duration(interval_ms)
            ),
        )
        .help(
            "narrow the range with `--start` and `--end`; if the series gave it, look for a stray time \
             (one in milliseconds among seconds?)",
        ));
    }
    Ok(())
}

/// The last evaluation time `simulate` goes to: `end_ms`, or earlier so that at most [`MAX_EVALUATIONS`]
/// evaluations are made even when [`check_range`] was not asked.
pub fn bounded_end(start_ms: i64, end_ms: i64, interval_ms: u64) -> i64 {
    let span = i64::try_from(interval_ms.max(1).saturating_mul(MAX_EVALUATIONS - 1)).unwrap_or(i64::MAX);
    end_ms.min(start_ms.saturating_add(span))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "a failing unwrap is a failing test")]
mod tests {
    use super::*;

    #[test]
    fn ranges_are_checked() {
        let b = TimeBase::Seconds;
        assert!(check_range(0, 60_000, 15_000, true, b).is_ok());
        assert!(check_range(0, 0, 15_000, false, b).is_ok(), "a one-sample series");
        assert_eq!(check_range(0, 0, 15_000, true, b).unwrap_err().code, Code::SimulationRange);
        assert_eq!(check_range(100_000, 50_000, 15_000, true, b).unwrap_err().code, Code::SimulationRange);
        assert_eq!(check_range(0, MAX_TIME_MS, 15_000, true, b).unwrap_err().code, Code::TooManyEvaluations);
        assert_eq!(check_range(i64::MIN, 0, 15_000, true, b).unwrap_err().code, Code::TimeOutOfRange);
        assert_eq!(bounded_end(0, i64::MAX, 1), MAX_EVALUATIONS as i64 - 1);
    }
}
