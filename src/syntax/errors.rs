//! Pest's errors in words a user knows: rule names become the tokens they stand for, and the most common
//! situations get a sentence of their own ("expected `->` after the condition").

use pest::error::{ErrorVariant, InputLocation};

use super::parser::{PestError, Rule};
use crate::diagnostic::{Code, Diagnostic};
use crate::span::{Span, floor_char_boundary};

pub(super) fn translate(text: &str, error: &PestError) -> Diagnostic {
    let pos = match error.location {
        InputLocation::Pos(p) => p,
        InputLocation::Span((s, _)) => s,
    };
    let pos = floor_char_boundary(text, pos.min(text.len()));
    let found = found_token(text, pos);
    let span = Span::new(pos, pos + found.len().max(if pos < text.len() { 1 } else { 0 }));
    let found_words = if found.is_empty() { "end of file".to_string() } else { format!("`{found}`") };

    let positives: Vec<Rule> = match &error.variant {
        ErrorVariant::ParsingError { positives, .. } => positives.clone(),
        ErrorVariant::CustomError { .. } => Vec::new(),
    };
    let has = |r: Rule| positives.contains(&r);

    let (message, help) = if has(Rule::arrow) {
        (
            format!("expected `->` after the condition, found {found_words}"),
            "a trigger reads `CONDITION [for D | for N consecutive | for N of M] [clear when CONDITION] \
             [keep firing for D] [on no data keep | fire | clear] -> level N`"
                .to_string(),
        )
    } else if has(Rule::kw_runbook) {
        (format!("expected `runbook`, found {found_words}"), "a file holds one `runbook NAME { ... }`".to_string())
    } else if has(Rule::EOI) && positives.len() == 1 {
        (
            format!("unexpected {found_words} after the end of the runbook"),
            "a file holds exactly one runbook; check for an extra `}`".to_string(),
        )
    } else if has(Rule::target_level) || has(Rule::target_notify) {
        (
            format!("expected `level N` or `notify CHANNEL \"message\"` after `->`, found {found_words}"),
            "a trigger's target is a level to run or a channel to notify".to_string(),
        )
    } else if has(Rule::kw_step) && has(Rule::kw_deadline) {
        (
            format!("expected a step or a level option, found {found_words}"),
            "inside a level: `step ...`, `parallel { ... }`, `deadline D`, `approval required`, `cooldown D`, \
             `max attempts N`, `max parallel N`, `on failure escalate level N | abort | continue`"
                .to_string(),
        )
    } else if has(Rule::kw_trigger) && has(Rule::kw_level) {
        (
            format!("expected a runbook item, found {found_words}"),
            "inside a runbook: description, owner, evaluate every, files under, max series, channel, metric, \
             trigger, level"
                .to_string(),
        )
    } else if has(Rule::method) {
        (
            format!("expected an HTTP method in capitals (GET, POST, ...), found {found_words}"),
            "write the method before the URL: `http POST \"https://...\"`".to_string(),
        )
    } else if has(Rule::ident) && found_is_keyword(&found) {
        (
            format!("expected a name, found the keyword `{found}`"),
            "keywords are reserved; choose another name (see docs/language.md for the list)".to_string(),
        )
    } else {
        // A matching may follow any operator, and is never what a user forgot: leave it out of the list
        // unless nothing else fits.
        let optional = |r: &Rule| matches!(r, Rule::matching | Rule::kw_on | Rule::kw_ignoring);
        let fits: Vec<Rule> = if positives.iter().all(optional) {
            positives.clone()
        } else {
            positives.iter().copied().filter(|r| !optional(r)).collect()
        };
        let mut words: Vec<&'static str> = fits.iter().map(|r| word(*r)).collect();
        words.sort_unstable();
        words.dedup();
        let expected = match words.len() {
            0 => "something else".to_string(),
            1 => words[0].to_string(),
            n => format!("{} or {}", words[..n - 1].join(", "), words[n - 1]),
        };
        (
            format!("expected {expected}, found {found_words}"),
            "see docs/language.md for the grammar of each item".to_string(),
        )
    };

    Diagnostic::new(Code::Syntax, span, message).label(label_for(&found_words)).help(help)
}

fn label_for(found: &str) -> String {
    format!("unexpected {found}")
}

fn found_is_keyword(found: &str) -> bool {
    super::parser::RunbookParser::is_keyword(found)
}

/// The token at `pos`, as a user would name it: a word, a number, a string opening, or one character.
fn found_token(text: &str, pos: usize) -> String {
    let rest = &text[pos..];
    let mut chars = rest.chars();
    let Some(first) = chars.next() else {
        return String::new();
    };
    if first.is_alphanumeric() || first == '_' {
        let end = rest.find(|c: char| !(c.is_alphanumeric() || c == '_' || c == '.' || c == '%')).unwrap_or(rest.len());
        return rest[..end.min(40)].to_string();
    }
    for op in ["->", ">=", "<=", "==", "!="] {
        if rest.starts_with(op) {
            return op.to_string();
        }
    }
    first.to_string()
}

