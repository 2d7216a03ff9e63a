//! Reading a `/api/v1/query_range` answer: a matrix of any number of series, each into its labels and
//! time-ordered samples. The metric name is dropped from the labels, as Prometheus drops it from an alert's
//! labels; two series whose labels are then equal cannot be told apart, and the answer is refused.

use std::collections::BTreeMap;

/// Label names and values, sorted by name.
pub type LabelPairs = Vec<(String, String)>;

/// The points of one series, in strictly increasing time order (ms since the epoch), with its labels.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Samples {
    /// The series' labels sorted by name, without `__name__` (and without empty values, which Prometheus
    /// never sends).
    pub labels: LabelPairs,
    pub t_ms: Vec<i64>,
    pub v: Vec<f64>,
}

/// Reads a `query_range` answer: every series, sorted by labels. The `Err` says what is wrong with the answer.
pub fn parse_matrix(body: &str) -> Result<Vec<Samples>, String> {
    let doc: serde_json::Value = serde_json::from_str(body).map_err(|e| format!("not JSON ({e})"))?;
    if doc.get("status").and_then(|s| s.as_str()) != Some("success") {
        let err = doc.get("error").and_then(|e| e.as_str()).unwrap_or("no error message");
        return Err(format!("the query failed: {err}"));
    }
    let result = doc
        .pointer("/data/result")
        .and_then(|r| r.as_array())
        .ok_or_else(|| "the answer has no `data.result`".to_string())?;
    // Each series with its metric name, for naming two that clash.
    let mut all: Vec<(Option<&str>, Samples)> = Vec::with_capacity(result.len());
    for entry in result {
        let (name, labels) = metric_labels(entry.get("metric"))?;
        let values =
            entry.get("values").and_then(|v| v.as_array()).ok_or_else(|| "a series has no `values`".to_string())?;
        let mut series =
            Samples { labels, t_ms: Vec::with_capacity(values.len()), v: Vec::with_capacity(values.len()) };
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
        all.push((name, series));
    }
    all.sort_by(|a, b| a.1.labels.cmp(&b.1.labels));
    if let Some(i) = (1..all.len()).find(|&i| all[i - 1].1.labels == all[i].1.labels) {
        let ((a, first), (b, _)) = (&all[i - 1], &all[i]);
        return Err(format!(
            "the query returned two series with the same labels once the metric name is dropped: {} and {}; \
             keep them apart with a label (e.g. `label_replace`) or aggregate them (e.g. with `sum by (...)`)",
            described(*a, &first.labels),
            described(*b, &first.labels)
        ));
    }
    Ok(all.into_iter().map(|(_, s)| s).collect())
}

/// A series' metric name (if any) and its other labels, sorted.
fn metric_labels(metric: Option<&serde_json::Value>) -> Result<(Option<&str>, LabelPairs), String> {
    let Some(metric) = metric else { return Ok((None, Vec::new())) };
    let map = metric.as_object().ok_or_else(|| "a series' `metric` is not an object".to_string())?;
    let mut name = None;
    let mut labels: BTreeMap<&str, &str> = BTreeMap::new();
    for (k, v) in map {
        let v = v.as_str().ok_or_else(|| format!("the label `{k}` is not a string"))?;
        match k.as_str() {
            "__name__" => name = Some(v),
            _ if v.is_empty() => {}
            _ => {
                labels.insert(k, v);
            }
        }
    }
    Ok((name, labels.into_iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()))
}

/// A series as PromQL writes it: `name{a="b"}`, `{a="b"}` without a name, `{}` for neither.
fn described(name: Option<&str>, labels: &[(String, String)]) -> String {
    let pairs: Vec<String> = labels.iter().map(|(k, v)| format!("{k}=\"{}\"", v.escape_default())).collect();
    format!("`{}{{{}}}`", name.unwrap_or(""), pairs.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_one_series() {
        let body = r#"{"status":"success","data":{"resultType":"matrix","result":[{"metric":{},"values":[[1.5,"2"],[3,"NaN"]]}]}}"#;
        let s = parse_matrix(body).expect("parses");
        assert_eq!(s.len(), 1);
        assert_eq!(s[0].t_ms, vec![1500, 3000]);
        assert_eq!(s[0].v[0], 2.0);
        assert!(s[0].labels.is_empty());
    }

    #[test]
    fn parses_every_series_with_its_labels_without_the_name() {
        let body = r#"{"status":"success","data":{"resultType":"matrix","result":[
            {"metric":{"__name__":"disk","mount":"/b","job":"x"},"values":[[1,"2"]]},
            {"metric":{"__name__":"disk","mount":"/a","job":"x"},"values":[[1,"3"]]}]}}"#;
        let s = parse_matrix(body).expect("parses");
        let labels = |m: &str| vec![("job".to_string(), "x".to_string()), ("mount".to_string(), m.to_string())];
        assert_eq!(s.iter().map(|s| s.labels.clone()).collect::<Vec<_>>(), [labels("/a"), labels("/b")]);
        assert_eq!((s[0].v[0], s[1].v[0]), (3.0, 2.0));
        assert_eq!(parse_matrix(r#"{"status":"success","data":{"result":[]}}"#), Ok(vec![]));
    }

    #[test]
    fn refuses_series_equal_without_their_names_and_errors() {
        let clash = r#"{"status":"success","data":{"result":[
            {"metric":{"__name__":"a","job":"x"},"values":[]},{"metric":{"__name__":"b","job":"x"},"values":[]}]}}"#;
        let e = parse_matrix(clash).expect_err("refused");
        assert!(e.contains(r#"`a{job="x"}` and `b{job="x"}`"#), "{e}");
        let clash = r#"{"status":"success","data":{"result":[{"values":[]},{"metric":{"__name__":"b"},"values":[]}]}}"#;
        assert!(parse_matrix(clash).expect_err("refused").contains("`{}` and `b{}`"));
        assert!(parse_matrix(r#"{"status":"error","error":"bad"}"#).is_err());
        assert!(parse_matrix(r#"{"status":"success","data":{"result":[{"metric":{"a":1},"values":[]}]}}"#).is_err());
    }
}
