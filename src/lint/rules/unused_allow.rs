rule! {
    /// ## What it does
    /// Checks for allow comments that allow nothing.
    ///
    /// That is: a rule that reports nothing on the line the comment covers, a code or name that is not a
    /// lint rule, a compile diagnostic (those cannot be allowed: fix the runbook), or a `# ripcord:` comment
    /// that is not `allow(RULE, ...) reason`.
    ///
    /// An allow covers its own line when it follows code, and the next line with code when it stands on a
    /// line of its own. Rules turned off in `ripcord.toml` are not reported here.
    ///
    /// ## Why is this bad?
    /// A stale allow stays after the problem it excused was fixed, and silently excuses the next problem of
    /// that kind on the same line. A misspelled one excuses nothing while looking like it does.
    ///
    /// ## Example
    /// ```runbook
    /// runbook api {
    ///   # ripcord: allow(step-without-timeout) the rollback script has its own timeout
    ///   trigger errors: error_rate > 5% for 1m -> level 1
    ///   level 1 "Rollback" {
    ///     step shell "./rollback" timeout 30s
    ///     step verify error_rate < 1% within 2m
    ///   }
    /// }
    /// ```
    ///
    /// ## Use instead
    /// ```runbook
    /// runbook api {
    ///   trigger errors: error_rate > 5% for 1m -> level 1
    ///   level 1 "Rollback" {
    ///     step shell "./rollback" timeout 30s
    ///     step verify error_rate < 1% within 2m
    ///   }
    /// }
    /// ```
    name: "unused-allow",
    severity: Warning,
    check: None,
}
