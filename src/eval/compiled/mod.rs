//! Conditions compiled against a series set, evaluated per series as PromQL evaluates an alerting rule's
//! expression: each metric reference is every series of that metric; numbers combine with each series;
//! two operands join by the one set of matching rules in [`crate::plan::shape`] (one-to-one on labels, or
//! a side of at most one series with every series of the other); `and`, `or`, `unless` are PromQL's set
//! operators; a comparison keeps the series for which it holds. The result at an evaluation is the series
//! for which the condition holds, each with its value (a comparison keeps its left side's value).
//!
//! Compiling resolves metric names to sample slices once, interns every label set that can occur (so
//! that matching is integer work, not string work) and gives each series its own [`Cursor`], so that
//! evaluating forward through time costs one pass over the samples. Random access (a `verify` step at any
//! moment) uses binary search and leaves the cursors alone.
//!
//! Semantics kept from the one-series engine: a series with no value at `t` is absent (every comparison on
//! it is false, arithmetic on it has no value); comparisons are IEEE 754 ([`CmpOp::test`]). What PromQL
//! refuses at evaluation (two series of one side in one match group) is an [`EvalError`], which a trigger
//! treats as a failed evaluation.

use std::collections::HashMap;
use std::ops::Range;

use super::lookup::{Cursor, instant_at, range_at};
use super::vector::{EMPTY, Joiner, LabelTable, Signatures, Val, binary, map_val, set_op};
use super::version::PromVersion;
use super::window::{self, WindowArgs};
use crate::plan::{ArithOp, CmpOp, Condition, Join, Labels, Matching, OpKind, Shape, Shapes, Value, WindowFunc, join};
use crate::source::SeriesSet;

mod random;
mod trigger;

pub use random::{agrees, value_at};

/// A series for which a condition holds at an evaluation: its label set (see
/// [`CompiledCondition::labels`]) and its value.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Hit {
    pub series: u32,
    pub value: f64,
}

/// An evaluation PromQL would refuse (and so a rule would fail): the message says which match group.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EvalError(pub String);

impl std::fmt::Display for EvalError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A condition ready to evaluate over one series set.
#[derive(Clone, Debug)]
pub struct CompiledCondition<'s> {
    root: Cond,
    leaves: Vec<Leaf<'s>>,
    table: LabelTable,
    scratch: Vec<f64>,
    missing: Vec<String>,
    version: PromVersion,
    hits: Vec<Hit>,
    /// A trigger's `clear when` condition, compiled alongside (its leaves after the condition's, one label
    /// table, so that its series ids are the condition's), with its own buffer of hits.
    clear: Option<Cond>,
    clear_hits: Vec<Hit>,
    /// How many of `leaves` the condition reads (the rest are `clear when`'s).
    own_leaves: usize,
}

#[derive(Clone, Debug)]
enum Cond {
    /// `fast`: the one leaf of a `metric > number` comparison, evaluated series by series without vectors.
    Compare {
        op: CmpOp,
        lhs: Expr,
        rhs: Expr,
        join: Joiner,
        fast: Option<usize>,
    },
    Set {
        op: OpKind,
        lhs: Box<Cond>,
        rhs: Box<Cond>,
        join: Joiner,
    },
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
    Arith {
        op: ArithOp,
        lhs: Box<Expr>,
        rhs: Box<Expr>,
        join: Joiner,
    },
}

/// One metric reference: every series of the metric, each with its own forward position.
#[derive(Clone, Debug)]
struct Leaf<'s> {
    members: Vec<Member<'s>>,
}

#[derive(Clone, Debug)]
struct Member<'s> {
    id: u32,
    t: &'s [i64],
    v: &'s [f64],
    cursor: Cursor,
}

