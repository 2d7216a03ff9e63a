//! Findings rendered for people (miette, like `ripcord check`), for tools (JSON), for code scanning (SARIF
//! 2.1.0) and for GitHub Actions logs (workflow commands). Every renderer takes all files at once and returns
//! the whole output, so the command line writes it in one piece.

mod github;
mod json;
mod sarif;
mod text;

pub use github::render_github;
pub use json::render_json;
pub use sarif::render_sarif;
pub use text::{render_plain, render_text};

use super::Finding;

/// One file's findings, with the text they point into.
pub struct Linted {
    /// The path as named on the command line (or found under a directory named there).
    pub path: String,
    pub text: String,
    pub findings: Vec<Finding>,
}
