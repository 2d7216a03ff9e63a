//! History from a Prometheus server, for `ripcord simulate --from-prometheus`: each declared metric's query
//! asked with `/api/v1/query_range` over the simulated period (plus the lookback the conditions need), at the
//! runbook's evaluation interval as the step. Each point is the query evaluated at that time, so windows over
//! these points behave like a PromQL subquery `f((QUERY)[W:STEP])` (docs/simulation.md).

use std::collections::HashMap;
use std::time::Duration;

use super::series::{Labels, Series, SeriesSet, TimeBase};
use crate::plan::Plan;
use crate::prometheus::{LOOKBACK_MS, Limits, MAX_POINTS_PER_REQUEST, RangeQuery, Samples, query_range};

/// A series of a Prometheus answer, its labels as a [`Labels`].
impl From<Samples> for Series {
    fn from(s: Samples) -> Series {
        Series { labels: Labels::from_pairs(s.labels), t_ms: s.t_ms, v: s.v }
    }
}

/// How long one `query_range` request may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

/// What a runbook needs from Prometheus over `[start, end]`: per metric name, its PromQL; the fetch starts
/// `back_ms` before `start`. An `Err` names a read metric with no declared query.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HistoryPlan {
    pub queries: Vec<(String, String)>,
    pub back_ms: u64,
    pub step_ms: u64,
}

/// The metrics the triggers and verify conditions read, with their declared queries, and how far back the
/// fetch must reach (longest window + offset, plus the 5-minute lookback).
pub fn history_plan(plan: &Plan) -> Result<HistoryPlan, Vec<String>> {
    let reads = plan.reads();
    let mut queries = Vec::new();
    let mut undeclared = Vec::new();
    for name in reads.metrics {
        match plan.declared_query(&name) {
            Some(q) => queries.push((name, q.to_string())),
            None => undeclared.push(name),
        }
    }
    if !undeclared.is_empty() {
        return Err(undeclared);
    }
    Ok(HistoryPlan {
        queries,
        back_ms: reads.back_ms.saturating_add(LOOKBACK_MS.unsigned_abs()),
        step_ms: plan.evaluation_interval_ms.max(1),
    })
}

/// Fetches every query of `want` over `[start - back, end]` at its step, on a grid that passes through
/// `start` (so that the points fall at the evaluation times), all in one set. The set's times are RFC 3339
/// unless `base` says otherwise.
pub fn fetch_history(
    base_url: &str,
    want: &HistoryPlan,
    start_ms: i64,
    end_ms: i64,
    base: TimeBase,
    max_answer_bytes: u64,
) -> Result<SeriesSet, String> {
    let mut fetch = HistoryFetch::new(base_url, want, start_ms, end_ms, base, max_answer_bytes)?;
    // Each series joined over the chunks (a series may be absent from some).
    let mut joined: HashMap<(String, Labels), Series> = HashMap::new();
    while let Some(chunk) = fetch.next_chunk()? {
        for (name, part) in chunk.series {
            for s in part {
                let into = joined
                    .entry((name.clone(), s.labels.clone()))
                    .or_insert_with(|| Series { labels: s.labels.clone(), ..Series::default() });
                for (t, v) in s.t_ms.into_iter().zip(s.v) {
                    if into.t_ms.last().is_none_or(|&last| t > last) {
                        into.t_ms.push(t);
                        into.v.push(v);
                    }
                }
            }
        }
    }
    let mut set = SeriesSet { series: Default::default(), time_base: base };
    for ((name, _), s) in joined {
        set.insert(name, s);
    }
    Ok(set)
}

/// The history of [`fetch_history`] one time chunk at a time (every query over the next 10,000 steps), in
/// time order, for `simulate` to stream: a month at 15s is many chunks, and only the window the conditions
/// reach is held.
pub struct HistoryFetch<'a> {
    base_url: &'a str,
    want: &'a HistoryPlan,
    base: TimeBase,
    step: i64,
    end: i64,
    next: i64,
    runtime: tokio::runtime::Runtime,
    client: reqwest::Client,
    limits: Limits,
}

impl<'a> HistoryFetch<'a> {
    pub fn new(
        base_url: &'a str,
        want: &'a HistoryPlan,
        start_ms: i64,
        end_ms: i64,
        base: TimeBase,
        max_answer_bytes: u64,
    ) -> Result<Self, String> {
        let step = i64::try_from(want.step_ms).unwrap_or(i64::MAX / 4).max(1);
        let back_steps = i64::try_from(want.back_ms).unwrap_or(i64::MAX / 4).div_euclid(step) + 1;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| format!("cannot start the HTTP runtime: {e}"))?;
        Ok(HistoryFetch {
            base_url,
            want,
            base,
            step,
            end: end_ms.max(start_ms),
            next: start_ms.saturating_sub(back_steps.saturating_mul(step)),
            runtime,
            client: crate::net::client()?,
            limits: Limits::timeout(REQUEST_TIMEOUT).max_bytes(max_answer_bytes),
        })
    }

    /// Every query over the next chunk of time (`None` once past the end).
    pub fn next_chunk(&mut self) -> Result<Option<SeriesSet>, String> {
        if self.next > self.end {
            return Ok(None);
        }
        let chunk_points = i64::try_from(MAX_POINTS_PER_REQUEST).unwrap_or(i64::MAX) - 1;
        let chunk_end = self.next.saturating_add(chunk_points.saturating_mul(self.step)).min(self.end);
        let mut set = SeriesSet { series: Default::default(), time_base: self.base };
        for (name, promql) in &self.want.queries {
            let query =
                RangeQuery { promql, start_ms: self.next, end_ms: chunk_end, step_ms: self.step.unsigned_abs() };
            let parts = self
                .runtime
                .block_on(query_range(&self.client, self.base_url, &query, &self.limits))
                .map_err(|e| format!("metric `{name}` (`{promql}`): {e}"))?;
            // A label set repeated in one answer (Prometheus never sends one) keeps its first samples.
            let mut seen: HashMap<Vec<(String, String)>, ()> = HashMap::new();
            for part in parts {
                if seen.insert(part.labels.clone(), ()).is_none() {
                    set.insert(name.clone(), Series::from(part));
                }
            }
        }
        self.next = chunk_end.saturating_add(self.step);
        Ok(Some(set))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "a failing unwrap is a failing test")]
mod tests {
    use super::*;

    #[test]
    fn plans_the_fetch_from_the_conditions() {
        let text = "runbook a {\n  evaluate every 15s\n  metric e = promql \"sum(rate(x[1m]))\"\n  trigger t: avg_over(e, 10m) offset 5m > 1 -> level 1\n  level 1 {\n    step shell \"true\"\n  }\n}\n";
        let plan = crate::compile(text).plan.unwrap();
        let h = history_plan(&plan).unwrap();
        assert_eq!(h.queries, vec![("e".to_string(), "sum(rate(x[1m]))".to_string())]);
        assert_eq!(h.back_ms, 20 * 60 * 1000);
        assert_eq!(h.step_ms, 15_000);
    }

    #[test]
    fn an_undeclared_metric_is_named() {
        let text = "runbook a {\n  trigger t: errors > 1 -> level 1\n  level 1 {\n    step shell \"true\"\n  }\n}\n";
        let plan = crate::compile(text).plan.unwrap();
        assert_eq!(history_plan(&plan).unwrap_err(), vec!["errors".to_string()]);
    }
}
