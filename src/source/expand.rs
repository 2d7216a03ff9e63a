//! promtool's expanding notation for `values:` strings, as Prometheus 2.42's series-description lexer and
//! grammar read it (promql/parser lex.go and generated_parser.y):
//!
//! - items are separated by white space; each is one of
//! - `a` one value; `_` one missing sample; `stale` a staleness marker (only lower case, and it cannot be
//!   repeated: `stalex3` is one unknown word to promtool too);
//! - `axn` the value `a` n+1 times; `_xn` n missing samples (n, not n+1);
//! - `a+bxn` / `a-bxn` n+1 values starting at `a`, each the previous plus (or minus) `b`, added step by step
//!   as promtool does (so `0.1+0.1x2` gives promtool's floating-point sums, not products);
//! - numbers are decimal with optional fraction and exponent, or `Inf`/`NaN` in any case; a sign belongs to
//!   the number (`-1`, `+2`); a number with a leading zero and only octal digits is octal (`010` is 8), as Go's
//!   `strconv.ParseInt(s, 0, 64)` reads it; repetition counts are plain decimal integers.

/// One position in the sequence: a value, or a step with no sample.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Item {
    Value(f64),
    Missing,
}

/// A problem, with the byte range inside the values string it concerns.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct ExpandError {
    pub(crate) start: usize,
    pub(crate) end: usize,
    pub(crate) message: String,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Tok {
    Space,
    Add,
    Sub,
    Times,
    Blank,
    /// A number token; the text is re-read when its meaning (value or count) is known.
    Number,
    Ident,
}

#[derive(Clone, Copy, Debug)]
struct Token {
    tok: Tok,
    start: usize,
    end: usize,
}

fn err(start: usize, end: usize, message: impl Into<String>) -> ExpandError {
    ExpandError { start, end: end.max(start), message: message.into() }
}

fn is_alpha(b: u8) -> bool {
    b == b'_' || b.is_ascii_alphabetic()
}

fn lex(s: &str) -> Result<Vec<Token>, ExpandError> {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let start = i;
        let c = b[i];
        let tok = match c {
            b' ' | b'\t' | b'\n' | b'\r' => {
                while i < b.len() && matches!(b[i], b' ' | b'\t' | b'\n' | b'\r') {
                    i += 1;
                }
                out.push(Token { tok: Tok::Space, start, end: i });
                continue;
            }
            b'+' => Tok::Add,
            b'-' => Tok::Sub,
            b'x' => Tok::Times,
            b'_' => Tok::Blank,
            _ if c.is_ascii_digit() || (c == b'.' && b.get(i + 1).is_some_and(u8::is_ascii_digit)) => {
                i = scan_number(b, i);
                let ok = match b.get(i) {
                    None => true,
                    Some(&n) => n == b'x' || !(is_alpha(n) || n.is_ascii_digit()),
                };
                if !ok {
                    let mut end = i;
                    while end < b.len() && (is_alpha(b[end]) || b[end].is_ascii_digit()) {
                        end += 1;
                    }
                    return Err(err(start, end, format!("bad number `{}`", &s[start..end])));
                }
                out.push(Token { tok: Tok::Number, start, end: i });
                continue;
            }
            _ if is_alpha(c) => {
                while i < b.len() && (is_alpha(b[i]) || b[i].is_ascii_digit() || b[i] == b':') {
                    i += 1;
                }
                let word = &s[start..i];
                let tok = if word.eq_ignore_ascii_case("inf") || word.eq_ignore_ascii_case("nan") {
                    Tok::Number
                } else {
                    Tok::Ident
                };
                out.push(Token { tok, start, end: i });
                continue;
            }
            _ => {
                let end = next_boundary(s, i + 1);
                return Err(err(start, end, format!("unexpected character `{}` in values", &s[start..end])));
            }
        };
        i += 1;
        out.push(Token { tok, start, end: i });
    }
    Ok(out)
}

/// The end of the character starting at or before `i` (for error spans that must not split a character).
fn next_boundary(s: &str, mut i: usize) -> usize {
    i = i.min(s.len());
    while i < s.len() && !s.is_char_boundary(i) {
        i += 1;
    }
    i
}

/// Scans `digits [. digits] [e [+-] digits]` from `i`, returning where it stopped.
fn scan_number(b: &[u8], mut i: usize) -> usize {
    let digits = |b: &[u8], mut i: usize| {
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        i
    };
    i = digits(b, i);
    if b.get(i) == Some(&b'.') {
        i = digits(b, i + 1);
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        i = digits(b, i);
    }
    i
}

/// A number's value, as Go's `ParseInt(s, 0, 64)` then `ParseFloat(s, 64)` would read it.
fn number_value(text: &str) -> Option<f64> {
    let bytes = text.as_bytes();
    if bytes.len() > 1 && bytes[0] == b'0' && bytes.iter().all(|c| (b'0'..=b'7').contains(c)) {
        if let Ok(n) = i64::from_str_radix(&text[1..], 8) {
            return Some(n as f64);
        }
    } else if bytes.iter().all(u8::is_ascii_digit)
        && let Ok(n) = text.parse::<i64>()
    {
        return Some(n as f64);
    }
    text.parse::<f64>().ok()
}

