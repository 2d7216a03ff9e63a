//! Random damage to real runbooks must never crash the compiler or the CLI.
//!
//! Every runbook in `runbooks/` and `tests/plans/` is mutated thousands of times with a deterministic
//! xorshift generator: ranges deleted or duplicated, and bytes inserted that a parser finds hard (`(`, `{`,
//! `"`, `${`, backticks, comments, multi-byte UTF-8, stray bytes that are not UTF-8 at all). Each mutant
//! goes through `ripcord::compile` and the renderers, and a few hundred through the real `ripcord check`.
//! The assertions: no panic, spans inside the text, a plan exactly when there is no error, exit code 0 or
//! 1. The slowest compile is printed, not asserted (debug builds on shared machines vary too much).
//!
//! `MUTATION_SEED=n` and `MUTATIONS=n` change the run, to look further than CI does.

mod support;

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use ripcord::compile;
use ripcord::diagnostic::render_plain;
use ripcord::span::LineIndex;
use support::Rng;
use support::bin::Test;

const DEFAULT_SEED: u64 = 0x5eed_1234_abcd_0042;
const DEFAULT_MUTATIONS: usize = 3_000;
/// One mutant in this many is also checked by the binary.
const CLI_EVERY: usize = 10;

/// Fragments worth inserting: brackets, quotes, interpolation, comments, operators, keywords, numbers
/// with units, multi-byte UTF-8, a byte-order mark, and bytes that are not UTF-8.
const FRAGMENTS: &[&[u8]] = &[
    b"(",
    b")",
    b"{",
    b"}",
    b"\"",
    b"${",
    b"}",
    b"`",
    b"#",
    b"\n",
    b"\r\n",
    b"\\",
    b"->",
    b"-",
    b",",
    b":",
    b"=",
    b"%",
    b">=",
    b"!=",
    b" and ",
    b" not ",
    b" offset ",
    b"level ",
    b"step ",
    b"parallel {",
    b"trigger ",
    b" for ",
    b"consecutive",
    b"99999999999999999999",
    b"1.5m",
    b"30m1h",
    b"0",
    b"-1",
    b"1e400",
    b"250ms",
    "é".as_bytes(),
    "✓".as_bytes(),
    "𝄞".as_bytes(),
    "\u{feff}".as_bytes(),
    b"\xff",
    b"\xc3",
    b"\x00",
    b"\t",
];

/// One mutation in place: delete a range, insert a fragment or random bytes, or duplicate a range.
fn mutate_once(bytes: &mut Vec<u8>, rng: &mut Rng) {
    let len = bytes.len();
    match rng.below(4) {
        0 if len > 0 => {
            let start = rng.below(len);
            let n = 1 + rng.below(64.min(len - start));
            bytes.drain(start..start + n);
        }
        1 => {
            let at = rng.below(len + 1);
            let fragment = rng.pick(FRAGMENTS);
            bytes.splice(at..at, fragment.iter().copied());
        }
        2 => {
            let at = rng.below(len + 1);
            let n = 1 + rng.below(8);
            let random: Vec<u8> = (0..n).map(|_| rng.next() as u8).collect();
            bytes.splice(at..at, random);
        }
        _ if len > 0 => {
            let start = rng.below(len);
            let n = 1 + rng.below(256.min(len - start));
            let copy = bytes[start..start + n].to_vec();
            let at = rng.below(len + 1);
            bytes.splice(at..at, copy);
        }
        _ => bytes.push(b'('),
    }
}

/// A mutant: one to four mutations of `original`.
fn mutant(original: &[u8], rng: &mut Rng) -> Vec<u8> {
    let mut bytes = original.to_vec();
    for _ in 0..1 + rng.below(4) {
        mutate_once(&mut bytes, rng);
    }
    bytes
}

fn inputs() -> Vec<(PathBuf, Vec<u8>)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut out = Vec::new();
    for dir in ["runbooks", "tests/plans"] {
        let Ok(entries) = std::fs::read_dir(root.join(dir)) else {
            continue;
        };
        let mut files: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "runbook"))
            .collect();
        files.sort();
        for f in files {
            let bytes = std::fs::read(&f).expect("readable");
            out.push((f, bytes));
        }
    }
    assert!(!out.is_empty(), "no runbooks to mutate");
    out
}

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// Compiles and renders `text` as `check` would, asserting what must hold for any input. Returns how long
/// the compile took and whether it gave a plan.
fn compile_checked(text: &str) -> (Duration, bool) {
    let t = Instant::now();
    let compiled = compile(text);
    let took = t.elapsed();
    let has_error = compiled.diagnostics.iter().any(|d| d.is_error());
    assert_eq!(compiled.plan.is_some(), !has_error, "a plan exactly when no error");
    let index = LineIndex::new(text);
    for d in &compiled.diagnostics {
        let spans = std::iter::once(d.span).chain(d.related.iter().map(|(s, _)| *s));
        for span in spans {
            assert!(
                span.start <= span.end && span.end <= text.len(),
                "{}: span {span:?} outside 0..{}",
                d.code,
                text.len()
            );
        }
        let _ = index.position(d.span.end);
        assert!(!render_plain("mutant.runbook", text, d).is_empty());
    }
    if let Some(plan) = &compiled.plan {
        let _ = (plan.to_json(), ripcord::plan::render_text(plan));
    }
    (took, compiled.plan.is_some())
}

