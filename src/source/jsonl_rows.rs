//! The fast path of the JSON Lines reader (see `rows.rs`): a scanner over one flat object, borrowing its
//! strings, with a `labels` object's text mapped to its interned label set; whatever it is not sure of (a
//! string with escapes, a nested value in an unknown field, a repeated key) goes to the full reader
//! (`jsonl.rs`).

use std::collections::HashMap;

use super::labels::{LabelInterner, valid_label_name};
use super::rows::{RowError, Sink, agree_base, plain_decimal, short_json_number, whole_seconds_ms};
use super::series::{Labels, TimeBase, valid_metric_name};
use super::time::{parse_time, parse_value, seconds_to_ms};
use crate::span::Span;

/// A JSON value the fast path reads.
#[derive(Clone, Copy)]
enum Json<'a> {
    Number(&'a str),
    /// The contents, without escapes.
    String(&'a str),
    Null,
    /// The whole object's text, `{...}`.
    Object(&'a str),
    Other,
}

/// Rows of one JSON Lines file.
#[derive(Default)]
pub(crate) struct JsonRows {
    interner: LabelInterner,
    base: Option<TimeBase>,
    /// Label objects by their exact text.
    objects: HashMap<Box<str>, Labels>,
    pairs: Vec<(String, String)>,
    none: Labels,
}

struct Scan<'a> {
    b: &'a [u8],
    s: &'a str,
    i: usize,
}

impl<'a> Scan<'a> {
    fn ws(&mut self) {
        while matches!(self.b.get(self.i), Some(b' ' | b'\t' | b'\r' | b'\n')) {
            self.i += 1;
        }
    }

    fn eat(&mut self, c: u8) -> Result<(), RowError> {
        self.ws();
        if self.b.get(self.i) == Some(&c) {
            self.i += 1;
            Ok(())
        } else {
            Err(RowError::Slow)
        }
    }

    /// A string without escapes, after its opening quote.
    fn string(&mut self) -> Result<&'a str, RowError> {
        let start = self.i;
        let len = self.b[start..].iter().position(|&c| c == b'"' || c == b'\\' || c < 0x20).ok_or(RowError::Slow)?;
        if self.b[start + len] != b'"' {
            return Err(RowError::Slow);
        }
        self.i = start + len + 1;
        Ok(&self.s[start..start + len])
    }

    fn value(&mut self, objects: bool) -> Result<Json<'a>, RowError> {
        self.ws();
        let start = self.i;
        match self.b.get(self.i) {
            Some(b'"') => {
                self.i += 1;
                self.string().map(Json::String)
            }
            Some(b'-' | b'0'..=b'9') => {
                while matches!(self.b.get(self.i), Some(b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9')) {
                    self.i += 1;
                }
                Ok(Json::Number(&self.s[start..self.i]))
            }
            Some(b'n') if self.b[start..].starts_with(b"null") => {
                self.i += 4;
                Ok(Json::Null)
            }
            Some(b't') if self.b[start..].starts_with(b"true") => {
                self.i += 4;
                Ok(Json::Other)
            }
            Some(b'f') if self.b[start..].starts_with(b"false") => {
                self.i += 5;
                Ok(Json::Other)
            }
            Some(b'{') if objects => {
                // A flat object of strings (labels); anything else goes the slow way.
                self.i += 1;
                self.ws();
                if self.b.get(self.i) == Some(&b'}') {
                    self.i += 1;
                    return Ok(Json::Object(&self.s[start..self.i]));
                }
                loop {
                    self.eat(b'"')?;
                    self.string()?;
                    self.eat(b':')?;
                    self.eat(b'"')?;
                    self.string()?;
                    self.ws();
                    match self.b.get(self.i) {
                        Some(b',') => self.i += 1,
                        Some(b'}') => {
                            self.i += 1;
                            return Ok(Json::Object(&self.s[start..self.i]));
                        }
                        _ => return Err(RowError::Slow),
                    }
                }
            }
            _ => Err(RowError::Slow),
        }
    }
}

/// A JSON number as serde_json reads it (`Value::as_f64`): plain short decimals directly, the rest through
/// serde_json itself, so that every value is the one the full reader gives.
fn number(text: &str) -> Option<f64> {
    if !json_number(text.as_bytes()) {
        return None;
    }
    if short_json_number(text)
        && let Some(v) = plain_decimal(text)
    {
        return Some(v);
    }
    serde_json::from_str::<f64>(text).ok()
}

