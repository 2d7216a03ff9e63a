rule! {
    /// ## What it does
    /// Checks for allow comments (`# ripcord: allow(RC801)`) that give no reason after the parenthesis.
    /// An allow without a reason suppresses nothing.
    ///
    /// ## Why is this bad?
    /// An allow comment overrides a check that exists because the pattern is usually a mistake. The next
    /// person to edit the runbook needs to know why it is not one here, or they cannot tell whether the
    /// exception still holds after their change. Requiring a reason keeps allows rare and reviewable.
    ///
    /// ## Example
    /// ```runbook
    /// runbook api {
    ///   # ripcord: allow(trigger-without-for)
    ///   trigger corrupt: checksum_failures > 2 -> level 1
    ///   level 1 "Restore" {
    ///     approval required
    ///     step shell "./restore" timeout 1m
    ///     step verify checksum_failures < 1 within 5m
    ///   }
    /// }
    /// ```
    ///
    /// ## Use instead
    /// ```runbook
    /// runbook api {
    ///   # ripcord: allow(trigger-without-for) a corrupt file does not heal itself; level 1 waits for approval
    ///   trigger corrupt: checksum_failures > 2 -> level 1
    ///   level 1 "Restore" {
    ///     approval required
    ///     step shell "./restore" timeout 1m
    ///     step verify checksum_failures < 1 within 5m
    ///   }
    /// }
    /// ```
    name: "allow-without-reason",
    severity: Error,
    check: None,
}
