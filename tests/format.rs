//! `ripcord fmt`: the canonical layout (docs/formatting.md), and its two promises over every runbook the
//! project has: formatting is idempotent, and it never changes meaning (the compiled `Plan` is equal).
//!
//! The inputs: `runbooks/`, `tests/plans/`, the corpus files that compile, the promtool fixtures, the
//! `runbook` blocks of docs/language.md and the two examples of the product sketch; then mutants of them,
//! white space shuffled (which must format to the same bytes) and random damage that still compiles
//! (which must keep its plan). The real binary is checked for `fmt` and `fmt --check` exit codes.

mod support;

use std::path::{Path, PathBuf};

use ripcord::format::{FormatError, format_source};
use ripcord::{Plan, compile, source_text};
use support::bin::{ripcord, stdout};
use support::{Rng, dir_with, fenced_blocks, root};

fn fmt(text: &str) -> String {
    match format_source(text) {
        Ok(out) => out,
        Err(e) => panic!("not formatted: {e:?}\n{text}"),
    }
}

fn plan(text: &str) -> Plan {
    let compiled = compile(text);
    compiled.plan.unwrap_or_else(|| panic!("no plan: {:#?}\n{text}", compiled.diagnostics))
}

fn files_in(dir: &str, name: impl Fn(&Path) -> bool) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![root().join(dir)];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else { continue };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if name(&path) {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

fn is_runbook(p: &Path) -> bool {
    p.extension().is_some_and(|e| e == "runbook")
}

/// Every runbook text the project has, named; the ones with errors included.
fn all_inputs() -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut paths = files_in("runbooks", is_runbook);
    paths.extend(files_in("tests/plans", is_runbook));
    paths.extend(files_in("tests/corpus", is_runbook));
    paths.extend(files_in("tests/promtool/fixtures", |p| p.file_name().is_some_and(|n| n == "case.runbook")));
    for p in paths {
        let text = std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
        out.push((p.display().to_string(), source_text(&text).to_string()));
    }
    let docs = std::fs::read_to_string(root().join("docs/language.md")).expect("docs/language.md");
    for (i, block) in fenced_blocks(&docs, &["```runbook"], false).into_iter().enumerate() {
        out.push((format!("docs/language.md block {}", i + 1), block));
    }
    // The product sketch sits beside the clone in CI; tests/plans/ holds verbatim copies of its examples.
    if let Ok(sketch) = std::fs::read_to_string(root().join("../shared/design/language.md")) {
        for (i, block) in fenced_blocks(&sketch, &["```runbook", "```"], false).into_iter().enumerate().take(2) {
            out.push((format!("design/language.md example {}", i + 1), block));
        }
    }
    out
}

#[test]
fn every_runbook_formats_idempotently_to_the_same_plan() {
    let mut formatted = 0;
    let mut refused = 0;
    for (name, text) in all_inputs() {
        let compiled = compile(&text);
        match format_source(&text) {
            Ok(out) => {
                assert!(!compiled.has_errors(), "{name}: formatted although it has errors");
                assert_eq!(compiled.plan, compile(&out).plan, "{name}: formatting changed the plan\n{out}");
                assert_eq!(fmt(&out), out, "{name}: fmt(fmt(x)) != fmt(x)");
                let comments = |t: &str| t.lines().filter(|l| l.trim_start().starts_with('#')).count();
                assert!(comments(&out) >= comments(&text), "{name}: a comment line went missing\n{out}");
                formatted += 1;
            }
            Err(FormatError::Invalid(diagnostics)) => {
                assert!(compiled.has_errors(), "{name}: refused without errors: {diagnostics:#?}");
                refused += 1;
            }
            Err(FormatError::Unsafe(reason)) => panic!("{name}: {reason}"),
        }
    }
    // 5 runbooks, 2 sketch copies, 3 corpus files, 183 fixtures, the docs' examples.
    assert!(formatted >= 190, "only {formatted} inputs formatted");
    assert!(refused >= 60, "only {refused} corpus files refused");
}