fn ms(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

/// Label ids a node can produce (`None`: a number).
type Domain = Option<Vec<u32>>;

struct Compiler<'s, 'p> {
    series: &'s SeriesSet,
    shapes: &'p Shapes<'p>,
    version: PromVersion,
    leaves: Vec<Leaf<'s>>,
    table: LabelTable,
    missing: Vec<String>,
}

impl<'s> Compiler<'s, '_> {
    fn leaf(&mut self, metric: &str) -> (usize, Domain) {
        let family = self.series.family(metric);
        if family.is_empty() && !self.missing.iter().any(|m| m == metric) {
            self.missing.push(metric.to_string());
        }
        let members: Vec<Member<'s>> = family
            .iter()
            .map(|s| {
                let n = s.t_ms.len().min(s.v.len());
                Member {
                    id: self.table.intern(s.labels.clone()),
                    t: &s.t_ms[..n],
                    v: &s.v[..n],
                    cursor: Cursor::default(),
                }
            })
            .collect();
        let domain = members.iter().map(|m| m.id).collect();
        self.leaves.push(Leaf { members });
        (self.leaves.len() - 1, Some(domain))
    }

    /// The joiner for `lhs OP rhs` and the result's label ids.
    fn joiner(
        &mut self,
        op: OpKind,
        shapes: (&Shape, &Shape),
        domains: (&Domain, &Domain),
        written: Option<&Matching>,
    ) -> (Joiner, Domain) {
        let (ld, rd) = domains;
        let (Some(l), Some(r)) = (ld, rd) else {
            // A number on one side (only arithmetic and comparisons get here with one).
            return (Joiner::Scalar, ld.clone().or_else(|| rd.clone()));
        };
        match join(op, shapes.0, shapes.1, written) {
            Join::Scalar => (Joiner::Scalar, ld.clone().or_else(|| rd.clone())),
            Join::OneLeft => (Joiner::OneLeft, Some(r.clone())),
            Join::OneRight => (Joiner::OneRight, Some(l.clone())),
            Join::OneToOne(m) => {
                let mut local: HashMap<Labels, u32> = HashMap::new();
                let mut out = Vec::new();
                let size = self.table.len();
                let mut sig_of = |ids: &[u32], table: &mut LabelTable| {
                    let mut sig = vec![u32::MAX; size];
                    for &id in ids {
                        let labels = table.get(id);
                        let s = if m.on { labels.keep(&m.labels) } else { labels.without(&m.labels) };
                        let next = u32::try_from(local.len()).unwrap_or(u32::MAX);
                        let n = *local.entry(s.clone()).or_insert_with(|| {
                            out.push(table.intern(s));
                            next
                        });
                        if let Some(slot) = sig.get_mut(id as usize) {
                            *slot = n;
                        }
                    }
                    sig
                };
                let lsig = sig_of(l, &mut self.table);
                let rsig = sig_of(r, &mut self.table);
                let domain = match op {
                    OpKind::Arith => {
                        let mut d: Vec<u32> = l
                            .iter()
                            .filter_map(|&id| lsig.get(id as usize))
                            .filter_map(|&s| out.get(s as usize).copied())
                            .collect();
                        d.sort_unstable();
                        d.dedup();
                        d
                    }
                    OpKind::And | OpKind::Unless => l.clone(),
                    OpKind::Or => {
                        let mut d: Vec<u32> = l.iter().chain(r.iter()).copied().collect();
                        d.sort_unstable();
                        d.dedup();
                        d
                    }
                };
                let written = if m.on || !m.labels.is_empty() { format!("{m}") } else { String::new() };
                (Joiner::OneToOne(Box::new(Signatures { lsig, rsig, nsig: local.len(), out, written })), Some(domain))
            }
        }
    }

    fn cond(&mut self, c: &Condition) -> (Cond, Domain) {
        match c {
            Condition::Compare { op, lhs, rhs, matching } => {
                let (l, ld) = self.value(lhs);
                let (r, rd) = self.value(rhs);
                let shapes = (self.shapes.value(lhs), self.shapes.value(rhs));
                let (join, domain) = self.joiner(OpKind::Arith, (&shapes.0, &shapes.1), (&ld, &rd), matching.as_ref());
                // Two numbers compared: a condition without labels.
                let domain = domain.or(Some(vec![EMPTY]));
                let fast = match (single_leaf(&l), single_leaf(&r)) {
                    (Some(Some(leaf)), Some(None)) => Some(leaf),
                    _ => None,
                };
                (Cond::Compare { op: *op, lhs: l, rhs: r, join, fast }, domain)
            }
            Condition::And { lhs, rhs, matching } => self.set(OpKind::And, lhs, rhs, matching.as_ref()),
            Condition::Or { lhs, rhs, matching } => self.set(OpKind::Or, lhs, rhs, matching.as_ref()),
            Condition::Unless { lhs, rhs, matching } => self.set(OpKind::Unless, lhs, rhs, matching.as_ref()),
            Condition::Not { operand } => {
                let (inner, _) = self.cond(operand);
                (Cond::Not(Box::new(inner)), Some(vec![EMPTY]))
            }
        }
    }

    fn set(&mut self, op: OpKind, lhs: &Condition, rhs: &Condition, m: Option<&Matching>) -> (Cond, Domain) {
        let (l, ld) = self.cond(lhs);
        let (r, rd) = self.cond(rhs);
        let shapes = (self.shapes.condition(lhs), self.shapes.condition(rhs));
        let (join, domain) = self.joiner(op, (&shapes.0, &shapes.1), (&ld, &rd), m);
        (Cond::Set { op, lhs: Box::new(l), rhs: Box::new(r), join }, domain)
    }

    fn value(&mut self, v: &Value) -> (Expr, Domain) {
        match v {
            Value::Number { value } => (Expr::Number(*value), None),
            Value::Metric { name, offset_ms } => {
                let (leaf, d) = self.leaf(name);
                (Expr::Instant { leaf, offset: ms(*offset_ms) }, d)
            }
            Value::Window { func, metric, window_ms, offset_ms, quantile } => {
                let (leaf, d) = self.leaf(metric);
                let e = Expr::Window {
                    leaf,
                    func: *func,
                    quantile: quantile.unwrap_or(f64::NAN),
                    window: ms(*window_ms),
                    reach: ms(*window_ms).saturating_sub(self.version.bounds().open_ms),
                    offset: ms(*offset_ms),
                    version: self.version,
                };
                (e, d)
            }
            Value::Abs { operand } => {
                let (e, d) = self.value(operand);
                (Expr::Abs(Box::new(e)), d)
            }
            Value::Neg { operand } => {
                let (e, d) = self.value(operand);
                (Expr::Neg(Box::new(e)), d)
            }
            Value::Arith { op, lhs, rhs, matching } => {
                let (l, ld) = self.value(lhs);
                let (r, rd) = self.value(rhs);
                if ld.is_none() && rd.is_none() {
                    return (Expr::Arith { op: *op, lhs: Box::new(l), rhs: Box::new(r), join: Joiner::Scalar }, None);
                }
                let shapes = (self.shapes.value(lhs), self.shapes.value(rhs));
                let (join, d) = self.joiner(OpKind::Arith, (&shapes.0, &shapes.1), (&ld, &rd), matching.as_ref());
                (Expr::Arith { op: *op, lhs: Box::new(l), rhs: Box::new(r), join }, d)
            }
        }
    }
}

