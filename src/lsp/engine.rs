//! The language server's one door into the rest of the library: compiling, linting, formatting, simulating
//! and explaining, exactly as `check`, `lint`, `fmt` and `simulate` do, with the results in the plain types
//! the server needs (byte spans, code strings).
//!
//! Every other file of `lsp` reaches the library only through this one, so that a moved or renamed library
//! path is a change here alone. Nothing here panics or does I/O beyond reading a file it is named.

use std::path::{Path, PathBuf};

pub use crate::ast::{
    Expr, ExprKind, Hold as AstHold, Ident, ItemKind, Level as AstLevel, LevelItem, NoDataPolicy,
    OnFailure as AstOnFailure, Quantity, QuantityValue, Runbook, Step as AstStep, StepKind, StepNode,
    Target as AstTarget, Trigger as AstTrigger, VerifyProbe,
};
pub use crate::plan::{Hold, OnFailure, Plan, Shape, Target, format_duration, format_number};
pub use crate::span::Span;

/// The largest document the server analyses: the limit `check` applies to a file (8 MiB). A larger document
/// gets `check`'s RC002 diagnostic and nothing else.
pub const MAX_DOCUMENT_BYTES: usize = crate::syntax::MAX_FILE_BYTES;

/// The largest series file a code lens reads. `simulate` streams files of any size; a lens answers while the
/// author types, so it stays with what it can read in a moment (a month of history is for `simulate`).
pub const MAX_SERIES_BYTES: u64 = 64 * 1024 * 1024;

/// The configuration file `lint` reads, looked for beside the document and in the folders above it.
pub const CONFIG_FILE: &str = "ripcord.toml";

/// The configuration files larger than this are refused, as `lint` refuses them.
const MAX_CONFIG_BYTES: u64 = 1024 * 1024;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Severity {
    Error,
    Warning,
}

/// One problem, as `ripcord lint` reports it (compile diagnostics included): the same code, message, spans
/// and help line. Spans are byte ranges into the document's text.
#[derive(Clone, Debug, PartialEq)]
pub struct Problem {
    pub code: String,
    pub severity: Severity,
    pub message: String,
    pub start: usize,
    pub end: usize,
    pub related: Vec<(usize, usize, String)>,
    pub help: Option<String>,
}

/// The lint configuration in force for a document.
#[derive(Clone, Debug, Default)]
pub struct LintConfig {
    config: crate::lint::Config,
    /// Why the configuration file found was not used, when it was refused.
    pub error: Option<String>,
}

/// The length of a leading byte-order mark, which the library never sees (spans are shifted back by it).
fn bom_len(text: &str) -> usize {
    text.len() - crate::source_text(text).len()
}

/// Every compile diagnostic and lint finding for the text, sorted as `lint` sorts them.
pub fn problems(text: &str, config: &LintConfig) -> Vec<Problem> {
    let shift = bom_len(text);
    let body = crate::source_text(text);
    crate::lint::lint_source(body, &config.config)
        .into_iter()
        .map(|f| Problem {
            code: f.code.to_string(),
            severity: if f.is_error() { Severity::Error } else { Severity::Warning },
            message: f.message,
            start: f.span.start + shift,
            end: f.span.end + shift,
            related: f.related.into_iter().map(|(s, l)| (s.start + shift, s.end + shift, l)).collect(),
            help: f.help,
        })
        .collect()
}

/// The syntax tree when the text parses; spans are shifted to count a byte-order mark.
pub fn parse(text: &str) -> Option<Runbook> {
    let body = crate::source_text(text);
    if body.len() > MAX_DOCUMENT_BYTES {
        return None;
    }
    let runbook = crate::compile::on_compile_stack(body, || crate::syntax::parse(body).0)?;
    let shift = bom_len(text);
    if shift == 0 {
        return Some(runbook);
    }
    // Rare: a document that starts with a byte-order mark. Re-parse the text with the mark blanked to
    // spaces of the same length, so every span counts it.
    let blanked = format!("{}{}", " ".repeat(shift), body);
    crate::compile::on_compile_stack(&blanked, || crate::syntax::parse(&blanked).0)
}

/// The compiled plan, when the text has no errors.
pub fn plan(text: &str) -> Option<Plan> {
    let body = crate::source_text(text);
    if body.len() > MAX_DOCUMENT_BYTES {
        return None;
    }
    crate::compile(body).plan
}

/// Exactly what `ripcord fmt` writes for the text; `None` when `fmt` would leave it as it is (errors).
pub fn format(text: &str) -> Option<String> {
    let body = crate::source_text(text);
    if body.len() > MAX_DOCUMENT_BYTES {
        return None;
    }
    crate::format::format_source(body).ok()
}

/// A diagnostic code's explanation: a lint rule's documentation (`lint --explain`), or a compile code's
/// meaning from the code registry.
pub fn explain(code: &str) -> Option<String> {
    if let Some(doc) = crate::lint::explain(code) {
        return Some(doc);
    }
    let c = crate::diagnostic::Code::ALL.iter().find(|c| c.as_str().eq_ignore_ascii_case(code))?;
    let severity = match c.severity() {
        crate::diagnostic::Severity::Error => "error",
        crate::diagnostic::Severity::Warning => "warning",
    };
    Some(format!(
        "{} {} ({severity})\n\n{}.\n\ndocs/language.md, section 10, lists every code with an example.\n",
        c.as_str(),
        crate::lint::code_name(*c),
        capitalise(c.summary())
    ))
}

