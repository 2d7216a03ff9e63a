//! Lint rules through the library.
//!
//! Per rule, `tests/lint/<rule-name>/bad.runbook` must raise the rule (its findings are snapshotted as a
//! person reads them, in `tests/snapshots/lint/`) and `good.runbook` must not. Both must compile. Then the
//! registry's promises (stable codes, kebab-case names, the four doc sections), docs/lints.md being up to
//! date (`RIPCORD_BLESS=1` rewrites it), the configuration and allow comments, and the repository's own
//! runbooks, which must lint free of errors.

mod support;

use std::collections::HashSet;
use std::path::PathBuf;

use ripcord::lint::output::render_plain;
use ripcord::lint::{Config, DOC_SECTIONS, Finding, RULES, Setting, lint_source};
use ripcord::{Code, Severity};
use support::{fenced_blocks, for_each, root};

fn fixture(rule: &str, which: &str) -> (String, String) {
    let rel = format!("tests/lint/{rule}/{which}.runbook");
    let text = std::fs::read_to_string(root().join(&rel)).unwrap_or_else(|e| panic!("{rel}: {e}"));
    (rel, text)
}

fn lint(text: &str) -> Vec<Finding> {
    lint_source(text, &Config::default())
}

fn lint_with(text: &str, config: &str) -> Vec<Finding> {
    lint_source(text, &Config::from_toml(config).expect("valid configuration"))
}

/// (code, 1-based line) of each finding.
fn codes(text: &str, findings: &[Finding]) -> Vec<(String, usize)> {
    let index = ripcord::span::LineIndex::new(text);
    findings.iter().map(|f| (f.code.to_string(), index.line(f.span.start))).collect()
}

fn rules() -> impl Iterator<Item = (String, &'static ripcord::lint::Entry)> {
    RULES.iter().map(|e| (e.rule.name.to_string(), e))
}

#[test]
fn at_least_fifteen_rules() {
    assert!(RULES.len() >= 15, "only {} rules", RULES.len());
}

#[test]
fn codes_are_unique_stable_and_apart_from_compile_codes() {
    let mut seen = HashSet::new();
    for e in RULES {
        assert!(seen.insert(e.code), "{} is used twice", e.code);
        assert!(e.code.len() == 5 && e.code.starts_with("RC8"), "{} is not RC8xx", e.code);
        assert!(e.code[2..].bytes().all(|b| b.is_ascii_digit()), "{} is not RCnnn", e.code);
        assert!(!Code::ALL.iter().any(|c| c.as_str() == e.code), "{} is also a compile code", e.code);
    }
    let names: HashSet<&str> = RULES.iter().map(|e| e.rule.name).collect();
    assert_eq!(names.len(), RULES.len(), "two rules share a name");
}

#[test]
fn every_rule_has_a_kebab_case_name_and_the_four_doc_sections() {
    for_each(rules(), |name, e| {
        let kebab = !name.is_empty()
            && name
                .split('-')
                .all(|w| !w.is_empty() && w.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()));
        assert!(kebab, "`{name}` is not kebab-case");
        let doc = e.rule.doc();
        let mut at = 0;
        for section in DOC_SECTIONS {
            let heading = format!("## {section}\n");
            let found = doc[at..].find(&heading).unwrap_or_else(|| panic!("{name}: no `## {section}` after byte {at}"));
            at += found + heading.len();
            let text = e.rule.section(section).unwrap_or_default();
            assert!(!text.is_empty(), "{name}: `## {section}` is empty");
        }
        assert!(e.rule.summary().ends_with('.'), "{name}: the summary is not a sentence: {}", e.rule.summary());
        for section in ["Example", "Use instead"] {
            let text = e.rule.section(section).unwrap_or_default();
            assert!(text.starts_with("```runbook\n"), "{name}: `## {section}` is not a runbook block");
        }
    });
}

/// The doc examples are real: `## Example` raises the rule, `## Use instead` does not, and both compile.
#[test]
fn doc_examples_do_what_they_say() {
    for_each(rules(), |name, e| {
        let block = |section: &str| {
            let text = e.rule.section(section).unwrap_or_default();
            text.trim_start_matches("```runbook\n").trim_end_matches("```").to_string()
        };
        let (bad, good) = (block("Example"), block("Use instead"));
        for (which, text) in [("Example", &bad), ("Use instead", &good)] {
            let compiled = ripcord::compile(text);
            assert!(compiled.plan.is_some(), "{name}: `## {which}` does not compile: {:?}", compiled.diagnostics);
        }
        assert!(lint(&bad).iter().any(|f| f.code == e.code), "{name}: `## Example` does not raise it");
        assert!(!lint(&good).iter().any(|f| f.code == e.code), "{name}: `## Use instead` raises it");
    });
}

