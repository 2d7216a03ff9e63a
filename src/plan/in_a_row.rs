//! `verify ... for N consecutive`: the checks of a verify step counted in a row. The one rule, shared by the
//! live interpreter and `simulate`: the step passes at the Nth passing check in a row; a failing check
//! starts the count again.

/// Passing checks in a row of one verify step, against the `N` it needs (1 for a plain verify).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InARow {
    needed: u32,
    count: u32,
}

impl InARow {
    /// A count for a step with `consecutive` (0 reads as 1).
    pub fn new(consecutive: u32) -> Self {
        InARow { needed: consecutive.max(1), count: 0 }
    }

    /// Records one check; true when the step has now passed.
    pub fn check(&mut self, passed: bool) -> bool {
        self.count = if passed { self.count.saturating_add(1) } else { 0 };
        self.count >= self.needed
    }

    /// Passing checks in a row so far.
    pub fn count(&self) -> u32 {
        self.count
    }

    pub fn needed(&self) -> u32 {
        self.needed
    }
}

#[cfg(test)]
mod tests {
    use super::InARow;

    /// The check at which a verify with `n` passes, if it does, over `checks`.
    fn passes_at(n: u32, checks: &[bool]) -> Option<usize> {
        let mut row = InARow::new(n);
        checks.iter().position(|&c| row.check(c)).map(|i| i + 1)
    }

    #[test]
    fn passes_at_the_nth_passing_check_in_a_row_and_a_failure_resets() {
        assert_eq!(passes_at(1, &[false, true]), Some(2));
        assert_eq!(passes_at(0, &[true]), Some(1));
        assert_eq!(passes_at(3, &[true, true, false, true, true, true]), Some(6));
        assert_eq!(passes_at(3, &[true, true, false, true, true]), None);
        let mut row = InARow::new(3);
        row.check(true);
        row.check(true);
        assert_eq!((row.count(), row.needed()), (2, 3));
    }
}
