//! Label sets as series files write them: PromQL's selector notation `name{label="value", ...}`, the one
//! parser of it for every format (promtool YAML, CSV, JSON Lines' `metric`, `ripcord test` input series), and
//! the interner that turns repeated label text into one shared [`Labels`] without parsing or allocating again.
//!
//! The notation is PromQL's: label names `[a-zA-Z_][a-zA-Z0-9_]*`; values quoted with `"`, `'` or `` ` ``,
//! with PromQL's (Go's) escapes in the first two (`\n`, `\t`, `\\`, `\"`, `\xHH`, `\u00e9`, octal `\101`, ...)
//! and none in backquotes; a trailing comma; `__name__` inside the braces as the metric name. An empty value
//! is no label, as in Prometheus. Errors carry the byte range of the text at fault, relative to the parsed
//! string, so each caller can place them in its file.

use std::borrow::Cow;
use std::collections::HashMap;
use std::hash::{BuildHasher, Hash, Hasher};

use super::series::{Labels, valid_metric_name};

/// What is wrong with a series name, and where (byte offsets into the parsed string).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct NameError {
    pub start: usize,
    pub end: usize,
    pub message: String,
    /// An earlier part of the string the problem concerns (the first of two equal label names).
    pub first: Option<(usize, usize)>,
}

impl NameError {
    fn new(start: usize, end: usize, message: impl Into<String>) -> NameError {
        NameError { start, end, message: message.into(), first: None }
    }
}

/// The help line of every label-notation diagnostic.
pub(crate) const NOTATION_HELP: &str = "write a series as `name` or `name{label=\"value\", ...}`: label names are letters, digits and `_`, values are quoted";

/// Whether `name` can be a label name: `[a-zA-Z_][a-zA-Z0-9_]*`.
pub(crate) fn valid_label_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    matches!(bytes.next(), Some(c) if c.is_ascii_alphabetic() || c == b'_')
        && bytes.all(|c| c.is_ascii_alphanumeric() || c == b'_')
}

/// Splits `name{label="value", ...}` into the metric name and its labels. The name may be written as
/// `__name__` inside the braces instead (`{__name__="up", job="x"}`), not both.
pub(crate) fn parse_series_name(s: &str) -> Result<(Cow<'_, str>, Labels), NameError> {
    let b = s.as_bytes();
    let mut i = skip_space(b, 0);
    let name_start = i;
    while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_' || b[i] == b':') {
        i += 1;
    }
    let name_end = i;
    let mut name = Cow::Borrowed(&s[name_start..name_end]);
    let mut name_span = (name_start, name_end);
    i = skip_space(b, i);
    let mut labels = Labels::empty();
    let mut braces = None;
    if b.get(i) == Some(&b'{') {
        let parsed = parse_braces(s, i)?;
        braces = Some((i, parsed.end));
        i = parsed.end;
        if let Some((value, at)) = parsed.name {
            if name_start != name_end {
                return Err(NameError {
                    first: Some((name_start, name_end)),
                    ..NameError::new(at.0, at.1, "the metric name is given twice: before the braces and as `__name__`")
                });
            }
            name = Cow::Owned(value);
            name_span = at;
        }
        labels = parsed.labels;
    }
    i = skip_space(b, i);
    if i < s.len() {
        let rest = s[i..].trim_end();
        return Err(match braces {
            None if name_start == name_end => {
                NameError::new(i, i + rest.len(), format!("`{rest}` is not a metric name"))
            }
            None => NameError::new(i, i + rest.len(), format!("unexpected `{rest}` after the series name")),
            Some(_) => NameError::new(i, i + rest.len(), format!("unexpected `{rest}` after the labels")),
        });
    }
    if name.is_empty() {
        let (start, end) = braces.unwrap_or((name_start, s.len()));
        return Err(NameError::new(start, end, "the series has no metric name"));
    }
    if !valid_metric_name(&name) {
        return Err(NameError::new(name_span.0, name_span.1, format!("`{name}` is not a metric name")));
    }
    Ok((name, labels))
}

/// Reads a label set written alone, `{label="value", ...}` (surrounding spaces allowed; an empty string is no
/// labels). `__name__` is not allowed here: the metric name is given elsewhere.
pub(crate) fn parse_label_set(s: &str) -> Result<Labels, NameError> {
    let b = s.as_bytes();
    let i = skip_space(b, 0);
    if i == b.len() {
        return Ok(Labels::empty());
    }
    if b[i] != b'{' {
        let end = s.trim_end().len().max(i);
        return Err(NameError::new(i, end, "labels are written in braces: `{label=\"value\", ...}`"));
    }
    let parsed = parse_braces(s, i)?;
    if let Some((_, at)) = parsed.name {
        return Err(NameError::new(at.0, at.1, "`__name__` is not a label here: the metric is named on its own"));
    }
    let end = skip_space(b, parsed.end);
    if end < s.len() {
        let rest = s[end..].trim_end();
        return Err(NameError::new(end, end + rest.len(), format!("unexpected `{rest}` after the labels")));
    }
    Ok(parsed.labels)
}