#[test]
fn every_rule_has_a_bad_and_a_good_fixture() {
    for_each(rules(), |name, _| {
        for which in ["bad", "good"] {
            let path = root().join(format!("tests/lint/{name}/{which}.runbook"));
            assert!(path.is_file(), "missing {}", path.display());
        }
    });
    let dirs: Vec<PathBuf> = std::fs::read_dir(root().join("tests/lint"))
        .expect("tests/lint")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir())
        .collect();
    for dir in dirs {
        let name = dir.file_name().and_then(|n| n.to_str()).unwrap_or_default();
        assert!(RULES.iter().any(|e| e.rule.name == name), "tests/lint/{name} is not a rule");
    }
}

#[test]
fn bad_fixtures_raise_their_rule_as_snapshotted() {
    for_each(rules(), |name, e| {
        let (path, text) = fixture(name, "bad");
        let compiled = ripcord::compile(&text);
        assert!(compiled.diagnostics.is_empty(), "{path} has compile diagnostics: {:?}", compiled.diagnostics);
        let findings: Vec<Finding> = lint(&text).into_iter().filter(|f| f.code == e.code).collect();
        assert!(!findings.is_empty(), "{path} does not raise {}", e.code);
        let rendered: Vec<String> = findings.iter().map(|f| render_plain(&path, &text, f)).collect();
        let rendered = rendered.join("\n");
        assert!(!rendered.contains('\u{1b}'), "plain rendering has ANSI escapes");
        let header: Vec<&str> = text.lines().take_while(|l| l.starts_with('#')).collect();
        let mut settings = insta::Settings::clone_current();
        settings.set_snapshot_path("snapshots/lint");
        settings.set_prepend_module_to_snapshot(false);
        settings.set_description(header.join("\n"));
        settings.set_omit_expression(true);
        settings.bind(|| insta::assert_snapshot!(name.to_string(), rendered));
    });
}

#[test]
fn good_fixtures_do_not_raise_their_rule() {
    for_each(rules(), |name, e| {
        let (path, text) = fixture(name, "good");
        let compiled = ripcord::compile(&text);
        assert!(compiled.diagnostics.is_empty(), "{path} has compile diagnostics: {:?}", compiled.diagnostics);
        let mine: Vec<Finding> = lint(&text).into_iter().filter(|f| f.code == e.code).collect();
        assert!(mine.is_empty(), "{path} raises {}: {mine:#?}", e.code);
    });
}

#[test]
fn docs_lints_md_is_up_to_date() {
    let path = root().join("docs/lints.md");
    let want = ripcord::lint::lints_markdown();
    if std::env::var_os("RIPCORD_BLESS").is_some() {
        std::fs::write(&path, &want).expect("write docs/lints.md");
        return;
    }
    let have = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(have == want, "docs/lints.md is out of date: run `RIPCORD_BLESS=1 cargo test --test lint`");
}

#[test]
fn explain_takes_a_code_or_a_name() {
    let by_code = ripcord::lint::explain("RC802").expect("RC802");
    assert!(by_code.starts_with("RC802 step-without-timeout (default severity: warning)\n\n## What it does\n"));
    assert_eq!(ripcord::lint::explain("step-without-timeout"), Some(by_code.clone()));
    assert_eq!(ripcord::lint::explain("rc802"), Some(by_code));
    assert_eq!(ripcord::lint::explain("RC110"), None);
    assert_eq!(ripcord::lint::explain("no-such-rule"), None);
}

const NO_TIMEOUT: &str = r#"runbook t {
  level 1 "Rollback" {
    step shell "./rollback"
    step verify error_rate < 1% within 2m
  }
}
"#;

