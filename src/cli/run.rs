//! `ripcord run RUNBOOK --level N --operator NAME --reason TEXT [--label NAME=VALUE]...`: run a level for real
//! (see docs/running.md), for the series the labels name (`${labels.NAME}`; one run per label set at a time).
//! Exit codes: 0 the run succeeded, 1 it failed or could not start (compile errors, lock, cooldown),
//! 2 usage, 130 interrupted by SIGINT/SIGTERM (resume it with `ripcord resume`).

use std::io::Write;
use std::path::PathBuf;

use clap::Args;

use super::TextOrJson;
use super::input::compile_file;
use crate::interpret::{self, Context, Outcome, RunStatus};
use std::sync::Arc;

use crate::runs::{self, RunStore, StoredRun};

#[derive(Args, Debug, Clone)]
pub struct StateArgs {
    /// Where journals, locks, approvals, snapshots and replaced files live (with --store: snapshots and
    /// replaced files only).
    #[arg(long, global = true, env = "RIPCORD_STATE_DIR", default_value = ".ripcord", value_name = "DIR")]
    pub state_dir: PathBuf,
    /// Keep runs in a shared PostgreSQL store (`postgres://USER@HOST:PORT/DB?sslmode=...`) instead of the
    /// state dir: replicas of `watch` and every run command share it (docs/ha.md).
    #[arg(long, global = true, env = "RIPCORD_STORE", value_name = "URL")]
    pub store: Option<String>,
    /// This process's name in the store's leases and journals [default: HOSTNAME-PID]; unique per process.
    #[arg(long, global = true, env = "RIPCORD_REPLICA_ID", value_name = "NAME")]
    pub replica_id: Option<String>,
    /// How often a process renews the leases of the runs it holds (with --store).
    #[arg(long, global = true, default_value = "5s", value_parser = humantime::parse_duration, value_name = "DURATION")]
    pub heartbeat: std::time::Duration,
    /// How long a lease lasts without renewal; after it another replica may take the run over (with
    /// --store; at least twice --heartbeat).
    #[arg(long, global = true, default_value = "30s", value_parser = humantime::parse_duration, value_name = "DURATION")]
    pub lease_expiry: std::time::Duration,
}

impl StateArgs {
    /// What the flags say about the store; `takeover` for `watch` (its runs are taken over by another
    /// replica when it is lost).
    pub fn options(&self, takeover: bool) -> runs::StoreOptions {
        runs::StoreOptions {
            store: self.store.clone(),
            state_dir: self.state_dir.clone(),
            replica_id: self.replica_id.clone(),
            lease: runs::LeaseSettings { heartbeat: self.heartbeat, expiry: self.lease_expiry },
            takeover,
        }
    }

    /// The store the flags name (`runs::open_store`); `None` once the error is printed.
    pub fn state(&self) -> Option<Arc<dyn RunStore>> {
        match runs::open_store(&self.options(false)) {
            Ok(s) => Some(s),
            Err(e) => {
                eprintln!("error: {e}");
                None
            }
        }
    }

    /// The store and the run `run_id` in it (`runs::open_run`); `None` once the error is printed.
    pub fn open_run(&self, run_id: &str) -> Option<(Arc<dyn RunStore>, StoredRun)> {
        let state = self.state()?;
        match runs::open_run(&state, run_id) {
            Ok(run) => Some((state, run)),
            Err(e) => {
                eprintln!("error: {e}");
                None
            }
        }
    }
}

/// What `run` and `resume` do about a step that a killed process of the runbook left running.
#[derive(Args, Debug, Clone)]
pub struct LeftoverArgs {
    /// How long to wait for a step a killed run left running to end by itself before refusing (or, with
    /// --kill-leftover, ending it), e.g. `30s`, `10m`.
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = humantime::parse_duration)]
    pub wait_leftover: std::time::Duration,
    /// End such a step (SIGTERM to its process group, SIGKILL 5s later) instead of refusing.
    #[arg(long)]
    pub kill_leftover: bool,
}

impl LeftoverArgs {
    pub fn policy(&self) -> interpret::Leftovers {
        interpret::Leftovers { wait: self.wait_leftover, kill: self.kill_leftover }
    }
}

