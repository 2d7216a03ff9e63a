//! Tests of evaluation, one file per concept; expected numbers are derived by hand from Prometheus 2.42's
//! algorithms (promql/functions.go, rules/alerting.go) in the comments beside them.

#![allow(clippy::unwrap_used, reason = "a failing unwrap is a failing test")]

mod compiled;
mod kinds;
mod restore;
mod series;
mod timeline;
mod trigger;
mod window;

use crate::eval::PromVersion;
use crate::plan::{CmpOp, Condition, Hold, Target, Trigger, Value, WindowFunc};

/// Shapes for conditions over undeclared metrics: every metric per series.
const NO_SHAPES: crate::plan::Shapes<'static> = crate::plan::Shapes::new(&[]);

/// The unit tests were derived from Prometheus 2.42; version 3's differences have their own tests.
const V2: PromVersion = PromVersion::V2;
use crate::source::{Series, SeriesSet, TimeBase};

/// A series set from `(metric, [(seconds, value)])`.
fn set(series: &[(&str, &[(f64, f64)])]) -> SeriesSet {
    let mut out = SeriesSet { time_base: TimeBase::Seconds, ..SeriesSet::default() };
    for (name, samples) in series {
        let s = Series {
            labels: crate::plan::Labels::empty(),
            t_ms: samples.iter().map(|(t, _)| (t * 1000.0).round() as i64).collect(),
            v: samples.iter().map(|(_, v)| *v).collect(),
        };
        out.insert(*name, s);
    }
    out
}

fn metric(name: &str) -> Value {
    Value::Metric { name: name.to_string(), offset_ms: 0 }
}

fn num(value: f64) -> Value {
    Value::Number { value }
}

fn window(func: WindowFunc, name: &str, window_s: u64, offset_s: u64) -> Value {
    Value::Window {
        func,
        metric: name.to_string(),
        window_ms: window_s * 1000,
        offset_ms: offset_s * 1000,
        quantile: (func == WindowFunc::QuantileOver).then_some(0.5),
    }
}

fn cmp(op: CmpOp, lhs: Value, rhs: Value) -> Condition {
    Condition::Compare { op, lhs, rhs, matching: None }
}

fn trigger(name: &str, condition: Condition, hold: Hold, keep_firing_for_ms: u64) -> Trigger {
    let mut metrics = Vec::new();
    condition.metrics(&mut metrics);
    metrics.sort();
    metrics.dedup();
    Trigger {
        name: name.to_string(),
        generated_name: false,
        condition_text: condition.to_string(),
        condition,
        hold,
        keep_firing_for_ms,
        target: Target::Level { level: 1 },
        metrics,
        shape: crate::plan::Shape::default(),
        alert: None,
        labels: Vec::new(),
        annotations: Vec::new(),
        clear_when: None,
        on_no_data: crate::plan::NoData::Clear,
    }
}

/// Seconds to ms.
fn s(secs: i64) -> i64 {
    secs * 1000
}

use timeline::plan as timeline_plan;
