//! Values of one evaluation as vectors of series (label-set id, value), and how a binary node joins two of
//! them: the label sets interned at compile time (`LabelTable`), the join prepared from `plan::shape`'s rules
//! (`Joiner`, `Signatures`), and PromQL's one-to-one, one-series and set-operator matching at evaluation time,
//! with the errors PromQL raises. Used by `compiled`, which builds the joins and walks the condition.

use super::compiled::EvalError;
use crate::plan::{Labels, OpKind};
use std::collections::HashMap;

/// The id of the empty label set in every table.
pub(super) const EMPTY: u32 = 0;

/// Every label set that can occur in one compiled condition, by id.
#[derive(Clone, Debug)]
pub(super) struct LabelTable {
    sets: Vec<Labels>,
    index: HashMap<Labels, u32>,
}

impl LabelTable {
    pub(super) fn new() -> Self {
        let mut t = LabelTable { sets: Vec::new(), index: HashMap::new() };
        t.intern(Labels::empty());
        t
    }

    pub(super) fn intern(&mut self, labels: Labels) -> u32 {
        if let Some(&id) = self.index.get(&labels) {
            return id;
        }
        let id = u32::try_from(self.sets.len()).unwrap_or(u32::MAX);
        self.sets.push(labels.clone());
        self.index.insert(labels, id);
        id
    }

    /// How many label sets the table holds (every id is below it).
    pub(super) fn len(&self) -> usize {
        self.sets.len()
    }

    pub(super) fn get(&self, id: u32) -> &Labels {
        static NONE: std::sync::OnceLock<Labels> = std::sync::OnceLock::new();
        self.sets.get(id as usize).unwrap_or_else(|| NONE.get_or_init(Labels::empty))
    }
}

/// How a binary node joins its operands' series, with the label work done at compile time.
#[derive(Clone, Debug)]
pub(super) enum Joiner {
    /// A side is a number.
    Scalar,
    /// The left side is at most one series, combined with each of the right's.
    OneLeft,
    /// The right side is at most one series, combined with each of the left's.
    OneRight,
    /// Matching on the labels [`Signatures`] holds.
    OneToOne(Box<Signatures>),
}

/// Matching on signatures: `lsig[id]` / `rsig[id]` is a left / right label set's signature (a local index
/// below `nsig`), `out[sig]` the result's label set for arithmetic and comparisons.
#[derive(Clone, Debug)]
pub(super) struct Signatures {
    pub(super) lsig: Vec<u32>,
    pub(super) rsig: Vec<u32>,
    pub(super) out: Vec<u32>,
    pub(super) nsig: usize,
    /// ` on(instance)` as written, for messages.
    pub(super) written: String,
}

/// A node's value at one evaluation.
#[derive(Clone, Debug)]
pub(super) enum Val {
    Scalar(f64),
    Vector(Vec<(u32, f64)>),
}

pub(super) fn map_val(v: Val, f: impl Fn(f64) -> f64) -> Val {
    match v {
        Val::Scalar(x) => Val::Scalar(f(x)),
        Val::Vector(mut xs) => {
            for (_, x) in &mut xs {
                *x = f(*x);
            }
            Val::Vector(xs)
        }
    }
}

