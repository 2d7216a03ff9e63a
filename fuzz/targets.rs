//! What each fuzz target does with one input, shared by the libFuzzer targets (`fuzz_targets/`) and by the
//! stable replay of the seed corpus (`tests/fuzz_corpus.rs`), so that both exercise the same calls. Each
//! function must return normally for every input: a panic is a bug.

/// Text from arbitrary bytes: as is when it is UTF-8, else with invalid bytes replaced (the readers take
/// `&str`; the CLI refuses invalid UTF-8 before they see it).
fn text(data: &[u8]) -> std::borrow::Cow<'_, str> {
    String::from_utf8_lossy(data)
}

/// The runbook front end: parse, analyse and, when it compiles, render the plan.
pub fn compile(data: &[u8]) {
    let compiled = ripcord::compile(&text(data));
    if let Some(plan) = compiled.plan {
        let _ = serde_json::to_string(&plan);
    }
}

/// The series readers: the input read as CSV, as JSON Lines, as promtool YAML, and with detection.
pub fn series(data: &[u8]) {
    use ripcord::source::{Format, read_series, read_series_as};
    let text = text(data);
    for format in [Format::Csv, Format::JsonLines, Format::PromtoolYaml] {
        let _ = read_series_as(format, &text);
    }
    let _ = read_series("input", &text);
}

/// The Alertmanager webhook body parser of `watch`.
pub fn webhook(data: &[u8]) {
    let _ = ripcord::watch::webhook::parse_webhook(&text(data));
}
