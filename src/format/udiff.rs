//! A unified-style line diff, for `ripcord fmt --check` to show what formatting would change.
//!
//! Lines common to both ends are trimmed first; the rest is aligned by longest common subsequence when
//! that is cheap, and shown as one replacement otherwise. Only the first hunks are printed: the point is
//! to show the kind of change, and `ripcord fmt` makes all of them.

use std::fmt::Write;

/// Lines of context around each change.
const CONTEXT: usize = 3;
/// Above this many cells the alignment is not computed (a 2,000 x 2,000-line change).
const MAX_CELLS: usize = 4_000_000;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Op {
    Same(usize, usize),
    Delete(usize),
    Insert(usize),
}

/// `--- PATH` / `+++ PATH (formatted)` and at most `max_hunks` hunks; empty when the texts are equal.
pub fn unified(path: &str, old: &str, new: &str, max_hunks: usize) -> String {
    if old == new {
        return String::new();
    }
    let a: Vec<&str> = old.lines().collect();
    let b: Vec<&str> = new.lines().collect();
    let ops = align(&a, &b);
    let mut out = String::new();
    let _ = writeln!(out, "--- {path}");
    let _ = writeln!(out, "+++ {path} (formatted)");
    let hunks = hunks(&ops);
    for (n, &(from, to)) in hunks.iter().enumerate() {
        if n == max_hunks {
            let _ = writeln!(out, "... {} more hunk(s)", hunks.len() - n);
            break;
        }
        let (a_start, b_start) = start_of(&ops[from..to]);
        let a_len = ops[from..to].iter().filter(|o| !matches!(o, Op::Insert(_))).count();
        let b_len = ops[from..to].iter().filter(|o| !matches!(o, Op::Delete(_))).count();
        let _ = writeln!(out, "@@ -{},{a_len} +{},{b_len} @@", a_start + 1, b_start + 1);
        for op in &ops[from..to] {
            let _ = match *op {
                Op::Same(i, _) => writeln!(out, " {}", a[i]),
                Op::Delete(i) => writeln!(out, "-{}", a[i]),
                Op::Insert(j) => writeln!(out, "+{}", b[j]),
            };
        }
    }
    if hunks.is_empty() {
        // Only line endings or the final newline differ.
        let _ = writeln!(out, "@@ line endings or the last newline differ @@");
    }
    out
}

/// The first old and new line numbers a run of operations touches.
fn start_of(ops: &[Op]) -> (usize, usize) {
    let old = ops.iter().find_map(|o| match *o {
        Op::Same(i, _) | Op::Delete(i) => Some(i),
        Op::Insert(_) => None,
    });
    let new = ops.iter().find_map(|o| match *o {
        Op::Same(_, j) | Op::Insert(j) => Some(j),
        Op::Delete(_) => None,
    });
    (old.unwrap_or(0), new.unwrap_or(0))
}

/// Ranges of `ops` to print: each change with up to `CONTEXT` unchanged lines around it, close changes
/// merged.
fn hunks(ops: &[Op]) -> Vec<(usize, usize)> {
    let mut out: Vec<(usize, usize)> = Vec::new();
    for (k, op) in ops.iter().enumerate() {
        if matches!(op, Op::Same(..)) {
            continue;
        }
        let from = k.saturating_sub(CONTEXT);
        let to = (k + 1 + CONTEXT).min(ops.len());
        match out.last_mut() {
            Some(last) if from <= last.1 => last.1 = to,
            _ => out.push((from, to)),
        }
    }
    out
}

fn align(a: &[&str], b: &[&str]) -> Vec<Op> {
    let prefix = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    let suffix = a[prefix..].iter().rev().zip(b[prefix..].iter().rev()).take_while(|(x, y)| x == y).count();
    let (ma, mb) = (&a[prefix..a.len() - suffix], &b[prefix..b.len() - suffix]);
    let mut ops: Vec<Op> = (0..prefix).map(|i| Op::Same(i, i)).collect();
    if ma.len().saturating_mul(mb.len()) <= MAX_CELLS {
        // lcs[i][j]: the longest common subsequence of ma[i..] and mb[j..].
        let w = mb.len() + 1;
        let mut lcs = vec![0u32; (ma.len() + 1) * w];
        for i in (0..ma.len()).rev() {
            for j in (0..mb.len()).rev() {
                lcs[i * w + j] = if ma[i] == mb[j] {
                    lcs[(i + 1) * w + j + 1] + 1
                } else {
                    lcs[(i + 1) * w + j].max(lcs[i * w + j + 1])
                };
            }
        }
        let (mut i, mut j) = (0, 0);
        while i < ma.len() || j < mb.len() {
            if i < ma.len() && j < mb.len() && ma[i] == mb[j] {
                ops.push(Op::Same(prefix + i, prefix + j));
                i += 1;
                j += 1;
            } else if i < ma.len() && (j == mb.len() || lcs[(i + 1) * w + j] >= lcs[i * w + j + 1]) {
                ops.push(Op::Delete(prefix + i));
                i += 1;
            } else {
                ops.push(Op::Insert(prefix + j));
                j += 1;
            }
        }
    } else {
        ops.extend((0..ma.len()).map(|i| Op::Delete(prefix + i)));
        ops.extend((0..mb.len()).map(|j| Op::Insert(prefix + j)));
    }
    let (sa, sb) = (a.len() - suffix, b.len() - suffix);
    ops.extend((0..suffix).map(|k| Op::Same(sa + k, sb + k)));
    ops
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_changed_line_in_context() {
        let old = "a\nb\nc\nd\ne\nf\ng\nh\n";
        let new = "a\nb\nc\nd\nE\nf\ng\nh\n";
        assert_eq!(
            unified("x", old, new, 5),
            "--- x\n+++ x (formatted)\n@@ -2,7 +2,7 @@\n b\n c\n d\n-e\n+E\n f\n g\n h\n"
        );
    }

    #[test]
    fn insertions_and_deletions_and_the_hunk_limit() {
        let old = "1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11\n12\n";
        let new = "1\nx\n2\n3\n4\n5\n6\n7\n8\n9\n10\n12\n";
        let diff = unified("f", old, new, 1);
        assert!(diff.contains("@@ -1,4 +1,5 @@\n 1\n+x\n 2\n 3\n 4\n"), "{diff}");
        assert!(diff.ends_with("... 1 more hunk(s)\n"), "{diff}");
        assert_eq!(unified("f", "same\n", "same\n", 3), "");
        assert!(unified("f", "a", "a\n", 3).contains("last newline"));
    }
}
