//! `ripcord simulate RUNBOOK --series FILE`: replay recorded metrics through the runbook's triggers and
//! levels, with no side effects, and print what would have happened.

use std::io::Write;
use std::path::PathBuf;

use clap::Args;

use super::input::{LoadedFile, compile_file_folding};
use super::{PromVersionArg, TextOrJson};
use crate::diagnostic::{Code, Diagnostic, render_human};
use crate::simulate::{Approval, Keep, RunOptions, SimulateOptions, StreamStop};
use crate::source::{Filled, Format, HistoryFetch, ReadAhead, SeriesSet, SeriesStream, TimeBase, Window};
use crate::span::Span;

#[derive(Args, Debug)]
pub struct SimulateArgs {
    /// The runbook to simulate.
    pub runbook: PathBuf,
    /// Recorded series: CSV (`time,metric,value`), JSON Lines, or a promtool unit-test YAML file.
    #[arg(long, required_unless_present = "from_prometheus", conflicts_with = "from_prometheus")]
    pub series: Option<PathBuf>,
    /// Backtest against a Prometheus server's history (`/api/v1/query_range`) instead of a series file;
    /// needs `--start` and `--end`.
    #[arg(long, value_name = "URL", requires_all = ["start", "end"])]
    pub from_prometheus: Option<String>,
    #[command(flatten)]
    pub answers: super::AnswerLimitArgs,
    /// First evaluation time (seconds or RFC 3339); defaults to the first sample's time.
    #[arg(long, value_parser = parse_time_arg)]
    pub start: Option<TimeArg>,
    /// Last evaluation time, inclusive; defaults to the last sample's time.
    #[arg(long, value_parser = parse_time_arg)]
    pub end: Option<TimeArg>,
    #[arg(long, value_enum, default_value_t = TextOrJson::Text)]
    pub format: TextOrJson,
    /// Write an SVG chart of the metrics, trigger states and runs to this file.
    #[arg(long, value_name = "OUT.svg")]
    pub chart: Option<PathBuf>,
    /// Make a step fail (repeatable), e.g. `--fail L1.S2`.
    #[arg(long, value_name = "STEP_ID")]
    pub fail: Vec<String>,
    /// Decide a level's approval: `LEVEL=after:DURATION` or `LEVEL=deny` (default: approved at once).
    #[arg(long, value_name = "LEVEL=after:D|deny", value_parser = parse_approval)]
    pub approve: Vec<(u32, Approval)>,
    #[command(flatten)]
    pub version: PromVersionArg,
    /// Print at most N events of the text timeline (the summary per trigger counts them all).
    #[arg(long, value_name = "N")]
    pub limit: Option<usize>,
}

/// A time given on the command line, and whether it was written as seconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TimeArg {
    pub ms: i64,
    pub seconds: bool,
}

fn parse_time_arg(s: &str) -> Result<TimeArg, String> {
    let ms = parse_time(s)?;
    Ok(TimeArg { ms, seconds: s.trim().parse::<f64>().is_ok_and(f64::is_finite) })
}

fn parse_time(s: &str) -> Result<i64, String> {
    if let Ok(secs) = s.parse::<f64>()
        && secs.is_finite()
    {
        return Ok((secs * 1000.0).round() as i64);
    }
    humantime::parse_rfc3339_weak(s)
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map(|d| d.as_millis() as i64)
        .ok_or_else(|| format!("`{s}` is neither seconds nor an RFC 3339 time"))
}

fn parse_approval(s: &str) -> Result<(u32, Approval), String> {
    let usage = || format!("`{s}`: write LEVEL=after:DURATION (such as 2=after:5m) or LEVEL=deny");
    let (level, decision) = s.split_once('=').ok_or_else(usage)?;
    let level: u32 = level.trim().parse().map_err(|_| usage())?;
    let decision = match decision.trim() {
        "deny" => Approval::Deny,
        d => {
            let dur = d.strip_prefix("after:").ok_or_else(usage)?;
            let ms = crate::source::parse_prometheus_duration(dur).ok_or_else(usage)?;
            Approval::After(ms)
        }
    };
    Ok((level, decision))
}

