//! Exports: a plan written for another system. Today: Prometheus alerting rules.
//!
//! `prometheus_rules` turns the triggers whose metrics are all declared with `promql` into one alerting-rule
//! group: the group is named after the runbook, evaluated at its interval, and limited to the runbook's
//! `max series` (Prometheus's rule `limit`); each trigger becomes an alert named after it (or its
//! `alert "Name"`), with its condition (`promql`, per series, see [`promql`]), hold (`for`,
//! `keep_firing_for`), labels saying where it came from plus the trigger's own, and annotations (the
//! trigger's, with `${labels.NAME}` and `${value}` as Prometheus templates). A trigger that cannot be
//! expressed is listed in [`RulesExport::skipped`] with the reason, never dropped silently.
//! docs/export.md is the reference.

mod forms;
mod promql;
mod selector;

pub use promql::{Translator, Unexpressible};
pub use selector::is_plain_selector;

use std::collections::BTreeMap;

use serde::Serialize;

use crate::eval::PromVersion;
use crate::plan::{Plan, Target, Template, TemplatePart, Trigger, Variable, format_duration};

/// Label naming the runbook an alert came from.
pub const LABEL_RUNBOOK: &str = "ripcord_runbook";
/// Label naming the level a trigger starts.
pub const LABEL_LEVEL: &str = "ripcord_level";
/// Label naming the channel of a notification-only trigger.
pub const LABEL_NOTIFY: &str = "ripcord_notify";
/// Annotation holding the trigger's condition as ripcord writes it.
pub const ANNOTATION_CONDITION: &str = "ripcord_condition";
/// Labels and annotations with this prefix are export's own: a trigger may not set them.
const OWN_PREFIX: &str = "ripcord_";

/// The rule file, and what was left out of it.
#[derive(Clone, Debug, PartialEq)]
pub struct RulesExport {
    /// The rule file: YAML with one group, possibly with no rules.
    pub yaml: String,
    /// The rules in the file, in plan order.
    pub rules: Vec<Rule>,
    /// Triggers that are not in the file, with why.
    pub skipped: Vec<Skipped>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Skipped {
    pub trigger: String,
    pub reason: Unexpressible,
}

#[derive(Serialize)]
struct RuleFile<'a> {
    groups: [Group<'a>; 1],
}

#[derive(Serialize)]
struct Group<'a> {
    name: &'a str,
    interval: String,
    /// Prometheus drops every alert of a rule whose evaluation has more than this many, as a trigger over
    /// `max series` fails its evaluation in ripcord.
    limit: u32,
    rules: &'a [Rule],
}

/// One alerting rule, in Prometheus's rule-file shape.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Rule {
    pub alert: String,
    pub expr: String,
    #[serde(rename = "for", skip_serializing_if = "Option::is_none")]
    pub for_: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub keep_firing_for: Option<String>,
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
}

/// The triggers of `plan` as a Prometheus alerting-rule group for a Prometheus `version` server: its alerts
/// fire, for each series, at the evaluations where `simulate` under `version` fires for that series.
///
/// The rule text is the same for 2 and 3: every boundary the versions disagree on (the lookback, the
/// left end of `[w]` and of a subquery `[w:step]`, `rate`'s clamp, `avg_over_time`'s rounding) is one the
/// simulation under that version draws where that server does, so one translation matches both; the
/// header names the version the rules were checked against.
pub fn prometheus_rules(plan: &Plan, version: PromVersion) -> RulesExport {
    let translator = Translator::new(plan);
    let mut rules = Vec::new();
    let mut skipped = Vec::new();
    for trigger in &plan.triggers {
        match rule(plan, &translator, trigger) {
            Ok(r) => rules.push(r),
            Err(reason) => skipped.push(Skipped { trigger: trigger.name.clone(), reason }),
        }
    }
    let file = RuleFile {
        groups: [Group {
            name: &plan.runbook,
            interval: format_duration(plan.evaluation_interval_ms.max(1)),
            limit: plan.max_series,
            rules: &rules,
        }],
    };
    // Plain or quoted scalars only: a folded block (`>`) reads back the same only if no line of it starts
    // with a space, and a query's string literals may hold any spacing.
    let options = serde_saphyr::ser_options! { prefer_block_scalars: false };
    let body = serde_saphyr::to_string_with_options(&file, options).unwrap_or_default();
    let yaml = format!(
        "# Prometheus alerting rules exported by `ripcord export prometheus-rules` from runbook `{}`.\n\
         # For Prometheus {version}: they fire where `ripcord simulate --prometheus-version {version}` fires.\n\
         # Generated: edit the runbook, not this file.\n{body}",
        plan.runbook
    );
    RulesExport { yaml, rules, skipped }
}

