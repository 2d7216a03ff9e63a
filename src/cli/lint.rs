//! `ripcord lint PATH...`: lint rules over every runbook under the paths (see docs/lints.md).
//!
//! Files are read and linted on one worker per core (a file with long expressions gets the compile driver's
//! large stack, see `crate::compile`); the output is rendered once, in the order of the paths, so it is the
//! same on every run.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use clap::{Args, ValueEnum};

use super::input::{expand_paths, load_runbook};
use crate::lint::output::{Linted, render_github, render_json, render_sarif, render_text};
use crate::lint::{Config, Finding, lint_source};

/// The configuration file read from the current directory when `--config` is not given.
const DEFAULT_CONFIG: &str = "ripcord.toml";

/// Configuration files larger than this are refused.
const MAX_CONFIG_BYTES: u64 = 1024 * 1024;

#[derive(Args, Debug)]
pub struct LintArgs {
    /// Runbook files, or directories to search for `*.runbook` files.
    #[arg(required_unless_present = "explain")]
    pub paths: Vec<PathBuf>,
    /// Output format; findings go to stdout in every format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Rule settings (default: `ripcord.toml` in the current directory, when there is one).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Print a rule's documentation, by code (`RC801`) or name (`trigger-without-for`), and exit.
    #[arg(long, value_name = "RULE")]
    pub explain: Option<String>,
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub enum Format {
    Text,
    Json,
    Sarif,
    Github,
}

pub fn run(args: &LintArgs) -> u8 {
    let mut stdout = std::io::stdout().lock();
    let mut stderr = std::io::stderr().lock();
    if let Some(rule) = &args.explain {
        return match crate::lint::explain(rule) {
            Some(doc) => u8::from(stdout.write_all(doc.as_bytes()).is_err()),
            None => {
                let names = crate::lint::RULES.iter().map(|e| e.rule.name);
                let compile_code = crate::diagnostic::Code::ALL.iter().any(|c| c.as_str().eq_ignore_ascii_case(rule));
                let hint = match crate::diagnostic::did_you_mean(rule, names) {
                    _ if compile_code => {
                        ": it is a compile diagnostic, explained in docs/language.md, section 10".to_string()
                    }
                    Some(suggestion) => format!("; {suggestion}"),
                    None => "; docs/lints.md lists every rule".to_string(),
                };
                let _ = writeln!(stderr, "error: `{rule}` is not a lint rule{hint}");
                2
            }
        };
    }
    let config = match load_config(args.config.as_deref()) {
        Ok(c) => c,
        Err(message) => {
            let _ = writeln!(stderr, "error: {message}");
            return 2;
        }
    };
    let files = lint_files(&expand_paths(&args.paths), &config);
    let out = match args.format {
        Format::Text => render_text(&files, super::stdout_color()),
        Format::Json => render_json(&files),
        Format::Sarif => render_sarif(&files),
        Format::Github => render_github(&files),
    };
    let _ = stdout.write_all(out.as_bytes());
    let count = |error: bool| files.iter().flat_map(|f| &f.findings).filter(|f| f.is_error() == error).count();
    let (errors, warnings) = (count(true), count(false));
    if args.format == Format::Text {
        let plural = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
        let _ = writeln!(
            stderr,
            "{} and {} in {}",
            plural(errors, "error"),
            plural(warnings, "warning"),
            plural(files.len(), "file")
        );
    }
    u8::from(errors > 0)
}

/// `--config FILE`, else `ripcord.toml` in the current directory if there is one, else the defaults.
fn load_config(explicit: Option<&Path>) -> Result<Config, String> {
    let path = match explicit {
        Some(p) => p.to_path_buf(),
        None if Path::new(DEFAULT_CONFIG).is_file() => PathBuf::from(DEFAULT_CONFIG),
        None => return Ok(Config::default()),
    };
    let display = path.display();
    let size = std::fs::metadata(&path).map_err(|e| format!("cannot read `{display}`: {e}"))?.len();
    if size > MAX_CONFIG_BYTES {
        return Err(format!("`{display}` is larger than 1 MiB"));
    }
    let text = std::fs::read_to_string(&path).map_err(|e| format!("cannot read `{display}`: {e}"))?;
    Config::from_toml(&text).map_err(|e| format!("`{display}`: {e}"))
}

/// Reads and lints every file, one worker per core; results come back in the order of `paths`.
pub fn lint_files(paths: &[PathBuf], config: &Config) -> Vec<Linted> {
    let slots: Vec<Mutex<Option<Linted>>> = paths.iter().map(|_| Mutex::new(None)).collect();
    let next = AtomicUsize::new(0);
    let work = || {
        loop {
            let i = next.fetch_add(1, Ordering::Relaxed);
            let Some(path) = paths.get(i) else { break };
            let linted = lint_file(path, config);
            if let Ok(mut slot) = slots[i].lock() {
                *slot = Some(linted);
            }
        }
    };
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get()).min(paths.len()).max(1);
    std::thread::scope(|scope| {
        let mut spawned = 0;
        for _ in 0..workers {
            let ok = std::thread::Builder::new().name("ripcord-lint".to_string()).spawn_scoped(scope, work).is_ok();
            spawned += usize::from(ok);
        }
        if spawned == 0 {
            // No thread could be started: lint every file here.
            work();
        }
    });
    slots.into_iter().filter_map(|s| s.into_inner().ok().flatten()).collect()
}

fn lint_file(path: &Path, config: &Config) -> Linted {
    let file = load_runbook(path);
    let findings = match &file.error {
        Some(d) => vec![Finding::from_diagnostic(d)],
        None => lint_source(&file.text, config),
    };
    Linted { path: file.path, text: file.text, findings }
}
