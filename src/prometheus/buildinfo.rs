//! `/api/v1/status/buildinfo`: which Prometheus answers at a base URL, so that `watch` can evaluate with that
//! version's semantics.
//!
//! The request is `GET {base}/api/v1/status/buildinfo`; the answer is
//! `{"status":"success","data":{"version":"3.5.3",...}}`.

use std::time::Duration;

use super::client::{QueryError, read_capped, too_large};

/// The largest build-information answer read: a real one is a few hundred bytes.
const MAX_BUILD_INFO_BYTES: u64 = 64 * 1024;

/// What a Prometheus server says about itself.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BuildInfo {
    /// The version as the server writes it (`2.42.0`, `3.5.3+ds1`).
    pub version: String,
}

impl BuildInfo {
    /// The major version number (`3` of `3.5.3`), if the version starts with one.
    pub fn major(&self) -> Option<u64> {
        let digits: String =
            self.version.trim().trim_start_matches('v').chars().take_while(char::is_ascii_digit).collect();
        digits.parse().ok()
    }
}

/// Asks the Prometheus at `base` which version it runs.
pub async fn build_info(client: &reqwest::Client, base: &str, timeout: Duration) -> Result<BuildInfo, QueryError> {
    let url = format!("{}/api/v1/status/buildinfo", base.trim_end_matches('/'));
    let url =
        reqwest::Url::parse(&url).map_err(|e| QueryError::BadUrl { base: base.to_string(), reason: e.to_string() })?;
    let exchange = async {
        let transport = |error| QueryError::Transport { base: base.to_string(), error };
        let resp = client.get(url).timeout(timeout).send().await.map_err(transport)?;
        let status = resp.status().as_u16();
        let answer = |problem| QueryError::Answer { base: base.to_string(), status, problem };
        let body = read_capped(resp, MAX_BUILD_INFO_BYTES).await.map_err(transport)?;
        let body = body.ok_or_else(|| answer(too_large(MAX_BUILD_INFO_BYTES)))?;
        parse(&body).map_err(answer)
    };
    // The answer is small and capped; the timeout holds whatever the transport does.
    tokio::time::timeout(timeout, exchange)
        .await
        .unwrap_or_else(|_| Err(QueryError::TimedOut { base: base.to_string(), after: timeout }))
}

fn parse(body: &str) -> Result<BuildInfo, String> {
    let doc: serde_json::Value = serde_json::from_str(body).map_err(|e| format!("not JSON ({e})"))?;
    if doc.get("status").and_then(|s| s.as_str()) != Some("success") {
        let err = doc.get("error").and_then(|e| e.as_str()).unwrap_or("no error message");
        return Err(format!("the build information is unavailable: {err}"));
    }
    let version = doc
        .pointer("/data/version")
        .and_then(|v| v.as_str())
        .ok_or_else(|| "the answer has no `data.version`".to_string())?;
    Ok(BuildInfo { version: version.to_string() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_version_and_its_major_number() {
        let info = parse(r#"{"status":"success","data":{"version":"3.5.3+ds1","revision":"x"}}"#).expect("parses");
        assert_eq!((info.version.as_str(), info.major()), ("3.5.3+ds1", Some(3)));
        let info = parse(r#"{"status":"success","data":{"version":"2.42.0"}}"#).expect("parses");
        assert_eq!(info.major(), Some(2));
        assert_eq!(BuildInfo { version: "main".into() }.major(), None);
        assert!(parse(r#"{"status":"error","error":"nope"}"#).is_err());
        assert!(parse(r#"{"status":"success","data":{}}"#).is_err());
    }
}
