//! Steps of one level (or one `parallel` group), matched so that an edit reads as the author made it.
//!
//! Step ids are positions (`L1.S3`), so inserting a step renumbers every later one; matching by id would
//! report each of them as changed. Instead the two lists are aligned on what the steps do (longest common
//! subsequence over their actions, ids left out), and between two aligned steps the remaining ones are
//! paired in order when they are of the same kind (a changed command), the rest added or removed.

use std::mem::discriminant;

use super::describe::{self, is_verify, quoted};
use super::trigger::condition_field;
use super::{Change, Scope};
use crate::plan::{Action, RestoreSource, Step, format_duration};

/// Above this many cells (old steps x new steps) the lists are compared position by position instead.
const MAX_CELLS: usize = 1_000_000;

pub(super) fn diff(old: &[Step], new: &[Step], level: u32, out: &mut Vec<Change>) {
    let old_keys: Vec<String> = old.iter().map(|s| key(&s.action)).collect();
    let new_keys: Vec<String> = new.iter().map(|s| key(&s.action)).collect();
    let anchors = if old.len().saturating_mul(new.len()) <= MAX_CELLS {
        lcs(&old_keys, &new_keys)
    } else {
        (0..old.len().min(new.len())).filter(|&k| old_keys[k] == new_keys[k]).map(|k| (k, k)).collect()
    };
    let (mut i, mut j) = (0, 0);
    for &(ai, aj) in anchors.iter().chain(std::iter::once(&(old.len(), new.len()))) {
        gap(&old[i..ai], &new[j..aj], level, out);
        if ai < old.len() && aj < new.len() {
            pair(&old[ai], &new[aj], level, out);
        }
        (i, j) = (ai + 1, aj + 1);
    }
}

/// Steps between two aligned ones: same-kind steps paired in order, the others removed or added.
fn gap(old: &[Step], new: &[Step], level: u32, out: &mut Vec<Change>) {
    let mut partner: Vec<Option<usize>> = vec![None; new.len()];
    let mut next = 0;
    let mut removed = Vec::new();
    for (i, o) in old.iter().enumerate() {
        match (next..new.len()).find(|&j| discriminant(&new[j].action) == discriminant(&o.action)) {
            Some(j) => {
                partner[j] = Some(i);
                next = j + 1;
            }
            None => removed.push(o),
        }
    }
    for o in removed {
        out.push(Change::removed(Scope::Step, &o.id, &label(level, &o.id), describe::step(o)));
    }
    for (j, n) in new.iter().enumerate() {
        match partner[j] {
            Some(i) => pair(&old[i], n, level, out),
            None => out.push(Change::added(Scope::Step, &n.id, &label(level, &n.id), describe::step(n))),
        }
    }
}

fn label(level: u32, id: &str) -> String {
    format!("level {level}: step {id}")
}

/// What a step does, as a comparable key: its action with the ids of nested steps left out.
fn key(action: &Action) -> String {
    serde_json::to_string(&without_ids(action)).unwrap_or_default()
}

fn without_ids(action: &Action) -> Action {
    match action {
        Action::Parallel { steps } => Action::Parallel {
            steps: steps
                .iter()
                .map(|s| Step { id: String::new(), action: without_ids(&s.action), defaulted: Vec::new(), ..s.clone() })
                .collect(),
        },
        other => other.clone(),
    }
}

/// The longest common subsequence of two key lists, as index pairs in order.
fn lcs(a: &[String], b: &[String]) -> Vec<(usize, usize)> {
    let w = b.len() + 1;
    let mut table = vec![0u32; (a.len() + 1) * w];
    for i in (0..a.len()).rev() {
        for j in (0..b.len()).rev() {
            table[i * w + j] = if a[i] == b[j] {
                table[(i + 1) * w + j + 1] + 1
            } else {
                table[(i + 1) * w + j].max(table[i * w + j + 1])
            };
        }
    }
    let (mut i, mut j) = (0, 0);
    let mut out = Vec::new();
    while i < a.len() && j < b.len() {
        if a[i] == b[j] {
            out.push((i, j));
            i += 1;
            j += 1;
        } else if table[(i + 1) * w + j] >= table[i * w + j + 1] {
            i += 1;
        } else {
            j += 1;
        }
    }
    out
}

