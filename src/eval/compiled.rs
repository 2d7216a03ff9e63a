//! Conditions compiled against a series set: metric names resolved to sample slices once, each metric
//! reference given its own [`Cursor`], so that evaluating forward through time costs one pass over the
//! samples. Random access (a `verify` step at any moment) uses binary search and leaves the cursors alone.
//!
//! Semantics: a reference with no value makes every comparison on it false, and arithmetic on it has no
//! value; comparisons are IEEE 754 ([`CmpOp::test`]); `and`, `or`, `not` are two-valued over the results.
//! Lookups and windows follow the [`PromVersion`] the condition was compiled for: its boundaries are
//! folded into the compiled form (the lookback, each window's first included millisecond), so evaluating
//! costs the same under every version.

use std::ops::Range;

use super::lookup::{Cursor, instant_at, range_at};
use super::version::PromVersion;
use super::window::{self, WindowArgs};
use crate::plan::{ArithOp, CmpOp, Condition, Value, WindowFunc};
use crate::source::SeriesSet;

/// A condition ready to evaluate over one series set.
#[derive(Clone, Debug)]
pub struct CompiledCondition<'s> {
    root: Cond,
    leaves: Vec<Leaf<'s>>,
    scratch: Vec<f64>,
    missing: Vec<String>,
    version: PromVersion,
}

#[derive(Clone, Debug)]
enum Cond {
    Compare { op: CmpOp, lhs: Expr, rhs: Expr },
    And(Box<Cond>, Box<Cond>),
    Or(Box<Cond>, Box<Cond>),
    Not(Box<Cond>),
}

#[derive(Clone, Debug)]
enum Expr {
    Number(f64),
    Instant {
        leaf: usize,
        offset: i64,
    },
    /// `window` is the nominal width (what `rate` divides by); `reach` is how far back from the range's
    /// end the included samples go, inclusive (the width, less the version's open left edge).
    Window {
        leaf: usize,
        func: WindowFunc,
        quantile: f64,
        window: i64,
        reach: i64,
        offset: i64,
        version: PromVersion,
    },
    Abs(Box<Expr>),
    Neg(Box<Expr>),
    Arith(ArithOp, Box<Expr>, Box<Expr>),
}

/// One metric reference: its samples and its own forward position.
#[derive(Clone, Debug)]
struct Leaf<'s> {
    t: &'s [i64],
    v: &'s [f64],
    cursor: Cursor,
}

fn ms(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

struct Compiler<'s> {
    series: &'s SeriesSet,
    version: PromVersion,
    leaves: Vec<Leaf<'s>>,
    missing: Vec<String>,
}

impl<'s> Compiler<'s> {
    fn leaf(&mut self, metric: &str) -> usize {
        let (t, v): (&'s [i64], &'s [f64]) = match self.series.get(metric) {
            Some(s) => (&s.t_ms, &s.v),
            None => {
                if !self.missing.iter().any(|m| m == metric) {
                    self.missing.push(metric.to_string());
                }
                (&[], &[])
            }
        };
        let n = t.len().min(v.len());
        self.leaves.push(Leaf { t: &t[..n], v: &v[..n], cursor: Cursor::default() });
        self.leaves.len() - 1
    }

    fn cond(&mut self, c: &Condition) -> Cond {
        match c {
            Condition::Compare { op, lhs, rhs } => {
                Cond::Compare { op: *op, lhs: self.value(lhs), rhs: self.value(rhs) }
            }
            Condition::And { lhs, rhs } => Cond::And(Box::new(self.cond(lhs)), Box::new(self.cond(rhs))),
            Condition::Or { lhs, rhs } => Cond::Or(Box::new(self.cond(lhs)), Box::new(self.cond(rhs))),
            Condition::Not { operand } => Cond::Not(Box::new(self.cond(operand))),
        }
    }

