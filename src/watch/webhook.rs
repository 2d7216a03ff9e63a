//! The Alertmanager webhook (v4): its body read into [`WebhookAlert`]s ([`parse_webhook`], refusing a
//! malformed body with a reason), and the bounded memory of the firings already answered ([`Deliveries`]), so
//! that Alertmanager's repeated deliveries of one firing start one run, while the same alert firing again
//! later (a new incident, a new `startsAt`) starts another. An alert's labels (but `alertname` and ripcord's
//! own `ripcord_runbook` and `ripcord_level`) are the labels of the run it starts. Used by `api` only.

use std::collections::HashMap;

use serde_json::Value;

use crate::export::{LABEL_LEVEL, LABEL_RUNBOOK};
use crate::plan::Labels;

/// Whether an alert fires or has resolved.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AlertStatus {
    Firing,
    Resolved,
}

/// One alert of a webhook body, as far as `watch` reads it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WebhookAlert {
    pub status: AlertStatus,
    /// The `ripcord_runbook` label (empty when absent).
    pub runbook: String,
    /// The `ripcord_level` label as written (empty when absent).
    pub level_label: String,
    /// The level, when the label is a number.
    pub level: Option<u32>,
    /// Alertmanager's fingerprint, or `runbook/level` when it sent none.
    pub fingerprint: String,
    /// When this firing began (`startsAt`, as sent): with the fingerprint, it names one firing.
    pub starts_at: String,
    /// The `summary` annotation (empty when absent).
    pub summary: String,
    /// The labels the run carries: the alert's, but `alertname`, `ripcord_runbook` and `ripcord_level`
    /// (what names the alert and routes it here, not the series it is about).
    pub labels: Labels,
}

impl WebhookAlert {
    /// What names one firing of one alert: repeated deliveries of it share this; a later firing does not.
    pub fn firing_key(&self) -> (String, String) {
        (self.fingerprint.clone(), self.starts_at.clone())
    }
}

fn text<'a>(v: &'a Value, name: &str) -> Option<&'a str> {
    v.get(name).and_then(Value::as_str)
}

/// Reads a webhook body. Every alert must say whether it fires (its `status`, or the group's) and when it
/// began (`startsAt`); the `Err` says what is missing, for a 400 answer.
pub fn parse_webhook(body: &str) -> Result<Vec<WebhookAlert>, String> {
    let v: Value = serde_json::from_str(body).map_err(|e| format!("the body is not JSON: {e}"))?;
    if !v.is_object() {
        return Err("the body is not a JSON object (an Alertmanager webhook message)".into());
    }
    let group_status = text(&v, "status");
    let alerts = v.get("alerts").and_then(Value::as_array).ok_or("the body has no `alerts` array")?;
    let mut out = Vec::with_capacity(alerts.len());
    for (i, a) in alerts.iter().enumerate() {
        let n = i + 1;
        let status = match text(a, "status").or(group_status) {
            Some("firing") => AlertStatus::Firing,
            Some("resolved") => AlertStatus::Resolved,
            Some(other) => return Err(format!("alert {n}: `status` is `{other}`, not `firing` or `resolved`")),
            None => return Err(format!("alert {n} has no `status` (`firing` or `resolved`), nor has the message")),
        };
        let starts_at = text(a, "startsAt").filter(|s| !s.is_empty()).ok_or_else(|| {
            format!("alert {n} has no `startsAt`: without it one firing cannot be told from the next")
        })?;
        let labels = a.get("labels");
        let label = |k: &str| labels.and_then(|l| text(l, k)).unwrap_or_default().to_string();
        let (runbook, level_label) = (label(LABEL_RUNBOOK), label(LABEL_LEVEL));
        let run_labels = Labels::from_pairs(
            labels
                .and_then(Value::as_object)
                .into_iter()
                .flatten()
                .filter(|(k, _)| !matches!(k.as_str(), "alertname" | LABEL_RUNBOOK | LABEL_LEVEL))
                .filter_map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_string()))),
        );
        let fingerprint =
            text(a, "fingerprint").map(str::to_string).unwrap_or_else(|| format!("{runbook}/{level_label}"));
        let summary = a.get("annotations").and_then(|n| text(n, "summary")).unwrap_or_default().to_string();
        out.push(WebhookAlert {
            status,
            level: level_label.trim().parse().ok(),
            runbook,
            level_label,
            fingerprint,
            starts_at: starts_at.to_string(),
            summary,
            labels: run_labels,
        });
    }
    Ok(out)
}

/// How long a resolved firing is remembered: a firing delivery that arrives late (after its resolution) is
/// still a duplicate. An hour is many times Alertmanager's default `group_interval` (5m).
pub const KEEP_RESOLVED_MS: i64 = 60 * 60 * 1000;
/// How long a firing not delivered again is remembered. Alertmanager repeats a firing every
/// `repeat_interval` (default 4h), and each delivery renews the entry; a firing silent for a day has ended
/// without its resolution being sent (`send_resolved: false`).
pub const KEEP_SILENT_MS: i64 = 24 * 60 * 60 * 1000;
/// The most firings remembered; beyond it the one heard of least recently is forgotten.
pub const MAX_REMEMBERED: usize = 10_000;

