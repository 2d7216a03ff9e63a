//! HTTP steps, `verify http` probes and webhook notifications, over reqwest with rustls (ring provider).

use std::time::Duration;

pub use crate::net::{client, describe, install_crypto};

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
