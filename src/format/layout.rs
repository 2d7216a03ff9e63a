//! The printed lines, and the two alignments applied to them before they become text: the conditions of
//! consecutive named triggers start in one column, and the trailing comments of consecutive one-line nodes
//! start in one column.
//!
//! Both alignments depend only on the lines themselves (a run ends at a blank line or at a line of another
//! kind), so formatting formatted text finds the same runs and the same columns: the layout is idempotent.

/// Two spaces per level of nesting.
pub(super) const INDENT: &str = "  ";

#[derive(Clone, Debug)]
pub(super) enum Line {
    Blank,
    Comment { depth: usize, text: String },
    Code(Code),
}

#[derive(Clone, Debug, Default)]
pub(super) struct Code {
    pub depth: usize,
    pub text: String,
    /// For a named trigger: the byte length of `trigger NAME:`, after which padding aligns conditions.
    pub trigger_head: Option<usize>,
    pub comment: Option<String>,
    /// A node printed on one line (not a block's `{` or `}` line): its comment aligns with its neighbours'.
    pub leaf: bool,
    /// A block's `{` line: no blank line may follow it.
    pub opens: bool,
}

pub(super) fn render(mut lines: Vec<Line>) -> String {
    align_triggers(&mut lines);
    let comment_columns = comment_columns(&lines);
    let mut out = String::new();
    for (line, column) in lines.iter().zip(comment_columns) {
        match line {
            Line::Blank => {}
            Line::Comment { depth, text } => {
                out.push_str(&INDENT.repeat(*depth));
                out.push_str(text);
            }
            Line::Code(code) => {
                let start = out.len();
                out.push_str(&INDENT.repeat(code.depth));
                out.push_str(&code.text);
                if let Some(comment) = &code.comment {
                    let width = out[start..].chars().count();
                    let pad = column.map_or(2, |c| c.saturating_sub(width).max(2));
                    out.push_str(&" ".repeat(pad));
                    out.push_str(comment);
                }
            }
        }
        out.push('\n');
    }
    out
}

/// Pads `trigger NAME:` so that the conditions of a run of named triggers start in one column. Comment
/// lines inside a run do not end it; a blank line or any other line does.
fn align_triggers(lines: &mut [Line]) {
    let mut i = 0;
    while i < lines.len() {
        let Line::Code(Code { trigger_head: Some(_), depth, .. }) = &lines[i] else {
            i += 1;
            continue;
        };
        let depth = *depth;
        let mut end = i;
        let mut j = i;
        while j < lines.len() {
            match &lines[j] {
                Line::Code(c) if c.trigger_head.is_some() && c.depth == depth => end = j,
                Line::Comment { depth: d, .. } if *d == depth => {}
                _ => break,
            }
            j += 1;
        }
        let width = lines[i..=end]
            .iter()
            .filter_map(|l| match l {
                Line::Code(c) => c.trigger_head,
                _ => None,
            })
            .max()
            .unwrap_or(0);
        for line in &mut lines[i..=end] {
            if let Line::Code(c) = line
                && let Some(head) = c.trigger_head
                && head < width
                && c.text.is_char_boundary(head)
            {
                c.text.insert_str(head, &" ".repeat(width - head));
                c.trigger_head = Some(width);
            }
        }
        i = end + 1;
    }
}

/// For each line, the column its trailing comment starts at, when it is one of a run of one-line nodes
/// at one depth that all have trailing comments.
fn comment_columns(lines: &[Line]) -> Vec<Option<usize>> {
    let aligned = |l: &Line| match l {
        Line::Code(c) if c.leaf && c.comment.is_some() => Some(c.depth),
        _ => None,
    };
    let width = |l: &Line| match l {
        Line::Code(c) => INDENT.len() * c.depth + c.text.chars().count(),
        _ => 0,
    };
    let mut out = vec![None; lines.len()];
    let mut i = 0;
    while i < lines.len() {
        let Some(depth) = aligned(&lines[i]) else {
            i += 1;
            continue;
        };
        let mut end = i;
        while end + 1 < lines.len() && aligned(&lines[end + 1]) == Some(depth) {
            end += 1;
        }
        let column = lines[i..=end].iter().map(width).max().unwrap_or(0) + 2;
        for slot in &mut out[i..=end] {
            *slot = Some(column);
        }
        i = end + 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(text: &str, head: Option<usize>, comment: Option<&str>) -> Line {
        Line::Code(Code {
            depth: 1,
            text: text.to_string(),
            trigger_head: head,
            comment: comment.map(str::to_string),
            leaf: true,
            opens: false,
        })
    }

    #[test]
    fn trigger_conditions_align_across_comments_not_across_blank_lines() {
        let lines = vec![
            code("trigger a: x > 1 -> level 1", Some(10), None),
            Line::Comment { depth: 1, text: "# c".into() },
            code("trigger long_name: x > 1 -> level 1", Some(18), Some("# why")),
            Line::Blank,
            code("trigger b: x > 1 -> level 1", Some(10), None),
        ];
        assert_eq!(
            render(lines),
            "  trigger a:         x > 1 -> level 1\n  # c\n  trigger long_name: x > 1 -> level 1  # why\n\n  \
             trigger b: x > 1 -> level 1\n"
        );
    }

    #[test]
    fn trailing_comments_of_neighbours_share_a_column() {
        let lines = vec![code("a", None, Some("# 1")), code("abc", None, Some("# 2")), code("x", None, None)];
        assert_eq!(render(lines), "  a    # 1\n  abc  # 2\n  x\n");
    }
}
