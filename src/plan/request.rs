//! Values in HTTP requests. Each `${...}` of a URL, header or body is filled in for its position, so that a
//! value stays one value: in a URL path it is one percent-encoded segment (never `..`), in a query or
//! fragment one percent-encoded value, in a JSON body a JSON string (or a number), in a form body one
//! percent-encoded value, in a header a value without control characters. The positions are read from the
//! author's literal text alone ([`url_slots`], [`body_kind`]), so analysis rejects the one unusable position
//! (a value other than `${env.NAME}` in a URL's scheme or host) and the interpreter, `run --dry-run` and the
//! journal render the same request.
//!
//! INVARIANT: no value changes a URL's structure (scheme, host, path segments, query keys), adds a JSON key
//! or a header, or ends a header line.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

use super::template::{Bindings, Template, TemplatePart, Variable};

/// Every byte but the unreserved ones (`A-Z a-z 0-9 - . _ ~`) is percent-encoded: a value cannot hold a
/// `/`, `?`, `#`, `&`, `=` or `%` that the server would read as structure.
const VALUE: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

/// Where a `${...}` falls in a URL.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UrlSlot {
    /// `${env.NAME}`, anywhere: configuration set by whoever runs ripcord (a whole webhook URL from a
    /// secret, a path prefix), taken as is.
    Verbatim,
    /// Any other value in the scheme or host: analysis rejects it.
    Host,
    /// One path segment, or part of one.
    Path,
    /// The query.
    Query,
    /// The fragment.
    Fragment,
}

/// Reads a URL template left to right: the position after each literal character, the slot of each value.
struct UrlWalker {
    state: UrlSlot,
    /// The literal text of the scheme and host so far: a `/` right after `:` or `:/` belongs to `://`.
    head: String,
    /// A `${env.NAME}` stood for the scheme and host: the next `/` starts the path.
    verbatim_seen: bool,
}

impl UrlWalker {
    fn new() -> UrlWalker {
        UrlWalker { state: UrlSlot::Host, head: String::new(), verbatim_seen: false }
    }

    fn char(&mut self, c: char) -> UrlSlot {
        self.state = match (self.state, c) {
            (UrlSlot::Host, '/') if !self.verbatim_seen && (self.head.ends_with(':') || self.head.ends_with(":/")) => {
                self.head.push(c);
                UrlSlot::Host
            }
            (UrlSlot::Host, '/') => UrlSlot::Path,
            (UrlSlot::Host | UrlSlot::Path, '?') => UrlSlot::Query,
            (UrlSlot::Host | UrlSlot::Path | UrlSlot::Query, '#') => UrlSlot::Fragment,
            (UrlSlot::Host, c) => {
                self.head.push(c);
                UrlSlot::Host
            }
            (s, _) => s,
        };
        self.state
    }

    fn var(&mut self, v: &Variable) -> UrlSlot {
        if matches!(v, Variable::Env(_)) {
            self.verbatim_seen |= self.state == UrlSlot::Host;
            return UrlSlot::Verbatim;
        }
        self.state
    }
}

/// The position of each `${...}` of `url`, in order.
pub fn url_slots(url: &Template) -> Vec<UrlSlot> {
    let mut w = UrlWalker::new();
    let mut out = Vec::new();
    for part in &url.parts {
        match part {
            TemplatePart::Var(v) => out.push(w.var(v)),
            TemplatePart::Text(t) => t.chars().for_each(|c| {
                w.char(c);
            }),
        }
    }
    out
}

/// How a body's values are written, from its own literal text and the step's literal `Content-Type`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BodyKind {
    /// A JSON body (starts with `{` or `[`, or a JSON content type): a value inside a JSON string is
    /// JSON-escaped; elsewhere it becomes a JSON number if it is one, else a JSON string.
    Json,
    /// `application/x-www-form-urlencoded`: each value percent-encoded.
    Form,
    /// Any other body: the value as is (the author's format is unknown; the value cannot add headers).
    Text,
}