pub fn run(args: &SimulateArgs) -> u8 {
    let Some((file, plan)) = compile_file_folding(&args.runbook, true) else { return 1 };
    let color = super::stderr_color();
    let mut stderr = std::io::stderr().lock();

    let start = args.start.map(|t| t.ms);
    let end = args.end.map(|t| t.ms);
    let run =
        RunOptions { fail: args.fail.iter().cloned().collect(), approvals: args.approve.iter().copied().collect() };
    let options = SimulateOptions { start_ms: start, end_ms: end, run, version: args.version.or_default() };
    let keep = if args.chart.is_some() { Keep::All } else { Keep::Reach };
    let (sim, series) = match (&args.from_prometheus, &args.series) {
        (Some(url), _) => match history(&file, &plan, url, args, &options, keep, &mut stderr, color) {
            Some(done) => done,
            None => return 1,
        },
        (None, Some(path)) => match streamed(&file, &plan, path, &options, keep, &mut stderr, color) {
            Some(done) => done,
            None => return 1,
        },
        (None, None) => {
            let _ = writeln!(stderr, "error: give `--series FILE` or `--from-prometheus URL`");
            return 2;
        }
    };
    if let Some(path) = &args.chart {
        if let Err(d) = crate::simulate::check_chart(&sim, &plan, &series) {
            flag_problem(&mut stderr, &d);
            return 1;
        }
        match crate::simulate::render_svg(&sim, &plan, &series) {
            Ok(svg) => {
                if let Err(e) = std::fs::write(path, svg) {
                    let _ = writeln!(stderr, "error: cannot write the chart to `{}`: {e}", path.display());
                    return 1;
                }
            }
            Err(e) => {
                let _ = writeln!(stderr, "error: cannot draw the chart: {e}");
                return 1;
            }
        }
    }
    let mut out = std::io::BufWriter::with_capacity(64 * 1024, std::io::stdout().lock());
    let written = match args.format {
        TextOrJson::Text => crate::simulate::write_text(&sim, args.limit, &mut out),
        TextOrJson::Json => crate::simulate::write_json(&sim, &mut out),
    };
    if written.and_then(|()| out.flush()).is_err() {
        return 1;
    }
    0
}

/// The checks before a simulation of series in memory, and the simulation; `None` after printing why not.
fn in_memory(
    plan: &crate::plan::Plan,
    series: &SeriesSet,
    options: &SimulateOptions,
    stderr: &mut std::io::StderrLock<'_>,
) -> Option<crate::simulate::Simulation> {
    if !options_ok(plan, options, stderr) {
        return None;
    }
    let (from, to) = crate::simulate::effective_range(series, options);
    let explicit = options.start_ms.is_some() && options.end_ms.is_some();
    if let Err(d) = crate::simulate::check_range(from, to, plan.evaluation_interval_ms, explicit, series.time_base) {
        flag_problem(stderr, &d);
        return None;
    }
    Some(crate::simulate::simulate(plan, series, options))
}

/// Whether `--fail` and `--approve` name what the plan has (printing what they do not).
fn options_ok(plan: &crate::plan::Plan, options: &SimulateOptions, stderr: &mut std::io::StderrLock<'_>) -> bool {
    let problems = crate::simulate::check_options(plan, &options.run);
    for d in &problems {
        flag_problem(stderr, d);
    }
    problems.is_empty()
}

/// Why a streamed read stopped.
enum Stop {
    /// A row for the full readers, ending before this offset.
    Slow(usize),
    Failed(Box<Diagnostic>),
}

/// Simulates over a series file: CSV and JSON Lines streamed (see `simulate::simulate_stream`), promtool
/// YAML and any file the fast path cannot read through to the end read whole, through the same evaluation.
/// `None` after printing why it cannot be used.
fn streamed(
    file: &LoadedFile,
    plan: &crate::plan::Plan,
    path: &std::path::Path,
    options: &SimulateOptions,
    keep: Keep,
    stderr: &mut std::io::StderrLock<'_>,
    color: bool,
) -> Option<(crate::simulate::Simulation, SeriesSet)> {
    let series_path = path.display().to_string();
    let Some(format) = stream_format(path, &series_path) else {
        let series = series_file(file, plan, path, stderr, color)?;
        let sim = in_memory(plan, &series, options, stderr)?;
        return Some((sim, series));
    };
    let opened = std::fs::File::open(path).ok()?;
    let mut stream = ReadAhead::start(SeriesStream::new(format, opened)?, &series_path, crate::simulate::FILL_ROWS);
    let mut window = Window::new(&series_path);
    let fill = |w: &mut Window| match stream.fill(w) {
        Filled::More => Ok(true),
        Filled::End => Ok(false),
        Filled::Slow(end) => Err(Stop::Slow(end)),
        Filled::Failed(d) => Err(Stop::Failed(d)),
    };
    match crate::simulate::simulate_stream(plan, &mut window, fill, options, keep) {
        Ok((sim, series)) => {
            if !missing_ok(file, plan, &series_path, &series, stderr, color) || !options_ok(plan, options, stderr) {
                return None;
            }
            Some((sim, series))
        }
        Err(StreamStop::Read(Stop::Slow(end))) => {
            drop(window);
            // A mistake in that row or before it is reported from the text so far (a long file is not read
            // whole, nor held against the 10-million-sample cap of a whole read, to say so).
            let text = text_through(path, end);
            if let Err(d) = crate::source::read_series(&series_path, &text)
                && d.span.start < end
            {
                let _ = write!(stderr, "{}", render_human(&series_path, &text, &d, color));
                return None;
            }
            let series = series_file(file, plan, path, stderr, color)?;
            let sim = in_memory(plan, &series, options, stderr)?;
            Some((sim, series))
        }
        Err(StreamStop::Read(Stop::Failed(d))) => {
            let text = text_through(path, d.span.end);
            let _ = write!(stderr, "{}", render_human(&series_path, &text, &d, color));
            None
        }
        Err(StreamStop::Range(d)) => {
            flag_problem(stderr, &d);
            None
        }
    }
}