/// How an evaluation reaches samples: through cursors, or by binary search.
trait Samples {
    fn instant(&mut self, leaf: usize, member: usize, at: i64) -> Option<f64>;
    /// `func` over the samples from `first` (inclusive) to `args.range_end`.
    fn window(&mut self, leaf: usize, member: usize, first: i64, args: &WindowArgs) -> Option<f64>;
    fn members(&self, leaf: usize) -> &[Member<'_>];
}

/// Forward evaluation with the version's inclusive lookback ([`Bounds::lookback_ms`](super::Bounds)) as a
/// constant, so that the hot path (an instant lookup) costs the same under every version.
struct Forward<'a, 's, const LOOKBACK_MS: i64> {
    leaves: &'a mut [Leaf<'s>],
    scratch: &'a mut Vec<f64>,
}

impl<const LOOKBACK_MS: i64> Samples for Forward<'_, '_, LOOKBACK_MS> {
    #[inline]
    fn instant(&mut self, leaf: usize, member: usize, at: i64) -> Option<f64> {
        let m = self.leaves.get_mut(leaf)?.members.get_mut(member)?;
        m.cursor.instant(m.t, m.v, at, LOOKBACK_MS)
    }

    fn window(&mut self, leaf: usize, member: usize, first: i64, args: &WindowArgs) -> Option<f64> {
        let m = self.leaves.get_mut(leaf)?.members.get_mut(member)?;
        let r = m.cursor.range(m.t, first, args.range_end);
        apply(args, m.t, m.v, r, self.scratch)
    }

    fn members(&self, leaf: usize) -> &[Member<'_>] {
        self.leaves.get(leaf).map_or(&[], |l| l.members.as_slice())
    }
}

fn apply(args: &WindowArgs, t: &[i64], v: &[f64], r: Range<usize>, scratch: &mut Vec<f64>) -> Option<f64> {
    window::apply(args, t.get(r.clone())?, v.get(r)?, scratch)
}

