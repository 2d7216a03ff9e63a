use crate::span::Span;

/// A string literal: `"..."` with escapes and `${...}` interpolation, or a raw backtick string.
#[derive(Clone, Debug)]
pub struct Text {
    pub span: Span,
    pub raw: bool,
    pub parts: Vec<TextPart>,
}

#[derive(Clone, Debug)]
pub enum TextPart {
    /// Literal text with escapes already decoded.
    Literal(String),
    /// `${path}`; `path` is the text between the braces, unchecked.
    Interpolation { path: String, span: Span },
    /// An escape the language does not define, such as `\q`; kept for the analyser to report.
    BadEscape { text: String, span: Span },
}

impl Text {
    /// The literal content, with interpolations written back as `${...}`.
    pub fn to_plain(&self) -> String {
        let mut out = String::new();
        for part in &self.parts {
            match part {
                TextPart::Literal(s) => out.push_str(s),
                TextPart::Interpolation { path, .. } => {
                    out.push_str("${");
                    out.push_str(path);
                    out.push('}');
                }
                TextPart::BadEscape { text, .. } => out.push_str(text),
            }
        }
        out
    }

    pub fn has_interpolation(&self) -> bool {
        self.parts.iter().any(|p| matches!(p, TextPart::Interpolation { .. }))
    }
}
