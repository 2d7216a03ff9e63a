use crate::ast::StepKind;
use crate::lint::{Context, Violation};

rule! {
    /// ## What it does
    /// Checks for destructive or privileged shell commands in levels that start without `approval required`.
    ///
    /// The commands: `rm -rf` (any spelling of recursive and force), `sudo`, `mkfs`, `dd of=...`,
    /// `DROP TABLE`/`DATABASE`/`SCHEMA`, `TRUNCATE`, `kubectl delete`, `terraform destroy`, `shutdown`,
    /// `reboot` and `poweroff`.
    ///
    /// ## Why is this bad?
    /// These commands cannot be undone by the next step, and a level without approval starts on a trigger
    /// alone: one misfiring metric and the data is gone. A person confirming first is cheap next to that.
    /// `sudo` is also a smell of its own: it may prompt for a password that nobody types, and the step then
    /// hangs until its timeout; give the runner the rights it needs instead.
    ///
    /// ## Example
    /// ```runbook
    /// runbook cache {
    ///   trigger stale: cache_errors > 10% for 5m -> level 1
    ///   level 1 "Flush the cache" {
    ///     step shell "rm -rf /var/cache/app" timeout 1m
    ///     step verify cache_errors < 1% within 5m
    ///   }
    /// }
    /// ```
    ///
    /// ## Use instead
    /// ```runbook
    /// runbook cache {
    ///   trigger stale: cache_errors > 10% for 5m -> level 1
    ///   level 1 "Flush the cache" {
    ///     approval required
    ///     step shell "rm -rf /var/cache/app" timeout 1m
    ///     step verify cache_errors < 1% within 5m
    ///   }
    /// }
    /// ```
    name: "dangerous-shell-without-approval",
    severity: Warning,
    check: Some(check),
}

fn check(cx: &Context<'_>, out: &mut Vec<Violation>) {
    for level in cx.levels.iter().filter(|l| !l.plan.approval_required) {
        for step in &level.steps {
            let Some(ast) = step.ast_step() else { continue };
            let StepKind::Shell(command) = &ast.kind else { continue };
            let Some(what) = dangerous(&command.to_plain()) else { continue };
            let n = level.plan.number;
            out.push(
                Violation::new(
                    command.span,
                    format!("step {} runs `{what}` in level {n}, which starts without approval", step.plan.id),
                )
                .label("cannot be undone by a later step")
                .help(format!("add `approval required` to level {n}, or move the command to a level that has it")),
            );
        }
    }
}

/// The first dangerous command in a shell command line, as a short name.
pub fn dangerous(command: &str) -> Option<&'static str> {
    let lower = command.to_ascii_lowercase();
    for sql in ["drop table", "drop database", "drop schema", "truncate "] {
        if lower.contains(sql) {
            return Some(if sql.starts_with("drop") { "DROP" } else { "TRUNCATE" });
        }
    }
    let words: Vec<&str> = lower
        .split(|c: char| c.is_whitespace() || matches!(c, ';' | '&' | '|' | '(' | ')' | '`' | '"' | '\''))
        .filter(|w| !w.is_empty())
        .collect();
    for (i, word) in words.iter().enumerate() {
        let program = word.rsplit('/').next().unwrap_or(word);
        let rest = &words[i + 1..];
        match program {
            "sudo" => return Some("sudo"),
            "shutdown" | "reboot" | "poweroff" => return Some("shutdown"),
            "rm" => {
                let flags: Vec<&&str> = rest.iter().take_while(|w| w.starts_with('-')).collect();
                let short = |c: char| flags.iter().any(|f| !f.starts_with("--") && f.contains(c));
                let long = |name: &str| flags.iter().any(|f| **f == name);
                let recursive = short('r') || long("--recursive");
                let force = short('f') || long("--force");
                if recursive && force {
                    return Some("rm -rf");
                }
            }
            "dd" if rest.iter().any(|w| w.starts_with("of=")) => return Some("dd"),
            "kubectl" if rest.first().is_some_and(|w| *w == "delete") || rest.contains(&"delete") => {
                return Some("kubectl delete");
            }
            "terraform" if rest.contains(&"destroy") => return Some("terraform destroy"),
            p if p == "mkfs" || p.starts_with("mkfs.") => return Some("mkfs"),
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::dangerous;

    #[test]
    fn spots_destructive_commands() {
        assert_eq!(dangerous("rm -rf /var/cache/app"), Some("rm -rf"));
        assert_eq!(dangerous("rm -r -f /tmp/x"), Some("rm -rf"));
        assert_eq!(dangerous("/bin/rm --recursive --force /x"), Some("rm -rf"));
        assert_eq!(dangerous("sudo systemctl restart app"), Some("sudo"));
        assert_eq!(dangerous("psql -c 'DROP TABLE orders'"), Some("DROP"));
        assert_eq!(dangerous("kubectl -n x delete pod api-0"), Some("kubectl delete"));
        assert_eq!(dangerous("dd if=/dev/zero of=/dev/sda"), Some("dd"));
        assert_eq!(dangerous("mkfs.ext4 /dev/sdb1"), Some("mkfs"));
    }

    #[test]
    fn leaves_ordinary_commands_alone() {
        assert_eq!(dangerous("rm /tmp/lockfile"), None);
        assert_eq!(dangerous("systemctl restart orders-api"), None);
        assert_eq!(dangerous("kubectl --namespace checkout rollout status deployment/checkout-api"), None);
        assert_eq!(dangerous("./scripts/drop-tables-report --dry-run"), None);
        assert_eq!(dangerous("/opt/assistant/bin/cache --flush answers,embeddings"), None);
    }
}
