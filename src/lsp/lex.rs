//! A forgiving scanner for the editor: words, numbers, strings, comments and punctuation, on any text,
//! finished or not. The parser is the authority on what a runbook means; this scanner only has to say what
//! each piece of a half-typed line is, for completion and for semantic tokens. Linear, never fails.

use super::engine;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Keyword,
    Ident,
    /// A number with its unit, as written: `42`, `5%`, `1h30m`.
    Number,
    /// A quoted string (to its closing quote or the end of its line) or a raw string (to its backtick).
    String,
    Comment,
    /// `->`, `>=`, `(`, `{`, `:`, ...
    Punct,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Token {
    pub kind: Kind,
    pub start: usize,
    pub end: usize,
}

impl Token {
    pub fn text<'t>(&self, text: &'t str) -> &'t str {
        text.get(self.start..self.end).unwrap_or("")
    }
}

fn is_ident_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_'
}

fn is_ident_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// Every token of the text, in order.
pub fn tokens(text: &str) -> Vec<Token> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        let start = i;
        let kind = match b {
            b' ' | b'\t' | b'\r' | b'\n' => {
                i += 1;
                continue;
            }
            b'#' => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
                Kind::Comment
            }
            b'"' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' && bytes[i] != b'\n' {
                    i += if bytes[i] == b'\\' && i + 1 < bytes.len() && bytes[i + 1] != b'\n' { 2 } else { 1 };
                }
                if i < bytes.len() && bytes[i] == b'"' {
                    i += 1;
                }
                Kind::String
            }
            b'`' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'`' {
                    i += 1;
                }
                i = (i + 1).min(bytes.len());
                Kind::String
            }
            b'0'..=b'9' => {
                while i < bytes.len() && (is_ident_char(bytes[i]) || bytes[i] == b'.' || bytes[i] == b'%') {
                    // An exponent's sign: `1e-3`.
                    i += 1;
                    if i < bytes.len()
                        && (bytes[i] == b'-' || bytes[i] == b'+')
                        && matches!(bytes[i - 1], b'e' | b'E')
                        && bytes.get(i + 1).is_some_and(u8::is_ascii_digit)
                    {
                        i += 1;
                    }
                }
                Kind::Number
            }
            b if is_ident_start(b) => {
                while i < bytes.len() && is_ident_char(bytes[i]) {
                    i += 1;
                }
                if engine::is_keyword(&text[start..i]) { Kind::Keyword } else { Kind::Ident }
            }
            _ => {
                let two = bytes.get(i..i + 2).unwrap_or(&[]);
                i += if matches!(two, b"->" | b">=" | b"<=" | b"==" | b"!=" | b"${") { 2 } else { 1 };
                // Keep to character boundaries for any other byte.
                while i < bytes.len() && !text.is_char_boundary(i) {
                    i += 1;
                }
                Kind::Punct
            }
        };
        out.push(Token { kind, start, end: i });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scans_a_trigger_line() {
        let text = "trigger t: error_rate > 5% for 1m -> level 1 # note\n  step shell \"a \\\" b\"";
        let kinds: Vec<(Kind, &str)> = tokens(text).iter().map(|t| (t.kind, t.text(text))).collect();
        assert_eq!(
            kinds,
            vec![
                (Kind::Keyword, "trigger"),
                (Kind::Ident, "t"),
                (Kind::Punct, ":"),
                (Kind::Ident, "error_rate"),
                (Kind::Punct, ">"),
                (Kind::Number, "5%"),
                (Kind::Keyword, "for"),
                (Kind::Number, "1m"),
                (Kind::Punct, "->"),
                (Kind::Keyword, "level"),
                (Kind::Number, "1"),
                (Kind::Comment, "# note"),
                (Kind::Keyword, "step"),
                (Kind::Keyword, "shell"),
                (Kind::String, "\"a \\\" b\""),
            ]
        );
    }

    #[test]
    fn unfinished_text_still_scans() {
        let text = "step shell \"open\n`raw\nrest";
        let toks = tokens(text);
        assert_eq!(toks.last().map(|t| t.kind), Some(Kind::String));
        assert_eq!(tokens("1e-3").len(), 1);
        assert_eq!(tokens("\u{e9}\u{e9}").len(), 2);
    }
}
