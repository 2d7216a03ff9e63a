//! The execution plan: the typed, serialisable IR that every consumer reads (simulate, run, watch, lint,
//! export). It holds only resolved facts: names are checked, defaults are filled in and marked, durations
//! are milliseconds, conditions are typed trees, interpolations are parsed into parts.
//!
//! INVARIANT: a `Plan` is only built by `analyze::analyze` from a runbook with no errors, so consumers never
//! re-check what analysis guarantees (every level a trigger or escalation names exists, no cycles, ...).

mod condition;
mod in_a_row;
mod labels;
mod mermaid;
mod reads;
pub mod request;
mod shape;
pub mod shell;
mod template;
mod text;
mod threshold;
pub mod timing;

pub use condition::{ArithOp, CmpOp, Condition, Matching, Value, WindowFunc};
pub use in_a_row::InARow;
pub use labels::Labels;
pub use mermaid::render_mermaid;
pub use reads::Reads;
pub use shape::{Join, OpKind, Shape, Shapes, every_label, join, joined, no_label};
pub use template::{Bindings, Template, TemplatePart, Variable};
pub use text::render_text;
pub use threshold::Threshold;

use serde::{Deserialize, Serialize};

/// Bumped whenever the plan's serialised shape changes incompatibly.
pub const PLAN_FORMAT: u32 = 1;

/// Defaults, in one place so that docs, plans and the interpreter agree.
pub mod defaults {
    pub const EVALUATION_INTERVAL_MS: u64 = 15_000;
    pub const SHELL_TIMEOUT_MS: u64 = 300_000;
    pub const HTTP_TIMEOUT_MS: u64 = 30_000;
    pub const NOTIFY_TIMEOUT_MS: u64 = 10_000;
    pub const FILE_TIMEOUT_MS: u64 = 60_000;
    pub const VERIFY_WITHIN_MS: u64 = 60_000;
    pub const VERIFY_EVERY_MS: u64 = 5_000;
    pub const RETRY_BACKOFF_MS: u64 = 1_000;
    pub const MAX_ATTEMPTS: u32 = 1;
    pub const HTTP_EXPECT: u16 = 200;
    /// Runs of one level for different label sets at once (`max parallel`): one, as before series had
    /// labels, so that an automatic action never fans out over a fleet unless the author says so.
    pub const MAX_PARALLEL: u32 = 1;
    /// Series one trigger may have at an evaluation (`max series`), Prometheus's rule `limit`.
    pub const MAX_SERIES: u32 = 1000;
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    pub format: u32,
    pub runbook: String,
    pub description: Option<String>,
    pub owner: Option<String>,
    pub evaluation_interval_ms: u64,
    /// Whether `evaluate every` was left to its default.
    pub evaluation_interval_default: bool,
    pub files_under: Vec<String>,
    pub channels: Vec<Channel>,
    pub metrics: Vec<Metric>,
    pub triggers: Vec<Trigger>,
    pub levels: Vec<Level>,
    /// Every escalation edge (`on failure escalate level M`), from lower to higher as written.
    pub escalations: Vec<Escalation>,
    /// The most series one trigger may have at an evaluation (`max series N`); beyond it the trigger's
    /// evaluation fails, as a Prometheus rule over its `limit` does.
    #[serde(default = "default_max_series")]
    pub max_series: u32,
    /// Whether `max series` was left to its default (true in a plan written before `max series` existed).
    #[serde(default = "yes")]
    pub max_series_default: bool,
}

fn default_max_series() -> u32 {
    defaults::MAX_SERIES
}

