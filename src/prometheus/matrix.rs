//! Reading a `/api/v1/query_range` answer: a matrix of at most one series (a query for a condition must give
//! one value), into time-ordered samples.

/// The points of one series, in strictly increasing time order (ms since the epoch).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Samples {
    pub t_ms: Vec<i64>,
    pub v: Vec<f64>,
}

/// Reads a `query_range` answer holding at most one series. The `Err` says what is wrong with the answer.
pub fn parse_matrix(body: &str) -> Result<Samples, String> {
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
    let mut series = Samples::default();
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
