//! Random access: a compiled condition evaluated at any moment by binary search, leaving the forward
//! cursors alone (a `verify` step, watch's one evaluation per answer, values for display).

use super::*;

struct Random<'a, 's> {
    leaves: &'a [Leaf<'s>],
    scratch: Vec<f64>,
    lookback_ms: i64,
}

impl Samples for Random<'_, '_> {
    fn instant(&mut self, leaf: usize, member: usize, at: i64) -> Option<f64> {
        let m = self.leaves.get(leaf)?.members.get(member)?;
        instant_at(m.t, m.v, at, self.lookback_ms)
    }

    fn window(&mut self, leaf: usize, member: usize, first: i64, args: &WindowArgs) -> Option<f64> {
        let m = self.leaves.get(leaf)?.members.get(member)?;
        let r = range_at(m.t, first, args.range_end);
        apply(args, m.t, m.v, r, &mut self.scratch)
    }

    fn members(&self, leaf: usize) -> &[Member<'_>] {
        self.leaves.get(leaf).map_or(&[], |l| l.members.as_slice())
    }
}

impl<'s> CompiledCondition<'s> {
    fn random(&self) -> Random<'_, 's> {
        Random { leaves: &self.leaves, scratch: Vec::new(), lookback_ms: self.version.bounds().lookback_ms }
    }

    /// The series for which the condition holds at any `t_ms`, by binary search.
    pub fn hits_at(&self, t_ms: i64) -> Result<Vec<Hit>, EvalError> {
        let found = eval_cond(&self.root, t_ms, &mut self.random(), &self.table)?;
        Ok(found.into_iter().map(|(series, value)| Hit { series, value }).collect())
    }

    /// Whether the condition holds at `t_ms` for a series that agrees with `labels` on every label both
    /// have (any series when `labels` is empty): what a `verify` step in a run for that series asks.
    pub fn holds_for(&self, t_ms: i64, labels: &Labels) -> Result<bool, EvalError> {
        Ok(self.hits_at(t_ms)?.iter().any(|h| agrees(self.labels(h.series), labels)))
    }

    /// Whether the condition holds at `t_ms` for any series.
    pub fn eval_at(&self, t_ms: i64) -> Result<bool, EvalError> {
        Ok(!self.hits_at(t_ms)?.is_empty())
    }

    /// The value of the first comparison's left-hand side at `t_ms` for the series `series` (or, when
    /// the condition has one series, for that one), for display (`${value}`, timelines).
    pub fn display_value_at(&self, t_ms: i64, series: u32) -> Option<f64> {
        let mut s = self.random();
        match eval_value(self.root.first_lhs(), t_ms, &mut s, &self.table).ok()? {
            Val::Scalar(v) => Some(v),
            Val::Vector(xs) => match xs.iter().find(|(id, _)| *id == series) {
                Some((_, v)) => Some(*v),
                None if xs.len() == 1 => xs.first().map(|(_, v)| *v),
                None => None,
            },
        }
    }
}

/// Whether two label sets agree on every label both have.
pub fn agrees(a: &Labels, b: &Labels) -> bool {
    b.iter().all(|(k, v)| a.get(k).is_none_or(|x| x == v))
}

/// Evaluates one value expression at `t_ms` over `series` as Prometheus `version` would (for display and
/// tests): its value when it is a number or one series; missing metrics have no value.
pub fn value_at(value: &Value, series: &SeriesSet, t_ms: i64, version: PromVersion) -> Option<f64> {
    let metrics = [];
    let shapes = Shapes::new(&metrics);
    let mut c = Compiler {
        series,
        shapes: &shapes,
        version,
        leaves: Vec::new(),
        table: LabelTable::new(),
        missing: Vec::new(),
    };
    let (e, _) = c.value(value);
    let lookback_ms = version.bounds().lookback_ms;
    let mut s = Random { leaves: &c.leaves, scratch: Vec::new(), lookback_ms };
    match eval_value(&e, t_ms, &mut s, &c.table).ok()? {
        Val::Scalar(v) => Some(v),
        Val::Vector(xs) => match xs.as_slice() {
            [(_, v)] => Some(*v),
            _ => None,
        },
    }
}

impl CompiledCondition<'_> {
    /// Whether the trigger's condition has data at `t_ms`: some series of some metric it reads has an
    /// instant value then (Prometheus's lookback, a staleness marker ending a series). The one definition
    /// of "no data" (`on no data`): every metric the condition reads has no value in any series. By binary
    /// search, so it leaves the forward cursors alone.
    pub fn has_data_at(&self, t_ms: i64) -> bool {
        let lookback_ms = self.version.bounds().lookback_ms;
        self.leaves
            .iter()
            .take(self.own_leaves)
            .flat_map(|l| l.members.iter())
            .any(|m| instant_at(m.t, m.v, t_ms, lookback_ms).is_some())
    }

    /// The series for which the `clear when` condition holds at any `t_ms`, by binary search (none when
    /// there is no `clear when`).
    pub fn clear_hits_at(&self, t_ms: i64) -> Result<Vec<Hit>, EvalError> {
        let Some(clear) = &self.clear else { return Ok(Vec::new()) };
        let found = eval_cond(clear, t_ms, &mut self.random(), &self.table)?;
        Ok(found.into_iter().map(|(series, value)| Hit { series, value }).collect())
    }
}
