//! A trigger's condition compiled with its `clear when` condition alongside (one label table, so the clear
//! condition's series ids are the condition's), and the series id of the trigger's no-data series.

use super::*;
use crate::plan::Trigger;

impl<'s> CompiledCondition<'s> {
    /// Compiles a trigger's condition and, when it has one, its `clear when` condition alongside (see
    /// [`clear_forward`](Self::clear_forward)).
    pub fn compile_trigger(
        trigger: &Trigger,
        shapes: &Shapes<'_>,
        series: &'s SeriesSet,
        version: PromVersion,
    ) -> Self {
        let clear = trigger.clear_when.as_ref().map(|w| &w.condition);
        Self::compile_with_clear(&trigger.condition, clear, shapes, series, version)
    }

    /// Whether a `clear when` condition was compiled alongside.
    pub fn has_clear_when(&self) -> bool {
        self.clear.is_some()
    }

    /// The series (ids of this condition's label sets) for which the `clear when` condition holds at
    /// `t_ms`, moving forward; none when there is no `clear when`.
    pub fn clear_forward(&mut self, t_ms: i64) -> Result<&[Hit], EvalError> {
        self.clear_hits.clear();
        let Some(clear) = &self.clear else { return Ok(&self.clear_hits) };
        let found = match self.version {
            PromVersion::V2 => {
                let mut s = Forward::<{ PromVersion::V2.bounds().lookback_ms }> {
                    leaves: &mut self.leaves,
                    scratch: &mut self.scratch,
                };
                eval_cond(clear, t_ms, &mut s, &self.table)?
            }
            PromVersion::V3 => {
                let mut s = Forward::<{ PromVersion::V3.bounds().lookback_ms }> {
                    leaves: &mut self.leaves,
                    scratch: &mut self.scratch,
                };
                eval_cond(clear, t_ms, &mut s, &self.table)?
            }
        };
        self.clear_hits.extend(found.into_iter().map(|(series, value)| Hit { series, value }));
        Ok(&self.clear_hits)
    }

    /// The label set of the trigger's no-data series (the empty one), as a series id.
    pub fn no_data_series(&self) -> u32 {
        EMPTY
    }
}
