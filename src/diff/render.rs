//! The changes for a person (one line each) and for tools (`{"changes":[...]}`).

use serde::Serialize;

use super::Change;

/// One line per change, in the diff's order (grouped by runbook, channel, metric, trigger, level).
pub fn render_text(changes: &[Change]) -> String {
    let mut out = String::new();
    for c in changes {
        out.push_str(&c.summary);
        out.push('\n');
    }
    out
}

#[derive(Serialize)]
struct Json<'a> {
    changes: &'a [Change],
}

/// `{"changes":[{"scope":..,"name":..,"field":..,"old":..,"new":..,"summary":..}]}` and a newline.
pub fn render_json(changes: &[Change]) -> String {
    let mut s = serde_json::to_string(&Json { changes }).unwrap_or_default();
    s.push('\n');
    s
}
