//! The docs stay true: every diagnostic code is in the language reference, and every complete runbook the
//! reference shows (fenced as `runbook`) compiles.

mod support;

use support::{fenced_blocks, root};

fn read(path: &str) -> String {
    std::fs::read_to_string(root().join(path)).expect("doc exists")
}

#[test]
fn every_code_is_documented_in_the_language_reference() {
    let doc = read("docs/language.md");
    let missing: Vec<&str> =
        ripcord::Code::ALL.iter().map(|c| c.as_str()).filter(|c| !doc.contains(&format!("| {c} |"))).collect();
    assert!(missing.is_empty(), "codes missing from docs/language.md's table: {missing:?}");
}

#[test]
fn every_runbook_in_the_reference_compiles() {
    let blocks = fenced_blocks(&read("docs/language.md"), &["```runbook"], true);
    assert!(blocks.len() >= 3, "expected runbook examples in docs/language.md, found {}", blocks.len());
    for block in &blocks {
        let compiled = ripcord::compile(block);
        assert!(compiled.plan.is_some(), "this example does not compile: {:#?}\n{block}", compiled.diagnostics);
    }
}

#[test]
fn the_readme_quick_start_names_files_that_exist() {
    let readme = read("README.md");
    for path in ["runbooks/storage-migration.runbook", "examples/incidents/storage-migration.csv"] {
        assert!(readme.contains(path), "README no longer mentions {path}");
        assert!(root().join(path).exists(), "{path} is missing");
    }
}
