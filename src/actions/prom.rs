//! `verify CONDITION` on live metrics: each metric the condition reads is fetched from Prometheus
//! (`/api/v1/query_range` over the window the condition needs, at the plan's evaluation interval) into a
//! `SeriesSet`, and the condition is evaluated with the crate's own `eval` module, so that a live verify
//! means what the simulator means.

use std::collections::BTreeSet;
use std::time::Duration;

use crate::eval::{CompiledCondition, LOOKBACK_MS};
use crate::plan::{Condition, Plan, Value};
use crate::source::{Series, SeriesSet};

/// The metrics a condition reads and how far back it looks (windows and offsets), in ms.
pub fn needs(condition: &Condition) -> (BTreeSet<String>, u64) {
    fn value(v: &Value, names: &mut BTreeSet<String>, back: &mut u64) {
        match v {
            Value::Number { .. } => {}
            Value::Metric { name, offset_ms } => {
                names.insert(name.clone());
                *back = (*back).max(*offset_ms);
            }
            Value::Window { metric, window_ms, offset_ms, .. } => {
                names.insert(metric.clone());
                *back = (*back).max(window_ms.saturating_add(*offset_ms));
            }
            Value::Abs { operand } | Value::Neg { operand } => value(operand, names, back),
            Value::Arith { lhs, rhs, .. } => {
                value(lhs, names, back);
                value(rhs, names, back);
            }
        }
    }
    fn cond(c: &Condition, names: &mut BTreeSet<String>, back: &mut u64) {
        match c {
            Condition::Compare { lhs, rhs, .. } => {
                value(lhs, names, back);
                value(rhs, names, back);
            }
            Condition::And { lhs, rhs } | Condition::Or { lhs, rhs } => {
                cond(lhs, names, back);
                cond(rhs, names, back);
            }
            Condition::Not { operand } => cond(operand, names, back),
        }
    }
    let mut names = BTreeSet::new();
    let mut back = 0;
    cond(condition, &mut names, &mut back);
    (names, back)
}

/// Evaluates `condition` at `now_ms` on metrics fetched from the Prometheus at `base`.
pub async fn holds(
    client: &reqwest::Client,
    base: &str,
    plan: &Plan,
    condition: &Condition,
    now_ms: i64,
    timeout: Duration,
) -> Result<bool, String> {
    let (names, back) = needs(condition);
    let step_ms = plan.evaluation_interval_ms.max(1000);
    // Prometheus puts the points at `start + k * step`: the span is a whole number of steps so that the last
    // point falls at `now_ms` (otherwise the condition would read a value up to one step old).
    let start_ms = now_ms - (back + LOOKBACK_MS as u64).div_ceil(step_ms).saturating_mul(step_ms) as i64;
    let mut set = SeriesSet::default();
    for name in &names {
        let promql =
            plan.metrics.iter().find(|m| &m.name == name).and_then(|m| m.promql.clone()).ok_or_else(|| {
                format!("metric `{name}` has no `promql` query, so it cannot be read from Prometheus")
            })?;
        let series = query_range(client, base, &promql, start_ms, now_ms, step_ms, timeout)
            .await
            .map_err(|e| format!("metric `{name}`: {e}"))?;
        set.series.insert(name.clone(), series);
    }
    Ok(CompiledCondition::compile(condition, &set).eval_at(now_ms))
}

async fn query_range(
    client: &reqwest::Client,
    base: &str,
    promql: &str,
    start_ms: i64,
    end_ms: i64,
    step_ms: u64,
    timeout: Duration,
) -> Result<Series, String> {
    let url = format!("{}/api/v1/query_range", base.trim_end_matches('/'));
    let secs = |ms: i64| format!("{:.3}", ms as f64 / 1000.0);
    let url = reqwest::Url::parse_with_params(
        &url,
        &[
            ("query", promql.to_string()),
            ("start", secs(start_ms)),
            ("end", secs(end_ms)),
            ("step", format!("{:.3}", step_ms as f64 / 1000.0)),
        ],
    )
    .map_err(|e| format!("`{base}` is not a URL: {e}"))?;
    let resp = client
        .get(url)
        .timeout(timeout)
        .send()
        .await
        .map_err(|e| format!("Prometheus at {base}: {}", super::http::describe(&e)))?;
    let status = resp.status().as_u16();
    let body = resp.text().await.map_err(|e| format!("Prometheus at {base}: {}", super::http::describe(&e)))?;
    parse_matrix(&body).map_err(|e| format!("Prometheus at {base} answered {status}: {e}"))
}

/// Reads a `query_range` answer holding at most one series (a query for a condition must give one value).
pub fn parse_matrix(body: &str) -> Result<Series, String> {
    let doc: serde_json::Value = serde_json::from_str(body).map_err(|e| format!("not JSON ({e})"))?;
    if doc.get("status").and_then(|s| s.as_str()) != Some("success") {
        let err = doc.get("error").and_then(|e| e.as_str()).unwrap_or("no error message");
        return Err(format!("the query failed: {err}"));
    }
    let result = doc
        .pointer("/data/result")
        .and_then(|r| r.as_array())
        .ok_or_else(|| "the answer has no `data.result`".to_string())?;
    if result.len() > 1 {
        return Err(format!(
            "the query returned {} series; aggregate it to one (e.g. with `sum` or `max`)",
            result.len()
        ));
    }
    let mut series = Series::default();
    let Some(first) = result.first() else {
        return Ok(series);
    };
    let values =
        first.get("values").and_then(|v| v.as_array()).ok_or_else(|| "a series has no `values`".to_string())?;
    for pair in values {
        let t = pair.get(0).and_then(|t| t.as_f64()).ok_or_else(|| "a sample has no time".to_string())?;
        let v = pair.get(1).and_then(|v| v.as_str()).ok_or_else(|| "a sample has no value".to_string())?;
        let v: f64 = match v {
            "NaN" => f64::NAN,
            "+Inf" => f64::INFINITY,
            "-Inf" => f64::NEG_INFINITY,
            other => other.parse().map_err(|_| format!("`{other}` is not a number"))?,
        };
        let t_ms = (t * 1000.0).round() as i64;
        if series.t_ms.last().is_some_and(|&last| t_ms <= last) {
            continue;
        }
        series.t_ms.push(t_ms);
        series.v.push(v);
    }
    Ok(series)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_one_series() {
        let body = r#"{"status":"success","data":{"resultType":"matrix","result":[{"metric":{},"values":[[1.5,"2"],[3,"NaN"]]}]}}"#;
        let s = parse_matrix(body).expect("parses");
        assert_eq!(s.t_ms, vec![1500, 3000]);
        assert_eq!(s.v[0], 2.0);
    }

    #[test]
    fn refuses_many_series_and_errors() {
        let many = r#"{"status":"success","data":{"result":[{"values":[]},{"values":[]}]}}"#;
        assert!(parse_matrix(many).is_err());
        assert!(parse_matrix(r#"{"status":"error","error":"bad"}"#).is_err());
    }
}
