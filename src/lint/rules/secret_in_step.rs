use crate::ast::{ModifierKind, StepKind, Target, Text, TextPart, VerifyProbe};
use crate::lint::{Context, Violation};
use crate::span::Span;

rule! {
    /// ## What it does
    /// Checks for secrets written into a runbook.
    ///
    /// It reads shell commands, HTTP URLs, headers and bodies, notification messages and channel URLs, and
    /// looks for
    ///
    /// - `Bearer` or `Basic` credentials followed by a literal token;
    /// - `password=`, `token:`, `api_key=`, `--secret VALUE` and similar keys followed by a literal value
    ///   (also inside JSON: `"password": "..."`);
    /// - passwords in URLs (`https://user:pass@host`);
    /// - a literal value, with no interpolation, in a credential header (`Authorization`, `X-Api-Key`,
    ///   `Cookie` and the like);
    /// - AWS access key ids (`AKIA...`), private keys (`-----BEGIN ... PRIVATE KEY-----`), GitHub, GitLab,
    ///   Slack and Stripe tokens, Slack webhook URLs;
    /// - long random-looking strings: 32 or more letters, digits and `+/=_-`, mixing upper case, lower case
    ///   and digits, with high entropy.
    ///
    /// Interpolations are never secrets: `Bearer ${env.FLAGS_TOKEN}` is what to write. Values that start
    /// with `$` (a shell variable) are not reported either.
    ///
    /// ## Why is this bad?
    /// A runbook is reviewed, committed, copied into tickets and printed in plans and logs. A secret in it
    /// leaks with every copy, cannot be rotated without editing the runbook, and is the same in every
    /// environment. `${env.NAME}` keeps the secret in the environment of the process that runs the runbook.
    ///
    /// ## Example
    /// ```runbook
    /// runbook flags {
    ///   level 1 "Disable the flag" {
    ///     step http POST "https://flags.example.com/api/flags/new-ui/disable" header "Authorization" "Bearer 9f8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c" timeout 5s
    ///     step verify error_rate < 1% within 2m
    ///   }
    /// }
    /// ```
    ///
    /// ## Use instead
    /// ```runbook
    /// runbook flags {
    ///   level 1 "Disable the flag" {
    ///     step http POST "https://flags.example.com/api/flags/new-ui/disable" header "Authorization" "Bearer ${env.FLAGS_TOKEN}" timeout 5s
    ///     step verify error_rate < 1% within 2m
    ///   }
    /// }
    /// ```
    name: "secret-in-step",
    severity: Error,
    check: Some(check),
}

fn check(cx: &Context<'_>, out: &mut Vec<Violation>) {
    let mut texts: Vec<(&Text, String)> = Vec::new();
    for c in &cx.channels {
        texts.push((&c.url, format!("channel `{}`", c.name.name)));
    }
    for t in &cx.triggers {
        if let Target::Notify { message, .. } = &t.ast.target {
            texts.push((message, format!("trigger `{}`", t.plan.name)));
        }
    }
    for level in &cx.levels {
        for step in &level.steps {
            let Some(ast) = step.ast_step() else { continue };
            let at = format!("step {}", step.plan.id);
            match &ast.kind {
                StepKind::Shell(t) | StepKind::Verify(VerifyProbe::Shell(t)) => texts.push((t, at.clone())),
                StepKind::Http { url, .. } | StepKind::Verify(VerifyProbe::Http { url, .. }) => {
                    texts.push((url, at.clone()))
                }
                StepKind::Notify { message, .. } => texts.push((message, at.clone())),
                _ => {}
            }
            for m in &ast.modifiers {
                match &m.kind {
                    ModifierKind::Header(name, value)
                        if literal_credential(name, value) && first_secret(value).is_none() =>
                    {
                        let header = name.to_plain();
                        out.push(
                            Violation::new(value.span, format!("{at} sends a literal `{header}` header"))
                                .label(format!("`{}`", redact(&value.to_plain())))
                                .help(HELP),
                        );
                    }
                    ModifierKind::Header(_, value) => texts.push((value, at.clone())),
                    ModifierKind::Body(body) => texts.push((body, at.clone())),
                    _ => {}
                }
            }
        }
    }
    for (text, place) in texts {
        let Some((secret, what)) = first_secret(text) else { continue };
        out.push(
            Violation::new(locate(cx, text, &secret), format!("{place} contains {what}"))
                .label(format!("`{}`", redact(&secret)))
                .help(HELP),
        );
    }
}

const HELP: &str = "move the secret to the environment and write `${env.NAME}` instead; a runbook is reviewed, committed and copied, and the secret with it";

/// Headers whose value is a credential.
const CREDENTIAL_HEADERS: &[&str] = &[
    "authorization",
    "proxy-authorization",
    "cookie",
    "x-api-key",
    "api-key",
    "apikey",
    "x-auth-token",
    "x-access-token",
    "private-token",
];

