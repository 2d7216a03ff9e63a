//! The fuzz seed corpus, replayed on the stable toolchain: every file under `fuzz/corpus/<target>/` goes
//! through the same function its fuzz target calls (`fuzz/targets.rs`), and none may panic. So the corpus is
//! exercised by every `cargo test`, and an input a fuzzer found, once added to it, stays fixed.

mod support;

use std::path::PathBuf;

#[path = "../fuzz/targets.rs"]
mod targets;

/// The corpus files of `target`, sorted.
fn corpus(target: &str) -> Vec<PathBuf> {
    let dir = support::root().join("fuzz/corpus").join(target);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files
}

fn replay(target: &str, run: fn(&[u8])) {
    let files = corpus(target);
    assert!(files.len() >= 10, "fuzz/corpus/{target} holds only {} seeds", files.len());
    support::for_each(files.into_iter().map(|p| (p.display().to_string(), p)), |_, path| {
        let data = std::fs::read(&path).expect("read a seed");
        run(&data);
    });
}

#[test]
fn compile_corpus_never_panics() {
    replay("compile", targets::compile);
}

#[test]
fn series_corpus_never_panics() {
    replay("series", targets::series);
}

#[test]
fn webhook_corpus_never_panics() {
    replay("webhook", targets::webhook);
}

/// Every target has a corpus and every corpus a target: a new target comes with its seeds.
#[test]
fn every_fuzz_target_has_a_corpus() {
    let manifest = std::fs::read_to_string(support::root().join("fuzz/Cargo.toml")).expect("fuzz/Cargo.toml");
    let targets: Vec<&str> = manifest
        .lines()
        .filter_map(|l| l.strip_prefix("name = \""))
        .filter_map(|l| l.strip_suffix('"'))
        .filter(|n| *n != "ripcord-fuzz")
        .collect();
    assert_eq!(targets, ["compile", "series", "webhook"]);
    for t in targets {
        assert!(support::root().join("fuzz/fuzz_targets").join(format!("{t}.rs")).exists(), "{t}");
        assert!(!corpus(t).is_empty(), "{t} has no seeds");
    }
}
