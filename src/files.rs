//! Files on disk: the one capped reader for text files (runbooks, test files, series files), reading a
//! runbook (the size limit, UTF-8, the byte-order mark), and finding files under the paths a command is
//! given. Shared by the CLI, `ripcord test` and `watch`.

use std::io::Read;
use std::path::{Path, PathBuf};

use crate::diagnostic::{Code, Diagnostic};
use crate::span::Span;
use crate::syntax::MAX_FILE_BYTES;

/// A file as read, with what went wrong reading it (if anything).
pub struct LoadedFile {
    pub path: String,
    /// The text after the byte-order mark; empty when the file could not be read.
    pub text: String,
    pub error: Option<Diagnostic>,
}

/// Why a file could not be read as text.
#[derive(Debug)]
pub enum ReadError {
    /// Opening or reading failed.
    Io(std::io::Error),
    /// The file holds more than the limit.
    TooLarge,
    /// The bytes are not UTF-8: where the first bad byte is, and the text with bad bytes replaced.
    NotUtf8 { valid_up_to: usize, lossy: String },
}

/// Reads a text file of at most `limit` bytes, as it is (a byte-order mark is kept). Never reads more than
/// the limit plus one byte, so a huge file costs nothing. Each caller says what each failure means to it.
pub fn read_capped(path: &Path, limit: u64) -> Result<String, ReadError> {
    let file = std::fs::File::open(path).map_err(ReadError::Io)?;
    let mut bytes = Vec::new();
    file.take(limit.saturating_add(1)).read_to_end(&mut bytes).map_err(ReadError::Io)?;
    if bytes.len() as u64 > limit {
        return Err(ReadError::TooLarge);
    }
    String::from_utf8(bytes).map_err(|e| ReadError::NotUtf8 {
        valid_up_to: e.utf8_error().valid_up_to(),
        lossy: String::from_utf8_lossy(e.as_bytes()).into_owned(),
    })
}

/// Reads one runbook file (at most [`MAX_FILE_BYTES`]).
pub fn load_runbook(path: &Path) -> LoadedFile {
    let display = path.display().to_string();
    let fail = |code: Code, message: String, help: &str| LoadedFile {
        path: display.clone(),
        text: String::new(),
        error: Some(Diagnostic::new(code, Span::new(0, 0), message).label("here").help(help.to_string())),
    };
    match read_capped(path, MAX_FILE_BYTES as u64) {
        Ok(text) => {
            let text = crate::source_text(&text).to_string();
            LoadedFile { path: display, text, error: None }
        }
        Err(ReadError::Io(e)) => {
            fail(Code::Unreadable, format!("cannot read `{display}`: {e}"), "check the path and permissions")
        }
        Err(ReadError::TooLarge) => fail(
            Code::FileTooLarge,
            format!("`{display}` is larger than 8 MiB"),
            "split the runbook; no runbook needs megabytes of text",
        ),
        Err(ReadError::NotUtf8 { valid_up_to: offset, lossy }) => LoadedFile {
            path: display,
            error: Some(
                Diagnostic::new(Code::NotUtf8, Span::new(offset, offset + 1), "file is not valid UTF-8")
                    .label("invalid byte here")
                    .help("save the runbook as UTF-8"),
            ),
            text: lossy,
        },
    }
}

/// Whether a path names a runbook (`*.runbook`).
pub fn is_runbook(path: &Path) -> bool {
    path.extension().is_some_and(|e| e == "runbook")
}

/// Files named on the command line, with directories expanded to the `.runbook` files below them (sorted).
pub fn expand_paths(paths: &[PathBuf]) -> Vec<PathBuf> {
    expand_paths_matching(paths, is_runbook)
}

/// A failed [`LoadedFile`] for each directory among `paths` that holds no runbook, with [`Code::NoRunbooks`]:
/// a command given only empty directories must not do nothing and succeed.
pub fn dirs_without_runbooks(paths: &[PathBuf]) -> Vec<LoadedFile> {
    paths
        .iter()
        .filter(|p| p.is_dir() && expand_paths(std::slice::from_ref(*p)).is_empty())
        .map(|dir| {
            let path = dir.display().to_string();
            let d = Diagnostic::new(Code::NoRunbooks, Span::new(0, 0), format!("no `*.runbook` file under `{path}`"))
                .label("here")
                .help("name the runbook files, or a directory that holds some (runbooks end in `.runbook`)");
            LoadedFile { path, text: String::new(), error: Some(d) }
        })
        .collect()
}

/// Paths as given, with each directory replaced by the files below it (recursively, sorted) that `matches`
/// accepts. A named file is kept whatever its name, so that a missing one is reported by whoever reads it.
pub fn expand_paths_matching(paths: &[PathBuf], matches: fn(&Path) -> bool) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            let mut found = Vec::new();
            walk(p, matches, &mut found);
            found.sort();
            out.extend(found);
        } else {
            out.push(p.clone());
        }
    }
    out
}

fn walk(dir: &Path, matches: fn(&Path) -> bool, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        if kind.is_dir() {
            walk(&path, matches, out);
        } else if matches(&path) {
            out.push(path);
        }
    }
}
