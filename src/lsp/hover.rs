//! Hover: what the name under the cursor means. A metric shows its query, a trigger its timing in words, a
//! level its steps and escalation, a channel its URL, and a diagnostic code its explanation.

use super::analysis::Analysis;
use super::engine::{
    self, AstHold, AstLevel, AstOnFailure, AstTarget, AstTrigger, ItemKind, LevelItem, NoDataPolicy, Quantity,
    QuantityValue, format_duration,
};
use super::index::{NameKind, snippet};

/// The default `evaluate every` (docs/language.md, section 3.2).
const DEFAULT_INTERVAL_MS: u64 = 15_000;

/// Markdown for the position, and the span it is about.
pub fn hover(a: &Analysis, offset: usize) -> Option<(String, usize, usize)> {
    let mut parts = Vec::new();
    let mut span = None;
    if let Some(o) = a.index().at(offset) {
        span = Some((o.start, o.end));
        parts.push(match o.kind {
            NameKind::Metric => metric(a, &o.name),
            NameKind::Channel => channel(a, &o.name),
            NameKind::Level => level(a, &o.name),
            NameKind::Trigger => trigger(a, &o.name).unwrap_or_default(),
        });
    } else if let Some((name, s, e)) = trigger_around(a, offset) {
        span = Some((s, e));
        parts.extend(trigger(a, &name));
    } else if let Some((number, s, e)) = level_header_around(a, offset) {
        span = Some((s, e));
        parts.push(level(a, &number));
    }
    // A code written in an allow comment, or a diagnostic under the cursor.
    if let Some((s, e)) = a.word_at(offset) {
        let word = &a.text[s..e];
        if is_code(word)
            && let Some(doc) = engine::explain(word)
        {
            span.get_or_insert((s, e));
            parts.push(doc);
        }
    }
    for p in a.problems.iter().filter(|p| p.start <= offset && offset <= p.end.max(p.start + 1)) {
        let mut text = format!("**{}** {}", p.code, p.message);
        if let Some(help) = &p.help {
            text.push_str(&format!("\n\nhelp: {help}"));
        }
        if let Some(doc) = engine::explain(&p.code) {
            text.push_str("\n\n");
            text.push_str(&doc);
        }
        span.get_or_insert((p.start, p.end));
        parts.push(text);
    }
    parts.retain(|p| !p.is_empty());
    let (s, e) = span?;
    (!parts.is_empty()).then(|| (parts.join("\n\n---\n\n"), s, e))
}

fn is_code(word: &str) -> bool {
    word.len() == 5 && word.starts_with("RC") && word[2..].bytes().all(|b| b.is_ascii_digit())
}

fn metric(a: &Analysis, name: &str) -> String {
    match a.index().outline_of(NameKind::Metric, name) {
        Some(m) => {
            let query = a
                .text
                .get(m.start..m.end)
                .and_then(|item| item.split_once("promql"))
                .map_or(m.detail.as_str(), |(_, q)| q.trim());
            let query = query.trim_matches(|c| c == '`' || c == '"');
            format!("**metric** `{name}`\n\n```promql\n{query}\n```")
        }
        None => format!(
            "**metric** `{name}` (not declared)\n\nIt has no live source: `watch` cannot read it, and a simulation \
             reads the input series named `{name}`. Declare it with `metric {name} = promql \"...\"`."
        ),
    }
}

fn channel(a: &Analysis, name: &str) -> String {
    match a.index().outline_of(NameKind::Channel, name) {
        Some(c) => {
            format!("**channel** `{name}`: webhook {}\n\nA Slack-compatible JSON payload is sent to the URL.", c.detail)
        }
        None if name == "log" => "**channel** `log` (built in): writes the message to the run's log.".to_string(),
        None => format!("**channel** `{name}` is not declared (RC113)."),
    }
}

fn ast_level<'a>(a: &'a Analysis, number: &str) -> Option<&'a AstLevel> {
    a.runbook()?.items.iter().find_map(|item| match &item.kind {
        ItemKind::Level(l)
            if a.text
                .get(l.number.span.start..l.number.span.end)
                .and_then(|t| t.parse::<u64>().ok())
                .map(|n| n.to_string())
                .as_deref()
                == Some(number) =>
        {
            Some(l)
        }
        _ => None,
    })
}

fn title_of(a: &Analysis, number: &str) -> String {
    match a.index().outline_of(NameKind::Level, number) {
        Some(o) if !o.detail.is_empty() => format!("level {number} \"{}\"", o.detail),
        _ => format!("level {number}"),
    }
}