/// `lhs OP rhs` for arithmetic and comparisons: `f(a, b)` is the result's value, `None` to drop it (a
/// comparison that does not hold).
pub(super) fn binary(
    l: Val,
    r: Val,
    join: &Joiner,
    table: &LabelTable,
    f: impl Fn(f64, f64) -> Option<f64>,
) -> Result<Val, EvalError> {
    match (l, r) {
        (Val::Scalar(a), Val::Scalar(b)) => Ok(match f(a, b) {
            Some(v) => Val::Vector(vec![(EMPTY, v)]),
            None => Val::Vector(Vec::new()),
        }),
        (Val::Vector(xs), Val::Scalar(b)) => {
            Ok(Val::Vector(xs.into_iter().filter_map(|(id, a)| Some((id, f(a, b)?))).collect()))
        }
        (Val::Scalar(a), Val::Vector(ys)) => {
            Ok(Val::Vector(ys.into_iter().filter_map(|(id, b)| Some((id, f(a, b)?))).collect()))
        }
        (Val::Vector(xs), Val::Vector(ys)) => {
            if xs.is_empty() || ys.is_empty() {
                return Ok(Val::Vector(Vec::new()));
            }
            match join {
                Joiner::Scalar => Ok(Val::Vector(Vec::new())),
                Joiner::OneLeft => {
                    let a = one_side(&xs, "left", table)?;
                    Ok(Val::Vector(ys.into_iter().filter_map(|(id, b)| Some((id, f(a, b)?))).collect()))
                }
                Joiner::OneRight => {
                    let b = one_side(&ys, "right", table)?;
                    Ok(Val::Vector(xs.into_iter().filter_map(|(id, a)| Some((id, f(a, b)?))).collect()))
                }
                Joiner::OneToOne(sigs) => {
                    let Signatures { lsig, rsig, out, nsig, written } = sigs.as_ref();
                    let mut right: Vec<Option<(u32, f64)>> = vec![None; *nsig];
                    for &(id, b) in &ys {
                        let Some(slot) = rsig.get(id as usize).and_then(|&s| right.get_mut(s as usize)) else {
                            continue;
                        };
                        if let Some((other, _)) = slot {
                            return Err(EvalError(format!(
                                "two series on the right of a one-to-one match{written} fall in one match group: {} and {}; match on labels that tell them apart, or aggregate the right side",
                                table.get(*other),
                                table.get(id)
                            )));
                        }
                        *slot = Some((id, b));
                    }
                    let mut matched: Vec<Option<u32>> = vec![None; *nsig];
                    let mut result = Vec::new();
                    for &(id, a) in &xs {
                        let Some(&sig) = lsig.get(id as usize) else { continue };
                        let Some(Some((_, b))) = right.get(sig as usize) else { continue };
                        let Some(v) = f(a, *b) else { continue };
                        if let Some(Some(other)) = matched.get(sig as usize) {
                            return Err(EvalError(format!(
                                "two series on the left of a one-to-one match{written} fall in one match group: {} and {}; match on labels that tell them apart, or aggregate the left side",
                                table.get(*other),
                                table.get(id)
                            )));
                        }
                        if let Some(slot) = matched.get_mut(sig as usize) {
                            *slot = Some(id);
                        }
                        result.push((out.get(sig as usize).copied().unwrap_or(EMPTY), v));
                    }
                    Ok(Val::Vector(result))
                }
            }
        }
    }
}

/// The value of a side that must be at most one series (PromQL: the "one" side of `group_left`).
pub(super) fn one_side(xs: &[(u32, f64)], side: &str, table: &LabelTable) -> Result<f64, EvalError> {
    match xs {
        [(_, v)] => Ok(*v),
        [(a, _), (b, _), ..] => Err(EvalError(format!(
            "the {side} side should be at most one series and has {}: {} and {}; aggregate it (for example with `sum` or `max`) or match on labels",
            xs.len(),
            table.get(*a),
            table.get(*b)
        ))),
        [] => Ok(f64::NAN),
    }
}

pub(super) fn set_op(op: OpKind, l: Vec<(u32, f64)>, r: Vec<(u32, f64)>, join: &Joiner) -> Vec<(u32, f64)> {
    let Joiner::OneToOne(sigs) = join else {
        // Not produced for set operators; keep the left side as `and` would with everything matching.
        return l;
    };
    let Signatures { lsig, rsig, nsig, .. } = sigs.as_ref();
    let sig = |table: &Vec<u32>, id: u32| table.get(id as usize).copied().unwrap_or(u32::MAX) as usize;
    match op {
        OpKind::And | OpKind::Unless => {
            let mut present = vec![false; *nsig];
            for &(id, _) in &r {
                if let Some(p) = present.get_mut(sig(rsig, id)) {
                    *p = true;
                }
            }
            let keep = op == OpKind::And;
            l.into_iter().filter(|(id, _)| present.get(sig(lsig, *id)).copied().unwrap_or(false) == keep).collect()
        }
        OpKind::Or => {
            let mut present = vec![false; *nsig];
            for &(id, _) in &l {
                if let Some(p) = present.get_mut(sig(lsig, id)) {
                    *p = true;
                }
            }
            let mut out = l;
            out.extend(r.into_iter().filter(|(id, _)| !present.get(sig(rsig, *id)).copied().unwrap_or(false)));
            out
        }
        OpKind::Arith => l,
    }
}
