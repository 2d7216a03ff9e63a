//! Completion: what may come next at the cursor, read from the tokens of the line so far (the text is often
//! half-typed and does not parse). Keywords where they fit, step kinds after `step`, declared metrics and the
//! functions in conditions, declared levels after `-> level` and `escalate level`, channels after `notify`,
//! and the modifiers a step takes once its own arguments are written.

use tower_lsp_server::ls_types::{CompletionItem, CompletionItemKind};

use super::analysis::Analysis;
use super::engine;
use super::index::NameKind;
use super::lex::{self, Kind, Token};

const RUNBOOK_ITEMS: &[&str] =
    &["description", "owner", "evaluate every", "files under", "max series", "channel", "metric", "trigger", "level"];
const LEVEL_ITEMS: &[&str] =
    &["step", "parallel", "deadline", "approval required", "cooldown", "max attempts", "max parallel", "on failure"];
/// What the block after a trigger's target holds.
const TRIGGER_ATTRS: &[&str] = &["alert", "labels", "annotations"];
const STEP_KINDS: &[(&str, &str)] = &[
    ("shell", "step shell \"command\""),
    ("http", "step http METHOD \"url\""),
    ("snapshot", "step snapshot \"/path\""),
    ("restore", "step restore \"/path\" from \"/backup\" | from snapshot"),
    ("verify", "step verify CONDITION | shell \"cmd\" | http METHOD \"url\""),
    ("wait", "step wait DURATION"),
    ("notify", "step notify CHANNEL \"message\""),
];

/// The modifiers each step kind takes (docs/language.md, section 7).
fn modifiers_for(kind: &str, verify_with: Option<&str>) -> &'static [&'static str] {
    match (kind, verify_with) {
        ("shell", _) | ("notify", _) => &["timeout", "retry", "idempotent"],
        ("http", _) => &["timeout", "retry", "idempotent", "header", "body", "expect"],
        ("snapshot", _) | ("restore", _) => &["timeout", "idempotent"],
        ("verify", Some("http")) => &["within", "every", "for", "header", "expect"],
        ("verify", _) => &["within", "every", "for"],
        _ => &[],
    }
}

fn item(label: &str, kind: CompletionItemKind, detail: &str) -> CompletionItem {
    CompletionItem {
        label: label.to_string(),
        kind: Some(kind),
        detail: (!detail.is_empty()).then(|| detail.to_string()),
        ..CompletionItem::default()
    }
}

fn keywords(words: &[&str]) -> Vec<CompletionItem> {
    words.iter().map(|w| item(w, CompletionItemKind::KEYWORD, "")).collect()
}

/// What the block around the cursor is: the runbook, a level, a parallel block, or nothing yet.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Block {
    Top,
    Runbook,
    Level,
    Parallel,
    /// `-> level 1 { ... }`: a trigger's attributes.
    TriggerAttrs,
    /// `labels { ... }`, `annotations { ... }`: names and strings, nothing to complete.
    Entries,
}

fn block_at(text: &str, before: &[Token]) -> Block {
    let mut stack: Vec<Block> = Vec::new();
    for (i, t) in before.iter().enumerate() {
        match t.text(text) {
            "{" => {
                let opener = before[..i].iter().rev().take(4).find_map(|p| match p.text(text) {
                    "->" => Some(Block::TriggerAttrs),
                    "labels" | "annotations" => Some(Block::Entries),
                    "runbook" => Some(Block::Runbook),
                    "level" if !before[..i].iter().rev().take(4).any(|p| p.text(text) == "->") => Some(Block::Level),
                    "parallel" => Some(Block::Parallel),
                    _ => None,
                });
                stack.push(opener.unwrap_or(Block::Parallel));
            }
            "}" => {
                stack.pop();
            }
            _ => {}
        }
    }
    stack.last().copied().unwrap_or(Block::Top)
}

/// The declared names: from the index when the text parses, else read from the tokens (a half-typed
/// runbook does not parse, and its names are still worth offering).
struct Declared {
    metrics: Vec<String>,
    channels: Vec<String>,
    /// Level numbers and titles.
    levels: Vec<(String, String)>,
}

