//! The corpus of broken runbooks: `tests/corpus/*.runbook`, one situation per file.
//!
//! Each file starts with a comment header naming every diagnostic it must produce, one per line:
//! `# expect: RC110 line 7` (or `# expect: none` for a file that must compile). The test compiles each file,
//! compares the (code, line) pairs with the header exactly, and snapshots the diagnostics as a person reads
//! them (the plain renderer). Inputs too large to commit (100,000-deep nesting, a 1 MB line) are generated
//! here and go through the same checks.

mod support;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use ripcord::diagnostic::render_plain;
use ripcord::span::LineIndex;
use ripcord::{Code, Diagnostic, compile};
use support::{for_each, root};

/// A diagnostic as the header names it.
type Expected = (String, usize);

/// Compiles `text` and returns each diagnostic as (code, line), sorted.
fn check(text: &str) -> Vec<Expected> {
    let index = LineIndex::new(text);
    let mut found: Vec<Expected> =
        compile(text).diagnostics.iter().map(|d| (d.code.to_string(), index.line(d.span.start))).collect();
    found.sort();
    found
}

/// The `# expect:` lines of a file's leading comment block, sorted.
fn expected(text: &str) -> Vec<Expected> {
    let mut out = Vec::new();
    let mut saw_header = false;
    let body = ripcord::source_text(text);
    for line in body.lines().take_while(|l| l.starts_with('#')) {
        let Some(rest) = line.strip_prefix("# expect:") else {
            continue;
        };
        saw_header = true;
        let rest = rest.trim();
        if rest == "none" {
            continue;
        }
        let words: Vec<&str> = rest.split_whitespace().collect();
        match words.as_slice() {
            [code, "line", n] if code.starts_with("RC") => {
                let n = n.parse().unwrap_or_else(|_| panic!("bad line in `{line}`"));
                out.push((code.to_string(), n));
            }
            _ => panic!("malformed header line `{line}`: write `# expect: RC110 line 7`"),
        }
    }
    assert!(saw_header, "no `# expect:` header");
    out.sort();
    out
}

/// Every diagnostic rendered as `ripcord check` shows it, without colour.
fn rendered(path: &str, text: &str) -> String {
    let diagnostics: Vec<Diagnostic> = compile(text).diagnostics;
    if diagnostics.is_empty() {
        return "(no diagnostics)\n".to_string();
    }
    diagnostics.iter().map(|d| render_plain(path, text, d)).collect::<Vec<_>>().join("\n")
}

fn corpus_files() -> Vec<PathBuf> {
    let dir = root().join("tests/corpus");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("tests/corpus exists")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "runbook"))
        .collect();
    files.sort();
    files
}

fn stem(path: &Path) -> String {
    path.file_stem().and_then(|s| s.to_str()).expect("file names are UTF-8").to_string()
}

/// A case too large (or too empty) to commit as a file: a name, the text, and what it must produce.
struct Generated {
    name: &'static str,
    text: String,
    expect: Vec<(Code, usize)>,
}

fn generated_cases() -> Vec<Generated> {
    let level = "  level 1 \"Rollback\" {\n    step shell \"./rollback\"\n  }\n}\n";
    // 100,000 parentheses deep, 100 to a line so that only the nesting is wrong.
    let open = "(".repeat(100).repeat(1000);
    let close = ")".repeat(100).repeat(1000);
    let deep_parens = format!(
        "runbook deep {{\n  trigger deep: {} error_rate {} > 1 -> level 1\n{level}",
        open.as_bytes().chunks(100).map(|c| std::str::from_utf8(c).expect("ascii")).collect::<Vec<_>>().join("\n"),
        close.as_bytes().chunks(100).map(|c| std::str::from_utf8(c).expect("ascii")).collect::<Vec<_>>().join("\n"),
    );
    let mut deep_parallel = String::from("runbook deep {\n  level 1 \"Rollback\" {\n");
    for _ in 0..100_000 {
        deep_parallel.push_str("parallel {\n");
    }
    deep_parallel.push_str("step shell \"./rollback\"\n");
    for _ in 0..100_000 {
        deep_parallel.push_str("}\n");
    }
    deep_parallel.push_str("  }\n}\n");
    let long_line = format!("runbook long {{\n  description \"{}\"\n{level}", "x".repeat(1 << 20));
    let many_operators =
        format!("runbook many {{\n  trigger sum: {} > 1 -> level 1\n{level}", vec!["error_rate"; 1002].join(" + "));
    vec![
        Generated { name: "parentheses_100000_deep", text: deep_parens, expect: vec![(Code::NestingTooDeep, 2)] },
        Generated {
            name: "parallel_100000_deep",
            // `runbook {` and `level {` are two levels, so the 63rd `parallel {` (line 65) is the 65th.
            text: deep_parallel,
            expect: vec![(Code::NestingTooDeep, 65)],
        },
        Generated { name: "line_of_one_megabyte", text: long_line, expect: vec![(Code::LineTooLong, 2)] },
        Generated {
            name: "expression_with_1001_operators",
            text: many_operators,
            expect: vec![(Code::ExpressionTooLarge, 2)],
        },
        Generated { name: "empty_file", text: String::new(), expect: vec![(Code::EmptyFile, 1)] },
        Generated { name: "white_space_only", text: "\n  \t\r\n\n".to_string(), expect: vec![(Code::EmptyFile, 1)] },
        Generated {
            name: "file_over_8_mib",
            text: format!("runbook big {{\n{}}}\n", "# padding\n".repeat(900_000)),
            expect: vec![(Code::FileTooLarge, 1)],
        },
    ]
}