/// The format of a series file that can be streamed (CSV, JSON Lines), told from its first 64 KiB; `None`
/// for promtool YAML and whatever the full reader should look at whole (an empty or unreadable file).
fn stream_format(path: &std::path::Path, series_path: &str) -> Option<Format> {
    use std::io::Read;
    let mut prefix = Vec::new();
    std::fs::File::open(path).ok()?.take(64 * 1024).read_to_end(&mut prefix).ok()?;
    let valid = match std::str::from_utf8(&prefix) {
        Ok(t) => t,
        Err(e) if e.valid_up_to() + 4 >= prefix.len() => std::str::from_utf8(&prefix[..e.valid_up_to()]).ok()?,
        Err(_) => return None,
    };
    // Detection looks at the first line with content: it must be whole in the prefix.
    if prefix.len() == 64 * 1024 && valid.matches('\n').count() < 2 {
        return None;
    }
    let body = valid.strip_prefix('\u{feff}').unwrap_or(valid);
    crate::source::detect(series_path, body).ok().filter(|f| *f != Format::PromtoolYaml)
}

/// The file's text through byte `end` and the rest of its line (for showing a diagnostic of a streamed
/// file); what cannot be read is left out.
fn text_through(path: &std::path::Path, end: usize) -> String {
    use std::io::Read;
    let mut bytes = Vec::new();
    if let Ok(f) = std::fs::File::open(path) {
        let _ = f.take(end as u64 + 64 * 1024).read_to_end(&mut bytes);
    }
    if let Some(nl) = bytes.get(end..).and_then(|rest| rest.iter().position(|&b| b == b'\n')) {
        bytes.truncate(end + nl);
    }
    match String::from_utf8(bytes) {
        Ok(t) => t,
        Err(e) => {
            let n = e.utf8_error().valid_up_to();
            let mut b = e.into_bytes();
            b.truncate(n);
            String::from_utf8(b).unwrap_or_default()
        }
    }
}

/// A problem with the command line or the range (no span to point at): its code, message and help.
fn flag_problem(stderr: &mut std::io::StderrLock<'_>, d: &Diagnostic) {
    let _ = writeln!(stderr, "error[{}]: {}", d.code, d.message);
    if let Some(h) = &d.help {
        let _ = writeln!(stderr, "  help: {h}");
    }
}

/// Reads and checks a series file; `None` after printing why it cannot be used.
fn series_file(
    file: &LoadedFile,
    plan: &crate::plan::Plan,
    path: &std::path::Path,
    stderr: &mut std::io::StderrLock<'_>,
    color: bool,
) -> Option<SeriesSet> {
    let series_path = path.display().to_string();
    let series_text = match read_series_file(path) {
        Ok(t) => t,
        Err(d) => {
            let _ = write!(stderr, "{}", render_human(&series_path, "", &d, color));
            return None;
        }
    };
    let series = match crate::source::read_series(&series_path, &series_text) {
        Ok(s) => s,
        Err(d) => {
            let _ = write!(stderr, "{}", render_human(&series_path, &series_text, &d, color));
            return None;
        }
    };
    missing_ok(file, plan, &series_path, &series, stderr, color).then_some(series)
}

/// Whether the series have every metric the plan reads (printing each that is missing, where it is read).
fn missing_ok(
    file: &LoadedFile,
    plan: &crate::plan::Plan,
    series_path: &str,
    series: &SeriesSet,
    stderr: &mut std::io::StderrLock<'_>,
    color: bool,
) -> bool {
    let missing = crate::simulate::missing_metrics(plan, series);
    if missing.is_empty() {
        return true;
    }
    let have: Vec<&str> = series.series.keys().map(String::as_str).collect();
    for m in &missing {
        let span = find_word(&file.text, m);
        let help = match crate::diagnostic::did_you_mean(m, have.iter().copied()) {
            Some(suggestion) => format!("{suggestion} `{series_path}` has {}", have.join(", ")),
            None => format!(
                "`{series_path}` has {}; add samples named `{m}`",
                if have.is_empty() { "no series".to_string() } else { have.join(", ") }
            ),
        };
        let d = Diagnostic::new(Code::SeriesUnknownMetric, span, format!("metric `{m}` is not in `{series_path}`"))
            .label("read here")
            .help(help);
        let _ = write!(stderr, "{}", render_human(&file.path, &file.text, &d, color));
    }
    false
}

