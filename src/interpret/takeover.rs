//! Runs continued by another process than the one that started them. On a shared store, a `watch`
//! replica takes over a run whose holder's lease expired ([`continue_taken`]): it journals the takeover
//! (who, from whom, why) and goes on with the run's pinned plan as `resume` does: finished steps are never
//! run again, a step that was running is run again only if it is marked `idempotent`; any other such step
//! waits for a person ([`Unfinished::Ask`]), who decides with `ripcord resume RUN --rerun|--skip|--abort`
//! (or the API), told through the runbook's channels. The decision reaches the run through the store.

use std::path::PathBuf;
use std::time::Duration;

use super::resume::{EarlierProgress, Started};
use super::{Context, Interpreter, Interrupter, Leftovers, Outcome, drive, leftover};
use crate::plan::Step;
use crate::runs::{self, Event, RunStore, StepChoice, TakenRun};

/// What to do about a step that started and did not end, when it is not marked `idempotent`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Unfinished {
    /// Run it again (`ripcord resume` without a choice: whoever resumes has looked).
    #[default]
    Rerun,
    /// Wait for a person's decision through the store (a run taken over from a lost replica).
    Ask,
    /// What `ripcord resume --rerun|--skip|--abort --operator NAME` decided.
    Decided(StepChoice, String),
}

/// What a decision about an unfinished step came to.
pub(super) enum Decided {
    Rerun,
    Skip(String),
    Abort(String),
    Interrupted,
}

/// How often a run waiting for a person looks for a decision.
const DECISION_POLL: Duration = Duration::from_millis(200);

impl Interpreter {
    /// What to do about `step`, which started before and has no end record, not marked `idempotent`.
    pub(super) async fn decide_unfinished(&self, level: u32, step: &Step) -> Decided {
        let decided = |choice: StepChoice, operator: String, via: &str, journal: bool| {
            if journal {
                let _ = self.record(Event::StepDecided {
                    level,
                    step: step.id.clone(),
                    choice,
                    operator: operator.clone(),
                    via: via.into(),
                });
            }
            self.progress.line(&format!("  {} by {operator}: {}", step.id, choice.word()));
            match choice {
                StepChoice::Rerun => Decided::Rerun,
                StepChoice::Skip => Decided::Skip(operator),
                StepChoice::Abort => Decided::Abort(operator),
            }
        };
        if let Some((choice, operator)) = self.earlier.decided.get(&step.id) {
            return decided(*choice, operator.clone(), "journal", false);
        }
        match &self.earlier.unfinished {
            Unfinished::Rerun => Decided::Rerun,
            Unfinished::Decided(choice, operator) => decided(*choice, operator.clone(), "resume", true),
            Unfinished::Ask => {
                if !self.earlier.waiting_decision.contains(&step.id) {
                    let _ = self.record(Event::WaitingDecision { level, step: step.id.clone() });
                    self.tell_channels(level, step).await;
                }
                self.progress.line(&format!(
                    "  ? {} was running when its replica was lost and is not marked idempotent: waiting for \
                     `ripcord resume {} --rerun|--skip|--abort --operator NAME`",
                    step.id, self.ctx.run_id
                ));
                loop {
                    if let Some(d) = self.ctx.state.read_step_decision(&self.ctx.run_id, &step.id) {
                        return decided(d.choice, d.operator, "store", true);
                    }
                    tokio::select! {
                        _ = self.interrupted() => return Decided::Interrupted,
                        _ = tokio::time::sleep(DECISION_POLL) => {}
                    }
                }
            }
        }
    }

    /// Tells the runbook's channels (or the run's log when it declares none) that the run waits for a person.
    async fn tell_channels(&self, level: u32, step: &Step) {
        let text = format!(
            "ripcord: run {} of `{}` was taken over after its replica was lost; step {} was running and is not \
             marked idempotent, so it is not run again blindly. Decide: `ripcord resume {} --rerun|--skip|--abort \
             --operator NAME`",
            self.ctx.run_id, self.plan.runbook, step.id, self.ctx.run_id
        );
        let channels: Vec<String> = self.plan.channels.iter().map(|c| c.name.clone()).collect();
        if channels.is_empty() {
            let _ = self.notify(level, step, "log", &text).await;
        }
        for c in channels {
            let r = self.notify(level, step, &c, &text).await;
            if !r.ok {
                self.progress.line(&format!("warning: could not tell channel `{c}`: {}", r.detail));
            }
        }
    }
}

/// Continues a run this process took over (`RunStore::take_over`), holding its lock to the end:
/// `replica` is this process's name; `prometheus` the server `verify CONDITION` steps ask (the run's own
/// when `None`).
pub fn continue_taken(
    store: std::sync::Arc<dyn RunStore>,
    taken: TakenRun,
    replica: &str,
    (prometheus, prometheus_version): (Option<String>, crate::eval::PromVersion),
    interrupter: Option<Interrupter>,
) -> Result<Outcome, String> {
    let TakenRun { run_id, lock: _lock, from, epoch, expired_ms } = taken;
    let records = runs::load_run(&store, &run_id)?;
    let Started { plan, level, labels, operator, reason, workdir, runbook_path, yes: was_yes, prometheus: was_prom } =
        Started::of(&records, &run_id)?;
    // A step the lost holder left running on this machine (same boot) is ended: its lease is gone, and the
    // run must not have two copies of a step.
    let policy = Leftovers { wait: Duration::from_secs(1), kill: true };
    leftover::settle(&*store, &plan.runbook, &labels, &run_id, &policy, |line| eprintln!("{line}"))?;
    let records = runs::load_run(&store, &run_id)?;
    let location = store.journal_location(&run_id);
    let mut journal = store.reopen_run(&run_id)?;
    let why = format!(
        "the lease of {from} expired at {} without renewal",
        crate::source::format_rfc3339(expired_ms.max(0) / 1000 * 1000, false)
    );
    journal
        .append(Event::Takeover { replica: replica.to_string(), from, epoch, reason: why, pid: std::process::id() })
        .map_err(|e| format!("cannot write the journal `{location}`: {e}"))?;
    let earlier = EarlierProgress { unfinished: Unfinished::Ask, ..EarlierProgress::from_records(&records) };
    let ctx = Context {
        run_id: run_id.clone(),
        runbook_path,
        operator,
        reason,
        labels,
        workdir: PathBuf::from(workdir),
        state: store,
        prometheus: was_prom.or(prometheus),
        prometheus_version,
        max_answer_bytes: crate::prometheus::DEFAULT_MAX_ANSWER_BYTES,
        yes: was_yes,
    };
    let runbook = plan.runbook.clone();
    let status = drive(*plan, ctx.boxed(), journal, earlier, level, false, interrupter)?;
    Ok(Outcome { run_id, runbook, level, status, journal: location })
}
