//! Language throughput: text to plan (`ripcord::compile`: pre-scan, pest, lowering, analysis, plan) in MB/s.
//!
//! - `compile/synthetic_1mb`: one ~1 MB runbook assembled from the real runbooks in `runbooks/` (their
//!   metrics, channels and file roots merged, their triggers copied under new names, 99 levels filled with
//!   their steps), so the mix of constructs is a real one.
//! - `compile/real_runbooks`: every runbook in `runbooks/` compiled one after the other.
//! - `parse/synthetic_1mb` and `analyze/synthetic_1mb`: the two halves of the first, to show where time goes.
//!
//! Run: `cargo bench --bench compile`. Criterion's `thrpt` is in MB/s (10^6 bytes) of wall-clock time; a
//! second table follows with MB per CPU-second of this process, which other load on the machine does not
//! skew. The check of 1,000 files is `benches/check_1000.sh`. Results: docs/benchmarks.md.

use std::collections::{BTreeMap, BTreeSet};
use std::hint::black_box;
use std::path::Path;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group};

/// The highest level number the language allows.
const LEVELS: u32 = 99;
const TARGET_BYTES: usize = 1_000_000;

fn real_runbooks() -> Vec<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("runbooks");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("runbooks/ exists")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "runbook"))
        .collect();
    files.sort();
    let texts: Vec<String> = files.iter().map(|p| std::fs::read_to_string(p).expect("UTF-8 runbook")).collect();
    assert!(!texts.is_empty(), "runbooks/ has no runbooks");
    texts
}

/// How much a line changes the brace depth, ignoring braces in strings, raw strings and comments.
fn brace_delta(line: &str) -> i32 {
    let mut delta = 0;
    let mut chars = line.chars();
    let mut quote: Option<char> = None;
    while let Some(c) = chars.next() {
        match (quote, c) {
            (Some('"'), '\\') => {
                chars.next();
            }
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '`') => quote = Some(c),
            (None, '#') => break,
            (None, '{') => delta += 1,
            (None, '}') => delta -= 1,
            (None, _) => {}
        }
    }
    delta
}

/// The declarations and steps of the real runbooks, by kind.
#[derive(Default)]
struct Parts {
    metrics: BTreeMap<String, String>,
    channels: BTreeMap<String, String>,
    roots: BTreeSet<String>,
    triggers: Vec<String>,
    /// Each level's steps (options removed), as lines.
    level_bodies: Vec<String>,
}

const LEVEL_OPTIONS: &[&str] = &["deadline", "approval", "cooldown", "max", "on"];

fn parts(texts: &[String]) -> Parts {
    let mut parts = Parts::default();
    for text in texts {
        let mut depth = 0;
        let mut body: Option<String> = None;
        for line in text.lines() {
            let trimmed = line.trim_start();
            let first = trimmed.split_whitespace().next().unwrap_or("");
            if depth == 1 {
                let name = trimmed.split_whitespace().nth(1).unwrap_or("").to_string();
                match first {
                    "metric" => {
                        parts.metrics.entry(name).or_insert_with(|| line.to_string());
                    }
                    "channel" => {
                        parts.channels.entry(name).or_insert_with(|| line.to_string());
                    }
                    "files" => parts.roots.extend(trimmed.split('"').skip(1).step_by(2).map(|r| format!("\"{r}\""))),
                    // The trigger itself; an attribute block (`-> level 1 {` ... `}`) is left out.
                    "trigger" => parts.triggers.push(trimmed.trim_end().trim_end_matches('{').trim_end().to_string()),
                    "level" => body = Some(String::new()),
                    _ => {}
                }
            } else if depth >= 2
                && let Some(body) = body.as_mut()
            {
                let option = depth == 2 && LEVEL_OPTIONS.contains(&first);
                let closing = depth + brace_delta(line) < 2;
                if !option && !closing {
                    body.push_str(line);
                    body.push('\n');
                }
            }
            depth += brace_delta(line);
            if depth <= 1
                && let Some(done) = body.take().filter(|b| !b.trim().is_empty())
            {
                parts.level_bodies.push(done);
            }
        }
    }
    assert!(!parts.level_bodies.is_empty() && !parts.triggers.is_empty());
    parts
}

/// One runbook of about `TARGET_BYTES`: a quarter triggers, the rest levels full of real steps.
fn synthetic(texts: &[String]) -> String {
    let parts = parts(texts);
    let mut out = String::from("runbook synthetic {\n  evaluate every 15s\n");
    let roots: Vec<&str> = parts.roots.iter().map(String::as_str).collect();
    out.push_str(&format!("  files under {}\n", roots.join(", ")));
    for line in parts.channels.values().chain(parts.metrics.values()) {
        out.push_str(line);
        out.push('\n');
    }
    let mut copy = 0;
    while out.len() < TARGET_BYTES / 4 {
        for t in &parts.triggers {
            // `trigger NAME: ...` -> `trigger NAME_copy: ...`
            if let Some((head, rest)) = t.split_once(':') {
                out.push_str(&format!("  {head}_{copy}:{rest}\n"));
            }
        }
        copy += 1;
    }
    let per_level = (TARGET_BYTES - out.len()) / LEVELS as usize;
    let mut next_body = 0;
    for n in 1..=LEVELS {
        out.push_str(&format!("  level {n} \"Synthetic level {n}\" {{\n    deadline 1h\n"));
        if n < LEVELS {
            out.push_str(&format!("    on failure escalate level {}\n", n + 1));
        }
        let start = out.len();
        while out.len() - start < per_level {
            out.push_str(&parts.level_bodies[next_body % parts.level_bodies.len()]);
            next_body += 1;
        }
        out.push_str("  }\n");
    }
    out.push_str("}\n");
    out
}