#[derive(Args, Debug)]
pub struct RunArgs {
    /// The runbook to run.
    pub runbook: PathBuf,
    /// The level to run.
    #[arg(long)]
    pub level: u32,
    /// Who is running it (recorded in the journal; `${operator}`).
    #[arg(long)]
    pub operator: String,
    /// Why (recorded in the journal; `${reason}`).
    #[arg(long)]
    pub reason: String,
    /// A label of the series the run is for, `NAME=VALUE` (repeatable): `${labels.NAME}` in steps, one run
    /// per label set at a time, cooldowns per label set, `verify` for that series.
    #[arg(long = "label", value_name = "NAME=VALUE")]
    pub labels: Vec<String>,
    #[command(flatten)]
    pub state: StateArgs,
    /// Prometheus base URL for `verify CONDITION` steps (e.g. http://127.0.0.1:9090).
    #[arg(long, value_name = "URL")]
    pub prometheus: Option<String>,
    #[command(flatten)]
    pub version: super::PromVersionArg,
    #[command(flatten)]
    pub answers: super::AnswerLimitArgs,
    /// Print what would be run, sent and written, in order; run, send and write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Approve every level that requires approval, in advance (does not override a cooldown).
    #[arg(long)]
    pub yes: bool,
    #[command(flatten)]
    pub leftover: LeftoverArgs,
    #[arg(long, value_enum, default_value_t = TextOrJson::Text)]
    pub format: TextOrJson,
}

pub fn run(args: &RunArgs) -> u8 {
    let Some((file, plan)) = compile_file(&args.runbook) else {
        eprintln!("error: `{}` could not be compiled; nothing was run", args.runbook.display());
        return 1;
    };
    if plan.level(args.level).is_none() {
        let have: Vec<String> = plan.levels.iter().map(|l| l.number.to_string()).collect();
        eprintln!("error: `{}` has no level {}; its levels are {}", file.path, args.level, have.join(", "));
        return 2;
    }
    let pairs = args.labels.iter().map(|l| l.split_once('=').unwrap_or((l.as_str(), "")));
    let labels = match args.labels.iter().find(|l| !l.contains('=')) {
        Some(l) => Err(format!("`--label {}` is not NAME=VALUE", crate::text::escape_control(l))),
        None => interpret::run_labels(pairs),
    };
    let labels = match labels {
        Ok(l) => l,
        Err(e) => {
            eprintln!("error: {e}");
            return 2;
        }
    };
    let workdir = args
        .runbook
        .canonicalize()
        .ok()
        .and_then(|p| p.parent().map(PathBuf::from))
        .unwrap_or_else(|| PathBuf::from("."));
    if args.dry_run {
        let state_dir = std::path::absolute(&args.state.state_dir).unwrap_or_else(|_| args.state.state_dir.clone());
        let dry = interpret::dry::DryRun {
            plan: &plan,
            level: args.level,
            run_id: "DRY-RUN",
            operator: &args.operator,
            reason: &args.reason,
            labels: &labels,
            workdir: &workdir,
            state_dir: &state_dir,
            yes: args.yes,
        };
        let text = dry.render_all();
        return if std::io::stdout().lock().write_all(text.as_bytes()).is_ok() { 0 } else { 1 };
    }
    let Some(state) = args.state.state() else { return 1 };
    let ctx = Context {
        run_id: runs::new_run_id(&plan.runbook),
        runbook_path: file.path.clone(),
        operator: args.operator.clone(),
        reason: args.reason.clone(),
        labels,
        workdir,
        state,
        prometheus: args.prometheus.clone(),
        prometheus_version: args.version.or_default(),
        max_answer_bytes: args.answers.max_answer_bytes,
        yes: args.yes,
    };
    let level = args.level;
    let log_to_stdout = args.format == TextOrJson::Text;
    finish(interpret::start_with_leftovers(plan, ctx, level, log_to_stdout, &args.leftover.policy()), args.format)
}

/// Prints the outcome and turns it into an exit code (shared with `resume`).
pub fn finish(result: Result<Outcome, String>, format: TextOrJson) -> u8 {
    let outcome = match result {
        Ok(o) => o,
        Err(e) => {
            eprintln!("error: {e}");
            return 1;
        }
    };
    let reason = match &outcome.status {
        RunStatus::Failed(why) => Some(why.as_str()),
        _ => None,
    };
    match format {
        TextOrJson::Json => {
            let doc = serde_json::json!({
                "id": outcome.run_id,
                "runbook": outcome.runbook,
                "level": outcome.level,
                "status": outcome.status.word(),
                "reason": reason,
                "journal": outcome.journal,
            });
            println!("{doc}");
        }
        TextOrJson::Text => {
            println!(
                "run {} {}{} (journal: {})",
                outcome.run_id,
                outcome.status.word(),
                reason.map(|r| format!(": {}", crate::text::for_terminal(r))).unwrap_or_default(),
                outcome.journal
            );
        }
    }
    match outcome.status {
        RunStatus::Succeeded => 0,
        RunStatus::Failed(_) => 1,
        RunStatus::Interrupted => 130,
    }
}
