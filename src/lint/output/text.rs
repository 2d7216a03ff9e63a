//! Findings as people read them: miette's graphical report, as `ripcord check` renders diagnostics.

use std::fmt;
use std::sync::Arc;

use miette::{
    GraphicalReportHandler, GraphicalTheme, LabeledSpan, NamedSource, SourceSpan, ThemeCharacters, ThemeStyles,
};

use super::Linted;
use crate::diagnostic::Severity;
use crate::lint::Finding;
use crate::span::{LineIndex, Span};

/// Past this, a file's lines are too long to show: its findings are printed on one line each.
const MAX_SHOWN_LINE: usize = 400;

/// Findings per file drawn with their source; the rest are printed on one line each.
const MAX_GRAPHICAL_PER_FILE: usize = 200;

struct Report<'a> {
    finding: &'a Finding,
    title: String,
    source: NamedSource<Arc<str>>,
    spans: Vec<LabeledSpan>,
}

impl<'a> Report<'a> {
    fn new(path: &str, text: &Arc<str>, finding: &'a Finding) -> Self {
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
            source: NamedSource::new(path, Arc::clone(text)),
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

/// A file being rendered: its text shared by every finding's report, and what decides how to show them.
struct Source<'a> {
    path: &'a str,
    text: Arc<str>,
    index: LineIndex<'a>,
    /// Lines too long to show: findings are printed on one line each.
    long_lines: bool,
}

impl<'a> Source<'a> {
    fn new(path: &'a str, text: &'a str) -> Self {
        Source {
            path,
            // Control characters never reach the terminal; blanked byte for byte, so spans still hold.
            text: Arc::from(crate::text::blank_controls(text).as_ref()),
            index: LineIndex::new(text),
            long_lines: text.lines().any(|l| l.len() > MAX_SHOWN_LINE),
        }
    }

    fn render(&self, theme: GraphicalTheme, finding: &Finding, graphical: bool) -> String {
        let finding = &for_terminal(finding);
        let handler = GraphicalReportHandler::new_themed(theme).with_width(100).with_links(false).with_context_lines(1);
        let mut out = String::new();
        let report = Report::new(self.path, &self.text, finding);
        if !graphical || self.long_lines || handler.render_report(&mut out, &report).is_err() {
            out = self.compact(finding);
        }
        out
    }

    /// `path:line:column: warning[RC802]: message`, and the help on the next line.
    fn compact(&self, finding: &Finding) -> String {
        let at = self.index.position(finding.span.start);
        let word = if finding.is_error() { "error" } else { "warning" };
        let mut out =
            format!("{}:{}:{}: {word}[{}]: {}\n", self.path, at.line, at.column, finding.code, finding.message);
        if let Some(help) = &finding.help {
            out.push_str(&format!("  help: {help}\n"));
        }
        out
    }
}

/// The finding with control characters in its words escaped (`text::for_terminal`).
fn for_terminal(finding: &Finding) -> Finding {
    let esc = |s: &str| crate::text::for_terminal(s).into_owned();
    Finding {
        message: esc(&finding.message),
        label: finding.label.as_deref().map(esc),
        related: finding.related.iter().map(|(span, l)| (*span, esc(l))).collect(),
        help: finding.help.as_deref().map(esc),
        ..finding.clone()
    }
}

fn theme(color: bool) -> GraphicalTheme {
    if color { GraphicalTheme::unicode() } else { GraphicalTheme::unicode_nocolor() }
}

/// One finding without colour or Unicode box drawing, for snapshots and logs.
pub fn render_plain(path: &str, text: &str, finding: &Finding) -> String {
    let theme = GraphicalTheme { characters: ThemeCharacters::ascii(), styles: ThemeStyles::none() };
    Source::new(path, text).render(theme, finding, true)
}

/// Every finding of every file, for a person. Past [`MAX_GRAPHICAL_PER_FILE`] findings in one file, the rest
/// are printed one line each, so that a machine-generated file with thousands of findings stays fast.
pub fn render_text(files: &[Linted], color: bool) -> String {
    let mut out = String::new();
    for file in files {
        let source = Source::new(&file.path, &file.text);
        for (i, f) in file.findings.iter().enumerate() {
            let graphical = i < MAX_GRAPHICAL_PER_FILE;
            if !out.is_empty() && graphical {
                out.push('\n');
            }
            out.push_str(&source.render(theme(color), f, graphical));
        }
    }
    out
}
