//! `--format github`: GitHub Actions workflow commands, which the runner turns into annotations on the
//! pull request: `::error file=F,line=L,col=C,endLine=L,endColumn=C,title=RC801 trigger-without-for::message`.

use super::Linted;
use crate::span::LineIndex;

/// Escapes a command's message, as the Actions runner reads it.
fn data(s: &str) -> String {
    s.replace('%', "%25").replace('\r', "%0D").replace('\n', "%0A")
}

/// Escapes a property value (`file=...`), where `:` and `,` are separators.
fn property(s: &str) -> String {
    data(s).replace(':', "%3A").replace(',', "%2C")
}

pub fn render_github(files: &[Linted]) -> String {
    let mut out = String::new();
    for file in files {
        let index = LineIndex::new(&file.text);
        for f in &file.findings {
            let (start, end) = (index.position(f.span.start), index.position(f.span.end));
            let command = if f.is_error() { "error" } else { "warning" };
            let mut message = f.message.clone();
            if let Some(help) = &f.help {
                message.push_str("\nhelp: ");
                message.push_str(help);
            }
            out.push_str(&format!(
                "::{command} file={},line={},col={},endLine={},endColumn={},title={}::{}\n",
                property(&file.path),
                start.line,
                start.column,
                end.line,
                end.column,
                property(&format!("{} {}", f.code, f.name)),
                data(&message)
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_as_the_runner_expects() {
        assert_eq!(property("a,b:c%d"), "a%2Cb%3Ac%25d");
        assert_eq!(data("one\ntwo: 50%"), "one%0Atwo: 50%25");
    }
}
