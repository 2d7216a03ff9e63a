//! `--format sarif`: a SARIF 2.1.0 log for GitHub code scanning and other static-analysis viewers.
//!
//! Plain serde structs for the part of SARIF we write; `tests/lint_cli.rs` validates the output against the
//! official schema. (The serde-sarif crate generates all of SARIF's types from the schema in a build script,
//! with a second `syn` and a builder per type: more to compile on every clean build than these structs.)

use std::collections::BTreeMap;

use serde::Serialize;

use super::Linted;
use crate::diagnostic::{Code, Severity};
use crate::lint::registry::RULES;
use crate::span::LineIndex;

const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

#[derive(Serialize)]
struct Log {
    #[serde(rename = "$schema")]
    schema: &'static str,
    version: &'static str,
    runs: Vec<Run>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Run {
    tool: Tool,
    /// Our columns count characters, not UTF-16 code units (SARIF's default).
    column_kind: &'static str,
    results: Vec<SarifResult>,
}

#[derive(Serialize)]
struct Tool {
    driver: Driver,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Driver {
    name: &'static str,
    version: &'static str,
    semantic_version: &'static str,
    rules: Vec<Descriptor>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Descriptor {
    id: String,
    name: String,
    short_description: Text,
    full_description: Text,
    help: Help,
    default_configuration: Configuration,
}

#[derive(Serialize)]
struct Text {
    text: String,
}

#[derive(Serialize)]
struct Help {
    text: String,
    markdown: String,
}

#[derive(Serialize)]
struct Configuration {
    level: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifResult {
    rule_id: &'static str,
    rule_index: usize,
    level: &'static str,
    message: Text,
    locations: Vec<Location>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Location {
    physical_location: PhysicalLocation,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PhysicalLocation {
    artifact_location: ArtifactLocation,
    region: Region,
}

#[derive(Serialize)]
struct ArtifactLocation {
    uri: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Region {
    start_line: usize,
    start_column: usize,
    end_line: usize,
    end_column: usize,
}

fn level(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
    }
}

/// A path as a URI reference: relative paths stay relative (to the repository root, for code scanning),
/// absolute ones become `file://` URIs; anything outside the unreserved set is percent-encoded.
fn uri(path: &str) -> String {
    let path = path.replace('\\', "/");
    let mut out = String::with_capacity(path.len() + 8);
    if path.starts_with('/') {
        out.push_str("file://");
    }
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn lint_descriptor(e: &crate::lint::Entry) -> Descriptor {
    let doc = e.rule.doc();
    Descriptor {
        id: e.code.to_string(),
        name: e.rule.name.to_string(),
        short_description: Text { text: e.rule.summary() },
        full_description: Text { text: e.rule.section("What it does").unwrap_or_else(|| e.rule.summary()) },
        help: Help { text: doc.replace("```runbook\n", "").replace("```\n", ""), markdown: doc },
        default_configuration: Configuration { level: level(e.rule.severity) },
    }
}

fn compile_descriptor(code: Code) -> Descriptor {
    let summary = code.summary();
    let more = format!(
        "{summary}. docs/language.md, section 10, lists every compile diagnostic; `ripcord check` explains each one."
    );
    Descriptor {
        id: code.as_str().to_string(),
        name: crate::lint::code_name(code),
        short_description: Text { text: summary.to_string() },
        full_description: Text { text: summary.to_string() },
        help: Help { text: more.clone(), markdown: more },
        default_configuration: Configuration { level: level(code.severity()) },
    }
}

pub fn render_sarif(files: &[Linted]) -> String {
    let mut rules: Vec<Descriptor> = RULES.iter().map(lint_descriptor).collect();
    let mut index: BTreeMap<&str, usize> = RULES.iter().enumerate().map(|(i, e)| (e.code, i)).collect();
    let mut results = Vec::new();
    for file in files {
        let lines = LineIndex::new(&file.text);
        for f in &file.findings {
            let rule_index = match index.get(f.code) {
                Some(i) => *i,
                None => {
                    let Some(code) = Code::ALL.iter().find(|c| c.as_str() == f.code) else { continue };
                    rules.push(compile_descriptor(*code));
                    index.insert(f.code, rules.len() - 1);
                    rules.len() - 1
                }
            };
            let (start, end) = (lines.position(f.span.start), lines.position(f.span.end));
            let mut message = f.message.clone();
            if let Some(help) = &f.help {
                message.push_str(&format!(" (help: {help})"));
            }
            results.push(SarifResult {
                rule_id: f.code,
                rule_index,
                level: level(f.severity),
                message: Text { text: message },
                locations: vec![Location {
                    physical_location: PhysicalLocation {
                        artifact_location: ArtifactLocation { uri: uri(&file.path) },
                        region: Region {
                            start_line: start.line,
                            start_column: start.column,
                            end_line: end.line,
                            end_column: end.column,
                        },
                    },
                }],
            });
        }
    }
    let log = Log {
        schema: SCHEMA,
        version: "2.1.0",
        runs: vec![Run {
            tool: Tool {
                driver: Driver {
                    name: "ripcord",
                    version: env!("CARGO_PKG_VERSION"),
                    semantic_version: env!("CARGO_PKG_VERSION"),
                    rules,
                },
            },
            column_kind: "unicodeCodePoints",
            results,
        }],
    };
    let mut out = serde_json::to_string_pretty(&log).unwrap_or_default();
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::uri;

    #[test]
    fn paths_become_uri_references() {
        assert_eq!(uri("runbooks/api.runbook"), "runbooks/api.runbook");
        assert_eq!(uri("/srv/run books/a.runbook"), "file:///srv/run%20books/a.runbook");
        assert_eq!(uri("dir\\a.runbook"), "dir/a.runbook");
    }
}
