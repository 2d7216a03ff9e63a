//! Fetching the declared queries a set of conditions reads.
//!
//! Each distinct query is asked once per evaluation with `/api/v1/query_range` over the span the conditions
//! need (their longest window plus offset), ending at the evaluation time, at the evaluation interval as its
//! step. The point at the evaluation time is exactly what `/api/v1/query` would answer there (Prometheus
//! applies its own lookback); window functions run in the crate's `eval` module over the query's points, as a
//! PromQL subquery `f((QUERY)[W:STEP])` would (docs/watch.md).

use std::collections::BTreeMap;
use std::time::Duration;

use crate::actions::prom::{needs, parse_matrix};
use crate::plan::Plan;
use crate::source::Series;

/// What one evaluation must ask: per distinct PromQL text, how far back and at which step.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Want {
    pub back_ms: u64,
    pub step_ms: u64,
}

/// The queries the triggers of `plan` read, merged into `wants` (longest span, finest step).
pub fn collect(plan: &Plan, wants: &mut BTreeMap<String, Want>) {
    let step = plan.evaluation_interval_ms.max(1);
    for t in &plan.triggers {
        let (names, back) = needs(&t.condition);
        for name in names {
            let Some(promql) = plan.metrics.iter().find(|m| m.name == name).and_then(|m| m.promql.clone()) else {
                continue;
            };
            let w = wants.entry(promql).or_insert(Want { back_ms: back, step_ms: step });
            w.back_ms = w.back_ms.max(back);
            w.step_ms = w.step_ms.min(step);
        }
    }
}

/// Prometheus refuses more than 11,000 points per series.
const MAX_POINTS: u64 = 10_000;

/// Asks `promql` over `[t - back, t]`; exactly one series or none, else an error with a hint to aggregate.
pub async fn fetch(
    client: &reqwest::Client,
    base: &str,
    promql: &str,
    want: &Want,
    t_ms: i64,
    timeout: Duration,
) -> Result<Series, String> {
    let mut step = want.step_ms.max(1);
    if want.back_ms / step > MAX_POINTS {
        step = want.back_ms.div_ceil(MAX_POINTS);
    }
    // A whole number of steps, so that the last point falls exactly at `t_ms`.
    let span = i64::try_from(want.back_ms.div_ceil(step).saturating_mul(step)).unwrap_or(i64::MAX / 2);
    let start = t_ms.saturating_sub(span);
    let secs = |ms: i64| format!("{:.3}", ms as f64 / 1000.0);
    let url = format!("{}/api/v1/query_range", base.trim_end_matches('/'));
    let url = reqwest::Url::parse_with_params(
        &url,
        &[
            ("query", promql.to_string()),
            ("start", secs(start)),
            ("end", secs(t_ms)),
            ("step", format!("{:.3}", step as f64 / 1000.0)),
        ],
    )
    .map_err(|e| format!("`{base}` is not a URL: {e}"))?;
    let resp = client.get(url).timeout(timeout).send().await.map_err(|e| format!("Prometheus at {base}: {e}"))?;
    let status = resp.status().as_u16();
    let body = resp.text().await.map_err(|e| format!("Prometheus at {base}: {e}"))?;
    parse_matrix(&body).map_err(|e| format!("`{promql}`: Prometheus answered {status}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merges_queries_across_plans() {
        let text = "runbook a {\n  evaluate every 2s\n  metric e = promql \"x\"\n  trigger t: avg_over(e, 1m) > 1 for 5s -> level 1\n  trigger u: e > 2 -> level 1\n  level 1 {\n    step shell \"true\"\n  }\n}\n";
        let plan = crate::compile(text).plan.expect("compiles");
        let mut wants = BTreeMap::new();
        collect(&plan, &mut wants);
        assert_eq!(wants.get("x"), Some(&Want { back_ms: 60_000, step_ms: 2000 }));
    }
}
