//! Triggers: names (given or generated), conditions and the series they hold for, targets, and what their
//! alerts carry (`alert`, `labels`, `annotations`). Holds are in `hold.rs`; `clear when` and `on no data`
//! in `clear.rs`.

use std::collections::BTreeMap;

use super::Analyzer;
use super::text::Interp;
use crate::ast::{self, Target, TriggerAttr};
use crate::diagnostic::{Code, Diagnostic};
use crate::plan;
use crate::span::Span;

impl Analyzer<'_> {
    pub(super) fn triggers(&mut self, triggers: &[&ast::Trigger], interval_ms: u64) -> Vec<plan::Trigger> {
        let mut names: BTreeMap<String, Span> = BTreeMap::new();
        let mut out = Vec::new();
        for (i, t) in triggers.iter().enumerate() {
            let (name, name_span, generated) = match &t.name {
                Some(n) => (n.name.clone(), n.span, false),
                None => (format!("trigger_{}", i + 1), t.condition.span, true),
            };
            if let Some(first) = names.get(&name) {
                let first = *first;
                self.push(
                    Diagnostic::new(Code::DuplicateTrigger, name_span, format!("trigger `{name}` is declared twice"))
                        .label("second declaration")
                        .related(first, "first declared here")
                        .help(if generated {
                            "an unnamed trigger is called `trigger_N` by its position; rename the named one".to_string()
                        } else {
                            "give each trigger its own name".to_string()
                        }),
                );
                continue;
            }
            names.insert(name.clone(), name_span);
            if let Some(trigger) = self.trigger(t, name, generated, interval_ms) {
                out.push(trigger);
            }
        }
        out
    }

    fn trigger(&mut self, t: &ast::Trigger, name: String, generated: bool, interval_ms: u64) -> Option<plan::Trigger> {
        let condition = self.condition(&t.condition);
        let hold = self.hold(t.hold.as_ref(), interval_ms);
        let clear_when = match &t.clear_when {
            Some(clear) => {
                let cond = condition.as_ref().map(|(c, s)| (c, s));
                self.clear_when(clear, cond, t.condition.span).map(Some)
            }
            None => Some(None),
        };
        let read = condition.as_ref().map(|(c, _)| {
            let mut metrics = Vec::new();
            c.metrics(&mut metrics);
            metrics
        });
        let on_no_data = self.on_no_data(t.on_no_data.as_ref(), read.as_deref());
        let keep = match &t.keep_firing_for {
            Some(q) => self.duration(q, "`keep firing for`"),
            None => Some(0),
        };
        let target = match &t.target {
            Target::Level { number, .. } => {
                let level = self.count(number, "a level number", 1, super::level::MAX_LEVEL);
                match level {
                    Some(n) if !self.levels.contains_key(&n) => {
                        let help = self.level_help(n);
                        self.push(
                            Diagnostic::new(
                                Code::UnknownLevel,
                                number.span,
                                format!("trigger `{name}` targets level {n}, which is not declared"),
                            )
                            .label("no such level")
                            .help(help),
                        );
                        None
                    }
                    Some(n) => Some(plan::Target::Level { level: n }),
                    None => None,
                }
            }
            Target::Notify { channel, message, .. } => {
                let known = self.use_channel(channel);
                let message = self.template(message, Interp::Any, "a message");
                known.then(|| plan::Target::Notify { channel: channel.name.clone(), message })
            }
        };
        let attrs = self.trigger_attrs(t.attrs.as_ref());
        let ((condition, shape), hold, keep_firing_for_ms, target) = (condition?, hold?, keep?, target?);
        let clear_when = clear_when?;
        let (alert, labels, annotations) = attrs?;
        let mut metrics = Vec::new();
        condition.metrics(&mut metrics);
        metrics.sort();
        metrics.dedup();
        Some(plan::Trigger {
            name,
            generated_name: generated,
            condition_text: condition.to_string(),
            condition,
            hold,
            keep_firing_for_ms,
            target,
            metrics,
            shape,
            alert,
            labels,
            annotations,
            clear_when,
            on_no_data,
        })
    }

    /// A trigger's `{ alert ... labels { } annotations { } }`: the alert name, the labels sorted by name,
    /// the annotations in written order; `None` after an error.
    #[expect(clippy::type_complexity, reason = "the three parts of plan::Trigger, filled in one place")]
    fn trigger_attrs(
        &mut self,
        attrs: Option<&ast::TriggerAttrs>,
    ) -> Option<(Option<String>, Vec<(String, String)>, Vec<(String, plan::Template)>)> {
        let Some(attrs) = attrs else {
            return Some((None, Vec::new(), Vec::new()));
        };
        let errors = self.error_count();
        let mut seen: BTreeMap<&'static str, Span> = BTreeMap::new();
        let (mut alert, mut labels, mut annotations) = (None, Vec::new(), Vec::new());
        for item in &attrs.items {
            let word = item.keyword();
            if let Some(first) = seen.get(word) {
                self.push(
                    Diagnostic::new(
                        Code::DuplicateTriggerAttribute,
                        item.span(),
                        format!("`{word}` is given twice in one trigger"),
                    )
                    .label("second one here")
                    .related(*first, "first given here")
                    .help(match item {
                        TriggerAttr::Alert { .. } => "keep one `alert` name".to_string(),
                        _ => format!("put every entry in one `{word} {{ ... }}`"),
                    }),
                );
                continue;
            }
            seen.insert(word, item.span());
            match item {
                TriggerAttr::Alert { name, .. } => alert = self.alert_name(name),
                TriggerAttr::Labels { entries, .. } => {
                    self.no_repeated_names(entries, "label");
                    for e in entries {
                        if let Some(value) = self.label_value(e) {
                            labels.push((e.name.name.clone(), value));
                        }
                    }
                    labels.sort();
                }
                TriggerAttr::Annotations { entries, .. } => {
                    self.no_repeated_names(entries, "annotation");
                    for e in entries {
                        let what = format!("annotation `{}`", e.name.name);
                        annotations.push((e.name.name.clone(), self.template(&e.value, Interp::Alert, &what)));
                    }
                }
            }
        }
        (self.error_count() == errors).then_some((alert, labels, annotations))
    }

    /// `alert "Name"`: a Prometheus alert name (`[a-zA-Z_][a-zA-Z0-9_]*`).
    fn alert_name(&mut self, name: &ast::Text) -> Option<String> {
        let text = self.plain(name, "an alert name");
        let valid = text.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
            && text.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !valid {
            let suggestion: String =
                text.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '_' }).collect::<String>();
            let suggestion = if suggestion.starts_with(|c: char| c.is_ascii_digit()) || suggestion.is_empty() {
                format!("_{suggestion}")
            } else {
                suggestion
            };
            self.push(
                Diagnostic::new(Code::InvalidAlertName, name.span, format!("`{text}` is not a Prometheus alert name"))
                    .label("letters, digits and `_` only, not starting with a digit")
                    .help(format!("write `alert \"{suggestion}\"`; Prometheus alert names follow its metric names")),
            );
            return None;
        }
        Some(text)
    }

    /// A label's value: plain text, the same for every series; and a name Prometheus leaves to users.
    fn label_value(&mut self, e: &ast::LabelEntry) -> Option<String> {
        let name = &e.name.name;
        if name.starts_with("__") || name == "alertname" {
            let why = if name == "alertname" {
                "Prometheus sets `alertname` to the alert's name; write `alert \"...\"` to choose it"
            } else {
                "labels starting with `__` are Prometheus's own; choose a name without the leading `__`"
            };
            self.push(
                Diagnostic::new(Code::ReservedLabelName, e.name.span, format!("label `{name}` is reserved"))
                    .label("reserved label name")
                    .help(why),
            );
            return None;
        }
        if let Some(span) = e.value.parts.iter().find_map(|p| match p {
            ast::TextPart::Interpolation { span, .. } => Some(*span),
            _ => None,
        }) {
            self.push(
                Diagnostic::new(Code::InterpolationNotAllowed, span, "interpolation is not allowed in a label value")
                    .label("interpolation here")
                    .help(
                        "a trigger's labels are the same for every series, and each series keeps its own labels; \
                         put `${labels.NAME}` or `${value}` in an annotation instead",
                    ),
            );
            return None;
        }
        Some(self.plain(&e.value, "a label value"))
    }

    /// Reports a name given twice in one `labels { }` or `annotations { }`.
    fn no_repeated_names(&mut self, entries: &[ast::LabelEntry], what: &str) {
        for (i, e) in entries.iter().enumerate() {
            if let Some(first) = entries[..i].iter().find(|f| f.name.name == e.name.name) {
                self.push(
                    Diagnostic::new(
                        Code::DuplicateAlertLabel,
                        e.name.span,
                        format!("{what} `{}` is given twice", e.name.name),
                    )
                    .label("second one here")
                    .related(first.name.span, "first given here")
                    .help(format!("give each {what} once")),
                );
            }
        }
    }
}