/// Simulates over the declared metrics' history from Prometheus over `[--start, --end]` (clap requires both),
/// fetched in time chunks that stream through the same evaluation as a series file; `None` after printing
/// why it cannot be used.
#[allow(clippy::too_many_arguments, reason = "the command's parts, passed down once")]
fn history(
    file: &LoadedFile,
    plan: &crate::plan::Plan,
    url: &str,
    args: &SimulateArgs,
    options: &SimulateOptions,
    keep: Keep,
    stderr: &mut std::io::StderrLock<'_>,
    color: bool,
) -> Option<(crate::simulate::Simulation, SeriesSet)> {
    let (Some(start), Some(end)) = (args.start, args.end) else {
        let _ = writeln!(stderr, "error: `--from-prometheus` needs `--start` and `--end`");
        return None;
    };
    let base = if start.seconds && end.seconds { TimeBase::Seconds } else { TimeBase::Rfc3339 };
    // Checked before anything is asked: a range too long would otherwise be fetched request by request.
    if let Err(d) = crate::simulate::check_range(start.ms, end.ms, plan.evaluation_interval_ms, true, base) {
        flag_problem(stderr, &d);
        return None;
    }
    let want = match crate::source::history_plan(plan) {
        Ok(w) => w,
        Err(undeclared) => {
            for m in &undeclared {
                let d = Diagnostic::new(
                    Code::SeriesUnknownMetric,
                    find_word(&file.text, m),
                    format!("metric `{m}` has no declared query to ask Prometheus"),
                )
                .label("read here")
                .help(format!("declare it in the runbook: `metric {m} = promql \"...\"`"));
                let _ = write!(stderr, "{}", render_human(&file.path, &file.text, &d, color));
            }
            return None;
        }
    };
    if !options_ok(plan, options, stderr) {
        return None;
    }
    let fetched = HistoryFetch::new(url, &want, start.ms, end.ms, base, args.answers.max_answer_bytes);
    let mut fetch = match fetched {
        Ok(f) => f,
        Err(e) => {
            let _ = writeln!(stderr, "error: {e}");
            return None;
        }
    };
    let mut window = Window::of_sets(base);
    let fill = |w: &mut Window| match fetch.next_chunk() {
        Ok(Some(chunk)) => {
            w.extend(&chunk);
            Ok(true)
        }
        Ok(None) => Ok(false),
        Err(e) => Err(e),
    };
    match crate::simulate::simulate_stream(plan, &mut window, fill, options, keep) {
        Ok(done) => Some(done),
        Err(StreamStop::Read(e)) => {
            let _ = writeln!(stderr, "error: {e}");
            None
        }
        Err(StreamStop::Range(d)) => {
            flag_problem(stderr, &d);
            None
        }
    }
}

/// Reads a series file whole (promtool YAML, or a file the streaming reader hands back): UTF-8, as large
/// as the machine can hold.
fn read_series_file(path: &std::path::Path) -> Result<String, Diagnostic> {
    use crate::files::ReadError;
    let display = path.display();
    let fail = |m: String| {
        Diagnostic::new(Code::SeriesSyntax, Span::new(0, 0), m).help("give a CSV, JSON Lines or promtool YAML file")
    };
    crate::files::read_capped(path, u64::MAX - 1).map_err(|e| match e {
        ReadError::Io(e) => fail(format!("cannot read `{display}`: {e}")),
        ReadError::TooLarge => fail(format!("`{display}` is larger than this machine can read")),
        ReadError::NotUtf8 { .. } => fail(format!("`{display}` is not UTF-8 text")),
    })
}

/// Where `word` is first read in a condition (skipping its `metric` declaration), for pointing at it.
fn find_word(text: &str, word: &str) -> Span {
    let is_ident = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let trimmed = line.trim_start();
        if !trimmed.starts_with("metric ") && !trimmed.starts_with('#') {
            let mut from = 0;
            while let Some(i) = line[from..].find(word) {
                let at = from + i;
                let before = line[..at].chars().next_back().is_none_or(|c| !is_ident(c));
                let after = line[at + word.len()..].chars().next().is_none_or(|c| !is_ident(c));
                if before && after {
                    return Span::new(offset + at, offset + at + word.len());
                }
                from = at + word.len();
            }
        }
        offset += line.len();
    }
    Span::new(0, 0)
}