/// What the braces at `open` held.
struct Braces {
    labels: Labels,
    /// The value of `__name__` and the span of that label, if it was given.
    name: Option<(String, (usize, usize))>,
    /// Just past the closing brace.
    end: usize,
}

fn parse_braces(s: &str, open: usize) -> Result<Braces, NameError> {
    let b = s.as_bytes();
    let mut i = open + 1;
    // (name, value, span of the whole `name="value"`), in the order written.
    let mut pairs: Vec<(&str, String, (usize, usize))> = Vec::new();
    let mut name = None;
    let unclosed =
        || NameError::new(open, s.trim_end().len().max(open + 1), "the labels are not closed: `}` is missing");
    loop {
        i = skip_space(b, i);
        match b.get(i) {
            None => return Err(unclosed()),
            Some(b'}') => {
                i += 1;
                break;
            }
            _ => {}
        }
        let ls = i;
        while i < b.len()
            && !matches!(b[i], b'=' | b'!' | b'~' | b',' | b'}' | b'{' | b'"' | b'\'' | b'`')
            && !b[i].is_ascii_whitespace()
        {
            i += 1;
        }
        let label = &s[ls..i];
        if label.is_empty() {
            let end = char_end(s, i);
            let found = &s[i..end];
            return Err(NameError::new(i, end, format!("expected a label name, found `{found}`")));
        }
        if !valid_label_name(label) {
            return Err(NameError::new(
                ls,
                i,
                format!("`{label}` is not a label name: letters, digits and `_`, not starting with a digit"),
            ));
        }
        i = skip_space(b, i);
        if b.get(i) != Some(&b'=') {
            return match b.get(i) {
                None => Err(unclosed()),
                Some(b'!' | b'~') => {
                    Err(matcher(ls, if matches!(b.get(i + 1), Some(b'=' | b'~')) { i + 2 } else { i + 1 }))
                }
                _ => Err(NameError::new(ls, i.max(ls + 1), format!("expected `=` after the label `{label}`"))),
            };
        }
        if b.get(i + 1) == Some(&b'~') {
            return Err(matcher(ls, i + 2));
        }
        i = skip_space(b, i + 1);
        let vs = i;
        let value = match b.get(i) {
            Some(b'"' | b'\'' | b'`') => quoted(s, &mut i)?,
            None => return Err(unclosed()),
            _ => {
                let end = s[i..].find([',', '}']).map_or(s.len(), |e| i + e);
                let end = s[..end].trim_end().len().max(char_end(s, vs));
                let message = format!("the value of `{label}` must be quoted: `{label}=\"...\"`");
                return Err(NameError::new(vs, end, message));
            }
        };
        let span = (ls, i);
        if let Some((_, _, first)) = pairs.iter().find(|(n, _, _)| *n == label) {
            return Err(NameError {
                first: Some(*first),
                ..NameError::new(ls, i, format!("the label `{label}` is given twice"))
            });
        }
        if label == "__name__" {
            name = Some((value.clone(), span));
        }
        pairs.push((label, value, span));
        i = skip_space(b, i);
        match b.get(i) {
            Some(b',') => i += 1,
            Some(b'}') => {}
            None => return Err(unclosed()),
            Some(_) => {
                let end = char_end(s, i);
                return Err(NameError::new(
                    i,
                    end,
                    format!("expected `,` or `}}` after the label `{label}`, found `{}`", &s[i..end]),
                ));
            }
        }
    }
    let labels = Labels::from_pairs(pairs.into_iter().map(|(n, v, _)| (n, v)));
    Ok(Braces { labels, name, end: i })
}

fn matcher(start: usize, end: usize) -> NameError {
    NameError::new(start, end, "a series gives each label a value with `=`; `!=`, `=~` and `!~` only match")
}

/// Just past the character at `i` (or `i` at the end).
fn char_end(s: &str, i: usize) -> usize {
    s.get(i..).and_then(|rest| rest.chars().next()).map_or(i, |c| i + c.len_utf8())
}

fn skip_space(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && b[i].is_ascii_whitespace() {
        i += 1;
    }
    i
}

