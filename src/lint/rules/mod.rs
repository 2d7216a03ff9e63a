//! One file per lint rule, named after the rule. Each declares `RULE` with `rule!`; `registry.rs` gives it a
//! code.

pub mod allow_without_reason;
pub mod clear_without_hysteresis;
pub mod contradicting_triggers;
pub mod dangerous_shell_without_approval;
pub mod deadline_shorter_than_steps;
pub mod destructive_level_without_approval;
pub mod escalation_to_lower_level;
pub mod fire_on_no_data_without_for;
pub mod label_the_series_lacks;
pub mod level_without_verify;
pub mod per_series_level_without_labels;
pub mod plain_http_url;
pub mod restore_without_snapshot;
pub mod retry_without_idempotent;
pub mod secret_in_step;
pub mod step_longer_than_deadline;
pub mod step_without_timeout;
pub mod trigger_never_fires;
pub mod trigger_without_for;
pub mod unbounded_retries;
pub mod unreachable_level;
pub mod unused_allow;
pub mod unused_channel;
pub mod unused_metric;
pub mod verify_checks_only_once;
pub mod verify_in_a_row_cannot_pass;
pub mod verify_in_a_row_rereads_a_sample;
pub mod verify_never_true;
