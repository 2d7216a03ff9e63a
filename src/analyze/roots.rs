//! File steps may only touch paths under the runbook's `files under` roots. Paths are checked lexically
//! here (`..` resolved); the interpreter checks again after resolving symlinks.

use std::path::{Component, Path, PathBuf};

use super::Analyzer;
use crate::ast::Text;
use crate::diagnostic::{Code, Diagnostic};

/// `path` with `.` and `..` resolved without touching the file system; `None` if it climbs above `/`.
pub fn normalize(path: &str) -> Option<PathBuf> {
    let mut out = PathBuf::from("/");
    for c in Path::new(path).components() {
        match c {
            Component::RootDir | Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    return None;
                }
            }
            Component::Normal(s) => out.push(s),
            Component::Prefix(_) => return None,
        }
    }
    Some(out)
}

impl Analyzer<'_> {
    /// Checks a root of `files under`.
    pub(super) fn file_root(&mut self, text: &Text) -> Option<PathBuf> {
        let path = self.plain(text, "a file root");
        if !path.starts_with('/') {
            self.push(
                Diagnostic::new(Code::RelativePath, text.span, format!("file root `{path}` is not absolute"))
                    .label("relative path")
                    .help("roots are absolute paths such as \"/etc/app\", so a step cannot depend on the directory ripcord runs in"),
            );
            return None;
        }
        normalize(&path)
    }

    /// Checks a path a file step touches; returns it normalised.
    pub(super) fn file_path(&mut self, text: &Text, what: &str) -> Option<String> {
        let path = self.plain(text, "a file path");
        if path.is_empty() {
            self.push(
                Diagnostic::new(Code::EmptyCommand, text.span, format!("{what} is empty"))
                    .label("empty path")
                    .help("write the absolute path of the file"),
            );
            return None;
        }
        if !path.starts_with('/') {
            self.push(
                Diagnostic::new(Code::RelativePath, text.span, format!("{what} `{path}` is not absolute"))
                    .label("relative path")
                    .help("file steps take absolute paths under a `files under` root"),
            );
            return None;
        }
        let normalized = normalize(&path);
        if self.roots.is_empty() {
            if !self.reported_no_roots {
                self.reported_no_roots = true;
                self.push(
                    Diagnostic::new(Code::NoFileRoots, text.span, "file steps need `files under` roots")
                        .label("this file step has no root to stay within")
                        .help("declare the directories file steps may touch: `files under \"/etc/app\", \"/var/lib/app\"`"),
                );
            }
            return None;
        }
        let inside = normalized.as_ref().is_some_and(|p| self.roots.iter().any(|(root, _)| p.starts_with(root)));
        if !inside {
            let mut d = Diagnostic::new(
                Code::FileOutsideRoots,
                text.span,
                format!("`{path}` is outside the `files under` roots"),
            )
            .label("outside every root")
            .help(format!(
                "file steps may only touch {}; add a root or fix the path",
                self.roots.iter().map(|(r, _)| format!("`{}`", r.display())).collect::<Vec<_>>().join(", ")
            ));
            if let Some((_, span)) = self.roots.first() {
                d = d.related(*span, "roots declared here");
            }
            self.push(d);
            return None;
        }
        normalized.map(|p| p.display().to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalize_resolves_dot_dot() {
        assert_eq!(normalize("/etc/app/../passwd"), Some(PathBuf::from("/etc/passwd")));
        assert_eq!(normalize("/etc/./app/x"), Some(PathBuf::from("/etc/app/x")));
        assert_eq!(normalize("/.."), None);
    }
}