struct Parser<'a> {
    s: &'a str,
    toks: Vec<Token>,
    pos: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<Token> {
        self.toks.get(self.pos).copied()
    }

    fn peek_is(&self, tok: Tok) -> bool {
        self.peek().is_some_and(|t| t.tok == tok)
    }

    fn text(&self, t: Token) -> &str {
        &self.s[t.start..t.end]
    }

    fn unexpected(&self, expected: &str) -> ExpandError {
        match self.peek() {
            Some(t) if t.tok == Tok::Space => {
                err(t.start, t.end, format!("unexpected space in values, expected {expected}"))
            }
            Some(t) => err(t.start, t.end, format!("unexpected `{}` in values, expected {expected}", self.text(t))),
            None => err(self.s.len(), self.s.len(), format!("values end early, expected {expected}")),
        }
    }

    fn number(&mut self) -> Result<f64, ExpandError> {
        match self.peek() {
            Some(t) if t.tok == Tok::Number => {
                self.pos += 1;
                number_value(self.text(t))
                    .ok_or_else(|| err(t.start, t.end, format!("`{}` is not a number", self.text(t))))
            }
            _ => Err(self.unexpected("a number")),
        }
    }

    /// `+n` or `-n`, if the next token is a sign.
    fn signed_number(&mut self) -> Result<Option<f64>, ExpandError> {
        let negative = match self.peek().map(|t| t.tok) {
            Some(Tok::Add) => false,
            Some(Tok::Sub) => true,
            _ => return Ok(None),
        };
        self.pos += 1;
        let n = self.number()?;
        Ok(Some(if negative { -n } else { n }))
    }

    /// `x` followed by a repetition count.
    fn times(&mut self) -> Result<Option<(u64, Token)>, ExpandError> {
        if !self.peek_is(Tok::Times) {
            return Ok(None);
        }
        self.pos += 1;
        match self.peek() {
            Some(t) if t.tok == Tok::Number => {
                self.pos += 1;
                let text = self.text(t);
                let n = if text.bytes().all(|c| c.is_ascii_digit()) { text.parse::<u64>().ok() } else { None };
                n.map(|n| Some((n, t)))
                    .ok_or_else(|| err(t.start, t.end, format!("`{text}` is not a repetition count (a whole number)")))
            }
            _ => Err(self.unexpected("a repetition count after `x`")),
        }
    }

    fn item(
        &mut self,
        out: &mut Vec<Item>,
        budget: &mut dyn FnMut(u64, usize, usize) -> Result<(), ExpandError>,
    ) -> Result<(), ExpandError> {
        let Some(first) = self.peek() else {
            return Ok(());
        };
        if first.tok == Tok::Blank {
            self.pos += 1;
            let n = match self.times()? {
                Some((n, _)) => n,
                None => 1,
            };
            let end = self.toks.get(self.pos.saturating_sub(1)).map_or(first.end, |t| t.end);
            budget(n, first.start, end)?;
            out.extend(std::iter::repeat_n(Item::Missing, n as usize));
            return Ok(());
        }
        let start = match first.tok {
            Tok::Ident => {
                self.pos += 1;
                if self.text(first) != "stale" {
                    return Err(err(
                        first.start,
                        first.end,
                        format!("unknown word `{}` in values, expected a number or `stale`", self.text(first)),
                    ));
                }
                super::series::STALE_NAN
            }
            Tok::Number => self.number()?,
            Tok::Add | Tok::Sub => self.signed_number()?.unwrap_or_default(),
            _ => return Err(self.unexpected("a number, `_` or `stale`")),
        };
        let step = self.signed_number()?;
        let times = self.times()?;
        let end = self.toks.get(self.pos.saturating_sub(1)).map_or(first.end, |t| t.end);
        match (step, times) {
            (None, None) => {
                budget(1, first.start, end)?;
                out.push(Item::Value(start));
            }
            (step, Some((n, _))) => {
                let count =
                    n.checked_add(1).ok_or_else(|| err(first.start, end, "the repetition count is too large"))?;
                budget(count, first.start, end)?;
                let step = step.unwrap_or(0.0);
                let mut v = start;
                for i in 0..count {
                    out.push(Item::Value(v));
                    if i == 0 && super::series::is_stale(v) {
                        // Arithmetic on the marker gives an ordinary NaN, as in promtool.
                        v = f64::NAN;
                    } else {
                        v += step;
                    }
                }
            }
            (Some(_), None) => {
                return Err(self.unexpected("`x` and a repetition count after the step"));
            }
        }
        Ok(())
    }
}

/// Expands a `values:` string. `budget(n, start, end)` is asked before `n` items are produced, so that a
/// huge repetition is refused before it is allocated.
pub(crate) fn expand(
    s: &str,
    budget: &mut dyn FnMut(u64, usize, usize) -> Result<(), ExpandError>,
) -> Result<Vec<Item>, ExpandError> {
    let mut p = Parser { s, toks: lex(s)?, pos: 0 };
    let mut out = Vec::new();
    loop {
        while p.peek_is(Tok::Space) {
            p.pos += 1;
        }
        if p.peek().is_none() {
            return Ok(out);
        }
        p.item(&mut out, budget)?;
        if p.peek().is_some() && !p.peek_is(Tok::Space) {
            return Err(p.unexpected("a space before the next value"));
        }
    }
}