/// The one leaf an expression reads, when it reads exactly one (then it can be evaluated series by series
/// without building vectors: the common `metric > number`).
fn single_leaf(e: &Expr) -> Option<Option<usize>> {
    match e {
        Expr::Number(_) => Some(None),
        Expr::Instant { leaf, .. } | Expr::Window { leaf, .. } => Some(Some(*leaf)),
        Expr::Abs(a) | Expr::Neg(a) => single_leaf(a),
        Expr::Arith { lhs, rhs, join, .. } => match (single_leaf(lhs)?, single_leaf(rhs)?, join) {
            (None, x, _) | (x, None, _) => Some(x),
            _ => None,
        },
    }
}

/// An expression with at most one leaf, for one member of that leaf.
#[inline]
fn member_value<S: Samples>(e: &Expr, member: usize, t: i64, s: &mut S) -> Option<f64> {
    match e {
        Expr::Number(v) => Some(*v),
        Expr::Instant { leaf, offset } => s.instant(*leaf, member, t.saturating_sub(*offset)),
        Expr::Window { leaf, func, quantile, window, reach, offset, version } => {
            let range_end = t.saturating_sub(*offset);
            let args = WindowArgs {
                func: *func,
                quantile: *quantile,
                range_start: range_end.saturating_sub(*window),
                range_end,
                version: *version,
            };
            s.window(*leaf, member, range_end.saturating_sub(*reach), &args)
        }
        Expr::Abs(a) => member_value(a, member, t, s).map(f64::abs),
        Expr::Neg(a) => member_value(a, member, t, s).map(|v| -v),
        Expr::Arith { op, lhs, rhs, .. } => {
            let a = member_value(lhs, member, t, s)?;
            let b = member_value(rhs, member, t, s)?;
            Some(op.apply(a, b))
        }
    }
}

fn leaf_ids<S: Samples>(s: &S, leaf: usize) -> Vec<u32> {
    s.members(leaf).iter().map(|m| m.id).collect()
}

fn eval_value<S: Samples>(e: &Expr, t: i64, s: &mut S, table: &LabelTable) -> Result<Val, EvalError> {
    if let Some(leaf) = single_leaf(e) {
        return Ok(match leaf {
            None => Val::Scalar(member_value(e, 0, t, s).unwrap_or(f64::NAN)),
            Some(leaf) => {
                let ids = leaf_ids(s, leaf);
                let mut out = Vec::with_capacity(ids.len());
                for (i, id) in ids.into_iter().enumerate() {
                    if let Some(v) = member_value(e, i, t, s) {
                        out.push((id, v));
                    }
                }
                Val::Vector(out)
            }
        });
    }
    match e {
        Expr::Abs(a) => Ok(map_val(eval_value(a, t, s, table)?, f64::abs)),
        Expr::Neg(a) => Ok(map_val(eval_value(a, t, s, table)?, |v| -v)),
        Expr::Arith { op, lhs, rhs, join } => {
            let (l, r) = (eval_value(lhs, t, s, table)?, eval_value(rhs, t, s, table)?);
            binary(l, r, join, table, |a, b| Some(op.apply(a, b)))
        }
        // Leaves and numbers are single-leaf expressions, handled above.
        _ => Ok(Val::Vector(Vec::new())),
    }
}

/// The common case, `metric > number`: series by series, each that holds handed to `hit`, with no
/// intermediate vector.
#[inline]
fn compare_fast<S: Samples>(
    op: CmpOp,
    lhs: &Expr,
    rhs: &Expr,
    leaf: usize,
    t: i64,
    s: &mut S,
    mut hit: impl FnMut(u32, f64),
) {
    let Some(b) = member_value(rhs, 0, t, s) else { return };
    for i in 0..s.members(leaf).len() {
        let Some(id) = s.members(leaf).get(i).map(|m| m.id) else { break };
        if let Some(a) = member_value(lhs, i, t, s)
            && op.test(a, b)
        {
            hit(id, a);
        }
    }
}

fn eval_cond<S: Samples>(c: &Cond, t: i64, s: &mut S, table: &LabelTable) -> Result<Vec<(u32, f64)>, EvalError> {
    match c {
        Cond::Compare { op, lhs, rhs, join, fast } => {
            if let Some(leaf) = fast {
                let mut out = Vec::new();
                compare_fast(*op, lhs, rhs, *leaf, t, s, |id, a| out.push((id, a)));
                return Ok(out);
            }
            let (l, r) = (eval_value(lhs, t, s, table)?, eval_value(rhs, t, s, table)?);
            match binary(l, r, join, table, |a, b| op.test(a, b).then_some(a))? {
                Val::Vector(v) => Ok(v),
                Val::Scalar(_) => Ok(Vec::new()),
            }
        }
        Cond::Set { op, lhs, rhs, join } => {
            let l = eval_cond(lhs, t, s, table)?;
            let r = eval_cond(rhs, t, s, table)?;
            Ok(set_op(*op, l, r, join))
        }
        Cond::Not(inner) => Ok(if eval_cond(inner, t, s, table)?.is_empty() { vec![(EMPTY, 1.0)] } else { Vec::new() }),
    }
}

