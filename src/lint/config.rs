//! `ripcord.toml`: which rules run, and how severe their findings are.
//!
//! ```toml
//! [rules]
//! step-without-timeout = "off"   # by name
//! RC809 = "error"                # or by code
//! ```
//!
//! Values are `"off"`, `"warn"` and `"error"`. Unknown rules, unknown values and unknown keys are errors, so
//! that a typo never silently turns a rule back on.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::registry;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Setting {
    Off,
    Warn,
    Error,
}

/// The lint configuration: a setting per rule code; rules not named keep their defaults.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Config {
    rules: BTreeMap<&'static str, Setting>,
}

/// Why a configuration was refused, in one line, with the place when TOML knows it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ConfigError {
    pub message: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    rules: BTreeMap<String, String>,
}

impl Config {
    /// Parses `ripcord.toml`'s text.
    pub fn from_toml(text: &str) -> Result<Config, ConfigError> {
        let file: File = toml::from_str(text).map_err(|e| ConfigError { message: e.to_string().trim().to_string() })?;
        let mut config = Config::default();
        for (key, value) in &file.rules {
            let entry = registry::find(key).ok_or_else(|| {
                let names = registry::RULES.iter().map(|e| e.rule.name);
                let hint = match crate::diagnostic::did_you_mean(key, names) {
                    Some(suggestion) => format!("; {suggestion}"),
                    None => "; docs/lints.md lists every rule".to_string(),
                };
                ConfigError { message: format!("[rules] names `{key}`, which is not a lint rule{hint}") }
            })?;
            let setting = match value.as_str() {
                "off" => Setting::Off,
                "warn" => Setting::Warn,
                "error" => Setting::Error,
                other => {
                    return Err(ConfigError {
                        message: format!("[rules] `{key}` = \"{other}\": write \"off\", \"warn\" or \"error\""),
                    });
                }
            };
            if let Some(previous) = config.rules.insert(entry.code, setting)
                && previous != setting
            {
                return Err(ConfigError {
                    message: format!(
                        "[rules] sets {} ({}) twice, by code and by name, to different values",
                        entry.code, entry.rule.name
                    ),
                });
            }
        }
        Ok(config)
    }

    /// The configured setting for a rule code, if the configuration names it.
    pub fn setting(&self, code: &str) -> Option<Setting> {
        self.rules.get(code).copied()
    }

    /// Sets a rule by code or name (for tests and embedders); `false` when no rule has that name.
    pub fn set(&mut self, rule: &str, setting: Setting) -> bool {
        match registry::find(rule) {
            Some(entry) => {
                self.rules.insert(entry.code, setting);
                true
            }
            None => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_by_name_or_code() {
        let c = Config::from_toml("[rules]\nstep-without-timeout = \"off\"\nRC801 = \"error\"\n").expect("valid");
        assert_eq!(c.setting("RC802"), Some(Setting::Off));
        assert_eq!(c.setting("RC801"), Some(Setting::Error));
        assert_eq!(c.setting("RC803"), None);
    }

    #[test]
    fn typos_are_errors() {
        let e = Config::from_toml("[rules]\nstep-without-timout = \"off\"\n").expect_err("unknown rule");
        assert!(e.message.contains("did you mean `step-without-timeout`"), "{}", e.message);
        let e = Config::from_toml("[rules]\nRC801 = \"warning\"\n").expect_err("bad value");
        assert!(e.message.contains("\"off\", \"warn\" or \"error\""), "{}", e.message);
        let e = Config::from_toml("[rule]\nRC801 = \"off\"\n").expect_err("unknown table");
        assert!(e.message.contains("rule"), "{}", e.message);
        assert!(Config::from_toml("[rules\n").is_err());
    }
}