#[test]
fn a_messy_runbook_in_canonical_layout() {
    let messy = include_str!("fmt/messy.runbook");
    let out = fmt(messy);
    assert_eq!(plan(messy), plan(&out));
    assert_eq!(fmt(&out), out);
    insta::assert_snapshot!("messy_runbook", out);
}

#[test]
fn per_series_triggers_in_canonical_layout() {
    // Attributes in any order and on one line, matching labels unsorted with a trailing comma, level
    // options after the steps: the canonical file is what comes out.
    let messy = "\
# Per-series triggers: matching, alert attributes, `max parallel` and `max series`, in canonical layout.
runbook disks {
  max   series 500
  metric usage = promql `max by (instance, mountpoint) (1 - node_filesystem_avail_bytes / node_filesystem_size_bytes)`
  metric maintenance = promql `max by (instance) (node_maintenance)`
  metric quota = promql `max by (instance, mountpoint) (disk_quota_ratio)`

  trigger disk_full: usage>0.9 unless on (instance) maintenance==1 for 5m -> level 1 { annotations {
      summary \"Disk ${labels.mountpoint} on ${labels.instance} is ${value} full\"
      description \"runbook ${runbook}, trigger ${trigger}\" }
    labels { team \"infra\"  # who answers
      severity \"critical\" } alert \"NodeFilesystemAlmostFull\" }
  trigger over_quota: usage / ignoring( fstype ) quota > 1 and on(mountpoint, instance,) usage > 0.5 -> notify log \"${labels.instance} over quota\"

  level 1 \"Clean up\" {
    step shell \"./clean --mount ${labels.mountpoint}\" timeout 5m
    step verify usage < 0.8 within 10m
    max parallel 4
    max attempts 2
  }
}
";
    let canonical = std::fs::read_to_string(root().join("tests/fmt/series.runbook")).expect("readable");
    let out = fmt(messy);
    assert_eq!(out, canonical);
    assert_eq!(plan(messy), plan(&out));
    assert_eq!(fmt(&canonical), canonical);
}

#[test]
fn options_come_first_in_a_fixed_order_and_steps_keep_theirs() {
    let text = "runbook r {\n  level 1 {\n    step shell \"b\"\n    on failure abort\n    max attempts 2\n    \
                step shell \"a\"\n    cooldown 1m\n    approval required\n    deadline 5m\n  }\n}\n";
    assert_eq!(
        fmt(text),
        "runbook r {\n  level 1 {\n    approval required\n    deadline 5m\n    cooldown 1m\n    max attempts 2\n    \
         on failure abort\n    step shell \"b\"\n    step shell \"a\"\n  }\n}\n"
    );
}

#[test]
fn step_modifiers_come_in_a_fixed_order_headers_in_theirs() {
    let text = "runbook r {\n  level 1 {\n    step http GET \"https://x\" idempotent retry 1 timeout 5s expect 204 \
                header \"B\" \"2\" body \"{}\" header \"A\" \"1\"\n    step verify x < 1 every 5s within 1m\n  }\n}\n";
    let out = fmt(text);
    assert!(
        out.contains(
            "step http GET \"https://x\" header \"B\" \"2\" header \"A\" \"1\" body \"{}\" expect 204 timeout 5s retry 1 \
             idempotent\n"
        ),
        "{out}"
    );
    assert!(out.contains("step verify x < 1 within 1m every 5s\n"), "{out}");
}

#[test]
fn trigger_clauses_come_in_the_documented_order_and_verify_checks_in_a_row_last() {
    let text = "runbook r {\n  metric cpu = promql `max(cpu)`\n  trigger hot: cpu>90   for 3   of 5 clear   when cpu<80 \
                keep firing for 1m on  no  data   keep -> level 1\n  level 1 {\n    step verify cpu < 80 for 3 \
                consecutive every 10s within 5m\n    step verify shell \"true\" for 2 consecutive within 1m\n  }\n}\n";
    let out = fmt(text);
    assert!(
        out.contains(
            "trigger hot: cpu > 90 for 3 of 5 clear when cpu < 80 keep firing for 1m on no data keep -> level 1\n"
        ),
        "{out}"
    );
    assert!(out.contains("step verify cpu < 80 within 5m every 10s for 3 consecutive\n"), "{out}");
    assert!(out.contains("step verify shell \"true\" within 1m for 2 consecutive\n"), "{out}");
    assert_eq!(fmt(&out), out);
    assert_eq!(plan(text), plan(&out));
}

#[test]
fn literals_keep_their_meaning_and_their_spelling() {
    let text = "runbook r {\n  evaluate every 015s\n  trigger t: x > 5% and y > 1E+3 and z > 90s and w > 1.0 -> level 1\n  \
                level 1 {\n    step notify log \"tab\there \\$5 \\${lit} ${trigger}\"\n    \
                step shell `raw \\n ${x} \"as is\"`\n  }\n}\n";
    let out = fmt(text);
    assert!(out.contains("evaluate every 15s\n"), "{out}");
    assert!(out.contains("x > 5% and y > 1e3 and z > 90s and w > 1.0 ->"), "{out}");
    assert!(out.contains(r#"step notify log "tab\there $5 \${lit} ${trigger}""#), "{out}");
    assert!(out.contains("step shell `raw \\n ${x} \"as is\"`\n"), "{out}");
    assert_eq!(plan(text), plan(&out));
}

#[test]
fn parentheses_are_the_authors() {
    let text = "runbook r {\n  trigger t: ((a>1)) and not(b<2) or -(c+d)*2>=-1 -> level 1\n  level 1 {\n    \
                step shell \"x\"\n  }\n}\n";
    let out = fmt(text);
    assert!(out.contains("trigger t: ((a > 1)) and not (b < 2) or -(c + d) * 2 >= -1 -> level 1"), "{out}");
}

#[test]
fn comments_stay_with_what_they_describe() {
    let text = "\
# file header

runbook r { # runbook header
  # about t
  trigger t: x > 1   # why 1
    for 1m -> level 1 # t's line
  level 1
    # inside the header
    \"L\" {  # level header
    step shell \"a\"   # a
    parallel {   # group
      step shell \"b\"
      # before the end of the group
    }  # group done
    # before the end of the level
  } # level done
  # before the end of the runbook
}  # runbook done
# after the runbook
";
    let out = fmt(text);
    assert_eq!(
        out,
        "\
# file header

runbook r {  # runbook header
  # about t
  # why 1
  trigger t: x > 1 for 1m -> level 1  # t's line

  # inside the header
  level 1 \"L\" {  # level header
    step shell \"a\"  # a
    parallel {  # group
      step shell \"b\"
      # before the end of the group
    }  # group done
    # before the end of the level
  }  # level done
  # before the end of the runbook
}  # runbook done
# after the runbook
"
    );
    assert_eq!(fmt(&out), out);
}

#[test]
fn blank_lines_collapse_to_one_and_surround_levels() {
    let text = "runbook r {\n\n\n  owner \"a\"\n\n\n\n  description \"b\"\n  level 1 {\n\n    step shell \"a\"\n\n\n    \
                step shell \"b\"\n\n  }\n  level 2 {\n    step shell \"c\"\n  }\n  x > 1 -> level 1\n\n}\n";
    assert_eq!(
        fmt(text),
        "runbook r {\n  owner \"a\"\n\n  description \"b\"\n\n  level 1 {\n    step shell \"a\"\n\n    step shell \"b\"\n  \
         }\n\n  level 2 {\n    step shell \"c\"\n  }\n\n  x > 1 -> level 1\n}\n"
    );
}

#[test]
fn crlf_becomes_lf_and_a_runbook_with_errors_is_refused() {
    let text = "runbook r {\r\n  level 1 {  # c\r\n    step shell \"a\"\r\n  }\r\n}\r\n";
    assert_eq!(fmt(text), "runbook r {\n  level 1 {  # c\n    step shell \"a\"\n  }\n}\n");
    assert!(matches!(format_source("runbook r { level 1 { } }"), Err(FormatError::Invalid(_))));
    assert!(matches!(format_source("runbook r {"), Err(FormatError::Invalid(_))));
    assert!(matches!(format_source(""), Err(FormatError::Invalid(_))));
}

// ---------------------------------------------------------------------------------------------------------
// Mutants
// ---------------------------------------------------------------------------------------------------------

/// The text with each run of spaces between tokens replaced by other white space (spaces, tabs, a line
/// break), on lines without comments and outside strings: the same tokens, the same blank lines.
fn reshuffle_white_space(text: &str, rng: &mut Rng) -> String {
    const SPACES: [&str; 5] = [" ", "  ", "\t", " \t  ", "\n      "];
    let mut out = String::new();
    let mut in_raw = false;
    for line in text.split_inclusive('\n') {
        let backticks = line.matches('`').count();
        if in_raw || backticks > 0 || line.contains('#') || line.trim().is_empty() {
            in_raw ^= backticks % 2 == 1;
            out.push_str(line);
            continue;
        }
        let indent = line.len() - line.trim_start().len();
        out.push_str(&line[..indent]);
        let mut in_string = false;
        let mut chars = line[indent..].chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '"' => {
                    in_string = !in_string;
                    out.push(c);
                }
                '\\' if in_string => {
                    out.push(c);
                    out.extend(chars.next());
                }
                ' ' if !in_string => {
                    while chars.peek() == Some(&' ') {
                        chars.next();
                    }
                    if chars.peek().is_some_and(|&c| c != '\n' && c != '\r') {
                        out.push_str(SPACES[rng.below(SPACES.len())]);
                    }
                }
                c => out.push(c),
            }
        }
    }
    out
}

