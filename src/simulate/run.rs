//! Level runs on the simulated clock: which trigger starts which level, approvals, steps with injected
//! failures, retries with exponential backoff, deadlines, `max attempts`, escalation and cooldowns.
//!
//! INVARIANT: nothing here has a side effect. Shell, HTTP, file and notify steps succeed at once unless
//! `--fail` names them; `verify CONDITION` is evaluated on the recorded series through a [`Probe`].

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use super::lanes::series_suffix;
use crate::plan::timing::retry_wait_ms;
use crate::plan::{Action, Condition, Labels, Level, OnFailure, Plan, Step};

/// Answers "does this condition hold at this time, for this run's series?" over the recorded series.
pub trait Probe {
    fn holds(&self, condition: &Condition, t_ms: i64, labels: &Labels) -> bool;
}

/// A trigger's series turning firing at an evaluation: the event that can start or escalate a run.
#[derive(Clone, Debug)]
pub struct Fire {
    pub t_ms: i64,
    pub trigger: String,
    pub level: u32,
    /// The series' labels with the trigger's own (empty for a trigger of one series).
    pub labels: Labels,
}

/// What `--approve LEVEL=...` says for a level that requires approval.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Approval {
    After(u64),
    Deny,
}

#[derive(Clone, Debug, Default)]
pub struct RunOptions {
    /// Step ids that fail (`--fail L1.S2`); naming a parallel group fails the group.
    pub fail: BTreeSet<String>,
    /// Approval decisions by level; a level not named is approved at once.
    pub approvals: BTreeMap<u32, Approval>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum StepOutcome {
    Ok,
    Failed,
    Skipped,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RunOutcome {
    Succeeded,
    Failed,
    Escalated,
}

#[derive(Clone, Debug, PartialEq)]
pub struct StepRecord {
    pub id: String,
    pub kind: &'static str,
    pub t_ms: i64,
    pub end_ms: i64,
    pub outcome: StepOutcome,
    /// The attempt of the level this step ran in (1-based; above 1 only with `max attempts`).
    pub attempt: u32,
    /// Why it failed or how it passed, for the timeline.
    pub detail: String,
}

#[derive(Clone, Debug, PartialEq)]
pub struct RunRecord {
    pub id: String,
    pub t_ms: i64,
    pub end_ms: i64,
    pub level: u32,
    pub trigger: String,
    /// The series the run is for.
    pub labels: Labels,
    /// How approval went, when the level requires it: (time decided, approved?).
    pub approval: Option<(i64, bool)>,
    pub steps: Vec<StepRecord>,
    pub outcome: RunOutcome,
    pub escalated_to: Option<u32>,
    /// Why the run ended as it did, in words.
    pub reason: String,
}

/// Something that happened besides runs: a notification-only trigger, or a firing that started no run.
#[derive(Clone, Debug, PartialEq)]
pub struct Note {
    pub t_ms: i64,
    pub text: String,
}

pub(super) struct Player<'a> {
    pub(super) plan: &'a Plan,
    pub(super) probe: &'a dyn Probe,
    pub(super) options: &'a RunOptions,
    /// The series this lane plays for.
    pub(super) labels: Labels,
    pub(super) fires: Vec<Fire>,
    pub(super) next_fire: usize,
    pub(super) runs: Vec<RunRecord>,
    pub(super) notes: Vec<Note>,
    /// When each level's last run ended, for cooldowns.
    pub(super) last_end: BTreeMap<u32, i64>,
}

/// How a level's execution ended.
enum LevelEnd {
    Succeeded,
    Failed(String),
    /// A person said no: the run stops here, whatever `on failure` says (escalating past a refusal would
    /// override the person).
    Denied,
    /// A trigger for a higher level fired: escalate to it.
    Preempted(Fire),
}

impl Player<'_> {
    /// Consumes the lane's fires at its next evaluation time and returns the one that starts a run, if any
    /// (among fires at the same evaluation, the highest level wins; a level cooling down starts nothing).
    pub(super) fn next_group(&mut self) -> Option<Fire> {
        let t = self.fires.get(self.next_fire)?.t_ms;
        let mut group_end = self.next_fire;
        while group_end < self.fires.len() && self.fires[group_end].t_ms == t {
            group_end += 1;
        }
        let mut candidates: Vec<Fire> = self.fires[self.next_fire..group_end].to_vec();
        self.next_fire = group_end;
        candidates.sort_by_key(|f| std::cmp::Reverse(f.level));
        let mut started = None;
        for fire in candidates {
            if started.is_some() {
                self.notes.push(Note {
                    t_ms: t,
                    text: format!(
                        "`{}`{} fired for level {}; a higher level starts instead",
                        fire.trigger,
                        series_suffix(&fire.labels),
                        fire.level
                    ),
                });
                continue;
            }
            if let Some(until) = self.cooling_until(fire.level, t) {
                self.notes.push(Note {
                    t_ms: t,
                    text: format!(
                        "`{}`{} fired for level {}; level {} is cooling down for another {}",
                        fire.trigger,
                        series_suffix(&fire.labels),
                        fire.level,
                        fire.level,
                        crate::plan::format_duration((until - t).max(0) as u64)
                    ),
                });
                continue;
            }
            started = Some(fire);
        }
        started
    }

