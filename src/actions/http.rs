//! HTTP steps, `verify http` probes and webhook notifications, over reqwest with rustls (ring provider).

use std::time::Duration;

/// Installs rustls's ring provider as the process default; reqwest's `rustls-no-provider` needs one. Safe
/// to call more than once.
pub fn install_crypto() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

pub fn client() -> Result<reqwest::Client, String> {
    install_crypto();
    reqwest::Client::builder()
        .user_agent(concat!("ripcord/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| format!("cannot set up the HTTP client: {e}"))
}

/// Sends one request and returns the response's status. A transport error or a timeout is an `Err`.
pub async fn send(
    client: &reqwest::Client,
    method: &str,
    url: &str,
    headers: &[(String, String)],
    body: Option<String>,
    timeout: Duration,
) -> Result<u16, String> {
    let method =
        reqwest::Method::from_bytes(method.as_bytes()).map_err(|_| format!("`{method}` is not an HTTP method"))?;
    let mut req = client.request(method, url).timeout(timeout);
    for (name, value) in headers {
        req = req.header(name.as_str(), value.as_str());
    }
    if let Some(body) = body {
        req = req.body(body);
    }
    let resp = req.send().await.map_err(|e| describe(&e))?;
    Ok(resp.status().as_u16())
}

/// Posts a Slack-compatible message (`{"text": ...}`); any 2xx is success.
pub async fn post_webhook(client: &reqwest::Client, url: &str, text: &str, timeout: Duration) -> Result<u16, String> {
    let body = serde_json::json!({ "text": text }).to_string();
    let headers = [("content-type".to_string(), "application/json".to_string())];
    let status = send(client, "POST", url, &headers, Some(body), timeout).await?;
    if (200..300).contains(&status) { Ok(status) } else { Err(format!("the webhook answered {status}")) }
}

/// A transport error in one line, without the URL (which may hold a secret; the caller names the step).
pub fn describe(e: &reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "could not connect"
    } else if e.is_builder() {
        "invalid request"
    } else {
        "request failed"
    };
    let mut source = std::error::Error::source(e);
    let mut detail = String::new();
    while let Some(s) = source {
        detail = s.to_string();
        source = s.source();
    }
    if detail.is_empty() { kind.to_string() } else { format!("{kind}: {detail}") }
}