    fn value(&mut self, v: &Value) -> Expr {
        match v {
            Value::Number { value } => Expr::Number(*value),
            Value::Metric { name, offset_ms } => Expr::Instant { leaf: self.leaf(name), offset: ms(*offset_ms) },
            Value::Window { func, metric, window_ms, offset_ms, quantile } => Expr::Window {
                leaf: self.leaf(metric),
                func: *func,
                quantile: quantile.unwrap_or(f64::NAN),
                window: ms(*window_ms),
                reach: ms(*window_ms).saturating_sub(self.version.bounds().open_ms),
                offset: ms(*offset_ms),
                version: self.version,
            },
            Value::Abs { operand } => Expr::Abs(Box::new(self.value(operand))),
            Value::Neg { operand } => Expr::Neg(Box::new(self.value(operand))),
            Value::Arith { op, lhs, rhs } => Expr::Arith(*op, Box::new(self.value(lhs)), Box::new(self.value(rhs))),
        }
    }
}

/// How an evaluation reaches samples: through cursors, or by binary search.
trait Samples {
    fn instant(&mut self, leaf: usize, at: i64) -> Option<f64>;
    /// `func` over the samples from `first` (inclusive) to `args.range_end`.
    fn window(&mut self, leaf: usize, first: i64, args: &WindowArgs) -> Option<f64>;
}

/// Forward evaluation with the version's inclusive lookback ([`Bounds::lookback_ms`](super::Bounds)) as a
/// constant, so that the hot path (an instant lookup) costs the same under every version.
struct Forward<'a, 's, const LOOKBACK_MS: i64> {
    leaves: &'a mut [Leaf<'s>],
    scratch: &'a mut Vec<f64>,
}

impl<const LOOKBACK_MS: i64> Samples for Forward<'_, '_, LOOKBACK_MS> {
    #[inline]
    fn instant(&mut self, leaf: usize, at: i64) -> Option<f64> {
        let l = self.leaves.get_mut(leaf)?;
        l.cursor.instant(l.t, l.v, at, LOOKBACK_MS)
    }

    fn window(&mut self, leaf: usize, first: i64, args: &WindowArgs) -> Option<f64> {
        let l = self.leaves.get_mut(leaf)?;
        let r = l.cursor.range(l.t, first, args.range_end);
        apply(args, l.t, l.v, r, self.scratch)
    }
}

struct Random<'a, 's> {
    leaves: &'a [Leaf<'s>],
    scratch: Vec<f64>,
    lookback_ms: i64,
}

impl Samples for Random<'_, '_> {
    fn instant(&mut self, leaf: usize, at: i64) -> Option<f64> {
        let l = self.leaves.get(leaf)?;
        instant_at(l.t, l.v, at, self.lookback_ms)
    }

    fn window(&mut self, leaf: usize, first: i64, args: &WindowArgs) -> Option<f64> {
        let l = self.leaves.get(leaf)?;
        let r = range_at(l.t, first, args.range_end);
        apply(args, l.t, l.v, r, &mut self.scratch)
    }
}

fn apply(args: &WindowArgs, t: &[i64], v: &[f64], r: Range<usize>, scratch: &mut Vec<f64>) -> Option<f64> {
    window::apply(args, t.get(r.clone())?, v.get(r)?, scratch)
}

// The hot path (a comparison of a metric with a number) stays small enough to inline; everything else
// goes through the out-of-line functions below.
#[inline]
fn eval_cond<S: Samples>(c: &Cond, t: i64, s: &mut S) -> bool {
    match c {
        Cond::Compare { op, lhs, rhs } => match (eval_value(lhs, t, s), eval_value(rhs, t, s)) {
            (Some(a), Some(b)) => op.test(a, b),
            _ => false,
        },
        _ => eval_logic(c, t, s),
    }
}

#[inline(never)]
fn eval_logic<S: Samples>(c: &Cond, t: i64, s: &mut S) -> bool {
    match c {
        Cond::Compare { .. } => eval_cond(c, t, s),
        Cond::And(a, b) => eval_cond(a, t, s) && eval_cond(b, t, s),
        Cond::Or(a, b) => eval_cond(a, t, s) || eval_cond(b, t, s),
        Cond::Not(a) => !eval_cond(a, t, s),
    }
}

#[inline]
fn eval_value<S: Samples>(e: &Expr, t: i64, s: &mut S) -> Option<f64> {
    match e {
        Expr::Number(v) => Some(*v),
        Expr::Instant { leaf, offset } => s.instant(*leaf, t.saturating_sub(*offset)),
        _ => eval_compound(e, t, s),
    }
}