    /// `Some(until)` when `level` ran recently and its cooldown (read from the plan) has not passed.
    fn cooling_until(&self, level: u32, t: i64) -> Option<i64> {
        let cooldown = self.plan.level(level)?.cooldown_ms as i64;
        let end = *self.last_end.get(&level)?;
        (cooldown > 0 && t < end + cooldown).then_some(end + cooldown)
    }

    /// Runs a level and whatever it escalates to.
    pub(super) fn run_chain(&mut self, first: Fire) {
        let mut current = Some((first.level, first.trigger.clone(), first.t_ms));
        while let Some((number, trigger, t)) = current.take() {
            let Some(level) = self.plan.level(number) else {
                return;
            };
            let id = format!("run-{}", self.runs.len() + 1);
            let mut run = RunRecord {
                id,
                t_ms: t,
                end_ms: t,
                level: number,
                trigger: trigger.clone(),
                labels: self.labels.clone(),
                approval: None,
                steps: Vec::new(),
                outcome: RunOutcome::Succeeded,
                escalated_to: None,
                reason: String::new(),
            };
            let end = self.execute_level(level, &mut run);
            let escalate = |to: u32, why: String, run: &mut RunRecord| {
                run.outcome = RunOutcome::Escalated;
                run.escalated_to = Some(to);
                run.reason = why;
            };
            let next = match end {
                LevelEnd::Succeeded => {
                    run.outcome = RunOutcome::Succeeded;
                    run.reason = "every step passed".to_string();
                    None
                }
                LevelEnd::Failed(why) => match level.on_failure {
                    OnFailure::Escalate { level: to } => {
                        escalate(to, format!("{why}; on failure escalate level {to}"), &mut run);
                        Some((to, trigger.clone(), run.end_ms))
                    }
                    OnFailure::Abort | OnFailure::Continue => {
                        run.outcome = RunOutcome::Failed;
                        run.reason = why;
                        None
                    }
                },
                LevelEnd::Denied => {
                    run.outcome = RunOutcome::Failed;
                    run.reason = "approval denied; the run stops (a refusal is not escalated)".to_string();
                    None
                }
                LevelEnd::Preempted(fire) => {
                    escalate(fire.level, format!("`{}` fired for level {}", fire.trigger, fire.level), &mut run);
                    Some((fire.level, fire.trigger.clone(), run.end_ms))
                }
            };
            self.last_end.insert(number, run.end_ms);
            self.runs.push(run);
            current = next;
        }
    }