/// Reads the PromQL string starting with the quote at `*i`, advancing past its closing quote.
fn quoted(s: &str, i: &mut usize) -> Result<String, NameError> {
    let start = *i;
    let b = s.as_bytes();
    let quote = b[start];
    let mut out: Vec<u8> = Vec::new();
    let mut j = start + 1;
    let unterminated =
        || NameError::new(start, s.trim_end().len().max(start + 1), "this label value has no closing quote");
    loop {
        let Some(&c) = b.get(j) else { return Err(unterminated()) };
        if c == quote {
            j += 1;
            break;
        }
        if c == b'\n' && quote != b'`' {
            return Err(unterminated());
        }
        if c != b'\\' || quote == b'`' {
            out.push(c);
            j += 1;
            continue;
        }
        let esc_start = j;
        let Some(&e) = b.get(j + 1) else { return Err(unterminated()) };
        j += 2;
        let simple = match e {
            b'a' => Some(0x07),
            b'b' => Some(0x08),
            b'f' => Some(0x0c),
            b'n' => Some(b'\n'),
            b'r' => Some(b'\r'),
            b't' => Some(b'\t'),
            b'v' => Some(0x0b),
            b'\\' => Some(b'\\'),
            _ if e == quote => Some(quote),
            _ => None,
        };
        if let Some(byte) = simple {
            out.push(byte);
            continue;
        }
        let (digits, radix) = match e {
            b'x' => (2, 16),
            b'u' => (4, 16),
            b'U' => (8, 16),
            b'0'..=b'7' => {
                j -= 1;
                (3, 8)
            }
            _ => {
                let end = char_end(s, esc_start + 1);
                return Err(NameError::new(
                    esc_start,
                    end,
                    format!("`{}` is not an escape PromQL knows", &s[esc_start..end]),
                ));
            }
        };
        let end = (j + digits).min(s.len());
        let text = s.get(j..end).unwrap_or_default();
        let bad = || {
            let end = s[esc_start..]
                .char_indices()
                .nth(digits + if radix == 8 { 1 } else { 2 })
                .map_or(s.len(), |(k, _)| esc_start + k);
            NameError::new(
                esc_start,
                end.min(s.len()),
                format!("`{}` is not a complete escape", &s[esc_start..end.min(s.len())]),
            )
        };
        if text.len() != digits || !text.bytes().all(|d| (d as char).is_digit(radix)) {
            return Err(bad());
        }
        let n = u32::from_str_radix(text, radix).map_err(|_| bad())?;
        j = end;
        if digits <= 3 {
            // `\xHH` and octal are bytes, as in Go.
            let byte = u8::try_from(n).map_err(|_| bad())?;
            out.push(byte);
        } else {
            let c = char::from_u32(n).ok_or_else(|| {
                NameError::new(esc_start, end, format!("`{}` is not a Unicode character", &s[esc_start..end]))
            })?;
            let mut buf = [0; 4];
            out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
        }
    }
    *i = j;
    String::from_utf8(out)
        .map_err(|_| NameError::new(start, j, "this label value is not valid UTF-8 once its escapes are read"))
}

/// Label sets already read, so that a label text or object seen again gives the same [`Labels`] without
/// parsing or allocating. Readers keep one per file.
#[derive(Default)]
pub(crate) struct LabelInterner {
    /// By the exact text of a whole series name (`m{instance="a"}`).
    by_name: HashMap<Box<str>, (Box<str>, Labels)>,
    /// By the exact text of a label set alone (`{instance="a"}`).
    by_set: HashMap<Box<str>, Labels>,
    /// By a hash of the pairs as given (a JSON object), each candidate compared pair by pair.
    by_pairs: HashMap<u64, Vec<Labels>>,
    hasher: std::collections::hash_map::RandomState,
}

impl LabelInterner {
    /// The metric name and labels of `text` written as `name{...}` (see [`parse_series_name`]).
    pub(crate) fn series_name(&mut self, text: &str) -> Result<(&str, &Labels), NameError> {
        if !self.by_name.contains_key(text) {
            let (name, labels) = parse_series_name(text)?;
            self.by_name.insert(text.into(), (name.as_ref().into(), labels));
        }
        Ok(self.by_name.get(text).map_or(("", empty()), |(n, l)| (n.as_ref(), l)))
    }

    /// The labels of `text` written as `{...}` alone (see [`parse_label_set`]).
    pub(crate) fn label_set(&mut self, text: &str) -> Result<&Labels, NameError> {
        if !self.by_set.contains_key(text) {
            let labels = parse_label_set(text)?;
            self.by_set.insert(text.into(), labels);
        }
        Ok(self.by_set.get(text).unwrap_or(empty()))
    }

    /// The labels of name-value pairs (`__name__` and empty values dropped, as [`Labels::from_pairs`] does);
    /// the pairs must have distinct names.
    pub(crate) fn pairs<'a, I>(&mut self, pairs: I) -> &Labels
    where
        I: Iterator<Item = (&'a str, &'a str)> + Clone,
    {
        let kept = pairs.filter(|(k, v)| *k != "__name__" && !v.is_empty());
        let mut h = self.hasher.build_hasher();
        let mut n = 0;
        for (k, v) in kept.clone() {
            (k, v).hash(&mut h);
            n += 1;
        }
        let bucket = self.by_pairs.entry(h.finish()).or_default();
        let found = bucket.iter().position(|l| l.len() == n && kept.clone().all(|(k, v)| l.get(k) == Some(v)));
        let at = match found {
            Some(at) => at,
            None => {
                bucket.push(Labels::from_pairs(kept));
                bucket.len() - 1
            }
        };
        &bucket[at]
    }
}

fn empty() -> &'static Labels {
    static EMPTY: std::sync::OnceLock<Labels> = std::sync::OnceLock::new();
    EMPTY.get_or_init(Labels::empty)
}