#[inline(never)]
fn eval_compound<S: Samples>(e: &Expr, t: i64, s: &mut S) -> Option<f64> {
    match e {
        Expr::Number(_) | Expr::Instant { .. } => eval_value(e, t, s),
        Expr::Window { leaf, func, quantile, window, reach, offset, version } => {
            let range_end = t.saturating_sub(*offset);
            let args = WindowArgs {
                func: *func,
                quantile: *quantile,
                range_start: range_end.saturating_sub(*window),
                range_end,
                version: *version,
            };
            s.window(*leaf, range_end.saturating_sub(*reach), &args)
        }
        Expr::Abs(a) => eval_value(a, t, s).map(f64::abs),
        Expr::Neg(a) => eval_value(a, t, s).map(|v| -v),
        Expr::Arith(op, a, b) => {
            let a = eval_value(a, t, s)?;
            let b = eval_value(b, t, s)?;
            Some(op.apply(a, b))
        }
    }
}

impl Cond {
    /// The left-hand side of the first comparison, in reading order.
    fn first_lhs(&self) -> &Expr {
        match self {
            Cond::Compare { lhs, .. } => lhs,
            Cond::And(a, _) | Cond::Or(a, _) | Cond::Not(a) => a.first_lhs(),
        }
    }
}

impl<'s> CompiledCondition<'s> {
    /// Compiles `condition` against `series`, to be evaluated as Prometheus `version` would. A metric the
    /// series set lacks has no value at any time; [`missing_metrics`](Self::missing_metrics) lists such
    /// names so the caller can report them.
    pub fn compile(condition: &Condition, series: &'s SeriesSet, version: PromVersion) -> Self {
        let mut c = Compiler { series, version, leaves: Vec::new(), missing: Vec::new() };
        let root = c.cond(condition);
        CompiledCondition { root, leaves: c.leaves, scratch: Vec::new(), missing: c.missing, version }
    }

    /// A random-access view of the samples, for one evaluation.
    fn random(&self) -> Random<'_, 's> {
        Random { leaves: &self.leaves, scratch: Vec::new(), lookback_ms: self.version.bounds().lookback_ms }
    }

    #[inline]
    fn forward<const LOOKBACK_MS: i64>(&mut self, t_ms: i64) -> bool {
        let mut s = Forward::<LOOKBACK_MS> { leaves: &mut self.leaves, scratch: &mut self.scratch };
        eval_cond(&self.root, t_ms, &mut s)
    }

    /// Metrics the condition reads that the series set does not have, in order of first appearance.
    pub fn missing_metrics(&self) -> &[String] {
        &self.missing
    }

    /// Evaluates at `t_ms`, moving the cursors forward. Fastest when successive calls have increasing
    /// times; any order gives the right answer.
    #[inline]
    pub fn eval_forward(&mut self, t_ms: i64) -> bool {
        // One well-predicted branch per evaluation picks the version's monomorphised walk.
        match self.version {
            PromVersion::V2 => self.forward::<{ PromVersion::V2.bounds().lookback_ms }>(t_ms),
            PromVersion::V3 => self.forward::<{ PromVersion::V3.bounds().lookback_ms }>(t_ms),
        }
    }

    /// Evaluates at any `t_ms` by binary search, leaving the cursors where they are.
    pub fn eval_at(&self, t_ms: i64) -> bool {
        eval_cond(&self.root, t_ms, &mut self.random())
    }

    /// The value of the first comparison's left-hand side at `t_ms`, for display (`${value}`, timelines).
    pub fn display_value_at(&self, t_ms: i64) -> Option<f64> {
        eval_value(self.root.first_lhs(), t_ms, &mut self.random())
    }
}

/// Evaluates one value expression at `t_ms` over `series` as Prometheus `version` would (for display and
/// tests); missing metrics have no value.
pub fn value_at(value: &Value, series: &SeriesSet, t_ms: i64, version: PromVersion) -> Option<f64> {
    let mut c = Compiler { series, version, leaves: Vec::new(), missing: Vec::new() };
    let e = c.value(value);
    let lookback_ms = version.bounds().lookback_ms;
    eval_value(&e, t_ms, &mut Random { leaves: &c.leaves, scratch: Vec::new(), lookback_ms })
}