    /// Fires that arrived up to `t` while a run of `level` was going: a higher one is returned (the run
    /// escalates), lower or equal ones are noted as absorbed by the run.
    fn fires_until(&mut self, t: i64, level: u32) -> Option<Fire> {
        let mut best: Option<Fire> = None;
        while self.next_fire < self.fires.len() && self.fires[self.next_fire].t_ms <= t {
            let fire = self.fires[self.next_fire].clone();
            self.next_fire += 1;
            if fire.level > level && best.as_ref().is_none_or(|b| fire.level > b.level) {
                if let Some(prev) = best.replace(fire) {
                    self.absorbed(&prev, level);
                }
            } else {
                self.absorbed(&fire, level);
            }
        }
        best
    }

    fn absorbed(&mut self, fire: &Fire, running: u32) {
        self.notes.push(Note {
            t_ms: fire.t_ms,
            text: format!(
                "`{}`{} fired for level {} while level {running} was running; no new run",
                fire.trigger,
                series_suffix(&fire.labels),
                fire.level
            ),
        });
    }

    /// The earliest fire for a level above `level` in `(after, until]`, without consuming anything.
    fn peek_higher(&self, until: i64, level: u32) -> Option<&Fire> {
        self.fires[self.next_fire..].iter().take_while(|f| f.t_ms <= until).find(|f| f.level > level)
    }

    fn execute_level(&mut self, level: &Level, run: &mut RunRecord) -> LevelEnd {
        let mut t = run.t_ms;
        if level.approval_required {
            let decision = self.options.approvals.get(&level.number).copied().unwrap_or(Approval::After(0));
            let decided_at = match decision {
                Approval::After(ms) => t + ms as i64,
                Approval::Deny => t,
            };
            // A higher level firing while this one waits for a person escalates at once.
            if let Some(fire) = self.peek_higher(decided_at, level.number).cloned() {
                let fire = self.fires_until(fire.t_ms, level.number).unwrap_or(fire);
                run.end_ms = fire.t_ms;
                self.skip_all(&level.steps, run, fire.t_ms, 1);
                return LevelEnd::Preempted(fire);
            }
            t = decided_at;
            run.approval = Some((t, decision != Approval::Deny));
            if decision == Approval::Deny {
                run.end_ms = t;
                self.skip_all(&level.steps, run, t, 1);
                return LevelEnd::Denied;
            }
        }
        let attempts = level.max_attempts.max(1);
        let mut failure = String::new();
        // The deadline counts from the level's first step, across every attempt.
        let deadline = level.deadline_ms.map(|d| t + d as i64);
        for attempt in 1..=attempts {
            if deadline.is_some_and(|d| t >= d) {
                break;
            }
            let mut failed = None;
            for (i, step) in level.steps.iter().enumerate() {
                if let Some(fire) = self.fires_until(t, level.number) {
                    self.skip_all(&level.steps[i..], run, t, attempt);
                    run.end_ms = t;
                    return LevelEnd::Preempted(fire);
                }
                let (outcome, end, why) = self.step(step, t, deadline, run, attempt);
                t = end;
                if outcome == StepOutcome::Failed && failed.is_none() {
                    failed = Some(why);
                    if level.on_failure != OnFailure::Continue || deadline.is_some_and(|d| t >= d) {
                        self.skip_all(&level.steps[i + 1..], run, t, attempt);
                        break;
                    }
                }
            }
            run.end_ms = t;
            match failed {
                None => {
                    if let Some(fire) = self.fires_until(t, level.number) {
                        return LevelEnd::Preempted(fire);
                    }
                    return LevelEnd::Succeeded;
                }
                Some(why) => {
                    failure = if attempts > 1 { format!("{why} (attempt {attempt} of {attempts})") } else { why };
                    if let Some(fire) = self.fires_until(t, level.number) {
                        return LevelEnd::Preempted(fire);
                    }
                }
            }
        }
        LevelEnd::Failed(failure)
    }

