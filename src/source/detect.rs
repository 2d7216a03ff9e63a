//! Telling the series formats apart: by content first (a CSV header, a JSON object, promtool's YAML keys),
//! then by the file's extension when the content does not say.

use crate::diagnostic::{Code, Diagnostic};
use crate::span::Span;

/// The formats a series file may be written in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// `time,metric,value` rows, with an optional `labels` column.
    Csv,
    /// One `{"time":..,"metric":..,"value":..}` object per line.
    JsonLines,
    /// A promtool unit-test file (or its `{interval, input_series}` part).
    PromtoolYaml,
}

impl Format {
    /// The format an extension names (`csv`, `jsonl`/`ndjson`/`json`, `yaml`/`yml`), if any.
    pub fn from_path(path: &str) -> Option<Format> {
        let name = path.rsplit(['/', '\\']).next().unwrap_or(path);
        let (_, ext) = name.rsplit_once('.')?;
        match ext.to_ascii_lowercase().as_str() {
            "csv" => Some(Format::Csv),
            "jsonl" | "ndjson" | "json" => Some(Format::JsonLines),
            "yaml" | "yml" => Some(Format::PromtoolYaml),
            _ => None,
        }
    }
}

const YAML_KEYS: [&str; 5] = ["tests:", "input_series:", "interval:", "evaluation_interval:", "rule_files:"];

/// Decides how to read `text`.
pub fn detect(path: &str, text: &str) -> Result<Format, Diagnostic> {
    let by_path = Format::from_path(path);
    let mut lines = text.lines().map(str::trim).filter(|l| !l.is_empty());
    let Some(first) = lines.clone().find(|l| !l.starts_with('#')) else {
        return Err(Diagnostic::new(Code::SeriesSyntax, Span::new(0, 0), "the series file is empty")
            .label("no samples")
            .help(FORMATS_HELP));
    };
    let by_content = if first.starts_with('{') {
        // A YAML file may start with a flow mapping; trust the extension then.
        Some(if by_path == Some(Format::PromtoolYaml) { Format::PromtoolYaml } else { Format::JsonLines })
    } else if is_csv_header(first) {
        Some(Format::Csv)
    } else if lines.any(|l| YAML_KEYS.iter().any(|k| l.trim_start_matches("- ").starts_with(k))) {
        Some(Format::PromtoolYaml)
    } else {
        None
    };
    by_content.or(by_path).ok_or_else(|| {
        let end = text.find('\n').unwrap_or(text.len());
        Diagnostic::new(Code::SeriesSyntax, Span::new(0, end), "cannot tell what format the series file is in")
            .label("not a CSV header, a JSON object or promtool YAML")
            .help(FORMATS_HELP)
    })
}

const FORMATS_HELP: &str = "series files are CSV with the header `time,metric,value` (and `labels`), JSON Lines of \
     {\"time\":..,\"metric\":..,\"labels\":{..},\"value\":..}, or promtool unit-test YAML with `input_series`";

fn is_csv_header(line: &str) -> bool {
    let mut names: Vec<String> =
        line.split(',').map(|f| f.trim().trim_matches('"').trim().to_ascii_lowercase()).collect();
    names.sort();
    names == ["metric", "time", "value"] || names == ["labels", "metric", "time", "value"]
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "a failing unwrap is a failing test")]
mod tests {
    use super::*;

    #[test]
    fn content_decides_first() {
        assert_eq!(detect("x.txt", "time,metric,value\n1,a,1\n").unwrap(), Format::Csv);
        assert_eq!(detect("x.yaml", "# c\n\"Time\" , metric,VALUE\n").unwrap(), Format::Csv);
        assert_eq!(detect("x.txt", "time,metric,labels,value\n").unwrap(), Format::Csv);
        assert_eq!(detect("x", "{\"time\":1,\"metric\":\"a\",\"value\":1}\n").unwrap(), Format::JsonLines);
        assert_eq!(detect("x.csv", "{\"time\":1}").unwrap(), Format::JsonLines);
        assert_eq!(detect("x", "tests:\n  - interval: 1m\n").unwrap(), Format::PromtoolYaml);
        assert_eq!(detect("x", "# series\ninterval: 1m\ninput_series: []\n").unwrap(), Format::PromtoolYaml);
    }

    #[test]
    fn extension_decides_when_content_does_not() {
        assert_eq!(detect("a/b.CSV", "1,a,1\n").unwrap(), Format::Csv);
        assert_eq!(detect("b.ndjson", "garbage").unwrap(), Format::JsonLines);
        assert_eq!(detect("b.yml", "{interval: 1m}").unwrap(), Format::PromtoolYaml);
        assert_eq!(Format::from_path("dir.v2/file"), None);
    }

    #[test]
    fn empty_and_unknown_files_are_explained() {
        let e = detect("x.csv", "  \n# only a comment\n").unwrap_err();
        assert_eq!(e.code, Code::SeriesSyntax);
        assert!(e.message.contains("empty"));
        let e = detect("x", "hello world\n").unwrap_err();
        assert!(e.message.contains("cannot tell"));
        assert_eq!(e.span, Span::new(0, 11));
    }
}
