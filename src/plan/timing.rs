//! How long steps take, as the interpreter runs them, the simulator replays them and the linter bounds
//! them: every try runs up to its timeout (a verify up to its `within`, a wait for its length); a retry
//! waits `backoff` before the first retry and twice as long before each further one (the doubling stops
//! at 2^30 times `backoff`); a `parallel` group takes as long as its longest step.
//!
//! INVARIANT: `interpret`, `simulate` and `lint` take retry waits from [`retry_wait_ms`] and nowhere else,
//! so that a run, its simulation and the lints about its deadlines agree.

use super::{Action, Step};

/// The most the wait between tries doubles: `backoff * 2^30` at the longest.
const MAX_DOUBLINGS: u32 = 30;

/// The wait before retry number `retry` (0 for the first retry): `backoff * 2^retry`, saturating.
pub fn retry_wait_ms(backoff_ms: u64, retry: u32) -> u64 {
    backoff_ms.saturating_mul(1u64 << retry.min(MAX_DOUBLINGS))
}

/// Total waiting between tries for `retries` retries: `backoff * (2^retries - 1)`, saturating. This is the
/// sum of the [`retry_wait_ms`] waits up to 31 retries; beyond, where the waits stop doubling, it is larger,
/// which keeps a worst case a bound.
pub fn backoff_total_ms(backoff_ms: u64, retries: u32) -> u64 {
    let factor = if retries >= 63 { u64::MAX } else { (1u64 << retries) - 1 };
    backoff_ms.saturating_mul(factor)
}

/// How long one try of the step may run: its timeout, a verify's `within`, a wait's duration; for a
/// `parallel` group, the longest worst case of its steps.
pub fn one_try_ms(step: &Step) -> u64 {
    match &step.action {
        Action::Wait { ms } => *ms,
        Action::Parallel { steps } => steps.iter().map(worst_case_ms).max().unwrap_or(0),
        _ => step.timeout_ms,
    }
}

/// The longest the step can take with all its retries and their backoff.
pub fn worst_case_ms(step: &Step) -> u64 {
    let tries = u64::from(step.retries).saturating_add(1);
    one_try_ms(step).saturating_mul(tries).saturating_add(backoff_total_ms(step.backoff_ms, step.retries))
}

/// The longest one pass through these steps can take, in order.
pub fn sequence_ms<'a>(steps: impl IntoIterator<Item = &'a Step>) -> u64 {
    steps.into_iter().fold(0u64, |sum, s| sum.saturating_add(worst_case_ms(s)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_waits_double_up_to_a_cap() {
        assert_eq!(retry_wait_ms(1000, 0), 1000);
        assert_eq!(retry_wait_ms(1000, 2), 4000);
        assert_eq!(retry_wait_ms(1, 40), 1 << 30);
        assert_eq!(retry_wait_ms(u64::MAX, 1), u64::MAX);
    }

    #[test]
    fn backoff_total_is_the_sum_of_the_waits() {
        assert_eq!(backoff_total_ms(1000, 0), 0);
        assert_eq!(backoff_total_ms(1000, 1), 1000);
        assert_eq!(backoff_total_ms(1000, 3), 7000);
        assert_eq!(backoff_total_ms(1000, 3), (0..3).map(|r| retry_wait_ms(1000, r)).sum::<u64>());
        assert_eq!(backoff_total_ms(1000, 100), u64::MAX);
    }
}