impl Declared {
    fn new(a: &Analysis) -> Declared {
        if a.runbook().is_some() {
            let names = |k| a.index().declared(k).into_iter().map(str::to_string).collect();
            let levels = a
                .index()
                .outline
                .iter()
                .filter(|o| o.kind == NameKind::Level)
                .map(|o| (o.name.clone(), o.detail.clone()))
                .collect();
            return Declared { metrics: names(NameKind::Metric), channels: names(NameKind::Channel), levels };
        }
        let text = a.text.as_str();
        let toks: Vec<Token> = lex::tokens(text).into_iter().filter(|t| t.kind != Kind::Comment).collect();
        let mut d = Declared { metrics: Vec::new(), channels: Vec::new(), levels: Vec::new() };
        for (i, t) in toks.iter().enumerate() {
            let next = toks.get(i + 1).filter(|n| n.kind == Kind::Ident || n.kind == Kind::Number);
            let Some(next) = next else { continue };
            let name = next.text(text).to_string();
            let after = toks.get(i + 2).map(|n| n.text(text));
            let before = i.checked_sub(1).map(|j| toks[j].text(text));
            match t.text(text) {
                "metric" if after == Some("=") => d.metrics.push(name),
                "channel" => d.channels.push(name),
                "level" if next.kind == Kind::Number && !matches!(before, Some("->" | "escalate")) => {
                    let title = toks
                        .get(i + 2)
                        .filter(|n| n.kind == Kind::String)
                        .map(|n| n.text(text).trim_matches(|c| c == '"' || c == '`').to_string());
                    d.levels.push((name, title.unwrap_or_default()));
                }
                _ => {}
            }
        }
        d
    }
}