fn snapshot(name: &str, description: &str, text: &str) {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path("snapshots/corpus");
    settings.set_prepend_module_to_snapshot(false);
    settings.set_description(description);
    settings.set_omit_expression(true);
    settings.bind(|| {
        let out = rendered(&format!("tests/corpus/{name}.runbook"), text);
        assert!(!out.contains('\u{1b}'), "plain rendering has ANSI escapes");
        insta::assert_snapshot!(name, out);
    });
}

#[test]
fn corpus_has_one_file_per_situation() {
    let files = corpus_files();
    assert!(files.len() >= 40, "only {} corpus files", files.len());
}

#[test]
fn corpus_diagnostics_match_headers() {
    let files = corpus_files().into_iter().map(|p| (stem(&p), p));
    for_each(files, |name, path| {
        let text = std::fs::read_to_string(&path).expect("corpus files are UTF-8");
        assert_eq!(check(&text), expected(&text), "{name}: (code, line) differ");
    });
}

#[test]
fn corpus_renders_as_snapshotted() {
    let files = corpus_files().into_iter().map(|p| (stem(&p), p));
    for_each(files, |name, path| {
        let text = std::fs::read_to_string(&path).expect("corpus files are UTF-8");
        let header: Vec<&str> = ripcord::source_text(&text).lines().take_while(|l| l.starts_with('#')).collect();
        snapshot(name, &header.join("\n"), &text);
    });
}

#[test]
fn generated_cases_match_and_render() {
    let cases = generated_cases().into_iter().map(|c| (c.name.to_string(), c));
    for_each(cases, |name, case| {
        let want: Vec<Expected> = case.expect.iter().map(|(c, l)| (c.to_string(), *l)).collect();
        assert_eq!(check(&case.text), want, "{name}: (code, line) differ");
        snapshot(&format!("generated_{name}"), &format!("generated in tests/corpus.rs: {name}"), &case.text);
    });
}

#[test]
fn bom_before_a_valid_runbook_is_skipped() {
    let text = "\u{feff}runbook bom {\n  level 1 \"Rollback\" {\n    step shell \"./rollback\"\n  }\n}\n";
    let compiled = compile(text);
    assert!(compiled.diagnostics.is_empty(), "{:?}", compiled.diagnostics);
    assert_eq!(compiled.plan.expect("a plan").runbook, "bom");
}

#[test]
fn duplicates_label_the_first_definition() {
    // (file, code, line of the first definition)
    let cases = [
        ("duplicate_owner_setting", Code::DuplicateSetting, 4),
        ("duplicate_files_under", Code::DuplicateSetting, 4),
        ("duplicate_metric", Code::DuplicateMetric, 4),
        ("duplicate_channel", Code::DuplicateChannel, 4),
        ("duplicate_trigger_name", Code::DuplicateTrigger, 4),
        ("anonymous_trigger_name_clash", Code::DuplicateTrigger, 4),
        ("duplicate_level_number", Code::DuplicateLevel, 4),
        ("duplicate_level_option", Code::DuplicateOption, 5),
        ("duplicate_step_modifier", Code::DuplicateModifier, 5),
    ];
    let dir = root().join("tests/corpus");
    for (file, code, first_line) in cases {
        let text = std::fs::read_to_string(dir.join(format!("{file}.runbook"))).expect("exists");
        let index = LineIndex::new(&text);
        let compiled = compile(&text);
        let d = compiled.diagnostics.iter().find(|d| d.code == code).unwrap_or_else(|| panic!("{file}: no {code}"));
        assert_eq!(d.related.len(), 1, "{file}: one related span");
        let (span, label) = &d.related[0];
        assert_eq!(index.line(span.start), first_line, "{file}: related line");
        assert!(label.starts_with("first"), "{file}: label `{label}`");
        assert!(span.end <= d.span.start, "{file}: the first definition comes before the duplicate");
    }
}

#[test]
fn every_analysis_code_has_a_corpus_case() {
    let mut covered: BTreeSet<String> = BTreeSet::new();
    for path in corpus_files() {
        let text = std::fs::read_to_string(&path).expect("UTF-8");
        covered.extend(expected(&text).into_iter().map(|(code, _)| code));
    }
    for case in generated_cases() {
        covered.extend(case.expect.iter().map(|(c, _)| c.to_string()));
    }
    // The language's ranges are RC0xx to RC3xx (RC4xx is simulation input, later ranges are not the
    // compiler's). File reading (RC002, RC009, RC010) is the CLI's: see tests/cli_check.rs; so is a directory
    // without runbooks (RC011): see tests/quiet_failures.rs.
    let language = |c: &Code| ["RC0", "RC1", "RC2", "RC3"].iter().any(|r| c.as_str().starts_with(r));
    let not_from_text = [Code::FileTooLarge, Code::NotUtf8, Code::Unreadable, Code::NoRunbooks];
    let missing: Vec<&str> = Code::ALL
        .iter()
        .filter(|c| language(c) && !not_from_text.contains(c))
        .map(|c| c.as_str())
        .filter(|c| !covered.contains(*c))
        .collect();
    assert!(missing.is_empty(), "codes without a corpus case: {missing:?}");
}