/// The kind of `body`, given the step's headers.
pub fn body_kind(headers: &[(String, Template)], body: &Template) -> BodyKind {
    let content_type = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-type"))
        .map(|(_, v)| v.render(|_| None).to_ascii_lowercase());
    match content_type {
        Some(ct) if ct.contains("json") => return BodyKind::Json,
        Some(ct) if ct.contains("x-www-form-urlencoded") => return BodyKind::Form,
        Some(_) => return BodyKind::Text,
        None => {}
    }
    match body.parts.first() {
        Some(TemplatePart::Text(t)) if t.trim_start().starts_with(['{', '[']) => BodyKind::Json,
        _ => BodyKind::Text,
    }
}

/// For a JSON body, whether each `${...}` is inside a JSON string.
fn json_in_string(body: &Template) -> Vec<bool> {
    let (mut in_string, mut escaped) = (false, false);
    let mut out = Vec::new();
    for part in &body.parts {
        match part {
            TemplatePart::Var(_) => {
                out.push(in_string);
                escaped = false;
            }
            TemplatePart::Text(t) => {
                for c in t.chars() {
                    if escaped {
                        escaped = false;
                    } else if in_string && c == '\\' {
                        escaped = true;
                    } else if c == '"' {
                        in_string = !in_string;
                    }
                }
            }
        }
    }
    out
}

/// `value` as the inside of a JSON string.
pub fn json_escaped(value: &str) -> String {
    let quoted = serde_json::Value::String(value.to_string()).to_string();
    quoted[1..quoted.len() - 1].to_string()
}

/// `value` percent-encoded as one path segment or query value.
pub fn percent_encoded(value: &str) -> String {
    utf8_percent_encode(value, VALUE).to_string()
}

impl Bindings {
    /// The URL with each value encoded for its position. Fails when a value would make a `.` or `..` path
    /// segment, which a URL parser would resolve.
    pub fn render_url(&self, url: &Template) -> Result<String, String> {
        let mut w = UrlWalker::new();
        let mut out = String::new();
        // The current path segment: where it starts in `out`, and the variables in it.
        let mut segment: (usize, Vec<&Variable>) = (0, Vec::new());
        let check = |out: &str, segment: &(usize, Vec<&Variable>)| -> Result<(), String> {
            let text = &out[segment.0..];
            if !segment.1.is_empty() && (text == "." || text == "..") {
                let names: Vec<String> = segment.1.iter().map(|v| format!("${{{v}}}")).collect();
                return Err(format!(
                    "the value of {} makes the URL path segment `{text}`, which would change the path",
                    names.join(" and ")
                ));
            }
            Ok(())
        };
        for part in &url.parts {
            match part {
                TemplatePart::Text(t) => {
                    for c in t.chars() {
                        let before = w.state;
                        let after = w.char(c);
                        if before == UrlSlot::Path && matches!(c, '/' | '?' | '#') {
                            check(&out, &segment)?;
                        }
                        out.push(c);
                        if after == UrlSlot::Path && c == '/' {
                            segment = (out.len(), Vec::new());
                        }
                    }
                }
                TemplatePart::Var(v) => {
                    let value = self.get(v).unwrap_or_default();
                    match w.var(v) {
                        UrlSlot::Verbatim => out.push_str(&value),
                        UrlSlot::Path | UrlSlot::Host => {
                            out.push_str(&percent_encoded(&value));
                            segment.1.push(v);
                        }
                        UrlSlot::Query | UrlSlot::Fragment => out.push_str(&percent_encoded(&value)),
                    }
                }
            }
        }
        if w.state == UrlSlot::Path {
            check(&out, &segment)?;
        }
        Ok(out)
    }

    /// A header's value. Fails when a value holds a control character (a line break would end the header
    /// and start another).
    pub fn render_header(&self, name: &str, value: &Template) -> Result<String, String> {
        for part in &value.parts {
            if let TemplatePart::Var(v) = part {
                let text = self.get(v).unwrap_or_default();
                if text.chars().any(|c| c.is_control() && c != '\t') {
                    return Err(format!(
                        "the value of ${{{v}}} holds a line break or another control character, which header `{name}` cannot carry"
                    ));
                }
            }
        }
        Ok(self.render(value))
    }

