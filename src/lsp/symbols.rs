//! The outline (document symbols: metrics, channels, triggers, levels and their steps) and semantic tokens
//! (the scanner's tokens, with names told apart by what the index knows they are).

use std::collections::HashMap;

use tower_lsp_server::ls_types::{DocumentSymbol, SemanticToken, SemanticTokenType, SemanticTokensLegend, SymbolKind};

use super::analysis::Analysis;
use super::index::NameKind;
use super::lex::{self, Kind};

/// The token types, in the order of their indices in the legend.
pub const TOKEN_TYPES: &[SemanticTokenType] = &[
    SemanticTokenType::KEYWORD,
    SemanticTokenType::VARIABLE,
    SemanticTokenType::FUNCTION,
    SemanticTokenType::STRING,
    SemanticTokenType::NUMBER,
    SemanticTokenType::COMMENT,
    SemanticTokenType::OPERATOR,
    SemanticTokenType::ENUM_MEMBER,
    SemanticTokenType::EVENT,
    SemanticTokenType::TYPE,
    SemanticTokenType::NAMESPACE,
];

const KEYWORD: u32 = 0;
const VARIABLE: u32 = 1;
const FUNCTION: u32 = 2;
const STRING: u32 = 3;
const NUMBER: u32 = 4;
const COMMENT: u32 = 5;
const OPERATOR: u32 = 6;
const ENUM_MEMBER: u32 = 7;
const EVENT: u32 = 8;
const TYPE: u32 = 9;
const NAMESPACE: u32 = 10;

pub fn legend() -> SemanticTokensLegend {
    SemanticTokensLegend { token_types: TOKEN_TYPES.to_vec(), token_modifiers: Vec::new() }
}

#[allow(deprecated)] // `DocumentSymbol::deprecated` must be written, as `None`.
fn symbol(
    a: &Analysis,
    name: String,
    detail: String,
    kind: SymbolKind,
    (start, end): (usize, usize),
    (name_start, name_end): (usize, usize),
    children: Vec<DocumentSymbol>,
) -> DocumentSymbol {
    DocumentSymbol {
        name,
        detail: (!detail.is_empty()).then_some(detail),
        kind,
        tags: None,
        deprecated: None,
        range: a.range(start, end),
        selection_range: a.range(name_start.max(start), name_end.min(end).max(name_start.max(start))),
        children: (!children.is_empty()).then_some(children),
    }
}

/// The outline: the runbook, holding its metrics, channels, triggers and levels (with their steps).
pub fn outline(a: &Analysis) -> Vec<DocumentSymbol> {
    let Some((runbook, rs, re)) = a.index().runbook.clone() else {
        return Vec::new();
    };
    let mut children = Vec::new();
    for o in &a.index().outline {
        let (kind, name) = match o.kind {
            NameKind::Metric => (SymbolKind::VARIABLE, o.name.clone()),
            NameKind::Channel => (SymbolKind::INTERFACE, o.name.clone()),
            NameKind::Trigger => (SymbolKind::EVENT, o.name.clone()),
            NameKind::Level => (SymbolKind::FUNCTION, format!("level {}", o.name)),
        };
        let steps = o
            .steps
            .iter()
            .map(|(id, what, s, e)| {
                symbol(a, id.clone(), what.clone(), SymbolKind::METHOD, (*s, *e), (*s, *e), Vec::new())
            })
            .collect();
        children.push(symbol(a, name, o.detail.clone(), kind, (o.start, o.end), (o.name_start, o.name_end), steps));
    }
    let name_at = a.text.get(rs..re).and_then(|t| t.find(runbook.as_str())).map_or(rs, |i| rs + i);
    vec![symbol(
        a,
        runbook.clone(),
        String::new(),
        SymbolKind::MODULE,
        (rs, re),
        (name_at, name_at + runbook.len()),
        children,
    )]
}

/// Semantic tokens, delta-encoded as LSP wants them; a token that spans lines (a raw string) is one token
/// per line.
pub fn semantic_tokens(a: &Analysis) -> Vec<SemanticToken> {
    let text = a.text.as_str();
    let names: HashMap<usize, NameKind> = a.index().occurrences.iter().map(|o| (o.start, o.kind)).collect();
    let toks = lex::tokens(text);
    let mut out = Vec::with_capacity(toks.len());
    let (mut last_line, mut last_start) = (0u32, 0u32);
    for (i, t) in toks.iter().enumerate() {
        let word = t.text(text);
        let class = match t.kind {
            Kind::Keyword => KEYWORD,
            Kind::Number => NUMBER,
            Kind::String => STRING,
            Kind::Comment => COMMENT,
            Kind::Punct => match word {
                "{" | "}" | "(" | ")" | "," | ":" | "=" => continue,
                _ => OPERATOR,
            },
            Kind::Ident => match names.get(&t.start) {
                Some(NameKind::Metric) => VARIABLE,
                Some(NameKind::Channel) => ENUM_MEMBER,
                Some(NameKind::Trigger) => EVENT,
                Some(NameKind::Level) => NUMBER,
                None if toks.get(i + 1).is_some_and(|n| n.text(text) == "(") => FUNCTION,
                None if i > 0 && toks[i - 1].text(text) == "runbook" => NAMESPACE,
                None if word.bytes().all(|b| b.is_ascii_uppercase()) => TYPE,
                None if word == "log" => ENUM_MEMBER,
                None => VARIABLE,
            },
        };
        // One token per line of the text it covers.
        let mut start = t.start;
        while start < t.end {
            let end = text[start..t.end].find('\n').map_or(t.end, |n| start + n);
            if end > start {
                let p = a.lines.pos(text, start);
                let length: usize = text[start..end].chars().map(char::len_utf16).sum();
                let delta_line = p.line - last_line;
                let delta_start = if delta_line == 0 { p.character - last_start } else { p.character };
                out.push(SemanticToken {
                    delta_line,
                    delta_start,
                    length: u32::try_from(length).unwrap_or(u32::MAX),
                    token_type: class,
                    token_modifiers_bitset: 0,
                });
                (last_line, last_start) = (p.line, p.character);
            }
            start = end + 1;
        }
    }
    out
}
