use crate::ast::{StepKind, Text, TextPart, VerifyProbe};
use crate::lint::{Context, Violation};

rule! {
    /// ## What it does
    /// Checks for plain `http://` URLs outside the loopback interface.
    ///
    /// It reads `http` steps, `verify http` steps and channel webhooks; `127.0.0.0/8`, `localhost` and
    /// `[::1]` are exempt.
    ///
    /// ## Why is this bad?
    /// Plain HTTP can be read and changed by anything on the path. A rollback request carries bearer tokens
    /// and changes production (a flag, a load balancer); a webhook carries incident details. An attacker, or
    /// a misbehaving proxy, can capture the token, replay the request, or answer a health check with a
    /// fake `200` that makes a failed rollback look good.
    ///
    /// ## Example
    /// ```runbook
    /// runbook flags {
    ///   level 1 "Disable the flag" {
    ///     step http POST "http://flags.example.com/api/flags/new-ui/disable" header "Authorization" "Bearer ${env.FLAGS_TOKEN}" timeout 5s
    ///     step verify http GET "http://127.0.0.1:8080/healthz" within 1m
    ///   }
    /// }
    /// ```
    ///
    /// ## Use instead
    /// ```runbook
    /// runbook flags {
    ///   level 1 "Disable the flag" {
    ///     step http POST "https://flags.example.com/api/flags/new-ui/disable" header "Authorization" "Bearer ${env.FLAGS_TOKEN}" timeout 5s
    ///     step verify http GET "http://127.0.0.1:8080/healthz" within 1m
    ///   }
    /// }
    /// ```
    name: "plain-http-url",
    severity: Warning,
    check: Some(check),
}

fn check(cx: &Context<'_>, out: &mut Vec<Violation>) {
    for channel in &cx.channels {
        if let Some(url) = plain_http(&channel.url) {
            out.push(
                Violation::new(
                    channel.url.span,
                    format!("channel `{}` posts to plain HTTP `{url}`", channel.name.name),
                )
                .label("notifications travel unencrypted")
                .help(HELP),
            );
        }
    }
    for level in &cx.levels {
        for step in &level.steps {
            let Some(ast) = step.ast_step() else { continue };
            let (url, label) = match &ast.kind {
                StepKind::Http { url, .. } => {
                    let auth =
                        step.headers().iter().any(|(name, _)| name.to_plain().eq_ignore_ascii_case("authorization"));
                    (
                        url,
                        if auth {
                            "sends its `Authorization` header unencrypted"
                        } else {
                            "the request and its answer travel unencrypted"
                        },
                    )
                }
                StepKind::Verify(VerifyProbe::Http { url, .. }) => (url, "a forged answer would pass this check"),
                _ => continue,
            };
            if let Some(shown) = plain_http(url) {
                out.push(
                    Violation::new(url.span, format!("step {} uses plain HTTP `{shown}`", step.plan.id))
                        .label(label)
                        .help(HELP),
                );
            }
        }
    }
}

const HELP: &str = "use `https://`; plain HTTP is safe only on the loopback interface (127.0.0.1, localhost, [::1])";

/// The URL (shortened) when it is `http://` to a host that is not provably the loopback interface.
fn plain_http(url: &Text) -> Option<String> {
    let Some(TextPart::Literal(first)) = url.parts.first() else { return None };
    let scheme = first.get(..7)?;
    if !scheme.eq_ignore_ascii_case("http://") {
        return None;
    }
    let rest = &first[7..];
    let authority_end = rest.find(['/', '?', '#']);
    // With an interpolation inside the host, the host is unknown: not provably loopback.
    let host_known = authority_end.is_some() || url.parts.len() == 1;
    let authority = &rest[..authority_end.unwrap_or(rest.len())];
    if host_known && is_loopback(authority) {
        return None;
    }
    let plain = url.to_plain();
    Some(if plain.chars().count() > 60 { format!("{}...", plain.chars().take(57).collect::<String>()) } else { plain })
}

fn is_loopback(authority: &str) -> bool {
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = if let Some(v6) = host_port.strip_prefix('[') {
        return v6.split(']').next() == Some("::1");
    } else {
        host_port.split(':').next().unwrap_or("")
    };
    let host = host.to_ascii_lowercase();
    if host == "localhost" || host.ends_with(".localhost") {
        return true;
    }
    let octets: Vec<&str> = host.split('.').collect();
    octets.len() == 4 && octets[0] == "127" && octets.iter().all(|o| o.parse::<u8>().is_ok())
}

#[cfg(test)]
mod tests {
    use super::is_loopback;

    #[test]
    fn loopback_hosts() {
        for h in ["127.0.0.1:8080", "localhost", "LOCALHOST:80", "[::1]:9090", "user@127.1.2.3", "api.localhost"] {
            assert!(is_loopback(h), "{h}");
        }
        for h in ["10.0.0.1", "127.0.0.1.example.com", "localhost.example.com", "[::2]", "128.0.0.1"] {
            assert!(!is_loopback(h), "{h}");
        }
    }
}
