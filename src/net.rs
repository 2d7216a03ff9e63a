//! HTTP plumbing shared by every outbound request: the reqwest client (rustls with the ring provider) and a
//! one-line description of a transport error. Used by the step actions (`actions::http`) and by the
//! Prometheus client (`prometheus`); it knows nothing of either.

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
