//! Strings with `${...}` interpolation, parsed into parts at compile time so that the interpreter never
//! parses text and every variable is known to exist; and [`Bindings`], the values the variables take when
//! a template is filled in (by the interpreter, `run --dry-run` and `watch`).

use std::fmt;

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Template {
    pub parts: Vec<TemplatePart>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TemplatePart {
    Text(String),
    Var(Variable),
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Variable {
    Runbook,
    Level,
    Trigger,
    Value,
    RunId,
    Operator,
    Reason,
    Env(String),
    /// `${labels.NAME}`: a label of the series the run is for (empty when the series lacks it).
    Label(String),
}

impl Variable {
    /// The variables a `${...}` may name (besides `env.NAME`).
    pub const NAMES: &'static [&'static str] =
        &["runbook", "level", "trigger", "value", "run_id", "operator", "reason"];

    pub fn parse(path: &str) -> Option<Variable> {
        Some(match path {
            "runbook" => Variable::Runbook,
            "level" => Variable::Level,
            "trigger" => Variable::Trigger,
            "value" => Variable::Value,
            "run_id" => Variable::RunId,
            "operator" => Variable::Operator,
            "reason" => Variable::Reason,
            _ if path.starts_with("labels.") => {
                let name = &path["labels.".len()..];
                let valid = !name.is_empty()
                    && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                    && !name.starts_with(|c: char| c.is_ascii_digit());
                return valid.then(|| Variable::Label(name.to_string()));
            }
            _ => {
                let name = path.strip_prefix("env.")?;
                let valid = !name.is_empty()
                    && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                    && !name.starts_with(|c: char| c.is_ascii_digit());
                return valid.then(|| Variable::Env(name.to_string()));
            }
        })
    }
}

impl Template {
    pub fn literal(text: impl Into<String>) -> Template {
        Template { parts: vec![TemplatePart::Text(text.into())] }
    }

    pub fn is_literal(&self) -> bool {
        self.parts.iter().all(|p| matches!(p, TemplatePart::Text(_)))
    }

    /// Fills the variables in with `lookup`; a variable it does not know becomes the empty string.
    pub fn render(&self, mut lookup: impl FnMut(&Variable) -> Option<String>) -> String {
        let mut out = String::new();
        for part in &self.parts {
            match part {
                TemplatePart::Text(t) => out.push_str(t),
                TemplatePart::Var(v) => out.push_str(&lookup(v).unwrap_or_default()),
            }
        }
        out
    }
}

/// The values of the `${...}` variables for one rendering. A variable left `None` renders as the empty
/// string; `${env.NAME}` always reads the process environment (empty when unset).
///
/// A run started by hand binds everything but `value` ([`Bindings::manual_run`]); a trigger's notification
/// binds what it knows and leaves the rest `None`:
///
/// ```
/// use ripcord::plan::{Bindings, Template, TemplatePart, Variable};
/// let message = Template {
///     parts: vec![
///         TemplatePart::Var(Variable::Trigger),
///         TemplatePart::Text(" at ".into()),
///         TemplatePart::Var(Variable::Value),
///         TemplatePart::Text(" (run ".into()),
///         TemplatePart::Var(Variable::RunId),
///         TemplatePart::Text(")".into()),
///     ],
/// };
/// let b = Bindings { trigger: Some("high_errors".into()), value: Some("0.2".into()), ..Bindings::default() };
/// assert_eq!(b.render(&message), "high_errors at 0.2 (run )");
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Bindings {
    pub runbook: Option<String>,
    pub level: Option<u32>,
    pub trigger: Option<String>,
    pub value: Option<String>,
    pub run_id: Option<String>,
    pub operator: Option<String>,
    pub reason: Option<String>,
    /// The labels of the series the run is for (none for a run that no series started).
    pub labels: super::Labels,
}

impl Bindings {
    /// A run started by hand (`ripcord run`, the API, or a trigger through the interpreter): `${trigger}` is
    /// `manual` and `${value}` the empty string.
    pub fn manual_run(runbook: &str, level: u32, run_id: &str, operator: &str, reason: &str) -> Bindings {
        Bindings {
            runbook: Some(runbook.to_string()),
            level: Some(level),
            trigger: Some("manual".to_string()),
            value: Some(String::new()),
            run_id: Some(run_id.to_string()),
            operator: Some(operator.to_string()),
            reason: Some(reason.to_string()),
            labels: super::Labels::empty(),
        }
    }

    /// The value of `variable`, if it has one.
    pub fn get(&self, variable: &Variable) -> Option<String> {
        match variable {
            Variable::Runbook => self.runbook.clone(),
            Variable::Level => self.level.map(|l| l.to_string()),
            Variable::Trigger => self.trigger.clone(),
            Variable::Value => self.value.clone(),
            Variable::RunId => self.run_id.clone(),
            Variable::Operator => self.operator.clone(),
            Variable::Reason => self.reason.clone(),
            Variable::Env(name) => std::env::var(name).ok(),
            Variable::Label(name) => Some(self.labels.get(name).unwrap_or_default().to_string()),
        }
    }

    /// The template with its variables filled in.
    pub fn render(&self, template: &Template) -> String {
        template.render(|v| self.get(v))
    }
}

impl fmt::Display for Variable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Variable::Env(name) => write!(f, "env.{name}"),
            Variable::Label(name) => write!(f, "labels.{name}"),
            Variable::Runbook => f.write_str("runbook"),
            Variable::Level => f.write_str("level"),
            Variable::Trigger => f.write_str("trigger"),
            Variable::Value => f.write_str("value"),
            Variable::RunId => f.write_str("run_id"),
            Variable::Operator => f.write_str("operator"),
            Variable::Reason => f.write_str("reason"),
        }
    }
}

/// Writes the template back in the language's string syntax, escapes included.
impl fmt::Display for Template {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("\"")?;
        for part in &self.parts {
            match part {
                TemplatePart::Text(t) => {
                    for c in t.chars() {
                        match c {
                            '"' => f.write_str("\\\"")?,
                            '\\' => f.write_str("\\\\")?,
                            '\n' => f.write_str("\\n")?,
                            '\t' => f.write_str("\\t")?,
                            '$' => f.write_str("\\$")?,
                            c => write!(f, "{c}")?,
                        }
                    }
                }
                TemplatePart::Var(v) => write!(f, "${{{v}}}")?,
            }
        }
        f.write_str("\"")
    }
}
