//! The queries one evaluation asks, and asking them.
//!
//! Each distinct declared query is asked once per evaluation with `/api/v1/query_range` (through
//! `crate::prometheus`) over the span the triggers reading it need (their longest window plus offset),
//! ending at the evaluation time, at the evaluation interval as its step. The point at the evaluation time is
//! exactly what `/api/v1/query` would answer there (Prometheus applies its own lookback); window functions
//! run in the crate's `eval` module over the query's points, as a PromQL subquery `f((QUERY)[W:STEP])`
//! would (docs/watch.md).

use crate::plan::{Plan, Reads};
use crate::prometheus::{Limits, MAX_POINTS_PER_REQUEST, QueryError, RangeQuery, query_range};
use crate::source::Series;
use std::collections::BTreeMap;

/// What one evaluation must ask of one distinct PromQL text: how far back and at which step.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct QuerySpan {
    pub back_ms: u64,
    pub step_ms: u64,
}

/// The queries the triggers of `plan` read, merged into `spans` (longest span, finest step).
pub fn collect(plan: &Plan, spans: &mut BTreeMap<String, QuerySpan>) {
    let step = plan.evaluation_interval_ms.max(1);
    for t in &plan.triggers {
        let reads = Reads::of_trigger(t);
        for name in &reads.metrics {
            let Some(promql) = plan.declared_query(name) else { continue };
            let span = spans.entry(promql.to_string()).or_insert(QuerySpan { back_ms: reads.back_ms, step_ms: step });
            span.back_ms = span.back_ms.max(reads.back_ms);
            span.step_ms = span.step_ms.min(step);
        }
    }
}

/// Why a query gave no series: the text for the log, and whether Prometheus could not be reached at all.
#[derive(Clone, Debug)]
pub struct Failure {
    pub text: String,
    pub unreachable: bool,
}

/// Asks `promql` over `[t - back, t]`: every series of the answer with its labels (an error when two are
/// equal once their names are dropped). The step grows when the span would need more points than Prometheus gives in one answer.
pub async fn fetch(
    client: &reqwest::Client,
    base: &str,
    promql: &str,
    span: &QuerySpan,
    t_ms: i64,
    limits: &Limits,
) -> Result<Vec<Series>, Failure> {
    let mut step = span.step_ms.max(1);
    if span.back_ms / step > MAX_POINTS_PER_REQUEST {
        step = span.back_ms.div_ceil(MAX_POINTS_PER_REQUEST);
    }
    let query = RangeQuery::ending_at(promql, t_ms, span.back_ms, step);
    query_range(client, base, &query, limits)
        .await
        .map(|answer| answer.into_iter().map(Series::from).collect())
        .map_err(|e| Failure { text: failure_text(promql, &e), unreachable: matches!(e, QueryError::Transport { .. }) })
}

/// How a failed query reads in the engine's log.
fn failure_text(promql: &str, e: &QueryError) -> String {
    match e {
        QueryError::BadUrl { .. } | QueryError::TimedOut { .. } => e.to_string(),
        QueryError::Transport { base, error } => format!("Prometheus at {base}: {error}"),
        QueryError::Answer { status, problem, .. } => format!("`{promql}`: Prometheus answered {status}: {problem}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merges_queries_across_plans() {
        let text = "runbook a {\n  evaluate every 2s\n  metric e = promql \"x\"\n  trigger t: avg_over(e, 1m) > 1 for 5s -> level 1\n  trigger u: e > 2 -> level 1\n  level 1 {\n    step shell \"true\"\n  }\n}\n";
        let plan = crate::compile(text).plan.expect("compiles");
        let mut spans = BTreeMap::new();
        collect(&plan, &mut spans);
        assert_eq!(spans.get("x"), Some(&QuerySpan { back_ms: 60_000, step_ms: 2000 }));
    }
}
