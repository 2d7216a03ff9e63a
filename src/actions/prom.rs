//! `verify CONDITION` on live metrics: each metric the condition reads is fetched from Prometheus (through
//! `crate::prometheus`, over the window the condition needs plus the lookback, at the plan's evaluation
//! interval; every series of the answer, with its labels) and the condition is evaluated with the crate's own `eval` module, so that a live verify means
//! what the simulator means. In a run for a series, the condition must hold for a series agreeing with the
//! run's labels.

use crate::eval::{CompiledCondition, PromVersion, Series, SeriesSet};
use crate::plan::Shapes;
use crate::plan::{Condition, Labels, Plan, Reads};
use crate::prometheus::{LOOKBACK_MS, Limits, RangeQuery, query_range};

/// Evaluates `condition` at `now_ms` on metrics fetched from the Prometheus at `base`, as Prometheus
/// `version` evaluates it: whether it holds for a series agreeing with `labels` (any series for none).
#[allow(clippy::too_many_arguments, reason = "one call site, each argument a different thing")]
pub async fn holds(
    client: &reqwest::Client,
    base: &str,
    plan: &Plan,
    condition: &Condition,
    now_ms: i64,
    version: PromVersion,
    limits: &Limits,
    labels: &Labels,
) -> Result<bool, String> {
    let reads = Reads::of(condition);
    let step_ms = plan.evaluation_interval_ms.max(1000);
    let back_ms = reads.back_ms + LOOKBACK_MS.unsigned_abs();
    let mut set = SeriesSet::default();
    for name in &reads.metrics {
        let promql = plan
            .declared_query(name)
            .ok_or_else(|| format!("metric `{name}` has no `promql` query, so it cannot be read from Prometheus"))?;
        let query = RangeQuery::ending_at(promql, now_ms, back_ms, step_ms);
        let answer = query_range(client, base, &query, limits).await.map_err(|e| format!("metric `{name}`: {e}"))?;
        for samples in answer {
            set.insert(name.clone(), Series::from(samples));
        }
    }
    let shapes = Shapes::new(&plan.metrics);
    CompiledCondition::compile(condition, &shapes, &set, version).holds_for(now_ms, labels).map_err(|e| e.to_string())
}
