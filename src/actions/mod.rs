//! The side effects of `ripcord run`: one module per kind of action. The interpreter (`crate::interpret`)
//! decides when and how often to call them; these functions only do the work and say how it went.
//!
//! INVARIANT: nothing here reads the plan's text or syntax; inputs are already-rendered strings and paths.

pub mod beneath;
pub mod file_steps;
pub mod http;
pub mod process;
pub mod prom;
pub mod shell;

/// The file steps' former module name, which callers may still use.
use sha2::{Digest, Sha256};

/// Quotes `value` for a POSIX shell so that it is one inert word: `'...'` with each `'` written `'\''`.
pub fn shell_quote(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('\'');
    for c in value.chars() {
        if c == '\'' {
            out.push_str("'\\''");
        } else {
            out.push(c);
        }
    }
    out.push('\'');
    out
}

/// Lowercase hex of the SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// Replaces secret values (those of the `${env.*}` variables a plan reads) with `***` in text that is kept
/// or shown. Values shorter than 4 characters are left alone: masking every `1` or `on` would garble the
/// text and protect nothing.
///
/// A secret is masked in every form it can take in output: as is, shell-quoted (`'it'\''s'`, what
/// `run --dry-run` shows of a shell step's values), JSON-escaped (in a JSON body or a webhook's payload),
/// percent-encoded (in a URL), and escaped for a terminal or with Rust's debug escapes.
#[derive(Clone, Debug, Default)]
pub struct Redactor {
    secrets: Vec<String>,
}

impl Redactor {
    pub const MIN_LEN: usize = 4;

    pub fn new(values: impl IntoIterator<Item = String>) -> Redactor {
        let mut secrets: Vec<String> =
            values.into_iter().filter(|v| v.trim().len() >= Self::MIN_LEN).flat_map(|v| Self::forms(&v)).collect();
        // Longest first, so that a secret containing another is masked whole.
        secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
        secrets.dedup();
        Redactor { secrets }
    }

    /// Every form `secret` can take in output.
    fn forms(secret: &str) -> Vec<String> {
        let quoted = shell_quote(secret);
        vec![
            secret.to_string(),
            // The inside of the shell-quoted form: it differs from the secret when the secret holds a `'`.
            quoted[1..quoted.len() - 1].to_string(),
            crate::plan::request::json_escaped(secret),
            crate::plan::request::percent_encoded(secret),
            crate::text::escape_control(secret).into_owned(),
            crate::text::for_terminal(secret).into_owned(),
            secret.escape_debug().to_string(),
        ]
    }

    pub fn redact(&self, text: &str) -> String {
        let mut out = text.to_string();
        for s in &self.secrets {
            if out.contains(s.as_str()) {
                out = out.replace(s.as_str(), "***");
            }
        }
        out
    }
}

/// The last `max` bytes of `bytes` as text (lossy UTF-8), cut at a character boundary.
pub fn tail(bytes: &[u8], max: usize) -> String {
    let start = bytes.len().saturating_sub(max);
    let text = String::from_utf8_lossy(&bytes[start..]).into_owned();
    text.trim_start_matches('\u{fffd}').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_makes_one_inert_word() {
        assert_eq!(shell_quote("a b"), "'a b'");
        assert_eq!(shell_quote("it's; rm -rf /"), "'it'\\''s; rm -rf /'");
        assert_eq!(shell_quote(""), "''");
    }

    #[test]
    fn redacts_longest_first_and_skips_short_values() {
        let r = Redactor::new(["hunter2secret".to_string(), "hunter2".to_string(), "on".to_string()]);
        assert_eq!(r.redact("x hunter2secret y hunter2 on"), "x *** y *** on");
    }

    #[test]
    fn redacts_every_form_of_a_secret() {
        let secret = "it's \"a\" s3cr3t/\u{1b}";
        let r = Redactor::new([secret.to_string()]);
        for form in Redactor::forms(secret) {
            assert_eq!(r.redact(&format!("<{form}>")), "<***>", "{form}");
        }
        assert_eq!(r.redact(&shell_quote(secret)), "'***'");
    }

    #[test]
    fn digest_is_hex() {
        assert_eq!(sha256_hex(b""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    }
}