    fn skip_all(&self, steps: &[Step], run: &mut RunRecord, t: i64, attempt: u32) {
        for step in steps {
            run.steps.push(StepRecord {
                id: step.id.clone(),
                kind: step.action.kind(),
                t_ms: t,
                end_ms: t,
                outcome: StepOutcome::Skipped,
                attempt,
                detail: String::new(),
            });
            if let Action::Parallel { steps } = &step.action {
                self.skip_all(steps, run, t, attempt);
            }
        }
    }

    /// Plays one step from `t`; returns its outcome, when it ended and why it failed.
    fn step(
        &self,
        step: &Step,
        t: i64,
        deadline: Option<i64>,
        run: &mut RunRecord,
        attempt: u32,
    ) -> (StepOutcome, i64, String) {
        let index = run.steps.len();
        run.steps.push(StepRecord {
            id: step.id.clone(),
            kind: step.action.kind(),
            t_ms: t,
            end_ms: t,
            outcome: StepOutcome::Ok,
            attempt,
            detail: String::new(),
        });
        let injected = self.options.fail.contains(&step.id);
        let (mut outcome, mut end, mut detail) = match &step.action {
            Action::Parallel { steps } => {
                let mut end = t;
                let mut failed = Vec::new();
                for child in steps {
                    let (o, e, _) = self.step(child, t, deadline, run, attempt);
                    end = end.max(e);
                    if o == StepOutcome::Failed {
                        failed.push(child.id.clone());
                    }
                }
                if injected {
                    (StepOutcome::Failed, end, "failure injected with --fail".to_string())
                } else if failed.is_empty() {
                    (StepOutcome::Ok, end, String::new())
                } else {
                    (StepOutcome::Failed, end, format!("{} failed", failed.join(", ")))
                }
            }
            Action::Wait { ms } => (StepOutcome::Ok, t + *ms as i64, String::new()),
            Action::VerifyCondition { condition, condition_text, every_ms, consecutive } => {
                let within = step.timeout_ms as i64;
                let every = (*every_ms as i64).max(1);
                let mut row = crate::plan::InARow::new(*consecutive);
                let needed = row.needed();
                let mut probe_t = t;
                let mut passed = None;
                while !injected && probe_t <= t + within {
                    if row.check(self.probe.holds(condition, probe_t, &self.labels)) {
                        passed = Some(probe_t);
                        break;
                    }
                    probe_t += every;
                }
                let row = if needed > 1 { format!(" ({needed} checks in a row)") } else { String::new() };
                match passed {
                    Some(at) => (
                        StepOutcome::Ok,
                        at,
                        format!("`{condition_text}` held after {}{row}", crate::plan::format_duration((at - t) as u64)),
                    ),
                    None if injected => (StepOutcome::Failed, t + within, "failure injected with --fail".to_string()),
                    None => (
                        StepOutcome::Failed,
                        t + within,
                        format!(
                            "`{condition_text}` did not hold{row} within {}",
                            crate::plan::format_duration(within as u64)
                        ),
                    ),
                }
            }
            _ if injected => {
                // Every attempt fails at once; retries wait backoff, doubling each time.
                let mut end = t;
                for retry in 0..step.retries {
                    end += i64::try_from(retry_wait_ms(step.backoff_ms, retry)).unwrap_or(i64::MAX);
                }
                let tries = step.retries + 1;
                (
                    StepOutcome::Failed,
                    end,
                    format!("failure injected with --fail ({tries} attempt{})", if tries == 1 { "" } else { "s" }),
                )
            }
            _ => (StepOutcome::Ok, t, String::new()),
        };
        if let Some(d) = deadline
            && end > d
        {
            end = d;
            outcome = StepOutcome::Failed;
            detail = "the level's deadline passed".to_string();
        }
        let record = &mut run.steps[index];
        record.end_ms = end;
        record.outcome = outcome;
        record.detail = detail.clone();
        (
            outcome,
            end,
            if detail.is_empty() { format!("{} failed", step.id) } else { format!("{} failed: {detail}", step.id) },
        )
    }
}