fn bench_compile(c: &mut Criterion) {
    let texts = real_runbooks();
    let big = synthetic(&texts);
    let compiled = ripcord::compile(&big);
    let errors: Vec<_> = compiled.diagnostics.iter().filter(|d| d.is_error()).collect();
    assert!(errors.is_empty(), "the synthetic runbook must compile: {errors:#?}");
    let plan = compiled.plan.expect("a plan");
    println!(
        "synthetic runbook: {} bytes, {} lines, {} triggers, {} levels, {} steps",
        big.len(),
        big.lines().count(),
        plan.triggers.len(),
        plan.levels.len(),
        plan.all_steps().len()
    );

    let mut group = c.benchmark_group("compile");
    group.sample_size(20);
    group.measurement_time(Duration::from_secs(10));
    group.throughput(Throughput::BytesDecimal(big.len() as u64));
    group.bench_function("synthetic_1mb", |b| b.iter(|| ripcord::compile(black_box(&big))));
    let total: usize = texts.iter().map(String::len).sum();
    group.throughput(Throughput::BytesDecimal(total as u64));
    group.bench_function("real_runbooks", |b| {
        b.iter(|| {
            for text in &texts {
                black_box(ripcord::compile(black_box(text)));
            }
        })
    });
    group.finish();

    let mut group = c.benchmark_group("parse");
    group.sample_size(20);
    group.measurement_time(Duration::from_secs(10));
    group.throughput(Throughput::BytesDecimal(big.len() as u64));
    group.bench_function("synthetic_1mb", |b| b.iter(|| ripcord::syntax::parse(black_box(&big))));
    group.finish();

    let (tree, _) = ripcord::syntax::parse(&big);
    let tree = tree.expect("a tree");
    let mut group = c.benchmark_group("analyze");
    group.sample_size(20);
    group.throughput(Throughput::BytesDecimal(big.len() as u64));
    group.bench_function("synthetic_1mb", |b| b.iter(|| ripcord::analyze::analyze(black_box(&tree), &big)));
    group.finish();
}

/// CPU seconds this process has used so far, all threads, user and system (Linux `/proc/self/stat`).
fn process_cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // The fields after the command name, which is in parentheses and may hold spaces: state is the first,
    // utime and stime (fields 14 and 15 of the line, in 1/100 s) the 12th and 13th.
    let fields: Vec<&str> = stat.get(stat.rfind(')')? + 2..)?.split(' ').collect();
    let ticks = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0)
}

/// Throughput per CPU-second: what one core does, whatever else the machine is running. Criterion's
/// wall-clock figures drop when other processes share the two cores; this one barely moves.
fn cpu_throughput(name: &str, bytes: usize, mut f: impl FnMut()) {
    const CPU_SECONDS: f64 = 5.0;
    f();
    let (Some(start), wall) = (process_cpu_seconds(), Instant::now()) else {
        return;
    };
    let mut runs = 0u32;
    let mut used = 0.0;
    while used < CPU_SECONDS {
        f();
        runs += 1;
        used = process_cpu_seconds().unwrap_or(start + CPU_SECONDS) - start;
    }
    let mb = bytes as f64 * f64::from(runs) / 1e6;
    println!(
        "{name:<24} {:6.2} MB per CPU-second  ({runs} runs, {used:.2} s CPU, {:.2} s wall)",
        mb / used,
        wall.elapsed().as_secs_f64()
    );
}

fn cpu_report() {
    let texts = real_runbooks();
    let big = synthetic(&texts);
    println!("\nThroughput per CPU-second (user + system time of this process):");
    cpu_throughput("compile/synthetic_1mb", big.len(), || {
        black_box(ripcord::compile(black_box(&big)));
    });
    let total: usize = texts.iter().map(String::len).sum();
    cpu_throughput("compile/real_runbooks", total, || {
        for text in &texts {
            black_box(ripcord::compile(black_box(text)));
        }
    });
    // The same work without the thread `compile` runs on (its large stack makes deep input safe).
    cpu_throughput("parse+analyze/real", total, || {
        for text in &texts {
            if let (Some(tree), _) = ripcord::syntax::parse(black_box(text)) {
                black_box(ripcord::analyze::analyze(&tree, text));
            }
        }
    });
    cpu_throughput("parse/synthetic_1mb", big.len(), || {
        black_box(ripcord::syntax::parse(black_box(&big)));
    });
}

criterion_group!(benches, bench_compile);

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
    // Only under `cargo bench` (not `cargo test --benches`), and not when profiling.
    let args: Vec<String> = std::env::args().collect();
    if args.iter().any(|a| a == "--bench") && !args.iter().any(|a| a == "--profile-time") {
        cpu_report();
    }
}
