//! Whether a metric's PromQL query is one plain instant-vector selector, which the translation writes bare
//! and can give a range (`x[5m]`) or an `offset` directly; any other query is parenthesised and reached
//! through subqueries. Text only: no PromQL parser.

/// Whether `query` is one instant vector selector: an optional metric name and an optional `{...}` of label
/// matchers with quoted values, and nothing else (no offset, no `@`, no function).
pub fn is_plain_selector(query: &str) -> bool {
    let s = query.trim();
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_' || b[i] == b':') {
        i += 1;
    }
    let has_name = i > 0 && !b[0].is_ascii_digit();
    if i > 0 && !has_name {
        return false;
    }
    // Keywords that PromQL would read as operators or functions, not metric names.
    if has_name && matches!(&s[..i], "and" | "or" | "unless" | "offset" | "bool" | "on" | "ignoring" | "by" | "without")
    {
        return false;
    }
    let mut j = i;
    while j < b.len() && b[j].is_ascii_whitespace() {
        j += 1;
    }
    if j == b.len() {
        return has_name;
    }
    if b[j] != b'{' {
        return false;
    }
    j += 1;
    let mut matchers = 0;
    loop {
        while j < b.len() && (b[j].is_ascii_whitespace() || b[j] == b',') {
            j += 1;
        }
        match b.get(j) {
            None => return false,
            Some(b'}') => {
                j += 1;
                break;
            }
            _ => {}
        }
        let start = j;
        while j < b.len() && (b[j].is_ascii_alphanumeric() || b[j] == b'_') {
            j += 1;
        }
        if j == start || b[start].is_ascii_digit() {
            return false;
        }
        while j < b.len() && b[j].is_ascii_whitespace() {
            j += 1;
        }
        let rest = &s[j..];
        let op = ["=~", "!~", "!=", "="].into_iter().find(|op| rest.starts_with(op));
        let Some(op) = op else { return false };
        j += op.len();
        while j < b.len() && b[j].is_ascii_whitespace() {
            j += 1;
        }
        let Some(&quote) = b.get(j) else { return false };
        if !matches!(quote, b'"' | b'\'' | b'`') {
            return false;
        }
        j += 1;
        loop {
            match b.get(j) {
                None => return false,
                Some(&c) if c == quote => {
                    j += 1;
                    break;
                }
                Some(b'\\') if quote != b'`' => j += 2,
                Some(_) => j += 1,
            }
        }
        matchers += 1;
    }
    while j < b.len() && b[j].is_ascii_whitespace() {
        j += 1;
    }
    j == b.len() && (has_name || matchers > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selectors_are_recognised() {
        assert!(is_plain_selector("x"));
        assert!(is_plain_selector(" job:errors:rate5m "));
        assert!(is_plain_selector(r#"up{job="a", instance=~'b.*'}"#));
        assert!(is_plain_selector(r#"{__name__="x"}"#));
        assert!(is_plain_selector(r#"x{a="}\"{"}"#));
        assert!(!is_plain_selector("sum(x)"));
        assert!(!is_plain_selector("x offset 1h"));
        assert!(!is_plain_selector("x[5m]"));
        assert!(!is_plain_selector("x > 1"));
        assert!(!is_plain_selector("1"));
        assert!(!is_plain_selector("{}"));
        assert!(!is_plain_selector(r#"x{a="b""#));
        assert!(!is_plain_selector("and"));
        assert!(!is_plain_selector(""));
    }
}