fn default_max_parallel() -> u32 {
    defaults::MAX_PARALLEL
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Channel {
    pub name: String,
    pub kind: ChannelKind,
    pub url: Option<Template>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChannelKind {
    /// Built in: writes to the run's log and journal.
    Log,
    /// A Slack-compatible JSON webhook.
    Webhook,
}

/// A metric a condition reads: declared with a PromQL query, or only named (then it reads the input series
/// of the same name in simulation and tests, and has no live source).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Metric {
    pub name: String,
    pub promql: Option<String>,
    /// How many series the query gives, as far as its text tells (see [`Shape`]).
    #[serde(default)]
    pub shape: Shape,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Trigger {
    pub name: String,
    /// True for the anonymous form, named `trigger_N` by position.
    pub generated_name: bool,
    /// The condition in canonical text (percentages and durations as plain numbers).
    pub condition_text: String,
    pub condition: Condition,
    pub hold: Hold,
    pub keep_firing_for_ms: u64,
    pub target: Target,
    /// The metrics the condition reads, sorted.
    pub metrics: Vec<String>,
    /// How many series the condition can hold for (one alert, and one run, per series).
    #[serde(default)]
    pub shape: Shape,
    /// `alert "Name"`: the exported alert's name, when it must differ from the trigger's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alert: Option<String>,
    /// `labels { name "value" ... }`: added to every series' labels (export, notify, the API), sorted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub labels: Vec<(String, String)>,
    /// `annotations { name "text" ... }`, in written order; `${labels.NAME}` and `${value}` are filled per
    /// series.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub annotations: Vec<(String, Template)>,
    /// `clear when C`: once firing, a series stays firing until an evaluation where C holds for it (instead
    /// of until the condition is false); `keep firing for` counts from that evaluation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clear_when: Option<ClearWhen>,
    /// `on no data keep | fire | clear`: what an evaluation where every metric the condition reads has no
    /// value does.
    #[serde(default, skip_serializing_if = "NoData::is_default")]
    pub on_no_data: NoData,
}

/// A trigger's `clear when` condition.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ClearWhen {
    /// The condition in canonical text, as `condition_text`.
    pub condition_text: String,
    pub condition: Condition,
    /// The metrics it reads, sorted.
    pub metrics: Vec<String>,
}

/// What an evaluation with no data at all does to a trigger (`on no data ...`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NoData {
    /// The state stays as it is and its timers do not advance; the evaluation does not count in a window.
    Keep,
    /// The evaluation counts as true.
    Fire,
    /// The evaluation counts as false (the default, and Prometheus's behaviour).
    #[default]
    Clear,
}

impl NoData {
    pub fn is_default(&self) -> bool {
        *self == NoData::Clear
    }