fn sources() -> Vec<(String, String)> {
    let mut paths = files_in("runbooks", is_runbook);
    paths.extend(files_in("tests/plans", is_runbook));
    paths.push(root().join("tests/fmt/series.runbook"));
    paths.into_iter().map(|p| (p.display().to_string(), std::fs::read_to_string(&p).expect("readable"))).collect()
}

#[test]
fn white_space_between_tokens_does_not_change_the_layout() {
    let mut rng = Rng(0x5eed_f0f0_1234_9876);
    for (name, text) in sources() {
        let expected = fmt(&text);
        for _ in 0..12 {
            let mutant = reshuffle_white_space(&text, &mut rng);
            assert_eq!(fmt(&mutant), expected, "{name}, reshuffled:\n{mutant}");
        }
    }
}

#[test]
fn damaged_runbooks_that_still_compile_keep_their_plan() {
    const INSERTS: [&str; 12] =
        ["\n", " ", "# c\n", "\n\n", "  # x", "(", ")", " not ", "1", "s", "}", "step wait 1s\n"];
    let mut rng = Rng(0x0dd5_eed5_7777_4242);
    let mut compiled_mutants = 0;
    // `FMT_MUTATIONS=n` looks further than CI does.
    let per_source: usize = std::env::var("FMT_MUTATIONS").ok().and_then(|v| v.parse().ok()).unwrap_or(80);
    for (name, text) in sources() {
        for _ in 0..per_source {
            let mut mutant = text.clone();
            for _ in 0..=rng.below(2) {
                let at = rng.below(mutant.len());
                if !mutant.is_char_boundary(at) {
                    continue;
                }
                if rng.below(2) == 0 {
                    let end = (at + 1 + rng.below(12)).min(mutant.len());
                    if mutant.is_char_boundary(end) {
                        mutant.replace_range(at..end, "");
                    }
                } else {
                    mutant.insert_str(at, INSERTS[rng.below(INSERTS.len())]);
                }
            }
            let compiled = compile(&mutant);
            if compiled.has_errors() {
                continue;
            }
            compiled_mutants += 1;
            let out = match format_source(&mutant) {
                Ok(out) => out,
                Err(e) => panic!("{name}: mutant not formatted: {e:?}\n{mutant}"),
            };
            assert_eq!(compiled.plan, compile(&out).plan, "{name}: plan changed for\n{mutant}");
            assert_eq!(fmt(&out), out, "{name}: not idempotent for\n{mutant}");
        }
    }
    assert!(compiled_mutants > 50, "only {compiled_mutants} mutants compiled");
}

