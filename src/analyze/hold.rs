//! A trigger's hold: `for D`, `for N consecutive`, `for N of M`.

use super::Analyzer;
use crate::ast::{Hold, Quantity};
use crate::diagnostic::{Code, Diagnostic};
use crate::plan;
use crate::span::Span;

impl Analyzer<'_> {
    /// The hold as the plan has it (`for 0s` when none is written), or `None` after an error.
    pub(super) fn hold(&mut self, hold: Option<&Hold>, interval_ms: u64) -> Option<plan::Hold> {
        match hold {
            None => Some(plan::Hold::For { ms: 0 }),
            Some(Hold::For(q)) => {
                let ms = self.duration(q, "`for`");
                if let Some(ms) = ms
                    && ms % interval_ms != 0
                {
                    let fires = ms.div_ceil(interval_ms) * interval_ms;
                    self.push(
                        Diagnostic::new(
                            Code::HoldNotMultiple,
                            q.span,
                            format!(
                                "`for {}` is not a multiple of the evaluation interval ({})",
                                plan::format_duration(ms),
                                plan::format_duration(interval_ms)
                            ),
                        )
                        .label(format!("fires {} after the condition turns true", plan::format_duration(fires)))
                        .help(format!(
                            "write `for {}` to say what happens; evaluations are {} apart",
                            plan::format_duration(fires),
                            plan::format_duration(interval_ms)
                        )),
                    );
                }
                ms.map(|ms| plan::Hold::For { ms })
            }
            Some(Hold::Consecutive(q)) => self
                .count(q, "`for N consecutive`", 1, 100_000)
                .map(|evaluations| plan::Hold::Consecutive { evaluations }),
            Some(Hold::OfLast { n, m, span }) => self.of_last(n, m, *span),
        }
    }

    /// `for N of M`: 1 <= N <= M <= `plan::MAX_OF_LAST`.
    fn of_last(&mut self, n_q: &Quantity, m_q: &Quantity, span: Span) -> Option<plan::Hold> {
        let max = u64::from(plan::MAX_OF_LAST);
        // Whole, non-negative numbers first (RC202, RC204, RC205); the range is this clause's own.
        let n = self.count(n_q, "N in `for N of M`", 0, u64::from(u32::MAX));
        let m = self.count(m_q, "M in `for N of M`", 0, u64::from(u32::MAX));
        let (n, m) = (n?, m?);
        let example = format!("for {} of {}", n.clamp(1, plan::MAX_OF_LAST), m.clamp(n.max(1), plan::MAX_OF_LAST));
        if n == 0 || m == 0 {
            let (at, what) = if n == 0 && m == 0 {
                (span, "`for 0 of 0` counts nothing".to_string())
            } else if n == 0 {
                (n_q.span, format!("`for 0 of {m}` would fire with no true evaluation at all"))
            } else {
                (m_q.span, format!("`for {n} of 0` has a window of no evaluations"))
            };
            self.push(Diagnostic::new(Code::OfLastZero, at, what).label("zero").help(format!(
                "N and M are at least 1: `for N of M` fires once N of the last M evaluations were true, \
                         such as `{example}`"
            )));
            return None;
        }
        if u64::from(m) > max {
            self.push(
                Diagnostic::new(
                    Code::OfLastTooLong,
                    m_q.span,
                    format!("`for {n} of {m}` keeps a window of {m} evaluations, more than {max}"),
                )
                .label(format!("at most {max}"))
                .help(format!(
                    "use a window of at most {max} evaluations, or a longer `evaluate every`, or `for D` with a \
                     window function (`avg_over(x, 30m) > ...`)"
                )),
            );
            return None;
        }
        if n > m {
            self.push(
                Diagnostic::new(
                    Code::OfLastOrder,
                    span,
                    format!("`for {n} of {m}` needs {n} true evaluations among the last {m}, which never happens"),
                )
                .label("N is greater than M")
                .help(format!(
                    "N counts the true evaluations within the last M: write `for {m} of {n}`, or `for {m} of {m}` \
                     for every one of them"
                )),
            );
            return None;
        }
        Some(plan::Hold::OfLast { n, m })
    }
}