    pub fn as_str(self) -> &'static str {
        match self {
            NoData::Keep => "keep",
            NoData::Fire => "fire",
            NoData::Clear => "clear",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Hold {
    /// `for D` (0 when absent: fires at the first true evaluation).
    For { ms: u64 },
    /// `for N consecutive` evaluations.
    Consecutive { evaluations: u32 },
    /// `for N of M`: firing while at least `n` of the last `m` evaluations (this one included) were true.
    OfLast { n: u32, m: u32 },
}

/// The largest `M` of `for N of M` (the window is kept as a bit mask).
pub const MAX_OF_LAST: u32 = 128;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Target {
    Level { level: u32 },
    Notify { channel: String, message: Template },
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Level {
    /// `L1`, `L2`, ...
    pub id: String,
    pub number: u32,
    pub title: Option<String>,
    pub deadline_ms: Option<u64>,
    pub approval_required: bool,
    pub cooldown_ms: u64,
    pub max_attempts: u32,
    pub on_failure: OnFailure,
    /// `max parallel N`: runs of this level for different label sets at once.
    #[serde(default = "default_max_parallel")]
    pub max_parallel: u32,
    pub steps: Vec<Step>,
    /// Options that came from defaults rather than the runbook (`deadline`, `cooldown`, ...).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub defaulted: Vec<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OnFailure {
    Escalate { level: u32 },
    Abort,
    Continue,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Escalation {
    pub from: u32,
    pub to: u32,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Step {
    /// `L1.S2`; children of a parallel group `L3.S3.1`.
    pub id: String,
    pub action: Action,
    /// Milliseconds the step may run before it is stopped (for verify steps: its `within`).
    pub timeout_ms: u64,
    pub retries: u32,
    pub backoff_ms: u64,
    pub idempotent: bool,
    /// Settings that came from defaults rather than the runbook, by name (`timeout`, `retry`, ...).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub defaulted: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Action {
    Shell {
        command: Template,
    },
    Http {
        method: String,
        url: Template,
        headers: Vec<(String, Template)>,
        body: Option<Template>,
        expect: u16,
    },
    Snapshot {
        path: String,
    },
    Restore {
        path: String,
        from: RestoreSource,
    },
    /// `consecutive` (every verify form): checks in a row that must pass (`for N consecutive`; 1 without).
    VerifyCondition {
        condition_text: String,
        condition: Condition,
        every_ms: u64,
        #[serde(default = "one", skip_serializing_if = "is_one")]
        consecutive: u32,
    },
    VerifyShell {
        command: Template,
        every_ms: u64,
        #[serde(default = "one", skip_serializing_if = "is_one")]
        consecutive: u32,
    },
    VerifyHttp {
        method: String,
        url: Template,
        expect: u16,
        every_ms: u64,
        #[serde(default = "one", skip_serializing_if = "is_one")]
        consecutive: u32,
    },
    Wait {
        ms: u64,
    },
    Notify {
        channel: String,
        message: Template,
    },
    Parallel {
        steps: Vec<Step>,
    },
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RestoreSource {
    /// The newest snapshot of the same path in the state dir.
    Snapshot,
    Path(String),
}

impl Action {
    /// Every template the action renders (command, URL, headers, body, message), in order; a parallel
    /// group's children are separate steps and not included.
    pub fn templates(&self) -> Vec<&Template> {
        match self {
            Action::Shell { command } | Action::VerifyShell { command, .. } => vec![command],
            Action::Http { url, headers, body, .. } => {
                let mut out = vec![url];
                out.extend(headers.iter().map(|(_, v)| v));
                out.extend(body.iter());
                out
            }
            Action::VerifyHttp { url, .. } => vec![url],
            Action::Notify { message, .. } => vec![message],
            Action::Snapshot { .. }
            | Action::Restore { .. }
            | Action::VerifyCondition { .. }
            | Action::Wait { .. }
            | Action::Parallel { .. } => Vec::new(),
        }
    }

    /// The labels the action's templates name (`${labels.NAME}`), in order of first use.
    pub fn labels_used(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for t in self.templates() {
            for part in &t.parts {
                if let TemplatePart::Var(Variable::Label(name)) = part
                    && !out.contains(&name.as_str())
                {
                    out.push(name);
                }
            }
        }
        out
    }

    /// The step kind as the language spells it (`verify` for every verify form).
    pub fn kind(&self) -> &'static str {
        match self {
            Action::Shell { .. } => "shell",
            Action::Http { .. } => "http",
            Action::Snapshot { .. } => "snapshot",
            Action::Restore { .. } => "restore",
            Action::VerifyCondition { .. } | Action::VerifyShell { .. } | Action::VerifyHttp { .. } => "verify",
            Action::Wait { .. } => "wait",
            Action::Notify { .. } => "notify",
            Action::Parallel { .. } => "parallel",
        }
    }
}

impl Plan {
    pub fn level(&self, number: u32) -> Option<&Level> {
        self.levels.iter().find(|l| l.number == number)
    }

    pub fn trigger(&self, name: &str) -> Option<&Trigger> {
        self.triggers.iter().find(|t| t.name == name)
    }

    /// Every step of every level, parallel children included, in plan order.
    pub fn all_steps(&self) -> Vec<&Step> {
        fn walk<'a>(steps: &'a [Step], out: &mut Vec<&'a Step>) {
            for s in steps {
                out.push(s);
                if let Action::Parallel { steps } = &s.action {
                    walk(steps, out);
                }
            }
        }
        let mut out = Vec::new();
        for level in &self.levels {
            walk(&level.steps, &mut out);
        }
        out
    }

    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).unwrap_or_default();
        s.push('\n');
        s
    }

    pub fn to_yaml(&self) -> String {
        serde_saphyr::to_string(self).unwrap_or_default()
    }
}

/// A duration in milliseconds in the form a person reads it (`1h30m`, `250ms`, `0s`).
pub fn format_duration(ms: u64) -> String {
    if ms == 0 {
        return "0s".to_string();
    }
    let mut out = String::new();
    let mut rest = ms;
    for (unit, size) in
        [("w", 604_800_000), ("d", 86_400_000), ("h", 3_600_000), ("m", 60_000), ("s", 1_000), ("ms", 1)]
    {
        if rest >= size {
            out.push_str(&format!("{}{unit}", rest / size));
            rest %= size;
        }
    }
    out
}

/// A number the way the plan prints it: shortest form that reads back exactly.
pub fn format_number(v: f64) -> String {
    if v.is_nan() {
        return "NaN".to_string();
    }
    if v.is_infinite() {
        return if v > 0.0 { "+Inf".to_string() } else { "-Inf".to_string() };
    }
    let s = format!("{v}");
    s
}

fn one() -> u32 {
    1
}

fn is_one(n: &u32) -> bool {
    *n == 1
}

fn yes() -> bool {
    true
}