// ---------------------------------------------------------------------------------------------------------
// The binary
// ---------------------------------------------------------------------------------------------------------

const UNFORMATTED: &str = "runbook r {\n    level 1 \"L\" { step shell \"a\"   # a\n    }\n}\n";
const FORMATTED: &str = "runbook r {\n  level 1 \"L\" {\n    step shell \"a\"  # a\n  }\n}\n";
const BROKEN: &str = "runbook r {\n  trigger t: x > 1 -> level 2\n  level 1 \"L\" { step shell \"a\" }\n}\n";

fn read(dir: &Path, name: &str) -> String {
    std::fs::read_to_string(dir.join(name)).expect("readable")
}

#[test]
fn fmt_check_exits_0_when_formatted_and_1_with_a_diff_when_not() {
    let dir = dir_with(&[("ok.runbook", FORMATTED), ("sub/messy.runbook", UNFORMATTED)]);
    let out = ripcord(dir.path(), &["fmt", "--check", "ok.runbook"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(out.stdout.is_empty() && out.stderr.is_empty());

    let out = ripcord(dir.path(), &["fmt", "--check", "."]);
    assert_eq!(out.status.code(), Some(1));
    let printed = stdout(&out);
    let path = Path::new(".").join("sub").join("messy.runbook").display().to_string();
    assert!(printed.starts_with(&format!("{path}\n--- {path}\n+++ {path} (formatted)\n@@ ")), "{printed}");
    assert!(printed.contains("\n-    level 1 \"L\" { step shell \"a\"   # a\n"), "{printed}");
    assert!(printed.contains("\n+  level 1 \"L\" {\n"), "{printed}");
    assert_eq!(read(dir.path(), "sub/messy.runbook"), UNFORMATTED, "--check writes nothing");
}

#[test]
fn fmt_rewrites_in_place_and_leaves_files_with_errors_alone() {
    let dir = dir_with(&[("a.runbook", UNFORMATTED), ("b.runbook", BROKEN), ("c.runbook", FORMATTED)]);
    let out = ripcord(dir.path(), &["fmt", "a.runbook", "b.runbook", "c.runbook"]);
    assert_eq!(out.status.code(), Some(1), "b.runbook has an error");
    assert_eq!(read(dir.path(), "a.runbook"), FORMATTED);
    assert_eq!(read(dir.path(), "b.runbook"), BROKEN);
    assert_eq!(read(dir.path(), "c.runbook"), FORMATTED);
    assert_eq!(stdout(&out), "formatted a.runbook\n");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("RC110") && stderr.contains("b.runbook: not formatted"), "{stderr}");

    let out = ripcord(dir.path(), &["fmt", "a.runbook", "c.runbook"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(out.stdout.is_empty());
    let out = ripcord(dir.path(), &["fmt", "--check", "b.runbook"]);
    assert_eq!(out.status.code(), Some(1));
    let out = ripcord(dir.path(), &["fmt", "--check", "missing.runbook"]);
    assert_eq!(out.status.code(), Some(1));
    let out = ripcord(dir.path(), &["fmt"]);
    assert_eq!(out.status.code(), Some(2), "no path is a usage error");
}

#[test]
fn fmt_keeps_a_byte_order_mark() {
    let dir = dir_with(&[("bom.runbook", &format!("\u{feff}{UNFORMATTED}"))]);
    let out = ripcord(dir.path(), &["fmt", "bom.runbook"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(read(dir.path(), "bom.runbook"), format!("\u{feff}{FORMATTED}"));
    assert_eq!(ripcord(dir.path(), &["fmt", "--check", "bom.runbook"]).status.code(), Some(0));
}

#[test]
fn the_runbooks_are_kept_formatted() {
    let out = ripcord(root(), &["fmt", "--check", "runbooks"]);
    assert!(
        out.status.success(),
        "run `ripcord fmt runbooks/`:\n{}{}",
        stdout(&out),
        String::from_utf8_lossy(&out.stderr)
    );
}