/// The words for a rule in "expected ..." messages.
fn word(rule: Rule) -> &'static str {
    match rule {
        Rule::ident => "a name",
        Rule::quantity | Rule::signed_quantity | Rule::number => "a number or duration",
        Rule::string | Rule::raw_string => "a string",
        Rule::expr | Rule::paren | Rule::call | Rule::metric_ref => "an expression",
        Rule::op_or
        | Rule::op_and
        | Rule::op_unless
        | Rule::op_ge
        | Rule::op_le
        | Rule::op_eq
        | Rule::op_ne
        | Rule::op_gt
        | Rule::op_lt
        | Rule::op_add
        | Rule::op_sub
        | Rule::op_mul
        | Rule::op_div => "an operator",
        Rule::op_not | Rule::op_neg => "an expression",
        Rule::arrow => "`->`",
        Rule::matching | Rule::kw_ignoring => "`on(...)` or `ignoring(...)`",
        Rule::label_name | Rule::label_entry => "a label name",
        Rule::trigger_attrs => "`{`",
        Rule::alert_attr | Rule::kw_alert => "`alert`",
        Rule::labels_attr | Rule::kw_labels => "`labels`",
        Rule::annotations_attr | Rule::kw_annotations => "`annotations`",
        Rule::kw_series => "`series`",
        Rule::EOI => "end of file",
        Rule::method => "an HTTP method",
        Rule::channel_kind => "`webhook`",
        Rule::for_clause => "`for`",
        Rule::keep_clause => "`keep firing for`",
        Rule::of_last | Rule::kw_of => "`of`",
        Rule::clear_clause | Rule::kw_clear => "`clear when`",
        Rule::kw_when => "`when`",
        Rule::no_data_clause => "`on no data`",
        Rule::kw_no => "`no`",
        Rule::kw_data => "`data`",
        Rule::kw_fire => "`fire`",
        Rule::no_data_policy => "`keep`, `fire` or `clear`",
        Rule::m_consecutive => "`for N consecutive`",
        Rule::offset => "`offset`",
        Rule::consecutive | Rule::kw_consecutive => "`consecutive`",
        Rule::step | Rule::kw_step => "`step`",
        Rule::parallel | Rule::kw_parallel => "`parallel`",
        Rule::percent => "`%`",
        Rule::unit_tail => "a duration unit",
        Rule::from_snapshot => "`snapshot`",
        Rule::escalate | Rule::kw_escalate => "`escalate`",
        Rule::abort | Rule::kw_abort => "`abort`",
        Rule::continue_ | Rule::kw_continue => "`continue`",
        other => keyword_word(other),
    }
}

fn keyword_word(rule: Rule) -> &'static str {
    match rule {
        Rule::kw_runbook => "`runbook`",
        Rule::kw_description => "`description`",
        Rule::kw_owner => "`owner`",
        Rule::kw_evaluate => "`evaluate`",
        Rule::kw_every | Rule::m_every => "`every`",
        Rule::kw_files => "`files`",
        Rule::kw_under => "`under`",
        Rule::kw_channel => "`channel`",
        Rule::kw_metric => "`metric`",
        Rule::kw_promql => "`promql`",
        Rule::kw_trigger => "`trigger`",
        Rule::kw_for => "`for`",
        Rule::kw_keep => "`keep`",
        Rule::kw_firing => "`firing`",
        Rule::kw_level | Rule::target_level => "`level`",
        Rule::kw_notify | Rule::target_notify => "`notify`",
        Rule::kw_offset => "`offset`",
        Rule::kw_deadline => "`deadline`",
        Rule::kw_approval => "`approval`",
        Rule::kw_required => "`required`",
        Rule::kw_cooldown => "`cooldown`",
        Rule::kw_max => "`max`",
        Rule::kw_attempts => "`attempts`",
        Rule::kw_on => "`on`",
        Rule::kw_failure => "`failure`",
        Rule::kw_shell => "`shell`",
        Rule::kw_http => "`http`",
        Rule::kw_snapshot => "`snapshot`",
        Rule::kw_restore => "`restore`",
        Rule::kw_from => "`from`",
        Rule::kw_verify => "`verify`",
        Rule::kw_within | Rule::m_within => "`within`",
        Rule::kw_wait => "`wait`",
        Rule::kw_timeout | Rule::m_timeout => "`timeout`",
        Rule::kw_retry | Rule::m_retry => "`retry`",
        Rule::kw_backoff => "`backoff`",
        Rule::kw_idempotent | Rule::m_idempotent => "`idempotent`",
        Rule::kw_header | Rule::m_header => "`header`",
        Rule::kw_body | Rule::m_body => "`body`",
        Rule::kw_expect | Rule::m_expect => "`expect`",
        _ => "something else",
    }
}
