//! Bounds checked before pest runs, in one linear pass: file size, line length, nesting depth and
//! unterminated strings. Pest and the lowering recurse per nesting level, so bounding depth here makes the
//! answer the same in debug and release builds and on any thread stack.

use crate::diagnostic::{Code, Diagnostic};
use crate::span::Span;

/// Files larger than this are refused before they are read into a parse.
pub const MAX_FILE_BYTES: usize = 8 * 1024 * 1024;
/// Parentheses and braces may nest this deep (a runbook needs about 4; conditions rarely 5).
pub const MAX_DEPTH: usize = 64;
/// Lines longer than this are refused: no hand-written runbook has one, and generated junk often does.
pub const MAX_LINE_BYTES: usize = 64 * 1024;

pub(super) fn prescan(text: &str) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    if text.len() > MAX_FILE_BYTES {
        out.push(
            Diagnostic::new(
                Code::FileTooLarge,
                Span::new(0, 0),
                format!("file is {} bytes; the limit is 8 MiB", text.len()),
            )
            .label("file starts here")
            .help("split the runbook; no runbook needs megabytes of text"),
        );
        return out;
    }
    let bytes = text.as_bytes();
    let mut depth_stack: Vec<usize> = Vec::new();
    let mut i = 0;
    let mut line_start = 0;
    let mut reported_line = false;
    while i < bytes.len() {
        let b = bytes[i];
        match b {
            b'\n' => {
                check_line(&mut out, line_start, i, &mut reported_line);
                line_start = i + 1;
                reported_line = false;
                i += 1;
            }
            b'#' => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
            }
            b'"' => {
                let open = i;
                i += 1;
                loop {
                    match bytes.get(i) {
                        None | Some(b'\n') => {
                            out.push(
                                Diagnostic::new(Code::UnterminatedString, Span::new(open, open + 1), "unterminated string")
                                    .label("this string is not closed on its line")
                                    .help("close it with `\"`; strings are one line (write `\\n` for a line break), raw strings use backticks"),
                            );
                            return out;
                        }
                        Some(b'\\') if bytes.get(i + 1) != Some(&b'\n') => i += 2,
                        Some(b'"') => {
                            i += 1;
                            break;
                        }
                        Some(_) => i += 1,
                    }
                }
            }
            b'`' => {
                let open = i;
                i += 1;
                while i < bytes.len() && bytes[i] != b'`' {
                    if bytes[i] == b'\n' {
                        check_line(&mut out, line_start, i, &mut reported_line);
                        line_start = i + 1;
                        reported_line = false;
                    }
                    i += 1;
                }
                if i >= bytes.len() {
                    out.push(
                        Diagnostic::new(Code::UnterminatedString, Span::new(open, open + 1), "unterminated raw string")
                            .label("this raw string has no closing backtick")
                            .help("close it with a backtick"),
                    );
                    return out;
                }
                i += 1;
            }
            b'(' | b'{' => {
                depth_stack.push(i);
                if depth_stack.len() > MAX_DEPTH {
                    out.push(
                        Diagnostic::new(
                            Code::NestingTooDeep,
                            Span::new(i, i + 1),
                            format!("nesting deeper than {MAX_DEPTH} levels"),
                        )
                        .label(format!("level {} opens here", MAX_DEPTH + 1))
                        .help(
                            "flatten the expression or the parallel blocks; 64 levels is far more than a runbook needs",
                        ),
                    );
                    return out;
                }
                i += 1;
            }
            b')' | b'}' => {
                depth_stack.pop();
                i += 1;
            }
            _ => i += 1,
        }
        if !reported_line && i.saturating_sub(line_start) > MAX_LINE_BYTES {
            // Report once per line, as soon as it passes the limit, so the scan stays linear.
            check_line(&mut out, line_start, i, &mut reported_line);
            return out;
        }
    }
    check_line(&mut out, line_start, bytes.len(), &mut reported_line);
    out
}

fn check_line(out: &mut Vec<Diagnostic>, start: usize, end: usize, reported: &mut bool) {
    if *reported || end - start <= MAX_LINE_BYTES {
        return;
    }
    *reported = true;
    out.push(
        Diagnostic::new(Code::LineTooLong, Span::new(start, start + 1), "line longer than 64 KiB")
            .label("this line passes the 64 KiB limit")
            .help("break the line; long queries fit in a raw string over several lines"),
    );
}

/// Operators outside strings and comments, the characters `+ - * / < > = !` and the words `and`, `or`,
/// `unless`, `not`:
/// an upper bound on how deep an expression tree can get, counted in one pass over the bytes.
pub fn operator_count(text: &str) -> usize {
    let bytes = text.as_bytes();
    let mut count = 0;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'#' => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
            }
            b'"' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' && bytes[i] != b'\n' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
            }
            b'`' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'`' {
                    i += 1;
                }
            }
            b'+' | b'-' | b'*' | b'/' | b'<' | b'>' | b'=' | b'!' => count += 1,
            c if is_word_byte(c) => {
                let start = i;
                while i + 1 < bytes.len() && is_word_byte(bytes[i + 1]) {
                    i += 1;
                }
                if matches!(&bytes[start..=i], b"and" | b"or" | b"unless" | b"not") {
                    count += 1;
                }
            }
            _ => {}
        }
        i += 1;
    }
    count
}

fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deep_parentheses_are_reported_at_the_line_where_they_are() {
        let text =
            format!("runbook x {{\n  trigger t: {}a{} > 1 -> level 1\n}}", "(".repeat(100_000), ")".repeat(100_000));
        let d = prescan(&text);
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].code, Code::NestingTooDeep);
        assert_eq!(crate::span::LineIndex::new(&text).line(d[0].span.start), 2);
    }

    #[test]
    fn word_operators_count_as_operators() {
        assert_eq!(operator_count("not not a and b or c > 1"), 5);
        assert_eq!(operator_count("a > 1 unless on(x) b > 1"), 3);
        assert_eq!(operator_count("android order nothing # and or not\n\"and or\""), 0);
    }

    #[test]
    fn brackets_in_strings_and_comments_do_not_count() {
        let text = format!("runbook x {{ # {}\n description \"{}\" }}", "(".repeat(200), "{".repeat(200));
        assert!(prescan(&text).is_empty());
    }
}