/// Whether `b` is a JSON number: `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`.
fn json_number(b: &[u8]) -> bool {
    let digits = |b: &[u8], i: usize| b[i..].iter().take_while(|c| c.is_ascii_digit()).count();
    let mut i = usize::from(b.first() == Some(&b'-'));
    match (b.get(i), digits(b, i)) {
        (Some(b'0'), 1) => i += 1,
        (Some(b'1'..=b'9'), n) => i += n,
        _ => return false,
    }
    if b.get(i) == Some(&b'.') {
        let n = digits(b, i + 1);
        if n == 0 {
            return false;
        }
        i += 1 + n;
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        let n = digits(b, i);
        if n == 0 {
            return false;
        }
        i += n;
    }
    i == b.len()
}

impl JsonRows {
    /// Reads one line (without its line break) starting at `offset` in the file.
    #[inline]
    pub(crate) fn line(&mut self, line: &str, offset: usize, sink: &mut impl Sink) -> Result<(), RowError> {
        if !line.starts_with('{') && line.trim().is_empty() {
            return Ok(());
        }
        let mut scan = Scan { b: line.as_bytes(), s: line, i: 0 };
        let (mut time, mut metric, mut value, mut labels) = (None, None, None, None);
        scan.eat(b'{')?;
        scan.ws();
        if scan.b.get(scan.i) != Some(&b'}') {
            loop {
                scan.eat(b'"')?;
                let key = scan.string()?;
                scan.eat(b':')?;
                let slot = match key {
                    "time" => Some(&mut time),
                    "metric" => Some(&mut metric),
                    "value" => Some(&mut value),
                    "labels" => Some(&mut labels),
                    _ => None,
                };
                let v = scan.value(key == "labels")?;
                if let Some(slot) = slot {
                    if slot.is_some() {
                        return Err(RowError::Slow);
                    }
                    *slot = Some(v);
                }
                scan.ws();
                match scan.b.get(scan.i) {
                    Some(b',') => scan.i += 1,
                    Some(b'}') => break,
                    _ => return Err(RowError::Slow),
                }
            }
        }
        scan.i += 1;
        scan.ws();
        if scan.i != line.len() {
            return Err(RowError::Slow);
        }
        let (Some(time), Some(metric), Some(value)) = (time, metric, value) else {
            return Err(RowError::Slow);
        };
        let (t_ms, base) = match time {
            Json::Number(n) => {
                let ms = match whole_seconds_ms(n) {
                    Some(ms) if json_number(n.as_bytes()) => Some(ms),
                    _ => number(n).and_then(seconds_to_ms),
                };
                (ms.ok_or(RowError::Slow)?, TimeBase::Seconds)
            }
            Json::String(s) => parse_time(s).map_err(|_| RowError::Slow)?,
            _ => return Err(RowError::Slow),
        };
        agree_base(&mut self.base, base, sink)?;
        let v = match value {
            Json::Number(n) => number(n),
            Json::String(s) => parse_value(s),
            _ => None,
        }
        .ok_or(RowError::Slow)?;
        let span = Span::new(offset, offset + line.len());
        let Json::String(metric) = metric else { return Err(RowError::Slow) };
        if valid_metric_name(metric) {
            let labels = match labels {
                None | Some(Json::Null) => &self.none,
                Some(Json::Object(text)) => {
                    if !self.objects.contains_key(text) {
                        let labels = self.object(text)?;
                        self.objects.insert(text.into(), labels);
                    }
                    self.objects.get(text).ok_or(RowError::Slow)?
                }
                Some(_) => return Err(RowError::Slow),
            };
            sink.sample(metric, labels, t_ms, v, span)
        } else if metric.contains('{') && matches!(labels, None | Some(Json::Null)) {
            match self.interner.series_name(metric) {
                Ok((name, labels)) => sink.sample(name, labels, t_ms, v, span),
                Err(_) => Err(RowError::Slow),
            }
        } else {
            Err(RowError::Slow)
        }
    }

    /// The labels of a flat object of strings seen for the first time (checked as the full reader does).
    fn object(&mut self, text: &str) -> Result<Labels, RowError> {
        let mut scan = Scan { b: text.as_bytes(), s: text, i: 1 };
        self.pairs.clear();
        scan.ws();
        if scan.b.get(scan.i) != Some(&b'}') {
            loop {
                scan.eat(b'"')?;
                let k = scan.string()?;
                scan.eat(b':')?;
                scan.eat(b'"')?;
                let v = scan.string()?;
                if !valid_label_name(k) || k == "__name__" || self.pairs.iter().any(|(seen, _)| seen == k) {
                    return Err(RowError::Slow);
                }
                self.pairs.push((k.to_string(), v.to_string()));
                scan.ws();
                match scan.b.get(scan.i) {
                    Some(b',') => scan.i += 1,
                    _ => break,
                }
            }
        }
        Ok(self.interner.pairs(self.pairs.iter().map(|(k, v)| (k.as_str(), v.as_str()))).clone())
    }
}