/// One trigger's alerting rule.
fn rule(plan: &Plan, translator: &Translator<'_>, trigger: &Trigger) -> Result<Rule, Unexpressible> {
    let mut labels = BTreeMap::new();
    labels.insert(LABEL_RUNBOOK.to_string(), plan.runbook.clone());
    let summary = match &trigger.target {
        Target::Level { level } => {
            labels.insert(LABEL_LEVEL.to_string(), level.to_string());
            let title =
                plan.level(*level).and_then(|l| l.title.as_deref()).map(|t| format!(" \"{t}\"")).unwrap_or_default();
            escape_template(&format!("runbook {}: {} starts level {level}{title}", plan.runbook, trigger.name))
        }
        Target::Notify { channel, message } => {
            labels.insert(LABEL_NOTIFY.to_string(), channel.clone());
            go_template(message, plan, trigger)
        }
    };
    // The trigger's labels join export's; never silently over them (nor over `alertname`, which
    // Prometheus sets from the rule's name).
    for (name, value) in &trigger.labels {
        if name.starts_with(OWN_PREFIX) || name == "alertname" {
            return Err(Unexpressible::LabelClash(name.clone()));
        }
        // Rule labels are templates in Prometheus too.
        labels.insert(name.clone(), escape_template(value));
    }
    let mut annotations = BTreeMap::new();
    annotations.insert("summary".to_string(), summary);
    annotations.insert(ANNOTATION_CONDITION.to_string(), escape_template(&trigger.condition_text));
    // The trigger's annotations; its own `summary` replaces the one export writes.
    for (name, template) in &trigger.annotations {
        if name.starts_with(OWN_PREFIX) {
            return Err(Unexpressible::AnnotationClash(name.clone()));
        }
        annotations.insert(name.clone(), go_template(template, plan, trigger));
    }
    let alert = trigger.alert.clone().unwrap_or_else(|| trigger.name.clone());
    let firing = forms::firing(plan, translator, trigger, &alert, &labels)?;
    Ok(Rule {
        alert,
        expr: firing.expr,
        for_: (firing.for_ms > 0).then(|| format_duration(firing.for_ms)),
        keep_firing_for: (firing.keep_firing_for_ms > 0).then(|| format_duration(firing.keep_firing_for_ms)),
        labels,
        annotations,
    })
}

/// A runbook template as a Prometheus (Go) template for an alert of `trigger`: `${labels.NAME}` is
/// `{{ $labels.NAME }}` and `${value}` `{{ $value }}`, which Prometheus fills per alert; `${trigger}`,
/// `${runbook}` and (for a level) `${level}` are known now and written as text. The rest have no value in
/// an alert and render empty, as they do for a notification in ripcord (`${env.NAME}` is ripcord's
/// environment, which Prometheus does not have).
fn go_template(template: &Template, plan: &Plan, trigger: &Trigger) -> String {
    let mut out = String::new();
    let mut text = String::new();
    let flush = |text: &mut String, out: &mut String, action_follows: bool| {
        out.push_str(&escape_literal(text, action_follows));
        text.clear();
    };
    for part in &template.parts {
        let action = match part {
            TemplatePart::Text(t) => {
                text.push_str(t);
                continue;
            }
            TemplatePart::Var(Variable::Value) => "{{ $value }}".to_string(),
            TemplatePart::Var(Variable::Label(name)) => format!("{{{{ $labels.{name} }}}}"),
            TemplatePart::Var(Variable::Trigger) => {
                text.push_str(&trigger.name);
                continue;
            }
            TemplatePart::Var(Variable::Runbook) => {
                text.push_str(&plan.runbook);
                continue;
            }
            TemplatePart::Var(Variable::Level) => {
                if let Target::Level { level } = trigger.target {
                    text.push_str(&level.to_string());
                }
                continue;
            }
            TemplatePart::Var(_) => continue,
        };
        flush(&mut text, &mut out, true);
        out.push_str(&action);
    }
    flush(&mut text, &mut out, false);
    out
}

/// Text that Prometheus's Go templates (annotations and labels are templates) print as it is: a literal
/// `{{` is written as the action `{{ "{{" }}`.
fn escape_template(text: &str) -> String {
    escape_literal(text, false)
}