fn capitalise(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// The closest name to `name` among `candidates`, as the compiler's "did you mean" picks it.
pub fn closest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    crate::diagnostic::closest(name, candidates)
}

/// Whether `word` is a reserved word of the language (section 2.2 of docs/language.md).
pub fn is_keyword(word: &str) -> bool {
    KEYWORDS.contains(&word)
}

/// The reserved words, as the grammar's `keyword` rule lists them.
pub const KEYWORDS: &[&str] = &[
    "abort",
    "and",
    "approval",
    "attempts",
    "backoff",
    "body",
    "channel",
    "consecutive",
    "continue",
    "cooldown",
    "deadline",
    "description",
    "escalate",
    "evaluate",
    "every",
    "expect",
    "failure",
    "files",
    "firing",
    "for",
    "from",
    "header",
    "http",
    "idempotent",
    "ignoring",
    "keep",
    "level",
    "max",
    "metric",
    "not",
    "notify",
    "offset",
    "on",
    "or",
    "owner",
    "parallel",
    "promql",
    "required",
    "restore",
    "retry",
    "runbook",
    "shell",
    "snapshot",
    "step",
    "timeout",
    "trigger",
    "under",
    "unless",
    "verify",
    "wait",
    "webhook",
    "within",
];

/// The condition functions (section 4.4), with their signatures.
pub const FUNCTIONS: &[(&str, &str)] = &[
    ("avg_over", "avg_over(metric, window)"),
    ("min_over", "min_over(metric, window)"),
    ("max_over", "max_over(metric, window)"),
    ("sum_over", "sum_over(metric, window)"),
    ("count_over", "count_over(metric, window)"),
    ("quantile_over", "quantile_over(q, metric, window)"),
    ("rate", "rate(counter, window)"),
    ("increase", "increase(counter, window)"),
    ("abs", "abs(value)"),
];

/// The HTTP methods a step may use.
pub const METHODS: &[&str] = &["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"];

/// The lint configuration for a document at `path`: `ripcord.toml` in its folder or the nearest folder above.
pub fn config_for(path: Option<&Path>) -> LintConfig {
    let Some(found) = path.and_then(find_config) else {
        return LintConfig::default();
    };
    let read = std::fs::metadata(&found)
        .map_err(|e| e.to_string())
        .and_then(|m| if m.len() > MAX_CONFIG_BYTES { Err("larger than 1 MiB".to_string()) } else { Ok(()) })
        .and_then(|()| std::fs::read_to_string(&found).map_err(|e| e.to_string()))
        .and_then(|text| crate::lint::Config::from_toml(&text).map_err(|e| e.to_string()));
    match read {
        Ok(config) => LintConfig { config, error: None },
        Err(e) => LintConfig { config: Default::default(), error: Some(format!("`{}`: {e}", found.display())) },
    }
}

fn find_config(document: &Path) -> Option<PathBuf> {
    document.ancestors().skip(1).map(|dir| dir.join(CONFIG_FILE)).find(|p| p.is_file())
}

/// When each trigger first fires over a recorded series file, as `ripcord simulate` computes it.
#[derive(Clone, Debug, PartialEq)]
pub struct Firings {
    /// The series file's name.
    pub series: String,
    /// Per trigger, by name: the time of its first firing in the series' own clock (`2m15s` or an RFC 3339
    /// time), and how many times it fired; `None` when it never fires.
    pub first: Vec<(String, Option<(String, usize)>)>,
    /// The whole timeline, as `simulate` prints it.
    pub timeline: String,
}

/// Simulates the plan over the series file at `path`; an error is the sentence to show.
pub fn simulate_file(plan: &Plan, path: &Path) -> Result<Firings, String> {
    let name = path.file_name().map_or_else(String::new, |n| n.to_string_lossy().into_owned());
    let size = std::fs::metadata(path).map_err(|e| format!("cannot read {name}: {e}"))?.len();
    if size > MAX_SERIES_BYTES {
        return Err(format!("{name} is larger than 64 MiB"));
    }
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {name}: {e}"))?;
    let series = crate::source::read_series(&name, &text).map_err(|d| format!("{name}: {}", d.message))?;
    let missing = crate::simulate::missing_metrics(plan, &series);
    if !missing.is_empty() {
        return Err(format!("{name} has no series for {}", missing.join(", ")));
    }
    let sim = crate::simulate::simulate(plan, &series, &crate::simulate::SimulateOptions::default());
    let first = plan
        .triggers
        .iter()
        .map(|t| {
            let mut fired =
                sim.transitions.iter().filter(|x| x.trigger == t.name && x.state == crate::eval::TriggerState::Firing);
            let at = fired.next().map(|x| (crate::simulate::clock(x.t_ms, sim.time_base), 1 + fired.count()));
            (t.name.clone(), at)
        })
        .collect();
    Ok(Firings { series: name, first, timeline: crate::simulate::to_text(&sim) })
}

/// The series files a runbook at `path` is simulated against: in the same folder, named after the runbook
/// (`x.csv`, `x.jsonl`, `x.yaml`, `x.series.csv`, ... for `x.runbook`), first match wins.
pub fn series_beside(path: &Path) -> Option<PathBuf> {
    let stem = path.file_stem()?.to_string_lossy().into_owned();
    let dir = path.parent()?;
    let extensions = ["csv", "jsonl", "json", "yaml", "yml"];
    for middle in ["", ".series"] {
        for ext in extensions {
            let candidate = dir.join(format!("{stem}{middle}.{ext}"));
            if candidate.is_file() {
                return Some(candidate);
            }
        }
    }
    None
}
