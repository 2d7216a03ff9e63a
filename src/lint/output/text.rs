//! Findings as people read them: miette's graphical report, as `ripcord check` renders diagnostics.

use std::fmt;

use miette::{
    GraphicalReportHandler, GraphicalTheme, LabeledSpan, NamedSource, SourceSpan, ThemeCharacters, ThemeStyles,
};

use super::Linted;
use crate::diagnostic::Severity;
use crate::lint::Finding;
use crate::span::{LineIndex, Span};

/// Past this, a file's lines are too long to show: the finding is printed on one line instead.
const MAX_SHOWN_LINE: usize = 400;

struct Report<'a> {
    finding: &'a Finding,
    title: String,
    source: NamedSource<String>,
    spans: Vec<LabeledSpan>,
}

impl<'a> Report<'a> {
    fn new(path: &str, text: &str, finding: &'a Finding) -> Self {
        let to_source = |span: Span| -> SourceSpan {
            let start = floor(text, span.start);
            let end = floor(text, span.end).max(start);
            (start, end - start).into()
        };
        let label = finding.label.clone().unwrap_or_else(|| finding.message.clone());
        let mut spans = vec![LabeledSpan::new_primary_with_span(Some(label), to_source(finding.span))];
        for (span, label) in &finding.related {
            spans.push(LabeledSpan::new_with_span(Some(label.clone()), to_source(*span)));
        }
        Report {
            finding,
            title: format!("{} {}", finding.code, finding.name),
            source: NamedSource::new(path, text.to_string()),
            spans,
        }
    }
}

fn floor(text: &str, offset: usize) -> usize {
    let mut o = offset.min(text.len());
    while o > 0 && !text.is_char_boundary(o) {
        o -= 1;
    }
    o
}

impl fmt::Debug for Report<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.finding.message)
    }
}

impl fmt::Display for Report<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.finding.message)
    }
}

impl std::error::Error for Report<'_> {}

impl miette::Diagnostic for Report<'_> {
    fn code<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        Some(Box::new(&self.title))
    }

    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.finding.severity {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
        })
    }

    fn help<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        self.finding.help.as_ref().map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        Some(&self.source)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        Some(Box::new(self.spans.iter().cloned()))
    }
}

fn render_with(handler: GraphicalReportHandler, path: &str, text: &str, finding: &Finding) -> String {
    let handler = handler.with_width(100).with_links(false).with_context_lines(1);
    let mut out = String::new();
    let long_lines = text.lines().any(|l| l.len() > MAX_SHOWN_LINE);
    if long_lines || handler.render_report(&mut out, &Report::new(path, text, finding)).is_err() {
        let at = LineIndex::new(text).position(finding.span.start);
        let word = if finding.is_error() { "error" } else { "warning" };
        out = format!("{path}:{}:{}: {word}[{}]: {}\n", at.line, at.column, finding.code, finding.message);
        if let Some(help) = &finding.help {
            out.push_str(&format!("  help: {help}\n"));
        }
    }
    out
}

/// One finding for a person; colour only when asked (the caller decides from the terminal and NO_COLOR).
pub fn render_human(path: &str, text: &str, finding: &Finding, color: bool) -> String {
    let theme = if color { GraphicalTheme::unicode() } else { GraphicalTheme::unicode_nocolor() };
    render_with(GraphicalReportHandler::new_themed(theme), path, text, finding)
}

/// One finding without colour or Unicode box drawing, for snapshots and logs.
pub fn render_plain(path: &str, text: &str, finding: &Finding) -> String {
    let theme = GraphicalTheme { characters: ThemeCharacters::ascii(), styles: ThemeStyles::none() };
    render_with(GraphicalReportHandler::new_themed(theme), path, text, finding)
}

/// Every finding of every file, for a person.
pub fn render_text(files: &[Linted], color: bool) -> String {
    let mut out = String::new();
    for file in files {
        for f in &file.findings {
            if !out.is_empty() {
                out.push('\n');
            }
            out.push_str(&render_human(&file.path, &file.text, f, color));
        }
    }
    out
}
