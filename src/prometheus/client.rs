//! `/api/v1/query_range`: one request, one answer read as a matrix of every series it holds.
//!
//! The request is `GET {base}/api/v1/query_range?query=..&start=..&end=..&step=..` (times in seconds with
//! millisecond precision). Prometheus puts the points at `start + k * step`.

use std::fmt;
use std::time::Duration;

use super::matrix::{Samples, parse_matrix};

/// Prometheus refuses more than 11,000 points per series in one answer; ask for fewer than that.
pub const MAX_POINTS_PER_REQUEST: u64 = 10_000;

/// One range query: `promql` evaluated at `start_ms, start_ms + step_ms, ...` up to `end_ms`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RangeQuery<'q> {
    pub promql: &'q str,
    pub start_ms: i64,
    pub end_ms: i64,
    pub step_ms: u64,
}

impl<'q> RangeQuery<'q> {
    /// The span reaching at least `back_ms` before `end_ms`, made a whole number of steps so that the last
    /// point falls exactly at `end_ms` (otherwise a condition would read a value up to one step old).
    pub fn ending_at(promql: &'q str, end_ms: i64, back_ms: u64, step_ms: u64) -> RangeQuery<'q> {
        let step_ms = step_ms.max(1);
        let span = i64::try_from(back_ms.div_ceil(step_ms).saturating_mul(step_ms)).unwrap_or(i64::MAX / 2);
        RangeQuery { promql, start_ms: end_ms.saturating_sub(span), end_ms, step_ms }
    }
}

/// The default cap on one answer, 64 MiB. One series at [`MAX_POINTS_PER_REQUEST`] points is under 0.5 MiB
/// of JSON, so this leaves room for a hundred such series with their labels (many more over shorter spans),
/// while bounding what a broken or hostile server can make us hold: the text and, briefly, its parsed tree
/// (a few times the text).
pub const DEFAULT_MAX_ANSWER_BYTES: u64 = 64 * 1024 * 1024;

/// How long a request may take and how large its answer may be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// The whole request: connecting, the headers and reading the body to its end.
    pub timeout: Duration,
    /// The largest answer read, in bytes; reading stops as soon as an answer is known to be larger.
    pub max_bytes: u64,
}

impl Limits {
    /// A timeout and the default cap on the answer's size ([`DEFAULT_MAX_ANSWER_BYTES`]).
    pub fn timeout(timeout: Duration) -> Limits {
        Limits { timeout, max_bytes: DEFAULT_MAX_ANSWER_BYTES }
    }

    /// The same timeout with another cap.
    pub fn max_bytes(self, max_bytes: u64) -> Limits {
        Limits { max_bytes, ..self }
    }
}

/// Why a query gave no series.
#[derive(Debug)]
pub enum QueryError {
    /// The base URL cannot make a request URL.
    BadUrl { base: String, reason: String },
    /// No answer: could not connect, timed out, the connection broke.
    Transport { base: String, error: reqwest::Error },
    /// An answer that is not a usable matrix (an error status, not JSON, two series with the same labels once
    /// their names are dropped, too large).
    Answer { base: String, status: u16, problem: String },
    /// No complete answer within the timeout (a slow server, or an answer that never ends).
    TimedOut { base: String, after: Duration },
}

impl fmt::Display for QueryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            QueryError::BadUrl { base, reason } => write!(f, "`{base}` is not a URL: {reason}"),
            QueryError::Transport { base, error } => write!(f, "Prometheus at {base}: {}", crate::net::describe(error)),
            QueryError::Answer { base, status, problem } => {
                write!(f, "Prometheus at {base} answered {status}: {problem}")
            }
            QueryError::TimedOut { base, after } => write!(
                f,
                "Prometheus at {base}: no complete answer within {} (the query timeout); the request was abandoned",
                humantime::format_duration(*after)
            ),
        }
    }
}

impl std::error::Error for QueryError {}

