//! How long steps can take, as the interpreter and the simulator count it: every try runs up to its
//! timeout (a verify up to its `within`), retries wait `backoff` before the first retry and twice as long
//! before each further one, a `parallel` group takes as long as its longest step.

use crate::plan::{Action, Step};

/// The most retries a step should need; beyond this, retrying stands in for a fix (`unbounded-retries`).
pub const MAX_SANE_RETRIES: u32 = 10;

/// Total waiting between tries: `backoff * (2^retries - 1)`, saturating.
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
    fn backoff_doubles_and_saturates() {
        assert_eq!(backoff_total_ms(1000, 0), 0);
        assert_eq!(backoff_total_ms(1000, 1), 1000);
        assert_eq!(backoff_total_ms(1000, 3), 7000);
        assert_eq!(backoff_total_ms(1000, 100), u64::MAX);
    }
}