/// [`escape_template`] for text that an action (`{{ ... }}`) may follow at once: then a last `{` would make
/// `{{{`, which opens the action one brace early, so it is written as `{{ "{" }}`.
fn escape_literal(text: &str, action_follows: bool) -> String {
    let escaped = text.replace("{{", "{{ \"{{\" }}");
    match escaped.strip_suffix('{') {
        Some(rest) if action_follows => format!("{rest}{{{{ \"{{\" }}}}"),
        _ => escaped,
    }
}

#[cfg(test)]
mod forms_tests;
#[cfg(test)]
mod promql_tests;

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "a failing unwrap is a failing test")]
mod tests {
    use super::*;

    #[derive(serde::Deserialize)]
    struct File {
        groups: Vec<G>,
    }
    #[derive(serde::Deserialize)]
    struct G {
        name: String,
        interval: String,
        rules: Vec<R>,
    }
    #[derive(serde::Deserialize, Debug)]
    struct R {
        alert: String,
        expr: String,
        #[serde(rename = "for")]
        for_: Option<String>,
        keep_firing_for: Option<String>,
        labels: BTreeMap<String, String>,
        annotations: BTreeMap<String, String>,
    }

    fn export(text: &str) -> (RulesExport, File) {
        let plan = crate::compile(text).plan.unwrap();
        let out = prometheus_rules(&plan, PromVersion::V3);
        let file: File = serde_saphyr::from_str(&out.yaml).unwrap_or_else(|e| panic!("{e}\n{}", out.yaml));
        (out, file)
    }

    #[test]
    fn a_group_per_runbook_and_an_alert_per_trigger() {
        let (out, file) = export(
            r#"runbook shop {
  evaluate every 30s
  channel ops webhook "https://h/ops"
  metric err = promql `sum(rate(http_requests_total{code=~"5..", path='/a"b'}[1m])) # ratio`
  trigger hot: err > 5% for 1m keep firing for 2m -> level 1
  trigger flaky: err > 1% for 3 consecutive -> notify ops "err {{ is }} ${value} on ${trigger} ${env.X}"
  trigger undeclared: nope > 1 -> level 1
  level 1 "Roll {{back}}" { step shell "true" }
}"#,
        );
        assert_eq!(file.groups.len(), 1);
        let g = &file.groups[0];
        assert_eq!((g.name.as_str(), g.interval.as_str()), ("shop", "30s"));
        assert_eq!(g.rules.len(), 2);
        let hot = &g.rules[0];
        assert_eq!(hot.alert, "hot");
        assert_eq!(hot.expr, "(sum(rate(http_requests_total{code=~\"5..\", path='/a\"b'}[1m])) # ratio\n) > 0.05");
        assert_eq!(hot.for_.as_deref(), Some("1m"));
        assert_eq!(hot.keep_firing_for.as_deref(), Some("2m"));
        assert_eq!(hot.labels["ripcord_runbook"], "shop");
        assert_eq!(hot.labels["ripcord_level"], "1");
        assert_eq!(hot.annotations["summary"], "runbook shop: hot starts level 1 \"Roll {{ \"{{\" }}back}}\"");
        assert_eq!(hot.annotations["ripcord_condition"], "err > 0.05");
        let flaky = &g.rules[1];
        assert_eq!(flaky.for_.as_deref(), Some("1m"), "3 consecutive at 30s is 2 intervals");
        assert_eq!(flaky.keep_firing_for, None);
        assert_eq!(flaky.labels["ripcord_notify"], "ops");
        assert!(!flaky.labels.contains_key("ripcord_level"));
        assert_eq!(flaky.annotations["summary"], "err {{ \"{{\" }} is }} {{ $value }} on flaky ");
        assert_eq!(out.skipped.len(), 1);
        assert_eq!(out.skipped[0].trigger, "undeclared");
    }

    #[test]
    fn a_runbook_without_exportable_triggers_is_an_empty_group() {
        let (out, file) = export("runbook quiet {\n level 1 { step shell \"true\" }\n}\n");
        assert!(out.rules.is_empty());
        assert_eq!(file.groups[0].rules.len(), 0);
        assert_eq!(file.groups[0].interval, "15s");
    }

    #[test]
    fn one_consecutive_and_for_zero_have_no_for() {
        let (_, file) = export(
            "runbook r {\n metric x = promql \"x\"\n x > 1 for 1 consecutive -> level 1\n x > 2 for 0s -> level 1\n level 1 { step shell \"true\" }\n}\n",
        );
        assert!(file.groups[0].rules.iter().all(|r| r.for_.is_none()), "{:?}", file.groups[0].rules);
    }
}