#[test]
fn configuration_turns_rules_off_or_changes_their_severity() {
    assert_eq!(codes(NO_TIMEOUT, &lint(NO_TIMEOUT)), vec![("RC802".to_string(), 3)]);
    assert!(lint_with(NO_TIMEOUT, "[rules]\nstep-without-timeout = \"off\"\n").is_empty());
    assert!(lint_with(NO_TIMEOUT, "[rules]\nRC802 = \"off\"\n").is_empty());
    let raised = lint_with(NO_TIMEOUT, "[rules]\nstep-without-timeout = \"error\"\n");
    assert_eq!(raised.iter().map(|f| f.severity).collect::<Vec<_>>(), vec![Severity::Error]);
    // A rule that lowers some findings (a restore from a backup) follows the configuration too.
    let (_, text) = fixture("restore-without-snapshot", "bad");
    let all = lint_with(&text, "[rules]\nrestore-without-snapshot = \"warn\"\n");
    assert!(all.iter().filter(|f| f.code == "RC803").all(|f| f.severity == Severity::Warning));
    let mut config = Config::default();
    assert!(config.set("RC802", Setting::Off));
    assert!(!config.set("RC999", Setting::Off));
    assert!(lint_source(NO_TIMEOUT, &config).is_empty());
}

#[test]
fn allow_comments_cover_their_line_or_the_next_line_with_code() {
    let same_line = NO_TIMEOUT.replace("\"./rollback\"\n", "\"./rollback\" # ripcord: allow(RC802) it stops itself\n");
    assert!(lint(&same_line).is_empty(), "{:?}", lint(&same_line));
    let above = NO_TIMEOUT.replace(
        "    step shell",
        "    # ripcord: allow(step-without-timeout) it stops itself\n\n    # another comment\n    step shell",
    );
    assert!(lint(&above).is_empty(), "{:?}", lint(&above));
    let two_rules = NO_TIMEOUT
        .replace("\"./rollback\"\n", "\"./rollback\" # ripcord: allow(RC817, step-without-timeout): it stops itself\n");
    let left = lint(&two_rules);
    assert_eq!(codes(&two_rules, &left), vec![("RC822".to_string(), 3)], "RC817 allows nothing: {left:?}");
    // Only the line it covers: the allow above the level does not reach the step.
    let too_far = NO_TIMEOUT.replace("  level 1", "  # ripcord: allow(RC802) too far away\n  level 1");
    assert_eq!(
        codes(&too_far, &lint(&too_far)),
        vec![("RC822".to_string(), 2), ("RC802".to_string(), 4)],
        "{:?}",
        lint(&too_far)
    );
}

#[test]
fn an_allow_without_a_reason_allows_nothing() {
    let text = NO_TIMEOUT.replace("\"./rollback\"\n", "\"./rollback\" # ripcord: allow(RC802)\n");
    let found = lint(&text);
    assert_eq!(codes(&text, &found), vec![("RC802".to_string(), 3), ("RC821".to_string(), 3)]);
    assert!(found.iter().any(|f| f.code == "RC821" && f.severity == Severity::Error));
    // Turned off, the meta rules stay quiet; the reasonless allow still allows nothing.
    let quiet = lint_with(&text, "[rules]\nallow-without-reason = \"off\"\n");
    assert_eq!(codes(&text, &quiet), vec![("RC802".to_string(), 3)]);
}

#[test]
fn a_hash_inside_a_string_is_not_a_comment() {
    let text = NO_TIMEOUT.replace("\"./rollback\"", "\"./rollback # ripcord: allow(RC802) not a comment\"");
    assert_eq!(codes(&text, &lint(&text)), vec![("RC802".to_string(), 3)]);
}

#[test]
fn allows_for_rules_turned_off_are_not_unused() {
    let text = NO_TIMEOUT.replace("\"./rollback\"\n", "\"./rollback\" # ripcord: allow(RC802) it stops itself\n");
    assert!(lint_with(&text, "[rules]\nRC802 = \"off\"\n").is_empty());
}

#[test]
fn a_file_that_does_not_compile_gets_compile_diagnostics_and_no_rules() {
    let text = "runbook broken {\n  trigger t: error_rate > 5% -> level 2\n  level 1 \"R\" {\n    step shell \"./x\"\n  }\n}\n";
    let found = lint(text);
    assert_eq!(codes(text, &found), vec![("RC110".to_string(), 2)]);
    assert_eq!(found[0].name, "unknown-level");
    assert!(found[0].is_error());
    // Compile warnings are reported alongside the rules.
    let warned =
        NO_TIMEOUT.replace("runbook t {\n", "runbook t {\n  trigger errors: error_rate > 5% for 20s -> level 1\n");
    let found = codes(&warned, &lint(&warned));
    assert_eq!(found, vec![("RC210".to_string(), 2), ("RC802".to_string(), 4)]);
}

