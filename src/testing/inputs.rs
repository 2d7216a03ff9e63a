//! A test's inputs, checked against the plan: its `input_series` (promtool notation, each series a metric
//! name with optional labels, `disk{instance="a"}`, read by the series readers' one label parser; only
//! metrics the runbook reads, within the sample budget) and its `approve` decisions.

use std::collections::{BTreeMap, HashMap};

use serde_saphyr::Spanned;

use super::schema::InputSeries;
use super::spec::Checker;
use crate::diagnostic::{Code, did_you_mean};
use crate::simulate::Approval;
use crate::source::{
    Item, MAX_SAMPLES, Series, SeriesSet, TimeBase, bad_labels, expand_values, parse_series_name, series_name,
};
use crate::yaml::{Scalar, span_of};

impl Checker<'_> {
    pub(super) fn approvals(&mut self, approve: &HashMap<Spanned<String>, Spanned<String>>) -> BTreeMap<u32, Approval> {
        let mut entries: Vec<_> = approve.iter().collect();
        entries.sort_by_key(|(k, _)| span_of(k, self.text).start);
        let mut out = BTreeMap::new();
        for (key, value) in entries {
            let level = match key.value.trim().trim_start_matches(['L', 'l']).parse::<u32>() {
                Ok(n) => self.level(&Spanned { value: n, referenced: key.referenced, defined: key.defined }),
                Err(_) => {
                    self.error(
                        Code::SeriesValue,
                        span_of(key, self.text),
                        format!("`{}` is not a level number", key.value.trim()),
                        "write `approve: {2: deny}` or `approve: {2: after 5m}`",
                    );
                    None
                }
            };
            let v = value.value.trim();
            let decision = match v {
                "deny" | "denied" => Some(Approval::Deny),
                "approve" | "approved" | "now" => Some(Approval::After(0)),
                _ => match v.strip_prefix("after").map(|d| d.trim_start_matches(':').trim()) {
                    Some(d) => self
                        .duration(
                            &Spanned { value: d.to_string(), referenced: value.referenced, defined: value.defined },
                            "how long after the level starts it is approved",
                        )
                        .map(Approval::After),
                    None => {
                        self.error(
                            Code::SeriesValue,
                            span_of(value, self.text),
                            format!("`{v}` is not an approval decision"),
                            "write `deny`, `approve` (at once) or `after 5m`",
                        );
                        None
                    }
                },
            };
            if let (Some(level), Some(decision)) = (level, decision)
                && out.insert(level, decision).is_some()
            {
                self.error(
                    Code::SeriesValue,
                    span_of(key, self.text),
                    format!("level {level} is decided twice"),
                    "give one decision per level",
                );
            }
        }
        out
    }

    pub(super) fn series(&mut self, input: &Option<InputSeries>, interval_ms: u64) -> SeriesSet {
        let mut set = SeriesSet { series: BTreeMap::new(), time_base: TimeBase::Seconds };
        let Some(input) = input else { return set };
        let mut read = Vec::new();
        for t in &self.plan.triggers {
            t.condition.metrics(&mut read);
        }
        for s in self.plan.all_steps() {
            if let crate::plan::Action::VerifyCondition { condition, .. } = &s.action {
                condition.metrics(&mut read);
            }
        }
        let mut budget_left = MAX_SAMPLES as u64;
        let interval = i64::try_from(interval_ms).unwrap_or(i64::MAX);
        for (name, values) in &input.0 {
            let name = Scalar::new(self.text, name);
            let name_span = name.span;
            let (metric, labels) = match parse_series_name(name.value) {
                Ok(parsed) => parsed,
                Err(e) => {
                    self.problems.push(bad_labels(e, |s, e| name.part(s, e)));
                    continue;
                }
            };
            let metric = metric.as_ref();
            if set.get(metric, &labels).is_some() {
                self.error(
                    Code::SeriesSyntax,
                    name_span,
                    format!("the series `{}` is given twice", series_name(metric, &labels)),
                    "give each series (a metric name and its labels) once",
                );
                continue;
            }
            if !read.iter().any(|m| m == metric) {
                let mut known: Vec<&str> = read.iter().map(String::as_str).collect();
                known.sort_unstable();
                known.dedup();
                let help = match did_you_mean(metric, known.iter().copied()) {
                    Some(suggestion) => suggestion,
                    None if known.is_empty() => "the runbook reads no metrics".to_string(),
                    None => format!("the runbook reads {}", known.join(", ")),
                };
                self.error(
                    Code::SeriesUnknownMetric,
                    name_span,
                    format!("no trigger or verify step of runbook `{}` reads `{metric}`", self.plan.runbook),
                    help,
                );
                continue;
            }
            let values = Scalar::new(self.text, values);
            let mut budget = |n: u64, s: usize, e: usize| {
                if n > budget_left {
                    return Err(crate::source::ExpandError {
                        start: s,
                        end: e,
                        message: format!("a test's series may hold at most {MAX_SAMPLES} samples"),
                    });
                }
                budget_left -= n;
                Ok(())
            };
            let items = match expand_values(values.value, &mut budget) {
                Ok(items) => items,
                Err(e) => {
                    self.error(
                        Code::SeriesValue,
                        values.part(e.start, e.end),
                        e.message,
                        "promtool notation: `1 2 3`, `1+1x3` (1 2 3 4), `5x2` (5 5 5), `_` missing, `_x3` three missing, `stale`",
                    );
                    continue;
                }
            };
            let mut series = Series { labels, ..Series::default() };
            for (i, item) in items.into_iter().enumerate() {
                if let Item::Value(v) = item {
                    let Some(t) = i64::try_from(i).ok().and_then(|i| i.checked_mul(interval)) else {
                        break;
                    };
                    series.t_ms.push(t);
                    series.v.push(v);
                }
            }
            set.insert(metric.to_string(), series);
        }
        set
    }
}
