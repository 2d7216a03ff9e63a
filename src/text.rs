//! Text shown to a person on a terminal. A runbook, an operator's `--reason`, a value from the API or an
//! alert can hold control characters (ESC starts a terminal escape sequence that can rewrite the screen,
//! set the window title or hide what follows; bidirectional overrides reorder what is read). Every printer
//! of such text (diagnostics, `runs`, `runs show`, `report`, progress lines) passes it through here first.
//! JSON output needs none of this: serde escapes control characters itself.
//!
//! INVARIANT: ordinary text (printable characters, newlines and tabs where a function keeps them) comes out
//! unchanged, so what people read and snapshots hold does not move.

use std::borrow::Cow;

/// Whether `c` must not reach a terminal as is: C0 and C1 controls and DEL, and the invisible characters
/// that reorder or hide text (bidirectional marks, embeddings, overrides and isolates).
fn is_dangerous(c: char) -> bool {
    c.is_control() || matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

fn escape(text: &str, keep: impl Fn(char) -> bool) -> Cow<'_, str> {
    if !text.chars().any(|c| is_dangerous(c) && !keep(c)) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if !is_dangerous(c) || keep(c) {
            out.push(c);
        } else if (c as u32) < 0x80 {
            out.push_str(&format!("\\x{:02x}", c as u32));
        } else {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        }
    }
    Cow::Owned(out)
}

/// Multi-line text for a terminal: newlines and tabs kept, every other control character written as an
/// escape (`\x1b`, `\u{202e}`).
pub fn for_terminal(text: &str) -> Cow<'_, str> {
    escape(text, |c| c == '\n' || c == '\t')
}

/// One line for a terminal (a table cell, a field of a list): every control character written as an
/// escape, newlines and tabs included.
pub fn escape_control(text: &str) -> Cow<'_, str> {
    escape(text, |_| false)
}

/// Source text for a renderer that points at byte offsets (miette): each dangerous character is replaced
/// by placeholders of the same length in bytes (`?` per byte, U+FFFD for three), so every span still
/// points at the same text. Line breaks and tabs are kept.
pub fn blank_controls(text: &str) -> Cow<'_, str> {
    let keep = |c: char| matches!(c, '\n' | '\r' | '\t');
    if !text.chars().any(|c| is_dangerous(c) && !keep(c)) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if !is_dangerous(c) || keep(c) {
            out.push(c);
        } else if c.len_utf8() == 3 {
            out.push('\u{fffd}');
        } else {
            out.extend(std::iter::repeat_n('?', c.len_utf8()));
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinary_text_is_unchanged() {
        let text = "level 1 \"Roll back\"\n\tété ✓ ${reason} 'q' \\ %";
        assert!(matches!(for_terminal(text), Cow::Borrowed(_)));
        assert!(matches!(blank_controls(text), Cow::Borrowed(_)));
        assert_eq!(escape_control("a\tb\nc"), "a\\x09b\\x0ac");
    }

    #[test]
    fn escapes_are_made_visible() {
        assert_eq!(for_terminal("x\u{1b}]0;pwned\u{7}y\n"), "x\\x1b]0;pwned\\x07y\n");
        assert_eq!(for_terminal("a\u{202e}b\u{9b}c\u{7f}"), "a\\u{202e}b\\u{9b}c\\x7f");
        assert_eq!(escape_control("a\r\nb"), "a\\x0d\\x0ab");
    }

    #[test]
    fn blanking_keeps_offsets() {
        let text = "a\u{1b}[2Jb\u{9b}c\u{202e}d\r\n";
        let blank = blank_controls(text);
        assert_eq!(blank.len(), text.len());
        assert_eq!(blank, "a?[2Jb??c\u{fffd}d\r\n");
    }
}
