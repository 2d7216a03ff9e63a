//! `--format json`: one object, `{"findings": [...]}`, for tools.

use serde::Serialize;

use super::Linted;
use crate::diagnostic::Severity;
use crate::span::LineIndex;

#[derive(Serialize)]
struct Output<'a> {
    findings: Vec<Entry<'a>>,
}

/// Lines and columns are 1-based; columns count characters; the end is exclusive.
#[derive(Serialize)]
struct Entry<'a> {
    path: &'a str,
    code: &'a str,
    name: &'a str,
    severity: Severity,
    message: &'a str,
    line: usize,
    column: usize,
    end_line: usize,
    end_column: usize,
    help: Option<&'a str>,
}

pub fn render_json(files: &[Linted]) -> String {
    let mut findings = Vec::new();
    for file in files {
        let index = LineIndex::new(&file.text);
        for f in &file.findings {
            let (start, end) = (index.position(f.span.start), index.position(f.span.end));
            findings.push(Entry {
                path: &file.path,
                code: f.code,
                name: &f.name,
                severity: f.severity,
                message: &f.message,
                line: start.line,
                column: start.column,
                end_line: end.line,
                end_column: end.column,
                help: f.help.as_deref(),
            });
        }
    }
    let mut out = serde_json::to_string(&Output { findings }).unwrap_or_else(|_| "{\"findings\":[]}".to_string());
    out.push('\n');
    out
}