    /// A request body with each value written for its kind ([`BodyKind`]).
    pub fn render_body(&self, headers: &[(String, Template)], body: &Template) -> String {
        let kind = body_kind(headers, body);
        let in_string = json_in_string(body);
        let mut vars = 0;
        body.render(|v| {
            let value = self.get(v).unwrap_or_default();
            let quoted_context = in_string.get(vars).copied().unwrap_or(false);
            vars += 1;
            Some(match kind {
                BodyKind::Text => value,
                BodyKind::Form => percent_encoded(&value),
                BodyKind::Json if quoted_context => json_escaped(&value),
                BodyKind::Json => {
                    let is_number = value.trim() == value && serde_json::from_str::<serde_json::Number>(&value).is_ok();
                    if is_number { value } else { serde_json::Value::String(value).to_string() }
                }
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(parts: &[&str]) -> Template {
        let parts = parts
            .iter()
            .map(|p| match *p {
                "@" => TemplatePart::Var(Variable::Reason),
                "%env" => TemplatePart::Var(Variable::Env("RIPCORD_TEST_UNSET_VAR".into())),
                p => TemplatePart::Text(p.to_string()),
            })
            .collect();
        Template { parts }
    }

    fn with(reason: &str) -> Bindings {
        Bindings { reason: Some(reason.into()), ..Bindings::default() }
    }

    #[test]
    fn url_positions() {
        use UrlSlot::*;
        assert_eq!(url_slots(&t(&["https://h/a/", "@", "/b?x=", "@", "#", "@"])), [Path, Query, Fragment]);
        assert_eq!(url_slots(&t(&["https://", "@", "/a"])), [Host]);
        assert_eq!(url_slots(&t(&["%env", "/a/", "@"])), [Verbatim, Path]);
        assert_eq!(url_slots(&t(&["https://h/a/", "%env", "?q=", "@"])), [Verbatim, Query]);
        assert_eq!(url_slots(&t(&["https://h", "@"])), [Host]);
    }

    #[test]
    fn url_values_cannot_change_structure() {
        let url = t(&["https://h/a/", "@", "/b?x=", "@"]);
        assert_eq!(
            with("x/../y?z#w").render_url(&url).as_deref(),
            Ok("https://h/a/x%2F..%2Fy%3Fz%23w/b?x=x%2F..%2Fy%3Fz%23w")
        );
        assert_eq!(with("a&b=c %").render_url(&url).as_deref(), Ok("https://h/a/a%26b%3Dc%20%25/b?x=a%26b%3Dc%20%25"));
        assert!(with("..").render_url(&url).is_err());
        assert!(with(".").render_url(&url).is_err());
        assert!(with("...").render_url(&url).is_ok());
        assert!(with("..").render_url(&t(&["https://h/a/v", "@"])).is_ok());
        assert!(with("..").render_url(&t(&["https://h/a?q=", "@"])).is_ok());
    }

    #[test]
    fn bodies_and_headers() {
        let json = t(&["{\"reason\": \"", "@", "\", \"n\": ", "@", "}"]);
        let b = with("\", \"admin\": true, \"x\": \"");
        let out = b.render_body(&[], &json);
        let parsed: serde_json::Value = serde_json::from_str(&out).expect("JSON");
        assert_eq!(parsed.as_object().map(|o| o.len()), Some(2));
        assert_eq!(parsed["reason"], "\", \"admin\": true, \"x\": \"");
        assert_eq!(with("0.25").render_body(&[], &json), "{\"reason\": \"0.25\", \"n\": 0.25}");
        let form = [("Content-Type".to_string(), Template::literal("application/x-www-form-urlencoded"))];
        assert_eq!(with("a&b=c").render_body(&form, &t(&["r=", "@"])), "r=a%26b%3Dc");
        assert!(with("x\r\nEvil: 1").render_header("X-Reason", &t(&["@"])).is_err());
        assert_eq!(with("a\tb").render_header("X-Reason", &t(&["v ", "@"])).as_deref(), Ok("v a\tb"));
    }
}
