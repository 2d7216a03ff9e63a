//! Rendering diagnostics: miette's graphical report for people, one JSON object per diagnostic for tools.

use std::fmt;

use miette::{
    GraphicalReportHandler, GraphicalTheme, LabeledSpan, NamedSource, SourceSpan, ThemeCharacters, ThemeStyles,
};
use serde::Serialize;

use super::{Diagnostic, Severity};
use crate::span::{LineIndex, floor_char_boundary};
use crate::text::{blank_controls as for_terminal_source, escape_control, for_terminal};

/// A diagnostic bound to its file, in the form miette renders.
struct Report<'a> {
    diagnostic: &'a Diagnostic,
    source: NamedSource<String>,
    spans: Vec<LabeledSpan>,
}

impl<'a> Report<'a> {
    fn new(path: &str, text: &str, diagnostic: &'a Diagnostic) -> Self {
        let clamp = |offset: usize| floor_char_boundary(text, offset.min(text.len()));
        let to_source = |span: crate::span::Span| -> SourceSpan {
            let start = clamp(span.start);
            let end = clamp(span.end).max(start);
            (start, end - start).into()
        };
        let label = diagnostic.label.clone().unwrap_or_else(|| diagnostic.message.clone());
        let mut spans = vec![LabeledSpan::new_primary_with_span(Some(label), to_source(diagnostic.span))];
        for (span, label) in &diagnostic.related {
            spans.push(LabeledSpan::new_with_span(Some(label.clone()), to_source(*span)));
        }
        // Only the lines the diagnostic talks about are given to miette, so that a multi-megabyte file
        // renders as fast as a small one.
        Report { diagnostic, source: NamedSource::new(path, text.to_string()), spans }
    }
}

impl fmt::Debug for Report<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.diagnostic.message)
    }
}

impl fmt::Display for Report<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.diagnostic.message)
    }
}

impl std::error::Error for Report<'_> {}

impl miette::Diagnostic for Report<'_> {
    fn code<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        Some(Box::new(self.diagnostic.code.as_str()))
    }

    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.diagnostic.severity {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
        })
    }

    fn help<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        self.diagnostic.help.as_ref().map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        Some(&self.source)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        Some(Box::new(self.spans.iter().cloned()))
    }
}

/// Renders for a person: colour only when asked (the caller decides from the tty and NO_COLOR).
pub fn render_human(path: &str, text: &str, diagnostic: &Diagnostic, color: bool) -> String {
    let theme = if color { GraphicalTheme::unicode() } else { GraphicalTheme::unicode_nocolor() };
    render_with(GraphicalReportHandler::new_themed(theme), path, text, diagnostic)
}

/// Renders without colour or Unicode box drawing, for snapshots and logs.
pub fn render_plain(path: &str, text: &str, diagnostic: &Diagnostic) -> String {
    render_with(
        // `GraphicalTheme::ascii()` has ANSI colour styles; plain output must have none.
        GraphicalReportHandler::new_themed(GraphicalTheme {
            characters: ThemeCharacters::ascii(),
            styles: ThemeStyles::none(),
        }),
        path,
        text,
        diagnostic,
    )
}

fn render_with(handler: GraphicalReportHandler, path: &str, text: &str, diagnostic: &Diagnostic) -> String {
    let handler = handler.with_width(100).with_links(false).with_context_lines(1);
    // Very long lines are cut around the span so a 1 MB line renders as a short excerpt.
    let (excerpt, mut shifted) = excerpt(text, diagnostic);
    // Control characters from the runbook never reach the terminal: escaped in the words, blanked byte for
    // byte in the source so that every span still points at the same text.
    let excerpt = for_terminal_source(&excerpt);
    let path = escape_control(path);
    let path = path.as_ref();
    shifted.message = for_terminal(&shifted.message).into_owned();
    shifted.label = shifted.label.map(|l| for_terminal(&l).into_owned());
    shifted.help = shifted.help.map(|h| for_terminal(&h).into_owned());
    for (_, label) in &mut shifted.related {
        *label = for_terminal(label).into_owned();
    }
    let diagnostic = &shifted;
    let report = Report::new(path, &excerpt, &shifted);
    let mut out = String::new();
    if handler.render_report(&mut out, &report).is_err() {
        out =
            format!("{}: {}[{}]: {}\n", path, severity_word(diagnostic.severity), diagnostic.code, diagnostic.message);
    }
    out
}

fn severity_word(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
    }
}

/// Lines longer than this are shown only around the diagnostic.
const MAX_SHOWN_LINE: usize = 400;

/// Returns the text to show and the diagnostic with spans moved into it. Short sources pass unchanged;
/// over-long lines are replaced by a window around the primary span, with the line numbers kept.
fn excerpt(text: &str, diagnostic: &Diagnostic) -> (String, Diagnostic) {
    let long_line = text.split('\n').any(|l| l.len() > MAX_SHOWN_LINE);
    if !long_line {
        return (text.to_string(), diagnostic.clone());
    }
    // Keep every line break so line numbers stay right, and shorten only the line holding the primary span;
    // other long lines become empty.
    let start = floor_char_boundary(text, diagnostic.span.start.min(text.len()));
    let line_start = text[..start].rfind('\n').map_or(0, |i| i + 1);
    let line_end = text[start..].find('\n').map_or(text.len(), |i| start + i);
    let window_start = floor_char_boundary(text, start.saturating_sub(40).max(line_start));
    let window_end = floor_char_boundary(text, (start + MAX_SHOWN_LINE / 2).min(line_end));
    let mut out = String::with_capacity(text.len().min(1 << 20));
    let mut offset = 0;
    let mut new_start = 0;
    for line in text.split('\n') {
        let line_begin = offset;
        offset += line.len() + 1;
        if line_begin == line_start {
            new_start = out.len() + (start - window_start);
            out.push_str(&text[window_start..window_end]);
        } else if line.len() <= MAX_SHOWN_LINE {
            out.push_str(line);
        }
        out.push('\n');
    }
    let mut shifted = diagnostic.clone();
    let len = diagnostic.span.len().min(window_end.saturating_sub(start));
    shifted.span = crate::span::Span::new(new_start, new_start + len);
    shifted.related.clear();
    (out, shifted)
}

/// One entry of `ripcord check --format json`: lines and columns are 1-based.
#[derive(Debug, Serialize)]
pub struct Rendered {
    pub path: String,
    pub code: &'static str,
    pub severity: Severity,
    pub message: String,
    pub line: usize,
    pub column: usize,
    pub end_line: usize,
    pub end_column: usize,
    pub help: Option<String>,
}

pub fn json_entry(path: &str, index: &LineIndex<'_>, diagnostic: &Diagnostic) -> Rendered {
    let start = index.position(diagnostic.span.start);
    let end = index.position(diagnostic.span.end);
    Rendered {
        path: path.to_string(),
        code: diagnostic.code.as_str(),
        severity: diagnostic.severity,
        message: diagnostic.message.clone(),
        line: start.line,
        column: start.column,
        end_line: end.line,
        end_column: end.column,
        help: diagnostic.help.clone(),
    }
}