impl Cond {
    /// The left-hand side of the first comparison, in reading order.
    fn first_lhs(&self) -> &Expr {
        match self {
            Cond::Compare { lhs, .. } => lhs,
            Cond::Set { lhs, .. } => lhs.first_lhs(),
            Cond::Not(a) => a.first_lhs(),
        }
    }
}

impl<'s> CompiledCondition<'s> {
    /// Compiles `condition` against `series`, to be evaluated as Prometheus `version` would, with the
    /// plan's metric shapes deciding how operands join. A metric the series set lacks has no series;
    /// [`missing_metrics`](Self::missing_metrics) lists such names so the caller can report them.
    pub fn compile(condition: &Condition, shapes: &Shapes<'_>, series: &'s SeriesSet, version: PromVersion) -> Self {
        Self::compile_with_clear(condition, None, shapes, series, version)
    }

    /// Compiles `condition` and, when given, a `clear when` condition alongside it in one label table (so
    /// the clear condition's series ids are the condition's).
    fn compile_with_clear(
        condition: &Condition,
        clear: Option<&Condition>,
        shapes: &Shapes<'_>,
        series: &'s SeriesSet,
        version: PromVersion,
    ) -> Self {
        let mut c =
            Compiler { series, shapes, version, leaves: Vec::new(), table: LabelTable::new(), missing: Vec::new() };
        let (root, _) = c.cond(condition);
        let own_leaves = c.leaves.len();
        let clear = clear.map(|w| c.cond(w).0);
        CompiledCondition {
            root,
            leaves: c.leaves,
            table: c.table,
            scratch: Vec::new(),
            missing: c.missing,
            version,
            hits: Vec::new(),
            clear,
            clear_hits: Vec::new(),
            own_leaves,
        }
    }

    fn forward<const LOOKBACK_MS: i64>(&mut self, t_ms: i64) -> Result<&[Hit], EvalError> {
        let mut s = Forward::<LOOKBACK_MS> { leaves: &mut self.leaves, scratch: &mut self.scratch };
        self.hits.clear();
        if let Cond::Compare { op, lhs, rhs, fast: Some(leaf), .. } = &self.root {
            let hits = &mut self.hits;
            compare_fast(*op, lhs, rhs, *leaf, t_ms, &mut s, |series, value| hits.push(Hit { series, value }));
            return Ok(&self.hits);
        }
        let found = eval_cond(&self.root, t_ms, &mut s, &self.table)?;
        self.hits.extend(found.into_iter().map(|(series, value)| Hit { series, value }));
        Ok(&self.hits)
    }

    /// Metrics the condition reads that the series set does not have, in order of first appearance.
    pub fn missing_metrics(&self) -> &[String] {
        &self.missing
    }

    /// The labels of a series id from a [`Hit`].
    pub fn labels(&self, series: u32) -> &Labels {
        self.table.get(series)
    }

    /// How many label sets the compiled condition knows (every [`Hit::series`] is below it).
    pub fn label_sets(&self) -> usize {
        self.table.len()
    }

    /// The series for which the condition holds at `t_ms`, moving the cursors forward. Fastest when
    /// successive calls have increasing times; any order gives the right answer.
    #[inline]
    pub fn eval_forward(&mut self, t_ms: i64) -> Result<&[Hit], EvalError> {
        match self.version {
            PromVersion::V2 => self.forward::<{ PromVersion::V2.bounds().lookback_ms }>(t_ms),
            PromVersion::V3 => self.forward::<{ PromVersion::V3.bounds().lookback_ms }>(t_ms),
        }
    }

    /// Whether the condition holds for any series at `t_ms`, moving forward (`None`: the evaluation
    /// failed).
    pub fn holds_forward(&mut self, t_ms: i64) -> Option<bool> {
        self.eval_forward(t_ms).ok().map(|h| !h.is_empty())
    }
}
