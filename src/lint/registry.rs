//! The one table of lint rules: code -> rule.
//!
//! INVARIANT: a code, once published, keeps its meaning forever. Never reuse or renumber a code; retire a
//! rule by leaving its line here with a note. Lint codes are RC8xx; the compiler's codes (RC0xx-RC4xx) are
//! in `diagnostic/codes.rs`, and the tests check that the two never overlap.
//!
//! Adding a rule: a file in `rules/` declared with `rule!` (name, default severity, the four doc sections,
//! the check), a line here with the next free code, `tests/lint/<rule-name>/bad.runbook` and `good.runbook`,
//! then `RIPCORD_BLESS=1 cargo test --test lint` to write its snapshot and docs/lints.md.

use super::Rule;
use super::rules::*;

/// A rule and the code it is published under.
#[derive(Debug)]
pub struct Entry {
    pub code: &'static str,
    pub rule: &'static Rule,
}

/// Every lint rule, by code.
pub static RULES: &[Entry] = &[
    Entry { code: "RC801", rule: &trigger_without_for::RULE },
    Entry { code: "RC802", rule: &step_without_timeout::RULE },
    Entry { code: "RC803", rule: &restore_without_snapshot::RULE },
    Entry { code: "RC804", rule: &plain_http_url::RULE },
    Entry { code: "RC805", rule: &unreachable_level::RULE },
    Entry { code: "RC806", rule: &level_without_verify::RULE },
    Entry { code: "RC807", rule: &destructive_level_without_approval::RULE },
    Entry { code: "RC808", rule: &unbounded_retries::RULE },
    Entry { code: "RC809", rule: &deadline_shorter_than_steps::RULE },
    Entry { code: "RC810", rule: &contradicting_triggers::RULE },
    Entry { code: "RC811", rule: &unused_metric::RULE },
    Entry { code: "RC812", rule: &unused_channel::RULE },
    Entry { code: "RC813", rule: &verify_never_true::RULE },
    Entry { code: "RC814", rule: &secret_in_step::RULE },
    Entry { code: "RC815", rule: &step_longer_than_deadline::RULE },
    Entry { code: "RC816", rule: &escalation_to_lower_level::RULE },
    Entry { code: "RC817", rule: &retry_without_idempotent::RULE },
    Entry { code: "RC818", rule: &verify_checks_only_once::RULE },
    Entry { code: "RC819", rule: &trigger_never_fires::RULE },
    Entry { code: "RC820", rule: &dangerous_shell_without_approval::RULE },
    Entry { code: "RC821", rule: &allow_without_reason::RULE },
    Entry { code: "RC822", rule: &unused_allow::RULE },
    Entry { code: "RC823", rule: &per_series_level_without_labels::RULE },
    Entry { code: "RC824", rule: &label_the_series_lacks::RULE },
    Entry { code: "RC825", rule: &clear_without_hysteresis::RULE },
    Entry { code: "RC826", rule: &fire_on_no_data_without_for::RULE },
    Entry { code: "RC827", rule: &verify_in_a_row_cannot_pass::RULE },
    Entry { code: "RC828", rule: &verify_in_a_row_rereads_a_sample::RULE },
];

/// A rule by its code (`RC801`, any case) or its name (`trigger-without-for`).
pub fn find(code_or_name: &str) -> Option<&'static Entry> {
    let key = code_or_name.trim();
    RULES.iter().find(|e| e.code.eq_ignore_ascii_case(key) || e.rule.name == key)
}

/// The entry of a rule declared in `rules/`.
pub fn entry_of(rule: &Rule) -> Option<&'static Entry> {
    RULES.iter().find(|e| e.rule.name == rule.name)
}
