//! One version of one document, analysed: the problems `lint` reports (compile diagnostics included), the
//! syntax tree and its name index, and, on demand, the compiled plan. Built on a blocking thread, never on
//! the task that reads and writes stdio; shared read-only (`Arc`) by every request for that version.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use tower_lsp_server::ls_types::{
    Diagnostic, DiagnosticRelatedInformation, DiagnosticSeverity, Location, NumberOrString, Position, Range, Uri,
};

use super::engine::{self, Plan, Problem, Runbook, Severity};
use super::index::Index;
use super::lines::{Lines, Pos};

#[derive(Debug)]
pub struct Analysis {
    pub version: i32,
    pub text: String,
    pub lines: Lines,
    pub problems: Vec<Problem>,
    /// Why the `ripcord.toml` found was not used.
    pub config_error: Option<String>,
    /// The file the document is, when it is one (for the configuration and the series beside it).
    pub path: Option<PathBuf>,
    /// The syntax tree (when the text parses) and its name index, built on first use: diagnostics are
    /// published before it is needed.
    syntax: OnceLock<(Option<Runbook>, Index)>,
    plan: OnceLock<Option<Plan>>,
}

impl Analysis {
    /// Analyses `text`: the problems, as `lint` finds them. The syntax tree and the plan come on demand.
    pub fn new(text: String, version: i32, path: Option<&Path>) -> Analysis {
        let config = engine::config_for(path);
        let problems = engine::problems(&text, &config);
        Analysis {
            version,
            lines: Lines::new(&text),
            text,
            problems,
            config_error: config.error,
            path: path.map(Path::to_path_buf),
            syntax: OnceLock::new(),
            plan: OnceLock::new(),
        }
    }

    fn syntax(&self) -> &(Option<Runbook>, Index) {
        self.syntax.get_or_init(|| {
            let runbook = engine::parse(&self.text);
            let index = runbook.as_ref().map(|rb| Index::new(rb, &self.text)).unwrap_or_default();
            (runbook, index)
        })
    }

    /// The syntax tree, when the text parses.
    pub fn runbook(&self) -> Option<&Runbook> {
        self.syntax().0.as_ref()
    }

    /// The names of the runbook and where each is written (empty when the text does not parse).
    pub fn index(&self) -> &Index {
        &self.syntax().1
    }

    /// Builds the syntax tree, the index and the plan now, so that requests that read them do no compiling
    /// (call it on a blocking thread).
    pub fn prepare(&self) {
        let _ = self.syntax();
        let _ = self.plan();
    }

    /// The compiled plan (compiled on first use), when the text has no errors.
    pub fn plan(&self) -> Option<&Plan> {
        self.plan.get_or_init(|| engine::plan(&self.text)).as_ref()
    }

    pub fn pos(&self, offset: usize) -> Position {
        let Pos { line, character } = self.lines.pos(&self.text, offset);
        Position { line, character }
    }

    pub fn range(&self, start: usize, end: usize) -> Range {
        Range { start: self.pos(start), end: self.pos(end) }
    }

    pub fn offset(&self, p: Position) -> usize {
        self.lines.offset(&self.text, Pos { line: p.line, character: p.character })
    }

    /// The problems as LSP diagnostics: code, severity, message, and the help line after the message.
    pub fn diagnostics(&self, uri: &Uri) -> Vec<Diagnostic> {
        self.problems.iter().map(|p| self.diagnostic(uri, p)).collect()
    }

    fn diagnostic(&self, uri: &Uri, p: &Problem) -> Diagnostic {
        let message = match &p.help {
            Some(help) => format!("{}\nhelp: {help}", p.message),
            None => p.message.clone(),
        };
        let related: Vec<DiagnosticRelatedInformation> = p
            .related
            .iter()
            .map(|(s, e, label)| DiagnosticRelatedInformation {
                location: Location { uri: uri.clone(), range: self.range(*s, *e) },
                message: label.clone(),
            })
            .collect();
        Diagnostic {
            range: self.range(p.start, p.end),
            severity: Some(match p.severity {
                Severity::Error => DiagnosticSeverity::ERROR,
                Severity::Warning => DiagnosticSeverity::WARNING,
            }),
            code: Some(NumberOrString::String(p.code.clone())),
            source: Some("ripcord".to_string()),
            message,
            related_information: if related.is_empty() { None } else { Some(related) },
            ..Diagnostic::default()
        }
    }

    /// The word (identifier, keyword or number) that the offset touches, with its span.
    pub fn word_at(&self, offset: usize) -> Option<(usize, usize)> {
        let bytes = self.text.as_bytes();
        let is_word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
        let mut start = offset.min(bytes.len());
        while start > 0 && is_word(bytes[start - 1]) {
            start -= 1;
        }
        let mut end = offset.min(bytes.len());
        while end < bytes.len() && is_word(bytes[end]) {
            end += 1;
        }
        (start < end).then_some((start, end))
    }
}