/// A credential header whose value is written out in full: no interpolation, and long enough to be a key.
fn literal_credential(name: &Text, value: &Text) -> bool {
    let name = name.to_plain().to_ascii_lowercase();
    let plain = value.to_plain();
    CREDENTIAL_HEADERS.contains(&name.as_str())
        && !value.has_interpolation()
        && plain.trim().len() >= 8
        && !plain.trim_start().starts_with('$')
}

fn first_secret(text: &Text) -> Option<(String, &'static str)> {
    text.parts.iter().find_map(|p| match p {
        TextPart::Literal(s) => find_secret(s),
        _ => None,
    })
}

/// The secret's own span when it is written as is in the source, else the whole string.
fn locate(cx: &Context<'_>, text: &Text, secret: &str) -> Span {
    let source = cx.snippet(text.span);
    match source.find(secret) {
        Some(i) => Span::new(text.span.start + i, text.span.start + i + secret.len()),
        None => text.span,
    }
}

/// The first four characters, then an ellipsis: enough to find it, not enough to use it.
fn redact(secret: &str) -> String {
    let head: String = secret.chars().take(4).collect();
    format!("{head}...")
}

/// Keys whose literal value is a secret.
const SECRET_KEYS: &[&str] = &[
    "password",
    "passwd",
    "pwd",
    "secret",
    "client_secret",
    "token",
    "access_token",
    "auth_token",
    "api_key",
    "apikey",
    "api-key",
    "access_key",
    "secret_key",
    "private_key",
];

/// Prefixes of tokens whose format is published by their issuer.
const TOKEN_PREFIXES: &[(&str, &str)] = &[
    ("ghp_", "a GitHub token"),
    ("gho_", "a GitHub token"),
    ("ghu_", "a GitHub token"),
    ("ghs_", "a GitHub token"),
    ("ghr_", "a GitHub token"),
    ("github_pat_", "a GitHub token"),
    ("glpat-", "a GitLab token"),
    ("xoxb-", "a Slack token"),
    ("xoxp-", "a Slack token"),
    ("xoxa-", "a Slack token"),
    ("xoxs-", "a Slack token"),
    ("xoxr-", "a Slack token"),
    ("sk_live_", "a Stripe key"),
    ("rk_live_", "a Stripe key"),
];

fn is_token_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '~' | '+' | '/' | '=')
}

/// The first secret in one literal piece of text: (the secret as written, what it looks like).
pub fn find_secret(s: &str) -> Option<(String, &'static str)> {
    private_key(s)
        .or_else(|| aws_key_id(s))
        .or_else(|| known_token(s))
        .or_else(|| slack_webhook(s))
        .or_else(|| auth_scheme(s))
        .or_else(|| url_password(s))
        .or_else(|| key_value(s))
        .or_else(|| high_entropy(s))
}

fn private_key(s: &str) -> Option<(String, &'static str)> {
    let start = s.find("-----BEGIN")?;
    let rest = &s[start..];
    let header_end = rest[5..].find("-----").map(|i| i + 10)?;
    rest[..header_end].contains("PRIVATE KEY").then(|| (rest[..header_end].to_string(), "a private key"))
}

fn aws_key_id(s: &str) -> Option<(String, &'static str)> {
    let bytes = s.as_bytes();
    for (i, _) in s.match_indices("AKIA").chain(s.match_indices("ASIA")) {
        let before_ok = i == 0 || !bytes[i - 1].is_ascii_alphanumeric();
        let Some(key) = s.get(i..i + 20) else { continue };
        let body_ok = key[4..].bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit());
        let after_ok = bytes.get(i + 20).is_none_or(|b| !b.is_ascii_alphanumeric());
        if before_ok && body_ok && after_ok {
            return Some((key.to_string(), "an AWS access key id"));
        }
    }
    None
}

