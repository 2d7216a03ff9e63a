//! Where things are in a YAML file read with serde-saphyr: the span of a value, its line, a scalar's inner
//! bytes, and the position and reason of a parse error. Shared by the promtool series reader
//! (`source/promtool.rs`) and the test-file reader (`testing/`), so that both point at the same bytes.

use serde_saphyr::Spanned;

use crate::span::Span;

/// The bytes of `text` that a value was read from (clamped to the text).
pub fn span_of<T>(s: &Spanned<T>, text: &str) -> Span {
    let loc = s.referenced.span();
    let start = loc.byte_offset().and_then(|o| usize::try_from(o).ok()).unwrap_or(0).min(text.len());
    let len = loc.byte_len().and_then(|l| usize::try_from(l).ok()).unwrap_or(0);
    Span::new(start, start.saturating_add(len).min(text.len()))
}

/// The 1-based line a value starts on.
pub fn line_of<T>(s: &Spanned<T>) -> usize {
    usize::try_from(s.referenced.line()).unwrap_or(0)
}

/// Where a YAML string scalar sits in the text, and how to find a byte of its value inside it.
pub struct Scalar<'a> {
    pub value: &'a str,
    pub span: Span,
    /// Offset of the value's first byte from `span.start`, when the value appears verbatim (after an opening
    /// quote, if the scalar is quoted).
    inner: Option<usize>,
}

impl<'a> Scalar<'a> {
    pub fn new(text: &str, s: &'a Spanned<String>) -> Self {
        let span = span_of(s, text);
        let value = s.value.as_str();
        let inner = [0, 1].into_iter().find(|&skip| {
            let at = span.start + skip;
            text.get(at..at + value.len()) == Some(value)
        });
        Scalar { value, span, inner }
    }

    /// The span of bytes `start..end` of the value, or the whole scalar if they cannot be placed.
    pub fn part(&self, start: usize, end: usize) -> Span {
        match self.inner {
            Some(skip) => Span::new(self.span.start + skip + start, self.span.start + skip + end),
            None => self.span,
        }
    }
}

/// Where a parse error is (a byte offset on a character boundary), and why, without the position that the
/// span already shows.
pub fn error_at(text: &str, e: &serde_saphyr::Error) -> (usize, String) {
    let at = e.location().map_or(0, |l| {
        l.span()
            .byte_offset()
            .and_then(|o| usize::try_from(o).ok())
            .filter(|&o| o > 0)
            .unwrap_or_else(|| offset_of(text, l.line(), l.column()))
    });
    let at = crate::span::floor_char_boundary(text, at.min(text.len()));
    let rendered = e.to_string();
    let first = rendered.lines().find(|l| !l.trim().is_empty()).unwrap_or("invalid YAML").trim();
    let reason = first.strip_prefix("error: ").unwrap_or(first);
    let reason = match reason.strip_prefix("line ").and_then(|r| r.split_once(": ")) {
        Some((_, rest)) => rest,
        None => reason,
    };
    (at, reason.to_string())
}

/// The byte offset of a 1-based line and character column; the end of the line if the column is past it,
/// the end of the text if the line is.
fn offset_of(text: &str, line: u64, column: u64) -> usize {
    let line_start = if line <= 1 {
        0
    } else {
        let skip = usize::try_from(line - 1).unwrap_or(usize::MAX);
        text.match_indices('\n').nth(skip - 1).map_or(text.len(), |(i, _)| i + 1)
    };
    let column = usize::try_from(column.saturating_sub(1)).unwrap_or(usize::MAX);
    let rest = &text[line_start..];
    rest.char_indices()
        .take_while(|&(_, c)| c != '\n')
        .nth(column)
        .map_or_else(|| line_start + rest.find('\n').unwrap_or(rest.len()), |(i, _)| line_start + i)
}

#[cfg(test)]
mod tests {
    use super::offset_of;

    #[test]
    fn offsets_of_lines_and_columns() {
        let text = "ab\ncd\n";
        assert_eq!(offset_of(text, 1, 1), 0);
        assert_eq!(offset_of(text, 2, 2), 4);
        assert_eq!(offset_of(text, 2, 9), 5);
        assert_eq!(offset_of(text, 9, 1), text.len());
    }
}