/// Asks the Prometheus at `base` for `query`: every series of the answer with its labels (without `__name__`),
/// sorted by labels; an error when two series have equal labels once their names are dropped. The timeout
/// bounds the whole exchange, the body's last byte included, and the answer is read only up to
/// `limits.max_bytes`.
pub async fn query_range(
    client: &reqwest::Client,
    base: &str,
    query: &RangeQuery<'_>,
    limits: &Limits,
) -> Result<Vec<Samples>, QueryError> {
    let secs = |ms: i64| format!("{:.3}", ms as f64 / 1000.0);
    let url = format!("{}/api/v1/query_range", base.trim_end_matches('/'));
    let url = reqwest::Url::parse_with_params(
        &url,
        &[
            ("query", query.promql.to_string()),
            ("start", secs(query.start_ms)),
            ("end", secs(query.end_ms)),
            ("step", format!("{:.3}", query.step_ms as f64 / 1000.0)),
        ],
    )
    .map_err(|e| QueryError::BadUrl { base: base.to_string(), reason: e.to_string() })?;
    let exchange = async {
        let transport = |error: reqwest::Error| match error.is_timeout() {
            true => QueryError::TimedOut { base: base.to_string(), after: limits.timeout },
            false => QueryError::Transport { base: base.to_string(), error },
        };
        let resp = client.get(url).timeout(limits.timeout).send().await.map_err(transport)?;
        let status = resp.status().as_u16();
        let answer = |problem| QueryError::Answer { base: base.to_string(), status, problem };
        let body = read_capped(resp, limits.max_bytes).await.map_err(transport)?;
        let body = body.ok_or_else(|| answer(too_large(limits.max_bytes)))?;
        parse_matrix(&body).map_err(answer)
    };
    // reqwest's own timeout covers the body too; this one holds whatever the transport does.
    tokio::time::timeout(limits.timeout, exchange)
        .await
        .unwrap_or_else(|_| Err(QueryError::TimedOut { base: base.to_string(), after: limits.timeout }))
}

pub(super) fn too_large(max: u64) -> String {
    format!("the answer is larger than {max} bytes; narrow the query or the span")
}

/// The body as text, or `None` as soon as it is known to exceed `max` bytes (nothing more is read).
pub(super) async fn read_capped(mut resp: reqwest::Response, max: u64) -> Result<Option<String>, reqwest::Error> {
    if resp.content_length().is_some_and(|n| n > max) {
        return Ok(None);
    }
    let max = usize::try_from(max).unwrap_or(usize::MAX);
    let mut bytes = Vec::with_capacity(resp.content_length().map_or(0, |n| n as usize).min(max));
    while let Some(chunk) = resp.chunk().await? {
        let need = bytes.len().saturating_add(chunk.len());
        if need > max {
            return Ok(None);
        }
        // A large answer gets one allocation of the cap rather than a doubling series: the allocator maps it
        // on its own and gives it back whole, where a chain of copies would stay in the heap of whichever
        // worker thread read it, and many answers in a row would add up.
        if need > bytes.capacity() && need > STRAIGHT_TO_CAP_BYTES {
            bytes.reserve_exact(max - bytes.len());
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(Some(String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())))
}

/// Past this size an answer's buffer is grown straight to the cap.
const STRAIGHT_TO_CAP_BYTES: usize = 4 * 1024 * 1024;

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "a failing unwrap is a failing test")]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[test]
    fn a_span_ending_at_t_is_whole_steps() {
        let q = RangeQuery::ending_at("x", 100_000, 25_000, 10_000);
        assert_eq!((q.start_ms, q.end_ms, q.step_ms), (70_000, 100_000, 10_000));
    }

    /// Serves `body` once on a local port; the base URL.
    async fn serve_once(body: &'static str) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let (mut socket, _) = listener.accept().await.unwrap();
            let mut buf = [0u8; 4096];
            let _ = socket.read(&mut buf).await;
            let head = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                body.len()
            );
            let _ = socket.write_all(head.as_bytes()).await;
            let _ = socket.write_all(body.as_bytes()).await;
        });
        format!("http://{addr}")
    }

    const ANSWER: &str =
        r#"{"status":"success","data":{"resultType":"matrix","result":[{"metric":{},"values":[[1,"2"]]}]}}"#;

    #[test]
    fn answers_are_read_within_the_cap_and_refused_beyond_it() {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async {
            let client = crate::net::client().unwrap();
            let q = RangeQuery { promql: "x", start_ms: 0, end_ms: 1000, step_ms: 1000 };
            let base = serve_once(ANSWER).await;
            let limits = Limits::timeout(Duration::from_secs(5)).max_bytes(ANSWER.len() as u64);
            let s = query_range(&client, &base, &q, &limits).await.unwrap();
            assert_eq!(s.len(), 1);
            assert_eq!(s[0].t_ms, vec![1000]);
            let base = serve_once(ANSWER).await;
            let limits = limits.max_bytes(10);
            let e = query_range(&client, &base, &q, &limits).await.unwrap_err();
            assert!(e.to_string().contains("answered 200: the answer is larger than 10 bytes"), "{e}");
        });
    }
}