#[test]
fn deep_and_wide_conditions_do_not_overflow_or_explode() {
    // 1,000 operators, the parser's limit, in one `and` chain; and 2^20 alternatives of `or`s under `and`s.
    let chain = vec!["x > 1"; 500].join(" and ");
    let text = format!("runbook deep {{\n  level 1 \"R\" {{\n    step verify {chain} within 1m\n  }}\n}}\n");
    assert!(ripcord::compile(&text).plan.is_some());
    assert!(lint(&text).iter().all(|f| f.code != "RC813"));
    let wide = vec!["(x > 1 or y > 1)"; 20].join(" and ");
    let text = format!("runbook wide {{\n  level 1 \"R\" {{\n    step verify {wide} and x < 0 within 1m\n  }}\n}}\n");
    assert!(ripcord::compile(&text).plan.is_some());
    let _ = lint(&text);
}

#[test]
fn the_repositorys_runbooks_lint_without_errors() {
    let dir = root().join("runbooks");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("runbooks/")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "runbook"))
        .collect();
    files.sort();
    assert!(!files.is_empty());
    for_each(files.into_iter().map(|p| (p.display().to_string(), p)), |name, path| {
        let text = std::fs::read_to_string(path).expect("UTF-8");
        let found = lint(&text);
        let shown: Vec<String> = found.iter().map(|f| render_plain(name, &text, f)).collect();
        assert!(found.is_empty(), "{name} is meant to be exemplary:\n{}", shown.join("\n"));
    });
}

#[test]
fn hundreds_of_findings_in_one_file_render_the_rest_on_one_line_each() {
    use ripcord::lint::output::{Linted, render_text};
    let steps = "    step shell \"./x\"\n".repeat(250);
    let text = format!("runbook many {{\n  level 1 \"R\" {{\n{steps}    step verify x < 1 within 1m\n  }}\n}}\n");
    let findings = lint(&text);
    assert_eq!(findings.len(), 250);
    let out = render_text(&[Linted { path: "many.runbook".to_string(), text, findings }], false);
    assert_eq!(out.matches("RC802 step-without-timeout").count(), 200);
    assert_eq!(out.matches(": warning[RC802]: ").count(), 50);
    assert!(out.ends_with("  help: add `timeout D` with the longest this step should take, such as `timeout 30s`\n"));
}

/// Lint never panics, whatever the text: every runbook and fixture, cut, spliced and sprinkled with
/// characters that matter to the rules (`#`, quotes, multi-byte characters, `${`).
#[test]
fn mutated_runbooks_never_panic() {
    let mut texts = Vec::new();
    for dir in ["runbooks", "tests/plans"] {
        for entry in std::fs::read_dir(root().join(dir)).expect("dir").flatten() {
            texts.push(std::fs::read_to_string(entry.path()).expect("UTF-8"));
        }
    }
    for e in RULES {
        texts.push(fixture(e.rule.name, "bad").1);
    }
    let inserts = ["#", "\"", "`", "é", "${", "--", "\n", " ripcord: allow(", "http://", "Bearer ", "password="];
    let mut seed: u64 = 0x5eed;
    let mut next = |n: usize| {
        seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (seed >> 33) as usize % n.max(1)
    };
    for text in &texts {
        for _ in 0..40 {
            let mut t = text.clone();
            let mut at = next(t.len());
            while !t.is_char_boundary(at) {
                at -= 1;
            }
            match next(3) {
                0 => t.insert_str(at, inserts[next(inserts.len())]),
                1 => {
                    let mut end = (at + 1 + next(20)).min(t.len());
                    while !t.is_char_boundary(end) {
                        end -= 1;
                    }
                    t.replace_range(at..end, "");
                }
                _ => t = format!("{}{}", &t[at..], &t[..at]),
            }
            let _ = lint(&t);
        }
    }
}

#[test]
fn every_runbook_in_docs_lints_md_compiles() {
    let blocks = fenced_blocks(&ripcord::lint::lints_markdown(), &["```runbook"], false);
    assert!(blocks.len() > 2 * RULES.len(), "{} blocks", blocks.len());
    for block in &blocks {
        let compiled = ripcord::compile(block);
        assert!(compiled.plan.is_some(), "this example does not compile: {:#?}\n{block}", compiled.diagnostics);
    }
}
