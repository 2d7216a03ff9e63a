//! Levels: approval before the first step (given with `--yes`, or by `ripcord approve|deny` through the
//! run store); attempts up to `max attempts`, each running the level's steps in order; the deadline, counted
//! from the first step after approval across attempts; and what a failure does: escalate, abort or continue.
//! A denial stops the run and is never escalated past.

use std::time::Duration;

use tokio::time::Instant;

use super::step::StepResult;
use super::{Interpreter, RunStatus, mutex};
use crate::plan::{Level, OnFailure};
use crate::runs::Event;

/// How often a run waiting for approval looks for a decision.
const APPROVAL_POLL: Duration = Duration::from_millis(100);

/// How one level ended.
enum LevelEnd {
    Succeeded,
    Failed(String),
    Denied(String),
    Interrupted,
    /// A person ended the run (`resume --abort`): not escalated.
    Aborted(String),
}

impl Interpreter {
    /// The levels from `first` on, following escalations. Writes the end record.
    pub(super) async fn run_levels(&self, first: u32) -> RunStatus {
        let mut number = first;
        loop {
            let Some(level) = self.plan.level(number) else {
                let why = format!("level {number} is not in the plan");
                let _ = self.record(Event::End { status: "failed".into(), reason: why.clone() });
                return RunStatus::Failed(why);
            };
            match self.run_level(level).await {
                LevelEnd::Succeeded => {
                    self.progress.line(&format!("level {number} succeeded"));
                    let _ = self.record(Event::End { status: "succeeded".into(), reason: "every step passed".into() });
                    return RunStatus::Succeeded;
                }
                LevelEnd::Failed(why) => match level.on_failure {
                    OnFailure::Escalate { level: to } => {
                        let reason = format!("{why}; on failure escalate level {to}");
                        self.progress.line(&format!("level {number} failed: {reason}"));
                        if !self.earlier.escalations.contains(&(number, to)) {
                            let _ = self.record(Event::Escalate { from: number, to, reason });
                        }
                        number = to;
                    }
                    OnFailure::Abort | OnFailure::Continue => {
                        self.progress.line(&format!("level {number} failed: {why}"));
                        let _ = self.record(Event::End { status: "failed".into(), reason: why.clone() });
                        return RunStatus::Failed(why);
                    }
                },
                LevelEnd::Denied(by) => {
                    let why = format!(
                        "approval of level {number} denied by {by}; the run stops (a refusal is not escalated)"
                    );
                    self.progress.line(&why);
                    let _ = self.record(Event::End { status: "failed".into(), reason: why.clone() });
                    return RunStatus::Failed(why);
                }
                LevelEnd::Interrupted => return RunStatus::Interrupted,
                LevelEnd::Aborted(why) => {
                    self.progress.line(&why);
                    let _ = self.record(Event::End { status: "failed".into(), reason: why.clone() });
                    return RunStatus::Failed(why);
                }
            }
        }
    }

    async fn run_level(&self, level: &Level) -> LevelEnd {
        let n = level.number;
        let title = level.title.as_deref().map(|t| format!(" \"{t}\"")).unwrap_or_default();
        self.progress.line(&format!("level {n}{title} of `{}` (run {})", self.plan.runbook, self.ctx.run_id));
        if level.approval_required {
            match self.approval(level).await {
                Ok(true) => {}
                Ok(false) => {
                    let by = mutex(&self.approvers).get(&n).cloned().unwrap_or_default();
                    if !self.earlier.level_ends.contains(&(n, 1)) {
                        let reason = format!("approval denied by {by}");
                        let _ = self.record(Event::LevelEnd { level: n, attempt: 1, outcome: "denied".into(), reason });
                    }
                    return LevelEnd::Denied(by);
                }
                Err(()) => return LevelEnd::Interrupted,
            }
        }
        let attempts = level.max_attempts.max(1);
        // From the first step after approval, across attempts; a resumed run is charged what it used before.
        let deadline = level.deadline_ms.map(|d| {
            let used = self.earlier.consumed_ms.get(&n).copied().unwrap_or(0);
            Instant::now() + Duration::from_millis(d.saturating_sub(used))
        });
        let mut failure = String::from("the level's deadline passed");
        for attempt in 1..=attempts {
            if deadline.is_some_and(|d| Instant::now() >= d) && attempt > 1 {
                break;
            }
            if !self.earlier.level_starts.contains(&(n, attempt)) {
                let _ = self.record(Event::LevelStart { level: n, attempt });
            }
            if attempts > 1 {
                self.progress.line(&format!("level {n}, attempt {attempt} of {attempts}"));
            }
            let mut failed: Option<String> = None;
            for step in &level.steps {
                match self.step(n, attempt, step, deadline).await {
                    StepResult::Interrupted => return LevelEnd::Interrupted,
                    StepResult::Aborted(why) => {
                        let _ = self.record(Event::LevelEnd {
                            level: n,
                            attempt,
                            outcome: "failed".into(),
                            reason: why.clone(),
                        });
                        return LevelEnd::Aborted(why);
                    }
                    StepResult::Ok => {}
                    StepResult::Failed(why) => {
                        if failed.is_none() {
                            failed = Some(why);
                        }
                        if level.on_failure != OnFailure::Continue || deadline.is_some_and(|d| Instant::now() >= d) {
                            break;
                        }
                    }
                }
            }
            let (outcome, reason) = match &failed {
                None => ("succeeded", "every step passed".to_string()),
                Some(why) => ("failed", why.clone()),
            };
            if !self.earlier.level_ends.contains(&(n, attempt)) {
                let _ = self.record(Event::LevelEnd { level: n, attempt, outcome: outcome.into(), reason });
            }
            match failed {
                None => return LevelEnd::Succeeded,
                Some(why) => {
                    failure = if attempts > 1 { format!("{why} (attempt {attempt} of {attempts})") } else { why };
                }
            }
        }
        LevelEnd::Failed(failure)
    }

    /// Waits for a person. `Ok(approved?)`, or `Err(())` when interrupted while waiting.
    async fn approval(&self, level: &Level) -> Result<bool, ()> {
        let n = level.number;
        if let Some((approved, by)) = self.earlier.approvals.get(&n) {
            mutex(&self.approvers).insert(n, by.clone());
            return Ok(*approved);
        }
        let decided = |approved: bool, operator: String, via: &str| {
            mutex(&self.approvers).insert(n, operator.clone());
            self.progress
                .line(&format!("level {n} {} by {operator} ({via})", if approved { "approved" } else { "denied" }));
            let _ = self.record(Event::Approval { level: n, approved, operator, via: via.into() });
            approved
        };
        if self.ctx.yes {
            return Ok(decided(true, self.ctx.operator.clone(), "--yes"));
        }
        if !self.earlier.waiting.contains(&n) {
            let _ = self.record(Event::WaitingApproval { level: n });
        }
        self.progress.line(&format!(
            "level {n} requires approval: `ripcord approve {id} --operator NAME` (or `ripcord deny {id} --operator NAME`)",
            id = self.ctx.run_id
        ));
        loop {
            if let Some(d) = self.ctx.state.read_decision(&self.ctx.run_id, n) {
                let via = if d.approved { "approve" } else { "deny" };
                return Ok(decided(d.approved, d.operator, via));
            }
            tokio::select! {
                _ = self.interrupted() => return Err(()),
                _ = tokio::time::sleep(APPROVAL_POLL) => {}
            }
        }
    }
}
