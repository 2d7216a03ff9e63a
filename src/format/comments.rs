//! Comments are silent in the grammar, so the syntax tree has none. This scan finds them again, with their
//! positions, in one linear pass that skips strings the way `syntax/limits.rs` does: a `#` inside `"..."` or
//! inside a raw string is text, not a comment.

/// One `# ...` comment, from its `#` to the end of its line (trailing white space and CR removed).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Comment {
    /// Byte offset of the `#`.
    pub start: usize,
    pub text: String,
}

/// Every comment of `text`, in order.
pub(crate) fn scan(text: &str) -> Vec<Comment> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'#' => {
                let start = i;
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
                out.push(Comment { start, text: text[start..i].trim_end().to_string() });
            }
            b'"' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' && bytes[i] != b'\n' {
                    // An escape takes the next byte with it (`\"` does not close the string).
                    i += if bytes[i] == b'\\' && bytes.get(i + 1).is_some_and(|&b| b != b'\n') { 2 } else { 1 };
                }
                i += 1;
            }
            b'`' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'`' {
                    i += 1;
                }
                i += 1;
            }
            _ => i += 1,
        }
    }
    out
}

/// The trivia between two nodes, line by line: what a gap of white space and comments holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Piece {
    /// One or more empty lines (collapsed when printed).
    Blank,
    /// A comment on a line of its own.
    Comment(String),
}

/// What a gap `text[from..to]` between two nodes holds: the comment that ends the line the gap starts on
/// (a trailing comment of whatever came before), then each whole line, blank or a comment.
///
/// `first_is_line` says that the gap starts at the beginning of a line (the start of the file), so its first
/// segment is a whole line, not the rest of a line with code on it. `last_is_line` says the gap ends at the
/// end of the file, so its last segment is a whole line, not the indentation before the next node.
pub(crate) fn gap(text: &str, from: usize, to: usize, first_is_line: bool, last_is_line: bool) -> Gap {
    let mut out = Gap::default();
    let Some(slice) = text.get(from..to.max(from)) else {
        return out;
    };
    let segments: Vec<&str> = slice.split('\n').collect();
    let last = segments.len() - 1;
    for (i, segment) in segments.iter().enumerate() {
        let whole = (i > 0 || first_is_line) && (i < last || last_is_line);
        let trimmed = segment.trim();
        if i == 0 && !first_is_line {
            if trimmed.starts_with('#') {
                out.trailing = Some(trimmed.to_string());
            }
            continue;
        }
        if !whole {
            continue;
        }
        if trimmed.is_empty() {
            out.pieces.push(Piece::Blank);
        } else if trimmed.starts_with('#') {
            out.pieces.push(Piece::Comment(trimmed.to_string()));
        }
    }
    out
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Gap {
    pub trailing: Option<String>,
    pub pieces: Vec<Piece>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_in_strings_are_not_comments() {
        let text = "a \"x # y\" # one\n`raw # not\n` b # two \r\n\"esc \\\" # no\" # three";
        let found: Vec<String> = scan(text).into_iter().map(|c| c.text).collect();
        assert_eq!(found, ["# one", "# two", "# three"]);
    }

    #[test]
    fn an_unterminated_string_ends_at_its_line() {
        let found: Vec<String> = scan("\"open # not\n# yes").into_iter().map(|c| c.text).collect();
        assert_eq!(found, ["# yes"]);
    }

    #[test]
    fn gaps_split_into_trailing_blank_and_comment_lines() {
        let text = "x  # after x\n\n  # about y\n\n\n  y";
        let g = gap(text, 1, text.len() - 1, false, false);
        assert_eq!(g.trailing.as_deref(), Some("# after x"));
        assert_eq!(g.pieces, [Piece::Blank, Piece::Comment("# about y".into()), Piece::Blank, Piece::Blank]);
        let g = gap("# head\n\nrunbook", 0, 8, true, false);
        assert_eq!(g.trailing, None);
        assert_eq!(g.pieces, [Piece::Comment("# head".into()), Piece::Blank]);
        let g = gap("}\n# tail", 1, 8, false, true);
        assert_eq!(g.pieces, [Piece::Comment("# tail".into())]);
    }
}
