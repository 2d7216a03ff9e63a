//! Helpers shared by the integration tests: the real binary ([`bin`]), a real Prometheus and the exporter it
//! scrapes ([`prometheus`]), a real Alertmanager ([`alertmanager`]), `ripcord watch` as a child ([`watch`]),
//! and the small things many tests need: the crate root, temporary directories holding given files, fenced
//! blocks of Markdown, a deterministic random generator, running every case before failing, and skipping
//! (or, with `CI` set, failing) when an external tool is not installed.
#![allow(dead_code, reason = "each test binary uses part of the support module")]

pub mod alertmanager;
pub mod bin;
pub mod daemon;
pub mod http;
pub mod postgres;
pub mod prometheus;
pub mod promtool;
pub mod watch;

use std::io::Write;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

use tempfile::TempDir;

/// The crate root: where `runbooks/`, `docs/` and `tests/` are.
pub fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// An empty temporary directory, removed when dropped.
pub fn temp_dir() -> TempDir {
    tempfile::tempdir().expect("temp dir")
}

/// A temporary directory holding the given text files (parent directories created).
pub fn dir_with(files: &[(&str, &str)]) -> TempDir {
    let bytes: Vec<(&str, &[u8])> = files.iter().map(|(name, text)| (*name, text.as_bytes())).collect();
    dir_with_bytes(&bytes)
}

/// A temporary directory holding the given files (parent directories created).
pub fn dir_with_bytes(files: &[(&str, &[u8])]) -> TempDir {
    let dir = temp_dir();
    for (name, content) in files {
        write_file(dir.path(), name, content);
    }
    dir
}

/// Writes `dir/name` (parent directories created) and returns its path.
pub fn write_file(dir: &Path, name: &str, content: impl AsRef<[u8]>) -> PathBuf {
    let path = dir.join(name);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).expect("mkdir");
    }
    std::fs::write(&path, content).expect("write");
    path
}

/// Runs `f` for every item and fails once at the end, naming each item that failed, so one run shows every
/// broken case and every snapshot diff.
pub fn for_each<T>(items: impl IntoIterator<Item = (String, T)>, f: impl Fn(&str, T)) {
    let mut failed = Vec::new();
    for (name, item) in items {
        if catch_unwind(AssertUnwindSafe(|| f(&name, item))).is_err() {
            failed.push(name);
        }
    }
    assert!(failed.is_empty(), "failed: {failed:#?}");
}

/// The fenced code blocks of `markdown` whose opening fence line is one of `openings` (as "```runbook"), up to
/// the next "```" line. With `indented`, fences are recognised after leading white space too.
pub fn fenced_blocks(markdown: &str, openings: &[&str], indented: bool) -> Vec<String> {
    let mut out = Vec::new();
    let mut current: Option<String> = None;
    for line in markdown.lines() {
        let fence = if indented { line.trim_start() } else { line };
        match &mut current {
            None if openings.contains(&fence) => current = Some(String::new()),
            None => {}
            Some(_) if fence == "```" => out.extend(current.take()),
            Some(block) => {
                block.push_str(line);
                block.push('\n');
            }
        }
    }
    out
}

/// xorshift64*: tiny, deterministic, good enough to pick offsets.
pub struct Rng(pub u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed.max(1))
    }

    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A number in `0..n` (0 when `n` is 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// Whether every tool in `tools` (absolute paths) is installed. When one is missing: with `CI` set the test
/// fails; otherwise it says that `test` is skipped, straight to the stderr handle (libtest captures
/// `eprintln!` of a passing test, and a skip must show), and the answer is `false`.
pub fn installed(test: &str, tools: &[&str]) -> bool {
    for tool in tools {
        if !Path::new(tool).exists() {
            assert!(
                std::env::var_os("CI").is_none(),
                "{tool} is missing and CI is set: .ci/run installs it (apt-get install prometheus, \
                 prometheus-alertmanager, chromium)"
            );
            let _ =
                writeln!(std::io::stderr(), "SKIPPED {test}: {tool} is not installed; with CI set this is a failure");
            return false;
        }
    }
    true
}