fn known_token(s: &str) -> Option<(String, &'static str)> {
    for (prefix, what) in TOKEN_PREFIXES {
        for (i, _) in s.match_indices(prefix) {
            let tail: String = s[i + prefix.len()..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'))
                .collect();
            if tail.len() >= 16 {
                return Some((format!("{prefix}{tail}"), what));
            }
        }
    }
    None
}

fn slack_webhook(s: &str) -> Option<(String, &'static str)> {
    let marker = "hooks.slack.com/services/";
    let i = s.find(marker)?;
    let tail: String = s[i + marker.len()..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '/').collect();
    (tail.len() >= 20).then(|| (format!("{marker}{tail}"), "a Slack webhook URL"))
}

fn auth_scheme(s: &str) -> Option<(String, &'static str)> {
    let lower = s.to_ascii_lowercase();
    for scheme in ["bearer ", "basic "] {
        for (i, _) in lower.match_indices(scheme) {
            if i > 0 && lower.as_bytes()[i - 1].is_ascii_alphanumeric() {
                continue;
            }
            let rest = &s[i + scheme.len()..];
            let rest = rest.trim_start();
            let token: String = rest.chars().take_while(|c| is_token_char(*c)).collect();
            if token.len() >= 12 && !token.starts_with('$') {
                return Some((token, "a literal credential after `Bearer`/`Basic`"));
            }
        }
    }
    None
}

fn url_password(s: &str) -> Option<(String, &'static str)> {
    for (i, _) in s.match_indices("://") {
        let authority: &str = s[i + 3..].split(['/', '?', '#', ' ']).next().unwrap_or("");
        let Some((userinfo, _host)) = authority.rsplit_once('@') else { continue };
        if let Some((_, password)) = userinfo.split_once(':')
            && !password.is_empty()
            && !password.starts_with('$')
        {
            return Some((password.to_string(), "a password in a URL"));
        }
    }
    None
}

fn key_value(s: &str) -> Option<(String, &'static str)> {
    let lower = s.to_ascii_lowercase();
    let bytes = lower.as_bytes();
    for key in SECRET_KEYS {
        for (i, _) in lower.match_indices(key) {
            if i > 0 && bytes[i - 1].is_ascii_alphanumeric() {
                continue;
            }
            let mut j = i + key.len();
            if matches!(bytes.get(j), Some(b'"' | b'\'')) {
                j += 1;
            }
            let dashed = i >= 2 && &bytes[i - 2..i] == b"--";
            match bytes.get(j) {
                Some(b'=' | b':') => j += 1,
                Some(b' ') if dashed => {}
                _ => continue,
            }
            let rest = s[j..].trim_start();
            let rest = rest.strip_prefix(['"', '\'']).unwrap_or(rest);
            let value: String = rest.chars().take_while(|c| !c.is_whitespace() && !"\"'&;,)}".contains(*c)).collect();
            let placeholder =
                value.starts_with(['$', '<', '{', '%', '-']) || value.chars().all(|c| c == '*' || c == 'x');
            if value.chars().count() >= 4 && !placeholder {
                return Some((value, "a literal value after a secret's name"));
            }
        }
    }
    None
}

fn high_entropy(s: &str) -> Option<(String, &'static str)> {
    let is_run = |c: char| c.is_ascii_alphanumeric() || matches!(c, '+' | '/' | '=' | '_' | '-');
    s.split(|c: char| !is_run(c)).find_map(|run| {
        let long = run.len() >= 32;
        let mixed = run.bytes().any(|b| b.is_ascii_uppercase())
            && run.bytes().any(|b| b.is_ascii_lowercase())
            && run.bytes().any(|b| b.is_ascii_digit());
        (long && mixed && entropy(run) >= 4.0).then(|| (run.to_string(), "a long random-looking string"))
    })
}

/// Shannon entropy in bits per character.
fn entropy(s: &str) -> f64 {
    let mut counts = [0u32; 256];
    for b in s.bytes() {
        counts[usize::from(b)] += 1;
    }
    let n = s.len() as f64;
    counts.iter().filter(|&&c| c > 0).map(|&c| f64::from(c) / n).map(|p| -p * p.log2()).sum()
}

#[cfg(test)]
mod tests {
    use super::find_secret;

    #[track_caller]
    fn secret(s: &str) {
        assert!(find_secret(s).is_some(), "should flag: {s}");
    }

    #[track_caller]
    fn clean(s: &str) {
        assert_eq!(find_secret(s), None, "should not flag: {s}");
    }

    #[test]
    fn finds_secrets() {
        secret("Bearer 9f8a7b6c5d4e3f2a1b0c");
        secret("curl -H 'Authorization: Basic dXNlcjpodW50ZXIy' https://x");
        secret("mysql --password=hunter22 -e 'select 1'");
        secret("mysql --password hunter22");
        secret("{\"password\": \"hunter22\"}");
        secret("https://api.example.com/x?api_key=abcd1234");
        secret("postgres://app:s3cr3t@db.internal/app");
        secret("aws configure set aws_access_key_id AKIAIOSFODNN7EXAMPLE");
        secret("-----BEGIN RSA PRIVATE KEY-----");
        secret("ghp_abcdefghijklmnopqrstuvwxyz0123456789");
        secret("https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX");
        secret("deploy --key wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY");
    }

    #[test]
    fn leaves_ordinary_text_alone() {
        clean("Bearer ");
        clean("password=$DB_PASSWORD");
        clean("--password-file /run/secrets/db");
        clean("--token-file /run/secrets/token");
        clean("tokens: 5");
        clean(
            "/opt/assistant/bin/apply-release --from /etc/assistant/release.yaml --components api,worker,grader --wait",
        );
        clean("https://flags.internal.example.com/api/v1/flags/checkout-v2-address-autocomplete/disable");
        clean("git checkout 3f2a9c1e5b7d4f6a8c0e2b4d6f8a0c2e4b6d8f0a");
        clean("{\"reason\": \"ripcord run \"}");
        clean("secret: <redacted>");
        clean("kubectl --namespace checkout rollout status deployment/checkout-api --timeout=5m");
    }
}