fn level(a: &Analysis, number: &str) -> String {
    let Some(l) = ast_level(a, number) else {
        return format!("**level {number}** is not declared (RC110, RC111).");
    };
    let mut out = format!("**{}**", title_of(a, number));
    let mut options = Vec::new();
    let mut on_failure = "abort (the default)".to_string();
    for item in &l.items {
        match item {
            LevelItem::Approval(_) => options.push("approval required".to_string()),
            LevelItem::Deadline(q, _) => options.push(format!("deadline {}", written(a, q))),
            LevelItem::Cooldown(q, _) => options.push(format!("cooldown {}", written(a, q))),
            LevelItem::MaxAttempts(q, _) => options.push(format!("max attempts {}", written(a, q))),
            LevelItem::MaxParallel(q, _) => options.push(format!("max parallel {}", written(a, q))),
            LevelItem::OnFailure(AstOnFailure::Escalate(q), _) => {
                let to = written(a, q);
                on_failure = format!("escalate to {}", title_of(a, &to));
            }
            LevelItem::OnFailure(AstOnFailure::Abort, _) => on_failure = "abort".to_string(),
            LevelItem::OnFailure(AstOnFailure::Continue, _) => {
                on_failure = "continue (the remaining steps run; the level still fails)".to_string();
            }
            LevelItem::Step(_) => {}
        }
    }
    if !options.is_empty() {
        out.push_str(&format!("\n\n{}", options.join(" · ")));
    }
    if let Some(o) = a.index().outline_of(NameKind::Level, number) {
        out.push_str("\n\nSteps:\n");
        for (id, what, _, _) in &o.steps {
            let depth = id.matches('.').count().saturating_sub(1);
            out.push_str(&format!("{}- `{id}` {what}\n", "  ".repeat(depth)));
        }
    }
    out.push_str(&format!("\nOn failure: {on_failure}."));
    let starters: Vec<String> = a
        .index()
        .outline
        .iter()
        .filter(|t| t.kind == NameKind::Trigger)
        .filter(|t| {
            a.index().occurrences.iter().any(|o| {
                o.kind == NameKind::Level
                    && o.name == number
                    && !o.is_definition
                    && t.start <= o.start
                    && o.end <= t.end
            })
        })
        .map(|t| format!("`{}`", t.name))
        .collect();
    let escalated_from: Vec<String> = a
        .index()
        .outline
        .iter()
        .filter(|l| l.kind == NameKind::Level && l.name != number)
        .filter(|l| {
            a.index().occurrences.iter().any(|o| {
                o.kind == NameKind::Level
                    && o.name == number
                    && !o.is_definition
                    && l.start <= o.start
                    && o.end <= l.end
            })
        })
        .map(|l| format!("level {}", l.name))
        .collect();
    if !starters.is_empty() {
        out.push_str(&format!("\n\nStarted by {}.", starters.join(", ")));
    }
    if !escalated_from.is_empty() {
        out.push_str(&format!("\n\nEscalated to from {}.", escalated_from.join(", ")));
    }
    out
}

fn written(a: &Analysis, q: &Quantity) -> String {
    a.text.get(q.span.start..q.span.end).unwrap_or("").to_string()
}

fn ms_of(q: &Quantity) -> Option<u64> {
    match &q.value {
        QuantityValue::Duration(Ok(ms)) if !q.negative => Some(*ms),
        QuantityValue::Number { value, .. } if *value == 0.0 => Some(0),
        _ => None,
    }
}

/// The trigger whose text holds the offset, when the offset is on no name.
fn trigger_around(a: &Analysis, offset: usize) -> Option<(String, usize, usize)> {
    a.index()
        .outline
        .iter()
        .find(|o| o.kind == NameKind::Trigger && o.start <= offset && offset < o.end)
        .map(|o| (o.name.clone(), o.start, o.end))
}

fn level_header_around(a: &Analysis, offset: usize) -> Option<(String, usize, usize)> {
    a.index()
        .outline
        .iter()
        .find(|o| o.kind == NameKind::Level && o.name_start <= offset && offset < o.name_end)
        .map(|o| (o.name.clone(), o.name_start, o.name_end))
}

fn ast_trigger<'a>(a: &'a Analysis, name: &str) -> Option<&'a AstTrigger> {
    let mut position = 0;
    a.runbook()?.items.iter().find_map(|item| match &item.kind {
        ItemKind::Trigger(t) => {
            position += 1;
            let this = t.name.as_ref().map_or_else(|| format!("trigger_{position}"), |n| n.name.clone());
            (this == name).then_some(t.as_ref())
        }
        _ => None,
    })
}

fn interval_ms(a: &Analysis) -> u64 {
    let written = a.runbook().and_then(|rb| {
        rb.items.iter().find_map(|item| match &item.kind {
            ItemKind::EvaluateEvery(q) => ms_of(q).filter(|ms| *ms > 0),
            _ => None,
        })
    });
    written.unwrap_or(DEFAULT_INTERVAL_MS)
}