/// What happened to one mutant.
struct Outcome {
    /// How long `compile` took, and whether it gave a plan; `None` when it panicked.
    compiled: Option<(Duration, bool)>,
    /// Panics and bad exits, in words.
    crashes: Vec<String>,
    cli_checked: bool,
}

/// Compiles one mutant, and runs `ripcord check` on every `CLI_EVERY`th.
fn try_mutant(i: usize, name: &str, bytes: &[u8], scratch: &Path, keep: &Path) -> Outcome {
    let text = String::from_utf8_lossy(bytes);
    let text = ripcord::source_text(&text);
    let mut crashes = Vec::new();
    let compiled = catch_unwind(AssertUnwindSafe(|| compile_checked(text))).ok();
    if compiled.is_none() {
        let file = keep.join(format!("crash-{i}.runbook"));
        std::fs::write(&file, bytes).expect("write");
        crashes.push(format!("{name}: compile panicked; kept as {}", file.display()));
    }
    let cli_checked = i.is_multiple_of(CLI_EVERY);
    if cli_checked {
        let file = scratch.join(format!("m{i}.runbook"));
        std::fs::write(&file, bytes).expect("write");
        let mut cmd = Test::new().arg("check").arg(&file);
        if i.is_multiple_of(2 * CLI_EVERY) {
            cmd = cmd.args(["--format", "json"]);
        }
        let out = cmd.run();
        let stderr = String::from_utf8_lossy(&out.stderr);
        match out.status.code() {
            Some(0 | 1) if !stderr.contains("panicked") => {}
            code => crashes.push(format!("{name}: `ripcord check` exited {code:?}\n{stderr}")),
        }
    }
    Outcome { compiled, crashes, cli_checked }
}

#[test]
fn random_mutations_never_crash_compile_or_check() {
    let seed = env_number("MUTATION_SEED", DEFAULT_SEED);
    let total = env_number("MUTATIONS", DEFAULT_MUTATIONS as u64) as usize;
    let inputs = inputs();
    let mut rng = Rng::new(seed);
    let mutants: Vec<(String, Vec<u8>)> = (0..total)
        .map(|i| {
            let (path, original) = &inputs[i % inputs.len()];
            (format!("mutant #{i} of {} (seed {seed})", path.display()), mutant(original, &mut rng))
        })
        .collect();
    let scratch = tempfile::tempdir().expect("temp dir");
    // Inputs that crash, and the slowest one, are kept here for a look after the run.
    let keep = Path::new(env!("CARGO_TARGET_TMPDIR")).join("mutations");
    std::fs::create_dir_all(&keep).expect("mkdir");

    // Two workers (the machines have two cores), each taking every other mutant.
    const WORKERS: usize = 2;
    let started = Instant::now();
    let outcomes: Vec<(usize, Outcome)> = std::thread::scope(|s| {
        let workers: Vec<_> = (0..WORKERS)
            .map(|w| {
                let (mutants, scratch, keep) = (&mutants, scratch.path(), keep.as_path());
                s.spawn(move || {
                    (w..mutants.len())
                        .step_by(WORKERS)
                        .map(|i| (i, try_mutant(i, &mutants[i].0, &mutants[i].1, scratch, keep)))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        workers.into_iter().flat_map(|w| w.join().expect("worker")).collect()
    });
    let elapsed = started.elapsed();

    let crashes: Vec<&String> = outcomes.iter().flat_map(|(_, o)| &o.crashes).collect();
    let planned = outcomes.iter().filter(|(_, o)| matches!(o.compiled, Some((_, true)))).count();
    let cli_runs = outcomes.iter().filter(|(_, o)| o.cli_checked).count();
    println!(
        "{total} mutants of {} runbooks: {planned} compiled to a plan, {} with errors, {} crashes; \
         {cli_runs} checked by the binary; {elapsed:.1?} in all",
        inputs.len(),
        total - planned - crashes.len(),
        crashes.len(),
    );
    if let Some((i, took)) =
        outcomes.iter().filter_map(|(i, o)| o.compiled.map(|(took, _)| (*i, took))).max_by_key(|&(_, took)| took)
    {
        // Timing the slowest again tells a slow input from a descheduled thread.
        let (name, bytes) = &mutants[i];
        let text = String::from_utf8_lossy(bytes);
        let again = (0..5).map(|_| compile_checked(ripcord::source_text(&text)).0).min().unwrap_or_default();
        let file = keep.join("slowest.runbook");
        std::fs::write(&file, bytes).expect("write");
        println!("slowest compile: {took:.2?}, {again:.2?} timed again ({name}, kept as {})", file.display());
    }
    assert!(crashes.is_empty(), "crashes: {crashes:#?}");
    assert!(planned > 0 && planned < total, "the mutations should break some runbooks, not all");
}
