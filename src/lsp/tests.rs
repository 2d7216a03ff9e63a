//! The features as plain functions, on every prefix of a real runbook (half-typed text is what an editor
//! sends most): nothing panics, positions stay inside the text, and what a finished runbook answers is right.

use super::analysis::Analysis;
use super::{complete, edits, hover, symbols};

const RUNBOOK: &str = include_str!("../../runbooks/storage-migration.runbook");

fn check_everything(text: &str) {
    let a = Analysis::new(text.to_string(), 1, None);
    let len = text.len();
    for offset in [0, len / 3, len / 2, len.saturating_sub(1), len] {
        let offset = (0..=offset).rev().find(|o| text.is_char_boundary(*o)).unwrap_or(0);
        if let Some((_, s, e)) = hover::hover(&a, offset) {
            assert!(s <= e && e <= len);
        }
        for item in complete::complete(&a, offset) {
            assert!(!item.label.is_empty());
        }
        let _ = edits::rename(&a, offset, "renamed");
    }
    for p in &a.problems {
        assert!(p.start <= p.end && p.end <= len, "{p:?}");
        for fix in edits::fixes(&a, p) {
            assert!(text.is_char_boundary(fix.edit.start) && text.is_char_boundary(fix.edit.end));
        }
    }
    let _ = symbols::outline(&a);
    let tokens = symbols::semantic_tokens(&a);
    let (mut line, mut start) = (0u32, 0u32);
    for t in tokens {
        if t.delta_line > 0 {
            start = 0;
        }
        line += t.delta_line;
        start += t.delta_start;
        let (ls, le) = a.lines.line_range(text, line as usize).unwrap_or((0, 0));
        let width: u32 = text[ls..le].chars().map(|c| c.len_utf16() as u32).sum();
        assert!(start + t.length <= width, "token past its line {line}: {start}+{}", t.length);
    }
}

#[test]
fn every_prefix_of_a_runbook_is_served_without_a_panic() {
    let mut cut = 0;
    while cut < RUNBOOK.len() {
        check_everything(&RUNBOOK[..cut]);
        cut += 53;
        while !RUNBOOK.is_char_boundary(cut.min(RUNBOOK.len())) {
            cut += 1;
        }
    }
    check_everything(RUNBOOK);
    check_everything("\u{feff}runbook x { \u{1F600} \"\u{e9}\\");
}

#[test]
fn a_whole_runbook_has_its_names_and_outline() {
    let a = Analysis::new(RUNBOOK.to_string(), 1, None);
    assert!(a.problems.iter().all(|p| p.code.starts_with("RC8")), "{:?}", a.problems);
    let outline = symbols::outline(&a);
    assert_eq!(outline.len(), 1);
    let levels = outline[0].children.iter().flatten().filter(|s| s.name.starts_with("level ")).count();
    assert_eq!(levels, 4);
    let at = RUNBOOK.find("escalate level 3").map_or(0, |i| i + "escalate level ".len());
    let text = hover::hover(&a, at).map(|(t, _, _)| t).unwrap_or_default();
    assert!(text.contains("Full system rollback") && text.contains("approval required"), "{text}");
    let renamed = edits::rename(&a, at, "7").unwrap_or_default();
    // The declaration and the escalation; not the words "level 3" in strings and comments.
    assert_eq!(renamed.len(), 2, "{renamed:?}");
}

const SERIES: &str = include_str!("../../tests/fmt/series.runbook");

#[test]
fn per_series_runbook_every_prefix_and_its_keywords() {
    let mut cut = 0;
    while cut < SERIES.len() {
        check_everything(&SERIES[..cut]);
        cut += 37;
    }
    check_everything(SERIES);
    let labels = |text: &str| -> Vec<String> {
        let a = Analysis::new(text.to_string(), 1, None);
        complete::complete(&a, text.len()).into_iter().map(|i| i.label).collect()
    };
    let inside = |s: &str| labels(&format!("runbook r {{\n  {s}"));
    assert!(inside("").contains(&"max series".to_string()));
    assert_eq!(inside("max "), ["series"]);
    assert_eq!(labels("runbook r {\n  level 1 {\n    max "), ["attempts", "parallel"]);
    assert_eq!(inside("trigger t: x > 1 -> level 1 {\n    "), ["alert", "labels", "annotations"]);
    assert!(inside("trigger t: x > 1 -> level 1 {\n    labels {\n      ").is_empty());
    assert!(inside("trigger t: x > 1 ").contains(&"unless".to_string()));
    assert!(inside("trigger t: x > ").contains(&"on(".to_string()));
    // A per-series trigger's hover says so.
    let a = Analysis::new(SERIES.to_string(), 1, None);
    let at = SERIES.find("disk_full").unwrap_or(0);
    let text = hover::hover(&a, at).map(|(t, _, _)| t).unwrap_or_default();
    assert!(
        text.contains("per series by (instance, mountpoint)") && text.contains("NodeFilesystemAlmostFull"),
        "{text}"
    );
}