/// A trigger's timing in words: "fires 1m after `error_rate > 0.05` turns true".
pub fn trigger(a: &Analysis, name: &str) -> Option<String> {
    let t = ast_trigger(a, name)?;
    let interval = interval_ms(a);
    let condition = a
        .plan()
        .and_then(|p| p.trigger(name))
        .map_or_else(|| snippet(&a.text, t.condition.span.start, t.condition.span.end), |p| p.condition_text.clone());
    let every = format_duration(interval);
    let mut out = format!("**trigger** `{name}`\n\n");
    match &t.hold {
        None => out.push_str(&format!("Fires at the first evaluation where `{condition}` is true.")),
        Some(AstHold::For(q)) => match ms_of(q) {
            Some(0) => out.push_str(&format!("Fires at the first evaluation where `{condition}` is true.")),
            Some(ms) => {
                out.push_str(&format!("Fires {} after `{condition}` turns true", format_duration(ms)));
                if ms % interval != 0 {
                    let real = ms.div_ceil(interval) * interval;
                    out.push_str(&format!(
                        " (evaluations are {every} apart, so in practice {} after: RC210)",
                        format_duration(real)
                    ));
                }
                out.push_str(", if it stays true at every evaluation in between.");
            }
            None => out.push_str(&format!("Fires after `{condition}` holds for {}.", written(a, q))),
        },
        Some(AstHold::Consecutive(q)) => {
            let n = q.as_scalar().filter(|n| *n >= 1.0 && n.fract() == 0.0).map(|n| n as u64);
            match n {
                Some(n) => out.push_str(&format!(
                    "Fires at the {} evaluation in a row where `{condition}` is true ({} after it turns true).",
                    ordinal(n),
                    format_duration((n - 1).saturating_mul(interval))
                )),
                None => {
                    out.push_str(&format!("Fires after `{condition}` is true {} evaluations in a row.", written(a, q)))
                }
            }
        }
        Some(AstHold::OfLast { n, m, .. }) => out.push_str(&format!(
            "Fires while `{condition}` was true at {} or more of the last {} evaluations (this one included).",
            written(a, n),
            written(a, m)
        )),
    }
    if let Some(clear) = &t.clear_when {
        let c = a.plan().and_then(|p| p.trigger(name)).and_then(|p| p.clear_when.as_ref()).map_or_else(
            || snippet(&a.text, clear.condition.span.start, clear.condition.span.end),
            |c| c.condition_text.clone(),
        );
        out.push_str(&format!(
            " Once firing, it stays firing until an evaluation where `{c}` is true for its series, even when \
             `{condition}` is false."
        ));
    }
    if let Some(keep) = &t.keep_firing_for {
        let d = ms_of(keep).map_or_else(|| written(a, keep), format_duration);
        if t.clear_when.is_some() {
            out.push_str(&format!(" Then it keeps firing for {d} more."));
        } else {
            out.push_str(&format!(" Once firing, it stays firing until `{condition}` has been false for {d}."));
        }
    }
    if let Some(on) = &t.on_no_data {
        out.push_str(match on.policy {
            NoDataPolicy::Keep => {
                " An evaluation with no data (no metric it reads has a sample) keeps its state, and its timers pause."
            }
            NoDataPolicy::Fire => " An evaluation with no data (no metric it reads has a sample) counts as true.",
            NoDataPolicy::Clear => " An evaluation with no data (no metric it reads has a sample) counts as false.",
        });
    }
    out.push_str(&match &t.target {
        AstTarget::Level { number, .. } => format!(" Then it starts {}.", title_of(a, &written(a, number))),
        AstTarget::Notify { channel, message, .. } => {
            format!(" Then it notifies `{}`: {}.", channel.name, snippet(&a.text, message.span.start, message.span.end))
        }
    });
    if let Some(p) = a.plan().and_then(|p| p.trigger(name)) {
        use super::engine::Shape;
        let by = match &p.shape {
            Shape::Labels(l) => Some(format!("per series by ({})", l.join(", "))),
            Shape::PerSeries => Some("per series".to_string()),
            Shape::Scalar | Shape::Single => None,
        };
        if let Some(by) = by {
            out.push_str(&format!(" It holds {by}: one alert, and one run, per series."));
        }
        if let Some(alert) = &p.alert {
            out.push_str(&format!(" Its alert is `{alert}`."));
        }
    }
    out.push_str(&format!("\n\nEvaluated every {every}."));
    Some(out)
}

fn ordinal(n: u64) -> String {
    let suffix = match (n % 10, n % 100) {
        (1, x) if x != 11 => "st",
        (2, x) if x != 12 => "nd",
        (3, x) if x != 13 => "rd",
        _ => "th",
    };
    format!("{n}{suffix}")
}
