//! The rules' documentation, from the registry: `ripcord lint --explain` and docs/lints.md.

use super::registry::{self, RULES};
use crate::diagnostic::Severity;

fn severity_word(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
    }
}

/// What `ripcord lint --explain RULE` prints: the rule's code, name, default severity and documentation.
pub fn explain(code_or_name: &str) -> Option<String> {
    let entry = registry::find(code_or_name)?;
    Some(
        format!(
            "{} {} (default severity: {})\n\n{}",
            entry.code,
            entry.rule.name,
            severity_word(entry.rule.severity),
            entry.rule.doc().trim_end()
        ) + "\n",
    )
}

const INTRODUCTION: &str = r#"`ripcord lint PATH...` checks runbooks for operational mistakes: things that compile and mean something,
but are probably not what the authors wanted when the incident comes. It reads every `*.runbook` file under the
paths given. A file that does not compile gets its compile diagnostics (the ones `ripcord check` reports) and no
lint rules; a file that compiles gets its compile warnings and every enabled rule.

```text
ripcord lint runbooks/                              # text, for people
ripcord lint runbooks/ --format json                # one JSON object
ripcord lint runbooks/ --format sarif > lint.sarif  # GitHub code scanning and other SARIF 2.1.0 tools
ripcord lint runbooks/ --format github              # annotations in a GitHub Actions log
ripcord lint --explain RC801                        # a rule's documentation (by code or by name)
```

Exit status: 1 when an error-severity finding remains, 0 otherwise (warnings alone exit 0), 2 for a usage
error (an unknown option or rule, a configuration that does not parse).

## Configuration

`ripcord lint` reads `ripcord.toml` from the current directory when it exists, or the file given with
`--config`. Rules are named by code or by name; each is `"off"`, `"warn"` or `"error"`:

```toml
[rules]
step-without-timeout = "off"
RC809 = "error"
```

An unknown rule, value or key is a usage error, so that a typo never silently leaves a rule on.

## Allow comments

A comment `# ripcord: allow(RC801) reason` allows the named rules (codes or names, separated by commas) on
one line: its own line when it follows code, the next line with code when it stands alone. The reason is
required: an allow without one allows nothing and is itself reported (`allow-without-reason`). An allow that
allows nothing is reported too (`unused-allow`). Compile diagnostics cannot be allowed.

```runbook
runbook api {
  # ripcord: allow(trigger-without-for) one corrupt row is already an incident; level 1 waits for approval
  trigger corrupt: corrupt_rows > 2 -> level 1
  level 1 "Restore" {
    approval required
    step shell "./restore" timeout 1m
    step verify corrupt_rows < 1 within 5m
  }
}
```

## Output formats

- `text`: each finding as `ripcord check` shows a diagnostic, with the code, the source and a help line.
- `json`: `{"findings":[{"path","code","name","severity","message","line","column","end_line","end_column","help"}]}`;
  lines and columns start at 1, columns count characters, the end is exclusive.
- `sarif`: a SARIF 2.1.0 log with one run; `tool.driver.rules` holds every lint rule with its documentation,
  and any compile diagnostic that was reported. Columns are Unicode code points (`columnKind`).
- `github`: one workflow command per finding, `::error file=F,line=L,col=C,endLine=L,endColumn=C,title=RC801 trigger-without-for::message`.

Findings go to stdout in every format.
"#;

/// A summary for the rules table: without the "Checks for" every summary starts with.
fn table_summary(summary: &str) -> String {
    let text = summary.strip_prefix("Checks for ").unwrap_or(summary);
    let mut chars = text.chars();
    let first = chars.next().map(|c| c.to_uppercase().collect::<String>()).unwrap_or_default();
    (first + chars.as_str()).replace('|', "\\|")
}

/// docs/lints.md, generated from the registry.
pub fn lints_markdown() -> String {
    let mut out = String::new();
    out.push_str("# Lint rules\n\n");
    out.push_str(
        "<!-- Generated from src/lint/registry.rs and the rules' doc comments: do not edit by hand.\n     Regenerate with `RIPCORD_BLESS=1 cargo test --test lint`. -->\n\n",
    );
    out.push_str(INTRODUCTION);
    out.push_str("\n## The rules\n\n| code | name | default | flags |\n| --- | --- | --- | --- |\n");
    for e in RULES {
        let anchor = format!("{}-{}", e.code.to_ascii_lowercase(), e.rule.name);
        out.push_str(&format!(
            "| [{code}](#{anchor}) | `{name}` | {sev} | {summary} |\n",
            code = e.code,
            name = e.rule.name,
            sev = severity_word(e.rule.severity),
            summary = table_summary(&e.rule.summary()),
        ));
    }
    for e in RULES {
        out.push_str(&format!("\n## {} {}\n\n", e.code, e.rule.name));
        out.push_str(&format!("Default severity: {}.\n", severity_word(e.rule.severity)));
        let mut in_code = false;
        for line in e.rule.doc().lines() {
            if line.starts_with("```") {
                in_code = !in_code;
            }
            if !in_code && line.starts_with("## ") {
                out.push_str(&format!("\n#{line}\n"));
            } else {
                out.push_str(line);
                out.push('\n');
            }
        }
    }
    let mut tidy = String::with_capacity(out.len());
    let mut blank = false;
    for line in out.lines() {
        let is_blank = line.trim().is_empty();
        if !(is_blank && blank) {
            tidy.push_str(line);
            tidy.push('\n');
        }
        blank = is_blank;
    }
    tidy
}
