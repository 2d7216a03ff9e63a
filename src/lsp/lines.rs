//! Byte offsets to LSP positions and back. LSP counts columns in UTF-16 code units; the library counts
//! bytes. Built once per document version and shared by every feature.

/// A line/column pair as LSP writes it: 0-based line, 0-based UTF-16 column.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Pos {
    pub line: u32,
    pub character: u32,
}

#[derive(Clone, Debug)]
pub struct Lines {
    /// Byte offset of the start of each line.
    starts: Vec<usize>,
    len: usize,
}

impl Lines {
    pub fn new(text: &str) -> Lines {
        let mut starts = vec![0];
        starts.extend(text.bytes().enumerate().filter(|&(_, b)| b == b'\n').map(|(i, _)| i + 1));
        Lines { starts, len: text.len() }
    }

    pub fn line_count(&self) -> usize {
        self.starts.len()
    }

    /// The byte range of line `line` (0-based), without its line feed.
    pub fn line_range(&self, text: &str, line: usize) -> Option<(usize, usize)> {
        let start = *self.starts.get(line)?;
        let end = self.starts.get(line + 1).map_or(self.len, |next| next - 1);
        Some((start, end.max(start).min(text.len())))
    }

    /// The position of byte `offset` (clamped to the text, and back to a character boundary).
    pub fn pos(&self, text: &str, offset: usize) -> Pos {
        let mut offset = offset.min(text.len());
        while offset > 0 && !text.is_char_boundary(offset) {
            offset -= 1;
        }
        let line = match self.starts.binary_search(&offset) {
            Ok(i) => i,
            Err(i) => i.saturating_sub(1),
        };
        let start = self.starts[line];
        let character: usize = text[start..offset].chars().map(char::len_utf16).sum();
        Pos { line: u32::try_from(line).unwrap_or(u32::MAX), character: u32::try_from(character).unwrap_or(u32::MAX) }
    }

    /// The byte offset of a position; a position past the end of its line is the end of the line, past the
    /// last line is the end of the text.
    pub fn offset(&self, text: &str, pos: Pos) -> usize {
        let Some((start, end)) = self.line_range(text, pos.line as usize) else {
            return text.len();
        };
        let mut units = 0usize;
        for (i, c) in text[start..end].char_indices() {
            if units >= pos.character as usize {
                return start + i;
            }
            units += c.len_utf16();
        }
        end
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_ascii_and_wide_characters() {
        let text = "ab\n\u{e9}x\u{1F600}y\n";
        let lines = Lines::new(text);
        assert_eq!(lines.pos(text, 0), Pos { line: 0, character: 0 });
        assert_eq!(lines.pos(text, 3), Pos { line: 1, character: 0 });
        let y = text.find('y').unwrap_or(0);
        assert_eq!(lines.pos(text, y), Pos { line: 1, character: 4 });
        assert_eq!(lines.offset(text, Pos { line: 1, character: 4 }), y);
        assert_eq!(lines.offset(text, Pos { line: 1, character: 99 }), text.len() - 1);
        assert_eq!(lines.offset(text, Pos { line: 9, character: 0 }), text.len());
    }
}