pub fn complete(a: &Analysis, offset: usize) -> Vec<CompletionItem> {
    let text = a.text.as_str();
    let offset = offset.min(text.len());
    let all = lex::tokens(&text[..offset]);
    // Inside a string or a comment: nothing to complete. A word being typed is the prefix, not context.
    if let Some(last) = all.last()
        && last.end == offset
        && matches!(last.kind, Kind::String | Kind::Comment)
        && !(last.kind == Kind::String && last.end - last.start >= 2 && text[..last.end].ends_with(['"', '`']))
    {
        return Vec::new();
    }
    let mut before: Vec<Token> = all.into_iter().filter(|t| t.kind != Kind::Comment).collect();
    if before.last().is_some_and(|t| t.end == offset && matches!(t.kind, Kind::Ident | Kind::Keyword | Kind::Number)) {
        before.pop();
    }
    let line_start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
    let line: Vec<&str> = before.iter().filter(|t| t.start >= line_start).map(|t| t.text(text)).collect();
    let prev = line.last().copied();
    let prev2 = if line.len() >= 2 { Some(line[line.len() - 2]) } else { None };
    let declared = Declared::new(a);
    let metrics = || -> Vec<CompletionItem> {
        let mut v: Vec<CompletionItem> =
            declared.metrics.iter().map(|m| item(m, CompletionItemKind::VARIABLE, "metric")).collect();
        v.extend(engine::FUNCTIONS.iter().map(|(f, sig)| item(f, CompletionItemKind::FUNCTION, sig)));
        v
    };
    let levels = || -> Vec<CompletionItem> {
        declared.levels.iter().map(|(n, title)| item(n, CompletionItemKind::ENUM_MEMBER, title)).collect()
    };
    match (prev2, prev) {
        (_, None) => {
            return match block_at(text, &before) {
                Block::Top => keywords(&["runbook"]),
                Block::Runbook => {
                    let mut v = keywords(RUNBOOK_ITEMS);
                    v.extend(metrics());
                    v
                }
                Block::Level => keywords(LEVEL_ITEMS),
                Block::Parallel => keywords(&["step", "parallel"]),
                Block::TriggerAttrs => keywords(TRIGGER_ATTRS),
                Block::Entries => Vec::new(),
            };
        }
        (_, Some("step")) => {
            return STEP_KINDS.iter().map(|(k, d)| item(k, CompletionItemKind::KEYWORD, d)).collect();
        }
        (Some("->" | "escalate"), Some("level")) => return levels(),
        (_, Some("notify")) => {
            let mut v: Vec<CompletionItem> =
                declared.channels.iter().map(|c| item(c, CompletionItemKind::ENUM_MEMBER, "channel")).collect();
            v.push(item("log", CompletionItemKind::ENUM_MEMBER, "built-in channel: the run's log"));
            return v;
        }
        (_, Some("escalate")) => return keywords(&["level"]),
        (_, Some("on")) => {
            return match block_at(text, &before) {
                // A trigger's `on no data ...`.
                Block::Runbook => keywords(&["no data"]),
                _ => keywords(&["failure"]),
            };
        }
        (Some("on"), Some("no")) => return keywords(&["data"]),
        (Some("no"), Some("data")) => return keywords(&["keep", "fire", "clear"]),
        (_, Some("clear")) if block_at(text, &before) == Block::Runbook => return keywords(&["when"]),
        // `for 3 consecutive`, `for 3 of 5` (a trigger), `for 3 consecutive` (a verify step).
        (Some("for"), Some(n))
            if !n.is_empty()
                && n.bytes().all(|b| b.is_ascii_digit())
                && line.iter().rev().nth(2) != Some(&"firing") =>
        {
            return if line.first() == Some(&"step") {
                keywords(&["consecutive"])
            } else {
                keywords(&["consecutive", "of"])
            };
        }
        (_, Some("failure")) => return keywords(&["escalate level", "abort", "continue"]),
        (_, Some("approval")) => return keywords(&["required"]),
        (_, Some("max")) => {
            return match block_at(text, &before) {
                Block::Runbook => keywords(&["series"]),
                _ => keywords(&["attempts", "parallel"]),
            };
        }
        (_, Some("evaluate")) => return keywords(&["every"]),
        (_, Some("files")) => return keywords(&["under"]),
        (_, Some("keep")) => return keywords(&["firing for"]),
        (_, Some("->")) => return keywords(&["level", "notify"]),
        (_, Some("from")) => return keywords(&["snapshot"]),
        (_, Some("http")) => {
            return engine::METHODS.iter().map(|m| item(m, CompletionItemKind::CONSTANT, "HTTP method")).collect();
        }
        (_, Some("verify")) => {
            let mut v = keywords(&["shell", "http"]);
            v.extend(metrics());
            return v;
        }
        _ => {}
    }
    // A trigger's attributes and their entries hold names and strings only.
    if matches!(block_at(text, &before), Block::TriggerAttrs | Block::Entries) {
        return Vec::new();
    }
    let prev = prev.unwrap_or("");
    let first = line.first().copied().unwrap_or("");
    let ends_operand = before.last().is_some_and(|t| matches!(t.kind, Kind::String | Kind::Number | Kind::Ident))
        || prev == ")"
        || matches!(prev, "idempotent" | "snapshot");
    // A step's modifiers, once its own arguments are written.
    if first == "step" && line.len() >= 3 && ends_operand {
        let kind = line[1];
        let verify_with = line.get(2).copied();
        let is_condition = kind == "verify" && !matches!(verify_with, Some("shell" | "http"));
        let mut v: Vec<&str> =
            modifiers_for(kind, verify_with).iter().copied().filter(|m| *m == "header" || !line.contains(m)).collect();
        if line.iter().rev().nth(1) == Some(&"retry") {
            v.insert(0, "backoff");
        }
        let mut items = keywords(&v);
        if is_condition && prev != ")" && before.last().is_some_and(|t| t.kind == Kind::Ident) {
            items.extend(keywords(&["and", "or", "unless", "offset"]));
        }
        return items;
    }
    let in_condition = (first == "step" && line.get(1) == Some(&"verify"))
        || (first != "step"
            && !line.contains(&"->")
            && !matches!(
                first,
                "metric"
                    | "channel"
                    | "level"
                    | "description"
                    | "owner"
                    | "evaluate"
                    | "files"
                    | "deadline"
                    | "cooldown"
                    | "max"
                    | "approval"
                    | "on"
                    | "parallel"
                    | "runbook"
            ));
    if in_condition {
        let after_operand = before.last().is_some_and(|t| matches!(t.kind, Kind::Number | Kind::Ident)) || prev == ")";
        // A duration or count comes next.
        if matches!(prev, "for" | "offset" | "within" | "every") {
            return Vec::new();
        }
        if after_operand {
            if first == "step" {
                return keywords(&["and", "or", "unless", "offset", "within", "every"]);
            }
            return keywords(&[
                "and",
                "or",
                "unless",
                "offset",
                "for",
                "clear when",
                "keep firing for",
                "on no data",
                "->",
            ]);
        }
        // Right after an operator: the matching that may follow it, or an operand.
        let mut v = metrics();
        if matches!(prev, ">" | ">=" | "<" | "<=" | "==" | "!=" | "+" | "-" | "*" | "/" | "and" | "or" | "unless") {
            v.extend(keywords(&["on(", "ignoring("]));
        }
        return v;
    }
    Vec::new()
}