/// The changes between two matched steps of the same kind.
fn pair(old: &Step, new: &Step, level: u32, out: &mut Vec<Change>) {
    let name = new.id.as_str();
    let prefix =
        if old.id == new.id { label(level, &new.id) } else { format!("{} (was {})", label(level, &new.id), old.id) };
    let mut fields: Vec<(&'static str, String, String)> = Vec::new();
    let mut field = |f: &'static str, a: String, b: String| {
        if a != b {
            fields.push((f, a, b));
        }
    };
    if let (
        Action::VerifyCondition { condition: ca, condition_text: ta, .. },
        Action::VerifyCondition { condition: cb, condition_text: tb, .. },
    ) = (&old.action, &new.action)
        && ca != cb
    {
        field(condition_field(ca, cb), ta.clone(), tb.clone());
    }
    match (&old.action, &new.action) {
        (Action::Shell { command: a }, Action::Shell { command: b })
        | (Action::VerifyShell { command: a, .. }, Action::VerifyShell { command: b, .. }) => {
            field("command", a.to_string(), b.to_string());
        }
        (
            Action::Http { method: ma, url: ua, headers: ha, body: ba, expect: ea },
            Action::Http { method: mb, url: ub, headers: hb, body: bb, expect: eb },
        ) => {
            field("method", ma.clone(), mb.clone());
            field("url", ua.to_string(), ub.to_string());
            field("headers", describe::headers(ha), describe::headers(hb));
            let body =
                |b: &Option<crate::plan::Template>| b.as_ref().map_or_else(|| "(none)".to_string(), |t| t.to_string());
            field("body", body(ba), body(bb));
            field("expect", ea.to_string(), eb.to_string());
        }
        (
            Action::VerifyHttp { method: ma, url: ua, expect: ea, .. },
            Action::VerifyHttp { method: mb, url: ub, expect: eb, .. },
        ) => {
            field("method", ma.clone(), mb.clone());
            field("url", ua.to_string(), ub.to_string());
            field("expect", ea.to_string(), eb.to_string());
        }
        (Action::Snapshot { path: a }, Action::Snapshot { path: b }) => field("path", quoted(a), quoted(b)),
        (Action::Restore { path: pa, from: fa }, Action::Restore { path: pb, from: fb }) => {
            field("path", quoted(pa), quoted(pb));
            let from = |f: &RestoreSource| match f {
                RestoreSource::Snapshot => "snapshot".to_string(),
                RestoreSource::Path(p) => quoted(p),
            };
            field("from", from(fa), from(fb));
        }
        (Action::Wait { ms: a }, Action::Wait { ms: b }) => field("duration", format_duration(*a), format_duration(*b)),
        (Action::Notify { channel: ca, message: ma }, Action::Notify { channel: cb, message: mb }) => {
            field("channel", ca.clone(), cb.clone());
            field("message", ma.to_string(), mb.to_string());
        }
        _ => {}
    }
    if let (Action::Parallel { steps: a }, Action::Parallel { steps: b }) = (&old.action, &new.action) {
        diff(a, b, level, out);
        return;
    }
    if let (Some(a), Some(b)) = (every(&old.action), every(&new.action)) {
        field("every", format_duration(a), format_duration(b));
    }
    if let (Some(a), Some(b)) = (consecutive(&old.action), consecutive(&new.action)) {
        field("for N consecutive", a.to_string(), b.to_string());
    }
    if !matches!(new.action, Action::Wait { .. }) {
        let limit = if is_verify(&new.action) { "within" } else { "timeout" };
        field(limit, format_duration(old.timeout_ms), format_duration(new.timeout_ms));
    }
    field("retry", old.retries.to_string(), new.retries.to_string());
    if old.retries > 0 || new.retries > 0 {
        field("backoff", format_duration(old.backoff_ms), format_duration(new.backoff_ms));
    }
    let yes = |b: bool| if b { "yes" } else { "no" }.to_string();
    field("idempotent", yes(old.idempotent), yes(new.idempotent));
    emit(out, name, &prefix, fields);
}

fn every(action: &Action) -> Option<u64> {
    match action {
        Action::VerifyCondition { every_ms, .. }
        | Action::VerifyShell { every_ms, .. }
        | Action::VerifyHttp { every_ms, .. } => Some(*every_ms),
        _ => None,
    }
}

/// A verify's `for N consecutive` (1 without one).
fn consecutive(action: &Action) -> Option<u32> {
    match action {
        Action::VerifyCondition { consecutive, .. }
        | Action::VerifyShell { consecutive, .. }
        | Action::VerifyHttp { consecutive, .. } => Some(*consecutive),
        _ => None,
    }
}

fn emit(out: &mut Vec<Change>, name: &str, prefix: &str, fields: Vec<(&'static str, String, String)>) {
    for (field, a, b) in fields {
        out.push(Change::changed(Scope::Step, name, prefix, field, a, b));
    }
}