#[derive(Clone, Copy, Debug)]
struct Entry {
    last_seen_ms: i64,
    resolved_ms: Option<i64>,
}

/// The firings that already started a run (or are starting one), keyed by fingerprint and `startsAt`.
///
/// INVARIANT: at most [`MAX_REMEMBERED`] entries; an entry lives [`KEEP_RESOLVED_MS`] after its resolution
/// and [`KEEP_SILENT_MS`] after its last delivery.
#[derive(Debug, Default)]
pub struct Deliveries {
    entries: HashMap<(String, String), Entry>,
}

impl Deliveries {
    /// Claims `key` for a run: `true` when it is new (now remembered), `false` for a repeated delivery.
    pub fn claim(&mut self, key: (String, String), now_ms: i64) -> bool {
        self.expire(now_ms);
        if let Some(e) = self.entries.get_mut(&key) {
            e.last_seen_ms = now_ms;
            return false;
        }
        if self.entries.len() >= MAX_REMEMBERED
            && let Some(oldest) = self.entries.iter().min_by_key(|(_, e)| e.last_seen_ms).map(|(k, _)| k.clone())
        {
            self.entries.remove(&oldest);
        }
        self.entries.insert(key, Entry { last_seen_ms: now_ms, resolved_ms: None });
        true
    }

    /// Forgets a claim whose run did not start, so that the next delivery tries again.
    pub fn forget(&mut self, key: &(String, String)) {
        self.entries.remove(key);
    }

    /// Notes that the firing `key` resolved: it is forgotten [`KEEP_RESOLVED_MS`] later.
    pub fn resolved(&mut self, key: &(String, String), now_ms: i64) {
        if let Some(e) = self.entries.get_mut(key) {
            e.resolved_ms.get_or_insert(now_ms);
        }
        self.expire(now_ms);
    }

    /// How many firings are remembered.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether none is.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    fn expire(&mut self, now_ms: i64) {
        self.entries.retain(|_, e| match e.resolved_ms {
            Some(r) => now_ms.saturating_sub(r) < KEEP_RESOLVED_MS,
            None => now_ms.saturating_sub(e.last_seen_ms) < KEEP_SILENT_MS,
        });
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "a failing unwrap is a failing test")]
mod tests {
    use super::*;

    fn key(f: &str, s: &str) -> (String, String) {
        (f.to_string(), s.to_string())
    }

    #[test]
    fn one_firing_is_claimed_once_and_a_new_firing_again() {
        let mut d = Deliveries::default();
        assert!(d.claim(key("fp", "t1"), 0));
        assert!(!d.claim(key("fp", "t1"), 1000));
        assert!(d.claim(key("fp", "t2"), 2000), "the same alert firing again is a new firing");
    }

    #[test]
    fn entries_expire_after_resolution_and_silence_and_are_capped() {
        let mut d = Deliveries::default();
        d.claim(key("a", "t"), 0);
        d.resolved(&key("a", "t"), 10);
        assert!(!d.claim(key("a", "t"), KEEP_RESOLVED_MS - 1), "a late delivery is still a duplicate");
        d.claim(key("b", "t"), 0);
        d.claim(key("c", "t"), KEEP_RESOLVED_MS + 10);
        assert_eq!(d.len(), 2, "the resolved one expired");
        d.claim(key("d", "t"), KEEP_SILENT_MS + 1);
        assert_eq!(d.len(), 2, "the silent one expired");
        for i in 0..MAX_REMEMBERED + 5 {
            d.claim(key(&i.to_string(), "t"), KEEP_SILENT_MS + 2 + i as i64);
        }
        assert_eq!(d.len(), MAX_REMEMBERED);
    }

    #[test]
    fn malformed_bodies_are_refused_with_a_reason() {
        assert!(parse_webhook("[]").unwrap_err().contains("not a JSON object"));
        assert!(parse_webhook("{}").unwrap_err().contains("no `alerts`"));
        assert!(parse_webhook(r#"{"alerts":[{"startsAt":"x"}]}"#).unwrap_err().contains("no `status`"));
        assert!(parse_webhook(r#"{"alerts":[{"status":"firing"}]}"#).unwrap_err().contains("no `startsAt`"));
        assert!(parse_webhook(r#"{"alerts":[{"status":"maybe","startsAt":"x"}]}"#).unwrap_err().contains("`maybe`"));
        let a = parse_webhook(r#"{"status":"resolved","alerts":[{"startsAt":"x","labels":{"ripcord_level":"2"}}]}"#)
            .unwrap();
        assert_eq!((a[0].status, a[0].level, a[0].fingerprint.as_str()), (AlertStatus::Resolved, Some(2), "/2"));
    }

    #[test]
    fn an_alerts_labels_but_its_name_and_routing_are_the_runs() {
        let body = r#"{"status":"firing","alerts":[{"startsAt":"x","labels":{"alertname":"DiskFull",
            "ripcord_runbook":"disk","ripcord_level":"1","instance":"a","mountpoint":"/"}}]}"#;
        let a = parse_webhook(body).unwrap();
        assert_eq!(a[0].labels.to_string(), r#"{instance="a", mountpoint="/"}"#);
    }
}
